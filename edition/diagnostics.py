"""Diagnostics: problems found in the data, collected and reported together.

A Diagnostic is one problem at one place. The Reporter collects them from every stage
so that a run reports everything at once; the command line decides the exit status.
Conditions that stop a run are exceptions of the EditionError family instead.
"""
from __future__ import annotations

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
        path = Path(path)
        if self.root is not None:
            try:
                return path.resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                pass
        return path.as_posix()

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
