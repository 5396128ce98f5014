"""The processing model: which behaviour each TEI element has, and the one walker that applies it.

As in the TEI Guidelines' processing model, the mapping from element to behaviour is data:
`BEHAVIOURS` maps an element name to its rules, each a behaviour from the Guidelines' set with
parameters and an optional predicate on the element. The first rule whose predicate holds (and
whose `output`, if given, is the renderer's) applies. One `Walker` applies the table; the HTML
and text renderers subclass it and supply only the output primitives.

An element without a rule is reported (`render.unknown-element`) and its content is rendered
as inline text: nothing is dropped silently.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from lxml import etree

from ..diagnostics import Reporter
from ..tei import TEI_NS, XML_ID, XML_LANG, Source, local_name

# ---------------------------------------------------------------- behaviours
# The names are the TEI Guidelines' (<model behaviour="...">).

BLOCK = "block"
INLINE = "inline"
PARAGRAPH = "paragraph"
HEADING = "heading"
NOTE = "note"
LINK = "link"
ALTERNATE = "alternate"
LIST = "list"
LIST_ITEM = "listItem"
BREAK = "break"
OMIT = "omit"
SECTION = "section"
TITLE = "title"
METADATA = "metadata"
TEXT = "text"

BEHAVIOUR_NAMES = frozenset({BLOCK, INLINE, PARAGRAPH, HEADING, NOTE, LINK, ALTERNATE, LIST, LIST_ITEM,
                             BREAK, OMIT, SECTION, TITLE, METADATA, TEXT})
#: Behaviours that start a block of their own (a note only when it stands in place, not as a footnote).
BLOCK_BEHAVIOURS = frozenset({BLOCK, PARAGRAPH, HEADING, SECTION, LIST, LIST_ITEM, TITLE})

#: Turns the xml:id of a register entry, letter or note into a URL, or None when it has no page.
Resolver = Callable[[str], "str | None"]


# ---------------------------------------------------------------- predicates
# Small, printable predicates, so that the table stays data: str(rule) reads like the TEI's @predicate.

@dataclass(frozen=True)
class Attr:
    """The element has attribute `name` (with `value`, if given)."""

    name: str
    value: str | None = None

    def __call__(self, el: etree._Element) -> bool:
        got = el.get(self.name)
        return got is not None if self.value is None else got == self.value

    def __str__(self) -> str:
        return f"@{self.name}" if self.value is None else f"@{self.name}='{self.value}'"


@dataclass(frozen=True)
class RendHas:
    """@rend contains the word `token`."""

    token: str

    def __call__(self, el: etree._Element) -> bool:
        return self.token in (el.get("rend") or "").split()

    def __str__(self) -> str:
        return f"contains-token(@rend, '{self.token}')"


@dataclass(frozen=True)
class ParentIs:
    """The parent is a TEI element with one of `names`."""

    names: tuple[str, ...]

    def __call__(self, el: etree._Element) -> bool:
        parent = el.getparent()
        return parent is not None and _tei_name(parent) in self.names

    def __str__(self) -> str:
        return "parent::(" + " | ".join(self.names) + ")"


@dataclass(frozen=True)
class HasChildren:
    """The element has a TEI child of each of `names`."""

    names: tuple[str, ...]

    def __call__(self, el: etree._Element) -> bool:
        present = {_tei_name(c) for c in el}
        return all(n in present for n in self.names)

    def __str__(self) -> str:
        return " and ".join(self.names)


Predicate = Callable[[etree._Element], bool]


@dataclass(frozen=True)
class All:
    """Every one of `predicates` holds."""

    predicates: tuple[Predicate, ...]

    def __call__(self, el: etree._Element) -> bool:
        return all(p(el) for p in self.predicates)

    def __str__(self) -> str:
        return " and ".join(map(str, self.predicates))


@dataclass(frozen=True)
class Rule:
    """One <model>: a behaviour, its parameters, when it applies and for which output."""

    behaviour: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    when: Predicate | None = None
    output: str | None = None      # None: every output; else "html" or "text"

    def applies(self, el: etree._Element, output: str) -> bool:
        return (self.output is None or self.output == output) and (self.when is None or self.when(el))

    def __str__(self) -> str:
        where = f"[{self.when}]" if self.when is not None else ""
        out = f" (output={self.output})" if self.output else ""
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.behaviour}{where}({params}){out}"


def rule(behaviour: str, when: Predicate | None = None, output: str | None = None, **params: Any) -> Rule:
    assert behaviour in BEHAVIOUR_NAMES, behaviour
    return Rule(behaviour, MappingProxyType(dict(params)), when, output)


# ---------------------------------------------------------------- the table
# Parameters: cls (CSS class; default "tei-<name>"), tag (HTML element for inline), before/after
# (text around the content), content (generated content), title and describe (a tooltip made of
# attribute values), show (the reading a choice shows), place (note: "foot" or "block"),
# kind (break: "line" or "page"), attr (link: the attribute holding the pointer).

_REGISTER_LISTS = ("listPerson", "listPlace", "listOrg", "listEvent")
_LISTS = ("list", "listBibl", *_REGISTER_LISTS)
_ENTRIES = ("person", "place", "org", "event")

#: Header elements that hold only other metadata: the page template shows the header from the
#: corpus model, so inside a rendered tree they produce nothing. Deliberate, not forgotten.
_HEADER_STRUCTURE = (
    "teiHeader", "fileDesc", "titleStmt", "editionStmt", "publicationStmt", "availability",
    "sourceDesc", "msDesc", "msIdentifier", "encodingDesc", "classDecl", "taxonomy", "category",
    "profileDesc", "correspDesc", "correspAction", "correspContext", "langUsage", "textClass",
    "keywords", "revisionDesc", "catRef",
)

#: Phrase-level elements that are rendered as a plain inline span with their class.
_PLAIN_INLINE = (
    # header prose that may also be rendered on its own (a licence line, a keyword)
    "edition", "funder", "repository", "collection", "language", "term", "catDesc", "resp",
    "respStmt",
    # bibliographic and register phrases
    "author", "editor", "publisher", "pubPlace", "idno", "country", "settlement",
    # readings standing outside a choice
    "corr", "abbr", "expan", "orig", "reg",
)

_NAME_LINK = (rule(LINK, Attr("ref"), attr="ref"), rule(INLINE))

_TABLE: dict[str, tuple[Rule, ...]] = {
    # documents and divisions
    "TEI": (rule(BLOCK),),
    "teiCorpus": (rule(BLOCK),),
    "text": (rule(BLOCK),),
    "body": (rule(BLOCK),),
    "div": (rule(SECTION),),
    "head": (rule(BLOCK, ParentIs(_LISTS), cls="tei-head"), rule(HEADING)),
    "p": (rule(PARAGRAPH),),
    "opener": (rule(BLOCK),),
    "closer": (rule(BLOCK),),
    "postscript": (rule(BLOCK),),
    "dateline": (rule(BLOCK),),
    "salute": (rule(BLOCK),),
    "signed": (rule(BLOCK),),
    "list": (rule(LIST),),
    "item": (rule(LIST_ITEM),),
    "listBibl": (rule(LIST),),
    "bibl": (rule(LIST_ITEM, ParentIs(("listBibl",))), rule(BLOCK, ParentIs(("div", "body"))), rule(INLINE)),
    # notes: in a division they are the commentary, numbered in place; in running text, footnotes
    "note": (
        rule(NOTE, ParentIs(("div", "body")), place="block"),
        rule(BLOCK, ParentIs(_ENTRIES)),
        rule(NOTE, place="foot"),
    ),
    # names, dates, links
    "persName": _NAME_LINK,
    "placeName": _NAME_LINK,
    "orgName": _NAME_LINK,
    "rs": _NAME_LINK,
    "name": _NAME_LINK,
    "date": (rule(INLINE, tag="time"),),
    "ref": (rule(LINK, attr="target"),),
    "title": (rule(TITLE, All((Attr("type", "main"), ParentIs(("titleStmt",))))), rule(INLINE, tag="cite")),
    # highlighting and quotation
    "hi": (
        rule(INLINE, RendHas("italic"), tag="i"),
        rule(INLINE, RendHas("bold"), tag="b"),
        rule(INLINE, RendHas("underline"), tag="u"),
        rule(INLINE, RendHas("superscript"), tag="sup"),
        rule(INLINE, RendHas("subscript"), tag="sub"),
        rule(INLINE),
    ),
    "foreign": (rule(INLINE),),
    "quote": (rule(INLINE, before="\u201c", after="\u201d"),),
    "q": (rule(INLINE, before="\u201c", after="\u201d"),),
    # editorial interventions: one reading shown, the other offered
    "choice": (
        rule(ALTERNATE, HasChildren(("sic", "corr")), show="corr"),
        rule(ALTERNATE, HasChildren(("abbr", "expan")), show="expan"),
        rule(ALTERNATE, HasChildren(("orig", "reg")), show="reg"),
        rule(ALTERNATE),
    ),
    "sic": (rule(INLINE, ParentIs(("choice",))), rule(INLINE, after=" [sic]")),
    "gap": (rule(INLINE, content="[...]", title="omitted", describe=("reason", "quantity", "unit")),),
    "unclear": (
        rule(INLINE, output="text", before="[", after="?]"),
        rule(INLINE, after="[?]", title="unclear", describe=("reason",)),
    ),
    "supplied": (
        rule(INLINE, output="text", before="[", after="]"),
        rule(INLINE, before="\u27e8", after="\u27e9", title="supplied by the editors", describe=("reason",)),
    ),
    "add": (rule(INLINE, output="text", before="[add: ", after="]"), rule(INLINE, tag="ins")),
    "del": (rule(INLINE, output="text", before="[del: ", after="]"), rule(INLINE, tag="del")),
    "lb": (rule(BREAK, kind="line"),),
    "pb": (rule(BREAK, kind="page"),),
    # registers
    **{name: (rule(LIST),) for name in _REGISTER_LISTS},
    **{name: (rule(LIST_ITEM),) for name in _ENTRIES},
    "label": (rule(BLOCK),),
    "desc": (rule(BLOCK),),
    "birth": (rule(BLOCK),),
    "death": (rule(BLOCK),),
    "occupation": (rule(BLOCK),),
    "location": (rule(BLOCK),),
    "geo": (rule(TEXT),),
    # header prose, rendered when a caller renders it on its own (an abstract, a licence)
    "abstract": (rule(BLOCK),),
    "projectDesc": (rule(BLOCK),),
    "editorialDecl": (rule(BLOCK),),
    "change": (rule(BLOCK),),
    "licence": (rule(BLOCK),),
    **{name: (rule(INLINE),) for name in _PLAIN_INLINE},
    **{name: (rule(METADATA),) for name in _HEADER_STRUCTURE},
}

#: The processing model: TEI element name -> its rules, first match wins. Read-only.
BEHAVIOURS: Mapping[str, tuple[Rule, ...]] = MappingProxyType(_TABLE)


_TEI_PREFIX = f"{{{TEI_NS}}}"


def _tei_name(el: etree._Element) -> str | None:
    """Local name of a TEI element; None for other namespaces, comments and processing instructions."""
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith(_TEI_PREFIX):
        return None
    return tag[len(_TEI_PREFIX):]


# ---------------------------------------------------------------- helpers

_WS = re.compile(r"[ \t\n\r]+")
_CLASS_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_ISO_DATE = re.compile(r"-?\d{4}(-\d{2}(-\d{2})?)?")
_HTTP = re.compile(r"https?://[^\s/?#\x00-\x1f\x7f]+[^\s\x00-\x1f\x7f]*", re.I)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def normalize_space(text: str) -> str:
    """Collapse XML whitespace (not other spaces such as U+00A0) to one space."""
    return _WS.sub(" ", text)


def plain_text(el: etree._Element) -> str:
    return normalize_space("".join(el.itertext())).strip()


def css_token(value: str) -> str:
    """A class name made only of letters, digits, '-' and '_' ('' if nothing is left)."""
    return _CLASS_UNSAFE.sub("", value)


def html_id(xml_id: str, prefix: str = "") -> str:
    """An HTML id for an xml:id: characters beyond [A-Za-z0-9_.-] become '_'.

    Generated ids (footnotes) contain ':', which no sanitized xml:id can, so they never collide.
    """
    return prefix + _ID_UNSAFE.sub("_", xml_id)


def safe_target(value: str) -> str | None:
    """An http(s) URL from the data, or None: no other scheme is ever turned into a link."""
    value = value.strip(" \t\n\r")
    return value if _HTTP.fullmatch(value) else None


def safe_resolved(url: str) -> str | None:
    """A URL from the resolver: relative, '#fragment' or http(s); None for anything else."""
    url = url.strip(" \t\n\r")
    if not url or _CONTROL.search(url):
        return None
    scheme = _SCHEME.match(url)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return None
    return url


@dataclass(frozen=True)
class Attrs:
    """What the walker knows about an element's output: the HTML primitives use it, the text ones ignore it."""

    id: str | None = None
    classes: tuple[str, ...] = ()
    lang: str | None = None
    title: str | None = None
    datetime: str | None = None
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Offered:
    """A reading a choice offers beside the one it shows."""

    label: str            # the element's name: sic, abbr, orig ...
    text: str             # its plain text (for a tooltip)


Out = TypeVar("Out")


@dataclass
class FootNote(Generic[Out]):
    number: int
    id: str
    ref_id: str
    content: Out


# ---------------------------------------------------------------- the walker

class Walker(Generic[Out]):
    """The one translator: walks an lxml element through `BEHAVIOURS` and calls output primitives.

    Subclasses set `output` and implement the primitives (`text` ... `finish`); they never walk.
    """

    output: str = ""

    def __init__(self, *, resolve: Resolver | None = None, reporter: Reporter | None = None,
                 source: Source | None = None, heading_level: int = 2, id_prefix: str = "",
                 behaviours: Mapping[str, tuple[Rule, ...]] = BEHAVIOURS):
        self.resolve = resolve
        self.reporter = reporter
        self.source = source
        self.heading_level = heading_level
        self.id_prefix = id_prefix
        self.behaviours = behaviours
        self._handlers: dict[str, Callable[[etree._Element, Rule], Out]] = {
            BLOCK: self._block, INLINE: self._inline, PARAGRAPH: self._paragraph, HEADING: self._heading,
            NOTE: self._note, LINK: self._link, ALTERNATE: self._alternate, LIST: self._list,
            LIST_ITEM: self._list_item, BREAK: self._break, OMIT: self._nothing, SECTION: self._section,
            TITLE: self._title, METADATA: self._nothing, TEXT: self._text,
        }

    # ------------------------------------------------------------ driving

    def render(self, element: etree._Element) -> Any:
        self._depth = 0
        self._in_link = 0
        self._number = 0
        self._notes: list[FootNote[Out]] = []
        self._rule_cache: dict[etree._Element, Rule | None] = {}
        self._local_ids = set(self._rendered_ids(element))
        body = self.walk(element)
        return self.finish(body, self._notes)

    def rule_for(self, el: etree._Element) -> Rule | None:
        cache = self._rule_cache
        if el in cache:
            return cache[el]   # asked several times per element (walk, block tests of siblings)
        found = None
        name = _tei_name(el)
        for r in self.behaviours.get(name, ()) if name else ():
            if r.applies(el, self.output):
                found = r
                break
        cache[el] = found
        return found

    def is_block(self, el: etree._Element) -> bool:
        r = self.rule_for(el)
        if r is None:
            return False
        return r.behaviour in BLOCK_BEHAVIOURS or (r.behaviour == NOTE and r.params.get("place") == "block")

    def walk(self, el: etree._Element) -> Out:
        r = self.rule_for(el)
        if r is None:
            self._report_unknown(el)
            return self.inline(self.children(el), self.attrs(el, None))
        return self._handlers[r.behaviour](el, r)

    def children(self, el: etree._Element, skip: Callable[[etree._Element], bool] | None = None) -> Out:
        """The content of `el`: its text and its children, in order.

        Whitespace next to a block boundary is dropped, other whitespace is collapsed to one space.
        """
        seq: list[str | etree._Element] = []

        def add_text(t: str | None) -> None:
            if t:
                if seq and isinstance(seq[-1], str):
                    seq[-1] += t
                else:
                    seq.append(t)

        add_text(el.text)
        for child in el:
            if isinstance(child.tag, str) and not (skip and skip(child)):
                seq.append(child)
            add_text(child.tail)   # the tail of a comment or processing instruction is content too
        r = self.rule_for(el)
        block_parent = self.is_block(el) or (r is not None and r.behaviour == NOTE)
        parts: list[Out] = []
        for i, item in enumerate(seq):
            if not isinstance(item, str):
                parts.append(self.walk(item))
                continue
            before = seq[i - 1] if i > 0 else None
            after = seq[i + 1] if i + 1 < len(seq) else None
            t = normalize_space(item)
            if (before is None and block_parent) or (before is not None and self.is_block(before)):
                t = t.lstrip(" ")
            if (after is None and block_parent) or (after is not None and self.is_block(after)):
                t = t.rstrip(" ")
            if t:
                parts.append(self.text(t))
        return self.join(parts)

    def attrs(self, el: etree._Element, r: Rule | None, extra: tuple[str, ...] = (), **more: Any) -> Attrs:
        name = local_name(el.tag)
        if r is None:
            classes = ["tei-unknown", css_token(f"tei-{name}")]
        else:
            classes = [r.params.get("cls", f"tei-{name}")]
        classes.extend(extra)
        typ = css_token(el.get("type") or "")
        if typ:
            classes.append(typ)
        classes.extend(f"rend-{t}" for t in map(css_token, (el.get("rend") or "").split()) if t)
        cert = css_token(el.get("cert") or "")
        if cert:
            classes.append(f"cert-{cert}")
        xml_id = el.get(XML_ID)
        lang = el.get(XML_LANG)
        return Attrs(
            id=html_id(xml_id, self.id_prefix) if xml_id else None,
            classes=tuple(dict.fromkeys(c for c in classes if c)),
            lang=(lang.strip() or None) if lang else None,
            **more,
        )

    # ------------------------------------------------------------ behaviours

    def _block(self, el: etree._Element, r: Rule) -> Out:
        return self.block(self.children(el), self.attrs(el, r))

    def _inline(self, el: etree._Element, r: Rule) -> Out:
        p = r.params
        parts = [self.text(p["before"])] if p.get("before") else []
        if p.get("content"):
            parts.append(self.text(p["content"]))
        parts.append(self.children(el))
        if p.get("after"):
            parts.append(self.text(p["after"]))
        tag = p.get("tag")
        more: dict[str, Any] = {}
        if p.get("title"):
            described = " ".join(normalize_space(el.get(a, "")).strip() for a in p.get("describe", ()) if el.get(a))
            more["title"] = f"{p['title']}: {described}" if described else p["title"]
        if tag == "time":
            when = (el.get("when") or "").strip()
            if _ISO_DATE.fullmatch(when):
                more["datetime"] = when
            else:
                tag = None
        return self.inline(self.join(parts), self.attrs(el, r, **more), tag=tag)

    def _paragraph(self, el: etree._Element, r: Rule) -> Out:
        has_blocks = any(isinstance(c.tag, str) and self.is_block(c) for c in el)
        return self.paragraph(self.children(el), self.attrs(el, r), has_blocks=has_blocks)

    def _heading(self, el: etree._Element, r: Rule) -> Out:
        level = self.heading_level + max(self._depth - 1, 0)
        return self.heading(self.children(el), self.attrs(el, r), level)

    def _title(self, el: etree._Element, r: Rule) -> Out:
        return self.title(self.children(el), self.attrs(el, r), max(self.heading_level - 1, 1))

    def _section(self, el: etree._Element, r: Rule) -> Out:
        self._depth += 1
        try:
            content = self.children(el)
        finally:
            self._depth -= 1
        return self.section(content, self.attrs(el, r))

    def _list(self, el: etree._Element, r: Rule) -> Out:
        is_head = lambda c: _tei_name(c) == "head"  # noqa: E731
        heads = [self.walk(c) for c in el if is_head(c)]
        items = self.children(el, skip=is_head)
        return self.list(items, self.attrs(el, r), head=self.join(heads) if heads else None)

    def _list_item(self, el: etree._Element, r: Rule) -> Out:
        return self.list_item(self.children(el), self.attrs(el, r))

    def _note(self, el: etree._Element, r: Rule) -> Out:
        self._number += 1
        number = self._number
        attrs = self.attrs(el, r)
        if r.params.get("place") == "block":
            return self.block_note(self.children(el), attrs, number)
        note_id = attrs.id or f"{self.id_prefix}fn:{number}"
        ref_id = f"{self.id_prefix}fnref:{number}"
        note = FootNote(number, note_id, ref_id, self.children(el))
        self._notes.append(note)
        # a footnote's own notes are numbered after it, so the list stays in order
        self._notes.sort(key=lambda n: n.number)
        return self.note_ref(number, note_id, ref_id, linked=not self._in_link)

    def _link(self, el: etree._Element, r: Rule) -> Out:
        attrs = self.attrs(el, r)
        href, external = self._href(el, r.params.get("attr", "target"))
        if href is None or self._in_link:
            return self.inline(self.children(el), attrs, tag=None)
        self._in_link += 1
        try:
            content = self.children(el)
        finally:
            self._in_link -= 1
        return self.link(content, attrs, href, external=external)

    def _alternate(self, el: etree._Element, r: Rule) -> Out:
        readings = [c for c in el if isinstance(c.tag, str)]
        if not readings:
            return self.inline(self.children(el), self.attrs(el, r), tag=None)
        show = r.params.get("show")
        shown = next((c for c in readings if _tei_name(c) == show), readings[0])
        offered_els = [c for c in readings if c is not shown]
        shown_out = [self.walk(shown)]
        # text standing directly in a choice is invalid, but kept
        stray = normalize_space((el.text or "") + "".join(c.tail or "" for c in el)).strip()
        if stray:
            shown_out.append(self.text(" " + stray))
        offered = [(Offered(local_name(c.tag), plain_text(c)), self.walk(c)) for c in offered_els]
        kinds = "-".join(css_token(local_name(c.tag)) for c in readings)
        return self.alternate(self.join(shown_out), offered, self.attrs(el, r, extra=(f"tei-choice-{kinds}",)))

    def _break(self, el: etree._Element, r: Rule) -> Out:
        attrs = self.attrs(el, r)
        if r.params.get("kind") == "page":
            n = normalize_space(el.get("n") or "").strip()
            label = f"[p. {n}]" if n else "[page break]"
            return self.page_break(replace(attrs, data=(("n", n),) if n else ()), label)
        return self.line_break(attrs)

    def _text(self, el: etree._Element, r: Rule) -> Out:
        return self.text(plain_text(el))

    def _nothing(self, el: etree._Element, r: Rule) -> Out:
        return self.join([])

    # ------------------------------------------------------------ links

    def _href(self, el: etree._Element, attribute: str) -> tuple[str | None, bool]:
        """(URL, external) for the first pointer in `attribute`, or (None, False): never an unsafe scheme."""
        value = el.get(attribute)
        pointers = (value or "").split()
        if not pointers:
            return None, False
        pointer = pointers[0]
        if pointer.startswith("#"):
            ident = pointer[1:]
            if ident in self._local_ids:
                return "#" + html_id(ident, self.id_prefix), False
            if self.resolve is not None:
                url = self.resolve(ident)
                if url:
                    return safe_resolved(url), False
            return None, False
        url = safe_target(value or "")
        if url is None:
            self._report(el, "warning", "render.unsafe-link",
                         f"@{attribute}={value!r} on <{local_name(el.tag)}> is neither '#id' nor an http(s) URL; "
                         "its text is rendered without a link",
                         "point inside the edition with '#id' or to an http(s) URL")
            return None, False
        return url, True

    def _rendered_ids(self, root: etree._Element) -> Iterator[str]:
        """xml:ids of elements that appear in the output (not under omit or metadata)."""
        stack = [root]
        while stack:
            el = stack.pop()
            if not isinstance(el.tag, str):
                continue
            r = self.rule_for(el)
            if r is not None and r.behaviour in (OMIT, METADATA):
                continue
            if el.get(XML_ID):
                yield el.get(XML_ID)
            stack.extend(el)

    # ------------------------------------------------------------ diagnostics

    def _report(self, el: etree._Element, level: str, code: str, message: str, hint: str = "") -> None:
        if self.reporter is None:
            return
        if self.source is not None:
            path, column = self.source.path, self.source.column_of(el)
        else:
            path, column = el.getroottree().docinfo.URL or "<string>", 0
        self.reporter.add(level, code, message, path, el.sourceline or 0, column, hint)

    def _report_unknown(self, el: etree._Element) -> None:
        qname = etree.QName(el)
        where = "" if qname.namespace == TEI_NS else f" (namespace {qname.namespace or 'none'})"
        self._report(el, "error", "render.unknown-element",
                     f"<{qname.localname}>{where} has no behaviour in the processing model; "
                     "its content is rendered as inline text",
                     "add the element to edition.render.base.BEHAVIOURS")

    # ------------------------------------------------------------ output primitives

    def text(self, s: str) -> Out:
        raise NotImplementedError

    def join(self, parts: list[Out]) -> Out:
        raise NotImplementedError

    def block(self, content: Out, attrs: Attrs) -> Out:
        raise NotImplementedError

    def inline(self, content: Out, attrs: Attrs, tag: str | None = None) -> Out:
        raise NotImplementedError

    def paragraph(self, content: Out, attrs: Attrs, has_blocks: bool) -> Out:
        raise NotImplementedError

    def heading(self, content: Out, attrs: Attrs, level: int) -> Out:
        raise NotImplementedError

    def title(self, content: Out, attrs: Attrs, level: int) -> Out:
        raise NotImplementedError

    def section(self, content: Out, attrs: Attrs) -> Out:
        raise NotImplementedError

    def list(self, items: Out, attrs: Attrs, head: Out | None) -> Out:
        raise NotImplementedError

    def list_item(self, content: Out, attrs: Attrs) -> Out:
        raise NotImplementedError

    def link(self, content: Out, attrs: Attrs, href: str, external: bool) -> Out:
        raise NotImplementedError

    def alternate(self, shown: Out, offered: list[tuple[Offered, Out]], attrs: Attrs) -> Out:
        raise NotImplementedError

    def note_ref(self, number: int, note_id: str, ref_id: str, linked: bool) -> Out:
        raise NotImplementedError

    def block_note(self, content: Out, attrs: Attrs, number: int) -> Out:
        raise NotImplementedError

    def line_break(self, attrs: Attrs) -> Out:
        raise NotImplementedError

    def page_break(self, attrs: Attrs, label: str) -> Out:
        raise NotImplementedError

    def finish(self, body: Out, notes: list[FootNote[Out]]) -> Any:
        raise NotImplementedError
