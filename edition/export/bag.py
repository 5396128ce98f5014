"""`bag`: a BagIt bag (RFC 8493) of the whole edition, for preservation.

    bag/bagit.txt
    bag/bag-info.txt            Source-Organization, Bagging-Date, External-Description,
                                External-Identifier, Payload-Oxum, Bag-Size, Bag-Software-Agent
    bag/manifest-sha256.txt, bag/manifest-sha512.txt
    bag/tagmanifest-sha256.txt, bag/tagmanifest-sha512.txt
    bag/data/html/...           the HTML edition
    bag/data/text/...           the plain-text edition
    bag/data/export/...         every other export: tei/ (sources, schema, teiCorpus), cmif.xml,
                                oai-pmh.xml, edition.marc.xml, edition.mods.xml, edition.epub, data/

The bag is made in memory, in sorted order, so it is the same bytes every time. The Bagging-Date
is the date of production (SOURCE_DATE_EPOCH, else the newest revision date of the edition).
"""
from __future__ import annotations

import hashlib

from .. import __version__
from ._common import ExportContext, ExportError

FOLDER = "bag"
ALGORITHMS = ("sha256", "sha512")
REQUIRED_OUTPUTS = ("html", "text")


def _encode_path(path: str) -> str:
    """RFC 8493 2.1.3: percent-encode CR, LF and % in manifest paths."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _manifest(files: dict[str, bytes], algorithm: str) -> bytes:
    lines = (f"{hashlib.new(algorithm, data).hexdigest()}  {_encode_path(path)}\n"
             for path, data in sorted(files.items()))
    return "".join(lines).encode("utf-8")


def bag_size(octets: int) -> str:
    """A human-readable size for Bag-Size, in decimal units."""
    size = float(octets)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def payload(ctx: ExportContext) -> dict[str, bytes]:
    """The payload, under data/: the built outputs and every other export."""
    from . import EXPORTERS, run

    missing = [name for name in REQUIRED_OUTPUTS if name not in ctx.outputs]
    if missing:
        raise ExportError(f"the bag holds the built outputs: build {', '.join(missing)} first")
    files: dict[str, bytes] = {}
    for name, output in sorted(ctx.outputs.items()):
        for path, data in output.items():
            files[f"data/{name}/{path}"] = data
    for name in EXPORTERS:
        if name == "bag":
            continue
        for path, data in run(ctx, name).items():
            files[f"data/export/{path}"] = data
    return dict(sorted(files.items()))


def export_bag(ctx: ExportContext) -> dict[str, bytes]:
    info = ctx.edition()
    files = payload(ctx)
    octets = sum(len(data) for data in files.values())
    description = (f"{info.title}: the whole edition — TEI sources and schema, HTML and plain-text editions, "
                   f"and its library exports (CMIF, OAI-PMH, MARCXML, MODS, EPUB, JSON).")
    fields = [
        ("Source-Organization", info.publisher or info.title),
        ("Bagging-Date", ctx.produced.date().isoformat()),
        ("External-Description", description),
        ("External-Identifier", ctx.base_url),
        ("Payload-Oxum", f"{octets}.{len(files)}"),
        ("Bag-Size", bag_size(octets)),
        ("Bag-Software-Agent", f"tei-edition {__version__}"),
    ]
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": "".join(f"{label}: {value}\n" for label, value in fields).encode("utf-8"),
    }
    for algorithm in ALGORITHMS:
        tags[f"manifest-{algorithm}.txt"] = _manifest(files, algorithm)
    listed = dict(tags)     # the tag manifests list every tag file but themselves
    for algorithm in ALGORITHMS:
        tags[f"tagmanifest-{algorithm}.txt"] = _manifest(listed, algorithm)
    out = {f"{FOLDER}/{path}": data for path, data in {**tags, **files}.items()}
    return dict(sorted(out.items()))
