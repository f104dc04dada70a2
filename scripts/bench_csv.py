"""Benchmark the DMA CSV reader and store ingest against baselines timed in the same run.

Writes a synthetic DMA day file (the real layout, 26 columns, ~160 bytes a row, ~3,000 vessels
reporting in time order), then times, with wall and CPU seconds (all threads) side by side:

* ``mda.sources.csv.iter_csv`` (parse, decode, validate, reduce statics) -> rows/s, with Arrow's
  thread pool at its default (``pa.cpu_count()``) and at one thread (``pa.set_cpu_count(1)``):
  Arrow parses blocks side by side, so on several cores CPU seconds exceed wall seconds;
* baseline: ``pandas.read_csv`` (C engine, one thread) of the same columns plus
  ``pd.to_datetime`` of the day-first timestamps, i.e. what a straightforward reader does
  before any validation;
* ``Store.ingest`` of the same file into a fresh store (dedupe, Parquet parts, catalog), in a
  child process so that its peak memory (max RSS) is its own, at both thread counts;
* the real MarineCadastre sample (99,999 rows, gzip) when ../shared/data is present.

Targets (issue 13, on one core): reading >= 3,000,000 rows/s and storing >= 1,500,000 rows/s,
judged on the one-thread runs' CPU seconds (wall seconds too when the machine is idle).

Run: ``.venv/bin/python scripts/bench_csv.py`` (2,000,000 rows) or ``--quick`` (300,000 rows).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mda.sources.base import IngestReport
from mda.sources.csv import DMA_COLUMNS, iter_csv

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
NOAA_GZ = SHARED / "positions" / "marinecadastre_AIS_2022_01_03_first99999rows.csv.gz"
USED = ["# Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude", "Navigational status"]
USED += ["SOG", "COG", "Heading", "IMO", "Callsign", "Name", "Ship type", "Width", "Length"]
USED += ["Draught", "Destination"]


def synthesise(path: Path, n: int, vessels: int = 3000, seed: int = 0) -> None:
    """A DMA-layout CSV of `n` time-ordered rows from `vessels` ships (Arrow writes it fast)."""
    rng = np.random.default_rng(seed)
    v = rng.integers(0, vessels, n)
    t = np.datetime64("2024-03-01T00:00:00") + np.sort(rng.integers(0, 86_400, n)).astype("m8[s]")
    nav = np.array(["Under way using engine", "At anchor", "Moored", "Engaged in fishing"])
    kind = np.array(["Cargo", "Tanker", "Passenger", "Fishing", "Undefined"])
    cols = {
        "ts": pc.strftime(pa.array(t), format="%d/%m/%Y %H:%M:%S"),
        "mobile": np.where(v % 10 == 0, "Class B", "Class A"),
        "mmsi": 219_000_000 + v,
        "lat": np.round(54 + 3 * rng.random(n), 6),
        "lon": np.round(8 + 7 * rng.random(n), 6),
        "nav": nav[v % 4],
        "rot": np.full(n, 0.0),
        "sog": np.round(15 * rng.random(n), 1),
        "cog": np.round(360 * rng.random(n), 1),
        "heading": np.where(v % 7 == 0, 511, rng.integers(0, 360, n)),
        "imo": 9_000_000 + v,
        "callsign": np.char.add("OX", (v % 997).astype(str)),
        "name": np.char.add("VESSEL ", v.astype(str)),
        "ship_type": kind[v % 5],
        "cargo": np.full(n, ""),
        "width": 10 + v % 30,
        "length": 50 + v % 250,
        "fix": np.full(n, "GPS"),
        "draught": np.round(2 + (v % 100) / 10, 1),
        "destination": np.char.add("PORT ", (v % 50).astype(str)),
        "eta": np.full(n, ""),
        "src": np.full(n, "AIS"),
    }
    for k in "abcd":
        cols[k] = np.full(n, 5)
    table = pa.table(list(cols.values()), names=DMA_COLUMNS.split(","))
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="none"))


READ_TARGET, STORE_TARGET = 3_000_000, 1_500_000  # rows/s on one core


def time_reader(path: Path, layout: str, threads: int) -> tuple[float, float, IngestReport]:
    """Wall and CPU seconds (all threads) of reading `path` with iter_csv with Arrow's thread
    pool at `threads`, and its report."""
    before = pa.cpu_count()
    pa.set_cpu_count(threads)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        report = IngestReport()
        for chunk in iter_csv(path, layout, source_name=path.name):
            report.merge(chunk.report)
        return time.perf_counter() - t0, time.process_time() - c0, report
    finally:
        pa.set_cpu_count(before)


def time_pandas(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of pandas.read_csv plus day-first timestamp parsing."""
    t0, c0 = time.perf_counter(), time.process_time()
    df = pd.read_csv(path, usecols=USED, low_memory=False)
    pd.to_datetime(df["# Timestamp"], format="%d/%m/%Y %H:%M:%S", utc=True)
    return time.perf_counter() - t0, time.process_time() - c0


def time_ingest(path: Path, store: Path, threads: int) -> tuple[float, float, int, float]:
    """Wall and CPU seconds, rows stored and peak RSS (MB) of Store.ingest in a child process
    with Arrow's thread pool at `threads`.

    The child reads its own high-water mark (VmHWM): getrusage would also count the pages it
    shared with this (large) parent before exec.
    """
    code = (
        "import re, sys, time; import pyarrow as pa; from mda.store import Store; "
        "pa.set_cpu_count(int(sys.argv[3])); t = time.perf_counter(); "
        "c = time.process_time(); r = Store(sys.argv[1]).ingest([sys.argv[2]]); "
        "dt, dc = time.perf_counter() - t, time.process_time() - c; "
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
        "print(dt, dc, r.stored, int(hwm) / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(store), str(path), str(threads)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2]), float(out[3])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--quick", action="store_true", help="300,000 rows")
    args = ap.parse_args()
    n = 300_000 if args.quick else args.rows
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aisdk-synthetic.csv"
        synthesise(path, n)
        mb = path.stat().st_size / 1e6
        print(f"synthetic DMA CSV: {n:,} rows, {mb:,.0f} MB")
        t_pd, c_pd = time_pandas(path)
        print(
            f"pandas.read_csv            {t_pd:7.2f} s wall {c_pd:6.2f} s cpu  "
            f"{n / t_pd:>11,.0f} rows/s wall {n / c_pd:>11,.0f} cpu  "
            "(baseline: parse and dates only, no checks)"
        )
        read_cpu = store_cpu = 0.0
        for threads in sorted({pa.cpu_count(), 1}, reverse=True):
            t_mda, c_mda, rep = time_reader(path, "dma", threads)
            assert rep.positions == n, rep.to_dict()
            print(
                f"iter_csv     {threads} thread(s)  {t_mda:7.2f} s wall {c_mda:6.2f} s cpu  "
                f"{n / t_mda:>11,.0f} rows/s wall {n / c_mda:>11,.0f} cpu  "
                f"pandas/iter_csv {t_pd / t_mda:.2f}x wall {c_pd / c_mda:.2f}x cpu  "
                f"({rep.static_reports:,} static rows kept of {n:,})"
            )
            t_ing, c_ing, stored, rss = time_ingest(path, Path(tmp) / f"store{threads}", threads)
            print(
                f"Store.ingest {threads} thread(s)  {t_ing:7.2f} s wall {c_ing:6.2f} s cpu  "
                f"{n / t_ing:>11,.0f} rows/s wall {n / c_ing:>11,.0f} cpu  "
                f"stored {stored:,}, peak RSS {rss:,.0f} MB for a {mb:,.0f} MB file  "
                f"(ingest / read: {t_ing / t_mda:.2f}x wall {c_ing / c_mda:.2f}x cpu)"
            )
            read_cpu, store_cpu = n / c_mda, n / c_ing  # the last run is the one-thread run
        for what, rate, target in (
            ("read", read_cpu, READ_TARGET),
            ("into the store", store_cpu, STORE_TARGET),
        ):
            verdict = "met" if rate >= target else "NOT met"
            print(f"target {what} >= {target:,} rows/s on one core (cpu): {verdict} ({rate:,.0f})")
    if NOAA_GZ.exists():
        t_gz, _, rep = time_reader(NOAA_GZ, "noaa", pa.cpu_count())
        rows = rep.lines - 1
        print(
            f"real MarineCadastre sample (gzip): {rows:,} rows, {t_gz:.2f} s, {rows / t_gz:,.0f}/s"
        )


if __name__ == "__main__":
    main()
