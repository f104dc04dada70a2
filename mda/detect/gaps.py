"""ais_gap: a vessel silent at sea for hours (or for less in a cable corridor or restricted area).

Built on the silences the tracks module already found (``tracks.gaps``), measured only over the
time the feed itself was heard (``ctx.coverage``, mda.feed): a vessel is not dark for what nobody
could hear, so receiver outages, files that end and data sets years apart never become gaps; and
a silence several vessels begin and end together (mda.feed.shared_silences: one receiver down)
is not reported either. Nor is a silence across a data hole (a feed down for ``feed.hole_hours``
or more: two data sets apart): its vessel was last heard before the feed stopped.

Where the silence happens decides what it means (GFW "intentional disabling" logic):

* a silence in which the vessel moved at least ``min_distance_m`` counts unless it both starts
  and ends in harbour (a port or anchorage zone, a world port's harbour radius, or a believed
  "moored" status): it sailed dark, or left port dark;
* one that starts and ends offshore (out of harbours and off the coast: ``ctx.offshore``) counts
  whatever the displacement: going dark in open water and reappearing at the same spot is the
  pattern of a dark ship-to-ship transfer, and the evidence says so (``same_spot``); at a berth
  or an anchorage it is a vessel switching off;
* in a cable corridor or restricted area, a shorter silence (``zone_min_hours``) counts.

**Dark now** (``dark_now``): a vessel whose last good fix is at sea (out of harbours, and under
way or offshore: a vessel last heard in harbour is not dark) and that has been silent for the
same thresholds, in heard time, up to the end of the data is dark now: an ais_gap from its last
fix to the feed's last fix, with ``dark_now: true`` and ``reappeared: null`` (mda.scan keeps it
open; the scan that hears the vessel again finds the closed silence with the same start, so the
same id, and closes it). Only while the feed is still heard: not when the end of the data lies in
a down bin, nor across a data hole; only where another vessel was heard around the vessel's last
fix (within about ``dark_edge_km``) once the silence counted, so the place is still heard
(``heard_near`` in the evidence); and not where ``dark_edge_vessels`` vessels at sea were last
heard near each other and are all silent since: that place is the edge of what the receivers
hear, where vessels sail out of range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mda import schema
from mda.config import AisGapConfig, Config
from mda.detect.base import Context, make_alerts
from mda.detect.runs import locate, seconds, zone_ids
from mda.feed import shared_silences


def _zone_at(ctx: Context, pos: np.ndarray, kinds: list[str] | tuple[str, ...]) -> np.ndarray:
    """Row position in ctx.zones of a zone of these kinds holding each point, -1 where none."""
    m = ctx.membership
    out = np.full(len(pos), -1, dtype=np.int64)
    if not len(m) or not len(pos):
        return out
    zpos, zone = m["pos"].to_numpy(), m["zone"].to_numpy()
    sel = ctx.member_in(kinds)
    by_pos = pd.Series(zone[sel], index=zpos[sel])
    by_pos = by_pos[~by_pos.index.duplicated()]
    return by_pos.reindex(pos).fillna(-1).to_numpy(dtype=np.int64)


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """Alerts for AIS silences at sea (schema.ALERTS): those over, and those going on."""
    found = [a for a in (silences(ctx, cfg), dark_now(ctx, cfg)) if len(a)]
    return pd.concat(found, ignore_index=True) if found else schema.empty(schema.ALERTS)


def silences(ctx: Context, cfg: Config) -> pd.DataFrame:
    """Alerts for AIS silences at sea the vessel came back from."""
    th = cfg.ais_gap
    gaps = ctx.tracks.gaps
    # silences several vessels share are a receiver going down and up: judged over all of the
    # tracks' silences, not only the long ones, so one receiver's outage is seen whole
    t0, t1 = seconds(gaps["start"]), seconds(gaps["end"])
    receiver = shared_silences(t0, t1, cfg.feed)
    long = (gaps["hours"] >= min(th.min_hours, th.zone_min_hours)).to_numpy() & ~receiver
    # a silence across a data hole has no known end: the vessel was last heard before the feed
    # stopped, and what came after the hole is another data set
    long &= ~ctx.coverage.spans_hole(t0, t1)
    gaps, t0, t1 = gaps[long].reset_index(drop=True), t0[long], t1[long]
    if gaps.empty:
        return schema.empty(schema.ALERTS)
    pts = ctx.tracks.points
    mmsi = gaps["mmsi"].to_numpy()
    p0, p1 = locate(pts, mmsi, gaps["start"]), locate(pts, mmsi, gaps["end"])
    harbour0, harbour1 = ctx.harbour_at(p0), ctx.harbour_at(p1)
    z0, z1 = _zone_at(ctx, p0, th.zone_kinds), _zone_at(ctx, p1, th.zone_kinds)
    zone = np.where(z0 >= 0, z0, z1)
    hours = ctx.coverage.heard_seconds(t0, t1) / 3600.0
    went = gaps["dist_m"].to_numpy() >= th.min_distance_m
    # moved while dark from anywhere but a harbour, left a harbour dark, or dark in open water
    open_water = ~harbour0 & ~harbour1 & ~went
    open_water[open_water] = ctx.offshore(
        gaps["lat0"].to_numpy()[open_water], gaps["lon0"].to_numpy()[open_water]
    )
    at_sea = (went & ~(harbour0 & harbour1)) | open_water
    # in a cable or restricted zone even a short silent stay matters
    keep = ((hours >= th.min_hours) & at_sea) | ((zone >= 0) & (hours >= th.zone_min_hours))
    g, zone, heard = gaps[keep].reset_index(drop=True), zone[keep], hours[keep]
    same_spot, from_harbour = ~went[keep], harbour0[keep]
    if g.empty:
        return schema.empty(schema.ALERTS)
    high = (heard >= th.high_hours) | (zone >= 0)
    rows = pd.DataFrame(
        {
            "type": "ais_gap",
            "severity": np.where(high, "high", "medium"),
            "mmsi": g["mmsi"],
            "start": g["start"],
            "end": g["end"],
            "lat": g["lat0"],
            "lon": g["lon0"],
            "zone_id": zone_ids(ctx, zone),
        }
    )
    rows["evidence"] = [
        {
            "hours": round(float(r.hours), 2),
            "hours_heard": round(float(h), 2),
            "distance_km": round(float(r.dist_m) / 1000, 3),
            "implied_kn": round(float(r.implied_kn), 2) if np.isfinite(r.implied_kn) else None,
            "dark_now": False,
            "same_spot": bool(s),
            "from_harbour": bool(f),
            "last_seen": r.start.isoformat(),
            "reappeared": r.end.isoformat(),
            "lat0": float(r.lat0),
            "lon0": float(r.lon0),
            "lat1": float(r.lat1),
            "lon1": float(r.lon1),
        }
        for r, h, s, f in zip(
            g.itertuples(index=False), heard, same_spot, from_harbour, strict=True
        )
    ]
    return make_alerts(rows, ctx, cfg.thresholds("ais_gap"))


def dark_now(ctx: Context, cfg: Config) -> pd.DataFrame:
    """Alerts for vessels silent at sea up to the end of the data (see the module docstring)."""
    th, cov, pts = cfg.ais_gap, ctx.coverage, ctx.tracks.points
    end = cov.end
    if pts.empty or not heard_at_end(ctx):
        return schema.empty(schema.ALERTS)
    good = np.flatnonzero(~pts["outlier"].to_numpy(dtype=bool))
    mm = pts["mmsi"].to_numpy()[good]
    last = good[np.r_[mm[1:] != mm[:-1], True]] if len(good) else good  # points by mmsi, ts
    t0 = seconds(pts["ts"].iloc[last])
    t1 = np.full(len(last), end)
    hours = cov.heard_seconds(t0, t1) / 3600.0
    silent = (hours >= min(th.min_hours, th.zone_min_hours)) & ~cov.spans_hole(t0, t1)
    last, t0, hours = last[silent], t0[silent], hours[silent]
    p = pts.iloc[last]
    lat, lon = p["lat"].to_numpy(), p["lon"].to_numpy()
    sog = p["sog"].to_numpy(dtype="float64", na_value=np.nan)
    under_way = sog > cfg.anchoring.stationary_kn
    at_sea = ~ctx.harbour_at(last)
    at_sea[at_sea & ~under_way] = ctx.offshore(lat[at_sea & ~under_way], lon[at_sea & ~under_way])
    zone = _zone_at(ctx, last, th.zone_kinds)
    keep = ((hours >= th.min_hours) & at_sea) | ((zone >= 0) & (hours >= th.zone_min_hours))
    cell = _cells(lat, lon, th.dark_edge_km)
    keep &= _near(cell, at_sea | (zone >= 0)) < th.dark_edge_vessels
    # the place was still heard: another vessel heard around it once the silence counted
    after = t0 + np.where(zone >= 0, th.zone_min_hours, th.min_hours) * 3600.0
    others = np.zeros(len(keep), dtype=np.int64)
    others[keep] = _heard_near(pts, p["mmsi"].to_numpy()[keep], cell[keep], after[keep], th)
    keep &= others > 0
    if not keep.any():
        return schema.empty(schema.ALERTS)
    p = p[keep].reset_index(drop=True)
    zone, hours, sog, others = zone[keep], hours[keep], sog[keep], others[keep]
    until = pd.Timestamp(end, unit="s", tz="UTC")
    rows = pd.DataFrame(
        {
            "type": "ais_gap",
            "severity": np.where((hours >= th.high_hours) | (zone >= 0), "high", "medium"),
            "mmsi": p["mmsi"],
            "start": p["ts"],
            "end": until,
            "lat": p["lat"],
            "lon": p["lon"],
            "zone_id": zone_ids(ctx, zone),
        }
    )
    rows["evidence"] = [
        {
            "hours": round((until - t).total_seconds() / 3600.0, 2),
            "hours_heard": round(float(h), 2),
            "dark_now": True,
            "last_seen": t.isoformat(),
            "reappeared": None,
            "lat0": float(la),
            "lon0": float(lo),
            "sog0": None if np.isnan(v) else round(float(v), 1),
            "heard_near": int(n),
        }
        for t, h, la, lo, v, n in zip(p["ts"], hours, p["lat"], p["lon"], sog, others, strict=True)
    ]
    return make_alerts(rows, ctx, cfg.thresholds("ais_gap"))


def heard_at_end(ctx: Context) -> bool:
    """The feed was heard in the bin holding the end of the data: only then can a vessel be
    dark now (when nobody is heard at the end, nothing is known about now)."""
    return ctx.coverage.up_at(ctx.coverage.end)


#: Offsets of a grid cell's key to its own and its eight neighbours' (see _cells).
_AROUND = np.array([di * (1 << 32) + dj for di in (-1, 0, 1) for dj in (-1, 0, 1)])


def _cells(lat: np.ndarray, lon: np.ndarray, km: float) -> np.ndarray:
    """Key of each place's grid cell of about `km` (in degrees of latitude, both ways)."""
    deg = km / 111.2
    return np.floor(lat / deg).astype(np.int64) * (1 << 32) + np.floor(lon / deg).astype(np.int64)


def _near(cell: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Per place: how many `counted` places lie in its grid cell or a neighbouring one (itself
    included when counted)."""
    counts = pd.Series(cell[counted]).value_counts()
    return sum(counts.reindex(cell + d, fill_value=0).to_numpy() for d in _AROUND)


def _heard_near(
    pts: pd.DataFrame, mmsi: np.ndarray, cell: np.ndarray, after: np.ndarray, th: AisGapConfig
) -> np.ndarray:
    """Per silent vessel (its mmsi, the grid cell of its last fix): how many other vessels were
    heard in that cell or a neighbouring one at or after `after` (epoch seconds)."""
    if not len(mmsi):
        return np.zeros(0, dtype=np.int64)
    t = seconds(pts["ts"])
    sel = t >= after.min()
    p = pts[sel]
    heard = pd.DataFrame(
        {
            "cell": _cells(p["lat"].to_numpy(), p["lon"].to_numpy(), th.dark_edge_km),
            "other": p["mmsi"].to_numpy(dtype=np.int64),
            "t": t[sel],
        }
    )
    heard = heard.groupby(["cell", "other"], sort=False)["t"].max().reset_index()
    ask = pd.DataFrame(
        {
            "q": np.repeat(np.arange(len(mmsi)), len(_AROUND)),
            "cell": (cell[:, None] + _AROUND).ravel(),
            "mmsi": np.repeat(mmsi.astype(np.int64), len(_AROUND)),
            "after": np.repeat(after, len(_AROUND)),
        }
    )
    m = ask.merge(heard, on="cell")
    m = m[(m["other"] != m["mmsi"]) & (m["t"] >= m["after"])].drop_duplicates(["q", "other"])
    return np.bincount(m["q"].to_numpy(), minlength=len(mmsi))
