"""`edition build`: the HTML and plain-text editions, written atomically and deterministically."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from edition import build as build_mod
from edition.cli import main

from conftest import REPO, correct_regest, digest_outputs, new_letter


def _build(project: Path):
    return CliRunner().invoke(main, ["-C", str(project), "build"])


def _break_letter(project: Path, letter_id: str) -> None:
    """Make a letter invalid: its correspAction's type becomes one the schema does not know."""
    letter = project / "tei" / "letters" / f"{letter_id}.xml"
    letter.write_text(letter.read_text(encoding="utf-8").replace('type="sent"', 'type="snt"'), encoding="utf-8")


def test_build_writes_both_editions(project):
    result = _build(project)
    assert result.exit_code == 0, result.output
    html = project / "build" / "html"
    letters = sorted((project / "tei" / "letters").glob("*.xml"))
    for page in ["index.html", "letters.html", "persons.html", "places.html", "organisations.html",
                 "events.html", "guidelines.html", "static/edition.css"]:
        assert (html / page).exists(), page
    for letter in letters:
        page = lxml.html.parse(str(html / "letters" / f"{letter.stem}.html")).getroot()
        assert page.get("lang") == "en"
        assert page.find(".//main") is not None
        assert (project / "build" / "text" / f"{letter.stem}.txt").exists()
    assert (project / "build" / "text" / "edition.txt").exists()


def test_links_lead_to_the_registers_and_back(project):
    assert _build(project).exit_code == 0
    html = project / "build" / "html"
    page = lxml.html.parse(str(html / "letters" / "tk-003.html")).getroot()
    hrefs = {a.get("href") for a in page.iter("a")}
    assert "../persons.html#tito" in hrefs
    assert "tk-002.html" in hrefs           # the item it answers
    register = lxml.html.parse(str(html / "persons.html")).getroot()
    entry = register.get_element_by_id("tito")
    backlinks = {a.get("href") for a in entry.iter("a")}
    assert "letters/tk-003.html" in backlinks
    kim = register.get_element_by_id("kim_il_sung")
    assert any("viaf.org/viaf/108235077" in (a.get("href") or "") for a in kim.iter("a"))


def test_two_builds_are_byte_identical(project):
    assert _build(project).exit_code == 0
    first = digest_outputs(project / "build")
    assert _build(project).exit_code == 0
    assert digest_outputs(project / "build") == first


def _stops_and_changes_nothing(project: Path, spoil, exit_code: int, *said: str) -> None:
    """A build after `spoil()` stops with `exit_code` and says `said`, never a traceback; the previous
    build's outputs stay as they were, and no staging folder is left."""
    assert _build(project).exit_code == 0
    before = digest_outputs(project / "build")
    spoil()
    result = _build(project)
    assert result.exit_code == exit_code
    assert all(words in result.output for words in said), result.output
    assert "Traceback" not in result.output
    assert digest_outputs(project / "build") == before
    assert not list((project / "build").glob(".staging-*"))


def test_failed_build_leaves_the_previous_output_intact(project):
    _stops_and_changes_nothing(project, lambda: _break_letter(project, "tk-005"), 1,
                               "tk-005.xml", "rng.attribute-value")


def test_a_full_disk_stops_the_build_with_a_message_and_changes_nothing(project, monkeypatch):
    import errno

    from edition import output as output_mod

    def full(target):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    def spoil():
        correct_regest(project, "tk-007")
        monkeypatch.setattr(output_mod, "_create", full)

    _stops_and_changes_nothing(project, spoil, 2, "edition: error: ", "tk-007.html: No space left on device")


def test_text_edition_keeps_every_word_of_the_regests(project):
    from edition.tei import NS, read_xml

    assert _build(project).exit_code == 0
    for path in sorted((project / "tei" / "letters").glob("*.xml")):
        body = read_xml(path).root.find(".//tei:body", NS)
        words = set(" ".join(body.itertext()).split())
        text = (project / "build" / "text" / f"{path.stem}.txt").read_text(encoding="utf-8")
        missing = {w for w in words if w not in text}
        assert not missing, f"{path.name}: {sorted(missing)[:5]}"


def test_skip_invalid_leaves_the_document_out_and_says_so(project):
    _break_letter(project, "tk-005")
    result = CliRunner().invoke(main, ["-C", str(project), "build", "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "left out (invalid):" in result.output and "tk-005.xml" in result.output
    html = project / "build" / "html" / "letters"
    assert not (html / "tk-005.html").exists()
    assert (html / "tk-004.html").exists()
    # the neighbours no longer link to the page that is not there
    assert "tk-005.html" not in (html / "tk-004.html").read_text(encoding="utf-8")


def test_a_project_overrides_the_theme_file_by_file(project):
    templates = project / "templates"
    templates.mkdir()
    (templates / "register.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>Custom {{ kind.label }}</h1>'
        '{% for e in entries %}<p id="{{ e.id }}">{{ e.name }}</p>{% endfor %}{% endblock %}', encoding="utf-8")
    assert _build(project).exit_code == 0
    html = project / "build" / "html"
    assert "<h1>Custom Persons</h1>" in (html / "persons.html").read_text(encoding="utf-8")
    letter = (html / "letters" / "tk-003.html").read_text(encoding="utf-8")
    assert "Cite this" in letter            # the other templates still come from the default theme


def test_serve_previews_the_site_on_loopback(project):
    import socket
    import subprocess
    import sys
    import urllib.request

    assert _build(project).exit_code == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "edition", "-C", str(project), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/letters/tk-001.html", timeout=2) as r:
                    body = r.read().decode("utf-8")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("edition serve did not answer")
        assert "Kim Il Sung" in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_without_a_build_is_a_usage_error(project):
    result = CliRunner().invoke(main, ["-C", str(project), "serve"])
    assert result.exit_code == 2 and "edition build" in result.output


def test_build_writes_the_library_exports_with_a_manifest(project):
    import json

    assert _build(project).exit_code == 0
    export = project / "build" / "export"
    manifest = json.loads((export / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    for name in ["cmif.xml", "oai-pmh.xml", "edition.marc.xml", "edition.mods.xml", "edition.epub",
                 "data/letters.json", "tei/corpus.xml", "bag/bagit.txt"]:
        assert name in listed and (export / name).exists(), name


def test_export_command_writes_one_format_and_rejects_unknown_ones(project):
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(project), "export", "cmif"])
    assert result.exit_code == 0, result.output
    assert (project / "build" / "export" / "cmif.xml").exists()
    assert not (project / "build" / "export" / "edition.epub").exists()
    bad = runner.invoke(main, ["-C", str(project), "export", "marcxml"])
    assert bad.exit_code == 2 and "marcxml" in bad.output


def test_an_incremental_rebuild_equals_a_full_build(project):
    """After an editor corrects one letter, the rebuild redoes only what depends on it,
    and its output is byte for byte what a full build of the same sources gives."""
    assert _build(project).exit_code == 0
    correct_regest(project, "tk-007")
    runner = CliRunner()
    rebuild = runner.invoke(main, ["-C", str(project), "build", "--timings"])
    assert rebuild.exit_code == 0, rebuild.output
    assert "letters rendered again: 1;" in rebuild.output
    assert "search shards indexed again: 1;" in rebuild.output     # (in the background, while the exports are made)
    assert "lists and registers reused" in rebuild.output     # a regest is on no list
    incremental = digest_outputs(project / "build")
    assert "Corrected." in (project / "build" / "html" / "letters" / "tk-007.html").read_text(encoding="utf-8")
    full = runner.invoke(main, ["-C", str(project), "build", "--full"])
    assert full.exit_code == 0, full.output
    assert digest_outputs(project / "build") == incremental


def test_a_changed_subtitle_renders_the_neighbours_again(project):
    assert _build(project).exit_code == 0
    letter = project / "tei" / "letters" / "tk-007.xml"
    text = letter.read_text(encoding="utf-8")
    letter.write_text(text.replace('<title type="sub">', '<title type="sub">Revised: ', 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["-C", str(project), "build", "--timings"])
    assert result.exit_code == 0, result.output
    # tk-007 itself and the letters that link to it by its short title (prev, next)
    assert "letters rendered again: 3;" in result.output
    assert "lists and registers rendered again" in result.output
    assert "Revised: " in (project / "build" / "html" / "letters" / "tk-008.html").read_text(encoding="utf-8")


def test_the_cache_follows_new_fixed_and_broken_documents(project):
    runner = CliRunner()
    assert _build(project).exit_code == 0
    new_letter(project, "1977-06-01")
    assert runner.invoke(main, ["-C", str(project), "build"]).exit_code == 0
    assert (project / "build" / "html" / "letters" / "tk-025.html").exists()
    # a letter broken, then mended: the broken build stops, the mended one is complete again
    letter = project / "tei" / "letters" / "tk-003.xml"
    good = letter.read_text(encoding="utf-8")
    letter.write_text(good.replace('type="sent"', 'type="snt"'), encoding="utf-8")
    assert runner.invoke(main, ["-C", str(project), "build"]).exit_code == 1
    letter.write_text(good, encoding="utf-8")
    again = runner.invoke(main, ["-C", str(project), "build"])
    assert again.exit_code == 0, again.output
    incremental = digest_outputs(project / "build")
    assert runner.invoke(main, ["-C", str(project), "build", "--full"]).exit_code == 0
    assert digest_outputs(project / "build") == incremental


def test_a_partial_build_does_not_make_the_next_one_skip_pages(project):
    runner = CliRunner()
    assert _build(project).exit_code == 0
    correct_regest(project, "tk-007")
    assert runner.invoke(main, ["-C", str(project), "build", "--format", "text"]).exit_code == 0
    assert runner.invoke(main, ["-C", str(project), "build"]).exit_code == 0
    assert "Corrected." in (project / "build" / "html" / "letters" / "tk-007.html").read_text(encoding="utf-8")


def test_renaming_a_register_entry_renders_the_letters_that_name_it(project):
    runner = CliRunner()
    assert _build(project).exit_code == 0
    persons = project / "tei" / "registers" / "persons.xml"
    persons.write_text(persons.read_text(encoding="utf-8").replace(
        '<persName type="main">Stane Dolanc</persName>', '<persName type="main">Stane Dolanc (renamed)</persName>'),
        encoding="utf-8")
    assert runner.invoke(main, ["-C", str(project), "build"]).exit_code == 0
    incremental = digest_outputs(project / "build")
    assert runner.invoke(main, ["-C", str(project), "build", "--full"]).exit_code == 0
    assert digest_outputs(project / "build") == incremental


def test_the_build_never_replaces_a_folder_it_did_not_make(project):
    foreign = project / "build" / "html"
    foreign.mkdir(parents=True)
    (foreign / "mydoc.html").write_text("someone else's page", encoding="utf-8")
    result = _build(project)
    assert result.exit_code == 1
    assert "was not made by `edition build`" in result.output
    assert (foreign / "mydoc.html").read_text(encoding="utf-8") == "someone else's page"


def test_skip_invalid_shows_why_and_keeps_the_document_out_of_the_exports(project):
    _break_letter(project, "tk-005")
    result = CliRunner().invoke(main, ["-C", str(project), "build", "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "rng.attribute-value" in result.output and "document left out" in result.output
    assert not (project / "build" / "export" / "tei" / "letters" / "tk-005.xml").exists()
    assert 'xml:id="tk-005"' not in (project / "build" / "export" / "tei" / "corpus.xml").read_text(encoding="utf-8")


def test_an_edition_without_letters_builds(tmp_path):
    project = tmp_path / "empty"
    (project / "tei").mkdir(parents=True)
    shutil.copytree(REPO / "schema", project / "schema")
    (project / "edition.toml").write_text('[edition]\ntitle = "Nothing yet"\nbase-url = "https://example.org/"\n',
                                          encoding="utf-8")
    result = CliRunner().invoke(main, ["-C", str(project), "build", "--format", "html", "--format", "text"])
    assert result.exit_code == 0, result.output
    assert (project / "build" / "html" / "index.html").exists()
    missing = CliRunner().invoke(main, ["-C", str(tmp_path / "nowhere"), "build"])
    assert missing.exit_code == 2 and "no documents" in missing.output


# ---------------------------------------------------------------- rebuilds change only what changed
def _inodes(folder: Path) -> dict[str, int]:
    """The files of the outputs and the cache (not what a build set aside, which is being deleted), by inode."""
    found = {}
    for top, dirs, files in os.walk(folder):
        if Path(top) == folder:
            dirs[:] = [d for d in dirs if not d.startswith(".old-")]
        for name in files:
            path = Path(top) / name
            found[path.relative_to(folder).as_posix()] = path.stat().st_ino
    return found


def test_a_rebuild_leaves_the_files_it_does_not_change_where_they_are(project):
    """A corrected regest replaces the letter's page, text file, TEI copy, the text edition, its search
    shard, the teiCorpus, the EPUB and the bag's manifests; every other file stays the very same file."""
    assert _build(project).exit_code == 0
    before = _inodes(project / "build")
    correct_regest(project, "tk-007")
    assert _build(project).exit_code == 0
    after = _inodes(project / "build")
    # the same files, but for the re-indexed search shard (Pagefind names its files by their content)
    assert {p for p in set(after) ^ set(before) if not p.startswith(".cache/") and "pagefind/shard-" not in p} == set()
    replaced = {p for p in after if p in before and after[p] != before[p] and not p.startswith(".cache/")}
    for path in ("html/letters/tk-007.html", "text/tk-007.txt", "text/edition.txt", "export/tei/letters/tk-007.xml",
                 "export/tei/corpus.xml", "export/edition.epub", "export/bag/manifest-sha256.txt",
                 "export/manifest.json"):
        assert path in replaced, path
    for path in ("html/letters/tk-006.html", "html/index.html", "html/persons.html", "text/tk-006.txt",
                 "export/cmif.xml", "export/oai-pmh.xml", "export/data/letters.json", "export/tei/letters/tk-006.xml",
                 "html/static/edition.css", "export/bag/data/html/letters/tk-006.html"):
        assert path not in replaced, path
    assert not [p for p in replaced if p.startswith("html/pagefind/") and "/shard-" not in p]
    assert not list((project / "build").glob(".staging-*"))
    # what the rebuild replaced was set aside, and goes once the build is done (in the background)
    aside = [Path(p) for p in build_mod._CLEANERS[-1].args[3:]]
    assert aside and all(p.parent == project / "build" and p.name.startswith(".old-") for p in aside)
    for _ in range(100):
        if not any(p.exists() for p in aside):
            break
        time.sleep(0.1)
    assert not any(p.exists() for p in aside)


def test_a_removed_letter_leaves_no_file_behind(project):
    runner = CliRunner()
    assert _build(project).exit_code == 0
    new_letter(project, "1979-12-30")
    with_new = _build(project)
    assert with_new.exit_code == 0, with_new.output
    assert (project / "build" / "export" / "bag" / "data" / "html" / "letters" / "tk-025.html").exists()
    # `edition new` linked the new item after the last one: take both changes back
    (project / "tei" / "letters" / "tk-025.xml").unlink()
    shutil.copy(REPO / "tei" / "letters" / "tk-024.xml", project / "tei" / "letters" / "tk-024.xml")
    again = _build(project)
    assert again.exit_code == 0, again.output
    leftovers = [p for p in _inodes(project / "build") if "tk-025" in p]
    assert leftovers == []
    incremental = digest_outputs(project / "build")
    assert runner.invoke(main, ["-C", str(project), "build", "--full"]).exit_code == 0
    assert digest_outputs(project / "build") == incremental


def test_an_interrupted_commit_makes_the_next_build_a_full_one(project):
    assert _build(project).exit_code == 0
    full = digest_outputs(project / "build")
    # as if a build had died while renaming its files into place: a page half replaced, the marker left
    (project / "build" / "html" / "letters" / "tk-003.html").write_text("half written", encoding="utf-8")
    (project / "build" / ".cache" / "committing").write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["-C", str(project), "build", "--timings"])
    assert result.exit_code == 0, result.output
    assert "letters rendered again: 24;" in result.output
    assert not (project / "build" / ".cache" / "committing").exists()
    assert digest_outputs(project / "build") == full


def test_a_failed_rebuild_changes_nothing(project):
    assert _build(project).exit_code == 0
    def outputs() -> dict[str, tuple[int, bytes]]:        # not the cache, which may learn from a failed build
        return {p: (i, (project / "build" / p).read_bytes()) for p, i in _inodes(project / "build").items()
                if not p.startswith(".cache/")}

    before = outputs()
    correct_regest(project, "tk-007")
    _break_letter(project, "tk-009")
    assert _build(project).exit_code == 1
    assert outputs() == before


def test_a_rebuild_reports_what_the_corpus_checks_find(project):
    """A rebuild that changes no id or pointer reports the corpus warnings of the build before it
    (the index is unchanged, so is what the checks find); one that breaks a pointer stops at it."""
    persons = project / "tei" / "registers" / "persons.xml"
    text = persons.read_text(encoding="utf-8")
    at = text.index('        <person xml:id="anja_andjelkovic">')
    persons.write_text(text[:at] + '        <person xml:id="nobody_named">\n          <persName type="main">Nobody Named</persName>\n'
                       '        </person>\n' + text[at:], encoding="utf-8")
    runner = CliRunner()

    def warnings(result) -> list[str]:
        return sorted(line for line in result.output.splitlines() if "[integrity." in line)

    first = runner.invoke(main, ["-C", str(project), "build"])
    assert first.exit_code == 0, first.output
    assert len(warnings(first)) == 1 and "nobody_named" in warnings(first)[0] and "persons.xml:28:" in warnings(first)[0]
    correct_regest(project, "tk-007")
    again = runner.invoke(main, ["-C", str(project), "build"])
    assert again.exit_code == 0, again.output
    assert warnings(again) == warnings(first)
    full = runner.invoke(main, ["-C", str(project), "build", "--full"])
    assert warnings(full) == warnings(first)
    # a pointer broken where no line moves: the index changes, the check runs and finds it
    letter = project / "tei" / "letters" / "tk-007.xml"
    source = letter.read_text(encoding="utf-8")
    line = source[:source.index('ref="#belgrade"')].count("\n") + 1
    letter.write_text(source.replace('ref="#belgrade"', 'ref="#belgrad"', 1), encoding="utf-8")
    broken = runner.invoke(main, ["-C", str(project), "build"])
    assert broken.exit_code == 1
    assert f"tk-007.xml:{line}:" in broken.output and "#belgrad" in broken.output and "#belgrade" in broken.output
    # mended: the check runs again, and finds the warning as before; the entry removed, nothing
    letter.write_text(letter.read_text(encoding="utf-8").replace('ref="#belgrad"', 'ref="#belgrade"', 1), encoding="utf-8")
    mended = runner.invoke(main, ["-C", str(project), "build"])
    assert mended.exit_code == 0, mended.output
    assert warnings(mended) == warnings(first)
    persons.write_text(text, encoding="utf-8")
    clean = runner.invoke(main, ["-C", str(project), "build"])
    assert clean.exit_code == 0, clean.output
    assert warnings(clean) == []


def test_a_rebuild_mends_a_spliced_file_that_was_cut_short(project):
    """corpus.xml and edition.txt are spliced from their previous versions in a rebuild; where the
    previous file is shorter than the build noted, the members are taken from the sources instead."""
    runner = CliRunner()
    assert _build(project).exit_code == 0
    for spliced in (project / "build" / "export" / "tei" / "corpus.xml", project / "build" / "text" / "edition.txt"):
        data = spliced.read_bytes()
        spliced.unlink()                                   # (not in place: the bag links the same inode)
        spliced.write_bytes(data[:len(data) // 3])
    correct_regest(project, "tk-007")
    assert runner.invoke(main, ["-C", str(project), "build"]).exit_code == 0
    incremental = digest_outputs(project / "build")
    assert runner.invoke(main, ["-C", str(project), "build", "--full"]).exit_code == 0
    assert digest_outputs(project / "build") == incremental


def test_a_rebuild_changes_the_bag_in_place_of_making_it_again(project, monkeypatch):
    """A rebuild's bag is the previous one with the changed files linked in and the lines of its
    manifests replaced (a corrected letter's page and the search files named by their content: lines
    replaced, removed and added); bagit validates it, and it is what a full build makes."""
    import bagit

    from edition.export import bag as bag_mod

    spliced = []
    splice = bag_mod._Payload.splice
    monkeypatch.setattr(bag_mod._Payload, "splice", lambda self, files: spliced.append(splice(self, files)) or spliced[-1])
    runner = CliRunner()
    assert _build(project).exit_code == 0
    assert spliced == [False]                                 # a first build: nothing to change
    bag = project / "build" / "export" / "bag"
    before = set((bag / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines())
    correct_regest(project, "tk-007")
    assert _build(project).exit_code == 0
    assert spliced[-1] is True
    bagit.Bag(str(bag)).validate()                            # every checksum read again, and the Payload-Oxum
    after = set((bag / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines())
    gone, new = {line.split("  ")[1] for line in before - after}, {line.split("  ")[1] for line in after - before}
    assert "data/html/letters/tk-007.html" in gone & new                # replaced
    assert gone - new and new - gone                                    # removed, and added
    incremental = digest_outputs(project / "build")
    assert runner.invoke(main, ["-C", str(project), "build", "--full"]).exit_code == 0
    assert digest_outputs(project / "build") == incremental


def test_the_bag_lists_the_sha512s_its_outputs_computed_early(project, monkeypatch):
    """A large file gets its SHA-512 computed in a thread as soon as its output notes it
    (Output.sha512); the bag lists that one instead of reading the file again. (Here every file
    of more than 2 KB counts as large.)"""
    import bagit

    from edition import output as output_mod
    from edition.export import bag as bag_mod

    monkeypatch.setattr(output_mod, "LARGE", 2048)
    monkeypatch.setattr(bag_mod, "LARGE", 2048)
    early: list[Path] = []
    later = output_mod._sha512_later
    monkeypatch.setattr(output_mod, "_sha512_later", lambda path: early.append(path) or later(path))
    bag = project / "build" / "export" / "bag"
    wholes = {"corpus.xml", "edition.txt", "edition.epub"}
    assert _build(project).exit_code == 0
    bagit.Bag(str(bag)).validate()
    assert wholes <= {p.name for p in early}
    early.clear()
    correct_regest(project, "tk-007")
    assert _build(project).exit_code == 0
    bagit.Bag(str(bag)).validate()
    assert wholes | {"tk-007.html"} <= {p.name for p in early}

    # the bag takes them as they are: a made-up one shows in its manifest
    made_up = "0" * 128
    monkeypatch.setattr(output_mod, "_sha512_later", lambda path: _done(made_up))
    correct_regest(project, "tk-007")
    assert _build(project).exit_code == 0
    lines = (bag / "manifest-sha512.txt").read_text(encoding="utf-8").splitlines()
    assert f"{made_up}  data/export/tei/corpus.xml" in lines


def _done(value):
    from concurrent.futures import Future

    future = Future()
    future.set_result(value)
    return future
