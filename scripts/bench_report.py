"""Benchmark: the map report of 1,000 vessels over 24 h next to a naive Folium map of them.

Data: the simulator's `scale` scenario (about 1,000,000 positions), tracks from mda.tracks and the
alerts every detector raises on them (mda.scan.detect_window). Measured for both maps: build
time (tracks and alerts given), HTML size, and time to draw in headless Chromium (file://, all
network cut off). The baseline is what one writes first: one folium.PolyLine per track with every
fix, one CircleMarker + Popup per alert, default (SVG) rendering.

    .venv/bin/python scripts/bench_report.py            # 1,000 vessels x 24 h
    .venv/bin/python scripts/bench_report.py --quick    # 200 vessels x 6 h
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

import folium
import pandas as pd
from timing import timed

from mda.config import load_config
from mda.report import offline, render_map
from mda.scan import detect_window
from mda.simulate import simulate
from mda.zones import load_zones

CHROMIUM = "/usr/bin/chromium"


def naive_map(out: Path, tracks, alerts: pd.DataFrame) -> Path:
    """The baseline: a PolyLine per track segment with every fix, a marker + popup per alert."""
    m = folium.Map(location=[35, 129], zoom_start=3)
    p = tracks.points[tracks.points["segment"] >= 0]
    for _seg, g in p.groupby("segment", sort=False):
        folium.PolyLine(g[["lat", "lon"]].to_numpy().tolist(), weight=2).add_to(m)
    for r in alerts.itertuples():
        folium.CircleMarker(
            [r.lat, r.lon], radius=6, popup=folium.Popup(f"{r.type} {r.mmsi} {r.vessel_name}")
        ).add_to(m)
    m.save(str(out))
    # same Leaflet as the report, inlined, so both pages draw without a network
    html = out.read_text(encoding="utf-8")
    html = re.sub(r'<script src="https?://[^"]*"></script>', "", html)
    html = re.sub(r'<link rel="stylesheet" href="https?://[^"]*"/>', "", html)
    leaflet = [offline.ASSETS["leaflet.js"], offline.ASSETS["leaflet.css"]]
    js, css = (offline.read_asset(offline.asset_path(*a)) for a in leaflet)
    html = html.replace("<head>", f"<head><style>{css}</style><script>{js}</script>", 1)
    out.write_text(html, encoding="utf-8")
    return out


def draw_seconds(path: Path, ready: str) -> float:
    """Seconds from navigation start until `ready` holds and two frames were painted."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = b.new_page(viewport={"width": 1500, "height": 900})
        page.route("http*://**", lambda r: r.abort())
        page.goto(path.as_uri(), wait_until="load", timeout=300_000)
        page.wait_for_function(ready, timeout=300_000)
        ms = page.evaluate(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
            "() => r(performance.now()))))"
        )
        b.close()
    return ms / 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vessels", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=24)
    ap.add_argument("--quick", action="store_true", help="200 vessels x 6 h")
    ap.add_argument("--no-browser", action="store_true", help="skip the draw-time measurement")
    a = ap.parse_args()
    vessels, hours = (200, 6.0) if a.quick else (a.vessels, a.hours)

    with timed() as took:
        sim = simulate("scale", seed=1, vessels=vessels, hours=hours)
    print(f"simulated {len(sim.positions):,} positions of {vessels} vessels x {hours:g} h ({took})")
    cfg, zones = load_config(), load_zones()
    with timed() as took:
        alerts, tracks = detect_window(sim.positions, cfg, zones, vessels=sim.statics)
    print(
        f"tracks + detectors: {len(tracks.points):,} points, {len(alerts):,} alerts "
        f"({took}, not counted below)"
    )

    tmp = Path(tempfile.mkdtemp(prefix="bench_report_"))
    try:
        with timed() as t_ours:
            ours = render_map(
                tmp / "report.html",
                tracks=tracks,
                zones=zones,
                alerts=alerts,
                vessels=sim.statics,
                title="bench",
                offline=True,
            )
        with timed() as t_naive:
            naive = naive_map(tmp / "naive.html", tracks, alerts)
        s_ours, s_naive = ours.stat().st_size / 1e6, naive.stat().st_size / 1e6
        rows = [
            ("build (s wall)", t_ours.wall, t_naive.wall),
            ("build (s CPU)", t_ours.cpu, t_naive.cpu),
            ("HTML (MB)", s_ours, s_naive),
        ]
        if not a.no_browser and Path(CHROMIUM).exists():
            d_ours = draw_seconds(ours, "window.mdaReport !== undefined")
            d_naive = draw_seconds(naive, "document.querySelector('.leaflet-overlay-pane svg')")
            rows.append(("draw in Chromium (s)", d_ours, d_naive))  # the browser's clock
        print(f"\n{'':22}{'mda report':>12}{'naive folium':>14}{'ratio':>9}")
        for name, x, y in rows:
            print(f"{name:22}{x:12.2f}{y:14.2f}{y / x:8.1f}x")
        print("(ratio = naive / report; targets: build < 20 s, HTML < 15 MB, draw < 5 s)")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
