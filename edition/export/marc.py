"""`marc`: a MARCXML (MARC 21 slim) record of the edition as a whole, as a cataloguer makes it.

The record describes the online edition (language material, monograph, RDA, ISBD punctuation):

    leader, 001 control number, 005 date of production, 006/007 online resource, 008 (books)
    040 $b eng $e rda       041 language       245 title / editors       250 edition
    264 _1 publication      300 extent         336/337/338 content, media, carrier
    500 general note (what the edition holds)  506 open access     520 summary
    540 licence             546 language note
    600 00 the principal correspondents (persons who send or receive at least half the items), with
           dates, $v Correspondence, $0 LCNAF and $1 Wikidata/VIAF URIs where verified
    650 _4 the edition's keywords used by the items
    651 _4 places that are states in the register (no <country>) named in at least half the items
    710 2_ the editors (a team) and 856 40 the edition's address

Only the data say what is in it; nothing is guessed (names stay in the register's direct order).
The leader's length and base address are computed as for an ISO 2709 record.
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ._common import ExportContext, authority_uris, host_and_path, marc_language, nonfiling, xml_bytes

FILE = "edition.marc.xml"
MARC_NS = "http://www.loc.gov/MARC21/slim"


@dataclass(frozen=True)
class Field:
    tag: str
    value: str = ""                                   # control fields
    indicators: str = "  "
    subfields: tuple[tuple[str, str], ...] = ()       # data fields


def _data(tag: str, indicators: str, *subfields: tuple[str, str]) -> Field:
    return Field(tag, indicators=indicators, subfields=tuple((c, v) for c, v in subfields if v))


def _end(text: str, mark: str = ".") -> str:
    """ISBD: close a field with a full stop unless it already ends with punctuation."""
    return text if not text or text[-1] in ".?!)]" else text + mark


def fields(ctx: ExportContext) -> list[Field]:
    info = ctx.edition()
    produced = ctx.produced
    letters = ctx.corpus.letters
    _, path = host_and_path(ctx.base_url)
    out: list[Field] = [
        Field("001", path.replace("/", "-") or "edition"),
        Field("005", produced.strftime("%Y%m%d%H%M%S.0")),
        Field("006", "m     o  d        "),
        Field("007", "cr |||||||||||"),
        Field("008", _008(produced.strftime("%y%m%d"), info.year, marc_language(info.languages[0]))),
        _data("040", "  ", ("b", "eng"), ("e", "rda")),
        _data("041", "0 ", *(("a", marc_language(l)) for l in info.languages)),
    ]
    editors = "; ".join(info.editors)
    out.append(_data("245", f"0{nonfiling(info.title)}",
                     ("a", info.title + (" /" if editors else ".")),
                     ("c", _end(f"edited by {editors}") if editors else "")))
    if info.edition:
        version = f", version {info.version}" if info.version else ""
        out.append(_data("250", "  ", ("a", _end(info.edition + version))))
    out.append(_data("264", " 1", ("a", "[Place of publication not identified] :"),
                     ("b", (info.publisher or info.title) + ","), ("c", _end(info.year))))
    out.append(_data("300", "  ", ("a", f"1 online resource ({len(letters)} items)")))
    out += [
        _data("336", "  ", ("a", "text"), ("b", "txt"), ("2", "rdacontent")),
        _data("337", "  ", ("a", "computer"), ("b", "c"), ("2", "rdamedia")),
        _data("338", "  ", ("a", "online resource"), ("b", "cr"), ("2", "rdacarrier")),
    ]
    out.append(_data("500", "  ", ("a", ctx.contents_note())))
    out.append(_data("506", "0 ", ("a", "Open access.")))
    if info.summary:
        out.append(_data("520", "  ", ("a", _end(info.summary))))
    if info.licence or info.licence_url:
        out.append(_data("540", "  ", ("a", _end(info.licence)), ("u", info.licence_url)))
    out.append(_data("546", "  ", ("a", "Editorial text in English.") if info.languages == ("en",) else
                     ("a", f"Editorial text in {', '.join(info.languages)}.")))
    for person in ctx.correspondents():
        dates = "-".join(v[:4] for v in (person.dates.get("birth"), person.dates.get("death")) if v)
        out.append(_data("600", "00", ("a", person.name + ("," if dates else "")), ("d", dates),
                         ("v", "Correspondence."),
                         *(("0", uri) for uri in authority_uris(person, ("lcnaf",))),
                         *(("1", uri) for uri in authority_uris(person, ("wikidata", "viaf")))))
    for _, label in ctx.keywords_used():
        out.append(_data("650", " 4", ("a", _end(label))))
    for place in ctx.subject_places():
        out.append(_data("651", " 4", ("a", _end(place.name)),
                         *(("1", uri) for uri in authority_uris(place, ("wikidata", "geonames")))))
    for editor in info.editors:
        name = editor[4:] if editor.startswith("The ") else editor
        out.append(_data("710", "2 ", ("a", name + ","), ("e", "editor.")))
    out.append(_data("856", "40", ("u", ctx.base_url), ("z", "Online edition")))
    return out


def _008(entered: str, year: str, language: str) -> str:
    """008 for books: single date of publication, no place, online, index, literary form 'letters'."""
    year = (year + "    ")[:4]
    value = (entered + "s" + year + "    " + "xx " + "    " + " " + "o" + "    " + " " + "0" + "0" + "1" + " "
             + "i" + " " + language + " " + "d")
    assert len(value) == 40, value
    return value


def leader(record_fields: list[Field]) -> str:
    """The leader, with record length and base address as in ISO 2709."""
    lengths = []
    for f in record_fields:
        if f.tag < "010":
            data = f.value.encode("utf-8")
        else:
            data = f.indicators.encode("utf-8") + b"".join(b"\x1f" + c.encode() + v.encode("utf-8")
                                                           for c, v in f.subfields)
        lengths.append(len(data) + 1)                       # field terminator
    base = 24 + 12 * len(record_fields) + 1                 # directory and its terminator
    length = base + sum(lengths) + 1                        # record terminator
    return f"{length:05d}nam a22{base:05d} i 4500"


def record(ctx: ExportContext) -> etree._Element:
    record_fields = fields(ctx)
    root = etree.Element(f"{{{MARC_NS}}}collection", nsmap={"marc": MARC_NS})
    rec = etree.SubElement(root, f"{{{MARC_NS}}}record")
    etree.SubElement(rec, f"{{{MARC_NS}}}leader").text = leader(record_fields)
    for f in record_fields:
        if f.tag < "010":
            etree.SubElement(rec, f"{{{MARC_NS}}}controlfield", tag=f.tag).text = f.value
            continue
        df = etree.SubElement(rec, f"{{{MARC_NS}}}datafield", tag=f.tag, ind1=f.indicators[0], ind2=f.indicators[1])
        for code, value in f.subfields:
            etree.SubElement(df, f"{{{MARC_NS}}}subfield", code=code).text = value
    etree.indent(root, space="  ")
    return root


def export_marc(ctx: ExportContext) -> None:
    ctx.out.write(FILE, xml_bytes(record(ctx)))
