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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config
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
    """Alerts for AIS silences at sea (schema.ALERTS)."""
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
