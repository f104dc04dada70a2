"""Small synthetic tracks and zones for the detector tests.

Vessels are driven by legs of (minutes, knots, course) from a start position, reporting every
`every_s` seconds, so a test reads like a voyage plan. Tracks go through mda.tracks.build_tracks
and zone membership through mda.zones.classify, as in a real scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mda import schema
from mda.config import Config
from mda.detect.base import Context
from mda.geo import NM
from mda.tracks import build_tracks

T0 = pd.Timestamp("2026-03-01T00:00:00Z")
M_PER_DEG = 111_195.0


@dataclass
class Leg:
    """One stretch of a voyage: duration, speed over ground, course and what the AIS reports."""

    minutes: float
    kn: float
    course: float = 90.0
    nav_status: int = 0
    zigzag_deg: float = 0.0  # heading/COG swings +- this around the course, alternating per fix
    heading_off: float = 0.0  # heading minus COG (a dragging anchor pulls the bow round)
    silent: bool = False  # the vessel sails this leg with AIS off
    sog: float | None = None  # reported SOG when it differs from the true speed


def sail(
    mmsi: int,
    legs: list[Leg],
    *,
    lat: float = 55.0,
    lon: float = 15.0,
    start: pd.Timestamp = T0,
    every_s: float = 60.0,
) -> pd.DataFrame:
    """Positions (schema.POSITIONS) of one vessel sailing `legs` by dead reckoning."""
    frames, t = [], start
    for leg in legs:
        n = max(round(leg.minutes * 60 / every_s), 1)
        dt = np.full(n, every_s)
        sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
        cog = (leg.course + sign * leg.zigzag_deg) % 360
        step = leg.kn * NM / 3600 * dt
        dlat = np.cumsum(step * np.cos(np.radians(cog))) / M_PER_DEG
        dlon = np.cumsum(step * np.sin(np.radians(cog))) / (M_PER_DEG * np.cos(np.radians(lat)))
        ts = t + pd.to_timedelta(np.cumsum(dt), unit="s")
        if not leg.silent:
            frames.append(
                pd.DataFrame(
                    {
                        "ts": ts,
                        "lat": lat + dlat,
                        "lon": lon + dlon,
                        "sog": leg.kn if leg.sog is None else leg.sog,
                        "cog": cog,
                        "heading": (cog + leg.heading_off) % 360,
                        "nav_status": leg.nav_status,
                    }
                )
            )
        lat, lon, t = lat + dlat[-1], lon + dlon[-1], ts[-1]
    df = pd.concat(frames, ignore_index=True)
    df["mmsi"], df["msg_type"], df["source"], df["station"] = mmsi, 1, "test", ""
    return schema.conform(df, schema.POSITIONS, extra=False)


def positions(*vessels: pd.DataFrame) -> pd.DataFrame:
    """Several vessels' positions as one table sorted by (mmsi, ts)."""
    df = pd.concat(vessels, ignore_index=True).sort_values(["mmsi", "ts"], kind="stable")
    return df.reset_index(drop=True)


def box(lat: float, lon: float, half_km: float) -> shapely.Polygon:
    """A square of +- half_km around a point."""
    dlat = half_km * 1000 / M_PER_DEG
    dlon = dlat / np.cos(np.radians(lat))
    return shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def corridor(lat: float, lon0: float, lon1: float, half_km: float) -> shapely.Polygon:
    """An east-west strip (a cable corridor) along `lat` from lon0 to lon1."""
    dlat = half_km * 1000 / M_PER_DEG
    return shapely.box(lon0, lat - dlat, lon1, lat + dlat)


def meridian(lon: float, lat0: float, lat1: float, half_km: float) -> shapely.Polygon:
    """A north-south strip (a cable corridor) along `lon` from lat0 to lat1."""
    dlon = half_km * 1000 / (M_PER_DEG * np.cos(np.radians((lat0 + lat1) / 2)))
    return shapely.box(lon - dlon, lat0, lon + dlon, lat1)


def zones(*items: tuple[str, str, shapely.Geometry]) -> gpd.GeoDataFrame:
    """A zone layer like mda.zones.load_zones returns, from (id, kind, polygon) triples."""
    ids = [i for i, _, _ in items]
    geoms = [g for _, _, g in items]
    return gpd.GeoDataFrame(
        {
            "id": pd.array(ids, dtype="string"),
            "name": pd.array([f"zone {i}" for i in ids], dtype="string"),
            "kind": pd.array([k for _, k, _ in items], dtype="string"),
            "buffer_m": np.zeros(len(items)),
            "source": pd.array([""] * len(items), dtype="string"),
            "feature_geometry": gpd.GeoSeries(geoms, crs="EPSG:4326"),
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
    )


def context(points: pd.DataFrame, layer: gpd.GeoDataFrame | None = None, cfg: Config | None = None):
    """A detector Context over these positions and zones, tracks built as in a real scan."""
    cfg = cfg or Config()
    layer = zones() if layer is None else layer
    return Context(tracks=build_tracks(points, cfg.tracks), zones=layer, config=cfg)


def scenario_alerts(name: str, seed: int, tmp_path, types: tuple[str, ...]):
    """(alerts, truth) of our `types` for a bundled simulator scenario, scanned from its NMEA."""
    import pytest

    simulate = pytest.importorskip("mda.simulate", reason="simulator not written yet").simulate
    from mda.config import DATA_DIR
    from mda.scan import run_scan

    if not (DATA_DIR / "scenarios" / f"{name}.toml").exists():
        pytest.skip(f"scenario {name} not bundled yet")
    sim = simulate(name, seed=seed)
    path = tmp_path / f"{name}.nmea"
    sim.write(path)
    alerts = run_scan(inputs=[path], config=Config(), zones=sim.zones, only=types).alerts
    truth = pd.DataFrame([e for e in sim.truth if e["type"] in types])
    return alerts.reset_index(drop=True), truth
