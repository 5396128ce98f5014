"""The project schema: read an ODD customization, compile it to RELAX NG and ISO Schematron.

The ODD holds complete specifications (pure ODD content models, attribute classes, closed
value lists, Schematron constraints), so it is compiled on its own, without the TEI source.
The compiled RELAX NG contains only what is reachable from the start elements: no unused
definitions and no notAllowed patterns. The same `Schema` model serves the validator's
messages (allowed values, nearest names) and the encoding guidelines.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .diagnostics import SchemaError
from .tei import NS, RNG_NS, SCH_NS, TEI_NS, local_name, read_xml, tei, XMLInputError

XSD_DATATYPES = "http://www.w3.org/2001/XMLSchema-datatypes"
UNBOUNDED = -1
_TEI = {"tei": TEI_NS, "sch": SCH_NS}


@dataclass(frozen=True)
class Value:
    ident: str
    desc: str = ""


@dataclass(frozen=True)
class AttDef:
    """One attribute as the schema allows it on an element."""

    name: str
    desc: str = ""
    datatype: str | None = None          # key of a dataSpec
    is_list: bool = False                 # whitespace-separated list of datatype values
    values: tuple[Value, ...] = ()        # a value list, closed or suggested
    closed: bool = False
    required: bool = False
    source: str = ""                      # the attribute class it comes from ("" for the element)


@dataclass(frozen=True)
class DataType:
    ident: str
    desc: str
    alternatives: tuple[tuple[str, str | None], ...]   # (XSD type, pattern restriction)


@dataclass
class ElementDef:
    name: str
    desc: str
    classes: tuple[str, ...]
    content: etree._Element | None       # the pure ODD <content> element
    attributes: dict[str, AttDef] = field(default_factory=dict)
    children: tuple[str, ...] = ()       # element names the content model allows, sorted
    mixed: bool = False                  # text allowed
    required: tuple[str, ...] = ()       # child elements that must be present, in order
    line: int = 0


@dataclass(frozen=True)
class Constraint:
    ident: str
    element: str | None
    rules: tuple[etree._Element, ...]
    line: int = 0


@dataclass
class Schema:
    ident: str
    start: tuple[str, ...]
    elements: dict[str, ElementDef]
    attribute_classes: dict[str, dict[str, AttDef]]
    attribute_class_desc: dict[str, str]
    model_classes: dict[str, tuple[str, ...]]
    macros: dict[str, etree._Element]
    datatypes: dict[str, DataType]
    constraints: tuple[Constraint, ...]
    intro: etree._Element | None = None
    path: Path | None = None

    def element(self, name: str) -> ElementDef | None:
        return self.elements.get(name)


def _desc(spec: etree._Element) -> str:
    d = spec.find("tei:desc", NS)
    return " ".join("".join(d.itertext()).split()) if d is not None else ""


def _occurs(node: etree._Element) -> tuple[int, int]:
    lo = int(node.get("minOccurs", "1"))
    hi_raw = node.get("maxOccurs", "1")
    hi = UNBOUNDED if hi_raw == "unbounded" else int(hi_raw)
    return lo, hi


def _read_attdef(node: etree._Element, source: str, inherited: AttDef | None = None) -> AttDef:
    name = node.get("ident")
    dt = node.find("tei:datatype", NS)
    datatype, is_list = (inherited.datatype, inherited.is_list) if inherited else (None, False)
    if dt is not None:
        ref = dt.find("tei:dataRef", NS)
        if ref is None or not ref.get("key"):
            raise SchemaError(f"attDef {name}: datatype needs a dataRef with @key", line=dt.sourceline)
        datatype = ref.get("key")
        is_list = _occurs(dt)[1] != 1
    vl = node.find("tei:valList", NS)
    values, closed = (inherited.values, inherited.closed) if inherited else ((), False)
    if vl is not None:
        values = tuple(Value(v.get("ident"), _desc(v)) for v in vl.findall("tei:valItem", NS))
        closed = vl.get("type") == "closed"
    if datatype is None and values:
        datatype = "teidata.enumerated"
    usage = node.get("usage", "opt" if inherited is None else ("req" if inherited.required else "opt"))
    return AttDef(
        name=name,
        desc=_desc(node) or (inherited.desc if inherited else ""),
        datatype=datatype,
        is_list=is_list,
        values=values,
        closed=closed,
        required=usage == "req",
        source=source,
    )


def load(path: Path) -> Schema:
    """Read an ODD file into a Schema; raise SchemaError with a location when it is inconsistent."""
    try:
        src = read_xml(path)
    except XMLInputError as exc:
        raise SchemaError(f"cannot read the ODD: {exc.message}", path, exc.line) from None
    spec = src.root.find(".//tei:schemaSpec", NS)
    if spec is None:
        raise SchemaError("no schemaSpec in the ODD", path)
    try:
        schema = _load_spec(spec)
    except SchemaError as exc:
        exc.path = path
        raise
    schema.path = path
    schema.intro = src.root.find(".//tei:body/tei:div[@type='introduction']", NS)
    return schema


def _load_spec(spec: etree._Element) -> Schema:
    datatypes: dict[str, DataType] = {}
    for ds in spec.iterfind("tei:dataSpec", NS):
        alts = []
        for ref in ds.iterfind(".//tei:dataRef", NS):
            if not ref.get("name"):
                raise SchemaError(f"dataSpec {ds.get('ident')}: dataRef needs @name (an XSD type)", line=ref.sourceline)
            alts.append((ref.get("name"), ref.get("restriction")))
        datatypes[ds.get("ident")] = DataType(ds.get("ident"), _desc(ds), tuple(alts))

    att_classes: dict[str, dict[str, AttDef]] = {}
    att_desc: dict[str, str] = {}
    model_classes: dict[str, list[str]] = {}
    for cs in spec.iterfind("tei:classSpec", NS):
        ident = cs.get("ident")
        if cs.get("type") == "atts":
            att_classes[ident] = {a.get("ident"): _read_attdef(a, ident) for a in cs.iterfind("tei:attList/tei:attDef", NS)}
            att_desc[ident] = _desc(cs)
        else:
            model_classes[ident] = []

    macros = {m.get("ident"): m.find("tei:content", NS) for m in spec.iterfind("tei:macroSpec", NS)}
    elements: dict[str, ElementDef] = {}
    constraints: list[Constraint] = []
    for es in spec.iterfind("tei:elementSpec", NS):
        name = es.get("ident")
        if name in elements:
            raise SchemaError(f"element {name} is specified twice", line=es.sourceline)
        classes = tuple(m.get("key") for m in es.iterfind("tei:classes/tei:memberOf", NS))
        attributes: dict[str, AttDef] = {}
        for key in classes:
            if key in att_classes:
                attributes.update(att_classes[key])
            elif key in model_classes:
                model_classes[key].append(name)
            else:
                raise SchemaError(f"element {name} is a member of undefined class {key}", line=es.sourceline)
        for ad in es.iterfind("tei:attList/tei:attDef", NS):
            ident = ad.get("ident")
            if ad.get("mode") == "delete":
                attributes.pop(ident, None)
                continue
            inherited = attributes.get(ident) if ad.get("mode") == "change" else None
            if ad.get("mode") == "change" and inherited is None:
                raise SchemaError(f"element {name}: attDef {ident} changes an attribute no class gives", line=ad.sourceline)
            attributes[ident] = _read_attdef(ad, "", inherited)
        content = es.find("tei:content", NS)
        elements[name] = ElementDef(name, _desc(es), classes, content, attributes, line=es.sourceline or 0)
        for c in es.iterfind("tei:constraintSpec", NS):
            constraints.append(_read_constraint(c, name))
    for c in spec.iterfind("tei:constraintSpec", NS):
        constraints.append(_read_constraint(c, None))

    schema = Schema(
        ident=spec.get("ident", "schema"),
        start=tuple(spec.get("start", "TEI").split()),
        elements=elements,
        attribute_classes=att_classes,
        attribute_class_desc=att_desc,
        model_classes={k: tuple(v) for k, v in model_classes.items()},
        macros=macros,
        datatypes=datatypes,
        constraints=tuple(constraints),
    )
    _check_references(schema, spec)
    for el in elements.values():
        names, mixed = _content_names(schema, el.content, set())
        el.children = tuple(sorted(names))
        el.mixed = mixed
        el.required = _required_children(el.content)
    return schema


def _read_constraint(c: etree._Element, element: str | None) -> Constraint:
    ident = c.get("ident")
    if not ident:
        raise SchemaError("constraintSpec without @ident", line=c.sourceline)
    if c.get("scheme", "schematron") != "schematron":
        raise SchemaError(f"constraintSpec {ident}: only scheme=\"schematron\" is supported", line=c.sourceline)
    body = c.find("tei:constraint", NS)
    rules = [] if body is None else list(body)
    out = []
    for r in rules:
        if r.tag == f"{{{SCH_NS}}}rule":
            out.append(r)
        elif r.tag in (f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}report"):
            if element is None:
                raise SchemaError(f"constraintSpec {ident}: a bare assert needs an elementSpec as context", line=r.sourceline)
            rule = etree.Element(f"{{{SCH_NS}}}rule", context=f"tei:{element}")
            rule.append(copy.deepcopy(r))
            out.append(rule)
        elif isinstance(r.tag, str):
            raise SchemaError(f"constraintSpec {ident}: unexpected <{local_name(r.tag)}>", line=r.sourceline)
    if not out:
        raise SchemaError(f"constraintSpec {ident} has no Schematron rule", line=c.sourceline)
    return Constraint(ident, element, tuple(out), c.sourceline or 0)


def _check_references(schema: Schema, spec: etree._Element) -> None:
    for node in spec.iter(tei("elementRef"), tei("classRef"), tei("macroRef"), tei("dataRef")):
        key = node.get("key")
        tag = local_name(node.tag)
        if tag == "dataRef" and key is None:
            continue
        table = {"elementRef": schema.elements, "classRef": schema.model_classes,
                 "macroRef": schema.macros, "dataRef": schema.datatypes}[tag]
        if key not in table:
            raise SchemaError(f"{tag} points to undefined {key!r}", line=node.sourceline)
    for cls, members in schema.model_classes.items():
        if not members:
            raise SchemaError(f"model class {cls} has no members (it would compile to notAllowed)")
    for name in schema.start:
        if name not in schema.elements:
            raise SchemaError(f"start element {name} is not specified")


def _required_children(content: etree._Element | None) -> tuple[str, ...]:
    """Elements a content model requires directly: elementRefs of the top-level sequence that must occur."""
    if content is None:
        return ()
    items = [c for c in content if isinstance(c.tag, str)]
    if len(items) == 1 and local_name(items[0].tag) == "sequence" and _occurs(items[0])[0] >= 1:
        items = [c for c in items[0] if isinstance(c.tag, str)]
    return tuple(c.get("key") for c in items if local_name(c.tag) == "elementRef" and _occurs(c)[0] >= 1)


def _content_names(schema: Schema, node: etree._Element | None, seen: set[str]) -> tuple[set[str], bool]:
    """Element names and whether text is allowed in a content model."""
    if node is None:
        return set(), False
    names: set[str] = set()
    mixed = False
    for n in node.iter():
        tag = local_name(n.tag)
        if tag == "elementRef":
            names.add(n.get("key"))
        elif tag == "classRef":
            names.update(schema.model_classes[n.get("key")])
        elif tag == "textNode":
            mixed = True
        elif tag == "macroRef" and n.get("key") not in seen:
            sub, m = _content_names(schema, schema.macros[n.get("key")], seen | {n.get("key")})
            names |= sub
            mixed = mixed or m
    return names, mixed


# ---------------------------------------------------------------- RELAX NG

def _rng(tag: str, parent: etree._Element | None = None, **attrs: str) -> etree._Element:
    el = etree.Element(f"{{{RNG_NS}}}{tag}", **attrs) if parent is None else etree.SubElement(parent, f"{{{RNG_NS}}}{tag}", **attrs)
    return el


class _RngWriter:
    def __init__(self, schema: Schema):
        self.schema = schema
        self.needed: list[str] = []      # define names, in first-use order
        self.seen: set[str] = set()

    def want(self, name: str) -> str:
        if name not in self.seen:
            self.seen.add(name)
            self.needed.append(name)
        return name

    def ref(self, parent: etree._Element, name: str) -> None:
        _rng("ref", parent, name=self.want(name))

    def occurs(self, parent: etree._Element, node: etree._Element) -> etree._Element:
        lo, hi = _occurs(node)
        if (lo, hi) == (1, 1):
            return parent
        if lo > 1 or (hi not in (1, UNBOUNDED)):
            raise SchemaError(f"occurrence {lo}..{hi} is not supported; use 0, 1 or unbounded",
                              line=node.sourceline)
        if lo == 0 and hi == 1:
            return _rng("optional", parent)
        return _rng("zeroOrMore" if lo == 0 else "oneOrMore", parent)

    def content(self, parent: etree._Element, node: etree._Element) -> None:
        tag = local_name(node.tag)
        if tag == "content":
            for child in node:
                if isinstance(child.tag, str):
                    self.content(parent, child)
            return
        if tag == "alternate" and node.get("minOccurs") == "2":
            # "two or more": one, then one or more more
            choice = lambda p: self._choice(p, node)  # noqa: E731
            choice(parent)
            choice(_rng("oneOrMore", parent))
            return
        target = self.occurs(parent, node)
        if tag == "sequence":
            group = _rng("group", target) if target is not parent else parent
            for child in node:
                if isinstance(child.tag, str):
                    self.content(group, child)
        elif tag == "alternate":
            self._choice(target, node)
        elif tag in ("elementRef", "classRef", "macroRef"):
            self.ref(target, node.get("key"))
        elif tag == "textNode":
            _rng("text", target)
        elif tag == "empty":
            _rng("empty", target)
        elif tag == "dataRef":
            self.data(target, node.get("key") or node.get("name"))
        else:
            raise SchemaError(f"<{tag}> is not supported in content models", line=node.sourceline)

    def _choice(self, parent: etree._Element, node: etree._Element) -> None:
        choice = _rng("choice", parent)
        for child in node:
            if isinstance(child.tag, str):
                self.content(choice, child)

    def data(self, parent: etree._Element, key: str) -> None:
        if key in self.schema.datatypes:
            self.ref(parent, key)
        else:
            _rng("data", parent, type=key)

    def attribute(self, parent: etree._Element, att: AttDef) -> None:
        holder = parent if att.required else _rng("optional", parent)
        a = _rng("attribute", holder, name=att.name)
        if att.closed and att.values:
            target = a
            if att.is_list:
                target = _rng("oneOrMore", _rng("list", a))
            choice = _rng("choice", target)
            for v in att.values:
                _rng("value", choice).text = v.ident
        elif att.datatype:
            target = _rng("oneOrMore", _rng("list", a)) if att.is_list else a
            self.ref(target, att.datatype)
        else:
            _rng("text", a)

    def attributes(self, parent: etree._Element, el: ElementDef) -> None:
        """Attribute classes the element takes unchanged become refs; the rest is written inline."""
        for key in el.classes:
            cls = self.schema.attribute_classes.get(key)
            if cls is None:
                continue
            if cls and all(el.attributes.get(n) == a for n, a in cls.items()):
                self.ref(parent, f"{key}.attributes")
            else:
                for n in cls:
                    att = el.attributes.get(n)
                    if att is not None and att.source == key:
                        self.attribute(parent, att)
        for att in el.attributes.values():
            if not att.source:
                self.attribute(parent, att)

    def define(self, grammar: etree._Element, name: str) -> None:
        schema = self.schema
        d = _rng("define", grammar, name=name)
        if name in schema.elements:
            el = schema.elements[name]
            e = _rng("element", d, name=name)
            self.attributes(e, el)
            if el.content is None or len(el.content) == 0:
                _rng("empty", e)
            else:
                self.content(e, el.content)
        elif name in schema.model_classes:
            choice = _rng("choice", d)
            for member in schema.model_classes[name]:
                self.ref(choice, member)
        elif name in schema.macros:
            self.content(d, schema.macros[name])
        elif name in schema.datatypes:
            dt = schema.datatypes[name]
            target = _rng("choice", d) if len(dt.alternatives) > 1 else d
            for xsd, pattern in dt.alternatives:
                if xsd == "string" and not pattern:
                    _rng("text", target)
                    continue
                data = _rng("data", target, type=xsd)
                if pattern:
                    _rng("param", data, name="pattern").text = pattern
        elif name.endswith(".attributes") and name[: -len(".attributes")] in schema.attribute_classes:
            for att in schema.attribute_classes[name[: -len(".attributes")]].values():
                self.attribute(d, att)
        else:  # pragma: no cover - guarded by _check_references
            raise SchemaError(f"nothing to define for {name}")

    def grammar(self) -> etree._Element:
        g = etree.Element(f"{{{RNG_NS}}}grammar", nsmap={None: RNG_NS},
                          ns=TEI_NS, datatypeLibrary=XSD_DATATYPES)
        g.append(etree.Comment(
            f" Generated by `edition schema` from {self.schema.path.name if self.schema.path else 'the ODD'}"
            " (schemaSpec " + self.schema.ident + "). Do not edit: edit the ODD and regenerate. "))
        start = _rng("start", g)
        target = _rng("choice", start) if len(self.schema.start) > 1 else start
        for name in self.schema.start:
            self.ref(target, name)
        i = 0
        while i < len(self.needed):
            self.define(g, self.needed[i])
            i += 1
        return g


def to_relaxng(schema: Schema) -> etree._Element:
    """The compact RELAX NG grammar (XML syntax) of the schema."""
    return _RngWriter(schema).grammar()


# ---------------------------------------------------------------- Schematron

def to_schematron(schema: Schema) -> etree._Element:
    """An ISO Schematron schema (query binding xslt, XPath 1.0): one pattern per constraintSpec."""
    s = etree.Element(f"{{{SCH_NS}}}schema", nsmap={"sch": SCH_NS}, queryBinding="xslt")
    s.append(etree.Comment(" Generated by `edition schema` from the ODD. Do not edit: edit the ODD and regenerate. "))
    etree.SubElement(s, f"{{{SCH_NS}}}title").text = f"Rules of {schema.ident}"
    etree.SubElement(s, f"{{{SCH_NS}}}ns", prefix="tei", uri=TEI_NS)
    for c in schema.constraints:
        p = etree.SubElement(s, f"{{{SCH_NS}}}pattern", id=c.ident)
        for rule in c.rules:
            p.append(_clean_copy(rule))
    return s


def _clean_copy(el: etree._Element) -> etree._Element:
    """Copy a Schematron subtree without the TEI namespace declarations of the ODD."""
    out = etree.Element(el.tag, dict(el.attrib), nsmap={"sch": SCH_NS})
    out.text = el.text
    for child in el:
        if isinstance(child.tag, str):
            c = _clean_copy(child)
            c.tail = child.tail
            out.append(c)
    out.tail = el.tail
    return out


# ---------------------------------------------------------------- files

def serialize(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass(frozen=True)
class SchemaFiles:
    """Where the ODD and its compiled forms live: beside each other, named after the ODD."""

    odd: Path

    @property
    def rng(self) -> Path:
        return self.odd.with_suffix(".rng")

    @property
    def sch(self) -> Path:
        return self.odd.with_suffix(".sch")

    def generated(self, schema: Schema | None = None) -> dict[Path, bytes]:
        """The compiled files, from the ODD (or from `schema`, where the caller has loaded it already)."""
        schema = schema or load(self.odd)
        return {self.rng: serialize(to_relaxng(schema)), self.sch: serialize(to_schematron(schema))}

    def stale(self, schema: Schema | None = None) -> list[Path]:
        """Generated files that differ from what the ODD compiles to now (`schema`: the ODD, loaded)."""
        return [p for p, data in self.generated(schema).items() if not p.exists() or p.read_bytes() != data]

    def write(self) -> list[Path]:
        """Write the generated files that changed; return them."""
        changed = []
        for p, data in self.generated().items():
            if not p.exists() or p.read_bytes() != data:
                tmp = p.with_name(p.name + ".tmp")
                tmp.write_bytes(data)
                tmp.replace(p)
                changed.append(p)
        return changed
