"""Benchmark: ingest and scan of the `scale` scenario on the local engine and on Dask.

    .venv/bin/python scripts/bench_scale.py [--vessels 5000] [--hours 48] [--dir DIR]

Generates the scale scenario (data/scenarios/scale.toml) with one set of its planted cases per
1,000 vessels, each set later in time (by default 5,000 vessels over 48 h: over 10,000,000
positions), writes it as one NMEA file, then ingests it into a store and scans the store with:
the local engine; Dask LocalClusters of 1 and 2 single-threaded workers. Each run (and the
generation) is a fresh process, so its peak memory is its own. Printed per run: wall seconds,
CPU seconds (the driver's and the workers'), the driver's peak RSS and each worker's; then the
2-worker speed-up over 1 worker and over the local engine, and whether every engine stored the
same alerts (ids, types, times, evidence, status). The machine may be shared: CPU seconds tell
a slow run from a busy machine, and ratios are taken within the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = (("local", 0), ("dask", 1), ("dask", 2))
#: Hours after the scenario start by which every planted case of scale.toml is over.
CASES_HOURS = 12


def scenario(vessels: int, hours: float, out: Path) -> Path:
    """scale.toml with one set of its cases per 1,000 vessels, set k shifted k*step hours."""
    data = tomllib.loads((ROOT / "data" / "scenarios" / "scale.toml").read_text())
    if hours < CASES_HOURS:
        sys.exit(f"bench_scale: --hours must be at least {CASES_HOURS} (the planted cases)")
    sets = max(1, vessels // 1000)
    step = (hours - CASES_HOURS) / max(sets - 1, 1)
    cases = []
    for k in range(sets):
        for case in data["case"]:
            c = json.loads(json.dumps(case))
            for key in ("start_hour", "event_hour"):
                if key in c:
                    c[key] += k * step
            for who in ("vessel", "other_vessel"):
                if who in c and k:
                    c[who]["name"] += f" {k + 1}"
            cases.append(c)
    data["case"] = cases
    path = out / "scale-bench.toml"
    path.write_text(_toml(data))
    return path


def _toml(data: dict) -> str:
    """A scenario as TOML: its tables, then its arrays of tables (values inline)."""

    def value(v) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)  # strings, numbers and booleans are written alike

    def table(header: str, t: dict) -> str:
        return "\n".join([header, *(f"{k} = {value(v)}" for k, v in t.items())]) + "\n"

    out = [table(f"[{k}]", t) for k, t in data.items() if isinstance(t, dict)]
    for k, rows in data.items():
        if isinstance(rows, list):
            out += [table(f"[[{k}]]", t) for t in rows]
    return "\n".join(out)


def generate(vessels: int, hours: float, out: Path) -> tuple[Path, int, int]:
    """The NMEA file, its positions transmitted and planted events."""
    from mda.simulate import simulate

    sim = simulate(scenario(vessels, hours, out), vessels=vessels, hours=hours)
    path = out / "scale.nmea"
    sim.write(path)
    return path, len(sim.positions), len(sim.truth)


def measure(step: str, engine: str, workers: int, store: Path, nmea: Path) -> dict:
    """One run in this process (a fresh one, see main): times, memory, what it stored."""
    from mda.engine import open_engine
    from mda.scan import run_scan
    from mda.store import Store

    kw = {"workers": workers} if engine == "dask" else {}
    with open_engine(engine, **kw) as eng:
        client = getattr(eng, "client", None)
        before = _worker_cpu(client)
        t0, c0 = time.perf_counter(), time.process_time()
        if step == "ingest":
            report = eng.ingest(store, [nmea])
            count = {"positions": report.positions, "stored": report.stored}
        else:
            result = run_scan(store=store, engine=eng)
            count = {"positions": result.positions, "alerts": len(result.alerts)}
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        after = _worker_cpu(client)
        workers_mem = _worker_peak_mb(client)
    alerts = ""
    if step == "scan":
        with contextlib.closing(Store(store, readonly=True)) as st:
            stored = st.alerts().sort_values("id")
            alerts = stored[["id", "type", "start", "end", "status"]].to_json(date_format="iso")
            alerts += stored["evidence"].to_json()
            count["by_type"] = stored["type"].value_counts().to_dict()
    return {
        "wall_s": wall,
        "cpu_s": cpu + sum(after.values()) - sum(before.values()),
        "driver_peak_mb": peak_mb(),
        "worker_peak_mb": sorted(workers_mem.values()),
        "alerts_key": alerts,
        **count,
    }


def _worker_cpu(client) -> dict:
    if client is None:
        return {}
    return client.run(lambda: time.process_time())


def _worker_peak_mb(client) -> dict:
    if client is None:
        return {}
    return client.run(peak_mb)


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: getrusage's maxrss would carry over the
    peak of the process that started it, across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(step: str, engine: str, workers: int, store: Path, nmea: Path) -> dict:
    """measure() in a fresh process."""
    return _fresh("--measure", step, engine, str(workers), str(store), str(nmea))


def _fresh(*args: str):
    """This script run with `args` in a fresh process: what it printed last, as JSON."""
    cmd = [sys.executable, __file__, *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vessels", type=int, default=5000)
    p.add_argument("--hours", type=float, default=48)
    p.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    p.add_argument("--measure", nargs=5, help=argparse.SUPPRESS)
    p.add_argument("--generate", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.measure:
        step, engine, workers, store, nmea = a.measure
        print(json.dumps(measure(step, engine, int(workers), Path(store), Path(nmea))))
        return
    if a.generate:
        vessels, hours, out = a.generate
        path, positions, planted = generate(int(vessels), float(hours), Path(out))
        print(json.dumps([str(path), positions, planted]))
        return
    with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
        out = Path(tmp)
        t0, c0 = time.perf_counter(), time.process_time()
        nmea, positions, planted = _fresh("--generate", str(a.vessels), str(a.hours), str(out))
        nmea = Path(nmea)
        print(
            f"scale: {a.vessels:,} vessels x {a.hours:g} h: {positions:,} positions transmitted, "
            f"{nmea.stat().st_size / 1e9:.2f} GB NMEA, {planted} planted events "
            f"(generated in {time.perf_counter() - t0:.0f} s wall, "
            f"{time.process_time() - c0:.0f} s CPU)",
            flush=True,
        )
        results: dict[tuple[str, str, int], dict] = {}
        for step in ("ingest", "scan"):
            for engine, workers in RUNS:
                store = out / f"store-{engine}-{workers}"
                r = results[step, engine, workers] = run(step, engine, workers, store, nmea)
                print(_line(step, engine, workers, r), flush=True)
            _summary(step, results)


def _line(step: str, engine: str, workers: int, r: dict) -> str:
    name = "local" if engine == "local" else f"dask {workers}w"
    mem = f"driver peak {r['driver_peak_mb']:,.0f} MB"
    if r["worker_peak_mb"]:
        mem += ", workers " + " / ".join(f"{m:,.0f}" for m in r["worker_peak_mb"]) + " MB"
    rate = r["positions"] / r["wall_s"] if r["wall_s"] else 0
    return (
        f"{step:6} {name:9} {r['wall_s']:8.1f} s wall {r['cpu_s']:8.1f} s CPU "
        f"{rate:>10,.0f} pos/s  {mem}"
        + (f"  alerts {r['alerts']:,} {r['by_type']}" if step == "scan" else "")
    )


def _summary(step: str, results: dict) -> None:
    local, one, two = (results[step, e, w] for e, w in RUNS)
    print(
        f"{step:6} 2-worker speed-up: {one['wall_s'] / two['wall_s']:.2f}x over 1 worker, "
        f"{local['wall_s'] / two['wall_s']:.2f}x over the local engine "
        f"(target >= 1.7x); local peak {local['driver_peak_mb'] / 1024:.2f} GB, "
        f"{local['driver_peak_mb'] / max(local['positions'], 1) * 1e6:,.0f} MB per million "
        "positions",
        flush=True,
    )
    if step == "scan":
        same = local["alerts_key"] == one["alerts_key"] == two["alerts_key"]
        print(f"alerts identical on the three engines: {same}", flush=True)


if __name__ == "__main__":
    main()
