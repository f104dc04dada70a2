"""Encounter detector: two slow vessels within 500 m for 2 h at sea, and what is not one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.detect import M_PER_DEG, T0, Leg, box, context, positions, sail, zones

from mda import schema
from mda.config import Config
from mda.detect import encounter

A, B, C = 211000001, 211000002, 211000003


def _pair(metres: float, minutes: float, kn: float = 0.3, **kw) -> pd.DataFrame:
    """Two vessels drifting east side by side, `metres` apart (north-south), for `minutes`."""
    a = sail(B, [Leg(minutes, kn)], lat=55.0, lon=15.0, **kw)
    b = sail(A, [Leg(minutes, kn)], lat=55.0 + metres / M_PER_DEG, lon=15.0, **kw)
    return positions(a, b)


def test_two_slow_vessels_side_by_side_for_three_hours():
    alerts = encounter.detect(context(_pair(300, 180)), Config())
    assert len(alerts) == 1
    a = alerts.iloc[0]
    assert (a["type"], a["severity"]) == ("encounter", "medium")
    assert (a["mmsi"], a["other_mmsi"]) == (A, B)  # mmsi < other_mmsi
    ev = a["evidence"]
    assert 2.5 <= ev["hours"] <= 3.0
    assert ev["median_distance_m"] == pytest.approx(300, abs=5)
    assert ev["min_distance_m"] <= ev["median_distance_m"]
    assert ev["median_kn"] == pytest.approx(0.3) and ev["other_median_kn"] == pytest.approx(0.3)
    assert {"other_lat", "other_lon", "port_distance_km"} <= set(ev)
    assert a["lat"] == pytest.approx(55.0 + 150 / M_PER_DEG, abs=1e-3)  # the meeting point
    assert a["start"] <= T0 + pd.Timedelta(minutes=10)
    assert a["end"] >= T0 + pd.Timedelta(minutes=170)
    assert a["thresholds"]["max_distance_m"] == 500.0


@pytest.mark.parametrize(("lat", "lon"), [(60.0, 170.0), (31.6, 124.2), (55.0, 15.0)])
def test_pairs_480_m_apart_north_south_are_found_far_from_greenwich(lat, lon):
    # at 60 N 170 E a per-row cos(lat) grid put them over 1,200 m apart east-west: never paired
    a = sail(A, [Leg(180, 0.6, course=225)], lat=lat, lon=lon)
    b = sail(B, [Leg(180, 0.6, course=225)], lat=lat + 480 / M_PER_DEG, lon=lon)
    alerts = encounter.detect(context(positions(a, b)), Config())
    assert alerts[["mmsi", "other_mmsi"]].values.tolist() == [[A, B]]
    assert alerts["evidence"].iloc[0]["median_distance_m"] == pytest.approx(480, abs=5)


def test_only_candidates_near_in_space_and_time_are_paired():
    far = sail(C, [Leg(180, 0.3)], lat=56.0, lon=15.0)  # slow too, but 110 km away
    alerts = encounter.detect(context(positions(_pair(300, 180), far)), Config())
    assert alerts[["mmsi", "other_mmsi"]].values.tolist() == [[A, B]]


def test_two_vessels_passing_each_other_at_speed():
    east = sail(A, [Leg(120, 12, course=90)], lat=55.0, lon=15.0)
    west = sail(B, [Leg(120, 12, course=270)], lat=55.001, lon=15.6)
    assert encounter.detect(context(positions(east, west)), Config()).empty


def test_400_m_apart_for_one_hour_only():
    assert encounter.detect(context(_pair(400, 60)), Config()).empty


def test_800_m_apart_for_five_hours():
    assert encounter.detect(context(_pair(800, 300)), Config()).empty


def test_together_but_one_vessel_moving_fast():
    a = sail(A, [Leg(180, 0.3)], lat=55.0, lon=15.0)
    # circles around the other at 6 kn: close, but not slow
    b = sail(B, [Leg(2, 6, course=c) for c in np.tile([0, 90, 180, 270], 23)], lat=55.0, lon=15.0)
    assert encounter.detect(context(positions(a, b)), Config()).empty


def test_not_across_an_ais_gap():
    # together 1.5 h, both silent 3 h, together 1.5 h: no 2 h of observed company
    legs = [Leg(90, 0.3), Leg(180, 0.3, silent=True), Leg(90, 0.3)]
    a = sail(A, legs, lat=55.0, lon=15.0)
    b = sail(B, legs, lat=55.0 + 200 / M_PER_DEG, lon=15.0)
    assert encounter.detect(context(positions(a, b)), Config()).empty


def test_inside_a_restricted_zone_is_high():
    layer = zones(("r1", "restricted", box(55.0, 15.02, 5)))
    alerts = encounter.detect(context(_pair(300, 180), layer), Config())
    assert alerts["severity"].tolist() == ["high"]
    assert alerts["zone_id"].tolist() == ["r1"]


def test_over_a_cable_corridor_names_it_without_raising_severity():
    layer = zones(("c1", "cable", box(55.0, 15.02, 5)))
    alerts = encounter.detect(context(_pair(300, 180), layer), Config())
    assert alerts[["severity", "zone_id", "zone_kind"]].values.tolist() == [
        ["medium", "c1", "cable"]
    ]


def test_thresholds_come_from_config():
    cfg = Config()
    cfg.encounter.max_distance_m = 1000.0
    assert len(encounter.detect(context(_pair(800, 300)), cfg)) == 1
    cfg = Config()
    cfg.encounter.min_hours = 4.0
    assert encounter.detect(context(_pair(300, 180)), cfg).empty


def test_a_missed_bucket_is_bridged_as_many_as_config_allows():
    """B darts 900 m away over the 100-minute grid time (one bucket out of range): the default
    (encounter.max_missed_buckets = 1) bridges it, 0 cuts the meeting into two 1.5 h halves."""
    a = sail(A, [Leg(200, 0.3)], lat=55.0, lon=15.0)
    away = [Leg(4, 6.0, course=0), Leg(4, 6.0, course=180)]  # out and back, minutes 96-104
    b = sail(B, [Leg(96, 0.3), *away, Leg(96, 0.3)], lat=55.0 + 200 / M_PER_DEG, lon=15.0)
    ctx = context(positions(a, b))
    alerts = encounter.detect(ctx, Config())
    assert len(alerts) == 1 and alerts["evidence"].iloc[0]["hours"] >= 3.0
    cfg = Config()
    cfg.encounter.max_missed_buckets = 0
    assert encounter.detect(ctx, cfg).empty


def test_moored_together_in_port():
    pytest.importorskip("mda.zones", reason="zones module not written yet")
    layer = zones(("p1", "port", box(55.0, 15.0, 2)))
    moored = _pair(50, 600, kn=0.0)
    assert encounter.detect(context(moored, layer), Config()).empty
    # the same pair 30 km from that port is an encounter
    away = zones(("p1", "port", box(55.0, 15.5, 2)))
    alerts = encounter.detect(context(moored, away), Config())
    assert len(alerts) == 1
    assert alerts["evidence"][0]["port_distance_km"] == pytest.approx(30, abs=3)


def test_resample_interpolates_within_segments_only():
    pts = pd.DataFrame(
        {
            "mmsi": [1, 1, 1, 1],
            "ts": pd.to_datetime(
                ["2026-01-01T00:00Z", "2026-01-01T00:20Z", "2026-01-01T05:00Z", "2026-01-01T05:10Z"]
            ).astype(schema.TS),
            "lat": [0.0, 2.0, 10.0, 10.0],
            "lon": [0.0, 0.0, 0.0, 0.0],
            "speed": [1.0, 1.0, 1.0, 1.0],
            "segment": [0, 0, 1, 1],
        }
    )
    b = encounter.resample(pts, 600.0)
    assert b["lat"].tolist() == pytest.approx([0.0, 1.0, 2.0, 10.0, 10.0])
    assert b["bucket"].diff().max() > 1  # nothing invented in the 4.7 h between the segments
