"""Anchorages learned from the scan's own data: places where many different vessels sit still.

Ships wait at anchor off every busy port in fields of dozens, mostly where no zone layer says so
(San Pedro Bay off Los Angeles, the Maas roads off Rotterdam). Public pipelines derive their
anchorages from AIS the same way: a grid cell of ``context.anchorage_cell_m`` (and its eight
neighbours, so a field on a cell edge is not split) in which at least
``context.anchorage_min_vessels`` different vessels report a stationary fix (SOG at or below
``anchoring.stationary_kn``) is an anchorage. Two ships meeting alone at sea never make one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mda.config import Config

if TYPE_CHECKING:
    import geopandas as gpd
from mda.geo import EARTH_RADIUS_M


def _cells(lat: np.ndarray, lon: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer grid cell (iy, ix) of each place: cells about cell_m wide at that latitude."""
    deg = np.degrees(cell_m / EARTH_RADIUS_M)
    iy = np.floor(lat / deg).astype(np.int64)
    # east-west size fixed per row of cells, so neighbours line up within a row
    cos = np.maximum(np.cos(np.radians((iy + 0.5) * deg)), 0.01)
    ix = np.floor(lon / (deg / cos)).astype(np.int64)
    return iy, ix


def _key(iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
    return iy * (1 << 31) + ix


def learn(points: pd.DataFrame, speed: np.ndarray, cfg: Config) -> pd.Series:
    """Different vessels sitting still per cell and its eight neighbours, by cell key; only
    cells reaching anchorage_min_vessels are kept (the learned anchorages)."""
    still = speed <= cfg.anchoring.stationary_kn
    lat, lon = points["lat"].to_numpy()[still], points["lon"].to_numpy()[still]
    iy, ix = _cells(lat, lon, cfg.context.anchorage_cell_m)
    mmsi = points["mmsi"].to_numpy(dtype=np.int64)[still]
    pairs = pd.DataFrame({"iy": iy, "ix": ix, "mmsi": mmsi}).drop_duplicates()
    spread = pd.concat(
        [
            pairs.assign(iy=pairs["iy"] + dy, ix=pairs["ix"] + dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        ],
        ignore_index=True,
    ).drop_duplicates()
    count = spread.groupby(_key(spread["iy"].to_numpy(), spread["ix"].to_numpy())).size()
    return count[count >= cfg.context.anchorage_min_vessels]


def vessels_at(field: pd.Series, lat: np.ndarray, lon: np.ndarray, cfg: Config) -> np.ndarray:
    """Per place: vessels of the learned anchorage it lies in (0 outside every one)."""
    if field.empty or not len(lat):
        return np.zeros(len(lat), dtype=np.int64)
    iy, ix = _cells(np.asarray(lat, float), np.asarray(lon, float), cfg.context.anchorage_cell_m)
    return field.reindex(_key(iy, ix), fill_value=0).to_numpy(dtype=np.int64)


def anchorage_zones(field: pd.Series, cfg: Config) -> gpd.GeoDataFrame:
    """The learned anchorages as a zone layer (id, name, kind "anchorage", geometry): the cells
    of each field merged into one polygon per connected field, largest first."""
    import geopandas as gpd
    import shapely

    cols = ["id", "name", "kind", "vessels", "geometry"]
    if field.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry="geometry", crs="EPSG:4326")
    key = field.index.to_numpy(dtype=np.int64)
    iy = np.floor_divide(key + (1 << 30), 1 << 31)
    ix = key - iy * (1 << 31)
    deg = np.degrees(cfg.context.anchorage_cell_m / EARTH_RADIUS_M)
    cos = np.maximum(np.cos(np.radians((iy + 0.5) * deg)), 0.01)
    w = deg / cos
    boxes = shapely.box(ix * w, iy * deg, (ix + 1) * w, (iy + 1) * deg)
    fields = shapely.get_parts(shapely.union_all(shapely.buffer(boxes, deg * 0.01)))
    tree = shapely.STRtree(boxes)
    vessels = [int(field.to_numpy()[tree.query(f, predicate="intersects")].max()) for f in fields]
    order = np.argsort(vessels)[::-1]
    return gpd.GeoDataFrame(
        {
            "id": [f"learned-anchorage-{k + 1}" for k in range(len(order))],
            "name": [f"anchorage learned from AIS ({vessels[i]} vessels)" for i in order],
            "kind": "anchorage",
            "vessels": [vessels[i] for i in order],
            "geometry": fields[order],
        },
        geometry="geometry",
        crs="EPSG:4326",
    )
