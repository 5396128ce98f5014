"""Corpus-wide checks, run after every document is read.

Identifiers are unique across the edition; every internal pointer ("#id") resolves, to an
entry of the right kind; register entries that nothing names are reported; the reply and
previous/next links between letters agree and follow the chronology; each file is named
after its document's xml:id.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..tei import NS, XML_ID, Source, local_name

#: Attributes that hold pointers, and whether they hold a list of them.
POINTER_ATTRIBUTES = ("ref", "corresp", "target", "who", "scheme", "resp")
#: Register entry element -> the name elements whose @ref must point to it.
REGISTER_KINDS = {
    "person": ("persName",),
    "place": ("placeName",),
    "org": ("orgName", "repository", "publisher"),
    "event": (),
}
_NAME_TO_KIND = {name: kind for kind, names in REGISTER_KINDS.items() for name in names}
_RS_KIND = {"event": "event", "person": "person", "place": "place", "org": "org"}

_CORRESP = etree.XPath("tei:teiHeader/tei:profileDesc/tei:correspDesc", namespaces=NS)
_SENT_DATE = etree.XPath("tei:correspAction[@type='sent']/tei:date[1]", namespaces=NS)
_CONTEXT_REFS = etree.XPath("tei:correspContext/tei:ref[@type][@target]", namespaces=NS)


@dataclass
class Target:
    path: Path
    line: int
    element: str


@dataclass
class Pointer:
    path: Path
    line: int
    column: int
    element: str
    attribute: str
    value: str
    rs_type: str | None = None


@dataclass
class LetterLinks:
    id: str
    path: Path
    line: int
    date: str | None
    links: dict[str, list[tuple[str, int]]] = field(default_factory=dict)   # type -> [(target id, line)]


@dataclass
class CorpusIndex:
    """What the corpus checks need from every document, gathered in one pass per document."""

    ids: dict[str, list[Target]] = field(default_factory=dict)
    pointers: list[Pointer] = field(default_factory=list)
    letters: dict[str, LetterLinks] = field(default_factory=dict)
    roots: dict[Path, tuple[str | None, int]] = field(default_factory=dict)

    def add(self, source: Source) -> None:
        root = source.root
        self.roots[source.path] = (root.get(XML_ID), root.sourceline or 1)
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            name = local_name(el.tag)
            xml_id = el.get(XML_ID)
            if xml_id:
                self.ids.setdefault(xml_id, []).append(Target(source.path, el.sourceline or 0, name))
            for att in POINTER_ATTRIBUTES:
                value = el.get(att)
                if value is None:
                    continue
                for token in value.split():
                    if token.startswith("#"):
                        line = el.sourceline or 0
                        self.pointers.append(Pointer(source.path, line, source.column_of(el, att), name, att,
                                                     token[1:], el.get("type") if name == "rs" else None))
        for tei_doc in ([root] if local_name(root.tag) == "TEI" else root.iterfind("tei:TEI", NS)):
            corresp = _CORRESP(tei_doc)
            if not corresp:
                continue
            dates = _SENT_DATE(corresp[0])
            date = None
            if dates:
                date = dates[0].get("when") or dates[0].get("notBefore") or dates[0].get("from") or dates[0].get("notAfter")
            letter = LetterLinks(tei_doc.get(XML_ID) or source.path.stem, source.path, tei_doc.sourceline or 1, date)
            for ref in _CONTEXT_REFS(corresp[0]):
                target = ref.get("target")
                if target.startswith("#"):
                    letter.links.setdefault(ref.get("type"), []).append((target[1:], ref.sourceline or 0))
            self.letters[letter.id] = letter


def _before(a: str, b: str) -> bool:
    """ISO date `a` is certainly earlier than `b`, compared at the precision both share (1976-02 vs 1976-02-06: no)."""
    n = min(len(a), len(b))
    return a[:n] < b[:n]


_INVERSE = {"prev": "next", "next": "prev", "repliesTo": "repliedBy", "repliedBy": "repliesTo"}


def check(index: CorpusIndex, reporter, only: set[Path] | None = None) -> None:
    """Report corpus problems; with `only`, just those located in these files."""

    def wanted(path: Path) -> bool:
        return only is None or path in only

    # file name = xml:id
    for path, (xml_id, line) in sorted(index.roots.items()):
        if wanted(path) and xml_id and xml_id != path.stem:
            reporter.error("integrity.filename", f"file is named {path.name} but its document's xml:id is {xml_id!r}",
                           path, line, 1, hint=f"rename the file to {xml_id}.xml or change the xml:id")

    # unique ids
    for xml_id, targets in sorted(index.ids.items()):
        first = targets[0]
        for t in targets[1:]:
            if wanted(t.path):
                reporter.error("integrity.id-duplicate",
                               f"xml:id {xml_id!r} is already used by <{first.element}> at {reporter.display_path(first.path)}:{first.line}",
                               t.path, t.line, 0, hint="identifiers are unique across the whole edition")

    # pointers resolve, to the right kind of entry
    referenced: set[str] = set()
    for p in index.pointers:
        targets = index.ids.get(p.value)
        if targets:
            if not (len(targets) == 1 and targets[0].path == p.path and targets[0].line == p.line):
                referenced.add(p.value)
        if not wanted(p.path):
            continue
        if not targets:
            near = difflib.get_close_matches(p.value, list(index.ids), n=1)
            reporter.error("integrity.ref-unresolved",
                           f"@{p.attribute}=\"#{p.value}\" on <{p.element}> points to no xml:id in the edition"
                           + (f"; did you mean #{near[0]}?" if near else ""),
                           p.path, p.line, p.column, hint="add the entry to a register, or correct the pointer")
            continue
        if p.attribute != "ref":
            continue
        expected = _NAME_TO_KIND.get(p.element) or (_RS_KIND.get(p.rs_type or "") if p.element == "rs" else None)
        actual = targets[0].element
        if expected and actual in REGISTER_KINDS and actual != expected:
            reporter.error("integrity.ref-kind",
                           f"<{p.element}> points to #{p.value}, which is a <{actual}>, not a <{expected}>",
                           p.path, p.line, p.column)

    # register entries that nothing names
    for xml_id, targets in sorted(index.ids.items()):
        t = targets[0]
        if t.element in REGISTER_KINDS and xml_id not in referenced and wanted(t.path):
            reporter.warning("integrity.register-unused", f"register entry <{t.element} xml:id=\"{xml_id}\"> is referenced nowhere",
                             t.path, t.line, 0, hint="reference it with @ref where it is named, or remove it")

    # links between letters
    for letter in sorted(index.letters.values(), key=lambda l: l.id):
        if not wanted(letter.path):
            continue
        for kind, links in sorted(letter.links.items()):
            for target_id, line in links:
                other = index.letters.get(target_id)
                if other is None:
                    if target_id in index.ids:
                        reporter.error("integrity.link-target", f"{kind} link points to #{target_id}, which is not a letter",
                                       letter.path, line, 0)
                    continue  # unresolved pointers are reported above
                inverse = _INVERSE.get(kind)
                if inverse and letter.id not in [t for t, _ in other.links.get(inverse, [])]:
                    reporter.error("integrity.link-symmetry",
                                   f"{letter.id} says {kind} is {target_id}, but {target_id} has no {inverse} link back to {letter.id}",
                                   letter.path, line, 0, hint=f'add <ref type="{inverse}" target="#{letter.id}"> to {target_id}')
                if not (letter.date and other.date):
                    continue
                if kind == "repliesTo" and _before(letter.date, other.date):
                    reporter.error("integrity.reply-date",
                                   f"{letter.id} ({letter.date}) answers {target_id}, which is dated later ({other.date})",
                                   letter.path, line, 0, hint="an answer is dated after what it answers")
                elif kind == "next" and _before(other.date, letter.date):
                    reporter.error("integrity.chronology",
                                   f"next item {target_id} ({other.date}) is dated before {letter.id} ({letter.date})",
                                   letter.path, line, 0, hint="previous/next follow the order of dates")
