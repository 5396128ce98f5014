"""`edition validate`: every layer, every problem, one run.

Layers, in order: well-formedness (safe parser), RELAX NG, Schematron, corpus integrity.
A document that is not well-formed is reported and left out of the later layers; the
other documents are still checked.

The pipeline, for a large corpus:

1. The main process loads the schemas once (`Checker`), lists the documents and numbers
   them in path order.
2. It forks `jobs` workers, which inherit the checker and the numbered list: a task is just
   a range of numbers (`_check_range`, larger ranges first, smaller ones towards the end).
   Each worker reads every document of its range once, runs layers 1-3 on it, and adds it
   to a small corpus index (integrity.CorpusIndex); it sends back the diagnostics and that
   index packed into a few flat lists and arrays, without the paths the main process knows
   (CorpusIndex.pack).
3. Meanwhile the main process checks whether the generated schema is stale, then merges
   the indexes in document order as they arrive (CorpusIndex.merge_packed), while the
   workers go on with later ranges, and at last runs the corpus checks (layer 4) on the
   merged index.

Where processes cannot be forked, they are spawned and load the schemas themselves.
Garbage collection is paused for the run, in every process: the run makes many small
objects and no cycles worth looking for, and a collection would walk the whole growing
index again and again. Below POOL_THRESHOLD documents (or with `jobs=1`) everything runs
in the main process.
"""
from __future__ import annotations

import errno
import gc
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..diagnostics import Reporter
from ..odd import SchemaFiles, load
from ..tei import XMLInputError, read_xml
from . import integrity
from .relaxng import RelaxNG
from .schematron import Schematron, check as schematron_check


@dataclass
class Result:
    files: list[Path]          # the files that were checked (and reported on)


#: How paths are ordered: as pathlib orders them (on POSIX, by their parts), but by a key
#: that is compared in C rather than by Path.__lt__ for every comparison.
PATH_ORDER = (lambda p: p.parts) if os.name == "posix" else None


def collect(paths: list[Path]) -> list[Path]:
    """XML files under the given paths, sorted; a file given by name is taken whatever its suffix."""
    out: dict[str, Path] = {}         # by the path's string: hashing Paths themselves is slow
    for p in paths:
        if p.is_dir():
            out.update((str(x), x) for x in _xml_files(p))
        else:
            out[str(p)] = p
    return sorted(out.values(), key=PATH_ORDER)


def list_documents(config: Config) -> list[Path]:
    """Every document of tei/, sorted, as absolute paths."""
    # (paths below an absolute, normalised tei/ come out absolute and normalised: no Path is made twice)
    return collect([Path(os.path.abspath(config.tei))]) if config.tei.is_dir() else []


def _xml_files(top: Path):
    """The files that `top.rglob("*.xml")` finds, told apart from folders by their directory
    entries (no stat call per file, as Path.is_file would make). Like rglob, it does not
    descend into symbolic links to folders, and skips folders it may not read."""
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except PermissionError:
            continue
        for entry in entries:
            name = entry.name
            if _is(entry.is_dir):
                if not entry.is_symlink():
                    folders.append(folder / name)
            elif name.endswith(".xml") and _is(entry.is_file):
                yield folder / name


def _is(test) -> bool:
    """A DirEntry test, False where Path.is_dir/is_file would say False on an error."""
    try:
        return test()
    except OSError as exc:
        if exc.errno in _IGNORED_ERRNOS:
            return False
        raise


#: Errors on which pathlib's is_dir/is_file answer False rather than raise.
_IGNORED_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _absolute(p: Path) -> Path:
    """Path(os.path.abspath(p)), without making a new Path when `p` is already one."""
    text = os.fspath(p)
    absolute = os.path.abspath(text)
    return p if absolute == text and isinstance(p, Path) else Path(absolute)


#: Below this many documents one process is faster than starting a pool.
POOL_THRESHOLD = 300
#: Documents per task of a worker, at most and at least: a task costs little to send and to
#: merge; tasks get smaller towards the end, so that the workers finish together.
CHUNK = 250
MIN_CHUNK = 20


def _ranges(n: int, jobs: int) -> list[tuple[int, int]]:
    """Split documents 0..n-1 into (start, stop) tasks: a quarter of what each worker has left, within limits."""
    out, start = [], 0
    while start < n:
        size = max(MIN_CHUNK, min(CHUNK, (n - start) // (jobs * 4)))
        out.append((start, min(n, start + size)))
        start += size
    return out


@contextmanager
def gc_paused(keep: bool = False):
    """Pause the cyclic garbage collector (reference counting still frees everything): for work that
    makes or visits many objects and little garbage, which the collector would scan again and again.
    `keep`: what is made meanwhile lives on (a cache that is read): it is frozen (gc.freeze), else
    the first collection after the pause would go through every object of it (a fifth of a second
    for a large edition's cache)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()
        if enabled:
            gc.enable()


class Checker:
    """The per-document layers with their compiled schemas: one per process."""

    def __init__(self, odd: Path):
        files = SchemaFiles(odd)
        self.schema = load(odd)
        self.relaxng = RelaxNG(files.rng, self.schema)
        self.schematron = Schematron(files.sch)

    def check(self, items: list[tuple[int, Path, bool]], root: Path | None) -> tuple[list, integrity.CorpusIndex]:
        """Read each (number, path, wanted) once: layers 1-3 for wanted files, index data for all."""
        reporter = Reporter(root=root)
        index = integrity.CorpusIndex()
        for doc, path, wanted in items:
            try:
                source = read_xml(path)
            except XMLInputError as exc:
                if wanted:
                    reporter.error(exc.code, exc.message, path, exc.line, exc.column, exc.hint)
                continue
            if wanted:
                self.check_document(source, reporter)
            index.add(source, doc)
        return reporter.diagnostics, index

    def check_document(self, source, reporter: Reporter) -> None:
        """The layers after well-formedness, for one parsed document: RELAX NG, then Schematron."""
        self.relaxng.check(source, reporter)
        schematron_check(self.schematron, source, reporter)


# ------------------------------------------------------------------ the workers

#: A worker's state: the checker, the numbered documents and the report root. Inherited from
#: the main process where processes are forked; built by `_init_worker` where they are spawned.
_WORKER: tuple[Checker, list[tuple[int, Path, bool]], Path | None] | None = None


def _init_worker(checker: Checker | Path, items: list[tuple[int, Path, bool]], root: Path | None) -> None:
    global _WORKER
    _WORKER = (checker if isinstance(checker, Checker) else Checker(checker), items, root)
    gc.disable()   # a worker lives for one run (see the module docstring)


def _check_range(start: int, stop: int) -> tuple[list, tuple]:
    """Check documents start..stop-1; their index goes back packed (see CorpusIndex.pack)."""
    checker, items, root = _WORKER
    diagnostics, index = checker.check(items[start:stop], root)
    return diagnostics, index.pack()


#: From this many documents on, `edition validate FILE...` borrows the others' index from the last build.
BORROW_THRESHOLD = 1000


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Validator:
    """The compiled schemas of a project, loaded once."""

    def __init__(self, config: Config):
        self.config = config
        self.schema_files = SchemaFiles(config.odd)
        self.checker = Checker(config.odd)

    def run(self, paths: list[Path] | None, reporter: Reporter, jobs: int | None = None) -> Result:
        """Check `paths` (default: the whole tei/ folder) against every layer; report into `reporter`.

        The per-document layers run in `jobs` processes (default: one per core, for large corpora);
        the corpus checks see every document of tei/ even when only some files are asked for.
        """
        corpus = list_documents(self.config)
        given = [p for p in paths or [] if p.exists()]
        for p in paths or []:
            if not p.exists():
                reporter.error("file.missing", "no such file or directory", p)
        # wanted: the files to report on; None when that is the whole corpus (the common case)
        wanted = {_absolute(p) for p in collect(given)} if paths else None
        every = corpus if wanted is None else sorted(set(corpus).union(wanted), key=PATH_ORDER)
        items = [(doc, p, wanted is None or p in wanted) for doc, p in enumerate(every)]
        borrowed = None
        with gc_paused():
            if wanted is not None and len(items) >= BORROW_THRESHOLD:
                borrowed = self._borrow_index(every, wanted)
            if borrowed is not None:
                borrowed, items = borrowed
            jobs = jobs or (default_jobs() if len(items) >= POOL_THRESHOLD else 1)
            if jobs <= 1:
                stale = self.schema_files.stale(self.checker.schema)
                diagnostics, index = self.checker.check(items, reporter.root)
                reporter.diagnostics.extend(diagnostics)
            else:
                index, stale = self._run_pool(items, reporter, jobs)
            if borrowed is not None:
                borrowed.merge(index)
                index = borrowed
            integrity.check(index, reporter, only=wanted)
            if stale:
                reporter.warning("schema.stale", "the generated schema differs from the ODD", self.config.odd, 1, 1,
                                 hint="run `edition schema` to regenerate it")
        return Result(every if wanted is None else sorted(wanted, key=PATH_ORDER))

    def _borrow_index(self, every: list[Path], wanted: set[Path]):
        """For some files of a large edition: the corpus index of the other documents from the last
        build's cache (edition.cache.load_index), where they have not changed since; only the files
        asked for and the changed documents are read. Returns (that index, [(number, path, wanted)]
        to read), or None where there is no usable cache (then every document is read)."""
        from ..cache import load_index

        found = load_index(self.config)
        if found is None:
            return None
        docs, numbers, index = found
        current = {str(p) for p in every}
        stale = {n for key, n in numbers.items() if key not in current}        # documents gone since
        fresh = max(numbers.values(), default=-1) + 1
        items = []
        for p in every:
            key = str(p)
            number, old = numbers.get(key), docs.get(key)
            if p not in wanted and old is not None and old.number == number and old.holds(key):
                continue                                                   # its part of the index holds
            if number is None:
                number, fresh = fresh, fresh + 1
            else:
                stale.add(number)
            items.append((number, p, p in wanted))
        index.remove(stale)
        return index, items

    def _run_pool(self, items: list[tuple[int, Path, bool]], reporter: Reporter,
                  jobs: int) -> tuple[integrity.CorpusIndex, list[Path]]:
        """Layers 1-3 and the index of every document, in `jobs` worker processes (see the module
        docstring); returns the merged index and the stale generated schema files."""
        fork = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if fork else "spawn")
        # forked workers inherit these as they are; spawned ones receive them pickled and load the schemas
        initargs = (self.checker if fork else self.config.odd, items, reporter.root)
        index = integrity.CorpusIndex()
        ranges = _ranges(len(items), jobs)
        paths = {doc: path for doc, path, _ in items}     # (a borrowed index numbers them as the build did)
        with ProcessPoolExecutor(max(1, min(jobs, len(ranges))), mp_context=context,
                                 initializer=_init_worker, initargs=initargs) as pool:
            results = pool.map(_check_range, *zip(*ranges))     # forks the workers and gives them all the tasks
            stale = self.schema_files.stale(self.checker.schema)      # meanwhile, here
            # merged as they arrive, in document order, while the workers check the later ranges
            for diagnostics, packed in results:
                reporter.diagnostics.extend(diagnostics)
                index.merge_packed(packed, paths)
        return index, stale
