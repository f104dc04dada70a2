"""Zone layers: load and validate, buffer points and lines in metres, classify positions fast.

* :mod:`mda.zones.load`: zone files found, read, checked (formats, resource limits, CRS) and
  made into one table of zone areas by :func:`load_zones`;
* :mod:`mda.zones.geometry`: metric buffers, the antimeridian, projections and areas;
* :mod:`mda.zones.index`: the classification grid index, built once when the zones are loaded
  and carried by the table, so detectors read and write no file;
* :mod:`mda.zones.lookup`: :func:`classify`, :func:`zone_at` and :func:`zone_distance_m`, the
  one "which zone is this point in" every detector uses;
* :mod:`mda.zones.listing`: :func:`format_zone_table`;
* :mod:`mda.zones.importing`: public geofence layers (World Port Index, NOAA charts and layers)
  turned into zone files.
"""

from mda.zones.geometry import zone_area_km2
from mda.zones.listing import format_zone_table
from mda.zones.load import (
    BUNDLED_DIR,
    ILLUSTRATIVE_DIR,
    MAX_BOUNDARY_DEG,
    MAX_BUFFER_M,
    MAX_FEATURE_VERTICES,
    MAX_FEATURES,
    MAX_FILE_BYTES,
    MAX_ID_CHARS,
    MAX_TOTAL_VERTICES,
    ZONE_SUFFIXES,
    demo_zone_files,
    load_zones,
)
from mda.zones.lookup import classify, zone_at, zone_distance_m

__all__ = [
    "BUNDLED_DIR",
    "ILLUSTRATIVE_DIR",
    "MAX_BOUNDARY_DEG",
    "MAX_BUFFER_M",
    "MAX_FEATURES",
    "MAX_FEATURE_VERTICES",
    "MAX_FILE_BYTES",
    "MAX_ID_CHARS",
    "MAX_TOTAL_VERTICES",
    "ZONE_SUFFIXES",
    "classify",
    "demo_zone_files",
    "format_zone_table",
    "load_zones",
    "zone_area_km2",
    "zone_at",
    "zone_distance_m",
]
