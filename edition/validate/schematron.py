"""ISO Schematron, evaluated as compiled XPath.

lxml's isoschematron runs the skeleton XSLT and reports each failure with an XPath
location that has to be mapped back to a line. Here every rule context and assertion is
compiled once, evaluated directly on the parsed tree, and the failing element is at hand,
with its line. The subset covers what the project ODD uses: sch:ns, sch:pattern (the
first matching rule of a pattern wins, as the standard says), sch:rule with sch:let,
sch:assert, sch:report, and sch:value-of / sch:name in messages.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..diagnostics import SchemaError
from ..tei import SCH_NS, Source, local_name, read_xml, XMLInputError

_S = {"sch": SCH_NS}


def _split_union(pattern: str) -> list[str]:
    """Split an XSLT pattern on top-level '|'."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(pattern):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return [p.strip() for p in parts]


def _context_xpath(pattern: str) -> str:
    """The XPath that selects every node an XSLT match pattern matches."""
    return " | ".join(p if p.startswith("/") else "//" + p for p in _split_union(pattern))


@dataclass
class Check:
    kind: str                      # "assert" or "report"
    test: etree.XPath
    message: list                  # str pieces and ("value-of", XPath) / ("name",) items
    role: str
    line: int


@dataclass
class Rule:
    context: etree.XPath
    lets: list[tuple[str, etree.XPath]]
    checks: list[Check]


@dataclass
class Pattern:
    ident: str
    rules: list[Rule]


@dataclass
class Failure:
    pattern: str
    element: etree._Element
    message: str
    level: str


class Schematron:
    """A compiled Schematron schema."""

    def __init__(self, path: Path):
        self.path = path
        try:
            src = read_xml(path, require_tei=False)
        except XMLInputError as exc:
            raise SchemaError(f"cannot read the Schematron: {exc.message}", path, exc.line) from None
        root = src.root
        self.namespaces = {ns.get("prefix"): ns.get("uri") for ns in root.iterfind("sch:ns", _S)}
        self.patterns = [self._pattern(p) for p in root.iterfind("sch:pattern", _S)]

    def _xpath(self, expr: str, node: etree._Element) -> etree.XPath:
        try:
            return etree.XPath(expr, namespaces=self.namespaces)
        except etree.XPathSyntaxError as exc:
            raise SchemaError(f"bad XPath {expr!r}: {exc}", self.path, node.sourceline) from None

    def _pattern(self, p: etree._Element) -> Pattern:
        rules = []
        for r in p.iterfind("sch:rule", _S):
            lets = [(l.get("name"), self._xpath(l.get("value"), l)) for l in r.iterfind("sch:let", _S)]
            checks = []
            for c in r:
                kind = local_name(c.tag)
                if kind not in ("assert", "report"):
                    continue
                pieces: list = [c.text or ""]
                for part in c:
                    name = local_name(part.tag)
                    if name == "value-of":
                        pieces.append(("value-of", self._xpath(f"string({part.get('select')})", part)))
                    elif name == "name":
                        pieces.append(("name",))
                    pieces.append(part.tail or "")
                role = (c.get("role") or "error").lower()
                checks.append(Check(kind, self._xpath(f"boolean({c.get('test')})", c), pieces,
                                    "warning" if role in ("warning", "warn", "info") else "error",
                                    c.sourceline or 0))
            rules.append(Rule(self._xpath(_context_xpath(r.get("context")), r), lets, checks))
        return Pattern(p.get("id") or "schematron", rules)

    def failures(self, tree: etree._ElementTree) -> list[Failure]:
        out: list[Failure] = []
        for pattern in self.patterns:
            fired: set = set()
            for rule in pattern.rules:
                for node in rule.context(tree):
                    if not isinstance(node, etree._Element) or node in fired:
                        continue
                    fired.add(node)
                    variables = {name: xp(node) for name, xp in rule.lets}
                    for check in rule.checks:
                        result = check.test(node, **variables)
                        if (check.kind == "assert" and not result) or (check.kind == "report" and result):
                            out.append(Failure(pattern.ident, node, self._message(check, node, variables), check.role))
        return out

    @staticmethod
    def _message(check: Check, node: etree._Element, variables: dict) -> str:
        text = []
        for piece in check.message:
            if isinstance(piece, str):
                text.append(piece)
            elif piece[0] == "value-of":
                text.append(piece[1](node, **variables))
            else:
                text.append(local_name(node.tag))
        return " ".join("".join(text).split())


def check(schematron: Schematron, source: Source, reporter) -> None:
    for f in schematron.failures(source.tree):
        line = f.element.sourceline or 0
        reporter.add(f.level, f.pattern, f.message, source.path, line, source.column_of(f.element))
