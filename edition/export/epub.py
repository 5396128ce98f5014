"""`epub`: the whole edition as an EPUB 3 book that passes epubcheck.

    mimetype                      first, stored uncompressed
    META-INF/container.xml
    OEBPS/content.opf             metadata (with schema.org accessibility metadata), manifest, spine
    OEBPS/nav.xhtml               table of contents (edition, letters, registers) and landmarks
    OEBPS/index.xhtml             title page, introduction and editorial principles
    OEBPS/<letter id>.xhtml       one page per item: metadata, abstract, regest, commentary, links
    OEBPS/<register>.xhtml        persons, places, organisations, events, with links to the items
    OEBPS/edition.css

A letter's regest and commentary come rendered by the project's processing model: from
`ctx.rendered` (the fragments the build already made, with links to the book's own pages), else
rendered here (`edition.render.render_html`). The HTML fragments are parsed and written out again
as XHTML, so every page is well-formed XML. Pages are built as element trees, never by pasting
strings. The book is written into the zip file page by page, as each is made; the zip has fixed
timestamps (the date of production) and a fixed order, so the book is the same bytes every time.
"""
from __future__ import annotations

import hashlib
import uuid
from typing import BinaryIO

import lxml.html
from lxml import etree

from .. import render
from ..corpus import AUTHORITIES, LINK_LABELS, REGISTER_KINDS, Entry, Letter
from ..tei import NS, XML_LANG, read_xml
from ._common import AUTHORITY_URIS, Archive, ExportContext, text_of, write_around

FILE = "edition.epub"
XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
OEBPS = "OEBPS"
#: The divisions of a letter's body in the book, in this order (as in the HTML edition).
PARTS = ("regest", "commentary")

CSS = """\
body { font-family: serif; line-height: 1.5; margin: 0 1em; }
h1, h2, h3 { font-family: sans-serif; line-height: 1.2; }
dl.metadata { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.metadata dt { font-weight: bold; }
dl.metadata dd { margin: 0; }
.tei-note-number, .tei-note-ref { font-size: 0.8em; }
ol.tei-notes { font-size: 0.9em; }
.cert-low, .cert-medium { text-decoration: underline dotted; }
section.entry { margin-bottom: 1.5em; }
"""


def _x(name: str) -> str:
    return f"{{{XHTML_NS}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, _x(name), **attrs)
    if text is not None:
        el.text = text
    return el


def _link(parent: etree._Element, href: str, text: str) -> etree._Element:
    return _sub(parent, "a", text, href=href)


def _append_text(parent: etree._Element, text: str | None) -> None:
    if not text:
        return
    try:
        last = parent[-1]               # found from the end: len(parent) would count every child
    except IndexError:
        parent.text = (parent.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def _xhtml_copy(el: lxml.html.HtmlElement) -> etree._Element | None:
    """An element of a parsed HTML fragment, recreated in the XHTML namespace."""
    if not isinstance(el.tag, str):
        return None
    out = etree.Element(_x(el.tag))
    for name, value in el.attrib.items():
        out.set(name, value)
    out.text = el.text
    for child in el:
        copied = _xhtml_copy(child)
        if copied is None:
            _append_text(out, child.tail)
        else:
            out.append(copied)
            copied.tail = child.tail
    return out


_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def append_fragment(parent: etree._Element, fragment: str) -> None:
    """Parse an HTML fragment from the renderer and append it to `parent` as XHTML.

    The renderer's fragments are well-formed XML as a rule: they are read as such into the XHTML
    namespace. Any other fragment goes through lxml's HTML parser.
    """
    if not fragment.strip():
        return
    try:
        wrapper = etree.fromstring(f'<div xmlns="{XHTML_NS}">{fragment}</div>', _XML_PARSER)
    except etree.XMLSyntaxError:
        wrapper = None
    if wrapper is not None:
        _append_text(parent, wrapper.text)
        for node in list(wrapper):
            if isinstance(node.tag, str):
                parent.append(node)
            else:                                    # a comment or processing instruction: its tail only
                _append_text(parent, node.tail)
        return
    for node in lxml.html.fragments_fromstring(fragment):
        if isinstance(node, str):
            _append_text(parent, node)
            continue
        copied = _xhtml_copy(node)
        if copied is not None:
            parent.append(copied)
            copied.tail = node.tail
        else:
            _append_text(parent, node.tail)


def _page(title: str, language: str) -> tuple[etree._Element, etree._Element]:
    """An XHTML page and its body."""
    html = etree.Element(_x("html"), nsmap={None: XHTML_NS, "epub": EPUB_NS})
    html.set(XML_LANG, language)
    html.set("lang", language)
    head = _sub(html, "head")
    _sub(head, "meta", charset="utf-8")
    _sub(head, "title", title)
    _sub(head, "link", rel="stylesheet", type="text/css", href="edition.css")
    return html, _sub(html, "body")


def _serialize(root: etree._Element) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
            + etree.tostring(root, encoding="UTF-8") + b"\n")


class Book:
    """Gathers the pages of the book, then packages them."""

    def __init__(self, ctx: ExportContext):
        self.ctx = ctx
        self.info = ctx.edition()
        self.language = self.info.languages[0]
        self.letters = ctx.corpus.letter_index
        self.categories = ctx.corpus.categories()
        self.toc_sections: list[tuple[str, str]] = []
        self.hrefs = {entry.id: f"{kind}.xhtml#{entry.id}"
                      for kind, entries in reversed(ctx.corpus.entries.items()) for entry in entries.values()}
        self.hrefs.update((letter_id, f"{letter_id}.xhtml") for letter_id in self.letters)

    # ------------------------------------------------------------ links
    def href(self, xml_id: str) -> str | None:
        """The book's address of a letter or register entry (as `corpus.entry` finds it), or None."""
        return self.hrefs.get(xml_id)

    def _render(self, parent: etree._Element, element: etree._Element, source, prefix: str) -> None:
        result = render.render_html(element, resolve=self.href, reporter=self.ctx.reporter, source=source,
                                    heading_level=2, id_prefix=prefix)
        append_fragment(parent, result.fragment)

    def parts(self, letter: Letter) -> dict[str, str]:
        """The letter's regest and commentary as HTML, links pointing into the book."""
        if self.ctx.rendered is not None:
            return self.ctx.rendered(letter.id, self.href)
        from ..site import letter_parts

        # (rendered as the build renders them, links filled in afterwards: the same book either way)
        fragments = letter_parts(read_xml(letter.path), self.ctx.reporter)
        return {k: render.fill_links(v, self.href) for k, v in fragments.items()}

    # ------------------------------------------------------------ pages
    def title_page(self) -> bytes:
        info = self.info
        html, body = _page(info.title, self.language)
        front = _sub(body, "section", **{f"{{{EPUB_NS}}}type": "titlepage", "id": "title"})
        _sub(front, "h1", info.title)
        if info.editors:
            _sub(front, "p", "Edited by " + "; ".join(info.editors))
        if info.edition:
            _sub(front, "p", info.edition + (f", version {info.version}" if info.version else ""))
        if info.publisher:
            _sub(front, "p", f"{info.publisher}, {info.year}")
        online = _sub(front, "p", "Online: ")
        _link(online, self.ctx.base_url, self.ctx.base_url)
        if info.licence:
            licence = _sub(front, "p", "Licence: ")
            if info.licence_url:
                _link(licence, info.licence_url, info.licence)
            else:
                _append_text(licence, info.licence)
        edition = self.ctx.corpus.edition
        if edition is not None:
            body_el = edition.root.find("tei:text/tei:body", NS)
            for i, div in enumerate(body_el.iterfind("tei:div", NS), 1):
                section = _sub(body, "section", id=f"s{i}", **{f"{{{EPUB_NS}}}type": "chapter"})
                self._render(section, div, edition, f"s{i}-")
                self.toc_sections.append((f"index.xhtml#s{i}", text_of(div.find("tei:head", NS)) or f"Section {i}"))
        return _serialize(html)

    def letter_page(self, letter: Letter) -> bytes:
        ctx = self.ctx
        title = letter.subtitle or letter.title
        html, body = _page(title, self.language)
        section = _sub(body, "section", id=f"item-{letter.id}", **{f"{{{EPUB_NS}}}type": "chapter"})
        _sub(section, "h1", title)
        meta = _sub(section, "dl", **{"class": "metadata"})

        def row(label: str, value: str | None = None, href: str | None = None) -> etree._Element | None:
            if not value:
                return None
            _sub(meta, "dt", label)
            dd = _sub(meta, "dd")
            if href:
                _link(dd, href, value)
            else:
                _append_text(dd, value)
            return dd

        def party(label: str, p) -> None:
            if p is not None:
                row(label, p.name, self.href(p.ref) if p.ref else None)

        row("Catalogue title", letter.title)
        party("From", letter.sender)
        party("To", letter.recipient)
        row("Date", "; ".join(d.label() for d in letter.dates if d.sort_key))
        party("Place", letter.place)
        row("Kind", self.categories.get(letter.categories.get("kinds", ""), ""))
        row("Phase", self.categories.get(letter.categories.get("phases", ""), ""))
        row("Keywords", ", ".join(self.categories.get(k, k) for k in letter.keywords))
        row("Signature", letter.signature)
        for kind, target, cert in letter.translations:
            if target.startswith(("https://", "http://")):
                unverified = " (not verified)" if cert in ("low", "medium") else ""
                row(f"Translation ({kind}{unverified})", target, target)
        row("Online edition", ctx.letter_url(letter.id), ctx.letter_url(letter.id))
        if letter.abstract:
            _sub(section, "h2", "Abstract")
            _sub(section, "p", letter.abstract)
        parts = self.parts(letter)
        for kind in PARTS:
            append_fragment(section, parts.get(kind, ""))
        links = [(LINK_LABELS[k], letter.links[k]) for k in LINK_LABELS if letter.links.get(k) in self.letters]
        if links:
            nav = _sub(section, "nav", **{"aria-label": "Related items"})
            _sub(nav, "h2", "Related items")
            items = _sub(nav, "ul")
            for label, target in links:
                li = _sub(items, "li", f"{label}: ")
                other = self.letters[target]
                _link(li, f"{target}.xhtml", other.subtitle or other.id)
        return _serialize(html)

    def register_page(self, fh: BinaryIO, key: str, label: str, entries: list[Entry]) -> None:
        """A register's page, written to `fh` one entry at a time (a register page links every item)."""
        html, body = _page(label, self.language)
        section = _sub(body, "section", id=f"register-{key}", **{f"{{{EPUB_NS}}}type": "index"})
        _sub(section, "h1", label)
        entries = sorted(entries, key=lambda e: (e.name.casefold(), e.id))
        write_around(fh, html, section, (self.register_entry(e) for e in entries), _serialize)

    def register_entry(self, entry: Entry) -> etree._Element:
        block = etree.Element(_x("section"), id=entry.id, **{"class": "entry"})
        _sub(block, "h2", entry.name or entry.id)
        if entry.variants:
            _sub(block, "p", "Also: " + "; ".join(entry.variants))
        dates = _dates(entry)
        if dates:
            _sub(block, "p", dates)
        if entry.description:
            _sub(block, "p", entry.description)
        authorities = [(AUTHORITIES[t].label, AUTHORITY_URIS[t].format(entry.idnos[t]))
                       for t in AUTHORITY_URIS if entry.idnos.get(t)]
        if authorities:
            p = _sub(block, "p", "Authority records: ")
            for i, (name, uri) in enumerate(authorities):
                _append_text(p, ", " if i else None)
                _link(p, uri, name)
        named = [l for l in entry.letters if l in self.letters]
        if named:
            p = _sub(block, "p", "Named in: ")
            for i, letter_id in enumerate(named):
                _append_text(p, "; " if i else None)
                _link(p, f"{letter_id}.xhtml", self.letters[letter_id].subtitle or letter_id)
        return block

    def nav(self) -> bytes:
        html, body = _page("Contents", self.language)
        toc = _sub(body, "nav", id="toc", **{f"{{{EPUB_NS}}}type": "toc"})
        _sub(toc, "h1", "Contents")
        top = _sub(toc, "ol")
        edition = _sub(top, "li")
        _link(edition, "index.xhtml", self.info.title)
        if self.toc_sections:
            sub = _sub(edition, "ol")
            for href, label in self.toc_sections:
                _link(_sub(sub, "li"), href, label)
        letters = _sub(top, "li")
        _sub(letters, "span", "The correspondence")
        sub = _sub(letters, "ol")
        for letter in self.ctx.corpus.letters:
            _link(_sub(sub, "li"), f"{letter.id}.xhtml", letter.subtitle or letter.title or letter.id)
        registers = [k for k in REGISTER_KINDS if self.ctx.corpus.entries[k.key]]
        if registers:
            item = _sub(top, "li")
            _sub(item, "span", "Registers")
            sub = _sub(item, "ol")
            for kind in registers:
                _link(_sub(sub, "li"), f"{kind.key}.xhtml", kind.label)
        landmarks = _sub(body, "nav", hidden="hidden", **{f"{{{EPUB_NS}}}type": "landmarks"})
        _sub(landmarks, "h2", "Landmarks")
        marks = _sub(landmarks, "ol")
        _sub(_sub(marks, "li"), "a", "Contents", href="nav.xhtml#toc", **{f"{{{EPUB_NS}}}type": "toc"})
        _sub(_sub(marks, "li"), "a", "Start", href="index.xhtml", **{f"{{{EPUB_NS}}}type": "bodymatter"})
        return _serialize(html)

    # ------------------------------------------------------------ package
    def package(self, spine: list[str]) -> bytes:
        info, ctx = self.info, self.ctx
        root = etree.Element(f"{{{OPF_NS}}}package", nsmap={None: OPF_NS}, version="3.0",
                             **{"unique-identifier": "pub-id"})
        root.set(XML_LANG, self.language)
        metadata = etree.SubElement(root, f"{{{OPF_NS}}}metadata", nsmap={"dc": DC_NS})

        def dc(name: str, text: str, **attrs: str) -> None:
            etree.SubElement(metadata, f"{{{DC_NS}}}{name}", **attrs).text = text

        def meta(prop: str, text: str, **attrs: str) -> None:
            etree.SubElement(metadata, f"{{{OPF_NS}}}meta", property=prop, **attrs).text = text

        dc("identifier", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, ctx.base_url + FILE)}", id="pub-id")
        dc("title", info.title)
        dc("language", self.language)
        for i, editor in enumerate(info.editors, 1):
            dc("creator", editor, id=f"editor-{i}")
            meta("role", "edt", refines=f"#editor-{i}", scheme="marc:relators")
        if info.publisher:
            dc("publisher", info.publisher)
        dc("date", info.year)
        if info.summary:
            dc("description", info.summary)
        for _, label in ctx.keywords_used():
            dc("subject", label)
        if info.licence:
            dc("rights", info.licence + (f" ({info.licence_url})" if info.licence_url else ""))
        dc("source", ctx.base_url)
        meta("dcterms:modified", ctx.produced.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for prop, value in (
            ("schema:accessMode", "textual"),
            ("schema:accessModeSufficient", "textual"),
            ("schema:accessibilityFeature", "structuralNavigation"),
            ("schema:accessibilityFeature", "tableOfContents"),
            ("schema:accessibilityFeature", "readingOrder"),
            ("schema:accessibilityHazard", "none"),
            ("schema:accessibilitySummary",
             "Text only: no images, audio or video. Headings, a table of contents and links between the "
             "items and the registers structure the book; footnotes link back to their place in the text."),
        ):
            meta(prop, value)
        manifest = etree.SubElement(root, f"{{{OPF_NS}}}manifest")
        etree.SubElement(manifest, f"{{{OPF_NS}}}item", id="nav", href="nav.xhtml",
                         **{"media-type": "application/xhtml+xml", "properties": "nav"})
        etree.SubElement(manifest, f"{{{OPF_NS}}}item", id="css", href="edition.css", **{"media-type": "text/css"})
        for i, name in enumerate(spine):
            etree.SubElement(manifest, f"{{{OPF_NS}}}item", id=f"page-{i:03d}", href=name,
                             **{"media-type": "application/xhtml+xml"})
        spine_el = etree.SubElement(root, f"{{{OPF_NS}}}spine")
        for i, _ in enumerate(spine):
            etree.SubElement(spine_el, f"{{{OPF_NS}}}itemref", idref=f"page-{i:03d}")
            if i == 0:   # the table of contents follows the title page
                etree.SubElement(spine_el, f"{{{OPF_NS}}}itemref", idref="nav")
        etree.indent(root, space="  ")
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8") + b"\n"

    def write(self, archive: Archive) -> None:
        """Write the book into `archive`, each page as soon as it is made (or copied from the previous
        book where its input did not change: a letter's page by its key, the rest by the key of the
        corpus model and the headers; see `Archive.reuse`)."""
        corpus = self.ctx.corpus
        registers = [k for k in REGISTER_KINDS if corpus.entries[k.key]]
        spine = (["index.xhtml"] + [f"{l.id}.xhtml" for l in corpus.letters]
                 + [f"{k.key}.xhtml" for k in registers])
        book_key = self.ctx.input_keys.get("metadata")
        book = hashlib.sha256(f"{self.info!r}\0".encode())     # (what every page's key begins with, hashed once)

        def reused(name: str, key: str | None) -> bool:
            if key is None:
                return False
            page = book.copy()
            page.update(key.encode())
            return archive.reuse(name, page.hexdigest())

        title_page: list[bytes] = []          # made once, when first needed: it finds the sections nav lists

        def made_title_page() -> bytes:
            if not title_page:
                title_page.append(self.title_page())
            return title_page[0]

        container = (f'<?xml version="1.0" encoding="UTF-8"?>\n<container version="1.0" xmlns="{CONTAINER_NS}">\n'
                     f'  <rootfiles>\n    <rootfile full-path="{OEBPS}/content.opf" '
                     f'media-type="application/oebps-package+xml"/>\n  </rootfiles>\n</container>\n')
        archive.add("mimetype", b"application/epub+zip")
        archive.add("META-INF/container.xml", container.encode("utf-8"))
        if not reused(f"{OEBPS}/content.opf", book_key):
            archive.add(f"{OEBPS}/content.opf", self.package(spine))
        if not reused(f"{OEBPS}/nav.xhtml", book_key):
            made_title_page()
            archive.add(f"{OEBPS}/nav.xhtml", self.nav())
        archive.add(f"{OEBPS}/edition.css", CSS.encode("utf-8"))
        if not reused(f"{OEBPS}/index.xhtml", book_key):
            archive.add(f"{OEBPS}/index.xhtml", made_title_page())
        for letter in corpus.letters:
            name = f"{OEBPS}/{letter.id}.xhtml"
            if not reused(name, self.ctx.page_keys.get(letter.id)):
                archive.add(name, self.letter_page(letter))
        for kind in registers:
            if not reused(f"{OEBPS}/{kind.key}.xhtml", book_key):
                with archive.member(f"{OEBPS}/{kind.key}.xhtml") as fh:
                    self.register_page(fh, kind.key, kind.label, list(corpus.entries[kind.key].values()))


def _dates(entry: Entry) -> str:
    d = entry.dates
    start = d.get("birth") or d.get("from") or d.get("when") or d.get("notBefore")
    end = d.get("death") or d.get("to") or d.get("notAfter")
    if start and end and end != start:
        return f"{start} – {end}"
    return start or (f"? – {end}" if end else "")


def export_epub(ctx: ExportContext) -> None:
    book = Book(ctx)
    previous = ctx.out.source(FILE) if FILE in ctx.out.known else None
    with Archive(ctx.out.new_file(FILE), ctx.produced, stored=frozenset({"mimetype"}), previous=previous,
                 previous_keys=ctx.previous_state.get("epub")) as archive:
        book.write(archive)
    ctx.state["epub"] = archive.keys
    ctx.out.record(FILE)
