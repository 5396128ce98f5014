"""Rendering: one processing model (`BEHAVIOURS`), one walker, two outputs (HTML and plain text).

    from edition.render import render_html, render_text
    result = render_html(body, resolve=urls.get, reporter=reporter, source=source)
    result.body, result.notes, result.footnotes

`resolve(id)` turns the xml:id after '#' in @ref and @target into a URL (or None: no link).
"""
from __future__ import annotations

import html as _html
import re

from lxml import etree

from ..diagnostics import Reporter
from ..tei import Source
from .base import BEHAVIOURS, Resolver, Rule, Walker
from .html import HtmlRenderer, Note, RenderedHtml
from .text import TextRenderer

__all__ = [
    "BEHAVIOURS", "HtmlRenderer", "Note", "RenderedHtml", "Resolver", "Rule", "TextRenderer", "Walker",
    "deferred", "fill_links", "render_html", "render_text",
]


def render_html(element: etree._Element, *, resolve: Resolver | None = None, reporter: Reporter | None = None,
                source: Source | None = None, heading_level: int = 2, id_prefix: str = "") -> RenderedHtml:
    """Render a TEI element (usually <body>) as an escaped HTML fragment with its footnotes.

    Headings of top-level divisions are <h{heading_level}>, deeper ones one level more each.
    Every id taken from an xml:id is prefixed with `id_prefix`.
    """
    return HtmlRenderer(resolve=resolve, reporter=reporter, source=source, heading_level=heading_level,
                        id_prefix=id_prefix).render(element)


def render_text(element: etree._Element, *, resolve: Resolver | None = None, reporter: Reporter | None = None,
                source: Source | None = None, width: int = 72) -> str:
    """Render a TEI element as UTF-8 plain text wrapped at `width`, with notes as numbered endnotes."""
    return TextRenderer(resolve=resolve, reporter=reporter, source=source, heading_level=1,
                        width=width).render(element)


# ---------------------------------------------------------------- links resolved later
# A fragment can be rendered before the whole corpus is known (in a worker, during the one
# parse of its document): internal links then get a placeholder address, which each output
# (site, EPUB) fills in with its own URLs afterwards; a link to nothing becomes a span.

_PLACEHOLDER_PREFIX = "./__ref__/"
_PLACEHOLDER_LINK = re.compile(r'<a ([^>]*?)href="\./__ref__/([^"]+)"([^>]*)>(.*?)</a>', re.S)
#: The address alone (the HTML renderer writes it only in an <a> start tag; text and other
#: attribute values have their '"' escaped, so it cannot occur elsewhere).
_PLACEHOLDER_HREF = re.compile(r'href="\./__ref__/([^"]+)"')


def deferred(xml_id: str) -> str:
    """A resolver for render_html that leaves every internal link to be filled in later."""
    return _PLACEHOLDER_PREFIX + xml_id


def fill_links(fragment: str, resolve: Resolver) -> str:
    """Replace the placeholders of `deferred` with `resolve(id)`; unwrap links that resolve to nothing.

    Usually every link resolves: then only the addresses change, and each distinct one is resolved
    once. Otherwise each link is looked at whole, to unwrap those that resolve to nothing.
    """
    hrefs: dict[str, str] = {}
    for quoted in dict.fromkeys(_PLACEHOLDER_HREF.findall(fragment)):   # distinct, in order
        url = resolve(_html.unescape(quoted))
        if not url:
            return _unwrap_links(fragment, resolve)
        hrefs[quoted] = f'href="{_html.escape(url, quote=True)}"'
    return _PLACEHOLDER_HREF.sub(lambda m: hrefs[m.group(1)], fragment)


def _unwrap_links(fragment: str, resolve: Resolver) -> str:
    """fill_links, link by link: links that resolve to nothing become spans."""
    def replace(m: re.Match) -> str:
        before, ident, after, inner = m.group(1), _html.unescape(m.group(2)), m.group(3), m.group(4)
        url = resolve(ident)
        if url:
            return f'<a {before}href="{_html.escape(url, quote=True)}"{after}>{inner}</a>'
        attrs = (before + after).strip()
        return f"<span {attrs}>{inner}</span>" if attrs else f"<span>{inner}</span>"
    return _PLACEHOLDER_LINK.sub(replace, fragment)
