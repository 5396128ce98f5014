"""RELAX NG validation with messages that say what was expected.

lxml (libxml2) reports RELAX NG errors with column 0 and terse text ("Invalid attribute
when for element date"), and sometimes with a misleading one for a bad attribute value.
When a document fails, this module checks every attribute against the schema model from
the ODD (declared? required? value in the closed list? datatype?) and explains structural
errors with the parent's allowed children and the nearest valid name for a misspelt one.
"""
from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path

from lxml import etree

from ..diagnostics import SchemaError
from ..odd import AttDef, Schema
from ..tei import TEI_NS, XML_NS, Source, XMLInputError, attribute_name, local_name, read_xml

_TZ = r"(?:Z|[+-]\d{2}:\d{2})?"
_XSD_FORMS = {
    "date": ("an ISO date YYYY-MM-DD", re.compile(r"-?\d{4,}-\d{2}-\d{2}" + _TZ)),
    "gYearMonth": ("an ISO month YYYY-MM", re.compile(r"-?\d{4,}-\d{2}" + _TZ)),
    "gYear": ("an ISO year YYYY", re.compile(r"-?\d{4,}" + _TZ)),
    "ID": ("an XML name (letters, digits, '.', '-', '_'; not starting with a digit)",
           re.compile(r"[^\W\d][\w.-]*")),
    "language": ("a language tag such as en or sr-Latn", re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")),
    "nonNegativeInteger": ("a whole number", re.compile(r"\+?\d+")),
    "anyURI": ("a URI without spaces", re.compile(r"[^\s<>\"{}|\\^`]*")),
    "token": ("a word without spaces", re.compile(r"\S+")),
    "string": ("text", re.compile(r".*", re.S)),
}


def _xsd_ok(xsd: str, pattern: str | None, value: str) -> bool:
    form = _XSD_FORMS.get(xsd)
    if form is None:
        return True
    v = value.strip() if xsd != "string" else value
    if not form[1].fullmatch(v):
        return False
    if pattern and not re.fullmatch(pattern, v):
        return False
    if xsd in ("date", "gYearMonth", "gYear"):
        parts = re.sub(_TZ + "$", "", v).lstrip("-").split("-")
        if int(parts[0]) == 0:
            return False  # XML Schema has no year 0
        if xsd != "gYear":
            try:
                date(int(parts[0]) if int(parts[0]) <= 9999 else 9999, int(parts[1]), int(parts[2]) if xsd == "date" else 1)
            except ValueError:
                return False
    return True


def _datatype_desc(schema: Schema, key: str | None) -> str:
    dt = schema.datatypes.get(key or "")
    if dt is None:
        return "a valid value"
    forms = [_XSD_FORMS.get(x, (x, None))[0] for x, _ in dt.alternatives]
    return " or ".join(dict.fromkeys(forms))


def value_problem(schema: Schema, att: AttDef, value: str) -> str | None:
    """Why `value` is not allowed for `att`, or None if it is."""
    tokens = value.split() if att.is_list else [value]
    if att.is_list and not tokens:
        return "is empty"
    for token in tokens:
        if att.closed and att.values:
            allowed = [v.ident for v in att.values]
            if token not in allowed:
                near = difflib.get_close_matches(token, allowed, n=1)
                msg = f"is not one of: {', '.join(allowed)}"
                return msg + (f"; did you mean {near[0]!r}?" if near else "")
            continue
        dt = schema.datatypes.get(att.datatype or "")
        if dt is not None and not any(_xsd_ok(x, p, token) for x, p in dt.alternatives):
            return f"is not {_datatype_desc(schema, att.datatype)}"
    return None


#: lxml messages that follow from an attribute problem on the same line.
_ATTRIBUTE_CASCADE = re.compile(r"Invalid attribute |Element \S+ failed to validate (attributes|content)|Expecting an element \S*, got nothing|Element \S+, attribute ")


class RelaxNG:
    """The compiled project grammar together with the schema model that explains its errors."""

    def __init__(self, rng_path: Path, schema: Schema):
        try:
            self.grammar = etree.RelaxNG(read_xml(rng_path, require_tei=False).tree)   # the project's safe parser
        except XMLInputError as exc:
            raise SchemaError(f"cannot load the RELAX NG schema: {exc.message}", rng_path, exc.line) from None
        except etree.RelaxNGParseError as exc:
            raise SchemaError(f"cannot load the RELAX NG schema: {exc}", rng_path) from None
        self.schema = schema

    def check(self, source: Source, reporter) -> bool:
        if self.grammar.validate(source.tree):
            return True
        before = len(reporter.diagnostics)
        attribute_lines = self._check_attributes(source, reporter)
        errors = list(self.grammar.error_log)
        for entry in errors:
            if entry.line in attribute_lines and _ATTRIBUTE_CASCADE.match(entry.message):
                continue  # explained by the attribute check already
            self._explain(source, entry, reporter)
        if len(reporter.diagnostics) == before:
            # Nothing explained the failure: never let an invalid document pass silently.
            for entry in errors:
                reporter.error("rng.invalid", entry.message.rstrip("."), source.path, entry.line or 0, 0)
        return False

    # ------------------------------------------------------------ attributes
    def _check_attributes(self, source: Source, reporter) -> set[int]:
        lines: set[int] = set()
        for el in source.root.iter():
            if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{TEI_NS}}}"):
                continue
            spec = self.schema.element(local_name(el.tag))
            if spec is None:
                continue
            line = el.sourceline or 0
            name = local_name(el.tag)
            for qname, value in el.attrib.items():
                att_name = attribute_name(qname)
                att = spec.attributes.get(att_name)
                if att is None:
                    near = difflib.get_close_matches(att_name, list(spec.attributes), n=1)
                    allowed = ", ".join(sorted(spec.attributes)) or "none"
                    reporter.error("rng.attribute-unknown",
                                   f"attribute @{att_name} is not allowed on <{name}>"
                                   + (f"; did you mean @{near[0]}?" if near else ""),
                                   source.path, line, source.column_of(el, att_name),
                                   hint=f"<{name}> takes: {allowed}")
                    lines.add(line)
                    continue
                problem = value_problem(self.schema, att, value)
                if problem:
                    reporter.error("rng.attribute-value",
                                   f"value {value!r} of @{att_name} on <{name}> {problem}",
                                   source.path, line, source.column_of(el, att_name),
                                   hint=att.desc)
                    lines.add(line)
            for att in spec.attributes.values():
                if att.required and _clark(att.name) not in el.attrib:
                    values = f" (one of: {', '.join(v.ident for v in att.values)})" if att.values else ""
                    reporter.error("rng.attribute-missing", f"<{name}> needs the attribute @{att.name}{values}",
                                   source.path, line, source.column_of(el), hint=att.desc)
                    lines.add(line)
        return lines

    # ------------------------------------------------------------ structure
    def _explain(self, source: Source, entry, reporter) -> None:
        msg = entry.message
        line = entry.line or 0

        def report(code: str, message: str, name: str, hint: str = "") -> None:
            reporter.error(code, message, source.path, line, source.column(line, name) if name else 0, hint=hint)

        m = re.match(r"Did not expect element (\S+) there", msg) or re.match(r"Element \S+ has extra content: (\S+)", msg) \
            or re.match(r"Expecting element \S+, got (\S+)", msg)
        if m:
            name = m.group(1)
            el = _element_at(source, line, name)
            parent = local_name(el.getparent().tag) if el is not None and el.getparent() is not None else None
            if self.schema.element(name) is None:
                near = difflib.get_close_matches(name, list(self.schema.elements), n=1)
                report("rng.element-unknown",
                       f"element <{name}> is not part of the edition's schema"
                       + (f"; did you mean <{near[0]}>?" if near else ""), name,
                       hint="the schema's elements are listed in the encoding guidelines")
                return
            where = f" inside <{parent}>" if parent else ""
            hint = ""
            if parent and self.schema.element(parent):
                spec = self.schema.element(parent)
                kids = ", ".join(spec.children) or "no elements"
                hint = f"<{parent}> may contain {kids}" + (" and text" if spec.mixed else "")
                missing = _missing(spec, el.getparent())
                if missing:
                    report("rng.element-missing", f"<{parent}> is incomplete: <{missing[0]}> is missing", name, hint)
                    return
                if name in spec.children:
                    report("rng.element-order", f"<{name}> is not allowed at this position{where} (wrong order or too many)", name, hint)
                    return
            report("rng.element-misplaced", f"<{name}> is not allowed{where}", name, hint)
            return
        m = re.match(r"Expecting an element (\S*), got nothing", msg) or re.match(r"Expecting element (\S+), got nothing", msg)
        if m:
            el = _element_on_line(source, line)
            name = local_name(el.tag) if el is not None else ""
            spec = self.schema.element(name)
            missing = m.group(1) or next(iter(_missing(spec, el) if spec and el is not None else []), "")
            what = f"<{missing}>" if missing else "a required element"
            hint = f"<{name}> may contain {', '.join(spec.children)}" if spec else ""
            report("rng.element-missing", f"<{name}> is incomplete: {what} is missing", name, hint)
            return
        m = re.match(r"Did not expect text in element (\S+) content", msg)
        if m:
            report("rng.text-not-allowed", f"text is not allowed directly inside <{m.group(1)}>", m.group(1),
                   hint="wrap it in an element that takes text, such as <p>")
            return
        m = re.match(r"Element (\S+) failed to validate (content|attributes)", msg) or re.match(r"Invalid attribute (\S+) for element (\S+)", msg)
        if m:
            return  # follows a more specific error, or was explained by the attribute check
        m = re.match(r"Element (\S+) has wrong namespace", msg) or re.match(r"Expecting a namespace for element (\S+)", msg)
        if m:
            report("rng.namespace", f"<{m.group(1)}> is not in the TEI namespace", m.group(1),
                   hint=f'TEI elements belong to {TEI_NS}')
            return
        report("rng.invalid", msg.rstrip("."), "")


def _missing(spec, element) -> list[str]:
    """Required children of `element` (per its spec) that it lacks."""
    present = {local_name(c.tag) for c in element if isinstance(c.tag, str)}
    return [r for r in spec.required if r not in present]


def _clark(att_name: str) -> str:
    if att_name.startswith("xml:"):
        return f"{{{XML_NS}}}{att_name[4:]}"
    return att_name


def _element_at(source: Source, line: int, name: str):
    for el in source.root.iter():
        if el.sourceline == line and local_name(el.tag) == name:
            return el
    return None


def _element_on_line(source: Source, line: int):
    best = None
    for el in source.root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.sourceline == line:
            return el
        if el.sourceline and el.sourceline < line:
            best = el
    return best
