"""`edition stats`: the figures an editor asks about, computed from the corpus model."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from statistics import median

from .corpus import REGISTER_KINDS, Corpus


@dataclass
class Stats:
    letters: int
    by_year: dict[str, dict[str, int]]          # year -> direction -> count
    directions: list[str]
    registers: dict[str, dict]                  # kind -> {entries, referenced, with_authority, authorities{type: n}}
    references: dict[str, dict]                 # letter id -> {date, total, distinct}
    references_summary: dict[str, float]
    uncertain_dates: int

    def as_dict(self) -> dict:
        return asdict(self)


def _direction(letter) -> str:
    sender = letter.sender.name if letter.sender else "?"
    recipient = letter.recipient.name if letter.recipient else "?"
    return f"{sender} → {recipient}"


def compute(corpus: Corpus) -> Stats:
    directions = Counter(_direction(l) for l in corpus.letters)
    main_directions = [d for d, _ in sorted(directions.items(), key=lambda kv: (-kv[1], kv[0]))]
    by_year: dict[str, dict[str, int]] = {}
    for letter in corpus.letters:
        year = by_year.get(letter.year or "undated")
        if year is None:                       # (made once per year, not once per letter)
            year = by_year[letter.year or "undated"] = dict.fromkeys(main_directions, 0)
        year[_direction(letter)] += 1
    registers = {}
    for kind in REGISTER_KINDS:
        entries = corpus.entries[kind.key].values()
        types = Counter(t for e in entries for t in e.idnos)
        registers[kind.key] = {
            "entries": len(entries),
            "referenced": sum(1 for e in entries if e.letters),
            "with_authority": sum(1 for e in entries if e.idnos),
            "authorities": dict(sorted(types.items())),
        }
    known = {e for kind in corpus.entries.values() for e in kind}
    references = {}
    for letter in corpus.letters:
        refs = [r for r in letter.references if r in known]
        references[letter.id] = {"date": letter.date, "total": len(refs), "distinct": len(set(refs))}
    totals = [r["total"] for r in references.values()] or [0]
    return Stats(
        letters=len(corpus.letters),
        by_year=dict(sorted(by_year.items())),
        directions=main_directions,
        registers=registers,
        references=references,
        references_summary={"min": min(totals), "median": float(median(totals)), "max": max(totals),
                            "mean": round(sum(totals) / len(totals), 1)},
        uncertain_dates=sum(1 for l in corpus.letters if len(l.dates) > 1 or any(d.cert in ("low", "medium") for d in l.dates)),
    )


def format_text(stats: Stats) -> str:
    out = [f"Letters: {stats.letters} ({stats.uncertain_dates} with uncertain or conflicting dates)", ""]
    years = list(stats.by_year)
    width = max([len(d) for d in stats.directions] + [5])
    out.append("Items per year and direction")
    out.append("  " + " " * width + "".join(f"{y:>6}" for y in years) + "  total")
    for d in stats.directions:
        counts = [stats.by_year[y].get(d, 0) for y in years]
        out.append(f"  {d:<{width}}" + "".join(f"{n:>6}" for n in counts) + f"  {sum(counts):>5}")
    totals = [sum(stats.by_year[y].values()) for y in years]
    out.append(f"  {'all':<{width}}" + "".join(f"{n:>6}" for n in totals) + f"  {sum(totals):>5}")
    out.append("")
    out.append("Registers                entries  referenced  with authority id  ids by type")
    for key, r in stats.registers.items():
        pct = f"{100 * r['with_authority'] / r['entries']:.0f}%" if r["entries"] else "-"
        ids = ", ".join(f"{t} {n}" for t, n in r["authorities"].items()) or "-"
        out.append(f"  {key:<22} {r['entries']:>7}  {r['referenced']:>10}  {r['with_authority']:>8} ({pct:>4})   {ids}")
    out.append("")
    s = stats.references_summary
    out.append(f"References to register entries per letter: min {s['min']}, median {s['median']:g}, "
               f"mean {s['mean']:g}, max {s['max']}")
    for letter_id, r in stats.references.items():
        out.append(f"  {letter_id}  {r['date']:<10}  {r['total']:>3} references, {r['distinct']:>3} distinct entries")
    return "\n".join(out) + "\n"
