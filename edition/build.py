"""`edition build`: validate, then write the HTML edition, the plain-text edition and the exports.

The pipeline, for editions of tens of thousands of letters on a small machine:

1. gather   Each document is read and parsed once, in a pool of processes: the validation
            layers, its part of the corpus index, its part of the corpus model, and (letters)
            its body rendered for every output, links left to be filled in (stored by content
            hash in build/.cache/fragments/). The merged index, the model records and what the
            outputs hold are kept in build/.cache/ (edition.cache: a rebuild writes only what it
            changed there), so a rebuild reads only changed files.
2. check    The corpus checks run on the merged index (a rebuild whose documents changed no part
            of the index reports what the previous checks found); errors stop the build here.
3. write    Each output (html/, text/, export/) is made as a change to the previous one
            (edition.output.Output): new files go to a staging folder, unchanged ones are only
            noted. Letter pages whose inputs changed are rendered by a pool of processes that share
            the assembled corpus; the lists and registers are made again only when the corpus
            model changed. The search index is split into shards and only shards with changed pages
            are indexed again (Pagefind merges them at query time); a few shards are indexed
            while the exports are made.
4. export   The library exports (edition.export): an export whose input did not change keeps its
            files; the teiCorpus and the text edition are spliced from their previous versions
            (edition.output.Splice), the EPUB copies its unchanged pages, the bag its unchanged payload.
5. commit   Only now is anything put in place: a first or `--full` build swaps whole folders (the
            previous ones set aside in .old-*, deleted once it is done); a rebuild renames its new
            files into the folders and sets aside the files they replace and those no longer made. A failed build leaves
            everything intact; a commit cut short makes the next build a full one. Only folders the
            build made (they hold a .edition-build marker) are ever replaced. `edition export
            NAME...` puts its exports into build/export/ instead (edition.export.update).

`--full` ignores the cache. Nothing is held for all documents at once but small records.
"""
from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from importlib import resources, util as import_util
from pathlib import Path

from . import cache as build_cache
from .cache import COMMITTING, Cache, DocStamp
from .config import Config
from .corpus import REGISTER_KINDS, Corpus, DocumentRecord, Letter, assemble, read_document, share_strings
from .diagnostics import ERROR, Diagnostic, EditionError, Reporter
from .output import Entry, Output
from .odd import Schema, SchemaFiles, load as load_schema
from .site import Site, letter_fragments
from .tei import XMLInputError, read_xml
from .validate import Checker, default_jobs, integrity, list_documents

#: Letters per search shard: a change re-indexes one shard, not the whole edition. Pagefind takes
#: about 0.9 s and 100 MB for 500 pages, 0.45 s and 57 MB for 250; the browser merges the shards.
SHARD_SIZE = 250
POOL_THRESHOLD = 200
CHUNK = 50


class BuildError(EditionError):
    """The build stopped; the previous output is untouched."""

    exit_code = 1


# ---------------------------------------------------------------- phase 1: gather

@dataclass
class DocResult:
    """What one document gave: the validation diagnostics, its part of the corpus index and of
    the corpus model. The worker sends it back; its index and record are kept in the cache."""

    path: Path
    diagnostics: list[Diagnostic]
    index: integrity.CorpusIndex
    record: DocumentRecord | None


_GATHER: tuple[Checker, Path] | None = None


def _init_gather(odd: Path, cache: Path) -> None:
    global _GATHER
    _GATHER = (Checker(odd), cache)


def _gather(items: list[tuple[int, Path]], root: Path | None) -> list[tuple[Path, DocStamp, DocResult]]:
    """Read, check, model and render each (number, path): one parse per document."""
    from .export._common import newest_revision

    checker, cache = _GATHER
    out = []
    for doc, path in items:
        reporter = Reporter(root=root)
        index = integrity.CorpusIndex()
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                data = fh.read()
        except OSError as exc:
            reporter.error("file.unreadable", f"cannot read file: {exc.strerror}", path)
            out.append((path, DocStamp((0, 0), "", doc), DocResult(path, reporter.diagnostics, index, None)))
            continue
        end = data.find(b"</teiHeader>")
        stamp = DocStamp((st.st_mtime_ns, st.st_size), hashlib.sha256(data).hexdigest(), doc,
                         header=hashlib.sha256(data[:end] if end >= 0 else data).hexdigest())
        try:
            source = read_xml(path, data)
        except XMLInputError as exc:
            reporter.error(exc.code, exc.message, path, exc.line, exc.column, exc.hint)
            out.append((path, stamp, DocResult(path, reporter.diagnostics, index, None)))
            continue
        checker.check_document(source, reporter)
        index.add(source, doc)
        record = read_document(source)
        stamp = replace(stamp, revised=newest_revision(source.root),
                        model=hashlib.sha256(repr(record).encode("utf-8")).hexdigest(),
                        index=hashlib.sha256(pickle.dumps(index.pack())).hexdigest())
        if record.letter is None:        # registers and the edition's own document are read whole
            stamp = replace(stamp, header=stamp.digest)
        else:
            started = time.process_time()
            fragments = letter_fragments(source, reporter)
            _RENDERING[0] += time.process_time() - started
            _store(cache / "fragments" / f"{stamp.digest}.pickle", fragments)
        out.append((path, stamp, DocResult(path, reporter.diagnostics, index, record)))
    return out


#: CPU seconds this process spent rendering letter bodies (reported with --timings, for the benchmark).
_RENDERING = [0.0]


def _gather_chunk(items: list[tuple[int, Path]], root: Path | None):
    """_gather for a worker: the chunk's indexes merged here and sent back packed (see CorpusIndex.pack),
    with the seconds spent rendering."""
    merged = integrity.CorpusIndex()
    light = []
    _RENDERING[0] = 0.0
    for path, stamp, result in _gather(items, root):
        merged.merge(result.index)
        light.append((path, stamp, DocResult(result.path, result.diagnostics, integrity.CorpusIndex(), result.record)))
    return light, merged.pack(), _RENDERING[0]


def _store(target: Path, value) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(target)


def gather(config: Config, cache: Cache, folder: Path, jobs: int | None, root: Path | None,
           paths: list[Path]) -> tuple[list[tuple[Path, DocStamp]], list[Diagnostic], float]:
    """Phase 1 for the documents of tei/ (`paths`): what an unchanged, clean document gave is reused
    from the cache (its part of the merged index and its record); the others are read once, in a pool.
    Returns the documents with their stamps, the diagnostics of the documents read, and the seconds
    spent rendering letter bodies (summed over the processes)."""
    try:
        fragment_files = set(os.listdir(os.path.join(folder, "fragments")))   # (one listing, not a look per letter)
    except OSError:
        fragment_files = set()
    stamps: dict[str, DocStamp] = {}                 # by str(path)
    todo: list[tuple[int, Path]] = []
    for path in paths:
        key = str(path)
        number = cache.numbers.setdefault(key, len(cache.numbers))
        old = cache.docs.get(key)
        if old is not None and old.number == number and old.holds(key):
            record = cache.records.get(key)
            if record is None or record.letter is None or old.digest + ".pickle" in fragment_files:
                stamps[key] = old
                continue
        todo.append((number, path))
    # forget the records of changed and removed documents
    current = {str(p) for p in paths}
    gone = {d.number for k, d in cache.docs.items() if k not in current}
    stale = {cache.numbers[str(p)] for _, p in todo} | gone
    for key in [k for k in cache.records if k not in current or cache.numbers.get(k) in stale]:
        del cache.records[key]
    # The corpus index changes only where the parts of it of the documents read again did (a corrected
    # word changes none: then the index, and what the checks found in it, stay as they are). Where that
    # is certain from the start (a document new or gone), their parts are merged as they come.
    changed_index = streaming = bool(gone) or any(str(p) not in cache.docs for _, p in todo)
    if streaming:
        cache.corpus_index().remove(stale)
    held: list[tuple] = []                 # the parts read, until it is known whether the index changed
    paths_by_number = {number: path for number, path in todo}
    diagnostics: list[Diagnostic] = []
    rendering = 0.0
    if todo:
        jobs = jobs or (default_jobs() if len(todo) >= POOL_THRESHOLD else 1)
        if jobs <= 1:
            _init_gather(config.odd, folder)
            parts = [_gather_chunk(todo, root)]
        else:
            chunks = [todo[i:i + CHUNK * 4] for i in range(0, len(todo), CHUNK * 4)]
            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
            pool = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_gather, initargs=(config.odd, folder))
            parts = pool.map(_gather_chunk, chunks, [root] * len(chunks))
        try:
            for light, packed, seconds in parts:
                rendering += seconds
                for path, stamp, result in light:
                    diagnostics.extend(result.diagnostics)
                    old = cache.docs.get(str(path))
                    changed_index = changed_index or old.index != stamp.index or old.number != stamp.number
                    stamps[str(path)] = replace(stamp, clean=not result.diagnostics)
                    if result.record is not None:
                        share_strings(result.record)
                        cache.records[str(path)] = result.record
                if streaming:
                    cache.corpus_index().merge_packed(packed, paths_by_number)
                else:
                    held.append(packed)
        finally:
            if jobs > 1:
                pool.shutdown()
    if changed_index:
        if not streaming:
            cache.corpus_index().remove(stale)
            for packed in held:
                cache.corpus_index().merge_packed(packed, paths_by_number)
        cache.index_changed = True
    cache.docs = stamps
    return [(p, stamps[str(p)]) for p in paths], diagnostics, rendering


# ---------------------------------------------------------------- phase 3: write

_WRITE: "Writer | None" = None


@dataclass
class Writer:
    """Writes letter pages and text files into the html and text outputs; shared with the worker
    processes (fork), which send back what they wrote (`Output.files` of a worker stays in it)."""

    site: Site
    corpus: Corpus
    html: Output
    text: Output

    def write_letters(self, letter_ids: list[str]) -> list[tuple[str, str, Entry, bool]]:
        """Render these letters; return (output, path, entry, written) for each file."""
        made = []
        for letter_id in letter_ids:
            letter = self.corpus.letter_index[letter_id]
            parts = self.site.parts(letter)             # as phase 1 rendered them
            for name, out, rel, text in (
                    ("html", self.html, f"letters/{letter_id}.html", self.site.letter_page(letter, parts)),
                    ("text", self.text, f"{letter_id}.txt", text_letter(letter, parts))):
                out.write_text(rel, text)
                made.append((name, rel, out.files[rel], rel in out.written))
        return made


def _write_chunk(letter_ids: list[str]) -> list[tuple[str, str, Entry, bool]]:
    return _WRITE.write_letters(letter_ids)


def _write_lists() -> list[tuple[str, str, Entry, bool]]:
    """Write the pages that list the whole edition (home, letters, registers, search, guidelines);
    return what was written."""
    html = _WRITE.html
    made = []
    for rel, pieces in _WRITE.site.global_pages():
        html.write_pieces(rel, pieces)
        made.append(("html", rel, html.files[rel], rel in html.written))
    return made


def text_letter(letter: Letter, parts: dict[str, str], width: int = 72) -> str:
    """The plain-text file of one letter: a metadata header, the abstract, the body with endnotes."""
    title = letter.subtitle or letter.title
    lines = [title, "=" * min(width, len(title)), ""]
    meta = [
        ("Catalogue title", letter.title),
        ("From", letter.sender.name if letter.sender else ""),
        ("To", letter.recipient.name if letter.recipient else ""),
        ("Date", "; ".join(d.label() for d in letter.dates)),
        ("Place", letter.place.name if letter.place else ""),
        ("Signature", letter.signature or ""),
        ("Identifier", letter.id),
    ]
    for kind, label in (("repliesTo", "Answers"), ("repliedBy", "Answered by"), ("prev", "Previous"), ("next", "Next")):
        if letter.links.get(kind):
            meta.append((label, letter.links[kind]))
    lines += [f"{label + ':':<17}{value}" for label, value in meta if value]
    lines.append("")
    if letter.abstract:
        lines += [textwrap.fill(letter.abstract, width), ""]
    lines.append(parts.get("text", "").rstrip("\n"))
    return "\n".join(lines).rstrip("\n") + "\n"


def text_edition(corpus: Corpus, config: Config, text: Output, reporter: Reporter, appendix: str,
                 layout: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The whole edition in one file: introduction, every letter, the registers as an appendix.

    In a rebuild, a letter whose text file did not change is copied from the previous edition.txt,
    where `layout` (letter id -> offset, length, as the previous build wrote it) says it is,
    instead of being read from its file. Returns the layout of the new file."""
    from . import render
    from .tei import NS

    head = f"{config.title}\n{'=' * len(config.title)}\n\n"
    if corpus.edition is not None:
        body = corpus.edition.root.find("tei:text/tei:body", NS)
        head += render.render_text(body, reporter=reporter, source=corpus.edition).rstrip("\n") + "\n"
    separator = ("\n" + "-" * 72 + "\n\n").encode("utf-8")
    placed: dict[str, tuple[int, int]] = {}
    with text.splice("edition.txt", separator, reuse=bool(layout)) as splice:
        splice.put(head.encode("utf-8"))
        for letter in corpus.letters:
            splice.gap()
            rel = f"{letter.id}.txt"
            where = layout.get(letter.id) if rel not in text.written else None
            if where is not None:
                splice.reuse(where[0], where[1], partial(text.read, rel), partial(_place, placed, letter.id))
            else:
                data = text.read(rel)
                placed[letter.id] = (splice.put(data), len(data))
        splice.put(appendix.encode("utf-8"))
    return placed


def _place(placed: dict[str, tuple[int, int]], letter_id: str, offset: int, length: int) -> None:
    placed[letter_id] = (offset, length)


def registers_appendix(corpus: Corpus) -> str:
    """The registers, for the end of the text edition: every entry with its letters."""
    out = ["\n" + "-" * 72 + "\n\nRegisters\n=========\n"]
    for kind in REGISTER_KINDS:
        out.append(f"\n{kind.label}\n{'-' * len(kind.label)}\n")
        for entry in sorted(corpus.entries[kind.key].values(), key=lambda e: e.name.casefold()):
            line = entry.name + (f": {entry.description}" if entry.description else "")
            if entry.letters:
                line += f" [{', '.join(entry.letters)}]"
            out.append(textwrap.fill(line, 72, subsequent_indent="    ") + "\n")
    return "".join(out)


# ---------------------------------------------------------------- search

def _shards(letters: list[Letter]) -> dict[str, list[str]]:
    ids = sorted(l.id for l in letters)
    count = max(1, -(-len(ids) // SHARD_SIZE))
    shards: dict[str, list[str]] = {f"shard-{i:03d}": [] for i in range(count)}
    for letter_id in ids:
        n = int(hashlib.sha256(letter_id.encode()).hexdigest(), 16) % count
        shards[f"shard-{n:03d}"].append(letter_id)
    return shards


def _pagefind() -> list[str]:
    """The command that runs Pagefind: the binary its pagefind_bin package (or the extended one)
    ships, found where the package lies without importing it; else where the pagefind package looks
    (PAGEFIND_BINARY_PATH, then PATH). (Importing pagefind.service, which imports asyncio, cost every
    build 50 ms.)"""
    if not os.environ.get("PAGEFIND_BINARY_PATH"):
        for package in ("pagefind_bin_extended", "pagefind_bin"):
            spec = import_util.find_spec(package)
            for folder in (spec.submodule_search_locations or []) if spec else []:
                for name in ("pagefind_extended", "pagefind", "pagefind_extended.exe", "pagefind.exe"):
                    if os.path.isfile(os.path.join(folder, name)):
                        return [os.path.join(folder, name)]
    try:
        from pagefind.service import get_executable

        binary = get_executable()
    except ImportError:
        binary = None
    return [str(binary)] if binary is not None else [sys.executable, "-m", "pagefind"]


class SearchIndex:
    """Pagefind run on each shard of letter pages whose pages changed, in threads that only wait on
    Pagefind's processes: started once the pages are written; `finish()` waits for it and notes its
    files. The build may let it run while the exports are made (nothing forks meanwhile); only the
    bag reads the html output whole, so the exports wait for it there (ExportContext.built_ready)."""

    def __init__(self, html: Output, shards: dict[str, list[str]], page_keys: dict[str, str], cache: Cache,
                 workers: int):
        self.html, self.shards, self.cache = html, shards, cache
        self.keys = {name: hashlib.sha256("".join(page_keys[i] for i in ids).encode()).hexdigest()
                     for name, ids in shards.items()}
        kept = tuple(f"pagefind/{name}/" for name in shards
                     if cache.shards.get(name) == self.keys[name] and html.keep(f"pagefind/{name}/pagefind-entry.json"))
        html.keep_below(kept)
        self.todo = [name for name in shards if f"pagefind/{name}/" not in kept and shards[name]]  # no letters: nothing to search
        self.command = _pagefind() if self.todo else []
        self.pool = ThreadPoolExecutor(max(1, min(len(self.todo), workers)))
        self.running = [self.pool.submit(self._run, name) for name in self.todo]
        self.done = False

    def _run(self, name: str) -> None:
        with tempfile.TemporaryDirectory(dir=self.html.folder.parent) as tmp:
            site = Path(tmp)
            (site / "letters").mkdir()
            for letter_id in self.shards[name]:
                rel = f"letters/{letter_id}.html"
                os.link(self.html.source(rel), site / rel)
            target = self.html.path(f"pagefind/{name}")
            proc = subprocess.run([*self.command, "--site", str(site), "--output-path", str(target)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"the search index could not be built (pagefind exit {proc.returncode}): "
                                 f"{(proc.stderr or proc.stdout).strip()[-500:]}")

    def finish(self) -> None:
        """Wait for Pagefind and note the files it wrote (the shards indexed again are `todo`)."""
        if not self.done:
            self.done = True
            try:
                for future in self.running:
                    future.result()
            finally:
                self.pool.shutdown(wait=True, cancel_futures=True)
            html = self.html
            for name in self.todo:
                folder = html.folder / "pagefind" / name
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        html.record(path.relative_to(html.folder).as_posix())
            html.write_text("pagefind/shards.json", json.dumps(sorted(n for n in self.shards if self.shards[n])))
            self.cache.shards = self.keys

    def stop(self) -> None:
        """Let the shards not started go, and wait for those running (a failed build)."""
        self.pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------- the build

#: The processes deleting what earlier builds set aside (kept here, so they are not waited for).
_CLEANERS: list[subprocess.Popen] = []

#: A file in every output folder the build made: only such folders are ever replaced.
MARKER = ".edition-build"


def _check_build_folder(config: Config) -> None:
    """Refuse a build folder that would hold the sources, and outputs the build did not make."""
    build, root, tei = config.build.resolve(), config.root.resolve(), config.tei.resolve()
    if build == root or build in tei.parents or build == tei or tei in build.parents:
        raise BuildError(f"the build folder {config.build} would mix outputs with the sources; "
                         "set `build` in the configuration to a folder of its own")
    for name in OUTPUTS:
        folder = config.build / name
        if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).exists():
            raise BuildError(f"{folder} exists and was not made by `edition build`; it is left untouched. "
                             "Move it away, or set another `build` folder in the configuration")


#: Everything `edition build` can write: key = CLI word = output folder.
OUTPUTS = ("html", "text", "export")


@dataclass
class BuildResult:
    outputs: dict[str, int]      # output -> number of files
    left_out: list[Path]         # invalid documents left out (with skip_invalid)
    timings: dict[str, float] = field(default_factory=dict)
    reindexed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    lists_reused: bool = False


def _peak_mb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except (ImportError, OSError):
        return 0.0


def _no_progress(step: str) -> None:
    pass


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _count(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def build(config: Config, reporter: Reporter, formats: list[str] | None = None, *,
          skip_invalid: bool = False, full: bool = False, jobs: int | None = None,
          progress=_no_progress, export_names: list[str] | None = None) -> BuildResult:
    """Validate, render every output, then put them in place (see the module docstring).

    What the cache holds and what phase 1 gathers is frozen against the garbage collector for the
    rest of the build (gc.freeze): it lives to the end, and each collection of the oldest
    generation would go through its million objects again (a fifth of a second each time)."""
    try:
        return _build(config, reporter, formats, skip_invalid=skip_invalid, full=full, jobs=jobs,
                      progress=progress, export_names=export_names)
    finally:
        gc.unfreeze()


def _build(config: Config, reporter: Reporter, formats: list[str] | None, *, skip_invalid: bool, full: bool,
           jobs: int | None, progress, export_names: list[str] | None) -> BuildResult:
    timings: dict[str, float] = {}
    clock, cpu = time.perf_counter(), _cpu()

    def lap(name: str, with_cpu: bool = False) -> None:
        """Note a phase's wall time, the peak memory so far, and (with_cpu) the CPU time it took
        in this process and the worker processes that ended in it."""
        nonlocal clock, cpu
        now, cpu_now = time.perf_counter(), _cpu()
        timings[name] = round(timings.get(name, 0) + now - clock, 3)
        if with_cpu:
            timings[f"{name} cpu"] = round(timings.get(f"{name} cpu", 0) + cpu_now - cpu, 3)
        timings[f"{name} (peak MB of this process so far)"] = round(_peak_mb(), 1)
        clock, cpu = now, cpu_now

    names = [n for n in OUTPUTS if n in (formats or OUTPUTS)]
    cache_dir = config.build / ".cache"
    fragments = cache_dir / "fragments"
    fragments.mkdir(parents=True, exist_ok=True)
    key = build_cache.global_key(config)
    documents = list_documents(config)
    cache = Cache(key) if full else build_cache.load(cache_dir, key, {str(p): p for p in documents})
    gc.freeze()
    previous_keys = dict(cache.pages)
    previous_shards = dict(cache.shards)
    previous_page_digests = dict(cache.page_digests)
    previous_digests = {s.digest for s in cache.docs.values()} if cache.docs else None

    _check_build_folder(config)

    # 1. gather: one pass; unchanged documents come from the cache
    progress("reading and checking")
    stamps, diagnostics, rendering = gather(config, cache, cache_dir, jobs, reporter.root, documents)
    gc.freeze()
    reporter.diagnostics.extend(diagnostics)
    records = cache.records                      # by str(path)
    lap("read and check")
    timings["render letter bodies summed over processes"] = round(rendering, 3)

    # 2. corpus checks
    if cache.checked is None or cache.index_changed:
        found = len(reporter.diagnostics)
        integrity.check(cache.corpus_index(), reporter)
        cache.checked = reporter.diagnostics[found:]
        if len(stamps) >= POOL_THRESHOLD:
            cache.set_index_aside(cache_dir)               # (a large edition's index: not needed until the commit)
    else:
        reporter.diagnostics.extend(cache.checked)       # the index is as the previous build checked it
    schema = load_schema(config.odd)
    if SchemaFiles(config.odd).stale(schema):
        reporter.warning("schema.stale", "the generated schema differs from the ODD", config.odd, 1, 1,
                         hint="run `edition schema` to regenerate it")
    left_out: list[Path] = []
    if reporter.failed():
        if not skip_invalid:
            raise BuildError("the edition has errors (listed above); nothing was written, the previous build is intact")
        bad = {d.path for d in reporter.diagnostics if d.level == ERROR}
        left_out = sorted(p for p, _ in stamps if reporter.display_path(p) in bad)
        # the reasons stay in the report, as warnings: the documents are left out, not the problems
        reporter.diagnostics = [replace(d, level="warning", message=f"{d.message} (document left out)")
                                if d.level == ERROR else d for d in reporter.diagnostics]
    excluded = {str(p) for p in left_out}         # (paths compared as strings: hashing Paths is slow)
    kept = [(p, s) for p, s in stamps if str(p) not in excluded and str(p) in records]
    kept_records = [records[str(p)] for p, _ in kept]
    edition_paths = [p for (p, _), r in zip(kept, kept_records) if r.is_edition]
    edition_source = read_xml(edition_paths[0]) if edition_paths else None
    corpus = assemble(config.tei, kept_records, edition_source)
    digests = {r.letter.id: s.digest for (_, s), r in zip(kept, kept_records) if r.letter is not None}
    del records, kept_records
    lap("corpus checks")

    site = Site(corpus, config, schema, reporter,
                fragments=lambda letter: _load_parts(fragments, digests[letter.id]))
    config.build.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=config.build))
    result = BuildResult({}, left_out, timings)
    # every output is made as a change to the previous one, where there is one and the cache knows its files
    outputs = {name: Output(staging / name, *((config.build / name, cache.outputs[name])
                                              if not full and name in cache.outputs
                                              and (config.build / name / MARKER).is_file() else (None, None)))
               for name in OUTPUTS}
    search: SearchIndex | None = None
    try:
        html, text = outputs["html"], outputs["text"]

        # 3. write: letter pages and text files, changed ones only
        progress("writing pages")
        # A letter's page shows its document and what the corpus model says of its neighbours and of
        # the entries it names: while the model is unchanged, an unchanged document keeps its key.
        lists_key = _lists_key(kept)
        same_model = previous_keys.get(":lists") == lists_key

        def page_key(letter: Letter) -> str:
            if same_model and previous_page_digests.get(letter.id) == digests[letter.id] and letter.id in previous_keys:
                return previous_keys[letter.id]
            return site.letter_key(letter, digests[letter.id])

        page_keys = {l.id: page_key(l) for l in corpus.letters}
        changed = [i for i, k in page_keys.items()
                   if previous_keys.get(i) != k or not (html.keep(f"letters/{i}.html") and text.keep(f"{i}.txt"))]
        letter_keys = dict(page_keys)
        result.changed = changed
        global _WRITE
        _WRITE = Writer(site, corpus, html, text)
        # the lists and registers show the corpus model only (no letter's body): an unchanged model reuses them
        reused = same_model and bool(cache.lists) and all([html.keep(rel) for rel in cache.lists])
        page_keys[":lists"] = lists_key
        result.lists_reused = reused
        workers = jobs or default_jobs()
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods() and len(changed) >= POOL_THRESHOLD:
            # the workers share the assembled corpus by forking; frozen, its objects are left alone
            # by the workers' garbage collector, which would otherwise write to every one of them and
            # so copy every page of memory they share. Each worker takes one run of letters in
            # corpus order (they lie in memory in that order), not every other chunk of them: so it
            # touches, and copies, only its own part of the corpus. This process, which would only
            # wait, writes the first run itself: one copy of the corpus's pages fewer (70 MB at
            # 10,000 letters)
            site.load_templates()                     # (compiled once, before the workers fork)
            gc.freeze()
            size = -(-len(changed) // workers)
            runs = [changed[i:i + size] for i in range(0, len(changed), size)]
            with ProcessPoolExecutor(len(runs) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
                pending = [pool.submit(_write_chunk, run) for run in runs[1:]]
                _note_written(outputs, _WRITE.write_letters(runs[0]))
                for future in pending:
                    _note_written(outputs, future.result())
        else:
            _note_written(outputs, _WRITE.write_letters(changed))
        static = resources.files("edition") / "static"
        for item in sorted(static.iterdir(), key=lambda p: p.name):
            if item.is_file():
                html.write(f"static/{item.name}", item.read_bytes())
        lap("render pages", with_cpu=True)
        # The search index: a few shards (a rebuild's) are indexed in the background, on the cores
        # the text edition and the exports leave idle (they run in this process); many (a full
        # build's) first, on every core, so that Pagefind and the exports do not hold their memory
        # at the same time.
        progress("indexing for search")
        search = SearchIndex(html, _shards(corpus.letters), letter_keys, cache, workers)
        if len(search.todo) >= workers or "export" not in names:
            search.finish()
            lap("search index")
        # The lists and registers, in this process, once Pagefind's processes are done (or only a
        # rebuild's few are running): a process forked to make them would copy nearly every page
        # of memory this one holds (reading every letter changes the counts of references in
        # them), and their memory is given back for the exports, which follow.
        if not reused:
            made = _write_lists()
            _note_written(outputs, made)
            cache.lists = sorted(rel for _, rel, _, _ in made)
            lap("render pages", with_cpu=True)

        # the registers' appendix shows the corpus model only: reused while it is unchanged
        if cache.appendix[0] != lists_key:
            cache.appendix = (lists_key, registers_appendix(corpus))
        previous_layout = cache.text_layout
        cache.text_layout = text_edition(corpus, config, text, reporter, cache.appendix[1], previous_layout)
        lap("render text edition", with_cpu=True)

        if reporter.failed():
            raise BuildError("rendering reported errors (listed above); nothing was written, the previous build is intact")

        # 4. exports
        if "export" in names:
            from .export import export, update

            progress("exporting")
            built = {"html": html, "text": text}
            inputs = _export_keys(corpus, stamps, lists_key, letter_keys, left_out)
            make = lambda out: export_context(corpus, config, schema, reporter, built, out, digests, fragments,  # noqa: E731
                                              left_out, kept, built_ready=search.finish)
            if export_names:
                # `edition export NAME...`: only these, into the existing build/export/
                update(config.build / "export", make, export_names)
                (config.build / "export" / MARKER).write_text("made by `edition build`; replaced by the next build\n",
                                                              encoding="utf-8")
                names = [n for n in names if n != "export"]
                result.outputs["export"] = _count(config.build / "export")
                cache.outputs.pop("export", None)          # changed outside the build's record: made whole next time
            else:
                ctx = make(outputs["export"])
                ctx.input_keys, ctx.previous_exports = inputs, cache.exports
                ctx.previous_state, ctx.page_keys = cache.export_state, letter_keys
                export(ctx)
                timings.update((f"export {name}", round(seconds, 3)) for name, seconds in ctx.seconds.items())
                # (the files of an export without a key, such as the bag, are not kept: it is always made again)
                cache.exports = {name: (inputs.get(name), files if inputs.get(name) is not None else [])
                                 for name, files in ctx.exported.items()}
                cache.export_state = ctx.state
            lap("export")
            if reporter.failed():
                raise BuildError("the exports reported errors (listed above); nothing was written, the previous build is intact")
        if not search.done:
            search.finish()
            lap("search index (what the exports did not wait for)")
        result.reindexed = search.todo

        # 5. put in place: a first or full build swaps whole folders (the previous ones are set aside
        # in .old-NAME, deleted once the build is done); a rebuild renames its new files into place.
        # The marker beside the cache says a commit is under way: if it stays, the next build is full.
        progress("replacing the previous build")
        (cache_dir / COMMITTING).write_text("an interrupted build was putting its outputs in place\n")
        for name in names:
            outputs[name].commit(config.build / name, config.build / f".old-{name}-{staging.name[len('.staging-'):]}")
            (config.build / name / MARKER).write_text("made by `edition build`; replaced by the next build\n",
                                                      encoding="utf-8")
            result.outputs[name] = len(outputs[name].files)
            cache.outputs[name] = outputs[name].files
        if "html" in names and "text" in names:
            cache.pages, cache.page_digests = page_keys, digests
        else:
            # pages and search shards were not put in place: the next build must not think they were
            cache.pages, cache.shards, cache.page_digests = previous_keys, previous_shards, previous_page_digests
        if "text" not in names:
            cache.text_layout = previous_layout          # the text edition was not put in place
        build_cache.save(cache_dir, cache)
        (cache_dir / COMMITTING).unlink()
        _prune(cache_dir, {s.digest for _, s in stamps}, previous_digests)
        _clean_aside(config)
        lap("commit")
    finally:
        if search is not None:
            search.stop()
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _clean_aside(config: Config) -> None:
    """Delete what builds set aside (build/.old-*) in a process of its own, at the lowest priority,
    not waited for: after a full build it deletes a whole edition's files (80,000 at 10,000 letters),
    which would slow down the files a build creates if it ran beside one. (The folders have names no
    later build gives again; it may outlive this process.)"""
    leftovers = sorted(config.build.glob(".old-*"))
    if leftovers:
        _CLEANERS.append(subprocess.Popen(
            [sys.executable, "-c", "import os, shutil, sys\nif hasattr(os, 'nice'): os.nice(19)\n"
                                   "for p in sys.argv[1:]: shutil.rmtree(p, True)", *map(str, leftovers)]))


def _note_written(outputs: dict[str, Output], made: list[tuple[str, str, Entry, bool]]) -> None:
    """Take note, in this process, of the files a worker wrote into the outputs."""
    for name, rel, entry, written in made:
        outputs[name].files[rel] = entry
        if written:
            outputs[name].written.add(rel)


def _export_keys(corpus: Corpus, stamps: list[tuple[Path, DocStamp]], lists_key: str,
                 letter_keys: dict[str, str], left_out: list[Path]) -> dict[str, str]:
    """A key of what each export reads, where the build can tell: an export whose key did not change
    is kept as it is. The metadata exports read the corpus model and the documents' headers; the TEI
    export every byte of the sources; the EPUB the model and the letters' pages (it also reuses its
    unchanged pages when it is made again). The bag is always made again, from what it can reuse."""
    environment = repr((os.environ.get("SOURCE_DATE_EPOCH"), sorted(map(str, left_out)), str(corpus.root)))
    metadata = hashlib.sha256(f"{environment}\0{lists_key}\0".encode())
    metadata.update("".join([f"{p}\0{s.header}\0" for p, s in stamps]).encode("utf-8", "surrogateescape"))
    sources = hashlib.sha256(f"{environment}\0".encode())
    sources.update("".join([f"{p}\0{s.digest}\0" for p, s in stamps]).encode("utf-8", "surrogateescape"))
    pages = hashlib.sha256(f"{metadata.hexdigest()}\0".encode())
    pages.update("".join([f"{i}\0{k}\0" for i, k in sorted(letter_keys.items())]).encode())
    keys = {name: metadata.hexdigest() for name in ("metadata", "cmif", "oai-pmh", "marc", "mods", "data")}
    keys.update(tei=sources.hexdigest(), epub=pages.hexdigest())
    return keys


def _lists_key(documents: list[tuple[Path, DocStamp]]) -> str:
    """A key of what the lists, registers, charts and home page show: the corpus model (each document's
    part of it, and the edition's document whole), not the letters' bodies."""
    text = "".join([f"{p}\0{s.model}\0{s.header}\0" for p, s in documents])      # (a path holds no NUL)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _load_parts(fragments: Path, digest: str) -> dict[str, str]:
    with open(fragments / f"{digest}.pickle", "rb") as fh:
        return pickle.load(fh)


def _prune(cache_dir: Path, keep: set[str], previous: set[str] | None) -> None:
    """Forget the rendered fragments of documents that are gone or changed: those the previous build
    knew, or (a build without a cache) every one not kept, including what failed builds left."""
    if previous is not None:
        gone = [cache_dir / "fragments" / f"{d}.pickle" for d in previous - keep]
    else:
        gone = [p for p in (cache_dir / "fragments").glob("*.pickle") if p.stem not in keep]
    for p in gone:
        p.unlink(missing_ok=True)


def export_context(corpus: Corpus, config: Config, schema: Schema, reporter: Reporter, built: dict[str, Output],
                   out: Output, digests: dict[str, str], fragments: Path, left_out: list[Path] = (),
                   documents: list[tuple[Path, DocStamp]] = (), built_ready=lambda: None):
    """The exports' context: the staged outputs, the letters' bodies as rendered in phase 1, and what
    phase 1 read of the documents (their digests and revision dates)."""
    from . import render
    from .export import ExportContext

    def rendered(letter_id: str, resolve) -> dict[str, str]:
        parts = _load_parts(fragments, digests[letter_id])
        return {k: render.fill_links(v, resolve) for k, v in parts.items() if k in ("regest", "commentary")}

    ctx = ExportContext(corpus, config, schema, reporter, built, out, admin_email=config.contact, rendered=rendered,
                        left_out=tuple(left_out), built_ready=built_ready)
    ctx.documents = {str(p): (p, s.digest) for p, s in documents}
    ctx._read.newest_revision = max((s.revised for _, s in documents if s.revised), default=None)
    return ctx
