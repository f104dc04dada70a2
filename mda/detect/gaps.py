"""ais_gap: a vessel silent at sea for hours (or for less in a cable corridor or restricted area).

Built on the silences the tracks module already found (``tracks.gaps``). A silence counts only when
the vessel's last fix before it lies outside ports and anchorages: switching AIS off at the quay
is normal, at sea it hides what the vessel did (GFW "intentional disabling" logic).

A silence is measured only over the time the feed itself was heard: a bin of
``coverage_bin_minutes`` in which the whole feed hears fewer than ``outage_fraction`` of its
median number of vessels is a reception outage (a receiver or ingest down, or an extract holding
only a few hours of a day), and a vessel is not dark for what nobody could hear. A feed that
typically hears fewer than ``outage_min_vessels`` vessels per bin cannot show an outage, so there
every bin counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.base import Context, make_alerts
from mda.detect.runs import locate, seconds, zone_ids

HARBOUR_KINDS = ("port", "anchorage")


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


def heard_hours(points: pd.DataFrame, start: pd.Series, end: pd.Series, cfg: Config) -> np.ndarray:
    """Hours between each start and end during which the feed was heard (outage bins left out)."""
    th = cfg.ais_gap
    t0, t1 = seconds(start), seconds(end)
    if not len(points) or not len(t0):
        return (t1 - t0) / 3600.0
    bin_s = th.coverage_bin_minutes * 60.0
    t = seconds(points["ts"])
    base = t.min()
    b = ((t - base) // bin_s).astype(np.int64)
    n_bins = int(b.max()) + 1
    pairs = np.unique(b * (1 << 32) + points["mmsi"].to_numpy(dtype=np.int64))  # (bin, vessel)
    heard = np.bincount(pairs >> 32, minlength=n_bins)
    typical = np.median(heard[heard > 0])
    up = np.ones(n_bins, dtype=bool)
    if typical >= th.outage_min_vessels:
        up = heard >= th.outage_fraction * typical
    # seconds heard from the first bin's start up to x: whole bins before x, plus x's own part
    done = np.r_[0.0, np.cumsum(up * bin_s)]

    def upto(x: np.ndarray) -> np.ndarray:
        k = np.clip(((x - base) // bin_s).astype(np.int64), 0, n_bins - 1)
        return done[k] + up[k] * np.clip(x - base - k * bin_s, 0.0, bin_s)

    return (upto(t1) - upto(t0)) / 3600.0


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """Alerts for AIS silences at sea (schema.ALERTS)."""
    th = cfg.ais_gap
    gaps = ctx.tracks.gaps
    gaps = gaps[gaps["hours"] >= min(th.min_hours, th.zone_min_hours)].reset_index(drop=True)
    if gaps.empty:
        return schema.empty(schema.ALERTS)
    pts = ctx.tracks.points
    mmsi = gaps["mmsi"].to_numpy()
    p0, p1 = locate(pts, mmsi, gaps["start"]), locate(pts, mmsi, gaps["end"])
    in_harbour = _zone_at(ctx, p0, HARBOUR_KINDS) >= 0
    z0, z1 = _zone_at(ctx, p0, th.zone_kinds), _zone_at(ctx, p1, th.zone_kinds)
    zone = np.where(z0 >= 0, z0, z1)
    hours = heard_hours(pts, gaps["start"], gaps["end"], cfg)
    # reappearing where it went silent is a vessel at its berth or anchor, unless in a cable or
    # restricted zone, where even a silent stay matters
    went = gaps["dist_m"].to_numpy() >= th.min_distance_m
    long = (hours >= th.min_hours) & went
    keep = ~in_harbour & (long | ((zone >= 0) & (hours >= th.zone_min_hours)))
    g, zone, heard = gaps[keep].reset_index(drop=True), zone[keep], hours[keep]
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
            "last_seen": r.start.isoformat(),
            "reappeared": r.end.isoformat(),
            "lat0": float(r.lat0),
            "lon0": float(r.lon0),
            "lat1": float(r.lat1),
            "lon1": float(r.lon1),
        }
        for r, h in zip(g.itertuples(index=False), heard, strict=True)
    ]
    return make_alerts(rows, ctx, cfg.thresholds("ais_gap"))
