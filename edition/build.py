"""`edition build`: validate, then write the HTML edition, the plain-text edition and the exports.

The pipeline, for editions of tens of thousands of letters on a small machine:

1. gather   Each document is read and parsed once, in a pool of processes: the validation
            layers, its part of the corpus index, its part of the corpus model, and (letters)
            its body rendered for every output, links left to be filled in (stored by content
            hash in build/.cache/fragments/). The merged index and the model records are kept in
            build/.cache/state.pickle, so a rebuild reads only changed files.
2. check    The corpus checks run on the merged index; errors stop the build here.
3. write    Pages and text files are written into a staging folder by a pool of processes
            that share the assembled corpus; a page whose inputs did not change is hard-linked
            from the previous build instead; the lists and registers are reused when the corpus
            model did not change. The search index is split into shards and only shards with
            changed pages are indexed again (Pagefind merges them at query time).
4. export   The library exports (edition.export), from the staged outputs.
5. swap     The staged folders replace the previous ones (set aside in .old-*, deleted by the
            next build); a failed build leaves them intact. Only folders the build made (they
            hold a .edition-build marker) are ever replaced. `edition export NAME...` puts its
            exports into build/export/ instead (edition.export.update).

`--full` ignores the cache. Nothing is held for all documents at once but small records.
"""
from __future__ import annotations

import hashlib
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
from importlib import resources
from pathlib import Path

from . import __version__
from .config import Config
from .corpus import REGISTER_KINDS, Corpus, DocumentRecord, Letter, assemble, read_document
from .diagnostics import ERROR, Diagnostic, EditionError, Reporter
from .odd import Schema, SchemaFiles, load as load_schema
from .scaffold import human_date
from .site import Site, letter_fragments
from .tei import XMLInputError, read_xml
from .validate import Checker, collect, default_jobs, integrity

CACHE_VERSION = 5
#: Letters per search shard: a change re-indexes one shard, not the whole edition.
SHARD_SIZE = 500
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


@dataclass(frozen=True)
class DocStamp:
    """What the cache keeps in memory per document: enough to tell whether it changed."""

    stamp: tuple[int, int]          # (mtime_ns, size): the quick test for "unchanged"
    digest: str                     # SHA-256 of the bytes: names its cached result and fragments
    number: int                     # the document's number in the corpus index
    clean: bool = True              # no diagnostic: its results may be reused as they are


_GATHER: tuple[Checker, Path] | None = None


def _init_gather(odd: Path, cache: Path) -> None:
    global _GATHER
    _GATHER = (Checker(odd), cache)


def _gather(items: list[tuple[int, Path]], root: Path | None) -> list[tuple[Path, DocStamp, DocResult]]:
    """Read, check, model and render each (number, path): one parse per document."""
    from .validate.schematron import check as schematron_check

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
        stamp = DocStamp((st.st_mtime_ns, st.st_size), hashlib.sha256(data).hexdigest(), doc)
        try:
            source = read_xml(path, data)
        except XMLInputError as exc:
            reporter.error(exc.code, exc.message, path, exc.line, exc.column, exc.hint)
            out.append((path, stamp, DocResult(path, reporter.diagnostics, index, None)))
            continue
        checker.relaxng.check(source, reporter)
        schematron_check(checker.schematron, source, reporter)
        index.add(source, doc)
        record = read_document(source)
        if record.letter is not None:
            _store(cache / "fragments" / f"{stamp.digest}.pickle", letter_fragments(source, reporter))
        out.append((path, stamp, DocResult(path, reporter.diagnostics, index, record)))
    return out


def _gather_chunk(items: list[tuple[int, Path]], root: Path | None):
    """_gather for a worker: the chunk's indexes merged here, so the main process merges few."""
    merged = integrity.CorpusIndex()
    light = []
    for path, stamp, result in _gather(items, root):
        merged.merge(result.index)
        light.append((path, stamp, DocResult(result.path, result.diagnostics, integrity.CorpusIndex(), result.record)))
    return light, merged


def _store(target: Path, value) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(target)


@dataclass
class Cache:
    """The previous build's results, read from build/.cache/state.pickle."""

    key: str = ""
    docs: dict[str, DocStamp] = field(default_factory=dict)     # path -> its stamp
    numbers: dict[str, int] = field(default_factory=dict)      # path -> stable document number
    pages: dict[str, str] = field(default_factory=dict)        # letter id (":lists" for the lists) -> key of its inputs
    lists: list[str] = field(default_factory=list)             # the pages that list the whole edition
    index: integrity.CorpusIndex = field(default_factory=integrity.CorpusIndex)   # of every document
    records: dict[str, DocumentRecord] = field(default_factory=dict)             # path -> its model part
    shards: dict[str, str] = field(default_factory=dict)       # search shard -> key of its pages


def _global_key(config: Config) -> str:
    """What invalidates the whole cache: the toolkit, the schema and the theme."""
    h = hashlib.sha256(f"{CACHE_VERSION} {__version__} {config.base_url} {config.title}".encode())
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


def _load_cache(folder: Path, key: str) -> Cache:
    try:
        with open(folder / "state.pickle", "rb") as fh:
            cache = pickle.load(fh)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        return Cache(key)
    if not isinstance(cache, Cache) or cache.key != key:
        return Cache(key)
    return cache


def _save_cache(folder: Path, cache: Cache) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "state.pickle.tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(cache, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(folder / "state.pickle")


def gather(config: Config, cache: Cache, folder: Path, jobs: int | None,
           root: Path | None) -> tuple[list[tuple[Path, DocStamp]], list[Diagnostic]]:
    """Phase 1 for every document of tei/: what an unchanged, clean document gave is reused from
    the cache (its part of the merged index and its record); the others are read once, in a pool.
    Returns the documents with their stamps, and the diagnostics of the documents read."""
    paths = [Path(os.path.abspath(p)) for p in collect([config.tei])] if config.tei.is_dir() else []
    stamps: dict[Path, DocStamp] = {}
    todo: list[tuple[int, Path]] = []
    for path in paths:
        key = str(path)
        number = cache.numbers.setdefault(key, len(cache.numbers))
        old = cache.docs.get(key)
        if old is not None and old.clean and old.number == number:
            try:
                st = path.stat()
            except OSError:
                st = None
            record = cache.records.get(key)
            if st is not None and (st.st_mtime_ns, st.st_size) == old.stamp and \
                    (record is None or record.letter is None or (folder / "fragments" / f"{old.digest}.pickle").exists()):
                stamps[path] = old
                continue
        todo.append((number, path))
    # forget what changed and removed documents contributed
    current = {str(p) for p in paths}
    stale = {cache.numbers[str(p)] for _, p in todo} | {d.number for k, d in cache.docs.items() if k not in current}
    cache.index.remove(stale)
    for key in [k for k in cache.records if k not in current or cache.numbers.get(k) in stale]:
        del cache.records[key]
    diagnostics: list[Diagnostic] = []
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
            for light, merged in parts:
                for path, stamp, result in light:
                    diagnostics.extend(result.diagnostics)
                    stamps[path] = DocStamp(stamp.stamp, stamp.digest, stamp.number, clean=not result.diagnostics)
                    if result.record is not None:
                        cache.records[str(path)] = result.record
                cache.index.merge(merged)
        finally:
            if jobs > 1:
                pool.shutdown()
    cache.docs = {str(p): stamps[p] for p in paths}
    return [(p, stamps[p]) for p in paths], diagnostics


# ---------------------------------------------------------------- phase 3: write

_WRITE: "Writer | None" = None


@dataclass
class Writer:
    """Writes letter pages and text files; shared with the worker processes (fork)."""

    site: Site
    corpus: Corpus
    fragments: Path
    html: Path
    text: Path
    previous_html: Path | None
    previous_text: Path | None

    digests: dict[str, str] = field(default_factory=dict)

    def write_letters(self, jobs: list[tuple[str, bool]]) -> None:
        """(letter id, changed): render changed ones, hard-link the others from the previous build."""
        for letter_id, changed in jobs:
            letter = self.corpus.letter_index[letter_id]
            page, txt = f"letters/{letter_id}.html", f"{letter_id}.txt"
            if not changed and _link(self.previous_html, page, self.html) and _link(self.previous_text, txt, self.text):
                continue
            parts = _load_parts(self.fragments, self.digests[letter.id])
            _write(self.html / page, self.site.letter_page(letter, parts).encode("utf-8"))
            _write(self.text / txt, text_letter(letter, parts).encode("utf-8"))


def _write(path: Path, data: bytes) -> None:
    """A new file at `path`: never written in place, since it may be a hard link into the previous build."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def _link(previous: Path | None, rel: str, folder: Path) -> bool:
    if previous is None or not (previous / rel).is_file():
        return False
    target = folder / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(previous / rel, target)
    except OSError:
        shutil.copyfile(previous / rel, target)
    return True


def _write_chunk(jobs: list[tuple[str, bool]]) -> int:
    _WRITE.write_letters(jobs)
    return len(jobs)


def text_letter(letter: Letter, parts: dict[str, str], width: int = 72) -> str:
    """The plain-text file of one letter: a metadata header, the abstract, the body with endnotes."""
    title = letter.subtitle or letter.title
    lines = [title, "=" * min(width, len(title)), ""]
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
    for kind, label in (("repliesTo", "Answers"), ("repliedBy", "Answered by"), ("prev", "Previous"), ("next", "Next")):
        if letter.links.get(kind):
            meta.append((label, letter.links[kind]))
    lines += [f"{label + ':':<17}{value}" for label, value in meta if value]
    lines.append("")
    if letter.abstract:
        lines += [textwrap.fill(letter.abstract, width), ""]
    lines.append(parts.get("text", "").rstrip("\n"))
    return "\n".join(lines).rstrip("\n") + "\n"


def text_edition(corpus: Corpus, config: Config, text_dir: Path, reporter: Reporter) -> None:
    """The whole edition in one file: introduction, every letter, the registers as an appendix."""
    from . import render
    from .tei import NS

    with open(text_dir / "edition.txt", "w", encoding="utf-8") as out:
        out.write(f"{config.title}\n{'=' * len(config.title)}\n\n")
        if corpus.edition is not None:
            body = corpus.edition.root.find("tei:text/tei:body", NS)
            out.write(render.render_text(body, reporter=reporter, source=corpus.edition).rstrip("\n") + "\n")
        for letter in corpus.letters:
            out.write("\n" + "-" * 72 + "\n\n")
            with open(text_dir / f"{letter.id}.txt", encoding="utf-8") as fh:
                out.write(fh.read())
        out.write("\n" + "-" * 72 + "\n\nRegisters\n=========\n")
        for kind in REGISTER_KINDS:
            out.write(f"\n{kind.label}\n{'-' * len(kind.label)}\n")
            for entry in sorted(corpus.entries[kind.key].values(), key=lambda e: e.name.casefold()):
                line = entry.name + (f": {entry.description}" if entry.description else "")
                if entry.letters:
                    line += f" [{', '.join(entry.letters)}]"
                out.write(textwrap.fill(line, 72, subsequent_indent="    ") + "\n")


# ---------------------------------------------------------------- search

def _shards(letters: list[Letter]) -> dict[str, list[str]]:
    ids = sorted(l.id for l in letters)
    count = max(1, -(-len(ids) // SHARD_SIZE))
    shards: dict[str, list[str]] = {f"shard-{i:03d}": [] for i in range(count)}
    for letter_id in ids:
        n = int(hashlib.sha256(letter_id.encode()).hexdigest(), 16) % count
        shards[f"shard-{n:03d}"].append(letter_id)
    return shards


def index_search(html: Path, previous: Path | None, shards: dict[str, list[str]], page_keys: dict[str, str],
                 cache: Cache) -> list[str]:
    """Index each shard of letter pages with Pagefind (only shards whose pages changed); return those indexed."""
    import json

    keys = {name: hashlib.sha256("".join(page_keys[i] for i in ids).encode()).hexdigest() for name, ids in shards.items()}
    todo = []
    for name in shards:
        if cache.shards.get(name) == keys[name] and previous is not None and (previous / "pagefind" / name).is_dir():
            shutil.copytree(previous / "pagefind" / name, html / "pagefind" / name, copy_function=os.link)
        else:
            todo.append(name)

    def run(name: str) -> None:
        with tempfile.TemporaryDirectory(dir=html.parent) as tmp:
            site = Path(tmp)
            (site / "letters").mkdir()
            for letter_id in shards[name]:
                os.link(html / "letters" / f"{letter_id}.html", site / "letters" / f"{letter_id}.html")
            proc = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site),
                                   "--output-path", str(html / "pagefind" / name)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"the search index could not be built (pagefind exit {proc.returncode}): "
                                 f"{(proc.stderr or proc.stdout).strip()[-500:]}")

    todo = [name for name in todo if shards[name]]      # an edition without letters has nothing to search
    with ThreadPoolExecutor(max(1, min(len(todo), default_jobs()))) as pool:
        list(pool.map(run, todo))
    (html / "pagefind").mkdir(exist_ok=True)
    (html / "pagefind" / "shards.json").write_text(json.dumps(sorted(n for n in shards if shards[n])), encoding="utf-8")
    cache.shards = keys
    return todo


# ---------------------------------------------------------------- the build

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


def _count(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def build(config: Config, reporter: Reporter, formats: list[str] | None = None, *,
          skip_invalid: bool = False, full: bool = False, jobs: int | None = None,
          progress=_no_progress, export_names: list[str] | None = None) -> BuildResult:
    """Validate, render every output, then swap them in (see the module docstring)."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0) + now - clock, 3)
        timings[f"{name} (peak MB of this process so far)"] = round(_peak_mb(), 1)
        clock = now

    names = [n for n in OUTPUTS if n in (formats or OUTPUTS)]
    cache_dir = config.build / ".cache"
    fragments = cache_dir / "fragments"
    fragments.mkdir(parents=True, exist_ok=True)
    key = _global_key(config)
    cache = Cache(key) if full else _load_cache(cache_dir, key)
    previous_keys = dict(cache.pages)
    previous_shards = dict(cache.shards)

    # what the build before the last one left aside is deleted meanwhile, in a thread
    # (in a process of its own: the pools below fork, which must not happen while a thread runs)
    _check_build_folder(config)
    leftovers = sorted(config.build.glob(".old-*")) if config.build.is_dir() else []
    cleaner = subprocess.Popen([sys.executable, "-c", "import shutil, sys\nfor p in sys.argv[1:]: shutil.rmtree(p, True)",
                                *map(str, leftovers)]) if leftovers else None

    # 1. gather: one pass; unchanged documents come from the cache
    progress("reading and checking")
    stamps, diagnostics = gather(config, cache, cache_dir, jobs, reporter.root)
    reporter.diagnostics.extend(diagnostics)
    records = {Path(k): r for k, r in cache.records.items()}
    lap("read and check")

    # 2. corpus checks
    integrity.check(cache.index, reporter)
    if SchemaFiles(config.odd).stale():
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
    excluded = set(left_out)
    kept = [(p, s) for p, s in stamps if p not in excluded and p in records]
    edition_paths = [p for p, _ in kept if records[p].is_edition]
    edition_source = read_xml(edition_paths[0]) if edition_paths else None
    corpus = assemble(config.tei, [records[p] for p, _ in kept], edition_source)
    digests = {records[p].letter.id: s.digest for p, s in kept if records[p].letter is not None}
    stamps_by_path = dict(stamps)
    del records
    lap("corpus checks")

    schema = load_schema(config.odd)
    site = Site(corpus, config, schema, reporter,
                fragments=lambda letter: _load_parts(fragments, digests[letter.id]))
    config.build.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=config.build))
    result = BuildResult({}, left_out, timings)
    try:
        html, text = staging / "html", staging / "text"
        html.mkdir()
        text.mkdir()
        previous_html = config.build / "html" if (config.build / "html").is_dir() and not full else None
        previous_text = config.build / "text" if (config.build / "text").is_dir() and not full else None

        # 3. write: letter pages and text files, changed ones only
        progress("writing pages")
        page_keys = {l.id: site.letter_key(l, digests[l.id]) for l in corpus.letters}
        changed = [i for i, k in page_keys.items() if previous_keys.get(i) != k]
        letter_keys = dict(page_keys)
        result.changed = changed
        global _WRITE
        _WRITE = Writer(site, corpus, fragments, html, text, previous_html, previous_text, digests)
        changed_set = set(changed)
        work = [(l.id, l.id in changed_set) for l in corpus.letters]
        to_render = sum(1 for _, c in work if c)
        pool = None
        if to_render >= POOL_THRESHOLD and (jobs or default_jobs()) > 1 and "fork" in multiprocessing.get_all_start_methods():
            # the workers share the assembled corpus by forking (elsewhere the pages are written here)
            chunks = [work[i:i + CHUNK] for i in range(0, len(work), CHUNK)]
            pool = ProcessPoolExecutor(jobs or default_jobs(), mp_context=multiprocessing.get_context("fork"))
            pending = [pool.submit(_write_chunk, chunk) for chunk in chunks]
        else:
            _WRITE.write_letters(work)
        # the lists and registers are made here meanwhile, while the pool writes the letters;
        # they show the corpus model only (no letter's body), so an unchanged model reuses them
        lists_key = _lists_key(corpus, edition_paths and stamps_by_path[edition_paths[0]].digest)
        reused = cache.pages.get(":lists") == lists_key and previous_html is not None and all(
            _link(previous_html, rel, html) for rel in cache.lists)
        if not reused:
            pages = site.global_pages()
            for rel, page in pages.items():
                _write(html / rel, page.encode("utf-8"))
            cache.lists = sorted(pages)
        page_keys[":lists"] = lists_key
        result.lists_reused = reused
        static = resources.files("edition") / "static"
        for item in sorted(static.iterdir(), key=lambda p: p.name):
            if item.is_file():
                _write(html / "static" / item.name, item.read_bytes())
        if pool is not None:
            try:
                for future in pending:
                    future.result()
            finally:
                pool.shutdown()
        lap("render pages")
        text_edition(corpus, config, text, reporter)
        lap("render text edition")

        progress("indexing for search")
        result.reindexed = index_search(html, previous_html, _shards(corpus.letters), letter_keys, cache)
        lap("search index")
        if reporter.failed():
            raise BuildError("rendering reported errors (listed above); nothing was written, the previous build is intact")

        # 4. exports
        if "export" in names:
            from .export import export, update
            from .output import Output

            progress("exporting")
            built = {"html": html, "text": text}
            make = lambda out: export_context(corpus, config, schema, reporter, built, out, digests, fragments,  # noqa: E731
                                              left_out)
            if export_names:
                # `edition export NAME...`: only these, into the existing build/export/
                update(config.build / "export", make, export_names)
                (config.build / "export" / MARKER).write_text("made by `edition build`; replaced by the next build\n",
                                                              encoding="utf-8")
                names = [n for n in names if n != "export"]
                result.outputs["export"] = _count(config.build / "export")
            else:
                export(make(Output(staging / "export")))
            lap("export")
            if reporter.failed():
                raise BuildError("the exports reported errors (listed above); nothing was written, the previous build is intact")

        # 5. swap: the previous output moves aside to .old-NAME (deleted during the next build,
        # while it reads: most of its files are hard links shared with the new output anyway)
        progress("replacing the previous build")
        if cleaner is not None:
            cleaner.wait()
        for name in names:
            final = config.build / name
            old = config.build / f".old-{name}"
            if old.exists():
                shutil.rmtree(old)
            if final.exists():
                final.rename(old)
            (staging / name).rename(final)
            result.outputs[name] = _count(final)
        if "html" in names and "text" in names:
            cache.pages = page_keys
        else:
            # pages and search shards were not put in place: the next build must not think they were
            cache.pages, cache.shards = previous_keys, previous_shards
        for name in names:
            (config.build / name / MARKER).write_text("made by `edition build`; replaced by the next build\n",
                                                      encoding="utf-8")
        _save_cache(cache_dir, cache)
        _prune(cache_dir, {s.digest for _, s in stamps})
        lap("swap")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _lists_key(corpus: Corpus, edition_digest: str | None) -> str:
    """A key of what the lists, registers, charts and home page show: the corpus model, not the bodies."""
    h = hashlib.sha256(repr(edition_digest).encode())
    for letter in corpus.letters:
        h.update(repr(letter).encode("utf-8"))
    for kind in REGISTER_KINDS:
        for entry in corpus.entries[kind.key].values():
            h.update(repr(entry).encode("utf-8"))
    return h.hexdigest()


def _load_parts(fragments: Path, digest: str) -> dict[str, str]:
    with open(fragments / f"{digest}.pickle", "rb") as fh:
        return pickle.load(fh)


def _prune(cache_dir: Path, keep: set[str]) -> None:
    """Forget the rendered fragments of documents that are gone or changed."""
    for p in (cache_dir / "fragments").glob("*.pickle"):
        if p.stem not in keep:
            p.unlink(missing_ok=True)


def export_context(corpus: Corpus, config: Config, schema: Schema, reporter: Reporter, built: dict[str, Path],
                   out, digests: dict[str, str], fragments: Path, left_out: list[Path] = ()):
    """The exports' context: the staged outputs, and the letters' bodies as rendered in phase 1."""
    from . import render
    from .export import ExportContext

    def rendered(letter_id: str, resolve) -> dict[str, str]:
        parts = _load_parts(fragments, digests[letter_id])
        return {k: render.fill_links(v, resolve) for k, v in parts.items() if k in ("regest", "commentary")}

    return ExportContext(corpus, config, schema, reporter, built, out, admin_email=config.contact, rendered=rendered,
                         left_out=tuple(left_out))
