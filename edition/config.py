"""The project configuration: one frozen dataclass, read from pyproject.toml or edition.toml.

    [tool.edition]              # in pyproject.toml; in edition.toml the table is [edition]
    title = "..."
    tei = "tei"                 # the documents and registers
    schema = "schema/tei-edition.odd"
    build = "build"
    base-url = "https://example.org/edition/"
    contact = "editors@example.org"   # optional: the OAI-PMH adminEmail

Paths are relative to the file that holds the table. Without any configuration the
current folder is the project, with the defaults above and the packaged schema when the
project has none of its own.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import ConfigError

DEFAULT_ODD = "schema/tei-edition.odd"


@dataclass(frozen=True)
class Config:
    root: Path
    title: str = "A TEI edition"
    tei: Path = Path("tei")
    odd: Path = Path(DEFAULT_ODD)
    build: Path = Path("build")
    base_url: str = ""
    contact: str | None = None      # e-mail of whoever answers for the edition (OAI-PMH adminEmail)
    source: Path | None = None      # the file the configuration came from


def packaged_odd() -> Path:
    """The schema shipped with the toolkit (in a wheel: edition/_schema; in a checkout: schema/)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_schema" / "tei-edition.odd", here.parent / "schema" / "tei-edition.odd"):
        if candidate.exists():
            return candidate
    raise ConfigError("the packaged schema is missing from this installation")


def _find(start: Path) -> tuple[Path, dict] | None:
    for folder in (start, *start.parents):
        ed = folder / "edition.toml"
        if ed.is_file():
            return ed, _read(ed).get("edition", {})
        py = folder / "pyproject.toml"
        if py.is_file():
            table = _read(py).get("tool", {}).get("edition")
            if table is not None:
                return py, table
    return None


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read the configuration: {exc}", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration: {exc}", path) from None


_KEYS = {"title", "tei", "schema", "build", "base-url", "contact"}


def load(start: Path | None = None) -> Config:
    """Find and read the configuration from `start` (default: the current folder) upwards."""
    start = (start or Path.cwd()).resolve()
    found = _find(start)
    if found is None:
        root, table, source = start, {}, None
    else:
        source, table = found
        root = source.parent
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        table_name = "[edition]" if source is not None and source.name == "edition.toml" else "[tool.edition]"
        raise ConfigError(f"unknown setting(s) in {table_name}: {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})", source)
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"setting {key!r} must be a string", source)
    odd = root / table.get("schema", DEFAULT_ODD)
    if "schema" not in table and not odd.exists():
        odd = packaged_odd()
    return Config(
        root=root,
        title=table.get("title", Config.title),
        tei=root / table.get("tei", "tei"),
        odd=odd,
        build=root / table.get("build", "build"),
        base_url=table.get("base-url", ""),
        contact=table.get("contact") or None,
        source=source,
    )
