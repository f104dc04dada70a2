"""World context: exact nearest WPI port and coastline distances, harbours, speed, real data."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file

from mda.config import ContextConfig, load_config
from mda.context import LAND_FILE, SHORE_SEARCH_M, _unit, load_ports, world_context
from mda.geo import haversine_m


@pytest.fixture(scope="module")
def ctx():
    return world_context()


def _global(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)


def test_bundled_ports_are_the_world_port_index():
    ports = load_ports()
    assert len(ports) == 3766 and ports["wpi"].is_unique
    assert ports["radius_m"].between(3000, 18000).all()
    lb = ports.set_index("name").loc["Long Beach"]
    assert (lb["locode"], lb["radius_m"]) == ("USLGB", 8000)


def test_land_file_is_the_report_basemap():
    from mda.report.offline import LAND, asset_path

    assert asset_path(*LAND) == LAND_FILE and LAND_FILE.exists()


def test_nearest_port_is_exact_against_brute_force(ctx):
    lat, lon = _global(3000)
    lat = np.r_[lat, 33.75, 0.0, 89.9, -89.9, 10.0, 10.0]
    lon = np.r_[lon, -118.25, 179.99, 0.0, 45.0, -179.999, 180.0]
    i, d = ctx.nearest_port(lat, lon)
    p = ctx.ports
    brute = haversine_m(lat[:, None], lon[:, None], p["lat"].to_numpy(), p["lon"].to_numpy())
    np.testing.assert_allclose(d, brute.min(axis=1), atol=1e-3)
    assert (brute[np.arange(len(lat)), i] - brute.min(axis=1) < 1e-3).all()
    assert p["name"][i[len(lat) - 6]] == "Los Angeles" and d[len(lat) - 6] < 1
    # harbour radius: inside ANY port's radius, even when the nearest port is a small one
    edge = brute - p["radius_m"].to_numpy()
    np.testing.assert_array_equal(ctx.near_port(lat, lon), edge.min(axis=1) <= 0)
    np.testing.assert_array_equal(ctx.near_port(lat, lon, within_m=50_000), d <= 50_000)


def test_bad_coordinates_give_nan_and_minus_one(ctx):
    lat = np.array([np.nan, 91.0, 55.0, 55.0])
    lon = np.array([10.0, 10.0, np.nan, 181.0])
    i, d = ctx.nearest_port(lat, lon)
    assert (i == -1).all() and np.isnan(d).all()
    assert np.isnan(ctx.shore_distance_m(lat, lon)).all()
    assert not ctx.near_port(lat, lon).any() and not ctx.at_sea(lat, lon).any()
    assert ctx.port_distance_m(33.75, -118.25).shape == (1,)  # scalars work too


def test_shore_distance_is_exact_against_brute_force(ctx):
    idx = ctx._coast
    rng = np.random.default_rng(3)
    near = rng.integers(0, idx.n, 150)  # around coast vertices, up to tens of km off
    a = idx.ua[near]
    lat = np.degrees(np.arcsin(a[:, 2])) + rng.normal(0, 0.2, 150)
    lon = np.degrees(np.arctan2(a[:, 1], a[:, 0])) + rng.normal(0, 0.2, 150)
    lat, lon = np.clip(lat, -89, 89), (lon + 180) % 360 - 180
    _, d = idx.query(lat, lon)
    u = _unit(lat, lon)
    brute = np.array(
        [idx._f(np.repeat(u[k : k + 1], idx.n, 0), np.arange(idx.n)).min() for k in range(150)]
    )
    found = np.isfinite(d)
    np.testing.assert_allclose(d[found], brute[found], atol=1e-3)
    assert (brute[~found] > SHORE_SEARCH_M).all()


def test_shore_land_and_sea(ctx):
    # mid-Atlantic, central Spain, the Øresund off Helsingør, the Kattegat off Gothenburg
    lat = np.array([30.0, 40.0, 56.03, 57.6])
    lon = np.array([-40.0, -3.7, 12.64, 11.6])
    shore = ctx.shore_distance_m(lat, lon)
    assert np.isinf(shore[0]) and shore[1] == 0 and 0 < shore[2] < 5_000
    assert 10_000 < shore[3] < 20_000
    assert ctx.on_land(lat, lon).tolist() == [False, True, False, False]
    assert ctx.at_sea(lat, lon).tolist() == [True, False, False, True]
    assert ctx.near_port(lat, lon).tolist() == [False, False, True, False]  # Helsingør


def test_config_scales_harbours():
    assert load_config().context == ContextConfig()
    small = world_context(ContextConfig(port_radius_scale=0.1))
    big = world_context(ContextConfig(port_radius_scale=2.0))
    assert world_context(ContextConfig(port_radius_scale=2.0)) is big  # built once
    lat, lon = np.array([33.71]), np.array([-118.15])  # San Pedro Bay anchorage
    assert big.near_port(lat, lon)[0] and not small.near_port(lat, lon)[0]


def test_speed_one_million_points(ctx):
    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(33.5, 34.1, 1_000_000), rng.uniform(-118.6, -117.8, 1_000_000)
    ctx.port_distance_m(lat[:10], lon[:10])  # index built
    t = time.perf_counter()
    d = ctx.port_distance_m(lat, lon)
    took = time.perf_counter() - t
    print(f"port_distance_m: {len(lat) / took:,.0f} points/s")
    assert np.isfinite(d).all() and took < 10  # ~1 s on a quiet 2-core machine


def test_la_longbeach_stationary_fixes_are_in_harbour(ctx):
    """The real LA/Long Beach day: ships that sit still are in a WPI harbour, not at sea."""
    path = shared_file("positions/marinecadastre_2020-01-01_la_longbeach_fullday.csv.gz")
    df = pd.read_csv(path, usecols=["LAT", "LON", "SOG"])  # 11-column layout, no status
    still = df[df["SOG"] < 0.5]
    near = ctx.near_port(still["LAT"], still["LON"])
    sea = ctx.at_sea(still["LAT"], still["LON"])
    print(f"LA stationary fixes: {near.mean():.1%} near a WPI port, {sea.mean():.1%} at sea")
    assert near.mean() > 0.7 and sea.mean() < 0.03
