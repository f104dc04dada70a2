"""loitering and anchoring: staying put at sea, never in ports or designated anchorages."""

from __future__ import annotations

import pandas as pd
from helpers.detect import T0, Leg, box, context, positions, sail, zones

from mda import schema
from mda.config import Config
from mda.detect import dwell


def _types(alerts: pd.DataFrame) -> list[tuple[str, int]]:
    return sorted(zip(alerts["type"], alerts["mmsi"], strict=True))


def test_slow_drift_at_sea_is_one_loitering_event():
    track = sail(111, [Leg(60, 12), Leg(180, 1.0, course=200), Leg(60, 12)])
    alerts = dwell.detect(context(track), Config())
    assert _types(alerts) == [("loitering", 111)]
    a = alerts.iloc[0]
    assert a["severity"] == "low"
    # starts and ends where the vessel slowed and sped up again, within a few fixes
    assert abs(a["start"] - (T0 + pd.Timedelta(hours=1))) <= pd.Timedelta(minutes=5)
    assert abs(a["end"] - (T0 + pd.Timedelta(hours=4))) <= pd.Timedelta(minutes=5)
    assert abs(a["evidence"]["mean_kn"] - 1.0) < 0.2
    assert 2.8 < a["evidence"]["hours"] < 3.1


def test_loitering_in_a_cable_corridor_is_medium_with_the_zone():
    track = sail(111, [Leg(60, 12), Leg(180, 1.0, course=200), Leg(60, 12)])
    slow_at = context(track).tracks.points.iloc[150]
    layer = zones(("cable-x", "cable", box(slow_at["lat"], slow_at["lon"], 5)))
    alerts = dwell.detect(context(track, layer), Config())
    assert alerts[["type", "severity", "zone_id"]].values.tolist() == [
        ["loitering", "medium", "cable-x"]
    ]


def test_short_slowdown_and_transit_are_not_loitering():
    brief = sail(111, [Leg(60, 12), Leg(80, 1.0), Leg(60, 12)])
    transit = sail(222, [Leg(600, 14)], lat=56)
    assert dwell.detect(context(positions(brief, transit)), Config()).empty


def test_loitering_seen_by_sparse_satellite_fixes_is_one_event():
    track = sail(111, [Leg(60, 12), Leg(300, 0.8, course=10), Leg(60, 12)], every_s=40 * 60)
    alerts = dwell.detect(context(track), Config())
    assert _types(alerts) == [("loitering", 111)]


def test_at_anchor_outside_anchorage_is_anchoring_and_loitering():
    track = sail(111, [Leg(60, 10), Leg(240, 0.0, nav_status=1), Leg(60, 10)])
    alerts = dwell.detect(context(track), Config())
    assert _types(alerts) == [("anchoring", 111), ("loitering", 111)]
    a = alerts.set_index("type").loc["anchoring"]
    assert a["severity"] == "low" and pd.isna(a["zone_id"])
    assert a["evidence"]["status_at_anchor_share"] > 0.9
    assert 230 < a["evidence"]["minutes"] < 250


def test_anchoring_in_a_cable_corridor_is_high_with_the_cable():
    track = sail(111, [Leg(60, 10), Leg(48 * 60, 0.0, nav_status=1)], every_s=180)
    spot = context(track).tracks.points.iloc[-1]
    layer = zones(("cable-x", "cable", box(spot["lat"], spot["lon"], 1.8)))
    alerts = dwell.detect(context(track, layer), Config())
    assert sorted(alerts[["type", "severity", "zone_id"]].values.tolist()) == [
        ["anchoring", "high", "cable-x"],
        ["loitering", "medium", "cable-x"],
    ]


def test_stationary_without_status_counts_but_not_for_a_few_minutes():
    still = sail(111, [Leg(30, 10), Leg(60, 0.2), Leg(30, 10)])
    pause = sail(222, [Leg(30, 10), Leg(20, 0.2), Leg(30, 10)], lat=56)
    assert _types(dwell.detect(context(positions(still, pause)), Config())) == [("anchoring", 111)]


def test_drifting_steadily_is_not_anchoring_even_when_sog_reads_stationary():
    # a transfer ship drifting with the current at 0.7 kn whose SOG reads 0.4: it goes somewhere
    drifter = sail(111, [Leg(30, 10), Leg(90, 0.7, sog=0.4), Leg(30, 10)])
    swinging = sail(222, [Leg(30, 10), Leg(90, 0.0, zigzag_deg=90, sog=0.4)], lat=56)
    alerts = dwell.detect(context(positions(drifter, swinging)), Config())
    assert alerts.loc[alerts["type"] == "anchoring", "mmsi"].tolist() == [222]
    assert alerts.set_index("type").loc["anchoring", "evidence"]["drift_kn"] < 0.1


def test_designated_anchorage_and_port_stay_raise_nothing():
    waiting = sail(111, [Leg(60, 10), Leg(36 * 60, 0.0, nav_status=1)], every_s=180)
    moored = sail(222, [Leg(4 * 24 * 60, 0.0, nav_status=5)], lat=56.0, every_s=180)
    spot = context(waiting).tracks.points.iloc[-1]
    layer = zones(
        ("anchorage-x", "anchorage", box(spot["lat"], spot["lon"], 2)),
        ("port-y", "port", box(56.0, 15.0, 2)),
    )
    assert dwell.detect(context(positions(waiting, moored), layer), Config()).empty


def test_same_stay_in_overlapping_windows_keeps_its_id():
    track = sail(111, [Leg(60, 10), Leg(600, 0.0, nav_status=1)], every_s=180)
    t = track["ts"]
    a = dwell.detect(context(track[t <= T0 + pd.Timedelta(hours=6)]), Config())
    b = dwell.detect(context(track[t >= T0 + pd.Timedelta(minutes=30)]), Config())
    assert len(a) == len(b) == 2  # anchoring and loitering
    assert sorted(a["id"]) == sorted(b["id"])
    assert (b["end"].to_numpy() > a["end"].to_numpy()).all()


def test_no_positions_no_alerts():
    out = dwell.detect(context(schema.empty(schema.POSITIONS)), Config())
    assert out.empty and list(out.columns) == list(schema.ALERTS)
