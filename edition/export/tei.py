"""`tei`: the TEI sources with their schema, and the whole edition in one teiCorpus file.

    tei/edition.xml, tei/letters/*.xml, tei/registers/*.xml
        the sources, byte for byte, except that their xml-model instructions point to the
        schema copied beside them (tei/schema/)
    tei/schema/<odd name>.odd, .rng, .sch
        the ODD and the RELAX NG grammar and Schematron rules compiled from it
    tei/corpus.xml
        <teiCorpus>: a header for the edition as a whole, then the edition document, the
        registers and the letters in order of date, each member copied as it stands in its
        source. It is valid against the project schema (teiCorpus is one of its start elements)
        and against tei_all. It is written one member at a time; a member is parsed only where it
        cannot be cut out of its file.
"""
from __future__ import annotations

import copy
import os
import posixpath
import re
from functools import partial
from pathlib import Path

from lxml import etree

from ..odd import SchemaFiles
from ..tei import NS, RNG_NS, SCH_NS, TEI_NS, XML_ID, XML_LANG, read_xml, tei
from ._common import XML_DECLARATION, ExportContext, relative_href, root_element_bytes

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


class _Repointer:
    """Rewrites the xml-model hrefs of a prolog that name a schema file to point to its copy in the export.

    What an href resolves to is worked out once per folder and href, not once per document.
    """

    def __init__(self, schema: dict[Path, str]):
        self.schema = schema
        self.known: dict[tuple[Path, str, str], bytes | None] = {}

    def new_href(self, source: Path, target: str, value: str) -> bytes | None:
        key = (source.parent, value, posixpath.dirname(target))
        if key not in self.known:
            resolved = (source.parent / value).resolve()
            self.known[key] = (relative_href(target, self.schema[resolved]).encode("utf-8")
                               if "://" not in value and resolved in self.schema else None)
        return self.known[key]

    def __call__(self, data: bytes, source: Path, target: str) -> bytes:
        root = _ROOT_START.search(data)
        end = root.start() if root else len(data)

        def model(m: re.Match) -> bytes:
            def href(h: re.Match) -> bytes:
                new = self.new_href(source, target, h.group(3).decode("utf-8"))
                return h.group(0) if new is None else h.group(1) + h.group(2) + new + h.group(2)
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


def _members(ctx: ExportContext) -> tuple[list[Path], list[Path], list[Path]]:
    """The documents in the order of the teiCorpus: the edition document, the registers, the letters by date."""
    letters = [l.path for l in ctx.corpus.letters]
    edition = [ctx.corpus.edition.path] if ctx.corpus.edition is not None else []
    if ctx.documents is not None:       # a build's: the very paths it listed, absolute and normalised
        placed = set(map(str, letters + edition))
        return edition, [p for p in ctx.document_paths() if str(p) not in placed], letters
    folders: dict[str, str] = {}

    def real(path: Path) -> str:                  # the folder resolved once, not every file
        folder, name = os.path.split(path)
        if folder not in folders:
            folders[folder] = os.path.realpath(folder)
        return os.path.join(folders[folder], name)

    placed = {real(p) for p in letters + edition}
    registers = [p for p in ctx.document_paths() if real(p) not in placed]
    return edition, registers, letters


def _relative(ctx: ExportContext, path: Path) -> str:
    """A document's path below tei/."""
    root, text = str(ctx.corpus.root), str(path)
    if os.sep == "/" and text.startswith(root + "/"):     # the common case, without making Paths
        return text[len(root) + 1:]
    try:
        return path.relative_to(ctx.corpus.root).as_posix()
    except ValueError:
        return path.resolve().relative_to(ctx.corpus.root.resolve()).as_posix()


def _corpus_head(ctx: ExportContext, registers: int, schema: dict[Path, str]) -> tuple[bytes, bytes]:
    """The teiCorpus document up to its first member, and what follows its last member."""
    root = etree.Element(tei("teiCorpus"), nsmap={None: TEI_NS})
    root.set(XML_LANG, ctx.edition().languages[0])
    root.text = "\n  "
    header = _header(ctx, registers)
    root.append(header)
    header.tail = "\n  "
    pis = [f'<?xml-model href="{relative_href(CORPUS_FILE, target)}" type="application/xml" '
           f'schematypens="{_SCHEMA_TYPES[path.suffix]}"?>\n'
           for path, target in sorted(schema.items(), key=lambda item: item[1])
           if path.suffix in _SCHEMA_TYPES]
    data = XML_DECLARATION + "".join(pis).encode("utf-8") + etree.tostring(root, encoding="UTF-8")
    end = data.rindex(b"</")
    return data[:end], data[end:] + b"\n"


_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_TEI_DEFAULT_NS = re.compile(rb"""\s+xmlns\s*=\s*(["'])""" + re.escape(TEI_NS.encode("ascii")) + rb"\1")


def _member_bytes(data: bytes, path: Path) -> bytes:
    """A document's root element as it stands in the source (or, where it cannot be cut out, as lxml writes it),
    without the declaration of TEI as the default namespace, which the teiCorpus makes."""
    element = root_element_bytes(data)
    if element is None:
        element = etree.tostring(read_xml(path, data).root, encoding="UTF-8")
    start = _START_TAG.match(element)
    if start is None:
        return element
    return _TEI_DEFAULT_NS.sub(b"", start.group(0), count=1) + element[start.end():]


#: What stands between two members of the teiCorpus, and after the last one.
_BETWEEN, _END = b"\n  ", b"\n"


def _member_of(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return _member_bytes(fh.read(), path)


def _note(noted: dict, target: str, digest: str, offset: int, length: int) -> None:
    noted[target] = (digest, offset, length)


def export_tei(ctx: ExportContext) -> None:
    """The sources (their schema references pointing to tei/schema/), the schema, and tei/corpus.xml.

    The teiCorpus is written one document at a time: each member is the source's root element,
    copied as it stands in the file (parsed only where it cannot be cut out).
    """
    out = ctx.out
    schema = _schema_files(ctx)
    repoint = _Repointer(schema)
    for path, target in sorted(schema.items(), key=lambda item: item[1]):
        out.write(target, path.read_bytes())       # a copy, not a link: the build never shares an inode with a source
    edition, registers, letters = _members(ctx)
    members = edition + registers + letters
    head, tail = _corpus_head(ctx, len(registers), schema)
    # In a build, a source whose bytes did not change since the previous export keeps its copy, and
    # its member of the teiCorpus is copied from the previous corpus.xml (where the state says it is)
    # instead of being read from the source again.
    digests = ctx.documents or {}
    previous: dict[str, tuple[str, int, int]] = ctx.previous_state.get("tei") or {}
    ctx.state["tei"] = noted = {}
    with out.splice(CORPUS_FILE, _BETWEEN) as splice:
        splice.put(head)
        for i, path in enumerate(members):
            if i:
                splice.gap()
            target = f"{FOLDER}/{_relative(ctx, path)}"
            found = digests.get(str(path))
            digest = found[1] if found is not None else None
            last = previous.get(target)
            same = digest is not None and last is not None and last[0] == digest and out.keep(target)
            if same:
                splice.reuse(last[1], last[2], partial(_member_of, path), partial(_note, noted, target, digest))
                continue
            with open(path, "rb") as fh:
                data = fh.read()
            out.write(target, repoint(data, path, target))
            member = _member_bytes(data, path)
            offset = splice.put(member)
            if digest is not None:
                noted[target] = (digest, offset, len(member))
        splice.put(_END)
        splice.put(tail)
