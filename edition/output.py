"""Output folders written file by file, as a change to the previous build's output.

An `Output` is one output of a build (html/, text/ or export/). The files made in this build are
written into a staging folder, as they are made, never in place (a file may be a hard link shared
with another output); the files that stay as they were remain in the previous output, untouched,
and are only noted (`keep`). `files` lists the whole new output, path -> (size, SHA-256), for
manifests; `source(rel)` says where a file of the new output is to be read meanwhile.

`commit(final, aside)` then puts the new output in place, once everything succeeded:

- a first (or `--full`) build: the staging folder replaces the previous folder whole (the previous
  folder goes to `aside`, for the caller to delete later);
- a rebuild: each new file is renamed into the folder, the file it replaces and the files no
  longer made go to `aside`; the rest is not touched, so a rebuild after one correction costs what
  the correction changed.

Until `commit`, the previous output is intact: a failed build changes nothing. The caller notes
that a commit is under way (`edition.build` keeps a marker beside its cache), so that an
interrupted commit makes the next build a full one.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import BinaryIO

Entry = tuple[int, str]          # (size, SHA-256 as hex)

#: A file this large gets its SHA-512 (which the bag lists beside the SHA-256) computed in a thread
#: as soon as it is noted, while the build goes on: `Output.sha512`.
LARGE = 1 << 20


class Output:
    """One output folder of a build: what this build wrote (in staging) over what it keeps."""

    def __init__(self, folder: Path, previous: Path | None = None, known: dict[str, Entry] | None = None):
        """`folder`: the staging folder. `previous`: the output being changed (None: made whole);
        `known`: its files as the previous build recorded them."""
        self.folder = folder
        self.previous = previous
        self.known: dict[str, Entry] = (known or {}) if previous is not None else {}
        self.files: dict[str, Entry] = {}     # relative path -> (size, sha256): the whole new output
        self.written: set[str] = set()        # the files of `files` that are in the staging folder
        self.sha512: dict[str, Future[str]] = {}   # the SHA-512s of large written files, on their way
        self._folders: set[str] = set()       # the folders made in the staging folder
        folder.mkdir(parents=True, exist_ok=True)

    def _target(self, rel: str) -> Path:
        if rel.startswith("/") or ".." in rel.replace("\\", "/").split("/"):     # (no Path made: a build writes 80,000)
            raise ValueError(f"output path outside its folder: {rel!r}")
        target = self.folder / rel
        folder = os.path.dirname(rel)
        if folder not in self._folders:       # (made once: most files share a few folders)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        return target

    # ------------------------------------------------------------ writing
    def write(self, rel: str, data: bytes) -> None:
        """Put `data` at `rel`: kept as it is where the previous output has these very bytes there,
        else written to the staging folder (a new file: never in place, it may be a hard link)."""
        entry = (len(data), hashlib.sha256(data).hexdigest())
        if self.known.get(rel) == entry:
            self.files[rel] = entry
            return
        target = self._target(rel)
        with open(_create(target), "wb", buffering=0) as fh:
            write_all(fh, data)
        self.files[rel] = entry
        self.written.add(rel)
        if entry[0] >= LARGE:
            self.sha512[rel] = _sha512_later(target)

    def write_text(self, rel: str, text: str) -> None:
        self.write(rel, text.encode("utf-8"))

    def write_pieces(self, rel: str, pieces: Iterable[str]) -> None:
        """Write a text given in pieces (UTF-8), each as it comes, so the whole is never held at once."""
        digest, size = hashlib.sha256(), 0
        pieces = iter(pieces)
        with open(self.new_file(rel), "wb") as fh:
            while batch := list(islice(pieces, 4096)):       # in batches: a template gives many small pieces
                data = "".join(batch).encode("utf-8")
                digest.update(data)
                size += len(data)
                fh.write(data)
        self.record(rel, (size, digest.hexdigest()))

    @contextmanager
    def splice(self, rel: str, gap: bytes, reuse: bool = True) -> Iterator[Splice]:
        """A new file at `rel` written as a Splice of the previous output's file there (where there is
        one and `reuse`), unbuffered so that runs are copied in the kernel; noted once the block ends."""
        before = open(self.source(rel), "rb") if reuse and rel in self.known else None
        try:
            with open(self.new_file(rel), "wb", buffering=0) as fh:
                splice = Splice(fh, before, gap)
                yield splice
                splice.close()
        finally:
            if before is not None:
                before.close()
        self.record(rel)

    def new_file(self, rel: str) -> Path:
        """The staging path of `rel`, with no file at it, for a tool that writes the file itself (then
        `record(rel)`): never written in place, so a file that shares its inode (the bag links the
        exports) never changes."""
        target = self._target(rel)
        target.unlink(missing_ok=True)
        return target

    def path(self, rel: str) -> Path:
        """Where `rel` is (or will be) in the staging folder, for tools that write files themselves."""
        return self._target(rel)

    def record(self, rel: str, entry: Entry | None = None) -> None:
        """Take note of a file written at `path(rel)` by a tool (its size and checksum are read unless
        given); where the previous output has the same bytes, that file is kept and this one dropped."""
        target = self.folder / rel
        sha512 = None
        if entry is None:
            size = target.stat().st_size
            sha512 = _sha512_later(target) if size >= LARGE else None    # (read side by side with the SHA-256)
            entry = (size, sha256_of(target))
        self.files[rel] = entry
        if self.known.get(rel) == entry:
            target.unlink()
            self.written.discard(rel)
        else:
            self.written.add(rel)
            if entry[0] >= LARGE:
                self.sha512[rel] = sha512 or _sha512_later(target)

    # ------------------------------------------------------------ keeping
    def keep(self, rel: str) -> bool:
        """Keep the previous output's file at `rel` as it is; False where there is none."""
        entry = self.known.get(rel)
        if entry is None:
            return False
        self.files[rel] = entry
        return True

    def keep_below(self, prefixes: tuple[str, ...]) -> None:
        """Keep every file of the previous output whose path starts with one of `prefixes` (folders, with their /)."""
        if prefixes:
            self.files.update((rel, entry) for rel, entry in self.known.items() if rel.startswith(prefixes))

    def read(self, rel: str) -> bytes:
        """The bytes of a file of the new output."""
        with open(self.source(rel), "rb") as fh:
            return fh.read()

    def source(self, rel: str) -> Path:
        """Where a file of the new output can be read now (the staging folder or the previous output)."""
        if rel in self.written or self.previous is None:
            return self.folder / rel
        return self.previous / rel

    # ------------------------------------------------------------ putting in place
    def commit(self, final: Path, aside: Path) -> None:
        """Put the new output at `final`: made whole, it replaces the folder (the old one is renamed to
        `aside`, for the caller to delete); made as a change, its new files are renamed into the
        folder, and the files they replace and the files it no longer has go to `aside`."""
        for digest in self.sha512.values():        # (a file still being read cannot be renamed everywhere)
            digest.exception()
        if self.previous is None or not final.is_dir():
            if aside.exists():
                shutil.rmtree(aside)
            if final.exists():
                final.rename(aside)
            self.folder.rename(final)
            return
        # The files replaced or gone are moved aside (for the caller to delete later), not deleted:
        # freeing a large file's blocks (the EPUB, the teiCorpus) would keep the commit waiting.
        def set_aside(path: Path, name: str) -> None:
            if not aside.is_dir():
                aside.mkdir(parents=True)
            try:
                os.rename(path, aside / name)
            except FileNotFoundError:
                pass

        made: set[Path] = set()
        for n, rel in enumerate(sorted(self.written)):
            target = final / rel
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            if rel in self.known:
                set_aside(target, str(n))
            os.replace(self.folder / rel, target)
        gone = [rel for rel in self.known if rel not in self.files]
        folders: set[Path] = set()
        for n, rel in enumerate(gone):
            set_aside(final / rel, f"gone-{n}")
            folders.update((final / rel).parents)
        for folder in sorted((f for f in folders if final in f.parents), key=lambda f: -len(f.parts)):
            try:
                folder.rmdir()                       # only if empty
            except OSError:
                pass


def _create(target: Path) -> int:
    """A new file at `target`, open for writing (a file there is unlinked first, never written in
    place: it may be a hard link). Without Path methods: a build creates 80,000 files."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        return os.open(target, flags, 0o666)
    except FileExistsError:
        os.unlink(target)
        return os.open(target, flags, 0o666)


def _sha512_later(path: Path) -> Future[str]:
    """The SHA-512 of the file at `path`, computed in a thread of its own (hashlib lets go of the
    interpreter). The file is opened here: renamed or replaced later, it is still the one read."""
    fh = open(path, "rb")
    future: Future[str] = Future()

    def digest() -> None:
        try:
            with fh:
                future.set_result(hashlib.file_digest(fh, "sha512").hexdigest())
        except BaseException as exc:       # (handed to whoever asks for the result)
            future.set_exception(exc)

    threading.Thread(target=digest, name="sha512", daemon=True).start()
    return future


def sha256_of(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def copy_range(source: BinaryIO, target: BinaryIO, offset: int, length: int) -> bool:
    """Append `length` bytes of `source` from `offset` to `target` (a file opened unbuffered, so that
    its position is the file's); in the kernel where it can (os.copy_file_range: several times faster
    than a read and a write for the large files a rebuild splices). False, with nothing appended,
    where `source` has fewer bytes there."""
    if os.fstat(source.fileno()).st_size < offset + length:
        return False
    done = 0
    if hasattr(os, "copy_file_range"):
        try:
            while done < length:
                n = os.copy_file_range(source.fileno(), target.fileno(), length - done, offset + done)
                if n == 0:
                    break
                done += n
        except OSError:
            pass                               # (a file system that cannot: the rest by hand)
    source.seek(offset + done)
    while done < length:
        block = source.read(min(length - done, 1 << 20))
        if not block:
            raise OSError(f"{source.name} ended while being copied")
        write_all(target, block)
        done += len(block)
    return True


def write_all(target: BinaryIO, data: bytes) -> None:
    """Write all of `data` to a file opened unbuffered (whose writes may be short)."""
    view = memoryview(data)
    while view:
        view = view[target.write(view):]


class Splice:
    """A file written as new bytes (`put`), a separator (`gap`) and ranges of its previous version
    (`reuse`), in order.

    Ranges that follow each other in the previous file with only the gap between them (the caller
    knows that the same bytes stand between them there) are copied as one run, in the kernel
    (copy_range): a rebuild's whole-edition file costs what changed in it, not a read and a write of
    every piece. Where the previous file is shorter than a run needs, each of its pieces is made again
    (`remake`). `noted(offset, length)` says where each reused piece went. `target` is opened unbuffered.
    """

    def __init__(self, target: BinaryIO, previous: BinaryIO | None, gap: bytes):
        self.target, self.previous, self.separator = target, previous, gap
        self.at = 0                          # bytes placed so far (not counting an open run)
        self.pending: list[bytes] = []       # placed, not written yet
        self.run: list[tuple[int, int, Callable[[], bytes], Callable[[int, int], None]]] = []
        self.gapped = False                  # the gap was put after the open run's last range

    def put(self, data: bytes) -> int:
        """Append `data`; returns its offset."""
        self._flush()
        self.pending.append(data)
        self.at += len(data)
        if len(self.pending) >= 256:
            self._write()
        return self.at - len(data)

    def gap(self) -> None:
        """Append the separator."""
        if self.run and not self.gapped:
            self.gapped = True               # held: the next range may continue the run
        else:
            self.put(self.separator)

    def reuse(self, offset: int, length: int, remake: Callable[[], bytes], noted: Callable[[int, int], None]) -> None:
        """Append the previous file's `length` bytes at `offset` (or, where they are not there, `remake()`)."""
        if self.previous is None:
            noted(self.put(data := remake()), len(data))
            return
        if self.run:
            last_offset, last_length = self.run[-1][:2]
            if self.gapped and offset == last_offset + last_length + len(self.separator):
                self.gapped = False
                self.run.append((offset, length, remake, noted))
                return
            self._flush()
        self.run.append((offset, length, remake, noted))

    def close(self) -> None:
        self._flush()
        self._write()

    def _write(self) -> None:
        write_all(self.target, b"".join(self.pending))
        self.pending.clear()

    def _flush(self) -> None:
        if not self.run:
            return
        run, gapped = self.run, self.gapped
        self.run, self.gapped = [], False
        start, end = run[0][0], run[-1][0] + run[-1][1]
        self._write()
        if copy_range(self.previous, self.target, start, end - start):
            for offset, length, _, noted in run:
                noted(self.at + offset - start, length)
            self.at += end - start
        else:                                # the previous file is not what it was: each piece made again
            for i, (_, _, remake, noted) in enumerate(run):
                if i:
                    self.put(self.separator)
                noted(self.put(data := remake()), len(data))
        if gapped:
            self.put(self.separator)
