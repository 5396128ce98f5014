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


def test_a_child_between_vfork_and_exec_is_not_counted_twice():
    """Where kcmp cannot tell, a child that shares its parent's memory (vfork, before exec) is told by
    the kernel's flag and sizes between its parent's, read just before and after it; a child that
    has called exec, or a forked worker whose sizes differ, is counted."""
    from edition.bench import shares_parent_memory

    parent = ((900, 50), (904, 51))                # its other threads allocate meanwhile
    not_exec, execd = 0x40 | 0x400000, 0x400000
    assert shares_parent_memory((not_exec, (900, 50)), parent)
    assert shares_parent_memory((not_exec, (900, 51)), parent)     # one size read before, one after
    assert not shares_parent_memory((execd, (900, 50)), parent)
    assert not shares_parent_memory((not_exec, (902, 70)), parent)


def test_kcmp_tells_a_shared_address_space():
    """A process shares its own address space, not a child's (where kcmp can be asked)."""
    import os

    import pytest

    from edition.bench import _same_address_space

    itself = _same_address_space(os.getpid(), os.getpid())
    if itself is None:
        pytest.skip("the kcmp system call cannot be asked here")
    assert itself is True
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
    try:
        assert _same_address_space(os.getpid(), child.pid) is False
    finally:
        child.kill()
        child.wait()
