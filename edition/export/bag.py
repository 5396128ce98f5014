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

The payload is hard-linked (or copied) into the bag from where it already is: the built
outputs (`ctx.built`, Output objects or folders), the other exports from the export folder
(exports that were not made in this run are made in a scratch folder beside it first). Each new
file is read once from disk for its checksums, so the bag never holds the edition in memory; in
a rebuild, a payload file the previous bag holds with the same size and SHA-256 is kept, with
the SHA-512 its manifest gives. Everything is listed in sorted order, so the bag is the same
every time. The Bagging-Date is the date of
production (SOURCE_DATE_EPOCH, else the newest revision date of the edition).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from bisect import bisect_left
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import accumulate
from pathlib import Path

from .. import __version__
from ..output import LARGE, Output, sha256_of
from ._common import ExportContext, ExportError

FOLDER = "bag"
ALGORITHMS = ("sha256", "sha512")
REQUIRED_OUTPUTS = ("html", "text")


def _encode_path(path: str) -> str:
    """RFC 8493 2.1.3: percent-encode CR, LF and % in manifest paths."""
    if "%" not in path and "\r" not in path and "\n" not in path:      # (the usual case, and quicker)
        return path
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def bag_size(octets: int) -> str:
    """A human-readable size for Bag-Size, in decimal units."""
    size = float(octets)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def _files_below(folder: Path) -> list[tuple[str, Path]]:
    """(path relative to `folder`, file) for every file below it, sorted by that path."""
    return sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*") if p.is_file())


def _previous_sha512(out: Output) -> dict[str, str]:
    """The previous bag's SHA-512 of each payload file (by its encoded path), where a rebuild changes it."""
    if out.previous is None:
        return {}
    try:
        with open(out.previous / FOLDER / "manifest-sha512.txt", encoding="utf-8") as fh:
            return {path: digest for digest, _, path in (line.rstrip("\n").partition("  ") for line in fh)}
    except OSError:
        return {}


class _Payload:
    """Puts files into bag/data/ and lists them in the payload manifests (written when it closes).

    Files must come in the order of their paths. Each is hard-linked where the file system allows
    (else copied) and read for its checksums, in threads (hashlib lets go of the interpreter, so the
    large files of a rebuild are read side by side); where its SHA-256 is known (an export just
    made), only the SHA-512 is computed, and not even that for a large file its output has read
    already (`Output.sha512`: the teiCorpus, the text edition, the EPUB). In a rebuild, a file the
    previous bag holds with the same size and SHA-256 is kept as it is, with the SHA-512 the
    previous manifest gives. The bag's files are noted in `out.files` like any other.
    """

    def __init__(self, out: Output):
        self.out = out
        self.octets = 0
        self.count = 0
        self.previous: dict[str, str] | None = None      # the previous manifest's SHA-512s (read when first needed)
        self.known, self.files = out.known, out.files
        self.lines: list[tuple[str, tuple | Future]] = []  # per file: its manifest path and checksums (see close)
        self.new: list[tuple[str, tuple | Future]] = []    # the files linked in: name, (size, sha256, sha512)
        self.spliced: set[str] = set()                     # the manifests written by `splice`
        self.pool = ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)))

    def add(self, rel: str, source: Output | Path, entry: tuple[int, str] | None = None, within: str = "") -> None:
        """Put a file at data/`rel`: the file `source`, or the file `within` of the output `source`;
        `entry` is its (size, SHA-256) where known. (Called for every file of the edition: kept
        files take the short way, without method calls.)"""
        name = FOLDER + "/" + rel
        path = _encode_path(rel)
        if self.previous is None:
            self.previous = _previous_sha512(self.out)
        sha512 = self.previous.get(path)
        if entry is not None and sha512 is not None and self.known.get(name) == entry:
            self.files[name] = entry                                 # kept, as Output.keep notes it
            self.lines.append((path, (entry[1], sha512)))
            self.octets += entry[0]
        else:
            self.lines.append((path, self._take(name, source, entry, within)))
        self.count += 1

    def _take(self, name: str, source: Output | Path, entry: tuple[int, str] | None, within: str) -> tuple | Future:
        """Link the file in (see add); its (size, SHA-256, SHA-512), or the Future of them for a large file."""
        where, sha512 = (source.source(within), source.sha512.get(within)) if isinstance(source, Output) else (source, None)
        target = self.out.path(name)                    # (its folder made here, not in a thread)
        if entry is not None and entry[0] >= LARGE:     # (large files are read in threads: see LARGE)
            sums = self.pool.submit(self._link, target, where, entry[1], sha512)
        else:
            sums = self._link(target, where, entry and entry[1])
        self.new.append((name, sums))
        return sums

    def splice(self, files: list[tuple[str, Output | Path, tuple[int, str] | None, str]]) -> bool:
        """The payload `files` (as `add` takes them, in order) as a change to the previous bag: the files
        it holds with the same size and SHA-256 are kept, the others linked in, and the manifests are
        the previous ones with the lines of changed and removed files replaced (runs of unchanged lines
        copied in the kernel, see copy_range). False, with nothing done, where there is no previous bag
        whose manifests have the lines its files call for, or most of the payload changed (then `add`)."""
        prefix = FOLDER + "/"
        previous = {name[len(prefix):]: entry for name, entry in self.known.items() if name.startswith(prefix + "data/")}
        if self.out.previous is None or not previous or any(entry is None for _, _, entry, _ in files):
            return False
        get = previous.get
        changed = {rel: (source, entry, within) for rel, source, entry, within in files if get(rel) != entry}
        removed = previous.keys() - {item[0] for item in files}
        if len(changed) + len(removed) > len(files) // 4:
            return False
        # where each line of the previous manifests is: they list the files the previous bag held, in order
        order = sorted(previous)
        joined = "".join(order)
        if joined.isascii() and "%" not in joined and "\r" not in joined and "\n" not in joined:
            encoded = list(map(len, order))           # (the usual case: a character is a byte, nothing encoded)
        else:
            encoded = [len(_encode_path(rel).encode("utf-8")) for rel in order]
        layouts = {}
        for algorithm, width in zip(ALGORITHMS, (64, 128)):
            offsets = [0, *accumulate(n + width + 3 for n in encoded)]      # checksum, "  ", path, newline
            manifest = self.out.previous / FOLDER / f"manifest-{algorithm}.txt"
            # the very file the previous build wrote (its length first: the cheap test), of the length its files call for
            known = self.known.get(f"{prefix}{manifest.name}")
            if known is None or known[0] != offsets[-1] or not manifest.is_file() \
                    or manifest.stat().st_size != offsets[-1] or sha256_of(manifest) != known[1]:
                return False
            layouts[algorithm] = (manifest, offsets)
        made = {rel: self._take(prefix + rel, *changed[rel]) for rel in sorted(changed)}
        kept = [(prefix + rel, entry) for rel, _, entry, _ in files if rel not in changed]
        self.files.update(kept)
        self.count = len(files)
        self.octets = sum(entry[0] for _, entry in kept)           # (close adds the others')
        events = sorted(changed.keys() | removed)
        for i, (algorithm, (manifest, offsets)) in enumerate(layouts.items()):
            def changed_while_read() -> bytes:
                raise ExportError(f"{manifest} changed while it was read")

            with self.out.splice(f"{prefix}{manifest.name}", b"") as splice:
                cursor = 0
                for rel in events + [None]:           # (None: the lines after the last change)
                    at = len(order) if rel is None else bisect_left(order, rel)
                    splice.reuse(offsets[cursor], offsets[at] - offsets[cursor], changed_while_read, _unnoted)
                    cursor = at + 1 if at < len(order) and order[at] == rel else at
                    if rel in made:
                        sums = made[rel].result() if isinstance(made[rel], Future) else made[rel]
                        splice.put(f"{sums[i + 1]}  {_encode_path(rel)}\n".encode("utf-8"))
            self.spliced.add(f"{prefix}{manifest.name}")
        return True

    @staticmethod
    def _link(target: Path, source: Path, sha256: str | None, sha512: Future[str] | None = None) -> tuple[int, str, str]:
        """Link (or copy) `source` to `target`; its size, SHA-256 and SHA-512 (the SHA-512 its output
        computed, where it did: Output.sha512). (In a thread, for a large file.)"""
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        if sha256 is not None and sha512 is not None:
            return os.stat(target).st_size, sha256, sha512.result()
        hashes = {"sha512": hashlib.sha512()}
        if sha256 is None:
            hashes["sha256"] = hashlib.sha256()
        size = 0
        with open(target, "rb") as fh:
            while block := fh.read(1 << 20):
                size += len(block)
                for h in hashes.values():
                    h.update(block)
        digests = {"sha256": sha256, **{a: h.hexdigest() for a, h in hashes.items()}}
        return size, digests["sha256"], digests["sha512"]

    def close(self) -> None:
        """Wait for the checksums; note the new files and write the payload manifests."""
        try:
            made = {name: sums.result() if isinstance(sums, Future) else sums for name, sums in self.new}
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        for name, (size, sha256, _) in made.items():
            self.out.files[name] = (size, sha256)       # what Output.record would note, without reading it again
            self.out.written.add(name)
            self.octets += size
        lines = [(path, sums.result() if isinstance(sums, Future) else sums) for path, sums in self.lines]
        for i, algorithm in enumerate(ALGORITHMS):
            name = f"{FOLDER}/manifest-{algorithm}.txt"
            if name not in self.spliced:
                # (kept: (sha256, sha512); linked: (size, sha256, sha512))
                self.out.write_pieces(name, (f"{sums[i - 2]}  {path}\n" for path, sums in lines))


def _unnoted(offset: int, length: int) -> None:
    """(Where a run of the previous manifest went: nothing needs to know.)"""


def _built_files(built: Output | Path) -> list[tuple[str, Output | Path, tuple[int, str] | None]]:
    """(path, its output or file, (size, SHA-256) or None) for every file of a built output, sorted by path."""
    if isinstance(built, Output):
        return [(rel, built, entry) for rel, entry in sorted(built.files.items())]
    return [(rel, path, None) for rel, path in _files_below(Path(built))]


def _add_payload(ctx: ExportContext, payload: _Payload) -> None:
    """The built outputs under data/<name>/ and the other exports under data/export/, in the order of
    their paths: as a change to the previous bag where there is one (`_Payload.splice`), else one by one."""
    from . import EXPORTERS, run

    missing = [name for name, built in ((n, ctx.built.get(n)) for n in REQUIRED_OUTPUTS)
               if built is None or not (isinstance(built, Output) or Path(built).is_dir())]
    if missing:
        raise ExportError(f"the bag holds the built outputs: build {', '.join(missing)} first")
    if "export" in ctx.built:
        raise ExportError("a built output cannot be called 'export': the bag keeps the exports in data/export/")
    ctx.built_ready()
    others = [name for name in EXPORTERS if name != "bag"]
    scratch = None
    try:
        exports: list[tuple[str, Output, tuple[int, str]]] = []   # (path below export/, its output, its entry)
        for name in others:
            if name not in ctx.exported and scratch is None:
                # an export not asked for: made beside the export folder, taken in, dropped
                scratch = ctx.into(Output(Path(tempfile.mkdtemp(prefix=".bag-exports-", dir=ctx.out.folder.parent))))
            source = ctx if name in ctx.exported else scratch
            exports += [(rel, source.out, source.out.files[rel]) for rel in run(source, name)]
        groups = {f"data/{name}/": built for name, built in ctx.built.items()}
        groups["data/export/"] = None
        files = []                                        # (path below bag/, its output or file, its entry, its path there)
        for prefix in sorted(groups):                      # the groups' paths do not interleave
            group = sorted(exports, key=lambda item: item[0]) if groups[prefix] is None else _built_files(groups[prefix])
            files += [(prefix + rel, source, entry, rel) for rel, source, entry in group]
        if not payload.splice(files):
            for item in files:
                payload.add(*item)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch.out.folder, ignore_errors=True)


def export_bag(ctx: ExportContext) -> None:
    info = ctx.edition()
    out = ctx.out
    payload = _Payload(out)
    try:
        _add_payload(ctx, payload)
    finally:
        payload.close()
    description = (f"{info.title}: the whole edition — TEI sources and schema, HTML and plain-text editions, "
                   f"and its library exports (CMIF, OAI-PMH, MARCXML, MODS, EPUB, JSON).")
    fields = [
        ("Source-Organization", info.publisher or info.title),
        ("Bagging-Date", ctx.produced.date().isoformat()),
        ("External-Description", description),
        ("External-Identifier", ctx.base_url),
        ("Payload-Oxum", f"{payload.octets}.{payload.count}"),
        ("Bag-Size", bag_size(payload.octets)),
        ("Bag-Software-Agent", f"tei-edition {__version__}"),
    ]
    out.write(f"{FOLDER}/bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    out.write(f"{FOLDER}/bag-info.txt", "".join(f"{label}: {value}\n" for label, value in fields).encode("utf-8"))
    # the tag manifests list every tag file but themselves
    tags = ["bag-info.txt", "bagit.txt"] + [f"manifest-{a}.txt" for a in ALGORITHMS]
    for algorithm in ALGORITHMS:
        lines = [f"{_digest(out, f'{FOLDER}/{tag}', algorithm)}  {_encode_path(tag)}\n" for tag in sorted(tags)]
        out.write(f"{FOLDER}/tagmanifest-{algorithm}.txt", "".join(lines).encode("utf-8"))


def _digest(out: Output, rel: str, algorithm: str) -> str:
    """A file's checksum as its output noted it (the SHA-256 always, the SHA-512 of a large file
    written in this build), else read from the file."""
    if algorithm == "sha256" and rel in out.files:
        return out.files[rel][1]
    if algorithm == "sha512" and rel in out.sha512:
        return out.sha512[rel].result()
    with open(out.source(rel), "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()
