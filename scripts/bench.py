#!/usr/bin/env python3
"""Benchmark the toolkit on synthetic editions and print the figures side by side.

    python scripts/bench.py                      # 25, 1,000 and 10,000 letters
    python scripts/bench.py --sizes 25,1000      # a quicker run

For each size: lxml's bare parse (the floor), `edition validate`, jing against tei_all
(where jing is installed and tei_all.rng is cached in build/cache/), a full `edition build`
and a rebuild after changing one letter; wall time and peak memory of each, and the ratios.
The table is written to build/bench/bench.md (and bench.json). The logic is in edition/bench.py.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from edition import bench  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25,1000,10000", help="comma-separated numbers of letters")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench", help="where corpora and results go")
    parser.add_argument("--build-limit", type=int, default=10_000, help="build only corpora up to this size")
    parser.add_argument("--tei-all", type=Path, default=REPO / "build" / "cache" / "tei_all.rng")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = bench.run(sizes, args.out, args.tei_all, args.build_limit,
                     report=lambda row: print(bench.format_row(row), flush=True))
    bench.write(rows, args.out)
    print()
    print(bench.table(rows))
    print(f"written to {args.out / 'bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
