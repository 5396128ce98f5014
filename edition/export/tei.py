"""`tei`: the TEI sources with their schema, and the whole edition in one teiCorpus file.

    tei/edition.xml, tei/letters/*.xml, tei/registers/*.xml
        the sources, byte for byte, except that their xml-model instructions point to the
        schema copied beside them (tei/schema/)
    tei/schema/<odd name>.odd, .rng, .sch
        the ODD and the RELAX NG grammar and Schematron rules compiled from it
    tei/corpus.xml
        <teiCorpus>: a header for the edition as a whole, then the edition document, the
        registers and the letters in order of date. It is valid against the project schema
        (teiCorpus is one of its start elements) and against tei_all.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

from lxml import etree

from ..odd import SchemaFiles
from ..tei import NS, RNG_NS, SCH_NS, TEI_NS, XML_ID, XML_LANG, tei
from ._common import ExportContext, relative_href

FOLDER = "tei"
CORPUS_FILE = f"{FOLDER}/corpus.xml"
SCHEMA_FOLDER = f"{FOLDER}/schema"

#: xml-model schematypens of the compiled schema files
_SCHEMA_TYPES = {".rng": RNG_NS, ".sch": SCH_NS}
_XML_MODEL = re.compile(rb"<\?xml-model\s.*?\?>", re.S)
_HREF = re.compile(rb"""(\bhref\s*=\s*)(["'])(.*?)\2""", re.S)
_ROOT_START = re.compile(rb"<(?:[\w.-]+:)?(?:TEI|teiCorpus)[\s>/]")


def _schema_files(ctx: ExportContext) -> dict[Path, str]:
    """The project's schema files -> their place in the export."""
    files = SchemaFiles(ctx.config.odd)
    return {p.resolve(): f"{SCHEMA_FOLDER}/{p.name}" for p in (files.odd, files.rng, files.sch) if p.exists()}


def _repoint(data: bytes, source: Path, target: str, schema: dict[Path, str]) -> bytes:
    """Rewrite the xml-model hrefs of the prolog that name a schema file to its copy in the export."""
    root = _ROOT_START.search(data)
    end = root.start() if root else len(data)

    def model(m: re.Match) -> bytes:
        def href(h: re.Match) -> bytes:
            value = h.group(3).decode("utf-8")
            resolved = (source.parent / value).resolve()
            if "://" in value or resolved not in schema:
                return h.group(0)
            new = relative_href(target, schema[resolved]).encode("utf-8")
            return h.group(1) + h.group(2) + new + h.group(2)
        return _HREF.sub(href, m.group(0))

    return _XML_MODEL.sub(model, data[:end]) + data[end:]


def _lay_out(parent: etree._Element, children: list[etree._Element], level: int) -> None:
    """Append children one per line, indented as in the sources; their own content is left as it is."""
    pad = "\n" + "  " * level
    parent.text = pad + "  "
    for i, child in enumerate(children):
        parent.append(child)
        child.tail = pad + ("  " if i < len(children) - 1 else "")


def _header(ctx: ExportContext, registers: int) -> etree._Element:
    """The teiCorpus header: the edition document's title, edition and publication statements.

    Parts copied from the edition document keep their layout (they stand at the same depth);
    their xml:ids stay with the edition document, which the corpus holds too.
    """
    info = ctx.edition()
    source_header = ctx.corpus.edition.root.find("tei:teiHeader", NS) if ctx.corpus.edition is not None else None

    def copied(xpath: str) -> etree._Element | None:
        el = source_header.find(xpath, NS) if source_header is not None else None
        if el is None:
            return None
        el = copy.deepcopy(el)
        for node in el.iter():
            if not isinstance(node.tag, str) or node.get(XML_ID) is None:
                continue
            if node.tag in (tei("editor"), tei("author"), tei("funder"), tei("publisher")) and not node.get("ref"):
                node.set("ref", "#" + node.get(XML_ID))
            del node.attrib[XML_ID]
        return el

    def made(el: etree._Element) -> etree._Element:
        etree.indent(el, space="  ", level=3)
        return el

    parts: list[etree._Element] = []
    title_stmt = copied("tei:fileDesc/tei:titleStmt")
    if title_stmt is None:
        title_stmt = etree.Element(tei("titleStmt"))
        etree.SubElement(title_stmt, tei("title"), type="main").text = info.title
        made(title_stmt)
    parts.append(title_stmt)
    edition_stmt = copied("tei:fileDesc/tei:editionStmt")
    if edition_stmt is not None:
        parts.append(edition_stmt)
    publication = copied("tei:fileDesc/tei:publicationStmt")
    if publication is None:
        publication = etree.Element(tei("publicationStmt"))
        etree.SubElement(publication, tei("publisher")).text = info.publisher or info.title
        etree.SubElement(publication, tei("idno"), type="URI").text = ctx.base_url
        made(publication)
    parts.append(publication)
    contents = (["the edition document"] if ctx.corpus.edition is not None else []) + [
        f"{registers} registers", f"{len(ctx.corpus.letters)} items of the correspondence, in order of date"]
    source_desc = etree.Element(tei("sourceDesc"))
    etree.SubElement(source_desc, tei("p")).text = (
        "The documents of the edition gathered in one file from their TEI sources: "
        + (", ".join(contents[:-1]) + " and " if len(contents) > 1 else "") + contents[-1] + ".")
    parts.append(made(source_desc))

    header = etree.Element(tei("teiHeader"))
    file_desc = etree.SubElement(header, tei("fileDesc"))
    _lay_out(file_desc, parts, 2)
    header_parts = [file_desc]
    encoding = copied("tei:encodingDesc")
    if encoding is not None:
        for vocabulary in encoding.findall("tei:classDecl", NS):   # stays with the edition document
            previous = vocabulary.getprevious()
            if previous is not None:
                previous.tail = vocabulary.tail
            encoding.remove(vocabulary)
        if len(encoding):
            header_parts.append(encoding)
    _lay_out(header, header_parts, 1)
    return header


def corpus_document(ctx: ExportContext) -> bytes:
    """The whole edition as one <teiCorpus> document."""
    root = etree.Element(tei("teiCorpus"), nsmap={None: TEI_NS})
    info = ctx.edition()
    root.set(XML_LANG, info.languages[0])
    root.text = "\n  "
    letter_paths = [l.path.resolve() for l in ctx.corpus.letters]
    edition = [ctx.corpus.edition.path.resolve()] if ctx.corpus.edition is not None else []
    placed = set(letter_paths) | set(edition)
    others = [p.resolve() for p in ctx.document_paths() if p.resolve() not in placed]   # the registers
    members = [ctx.source(p).root for p in edition + others + letter_paths]
    header = _header(ctx, len(others))
    root.append(header)
    last: etree._Element = header
    for member in members:
        last.tail = "\n  "
        last = copy.deepcopy(member)
        root.append(last)
    last.tail = "\n"
    pis = [f'<?xml-model href="{relative_href(CORPUS_FILE, target)}" type="application/xml" '
           f'schematypens="{_SCHEMA_TYPES[path.suffix]}"?>\n'
           for path, target in sorted(_schema_files(ctx).items(), key=lambda item: item[1])
           if path.suffix in _SCHEMA_TYPES]
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(pis).encode("utf-8")
    return head + etree.tostring(root, encoding="UTF-8") + b"\n"


def export_tei(ctx: ExportContext) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    schema = _schema_files(ctx)
    for path, target in schema.items():
        files[target] = path.read_bytes()
    for path in ctx.document_paths():
        target = f"{FOLDER}/{path.relative_to(ctx.corpus.root).as_posix()}"
        files[target] = _repoint(ctx.source(path).data, path, target, schema)
    files[CORPUS_FILE] = corpus_document(ctx)
    return files
