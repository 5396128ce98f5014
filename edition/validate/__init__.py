"""`edition validate`: every layer, every problem, one run.

Layers, in order: well-formedness (safe parser), RELAX NG, Schematron, corpus integrity.
A document that is not well-formed is reported and left out of the later layers; the
other documents are still checked.
"""
from __future__ import annotations

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


class Validator:
    """The compiled schemas of a project, loaded once."""

    def __init__(self, config: Config):
        self.config = config
        files = SchemaFiles(config.odd)
        self.schema_files = files
        self.schema = load(config.odd)
        self.relaxng = RelaxNG(files.rng, self.schema)
        self.schematron = Schematron(files.sch)

    def run(self, paths: list[Path] | None, reporter: Reporter) -> Result:
        corpus = collect([self.config.tei]) if self.config.tei.is_dir() else []
        requested = collect(paths) if paths else corpus
        missing = [p for p in (paths or []) if not p.exists()]
        for p in missing:
            reporter.error("file.missing", "no such file or directory", p)
        requested = [p for p in requested if p.exists()]
        wanted = {p.resolve() for p in requested}
        index = integrity.CorpusIndex()
        seen: set[Path] = set()
        for path in sorted(set(corpus) | set(requested), key=lambda p: p.resolve()):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            is_wanted = resolved in wanted
            try:
                source = read_xml(resolved)
            except XMLInputError as exc:
                if is_wanted:
                    reporter.error(exc.code, exc.message, resolved, exc.line, exc.column, exc.hint)
                continue
            if is_wanted:
                self.relaxng.check(source, reporter)
                schematron_check(self.schematron, source, reporter)
            index.add(source)
        integrity.check(index, reporter, only=wanted)
        if self.schema_files.stale():
            reporter.warning("schema.stale", "the generated schema differs from the ODD", self.config.odd, 1, 1,
                             hint="run `edition schema` to regenerate it")
        return Result(sorted(wanted), len(seen))
