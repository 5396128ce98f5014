"""Corpus-wide checks, run after every document is read.

Identifiers are unique across the edition; every internal pointer ("#id") resolves, to an
entry of the right kind; register entries that nothing names are reported; the reply and
previous/next links between letters agree and follow the chronology; each file is named
after its document's xml:id.
"""
from __future__ import annotations

import difflib
import functools
import heapq
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from lxml import etree

from ..tei import NS, XML_ID, Source, XMLInputError, local_name, read_xml, tei

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

#: The attributes the index reads: identifiers and pointers.
_READ = frozenset((XML_ID, *POINTER_ATTRIBUTES))
_CORRESP = etree.XPath("tei:teiHeader/tei:profileDesc/tei:correspDesc", namespaces=NS)
_SENT_DATE = etree.XPath("tei:correspAction[@type='sent']/tei:date[1]", namespaces=NS)
_CONTEXT_REFS = etree.XPath("tei:correspContext/tei:ref[@type][@target]", namespaces=NS)


class Target(NamedTuple):
    doc: int          # index into CorpusIndex.paths
    line: int
    element: str


#: _new_target((doc, line, element)) is Target(doc, line, element), made without a Python call.
_new_target = functools.partial(tuple.__new__, Target)


class Pointer(NamedTuple):
    doc: int
    line: int
    element: str
    attribute: str
    value: str
    rs_type: str | None


@dataclass
class LetterLinks:
    id: str
    doc: int
    line: int
    date: str | None
    links: dict[str, list[tuple[str, int]]] = field(default_factory=dict)   # type -> [(target id, line)]


@dataclass
class CorpusIndex:
    """What the corpus checks need from every document, gathered in one pass per document.

    Documents are numbered by the caller before the work is shared out (numbers are unique; a
    build keeps each path's number from one run to the next); the records refer to them by
    number, which keeps the index small and cheap to send between processes, and merging needs
    no renumbering.
    """

    paths: dict[int, Path] = field(default_factory=dict)
    roots: dict[int, tuple[str | None, int]] = field(default_factory=dict)     # (xml:id, line) per document
    ids: dict[str, list[Target]] = field(default_factory=dict)
    #: (value, element, attribute, rs type) -> the places it occurs, packed as doc << 32 | line
    pointers: dict[tuple[str, str, str, str | None], array] = field(default_factory=dict)
    letters: dict[str, LetterLinks] = field(default_factory=dict)

    def merge(self, other: "CorpusIndex") -> None:
        """Add what another index gathered (in another process); documents keep their numbers."""
        self.paths.update(other.paths)
        self.roots.update(other.roots)
        for xml_id, targets in other.ids.items():
            self.ids.setdefault(xml_id, []).extend(targets)
        for key, places in other.pointers.items():
            mine = self.pointers.get(key)
            if mine is None:
                self.pointers[key] = places
            else:
                mine.extend(places)
        self.letters.update(other.letters)

    def pack(self) -> tuple:
        """This index as flat lists and arrays, without the paths: what a worker process sends back.

        Plain lists, tuples and arrays pickle in C, several times faster than the records
        (Target, LetterLinks, an array per pointer) they stand for; `merge_packed` takes them.
        """
        docs = array("q", self.roots)
        roots = list(self.roots.values())
        id_names: list[str] = []
        id_docs, id_lines = array("q"), array("q")
        id_elements: list[str] = []
        for xml_id, targets in self.ids.items():
            for t in targets:
                id_names.append(xml_id)
                id_docs.append(t.doc)
                id_lines.append(t.line)
                id_elements.append(t.element)
        keys = list(self.pointers)
        counts = array("q", map(len, self.pointers.values()))
        places = array("q")
        for a in self.pointers.values():
            places.extend(a)
        letters = [(l.id, l.doc, l.line, l.date, l.links) for l in self.letters.values()]
        return docs, roots, id_names, id_docs, id_lines, id_elements, keys, counts, places, letters

    def merge_packed(self, packed: tuple, paths) -> None:
        """`merge` an index packed by `pack`; `paths[doc]` is the path of document number `doc`."""
        docs, roots, id_names, id_docs, id_lines, id_elements, keys, counts, places, letters = packed
        for doc, root in zip(docs, roots):
            self.paths[doc] = paths[doc]
            self.roots[doc] = root
        ids = self.ids
        for xml_id, target in zip(id_names, map(_new_target, zip(id_docs, id_lines, id_elements))):
            mine = ids.get(xml_id)
            if mine is None:
                ids[xml_id] = [target]
            else:
                mine.append(target)
        pointers = self.pointers
        start = 0
        for key, count in zip(keys, counts):
            mine = pointers.get(key)
            if mine is None:
                pointers[key] = places[start:start + count]
            else:
                mine.extend(places[start:start + count])
            start += count
        for letter_id, doc, line, date, links in letters:
            self.letters[letter_id] = LetterLinks(letter_id, doc, line, date, links)

    def remove(self, docs: set[int]) -> None:
        """Forget what these documents contributed (for a rebuild that reads them again)."""
        if not docs:
            return
        for doc in docs:
            self.paths.pop(doc, None)
            self.roots.pop(doc, None)
        for xml_id in list(self.ids):
            targets = [t for t in self.ids[xml_id] if t.doc not in docs]
            if targets:
                self.ids[xml_id] = targets
            else:
                del self.ids[xml_id]
        for key in list(self.pointers):
            places = self.pointers[key]
            kept = array("q", (p for p in places if (p >> 32) not in docs))
            if len(kept) != len(places):
                if kept:
                    self.pointers[key] = kept
                else:
                    del self.pointers[key]
        for letter_id in [k for k, l in self.letters.items() if l.doc in docs]:
            del self.letters[letter_id]

    def add(self, source: Source, doc: int) -> None:
        """Gather what the corpus checks need from one document (numbered `doc`)."""
        root = source.root
        self.paths[doc] = source.path
        self.roots[doc] = (root.get(XML_ID), root.sourceline or 1)
        ids, pointers, read, name_of, new_target = self.ids, self.pointers, _READ, _name, _new_target
        base = doc << 32
        # one walk over the elements, in document order; most have no attribute the checks read
        for el in root.iter(etree.Element):
            items = el.items()
            if not items:
                continue
            name = None
            for attribute, value in items:
                if attribute not in read:
                    continue
                if name is None:
                    name = name_of(el.tag)
                    line = el.sourceline or 0
                if attribute == XML_ID:
                    targets = ids.get(value)
                    if targets is None:
                        ids[value] = [new_target((doc, line, name))]
                    else:
                        targets.append(new_target((doc, line, name)))
                    continue
                rs_type = el.get("type") if name == "rs" else None
                place = base | line
                for token in value.split():
                    if token[:1] == "#":
                        # the column is computed only when the pointer is reported (see _column)
                        key = (token[1:], name, attribute, rs_type)
                        places = pointers.get(key)
                        if places is None:
                            pointers[key] = array("q", (place,))
                        else:
                            places.append(place)
        for tei_doc in ([root] if local_name(root.tag) == "TEI" else root.iterfind("tei:TEI", NS)):
            corresp = _CORRESP(tei_doc)
            if not corresp:
                continue
            dates = _SENT_DATE(corresp[0])
            date = None
            if dates:
                date = dates[0].get("when") or dates[0].get("notBefore") or dates[0].get("from") or dates[0].get("notAfter")
            letter = LetterLinks(tei_doc.get(XML_ID) or source.path.stem, doc, tei_doc.sourceline or 1, date)
            for ref in _CONTEXT_REFS(corresp[0]):
                target = ref.get("target")
                if target.startswith("#"):
                    letter.links.setdefault(ref.get("type"), []).append((target[1:], ref.sourceline or 0))
            self.letters[letter.id] = letter


@functools.lru_cache(maxsize=512)
def _name(tag: str) -> str:
    return local_name(tag)


@functools.lru_cache(maxsize=8)
def _source(path: Path) -> Source | None:
    try:
        return read_xml(path)
    except XMLInputError:
        return None


def _column(path: Path, p: Pointer) -> int:
    """The column of a pointer, found again in its file (only for pointers that are reported)."""
    source = _source(path)
    if source is None:
        return 0
    for el in source.root.iter(tei(p.element), p.element):
        if el.sourceline == p.line and f"#{p.value}" in (el.get(p.attribute) or "").split():
            return source.column_of(el, p.attribute)
    return 0


def _before(a: str, b: str) -> bool:
    """ISO date `a` is certainly earlier than `b`, compared at the precision both share (1976-02 vs 1976-02-06: no)."""
    n = min(len(a), len(b))
    return a[:n] < b[:n]


_INVERSE = {"prev": "next", "next": "prev", "repliesTo": "repliedBy", "repliedBy": "repliesTo"}


class NearestId:
    """The "did you mean" of an unresolved pointer: difflib's closest id, worked out once per value.

    In a large edition (tens of thousands of ids) difflib compares the value with the ids that share
    the most three-letter sequences with it (`SHORTLIST` of them), not with every id: comparing every
    broken pointer with every id took minutes for a corpus with many of them."""

    EXACT = 2000        # up to this many ids, every one is compared
    SHORTLIST = 64

    def __init__(self, ids):
        self.ids = ids
        self.found: dict[str, str | None] = {}
        self.grams: dict[str, list[str]] | None = None

    def __call__(self, value: str) -> str | None:
        if value not in self.found:
            self.found[value] = self._find(value)
        return self.found[value]

    def _find(self, value: str) -> str | None:
        if len(self.ids) <= self.EXACT or len(value) < 3:
            candidates = list(self.ids)
        else:
            if self.grams is None:
                self.grams = {}
                for xml_id in self.ids:
                    for gram in {xml_id[i:i + 3] for i in range(len(xml_id) - 2)}:
                        self.grams.setdefault(gram, []).append(xml_id)
            shared = Counter()
            for gram in {value[i:i + 3] for i in range(len(value) - 2)}:
                shared.update(self.grams.get(gram, ()))
            candidates = heapq.nlargest(self.SHORTLIST, shared, key=lambda c: (shared[c], c))
        near = difflib.get_close_matches(value, candidates, n=1)      # ties go to the greater id: no order matters
        return near[0] if near else None


def check(index: CorpusIndex, reporter, only: set[Path] | None = None) -> None:
    """Report corpus problems; with `only`, just those located in these files."""
    paths = index.paths
    wanted = {doc: only is None or p in only for doc, p in paths.items()}
    _source.cache_clear()   # files may have changed since an earlier run in this process

    # file name = xml:id
    for doc in sorted(paths, key=lambda d: paths[d]):
        xml_id, line = index.roots[doc]
        path = paths[doc]
        if wanted[doc] and xml_id and xml_id != path.stem:
            reporter.error("integrity.filename", f"file is named {path.name} but its document's xml:id is {xml_id!r}",
                           path, line, 1, hint=f"rename the file to {xml_id}.xml or change the xml:id")

    # unique ids
    for xml_id, targets in sorted(index.ids.items()):
        first = targets[0]
        for t in targets[1:]:
            if wanted[t.doc]:
                reporter.error("integrity.id-duplicate",
                               f"xml:id {xml_id!r} is already used by <{first.element}> at "
                               f"{reporter.display_path(paths[first.doc])}:{first.line}",
                               paths[t.doc], t.line, 0, hint="identifiers are unique across the whole edition")

    # pointers resolve, to the right kind of entry
    referenced: set[str] = set()
    ids = index.ids
    nearest = NearestId(ids)

    def occurrences(key, places):
        value, element, attribute, rs_type = key
        for place in places:
            doc = place >> 32
            if wanted[doc]:
                yield Pointer(doc, place & 0xFFFFFFFF, element, attribute, value, rs_type)

    for key, places in index.pointers.items():
        value, element, attribute, rs_type = key
        targets = ids.get(value)
        if targets:
            own = (targets[0].doc << 32) | targets[0].line
            if len(targets) > 1 or len(places) > 1 or places[0] != own:
                referenced.add(value)   # an element pointing only to itself does not count
        else:
            for p in occurrences(key, places):
                near = nearest(value)
                reporter.error("integrity.ref-unresolved",
                               f"@{p.attribute}=\"#{p.value}\" on <{p.element}> points to no xml:id in the edition"
                               + (f"; did you mean #{near}?" if near else ""),
                               paths[p.doc], p.line, _column(paths[p.doc], p),
                               hint="add the entry to a register, or correct the pointer")
            continue
        if attribute != "ref":
            continue
        expected = _NAME_TO_KIND.get(element) or (rs_type if element == "rs" and rs_type in REGISTER_KINDS else None)
        actual = targets[0].element
        if expected and actual in REGISTER_KINDS and actual != expected:
            for p in occurrences(key, places):
                reporter.error("integrity.ref-kind",
                               f"<{p.element}> points to #{p.value}, which is a <{actual}>, not a <{expected}>",
                               paths[p.doc], p.line, _column(paths[p.doc], p))

    # register entries that nothing names
    for xml_id, targets in sorted(ids.items()):
        t = targets[0]
        if t.element in REGISTER_KINDS and xml_id not in referenced and wanted[t.doc]:
            reporter.warning("integrity.register-unused", f"register entry <{t.element} xml:id=\"{xml_id}\"> is referenced nowhere",
                             paths[t.doc], t.line, 0, hint="reference it with @ref where it is named, or remove it")

    # links between letters
    for letter in sorted(index.letters.values(), key=lambda l: l.id):
        if not wanted[letter.doc]:
            continue
        path = paths[letter.doc]
        for kind, links in sorted(letter.links.items()):
            for target_id, line in links:
                other = index.letters.get(target_id)
                if other is None:
                    if target_id in ids:
                        reporter.error("integrity.link-target", f"{kind} link points to #{target_id}, which is not a letter",
                                       path, line, 0)
                    continue  # unresolved pointers are reported above
                inverse = _INVERSE.get(kind)
                if inverse and letter.id not in [t for t, _ in other.links.get(inverse, [])]:
                    reporter.error("integrity.link-symmetry",
                                   f"{letter.id} says {kind} is {target_id}, but {target_id} has no {inverse} link back to {letter.id}",
                                   path, line, 0, hint=f'add <ref type="{inverse}" target="#{letter.id}"> to {target_id}')
                if not (letter.date and other.date):
                    continue
                if kind == "repliesTo" and _before(letter.date, other.date):
                    reporter.error("integrity.reply-date",
                                   f"{letter.id} ({letter.date}) answers {target_id}, which is dated later ({other.date})",
                                   path, line, 0, hint="an answer is dated after what it answers")
                elif kind == "next" and _before(other.date, letter.date):
                    reporter.error("integrity.chronology",
                                   f"next item {target_id} ({other.date}) is dated before {letter.id} ({letter.date})",
                                   path, line, 0, hint="previous/next follow the order of dates")
