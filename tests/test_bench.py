"""The benchmark script runs end to end on a tiny corpus (figures are printed, never asserted)."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_bench_runs_and_writes_its_table(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--sizes", "6", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = (out / "bench.md").read_text(encoding="utf-8")
    assert "| 6 |" in table
    for column in ("bare parse", "validate", "build", "rebuild 1 letter"):
        assert column in table
    assert "FAILED" not in table, table
    row = next(line for line in table.splitlines() if line.startswith("| 6 |"))
    assert "rendering, letters per CPU second" in table
    assert row.rstrip(" |").rsplit("|", 1)[1].strip().isdigit(), row        # the build reported its rendering time
