"""The build cache: the whole state, and the delta a rebuild writes instead (edition.cache)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import correct_regest, digest_outputs, new_letter
from edition import cache as cache_mod
from edition.cache import Cache, DocStamp
from edition.cli import main


def _cache(n: int) -> Cache:
    docs = {f"/e/tei/letters/l{i}.xml": DocStamp((i, 100 + i), f"d{i}", i) for i in range(n)}
    return Cache(key="k", docs=docs, numbers={p: s.number for p, s in docs.items()},
                 pages={f"l{i}": f"p{i}" for i in range(n)}, lists=["index.html"],
                 outputs={"html": {f"letters/l{i}.html": (i, f"h{i}") for i in range(n)},
                          "text": {f"l{i}.txt": (i, f"t{i}") for i in range(n)}},
                 export_state={"tei": {f"tei/l{i}.xml": ("d", i, 1) for i in range(n)}, "epub": ["a", "b"]},
                 appendix=("lk", "Registers"), text_layout={f"l{i}": (i * 10, 10) for i in range(n)}, checked=[])


def _fields(cache: Cache) -> dict:
    return {name: getattr(cache, name) for name in cache_mod.FIELDS if name != "index"}


def _change(cache: Cache, step: int) -> None:
    """A rebuild's kind of change: an item changed, one removed, one added, in flat and nested mappings."""
    cache.docs[f"/e/tei/letters/l{step}.xml"] = DocStamp((step, 1), f"new{step}", step)
    del cache.pages[f"l{step + 1}"]
    cache.pages[f"extra{step}"] = "x"
    cache.outputs["html"][f"letters/l{step}.html"] = (1, f"changed{step}")
    cache.outputs["html"].pop(f"letters/l{step + 2}.html")
    cache.outputs["export"] = {"cmif.xml": (step, "c")}          # a new output
    cache.export_state["epub"] = ["a", f"b{step}"]             # not a mapping: whole
    cache.text_layout = {k: (o + step, n) for k, (o, n) in cache.text_layout.items()}   # a new mapping
    cache.lists = ["index.html", f"list{step}.html"]


def test_rebuilds_write_a_delta_that_reads_back_as_the_state(tmp_path):
    folder = tmp_path / "cache"
    cache_mod.save(folder, _cache(200))
    assert not (folder / cache_mod.DELTA).exists()
    expected = _cache(200)
    for step in range(3):
        cache = cache_mod.load(folder, "k", {})
        assert _fields(cache) == _fields(expected)
        _change(cache, step)
        _change(expected, step)
        cache_mod.save(folder, cache)
        assert (folder / cache_mod.DELTA).exists()             # a small change: only the delta is written
        assert (folder / cache_mod.DELTA).stat().st_size < (folder / cache_mod.STATE).stat().st_size / 10
    assert _fields(cache_mod.load(folder, "k", {})) == _fields(expected)
    # a changed corpus index, or a delta grown too large, writes the whole state again
    cache = cache_mod.load(folder, "k", {})
    cache.index_changed = True
    cache_mod.save(folder, cache)
    assert not (folder / cache_mod.DELTA).exists()
    assert _fields(cache_mod.load(folder, "k", {})) == _fields(expected)


def test_a_delta_beside_a_newer_state_is_not_read(tmp_path):
    folder = tmp_path / "cache"
    cache_mod.save(folder, _cache(200))
    cache = cache_mod.load(folder, "k", {})
    _change(cache, 1)
    cache_mod.save(folder, cache)
    stale = (folder / cache_mod.DELTA).read_bytes()
    newer = _cache(200)
    newer.lists = ["newer.html"]
    cache_mod.save(folder, newer)                              # (no journal: the whole state)
    (folder / cache_mod.DELTA).write_bytes(stale)              # as if removing it had failed
    assert _fields(cache_mod.load(folder, "k", {})) == _fields(newer)


def test_paths_are_read_as_the_objects_the_build_listed(tmp_path):
    folder = tmp_path / "cache"
    cache = _cache(3)
    listed = Path("/e/tei/letters/l1.xml")
    cache.checked = [listed]
    cache_mod.save(folder, cache)
    assert cache_mod.load(folder, "k", {str(listed): listed}).checked[0] is listed
    assert cache_mod.load(folder, "k", {}).checked[0] == listed


def test_rebuilds_from_a_state_and_its_delta_give_what_a_full_build_gives(project, monkeypatch):
    """A chain of rebuilds, each reading the state and the delta the ones before wrote, ends with
    the output a full build of the same sources gives."""
    monkeypatch.setattr(cache_mod, "DELTA_SHARE", 1.0)        # every rebuild writes a delta
    runner = CliRunner()

    def build(*args: str) -> None:
        result = runner.invoke(main, ["-C", str(project), "build", *args])
        assert result.exit_code == 0, result.output

    build()
    deltas = []
    for letter_id, word in (("tk-007", "Corrected. "), ("tk-012", "Amended. "), ("tk-007", "Again. ")):
        correct_regest(project, letter_id, word)
        build()
        deltas.append((project / "build" / ".cache" / cache_mod.DELTA).stat().st_size)
    new_letter(project, "1977-06-01")
    build()
    assert deltas[0] < deltas[-1]                              # cumulative: each delta holds the ones before
    incremental = digest_outputs(project / "build")
    build("--full")
    assert digest_outputs(project / "build") == incremental


def test_the_corpus_index_is_read_only_when_asked_for(project):
    """Reading the cache passes over the corpus index; it is read when a build asks for it, copied
    unread when the whole state is written again, and never read from a state another build wrote."""
    from edition.cache import StoredIndex, global_key, load_index
    from edition.config import load as load_config

    result = CliRunner().invoke(main, ["-C", str(project), "build", "-f", "html"])
    assert result.exit_code == 0, result.output
    config = load_config(project)
    folder, key = project / "build" / ".cache", global_key(config)
    cache = cache_mod.load(folder, key, {})
    assert isinstance(cache.index, StoredIndex)
    index = cache.corpus_index()
    assert cache.index is index and len(index.letters) == 24 and index.ids
    assert load_index(config)[2].pack() == index.pack()           # as `edition validate FILE` borrows it

    unread = cache_mod.load(folder, key, {})
    unread.index_changed = True                                  # the whole state written again
    cache_mod.save(folder, unread)
    assert isinstance(unread.index, StoredIndex)                 # (copied, not read)
    assert cache_mod.load(folder, key, {}).corpus_index().pack() == index.pack()

    stale = cache_mod.load(folder, key, {})
    newer = cache_mod.load(folder, key, {})
    newer.index_changed = True
    cache_mod.save(folder, newer)                                # another build's state, in its place
    with pytest.raises(cache_mod.CacheError, match="changed while this build ran"):
        stale.corpus_index()


def test_a_corpus_index_set_aside_is_written_into_the_state(project):
    """A large edition's build sets its corpus index aside in a file once the checks have read it;
    writing the state copies it from there (and removes the file)."""
    from edition.cache import INDEX_ASIDE, StoredIndex, global_key
    from edition.config import load as load_config

    result = CliRunner().invoke(main, ["-C", str(project), "build", "-f", "html"])
    assert result.exit_code == 0, result.output
    folder, key = project / "build" / ".cache", global_key(load_config(project))
    cache = cache_mod.load(folder, key, {})
    packed = cache.corpus_index().pack()
    cache.set_index_aside(folder)
    assert isinstance(cache.index, StoredIndex) and (folder / INDEX_ASIDE).is_file()
    cache.index_changed = True
    cache_mod.save(folder, cache)
    assert not (folder / INDEX_ASIDE).exists()
    assert cache_mod.load(folder, key, {}).corpus_index().pack() == packed
    cache.set_index_aside(folder)                                # (not read again: nothing to set aside)
    assert not (folder / INDEX_ASIDE).exists()


def test_register_entries_are_kept_without_their_back_links(tmp_path):
    """The cache keeps a register's entries without the ids of the letters that name them (the
    assembled corpus makes those again); the entries themselves, and other pickles, keep them."""
    import copy
    import pickle

    from edition.corpus import REGISTER_KINDS, DocumentRecord, Entry

    entry = Entry("tito", REGISTER_KINDS[0], "Josip Broz Tito", (), "", {}, {}, None,
                  Path("/e/tei/registers/persons.xml"), 3, letters=["tk-001", "tk-002"])
    cache = _cache(3)
    cache.records = {"/e/tei/registers/persons.xml": DocumentRecord(None, [entry], False)}
    folder = tmp_path / "cache"
    cache_mod.save(folder, cache)
    kept = cache_mod.load(folder, "k", {}).records["/e/tei/registers/persons.xml"].entries[0]
    assert kept.letters == [] and kept.name == "Josip Broz Tito" and kept.line == 3
    assert entry.letters == ["tk-001", "tk-002"]
    assert pickle.loads(pickle.dumps(entry)).letters == ["tk-001", "tk-002"] == copy.copy(entry).letters
