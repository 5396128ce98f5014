"""`mods`: a MODS 3.8 record of the edition as a whole, the same description as the MARC record.

titleInfo (nonSort + title), the editors (name, role edt), typeOfResource and genre,
originInfo (publisher, dateIssued, edition, issuance), language, physicalDescription (online
resource, media types, born digital, extent), abstract, note, subjects (the principal
correspondents with their authority URIs, the keywords, the states most often named, the years
the letters span), location/url, accessCondition (the licence), identifier, recordInfo (date of
production, RDA).
"""
from __future__ import annotations

from lxml import etree

from ._common import (ExportContext, authority_uris, host_and_path, letter_year_range, marc_language, nonfiling,
                      xml_bytes)

FILE = "edition.mods.xml"
MODS_NS = "http://www.loc.gov/mods/v3"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{MODS_NS}}}{name}", **attrs)
    if text is not None:
        el.text = text
    return el


def record(ctx: ExportContext) -> etree._Element:
    info = ctx.edition()
    letters = ctx.corpus.letters
    mods = etree.Element(f"{{{MODS_NS}}}mods", nsmap={None: MODS_NS, "xlink": XLINK_NS, "xsi": XSI_NS},
                         version="3.8")
    mods.set(f"{{{XSI_NS}}}schemaLocation", f"{MODS_NS} http://www.loc.gov/standards/mods/v3/mods-3-8.xsd")
    title = _el(mods, "titleInfo")
    skip = nonfiling(info.title)
    if skip:
        _el(title, "nonSort", info.title[:skip])
    _el(title, "title", info.title[skip:])
    for editor in info.editors:
        name = _el(mods, "name", type="corporate")
        _el(name, "namePart", editor)
        role = _el(name, "role")
        _el(role, "roleTerm", "editor", type="text", authority="marcrelator")
        _el(role, "roleTerm", "edt", type="code", authority="marcrelator")
    _el(mods, "typeOfResource", "text")
    _el(mods, "genre", "text", authority="rdacontent")
    origin = _el(mods, "originInfo", eventType="publication")
    if info.publisher:
        _el(origin, "publisher", info.publisher)
    _el(origin, "dateIssued", info.year, encoding="w3cdtf", keyDate="yes")
    if info.edition:
        _el(origin, "edition", info.edition + (f", version {info.version}" if info.version else ""))
    _el(origin, "issuance", "monographic")
    for tag in info.languages:
        language = _el(mods, "language")
        _el(language, "languageTerm", marc_language(tag), type="code", authority="iso639-2b")
    physical = _el(mods, "physicalDescription")
    _el(physical, "form", "online resource", authority="rdacarrier")
    _el(physical, "internetMediaType", "text/html")
    _el(physical, "internetMediaType", "application/tei+xml")
    _el(physical, "extent", f"1 online resource ({len(letters)} items)")
    _el(physical, "digitalOrigin", "born digital")
    if info.summary:
        _el(mods, "abstract", info.summary)
    _el(mods, "note", ctx.contents_note())
    for person in ctx.correspondents():
        subject = _el(mods, "subject")
        lcnaf = authority_uris(person, ("lcnaf",))
        other = authority_uris(person, ("wikidata", "viaf"))
        attrs = {"type": "personal"}
        if lcnaf:
            attrs.update(authority="naf", authorityURI="http://id.loc.gov/authorities/names", valueURI=lcnaf[0])
        elif other:
            attrs.update(valueURI=other[0])
        name = _el(subject, "name", **attrs)
        _el(name, "namePart", person.name)
        dates = "-".join(v[:4] for v in (person.dates.get("birth"), person.dates.get("death")) if v)
        if dates:
            _el(name, "namePart", dates, type="date")
        _el(subject, "genre", "Correspondence")
    for _, label in ctx.keywords_used():
        _el(_el(mods, "subject"), "topic", label)
    for place in ctx.subject_places():
        uris = authority_uris(place, ("wikidata", "geonames"))
        _el(_el(mods, "subject"), "geographic", place.name, **({"valueURI": uris[0]} if uris else {}))
    first, last = letter_year_range(letters)
    if first:
        temporal = _el(mods, "subject")
        _el(temporal, "temporal", first, encoding="w3cdtf", point="start")
        _el(temporal, "temporal", last, encoding="w3cdtf", point="end")
    location = _el(mods, "location")
    _el(location, "url", ctx.base_url, usage="primary display", access="object in context")
    if info.licence or info.licence_url:
        condition = _el(mods, "accessCondition", info.licence or info.licence_url, type="use and reproduction")
        if info.licence_url:
            condition.set(f"{{{XLINK_NS}}}href", info.licence_url)
    _el(mods, "identifier", ctx.base_url, type="uri")
    record_info = _el(mods, "recordInfo")
    _el(record_info, "descriptionStandard", "rda")
    _el(record_info, "recordCreationDate", ctx.produced.date().isoformat(), encoding="w3cdtf")
    _el(record_info, "recordIdentifier", host_and_path(ctx.base_url)[1].replace("/", "-") or "edition")
    cataloguing = _el(record_info, "languageOfCataloging")
    _el(cataloguing, "languageTerm", "eng", type="code", authority="iso639-2b")
    etree.indent(mods, space="  ")
    return mods


def export_mods(ctx: ExportContext) -> None:
    ctx.out.write(FILE, xml_bytes(record(ctx)))
