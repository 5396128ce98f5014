"""TEI names, the safe XML parser and source locations.

The TEI namespace is spelled here and nowhere else.
"""
from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"
SCH_NS = "http://purl.oclc.org/dsdl/schematron"
RNG_NS = "http://relaxng.org/ns/structure/1.0"
NS = {"tei": TEI_NS, "xml": XML_NS}
ROOT_ELEMENTS = ("TEI", "teiCorpus")

#: Limits of the safe parser. A document beyond them is reported, not read.
MAX_BYTES = 20 * 1024 * 1024
#: libxml2's own depth limit without XML_PARSE_HUGE (the parser enforces it; the message quotes it).
MAX_DEPTH = 256


def tei(name: str) -> str:
    """Clark notation of a TEI element name: tei('p') -> '{http://www.tei-c.org/ns/1.0}p'."""
    return f"{{{TEI_NS}}}{name}"


XML_ID = f"{{{XML_NS}}}id"
XML_LANG = f"{{{XML_NS}}}lang"


def local_name(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def attribute_name(qname: str) -> str:
    """Clark attribute names as a person writes them: '{xml}id' -> 'xml:id'."""
    if qname.startswith(f"{{{XML_NS}}}"):
        return "xml:" + qname.split("}", 1)[1]
    return qname.rsplit("}", 1)[-1] if qname.startswith("{") else qname


def safe_parser() -> etree.XMLParser:
    """A parser that loads no DTD, resolves no entity, touches no network and keeps line numbers."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


_PARSERS: dict[int, etree.XMLParser] = {}


def _parser() -> etree.XMLParser:
    """One safe parser per process, reused (creating a parser costs as much as parsing a letter)."""
    pid = os.getpid()
    parser = _PARSERS.get(pid)
    if parser is None:
        parser = _PARSERS[pid] = safe_parser()
    return parser


class XMLInputError(Exception):
    """Raised by read_xml: the file cannot be read as a safe, well-formed XML document."""

    def __init__(self, code: str, message: str, line: int = 1, column: int = 0, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.line, self.column, self.hint = code, message, line, column, hint


@dataclass
class Source:
    """A parsed document with its raw text, for precise locations."""

    path: Path
    data: bytes
    tree: etree._ElementTree

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()

    def lines(self) -> list[str]:
        cached = getattr(self, "_lines", None)
        if cached is None:
            cached = self.data.decode("utf-8", "replace").splitlines()
            self._lines = cached
        return cached

    def column(self, line: int, name: str, attribute: str | None = None) -> int:
        """1-based column of the first element `name` (or of its `attribute`) on `line`; 0 if unknown."""
        return locate(self.lines(), line, name, attribute)

    def column_of(self, element: etree._Element, attribute: str | None = None) -> int:
        """1-based column of `element` (or of its `attribute`), telling apart same-named elements on one line."""
        line = element.sourceline or 0
        name = local_name(element.tag)
        same = getattr(self, "_same_line", None)
        if same is None:
            same = {}
            for el in self.root.iter():
                if isinstance(el.tag, str):
                    same.setdefault((el.sourceline, local_name(el.tag)), []).append(el)
            self._same_line = same
        peers = same.get((line, name), [element])
        nth = peers.index(element) if element in peers else 0
        return locate(self.lines(), line, name, attribute, nth)


_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)


def _doctype_offset(data: bytes) -> int:
    """Offset of a DOCTYPE declaration in the prolog (before the root element), or -1."""
    if b"!" not in data:
        return -1   # no "<!" (declaration or comment) at all: the common case, told by one memchr
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        m = _PROLOG_ITEM.match(data, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    return pos if data[pos:pos + 9].upper() == b"<!DOCTYPE" else -1


def locate(lines: list[str], line: int, name: str, attribute: str | None = None, nth: int = 0) -> int:
    """1-based column of the `nth` start tag `name` on `line` (or of its `attribute`); 0 if not found."""
    if not 0 < line <= len(lines):
        return 0
    text = lines[line - 1]
    tags = list(re.finditer(r"<(?:[\w.-]+:)?" + re.escape(name) + r"(?=[\s/>]|$)", text))
    if not tags:
        return 0
    m = tags[min(nth, len(tags) - 1)]
    if attribute is None:
        return m.start() + 1
    pattern = re.compile(r"(?<![\w:.-])" + re.escape(attribute) + r"\s*=")
    a = pattern.search(text, m.end())
    if a:
        return a.start() + 1
    # Attributes may continue on the following lines of the start tag.
    for offset in range(1, 20):
        if line - 1 + offset >= len(lines):
            break
        a = pattern.search(lines[line - 1 + offset])
        if a:
            return 0  # on another line: the element's line is the better anchor
        if ">" in lines[line - 1 + offset]:
            break
    return m.start() + 1


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


_ENCODING_DECL = re.compile(rb"^<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _declared_encoding(data: bytes) -> str | None:
    m = _ENCODING_DECL.match(data.lstrip(b"\xef\xbb\xbf"))
    return m.group(1).decode("ascii").lower() if m else None


def _check_utf8(data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        raise XMLInputError("wf.encoding", f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                            line, col, hint="save the document as UTF-8") from None


_ROOT_TAGS = frozenset(tei(n) for n in ROOT_ELEMENTS)
#: Bytes asked for per read once a file turned out larger than its size said (it grew, or is a pipe).
_READ_MORE = 1 << 16
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def _read_limited(path: Path) -> bytes:
    """The bytes of a file, at most MAX_BYTES + 1 of them (more means: too large).

    One read of the size the file announces (and one more to see the end), not a read into a
    buffer of the limit's size: that would allocate 20 MB for every letter.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise XMLInputError("file.unreadable", f"cannot read file: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):      # as open() says it
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if st.st_size > MAX_BYTES:
            raise XMLInputError("file.too-large",
                                f"file is {st.st_size:,} bytes; the limit is {MAX_BYTES:,} bytes",
                                hint="split the document")
        parts, total, want = [], 0, st.st_size + 1
        while total <= MAX_BYTES:
            chunk = os.read(fd, min(want, MAX_BYTES + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
            want = _READ_MORE
    except OSError as exc:
        raise XMLInputError("file.unreadable", f"cannot read file: {exc.strerror}") from None
    finally:
        os.close(fd)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_xml(path: Path, data: bytes | None = None, require_tei: bool = True) -> Source:
    """Read and parse one document safely; raise XMLInputError with a location on any problem.

    With `require_tei`, the root must be TEI's <TEI> or <teiCorpus>.
    """
    if data is None:
        data = _read_limited(path)
        if len(data) > MAX_BYTES:   # grew while we read it
            raise XMLInputError("file.too-large", f"file is larger than {MAX_BYTES:,} bytes", hint="split the document")
    elif len(data) > MAX_BYTES:
        raise XMLInputError("file.too-large", f"file is {len(data):,} bytes; the limit is {MAX_BYTES:,} bytes")
    if not data or data.isspace():
        raise XMLInputError("wf.empty", "file is empty", hint="a TEI document starts with <TEI xmlns=\"http://www.tei-c.org/ns/1.0\">")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _line_col(data, nul)
        raise XMLInputError("wf.binary", "file contains NUL bytes: it is binary, or not UTF-8 text (UTF-16?)",
                            line, col, hint="save the document as UTF-8 XML")
    doctype = _doctype_offset(data)
    if doctype >= 0:
        line, col = _line_col(data, doctype)
        raise XMLInputError("wf.doctype",
                            "document has a DOCTYPE declaration; DTDs and entities are not read, for safety",
                            line, col, hint="remove the DOCTYPE and write characters directly in UTF-8")
    parser = _parser()
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser, base_url=None))
    except etree.XMLSyntaxError as exc:
        _check_utf8(data)   # a more precise message than the parser's, when the bytes are the problem
        line, col = exc.position if exc.position else (exc.lineno or 1, exc.offset or 0)
        message = exc.msg or str(exc)
        message = re.sub(r", line \d+, column \d+$", "", message)
        if "depth" in message.lower():
            raise XMLInputError("wf.depth", f"elements are nested more than {MAX_DEPTH} levels deep",
                                line or 1, col or 0, hint="a TEI document is rarely deeper than 30 levels") from None
        raise XMLInputError("wf.syntax", f"not well-formed: {message}", line or 1, col or 0) from None
    if _declared_encoding(data) not in (None, "utf-8", "utf8"):
        _check_utf8(data)   # libxml2 accepted another declared encoding: the edition wants UTF-8
    root = tree.getroot()
    if require_tei and root.tag not in _ROOT_TAGS:
        ns = etree.QName(root).namespace
        if local_name(root.tag) in ROOT_ELEMENTS:
            message = f"root element <{local_name(root.tag)}> is in namespace {ns or '(none)'}, not TEI's"
            hint = f'add xmlns="{TEI_NS}" to the root element'
        else:
            message = f"root element is <{root.tag if not ns else local_name(root.tag)}>, not <TEI> or <teiCorpus>"
            hint = "a document of the edition is a TEI document"
        raise XMLInputError("wf.root", message, root.sourceline or 1, 1, hint)
    return Source(path, data, tree)
