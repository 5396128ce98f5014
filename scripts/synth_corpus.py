"""Write a synthetic edition of N letters, for measuring the toolkit on large corpora.

    .venv/bin/python scripts/synth_corpus.py --letters 10000 --out /tmp/big [--seed 1]
    .venv/bin/edition -C /tmp/big validate --strict

The folder is a complete project (edition.toml, schema/, tei/) that passes
`edition validate --strict`; the same seed gives the same bytes. The logic is in edition/synth.py.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from edition.diagnostics import EditionError
from edition.synth import synthesize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, required=True, help="number of letters (1 or more)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (must not exist or be empty)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = synthesize(args.out, args.letters, args.seed)
    except EditionError as exc:
        print(f"synth_corpus: error: {exc}", file=sys.stderr)
        return exc.exit_code
    seconds = time.perf_counter() - started
    s = result.sizes
    print(f"wrote {result.letters:,} letters to {result.root} in {seconds:.2f} s "
          f"({result.bytes / 1e6:.1f} MB of TEI, {result.bytes / result.letters / 1e3:.1f} KB a letter on average)")
    print(f"registers: {s.persons:,} persons, {s.places:,} places, {s.organisations:,} organisations, "
          f"{s.events:,} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
