"""anchor_drag: slowed with an erratic course inside cable corridors, and nothing else."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers.detect import T0, Leg, box, context, meridian, positions, sail, scenario_alerts, zones

from mda import schema
from mda.config import Config
from mda.detect import drag, scoring

# two north-south cable corridors 1 km either side of 15.3 E and 15.6 E
CABLES = (
    ("cable-a", "cable", meridian(15.3, 54.5, 55.5, 1.0)),
    ("cable-b", "cable", meridian(15.6, 54.5, 55.5, 1.0)),
)


def _dragger(mmsi: int = 111, **kw) -> list[Leg]:
    """Cruising east at 11 kn, then 9.5 kn zig-zagging with the bow pulled round."""
    return sail(mmsi, [Leg(120, 11), Leg(150, 9.5, zigzag_deg=12, heading_off=25)], lon=14.5, **kw)


def _in_cable(ctx) -> set[int]:
    """The vessels that have fixes inside a cable corridor (so a negative test is meaningful)."""
    return set(ctx.tracks.points["mmsi"][ctx.in_kinds(["cable"])].tolist())


def test_dragging_across_two_cables_is_one_critical_alert_per_cable():
    alerts = drag.detect(context(_dragger(), zones(*CABLES)), Config())
    assert alerts["zone_id"].tolist() == ["cable-a", "cable-b"]
    assert set(alerts["severity"]) == {"critical"}
    assert set(alerts["zone_kind"]) == {"cable"}
    ev = alerts["evidence"].iloc[0]
    assert ev["cruise_kn"] == 11.0 and ev["median_kn_in_corridor"] == 9.5
    assert 13 < ev["speed_drop_pct"] < 14
    # the zig-zag makes good only 9.5 x cos 12 = 9.3 kn of progress
    assert abs(ev["made_good_kn_in_corridor"] - 9.3) < 0.1
    assert ev["cables_crossed"] == 2 and ev["cables"] == ["cable-a", "cable-b"]
    # the second corridor is judged against the cruise before the dragging began
    assert alerts["evidence"].iloc[1]["cruise_kn"] == 11.0
    assert (alerts["start"] < alerts["end"]).all()


def test_drag_that_began_well_before_the_cable_is_still_judged_against_cruising():
    # 90 minutes of dragging before the first corridor
    track = sail(111, [Leg(150, 11), Leg(180, 9.5, zigzag_deg=12)], lon=14.1)
    alerts = drag.detect(context(track, zones(*CABLES)), Config())
    assert alerts["zone_id"].tolist() == ["cable-a", "cable-b"]
    assert alerts["evidence"].iloc[0]["cruise_kn"] == 11.0


def test_drag_hours_long_before_the_cable_after_a_night_at_anchor_is_found():
    # 6 h at anchor, 3 h at 8.5 kn, then 6.3 kn zig-zagging for 4 h before the first corridor:
    # the cruising speed is the speed under way, from before the drag began
    legs = [Leg(360, 0.0, nav_status=1), Leg(180, 8.5), Leg(300, 6.3, zigzag_deg=12)]
    alerts = drag.detect(context(sail(111, legs, lon=14.2), zones(*CABLES)), Config())
    assert alerts["zone_id"].tolist() == ["cable-a", "cable-b"]
    assert alerts["evidence"].iloc[0]["cruise_kn"] == 8.5


def test_heading_divergence_alone_with_a_modest_slowdown_fires():
    track = sail(111, [Leg(120, 8.5), Leg(90, 6.3, heading_off=40)], lon=14.8)
    alerts = drag.detect(context(track, zones(*CABLES)), Config())
    assert alerts["zone_id"].tolist() == ["cable-a"]


def test_two_half_strong_signs_of_an_erratic_course_add_up():
    def dragger(zigzag: float, off: float) -> list[Leg]:
        return [Leg(120, 11), Leg(90, 9.5, zigzag_deg=zigzag, heading_off=off)]

    ctx = context(
        positions(
            sail(111, dragger(4.0, 0.0), lon=14.5),  # a mild zig-zag alone: not enough
            sail(222, dragger(0.0, 12.0), lon=14.5, lat=55.2),  # a mild divergence alone neither
            sail(333, dragger(4.0, 12.0), lon=14.5, lat=54.8),  # both together: erratic
        ),
        zones(*CABLES),
    )
    assert _in_cable(ctx) == {111, 222, 333}
    assert drag.detect(ctx, Config())["mmsi"].tolist() == [333]


def test_reporting_at_anchor_while_dragging_fires():
    # "at anchor", moving at 3 kn with the bow pulled 35 degrees off the direction of travel
    track = sail(111, [Leg(120, 3, nav_status=1, heading_off=35)], lon=15.2)
    alerts = drag.detect(context(track, zones(*CABLES)), Config())
    assert alerts["zone_id"].tolist() == ["cable-a"]
    assert alerts["evidence"].iloc[0]["at_anchor_fixes_moving"] >= 4


def test_stale_at_anchor_status_on_a_straight_crossing_does_not_fire():
    # status nobody updated: under way straight at 12 kn (or 3 kn) with the bow on the course
    fast = sail(111, [Leg(120, 12, nav_status=1)], lon=14.9)
    slow = sail(222, [Leg(120, 3, nav_status=1)], lon=15.2, lat=55.1)
    for track in (fast, slow):
        assert drag.detect(context(track, zones(*CABLES)), Config()).empty


def test_steady_transit_and_a_constant_heading_offset_do_not_fire():
    steady = sail(111, [Leg(300, 11)], lon=14.5)
    # a transponder whose heading is always 30 degrees off, slowing a little: no new divergence
    offset = sail(
        222, [Leg(120, 11, heading_off=30), Leg(150, 9, heading_off=30)], lon=14.5, lat=55.2
    )
    ctx = context(positions(steady, offset), zones(*CABLES))
    assert _in_cable(ctx) == {111, 222}
    assert drag.detect(ctx, Config()).empty


def test_ferry_slowing_into_port_through_a_corridor_does_not_fire():
    # slows from 11 to 5 kn on a steady course; the corridor reaches into the port
    ferry = sail(111, [Leg(120, 11), Leg(60, 5), Leg(30, 2)], lon=14.6)
    end = context(ferry).tracks.points.iloc[-1]
    layer = zones(*CABLES, ("port-x", "port", box(end["lat"], end["lon"], 2)))
    ctx = context(ferry, layer)
    assert _in_cable(ctx) == {111}
    assert drag.detect(ctx, Config()).empty


def test_turning_once_while_slowing_in_a_corridor_does_not_fire():
    track = sail(111, [Leg(125, 11), Leg(30, 8, course=45)], lon=14.61)
    ctx = context(track, zones(*CABLES))
    assert ctx.in_kinds(["cable"]).sum() >= 8
    assert drag.detect(ctx, Config()).empty


def test_tugs_and_other_service_craft_are_not_judged():
    ctx = context(_dragger(), zones(*CABLES))
    statics = schema.conform(
        pd.DataFrame({"mmsi": [111], "ts": [T0], "name": ["HARBOUR TUG"], "ship_type": [52]}),
        schema.VESSELS,
        extra=False,
    )
    assert len(drag.detect(ctx, Config())) == 2
    ctx.vessels = statics
    assert drag.detect(ctx, Config()).empty
    cfg = Config()
    cfg.anchor_drag.ignore_ship_types = []
    assert len(drag.detect(ctx, cfg)) == 2


def test_crawling_or_too_few_fixes_is_not_dragging():
    crawl = sail(111, [Leg(120, 11), Leg(300, 0.5, zigzag_deg=30)], lon=14.6)
    sparse = sail(
        222, [Leg(120, 11), Leg(150, 9.5, zigzag_deg=12)], lon=14.5, lat=55.2, every_s=600
    )
    ctx = context(positions(crawl, sparse), zones(*CABLES))
    assert _in_cable(ctx) == {111, 222}
    assert drag.detect(ctx, Config()).empty


def test_no_cables_or_no_positions_no_alerts():
    assert drag.detect(context(_dragger()), Config()).empty
    out = drag.detect(context(schema.empty(schema.POSITIONS), zones(*CABLES)), Config())
    assert out.empty and list(out.columns) == list(schema.ALERTS)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 21])
def test_simulated_baltic_drag_is_found_per_cable_and_nothing_else(tmp_path, seed):
    alerts, truth = scenario_alerts("baltic-cables", seed, tmp_path, ("anchor_drag",))
    table = scoring.score(alerts, truth)
    assert table["recall"].tolist() == [1.0] and table["precision"].tolist() == [1.0]
    # one alert per cable corridor crossed, on the planted cable, and the count in the evidence
    assert sorted(alerts["zone_id"]) == sorted(truth["zone_id"])
    assert set(alerts["severity"]) == {"critical"}
    assert {e["cables_crossed"] for e in alerts["evidence"]} == {len(truth)}
