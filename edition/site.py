"""The HTML edition: view models from the corpus, pages laid out by Jinja2 templates.

Only this module and edition/render know Jinja2 and HTML. Templates receive plain
dataclasses and pre-rendered, escaped fragments (Markup); they never see lxml elements.
A project overrides the default theme file by file in its own `templates/` folder.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import jinja2
from markupsafe import Markup, escape

from . import render
from .config import Config
from .corpus import AUTHORITIES, LINK_LABELS, REGISTER_KINDS, Corpus, Entry, Letter, human_date
from .diagnostics import Reporter
from .odd import Schema
from .tei import NS, Source, read_xml



@dataclass
class Link:
    label: str
    url: str


class Backlinks(Sequence):
    """The letters that name an entry, as Links made when they are looked at: a register of a large
    edition holds hundreds of thousands of back-links, which the default theme shows from
    `letters_html` without looking at them one by one."""

    def __init__(self, ids: list[str], letters: dict[str, Letter]):
        self.ids, self.letters = ids, letters

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self.ids)))]
        letter_id = self.ids[i]
        return Link(self.letters[letter_id].subtitle or letter_id, f"letters/{letter_id}.html")


@dataclass
class EntryView:
    id: str
    name: str
    variants: list[str]
    description: str
    dates: str
    geo: str | None
    authorities: list[Link]
    letters: Backlinks                  # Links to the letters that name it
    letters_html: Markup = Markup("")   # the same list as <li> items, pre-rendered for speed


@dataclass
class LetterView:
    id: str
    url: str
    title: str
    subtitle: str
    date: str
    date_iso: str
    year: str
    sender: str
    recipient: str
    direction: str
    place: str
    phase: str
    phase_label: str
    kind: str
    abstract: str
    keywords: list[str]
    source: list[tuple[str, str]]
    translations: list[Link]
    links: list[tuple[str, Link]]
    persons: list[str] = field(default_factory=list)
    regest: Markup = Markup("")
    commentary: Markup = Markup("")
    cite: str = ""


CERT_WORDS = {"low": "low certainty", "medium": "probable", "high": "certain", "unknown": "certainty not assessed"}
DATE_TYPES = {"catalogue": "catalogue", "dateline": "date line", "inferred": "inferred"}


def _dates(letter: Letter) -> str:
    """All the dates of an item, each with its source and certainty: '22 July 1973 (catalogue; low certainty); …'."""
    out = []
    for d in letter.dates:
        if d.when:
            text = human_date(d.when)
        else:
            text = " – ".join(human_date(x) for x in (d.not_before, d.not_after) if x)
        notes = [DATE_TYPES.get(d.type or "", d.type or "")] if d.type else []
        if d.cert:
            notes.append(CERT_WORDS.get(d.cert, d.cert))
        out.append(text + (f" ({'; '.join(n for n in notes if n)})" if notes else ""))
    return "; ".join(out)


def letter_parts(source: Source, reporter: Reporter | None) -> dict[str, str]:
    """A letter's regest and commentary as HTML, internal links left to be filled in by each output
    (render.deferred, then render.fill_links)."""
    body = source.root.find("tei:text/tei:body", NS)
    out: dict[str, str] = {}
    if body is None:
        return out
    for div in body.iterfind("tei:div", NS):
        kind = div.get("type")
        if kind in ("regest", "commentary") and kind not in out:
            out[kind] = render.render_html(div, resolve=render.deferred, reporter=reporter, source=source,
                                           heading_level=2, id_prefix=f"{kind}-").fragment
    return out


def letter_fragments(source: Source, reporter: Reporter | None) -> dict[str, str]:
    """A letter's body rendered once, for every output: the regest and commentary as HTML with
    internal links left to be filled in (letter_parts), and the whole body as plain text."""
    out = letter_parts(source, reporter)
    body = source.root.find("tei:text/tei:body", NS)
    if body is not None:
        out["text"] = render.render_text(body, reporter=reporter, source=source)
    return out


def environment(config: Config) -> jinja2.Environment:
    """The one Jinja2 environment: autoescape on, StrictUndefined, project templates over the default theme."""
    loaders: list[jinja2.BaseLoader] = []
    project_templates = config.root / "templates"
    if project_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(project_templates)))
    loaders.append(jinja2.PackageLoader("edition", "templates"))
    # (auto_reload off: a build does not change its templates, so no page asks the file system whether they did)
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True, auto_reload=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


class Site:
    """The pages of the HTML edition, from the assembled corpus: letter pages one by one, and the
    pages that list the whole edition (home, letters, registers, search, guidelines)."""

    def __init__(self, corpus: Corpus, config: Config, schema: Schema, reporter: Reporter, fragments=None):
        """`fragments(letter)` gives a letter's pre-rendered parts (see `letter_fragments`); without it,
        letters are parsed and rendered here."""
        self.corpus, self.config, self.schema, self.reporter = corpus, config, schema, reporter
        self.fragments = fragments
        self.categories = corpus.categories()
        self.letters_by_id = corpus.letter_index
        self._references: dict[str, tuple[str | None, str | None]] = {}

    # ------------------------------------------------------------ links
    def url_for(self, xml_id: str) -> str | None:
        """Site-root-relative URL of anything with an xml:id."""
        if xml_id in self.letters_by_id:
            return f"letters/{xml_id}.html"
        entry = self.corpus.entry(xml_id)
        if entry is not None:
            return f"{entry.kind.key}.html#{xml_id}"
        return None

    def resolver(self, prefix: str):
        def resolve(xml_id: str) -> str | None:
            url = self.url_for(xml_id)
            return prefix + url if url else None
        return resolve

    # ------------------------------------------------------------ views
    def letter_view(self, letter: Letter, parts: dict[str, str] | None = None) -> LetterView:
        """The view of a letter; with its rendered `parts` (see letter_fragments) for its own page."""
        resolve = self.resolver("../")
        rendered = {k: Markup(render.fill_links(v, resolve)) for k, v in (parts or {}).items()
                    if k in ("regest", "commentary")}
        source_rows = [({"idno": "Signature"}.get(part, part.capitalize()),
                        text + (" (not verified)" if cert in ("low", "medium") else ""))
                       for part, text, cert in letter.source_rows]
        translations = [Link(kind, url) for kind, url, _ in letter.translations if url.startswith(("https://", "http://"))]
        links = []
        for kind in ("repliesTo", "repliedBy", "prev", "next"):
            target = letter.links.get(kind)
            if target and target in self.letters_by_id:
                other = self.letters_by_id[target]
                links.append((LINK_LABELS[kind], Link(other.subtitle or other.id, f"{target}.html")))
        phase = letter.categories.get("phases", "")
        persons = self.corpus.person_names
        view = LetterView(
            id=letter.id,
            url=f"letters/{letter.id}.html",
            title=letter.title,
            subtitle=letter.subtitle or letter.title,
            date=_dates(letter) if letter.dates else "undated",
            date_iso=letter.date,
            year=letter.year,
            sender=letter.sender.name if letter.sender else "",
            recipient=letter.recipient.name if letter.recipient else "",
            direction=f"{letter.sender.ref if letter.sender else ''}-{letter.recipient.ref if letter.recipient else ''}",
            place=letter.place.name if letter.place else "",
            phase=phase,
            phase_label=self.categories.get(phase, ""),
            kind=self.categories.get(letter.categories.get("kinds", ""), ""),
            abstract=letter.abstract,
            keywords=[self.categories.get(k, k) for k in letter.keywords],
            persons=sorted({persons[r] for r in letter.references if r in persons}),
            source=source_rows,
            translations=translations,
            links=links,
            regest=rendered.get("regest", Markup("")),
            commentary=rendered.get("commentary", Markup("")),
        )
        base = self.config.base_url.rstrip("/") + "/" if self.config.base_url else ""
        view.cite = f"{view.subtitle}. In: {self.config.title}. {base}{view.url}"
        return view

    def entry_view(self, entry: Entry) -> EntryView:
        dates = " – ".join(v for k, v in entry.dates.items() if k in ("birth", "from", "when", "notBefore")) if entry.dates else ""
        if entry.dates.get("death") or entry.dates.get("to"):
            dates = f"{dates or '?'} – {entry.dates.get('death') or entry.dates.get('to')}"
        authorities = [Link(AUTHORITIES[t].label + " " + v, AUTHORITIES[t].page.format(v))
                       for t, v in sorted(entry.idnos.items()) if t in AUTHORITIES]
        letters = Backlinks([l for l in entry.letters if l in self.letters_by_id], self.letters_by_id)
        items = self._backlink_items()
        letters_html = Markup("".join(items[l] for l in entry.letters if l in items))
        return EntryView(entry.id, entry.name, list(entry.variants), entry.description, dates, entry.geo,
                         authorities, letters, letters_html)

    def _backlink_items(self) -> dict[str, str]:
        """Each letter's <li> in the back-link lists, escaped once (a register may list it thousands of times)."""
        cached = getattr(self, "_items", None)
        if cached is None:
            cached = self._items = {
                l.id: f'<li><a href="letters/{escape(l.id)}.html">{escape(l.subtitle or l.id)}</a></li>'
                for l in self.corpus.letters}
        return cached

    def edition_sections(self) -> list[Markup]:
        if self.corpus.edition is None:
            return []
        body = self.corpus.edition.root.find("tei:text/tei:body", NS)
        resolve = self.resolver("")
        return [Markup(render.render_html(div, resolve=resolve, reporter=self.reporter, source=self.corpus.edition,
                                          heading_level=2, id_prefix=f"s{i}-").fragment)
                for i, div in enumerate(body.iterfind("tei:div", NS), 1)]

    def charts(self, letters: list[LetterView]) -> dict:
        from . import charts, stats

        figures = stats.compute(self.corpus)
        phases = []
        for phase_id, label in self.categories.items():
            years = [int(l.year) for l in letters if l.phase == phase_id and l.year.isdigit()]
            if years:
                phases.append(charts.Phase(phase_id, re.sub(r",?\s*\d{4}\s*[–-]\s*\d{4}\s*$", "", label),
                                           min(years), max(years)))
        return {
            "timeline": Markup(charts.timeline(figures.by_year, figures.directions, phases)),
            "network": Markup(charts.network(self.corpus)),
            "by_year": figures.by_year,
            "directions": figures.directions,
        }

    # ------------------------------------------------------------ pages
    def _render(self, path: str, template: str, **context) -> str:
        # render() joins the template's pieces itself, without the generator around them that _stream's needs
        return self.templates().get_template(template).render(self._context(path, context))

    def templates(self) -> jinja2.Environment:
        """The Jinja2 environment, made once; `load_templates` compiles the templates ahead (before
        worker processes fork, so that they share them instead of compiling their own)."""
        env = getattr(self, "_env", None)
        if env is None:
            env = self._env = environment(self.config)
        return env

    def load_templates(self) -> None:
        env = self.templates()
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)

    def _stream(self, path: str, template: str, **context) -> Iterator[str]:
        """A page's text in pieces, made as they are taken (a list of the whole edition is never one string)."""
        return self.templates().get_template(template).generate(self._context(path, context))

    def _context(self, path: str, context: dict) -> dict:
        """What the template of the page at `path` is given: `context` and what every page shows."""
        common = {"title": self.config.title, "registers": [(k.key, k.label) for k in REGISTER_KINDS]}
        return dict(root="../" * path.count("/"), page=path, **common, **context)

    def parts(self, letter: Letter) -> dict[str, str]:
        if self.fragments is not None:
            return self.fragments(letter)
        return letter_fragments(read_xml(letter.path), self.reporter)

    def letter_page(self, letter: Letter, parts: dict[str, str]) -> str:
        view = self.letter_view(letter, parts)
        return self._render(view.url, "letter.html", letter=view)

    def letter_key(self, letter: Letter, digest: str) -> str:
        """A key of everything a letter's page and text file show: it changes when they must be made again."""
        related = [(kind, target, (self.letters_by_id[target].subtitle if target in self.letters_by_id else None))
                   for kind, target in sorted(letter.links.items())]
        resolvable = [(ref, self._reference_key(ref)) for ref in sorted(set(letter.references))]
        categories = [self.categories.get(k) for k in (*letter.keywords, *letter.categories.values())]
        # the letter's record comes from its document alone: the document's digest and path stand for it
        return hashlib.sha256(repr((digest, str(letter.path), related, resolvable, categories)).encode("utf-8")).hexdigest()

    def _reference_key(self, xml_id: str) -> tuple[str | None, str | None]:
        """What a page shows of a pointer's target: its address and name (worked out once per target)."""
        found = self._references.get(xml_id)
        if found is None:
            found = self._references[xml_id] = (self.url_for(xml_id), getattr(self.corpus.entry(xml_id), "name", None))
        return found

    def global_pages(self) -> Iterator[tuple[str, Iterator[str]]]:
        """The pages that list or count the whole edition (everything but the letters' own pages), one
        by one: each page's path and its text in pieces (see `_stream`), to be taken before the next."""
        letters = [self.letter_view(l) for l in self.corpus.letters]
        yield "index.html", self._stream("index.html", "index.html", sections=self.edition_sections(), letters=letters,
                                         charts=self.charts(letters))
        phases = [(k, v) for k, v in self.categories.items() if k.startswith("phase-")]
        years = sorted({l.year for l in letters})
        yield "letters.html", self._stream("letters.html", "letters.html", letters=letters, phases=phases, years=years)
        for kind in REGISTER_KINDS:
            entries = sorted((self.entry_view(e) for e in self.corpus.entries[kind.key].values()),
                             key=lambda e: e.name.casefold())
            yield f"{kind.key}.html", self._stream(f"{kind.key}.html", "register.html", kind=kind, entries=entries)
        yield "search.html", self._stream("search.html", "search.html", years=years,
                                          directions=sorted({f"{l.sender} → {l.recipient}" for l in letters}),
                                          persons=sorted({p for l in letters for p in l.persons}, key=str.casefold))
        yield "guidelines.html", self._stream("guidelines.html", "guidelines.html", schema=self.schema,
                                              elements=sorted(self.schema.elements.values(),
                                                              key=lambda e: e.name.casefold()))

    def pages(self) -> dict[str, str]:
        """Every page of the site: relative path -> HTML text (for small editions and tests)."""
        out = {path: "".join(pieces) for path, pieces in self.global_pages()}
        for letter in self.corpus.letters:
            out[f"letters/{letter.id}.html"] = self.letter_page(letter, self.parts(letter))
        return out
