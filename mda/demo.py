"""The one-command Korea–EU demo: simulate the scenario, ingest it, scan it, map it.

Everything runs offline. The simulated traffic is cached under ``build/demo/`` and regenerated
only when missing (or with ``--refresh``), so a second ``make demo`` is quick.
"""

from __future__ import annotations

import shutil
from pathlib import Path

SCENARIO = "korea-eu"
SEED = 2025
BUILD = Path("build") / "demo"


def run_demo(
    out: str | Path = "maps/demo.html",
    *,
    offline: bool = True,
    refresh: bool = False,
    build: str | Path = BUILD,
) -> Path:
    """Simulate (or reuse) the korea-eu scenario, ingest it into a fresh store, scan, render."""
    from mda.report import build_report
    from mda.scan import run_scan
    from mda.simulate import simulate
    from mda.zones import demo_zone_files

    build = Path(build)
    traffic = build / f"{SCENARIO}.nmea.gz"
    truth = build / "truth.json"
    watchlist = build / "watchlist.csv"
    if refresh or not traffic.exists():
        build.mkdir(parents=True, exist_ok=True)
        print(f"simulating the {SCENARIO} scenario (seed {SEED}) ...")
        sim = simulate(SCENARIO, seed=SEED)
        sim.write(traffic)
        sim.write_truth(truth)
        if sim.watchlist is not None:
            sim.watchlist.to_csv(watchlist, index=False)
        print(sim.summary())
    store = build / "store"
    shutil.rmtree(store, ignore_errors=True)  # a demo always starts from the same state
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    zones = demo_zone_files()  # the illustrative restricted areas belong to the demo's story
    result = run_scan(
        inputs=[traffic],
        store=store,
        zones=zones,
        watchlist=watchlist if watchlist.exists() else None,
        out=build / "alerts.geojson",
    )
    print(result.format_summary())
    return build_report(
        store=store,
        zones=zones,
        out=out,
        offline=offline,
        title="Korea–EU maritime cooperation area — simulated demo traffic",
    )
