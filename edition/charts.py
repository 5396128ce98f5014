"""Charts drawn at build time as inline SVG: readable without JavaScript, printable, accessible.

- `timeline`: items per year, one bar per direction, the phases of the correspondence marked.
- `network`: correspondents and the persons the letters name, linked by how often they occur together.

Every text that comes from the data is escaped; each chart has a <title> and a <desc>, and
the numbers are also given as a table next to it (the figure is not the only way to read them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from .corpus import Corpus

#: Colours with at least 3:1 contrast against the page background, one per direction (by rank).
PALETTE = ("#7a1f1f", "#1a4f8b", "#2f6b2f", "#6b4a00", "#5a2d7a")


@dataclass
class Phase:
    id: str
    label: str
    start: int      # first year
    end: int        # last year


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def timeline(by_year: dict[str, dict[str, int]], directions: list[str], phases: list[Phase]) -> str:
    """Grouped bars: items per year and direction; phases as labelled bands."""
    years = [int(y) for y in by_year if y.isdigit()]
    if not years:
        return ""
    first, last = min(years), max(years)
    span = list(range(first, last + 1))
    width, left, top, plot_h = 640, 40, 48, 170
    height = top + plot_h + 30 + 15 * math.ceil(len(directions) / 2) + 6
    plot_w = width - left - 10
    peak = max([n for row in by_year.values() for n in row.values()] + [1])
    slot = plot_w / len(span)
    bar = max(4.0, (slot - 8) / max(1, len(directions)))
    parts = [
        f'<svg class="chart timeline" viewBox="0 0 {width} {height}" role="img" aria-labelledby="tl-title tl-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        '<title id="tl-title">Items per year and direction</title>',
        f'<desc id="tl-desc">Bar chart of the items of the correspondence per year from {first} to {last}, '
        'one bar per direction, with the phases of the correspondence marked above.</desc>',
    ]
    for i, phase in enumerate(phases):
        x0 = left + (max(phase.start, first) - first) * slot
        x1 = left + (min(phase.end, last) - first + 1) * slot
        shade = "#f1ede2" if i % 2 == 0 else "#e6e0d0"
        parts.append(f'<rect x="{x0:.1f}" y="{top - 6}" width="{x1 - x0:.1f}" height="{plot_h + 6}" fill="{shade}"/>')
        parts.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top - 26 + (i % 2) * 12}" text-anchor="middle" font-size="11">{_e(phase.label)}</text>')
    for tick in range(0, peak + 1, max(1, math.ceil(peak / 4))):
        y = top + plot_h - tick / peak * plot_h
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#bbb" stroke-width="0.5"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick}</text>')
    for yi, year in enumerate(span):
        row = by_year.get(str(year), {})
        for di, direction in enumerate(directions):
            n = row.get(direction, 0)
            if not n:
                continue
            h = n / peak * plot_h
            x = left + yi * slot + 4 + di * bar
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[di % len(PALETTE)]}"><title>{_e(year)}: {n} × {_e(direction)}</title></rect>')
        parts.append(f'<text x="{left + (yi + 0.5) * slot:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">{year}</text>')
    for di, direction in enumerate(directions):
        x = left + (di % 2) * 300
        y = top + plot_h + 34 + (di // 2) * 15
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[di % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11">{_e(direction)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def network(corpus: Corpus, limit: int = 14) -> str:
    """Correspondents in the centre, the persons named most often around them; lines = letters in common."""
    persons = corpus.person_names
    counts: dict[str, int] = {}
    for letter in corpus.letters:
        for ref in set(letter.references):
            if ref in persons:
                counts[ref] = counts.get(ref, 0) + 1
    main: list[str] = []                  # the first two persons who write or receive a letter
    for letter in corpus.letters:
        for party in (letter.sender, letter.recipient):
            if party and party.ref in persons and party.ref not in main:
                main.append(party.ref)
        if len(main) >= 2:
            break
    main = main[:2]
    others = [p for p, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if p not in main][:limit]
    if not main:
        return ""
    width, height = 640, 420
    cx, cy, radius = width / 2, height / 2, 160
    pos = {}
    for i, p in enumerate(main):
        pos[p] = (cx + (i - (len(main) - 1) / 2) * 120, cy)
    for i, p in enumerate(others):
        angle = 2 * math.pi * i / max(1, len(others)) - math.pi / 2
        pos[p] = (cx + radius * 1.45 * math.cos(angle), cy + radius * math.sin(angle))
    together: dict[tuple[str, str], int] = {}
    placed = set(pos)
    for letter in corpus.letters:
        named = placed.intersection(letter.references)
        for a in named:
            for b in named:
                if a < b:
                    together[(a, b)] = together.get((a, b), 0) + 1
    parts = [
        f'<svg class="chart network" viewBox="0 0 {width} {height}" role="group" aria-labelledby="nw-title nw-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        '<title id="nw-title">Correspondents and the persons their letters name</title>',
        '<desc id="nw-desc">Network diagram: the two correspondents in the centre, around them the persons named '
        'most often; a line joins two persons named in the same letter, thicker for more letters.</desc>',
    ]
    for (a, b), n in sorted(together.items()):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#8a8070" '
                     f'stroke-opacity="0.45" stroke-width="{min(6, 0.6 + n * 0.35):.2f}"/>')
    for p, (x, y) in pos.items():
        entry = corpus.entry(p)
        r = 16 if p in main else 5 + min(9, counts.get(p, 0))
        colour = PALETTE[0] if p in main else PALETTE[1]
        parts.append(f'<a href="persons.html#{_e(p)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}">'
                     f'<title>{_e(entry.name)}: named in {counts.get(p, 0)} letters</title></circle>'
                     f'<text x="{x:.1f}" y="{y + r + 13:.1f}" text-anchor="middle" font-size="12">{_e(entry.name)}</text></a>')
    parts.append("</svg>")
    return "".join(parts)
