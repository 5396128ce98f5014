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
from ..tei import NS, TEI_NS, XML_ID, XML_LANG, tei
from ._common import ExportContext, relative_href

FOLDER = "tei"
CORPUS_FILE = f"{FOLDER}/corpus.xml"
SCHEMA_FOLDER = f"{FOLDER}/schema"

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


def _header(ctx: ExportContext) -> etree._Element:
    """The teiCorpus header: the edition document's title, edition and publication statements."""
    info = ctx.edition()
    header = etree.Element(tei("teiHeader"))
    file_desc = etree.SubElement(header, tei("fileDesc"))
    source_header = ctx.corpus.edition.root.find("tei:teiHeader", NS) if ctx.corpus.edition is not None else None

    def copied(xpath: str) -> etree._Element | None:
        el = source_header.find(xpath, NS) if source_header is not None else None
        if el is None:
            return None
        el = copy.deepcopy(el)
        el.tail = None
        for node in el.iter():
            if not isinstance(node.tag, str) or node.get(XML_ID) is None:
                continue
            # the ids stay with the edition document inside the corpus; here they become pointers
            if node.tag in (tei("editor"), tei("author"), tei("funder"), tei("publisher")) and not node.get("ref"):
                node.set("ref", "#" + node.get(XML_ID))
            del node.attrib[XML_ID]
        return el

    title_stmt = copied("tei:fileDesc/tei:titleStmt")
    if title_stmt is None:
        title_stmt = etree.Element(tei("titleStmt"))
        etree.SubElement(title_stmt, tei("title"), type="main").text = info.title
    file_desc.append(title_stmt)
    for part in ("editionStmt", "publicationStmt"):
        el = copied(f"tei:fileDesc/tei:{part}")
        if el is not None:
            file_desc.append(el)
        elif part == "publicationStmt":
            statement = etree.SubElement(file_desc, tei("publicationStmt"))
            etree.SubElement(statement, tei("publisher")).text = info.publisher or info.title
            etree.SubElement(statement, tei("idno"), type="URI").text = ctx.base_url
    registers = sum(1 for kind in ctx.corpus.entries.values() if kind)
    source_desc = etree.SubElement(file_desc, tei("sourceDesc"))
    etree.SubElement(source_desc, tei("p")).text = (
        f"The documents of the edition gathered in one file from their TEI sources: the edition document, "
        f"{registers} registers and {len(ctx.corpus.letters)} items of the correspondence, in order of date.")
    encoding = copied("tei:encodingDesc")
    if encoding is not None:
        for vocabulary in encoding.findall("tei:classDecl", NS):   # stays with the edition document
            encoding.remove(vocabulary)
        if len(encoding):
            header.append(encoding)
    etree.indent(header, space="  ", level=1)
    return header


def corpus_document(ctx: ExportContext) -> bytes:
    """The whole edition as one <teiCorpus> document."""
    root = etree.Element(tei("teiCorpus"), nsmap={None: TEI_NS})
    info = ctx.edition()
    root.set(XML_LANG, info.languages[0])
    root.text = "\n  "
    header = _header(ctx)
    root.append(header)
    letter_paths = [l.path.resolve() for l in ctx.corpus.letters]
    edition = [ctx.corpus.edition.path.resolve()] if ctx.corpus.edition is not None else []
    others = [p.resolve() for p in ctx.document_paths() if p.resolve() not in set(letter_paths) | set(edition)]
    members = [ctx.source(p).root for p in edition + others + letter_paths]
    last: etree._Element = header
    for member in members:
        last.tail = "\n  "
        last = copy.deepcopy(member)
        root.append(last)
    last.tail = "\n"
    schema = _schema_files(ctx)
    pis = tuple(
        f'<?xml-model href="{relative_href(CORPUS_FILE, target)}" type="application/xml" schematypens="{ns}"?>'
        for path, target in sorted(schema.items(), key=lambda kv: kv[1])
        for suffix, ns in ((".rng", "http://relaxng.org/ns/structure/1.0"), (".sch", "http://purl.oclc.org/dsdl/schematron"))
        if path.suffix == suffix
    )
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(p + "\n" for p in pis).encode("utf-8")
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
