"""`edition build`: validate, then write every output format into a staging folder and swap it in.

One small builder per format, in the `BUILDERS` registry (key = CLI word = output folder).
A builder returns {relative path: bytes}; nothing touches build/ until every builder has
succeeded, so a failed build leaves the previous output intact.
"""
from __future__ import annotations

import shutil
import tempfile
import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import render
from .config import Config
from .corpus import REGISTER_KINDS, Corpus, load as load_corpus
from .diagnostics import EditionError, Reporter
from .odd import Schema
from .scaffold import human_date
from .site import Site
from .tei import NS, read_xml


class BuildError(EditionError):
    """The build stopped; the previous output is untouched."""

    exit_code = 1


def build_html(corpus: Corpus, config: Config, schema: Schema, reporter: Reporter) -> dict[str, bytes]:
    files = {path: text.encode("utf-8") for path, text in Site(corpus, config, schema, reporter).pages().items()}
    static = resources.files("edition") / "static"
    for item in sorted(static.iterdir(), key=lambda p: p.name):
        if item.is_file():
            files[f"static/{item.name}"] = item.read_bytes()
    return files


def _text_letter(corpus: Corpus, letter, reporter: Reporter, width: int = 72) -> str:
    source = read_xml(letter.path)
    lines = [letter.subtitle or letter.title, "=" * min(width, len(letter.subtitle or letter.title)), ""]
    meta = [
        ("Catalogue title", letter.title),
        ("From", letter.sender.name if letter.sender else ""),
        ("To", letter.recipient.name if letter.recipient else ""),
        ("Date", "; ".join(f"{human_date(d.sort_key)}" + (f" ({d.type})" if d.type else "") +
                           (f" [certainty: {d.cert}]" if d.cert else "") for d in letter.dates)),
        ("Place", letter.place.name if letter.place else ""),
        ("Signature", letter.signature or ""),
        ("Identifier", letter.id),
    ]
    for kind in ("repliesTo", "repliedBy", "prev", "next"):
        if letter.links.get(kind):
            meta.append(({"repliesTo": "Answers", "repliedBy": "Answered by", "prev": "Previous", "next": "Next"}[kind],
                         letter.links[kind]))
    for label, value in meta:
        if value:
            lines.append(f"{label + ':':<17}{value}")
    lines.append("")
    if letter.abstract:
        lines += [textwrap.fill(letter.abstract, width), ""]
    body = source.root.find("tei:text/tei:body", NS)
    lines.append(render.render_text(body, reporter=reporter, source=source, width=width).rstrip("\n"))
    return "\n".join(lines).rstrip("\n") + "\n"


def build_text(corpus: Corpus, config: Config, schema: Schema, reporter: Reporter) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    whole = [config.title, "=" * len(config.title), ""]
    if corpus.edition is not None:
        body = corpus.edition.root.find("tei:text/tei:body", NS)
        whole.append(render.render_text(body, reporter=reporter, source=corpus.edition).rstrip("\n"))
        whole.append("")
    for letter in corpus.letters:
        text = _text_letter(corpus, letter, reporter)
        files[f"{letter.id}.txt"] = text.encode("utf-8")
        whole += ["", "-" * 72, "", text.rstrip("\n")]
    whole += ["", "-" * 72, "", "Registers", "========="]
    for kind in REGISTER_KINDS:
        whole += ["", kind.label, "-" * len(kind.label)]
        for entry in sorted(corpus.entries[kind.key].values(), key=lambda e: e.name.casefold()):
            line = f"{entry.name}"
            if entry.description:
                line += f": {entry.description}"
            if entry.letters:
                line += f" [{', '.join(entry.letters)}]"
            whole.append(textwrap.fill(line, 72, subsequent_indent="    "))
    files["edition.txt"] = ("\n".join(whole).rstrip("\n") + "\n").encode("utf-8")
    return files


def index_search(site: Path) -> None:
    """Run Pagefind over a written HTML edition (adds site/pagefind/); raise BuildError if it fails."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"the search index could not be built (pagefind exit {proc.returncode}): "
                         f"{(proc.stderr or proc.stdout).strip()[-500:]}")


#: Steps that run on an output folder once it is written, before it is swapped in.
POSTPROCESS = {
    "html": index_search,
}

#: The output formats: registry key = CLI word = output folder.
BUILDERS = {
    "html": build_html,
    "text": build_text,
}


def make_exports(corpus: Corpus, config: Config, schema: Schema, reporter: Reporter,
                 built: dict[str, dict[str, bytes]], names: list[str] | None = None) -> dict[str, bytes]:
    """The library exports (edition.export), from the corpus and the built HTML and text."""
    from .export import ExportContext, export

    return export(ExportContext(corpus, config, schema, reporter, built, admin_email=config.contact), names)


#: Everything `edition build` can write: the builders and the exports (build/export/).
OUTPUTS = (*BUILDERS, "export")


@dataclass
class BuildResult:
    outputs: dict[str, int]      # format -> number of files written
    left_out: list[Path]         # invalid documents left out (with skip_invalid)


def _no_progress(step: str) -> None:
    pass


def build(config: Config, reporter: Reporter, formats: list[str] | None = None, *,
          skip_invalid: bool = False, progress=_no_progress) -> BuildResult:
    """Validate, render every format, then swap the outputs in.

    With `skip_invalid`, documents with errors are left out (and returned) instead of stopping
    the build. `progress(step)` is called before each step, for a display on a terminal.
    """
    from .diagnostics import ERROR
    from .validate import Validator

    progress("validating")
    validator = Validator(config)
    validator.run(None, reporter)
    left_out: list[Path] = []
    if reporter.failed():
        if not skip_invalid:
            raise BuildError("the edition has errors (listed above); nothing was written, the previous build is intact")
        left_out = sorted({config.root / d.path if not Path(d.path).is_absolute() else Path(d.path)
                           for d in reporter.diagnostics if d.level == ERROR})
        reporter.diagnostics = [d for d in reporter.diagnostics if d.level != ERROR]
    corpus = load_corpus(config.tei, exclude={p.resolve() for p in left_out})
    names = formats or [*BUILDERS, "export"]
    built: dict[str, dict[str, bytes]] = {}
    for name in BUILDERS:
        # the exports need every built output (the bag holds them), so they are made even when not written
        if name in names or "export" in names:
            progress(f"rendering {name}")
            built[name] = BUILDERS[name](corpus, config, validator.schema, reporter)
    outputs = {name: files for name, files in built.items() if name in names}
    if "export" in names:
        progress("exporting")
        outputs["export"] = make_exports(corpus, config, validator.schema, reporter, built)
    if reporter.failed():
        raise BuildError("rendering reported errors (listed above); nothing was written, the previous build is intact")
    config.build.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=config.build))
    try:
        for name, files in outputs.items():
            progress(f"writing {name}")
            for rel, data in sorted(files.items()):
                target = staging / name / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            if name in POSTPROCESS:
                progress(f"indexing {name}")
                POSTPROCESS[name](staging / name)
        for name in outputs:
            final = config.build / name
            old = config.build / f".old-{name}"
            if old.exists():
                shutil.rmtree(old)
            if final.exists():
                final.rename(old)
            (staging / name).rename(final)
            if old.exists():
                shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult({name: len(files) for name, files in outputs.items()}, left_out)
