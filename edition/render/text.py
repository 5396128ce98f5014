"""Plain-text output primitives: wrapped paragraphs, underlined headings, "- " lists, [n] endnotes.

The primitives build a small tree of blocks and inline strings; `finish` lays it out once the
whole body is known, so that nested lists and notes are wrapped at the width that is left.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from .base import Attrs, FootNote, Offered, Walker, normalize_space

#: Underline characters by heading level (1, 2, 3 and deeper).
UNDERLINES = "=-~"
MIN_WIDTH = 20


@dataclass(frozen=True)
class _Block:
    kind: str                       # flow, heading, list, item, note
    children: tuple                 # of str | _Block
    level: int = 0
    label: str = ""


Pieces = tuple  # of str | _Block


class TextRenderer(Walker[Pieces]):
    output = "text"
    shows_attributes = False   # plain text has no ids, classes or tooltips

    def __init__(self, *, width: int = 72, **kwargs):
        super().__init__(**kwargs)
        self.width = width

    # ------------------------------------------------------------ text and structure

    def text(self, s: str) -> Pieces:
        return (s,)

    def join(self, parts: list[Pieces]) -> Pieces:
        if len(parts) == 1:   # (a single part, such as an inline element's content, is joined already)
            return parts[0]
        out: list = []
        for part in parts:
            for piece in part:
                if isinstance(piece, str) and out and isinstance(out[-1], str):
                    out[-1] += piece
                else:
                    out.append(piece)
        return tuple(out)

    def block(self, content: Pieces, attrs: Attrs) -> Pieces:
        return (_Block("flow", content),)

    def inline(self, content: Pieces, attrs: Attrs, tag: str | None = None) -> Pieces:
        return content

    def paragraph(self, content: Pieces, attrs: Attrs, has_blocks: bool) -> Pieces:
        return (_Block("flow", content),)

    def heading(self, content: Pieces, attrs: Attrs, level: int) -> Pieces:
        return (_Block("heading", content, level=level),)

    def title(self, content: Pieces, attrs: Attrs, level: int) -> Pieces:
        return (_Block("heading", content, level=level),)

    def section(self, content: Pieces, attrs: Attrs) -> Pieces:
        return (_Block("flow", content),)

    def list(self, items: Pieces, attrs: Attrs, head: Pieces | None) -> Pieces:
        listed = (_Block("list", items),)
        return ((_Block("flow", head),) if head else ()) + listed

    def list_item(self, content: Pieces, attrs: Attrs) -> Pieces:
        return (_Block("item", content),)

    def link(self, content: Pieces, attrs: Attrs, href: str, external: bool) -> Pieces:
        if external and _flatten(content).strip() != href:
            return self.join([content, (f" <{href}>",)])
        return content

    def alternate(self, shown: Pieces, offered: list[tuple[Offered, Pieces]], attrs: Attrs) -> Pieces:
        parts = [shown]
        for o, out in offered:
            parts.extend([(f" [{o.label}: ",), out, ("]",)])
        return self.join(parts)

    # ------------------------------------------------------------ notes and breaks

    def note_ref(self, number: int, note_id: str, ref_id: str, linked: bool) -> Pieces:
        return (f"[{number}]",)

    def block_note(self, content: Pieces, attrs: Attrs, number: int) -> Pieces:
        return (_Block("note", content, label=f"[{number}] "),)

    def line_break(self, attrs: Attrs) -> Pieces:
        return ("\n",)

    def page_break(self, attrs: Attrs, label: str) -> Pieces:
        return (f" {label} ",)

    # ------------------------------------------------------------ layout

    def finish(self, body: Pieces, notes: list[FootNote[Pieces]]) -> str:
        width = max(self.width, MIN_WIDTH)
        chunks = _layout(body, width)
        if notes:
            chunks.append(_heading_lines("Notes", 1, width))
            for n in notes:
                chunks.extend(_layout_block(_Block("note", n.content, label=f"[{n.number}] "), width))
        if not chunks:
            return ""
        return "\n\n".join("\n".join(line.rstrip() for line in chunk) for chunk in chunks) + "\n"


def _flatten(pieces: Pieces) -> str:
    """All text of some pieces in one line (for headings and link texts)."""
    return "".join(p if isinstance(p, str) else " " + _flatten(p.children) + " " for p in pieces)


#: Whitespace other than the plain space (\s is str.isspace): textwrap splits at some of it and
#: drops words made only of it, so text containing any is left to textwrap.
_OTHER_SPACE = re.compile(r"[^\S ]")


def _wrap(text: str, width: int) -> list[str]:
    """Wrap running text; a line break from <lb/> starts a new line. Words are never broken.

    Text whose only whitespace is the plain space is filled by `_fill`, which gives the lines
    textwrap would give; any other text is left to textwrap itself.
    """
    lines: list[str] = []
    for segment in text.split("\n"):
        segment = normalize_space(segment).strip()
        if not segment:
            continue
        if _OTHER_SPACE.search(segment):
            lines.extend(textwrap.wrap(segment, width, break_long_words=False, break_on_hyphens=False))
        else:
            lines.extend(_fill(segment, width))
    return lines


def _fill(segment: str, width: int) -> list[str]:
    """Greedy filling of words separated by single spaces, as textwrap.wrap(break_long_words=False,
    break_on_hyphens=False) does it, but a line at a time instead of a word at a time: wrapping is
    the hot spot of the text layout.

    A line ends at the last space that leaves it at most `width` long; a word longer than `width`
    stands on a line of its own.
    """
    lines: list[str] = []
    start = 0
    while len(segment) - start > width:
        cut = segment.rfind(" ", start, start + width + 1)
        if cut < 0:                                  # the line starts with a word longer than width
            cut = segment.find(" ", start)
            if cut < 0:
                break
        lines.append(segment[start:cut])
        start = cut + 1
    lines.append(segment[start:])
    return lines


def _layout(pieces: Pieces, width: int) -> list[list[str]]:
    """Chunks of lines, to be separated by blank lines: runs of inline text become paragraphs."""
    chunks: list[list[str]] = []
    run: list[str] = []

    def flush() -> None:
        if not run:   # (between two blocks: nothing to wrap)
            return
        lines = _wrap("".join(run), width)
        if lines:
            chunks.append(lines)
        run.clear()

    for piece in pieces:
        if isinstance(piece, str):
            run.append(piece)
        else:
            flush()
            chunks.extend(_layout_block(piece, width))
    flush()
    return chunks


def _heading_lines(text: str, level: int, width: int) -> list[str]:
    lines = _wrap(text.replace("\n", " "), width)
    if not lines:
        return []
    char = UNDERLINES[min(max(level, 1), len(UNDERLINES)) - 1]
    return lines + [char * max(len(line) for line in lines)]


def _hang(chunks: list[list[str]], first: str) -> list[str]:
    """Lines of `chunks` with `first` before the first line and its width in spaces before the rest."""
    indent = " " * len(first)
    out: list[str] = []
    for i, chunk in enumerate(chunks):
        if i:
            out.append("")
        out.extend(line if not line else indent + line for line in chunk)
    if out:
        out[0] = first + out[0][len(indent):]
    else:
        out = [first.rstrip()]
    return out


def _layout_block(block: _Block, width: int) -> list[list[str]]:
    if block.kind == "heading":
        lines = _heading_lines(_flatten(block.children), block.level, width)
        return [lines] if lines else []
    if block.kind == "list" or block.kind == "item":
        items = block.children if block.kind == "list" else (block,)
        lines: list[str] = []
        for piece in items:
            if isinstance(piece, _Block) and piece.kind == "item":
                inner = _layout(piece.children, max(width - 2, MIN_WIDTH))
                lines.extend(_hang(inner, "- "))
            elif isinstance(piece, str):   # text standing between the items
                lines.extend(_wrap(piece, width))
            else:
                for chunk in _layout_block(piece, width):
                    lines.extend(chunk)
        return [lines] if lines else []
    if block.kind == "note":
        inner = _layout(block.children, max(width - len(block.label), MIN_WIDTH))
        return [_hang(inner, block.label)]
    return _layout(block.children, width)
