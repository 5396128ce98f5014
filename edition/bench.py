"""Benchmarks: wall time and peak memory of the toolkit's commands on synthetic corpora.

Every figure comes from running a real command in a subprocess, side by side in one run:
`edition validate`, `edition build` (full), a rebuild after changing one letter (the median of
REBUILDS, each after one more correction), jing against
tei_all on the same files (where jing and tei_all.rng are at hand) and lxml's bare parse of the
same files (the floor). Peak memory is the largest sum of proportional set sizes (PSS) over the
command's process tree, sampled every 20 ms (PSS counts memory a forked worker shares with its
parent once; a child between vfork and exec, which shares its parent's address space, is not
counted again). The result is printed as a table with ratios and written to
`<out>/bench.md` and `<out>/bench.json`. Speed is never asserted in tests; this prints figures.
"""
from __future__ import annotations

import compileall
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .synth import synthesize


#: The kernel's flag of a process forked that has not called exec yet (PF_FORKNOEXEC).
_FORKED_NO_EXEC = 0x40
#: The number of the kcmp system call, which tells whether two processes share an address space.
_KCMP = {"x86_64": 312, "aarch64": 272}
_KCMP_VM = 1


def _stat(pid: int) -> tuple[int, tuple[int, int]]:
    """(flags, (virtual size, resident pages)) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[6]), (int(fields[20]), int(fields[21]))


@functools.cache
def _syscall():
    import ctypes

    return ctypes.CDLL(None, use_errno=True).syscall


def _same_address_space(a: int, b: int) -> bool | None:
    """Whether two processes share one address space (the kcmp system call); None where that
    cannot be asked (another system, or not permitted)."""
    number = _KCMP.get(platform.machine())
    if not sys.platform.startswith("linux") or number is None:
        return None
    try:
        result = _syscall()(number, a, b, _KCMP_VM, 0, 0)
    except (OSError, AttributeError):
        return None
    return None if result < 0 else result == 0


def shares_parent_memory(child: tuple[int, tuple[int, int]], parent_sizes: tuple[tuple[int, int], ...]) -> bool:
    """Where kcmp cannot tell: whether a child looks like one between vfork and exec (as subprocess
    starts a program, sharing its parent's memory outright): it has not called exec, and its sizes
    lie between its parent's, read just before and just after it (the parent's other threads may
    be allocating meanwhile). (A worker forked long ago has sizes of its own; one just forked
    looks the same, and goes uncounted for a moment.)"""
    flags, sizes = child
    return bool(flags & _FORKED_NO_EXEC) and all(
        min(values) <= size <= max(values) for size, values in zip(sizes, zip(*parent_sizes)))


def _tree_memory(pid: int) -> int:
    """Memory of a process and all its descendants (Linux /proc): the sum of their proportional
    set sizes (PSS), so that pages a forked worker shares with its parent count once, not twice.
    A child between vfork and exec, which shares its parent's address space (its PSS is the
    parent's), is not counted again."""
    total, todo = 0, [(pid, None)]
    while todo:
        p, parent = todo.pop()
        try:
            shared = False
            if parent is not None:
                before = _stat(parent)[1]
                stat = _stat(p)
                if stat[0] & _FORKED_NO_EXEC:
                    shared = _same_address_space(parent, p)
                    if shared is None:
                        shared = shares_parent_memory(stat, (before, _stat(parent)[1]))
            if not shared:
                with open(f"/proc/{p}/smaps_rollup") as fh:
                    for line in fh:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1]) * 1024
                            break
            for task in os.listdir(f"/proc/{p}/task"):      # a child started by a thread is that thread's child
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend((int(c), p) for c in fh.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


@dataclass
class Run:
    seconds: float
    peak_mb: float
    ok: bool
    output: str = ""


def measure(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> Run:
    """Wall time and peak memory of a command. What earlier commands wrote is put on disk first
    (sync), so that a command does not pay for the writes of the one before it (a rebuild measured
    right after a full build would otherwise share the disk with the full build's gigabyte)."""
    if hasattr(os, "sync"):
        os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_memory(proc.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    output = proc.stdout.read() if proc.stdout else ""
    return Run(round(seconds, 2), round(peak / 2**20, 1), proc.returncode == 0, output[-2000:])


BARE_PARSE = """
import sys
from lxml import etree
parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
n = 0
for line in open(sys.argv[1]):
    etree.parse(line.strip(), parser)
    n += 1
print(n, "parsed")
"""


@dataclass
class Row:
    letters: int
    documents: int
    runs: dict[str, Run] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _edition(*args: str) -> list[str]:
    return [sys.executable, "-m", "edition", *args]


def _change_one_letter(tei: Path) -> Path:
    """Edit one letter's regest the way an editor corrects a word; return its path."""
    letters = sorted((tei / "letters").glob("*.xml"))
    letter = letters[len(letters) // 2]
    text = letter.read_text(encoding="utf-8")
    changed, n = re.subn(r"(<div type=\"regest\">.*?<p>)", r"\1Corrected. ", text, count=1, flags=re.S)
    if n == 0:
        raise RuntimeError(f"no regest to change in {letter}")
    letter.write_text(changed, encoding="utf-8")
    return letter


#: Rebuilds measured, each after one more correction: the table gives the median (one rebuild of two
#: seconds is easily thrown by the machine), with the highest peak of memory.
REBUILDS = 3


def _rebuild(folder: Path) -> Run:
    runs = []
    for _ in range(REBUILDS):
        _change_one_letter(folder / "tei")
        runs.append(measure(_edition("-C", str(folder), "build", "--timings")))
    median = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    return replace(median, peak_mb=max(r.peak_mb for r in runs), ok=all(r.ok for r in runs))


def _timings(output: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^timing: ([\w -]+?) ([\d.]+) s$", output, re.M)}


def run(sizes: list[int], out: Path, tei_all: Path | None, build_limit: int, seed: int = 1,
        report=lambda row: None) -> list[Row]:
    """Measure each size; `report(row)` is called as each row is done (the script prints it)."""
    out.mkdir(parents=True, exist_ok=True)
    # the toolkit's bytecode, as an installed package has it (or Python writes it on a first run):
    # where PYTHONDONTWRITEBYTECODE is set, each command measured would compile every module again
    compileall.compile_dir(Path(__file__).parent, quiet=1)
    jing = shutil.which("jing")
    rows = []
    for n in sizes:
        folder = out / f"corpus-{n}"
        if folder.exists():
            shutil.rmtree(folder)
        synthesize(folder, n, seed=seed)
        files = sorted(str(p) for p in (folder / "tei").rglob("*.xml"))
        listing = out / f"files-{n}.txt"
        listing.write_text("\n".join(files) + "\n", encoding="utf-8")
        row = Row(n, len(files))
        row.runs["bare parse"] = measure([sys.executable, "-c", BARE_PARSE, str(listing)])
        row.runs["validate"] = measure(_edition("-C", str(folder), "validate"))
        if jing and tei_all and tei_all.exists():
            row.runs["jing tei_all"] = measure(["jing", str(tei_all), *files])
        if n <= build_limit:
            full = measure(_edition("-C", str(folder), "build", "--full", "--timings"))
            row.runs["build"] = full
            row.timings = _timings(full.output)
            row.runs["rebuild 1 letter"] = _rebuild(folder)
        rows.append(row)
        report(row)
    return rows


def _ratio(a: Run | None, b: Run | None, digits: int = 2) -> str:
    if not a or not b or not b.seconds:
        return "-"
    return f"{a.seconds / b.seconds:.{digits}f}"


def format_row(row: Row) -> str:
    parts = [f"{row.letters} letters:"]
    for name, r in row.runs.items():
        parts.append(f"{name} {r.seconds} s / {r.peak_mb} MB{'' if r.ok else ' (FAILED)'}")
    return "  ".join(parts)


def render_seconds(timings: dict[str, float]) -> float:
    """The CPU seconds a full build spent rendering HTML and text: the letters' bodies (summed over
    the processes that rendered them), the pages and the text edition (CPU of the build and of its
    page workers, as the build reports them)."""
    if "render pages cpu" not in timings:
        return 0.0
    return (timings.get("render letter bodies summed over processes", 0.0) + timings["render pages cpu"]
            + timings.get("render text edition cpu", 0.0))


def table(rows: list[Row]) -> str:
    names = ["bare parse", "validate", "jing tei_all", "build", "rebuild 1 letter"]
    head = "| letters | " + " | ".join(f"{n} s (peak MB)" for n in names) + \
        " | validate / jing | validate / parse | rebuild / build | rendering, letters per CPU second |"
    lines = [head, "|" + "---|" * (len(names) + 5)]
    for row in rows:
        cells = []
        for n in names:
            r = row.runs.get(n)
            cells.append(f"{r.seconds} ({r.peak_mb:.0f})" + ("" if r.ok else " FAILED") if r else "-")
        rate = f"{row.letters / seconds:.0f}" if (seconds := render_seconds(row.timings)) else "-"
        lines.append(f"| {row.letters:,} | " + " | ".join(cells) + f" | {_ratio(row.runs.get('validate'), row.runs.get('jing tei_all'))}"
                     f" | {_ratio(row.runs.get('validate'), row.runs.get('bare parse'))}"
                     f" | {_ratio(row.runs.get('rebuild 1 letter'), row.runs.get('build'), 3)} | {rate} |")
    return "\n".join(lines) + "\n"


def write(rows: list[Row], out: Path) -> None:
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    (out / "bench.md").write_text(f"Benchmark ({machine})\n\n" + table(rows), encoding="utf-8")
    (out / "bench.json").write_text(json.dumps([asdict(r) for r in rows], indent=2), encoding="utf-8")
