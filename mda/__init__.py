"""mda: maritime domain awareness from public AIS.

Decode AIS (NMEA 0183, DMA and MarineCadastre CSV), build vessel tracks, check them against zone
layers, flag anomalies and render Folium map reports; alerts and positions as GeoDataFrames for
a GIS (`alerts_gdf`, `positions_gdf`, `points_gdf`). The public API is imported lazily so that
`import mda` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

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
