"""Knots: the piecewise motion of every ship, the legs that build it, and its interpolation.

Every ship is a list of knots (time, position, SOG, COG, heading, navigational status); legs build
them (sailing along a densified lane, moored or anchored, drifting, dragging).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from mda.geo import EARTH_RADIUS_M, NM, bearing_deg, haversine_m

KN = NM / 3600.0  # metres per second in one knot
_KNOT_STEP_M = 5_000.0  # lanes are densified so straight lon/lat interpolation stays on course


@dataclass
class Knots:
    """Motion of one ship: at time t[i] it is at (lat, lon) and reports sog/cog/heading/nav
    until t[i+1]; positions between knots are interpolated linearly."""

    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    sog: np.ndarray
    cog: np.ndarray
    heading: np.ndarray
    nav: np.ndarray

    @staticmethod
    def concat(parts: list[Knots]) -> Knots:
        return Knots(*(np.concatenate([getattr(p, f) for p in parts]) for f in _KNOT_FIELDS))

    @property
    def end(self) -> tuple[float, float, float]:
        return float(self.t[-1]), float(self.lat[-1]), float(self.lon[-1])


_KNOT_FIELDS = ("t", "lat", "lon", "sog", "cog", "heading", "nav")


def offset(
    lat: npt.ArrayLike, lon: npt.ArrayLike, east_m: npt.ArrayLike, north_m: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Move points by metres east/north (flat-earth: fine over the tens of km used here)."""
    lat = np.asarray(lat, dtype=float)
    dlat = np.degrees(np.asarray(north_m) / EARTH_RADIUS_M)
    dlon = np.degrees(np.asarray(east_m) / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    return lat + dlat, np.asarray(lon, dtype=float) + dlon


def densify(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Insert vertices so no straight piece of a path is longer than _KNOT_STEP_M."""
    seg = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    n = np.maximum(1, np.ceil(seg / _KNOT_STEP_M).astype(int))
    idx = np.repeat(np.arange(len(seg)), n)
    frac = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / n[idx]
    out_lon = np.append(lon[idx] + (lon[idx + 1] - lon[idx]) * frac, lon[-1])
    out_lat = np.append(lat[idx] + (lat[idx + 1] - lat[idx]) * frac, lat[-1])
    keep = np.append(True, haversine_m(out_lat[:-1], out_lon[:-1], out_lat[1:], out_lon[1:]) > 1)
    return out_lon[keep], out_lat[keep]


def sail(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    t0: float,
    speed_kn: float,
    rng: np.random.Generator,
    d0: float = 0.0,
    dense: bool = False,
) -> Knots:
    """Knots sailing along a path (densified unless `dense`) from distance d0 (m), constant
    speed."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    if not dense:
        lon, lat = densify(lon, lat)
    cum = np.concatenate([[0.0], np.cumsum(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]))])
    if d0 > 0:
        i = min(int(np.searchsorted(cum, d0, side="right")), len(cum) - 1)
        f = (d0 - cum[i - 1]) / (cum[i] - cum[i - 1])
        lon = np.concatenate([[lon[i - 1] + f * (lon[i] - lon[i - 1])], lon[i:]])
        lat = np.concatenate([[lat[i - 1] + f * (lat[i] - lat[i - 1])], lat[i:]])
        cum = np.concatenate([[d0], cum[i:]]) - d0
    n = len(lon)
    cog = np.append(bearing_deg(lat[:-1], lon[:-1], lat[1:], lon[1:]), np.nan)
    cog[-1] = cog[-2] if n > 1 else 0.0
    noisy_cog = (cog + rng.normal(0, 0.3, n)) % 360
    return Knots(
        t=t0 + cum / (speed_kn * KN),
        lat=lat,
        lon=lon,
        sog=np.round(speed_kn + rng.normal(0, 0.1, n), 1),
        cog=noisy_cog,
        heading=np.rint(noisy_cog + rng.normal(0, 1.0, n)) % 360,
        nav=np.zeros(n, dtype=np.uint8),
    )


def stay(
    lon: float,
    lat: float,
    t0: float,
    t1: float,
    nav: int,
    radius_m: float,
    rng: np.random.Generator,
) -> Knots:
    """Knots of a ship moored (nav 5) or at anchor (nav 1) swinging within radius_m."""
    t = np.append(np.arange(t0, t1, 600.0), t1)
    n = len(t)
    ang = rng.uniform(0, 2 * np.pi, n)
    r = radius_m * np.sqrt(rng.uniform(0, 1, n))
    la, lo = offset(np.full(n, lat), np.full(n, lon), r * np.sin(ang), r * np.cos(ang))
    head0 = rng.uniform(0, 360)
    anchored = nav == 1
    return Knots(
        t=t,
        lat=la,
        lon=lo,
        sog=np.round(rng.uniform(0, 0.3, n), 1) if anchored else np.zeros(n),
        cog=rng.uniform(0, 360, n).round(1),
        heading=np.rint(head0 + (np.cumsum(rng.normal(0, 8, n)) if anchored else np.zeros(n)))
        % 360,
        nav=np.full(n, nav, dtype=np.uint8),
    )


def drift(
    lon: float,
    lat: float,
    t0: float,
    t1: float,
    drift_kn: float,
    direction: float,
    rng: np.random.Generator,
    east_m: float = 0.0,
    north_m: float = 0.0,
) -> Knots:
    """Knots of a ship stopped at sea drifting with the current (ship-to-ship transfers)."""
    t = np.append(np.arange(t0, t1, 300.0), t1)
    n = len(t)
    d = drift_kn * KN * (t - t0)
    e = east_m + d * np.sin(np.radians(direction)) + rng.normal(0, 8, n)
    no = north_m + d * np.cos(np.radians(direction)) + rng.normal(0, 8, n)
    la, lo = offset(np.full(n, lat), np.full(n, lon), e, no)
    head = rng.uniform(0, 360)
    return Knots(
        t=t,
        lat=la,
        lon=lo,
        sog=np.round(np.clip(drift_kn + rng.normal(0, 0.15, n), 0.3, None), 1),
        cog=(direction + rng.normal(0, 10, n)) % 360,
        heading=np.rint(head + rng.normal(0, 2, n)) % 360,
        nav=np.zeros(n, dtype=np.uint8),
    )


def drag(
    p0: Sequence[float],
    p1: Sequence[float],
    t0: float,
    speed_kn: float,
    course_std: float,
    step_s: float,
    rng: np.random.Generator,
) -> Knots:
    """Knots of a ship dragging its anchor from p0 to p1 ([lon, lat]): reduced speed, erratic
    course (COG zig-zags around the track while the heading stays on it)."""
    base = float(bearing_deg(p0[1], p0[0], p1[1], p1[0]))
    dist = float(haversine_m(p0[1], p0[0], p1[1], p1[0]))
    n = max(2, round(dist / (speed_kn * KN * step_s)))
    course = np.radians(base + rng.normal(0, course_std, n))
    step = speed_kn * KN * step_s
    de, dn = step * np.sin(course), step * np.cos(course)
    # bend the random walk so it ends at p1: spread the miss evenly over the steps
    end_e = dist * np.sin(np.radians(base))
    end_n = dist * np.cos(np.radians(base))
    de += (end_e - de.sum()) / n
    dn += (end_n - dn.sum()) / n
    e = np.concatenate([[0.0], np.cumsum(de)])
    no = np.concatenate([[0.0], np.cumsum(dn)])
    lat, lon = offset(np.full(n + 1, p0[1]), np.full(n + 1, p0[0]), e, no)
    # each zig-zag step takes as long as it needs at the dragging speed (over the ground)
    dt = np.hypot(de, dn) / (speed_kn * KN)
    cog = np.append(np.degrees(np.arctan2(de, dn)) % 360, base)
    return Knots(
        t=t0 + np.concatenate([[0.0], np.cumsum(dt)]),
        lat=lat,
        lon=lon,
        sog=np.round(speed_kn + rng.normal(0, 0.2, n + 1), 1),
        cog=cog,
        heading=np.rint(base + rng.normal(0, 3, n + 1)) % 360,
        nav=np.zeros(n + 1, dtype=np.uint8),
    )


def evaluate(ships: list[Knots], ship: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """State of ships `ship` at times `t`: positions interpolated between knots."""
    lens = np.array([len(k.t) for k in ships])
    base = np.concatenate([[0], np.cumsum(lens)[:-1]])
    kn = {f: np.concatenate([getattr(k, f) for k in ships]) for f in _KNOT_FIELDS}
    owner = np.repeat(np.arange(len(ships)), lens)
    span = 1e8  # seconds; key = ship * span + t keeps ships apart in one sorted array
    key = owner * span + kn["t"]
    q = ship * span + t
    i = np.searchsorted(key, q, side="right") - 1
    i = np.clip(i, base[ship], base[ship] + lens[ship] - 1)
    j = np.minimum(i + 1, base[ship] + lens[ship] - 1)
    dt = kn["t"][j] - kn["t"][i]
    f = np.where(dt > 0, np.clip((t - kn["t"][i]) / np.where(dt > 0, dt, 1), 0, 1), 0.0)
    return {
        "lat": kn["lat"][i] + f * (kn["lat"][j] - kn["lat"][i]),
        "lon": kn["lon"][i] + f * (kn["lon"][j] - kn["lon"][i]),
        "sog": kn["sog"][i],
        "cog": np.round(kn["cog"][i], 1) % 360,
        "heading": kn["heading"][i],
        "nav": kn["nav"][i],
    }


@cache
def sea_lane(a: tuple[float, float], b: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The searoute lane between two [lon, lat] points (Eurostat/ORNL network), densified and
    cached for the process (a lane is computed once per port pair)."""
    import searoute

    coords = np.asarray(searoute.searoute(list(a), list(b))["geometry"]["coordinates"], float)
    lon, lat = densify(coords[:, 0], coords[:, 1])
    lon.setflags(write=False)
    lat.setflags(write=False)
    return lon, lat
