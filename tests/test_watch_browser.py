"""`mda watch --serve`: the live map in a real headless Chromium updates as the feed grows.

Skips (with the reason) when Playwright or a Chromium binary is missing, as test_browser does.
"""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_browser import CHROMIUM_ARGS, chromium_path

from mda.simulate import simulate

pytestmark = pytest.mark.browser


def test_live_map_updates_in_a_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    exe = chromium_path()
    src = tmp_path / "all.nmea"
    simulate("korea-strait", seed=3).write(src)
    lines = src.read_text().splitlines()
    feed = tmp_path / "feed.nmea"
    feed.write_text("\n".join(lines[:3000]) + "\n")  # the first hour or so: no alert yet
    proc = subprocess.Popen(
        [sys.executable, "-m", "mda", "watch", str(feed), "--serve", "127.0.0.1:0",
         "--alerts-out", str(tmp_path / "alerts.jsonl")],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    said: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [said.put(x) for x in proc.stderr], daemon=True).start()
    try:
        url = None
        while url is None:
            m = re.search(r"live map at (http://127\.0\.0\.1:\d+/)", said.get(timeout=120))
            url = m.group(1) if m else None
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            outside: list[str] = []

            def only_the_watch(route):
                if route.request.url.startswith(url):
                    route.continue_()
                else:  # the page is self-contained: nothing else may be fetched
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_watch)
            page.goto(url, wait_until="load")
            page.wait_for_function(
                "() => { const b = document.getElementById('mda-live');"
                " return b && Number(b.dataset.positions) > 0; }",
                timeout=60_000,
            )
            before = page.evaluate("document.getElementById('mda-live').dataset.updated")
            with feed.open("a") as fh:  # the feed goes on: a day and a half, alerts and all
                fh.write("\n".join(lines[3000:]) + "\n")
            page.wait_for_function(  # the feed's last day reached the page, new alerts listed
                "() => document.getElementById('mda-live').dataset.updated >= '2025-02-04T11'"
                " && document.querySelectorAll('#mda-live li.mda-new-alert').length > 0",
                timeout=180_000,
            )
            after = page.evaluate("document.getElementById('mda-live').dataset.updated")
            text = page.inner_text("#mda-live")
            page.screenshot(path=str(Path(tmp_path) / "live.png"))
            browser.close()
        assert after > before
        assert "open alerts" in text
        assert not outside
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert proc.returncode == 0
