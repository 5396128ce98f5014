"""The HTML edition in a real browser: Playwright driving Debian's chromium, headless.

Walks the site as a reader would (home page, a letter, a person in the register and back),
searches with Pagefind over http, filters the list of letters, reads pages from file:// and
checks accessibility with axe-core (no serious or critical violation). Screenshots go to
build/screenshots/ for people to look at.
"""
from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from edition.cli import main

from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "build" / "screenshots"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    project = tmp_path_factory.mktemp("browser") / "project"
    project.mkdir()
    shutil.copytree(REPO / "tei", project / "tei")
    shutil.copytree(REPO / "schema", project / "schema")
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    result = CliRunner().invoke(main, ["-C", str(project), "build", "--format", "html"])
    assert result.exit_code == 0, result.output
    return project / "build" / "html"


@pytest.fixture(scope="module")
def server(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), "Debian's chromium is needed for the browser tests: apt-get install chromium (make test does it)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_reader_goes_from_home_to_a_letter_to_a_person_and_back(page, server):
    page.goto(server + "index.html")
    assert "Tito" in page.title()
    _shot(page, "home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Letters").click()
    page.wait_for_url("**/letters.html")
    page.get_by_role("link", name="President Tito's Response to Kim Il Sung's Message of July 7, 1973").click()
    page.wait_for_url("**/letters/tk-003.html")
    assert page.get_by_role("heading", level=1).inner_text() == "Josip Broz Tito to Kim Il Sung, 22 July 1973"
    assert "22 August 1973" in page.locator(".metadata").inner_text()   # the conflicting date is shown too
    _shot(page, "letter-tk-003")
    page.locator(".tei-div.regest a.tei-persName", has_text="Tito").first.click()
    page.wait_for_url("**/persons.html#tito")
    entry = page.locator("#tito")
    assert entry.is_visible()
    assert "Josip Broz Tito" in entry.inner_text()
    _shot(page, "persons")
    entry.get_by_role("link", name="Josip Broz Tito to Kim Il Sung, 22 July 1973").click()
    page.wait_for_url("**/letters/tk-003.html")
    page.go_back()
    page.wait_for_url("**/persons.html#tito")


def test_search_finds_a_letter_and_filters_the_hits(page, server):
    page.goto(server + "search.html")
    page.get_by_label("Search the edition").fill("Brdo")
    page.locator("a.search-result").first.wait_for(timeout=10_000)
    hrefs = [a.get_attribute("href") for a in page.locator("a.search-result").all()]
    assert "letters/tk-003.html" in hrefs, hrefs
    assert len(hrefs) >= 2
    _shot(page, "search")
    page.get_by_label("Year").select_option("1975")
    page.wait_for_function("document.querySelectorAll('a.search-result').length === 1")
    assert page.locator("a.search-result").first.get_attribute("href") == "letters/tk-007.html"
    page.get_by_label("Year").select_option("")
    page.get_by_label("Person").select_option("Stane Dolanc")
    page.get_by_label("Search the edition").fill("Tito")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('Tito')")
    page.wait_for_timeout(400)   # let the debounced search settle before reading the list
    for a in page.locator("a.search-result").all():
        page_text = page.request.get(server + a.get_attribute("href")).text()
        assert "#stane_dolanc" in page_text
    page.locator("a.search-result").first.click()
    page.wait_for_url("**/letters/tk-*.html")


def test_letters_can_be_filtered_by_year(page, server):
    page.goto(server + "letters.html")
    rows = page.locator("table.letters tbody tr")
    total = rows.count()
    page.get_by_label("Year").select_option("1976")
    visible = [r for r in rows.all() if r.is_visible()]
    assert 0 < len(visible) < total
    assert all("1976" in r.inner_text() for r in visible)


def test_pages_read_from_files_without_a_server(page, site):
    page.goto((site / "letters" / "tk-011.html").as_uri())
    assert "KPR I-1/654" in page.locator(".metadata").inner_text()
    page.goto((site / "search.html").as_uri())
    assert page.locator("#search-offline").is_visible()


@pytest.mark.parametrize("path", ["index.html", "letters.html", "letters/tk-003.html", "persons.html",
                                  "places.html", "search.html", "guidelines.html"])
def test_no_serious_accessibility_violations(page, server, path):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(server + path)
    results = Axe().run(page)
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, bad


def test_the_search_latency_script_times_queries_in_the_browser(site):
    """scripts/search_latency.py (figures printed, not asserted): it finds what the search finds."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "search_latency.py"), str(site), "Pyongyang",
                           "--chromium", str(CHROMIUM)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^Pyongyang: [\d.]+ s: \d+ letters? found", proc.stdout, re.M), proc.stdout
