"""The one-command Korea–EU demo: simulate the scenario, ingest it, scan it, map it.

Everything runs offline. The simulated traffic is cached under ``build/demo/`` and regenerated
only when missing (or with ``--refresh``), so a second ``make demo`` is quick. The map tells the
story: it opens on the whole Korea–EU lane, with the places where things happened one click away
(VIEWS), what happened in order (from the scenario's planted cases and the truth's times), and
the cooperation partners shaded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from mda.errors import MdaError
from mda.fileio import reason

SCENARIO = "korea-eu"
SEED = 2025
BUILD = Path("build") / "demo"

#: Named views of the demo map: name -> [[S, W], [N, E]].
VIEWS = {
    "Baltic cables": [[56.0, 16.0], [60.7, 27.5]],
    "Korea Strait": [[32.0, 125.0], [36.6, 131.6]],
    "East China Sea transfers": [[28.0, 121.0], [33.5, 127.5]],
    "Red Sea chokepoints": [[11.0, 31.0], [31.8, 45.0]],
}
#: The cooperation partners, as Natural Earth names them: the Republic of Korea and the 27 EU
#: member states.
PARTNERS = (
    "South Korea",
    *("Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Denmark", "Estonia"),
    *("Finland", "France", "Germany", "Greece", "Hungary", "Ireland", "Italy", "Latvia"),
    *("Lithuania", "Luxembourg", "Malta", "Netherlands", "Poland", "Portugal", "Romania"),
    *("Slovakia", "Slovenia", "Spain", "Sweden"),
)


def narrative(truth: Path) -> list[str]:
    """What happened, in time order: one line per planted case of the scenario (its vessel and
    what it did), at the start of its first truth event (else its planned start)."""
    from mda.simulate.scenario import load_scenario

    plan, _ = load_scenario(SCENARIO)
    start = pd.Timestamp(plan["scenario"]["start"])
    events = json.loads(truth.read_text(encoding="utf-8"))["events"] if truth.exists() else []
    first: dict[str, pd.Timestamp] = {}
    for e in events:
        if e.get("note"):
            t = pd.Timestamp(e["start"])
            first[e["note"]] = min(first.get(e["note"], t), t)
    lines = []
    for case in plan.get("case", []):
        note = case.get("name", case["type"].replace("_", " "))
        when = first.get(note, start + pd.Timedelta(hours=case.get("start_hour", 0)))
        lines.append((when, f"{when:%a %d %b %H:%M} UTC · {case['vessel']['name']}: {note}"))
    hours = plan["scenario"]["hours"]
    intro = f"{hours} h of simulated traffic from {start:%d %b %Y} on the Korea–Europe lane."
    return [intro, *(text for _, text in sorted(lines))]


def story(truth: Path) -> dict:
    """The demo map's story panel: named views, narrative, partners (mda.report.panel.story)."""
    return {
        "views": list(VIEWS.items()),
        "narrative": narrative(truth),
        "partners": PARTNERS,
        "partners_label": "Cooperation partners: the Republic of Korea and the EU member states",
    }


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

    build, out = Path(build), Path(out)
    for folder in (build, out.parent):  # before simulating: a bad --out fails at once
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            why = "a file, not a folder" if folder.exists() else reason(e)
            raise MdaError(f"{folder}: cannot write here ({why})") from None
    traffic = build / f"{SCENARIO}.nmea.gz"
    truth = build / "truth.json"
    watchlist = build / "watchlist.csv"
    if refresh or not traffic.exists():
        print(f"simulating the {SCENARIO} scenario (seed {SEED}) ...")
        sim = simulate(SCENARIO, seed=SEED)
        sim.write(traffic)
        sim.write_truth(truth)
        if sim.watchlist is not None:
            sim.watchlist.to_csv(watchlist, index=False)
        print(sim.summary())
    store = build / "store"
    shutil.rmtree(store, ignore_errors=True)  # a demo always starts from the same state
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
        data_sources=["simulated"],
        story=story(truth),
    )
