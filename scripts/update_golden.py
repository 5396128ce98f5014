"""Regenerate the golden files of tests/test_render.py: tests/data/render/*.xml -> .html and .txt.

    .venv/bin/python scripts/update_golden.py

Review the diff before committing: the golden files are the renderers' specification.
"""
from __future__ import annotations

import json
from pathlib import Path

from edition.render import render_html, render_text
from edition.tei import read_xml

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "data" / "render"


def main() -> None:
    urls = json.loads((GOLDEN / "urls.json").read_text(encoding="utf-8"))
    for path in sorted(GOLDEN.glob("*.xml")):
        root = read_xml(path, require_tei=False).root
        html = render_html(root, resolve=urls.get).fragment
        text = render_text(root, resolve=urls.get)
        path.with_suffix(".html").write_text(html, encoding="utf-8", newline="\n")
        path.with_suffix(".txt").write_text(text, encoding="utf-8", newline="\n")
        print(f"{path.with_suffix('.html').name}, {path.with_suffix('.txt').name}")


if __name__ == "__main__":
    main()
