"""Diagnostics: problems found in the data, collected and reported together.

A Diagnostic is one problem at one place. The Reporter collects them from every stage
so that a run reports everything at once; the command line decides the exit status.
Conditions that stop a run are exceptions of the EditionError family instead.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ERROR = "error"
WARNING = "warning"
LEVELS = (ERROR, WARNING)


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem: where it is, what rule it breaks, what to do about it."""

    path: str
    line: int
    column: int
    level: str
    code: str
    message: str
    hint: str = ""

    def format(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.level} [{self.code}] {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "hint": self.hint or None,
        }


@dataclass
class Reporter:
    """Collects diagnostics; paths are shown relative to `root` where possible."""

    root: Path | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def display_path(self, path: Path | str) -> str:
        """The path as shown: relative to `root` when it lies below it, else as given."""
        text = os.fspath(path)
        if self.root is not None:
            absolute = os.path.abspath(text)
            root = self._root_prefix()
            if absolute.startswith(root):
                rest = absolute[len(root):]
                # on POSIX what abspath gives is already as Path would write it (and cheaper by far)
                return rest if rest and os.sep == "/" else Path(rest).as_posix()
        return Path(text).as_posix()

    def _root_prefix(self) -> str:
        cached = getattr(self, "_prefix", None)
        if cached is None:
            cached = os.path.join(os.path.abspath(self.root), "")
            self._prefix = cached
        return cached

    def add(self, level: str, code: str, message: str, path: Path | str, line: int | None = 0,
            column: int | None = 0, hint: str = "") -> None:
        assert level in LEVELS, level
        self.diagnostics.append(Diagnostic(self.display_path(path), line or 0, column or 0,
                                           level, code, message, hint))

    def error(self, code: str, message: str, path: Path | str, line: int | None = 0,
              column: int | None = 0, hint: str = "") -> None:
        self.add(ERROR, code, message, path, line, column, hint)

    def warning(self, code: str, message: str, path: Path | str, line: int | None = 0,
                column: int | None = 0, hint: str = "") -> None:
        self.add(WARNING, code, message, path, line, column, hint)

    def sorted(self) -> list[Diagnostic]:
        return sorted(set(self.diagnostics))

    def count(self, level: str) -> int:
        return sum(1 for d in set(self.diagnostics) if d.level == level)

    def failed(self, strict: bool = False) -> bool:
        return self.count(ERROR) > 0 or (strict and self.count(WARNING) > 0)


class EditionError(Exception):
    """A condition that stops the run (unreadable config, schema that will not compile)."""

    exit_code = 2

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{Path(self.path).as_posix()}:"
            if self.line:
                where += f"{self.line}:"
            where += " "
        return f"{where}{self.message}"


class ConfigError(EditionError):
    """The project configuration cannot be read or is wrong."""


class SchemaError(EditionError):
    """The ODD cannot be compiled, or the generated schema cannot be loaded."""


# ---------------------------------------------------------------- output formats
# One function per format; `FORMATS` is the registry the command line offers.

JSON_SCHEMA_VERSION = 1


def _summary(diagnostics: list[Diagnostic], files: int) -> dict:
    return {
        "files": files,
        "errors": sum(d.level == ERROR for d in diagnostics),
        "warnings": sum(d.level == WARNING for d in diagnostics),
    }


def summary_line(diagnostics: list[Diagnostic], files: int) -> str:
    s = _summary(diagnostics, files)
    plural = lambda n, w: f"{n} {w}{'' if n == 1 else 's'}"  # noqa: E731
    return f"{plural(s['files'], 'file')} checked: {plural(s['errors'], 'error')}, {plural(s['warnings'], 'warning')}"


def format_text(diagnostics: list[Diagnostic], files: list[str]) -> str:
    lines = [d.format() for d in diagnostics]
    lines.append(summary_line(diagnostics, len(files)))
    return "\n".join(lines) + "\n"


def format_json(diagnostics: list[Diagnostic], files: list[str]) -> str:
    import json

    doc = {
        "version": JSON_SCHEMA_VERSION,
        "summary": _summary(diagnostics, len(files)),
        "files": files,
        "diagnostics": [d.as_dict() for d in diagnostics],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def format_junit(diagnostics: list[Diagnostic], files: list[str]) -> str:
    """JUnit XML: one test case per file; each error is a failure, each warning goes to system-out."""
    from lxml import etree

    by_file: dict[str, list[Diagnostic]] = {f: [] for f in files}
    for d in diagnostics:
        by_file.setdefault(d.path, []).append(d)
    suites = etree.Element("testsuites", name="edition validate", tests=str(len(by_file)),
                           failures=str(sum(any(d.level == ERROR for d in ds) for ds in by_file.values())), errors="0")
    suite = etree.SubElement(suites, "testsuite", name="edition validate", tests=str(len(by_file)),
                             failures=suites.get("failures"), errors="0", skipped="0")
    for path, ds in sorted(by_file.items()):
        case = etree.SubElement(suite, "testcase", classname="edition.validate", name=path, file=path)
        errors = [d for d in ds if d.level == ERROR]
        if errors:
            failure = etree.SubElement(case, "failure", type=errors[0].code,
                                       message=f"{len(errors)} error{'s' if len(errors) != 1 else ''}")
            failure.text = "\n".join(d.format() for d in errors)
        warnings = [d for d in ds if d.level == WARNING]
        if warnings:
            etree.SubElement(case, "system-out").text = "\n".join(d.format() for d in warnings)
    return etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def _gh_escape(text: str, property_: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diagnostics: list[Diagnostic], files: list[str]) -> str:
    """GitHub Actions workflow commands: one annotation per diagnostic, then the summary."""
    lines = []
    for d in diagnostics:
        props = [f"file={_gh_escape(d.path, True)}"]
        if d.line:
            props.append(f"line={d.line}")
        if d.column:
            props.append(f"col={d.column}")
        props.append(f"title={_gh_escape(d.code, True)}")
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        lines.append(f"::{d.level} {','.join(props)}::{_gh_escape(message)}")
    lines.append(summary_line(diagnostics, len(files)))
    return "\n".join(lines) + "\n"


FORMATS = {
    "text": format_text,
    "json": format_json,
    "junit": format_junit,
    "github": format_github,
}
