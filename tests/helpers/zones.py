"""Zone layers as files, the way users hand them in: GeoJSON features with id, name, kind and an
optional buffer_m (see DESIGN.md, Zones), from plain coordinates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def feature(
    fid: str, geom: dict[str, Any], kind: str = "port", buffer_m: float | None = None,
    name: str | None = None, **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    """A GeoJSON zone feature; `name` defaults to the id, `extra` adds properties."""
    props = {"id": fid, "name": name or fid, "kind": kind, **extra}
    if buffer_m is not None:
        props["buffer_m"] = buffer_m
    return {"type": "Feature", "properties": props, "geometry": geom}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def line(*coords: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def polygon(*coords: tuple[float, float]) -> dict[str, Any]:
    """A polygon through `coords`, closed for you."""
    return {"type": "Polygon", "coordinates": [[list(c) for c in [*coords, coords[0]]]]}


def write_layer(path: Path, features: list[dict[str, Any]]) -> Path:
    """`features` as a GeoJSON FeatureCollection file at `path`."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path
