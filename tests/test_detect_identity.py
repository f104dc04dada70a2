"""identity_conflict: two transmitters, invalid MMSIs, static-data changes, MMSI swaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.detect import M_PER_DEG, T0, Leg, context, positions, sail

from mda import schema
from mda.config import Config
from mda.detect import identity

A, B, C = 211000001, 211000002, 211000003


def _kinds(alerts: pd.DataFrame) -> list[str]:
    return [e["kind"] for e in alerts["evidence"]]


def _interleave(*tracks: pd.DataFrame, mmsi: int) -> pd.DataFrame:
    """Several tracks reported under one MMSI, ordered by time."""
    df = pd.concat(tracks, ignore_index=True).assign(mmsi=mmsi)
    return schema.conform(df.sort_values("ts", ignore_index=True), schema.POSITIONS, extra=False)


def test_two_transmitters_alternating():
    one = sail(A, [Leg(120, 10, course=90)], lat=55.0, lon=15.0, every_s=180)
    two = sail(
        A,
        [Leg(120, 10, course=0)],
        lat=56.0,
        lon=17.0,
        start=T0 + pd.Timedelta(seconds=90),
        every_s=180,
    )
    alerts = identity.detect(context(_interleave(one, two, mmsi=A)), Config())
    assert _kinds(alerts) == ["two_transmitters"]
    a = alerts.iloc[0]
    assert (a["mmsi"], a["severity"], a["type"]) == (A, "high", "identity_conflict")
    ev = a["evidence"]
    assert ev["conflicts"] >= 30
    assert ev["max_distance_km"] > 100 and ev["max_implied_kn"] > 1000


def test_one_spoofed_excursion_is_not_two_transmitters():
    # away 60 km for 20 minutes and back: a position jump, not a second transmitter
    home = sail(A, [Leg(120, 10)], lat=55.0, lon=15.0, every_s=120)
    spoof = home.iloc[30:40].copy()
    spoof["lat"] += 60_000 / M_PER_DEG
    track = pd.concat([home.drop(home.index[30:40]), spoof]).sort_values("ts", ignore_index=True)
    assert "two_transmitters" not in _kinds(identity.detect(context(track), Config()))


def test_two_transmitters_needs_min_conflicts():
    one = sail(A, [Leg(30, 10)], lat=55.0, lon=15.0, every_s=600)
    two = sail(
        A, [Leg(30, 10)], lat=56.0, lon=15.0, start=T0 + pd.Timedelta(seconds=300), every_s=600
    )
    track = _interleave(one, two, mmsi=A)  # 6 fixes, 5 jumps, 4 of them back
    cfg = Config()
    assert _kinds(identity.detect(context(track), cfg)) == ["two_transmitters"]
    cfg.identity_conflict.min_conflicts = 5
    assert identity.detect(context(track), cfg).empty


@pytest.mark.parametrize(
    ("mmsi", "ok"),
    [
        (211234567, True),  # Germany
        (440123456, True),  # Korea
        (970123456, True),  # AIS-SART
        (982111234, True),  # craft of a German parent ship
        (123456789, False),  # the classic test number
        (111111111, False),
        (999999999, False),
        (12345, False),  # not 9 digits
        (217123456, False),  # MID 217 is not allocated
        (800123456, False),  # first digit 8: handheld, not a ship station
        (0, False),
    ],
)
def test_valid_mmsi(mmsi, ok):
    assert identity.valid_mmsi(np.array([mmsi]))[0] == ok


def test_invalid_mmsis_raise_one_alert_each():
    pts = positions(
        sail(123456789, [Leg(60, 8)], lat=55.0, lon=15.0),
        sail(217123456, [Leg(60, 8)], lat=55.2, lon=15.0),
        sail(A, [Leg(60, 8)], lat=55.4, lon=15.0),
    )
    alerts = identity.detect(context(pts), Config())
    assert sorted(alerts["mmsi"].tolist()) == [123456789, 217123456]
    assert set(_kinds(alerts)) == {"invalid_mmsi"}
    assert set(alerts["severity"]) == {"low"}  # a data-quality finding
    ev = alerts.set_index("mmsi").loc[217123456, "evidence"]
    assert (ev["mid"], ev["fixes"]) == (217, 60)
    cfg = Config()
    cfg.identity_conflict.check_mid = False
    assert identity.detect(context(pts), cfg).empty


def _history(rows: list[tuple[int, str, str | None, str | None]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["mmsi", "ts", "name", "callsign"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return schema.conform(df, schema.VESSELS, extra=False)


def test_name_change_in_the_window():
    ctx = context(sail(A, [Leg(240, 8)], lat=55.0, lon=15.0))
    ctx.vessel_history = _history(
        [
            (A, "2026-02-27T00:00Z", "OLD NAME", "ABCD"),
            (A, "2026-03-01T01:00Z", "NEW  name@@", None),  # callsign not in this report
            (A, "2026-03-01T02:00Z", "NEW NAME", "ABCD"),
        ]
    )
    alerts = identity.detect(ctx, Config())
    assert _kinds(alerts) == ["static_change"]
    ev = alerts["evidence"][0]
    assert ev["fields"] == ["name"] and ev["changes"] == 1
    assert ev["detail"][0]["from"] == "OLD NAME" and ev["detail"][0]["to"] == "NEW NAME"
    assert alerts["start"][0] == pd.Timestamp("2026-03-01T01:00Z")
    assert alerts["severity"][0] == "medium"


def test_same_name_with_other_padding_is_no_change():
    ctx = context(sail(A, [Leg(240, 8)], lat=55.0, lon=15.0))
    ctx.vessel_history = _history(
        [
            (A, "2026-03-01T00:10Z", "ever given", "H3RC"),
            (A, "2026-03-01T01:00Z", "EVER GIVEN@@", "H3RC "),
        ]
    )
    assert identity.detect(ctx, Config()).empty


def test_change_outside_the_window_is_not_reported():
    ctx = context(sail(A, [Leg(240, 8)], lat=55.0, lon=15.0))
    ctx.vessel_history = _history(
        [(A, "2026-02-01T00:00Z", "OLD", None), (A, "2026-02-02T00:00Z", "NEW", None)]
    )
    assert identity.detect(ctx, Config()).empty


def test_mmsi_swap_at_sea():
    before = sail(A, [Leg(120, 10)], lat=55.0, lon=15.0)
    end = before.iloc[-1]
    # sail() reports first one interval (60 s) after its start: B is heard 20 s after A's last
    after = sail(
        B,
        [Leg(120, 10)],
        lat=end["lat"],
        lon=end["lon"],
        start=end["ts"] - pd.Timedelta(seconds=40),
    )
    other = sail(C, [Leg(300, 10)], lat=54.0, lon=15.0)  # keeps the window open around them
    alerts = identity.detect(context(positions(before, after, other)), Config())
    assert _kinds(alerts) == ["mmsi_swap"]
    a = alerts.iloc[0]
    assert (a["mmsi"], a["other_mmsi"], a["severity"]) == (A, B, "high")
    assert a["evidence"]["seconds"] == pytest.approx(20, abs=1)
    assert a["evidence"]["distance_m"] < 500


@pytest.mark.parametrize("gap_s", [30, 90])
def test_mmsi_swap_under_way_after_30_or_90_seconds(gap_s):
    # one ship at 12 kn; the second transponder is first heard where the ship has sailed on to
    ship = sail(A, [Leg(240, 12)], lat=55.0, lon=15.0, every_s=10)
    cut = T0 + pd.Timedelta(hours=2)
    before = ship[ship["ts"] <= cut]
    after = ship[ship["ts"] >= cut + pd.Timedelta(seconds=gap_s)].assign(mmsi=B)
    other = sail(C, [Leg(300, 10)], lat=54.0, lon=15.0)
    alerts = identity.detect(context(positions(before, after, other)), Config())
    assert alerts[["mmsi", "other_mmsi"]].values.tolist() == [[A, B]]
    assert alerts["evidence"].iloc[0]["seconds"] == pytest.approx(gap_s, abs=1)
    assert alerts["evidence"].iloc[0]["distance_m"] < 50  # from the dead-reckoned position


def test_a_switch_as_the_data_end_is_not_a_swap():
    """A one-minute extract: A's last fix and B's first are seconds apart, but the feed stops
    right after (another data set follows a year later), so nobody heard A stay silent."""
    ship = sail(A, [Leg(240, 12)], lat=55.0, lon=15.0, every_s=10)
    cut = T0 + pd.Timedelta(hours=2)
    before = ship[ship["ts"] <= cut]
    after = ship[(ship["ts"] >= cut + pd.Timedelta(seconds=30))].assign(mmsi=B)
    after = after[after["ts"] <= cut + pd.Timedelta(minutes=1)]
    other = sail(C, [Leg(121, 10)], lat=54.0, lon=15.0)
    later = sail(C, [Leg(300, 10)], lat=54.0, lon=15.0, start=T0 + pd.Timedelta(days=365))
    feed = positions(before, after, other, later)
    assert identity.detect(context(feed), Config()).empty


def test_two_vessels_moored_side_by_side_are_not_a_swap():
    # B moors next to A; later A switches its AIS off while B goes on transmitting
    a = sail(A, [Leg(180, 0)], lat=55.0, lon=15.0)
    b = sail(
        B, [Leg(300, 0)], lat=55.0 + 30 / M_PER_DEG, lon=15.0, start=T0 + pd.Timedelta(hours=1)
    )
    other = sail(C, [Leg(400, 10)], lat=54.0, lon=15.0)
    assert identity.detect(context(positions(a, b, other)), Config()).empty


def test_a_vessel_leaving_as_another_arrives_elsewhere_is_not_a_swap():
    before = sail(A, [Leg(120, 10)], lat=55.0, lon=15.0)
    end = before.iloc[-1]
    after = sail(
        B,
        [Leg(120, 10)],
        lat=end["lat"] + 0.05,
        lon=end["lon"],
        start=end["ts"] - pd.Timedelta(seconds=40),
    )
    other = sail(C, [Leg(300, 10)], lat=54.0, lon=15.0)
    assert identity.detect(context(positions(before, after, other)), Config()).empty


def test_ships_passing_at_a_coverage_edge_are_not_a_swap():
    # A sails east out of coverage; B, sailing west, is first heard where A was last heard
    east = sail(A, [Leg(120, 10, course=90)], lat=55.0, lon=15.0)
    end = east.iloc[-1]
    west = sail(
        B,
        [Leg(120, 10, course=270)],
        lat=end["lat"],
        lon=end["lon"],
        start=end["ts"] - pd.Timedelta(seconds=40),
    )
    other = sail(C, [Leg(300, 10)], lat=54.0, lon=15.0)
    assert identity.detect(context(positions(east, west, other)), Config()).empty
