"""Scan throughput: a whole scheduled scan of the simulator's `scale` scenario from a store.

The scenario's planted cases (anchor drag, STS, dark tanker, MMSI switch, spoofing, ... in its
first 12 h) are on, so the scan is timed raising real alerts; each size prints how many
events its truth holds.

    .venv/bin/python scripts/bench_scan.py                # 500 and 1,000 vessels, 12 and 24 h
    .venv/bin/python scripts/bench_scan.py --quick        # 100 and 200 vessels
    .venv/bin/python scripts/bench_scan.py --vessels 250 500 1000 --hours 48

Each size is simulated, written as NMEA and ingested into a fresh store (not timed). Sizes: every
--vessels count over --hours (default: the scenario's 24 h), plus the largest count over half of
it, so the time per position can be compared across vessels and across time span.

Printed, in this order:

* cold start: wall time of `python -m mda scan --store COPY` in a fresh process on the smallest
  size (interpreter start, imports, zone loading, the scan itself), first with an empty zone
  index cache (the index is built) and then with the cache that run wrote (the usual case for a
  scheduled scan);
* per size, in this process on one core, after a first scan has paid the lazy imports, best of
  --repeat runs: the baseline reads the positions back from the store (`Store.positions`, the
  columns a scan reads) and the scan (`run_scan(store=...)`: read, tracks, zone membership, all
  detectors, save_scan) runs on the same data. Wall and CPU seconds of both (the machine may
  be shared: CPU seconds are this process's own), positions/s on each, the scan's time as a
  multiple of the plain read, and the CPU time per position, which stays flat when the scan
  is linear.
  Target (issue 13): >= 1,000,000 positions/s per core, judged on CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mda.errors import MdaError
from mda.scan import SCAN_COLUMNS, run_scan
from mda.simulate import simulate
from mda.store import Store

SCENARIO_HOURS = 24.0  # data/scenarios/scale.toml
TARGET = 1_000_000  # positions/s per core


def prepare(vessels: int, hours: float, seed: int, tmp: Path) -> tuple[Path, int]:
    """Simulate one size and ingest it into a fresh store (not timed); the store and the number
    of events in the run's truth (planted cases and the port calls, zone entries ... they make).
    """
    try:
        sim = simulate("scale", seed=seed, vessels=vessels, hours=hours)
    except MdaError as e:  # --hours too short for the planted cases
        sys.exit(f"bench_scan: {e}")
    path = sim.write(tmp / f"scale-{vessels}-{hours:g}h.nmea")
    store = tmp / f"store-{vessels}-{hours:g}h"
    Store(store).ingest([path])
    path.unlink()
    return store, len(sim.truth)


def cold_start(store: Path, cache: Path) -> float:
    """Wall time of `mda scan --store` in a fresh process on a copy of `store`."""
    copy = shutil.copytree(store, store.with_name(store.name + "-cold"))
    env = {**os.environ, "MDA_CACHE_DIR": str(cache)}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mda", "scan", "--store", str(copy), "--json"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - t0
    shutil.rmtree(copy)
    return elapsed


def one(store: Path, vessels: int, hours: float, repeat: int) -> dict:
    """Best of `repeat` timings (wall and CPU seconds, each the best of its kind) of the read
    baseline and of the scan of one prepared store (each scan on a fresh copy, not timed: a
    scan records its progress in the store)."""
    read_s = scan_s = read_cpu = scan_cpu = float("inf")
    for i in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        n_read = len(Store(store, create=False).positions(columns=SCAN_COLUMNS))
        read_s = min(read_s, time.perf_counter() - t0)
        read_cpu = min(read_cpu, time.process_time() - c0)
        copy = shutil.copytree(store, store.with_name(f"{store.name}-scan{i}"))
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_scan(store=copy)
        scan_s = min(scan_s, time.perf_counter() - t0)
        scan_cpu = min(scan_cpu, time.process_time() - c0)
        shutil.rmtree(copy)
    return {
        "vessels": vessels,
        "hours": hours,
        "positions": result.positions,
        "read_s": read_s,
        "scan_s": scan_s,
        "read_cpu": read_cpu,
        "scan_cpu": scan_cpu,
        "alerts": len(result.alerts),
        "read_rows": n_read,
    }


def growth(a: dict, b: dict) -> float:
    """How much faster than the data the scan's CPU time grows from size a to b (1.0 = linear)."""
    return (b["scan_cpu"] / a["scan_cpu"]) / (b["positions"] / a["positions"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vessels", type=int, nargs="+", help="sizes (default 500 1000)")
    ap.add_argument("--hours", type=float, default=SCENARIO_HOURS, help="scenario duration")
    ap.add_argument("--quick", action="store_true", help="100 and 200 vessels")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="timings per size, the best is shown")
    a = ap.parse_args(argv)
    counts = sorted(a.vessels or ([100, 200] if a.quick else [500, 1000]))
    sizes = [(n, a.hours) for n in counts] + [(counts[-1], a.hours / 2)]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        prepared = {s: prepare(*s, a.seed, tmp) for s in sizes}
        stores = {s: store for s, (store, _) in prepared.items()}
        first = stores[sizes[0]]
        built = cold_start(first, tmp / "cache")
        cached = cold_start(first, tmp / "cache")
        print(
            f"cold start (fresh `mda scan --store` process, {sizes[0][0]} vessels, incl. "
            f"imports and the scan): {built:.2f} s building the zone index, "
            f"{cached:.2f} s with it cached on disk"
        )
        # the timed scans below measure the per-position work: pay the lazy imports first
        t0 = time.perf_counter()
        run_scan(store=shutil.copytree(first, tmp / "warm-up"))
        print(f"first scan in this process (lazy imports): {time.perf_counter() - t0:.2f} s")
        for s in sizes:
            rows.append(one(stores[s], *s, a.repeat))
            r = rows[-1]
            n = max(r["positions"], 1)
            print(
                f"{r['vessels']:>6,} vessels {r['hours']:>4g} h  {r['positions']:>10,} positions  "
                f"{prepared[s][1]:,} truth events  {r['alerts']:,} alerts\n"
                f"    read (baseline) {r['read_s']:6.2f} s wall {r['read_cpu']:6.2f} s cpu   "
                f"scan {r['scan_s']:6.2f} s wall {r['scan_cpu']:6.2f} s cpu   "
                f"{n / r['scan_s']:>10,.0f} positions/s wall {n / r['scan_cpu']:>10,.0f} cpu   "
                f"scan/read {r['scan_s'] / r['read_s']:5.1f}x wall "
                f"{r['scan_cpu'] / r['read_cpu']:5.1f}x cpu   "
                f"{1e6 * r['scan_cpu'] / n:6.2f} us cpu/position",
                flush=True,
            )
    by = dict(zip(sizes, rows, strict=True))
    full = by[(counts[-1], a.hours)]
    vessels_growth, span_growth = growth(by[sizes[0]], full), growth(by[sizes[-1]], full)
    print(
        f"CPU time grows {vessels_growth:.2f}x as fast as the data from {counts[0]} to "
        f"{counts[-1]} vessels, {span_growth:.2f}x from {a.hours / 2:g} to {a.hours:g} h "
        "(1.0 = linear)"
    )
    rate = full["positions"] / full["scan_cpu"]
    print(
        f"target >= {TARGET:,} positions/s per core ({full['vessels']:,} vessels, {a.hours:g} h, "
        f"planted cases on, on CPU seconds): {'met' if rate >= TARGET else 'NOT met'} "
        f"({rate:,.0f}; {full['positions'] / full['scan_s']:,.0f} on wall time)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
