"""What every exporter shares: the context, the edition's own metadata, dates, URLs and output helpers.

Nothing here reads the clock. A date of production is SOURCE_DATE_EPOCH when it is set, else the
newest `revisionDesc/change/@when` of the edition; record datestamps come from each document's
own revision history.

Nothing here keeps a parsed document either: a document is parsed, used and let go. What the
exports need from a document's header (its revision dates, languages, licence, the correspActions)
is kept as a small `DocumentFacts` record, read once per document and export run.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import posixpath
import queue
import re
import struct
import sys
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple
from urllib.parse import urlsplit

from lxml import etree

from ..config import Config
from ..corpus import AUTHORITIES, Corpus, Entry, Letter, text_of
from ..diagnostics import EditionError, Reporter
from ..odd import Schema
from ..output import Output
from ..tei import NS, XML_LANG, read_xml, safe_parser
from ..validate import PATH_ORDER

#: rendered(letter id, resolve) -> {"regest": html, "commentary": html}: a letter's body divisions as the
#: project's renderer made them, with internal links resolved by `resolve(xml_id) -> href | None`.
Rendered = Callable[[str, Callable[[str], str | None]], dict[str, str]]


class ExportError(EditionError):
    """An export cannot be made at all (no base URL, a malformed SOURCE_DATE_EPOCH)."""


#: Authority id type (the registers' idno/@type) -> the URI of the thing, as linked-data consumers,
#: correspSearch and library catalogues expect it (from corpus.AUTHORITIES, in its order of preference).
AUTHORITY_URIS: dict[str, str] = {key: authority.uri for key, authority in AUTHORITIES.items()}


def authority_uris(entry: Entry, types: tuple[str, ...] = tuple(AUTHORITY_URIS)) -> list[str]:
    """The entry's verified authority URIs of the given types, in the order of `types`."""
    return [AUTHORITY_URIS[t].format(entry.idnos[t]) for t in types if entry.idnos.get(t)]


@dataclass(frozen=True)
class EditionInfo:
    """The edition as a whole, from the edition document's header (with the configuration as fallback)."""

    title: str
    editors: tuple[str, ...]
    publisher: str
    year: str                      # year of publication
    edition: str                   # the edition statement, e.g. "First digital edition"
    version: str                   # its number (edition/@n), e.g. "1.0"
    licence: str
    licence_url: str
    summary: str                   # projectDesc
    languages: tuple[str, ...]     # BCP 47 tags of the editorial text


@dataclass(frozen=True, slots=True)
class NameFacts:
    """A persName, orgName or placeName of a correspAction."""

    element: str                   # its local name
    text: str
    ref: str                       # @ref as written ("" when absent)
    cert: str | None


@dataclass(frozen=True, slots=True)
class ActionFacts:
    """A correspAction: its names (persons, then organisations, then places) and its dates."""

    names: tuple[NameFacts, ...]
    dates: tuple[tuple[str | None, ...], ...]     # each date's when, notBefore, notAfter, from, to


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What the exports read from a document's header, kept instead of the parsed document (its strings
    interned: the same names, dates and licence recur from letter to letter)."""

    revisions: tuple[str, ...]                 # revisionDesc//change/@when (YYYY-MM-DD or shorter), sorted
    languages: tuple[str, ...]                 # profileDesc/langUsage/language/@ident
    licence: str                               # publicationStmt/availability/licence: its text
    licence_url: str | None                    # ... and its @target
    actions: dict[str, ActionFacts]            # correspAction/@type ("sent", "received") -> the first of that type


_ACTION_NAMES = ("persName", "orgName", "placeName")
_HEADER = etree.XPath("tei:teiHeader", namespaces=NS)
_CHANGES = etree.XPath("tei:revisionDesc//tei:change/@when", namespaces=NS, smart_strings=False)
_LANGUAGES = etree.XPath("tei:profileDesc/tei:langUsage/tei:language", namespaces=NS)
_LICENCE = etree.XPath("tei:fileDesc/tei:publicationStmt/tei:availability/tei:licence", namespaces=NS)
_ACTIONS = etree.XPath("tei:profileDesc/tei:correspDesc/tei:correspAction", namespaces=NS)
_NAMES = etree.XPath("tei:persName | tei:orgName | tei:placeName", namespaces=NS)
_DATES = etree.XPath("tei:date", namespaces=NS)
_DATE_ATTRIBUTES = ("when", "notBefore", "notAfter", "from", "to")


def document_facts(root: etree._Element) -> DocumentFacts:
    """The facts of a document (its root element; a root with only its teiHeader is enough)."""
    headers = _HEADER(root)
    if not headers:
        return DocumentFacts((), (), "", None, {})
    header = headers[0]
    licence = _LICENCE(header)
    actions: dict[str, ActionFacts] = {}
    for action in _ACTIONS(header):
        kind = action.get("type")
        if kind is None or kind in actions:
            continue
        names = sorted(_NAMES(action), key=lambda el: _ACTION_NAMES.index(etree.QName(el).localname))
        actions[_intern(kind)] = ActionFacts(
            tuple(NameFacts(_intern(etree.QName(el).localname), _intern(text_of(el)), _intern(el.get("ref") or ""),
                            _intern(el.get("cert"))) for el in names),
            tuple(tuple(_intern(d.get(a)) for a in _DATE_ATTRIBUTES) for d in _DATES(action)))
    return DocumentFacts(
        revisions=tuple(sorted(_intern(when[:10]) for when in _CHANGES(header))),
        languages=tuple(_intern(l.get("ident")) for l in _LANGUAGES(header)),
        licence=_intern(text_of(licence[0]) if licence else ""),
        licence_url=_intern(licence[0].get("target") if licence else None),
        actions=actions,
    )


def _intern(value: str | None) -> str | None:
    return sys.intern(value) if value is not None else None


_HEADER_END = b"</teiHeader>"
_PARSERS: dict[int, etree.XMLParser] = {}


def _parser() -> etree.XMLParser:
    """The safe parser, made once per process."""
    pid = os.getpid()
    if pid not in _PARSERS:
        _PARSERS[pid] = safe_parser()
    return _PARSERS[pid]


_ROOT_NAME = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*<([A-Za-z_][\w.-]*)[\s>]", re.S)


def read_header(path: Path) -> etree._Element:
    """A document's root element with its teiHeader and nothing after it (parsing only the header is
    half the work of parsing the letter). Where the header cannot be cut out, the whole document."""
    data = path.read_bytes()
    end = data.find(_HEADER_END)
    root = _ROOT_NAME.match(data, 3 if data.startswith(b"\xef\xbb\xbf") else 0)
    if end > 0 and root is not None:
        try:
            return etree.fromstring(data[:end + len(_HEADER_END)] + b"</" + root.group(1) + b">", _parser())
        except etree.XMLSyntaxError:
            pass          # "</teiHeader>" in a comment, say: read it all
    return read_xml(path, data).root


@dataclass
class _Read:
    """What the exports have read from the documents: small records, shared by the contexts of one run."""

    facts: dict[Path, DocumentFacts] = field(default_factory=dict)
    newest_revision: str | None = None


@dataclass
class ExportContext:
    """What an exporter gets: the corpus, the configuration, the schema, the reporter, the built outputs, its output.

    `built` maps a built output ("html", "text") to the folder it was written to; the bag takes its
    files from there. `out` is the export folder: exporters write into it (`out.write`, `out.write_pieces`,
    or `out.new_file` + `out.record` for a file they stream themselves). `admin_email` is the OAI-PMH
    repository's contact (the project has none in its data). `rendered(letter_id, resolve)` gives a
    letter's regest and commentary as the renderer made them, links resolved by `resolve`; without
    it the exports parse and render the letter themselves.
    """

    corpus: Corpus
    config: Config
    schema: Schema
    reporter: Reporter
    built: dict[str, Path]
    out: Output
    admin_email: str | None = None
    rendered: Rendered | None = None
    left_out: tuple[Path, ...] = ()      # documents the build left out (--skip-invalid)
    #: called before the built outputs are read whole (by the bag): a build finishes them there
    #: (its search index is made while the other exports are)
    built_ready: Callable[[], object] = field(default=lambda: None, repr=False)
    #: exporter name -> the files it wrote into `out`, for the bag and for checks
    exported: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)
    #: exporter name -> the seconds it took (for `edition build --timings`)
    seconds: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    # What a build knows of the previous one, so that an export whose input did not change is kept
    # (see `edition.export.run`) and the EPUB reuses its unchanged pages; all empty outside a build.
    input_keys: dict[str, str] = field(default_factory=dict, repr=False)        # export -> key of its input now
    previous_exports: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict, repr=False)
    page_keys: dict[str, str] = field(default_factory=dict, repr=False)         # letter id -> key of its page
    #: export -> what it noted of its work for the next build to reuse (as the previous build left it, and now)
    previous_state: dict[str, object] = field(default_factory=dict, repr=False)
    state: dict[str, object] = field(default_factory=dict, init=False, repr=False)
    #: The documents (the text of a path -> the path and the SHA-256 of its bytes) and the newest
    #: revision date, as the build read them (then the exports need not look for them again); None
    #: outside a build. (By the paths' text: hashing 10,000 Paths takes 50 ms.)
    documents: dict[str, tuple[Path, str]] | None = field(default=None, repr=False)
    _read: _Read = field(default_factory=_Read, init=False, repr=False)

    def into(self, out: Output) -> ExportContext:
        """The same context writing into another output (what it has read from the documents is shared)."""
        other = ExportContext(self.corpus, self.config, self.schema, self.reporter, self.built, out,
                              self.admin_email, self.rendered, built_ready=self.built_ready)
        other._read = self._read
        other.documents = self.documents
        return other

    # ------------------------------------------------------------ documents
    def document_paths(self) -> list[Path]:
        """Every document of the edition (as `corpus.load` reads them), sorted; without the
        documents a build left out (`--skip-invalid`)."""
        if self.documents is not None:
            return sorted((path for path, _ in self.documents.values()), key=PATH_ORDER)
        left_out = {Path(os.path.abspath(p)) for p in self.left_out}
        return sorted(p for p in self.corpus.root.rglob("*.xml") if Path(os.path.abspath(p)) not in left_out)

    def facts(self, path: Path) -> DocumentFacts:
        """What the exports need from a document's header, read once (the parsed document is not kept)."""
        path = Path(path)
        found = self._read.facts.get(path)
        if found is None:
            edition = self.corpus.edition
            root = edition.root if edition is not None and edition.path == path else read_header(path)
            found = self._read.facts[path] = document_facts(root)
        return found

    # ------------------------------------------------------------ URLs
    @property
    def base_url(self) -> str:
        base = self.config.base_url
        if not base:
            raise ExportError("the exports need the edition's stable address: set base-url in the configuration",
                              self.config.source)
        return base if base.endswith("/") else base + "/"

    def letter_url(self, letter_id: str) -> str:
        return f"{self.base_url}letters/{letter_id}.html"

    def entry_url(self, entry: Entry) -> str:
        return f"{self.base_url}{entry.kind.key}.html#{entry.id}"

    def export_url(self, rel: str) -> str:
        """Where an export file is published: build/export/ at <base-url>export/."""
        return f"{self.base_url}export/{rel}"

    # ------------------------------------------------------------ dates
    def revision_dates(self, path: Path) -> list[str]:
        """The dates (YYYY-MM-DD or shorter) of a document's revision history."""
        return list(self.facts(path).revisions)

    def datestamp(self, path: Path) -> str:
        """The date of the document's latest revision, as YYYY-MM-DD (the production date if it has none)."""
        dates = [_full_date(d) for d in self.facts(path).revisions]
        return max(dates) if dates else self.produced.date().isoformat()

    @property
    def produced(self) -> dt.datetime:
        """The date of production: SOURCE_DATE_EPOCH, else the newest revision date of the edition (UTC)."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch is not None and epoch.strip():
            try:
                return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
            except (ValueError, OverflowError, OSError):
                raise ExportError(f"SOURCE_DATE_EPOCH must be a number of seconds, not {epoch!r}") from None
        if self._read.newest_revision is None:
            dates = [_full_date(d) for p in self.document_paths() for d in self.facts(p).revisions]
            if not dates:
                raise ExportError("no date of production: set SOURCE_DATE_EPOCH or date a revisionDesc/change",
                                  self.corpus.root)
            self._read.newest_revision = max(dates)
        return dt.datetime.fromisoformat(self._read.newest_revision).replace(tzinfo=dt.UTC)

    # ------------------------------------------------------------ the edition
    def edition(self) -> EditionInfo:
        root = self.corpus.edition.root if self.corpus.edition is not None else None

        def find(xpath: str) -> etree._Element | None:
            return root.find(xpath, NS) if root is not None else None

        def findall(xpath: str) -> list[etree._Element]:
            return root.findall(xpath, NS) if root is not None else []

        stmt = "tei:teiHeader/tei:fileDesc/"
        edition = find(stmt + "tei:editionStmt/tei:edition")
        licence = find(stmt + "tei:publicationStmt/tei:availability/tei:licence")
        date = find(stmt + "tei:publicationStmt/tei:date")
        year = (date.get("when") or text_of(date))[:4] if date is not None else ""
        return EditionInfo(
            title=text_of(find(stmt + "tei:titleStmt/tei:title[@type='main']")) or self.config.title,
            editors=tuple(text_of(e) for e in findall(stmt + "tei:titleStmt/tei:editor")),
            publisher=text_of(find(stmt + "tei:publicationStmt/tei:publisher")),
            year=year or str(self.produced.year),
            edition=text_of(edition),
            version=edition.get("n", "") if edition is not None else "",
            licence=text_of(licence),
            licence_url=licence.get("target", "") if licence is not None else "",
            summary=" ".join(text_of(p) for p in findall("tei:teiHeader/tei:encodingDesc/tei:projectDesc/tei:p")),
            languages=((root.get(XML_LANG) if root is not None else None) or "en",),
        )

    def principal(self, kind: str) -> list[Entry]:
        """The entries of a register named in at least half of the items, most often named first."""
        letters = len(self.corpus.letters)
        entries = [e for e in self.corpus.entries[kind].values() if letters and 2 * len(e.letters) >= letters]
        return sorted(entries, key=lambda e: (-len(e.letters), e.name.casefold(), e.id))

    def correspondents(self) -> list[Entry]:
        """Persons who send or receive at least half of the items: the edition's principal correspondents."""
        counts: dict[str, int] = {}
        for letter in self.corpus.letters:
            for party in {p.ref for p in (letter.sender, letter.recipient) if p is not None and p.ref}:
                counts[party] = counts.get(party, 0) + 1
        people = [self.corpus.entries["persons"][ref] for ref, n in counts.items()
                  if ref in self.corpus.entries["persons"] and 2 * n >= len(self.corpus.letters)]
        return sorted(people, key=lambda e: (-counts[e.id], e.name.casefold(), e.id))

    def register_elements(self, entries: list[Entry]) -> dict[str, etree._Element]:
        """The TEI elements of some register entries (for what the data model does not keep), by id.

        Each register document is parsed once for the call; the elements are the caller's to drop.
        """
        found: dict[str, etree._Element] = {}
        by_path: dict[Path, list[str]] = {}
        for entry in entries:
            by_path.setdefault(Path(entry.path), []).append(entry.id)
        for path, ids in sorted(by_path.items()):
            root = read_xml(path).root
            for ident in ids:
                hits = root.xpath("//*[@xml:id=$id]", id=ident)
                if hits:
                    found[ident] = hits[0]
        return found

    # ------------------------------------------------------------ what a catalogue record says
    def subject_places(self) -> list[Entry]:
        """States named in at least half the items: register places with no <country> of their own."""
        places = self.principal("places")
        elements = self.register_elements(places)
        return [place for place in places
                if place.id in elements and elements[place.id].find("tei:country", NS) is None]

    def keywords_used(self) -> list[tuple[str, str]]:
        """(id, label) of the edition's keywords that the items use, in the vocabulary's order."""
        used = {k for letter in self.corpus.letters for k in letter.keywords}
        return [(k, label) for k, label in self.corpus.categories().items() if k in used]

    def contents_note(self) -> str:
        """What the edition holds, in one sentence or two, from the data."""
        letters = self.corpus.letters
        first, last = letter_year_range(letters)
        span = f", {first}–{last}" if first and first != last else (f", {first}" if first else "")
        registers = ", ".join(f"{kind} ({len(entries)})" for kind, entries in self.corpus.entries.items() if entries)
        return (f"Edition of {len(letters)} items of correspondence{span}, each with metadata, an abstract, "
                f"a regest and a commentary by the editors; with registers of {registers}. "
                f"TEI-XML sources available.")


def newest_revision(root: etree._Element) -> str | None:
    """The newest date (YYYY-MM-DD) of a document's revision history, or None."""
    headers = _HEADER(root)
    return max((_full_date(d) for d in _CHANGES(headers[0])), default=None) if headers else None


def _full_date(value: str) -> str:
    """Pad a partial ISO date to YYYY-MM-DD (its first day)."""
    parts = value.split("-")
    return "-".join(parts + ["01"] * (3 - len(parts)))


def letter_year_range(letters: list[Letter]) -> tuple[str, str]:
    years = sorted(l.year for l in letters if l.year)
    return (years[0], years[-1]) if years else ("", "")


# ---------------------------------------------------------------- output
_JSON_STRING = json.encoder.encode_basestring          # what json.dumps(str, ensure_ascii=False) calls
_JSON_CONSTANTS = {None: "null", True: "true", False: "false"}


def json_text(value: object, level: int = 0) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)`, the same text, made faster for plain JSON data:
    dicts with string keys, lists and tuples, strings, numbers, booleans and None."""
    if isinstance(value, str):
        return _JSON_STRING(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "\n" + "  " * (level + 1)
        return ("{" + pad + ("," + pad).join([_JSON_STRING(k) + ": " + json_text(v, level + 1)
                                              for k, v in value.items()]) + "\n" + "  " * level + "}")
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        pad = "\n" + "  " * (level + 1)
        return "[" + pad + ("," + pad).join([json_text(v, level + 1) for v in value]) + "\n" + "  " * level + "]"
    if value is None or value is True or value is False:
        return _JSON_CONSTANTS[value]
    if type(value) is int:
        return int.__repr__(value)
    return json.dumps(value)      # floats (and anything else json knows)


XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def xml_bytes(root: etree._Element, pis: tuple[str, ...] = ()) -> bytes:
    """Serialize a document: XML declaration, processing instructions, the tree, pretty-printed, UTF-8."""
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return XML_DECLARATION + b"".join(p.encode("utf-8") + b"\n" for p in pis) + body


_SLOT = "edition-export-slot"


def write_around(fh: BinaryIO, root: etree._Element, parent: etree._Element, records: Iterable[etree._Element],
                 serialize: Callable[[etree._Element], bytes], indent: bool = False) -> None:
    """Write `serialize(root)` to `fh` with `records` streamed in one at a time as the last children of `parent`.

    The bytes are those of the whole tree (indented by `etree.indent` first, if `indent`), but only
    one record is in memory at a time: the document is serialized around a placeholder in `parent`,
    and each record on its own, laid out at its depth, without the namespace declarations it inherits.
    """
    records = iter(records)
    first = next(records, None)
    if first is None:                                  # no records: the document as it stands
        if indent:
            etree.indent(root, space="  ")
        fh.write(serialize(root))
        return
    slot = etree.Comment(_SLOT)
    parent.append(slot)
    if indent:
        etree.indent(root, space="  ")
    head, tail = serialize(root).split(b"<!--" + _SLOT.encode("ascii") + b"-->")
    parent.remove(slot)
    level = sum(1 for _ in parent.iterancestors()) + 1 if indent else None
    separator = b"\n" + b"  " * level if indent else b""
    fh.write(head)
    fh.write(child_bytes(parent, first, level))
    for record in records:
        fh.write(separator)
        fh.write(child_bytes(parent, record, level))
    fh.write(tail)


def write_streamed(out: Output, rel: str, root: etree._Element, parent: etree._Element,
                   records: Iterable[etree._Element], pis: tuple[str, ...] = ()) -> None:
    """Write the document `root` (indented, as `xml_bytes` writes it) at `rel`, with `records` streamed in
    as the children of `parent` (see `write_around`)."""
    with open(out.new_file(rel), "wb") as fh:
        write_around(fh, root, parent, records, lambda r: xml_bytes(r, pis), indent=True)
    out.record(rel)


def child_bytes(parent: etree._Element, element: etree._Element, level: int | None = None) -> bytes:
    """`element` serialized as a child of `parent` stands in the document: indented at `level` (if given),
    without its tail and without declaring the namespaces its ancestors declare."""
    if level is not None:
        etree.indent(element, space="  ", level=level)
    parent.append(element)
    probe = etree.SubElement(parent, element.tag)
    try:
        data = etree.tostring(element, encoding="UTF-8", xml_declaration=False, with_tail=False)
        empty = etree.tostring(probe, encoding="UTF-8", xml_declaration=False, with_tail=False)
    finally:
        parent.remove(probe)
        parent.remove(element)
    name, _, inherited = empty[:-2].partition(b" ")        # b'<qname xmlns...="..."/>'
    if inherited:
        start = name + b" " + inherited
        if not data.startswith(start):
            raise AssertionError(f"unexpected namespace declarations in {data[:200]!r}")
        data = name + data[len(start):]
    return data


_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)
_START_TAG_NAME = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_UTF8_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"'](?:utf-?8)[\"']", re.I)
_ANY_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=", re.I)


def root_element_bytes(data: bytes) -> bytes | None:
    """The bytes of a well-formed UTF-8 document's root element, exactly as they stand in the file.

    None where they cannot be cut out with certainty (another encoding declared, a DOCTYPE, a comment
    or processing instruction after the root element): the caller then serializes the parsed element.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if _ANY_ENCODING.match(data) and not _UTF8_DECLARATION.match(data):
        return None
    pos = 0
    while True:
        m = _PROLOG_ITEM.match(data, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    start = _START_TAG_NAME.match(data, pos)
    if start is None:
        return None
    element = data[pos:].rstrip()
    if re.search(rb"</" + re.escape(start.group(1)) + rb"\s*>\Z", element) is None:
        return None
    return element


class Archive:
    """A zip file written member by member, with fixed timestamps and permissions, in the order given.

    Members named in `stored` are not compressed (EPUB's mimetype); the others are deflated at
    zlib's default level. The archive depends only on its input: timestamps are `when` (at least
    1980, the zip epoch), no extra fields are written. Members are compressed and written by one
    background thread, in the order they were added, while the caller makes the next ones (zlib
    does not hold the interpreter lock); at most a few members wait in memory.

    A rebuild passes the `previous` archive and the keys of its members' inputs (`previous_keys`):
    `reuse(name, key)` then copies a member whose key did not change as it is stored there,
    compressed, instead of making it again. The copy is the very bytes `add` would write (the
    same data, deflated the same way, under the same header), so the archive does not depend
    on what was reused. `keys` collects the keys of this archive's members for the next build.
    """

    _DONE = None

    def __init__(self, path: Path, when: dt.datetime, stored: frozenset[str] = frozenset(),
                 previous: Path | None = None, previous_keys: dict[str, str] | None = None):
        self.stamp = max(when.replace(tzinfo=None), dt.datetime(1980, 1, 1)).timetuple()[:6]
        self.stored = stored
        self.zip = zipfile.ZipFile(path, "w")
        self.previous = _open_zip(previous) if previous_keys else None
        self.previous_keys = previous_keys or {}
        self.keys: dict[str, str] = {}
        self.copies: list[str] = []          # members to copy from the previous archive, handed over in batches
        self.queue: queue.Queue[tuple[str | tuple[str, ...], bytes | None] | None] = queue.Queue(maxsize=16)
        self.error: BaseException | None = None
        self.writer = threading.Thread(target=self._write, name="archive-writer", daemon=True)
        self.writer.start()

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.create_system = 3
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_STORED if name in self.stored else zipfile.ZIP_DEFLATED
        return info

    def _write(self) -> None:
        while (item := self.queue.get()) is not self._DONE:
            if self.error is None:
                try:
                    if item[1] is None:
                        self._copy_all(item[0])
                    else:
                        self.zip.writestr(self._info(item[0]), item[1])
                except BaseException as exc:     # handed to the caller by add() or close()
                    self.error = exc

    def _reused_info(self, old: zipfile.ZipInfo | _Member) -> tuple[zipfile.ZipInfo, bytes]:
        """The new member for a member copied from the previous archive, and its local header."""
        info = self._info(old.filename)
        info.CRC, info.compress_size, info.file_size = old.CRC, old.compress_size, old.file_size
        return info, info.FileHeader(info.file_size * 1.05 > zipfile.ZIP64_LIMIT)

    def _copy_all(self, names: tuple[str, ...]) -> None:
        """Copy these members of the previous archive: runs of members that lie one after the other
        there, under the very headers this archive gives them, are copied as one block of bytes."""
        fp, zf = self.previous.fp, self.zip
        i = 0
        while i < len(names):
            run = []
            end = None
            for name in names[i:]:
                old = self.previous.getinfo(name)
                if end is not None and old.header_offset != end:
                    break
                info, header = self._reused_info(old)
                run.append((old, info, header))
                end = old.header_offset + len(header) + old.compress_size
            start = run[0][0].header_offset
            fp.seek(start)
            block = fp.read(end - start)
            if len(block) == end - start and all(
                    block[old.header_offset - start:old.header_offset - start + len(header)] == header
                    for old, _, header in run):
                base = zf.fp.tell()
                for old, info, _ in run:
                    info.header_offset = base + old.header_offset - start
                    zf._writecheck(info)
                zf._didModify = True
                zf.fp.write(block)
                zf.start_dir = zf.fp.tell()
                for _, info, _ in run:
                    zf.filelist.append(info)
                    zf.NameToInfo[info.filename] = info
            else:                                   # headers differ (another date, another writer): one by one
                for old, _, _ in run:
                    self._copy(old.filename)
            i += len(run)

    def _copy(self, name: str) -> None:
        """Write the previous archive's member `name` without decompressing it: the header is made
        as ZipFile.writestr makes it (with this archive's timestamp), the data copied raw."""
        old = self.previous.getinfo(name)
        fp = self.previous.fp
        fp.seek(old.header_offset)
        header = fp.read(zipfile.sizeFileHeader)
        skip = int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
        fp.seek(old.header_offset + zipfile.sizeFileHeader + skip)
        data = fp.read(old.compress_size)
        info, header = self._reused_info(old)
        # what ZipFile._open_to_write and _ZipWriteFile.close do for a member written whole
        zf = self.zip
        info.header_offset = zf.fp.tell()
        zf._writecheck(info)
        zf._didModify = True
        zf.fp.write(header)
        zf.fp.write(data)
        zf.start_dir = zf.fp.tell()
        zf.filelist.append(info)
        zf.NameToInfo[name] = info

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def add(self, name: str, data: bytes) -> None:
        self._check()
        self._hand_over_copies()
        self.queue.put((name, data))

    def _hand_over_copies(self) -> None:
        if self.copies:
            self.queue.put((tuple(self.copies), None))
            self.copies = []

    def reuse(self, name: str, key: str) -> bool:
        """Note the key of member `name`'s input; copy it from the previous archive if that key did not
        change (then True: the caller does not make it)."""
        self.keys[name] = key
        if self.previous is None or self.previous_keys.get(name) != key or name not in self.previous.NameToInfo:
            return False
        self._check()
        self.copies.append(name)
        if len(self.copies) >= 1000:
            self._hand_over_copies()
        return True

    @contextmanager
    def member(self, name: str) -> Iterator[BinaryIO]:
        """A member written piece by piece (it is added whole when the block ends)."""
        buffer = io.BytesIO()
        yield buffer
        self.add(name, buffer.getvalue())

    def close(self) -> None:
        if self.writer.is_alive():
            self._hand_over_copies()
            self.queue.put(self._DONE)
            self.writer.join()
        self.zip.close()
        if self.previous is not None:
            self.previous.close()
        self._check()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Member(NamedTuple):
    """What Archive reads of a member of the previous archive (the names of zipfile.ZipInfo)."""

    filename: str
    header_offset: int
    compress_size: int
    CRC: int
    file_size: int


class _Previous:
    """The previous archive's members, read from its central directory in one piece: an archive
    Archive wrote (no comment, no ZIP64, no extra fields). zipfile makes a full ZipInfo of each entry
    in turn, which for a book of 10,000 pages takes 80 ms; this takes a sixth of that."""

    END = struct.Struct("<4s4H2LH")            # end of central directory record
    ENTRY = struct.Struct("<4s6H3L5H2L")       # central directory file header

    def __init__(self, fp: BinaryIO, members: dict[str, _Member]):
        self.fp, self.NameToInfo = fp, members

    @classmethod
    def read(cls, fp: BinaryIO) -> _Previous | None:
        """None where the archive is not one this reading knows (then zipfile reads it)."""
        size = fp.seek(0, os.SEEK_END)
        if size < cls.END.size:
            return None
        fp.seek(size - cls.END.size)
        signature, _, _, _, count, length, start, comment = cls.END.unpack(fp.read(cls.END.size))
        if signature != b"PK\x05\x06" or comment or start + length != size - cls.END.size:
            return None
        fp.seek(start)
        directory = fp.read(length)
        members: dict[str, _Member] = {}
        at, unpack = 0, cls.ENTRY.unpack_from
        for _ in range(count):
            (signature, _, _, flags, _, _, _, crc, compressed, plain, name_length, extra, comment,
             _, _, _, offset) = unpack(directory, at)
            if signature != b"PK\x01\x02" or extra or comment or 0xFFFFFFFF in (compressed, plain, offset):
                return None
            at += cls.ENTRY.size
            name = directory[at:at + name_length].decode("utf-8" if flags & 0x800 else "cp437")
            at += name_length
            members[name] = _Member(name, offset, compressed, crc, plain)
        return cls(fp, members) if at == length else None

    def getinfo(self, name: str) -> _Member:
        return self.NameToInfo[name]

    def close(self) -> None:
        self.fp.close()


def _open_zip(path: Path | None) -> _Previous | zipfile.ZipFile | None:
    if path is None:
        return None
    try:
        fp = open(path, "rb")
    except OSError:
        return None
    try:
        found = _Previous.read(fp)
    except (OSError, struct.error, UnicodeDecodeError):
        found = None
    if found is not None:
        return found
    fp.close()
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return None


def relative_href(from_file: str, to_file: str) -> str:
    """The relative URL from one POSIX path to another."""
    return posixpath.relpath(to_file, posixpath.dirname(from_file) or ".")


def host_and_path(url: str) -> tuple[str, str]:
    """'https://tei-edition.github.io/tito-kim/' -> ('tei-edition.github.io', 'tito-kim')."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.path.strip("/")


def marc_language(tag: str) -> str:
    """BCP 47 -> MARC language code, for the languages an edition is likely to use."""
    codes = {"en": "eng", "de": "ger", "fr": "fre", "it": "ita", "es": "spa", "sr": "srp", "hr": "hrv",
             "sh": "hbs", "sl": "slv", "ko": "kor", "ru": "rus", "la": "lat"}
    return codes.get(tag.split("-")[0].lower(), "und")


_ARTICLES = re.compile(r"^(The|An|A) ", re.I)


def nonfiling(title: str) -> int:
    """How many leading characters (an English article and its space) a catalogue skips in filing."""
    m = _ARTICLES.match(title)
    return len(m.group(0)) if m else 0
