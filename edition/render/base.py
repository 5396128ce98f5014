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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
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
    #: Whether the output starts a block of its own. Derived from the fields above once, because
    #: the walker asks it of every element (whitespace at block boundaries is dropped).
    starts_block: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        block_note = self.behaviour == NOTE and self.params.get("place") == "block"
        object.__setattr__(self, "starts_block", self.behaviour in BLOCK_BEHAVIOURS or block_note)

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


@dataclass(frozen=True)
class CompiledRules:
    """A table compiled for one output, for looking elements up by their tag as lxml gives it.

    `rules` maps the Clark name of an element to its rules for that output, in order: the lookup
    spares every element the namespace test and the output test. `block_tags` are the elements
    with a rule that starts a block: the test for block content skips all others unevaluated.
    `omit_tags`, likewise, are the elements with a rule that renders nothing (omit, metadata).
    """

    rules: Mapping[str, tuple[Rule, ...]]
    block_tags: frozenset[str]
    omit_tags: frozenset[str]


def compile_rules(behaviours: Mapping[str, tuple[Rule, ...]], output: str) -> CompiledRules:
    """`behaviours` compiled for `output`."""
    rules = {_TEI_PREFIX + name: tuple(r for r in entries if r.output is None or r.output == output)
             for name, entries in behaviours.items()}
    return CompiledRules(rules, frozenset(tag for tag, rs in rules.items() if any(r.starts_block for r in rs)),
                         frozenset(tag for tag, rs in rules.items() if any(r.behaviour in (OMIT, METADATA) for r in rs)))


@lru_cache(maxsize=None)
def _default_rules(output: str) -> CompiledRules:
    """`BEHAVIOURS` compiled once per output: the table is read-only, and every render uses it."""
    return compile_rules(BEHAVIOURS, output)


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
    """Collapse XML whitespace (not other spaces such as U+00A0) to one space.

    Most text nodes hold no tab, newline, carriage return or double space, and then there is
    nothing to collapse: a few substring tests are much cheaper than the substitution.
    """
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        return _WS.sub(" ", text)
    return text


def _trim_space(text: str, after_block: bool, before_block: bool) -> str:
    """Text between two children, whitespace collapsed and dropped next to a block boundary."""
    text = normalize_space(text)
    if after_block:
        text = text.lstrip(" ")
    if before_block:
        text = text.rstrip(" ")
    return text


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


@lru_cache(maxsize=4096)
def safe_resolved(url: str) -> str | None:
    """A URL from the resolver: relative, '#fragment' or http(s); None for anything else.

    Cached: a letter points to the same few register entries again and again.
    """
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


#: `cls` of `_classes` for an element without a rule, and for a rule without a "cls" parameter.
_UNKNOWN = object()
_BY_NAME = object()


@lru_cache(maxsize=4096)
def _classes(tag: str, cls: Any, extra: tuple[str, ...],
             typ: str | None, rend: str | None, cert: str | None) -> tuple[str, ...]:
    """The classes of an element: its rule's (`cls`, by default "tei-<name>"; "tei-unknown tei-<name>"
    without a rule), `extra`, then @type, @rend tokens and @cert, sanitized.

    Cached, because a corpus repeats the same few combinations on thousands of elements.
    """
    name = local_name(tag)
    if cls is _UNKNOWN:
        classes = ["tei-unknown", css_token(f"tei-{name}")]
    else:
        classes = [f"tei-{name}" if cls is _BY_NAME else cls]
    classes.extend(extra)
    typ = css_token(typ or "")
    if typ:
        classes.append(typ)
    classes.extend(f"rend-{t}" for t in map(css_token, (rend or "").split()) if t)
    cert = css_token(cert or "")
    if cert:
        classes.append(f"cert-{cert}")
    return tuple(dict.fromkeys(c for c in classes if c))


@lru_cache(maxsize=4096)
def _shared_attrs(tag: str, cls: Any, extra: tuple[str, ...], typ: str | None, rend: str | None,
                  cert: str | None, lang: str | None, title: str | None, datetime: str | None) -> Attrs:
    """Attrs of an element without an xml:id, from what `Walker.attrs` reads of it. They are
    immutable, and such elements repeat the same few, so they are shared instead of built for
    every element."""
    lang = (lang.strip() or None) if lang else None
    return Attrs(classes=_classes(tag, cls, extra, typ, rend, cert), lang=lang, title=title, datetime=datetime)


#: The attributes `Walker.attrs` reads.
_SHOWN_ATTRIBUTES = frozenset({"type", "rend", "cert", XML_LANG, XML_ID})

#: The Attrs of every element for an output that shows no attributes.
_NO_ATTRS = Attrs()

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
    #: Whether the output primitives look at `Attrs` (ids, classes, language, tooltips) at all.
    shows_attributes: bool = True

    def __init__(self, *, resolve: Resolver | None = None, reporter: Reporter | None = None,
                 source: Source | None = None, heading_level: int = 2, id_prefix: str = "",
                 behaviours: Mapping[str, tuple[Rule, ...]] = BEHAVIOURS):
        self.resolve = resolve
        self.reporter = reporter
        self.source = source
        self.heading_level = heading_level
        self.id_prefix = id_prefix
        compiled = (_default_rules(self.output) if behaviours is BEHAVIOURS
                    else compile_rules(behaviours, self.output))
        self._rules, self._block_tags, self._omit_tags = compiled.rules, compiled.block_tags, compiled.omit_tags
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
        self._local_ids = self._rendered_ids(element)
        body = self.walk(element)
        # a footnote's own notes are numbered after it but listed before it: put them in order
        return self.finish(body, sorted(self._notes, key=lambda n: n.number))

    def rule_for(self, el: etree._Element) -> Rule | None:
        """The first rule for `el` whose predicate holds; None for an element without a behaviour.

        Comments, processing instructions and elements of other namespaces have no entry.
        """
        return self._rule(el, el.tag)

    def _rule(self, el: etree._Element, tag: Any) -> Rule | None:
        """`rule_for(el)`, given `el.tag` (lxml makes a new string each time it is asked for)."""
        for r in self._rules.get(tag, ()):
            if r.when is None or r.when(el):
                return r
        return None

    def is_block(self, el: etree._Element) -> bool:
        if el.tag not in self._block_tags:
            return False
        r = self.rule_for(el)
        return r is not None and r.starts_block

    def walk(self, el: etree._Element) -> Out:
        return self._apply(el, self.rule_for(el))

    def _apply(self, el: etree._Element, r: Rule | None) -> Out:
        """Render `el` by its rule `r` (already looked up by the caller)."""
        if r is None:
            self._report_unknown(el)
            return self.inline(self.children(el, None), self.attrs(el, None))
        return self._handlers[r.behaviour](el, r)

    def children(self, el: etree._Element, r: Rule | None,
                 skip: Callable[[etree._Element], bool] | None = None) -> Out:
        """The content of `el`, whose rule is `r`: its text and its children, in order.

        Whitespace next to a block boundary is dropped, other whitespace is collapsed to one space.
        One pass: the text since the last rendered child is held back until the next child's rule
        tells whether a block follows it; each child's rule is looked up only once.
        """
        if not len(el):   # most elements hold only text (a name, a date): nothing to look up
            parent_block = r is not None and (r.starts_block or r.behaviour == NOTE)
            text = _trim_space(el.text or "", parent_block, parent_block)
            return self.text(text) if text else self.join([])   # (one part joined is that part)
        return self._content(el, r, skip)[0]

    def _content(self, el: etree._Element, r: Rule | None,
                 skip: Callable[[etree._Element], bool] | None = None) -> tuple[Out, bool]:
        """`children(el, r, skip)`, and whether a child that starts a block is among them."""
        parent_block = r is not None and (r.starts_block or r.behaviour == NOTE)
        has_blocks = False
        parts: list[Out] = []
        # (method lookups hoisted out of the loop: this is the walker's innermost loop)
        text, rule, handlers = self.text, self._rule, self._handlers
        pending = el.text or ""      # the tail of a comment or processing instruction is content too
        after_block = parent_block   # whether a block boundary precedes `pending`
        for child in el:
            tag = child.tag
            if isinstance(tag, str) and not (skip and skip(child)):
                child_rule = rule(child, tag)
                child_block = child_rule is not None and child_rule.starts_block
                if pending:
                    pending = _trim_space(pending, after_block, child_block)
                    if pending:
                        parts.append(text(pending))
                    pending = ""
                # (_apply written out for the common case of an element with a rule)
                if child_rule is None:
                    parts.append(self._apply(child, None))
                else:
                    parts.append(handlers[child_rule.behaviour](child, child_rule))
                after_block = child_block
                has_blocks = has_blocks or child_block
            tail = child.tail
            if tail:
                pending += tail
        if pending:
            pending = _trim_space(pending, after_block, parent_block)
            if pending:
                parts.append(text(pending))
        return self.join(parts), has_blocks

    def attrs(self, el: etree._Element, r: Rule | None, extra: tuple[str, ...] = (),
              title: str | None = None, datetime: str | None = None) -> Attrs:
        """What the output shows of `el` (rule `r`, None if it has none): id, classes, language, tooltip.

        Most elements carry none of the attributes asked for here, and asking for an absent one
        costs more than a look at the names present. An output that shows no attributes (plain
        text) is spared reading them.
        """
        if not self.shows_attributes:
            return _NO_ATTRS
        present = el.keys()
        cls = _UNKNOWN if r is None else r.params.get("cls", _BY_NAME)
        if _SHOWN_ATTRIBUTES.isdisjoint(present):   # the usual case: nothing to read
            return _shared_attrs(el.tag, cls, extra, None, None, None, None, title, datetime)
        get = el.get
        typ = get("type") if "type" in present else None
        rend = get("rend") if "rend" in present else None
        cert = get("cert") if "cert" in present else None
        lang = get(XML_LANG) if XML_LANG in present else None
        xml_id = get(XML_ID) if XML_ID in present else None
        if not xml_id:
            return _shared_attrs(el.tag, cls, extra, typ, rend, cert, lang, title, datetime)
        classes = _classes(el.tag, cls, extra, typ, rend, cert)
        lang = (lang.strip() or None) if lang else None
        return Attrs(id=html_id(xml_id, self.id_prefix), classes=classes, lang=lang, title=title, datetime=datetime)

    # ------------------------------------------------------------ behaviours

    def _block(self, el: etree._Element, r: Rule) -> Out:
        return self.block(self.children(el, r), self.attrs(el, r))

    def _inline(self, el: etree._Element, r: Rule) -> Out:
        p = r.params
        parts = [self.text(p["before"])] if p.get("before") else []
        if p.get("content"):
            parts.append(self.text(p["content"]))
        parts.append(self.children(el, r))
        if p.get("after"):
            parts.append(self.text(p["after"]))
        tag = p.get("tag")
        title = datetime = None
        if p.get("title"):
            described = " ".join(normalize_space(el.get(a, "")).strip() for a in p.get("describe", ()) if el.get(a))
            title = f"{p['title']}: {described}" if described else p["title"]
        if tag == "time":
            when = (el.get("when") or "").strip()
            if _ISO_DATE.fullmatch(when):
                datetime = when
            else:
                tag = None
        return self.inline(self.join(parts), self.attrs(el, r, title=title, datetime=datetime), tag=tag)

    def _paragraph(self, el: etree._Element, r: Rule) -> Out:
        content, has_blocks = self._content(el, r)   # a comment or processing instruction is no block
        return self.paragraph(content, self.attrs(el, r), has_blocks=has_blocks)

    def _heading(self, el: etree._Element, r: Rule) -> Out:
        level = self.heading_level + max(self._depth - 1, 0)
        return self.heading(self.children(el, r), self.attrs(el, r), level)

    def _title(self, el: etree._Element, r: Rule) -> Out:
        return self.title(self.children(el, r), self.attrs(el, r), max(self.heading_level - 1, 1))

    def _section(self, el: etree._Element, r: Rule) -> Out:
        self._depth += 1
        try:
            content = self.children(el, r)
        finally:
            self._depth -= 1
        return self.section(content, self.attrs(el, r))

    def _list(self, el: etree._Element, r: Rule) -> Out:
        is_head = lambda c: _tei_name(c) == "head"  # noqa: E731
        heads = [self.walk(c) for c in el if is_head(c)]
        items = self.children(el, r, skip=is_head)
        return self.list(items, self.attrs(el, r), head=self.join(heads) if heads else None)

    def _list_item(self, el: etree._Element, r: Rule) -> Out:
        return self.list_item(self.children(el, r), self.attrs(el, r))

    def _note(self, el: etree._Element, r: Rule) -> Out:
        self._number += 1
        number = self._number
        attrs = self.attrs(el, r)
        if r.params.get("place") == "block":
            return self.block_note(self.children(el, r), attrs, number)
        note_id = attrs.id or f"{self.id_prefix}fn:{number}"
        ref_id = f"{self.id_prefix}fnref:{number}"
        note = FootNote(number, note_id, ref_id, self.children(el, r))
        self._notes.append(note)
        return self.note_ref(number, note_id, ref_id, linked=not self._in_link)

    def _link(self, el: etree._Element, r: Rule) -> Out:
        attrs = self.attrs(el, r)
        href, external = self._href(el, r.params.get("attr", "target"))
        if href is None or self._in_link:
            return self.inline(self.children(el, r), attrs, tag=None)
        self._in_link += 1
        try:
            content = self.children(el, r)
        finally:
            self._in_link -= 1
        return self.link(content, attrs, href, external=external)

    def _alternate(self, el: etree._Element, r: Rule) -> Out:
        readings = [c for c in el if isinstance(c.tag, str)]
        if not readings:
            return self.inline(self.children(el, r), self.attrs(el, r), tag=None)
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

    def _rendered_ids(self, root: etree._Element) -> set[str]:
        """xml:ids of elements that appear in the output (not under omit or metadata).

        Few elements carry an xml:id, so only they and their ancestors up to `root` are looked up
        in the table, rather than every element of the tree.
        """
        ids = set()
        for el in root.iter(etree.Element):
            if XML_ID in el.keys():   # cheaper than el.get() for the many elements without one
                xml_id = el.get(XML_ID)
                if xml_id and not self._under_omitted(el, root):
                    ids.add(xml_id)
        return ids

    def _under_omitted(self, el: etree._Element, root: etree._Element) -> bool:
        """Whether `el` or an ancestor of it, up to `root`, is omit or metadata."""
        node: etree._Element | None = el
        while node is not None:
            if node.tag in self._omit_tags:   # other elements need no look at their rules
                r = self.rule_for(node)
                if r is not None and r.behaviour in (OMIT, METADATA):
                    return True
            node = None if node is root else node.getparent()
        return False

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
