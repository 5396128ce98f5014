"""Library exports: one module per format behind one small interface.

    from edition.export import ExportContext, export
    out = Output(staging / "export")
    export(ExportContext(corpus, config, schema, reporter, {"html": staging / "html", "text": staging / "text"},
                         out, admin_email=config.contact, rendered=rendered))
    # out.folder now holds cmif.xml, tei/corpus.xml, ..., manifest.json; out.files their sizes and SHA-256

An exporter takes the `ExportContext` and writes its files into `ctx.out` (an `edition.output.Output`
for build/export/), streaming the big ones to disk: nothing is held for every letter at once but
small records. `EXPORTERS` is the registry; its key is the CLI word and the name of the output:

    tei       tei/            the TEI sources with the schema, and tei/corpus.xml (teiCorpus)
    cmif      cmif.xml        Correspondence Metadata Interchange Format, for correspSearch
    oai-pmh   oai-pmh.xml     an OAI-PMH static repository with a Dublin Core record per item
    marc      edition.marc.xml  a MARCXML record of the edition as a whole
    mods      edition.mods.xml  a MODS record of the edition as a whole
    epub      edition.epub    EPUB 3 of the whole edition
    data      data/           JSON of the letters and the registers (shape in edition.export.data)
    bag       bag/            a BagIt bag of the whole edition: TEI, schema, HTML, text, the exports

The bag runs last and holds the others (it makes any that were not asked for, outside the export
folder). `export()` adds manifest.json: every file with its SHA-256 and size. `update()` puts some
exports into an existing export folder (`edition export NAME...`). Every export is deterministic:
dates of production come from SOURCE_DATE_EPOCH or the edition's revision history, never from the clock.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..diagnostics import ERROR
from ..output import Output, sha256_of
from ._common import ExportContext, ExportError, Rendered, json_text
from .bag import export_bag
from .cmif import export_cmif
from .data import export_data
from .epub import export_epub
from .marc import export_marc
from .mods import export_mods
from .oai_pmh import export_oai_pmh
from .tei import export_tei

__all__ = ["EXPORTERS", "MANIFEST", "ExportContext", "ExportError", "Rendered", "export", "update"]

Exporter = Callable[[ExportContext], None]

#: The export formats: registry key = CLI word = output name. The bag stays last.
EXPORTERS: dict[str, Exporter] = {
    "tei": export_tei,
    "cmif": export_cmif,
    "oai-pmh": export_oai_pmh,
    "marc": export_marc,
    "mods": export_mods,
    "epub": export_epub,
    "data": export_data,
    "bag": export_bag,
}

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


def run(ctx: ExportContext, name: str) -> list[str]:
    """Run one exporter into ctx.out (once per context); return the files it wrote.

    In a rebuild, an export whose input did not change since the previous build (the same key in
    `ctx.input_keys` as in `ctx.previous_exports`) keeps its files as they are instead."""
    if name not in ctx.exported:
        started, nested = time.perf_counter(), sum(ctx.seconds.values())
        key = ctx.input_keys.get(name)
        previous_key, previous_files = ctx.previous_exports.get(name, (None, []))
        out = ctx.out
        if key is not None and key == previous_key and previous_files \
                and all(rel in out.known and rel not in out.files and rel != MANIFEST for rel in previous_files):
            for rel in previous_files:
                out.keep(rel)
            if name in ctx.previous_state:               # what it noted stays true of the files it keeps
                ctx.state[name] = ctx.previous_state[name]
            written = list(previous_files)
        else:
            before = dict(out.files)
            EXPORTERS[name](ctx)
            written = sorted(rel for rel, entry in out.files.items() if before.get(rel) != entry)
            clash = [rel for rel in written if rel in before or rel == MANIFEST]
            if clash:
                raise ExportError(f"two exports write {clash[0]}")
        ctx.exported[name] = written
        # (less the time of the exports it ran itself: the bag runs those not made yet)
        ctx.seconds[name] = time.perf_counter() - started - (sum(ctx.seconds.values()) - nested)
    return ctx.exported[name]


def _manifest_text(files: dict[str, tuple[int, str]]) -> Iterator[str]:
    """The text of manifest.json, an entry at a time (the writer takes them in batches): what
    json.dumps(doc, indent=2) gives, without the list of dicts it would need. (A SHA-256 is hex
    digits: it needs no escaping.)"""
    entries = sorted((path, entry) for path, entry in files.items() if path != MANIFEST)
    if not entries:
        yield f'{{\n  "version": {MANIFEST_VERSION},\n  "files": []\n}}\n'
        return
    yield f'{{\n  "version": {MANIFEST_VERSION},\n  "files": [\n'
    last = len(entries) - 1
    for i, (path, (size, sha256)) in enumerate(entries):
        yield (f'    {{\n      "path": {json_text(path)},\n      "sha256": "{sha256}",\n      "size": {size}\n    }}'
               + (",\n" if i < last else "\n  ]\n}\n"))


def _write_manifest(path: Path, files: dict[str, tuple[int, str]]) -> None:
    partial = path.with_name(f".{path.name}.part")     # a new file renamed over the old: never written in place
    with open(partial, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(_manifest_text(files))
    partial.replace(path)


def _check(names: list[str] | None) -> None:
    unknown = sorted(set(names or []) - set(EXPORTERS))
    if unknown:
        raise ExportError(f"unknown export format(s): {', '.join(unknown)} (known: {', '.join(EXPORTERS)})")


def export(ctx: ExportContext, names: list[str] | None = None) -> None:
    """Run the named exporters (default: all) into ctx.out in registry order, then write its manifest.json."""
    _check(names)
    for name in EXPORTERS:
        if names is None or name in names:
            run(ctx, name)
    ctx.out.write_pieces(MANIFEST, _manifest_text(ctx.out.files))


def update(folder: Path, make_ctx: Callable[[Output], ExportContext], names: list[str] | None) -> list[str]:
    """Put the named exports (None or []: all) into `folder` (build/export/); return the outputs replaced.

    The exports are made in a temporary folder beside `folder` (the context comes from
    `make_ctx(output)`); then each output they make (a top-level file such as cmif.xml, or a folder
    such as tei/) is swapped into `folder` whole. Outputs not asked for stay as they are.
    manifest.json is then made again from everything in the folder, so `edition export cmif`
    after `edition build` leaves a complete, correct manifest. Nothing in `folder` changes if an
    export fails, or reports an error to the context's reporter (then no output is replaced: []).
    """
    names = list(names) if names else None
    _check(names)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-staging-", dir=folder.parent))
    try:
        out = Output(staging)
        ctx = make_ctx(out)
        errors = ctx.reporter.count(ERROR)
        export(ctx, names)
        if ctx.reporter.count(ERROR) > errors:
            return []
        made = {rel: entry for rel, entry in out.files.items() if rel != MANIFEST}
        tops = sorted({rel.split("/", 1)[0] for rel in made})
        replaced = staging / ".replaced"                # the old outputs go here, and away with the staging folder
        replaced.mkdir()
        for top in tops:
            final = folder / top
            if final.exists() or final.is_symlink():
                final.rename(replaced / top)
            (staging / top).rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files: dict[str, tuple[int, str]] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel == MANIFEST or rel.startswith(".") or not path.is_file():
            continue
        if rel in made:                                 # just made: its checksum is known
            files[rel] = made[rel]
        else:
            files[rel] = (path.stat().st_size, sha256_of(path))
    _write_manifest(folder / MANIFEST, files)
    return tops
