"""The `edition` command line: exit codes, output formats, options.

Projects are copies of tests/data/validate/good (see tests/test_validate.py), run from inside
the copy so that reported paths are relative to it.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from edition import __version__
from edition.cli import main

from conftest import FAULTS, GOOD, ODD, REPO

LETTER2 = "tei/letters/tk-002.xml"
LETTER3 = "tei/letters/tk-003.xml"
PERSONS = "tei/registers/persons.xml"
FILES = 8

TEXT_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<level>error|warning) "
                       r"\[(?P<code>[\w.-]+)\] (?P<message>.+)$")
SUMMARY = re.compile(r"^(\d+) files? checked: (\d+) errors?, (\d+) warnings?$")
#: col is left out where the column is unknown (0).
GITHUB_LINE = re.compile(r"^::(?P<level>error|warning) file=(?P<file>[^,]+),line=(?P<line>\d+)(?:,col=(?P<col>\d+))?,"
                         r"title=(?P<title>[^:]+)::(?P<message>.+)$")


def make_project(root: Path, files: dict[str, Path] | None = None, toml: str | None = None) -> Path:
    project = root / "project"
    shutil.copytree(GOOD, project)
    (project / "edition.toml").write_text(
        toml if toml is not None else f'[edition]\ntei = "tei"\nschema = "{ODD.as_posix()}"\n', encoding="utf-8")
    for rel, src in (files or {}).items():
        shutil.copyfile(src, project / rel)
    return project


@pytest.fixture
def cli(monkeypatch):
    """Run `edition -C PROJECT ARGS...` from inside the project; never a traceback."""

    def run(project: Path, *args: str):
        monkeypatch.chdir(project)
        result = CliRunner().invoke(main, ["-C", str(project), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        return result

    return run


@pytest.fixture
def two_faults(tmp_path) -> Path:
    """Two errors in two files (change.dated in tk-003, corresp.date in tk-002) and one warning (an unused person)."""
    return make_project(tmp_path, {
        LETTER3: FAULTS / "change.dated.xml",
        LETTER2: FAULTS / "corresp.date.xml",
        PERSONS: FAULTS / "integrity.register-unused.xml",
    })


# --------------------------------------------------------------------------- exit codes

def test_clean_project_exits_0(cli):
    result = cli(GOOD, "validate")
    assert result.exit_code == 0
    assert result.stdout == f"{FILES} files checked: 0 errors, 0 warnings\n"
    assert cli(GOOD, "validate", "--strict").exit_code == 0


def test_problems_exit_1(cli, two_faults):
    assert cli(two_faults, "validate").exit_code == 1


def test_warnings_fail_only_with_strict(cli, tmp_path):
    project = make_project(tmp_path, {PERSONS: FAULTS / "integrity.register-unused.xml"})
    relaxed = cli(project, "validate")
    assert relaxed.exit_code == 0
    assert "warning [integrity.register-unused]" in relaxed.stdout
    strict = cli(project, "validate", "--strict")
    assert strict.exit_code == 1
    assert strict.stdout == relaxed.stdout


def test_unknown_format_is_a_usage_error(cli):
    result = cli(GOOD, "validate", "--format", "xml")
    assert result.exit_code == 2
    assert "'xml'" in result.stderr and "--format" in result.stderr
    assert result.stdout == ""


def test_unknown_configuration_key_is_a_usage_error(cli, tmp_path):
    project = make_project(tmp_path, toml=f'[edition]\ntei = "tei"\nschema = "{ODD.as_posix()}"\nbase_url = "x"\n')
    result = cli(project, "validate")
    assert result.exit_code == 2
    assert result.stderr.startswith("edition: error: ")
    assert "base_url" in result.stderr and "base-url" in result.stderr    # the unknown key and the known ones
    assert "edition.toml" in result.stderr
    assert result.stdout == ""


def test_unreadable_configuration_is_a_usage_error(cli, tmp_path):
    project = make_project(tmp_path, toml="[edition\n")
    result = cli(project, "validate")
    assert result.exit_code == 2
    assert result.stderr.startswith("edition: error: ") and "cannot read the configuration" in result.stderr


def test_unknown_key_message_names_the_right_table(cli, tmp_path):
    project = make_project(tmp_path, toml='[edition]\ntei = "tei"\ncolour = "red"\n')
    result = cli(project, "validate")
    assert "[edition]" in result.stderr and "[tool.edition]" not in result.stderr


def test_no_tei_folder_and_no_paths_is_a_usage_error(cli, tmp_path):
    project = make_project(tmp_path, toml=f'[edition]\ntei = "texts"\nschema = "{ODD.as_posix()}"\n')
    result = cli(project, "validate")
    assert result.exit_code == 2
    assert "no documents" in result.stderr and "texts" in result.stderr
    # Naming a file is enough.
    named = cli(project, "validate", "tei/letters/tk-001.xml")
    assert named.exit_code == 1          # its pointers now resolve to nothing: no corpus
    assert "integrity.ref-unresolved" in named.stdout


# --------------------------------------------------------------------------- formats

def test_text_format(cli, two_faults):
    result = cli(two_faults, "validate", "--format", "text")
    lines = result.stdout.splitlines()
    parsed = [TEXT_LINE.match(l) for l in lines[:-1]]
    assert all(parsed), lines
    assert [(m["path"], m["code"], m["level"]) for m in parsed] == [
        (LETTER2, "corresp.date", "error"),
        (LETTER3, "change.dated", "error"),
        (PERSONS, "integrity.register-unused", "warning"),
    ]
    assert parsed[1]["message"] == "Each change in revisionDesc is dated with @when."
    assert parsed[2]["message"].endswith("(hint: reference it with @ref where it is named, or remove it)")
    assert int(parsed[1]["line"]) > 0 and int(parsed[1]["col"]) > 0
    assert lines[-1] == f"{FILES} files checked: 2 errors, 1 warning"
    assert SUMMARY.match(lines[-1])
    assert result.stdout == cli(two_faults, "validate").stdout     # text is the default


def test_json_format(cli, two_faults):
    result = cli(two_faults, "validate", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert set(doc) == {"version", "summary", "files", "diagnostics"}
    assert doc["version"] == 1
    assert doc["summary"] == {"files": FILES, "errors": 2, "warnings": 1}
    assert len(doc["files"]) == FILES and LETTER3 in doc["files"] and all(isinstance(f, str) for f in doc["files"])
    assert len(doc["diagnostics"]) == 3
    for d in doc["diagnostics"]:
        assert set(d) == {"path", "line", "column", "level", "code", "message", "hint"}
        assert isinstance(d["line"], int) and isinstance(d["column"], int)
        assert d["level"] in ("error", "warning")
        assert d["hint"] is None or (isinstance(d["hint"], str) and d["hint"])
    by_code = {d["code"]: d for d in doc["diagnostics"]}
    assert by_code["change.dated"]["hint"] is None
    assert by_code["change.dated"]["path"] == LETTER3
    assert by_code["integrity.register-unused"]["level"] == "warning"
    assert by_code["integrity.register-unused"]["hint"]


def test_json_format_when_clean(cli):
    doc = json.loads(cli(GOOD, "validate", "-f", "json").stdout)
    assert doc["diagnostics"] == [] and doc["summary"] == {"files": FILES, "errors": 0, "warnings": 0}


def test_junit_format(cli, two_faults):
    result = cli(two_faults, "validate", "--format", "junit")
    assert result.exit_code == 1
    root = etree.fromstring(result.stdout.encode("utf-8"))
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == FILES
    assert root.get("tests") == suite.get("tests") == str(FILES)
    assert root.get("failures") == suite.get("failures") == "2"      # two files have errors
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {LETTER2, LETTER3}
    assert failed[LETTER3].get("type") == "change.dated"
    assert failed[LETTER3].get("message") == "1 error"
    assert TEXT_LINE.match(failed[LETTER3].text) and "[change.dated]" in failed[LETTER3].text
    warned = {c.get("name"): c.findtext("system-out") for c in cases if c.find("system-out") is not None}
    assert set(warned) == {PERSONS} and "[integrity.register-unused]" in warned[PERSONS]
    assert all(c.get("file") == c.get("name") for c in cases)


def test_junit_counts_every_error_of_a_file(cli, tmp_path):
    text = (GOOD / LETTER3).read_text(encoding="utf-8")
    text = text.replace('<change when="2026-11-29" who="#editors">', '<change who="#editors">')
    text = text.replace('<correspAction type="received">', '<correspAction type="transmitted">')
    project = make_project(tmp_path)
    (project / LETTER3).write_text(text, encoding="utf-8")
    root = etree.fromstring(cli(project, "validate", "-f", "junit").stdout.encode("utf-8"))
    [failure] = root.iter("failure")
    assert failure.get("message") == "2 errors"
    assert len(failure.text.splitlines()) == 2
    assert root.get("failures") == "1"


def test_github_format(cli, two_faults):
    result = cli(two_faults, "validate", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    matches = [GITHUB_LINE.match(l) for l in lines[:-1]]
    assert all(matches), lines
    assert [(m["level"], m["file"], m["title"]) for m in matches] == [
        ("error", LETTER2, "corresp.date"),
        ("error", LETTER3, "change.dated"),
        ("warning", PERSONS, "integrity.register-unused"),
    ]
    json_doc = json.loads(cli(two_faults, "validate", "-f", "json").stdout)
    for m, d in zip(matches, json_doc["diagnostics"]):
        assert (int(m["line"]), int(m["col"] or 0)) == (d["line"], d["column"])
        assert m["message"].startswith(d["message"])
    assert matches[0]["col"] is not None and matches[2]["col"] is None    # register-unused has no column
    assert lines[-1] == f"{FILES} files checked: 2 errors, 1 warning"


def test_github_format_escapes_properties_and_newlines():
    from edition.diagnostics import Diagnostic, format_github

    d = Diagnostic("a,b:c.xml", 3, 0, "error", "x.y", "line one\nline two 100%")
    [line, _summary] = format_github([d], ["a,b:c.xml"]).splitlines()
    assert line == "::error file=a%2Cb%3Ac.xml,line=3,title=x.y::line one%0Aline two 100%25"


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "github"])
def test_output_option_writes_the_report(cli, two_faults, fmt):
    expected = cli(two_faults, "validate", "-f", fmt).stdout
    out = two_faults.parent / f"report.{fmt}"
    result = cli(two_faults, "validate", "-f", fmt, "--output", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == expected


# --------------------------------------------------------------------------- other entry points

def test_python_dash_m_help():
    proc = subprocess.run([sys.executable, "-m", "edition", "--help"], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: edition" in proc.stdout
    assert "validate" in proc.stdout and "schema" in proc.stdout


def test_the_console_entry_point_keeps_exit_codes_and_flushes_its_output(tmp_path):
    """`python -m edition` ends the process without tearing it down: what it printed still arrives,
    in full, and its exit code is the command's."""
    bad = tmp_path / "bad.xml"
    bad.write_text("<TEI xmlns='http://www.tei-c.org/ns/1.0'><oops/></TEI>", encoding="utf-8")
    clean = subprocess.run([sys.executable, "-m", "edition", "-C", str(REPO), "validate", "-f", "json"],
                           capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["summary"]["errors"] == 0
    faulty = subprocess.run([sys.executable, "-m", "edition", "-C", str(REPO), "validate", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert faulty.returncode == 1 and "bad.xml:1:" in faulty.stdout + faulty.stderr
    usage = subprocess.run([sys.executable, "-m", "edition", "nonsense"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "No such command" in usage.stderr


def test_validate_help_documents_the_exit_status(cli):
    result = cli(GOOD, "validate", "--help")
    assert result.exit_code == 0
    for word in ("--format", "--strict", "--output", "json", "junit", "github"):
        assert word in result.stdout


def test_version(cli):
    result = cli(GOOD, "--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_schema_check_on_the_repository(cli):
    result = cli(REPO, "schema", "--check")
    assert result.exit_code == 0, result.output
    assert result.output == ""


def test_plain_mistakes_are_usage_errors_not_tracebacks(tmp_path):
    import socket

    runner = CliRunner()
    report = runner.invoke(main, ["-C", str(GOOD), "validate", "-o", str(tmp_path / "missing" / "r.json")])
    assert report.exit_code == 2 and "cannot write the report" in report.output
    assert report.exception is None or isinstance(report.exception, SystemExit)
    port = runner.invoke(main, ["-C", str(GOOD), "serve", "--port", "70000"])
    assert port.exit_code == 2
    site = tmp_path / "site"
    (site / "build" / "html").mkdir(parents=True)
    (site / "build" / "html" / "index.html").write_text("x", encoding="utf-8")
    (site / "edition.toml").write_text('[edition]\ntitle = "t"\n', encoding="utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = runner.invoke(main, ["-C", str(site), "serve", "--port", str(busy.getsockname()[1])])
    assert taken.exit_code == 2 and "cannot listen" in taken.output
