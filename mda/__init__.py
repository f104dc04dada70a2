"""mda: maritime domain awareness from public AIS.

Decode AIS (NMEA 0183, DMA and MarineCadastre CSV), build vessel tracks, check them against zone
layers, flag anomalies and render Folium map reports; alerts and positions as GeoDataFrames for
a GIS (`alerts_gdf`, `positions_gdf`, `points_gdf`). The public API is imported lazily so that
`import mda` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the lazy names below, as type checkers and editors should see them
    from mda.config import load_config as load_config
    from mda.detect import detect_all as detect_all
    from mda.errors import MdaError as MdaError
    from mda.gis import alerts_gdf as alerts_gdf
    from mda.gis import points_gdf as points_gdf
    from mda.gis import positions_gdf as positions_gdf
    from mda.report import build_report as build_report
    from mda.report import render_map as render_map
    from mda.scan import run_scan as run_scan
    from mda.simulate import simulate as simulate
    from mda.sources import iter_ais as iter_ais
    from mda.sources import read_ais as read_ais
    from mda.store import Store as Store
    from mda.tracks import build_tracks as build_tracks
    from mda.zones import classify as classify
    from mda.zones import load_zones as load_zones

_API = {
    "read_ais": "mda.sources",
    "iter_ais": "mda.sources",
    "Store": "mda.store",
    "build_tracks": "mda.tracks",
    "load_zones": "mda.zones",
    "classify": "mda.zones",
    "load_config": "mda.config",
    "simulate": "mda.simulate",
    "detect_all": "mda.detect",
    "run_scan": "mda.scan",
    "build_report": "mda.report",
    "render_map": "mda.report",
    "alerts_gdf": "mda.gis",
    "positions_gdf": "mda.gis",
    "points_gdf": "mda.gis",
    "MdaError": "mda.errors",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'mda' has no attribute {name!r}")
