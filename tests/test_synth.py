"""Synthetic editions (edition/synth.py): complete, valid, realistic, repeatable."""
from __future__ import annotations

import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from edition import config as config_mod
from edition.cli import main
from edition.corpus import load as load_corpus
from edition.synth import SynthError, register_sizes, synthesize
from edition.tei import NS, XML_ID

from conftest import REPO

LETTERS = 30
REGISTER_ENTRIES = {"persons": "person", "places": "place", "organisations": "org", "events": "event"}
NAMES = ("persName", "placeName", "orgName", "rs", "date")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "edition"
    synthesize(out, LETTERS, seed=1)
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _letters(folder: Path) -> list[Path]:
    return sorted((folder / "tei" / "letters").glob("*.xml"))


def test_layout_and_configuration(corpus):
    assert (corpus / "edition.toml").is_file()
    assert {p.name for p in (corpus / "tei" / "registers").iterdir()} == {f"{k}.xml" for k in REGISTER_ENTRIES}
    assert (corpus / "tei" / "edition.xml").is_file()
    assert [p.stem for p in _letters(corpus)] == [f"syn-{n:06d}" for n in range(1, LETTERS + 1)]
    cfg = config_mod.load(corpus)
    assert cfg.root == corpus.resolve()
    assert cfg.tei == corpus.resolve() / "tei"
    # the schema is copied in: the folder stands alone
    assert cfg.odd == corpus.resolve() / "schema" / "tei-edition.odd"
    assert cfg.odd.read_bytes() == (REPO / "schema" / "tei-edition.odd").read_bytes()


def test_validates_strict_without_a_diagnostic(corpus):
    result = CliRunner().invoke(main, ["-C", str(corpus), "validate", "--strict"])
    assert result.exit_code == 0, result.output
    assert f"{LETTERS + 5} files checked: 0 errors, 0 warnings" in result.output


def test_builds(corpus):
    result = CliRunner().invoke(main, ["-C", str(corpus), "build", "--format", "text"])
    assert result.exit_code == 0, result.output
    assert len(list((corpus / "build" / "text").glob("syn-*.txt"))) == LETTERS


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    synthesize(tmp_path / "a", 12, seed=5)
    synthesize(tmp_path / "b", 12, seed=5)
    synthesize(tmp_path / "c", 12, seed=6)
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert a != c


def test_letters_are_realistic_in_size_and_markup(corpus):
    sizes = [p.stat().st_size for p in _letters(corpus)]
    real = [p.stat().st_size for p in (REPO / "tei" / "letters").glob("*.xml")]
    assert min(sizes) > 5_000 and max(sizes) < 13_000, sizes
    assert 0.7 < statistics.mean(sizes) / statistics.mean(real) < 1.3
    for path in _letters(corpus):
        root = etree.parse(str(path)).getroot()
        assert root.get(XML_ID) == path.stem
        regest = root.findall("tei:text/tei:body/tei:div[@type='regest']/tei:p", NS)
        words = sum(len("".join(p.itertext()).split()) for p in regest)
        names = [el for p in regest for el in p.iter() if etree.QName(el).localname in NAMES]
        assert 140 <= words <= 260, (path.name, words)
        assert 10 <= len(names) <= 40, (path.name, len(names))
        notes = root.findall("tei:text/tei:body/tei:div[@type='commentary']/tei:note", NS)
        assert 2 <= len(notes) <= 5
        assert [n.get(XML_ID) for n in notes] == [f"{path.stem}-n{k}" for k in range(1, len(notes) + 1)]
        assert all(n.get("type") for n in notes)


def test_links_follow_the_chronology_and_replies_are_symmetric(corpus):
    letters = load_corpus(corpus / "tei").letters
    ids = [l.id for l in letters]
    assert ids == sorted(ids)                      # order of dates = order of ids
    by_id = {l.id: l for l in letters}
    replies = 0
    for before, after in zip(letters, letters[1:]):
        assert before.links["next"] == after.id and after.links["prev"] == before.id
    for letter in letters:
        if "repliesTo" in letter.links:
            replies += 1
            answered = by_id[letter.links["repliesTo"]]
            assert answered.links["repliedBy"] == letter.id
            assert answered.date < letter.date
            assert (answered.sender.ref, answered.recipient.ref) == (letter.recipient.ref, letter.sender.ref)
    assert replies >= 3


def test_every_register_entry_is_referenced(corpus):
    tei = corpus / "tei"
    entries: dict[str, set[str]] = {}
    for key, element in REGISTER_ENTRIES.items():
        root = etree.parse(str(tei / "registers" / f"{key}.xml")).getroot()
        entries[key] = {e.get(XML_ID) for e in root.iter(f"{{{NS['tei']}}}{element}")}
    sizes = register_sizes(LETTERS)
    assert {k: len(v) for k, v in entries.items()} == {
        "persons": sizes.persons, "places": sizes.places, "organisations": sizes.organisations, "events": sizes.events}
    pointers: set[str] = set()
    for path in tei.rglob("*.xml"):
        for el in etree.parse(str(path)).iter():
            pointers.update(t[1:] for t in (el.get("ref") or "").split() if t.startswith("#"))
    for key, ids in entries.items():
        assert ids <= pointers, (key, sorted(ids - pointers))


def test_registers_grow_more_slowly_than_the_letters():
    small, large = register_sizes(100), register_sizes(10_000)
    assert small.total > 100 and large.total < 10_000 / 3
    assert large.persons > large.places > large.organisations


def test_authority_ids_and_coordinates_have_the_right_form(corpus):
    registers = corpus / "tei" / "registers"
    forms = {"wikidata": r"Q\d+", "viaf": r"\d+", "geonames": r"\d+"}
    seen: dict[str, int] = {}
    for path in registers.glob("*.xml"):
        root = etree.parse(str(path)).getroot()
        for idno in root.iterfind(".//tei:idno", NS):
            kind = idno.get("type")
            assert re.fullmatch(forms[kind], idno.text), (kind, idno.text)
            seen[kind] = seen.get(kind, 0) + 1
        for geo in root.iterfind(".//tei:geo", NS):
            lat, lon = map(float, geo.text.split())
            assert -90 <= lat <= 90 and -180 <= lon <= 180
    assert set(seen) == set(forms)


def test_refuses_a_folder_in_use_and_no_letters(tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SynthError, match="not empty"):
        synthesize(tmp_path / "used", 3)
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["notes.txt"]
    with pytest.raises(SynthError, match="at least 1"):
        synthesize(tmp_path / "none", 0)


def test_script_is_a_thin_wrapper(tmp_path):
    out = tmp_path / "small"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "synth_corpus.py"), "--letters", "3",
                           "--out", str(out), "--seed", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "wrote 3 letters" in done.stdout
    synthesize(tmp_path / "direct", 3, seed=2)
    assert _files(out) == _files(tmp_path / "direct")
    again = subprocess.run([sys.executable, str(REPO / "scripts" / "synth_corpus.py"), "--letters", "3",
                            "--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_a_pool_writes_what_one_process_writes(tmp_path):
    """A large edition's pages are written by this process and a pool (each a run of the letters);
    the lists after the search index: the same files as one process writes them all."""
    from edition.build import POOL_THRESHOLD

    synthesize(tmp_path / "e", POOL_THRESHOLD + 21, seed=3)
    made = {}
    for jobs in ("1", "2"):
        result = CliRunner().invoke(main, ["-C", str(tmp_path / "e"), "build", "--full", "-j", jobs,
                                           "-f", "html", "-f", "text"])
        assert result.exit_code == 0, result.output
        made[jobs] = {out: _files(tmp_path / "e" / "build" / out) for out in ("html", "text")}
    assert len(made["2"]["html"]) > POOL_THRESHOLD + 21 and len(made["2"]["text"]) > POOL_THRESHOLD + 21
    assert made["1"] == made["2"]
