"""Small vectorised spherical-geometry helpers shared by tracks, detectors and the simulator."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

EARTH_RADIUS_M = 6_371_008.8
NM = 1852.0  # metres per nautical mile


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres between arrays of WGS84 points (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def bearing_deg(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Initial great-circle bearing in degrees [0, 360) from point 1 to point 2 (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    x = np.sin(dl) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(x, y)) % 360.0


def per_cell(lat: np.ndarray, lon: np.ndarray, deg: float, fn: Callable) -> np.ndarray:
    """fn(lat, lon) evaluated once per grid cell of `deg` degrees (at its first point) and
    spread to every point: vessels at a berth or waiting together repeat the same few places,
    and km-scale look-ups (ports, zones) need no finer answer."""
    lat, lon = np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64")
    if not len(lat):
        return np.asarray(fn(lat, lon))
    cell = np.round(lat / deg).astype(np.int64) * 4_000_000_000 + np.round(lon / deg).astype(
        np.int64
    )
    code, uniq = pd.factorize(cell)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[code[::-1]] = np.arange(len(code))[::-1]
    return np.asarray(fn(lat[first], lon[first]))[code]
