"""The build's memory of the previous build, in build/.cache/: what a rebuild may reuse.

    state.pickle    the whole state, as one build left it
    delta.pickle    what the rebuilds since then changed in it (a journal of one entry, cumulative)

Reading takes the state and applies the delta; a rebuild writes only the delta (what changed since
the state was written: a few records, a few files), until it grows to DELTA_SHARE of the state, or
the corpus index changed (it is kept whole); then the whole state is written again and the delta
dropped. The delta names the state it belongs to (a token written in both): a delta left beside a
newer state is not read. Each file is written beside and renamed into place; a build that stops
while putting its outputs in place leaves a marker (COMMITTING) that makes the next build a full one.

Both files are pickles in pieces that stand alone (see _Pickler): a large mapping in batches,
so the pickler's memory stays small; paths as their text, read back as the very objects the build
listed. The corpus index is stored with its length: reading passes over it, and it is read only
when a build asks for it (Cache.corpus_index); written again unread, its bytes are copied.
"""
from __future__ import annotations

import copyreg
import hashlib
import io
import os
import pickle
from dataclasses import dataclass, field, fields
from pathlib import Path, PosixPath, WindowsPath

from . import __version__
from .config import Config
from .corpus import DocumentRecord, Entry as RegisterEntry
from .diagnostics import Diagnostic, EditionError
from .odd import SchemaFiles
from .output import Entry
from .validate import gc_paused, integrity

VERSION = 12
STATE, DELTA = "state.pickle", "delta.pickle"
#: Where a build puts the corpus index it made, until it writes the state (Cache.set_index_aside).
INDEX_ASIDE = "index.pickle"
#: A rebuild writes only its changes while they are at most this share of the whole state's size.
DELTA_SHARE = 0.1
#: Beside the cache while a build puts its outputs in place: if it is found, that build was interrupted
#: and the outputs may be half old, half new, so the next build is a full one.
COMMITTING = "committing"


@dataclass(frozen=True)
class DocStamp:
    """What the cache keeps per document: enough to tell whether it changed."""

    stamp: tuple[int, int]          # (mtime_ns, size): the quick test for "unchanged"
    digest: str                     # SHA-256 of the bytes: names its cached result and fragments
    number: int                     # the document's number in the corpus index
    clean: bool = True              # no diagnostic: its results may be reused as they are
    header: str = ""                # SHA-256 of its teiHeader's bytes (what the metadata exports read)
    revised: str | None = None      # the newest date of its revision history (the exports' date of production)
    model: str = ""                 # a key of its part of the corpus model
    index: str = ""                 # a key of its part of the corpus index (what the corpus checks read)

    def holds(self, path: str) -> bool:
        """Whether what was kept of the document at `path` may be reused: it had no problem, and the
        file has the modification time and size it had then."""
        if not self.clean:
            return False
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_mtime_ns, st.st_size) == self.stamp


@dataclass
class Cache:
    """The previous build's results. (The fields are what is kept; `index_changed` and `journal`
    are this build's.)"""

    key: str = ""
    docs: dict[str, DocStamp] = field(default_factory=dict)     # path -> its stamp
    numbers: dict[str, int] = field(default_factory=dict)      # path -> stable document number
    pages: dict[str, str] = field(default_factory=dict)        # letter id (":lists" for the lists) -> key of its inputs
    page_digests: dict[str, str] = field(default_factory=dict)  # letter id -> digest of the document its key was made of
    lists: list[str] = field(default_factory=list)             # the pages that list the whole edition
    index: integrity.CorpusIndex | StoredIndex = field(default_factory=integrity.CorpusIndex)  # of every document
    records: dict[str, DocumentRecord] = field(default_factory=dict)             # path -> its model part
    shards: dict[str, str] = field(default_factory=dict)       # search shard -> key of its pages
    outputs: dict[str, dict[str, Entry]] = field(default_factory=dict)   # output -> its files: path -> (size, sha256)
    exports: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)  # export -> (key of its input, its files)
    export_state: dict[str, object] = field(default_factory=dict)   # export -> what it noted for reuse
    appendix: tuple[str, str] = ("", "")                       # (lists key, the text edition's registers appendix)
    text_layout: dict[str, tuple[int, int]] = field(default_factory=dict)   # letter id -> its place in edition.txt
    checked: list[Diagnostic] | None = None                   # what the corpus checks found in `index` (None: not checked)
    #: set by the build when it changed the corpus index (which a delta does not hold)
    index_changed: bool = field(default=False, compare=False, repr=False)
    journal: _Journal | None = field(default=None, compare=False, repr=False)

    def corpus_index(self) -> integrity.CorpusIndex:
        """The corpus index, read from the state file when first asked for: a rebuild that changes no
        document's part of it (a corrected word) never reads it (at 10,000 letters: 0.1 s, 30 MB)."""
        if isinstance(self.index, StoredIndex):
            self.index = self.index.read()
        return self.index

    def set_index_aside(self, folder: Path) -> None:
        """Write the corpus index (once the corpus checks have read it) to a file in `folder` and let
        go of it: the rest of the build does not read it, and writing the state copies the file's
        bytes. (At 10,000 letters it holds 37 MB that the pages, the search index and the exports
        would otherwise be made beside.)"""
        if isinstance(self.index, integrity.CorpusIndex):
            path, token = folder / INDEX_ASIDE, os.urandom(8).hex()
            with open(path, "wb") as fh:
                writer = _Pickler(fh, pickle.HIGHEST_PROTOCOL)
                for piece in (VERSION, self.key, token):
                    writer.dump(piece)
                offset, length = _dump_index(writer, self.index)
            self.index = StoredIndex(path, self.key, token, offset, length, {})


#: How each kept field changes in a delta: a mapping item by item ("map"), a mapping of mappings
#: ("maps"), the corpus index (never: a changed index is written with the whole state), or whole ("value").
_KINDS = {"key": "value", "docs": "map", "numbers": "map", "pages": "map", "page_digests": "map", "lists": "value",
          "index": "index", "records": "map", "shards": "map", "outputs": "maps", "exports": "map",
          "export_state": "maps", "appendix": "value", "text_layout": "map", "checked": "value"}
FIELDS = tuple(f.name for f in fields(Cache) if f.name in _KINDS)      # "key" first: another key is not read further
assert set(FIELDS) == set(_KINDS)


@dataclass
class _Journal:
    token: str                      # names the state file the delta belongs to
    size: int                       # the state file's size
    delta: dict[str, tuple]         # field -> its changes since the state file was written
    seen: dict[str, object]         # field -> as it was read (mappings copied), to tell what this build changed


def global_key(config: Config) -> str:
    """What invalidates the whole cache: the toolkit, the schema and the theme."""
    h = hashlib.sha256(f"{VERSION} {__version__} {config.base_url} {config.title} {config.contact}".encode())
    files = SchemaFiles(config.odd)
    for p in (files.odd, files.rng, files.sch):
        h.update(p.read_bytes() if p.exists() else b"")
    # the toolkit's own code, theme and assets (a changed renderer must not reuse old pages)
    for folder in (Path(__file__).parent, config.root / "templates"):
        if folder.is_dir():
            for p in sorted(folder.rglob("*")):
                if p.is_file() and p.suffix not in (".pyc",) and "__pycache__" not in p.parts:
                    h.update(p.relative_to(folder).as_posix().encode())
                    h.update(p.read_bytes())
    return h.hexdigest()


@dataclass
class StoredIndex:
    """The corpus index as it lies in a state file, not read yet: `length` bytes at `offset` of the
    file whose pieces begin with VERSION, `key`, `token`."""

    path: Path
    key: str
    token: str
    offset: int
    length: int
    paths: dict[str, Path] = field(repr=False)

    def raw(self) -> bytes:
        """Its bytes, from the very state file it was found in (else CacheError: another build wrote it since)."""
        try:
            with open(self.path, "rb") as fh:
                reader = _Reader(fh, {})
                if (reader.load(), reader.load(), reader.load()) == (VERSION, self.key, self.token):
                    fh.seek(self.offset)
                    data = fh.read(self.length)
                    if len(data) == self.length:
                        return data
        except (OSError, pickle.PickleError, EOFError, ValueError):
            pass
        raise CacheError(f"{self.path} changed while this build ran (another build?): build again", self.path)

    def read(self) -> integrity.CorpusIndex:
        with gc_paused(keep=True):
            return _load_field(_Reader(io.BytesIO(self.raw()), self.paths))


class CacheError(EditionError):
    """The cache changed under a build that was reading it."""


# ---------------------------------------------------------------- reading

def load(folder: Path, key: str, paths: dict[str, Path]) -> Cache:
    """The cache of this key (an empty one where there is none, or a commit was cut short).
    `paths`: the documents as this run listed them, by their text (a path the cache names is read
    as that very object)."""
    found = _read(folder, key, None, paths)
    if found is None:
        return Cache(key)
    values, journal = found
    cache = Cache(**values)
    cache.journal = journal
    return cache


def load_index(config: Config) -> tuple[dict[str, DocStamp], dict[str, int], integrity.CorpusIndex] | None:
    """What `edition validate FILE` borrows from the last build: the documents' stamps and numbers and
    the corpus index. None where there is no cache of this code, schema and configuration."""
    found = _read(config.build / ".cache", global_key(config), "index", {})
    if found is None:
        return None
    values = found[0]
    index = values["index"]
    return values["docs"], values["numbers"], index.read() if isinstance(index, StoredIndex) else index


def _read(folder: Path, key: str, last: str | None, paths: dict[str, Path]) -> tuple[dict, _Journal] | None:
    """The fields up to `last` (all by default: the rest of the file is not read), with the delta
    applied, and the journal for the next save; None where there is no cache of this key."""
    if (folder / COMMITTING).exists():
        return None
    try:
        with open(folder / STATE, "rb") as fh, gc_paused(keep=True):   # (else reading takes three times as long)
            reader = _Reader(fh, paths)
            if reader.load() != VERSION or reader.load() != key:
                return None
            token = reader.load()
            values = {"key": key}
            where = StoredIndex(folder / STATE, key, token, 0, 0, paths)    # (where the index lies: see _load_field)
            for name in FIELDS[1:]:
                values[name] = _load_field(reader, where)
                if name == last:
                    break
            size = fh.tell()
            delta: dict[str, tuple] = {}
            try:
                with open(folder / DELTA, "rb") as dfh:
                    dreader = _Reader(dfh, paths)
                    if (dreader.load(), dreader.load(), dreader.load()) == (VERSION, key, token):
                        delta = dreader.load()
            except FileNotFoundError:
                pass
            for name, change in delta.items():
                if name in values:
                    values[name] = _apply(values[name], change)
            seen = {name: _copy(values[name], _KINDS[name]) for name in values}
            return values, _Journal(token, size, delta, seen)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None


def _load_field(reader: _Reader, stored: StoredIndex | None = None):
    """The next field; the corpus index where it lies (see StoredIndex) as `stored` tells, if given,
    else read."""
    kind, *rest = reader.load()
    if kind == "stored":
        if stored is not None:
            stored.offset, stored.length = reader.fh.tell(), rest[0]
            reader.fh.seek(rest[0], io.SEEK_CUR)
            return stored
        return reader.load()
    if kind == "index":
        index = integrity.CorpusIndex()
        index.merge_packed(rest[0], rest[1])
        return index
    if kind == "batches":
        out = {}
        for _ in range(rest[0]):
            out.update(reader.load())
        return out
    return rest[0]


def _copy(value, kind: str):
    """What a field was, for telling later what changed in it (mappings are changed in place)."""
    if kind == "map":
        return dict(value)
    if kind == "maps":
        return {k: dict(v) if isinstance(v, dict) else v for k, v in value.items()}
    return value


# ---------------------------------------------------------------- writing

def save(folder: Path, cache: Cache) -> None:
    """Write what changed since the state was written (see the module docstring), or the whole state."""
    folder.mkdir(parents=True, exist_ok=True)
    journal = cache.journal
    if journal is not None and not cache.index_changed:
        delta = dict(journal.delta)
        for name in FIELDS:
            change = _changes(journal.seen[name], getattr(cache, name), _KINDS[name])
            if change is not None:
                delta[name] = _merge(delta.get(name), change, getattr(cache, name))
        data = io.BytesIO()
        writer = _Pickler(data, pickle.HIGHEST_PROTOCOL)
        for piece in (VERSION, cache.key, journal.token, delta):
            writer.dump(piece)
        if data.tell() <= DELTA_SHARE * journal.size:
            _replace(folder / DELTA, data.getvalue())
            return
    _write_state(folder, cache)


def _write_state(folder: Path, cache: Cache) -> None:
    tmp = folder / f".{STATE}.tmp"
    with open(tmp, "wb") as fh, gc_paused():
        writer = _Pickler(fh, pickle.HIGHEST_PROTOCOL)
        for piece in (VERSION, cache.key, os.urandom(8).hex()):
            writer.dump(piece)
        for name in FIELDS[1:]:
            _dump_field(writer, getattr(cache, name))
    tmp.replace(folder / STATE)
    (folder / DELTA).unlink(missing_ok=True)       # (a delta left behind names the state before: not read)
    (folder / INDEX_ASIDE).unlink(missing_ok=True)


def _replace(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)


#: Items per pickle of a large mapping in the state file.
_BATCH = 1000


def _dump_field(writer: _Pickler, value) -> None:
    """One field, in pickles small enough that the pickler's memory of what it wrote (all of it,
    until the end of a dump) stays small: a large mapping in batches of items, the corpus index
    packed (flat lists and arrays, see CorpusIndex.pack)."""
    if isinstance(value, (integrity.CorpusIndex, StoredIndex)):
        _dump_index(writer, value)
    elif isinstance(value, dict) and len(value) > _BATCH:
        items = list(value.items())
        writer.dump(("batches", -(-len(items) // _BATCH)))
        for i in range(0, len(items), _BATCH):
            writer.dump(items[i:i + _BATCH])
    else:
        writer.dump(("value", value))


def _dump_index(writer: _Pickler, index: integrity.CorpusIndex | StoredIndex) -> tuple[int, int]:
    """The corpus index, stored whole with its length so that a reader may pass over it (StoredIndex);
    one not read is copied as it is. Returns where its bytes lie: (offset, length)."""
    if isinstance(index, StoredIndex):
        data = index.raw()
    else:
        buffer = io.BytesIO()
        _Pickler(buffer, pickle.HIGHEST_PROTOCOL).dump(("index", index.pack(), index.paths))
        data = buffer.getvalue()
    writer.dump(("stored", len(data)))
    offset = writer.fh.tell()
    writer.fh.write(data)
    return offset, len(data)


# ---------------------------------------------------------------- the delta

_MISSING = object()


def _changes(old, new, kind: str) -> tuple | None:
    """What changed from `old` (as read) to `new`: None, ("value", new), ("map", set, removed) or
    ("maps", {key: change}, removed)."""
    if kind == "map":
        changed = {k: v for k, v in new.items() if (o := old.get(k, _MISSING)) is not v and o != v}
        removed = old.keys() - new.keys()
        return ("map", changed, removed) if changed or removed else None
    if kind == "maps":
        subs = {}
        for k, v in new.items():
            o = old.get(k, _MISSING)
            change = _changes(o, v, "map") if isinstance(o, dict) and isinstance(v, dict) else \
                (None if o is v or o == v else ("value", v))
            if change is not None:
                subs[k] = change
        removed = old.keys() - new.keys()
        return ("maps", subs, removed) if subs or removed else None
    if kind == "index":
        return None                       # (a changed index is written with the whole state)
    return None if old is new or old == new else ("value", new)


def _merge(before: tuple | None, change: tuple, now) -> tuple:
    """The changes `before` (since the state was written) followed by `change` (this build's);
    `now` is the field as it is now."""
    if before is None:
        return change
    if change[0] == "value" or before[0] == "value":
        return ("value", now)             # (all of it changed since the state was written: as it is now)
    if change[0] == "map":
        changed = {k: v for k, v in before[1].items() if k not in change[2]}
        changed.update(change[1])
        return ("map", changed, before[2] | change[2])
    subs = {k: c for k, c in before[1].items() if k not in change[2]}
    for k, c in change[1].items():
        subs[k] = _merge(subs.get(k), c, now[k])
    return ("maps", subs, before[2] | change[2])


def _apply(value, change: tuple):
    """The field `value` with `change` made to it (in place, where it is a mapping)."""
    if change[0] == "value":
        return change[1]
    for k in change[2]:
        value.pop(k, None)
    if change[0] == "map":
        value.update(change[1])
    else:
        for k, c in change[1].items():
            value[k] = _apply(value.get(k, {}), c)
    return value


# ---------------------------------------------------------------- pickling

def _path(text: str) -> Path:
    return Path(text)


def _entry(entry: RegisterEntry):
    """A register entry without its back-links: they are the assembled corpus's, made again by
    `assemble` (a register's record would otherwise keep every letter id of the edition)."""
    return copyreg.__newobj__, (RegisterEntry,), {**entry.__dict__, "letters": []}


class _Pickler(pickle.Pickler):
    """Pickles pieces that stand alone, a path as its text (pathlib pickles its parts, which take
    several times as long to read), a register entry without its back-links."""

    dispatch_table = {**copyreg.dispatch_table, RegisterEntry: _entry,
                      **{kind: lambda p: (_path, (str(p),)) for kind in (PosixPath, WindowsPath)}}

    def __init__(self, fh, protocol: int):
        super().__init__(fh, protocol)
        self.fh = fh                # (for bytes written between pieces: see _dump_field)

    def dump(self, obj) -> None:
        super().dump(obj)
        self.clear_memo()          # each piece stands alone: the memory of what was written stays small


class _Unpickler(pickle.Unpickler):
    """Reads one piece _Pickler wrote; a path is made by `path(text)`."""

    def __init__(self, fh, path):
        super().__init__(fh)
        self.path = path       # (not a method: its memo would hold it, and so itself, in a cycle)

    def find_class(self, module: str, name: str):
        return self.path if module == __name__ and name == "_path" else super().find_class(module, name)


class _Reader:
    """The pieces of a cache file, one after the other; a path is the object `paths` has for its
    text, where it has one."""

    def __init__(self, fh, paths: dict[str, Path]):
        known = paths.get
        self.fh = fh
        self.path = lambda text: known(text) or Path(text)

    def load(self):
        return _Unpickler(self.fh, self.path).load()
