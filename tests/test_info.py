"""`mda info` reports what a store really holds (counts come back as numbers, not blobs), and
the feed's health: outages and holes, facts about the feed that never become vessel alerts."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
from conftest import shared_file
from helpers.detect import T0, Leg, positions, sail

from mda.config import FeedConfig
from mda.feed import feed_outages
from mda.feed_tally import FeedTally
from mda.scan import run_scan
from mda.simulate import simulate
from mda.sources.base import AisData
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
    assert sum(info["positions_by_type"].values()) == stored
    assert info["days"] >= 1
    r = subprocess.run(
        [sys.executable, "-m", "mda", "info", "--store", str(tmp_path / "store"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0
    assert json.loads(r.stdout)["positions"] == stored


# -- feed health: outages and holes are facts about the feed, never vessel alerts ---------------

AT_SEA = {"lat": 45.0, "lon": -20.0}  # the open Atlantic: no port, no coast for 500 km


def _two_vessels(silent_a: bool, silent_b: bool, start=None) -> pd.DataFrame:
    """Two ships 30 nm apart at sea, 3 h heard, 8 h silent (or heard), 3 h heard."""
    start = T0 if start is None else pd.Timestamp(start)
    tracks = [
        sail(mmsi, [Leg(180, 12), Leg(480, 12, silent=silent), Leg(180, 12)], start=start, **at)
        for mmsi, silent, at in (
            (244000001, silent_a, AT_SEA),
            (244000002, silent_b, {**AT_SEA, "lat": AT_SEA["lat"] + 0.5}),
        )
    ]
    return positions(*tracks)


def _store(tmp_path, *parts: pd.DataFrame) -> Store:
    store = Store(tmp_path / "store")
    for i, p in enumerate(parts):
        store.add(AisData(positions=p), source=f"part{i}")
    return store


def test_whole_feed_silence_is_an_outage_in_info_and_no_gap_alert(tmp_path):
    store = _store(tmp_path, _two_vessels(True, True))
    feed = store.info()["feed"]
    # bins of an hour from the first fix (T0 + 1 min); the last fix before the silence is at
    # T0 + 3 h, the first after it at T0 + 11 h 01: bins 3 to 10 heard nobody
    assert feed["outages"] == 1 and feed["outage_hours"] == 8.0
    assert feed["longest_outages"] == [
        {"start": "2026-03-01T03:01:00Z", "end": "2026-03-01T11:01:00Z", "hours": 8.0}
    ]
    assert feed["typical_vessels"] == 2.0 and feed["bin_minutes"] == 60.0
    assert feed["holes"] == 0 and feed["longest_holes"] == []
    store.close()
    alerts = run_scan(store=tmp_path / "store").alerts
    assert "ais_gap" not in set(alerts["type"])


def test_one_vessel_silent_is_no_outage_and_its_gap_is_raised(tmp_path):
    """The control: the same silence of one vessel while the other is heard is vessel behaviour."""
    store = _store(tmp_path, _two_vessels(True, False))
    assert store.info()["feed"]["outages"] == 0
    store.close()
    alerts = run_scan(store=tmp_path / "store").alerts
    assert alerts.loc[alerts["type"] == "ais_gap", "mmsi"].tolist() == [244000001]


def test_data_sets_years_apart_are_a_hole_and_an_outage(tmp_path):
    later = T0 + pd.Timedelta(days=3 * 365)
    store = _store(tmp_path, _two_vessels(False, False), _two_vessels(False, False, later))
    feed = store.info()["feed"]
    assert feed["holes"] == 1
    first_missing = (T0 + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    last_missing = (later - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    assert feed["longest_holes"] == [
        {"from": first_missing, "to": last_missing, "days": 3 * 365 - 1}
    ]
    assert feed["hole_days"] == 3 * 365 - 1
    (gap,) = feed["longest_outages"]
    assert gap["start"] == "2026-03-01T14:01:00Z"  # the hour after the last fix of the first set
    assert pd.Timestamp(gap["end"]) <= later + pd.Timedelta(hours=1)
    assert gap["hours"] > 3 * 365 * 24 - 24


def test_info_command_prints_the_feed_and_takes_a_config(tmp_path, capsys):
    from mda.cli import main

    _store(tmp_path, _two_vessels(True, True)).close()
    cfg = tmp_path / "feed.toml"
    cfg.write_text("[feed]\ncoverage_bin_minutes = 30\n")
    store = str(tmp_path / "store")
    assert main(["info", "--store", store]) == 0
    text = capsys.readouterr().out
    assert "feed:" in text and "outages              1" in text
    assert "start 2026-03-01T03:01:00Z  end 2026-03-01T11:01:00Z  hours 8.0" in text
    assert main(["info", "--store", store, "--json", "--config", str(cfg)]) == 0
    feed = json.loads(capsys.readouterr().out)["feed"]
    assert feed["bin_minutes"] == 30.0 and feed["outage_hours"] == 8.0
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [
        "lock",
        "mda.sqlite",
        "positions",
    ]  # read-only: no -wal/-shm left behind by info


def test_tally_in_pieces_finds_what_feed_outages_finds_at_once():
    """The store reads ts and mmsi batch by batch; the outages are those of all fixes at once."""
    p = _two_vessels(True, True)
    cfg = FeedConfig(coverage_bin_minutes=25)
    tally = FeedTally(cfg, base=p["ts"].min().value / 1e9)
    for piece in np.array_split(np.random.default_rng(1).permutation(len(p)), 5):
        tally.add(p["ts"].iloc[piece], p["mmsi"].to_numpy()[piece])
    whole = feed_outages(p, cfg)
    got = tally.summary()
    assert got["outages"] == len(whole) == 1
    assert got["longest_outages"][0]["start"] == whole["start"].iloc[0].strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert got["outage_hours"] == round(float(whole["hours"].sum()), 2)


def test_simulated_whole_feed_outage_is_found_within_a_bin(tmp_path):
    """The noisy simulator plants a 1 h whole-feed outage; 10-minute bins find it to the bin."""
    sim = simulate("korea-strait-noisy", seed=1)
    (planted,) = [o for o in sim.outages if o["station"] is None]
    store = Store(tmp_path / "store")
    store.ingest([sim.write(tmp_path / "noisy.nmea")])
    feed = store.info(FeedConfig(coverage_bin_minutes=10))["feed"]
    (found,) = feed["longest_outages"]
    t0, t1 = pd.Timestamp(planted["start"]), pd.Timestamp(planted["end"])
    bin_ = pd.Timedelta(minutes=10)
    assert t0 <= pd.Timestamp(found["start"]) <= t0 + bin_
    assert t1 - bin_ <= pd.Timestamp(found["end"]) <= t1
    assert feed["outages"] == 1  # receiver outages (one station of several) are not the feed's


# -- issue 12: what `mda info` counts, labelled by unit -----------------------------------------


def test_info_counts_vessels_with_positions_and_lists_every_type(tmp_path):
    """It said "vessels 485" (the MMSIs with static data) for a store of 1,390 MMSIs with
    positions, listed only position types, and sorted them as text."""
    src = shared_file("nmea/dma_aislib_stream_example.txt")
    store = Store(tmp_path / "store")
    store.ingest([src])
    info = store.info()
    assert info["vessels"] == store.positions()["mmsi"].nunique() == 1390
    assert info["vessels_with_static_data"] == len(store.vessels()) == 485
    assert sum(info["positions_by_type"].values()) == info["positions"]
    decoded = info["messages_decoded_by_type"]
    assert {"5", "24", "4"} <= set(decoded) and decoded["5"] == 424  # statics and base stations
    keys = [int(k) for k in decoded]
    assert keys == sorted(keys) and keys[-3:] == [21, 23, 24]
    r = subprocess.run(
        [sys.executable, "-m", "mda", "info", "--store", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    rows = dict(line.split() for line in r.stdout.splitlines() if len(line.split()) == 2)
    assert rows["vessels"] == "1,390" and rows["vessels_with_static_data"] == "485"
