"""Harbour-scale land: Natural Earth 1:10m land clipped to a small report's view.

The page's basemap is Natural Earth 1:50m, generalised so that at harbour scale whole basins
(Long Beach, Busan) are land and ships sit on it. A report whose view is under
``FINE_LAND_MAX_SPAN_DEG`` across also carries the 1:10m land clipped to a box around its view
(the view grown to at least ``FINE_LAND_MIN_HALF_DEG`` each way from its centre, and by its own
span on every side, since the window is rarely the view's shape); the page paints that box as
sea over the 1:50m land and the 1:10m land in it. Clipped here, at render time, so the page
carries a few kB to a few hundred kB (a 20° box of the Chilean fjords, the worst found: 320 kB),
never the 3 MB file. A world view keeps the 1:50m land alone.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import numpy as np
import pyogrio
import shapely

from mda.errors import MdaError
from mda.report.offline import LAND_10M, asset_path

#: A view (the report's bounds) at most this many degrees across, in latitude and longitude,
#: gets the 1:10m land: at 10° on a 1,000 px map a pixel is about 1 km, the size of the 1:50m
#: coastline's errors in harbours.
FINE_LAND_MAX_SPAN_DEG = 10.0
#: The clip box reaches at least this far from the view's centre (a one-point report opens at
#: zoom 10, about 1.4° across).
FINE_LAND_MIN_HALF_DEG = 1.0
#: Coordinates rounded to this many decimals (about 10 m; the data is quantized to ~400 m x 190 m).
DECIMALS = 4


@cache
def _land() -> tuple[np.ndarray, shapely.STRtree]:
    """The 1:10m land polygons (lon/lat) and their index (read once per process: ~0.7 s)."""
    path = asset_path(*LAND_10M)
    try:
        geom = pyogrio.read_dataframe(path).geometry.values
    except Exception as e:  # pyogrio raises several types for unreadable input
        raise MdaError(f"{path}: cannot read land layer: {e}") from None
    parts = shapely.get_parts(np.asarray(geom, dtype=object))
    return parts, shapely.STRtree(parts)


def clip_box(bounds: list[list[float]] | None) -> tuple[float, float, float, float] | None:
    """(W, S, E, N) of the 1:10m land a view [[S, W], [N, E]] needs, or None (no view, too
    large, or across ±180°)."""
    if bounds is None:
        return None
    (s, w), (n, e) = bounds
    span = max(e - w, n - s)
    if not 0 <= span <= FINE_LAND_MAX_SPAN_DEG:
        return None
    half = max(span, FINE_LAND_MIN_HALF_DEG)
    cx, cy = (w + e) / 2, (s + n) / 2
    return (
        max(cx - half, -180.0),
        max(cy - half, -90.0),
        min(cx + half, 180.0),
        min(cy + half, 90.0),
    )


def fine_land(bounds: list[list[float]] | None) -> dict[str, Any] | None:
    """{"box": [[S, W], [N, E]], "land": GeoJSON MultiPolygon} for a small view, else None."""
    box = clip_box(bounds)
    if box is None:
        return None
    parts, tree = _land()
    clipped = shapely.clip_by_rect(parts[tree.query(shapely.box(*box))], *box)
    polys = shapely.get_parts(clipped[~shapely.is_empty(clipped)])
    polys = polys[shapely.get_type_id(polys) == shapely.GeometryType.POLYGON]
    land = shapely.transform(shapely.multipolygons(polys), lambda xy: np.round(xy, DECIMALS))
    w, s, e, n = np.round(box, DECIMALS).tolist()
    return {"box": [[s, w], [n, e]], "land": json.loads(shapely.to_geojson(land))}
