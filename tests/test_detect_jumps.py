"""position_jump: relocations and far excursions are reported, receiver glitches and noise not."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers.detect import T0, Leg, context, positions, sail

from mda import schema
from mda.config import Config
from mda.detect import jumps


def _cruise(mmsi: int = 111, minutes: float = 240, **kw) -> pd.DataFrame:
    return sail(mmsi, [Leg(minutes, 12)], **kw)


def _move(track: pd.DataFrame, rows: slice, dlat: float, dlon: float) -> pd.DataFrame:
    """The same track with fixes `rows` reported dlat/dlon degrees away (spoofed)."""
    out = track.copy()
    out.loc[out.index[rows], "lat"] += dlat
    out.loc[out.index[rows], "lon"] += dlon
    return out


def test_spoofed_stay_far_away_and_back_is_one_episode():
    track = _move(_cruise(), slice(60, 120), 1.0, 1.5)
    alerts = jumps.detect(context(track), Config())
    assert len(alerts) == 1
    a = alerts.iloc[0]
    assert (a["type"], a["severity"]) == ("position_jump", "high")
    assert a["start"] == track["ts"].iloc[60] and a["end"] == track["ts"].iloc[119]
    ev = a["evidence"]
    assert ev["kind"] == "relocation" and ev["returned"] is True
    assert ev["distance_km"] > 100 and ev["implied_kn"] > 1000
    assert ev["fixes_at_false_place"] == 60
    assert np.isclose(a["lat"], track["lat"].iloc[60])


def test_short_spoof_while_sailing_on_is_still_one_episode():
    # 7 km to the side for 15 minutes at 12 kn: the ship moved 5.5 km meanwhile
    track = _move(_cruise(), slice(60, 75), 0.063, 0.0)
    alerts = jumps.detect(context(track), Config())
    assert len(alerts) == 1
    assert alerts["evidence"].iloc[0]["returned"] is True
    assert alerts["end"].iloc[0] == track["ts"].iloc[74]


def test_time_stamps_slipped_along_the_own_course_are_not_jumps():
    # satellite AIS stamped at the downlink: 15 fixes carry times 20 minutes late, so they
    # sit 7.4 km back along the ship's own course (ahead of time, the same)
    for dlon in (-0.116, 0.116):
        track = _move(_cruise(), slice(60, 75), 0.0, dlon)
        assert jumps.detect(context(track), Config()).empty
    cfg = Config()
    cfg.position_jump.clock_slip_minutes = 5  # a ship sails 1.9 km in 5 minutes: a jump
    assert len(jumps.detect(context(track), cfg)) == 1


def test_relocation_without_return_is_reported_to_the_end():
    track = _move(_cruise(), slice(100, None), -0.8, 0.0)
    alerts = jumps.detect(context(track), Config())
    assert len(alerts) == 1
    assert alerts["evidence"].iloc[0]["returned"] is False
    assert alerts["end"].iloc[0] == track["ts"].iloc[-1]


def test_single_fix_glitch_and_gps_noise_are_not_jumps():
    glitch = _move(_cruise(111), slice(50, 51), 2.0, 0.0)
    # fixes two seconds apart with 60 m of scatter imply ~60 kn but move nowhere
    noisy = sail(222, [Leg(400 / 60, 3)], lat=56.0, every_s=2)
    noisy["lat"] += np.random.default_rng(1).normal(0, 60 / 111_000, len(noisy))
    ctx = context(positions(glitch, noisy))
    assert ctx.tracks.points["outlier"].sum() >= 1  # the glitch was seen, and judged a glitch
    assert jumps.detect(ctx, Config()).empty


def test_spoofed_circle_at_impossible_speed_is_one_excursion():
    track = _cruise()
    ang = np.linspace(0, 2 * np.pi, 20)
    # twenty fixes, one a minute, on a 30 km circle 150 km away: ~180 kn between fixes
    rows = slice(80, 100)
    track.loc[track.index[rows], "lat"] = 56.5 + 0.27 * np.cos(ang)
    track.loc[track.index[rows], "lon"] = 16.0 + 0.47 * np.sin(ang)
    alerts = jumps.detect(context(track), Config())
    assert len(alerts) == 1
    ev = alerts["evidence"].iloc[0]
    assert alerts["start"].iloc[0] == track["ts"].iloc[80]
    assert alerts["end"].iloc[0] == track["ts"].iloc[99]
    assert ev["kind"] == "excursion" and ev["fixes"] == 20 and ev["max_distance_km"] > 150


def test_spoofed_circle_drawn_around_the_speed_limit_is_one_episode():
    # 40 nm west, a 4 nm circle every 30 fixes (50 kn, +- the ship's own 12 kn): some steps are
    # impossible and some are not, so the tracks split it into relocations and excursions
    track = _cruise(minutes=300)
    rows = slice(80, 140)
    turn = 2 * np.pi * np.arange(60) / 30
    nm_lat, nm_lon = 1 / 60, 1 / (60 * np.cos(np.radians(55.0)))
    track.loc[track.index[rows], "lat"] += 4 * nm_lat * np.sin(turn)
    track.loc[track.index[rows], "lon"] += (-40 + 4 * (np.cos(turn) - 1)) * nm_lon
    alerts = jumps.detect(context(track), Config())
    assert len(alerts) == 1
    a = alerts.iloc[0]
    assert a["start"] == track["ts"].iloc[80] and a["end"] == track["ts"].iloc[139]
    assert a["evidence"]["returned"] is True and a["evidence"]["fragments"] > 1


def test_short_jumps_are_ignored():
    # 1.5 km off for 5 fixes at 10 s spacing: impossible speed but under min_distance_m
    track = sail(111, [Leg(30, 12)], every_s=10)
    track = _move(track, slice(90, None), 0.0135, 0.0)
    assert jumps.detect(context(track), Config()).empty
    cfg = Config()
    cfg.position_jump.min_distance_m = 1000.0
    assert len(jumps.detect(context(track), cfg)) == 1


def test_same_spoofing_in_overlapping_windows_keeps_its_id():
    track = _move(_cruise(minutes=600), slice(200, 300), 1.0, 1.0)
    t = track["ts"]
    a = jumps.detect(context(track[t <= T0 + pd.Timedelta(hours=7)]), Config())
    b = jumps.detect(context(track[t >= T0 + pd.Timedelta(hours=1)]), Config())
    assert len(a) == len(b) == 1 and a["id"].iloc[0] == b["id"].iloc[0]


def test_no_positions_no_alerts():
    out = jumps.detect(context(schema.empty(schema.POSITIONS)), Config())
    assert out.empty and list(out.columns) == list(schema.ALERTS)
