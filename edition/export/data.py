"""`data`: the letters and the registers as JSON, with their links, for reuse.

One file per kind, UTF-8, the same envelope in each ("version" changes only when the shape does):

    data/letters.json        {"version": 1, "edition": EDITION, "letters": [LETTER, ...]}   (order of date)
    data/persons.json        {"version": 1, "edition": EDITION, "persons": [ENTRY, ...]}   (order of id)
    data/places.json         ... "places": [ENTRY, ...]
    data/organisations.json  ... "organisations": [ENTRY, ...]
    data/events.json         ... "events": [ENTRY, ...]

    EDITION = {"title": str, "url": str, "publisher": str, "licence": str, "licence_url": str}
    LETTER  = {"id": "tk-001", "url": page in the HTML edition, "tei": path in the TEI export,
               "title": catalogue title, "short_title": "Sender to Recipient, date",
               "date": reference date (ISO 8601, may be "YYYY" or "YYYY-MM"),
               "dates": [{"when", "not_before", "not_after", "type", "cert", "text"}]  (null where absent),
               "sender": PARTY | null, "recipient": PARTY | null, "place": PARTY | null (place of writing),
               "abstract": str, "keywords": [{"id", "label"}], "phase": {"id", "label"} | null,
               "kind": {"id", "label"} | null, "signature": str | null,
               "links": {"prev", "next", "repliesTo", "repliedBy": letter id | null},
               "mentions": {"persons" | "places" | "organisations" | "events": [entry id, ...]}}
                          (each entry once, in order of first mention)
    PARTY   = {"id": register id | null, "name": str, "cert": "high" | "medium" | "low" | null}
    ENTRY   = {"id", "url": its place in the register page, "name", "variants": [str],
               "description": str, "dates": {"birth" | "death" | "when" | "from" | "to" | ...: ISO date},
               "geo": {"lat": float, "long": float} | null   (places),
               "authorities": [{"type": "wikidata" | "viaf" | "gnd" | "lcnaf" | "isni" | "geonames",
                                "id": str, "uri": str}],
               "letters": [letter id, ...]   (the items that name it, in order of date)}

data/letters.json is written one letter at a time.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..corpus import REGISTER_KINDS, Entry, Letter, Party
from ._common import AUTHORITY_URIS, ExportContext, json_text

FOLDER = "data"
VERSION = 1


def _party(ctx: ExportContext, party: Party | None) -> dict | None:
    if party is None:
        return None
    entry = ctx.corpus.entry(party.ref) if party.ref else None
    return {"id": party.ref, "name": entry.name if entry is not None and entry.name else party.name,
            "cert": party.cert}


def _category(categories: dict[str, str], ident: str | None) -> dict | None:
    return {"id": ident, "label": categories.get(ident, "")} if ident else None


def letter_record(ctx: ExportContext, letter: Letter, categories: dict[str, str]) -> dict:
    mentions: dict[str, list[str]] = {k.key: [] for k in REGISTER_KINDS}
    for ref in dict.fromkeys(letter.references):
        entry = ctx.corpus.entry(ref)
        if entry is not None:
            mentions[entry.kind.key].append(ref)
    return {
        "id": letter.id,
        "url": ctx.letter_url(letter.id),
        "tei": f"tei/{letter.path.relative_to(ctx.corpus.root).as_posix()}",
        "title": letter.title,
        "short_title": letter.subtitle,
        "date": letter.date,
        "dates": [{"when": d.when, "not_before": d.not_before, "not_after": d.not_after, "type": d.type,
                   "cert": d.cert, "text": d.text} for d in letter.dates],
        "sender": _party(ctx, letter.sender),
        "recipient": _party(ctx, letter.recipient),
        "place": _party(ctx, letter.place),
        "abstract": letter.abstract,
        "keywords": [{"id": k, "label": categories.get(k, "")} for k in letter.keywords],
        "phase": _category(categories, letter.categories.get("phases")),
        "kind": _category(categories, letter.categories.get("kinds")),
        "signature": letter.signature,
        "links": {kind: letter.links.get(kind) for kind in ("prev", "next", "repliesTo", "repliedBy")},
        "mentions": mentions,
    }


def _geo(value: str | None) -> dict | None:
    try:
        lat, long = (float(v) for v in (value or "").split())
    except ValueError:
        return None
    return {"lat": lat, "long": long}


def entry_record(ctx: ExportContext, entry: Entry) -> dict:
    record = {
        "id": entry.id,
        "url": ctx.entry_url(entry),
        "name": entry.name,
        "variants": list(entry.variants),
        "description": entry.description,
        "dates": dict(entry.dates),
    }
    if entry.kind.key == "places":
        record["geo"] = _geo(entry.geo)
    record["authorities"] = [{"type": t, "id": entry.idnos[t], "uri": AUTHORITY_URIS[t].format(entry.idnos[t])}
                             for t in AUTHORITY_URIS if entry.idnos.get(t)]
    record["letters"] = list(entry.letters)
    return record


def _dump(doc: dict) -> bytes:
    return (json_text(doc) + "\n").encode("utf-8")


def _write_list(ctx: ExportContext, rel: str, envelope: dict, key: str, items: Iterable[dict]) -> None:
    """Write `envelope` with `items` as its list `key` (the envelope's last member), one item at a time;
    the same bytes as `_dump`."""
    with open(ctx.out.new_file(rel), "wb") as fh:
        fh.write(json_text(envelope)[:-2].encode("utf-8"))           # without "\n}"
        fh.write(f",\n  {json_text(key)}: [".encode("utf-8"))
        separator = b"\n    "
        for item in items:
            fh.write(separator)
            fh.write(json_text(item, 2).encode("utf-8"))
            separator = b",\n    "
        fh.write(b"]\n}\n" if separator == b"\n    " else b"\n  ]\n}\n")
    ctx.out.record(rel)


def export_data(ctx: ExportContext) -> None:
    info = ctx.edition()
    edition = {"title": info.title, "url": ctx.base_url, "publisher": info.publisher, "licence": info.licence,
               "licence_url": info.licence_url}
    categories = ctx.corpus.categories()
    _write_list(ctx, f"{FOLDER}/letters.json", {"version": VERSION, "edition": edition}, "letters",
                (letter_record(ctx, l, categories) for l in ctx.corpus.letters))
    for kind in REGISTER_KINDS:
        entries = sorted(ctx.corpus.entries[kind.key].values(), key=lambda e: e.id)
        ctx.out.write(f"{FOLDER}/{kind.key}.json", _dump({
            "version": VERSION, "edition": edition, kind.key: [entry_record(ctx, e) for e in entries]}))
