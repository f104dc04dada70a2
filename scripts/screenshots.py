"""Screenshots of the demo map and of a real-data report for the README (run by hand).

    .venv/bin/python scripts/screenshots.py [--refresh]

Writes maps/demo.png (the Korea–EU demo as `make demo` opens it) and maps/real-data.png (a scan
of NOAA MarineCadastre's Los Angeles / Long Beach day from /work/shared/data, or $MDA_SHARED_DATA;
left out with a message when the file is absent). Pages are opened from disk in the system
Chromium (as tests/test_browser.py does) with every request but the file itself aborted. Work
files go to build/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import CHROMIUM_ARGS  # noqa: E402  (one launch recipe for tests and shots)

WORK = ROOT / "build" / "screenshots"
SHARED = Path(os.environ.get("MDA_SHARED_DATA", "/work/shared/data"))
REAL = SHARED / "positions" / "marinecadastre_2020-01-01_la_longbeach_fullday.csv.gz"
VIEWPORT = {"width": 1440, "height": 860}


def demo_page(refresh: bool) -> Path:
    from mda.demo import run_demo

    return run_demo(out=WORK / "demo.html", refresh=refresh)


def real_page() -> Path | None:
    """A scan of a real public day, then its report (with the data's credit line)."""
    from mda.report import build_report
    from mda.scan import run_scan

    if not REAL.is_file():
        print(f"{REAL}: not found, no real-data screenshot")
        return None
    alerts = WORK / "real-alerts.geojson"
    run_scan(inputs=[REAL], out=alerts)
    return build_report(inputs=[REAL], alerts=alerts, out=WORK / "real.html")


def only(url: str):
    """A route handler that lets `url` through and aborts every other request."""

    def handle(route) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            route.abort()

    return handle


def shoot(pages: dict[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, html in pages.items():
            page = browser.new_page(viewport=VIEWPORT)
            page.route("**/*", only(html.as_uri()))
            page.goto(html.as_uri(), wait_until="load")
            page.wait_for_function("window.mdaReport !== undefined", timeout=30_000)
            page.wait_for_timeout(1500)
            out = ROOT / "maps" / f"{name}.png"
            page.screenshot(path=str(out))
            print(f"{out.relative_to(ROOT)}  {out.stat().st_size / 1024:.0f} KB")
            page.close()
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refresh", action="store_true", help="regenerate the demo's traffic")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    pages = {"demo": demo_page(args.refresh)}
    real = real_page()
    if real is not None:
        pages["real-data"] = real
    shoot(pages)


if __name__ == "__main__":
    main()
