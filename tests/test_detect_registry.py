"""The detector registry: every family registered, detect_all merges and filters their alerts."""

from __future__ import annotations

import pytest
from helpers.detect import Leg, box, context, positions, sail, zones

from mda import schema
from mda.config import Config
from mda.detect import DETECTORS, detect_all, family_types
from mda.errors import MdaError


@pytest.fixture(scope="module")
def ctx():
    dark = sail(111, [Leg(60, 12), Leg(8 * 60, 12, silent=True), Leg(60, 12)])
    # in port while the other is dark, so the feed is heard throughout (no outage)
    caller = sail(222, [Leg(60, 10), Leg(540, 0.0, nav_status=5), Leg(60, 10)], lat=56.0)
    stop = caller.iloc[120]
    return context(positions(dark, caller), zones(("port-x", "port", box(stop.lat, stop.lon, 3))))


def test_every_alert_type_has_a_registered_family():
    emitted = {t for name in DETECTORS for t in family_types(name)}
    assert emitted == set(schema.ALERT_TYPES)
    assert family_types("dwell") == ("loitering", "anchoring")
    assert family_types("ais_gap") == ("ais_gap",)


def test_detect_all_merges_families_sorted_by_start(ctx):
    out = detect_all(ctx, Config(), only=["ais_gap", "zones"])
    assert sorted(out["type"]) == ["ais_gap", "port_visit"]
    assert out["start"].is_monotonic_increasing
    assert list(out.columns) == list(schema.ALERTS)
    assert out["id"].is_unique


def test_only_accepts_alert_types_and_filters_within_a_family(ctx):
    assert detect_all(ctx, Config(), only=["port_visit"])["type"].tolist() == ["port_visit"]
    assert detect_all(ctx, Config(), only=["zone_entry"]).empty


def test_unknown_detector_name_is_a_one_line_error(ctx):
    with pytest.raises(MdaError, match="unknown detector loiter") as e:
        detect_all(ctx, Config(), only=["loiter"])
    assert "\n" not in str(e.value)


def test_empty_selection_gives_typed_empty_alerts(ctx):
    out = detect_all(ctx, Config(), only=[])
    assert out.empty and out.dtypes.astype(str).tolist() == list(schema.ALERTS.values())


MY_FAMILIES = ["ais_gap", "dwell", "anchor_drag", "position_jump", "zones"]


def _real_context(rel: str):
    from conftest import shared_file

    from mda import read_ais
    from mda.context import world_context
    from mda.detect.base import Context
    from mda.tracks import build_tracks

    tracks = build_tracks(read_ais(shared_file(rel)).positions, Config().tracks)
    return Context(tracks=tracks, zones=zones(), world=world_context())  # as a scan does


def test_real_ferry_crossing_raises_nothing():
    """DMA: ANE LAESOE's departure, crossing and arrival is ordinary traffic."""
    ctx = _real_context("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv")
    assert len(ctx.tracks.points) > 700
    assert detect_all(ctx, Config(), only=MY_FAMILIES).empty


def test_real_us_traffic_does_not_flood():
    """NOAA: 10,000 vessels; the sample's end-of-day fixes make day-long silences."""
    ctx = _real_context("positions/marinecadastre_AIS_2022_01_03_first99999rows.csv.gz")
    p = ctx.tracks.points
    g = p.groupby("mmsi")["ts"]
    vessel_hours = (g.max() - g.min()).dt.total_seconds().sum() / 3600
    assert vessel_hours > 5000
    alerts = detect_all(ctx, Config(), only=MY_FAMILIES)
    per_1000_h = alerts["type"].value_counts() / vessel_hours * 1000
    assert (per_1000_h < 5).all(), per_1000_h
    assert alerts["id"].is_unique
    # vessels silent all day at the same berth are moorings, not gaps
    gaps = alerts[alerts["type"] == "ais_gap"]["evidence"]
    assert all(e["distance_km"] >= 1.0 for e in gaps)
