"""`edition validate`: every layer, every problem, one run.

Layers, in order: well-formedness (safe parser), RELAX NG, Schematron, corpus integrity.
A document that is not well-formed is reported and left out of the later layers; the
other documents are still checked.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
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
    documents: int             # documents read for the corpus checks


def collect(paths: list[Path]) -> list[Path]:
    """XML files under the given paths, sorted; a file given by name is taken whatever its suffix."""
    out: set[Path] = set()
    for p in paths:
        if p.is_dir():
            out.update(x for x in p.rglob("*.xml") if x.is_file())
        else:
            out.add(p)
    return sorted(out)


#: Below this many documents one process is faster than starting a pool.
POOL_THRESHOLD = 300
CHUNK = 100


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
                self.relaxng.check(source, reporter)
                schematron_check(self.schematron, source, reporter)
            index.add(source, doc)
        return reporter.diagnostics, index


_WORKER: Checker | None = None


def _init_worker(odd: Path) -> None:
    global _WORKER
    _WORKER = Checker(odd)


def _check_chunk(items: list[tuple[int, Path, bool]], root: Path | None):
    return _WORKER.check(items, root)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Validator:
    """The compiled schemas of a project, loaded once."""

    def __init__(self, config: Config):
        self.config = config
        self.schema_files = SchemaFiles(config.odd)
        self.checker = Checker(config.odd)
        self.schema = self.checker.schema

    def run(self, paths: list[Path] | None, reporter: Reporter, jobs: int | None = None) -> Result:
        """Check `paths` (default: the whole tei/ folder) against every layer; report into `reporter`.

        The per-document layers run in `jobs` processes (default: one per core, for large corpora);
        the corpus checks see every document of tei/ even when only some files are asked for.
        """
        corpus = collect([self.config.tei]) if self.config.tei.is_dir() else []
        given = [p for p in paths or [] if p.exists()]
        for p in paths or []:
            if not p.exists():
                reporter.error("file.missing", "no such file or directory", p)
        requested = collect(given) if paths else corpus
        wanted = {Path(os.path.abspath(p)) for p in requested}
        every = sorted(wanted.union(Path(os.path.abspath(p)) for p in corpus))
        items = [(doc, p, p in wanted) for doc, p in enumerate(every)]
        jobs = jobs or (default_jobs() if len(items) >= POOL_THRESHOLD else 1)
        index = integrity.CorpusIndex()
        if jobs <= 1:
            results = [self.checker.check(items, reporter.root)]
        else:
            chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
            context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
            with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                     initargs=(self.config.odd,)) as pool:
                # merged as they arrive, while the other chunks are still being checked
                results = pool.map(_check_chunk, chunks, [reporter.root] * len(chunks))
                for diagnostics, part in results:
                    reporter.diagnostics.extend(diagnostics)
                    index.merge(part)
            results = []
        for diagnostics, part in results:
            reporter.diagnostics.extend(diagnostics)
            index.merge(part)
        integrity.check(index, reporter, only=wanted)
        if self.schema_files.stale():
            reporter.warning("schema.stale", "the generated schema differs from the ODD", self.config.odd, 1, 1,
                             hint="run `edition schema` to regenerate it")
        return Result(sorted(wanted), len(items))
