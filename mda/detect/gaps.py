"""ais_gap: a vessel silent at sea for hours (or for less in a cable corridor or restricted area).

Built on the silences the tracks module already found (``tracks.gaps``). A silence counts only when
the vessel's last fix before it lies outside ports and anchorages: switching AIS off at the quay
is normal, at sea it hides what the vessel did (GFW "intentional disabling" logic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.base import Context, make_alerts
from mda.detect.runs import locate, zone_ids

HARBOUR_KINDS = ("port", "anchorage")


def _zone_at(ctx: Context, pos: np.ndarray, kinds: list[str] | tuple[str, ...]) -> np.ndarray:
    """Row position in ctx.zones of a zone of these kinds holding each point, -1 where none."""
    m = ctx.membership
    out = np.full(len(pos), -1, dtype=np.int64)
    if not len(m) or not len(pos):
        return out
    zpos, zone = m["pos"].to_numpy(), m["zone"].to_numpy()
    sel = np.isin(ctx.zones["kind"].to_numpy()[zone], list(kinds))
    by_pos = pd.Series(zone[sel], index=zpos[sel])
    by_pos = by_pos[~by_pos.index.duplicated()]
    return by_pos.reindex(pos).fillna(-1).to_numpy(dtype=np.int64)


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
    hours = gaps["hours"].to_numpy()
    # reappearing where it went silent is a vessel at its berth or anchor, unless in a cable or
    # restricted zone, where even a silent stay matters
    went = gaps["dist_m"].to_numpy() >= th.min_distance_m
    long = (hours >= th.min_hours) & went
    keep = ~in_harbour & (long | ((zone >= 0) & (hours >= th.zone_min_hours)))
    g, zone = gaps[keep].reset_index(drop=True), zone[keep]
    if g.empty:
        return schema.empty(schema.ALERTS)
    high = (g["hours"].to_numpy() >= th.high_hours) | (zone >= 0)
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
            "distance_km": round(float(r.dist_m) / 1000, 3),
            "implied_kn": round(float(r.implied_kn), 2) if np.isfinite(r.implied_kn) else None,
            "last_seen": r.start.isoformat(),
            "reappeared": r.end.isoformat(),
            "lat0": float(r.lat0),
            "lon0": float(r.lon0),
            "lat1": float(r.lat1),
            "lon1": float(r.lon1),
        }
        for r in g.itertuples(index=False)
    ]
    return make_alerts(rows, ctx, cfg.thresholds("ais_gap"))
