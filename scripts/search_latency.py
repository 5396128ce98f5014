#!/usr/bin/env python3
"""How long the edition's search takes in a real browser: serves a built HTML edition on 127.0.0.1,
opens search.html in Chromium (Playwright, Debian's chromium) and prints, for each query, the
seconds from pressing Enter to the result count. The first query also loads every search shard.

    python scripts/search_latency.py build/html delegation Pyongyang
    python scripts/search_latency.py build/bench/corpus-10000/build/html delegation minister
"""
from __future__ import annotations

import argparse
import functools
import http.server
import threading
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="a built HTML edition (build/html)")
    parser.add_argument("queries", nargs="+")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(args.site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/search.html")
            page.wait_for_selector("#search-form:not([hidden])")
            for query in args.queries:
                started = time.perf_counter()
                page.fill("#q", query)
                page.press("#q", "Enter")
                page.wait_for_function("q => document.getElementById('search-status').textContent.includes(q)",
                                       arg=query, timeout=120_000)
                print(f"{query}: {time.perf_counter() - started:.2f} s: {page.inner_text('#search-status')}")
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
