"""The fast paths of `edition validate` give what the plain ones give.

The process pool, the packed corpus index, the Schematron screen and the file listing are
there for speed only: each is compared here with the straightforward way of doing the same.
"""
from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path


from edition import config as config_mod
from edition.diagnostics import Reporter
from edition.odd import SchemaFiles
from edition.tei import XMLInputError, read_xml
from edition.validate import Checker, Validator, _ranges, collect, integrity
from edition.validate.schematron import Schematron

from conftest import DATA, FAULTS, GOOD, ODD, REPO


def _documents() -> list[Path]:
    return sorted((DATA / "validate").rglob("*.xml")) + sorted((REPO / "tei").rglob("*.xml"))


def test_collect_finds_what_rglob_finds(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "dir.xml").mkdir()                       # a folder, not a file
    for name in ("x.xml", "a/y.xml", "a/b/z.xml", "a/.hidden.xml", "a/upper.XML", "a/notes.txt", "a-b.xml"):
        (tmp_path / name).write_text("<x/>")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "o.xml").write_text("<x/>")
    if hasattr(os, "symlink"):
        (tmp_path / "link.xml").symlink_to(tmp_path / "x.xml")          # a link to a file: taken
        (tmp_path / "linked").symlink_to(outside, target_is_directory=True)  # a link to a folder: not entered
        (tmp_path / "broken.xml").symlink_to(tmp_path / "missing.xml")   # a broken link: left out
    expected = sorted({x for x in tmp_path.rglob("*.xml") if x.is_file()})
    assert collect([tmp_path]) == expected
    assert collect([tmp_path, tmp_path / "a", tmp_path / "a" / "notes.txt"]) == \
        sorted(set(expected) | {tmp_path / "a" / "notes.txt"})
    shutil.rmtree(outside)


def test_ranges_cover_every_document_once():
    for n in (0, 1, 19, 300, 301, 10_005):
        for jobs in (2, 3, 8):
            ranges = _ranges(n, jobs)
            assert [i for start, stop in ranges for i in range(start, stop)] == list(range(n))


def test_packed_index_merges_like_the_index():
    checker = Checker(ODD)
    paths = _documents()
    items = [(doc, path, True) for doc, path in enumerate(paths)]
    merged, packed = integrity.CorpusIndex(), integrity.CorpusIndex()
    for start in range(0, len(items), 7):
        _, part = checker.check(items[start:start + 7], None)
        packed.merge_packed(pickle.loads(pickle.dumps(part.pack())), paths)
        merged.merge(part)
    assert packed == merged
    assert list(packed.ids) == list(merged.ids) and list(packed.pointers) == list(merged.pointers)
    assert all(type(t) is integrity.Target for targets in packed.ids.values() for t in targets)


def test_schematron_screen_hides_no_failure():
    """The screen may let a clean document through to the rule-by-rule pass, never stop a faulty one."""
    screened = Schematron(SchemaFiles(ODD).sch)
    plain = Schematron(SchemaFiles(ODD).sch)
    assert screened.screen is not None
    plain.screen = None
    compared = faulty = 0
    for path in _documents():
        try:
            tree = read_xml(path).tree
        except XMLInputError:
            continue
        mine = [(f.pattern, tree.getpath(f.element), f.message) for f in screened.failures(tree)]
        assert mine == [(f.pattern, tree.getpath(f.element), f.message) for f in plain.failures(tree)], path
        compared += 1
        faulty += bool(mine)
    assert compared > 20 and faulty >= 10


def test_pool_and_one_process_report_the_same(tmp_path, monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(GOOD, project)
    (project / "edition.toml").write_text(f'[edition]\ntei = "tei"\nschema = "{ODD.as_posix()}"\n', encoding="utf-8")
    for fault in FAULTS.glob("*.xml"):
        shutil.copy(fault, project / "tei" / fault.name)
    monkeypatch.chdir(project)
    cfg = config_mod.load(project)
    validator = Validator(cfg)
    reports = []
    for jobs in (1, 2, 3):
        reporter = Reporter(root=project)
        result = validator.run(None, reporter, jobs=jobs)
        reports.append((reporter.sorted(), result))
    assert reports[0][0] and any(d.code.startswith("integrity.") for d in reports[0][0])
    assert reports[1] == reports[0] and reports[2] == reports[0]


def test_the_nearest_id_of_a_large_edition_is_difflibs_among_the_ids_most_alike():
    import difflib
    import random

    from edition.validate.integrity import NearestId

    rng = random.Random(7)
    words = ["tito", "kim", "pyongyang", "belgrade", "delegation", "minister", "embassy", "party", "congress"]
    ids = {f"{rng.choice(words)}_{rng.choice(words)}_{n}" for n in range(5000)}
    nearest = NearestId(dict.fromkeys(ids))
    assert len(ids) > NearestId.EXACT
    for _ in range(200):
        target = rng.choice(sorted(ids))
        broken = target.replace("_", "-", 1) if rng.random() < 0.5 else target[:-1] + "x"
        exact = difflib.get_close_matches(broken, list(ids), n=1)
        assert nearest(broken) == (exact[0] if exact else None), broken
    assert nearest("zz") == (difflib.get_close_matches("zz", list(ids), n=1) or [None])[0]


def test_one_file_of_a_built_edition_is_checked_against_the_index_the_build_kept(tmp_path, monkeypatch):
    """`edition validate FILE` in a large edition borrows the other documents' part of the corpus
    index from the last build, reads again what changed since, and reports what a full read reports."""
    import json

    from click.testing import CliRunner

    from edition import cache as cache_mod
    from edition import validate as validate_mod
    from edition.cli import main

    project = tmp_path / "project"
    project.mkdir()
    for folder in ("tei", "schema"):
        shutil.copytree(REPO / folder, project / folder)
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    monkeypatch.setattr(validate_mod, "BORROW_THRESHOLD", 1)      # the repository's edition is small
    borrowed = []
    load_index = cache_mod.load_index
    monkeypatch.setattr(cache_mod, "load_index", lambda config: borrowed.append(load_index(config)) or borrowed[-1])
    runner = CliRunner()
    letter = str(project / "tei" / "letters" / "tk-007.xml")

    def validate(*options: str) -> dict:
        result = runner.invoke(main, ["-C", str(project), "validate", "-f", "json", *options, letter])
        return json.loads(result.stdout)

    assert runner.invoke(main, ["-C", str(project), "build"]).exit_code == 0
    assert validate()["summary"] == {"files": 1, "errors": 0, "warnings": 0}
    assert borrowed[-1] is not None
    # a register changed since the build (the letter's person renamed): it is read again
    persons = project / "tei" / "registers" / "persons.xml"
    persons.write_text(persons.read_text(encoding="utf-8").replace('xml:id="tito"', 'xml:id="josip_broz"'),
                       encoding="utf-8")
    with_cache = validate()
    assert borrowed[-1] is not None
    assert any(d["code"] == "integrity.ref-unresolved" and "#tito" in d["message"] for d in with_cache["diagnostics"])
    assert validate("-j", "2") == with_cache          # the documents read again in a pool, numbered as the build did
    assert borrowed[-1] is not None
    shutil.rmtree(project / "build" / ".cache")
    without_cache = validate()
    assert borrowed[-1] is None
    assert with_cache == without_cache
