"""Kill tests: `mda ingest` and `mda scan` killed with SIGKILL at random moments, again and again.

After every kill the store opens, every catalogued Parquet part is whole, nothing stored is lost
and no alert is duplicated; the runs that follow complete the work, and the end result equals
an uninterrupted reference run: the same positions, vessels and alerts (ids and all).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mda.cli import main
from mda.store import Store

ROOT = Path(__file__).resolve().parents[1]
#: Kills of each command; the delays are drawn from this seed (printed on failure).
INGEST_KILLS, SCAN_KILLS, SEED = 10, 8, 20240530


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[Path]:
    """A simulated day in the Baltic as eight NMEA files (one ingest commits eight batches)."""
    d = tmp_path_factory.mktemp("kill-inputs")
    assert main(["simulate", "baltic-cables", "--out", str(d / "day.nmea")]) == 0
    lines = (d / "day.nmea").read_text().splitlines(keepends=True)
    files, n = [], len(lines) // 8 + 1
    for i in range(8):
        f = d / f"part{i}.nmea"
        f.write_text("".join(lines[i * n : (i + 1) * n]))
        files.append(f)
    return files


def mda(*args: str) -> list[str]:
    return [sys.executable, "-m", "mda", *[str(a) for a in args]]


def timed(cmd: list[str]) -> float:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return time.monotonic() - t0


def run_killed(cmd: list[str], delay: float) -> bool:
    """Run `cmd`, SIGKILL it after `delay` s; True when it was killed, False when it finished."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True
    assert proc.returncode == 0, proc.stderr.read().decode()
    return False


def state(path: Path) -> dict:
    """What readers see of the store, checked for whole parts and unique alerts on the way."""
    store = Store(path, readonly=True)
    parts = store._db.execute("SELECT file, rows FROM parts").fetchall()
    for file, rows in parts:  # every catalogued part is complete and has the rows it claims
        assert not Path(file).name.startswith("."), file
        assert pq.read_metadata(path / file).num_rows == rows, file
    alerts = store.alerts()
    assert alerts["id"].is_unique
    positions = store.positions()
    out = {
        "positions": positions.sort_values(list(positions.columns)).reset_index(drop=True),
        "vessels": store.vessel_history(),
        "alerts": alerts.drop(columns=["evidence", "thresholds"]).sort_values("id"),
        "pending": store.pending(),
    }
    store.close()
    return out


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


@pytest.mark.slow
def test_sigkill_ingest_and_scan_at_random_moments(inputs, tmp_path):
    rng = random.Random(SEED)
    ref, path = tmp_path / "ref", tmp_path / "killed"
    t_ingest = timed(mda("ingest", *inputs, "--store", ref))
    t_start = timed(mda("info", "--store", ref))  # starting Python and mda, no work
    shutil.copytree(ref, tmp_path / "warm")
    timed(mda("scan", "--store", tmp_path / "warm"))  # builds the zone-index cache
    t_scan = timed(mda("scan", "--store", ref, "--out", tmp_path / "ref.geojson"))
    want = state(ref)
    total = len(want["positions"])
    assert len(want["alerts"]) > 10 and total > 20_000

    kills = {"ingest": 0, "scan": 0}
    stored, tries = 0, 0
    while kills["ingest"] < INGEST_KILLS and tries < 3 * INGEST_KILLS:
        tries += 1
        # what is stored is not redone: draw the kill time from the time the rest takes
        left = t_start + (t_ingest - t_start) * (1 - stored / total)
        if not run_killed(mda("ingest", *inputs, "--store", path), rng.uniform(0.3, left)):
            # it finished before the kill: whole, then start again on a new store
            same(state(path)["positions"], want["positions"])
            shutil.rmtree(path)
            stored = 0
            continue
        kills["ingest"] += 1
        if not (path / "mda.sqlite").exists():
            continue  # killed before the store existed
        now = state(path)
        n = len(now["positions"])
        assert stored <= n <= total, (SEED, kills)  # nothing lost, nothing extra
        assert now["alerts"].empty
        stored = n
    assert main(["ingest", *map(str, inputs), "--store", str(path)]) == 0  # completes the work
    got = state(path)
    same(got["positions"], want["positions"])
    same(got["vessels"], want["vessels"])

    ingested = tmp_path / "ingested"
    shutil.copytree(path, ingested)
    out = tmp_path / "alerts.geojson"
    finished, tries = False, 0
    while kills["scan"] < SCAN_KILLS and tries < 3 * SCAN_KILLS:
        tries += 1
        cmd = mda("scan", "--store", path, "--out", out)
        finished = not run_killed(cmd, rng.uniform(0.3, t_scan))
        if finished:  # whole: then scan again from the store as ingested, to kill again
            same(state(path)["alerts"], want["alerts"])
            shutil.rmtree(path)
            shutil.copytree(ingested, path)
            continue
        kills["scan"] += 1
        now = state(path)
        # a scan commits all its alerts and its watermark at once, or nothing
        assert now["alerts"].empty or now["pending"] is None, (SEED, kills)
        if out.exists():  # an output file is whole or absent, never truncated
            assert len(json.loads(out.read_text())["features"]) in (0, len(want["alerts"]))
    assert main(["scan", "--store", str(path), "--out", str(out)]) == 0  # completes the work
    got = state(path)
    assert got["pending"] is None
    same(got["alerts"], want["alerts"])
    # a scan killed after its commit but before its --out file leaves nothing pending, so the
    # next scan's file holds only new alerts: every alert raised is exported from the store
    export = tmp_path / "all.geojson"
    assert main(["alerts", "--store", str(path), "--out", str(export)]) == 0
    assert len(json.loads(export.read_text())["features"]) == len(want["alerts"])
    assert not list(path.rglob(".mda-*"))  # no temporary file survives the next runs
    assert sum(kills.values()) >= 10, kills  # the kills did land mid-run
    print(f"kills {kills}; uninterrupted ingest {t_ingest:.1f} s, scan {t_scan:.1f} s")
