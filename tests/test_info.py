"""`mda info` reports what a store really holds (counts come back as numbers, not blobs)."""

from __future__ import annotations

import json
import subprocess
import sys

from mda.simulate import simulate
from mda.store import Store


def test_info_counts_match_the_stored_positions(tmp_path):
    sim = simulate("baltic-cables", seed=5)
    traffic = sim.write(tmp_path / "t.nmea")
    store = Store(tmp_path / "store")
    report = store.ingest([traffic])
    stored = len(store.positions())
    assert report.stored == stored > 0
    info = store.info()
    assert info["positions"] == stored
    assert sum(info["messages_by_type"].values()) == stored
    assert info["days"] >= 1
    r = subprocess.run(
        [sys.executable, "-m", "mda", "info", "--store", str(tmp_path / "store"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0
    assert json.loads(r.stdout)["positions"] == stored
