"""HTML output primitives: a fragment of escaped HTML and its footnotes.

Every text and attribute value goes through `html.escape(quote=True)`; element names come from
this module only, never from the data. No event handler, style or raw markup is ever written.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, replace
from functools import lru_cache

from .base import Attrs, FootNote, Offered, Walker


@dataclass(frozen=True)
class Note:
    """A footnote: its number, the id of its list entry, the id of its marker, its content as HTML."""

    number: int
    id: str
    ref_id: str
    html: str


@dataclass(frozen=True)
class RenderedHtml:
    """A body fragment, its footnotes, and the footnotes laid out as an ordered list ('' if none)."""

    body: str
    notes: tuple[Note, ...]
    footnotes: str

    @property
    def fragment(self) -> str:
        """The body followed by its footnotes: what a page shows where the text goes."""
        return self.body + self.footnotes


def _esc(value: str) -> str:
    """html.escape(value, quote=True). It is called for every text node and attribute, most of which
    hold no character to escape: looking for them is cheaper than replacing nothing five times."""
    if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
        return html.escape(value, quote=True)
    return value


@lru_cache(maxsize=4096)
def _class_attribute(classes: tuple[str, ...]) -> str:
    """' class="..."' ('' without classes); cached, as the same few class lists recur on every page."""
    value = " ".join(classes)
    return f' class="{_esc(value)}"' if value else ""


def _start(tag: str, attrs: Attrs, href: str | None = None) -> str:
    """A start tag; attributes in a fixed order so that output is deterministic.

    Written out attribute by attribute: a start tag is made for nearly every element rendered.
    """
    out = f'<{tag} id="{_esc(attrs.id)}"' if attrs.id is not None else f"<{tag}"
    out += _class_attribute(attrs.classes)
    if attrs.lang is not None:
        out += f' lang="{_esc(attrs.lang)}"'
    if attrs.title is not None:
        out += f' title="{_esc(attrs.title)}"'
    if attrs.datetime is not None:
        out += f' datetime="{_esc(attrs.datetime)}"'
    if href is not None:
        out += f' href="{_esc(href)}"'
    for name, value in attrs.data:
        out += f' data-{name}="{_esc(value)}"'
    return out + ">"


def _nl(content: str) -> str:
    return "\n" if content.endswith("\n") else ""


#: The inline elements the processing model may ask for; anything else becomes a span.
_INLINE_TAGS = frozenset({"span", "i", "b", "u", "sup", "sub", "cite", "time", "ins", "del"})


class HtmlRenderer(Walker[str]):
    output = "html"

    # ------------------------------------------------------------ text and structure

    def text(self, s: str) -> str:
        return _esc(s)

    def join(self, parts: list[str]) -> str:
        return "".join(parts)

    def block(self, content: str, attrs: Attrs) -> str:
        # a block of blocks gets its children on lines of their own
        return f"{_start('div', attrs)}{_nl(content)}{content}</div>\n"

    def inline(self, content: str, attrs: Attrs, tag: str | None = None) -> str:
        tag = tag if tag in _INLINE_TAGS else "span"
        return f"{_start(tag, attrs)}{content}</{tag}>"

    def paragraph(self, content: str, attrs: Attrs, has_blocks: bool) -> str:
        # <p> cannot hold a list or a block: such a paragraph becomes a div of its own class
        if has_blocks:
            return self.block(content, attrs)
        return f"{_start('p', attrs)}{content}</p>\n"

    def heading(self, content: str, attrs: Attrs, level: int) -> str:
        tag = f"h{min(max(level, 1), 6)}"
        return f"{_start(tag, attrs)}{content}</{tag}>\n"

    def title(self, content: str, attrs: Attrs, level: int) -> str:
        return self.heading(content, attrs, level)

    def section(self, content: str, attrs: Attrs) -> str:
        return f"{_start('section', attrs)}{_nl(content)}{content}</section>\n"

    def list(self, items: str, attrs: Attrs, head: str | None) -> str:
        if head is None:
            return f"{_start('ul', attrs)}\n{items}</ul>\n"
        return f"{_start('div', attrs)}\n{head}<ul>\n{items}</ul>\n</div>\n"

    def list_item(self, content: str, attrs: Attrs) -> str:
        return f"{_start('li', attrs)}{content}</li>\n"

    def link(self, content: str, attrs: Attrs, href: str, external: bool) -> str:
        return f"{_start('a', attrs, href=href)}{content}</a>"

    def alternate(self, shown: str, offered: list[tuple[Offered, str]], attrs: Attrs) -> str:
        # the shown reading in place; the other one in the tooltip and in a hidden span for scripts
        tip = "; ".join(f"{o.label}: {o.text}" if o.text else o.label for o, _ in offered)
        hidden = "".join(f'<span class="tei-altcontent" data-reading="{_esc(o.label)}" hidden>{out}</span>'
                         for o, out in offered)
        start = _start("span", replace(attrs, title=tip or None))
        return f"{start}{shown}{hidden}</span>"

    # ------------------------------------------------------------ notes and breaks

    def note_ref(self, number: int, note_id: str, ref_id: str, linked: bool) -> str:
        if not linked:   # inside a link: a second <a> would be invalid
            return f'<sup class="tei-note-ref" id="{_esc(ref_id)}">{number}</sup>'
        return (f'<sup class="tei-note-ref"><a href="#{_esc(note_id)}" id="{_esc(ref_id)}" '
                f'role="doc-noteref">{number}</a></sup>')

    def block_note(self, content: str, attrs: Attrs, number: int) -> str:
        return f'{_start("div", attrs)}<span class="tei-note-number">[{number}]</span> {content}</div>\n'

    def line_break(self, attrs: Attrs) -> str:
        return f"{_start('br', attrs)}\n"

    def page_break(self, attrs: Attrs, label: str) -> str:
        return f"{_start('span', attrs)}{_esc(label)}</span>"

    # ------------------------------------------------------------ result

    def finish(self, body: str, notes: list[FootNote[str]]) -> RenderedHtml:
        result = tuple(Note(n.number, n.id, n.ref_id, n.content) for n in notes)
        if not result:
            return RenderedHtml(body, (), "")
        items = "".join(
            f'<li id="{_esc(n.id)}" value="{n.number}">{n.html} '
            f'<a class="tei-note-back" href="#{_esc(n.ref_id)}" role="doc-backlink" '
            f'aria-label="back to the text">\u21a9</a></li>\n'
            for n in result
        )
        return RenderedHtml(body, result, f'<ol class="tei-notes">\n{items}</ol>\n')
