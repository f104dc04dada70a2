"""loitering and anchoring: a vessel staying put at sea, outside ports and anchorages.

"At sea" means out of harbour (``ctx.harbour_at``: port and anchorage zones, the world ports'
harbour radii, a believed "moored" status) and, for a stay to be reported, mostly offshore
(``ctx.offshore``: off the coastline) or inside a zone of the detector's kinds (a cable corridor
reaches the shore; anchoring on it there matters most).

Loitering (GFW carrier-loitering style) is a long stretch whose time-weighted mean speed over a
sliding window stays under a few knots; anchoring is being at anchor (navigational status 1, or
stationary within a small radius) outside a designated anchorage. A ship anchored at sea for hours
is both (GFW counts it as loitering too), so the two alerts can cover the same stay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.base import Context, make_alerts
from mda.detect.runs import (
    bridge,
    expand,
    run_zone,
    runs,
    seconds,
    speed,
    times_at,
    vessel_codes,
    window,
    zone_ids,
)
from mda.geo import EARTH_RADIUS_M, NM, haversine_m

TYPES = ("loitering", "anchoring")
AT_ANCHOR = 1  # AIS navigational status "at anchor"


class _Stays:
    """The good (non-outlier) fixes of a scan with the per-point arrays both detectors use."""

    def __init__(self, ctx: Context):
        pts = ctx.tracks.points
        good = ~pts["outlier"].to_numpy(dtype=bool)
        self.pos = np.flatnonzero(good)
        self.pts = pts.iloc[self.pos].reset_index(drop=True)
        self.t = seconds(self.pts["ts"])
        self.code = vessel_codes(self.pts)
        self.dt = self.pts["dt_s"].to_numpy(dtype="float64")
        self.dist = self.pts["dist_m"].to_numpy(dtype="float64")
        self.implied = self.pts["speed_kn"].to_numpy(dtype="float64")
        self.speed = speed(self.pts)
        self.lat = self.pts["lat"].to_numpy()
        self.lon = self.pts["lon"].to_numpy()
        self.harbour_at = lambda sub: ctx.harbour_at(self.pos[sub])
        self.offshore = ctx.offshore
        self.anchored = self.pts["nav_status"].to_numpy() == AT_ANCHOR

    def mean_speed(self, window_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Time-weighted mean speed over a centred window: each fix holds until the next one.

        Also returns the cumulative held time and held speed x time, for means over any range.
        """
        t, spd = self.t, np.nan_to_num(self.speed, nan=0.0)
        hold = np.zeros(len(t))
        same = self.code[1:] == self.code[:-1]
        hold[:-1] = np.where(same, np.minimum(t[1:] - t[:-1], window_s), 0.0)
        hold[np.isnan(self.speed)] = 0.0
        cw = np.concatenate(([0.0], np.cumsum(hold)))
        cs = np.concatenate(([0.0], np.cumsum(hold * spd)))
        lo, hi = window(self.code, t, self.code, t - window_s / 2, t + window_s / 2 + 1e-3)
        w = cw[hi] - cw[lo]
        mean = np.where(w > 0, (cs[hi] - cs[lo]) / np.where(w > 0, w, 1.0), self.speed)
        return mean, cw, cs

    def events(
        self, mask: np.ndarray, moved: np.ndarray, merge_s: float, min_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Runs of `mask` lasting min_s, bridged over breaks under merge_s, per vessel.

        A run also breaks where `moved` says the vessel went somewhere since its previous fix
        (a short silence does not end a stay, a relocation or a long silence does).
        """
        stay = self.code + np.cumsum(moved)  # changes with the vessel or where it moved
        first, last = runs(mask, stay)
        first, last, _ = bridge(first, last, self.t, stay, merge_s)
        keep = self.t[last] - self.t[first] >= min_s
        return first[keep], last[keep]

    def outside_harbour(self, mask: np.ndarray) -> np.ndarray:
        """`mask` where the fix is not in harbour (judged only where `mask` holds)."""
        out = mask.copy()
        sub = np.flatnonzero(mask)
        out[sub] = ~self.harbour_at(sub)
        return out

    def share(self, mask: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Per run [first, last]: the fraction of its fixes where `mask` holds."""
        c = np.r_[0, np.cumsum(mask)]
        return (c[last + 1] - c[first]) / (last - first + 1)

    def at_sea(self, zone: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Runs worth reporting: in a zone of the detector's kinds, or centred offshore (out of
        harbours and off the coast: a stop in a bay or a river mouth is not at-sea behaviour)."""
        lat, lon, _ = self.spread(first, last)
        return (zone >= 0) | self.offshore(lat, lon)

    def spread(self, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per run: mean lat, lon and the largest distance of a fix from that centre (m)."""
        owner, idx = expand(first, last + 1)
        n = np.bincount(owner, minlength=len(first))
        lat = np.bincount(owner, self.lat[idx], len(first)) / n
        lon = np.bincount(owner, self.lon[idx], len(first)) / n
        d = haversine_m(self.lat[idx], self.lon[idx], lat[owner], lon[owner])
        radius = np.zeros(len(first))
        np.maximum.at(radius, owner, d)
        return lat, lon, radius

    def drift_kn(self, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Per run: speed of the least-squares straight-line drift of its fixes (kn).

        A ship at anchor swings around one spot (no trend); one drifting with the current moves
        steadily one way, however slowly its reported SOG says it goes.
        """
        owner, idx = expand(first, last + 1)
        n = np.bincount(owner, minlength=len(first)).astype("float64")
        t = self.t[idx] - self.t[first][owner]
        north = np.radians(self.lat[idx] - self.lat[first][owner]) * EARTH_RADIUS_M
        east = np.radians(self.lon[idx] - self.lon[first][owner]) * EARTH_RADIUS_M
        east *= np.cos(np.radians(self.lat[idx]))

        def slope(v: np.ndarray) -> np.ndarray:
            st, sv = np.bincount(owner, t, len(first)), np.bincount(owner, v, len(first))
            stt, stv = np.bincount(owner, t * t, len(first)), np.bincount(owner, t * v, len(first))
            var = stt - st * st / n
            return np.where(var > 0, (stv - st * sv / n) / np.where(var > 0, var, 1.0), 0.0)

        return np.hypot(slope(north), slope(east)) * 3600.0 / NM

    def rows(self, type_: str, first: np.ndarray, last: np.ndarray) -> pd.DataFrame:
        """Alert rows (before severity, zone and evidence) for runs [first, last]."""
        return pd.DataFrame(
            {
                "type": type_,
                "mmsi": self.pts["mmsi"].to_numpy()[first],
                "start": times_at(self.pts["ts"], first),
                "end": times_at(self.pts["ts"], last),
            }
        )


def _anchor_runs(st: _Stays, cfg: Config) -> tuple[np.ndarray, np.ndarray, tuple]:
    th = cfg.anchoring
    at_anchor = st.anchored | (st.speed <= th.stationary_kn)
    moved = (st.dist > th.max_radius_m) | (st.dt > th.max_silence_hours * 3600)
    first, last = st.events(
        st.outside_harbour(at_anchor), moved, th.merge_minutes * 60, th.min_minutes * 60
    )
    lat, lon, radius = st.spread(first, last)
    drift = st.drift_kn(first, last)
    ok = (radius <= th.max_radius_m) & (drift <= th.stationary_kn)  # drifting is not anchored
    return first[ok], last[ok], (lat[ok], lon[ok], radius[ok], drift[ok])


def _anchoring(ctx: Context, cfg: Config, st: _Stays) -> pd.DataFrame:
    first, last, (lat, lon, radius, drift) = _anchor_runs(st, cfg)
    if not len(first):
        return schema.empty(schema.ALERTS)
    zone = run_zone(ctx, st.pos, first, last, cfg.anchoring.zone_kinds)
    sea = st.at_sea(zone, first, last)
    first, last, zone = first[sea], last[sea], zone[sea]
    lat, lon, radius, drift = lat[sea], lon[sea], radius[sea], drift[sea]
    if not len(first):
        return schema.empty(schema.ALERTS)
    rows = st.rows("anchoring", first, last)
    rows["severity"] = np.where(zone >= 0, "high", "low")
    rows["lat"], rows["lon"], rows["zone_id"] = lat, lon, zone_ids(ctx, zone)
    status_share = st.share(st.anchored, first, last)
    rows["evidence"] = [
        {
            "minutes": round(float(st.t[b] - st.t[a]) / 60, 1),
            "radius_m": round(float(r), 1),
            "drift_kn": round(float(d), 2),
            "fixes": int(b - a + 1),
            "status_at_anchor_share": round(float(s), 2),
            "median_kn": round(float(np.nanmedian(st.speed[a : b + 1])), 2),
        }
        for a, b, r, d, s in zip(first, last, radius, drift, status_share, strict=True)
    ]
    return make_alerts(rows, ctx, cfg.thresholds("anchoring"))


def _loitering(ctx: Context, cfg: Config, st: _Stays) -> pd.DataFrame:
    th = cfg.loitering
    window_s = th.window_minutes * 60
    mean, cw, cs = st.mean_speed(window_s)
    # slow on average over the window, widened by the slow fixes at its edges
    slow_mean = mean < th.max_speed_kn
    slow = st.outside_harbour(slow_mean | (st.speed < th.max_speed_kn))
    merge_s = th.merge_minutes * 60
    moved = (st.dt > merge_s) & (st.implied >= th.max_speed_kn)
    moved |= st.dt > th.max_silence_hours * 3600
    first, last = st.events(slow, moved, merge_s, th.min_hours * 3600)
    held = cw[last] - cw[first]  # the last fix's hold lies after the event
    run_kn = np.where(held > 0, (cs[last] - cs[first]) / np.where(held > 0, held, 1.0), np.inf)
    ok = run_kn < th.max_speed_kn
    first, last, run_kn = first[ok], last[ok], run_kn[ok]
    zone = run_zone(ctx, st.pos, first, last, th.zone_kinds)
    sea = st.at_sea(zone, first, last)
    first, last, run_kn, zone = first[sea], last[sea], run_kn[sea], zone[sea]
    if not len(first):
        return schema.empty(schema.ALERTS)
    lat, lon, radius = st.spread(first, last)
    rows = st.rows("loitering", first, last)
    rows["severity"] = np.where(zone >= 0, "medium", "low")
    rows["lat"], rows["lon"], rows["zone_id"] = lat, lon, zone_ids(ctx, zone)
    rows["evidence"] = [
        {
            "hours": round(float(st.t[b] - st.t[a]) / 3600, 2),
            "mean_kn": round(float(k), 2),
            "max_kn": round(float(np.nanmax(st.speed[a : b + 1])), 2),
            "radius_km": round(float(r) / 1000, 3),
            "fixes": int(b - a + 1),
        }
        for a, b, r, k in zip(first, last, radius, run_kn, strict=True)
    ]
    return make_alerts(rows, ctx, cfg.thresholds("loitering"))


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """Loitering and anchoring alerts (schema.ALERTS)."""
    if ctx.tracks.points.empty:
        return schema.empty(schema.ALERTS)
    st = _Stays(ctx)
    found = [f(ctx, cfg, st) for f in (_loitering, _anchoring)]
    found = [a for a in found if len(a)]
    return pd.concat(found, ignore_index=True) if found else schema.empty(schema.ALERTS)
