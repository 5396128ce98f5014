"""`oai-pmh`: an OAI-PMH Static Repository with one Dublin Core (oai_dc) record per item.

The file follows the OAI's "Specification for an OAI Static Repository": Identify (with an
oai-identifier description), ListMetadataFormats (oai_dc) and ListRecords, granularity
YYYY-MM-DD, no deleted records, no sets. Identifiers are `oai:<host>:<path>/<item id>` after the
edition's address (oai:tei-edition.github.io:tito-kim/tk-001) and never change; datestamps are the
date of each document's latest revisionDesc/change.

A static repository is harvested through one Static Repository Gateway, which answers for it
under the base URL <gateway URL>/<this file's URL without the scheme>. Until a gateway is chosen,
oai:baseURL is the file's own address (<base-url>export/oai-pmh.xml). OAI-PMH requires an
adminEmail: it is ExportContext.admin_email; without one the element is left out and a warning
(export.oai-pmh.admin-email) says so.

The file is written one record at a time, from the corpus and what each letter's header says (ctx.facts).
"""
from __future__ import annotations

from lxml import etree

from ..corpus import Letter
from ._common import EditionInfo, ExportContext, host_and_path, write_streamed

FILE = "oai-pmh.xml"
SR_NS = "http://www.openarchives.org/OAI/2.0/static-repository"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_LOCATION = f"{{{XSI_NS}}}schemaLocation"


def oai_identifier(ctx: ExportContext, local: str) -> str:
    host, path = host_and_path(ctx.base_url)
    return f"oai:{host}:{path + '/' if path else ''}{local}"


def dc_date(letter: Letter) -> str:
    """The item's date in W3CDTF, or an ISO 8601 interval for a range."""
    if not letter.dates:
        return ""
    first = letter.dates[0]
    if first.when:
        return first.when
    return "/".join(v for v in (first.not_before, first.not_after) if v)


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{name}", **attrs)
    if text is not None:
        el.text = text
    return el


def _dc(ctx: ExportContext, letter: Letter, info: EditionInfo, categories: dict[str, str]) -> etree._Element:
    facts = ctx.facts(letter.path)
    dc = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    dc.set(XSI_LOCATION, f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")

    def name(party) -> str:
        entry = ctx.corpus.entry(party.ref) if party.ref else None
        return entry.name if entry is not None and entry.name else party.name

    _sub(dc, DC_NS, "title", letter.subtitle or letter.title)
    if letter.sender is not None:
        _sub(dc, DC_NS, "creator", name(letter.sender))
    if letter.recipient is not None:
        _sub(dc, DC_NS, "contributor", name(letter.recipient))
    for editor in info.editors:
        _sub(dc, DC_NS, "contributor", editor)
    for keyword in letter.keywords:
        _sub(dc, DC_NS, "subject", categories.get(keyword, keyword))
    if letter.abstract:
        _sub(dc, DC_NS, "description", letter.abstract)
    if info.publisher:
        _sub(dc, DC_NS, "publisher", info.publisher)
    if dc_date(letter):
        _sub(dc, DC_NS, "date", dc_date(letter))
    _sub(dc, DC_NS, "type", "Text")
    kind = categories.get(letter.categories.get("kinds", ""))
    if kind:
        _sub(dc, DC_NS, "type", kind)
    _sub(dc, DC_NS, "format", "text/html")
    _sub(dc, DC_NS, "identifier", ctx.letter_url(letter.id))
    for language in dict.fromkeys(facts.languages or info.languages):
        _sub(dc, DC_NS, "language", language)
    _sub(dc, DC_NS, "relation", ctx.base_url)
    # the translation's pages, where they were seen (an inferred address is marked uncertain in the TEI)
    for _, target, cert in letter.translations:
        if target.startswith(("https://", "http://")) and cert not in ("low", "medium"):
            _sub(dc, DC_NS, "relation", target)
    if letter.place is not None:
        _sub(dc, DC_NS, "coverage", name(letter.place))
    rights = facts.licence or info.licence
    url = facts.licence_url or info.licence_url
    if rights or url:
        _sub(dc, DC_NS, "rights", f"{rights} ({url})" if rights and url else rights or url)
    return dc


def _record(ctx: ExportContext, letter: Letter, datestamp: str, info: EditionInfo,
            categories: dict[str, str]) -> etree._Element:
    record = etree.Element(f"{{{OAI_NS}}}record")
    head = _sub(record, OAI_NS, "header")
    _sub(head, OAI_NS, "identifier", oai_identifier(ctx, letter.id))
    _sub(head, OAI_NS, "datestamp", datestamp)
    _sub(record, OAI_NS, "metadata").append(_dc(ctx, letter, info, categories))
    return record


def export_oai_pmh(ctx: ExportContext) -> None:
    info = ctx.edition()
    categories = ctx.corpus.categories()
    datestamps = {l.id: ctx.datestamp(l.path) for l in ctx.corpus.letters}
    root = etree.Element(f"{{{SR_NS}}}Repository", nsmap={None: SR_NS, "oai": OAI_NS, "xsi": XSI_NS})
    root.set(XSI_LOCATION, f"{SR_NS} http://www.openarchives.org/OAI/2.0/static-repository.xsd")
    identify = _sub(root, SR_NS, "Identify")
    _sub(identify, OAI_NS, "repositoryName", info.title)
    _sub(identify, OAI_NS, "baseURL", ctx.export_url(FILE))
    _sub(identify, OAI_NS, "protocolVersion", "2.0")
    if ctx.admin_email:
        _sub(identify, OAI_NS, "adminEmail", ctx.admin_email)
    else:
        ctx.reporter.warning("export.oai-pmh.admin-email",
                             "the OAI-PMH repository has no adminEmail, which harvesters require",
                             ctx.config.source or ctx.config.root,
                             hint='set contact = "…@…" in [tool.edition] (pyproject.toml) or [edition] (edition.toml)')
    _sub(identify, OAI_NS, "earliestDatestamp", min(datestamps.values(), default=ctx.produced.date().isoformat()))
    _sub(identify, OAI_NS, "deletedRecord", "no")
    _sub(identify, OAI_NS, "granularity", "YYYY-MM-DD")
    description = _sub(identify, OAI_NS, "description")
    ident = etree.SubElement(description, f"{{{ID_NS}}}oai-identifier", nsmap={None: ID_NS})
    ident.set(XSI_LOCATION, f"{ID_NS} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd")
    _sub(ident, ID_NS, "scheme", "oai")
    _sub(ident, ID_NS, "repositoryIdentifier", host_and_path(ctx.base_url)[0])
    _sub(ident, ID_NS, "delimiter", ":")
    sample = ctx.corpus.letters[0].id if ctx.corpus.letters else "item"
    _sub(ident, ID_NS, "sampleIdentifier", oai_identifier(ctx, sample))

    formats = _sub(root, SR_NS, "ListMetadataFormats")
    fmt = _sub(formats, OAI_NS, "metadataFormat")
    _sub(fmt, OAI_NS, "metadataPrefix", "oai_dc")
    _sub(fmt, OAI_NS, "schema", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    _sub(fmt, OAI_NS, "metadataNamespace", OAI_DC_NS)

    records = _sub(root, SR_NS, "ListRecords", metadataPrefix="oai_dc")
    write_streamed(ctx.out, FILE, root, records,
                   (_record(ctx, l, datestamps[l.id], info, categories) for l in ctx.corpus.letters))
