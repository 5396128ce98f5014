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
"""
from __future__ import annotations

import itertools
import uuid

from lxml import etree

from ..tei import NS, TEI_NS, XML_ID, tei
from ._common import ExportContext, authority_uris, text_of, xml_bytes

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


def _name(ctx: ExportContext, el: etree._Element) -> etree._Element:
    """A persName/orgName/placeName for CMIF: the register's name, authority URIs, certainty."""
    kind = _NAMES[etree.QName(el).localname]
    ref = (el.get("ref") or "").lstrip("#")
    entry = ctx.corpus.entries[kind].get(ref)
    out = etree.Element(el.tag)
    out.text = entry.name if entry is not None and entry.name else text_of(el)
    uris = authority_uris(entry, PLACE_AUTHORITIES if kind == "places" else PERSON_AUTHORITIES) if entry else []
    if uris:
        out.set("ref", " ".join(uris))
    if el.get("cert") in ("low", "medium"):
        out.set("cert", "low")
    return out


def _date(dates: list[etree._Element]) -> etree._Element | None:
    """One CMIF date from the dates of a correspAction: a single date, or the range they span."""
    values = [(d.get("when"), d.get("notBefore"), d.get("notAfter"), d.get("from"), d.get("to")) for d in dates]
    values = [v for v in values if any(v)]
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


def _action(ctx: ExportContext, action: etree._Element | None, kind: str) -> etree._Element:
    out = etree.Element(tei("correspAction"), type=kind)
    if action is not None:
        for el in action.iterfind("tei:persName", NS):
            out.append(_name(ctx, el))
        for el in action.iterfind("tei:orgName", NS):
            out.append(_name(ctx, el))
        for el in action.iterfind("tei:placeName", NS):
            out.append(_name(ctx, el))
        date = _date(action.findall("tei:date", NS))
        if date is not None:
            out.append(date)
    return out


def export_cmif(ctx: ExportContext) -> dict[str, bytes]:
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
    for letter in ctx.corpus.letters:
        corresp = ctx.source(letter.path).root.find("tei:teiHeader/tei:profileDesc/tei:correspDesc", NS)
        desc = etree.SubElement(profile, tei("correspDesc"), ref=ctx.letter_url(letter.id), source=f"#{source_id}")
        for kind in ("sent", "received"):
            desc.append(_action(ctx, corresp.find(f"tei:correspAction[@type='{kind}']", NS), kind))
    etree.SubElement(etree.SubElement(etree.SubElement(root, tei("text")), tei("body")), tei("p"))
    etree.indent(root, space="  ")
    pi = f'<?xml-model href="{SCHEMA_URL}" type="application/xml" schematypens="http://relaxng.org/ns/structure/1.0"?>'
    return {FILE: xml_bytes(root, (pi,))}

