"""What every exporter shares: the context, the edition's own metadata, dates, URLs and output helpers.

Nothing here reads the clock. A date of production is SOURCE_DATE_EPOCH when it is set, else the
newest `revisionDesc/change/@when` of the edition; record datestamps come from each document's
own revision history.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from ..config import Config
from ..corpus import Corpus, Entry, Letter
from ..diagnostics import EditionError, Reporter
from ..odd import Schema
from ..tei import NS, XML_ID, XML_LANG, Source, read_xml, tei


class ExportError(EditionError):
    """An export cannot be made at all (no base URL, a malformed SOURCE_DATE_EPOCH)."""


#: Authority id type (the registers' idno/@type) -> the URI of the thing, as linked-data consumers,
#: correspSearch and library catalogues expect it. Order = preference where one must be chosen.
AUTHORITY_URIS: dict[str, str] = {
    "gnd": "http://d-nb.info/gnd/{}",
    "viaf": "http://viaf.org/viaf/{}",
    "lcnaf": "http://id.loc.gov/authorities/names/{}",
    "wikidata": "http://www.wikidata.org/entity/{}",
    "isni": "https://isni.org/isni/{}",
    "geonames": "http://www.geonames.org/{}",
}


def authority_uris(entry: Entry, types: tuple[str, ...] = tuple(AUTHORITY_URIS)) -> list[str]:
    """The entry's verified authority URIs of the given types, in the order of `types`."""
    return [AUTHORITY_URIS[t].format(entry.idnos[t]) for t in types if entry.idnos.get(t)]


def text_of(el: etree._Element | None) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


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


@dataclass
class ExportContext:
    """What an exporter gets: the corpus, the configuration, the schema, the reporter, the built outputs.

    `outputs` holds the outputs already built ({"html": {path: bytes}, "text": {...}});
    `exports` collects the results of the exporters that have run, for the bag.
    `admin_email` is the OAI-PMH repository's contact (the project has none in its data).
    """

    corpus: Corpus
    config: Config
    schema: Schema
    reporter: Reporter
    outputs: dict[str, dict[str, bytes]] = field(default_factory=dict)
    admin_email: str | None = None
    exports: dict[str, dict[str, bytes]] = field(default_factory=dict)
    _sources: dict[Path, Source] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ documents
    def source(self, path: Path) -> Source:
        """A document of the edition, parsed once."""
        path = Path(path)
        if path not in self._sources:
            self._sources[path] = read_xml(path)
        return self._sources[path]

    def document_paths(self) -> list[Path]:
        """Every document of the edition (as `corpus.load` reads them), sorted."""
        return sorted(self.corpus.root.rglob("*.xml"))

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
        root = self.source(path).root
        changes = root.iterfind("tei:teiHeader/tei:revisionDesc//tei:change[@when]", NS)
        return sorted(c.get("when")[:10] for c in changes)

    def datestamp(self, path: Path) -> str:
        """The date of the document's latest revision, as YYYY-MM-DD (the production date if it has none)."""
        dates = [_full_date(d) for d in self.revision_dates(path)]
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
        dates = [_full_date(d) for p in self.document_paths() for d in self.revision_dates(p)]
        if not dates:
            raise ExportError("no date of production: set SOURCE_DATE_EPOCH or date a revisionDesc/change",
                              self.corpus.root)
        return dt.datetime.fromisoformat(max(dates)).replace(tzinfo=dt.UTC)

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

    def categories(self) -> dict[str, str]:
        """Category id -> its description, from the edition document's taxonomies."""
        if self.corpus.edition is None:
            return {}
        return {c.get(XML_ID): text_of(c.find("tei:catDesc", NS))
                for c in self.corpus.edition.root.iter(tei("category"))}

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

    def register_element(self, entry: Entry) -> etree._Element | None:
        """The TEI element of a register entry (for what the data model does not keep)."""
        found = self.source(entry.path).root.xpath("//*[@xml:id=$id]", id=entry.id)
        return found[0] if found else None

    # ------------------------------------------------------------ what a catalogue record says
    def subject_places(self) -> list[Entry]:
        """States named in at least half the items: register places with no <country> of their own."""
        out = []
        for place in self.principal("places"):
            element = self.register_element(place)
            if element is not None and element.find("tei:country", NS) is None:
                out.append(place)
        return out

    def keywords_used(self) -> list[tuple[str, str]]:
        """(id, label) of the edition's keywords that the items use, in the vocabulary's order."""
        used = {k for letter in self.corpus.letters for k in letter.keywords}
        return [(k, label) for k, label in self.categories().items() if k in used]

    def contents_note(self) -> str:
        """What the edition holds, in one sentence or two, from the data."""
        letters = self.corpus.letters
        first, last = letter_year_range(letters)
        span = f", {first}–{last}" if first and first != last else (f", {first}" if first else "")
        registers = ", ".join(f"{kind} ({len(entries)})" for kind, entries in self.corpus.entries.items() if entries)
        return (f"Edition of {len(letters)} items of correspondence{span}, each with metadata, an abstract, "
                f"a regest and a commentary by the editors; with registers of {registers}. "
                f"TEI-XML sources available.")


def _full_date(value: str) -> str:
    """Pad a partial ISO date to YYYY-MM-DD (its first day)."""
    parts = value.split("-")
    return "-".join(parts + ["01"] * (3 - len(parts)))


def letter_year_range(letters: list[Letter]) -> tuple[str, str]:
    years = sorted(l.year for l in letters if l.year)
    return (years[0], years[-1]) if years else ("", "")


# ---------------------------------------------------------------- output
def xml_bytes(root: etree._Element, pis: tuple[str, ...] = ()) -> bytes:
    """Serialize a document: XML declaration, processing instructions, the tree, pretty-printed, UTF-8."""
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n' + b"".join(p.encode("utf-8") + b"\n" for p in pis)
    return head + body


def zip_bytes(members: list[tuple[str, bytes]], when: dt.datetime, stored: frozenset[str] = frozenset()) -> bytes:
    """A zip archive with the members in the given order, fixed timestamps and permissions.

    Members named in `stored` are not compressed (EPUB's mimetype). The archive depends only on
    its input: timestamps are `when` (at least 1980, the zip epoch), no extra fields are written.
    """
    stamp = max(when.replace(tzinfo=None), dt.datetime(1980, 1, 1)).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            if name in stored:
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, data)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


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
