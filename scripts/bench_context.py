"""World context on real AIS: speed, and where moored, anchored and stationary ships fall.

For each real sample in ../shared/data/positions (read with pandas directly: the mda reader does
not take the 11-column MarineCadastre layout yet), prints points/s of port_distance_m,
near_port and shore_distance_m next to a baseline (geopandas sjoin_nearest to the WPI points in
EPSG:3857), and the fraction of fixes near a WPI port (inside its harbour radius) and at sea
(cfg [context] thresholds) for moored (status 5), at-anchor (1), stationary (SOG < 0.5 kn)
and moving fixes. The LA/Long Beach day has no status column, so only SOG is used there.

    python scripts/bench_context.py [--shared DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from timing import Took, timed

from mda.context import world_context

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DMA_STATUS = {"Moored": 5, "At anchor": 1}


def _samples(shared: Path):
    """(name, frame of lat, lon, sog, status) for each real CSV sample."""
    la = shared / "positions/marinecadastre_2020-01-01_la_longbeach_fullday.csv.gz"
    if la.exists():
        df = pd.read_csv(la, usecols=["LAT", "LON", "SOG"])
        yield la.name, pd.DataFrame(
            {"lat": df["LAT"], "lon": df["LON"], "sog": df["SOG"], "status": -1}
        )
    for f in sorted((shared / "positions").glob("dma_*.csv")):
        df = pd.read_csv(f, usecols=["Latitude", "Longitude", "SOG", "Navigational status"])
        status = df["Navigational status"].map(DMA_STATUS).fillna(-1).astype(int)
        yield f.name, pd.DataFrame(
            {"lat": df["Latitude"], "lon": df["Longitude"], "sog": df["SOG"], "status": status}
        )


def _rate(fn, *args) -> tuple[Took, object]:
    with timed() as took:
        out = fn(*args)
    return took, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED)
    a = ap.parse_args()
    ctx = world_context()
    t_load, _ = _rate(lambda: (ctx.port_distance_m(0, 0), ctx.shore_distance_m(0, 0)))
    print(f"context indexes built in {t_load} ({len(ctx.ports):,} ports)")
    wpi = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(ctx.ports["lon"], ctx.ports["lat"]), crs=4326
    ).to_crs(3857)
    for name, df in _samples(a.shared):
        df = df[df["lat"].abs().le(90) & df["lon"].abs().le(180)]
        lat, lon, n = df["lat"].to_numpy(), df["lon"].to_numpy(), len(df)
        t_port, _ = _rate(ctx.port_distance_m, lat, lon)
        t_near, near = _rate(ctx.near_port, lat, lon)
        t_shore, shore = _rate(ctx.shore_distance_m, lat, lon)
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
        t_base, _ = _rate(lambda p=pts: gpd.sjoin_nearest(p.to_crs(3857), wpi, distance_col="d"))
        sea = (shore >= ctx.cfg.at_sea_shore_m) & ~near
        print(f"\n{name}: {n:,} fixes")
        steps = {
            "port_distance_m": t_port,
            "near_port": t_near,
            "shore_distance_m": t_shore,
            "baseline sjoin_nearest": t_base,
        }
        for label, took in steps.items():
            print(
                f"  {label:<24}{n / took.wall:>12,.0f} points/s  ({took}; "
                f"speed vs the baseline {took.speedup(t_base)})"
            )
        groups = {
            "moored (5)": df["status"].eq(5),
            "at anchor (1)": df["status"].eq(1),
            "stationary (SOG < 0.5 kn)": df["sog"].lt(0.5),
            "moving (SOG >= 0.5 kn)": df["sog"].ge(0.5),
        }
        for label, mask in groups.items():
            m = mask.to_numpy()
            if m.sum():
                print(
                    f"  {label:<26} {m.sum():>8,} fixes: near a WPI port {near[m].mean():6.1%}, "
                    f"at sea {sea[m].mean():6.1%}, median shore {np.median(shore[m]):,.0f} m"
                )


if __name__ == "__main__":
    main()
