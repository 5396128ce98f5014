"""`edition validate`: every layer, every rule, located diagnostics.

The fixtures live in tests/data/validate/:

* good/    a small edition that is valid in every layer (3 letters, 4 registers, the
           edition document with the editors and the taxonomies);
* faults/  one file per rule, each a copy of a good document with exactly one fault
           (an XML comment after the declaration says which), or a malformed file.

Each test copies good/ into tmp_path, swaps in or adds the fault file(s) and runs the
command line on it, with JSON output, from inside the project (so paths are shown relative
to it). Expected locations are looked up in the fixture text: the line (and column) of a
diagnostic is the line of the faulty markup, whatever edits the fixture gets.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

import edition.tei
from edition.cli import main

from conftest import FAULTS, GOOD, ODD

LETTER1 = "tei/letters/tk-001.xml"
LETTER2 = "tei/letters/tk-002.xml"
LETTER3 = "tei/letters/tk-003.xml"
NEW = "tei/letters/tk-004.xml"          # where a malformed document is added
PERSONS = "tei/registers/persons.xml"
PLACES = "tei/registers/places.xml"

GOOD_FILES = [
    "tei/edition.xml",
    LETTER1,
    LETTER2,
    LETTER3,
    "tei/registers/events.xml",
    "tei/registers/organisations.xml",
    PERSONS,
    PLACES,
]


# --------------------------------------------------------------------------- helpers

def make_project(root: Path, files: dict[str, Path | bytes | None] | None = None, odd: Path = ODD) -> Path:
    """A copy of the good project in `root`; `files` maps project paths to a fixture, bytes, or None (remove)."""
    project = root / "project"
    shutil.copytree(GOOD, project)
    (project / "edition.toml").write_text(
        f'[edition]\ntitle = "Validation fixture"\ntei = "tei"\nschema = "{odd.as_posix()}"\n', encoding="utf-8")
    for rel, content in (files or {}).items():
        target = project / rel
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.read_bytes())
    return project


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    report: dict | None

    @property
    def diagnostics(self) -> list[dict]:
        return self.report["diagnostics"]

    def located(self) -> list[tuple[str, str, int, int]]:
        return [(d["code"], d["path"], d["line"], d["column"]) for d in self.diagnostics]


def run_validate(project: Path, monkeypatch, *args: str) -> Run:
    """`edition -C project validate --format json ARGS`, run from inside the project."""
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["-C", str(project), "validate", "--format", "json", *args])
    # Never a traceback: either a clean exit or click's SystemExit.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return Run(result.exit_code, result.stdout, result.stderr, report)


def where(path: Path, needle: str | bytes) -> tuple[int, int]:
    """(line, 1-based column) of the only occurrence of `needle` in the file."""
    data = path.read_bytes()
    raw = needle.encode("utf-8") if isinstance(needle, str) else needle
    assert data.count(raw) == 1, f"{needle!r} occurs {data.count(raw)} times in {path}"
    offset = data.index(raw)
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


@dataclass(frozen=True)
class Expect:
    """One expected diagnostic: at the line of `needle` in `path`; column at the needle, or a number."""

    code: str
    path: str
    needle: str
    column: int | None = None          # None: the needle's column
    level: str = "error"
    says: tuple[str, ...] = ()         # fragments of the message

    def located(self, project: Path) -> tuple[str, str, int, int]:
        line, col = where(project / self.path, self.needle)
        return self.code, self.path, line, col if self.column is None else self.column


def check_expected(run: Run, project: Path, expected: list[Expect]) -> None:
    assert run.report is not None, run.stdout + run.stderr
    assert sorted(run.located()) == sorted(e.located(project) for e in expected), run.stdout
    by_place = {(d["code"], d["path"], d["line"], d["column"]): d for d in run.diagnostics}
    for e in expected:
        d = by_place[e.located(project)]
        assert d["level"] == e.level, d
        for fragment in e.says:
            assert fragment in d["message"], (fragment, d["message"])


# --------------------------------------------------------------------------- the good corpus

def test_good_project_is_clean_in_place():
    """The fixture project as it is on disk (its edition.toml points to the repository's schema)."""
    result = CliRunner().invoke(main, ["-C", str(GOOD), "validate", "--strict", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["diagnostics"] == []
    assert report["summary"] == {"files": len(GOOD_FILES), "errors": 0, "warnings": 0}


def test_good_project_copy_is_clean(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    run = run_validate(project, monkeypatch, "--strict")
    assert run.exit_code == 0, run.stdout
    assert run.diagnostics == []
    assert run.report["files"] == GOOD_FILES


def test_good_project_exercises_every_rule_context():
    """The passing side of each Schematron rule: the good corpus holds an instance of its context."""
    ns = {"tei": edition.tei.TEI_NS}
    trees = [etree.parse(str(GOOD / f)) for f in GOOD_FILES]

    def some(xpath: str) -> bool:
        return any(t.xpath(xpath, namespaces=ns) for t in trees)

    assert some("//tei:idno[@type='wikidata']") and some("//tei:idno[@type='viaf']") and some("//tei:idno[@type='geonames']")
    assert some("//tei:correspAction/tei:date[count(../tei:date) > 1]")
    assert some("//tei:correspContext/tei:ref[@type='repliesTo']") and some("//tei:correspContext/tei:ref[@type='repliedBy']")
    assert some("//tei:change[@when]")
    assert some("//tei:div[@type='commentary']/tei:note[@xml:id][@type]")
    assert some("//tei:date[@notBefore][@notAfter]")
    assert some("//tei:*[starts-with(@target, 'https://')]") and some("//tei:*[starts-with(@target, '#')]")
    for entry in ("person", "place", "org", "event"):
        assert some(f"//tei:{entry}[@xml:id]")
    assert some("//tei:geo")
    assert some("//tei:editor[@xml:id='editors']")
    for taxonomy in ("keywords", "phases", "kinds"):
        assert some(f"//tei:taxonomy[@xml:id='{taxonomy}']")


# --------------------------------------------------------------------------- one fault, one rule

def _fault(name: str, dest: str, *expected: Expect, remove: tuple[str, ...] = ()):
    files: dict[str, Path | None] = {r: None for r in remove}
    files[dest] = FAULTS / f"{name}.xml"
    return pytest.param(files, list(expected), id=name)


RNG_CASES = [
    _fault("rng.element-unknown", LETTER3,
           Expect("rng.element-unknown", LETTER3, "<persNmae", says=("<persNmae>", "did you mean <persName>?"))),
    _fault("rng.element-misplaced", LETTER3,
           Expect("rng.element-misplaced", LETTER3, "<catDesc>", says=("<catDesc> is not allowed inside <keywords>",))),
    _fault("rng.element-missing", LETTER3,
           Expect("rng.element-missing", LETTER3, "<fileDesc>", says=("<fileDesc> is incomplete", "missing"))),
    _fault("rng.attribute-unknown", LETTER3,
           Expect("rng.attribute-unknown", LETTER3, 'rendd="italic"',
                  says=("@rendd is not allowed on <p>", "did you mean @rend?"))),
    _fault("rng.attribute-value", LETTER3,
           Expect("rng.attribute-value", LETTER3, 'type="comentary"',
                  says=("'comentary'", "is not one of: regest, commentary, transcription, introduction, phase, "
                        "principles, missing, section", "did you mean 'commentary'?"))),
    _fault("rng.attribute-value.date-impossible", LETTER3,
           Expect("rng.attribute-value", LETTER3, 'when="1976-13-25"', says=("'1976-13-25'", "@when", "ISO date"))),
    _fault("rng.attribute-value.date-malformed", LETTER3,
           Expect("rng.attribute-value", LETTER3, 'when="25.3.1976"', says=("'25.3.1976'", "@when", "ISO date"))),
    _fault("rng.attribute-missing", LETTER3,
           Expect("rng.attribute-missing", LETTER3, "<idno>",
                  says=("<idno> needs the attribute @type", "URI, signature, wikidata"))),
    _fault("rng.attribute-missing.correspAction", LETTER3,
           Expect("rng.attribute-missing", LETTER3, "<correspAction>",
                  says=("<correspAction> needs the attribute @type (one of: sent, received, transmitted, forwarded)",))),
]

SCHEMATRON_CASES = [
    _fault("doc.id", LETTER3, Expect("doc.id", LETTER3, "<TEI ", says=("xml:lang",))),
    _fault("idno.authority-form", PERSONS,
           Expect("idno.authority-form", PERSONS, '<idno type="wikidata">41117', says=('Q followed by digits', '"41117"'))),
    _fault("corresp.actions", LETTER3,
           Expect("corresp.actions", LETTER3, "<correspDesc>", says=('exactly one correspAction of type "received"',))),
    _fault("corresp.date", LETTER2,
           Expect("corresp.date", LETTER2, '<date when="1976-02-05" type="catalogue">', says=("@cert",))),
    _fault("corresp.context", LETTER3,
           Expect("corresp.context", LETTER3, '<ref type="listing"', says=('not "listing"',))),
    _fault("change.dated", LETTER3, Expect("change.dated", LETTER3, '<change who=', says=("@when",))),
    _fault("letter.structure", LETTER3, Expect("letter.structure", LETTER3, "<body>", says=("regest",))),
    _fault("note.commentary-id", LETTER3,
           Expect("note.commentary-id", LETTER3, '<note xml:id="tk-003-n1">', says=("@type",))),
    _fault("date.normalized", LETTER2,
           Expect("date.normalized", LETTER2, '<date notBefore="1976-02-01"',
                  says=("@notBefore (1976-02-01) is later than @notAfter (1976-01-31)",))),
    _fault("ref.safe-target", LETTER2,
           Expect("ref.safe-target", LETTER2, '<ref target="javascript:', says=('not "javascript:alert(1)"',))),
    _fault("register.entry", PERSONS,
           Expect("register.entry", PERSONS, '<person xml:id="kim_il_sung">', says=("exactly one main name",))),
    _fault("geo.form", PLACES, Expect("geo.form", PLACES, "<geo>125.75", says=('not "125.75 39.03"',))),
]

INTEGRITY_CASES = [
    _fault("integrity.filename", "tei/letters/tk-3.xml",
           Expect("integrity.filename", "tei/letters/tk-3.xml", "<TEI ", column=1,
                  says=("tk-3.xml", "'tk-003'")),
           remove=(LETTER3,)),
    # The column is 0 for these: they name a whole element or link, not a spot in a tag.
    _fault("integrity.id-duplicate", LETTER3,
           Expect("integrity.id-duplicate", LETTER3, 'xml:id="tk-002-n1"', column=0,
                  says=("'tk-002-n1'", "<note> at tei/letters/tk-002.xml:"))),
    _fault("integrity.ref-unresolved", LETTER3,
           Expect("integrity.ref-unresolved", LETTER3, 'ref="#titto"',
                  says=('@ref="#titto" on <persName>', "did you mean #tito?"))),
    _fault("integrity.ref-kind", LETTER3,
           Expect("integrity.ref-kind", LETTER3, 'ref="#belgrade"',
                  says=("<persName> points to #belgrade, which is a <place>, not a <person>",))),
    _fault("integrity.link-symmetry", LETTER3,
           Expect("integrity.link-symmetry", LETTER3, '<ref type="repliesTo" target="#tk-002">', column=0,
                  says=("tk-003 says repliesTo is tk-002", "no repliedBy link back"))),
    # A reply dated before what it answers is also out of order in the prev/next chain.
    _fault("integrity.reply-date", LETTER2,
           Expect("integrity.reply-date", LETTER2, '<ref type="repliesTo"', column=0,
                  says=("tk-002 (1976-01-06) answers tk-001, which is dated later (1976-01-10)",)),
           Expect("integrity.chronology", LETTER1, '<ref type="next"', column=0,
                  says=("next item tk-002 (1976-01-06) is dated before tk-001 (1976-01-10)",))),
    # tk-003 is now dated before tk-002: reported at tk-002's link to it.
    _fault("integrity.chronology", LETTER3,
           Expect("integrity.chronology", LETTER2, '<ref type="next"', column=0,
                  says=("next item tk-003 (1976-02-01) is dated before tk-002 (1976-02-06)",))),
    _fault("integrity.link-target", LETTER3,
           Expect("integrity.link-target", LETTER3, '<ref type="repliesTo" target="#tito">', column=0,
                  says=("repliesTo link points to #tito, which is not a letter",))),
]


@pytest.mark.parametrize("files, expected", RNG_CASES + SCHEMATRON_CASES + INTEGRITY_CASES)
def test_one_fault_one_located_diagnostic(tmp_path, monkeypatch, files, expected):
    project = make_project(tmp_path, files)
    run = run_validate(project, monkeypatch)
    assert run.exit_code == 1, run.stdout
    check_expected(run, project, expected)
    assert run.report["summary"]["errors"] == len(expected)


def test_every_schematron_rule_has_a_failing_fixture():
    """Each constraintSpec of the ODD (its @ident is the reported rule id) is covered above."""
    odd = etree.parse(str(ODD))
    idents = set(odd.xpath("//tei:constraintSpec/@ident", namespaces={"tei": edition.tei.TEI_NS}))
    covered = {e.code for case in SCHEMATRON_CASES for e in case.values[1]}
    assert idents == covered
    assert idents == {"doc.id", "idno.authority-form", "corresp.actions", "corresp.date", "corresp.context",
                      "change.dated", "letter.structure", "note.commentary-id", "date.normalized",
                      "ref.safe-target", "register.entry", "geo.form"}


def test_register_unused_is_a_warning(tmp_path, monkeypatch):
    project = make_project(tmp_path, {PERSONS: FAULTS / "integrity.register-unused.xml"})
    expected = [Expect("integrity.register-unused", PERSONS, '<person xml:id="ri_djong_mok">', column=0,
                       level="warning", says=('<person xml:id="ri_djong_mok">', "referenced nowhere"))]
    run = run_validate(project, monkeypatch)
    assert run.exit_code == 0
    check_expected(run, project, expected)
    assert run.report["summary"] == {"files": len(GOOD_FILES), "errors": 0, "warnings": 1}
    strict = run_validate(project, monkeypatch, "--strict")
    assert strict.exit_code == 1
    check_expected(strict, project, expected)


def test_id_duplicate_names_the_first_use(tmp_path, monkeypatch):
    project = make_project(tmp_path, {LETTER3: FAULTS / "integrity.id-duplicate.xml"})
    run = run_validate(project, monkeypatch)
    first_line, _ = where(project / LETTER2, 'xml:id="tk-002-n1"')
    [d] = run.diagnostics
    assert f"at tei/letters/tk-002.xml:{first_line}" in d["message"]


# --------------------------------------------------------------------------- well-formedness

WF_CASES = [
    # (fixture, code, (line, column) or a needle for both, message fragment)
    ("wf.empty", "wf.empty", (1, 0), "file is empty"),
    ("wf.binary", "wf.binary", (1, 4), "NUL bytes"),      # UTF-16LE: BOM, '<', then the first NUL
    ("wf.root", "wf.root", "<html", "root element is <html>"),
    ("wf.root.no-namespace", "wf.root", "<TEI ", "root element <TEI> is in namespace (none)"),
    ("wf.doctype", "wf.doctype", "<!DOCTYPE", "DOCTYPE"),
    ("wf.doctype.external", "wf.doctype", "<!DOCTYPE", "DOCTYPE"),
    ("wf.encoding", "wf.encoding", b"\xe9", "not valid UTF-8 (byte 0xe9)"),
]


def _wf_project(tmp_path: Path, fixture: str) -> Path:
    """The good project with a malformed tk-004 added and a Schematron fault in tk-003."""
    return make_project(tmp_path, {NEW: FAULTS / f"{fixture}.xml", LETTER3: FAULTS / "change.dated.xml"})


def _other_fault(project: Path) -> tuple:
    return ("change.dated", LETTER3, *where(project / LETTER3, "<change who="))


@pytest.mark.parametrize("fixture, code, place, says", WF_CASES, ids=[c[0] for c in WF_CASES])
def test_bad_input_is_one_located_diagnostic_and_the_rest_is_checked(tmp_path, monkeypatch, fixture, code, place, says):
    project = _wf_project(tmp_path, fixture)
    run = run_validate(project, monkeypatch)
    assert run.exit_code == 1
    line, column = place if isinstance(place, tuple) else where(project / NEW, place)
    assert sorted(run.located()) == sorted([(code, NEW, line, column), _other_fault(project)]), run.stdout
    [d] = [d for d in run.diagnostics if d["path"] == NEW]
    assert says in d["message"] and d["level"] == "error" and d["hint"]
    assert NEW in run.report["files"]


def test_syntax_error_is_located_at_the_mismatched_tag(tmp_path, monkeypatch):
    project = _wf_project(tmp_path, "wf.syntax")
    run = run_validate(project, monkeypatch)
    assert run.exit_code == 1
    [d] = [d for d in run.diagnostics if d["path"] == NEW]
    line, col = where(project / NEW, "</title>")
    assert (d["code"], d["line"]) == ("wf.syntax", line)
    assert col <= d["column"] <= col + len("</title>")      # libxml2 points into or just after the end tag
    assert "not well-formed" in d["message"] and "hi" in d["message"] and "title" in d["message"]
    assert _other_fault(project) in run.located()
    assert len(run.diagnostics) == 2


def test_nesting_too_deep(tmp_path, monkeypatch):
    project = _wf_project(tmp_path, "wf.depth")
    run = run_validate(project, monkeypatch)
    assert run.exit_code == 1
    [d] = [d for d in run.diagnostics if d["path"] == NEW]
    line, col = where(project / NEW, "<hi>" * 300)
    assert (d["code"], d["line"]) == ("wf.depth", line)
    # The 256th <hi> (depth 257 under <TEI>) starts at col + 255 * 4.
    assert col + 255 * 4 <= d["column"] <= col + 257 * 4
    assert "256" in d["message"]
    assert _other_fault(project) in run.located()
    assert len(run.diagnostics) == 2


def test_entities_are_never_expanded(tmp_path, monkeypatch):
    """Billion laughs: reported as wf.doctype, nothing expanded into the report."""
    project = _wf_project(tmp_path, "wf.doctype")
    run = run_validate(project, monkeypatch, "--strict")
    assert [d["code"] for d in run.diagnostics if d["path"] == NEW] == ["wf.doctype"]
    assert "lollol" not in run.stdout
    assert len(run.stdout) < 5000


def test_external_entity_is_never_fetched(tmp_path, monkeypatch):
    project = _wf_project(tmp_path, "wf.doctype.external")
    (project / "tei" / "letters" / "secret.txt").write_text("TOP-SECRET-MARKER", encoding="utf-8")
    for fmt in ("json", "text", "junit", "github"):
        monkeypatch.chdir(project)
        result = CliRunner().invoke(main, ["-C", str(project), "validate", "--format", fmt])
        assert result.exit_code == 1
        assert "wf.doctype" in result.output
        assert "TOP-SECRET-MARKER" not in result.output


def test_file_too_large(tmp_path, monkeypatch):
    # The limit must stay above the ODD (the schema is read with the same safe reader).
    limit = ODD.stat().st_size + 1000
    monkeypatch.setattr(edition.tei, "MAX_BYTES", limit)
    letter = (GOOD / LETTER3).read_bytes().replace(b"tk-003", b"tk-004")
    big = letter.replace(b"</TEI>", b"<!-- " + b"x" * limit + b" -->\n</TEI>")
    project = make_project(tmp_path, {NEW: big, LETTER3: FAULTS / "change.dated.xml"})
    run = run_validate(project, monkeypatch)
    assert run.exit_code == 1
    assert sorted(run.located()) == sorted([("file.too-large", NEW, 1, 0), _other_fault(project)])
    [d] = [d for d in run.diagnostics if d["path"] == NEW]
    assert f"the limit is {limit:,} bytes" in d["message"]


def test_several_malformed_files_in_one_run(tmp_path, monkeypatch):
    files = {f"tei/letters/bad-{name}.xml": FAULTS / f"{name}.xml"
             for name in ("wf.empty", "wf.binary", "wf.syntax", "wf.root", "wf.doctype", "wf.encoding", "wf.depth")}
    project = make_project(tmp_path, files)
    run = run_validate(project, monkeypatch)
    assert run.exit_code == 1
    codes = {d["path"]: d["code"] for d in run.diagnostics}
    assert codes == {
        "tei/letters/bad-wf.empty.xml": "wf.empty",
        "tei/letters/bad-wf.binary.xml": "wf.binary",
        "tei/letters/bad-wf.syntax.xml": "wf.syntax",
        "tei/letters/bad-wf.root.xml": "wf.root",
        "tei/letters/bad-wf.doctype.xml": "wf.doctype",
        "tei/letters/bad-wf.encoding.xml": "wf.encoding",
        "tei/letters/bad-wf.depth.xml": "wf.depth",
    }
    assert len(run.diagnostics) == 7


# --------------------------------------------------------------------------- order, selection, schema

def test_diagnostics_are_sorted_by_path_line_column(tmp_path, monkeypatch):
    """Several faults in one file (found by different layers, in a different order) and one in another."""
    text = (GOOD / LETTER3).read_text(encoding="utf-8")
    for old, new in [
        ('<change when="2026-11-29" who="#editors">', '<change who="#editors">'),            # schematron, late line
        ('<persName ref="#tito">Tito</persName>', '<persName ref="#titto">Tito</persName>'),  # integrity, last line
        ('<correspAction type="received">', '<correspAction type="transmitted">'),          # schematron, early
        ('<idno type="URI">', '<idno>'),                                                     # relax ng, earliest
        ('<p>The delegation is to consult', '<p rendd="x">The delegation is to consult'),   # relax ng, late
    ]:
        assert text.count(old) == 1
        text = text.replace(old, new)
    project = make_project(tmp_path, {LETTER3: text.encode("utf-8"), LETTER2: FAULTS / "corresp.date.xml"})
    run = run_validate(project, monkeypatch)
    keys = [(d["path"], d["line"], d["column"]) for d in run.diagnostics]
    assert keys == sorted(keys)
    assert [d["code"] for d in run.diagnostics] == [
        "corresp.date",               # tei/letters/tk-002.xml sorts first
        "rng.attribute-missing",
        "corresp.actions",
        "change.dated",
        "integrity.ref-unresolved",   # line 47, in the first <p>
        "rng.attribute-unknown",      # line 48
    ]
    # The text report follows the same order.
    monkeypatch.chdir(project)
    text_out = CliRunner().invoke(main, ["-C", str(project), "validate"]).stdout.splitlines()
    assert [re.search(r"\[(\S+)\]", l).group(1) for l in text_out[:-1]] == [d["code"] for d in run.diagnostics]


def test_named_paths_limit_the_report(tmp_path, monkeypatch):
    project = make_project(tmp_path, {LETTER3: FAULTS / "change.dated.xml", LETTER2: FAULTS / "corresp.date.xml"})
    run = run_validate(project, monkeypatch, LETTER3)
    assert run.report["files"] == [LETTER3]
    assert [d["code"] for d in run.diagnostics] == ["change.dated"]
    # The corpus is still read for the integrity checks: tk-003's pointers resolve.
    assert run.report["summary"]["files"] == 1


def test_named_path_that_does_not_exist(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    run = run_validate(project, monkeypatch, "tei/letters/tk-999.xml")
    assert run.exit_code == 1
    assert run.located() == [("file.missing", "tei/letters/tk-999.xml", 0, 0)]


def test_stale_schema_is_a_warning(tmp_path, monkeypatch):
    schema = tmp_path / "schema"
    shutil.copytree(ODD.parent, schema, ignore=shutil.ignore_patterns("*.tmp"))
    odd = schema / "tei-edition.odd"
    project = make_project(tmp_path, odd=odd)
    assert run_validate(project, monkeypatch, "--strict").diagnostics == []   # the copy is up to date
    # Edit the message of the first Schematron assertion: the generated .sch no longer matches.
    text = odd.read_text(encoding="utf-8")
    assert "</sch:assert>" in text
    odd.write_text(text.replace("</sch:assert>", " (edited)</sch:assert>", 1), encoding="utf-8")
    run = run_validate(project, monkeypatch)
    assert run.exit_code == 0
    [d] = run.diagnostics
    assert (d["code"], d["level"], d["line"], d["column"]) == ("schema.stale", "warning", 1, 1)
    assert d["path"] == odd.as_posix()        # outside the project folder: shown as it is
    assert "edition schema" in d["hint"]
    assert run_validate(project, monkeypatch, "--strict").exit_code == 1


# --------------------------------------------------------------------------- regressions (bugs found while writing these tests)

@pytest.mark.parametrize("fixture, parent, missing", [
    ("rng.element-missing.title", "<titleStmt>", "<title>"),
    ("rng.element-missing.publicationStmt", "<fileDesc>", "<publicationStmt>"),
])
def test_missing_required_child_before_a_sibling(tmp_path, monkeypatch, fixture, parent, missing):
    project = make_project(tmp_path, {LETTER3: FAULTS / f"{fixture}.xml"})
    run = run_validate(project, monkeypatch)
    [d] = run.diagnostics
    assert d["code"] == "rng.element-missing"
    assert parent in d["message"] and missing in d["message"]


def test_unknown_element_on_a_line_with_a_bad_attribute(tmp_path, monkeypatch):
    text = (GOOD / LETTER3).read_text(encoding="utf-8").replace(
        "<p>The delegation is to consult Belgrade",
        '<p>The <persNmae>delegation</persNmae> of <date when="1976-13-01">March</date> is to consult Belgrade')
    project = make_project(tmp_path, {LETTER3: text.encode("utf-8")})
    run = run_validate(project, monkeypatch)
    assert {d["code"] for d in run.diagnostics} == {"rng.attribute-value", "rng.element-unknown"}


def test_attribute_rejected_by_the_grammar_is_reported(tmp_path, monkeypatch):
    text = (GOOD / PERSONS).read_text(encoding="utf-8").replace('<birth when="1892"/>', '<birth when="0000"/>')
    project = make_project(tmp_path, {PERSONS: text.encode("utf-8")})
    grammar = etree.RelaxNG(etree.parse(str(ODD.with_suffix(".rng"))))
    assert not grammar.validate(etree.parse(str(project / PERSONS)))      # the document is invalid
    run = run_validate(project, monkeypatch, "--strict")
    assert run.exit_code == 1
    assert [(d["path"], d["line"]) for d in run.diagnostics] == [(PERSONS, where(project / PERSONS, "<birth")[0])]


def test_valid_date_with_time_zone_is_not_reported_beside_another_error(tmp_path, monkeypatch):
    text = (FAULTS / "rng.element-unknown.xml").read_text(encoding="utf-8").replace(
        '<date when="1976-03-25">', '<date when="1976-03-25+01:00">')
    project = make_project(tmp_path, {LETTER3: text.encode("utf-8")})
    run = run_validate(project, monkeypatch)
    assert [d["code"] for d in run.diagnostics] == ["rng.element-unknown"]


def test_chronology_with_dates_of_different_precision(tmp_path, monkeypatch):
    text = (GOOD / LETTER3).read_text(encoding="utf-8").replace(
        '<date when="1976-03-25">25 March 1976</date>', '<date when="1976-02">February 1976</date>')
    project = make_project(tmp_path, {LETTER3: text.encode("utf-8")})
    run = run_validate(project, monkeypatch, "--strict")
    assert run.diagnostics == []


def test_doctype_text_inside_a_comment_is_not_a_doctype(tmp_path, monkeypatch):
    text = (GOOD / LETTER3).read_text(encoding="utf-8").replace(
        "<teiHeader>", "<teiHeader>\n    <!-- the HTML page starts with <!DOCTYPE html> -->", 1)
    project = make_project(tmp_path, {LETTER3: text.encode("utf-8")})
    run = run_validate(project, monkeypatch, "--strict")
    assert run.diagnostics == []
