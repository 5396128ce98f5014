"""The data model of an edition, read once from tei/: letters, register entries, the edition document.

Two phases, as in a static-site generator: every document is read first, then the
cross-links (which letters name which register entry) are computed from all of them.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .diagnostics import EditionError
from .tei import NS, XML_ID, Source, XMLInputError, local_name, read_xml, tei

#: The months, for dates written out.
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def human_date(iso: str) -> str:
    """'1973-07-22' -> '22 July 1973'; '1973-07' -> 'July 1973'; '1973' -> '1973'."""
    parts = iso.split("-")
    if len(parts) == 3:
        return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return iso


@dataclass(frozen=True)
class RegisterKind:
    """One kind of register entry: where it lives and how it is named."""

    key: str            # registry key = folder/file word: persons, places, organisations, events
    element: str        # the TEI element of an entry
    name_element: str   # the element of its names (label for events)
    label: str          # a heading for people


#: The one table of register kinds; code loops over it instead of repeating itself per kind.
REGISTER_KINDS: tuple[RegisterKind, ...] = (
    RegisterKind("persons", "person", "persName", "Persons"),
    RegisterKind("places", "place", "placeName", "Places"),
    RegisterKind("organisations", "org", "orgName", "Organisations"),
    RegisterKind("events", "event", "label", "Events"),
)


@dataclass(frozen=True)
class Authority:
    """An authority file the registers' idno/@type may name."""

    label: str      # as people name it
    page: str       # URL pattern of its page, for readers
    uri: str        # URI pattern of the thing, for linked-data consumers and catalogues


#: idno/@type -> its authority: the one table for the site and every export.
#: The order is the order of preference where one must be chosen.
AUTHORITIES: dict[str, Authority] = {
    "gnd": Authority("GND", "https://d-nb.info/gnd/{}", "http://d-nb.info/gnd/{}"),
    "viaf": Authority("VIAF", "https://viaf.org/viaf/{}", "http://viaf.org/viaf/{}"),
    "lcnaf": Authority("LCNAF", "https://id.loc.gov/authorities/names/{}.html", "http://id.loc.gov/authorities/names/{}"),
    "wikidata": Authority("Wikidata", "https://www.wikidata.org/wiki/{}", "http://www.wikidata.org/entity/{}"),
    "isni": Authority("ISNI", "https://isni.org/isni/{}", "https://isni.org/isni/{}"),
    "geonames": Authority("GeoNames", "https://www.geonames.org/{}", "http://www.geonames.org/{}"),
}

#: The links between items (correspContext/ref/@type) as readers see them, in display order.
LINK_LABELS = {"repliesTo": "Answers", "repliedBy": "Answered by", "prev": "Previous item", "next": "Next item"}


def text_of(el: etree._Element | None) -> str:
    """An element's text, its whitespace normalized ("" for no element)."""
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


@dataclass
class Entry:
    """A register entry: a person, place, organisation or event."""

    id: str
    kind: RegisterKind
    name: str
    variants: tuple[str, ...]
    description: str
    idnos: dict[str, str]
    dates: dict[str, str]                 # birth/death/when/from/to as given
    geo: str | None
    path: Path
    line: int
    letters: list[str] = field(default_factory=list)   # ids of letters that name it (filled in phase two)


@dataclass
class Party:
    name: str
    ref: str | None        # register id without '#'
    cert: str | None = None


@dataclass
class DateInfo:
    when: str | None
    not_before: str | None
    not_after: str | None
    type: str | None
    cert: str | None
    text: str

    @property
    def sort_key(self) -> str:
        return self.when or self.not_before or self.not_after or ""

    def label(self) -> str:
        """'22 July 1973 (catalogue) [certainty: low]': the date as the text edition and the EPUB give it."""
        return (human_date(self.sort_key) + (f" ({self.type})" if self.type else "")
                + (f" [certainty: {self.cert}]" if self.cert else ""))


@dataclass
class Letter:
    id: str
    path: Path
    title: str
    subtitle: str
    sender: Party | None
    recipient: Party | None
    place: Party | None
    dates: list[DateInfo]
    links: dict[str, str]                     # prev/next/repliesTo/repliedBy -> letter id
    abstract: str
    keywords: list[str]                       # category ids
    categories: dict[str, str]                # taxonomy id -> category id (phases, kinds)
    signature: str | None
    references: list[str]                     # register ids named in the document, in order, with repeats
    source_rows: list[tuple[str, str, str | None]] = field(default_factory=list)   # msIdentifier: (part, text, cert)
    translations: list[tuple[str, str, str | None]] = field(default_factory=list)  # (type, URL, cert)

    @property
    def date(self) -> str:
        return self.dates[0].sort_key if self.dates else ""

    @property
    def year(self) -> str:
        return self.date[:4]


@dataclass
class Corpus:
    root: Path
    letters: list[Letter]                                # in chronological order
    entries: dict[str, dict[str, Entry]]                 # register key -> id -> entry
    edition: Source | None
    letter_index: dict[str, Letter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.letter_index = {l.id: l for l in self.letters}
        self._entry_index: dict[str, Entry] = {}
        for entries in self.entries.values():              # the first register wins, as it always did
            for xml_id, entry in entries.items():
                self._entry_index.setdefault(xml_id, entry)
        #: the name of each id a pointer names a person by (the lists and charts ask for every reference)
        self.person_names = {i: e.name for i, e in self._entry_index.items() if e.kind.key == "persons"}

    def entry(self, xml_id: str) -> Entry | None:
        return self._entry_index.get(xml_id)

    def categories(self) -> dict[str, str]:
        """Category id -> its description, from the edition document's taxonomies."""
        if self.edition is None:
            return {}
        return {c.get(XML_ID): text_of(c.find("tei:catDesc", NS)) for c in self.edition.root.iter(tei("category"))}

    def letter(self, xml_id: str) -> Letter | None:
        return self.letter_index.get(xml_id)


_PARTY = etree.XPath("tei:persName[1] | tei:orgName[1]", namespaces=NS)
_PLACE = etree.XPath("tei:placeName[1]", namespaces=NS)


def _party(action: etree._Element | None, xpath: etree.XPath = _PARTY) -> Party | None:
    if action is None:
        return None
    found = xpath(action)
    if not found:
        return None
    el = found[0]
    return Party(text_of(el), (el.get("ref") or "").lstrip("#") or None, el.get("cert"))


def _letter(source: Source) -> Letter:
    root = source.root
    header = root.find("tei:teiHeader", NS)
    corresp = header.find("tei:profileDesc/tei:correspDesc", NS)
    sent = corresp.find("tei:correspAction[@type='sent']", NS)
    received = corresp.find("tei:correspAction[@type='received']", NS)
    dates = [
        DateInfo(d.get("when"), d.get("notBefore"), d.get("notAfter"), d.get("type"), d.get("cert"), text_of(d))
        for d in (sent.iterfind("tei:date", NS) if sent is not None else [])
    ]
    links = {
        r.get("type"): r.get("target", "").lstrip("#")
        for r in corresp.iterfind("tei:correspContext/tei:ref", NS)
        if r.get("type")
    }
    categories = {
        c.get("scheme", "").lstrip("#"): c.get("target", "").lstrip("#")
        for c in header.iterfind("tei:profileDesc/tei:textClass/tei:catRef", NS)
    }
    references = [
        sys.intern(token[1:])                 # the same few ids over and over: one string each
        for el in root.iter()
        if isinstance(el.tag, str) and local_name(el.tag) in ("persName", "placeName", "orgName", "rs", "name")
        for token in (el.get("ref") or "").split()
        if token.startswith("#")
    ]
    signature = header.find("tei:fileDesc/tei:sourceDesc/tei:msDesc/tei:msIdentifier/tei:idno[@type='signature']", NS)
    ms = header.find("tei:fileDesc/tei:sourceDesc/tei:msDesc/tei:msIdentifier", NS)
    source_rows = [(local_name(c.tag), text_of(c), c.get("cert")) for c in (ms if ms is not None else []) if isinstance(c.tag, str)]
    translations = [(r.get("type") or "link", r.get("target", ""), r.get("cert"))
                    for r in header.iterfind("tei:fileDesc/tei:sourceDesc/tei:bibl[@type='translation']/tei:ref", NS)]
    return Letter(
        id=root.get(XML_ID) or source.path.stem,
        path=source.path,
        title=text_of(header.find("tei:fileDesc/tei:titleStmt/tei:title[@type='main']", NS)),
        subtitle=text_of(header.find("tei:fileDesc/tei:titleStmt/tei:title[@type='sub']", NS)),
        sender=_party(sent),
        recipient=_party(received),
        place=_party(sent, _PLACE),
        dates=dates,
        links=links,
        abstract=text_of(header.find("tei:profileDesc/tei:abstract", NS)),
        keywords=[t.get("ref", "").lstrip("#") for t in header.iterfind("tei:profileDesc/tei:textClass/tei:keywords/tei:term", NS)],
        categories=categories,
        signature=text_of(signature) if signature is not None else None,
        references=references,
        source_rows=source_rows,
        translations=translations,
    )


def _entries(source: Source) -> list[Entry]:
    out = []
    for kind in REGISTER_KINDS:
        for el in source.root.iter(tei(kind.element)):
            names = el.findall(f"tei:{kind.name_element}", NS)
            main = next((n for n in names if n.get("type") == "main"), names[0] if names else None)
            dates = {}
            for part in ("birth", "death"):
                d = el.find(f"tei:{part}", NS)
                if d is not None:
                    dates[part] = d.get("when") or d.get("notBefore") or ""
            for att in ("when", "from", "to", "notBefore", "notAfter"):
                if el.get(att):
                    dates[att] = el.get(att)
            if main is not None:
                for att in ("from", "to"):
                    if main.get(att):
                        dates[att] = main.get(att)
            description = el.find("tei:occupation", NS)
            if description is None:
                description = el.find("tei:desc", NS)
            if description is None:
                description = el.find("tei:note", NS)
            geo = el.find("tei:location/tei:geo", NS)
            out.append(Entry(
                id=el.get(XML_ID, ""),
                kind=kind,
                name=text_of(main),
                variants=tuple(text_of(n) for n in names if n is not main),
                description=text_of(description),
                idnos={i.get("type"): text_of(i) for i in el.iterfind("tei:idno", NS)},
                dates=dates,
                geo=text_of(geo) if geo is not None else None,
                path=source.path,
                line=el.sourceline or 0,
            ))
    return out


@dataclass
class DocumentRecord:
    """What one document contributes to the corpus model (small; cached between builds)."""

    letter: Letter | None
    entries: list[Entry]
    is_edition: bool


def share_strings(record: DocumentRecord) -> None:
    """Make a record's register ids the interned strings (as `read_document` makes them), once it has
    come from another process: thousands of letters then share one string per id, in memory and in
    the build's cache."""
    if record.letter is not None:
        record.letter.references = [sys.intern(r) for r in record.letter.references]


def read_document(source: Source) -> DocumentRecord:
    root = source.root
    letter = _letter(source) if root.find("tei:teiHeader/tei:profileDesc/tei:correspDesc", NS) is not None else None
    return DocumentRecord(letter, _entries(source), root.get(XML_ID) == "edition")


def assemble(tei_dir: Path, records: list[DocumentRecord], edition: Source | None) -> Corpus:
    """Phase two: the corpus from every document's record, with the back-links from entries to letters."""
    letters = [r.letter for r in records if r.letter is not None]
    entries: dict[str, dict[str, Entry]] = {k.key: {} for k in REGISTER_KINDS}
    for r in records:
        for e in r.entries:
            e.letters = []
            entries[e.kind.key][e.id] = e
    letters.sort(key=lambda l: (l.date, l.id))
    corpus = Corpus(tei_dir, letters, entries, edition)
    for letter in letters:
        for ref in dict.fromkeys(letter.references):
            entry = corpus.entry(ref)
            if entry is not None:
                entry.letters.append(letter.id)
    return corpus


def load(tei_dir: Path) -> Corpus:
    """Read every document under `tei_dir` (for small editions and tools; the build gathers in a pool).

    Unreadable documents stop the load: validate first.
    """
    records: list[DocumentRecord] = []
    edition = None
    for path in sorted(tei_dir.rglob("*.xml")):
        try:
            source = read_xml(path)
        except XMLInputError as exc:
            raise EditionError(f"{exc.message} (run `edition validate`)", path, exc.line) from None
        record = read_document(source)
        if record.is_edition:
            edition = source
        records.append(record)
    return assemble(tei_dir, records, edition)
