"""Library exports: one module per format behind one small interface.

    from edition.export import ExportContext, export
    files = export(ExportContext(corpus, config, schema, reporter, outputs={"html": ..., "text": ...}))
    # {"cmif.xml": b"...", "tei/corpus.xml": b"...", ..., "manifest.json": b"..."}

An exporter takes the `ExportContext` and returns {path relative to build/export/: bytes}.
`EXPORTERS` is the registry; its key is the CLI word and the name of the output:

    tei       tei/            the TEI sources with the schema, and tei/corpus.xml (teiCorpus)
    cmif      cmif.xml        Correspondence Metadata Interchange Format, for correspSearch
    oai-pmh   oai-pmh.xml     an OAI-PMH static repository with a Dublin Core record per item
    marc      edition.marc.xml  a MARCXML record of the edition as a whole
    mods      edition.mods.xml  a MODS record of the edition as a whole
    epub      edition.epub    EPUB 3 of the whole edition
    data      data/           JSON of the letters and the registers (shape in edition.export.data)
    bag       bag/            a BagIt bag of the whole edition: TEI, schema, HTML, text, the exports

The bag runs last and holds the others (it makes any that were not asked for). `export()` adds
manifest.json: every file with its SHA-256 and size. Every export is deterministic: dates of
production come from SOURCE_DATE_EPOCH or the edition's revision history, never from the clock.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ._common import ExportContext, ExportError
from .bag import export_bag
from .cmif import export_cmif
from .data import export_data
from .epub import export_epub
from .marc import export_marc
from .mods import export_mods
from .oai_pmh import export_oai_pmh
from .tei import export_tei

__all__ = ["EXPORTERS", "MANIFEST", "ExportContext", "ExportError", "export", "manifest", "write"]

Exporter = Callable[[ExportContext], dict[str, bytes]]

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


def run(ctx: ExportContext, name: str) -> dict[str, bytes]:
    """One exporter's files, made once per context."""
    if name not in ctx.exports:
        ctx.exports[name] = EXPORTERS[name](ctx)
    return ctx.exports[name]


def manifest(files: dict[str, bytes]) -> bytes:
    """{"version": 1, "files": [{"path", "sha256", "size"}, ...]} sorted by path."""
    doc = {
        "version": MANIFEST_VERSION,
        "files": [{"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for path, data in sorted(files.items())],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def export(ctx: ExportContext, names: list[str] | None = None) -> dict[str, bytes]:
    """Run the named exporters (default: all) in registry order; return their files and the manifest."""
    unknown = sorted(set(names or []) - set(EXPORTERS))
    if unknown:
        raise ExportError(f"unknown export format(s): {', '.join(unknown)} (known: {', '.join(EXPORTERS)})")
    files: dict[str, bytes] = {}
    for name in EXPORTERS:
        if names is not None and name not in names:
            continue
        for path, data in run(ctx, name).items():
            if path in files or path == MANIFEST:
                raise ExportError(f"two exports write {path}")
            files[path] = data
    files[MANIFEST] = manifest(files)
    return dict(sorted(files.items()))


def write(folder: Path, files: dict[str, bytes]) -> list[str]:
    """Write exports into `folder` (build/export/) and refresh its manifest; return the outputs replaced.

    Each output the files belong to (a top-level file such as cmif.xml, or a folder such as tei/)
    is written to a staging folder first and then swapped in whole; outputs not in `files` stay.
    manifest.json is then made again from everything in the folder, so `edition export cmif`
    after `edition build` leaves a complete, correct manifest.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tops = sorted({path.split("/", 1)[0] for path in files if path != MANIFEST})
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        for path, data in sorted(files.items()):
            if path != MANIFEST:
                target = staging / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        for top in tops:
            final = folder / top
            if final.is_dir():
                shutil.rmtree(final)
            elif final.exists():
                final.unlink()
            (staging / top).rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    present = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    (folder / MANIFEST).write_bytes(manifest({rel: p.read_bytes() for rel, p in present.items()
                                              if rel != MANIFEST and not rel.startswith(".")}))
    return tops
