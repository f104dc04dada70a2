"""zone_entry and port_visit: one alert per vessel per stay, with entry, exit and dwell."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from helpers.detect import M_PER_DEG, T0, Leg, box, context, positions, sail, scenario_alerts, zones
from helpers.zones import write_layer

from mda import schema
from mda.config import Config
from mda.detect import scoring
from mda.detect import zones as zone_detect


def _through(mmsi: int = 111, **kw) -> pd.DataFrame:
    """East at 10 kn for 3 h, 4 h stop, 3 h on: 55.0 N from 15.0 E."""
    return sail(mmsi, [Leg(180, 10), Leg(240, 0.0, nav_status=5), Leg(180, 10)], **kw)


def _stop(track: pd.DataFrame) -> tuple[float, float]:
    p = track.iloc[300]
    return p["lat"], p["lon"]


def test_restricted_zone_visit_is_one_high_alert_with_entry_exit_and_dwell():
    track = _through()
    layer = zones(("restricted-x", "restricted", box(*_stop(track), 5)))
    alerts = zone_detect.detect(context(track, layer), Config())
    assert alerts[["type", "severity", "zone_id"]].values.tolist() == [
        ["zone_entry", "high", "restricted-x"]
    ]
    a = alerts.iloc[0]
    ev = a["evidence"]
    assert a["start"] < T0 + pd.Timedelta(hours=3) < T0 + pd.Timedelta(hours=7) < a["end"]
    assert ev["exited"] == a["end"].isoformat() and ev["seen_leaving"] is True
    assert ev["inside_at_data_start"] is False
    assert 240 < ev["dwell_minutes"] < 300
    assert a["zone_name"] == "zone restricted-x" and a["zone_kind"] == "restricted"


def test_boundary_jitter_is_one_visit_and_other_kinds_do_not_count():
    # running along the southern edge of a zone, in and out every few minutes
    track = sail(111, [Leg(6, 8, course=80), Leg(6, 8, course=100)] * 10)
    edge = shapely.box(15.0, track["lat"].median(), 16.0, 56.0)
    layer = zones(("restricted-x", "restricted", edge), ("route-x", "route", edge))
    ctx = context(track, layer)
    inside = ctx.in_kinds(["restricted"])
    assert (inside[1:] != inside[:-1]).sum() >= 10  # in and out ten times
    alerts = zone_detect.detect(ctx, Config())
    assert alerts["zone_id"].tolist() == ["restricted-x"]


def test_one_fix_clipping_a_restricted_corner_is_no_entry():
    # a straight track whose single fix lands inside a small corner of the zone
    track = sail(111, [Leg(120, 12)], every_s=600)
    p = track.iloc[5]
    corner = shapely.box(p["lon"] - 0.001, p["lat"] - 0.001, p["lon"] + 0.001, p["lat"] + 0.05)
    layer = zones(("restricted-x", "restricted", corner))
    ctx = context(track, layer)
    assert ctx.in_kinds(["restricted"]).sum() == 1
    assert zone_detect.detect(ctx, Config()).empty
    cfg = Config()
    cfg.zone_entry.min_fixes = 1  # as before: any fix inside is an entry
    assert zone_detect.detect(ctx, cfg)["type"].tolist() == ["zone_entry"]


def test_port_call_is_one_info_alert():
    track = _through()
    layer = zones(("port-x", "port", box(*_stop(track), 3)))
    alerts = zone_detect.detect(context(track, layer), Config())
    assert alerts[["type", "severity", "zone_id"]].values.tolist() == [
        ["port_visit", "info", "port-x"]
    ]
    assert alerts["evidence"].iloc[0]["dwell_minutes"] >= 240


def test_vessel_in_port_when_data_begin_counts_from_its_first_fix():
    moored = sail(222, [Leg(600, 0.0, nav_status=5), Leg(120, 10)])
    layer = zones(("port-x", "port", box(55.0, 15.0, 3)))
    alerts = zone_detect.detect(context(moored, layer), Config())
    assert len(alerts) == 1
    assert alerts["start"].iloc[0] == moored["ts"].iloc[0]
    assert alerts["evidence"].iloc[0]["inside_at_data_start"] is True


def test_passing_through_a_port_area_quickly_is_no_port_call():
    passing = sail(111, [Leg(120, 12)])
    layer = zones(("port-x", "port", box(55.0, 15.2, 2)))  # about 12 minutes inside
    ctx = context(passing, layer)
    assert ctx.in_kinds(["port"]).sum() >= 5
    assert zone_detect.detect(ctx, Config()).empty


def test_two_vessels_two_calls_stable_ids_across_overlapping_windows():
    a, b = _through(111), _through(222, start=T0 + pd.Timedelta(hours=1))
    layer = zones(("port-x", "port", box(*_stop(a), 5)))
    pos = positions(a, b)
    t = pos["ts"]
    early = zone_detect.detect(context(pos[t <= T0 + pd.Timedelta(hours=6)], layer), Config())
    late = zone_detect.detect(context(pos[t >= T0 + pd.Timedelta(hours=1)], layer), Config())
    assert sorted(early["mmsi"]) == sorted(late["mmsi"]) == [111, 222]
    assert set(early["id"]) == set(late["id"])


def test_no_positions_or_no_zones_no_alerts():
    layer = zones(("port-x", "port", box(55.0, 15.0, 3)))
    out = zone_detect.detect(context(schema.empty(schema.POSITIONS), layer), Config())
    assert out.empty and list(out.columns) == list(schema.ALERTS)
    assert zone_detect.detect(context(_through()), Config()).empty


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "seed"), [("korea-strait", 7), ("baltic-cables", 7)])
def test_simulated_port_calls_and_entries_match_the_truth_zone_by_zone(tmp_path, scenario, seed):
    types = ("port_visit", "zone_entry")
    alerts, truth = scenario_alerts(scenario, seed, tmp_path, types)
    table = scoring.score(alerts, truth)
    assert (table["recall"] == 1.0).all() and (table["precision"] >= 0.95).all(), table
    # scoring matches by vessel and time only: the zones must agree too
    key = ["type", "mmsi", "zone_id"]
    got = alerts[key].astype(str).value_counts().sort_index()
    want = truth[key].astype(str).value_counts().sort_index()
    assert got.to_dict() == want.to_dict()


def test_detectors_on_loaded_zones_read_no_file_and_build_no_index(tmp_path, monkeypatch):
    """The zones' index is built as they load: every detector classifies with it (zone entries,
    the encounter's zone and its distance to ports), reading no file and building no index."""
    from mda.detect import detect_all
    from mda.zones import index, load_zones

    track = _through()
    a = sail(211000001, [Leg(180, 0.3)], lat=56.0, lon=15.0)
    b = sail(211000002, [Leg(180, 0.3)], lat=56.0 + 300 / M_PER_DEG, lon=15.0)
    layer = [
        ("restricted-x", "restricted", box(*_stop(track), 5)),
        ("restricted-y", "restricted", box(56.0, 15.0, 5)),
        ("port-z", "port", box(57.0, 15.0, 3)),
    ]
    features = [
        {
            "type": "Feature",
            "properties": {"id": i, "kind": k},
            "geometry": shapely.geometry.mapping(g),
        }
        for i, k, g in layer
    ]
    loaded = load_zones(write_layer(tmp_path / "zones.geojson", features))

    def fail(*args, **kwargs):
        raise AssertionError("zone index read, written or built while detecting")

    for name in ("_load_index", "_save_index", "_build_index"):
        monkeypatch.setattr(index, name, fail)
    alerts = detect_all(context(positions(track, a, b), loaded), Config())
    assert ("zone_entry", "restricted-x") in set(
        zip(alerts["type"], alerts["zone_id"], strict=True)
    )
    met = alerts[alerts["type"] == "encounter"]
    assert met[["zone_id", "severity"]].values.tolist() == [["restricted-y", "high"]]
    assert met["evidence"].iloc[0]["port_distance_km"] == pytest.approx(108, abs=2)
