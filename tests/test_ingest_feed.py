"""The ingest report says how long the feed was silent in what it decoded (feed outages)."""

from __future__ import annotations

import json
import re

import pandas as pd
from helpers.detect import T0, Leg, positions, sail
from helpers.nmea import nmea_file, timed_line

from mda.cli import main
from mda.sources import read_ais
from mda.store import Store


def two_ships(silent_b: bool = True) -> pd.DataFrame:
    """Two ships at sea heard every minute for 3 h, then 8 h with the first (and unless
    `silent_b`, the second) unheard, then 3 h heard again, by time."""
    legs = lambda silent: [Leg(180, 12), Leg(480, 12, silent=silent), Leg(180, 12)]  # noqa: E731
    p = positions(
        sail(244000001, legs(True), lat=45.0, lon=-20.0),
        sail(244000002, legs(silent_b), lat=45.5, lon=-20.0),
    )
    return p.sort_values("ts", kind="stable").reset_index(drop=True)


def write_nmea(tmp_path, silent_b: bool = True) -> str:
    """two_ships as NMEA, each line starting with its Unix receive time."""
    p = two_ships(silent_b)
    lines = [
        timed_line(t, {"type": 1, "mmsi": m, "lat": la, "lon": lo, "speed": 12.0, "course": 90})
        for m, t, la, lo in zip(p["mmsi"], p["ts"], p["lat"], p["lon"], strict=True)
    ]
    return str(nmea_file(tmp_path / "two.nmea", lines))


def test_ingest_report_lists_the_whole_feed_silence(tmp_path):
    src = write_nmea(tmp_path)
    report = Store(tmp_path / "store").ingest([src], chunk_rows=100)  # tallied over 17 chunks
    feed = report.to_dict()["feed"]
    assert feed["outages"] == 1 and feed["outage_hours"] == 8.0
    # hour bins from the first fix (T0 + 1 min): the silence covers bins 3 to 10 whole
    assert feed["longest_outages"] == [
        {"start": "2026-03-01T03:01:00Z", "end": "2026-03-01T11:01:00Z", "hours": 8.0}
    ]
    table = report.format_table()
    assert re.search(r"feed outages +1, 8\.0 h of the 13\.98 h span not heard", table)
    assert re.search(r"2026-03-01T03:01:00Z +to 2026-03-01T11:01:00Z \(8\.0 h\)", table)


def test_no_outage_when_one_vessel_is_heard_and_cli_json_carries_the_feed(tmp_path, capsys):
    src = write_nmea(tmp_path, silent_b=False)
    assert main(["ingest", "--store", str(tmp_path / "store"), "--json", src]) == 0
    feed = json.loads(capsys.readouterr().out)["feed"]
    assert feed["outages"] == 0 and feed["longest_outages"] == []
    assert feed["typical_vessels"] == 1.0  # median bin: 8 of the 14 hours heard one ship


def test_a_plain_read_tallies_nothing():
    """Only a store's ingest tallies the feed; a read's report says nothing rather than 0."""
    line = timed_line(T0, {"type": 1, "mmsi": 244000001, "lat": 45, "lon": -20})
    report = read_ais([line]).report
    assert report.to_dict()["feed"] is None
    assert "feed outages" not in report.format_table()
