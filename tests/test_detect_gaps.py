"""ais_gap: silences at sea, shorter ones in cable/restricted zones, never in port."""

from __future__ import annotations

import pandas as pd
from helpers.detect import Leg, box, context, positions, sail, zones

from mda import schema
from mda.config import Config
from mda.detect import gaps


def _witness(hours: float) -> pd.DataFrame:
    """A vessel far away heard throughout: the feed itself was up."""
    return sail(9999, [Leg(hours * 60, 10)], lat=60.0)


def _dark(hours: float, **kw) -> pd.DataFrame:
    dark = sail(111, [Leg(60, 12), Leg(hours * 60, 12, silent=True), Leg(60, 12)], **kw)
    return positions(dark, _witness(hours + 2))


def test_silence_at_sea_is_a_gap_with_its_figures():
    alerts = gaps.detect(context(_dark(8)), Config())
    assert len(alerts) == 1
    a = alerts.iloc[0]
    assert (a["type"], a["severity"], a["mmsi"]) == ("ais_gap", "medium", 111)
    ev = a["evidence"]
    assert abs(ev["hours"] - 8.02) < 0.05
    assert abs(ev["implied_kn"] - 12) < 0.2
    assert abs(ev["distance_km"] - 8 * 12 * 1.852) < 3
    assert ev["lat0"] == a["lat"] and ev["lon0"] == a["lon"]
    assert ev["lon1"] > ev["lon0"]
    assert a["start"] == pd.Timestamp(ev["last_seen"])
    assert a["thresholds"]["min_hours"] == 6.0


def test_long_silence_is_high_and_short_silence_at_sea_is_nothing():
    assert gaps.detect(context(_dark(13)), Config())["severity"].tolist() == ["high"]
    assert gaps.detect(context(_dark(3)), Config()).empty


def test_short_silence_ending_in_cable_corridor_is_reported_high():
    track = _dark(2)
    gap = context(track).tracks.gaps.iloc[0]
    assert gaps.detect(context(track), Config()).empty  # 2 h at sea: too short on its own
    layer = zones(("cable-x", "cable", box(gap["lat1"], gap["lon1"] + 0.05, 6)))
    alerts = gaps.detect(context(track, layer), Config())
    assert alerts["zone_id"].tolist() == ["cable-x"]
    assert alerts["severity"].tolist() == ["high"]
    assert alerts["zone_kind"].tolist() == ["cable"]
    assert alerts["lon"].iloc[0] == gap["lon0"]  # still placed where the vessel went dark


def test_silence_in_port_is_normal_unless_the_vessel_left_dark():
    port = zones(("port-x", "port", box(55.0, 15.0, 3)))
    # switched off at the quay, on again at the quay (or a kilometre down the harbour)
    berth = sail(222, [Leg(60, 0, nav_status=5), Leg(600, 0.1, silent=True), Leg(60, 0)])
    assert gaps.detect(context(positions(berth, _witness(13)), port), Config()).empty
    # silent at the quay, sails 10 h dark, reappears far out at sea: it left port dark
    leaver = sail(222, [Leg(60, 0, nav_status=5), Leg(600, 12, silent=True), Leg(60, 12)])
    alerts = gaps.detect(context(positions(leaver, _witness(13)), port), Config())
    assert alerts["mmsi"].tolist() == [222]
    assert alerts["evidence"].iloc[0]["from_harbour"] is True


def test_dark_in_open_water_counts_whatever_the_displacement():
    # 9 h silent at sea, reappearing where it went dark: a dark transfer, not a mooring
    still = sail(333, [Leg(60, 0), Leg(9 * 60, 0, silent=True), Leg(60, 0)], lat=56.0)
    alerts = gaps.detect(context(positions(still, _witness(12))), Config())
    assert alerts["mmsi"].tolist() == [333]
    ev = alerts["evidence"].iloc[0]
    assert ev["same_spot"] is True and ev["distance_km"] < 0.1
    # the same stay inside an anchorage is a ship switching off at anchor
    anchorage = zones(("anch", "anchorage", box(56.0, 15.0, 3)))
    assert gaps.detect(context(positions(still, _witness(12)), anchorage), Config()).empty


def test_short_silent_stay_counts_only_in_a_cable_corridor():
    still = sail(222, [Leg(60, 0), Leg(3 * 60, 0, silent=True), Leg(60, 0)])
    feed = positions(still, _witness(5))  # heard to the end: not dark now
    assert gaps.detect(context(feed), Config()).empty
    layer = zones(("cable-x", "cable", box(55.0, 15.0, 1)))
    alerts = gaps.detect(context(feed, layer), Config())
    assert alerts[["mmsi", "zone_id", "severity"]].values.tolist() == [[222, "cable-x", "high"]]
    assert alerts["evidence"].iloc[0]["distance_km"] < 0.1


def test_same_gap_in_overlapping_windows_keeps_its_id():
    pos = _dark(8)
    t = pos["ts"]
    early = pos[t <= t.min() + pd.Timedelta(hours=9.5)]
    late = pos[t >= t.min() + pd.Timedelta(minutes=30)]
    a, b = gaps.detect(context(early), Config()), gaps.detect(context(late), Config())
    assert len(a) == len(b) == 1
    assert a["id"].iloc[0] == b["id"].iloc[0]


def test_no_positions_no_alerts_with_the_alert_dtypes():
    empty = schema.empty(schema.POSITIONS)
    out = gaps.detect(context(empty), Config())
    assert out.empty
    assert (
        out.dtypes.astype(str).to_dict() == schema.empty(schema.ALERTS).dtypes.astype(str).to_dict()
    )


def _fleet(n: int, silent: tuple[float, float] | None, dark: int | None = None) -> pd.DataFrame:
    """n vessels sailing 14 h; all silent between `silent` hours (a feed outage), or only `dark`."""
    fleet = []
    for k in range(n):
        legs = [Leg(14 * 60, 12)]
        if silent is not None or k == dark:
            a, b = silent or (2, 10)
            legs = [Leg(a * 60, 12), Leg((b - a) * 60, 12, silent=True), Leg((14 - b) * 60, 12)]
        fleet.append(sail(1000 + k, legs, lat=54.0 + 0.1 * k))
    return positions(*fleet)


def test_silence_of_the_whole_feed_is_an_outage_not_a_gap():
    assert gaps.detect(context(_fleet(12, (2, 10))), Config()).empty
    alerts = gaps.detect(context(_fleet(12, None, dark=3)), Config())
    assert alerts["mmsi"].tolist() == [1003]
    ev = alerts["evidence"].iloc[0]
    assert abs(ev["hours_heard"] - ev["hours"]) < 0.01
    # a feed of fewer vessels than outage_min_vessels cannot show a partial outage, but when
    # nobody at all is heard the feed was down: three vessels silent together are no gap
    assert gaps.detect(context(_fleet(3, (2, 10))), Config()).empty
    assert gaps.detect(context(_fleet(3, None, dark=1)), Config())["mmsi"].tolist() == [1001]


def test_partial_outage_leaves_only_the_heard_hours():
    # 9 h dark at sea; the feed was down for 5 of them (all but one far vessel silent too)
    feed = positions(_fleet(12, (3, 8)), _witness(14))
    dark = sail(999, [Leg(2 * 60, 12), Leg(9 * 60, 12, silent=True), Leg(3 * 60, 12)], lat=53.5)
    assert gaps.detect(context(positions(feed, dark)), Config()).empty  # 9 - 5 = 4 h heard
    cfg = Config()
    cfg.feed.outage_fraction = 0.0  # a bin with anyone heard counts
    assert gaps.detect(context(positions(feed, dark), cfg=cfg), cfg)["mmsi"].tolist() == [999]


def test_silence_across_a_data_hole_is_no_gap():
    """Two data sets two years apart: vessels heard in both did not go dark for two years."""
    first = _fleet(12, None)
    later = first.assign(ts=first["ts"] + pd.Timedelta(days=730))
    assert gaps.detect(context(positions(first, later)), Config()).empty
    # within one data set the same silence of one vessel is still a gap
    assert len(gaps.detect(context(_fleet(12, None, dark=3)), Config())) == 1


def _gone(mmsi: int, hours: float, *, after: float = 2.0, **kw) -> pd.DataFrame:
    """A vessel sailing `after` hours, then silent to the end of `hours` (it never reappears)."""
    kw.setdefault("lat", 56.0)
    return sail(
        mmsi,
        [Leg(after * 60, 12, **kw.pop("leg", {})), Leg((hours - after) * 60, 12, silent=True)],
        **kw,
    )


def _near(gone: pd.DataFrame, hours: float, mmsi: int = 8888) -> pd.DataFrame:
    """A still vessel 3 km north of where `gone` was last heard, heard for `hours` from T0: the
    feed still hears that place."""
    last = gone.iloc[-1]
    return sail(mmsi, [Leg(hours * 60, 0.0)], lat=last["lat"] + 0.027, lon=last["lon"])


def test_vessel_silent_at_sea_to_the_end_of_the_data_is_dark_now():
    gone = _gone(444, 12)
    feed = positions(gone, _near(gone, 12), _witness(12))
    alerts = gaps.detect(context(feed), Config())
    assert alerts["mmsi"].tolist() == [444]
    a = alerts.iloc[0]
    ev = a["evidence"]
    assert ev["dark_now"] is True and ev["reappeared"] is None and ev["heard_near"] == 1
    assert a["start"] == feed.loc[feed["mmsi"] == 444, "ts"].max()  # its last fix
    assert a["end"] == feed["ts"].max()  # the end of the data
    assert abs(ev["hours"] - 10) < 0.05 and abs(ev["hours_heard"] - 10) < 0.05
    assert (ev["lat0"], ev["lon0"]) == (a["lat"], a["lon"])
    assert a["severity"] == "medium"
    # nobody heard near its last place since: it may have sailed out of the receivers' range
    assert gaps.detect(context(positions(gone, _witness(12))), Config()).empty
    from mda.scan import event_status

    points = context(feed).tracks.points
    assert event_status(alerts, points, Config()).tolist() == ["open"]
    # a silence the vessel came back from is closed, and says so
    closed = gaps.detect(context(_dark(8)), Config())
    assert closed["evidence"].iloc[0]["dark_now"] is False
    assert event_status(closed, context(_dark(8)).tracks.points, Config()).tolist() == ["closed"]


def test_vessel_last_heard_in_harbour_is_not_dark():
    moored = _gone(555, 12, leg={"nav_status": 5}, lat=55.0)
    moored.loc[:, "sog"] = 0.0
    assert gaps.detect(context(positions(moored, _witness(12))), Config()).empty
    port = zones(("port-x", "port", box(55.0, 15.3, 30)))
    sailing = _gone(555, 12, lat=55.0)
    sailing = positions(sailing, _near(sailing, 12), _witness(12))
    assert gaps.detect(context(sailing, port), Config()).empty
    assert gaps.detect(context(sailing), Config())["mmsi"].tolist() == [555]


def test_no_vessel_is_dark_when_the_feed_is_not_heard_at_the_end():
    """A receiver outage at the end of the data: all but one far vessel fall silent for the
    last five hours; the vessel silent since hour 2 is not dark for what nobody could hear."""
    fleet = _fleet(12, None)
    fleet = fleet[fleet["ts"] < fleet["ts"].min() + pd.Timedelta(hours=9)]
    dark = _gone(999, 14, lat=53.5)
    near = _near(dark, 14)
    feed = positions(fleet, dark, near[near["ts"] < fleet["ts"].max()], _witness(14))
    assert gaps.detect(context(feed), Config()).empty
    heard = positions(_fleet(12, None), dark, near, _witness(14))  # the feed heard to the end
    assert gaps.detect(context(heard), Config())["mmsi"].tolist() == [999]


def test_vessels_sailing_out_of_range_together_are_not_dark():
    """Three vessels last heard near one another and silent since: the edge of coverage."""
    edge = [_gone(700 + k, 12, lat=56.0 + 0.02 * k) for k in range(3)]
    assert gaps.detect(context(positions(*edge, _near(edge[0], 12), _witness(12))), Config()).empty
    apart = [_gone(700 + k, 12, lat=56.0 + 2 * k) for k in range(3)]
    watched = [_near(g, 12, 800 + k) for k, g in enumerate(apart)]
    alerts = gaps.detect(context(positions(*apart, *watched, _witness(12))), Config())
    assert sorted(alerts["mmsi"]) == [700, 701, 702]


def test_short_silence_to_the_end_counts_only_in_a_cable_corridor():
    gone = _gone(444, 5, after=3)
    feed = positions(gone, _near(gone, 5), _witness(5))  # silent for the last 2 h
    assert gaps.detect(context(feed), Config()).empty
    last = feed[feed["mmsi"] == 444].iloc[-1]
    layer = zones(("cable-x", "cable", box(last["lat"], last["lon"], 2)))
    alerts = gaps.detect(context(feed, layer), Config())
    assert alerts[["mmsi", "zone_id", "severity"]].values.tolist() == [[444, "cable-x", "high"]]
    assert alerts["evidence"].iloc[0]["dark_now"] is True
