"""`cmif`: the Correspondence Metadata Interchange Format, for correspSearch.

One correspDesc per item. Its @ref is the item's page in the HTML edition and its @source points
to the one bibl of the file, which describes the edition; that bibl's xml:id is a UUID (version 5,
from the edition's address, so it never changes) that begins with a letter, as an xml:id must.

Senders and recipients carry the URIs of their verified authority records (GND, VIAF, LCNAF,
Wikidata, in that order, space-separated); places carry their GeoNames URI where the register has
one. Dates use CMIF's attributes: @when for one date; @notBefore/@notAfter for a range, and for an
item whose sources disagree (the range spans the dates given). CMIF's @cert has a single value,
"low", meaning "uncertain": a person or place recorded with medium or low certainty gets it; dates
get none (CMIF's own example fails its schema there).

The file is written one correspDesc at a time, from what each letter's header says (ctx.facts).
"""
from __future__ import annotations

import itertools
import uuid

from lxml import etree

from ..corpus import Letter
from ..tei import TEI_NS, XML_ID, tei
from ._common import ActionFacts, ExportContext, NameFacts, authority_uris, write_streamed

FILE = "cmif.xml"
SCHEMA_URL = "https://raw.githubusercontent.com/TEI-Correspondence-SIG/CMIF/master/schema/cmi-customization.rng"
PERSON_AUTHORITIES = ("gnd", "viaf", "lcnaf", "wikidata")
PLACE_AUTHORITIES = ("geonames",)
_NAMES = {"persName": "persons", "orgName": "organisations", "placeName": "places"}


def bibl_id(base_url: str) -> str:
    """A stable UUID for the edition's bibl: the first of uuid5(base), uuid5(base#1)... to start with a letter."""
    for n in itertools.count():
        value = str(uuid.uuid5(uuid.NAMESPACE_URL, base_url + (f"#{n}" if n else "")))
        if value[0].isalpha():
            return value
    raise AssertionError("unreachable")


def _name(ctx: ExportContext, name: NameFacts) -> etree._Element:
    """A persName/orgName/placeName for CMIF: the register's name, authority URIs, certainty."""
    kind = _NAMES[name.element]
    entry = ctx.corpus.entries[kind].get(name.ref.lstrip("#"))
    out = etree.Element(tei(name.element))
    out.text = entry.name if entry is not None and entry.name else name.text
    uris = authority_uris(entry, PLACE_AUTHORITIES if kind == "places" else PERSON_AUTHORITIES) if entry else []
    if uris:
        out.set("ref", " ".join(uris))
    if name.cert in ("low", "medium"):
        out.set("cert", "low")
    return out


def _date(dates: tuple[tuple[str | None, ...], ...]) -> etree._Element | None:
    """One CMIF date from the dates of a correspAction: a single date, or the range they span."""
    values = [v for v in dates if any(v)]
    if not values:
        return None
    out = etree.Element(tei("date"))
    if len(values) == 1:
        for att, value in zip(("when", "notBefore", "notAfter", "from", "to"), values[0], strict=True):
            if value:
                out.set(att, value)
        return out
    starts = sorted(v for when, nb, _, frm, _ in values for v in (when, nb, frm) if v)
    ends = sorted(v for when, _, na, _, to in values for v in (when, na, to) if v)
    out.set("notBefore", starts[0])
    out.set("notAfter", ends[-1])
    return out


def _action(ctx: ExportContext, action: ActionFacts | None, kind: str) -> etree._Element:
    out = etree.Element(tei("correspAction"), type=kind)
    if action is not None:
        for name in action.names:
            out.append(_name(ctx, name))
        date = _date(action.dates)
        if date is not None:
            out.append(date)
    return out


def _corresp_desc(ctx: ExportContext, letter: Letter, source_id: str) -> etree._Element:
    actions = ctx.facts(letter.path).actions
    desc = etree.Element(tei("correspDesc"), ref=ctx.letter_url(letter.id), source=f"#{source_id}")
    for kind in ("sent", "received"):
        desc.append(_action(ctx, actions.get(kind), kind))
    return desc


def export_cmif(ctx: ExportContext) -> None:
    info = ctx.edition()
    source_id = bibl_id(ctx.base_url)
    root = etree.Element(tei("TEI"), nsmap={None: TEI_NS})
    header = etree.SubElement(root, tei("teiHeader"))
    file_desc = etree.SubElement(header, tei("fileDesc"))
    title_stmt = etree.SubElement(file_desc, tei("titleStmt"))
    etree.SubElement(title_stmt, tei("title")).text = info.title
    for editor in info.editors or (info.publisher or info.title,):
        etree.SubElement(title_stmt, tei("editor")).text = editor
    publication = etree.SubElement(file_desc, tei("publicationStmt"))
    publisher = etree.SubElement(publication, tei("publisher"))
    etree.SubElement(publisher, tei("ref"), target=ctx.base_url).text = info.publisher or info.title
    etree.SubElement(publication, tei("idno"), type="url").text = ctx.export_url(FILE)
    etree.SubElement(publication, tei("date"), when=ctx.produced.strftime("%Y-%m-%dT%H:%M:%SZ"))
    availability = etree.SubElement(publication, tei("availability"))
    licence = etree.SubElement(availability, tei("licence"),
                               target=info.licence_url or "https://creativecommons.org/licenses/by/4.0/")
    licence.text = info.licence or "Creative Commons Attribution 4.0 International (CC BY 4.0)"
    bibl = etree.SubElement(etree.SubElement(file_desc, tei("sourceDesc")), tei("bibl"), type="online")
    bibl.set(XML_ID, source_id)
    version = f" (version {info.version})" if info.version else ""
    bibl.text = f"{info.title}. {info.publisher + ', ' if info.publisher else ''}{info.year}{version}. "
    etree.SubElement(bibl, tei("ref"), target=ctx.base_url).text = ctx.base_url
    profile = etree.SubElement(header, tei("profileDesc"))
    etree.SubElement(etree.SubElement(etree.SubElement(root, tei("text")), tei("body")), tei("p"))
    pi = f'<?xml-model href="{SCHEMA_URL}" type="application/xml" schematypens="http://relaxng.org/ns/structure/1.0"?>'
    write_streamed(ctx.out, FILE, root, profile, (_corresp_desc(ctx, l, source_id) for l in ctx.corpus.letters),
                   (pi,))
