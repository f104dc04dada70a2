"""Benchmark mda.zones.classify against geopandas.sjoin on the bundled zone layers.

Positions are random but shaped like AIS: half along the Korea–Europe lane (spread a few km
either side of it), a quarter around ports, anchorages and cable corridors, a quarter anywhere at
sea or on land. Both methods must give the same (position, zone) pairs. Times are CPU seconds of
this process (the machine may be shared), with wall-clock seconds alongside. The grid index is
built when the zones load (or read from the on-disk cache); its build is timed on its own too.

    .venv/bin/python scripts/bench_zones.py            # 1,000,000 positions
    .venv/bin/python scripts/bench_zones.py --size 200000
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mda import zones as mz
from mda.zones import index

TARGET_PPS = 2_000_000


def make_positions(zones: gpd.GeoDataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """n positions: 50 % along the main lane, 25 % near other zones, 25 % anywhere."""
    rng = np.random.default_rng(seed)
    lane = zones.loc[zones["id"] == "route-korea-europe", "feature_geometry"].iloc[0]
    n_lane, n_near = n // 2, n // 4
    on = shapely.line_interpolate_point(lane, rng.uniform(0, lane.length, n_lane))
    lane_xy = shapely.get_coordinates(on) + rng.normal(0, 0.08, (n_lane, 2))  # ~9 km spread
    small = zones["kind"].isin(["port", "anchorage", "cable"]).to_numpy()
    centres = shapely.get_coordinates(shapely.centroid(zones.geometry.values[small]))
    near_xy = centres[rng.integers(0, len(centres), n_near)] + rng.normal(0, 0.06, (n_near, 2))
    n_any = n - n_lane - n_near
    any_xy = np.column_stack([rng.uniform(-180, 180, n_any), rng.uniform(-80, 80, n_any)])
    xy = np.concatenate([lane_xy, near_xy, any_xy])[rng.permutation(n)]
    return pd.DataFrame({"lon": np.clip(xy[:, 0], -180, 180), "lat": xy[:, 1]})


def timed(fn):
    """(result, cpu seconds, wall seconds) of fn()."""
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c, time.perf_counter() - w


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="number of positions")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many classify runs")
    a = ap.parse_args()

    zones, cpu, wall = timed(mz.load_zones)
    print(f"load_zones (bundled): {len(zones)} zones, {cpu:.2f} s CPU ({wall:.2f} s wall)")
    pos = make_positions(zones, a.size)
    print(f"positions: {len(pos):,}")

    _, b_cpu, wall = timed(lambda: index._build_index(np.asarray(zones.geometry.values)))
    print(
        f"grid index build (in load_zones, cached on disk): {b_cpu:.2f} s CPU ({wall:.2f} s wall)"
    )
    runs = [timed(lambda: mz.classify(pos, zones)) for _ in range(a.repeat)]
    got, c_cpu, c_wall = min(runs, key=lambda r: r[1])

    pts, p_cpu, _ = timed(
        lambda: gpd.GeoDataFrame(geometry=gpd.points_from_xy(pos["lon"], pos["lat"]), crs=4326)
    )
    right = zones[["geometry"]].reset_index(drop=True)
    joined, s_cpu, s_wall = timed(lambda: gpd.sjoin(pts, right, predicate="within"))

    ours = set(zip(got["pos"].tolist(), got["zone"].tolist(), strict=True))
    theirs = set(zip(joined.index.tolist(), joined["index_right"].tolist(), strict=True))
    same = ours == theirs
    pps, spps = len(pos) / c_cpu, len(pos) / s_cpu
    print(
        f"classify:        {c_cpu:6.3f} s CPU ({c_wall:.3f} s wall)  {pps:>12,.0f} points/s  "
        f"({len(pos) / c_wall:,.0f} wall)  {len(got):,} pairs"
    )
    print(
        f"geopandas.sjoin: {s_cpu:6.3f} s CPU ({s_wall:.3f} s wall)  {spps:>12,.0f} points/s  "
        f"({len(pos) / s_wall:,.0f} wall)  {len(joined):,} pairs (+{p_cpu:.3f} s CPU to build "
        "the points)"
    )
    print(
        f"ratio: classify is {s_cpu / c_cpu:.1f}x faster than sjoin in CPU time "
        f"({s_wall / c_wall:.1f}x in wall time), same run"
    )
    cold = c_cpu + b_cpu
    print(
        f"index build + classify: {cold:.3f} s CPU, {len(pos) / cold:,.0f} points/s, "
        f"{s_cpu / cold:.1f}x sjoin"
    )
    print(f"same pairs as sjoin: {same} ({len(ours - theirs)} extra, {len(theirs - ours)} missing)")
    print(
        f"target >= {TARGET_PPS:,} points/s: {'met' if pps >= TARGET_PPS else 'NOT met'}; "
        f"not slower than sjoin: {'met' if c_cpu <= s_cpu else 'NOT met'}"
    )
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
