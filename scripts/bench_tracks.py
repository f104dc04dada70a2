"""Benchmark build_tracks on synthetic traffic against baselines timed in the same run.

Synthesises realistic tracks (random-walk headings at 5-20 kn, ~1-minute reports, a few
cross-receiver duplicates and single-fix glitches, shuffled order), then times:

* ``build_tracks`` (the whole thing: clean, dedupe, sort, outliers, segments, gaps, kinematics);
* a bare-minimum baseline: ``sort_values(['mmsi', 'ts'])`` plus a groupby diff of lat/lon/ts;
* MovingPandas ``TrajectoryCollection`` construction from the same points, if installed.

Run: ``.venv/bin/python scripts/bench_tracks.py`` (1,000,000 positions of 1,000 vessels) or
``--quick`` (100,000 positions).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from timing import best_of, timed

from mda import schema
from mda.geo import NM
from mda.tracks import build_tracks

M_PER_DEG = 111_195.0


def synthesise(n: int, vessels: int, seed: int = 0) -> pd.DataFrame:
    """`n` positions of `vessels` ships with duplicates, glitches, gaps and jumps, shuffled."""
    rng = np.random.default_rng(seed)
    per = n // vessels
    dt = rng.uniform(50, 70, (vessels, per))  # ~1-minute reports
    dt[:, 0] = rng.uniform(0, 60, vessels)
    t = np.cumsum(dt, axis=1)
    t[: vessels // 50, per // 2 :] += 2 * 3600  # 2% of the vessels go silent for two hours
    kn = rng.uniform(5, 20, (vessels, 1)) + rng.normal(0, 0.3, (vessels, per))
    heading = rng.uniform(0, 360, (vessels, 1)) + np.cumsum(rng.normal(0, 3, (vessels, per)), 1)
    step = kn * NM / 3600 * dt
    h = np.radians(heading)
    lat0 = rng.uniform(-60, 60, (vessels, 1))
    lat = lat0 + np.cumsum(step * np.cos(h), 1) / M_PER_DEG
    lon = rng.uniform(-180, 180, (vessels, 1)) + np.cumsum(step * np.sin(h), 1) / (
        M_PER_DEG * np.cos(np.radians(lat0))
    )
    lat[-(vessels // 100) :, per // 2 :] += 0.5  # 1% are relocated (spoofed) half way through
    df = pd.DataFrame(
        {
            "mmsi": np.repeat(
                rng.choice(
                    np.arange(200_000_000, 200_000_000 + 100 * vessels, 100), vessels, replace=False
                ),
                per,
            ),
            "ts": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(t.ravel(), unit="s"),
            "lat": lat.ravel(),
            "lon": (lon.ravel() + 180) % 360 - 180,
            "sog": kn.ravel().round(1),
            "cog": (heading.ravel() % 360).round(1),
            "heading": (heading.ravel() % 360).round(),
            "nav_status": 0,
            "msg_type": 1,
            "source": "bench",
            "station": "a",
        }
    )
    glitch = rng.choice(len(df), len(df) // 1000, replace=False)
    df.loc[glitch, "lat"] = np.clip(
        df.loc[glitch, "lat"] + rng.uniform(-2, 2, len(glitch)), -89, 89
    )
    dup = df.sample(frac=0.01, random_state=seed)
    dup["ts"] += pd.to_timedelta(rng.uniform(0, 1.5, len(dup)), unit="s")
    dup["station"] = "b"
    df = pd.concat([df, dup]).sample(frac=1.0, random_state=seed)
    return schema.conform(df.iloc[:n], schema.POSITIONS)


def baseline(pos: pd.DataFrame) -> pd.DataFrame:
    """The least any track builder does: sort by vessel and time, difference per vessel."""
    s = pos.sort_values(["mmsi", "ts"])
    return s.groupby("mmsi")[["lat", "lon", "ts"]].diff()


def movingpandas_collection(pos: pd.DataFrame):
    """MovingPandas' own way to turn points into one trajectory per vessel."""
    import geopandas as gpd
    import movingpandas as mpd

    gdf = gpd.GeoDataFrame(
        pos, geometry=gpd.points_from_xy(pos["lon"], pos["lat"]), crs="EPSG:4326"
    )
    gdf["ts"] = gdf["ts"].dt.tz_localize(None)
    return mpd.TrajectoryCollection(gdf, traj_id_col="mmsi", t="ts")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", type=int, default=1_000_000)
    ap.add_argument("--vessels", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    ap.add_argument("--quick", action="store_true", help="100,000 positions, one run")
    a = ap.parse_args()
    if a.quick:
        a.positions, a.repeat = 100_000, 1
    with timed() as took:
        pos = synthesise(a.positions, a.vessels)
    print(f"synthesised {len(pos):,} positions of {a.vessels:,} vessels in {took}")

    tr = build_tracks(pos)
    print(
        f"tracks: {len(tr.points):,} points, {int(tr.points['outlier'].sum()):,} outliers, "
        f"{int(tr.points['jump'].sum()):,} jumps, {len(tr.segments):,} segments, "
        f"{len(tr.gaps):,} gaps"
    )
    rows = [("build_tracks", best_of(build_tracks, pos, repeat=a.repeat))]
    rows.append(("baseline sort + groupby diff", best_of(baseline, pos, repeat=a.repeat)))
    try:
        import movingpandas  # noqa: F401
    except ImportError:
        print("movingpandas not installed: its baseline is skipped")
    else:
        rows.append(("MovingPandas TrajectoryCollection", best_of(movingpandas_collection, pos)))

    ours, base = rows[0][1], rows[1][1]
    head = f"{'step':<36}{'wall s':>9}{'CPU s':>9}{'positions/s':>14}"
    print(f"\n{head}{'vs build_tracks (CPU)':>23}")
    for name, took in rows:
        rate, ratio, cpu_ratio = len(pos) / took.wall, took.wall / ours.wall, took.cpu / ours.cpu
        print(
            f"{name:<36}{took.wall:>9.3f}{took.cpu:>9.3f}{rate:>14,.0f}"
            f"{ratio:>14.2f}x ({cpu_ratio:.2f}x)"
        )
    print(
        f"\nbuild_tracks takes {ours.wall / base.wall:.2f}x the time of the bare baseline "
        f"({ours.cpu / base.cpu:.2f}x its CPU time)"
    )


if __name__ == "__main__":
    main()
