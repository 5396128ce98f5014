"""Output folders written file by file, so that a build never holds all its output in memory.

An `Output` is one folder of the staging area (the exports write into one). Files are written
as they are made, or hard-linked from elsewhere (`copy`), never written in place. It records
the size and SHA-256 of everything it holds, for manifests.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


class Output:
    def __init__(self, folder: Path):
        self.folder = folder
        self.files: dict[str, tuple[int, str]] = {}     # relative path -> (size, sha256)
        folder.mkdir(parents=True, exist_ok=True)

    def _target(self, rel: str) -> Path:
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise ValueError(f"output path outside its folder: {rel!r}")
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, rel: str, data: bytes) -> None:
        """Write one file (bytes) at `rel` (a new file: never in place, since it may be a hard link)."""
        target = self._target(rel)
        target.unlink(missing_ok=True)
        target.write_bytes(data)
        self.files[rel] = (len(data), hashlib.sha256(data).hexdigest())

    def write_text(self, rel: str, text: str) -> None:
        self.write(rel, text.encode("utf-8"))

    def copy(self, rel: str, source: Path) -> None:
        """Put an existing file at `rel`: a hard link where the file system allows, else a copy."""
        target = self._target(rel)
        if target.exists():
            target.unlink()
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        self.files[rel] = (target.stat().st_size, _sha256(target))

    def path(self, rel: str) -> Path:
        """Where `rel` is (or will be) in this output, for tools that write files themselves."""
        return self._target(rel)

    def record(self, rel: str) -> None:
        """Take note of a file a tool wrote itself at `path(rel)`."""
        target = self.folder / rel
        self.files[rel] = (target.stat().st_size, _sha256(target))



def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
