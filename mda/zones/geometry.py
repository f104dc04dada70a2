"""Zone geometry in lon/lat: azimuthal projections, metric buffers, the antimeridian, areas.

Buffers are computed in a spherical azimuthal equidistant projection centred within a degree of
each piece, so a 1 km buffer is 1 km at 60° N as at the equator. Features that cross the
antimeridian (consecutive vertices more than 180° of longitude apart, or longitudes beyond ±180)
are split at ±180 into MultiPolygons.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from mda.geo import EARTH_RADIUS_M

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
#: Shapely geometries in an object array (shapely's vectorised functions take and give these).
Geoms = NDArray[np.object_]

#: Shapely type ids of Polygon and MultiPolygon.
POLYGONAL = (3, 6)

_SEGMENT_DEG = 0.05  # lines are densified to this spacing before buffering (about 5.5 km)
_QUAD_SEGS = 16  # circle smoothness of buffers (segments per quarter circle)


def is_polygonal(geoms: Geoms) -> Bools:
    """Per geometry: a Polygon or MultiPolygon."""
    return np.isin(shapely.get_type_id(geoms), POLYGONAL)


def project(
    lon: Floats,
    lat: Floats,
    lon0: Floats,
    lat0: Floats,
    inverse: bool = False,
    equal_area: bool = False,
) -> tuple[Floats, Floats]:
    """Spherical azimuthal projection centred on (lon0, lat0), per coordinate (vectorised).

    Equidistant by default (distances from the centre are exact, within 0.01 % over 100 km),
    Lambert equal-area with `equal_area`. The inverse returns longitudes continuous around lon0
    (lon0 ± 180), which keeps pieces near the antimeridian in one piece.
    """
    p0, l0 = np.radians(lat0), np.radians(lon0)
    if not inverse:
        p, dl = np.radians(lat), np.radians(lon) - l0
        cos_c = np.clip(np.sin(p0) * np.sin(p) + np.cos(p0) * np.cos(p) * np.cos(dl), -1.0, 1.0)
        if equal_area:
            k = np.sqrt(2.0 / np.maximum(1.0 + cos_c, 1e-15))
        else:
            c = np.arccos(cos_c)
            k = np.where(c > 1e-12, c / np.where(c > 1e-12, np.sin(c), 1.0), 1.0)
        x = EARTH_RADIUS_M * k * np.cos(p) * np.sin(dl)
        y = EARTH_RADIUS_M * k * (np.cos(p0) * np.sin(p) - np.sin(p0) * np.cos(p) * np.cos(dl))
        return x, y
    x, y = lon, lat
    rho = np.hypot(x, y)
    c = rho / EARTH_RADIUS_M
    safe = np.where(rho > 0, rho, 1.0)
    p = np.arcsin(np.clip(np.cos(c) * np.sin(p0) + y * np.sin(c) * np.cos(p0) / safe, -1, 1))
    dl = np.arctan2(x * np.sin(c), rho * np.cos(p0) * np.cos(c) - y * np.sin(p0) * np.sin(c))
    return np.degrees(l0 + dl), np.degrees(p)


def normalise_lon(geoms: Geoms) -> Geoms:
    """Make each feature's longitudes continuous: a jump of more than 180° between consecutive
    vertices crosses the antimeridian, so later vertices are shifted by ±360 (may exceed ±180)."""
    geoms = np.asarray(geoms, dtype=object)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return geoms
    dx = np.diff(coords[:, 0])
    jump = np.where((np.abs(dx) > 180) & (idx[1:] == idx[:-1]), -360.0 * np.round(dx / 360), 0.0)
    if not jump.any():
        return geoms
    shift = np.concatenate([[0.0], np.cumsum(jump)])
    first = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    shift -= np.repeat(shift[first], np.diff(np.r_[first, len(idx)]))  # restart per feature
    coords[:, 0] += shift
    out: Geoms = shapely.set_coordinates(geoms.copy(), coords)
    return out


def split_antimeridian(geoms: Geoms) -> Geoms:
    """Cut geometries reaching beyond ±180° of longitude into parts shifted back into range."""
    geoms = np.asarray(geoms, dtype=object).copy()
    b = shapely.bounds(geoms)
    out = (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
    if not out.any():
        return geoms
    g = geoms[out]
    parts = []
    for k in (-1, 0, 1):
        piece = shapely.intersection(g, shapely.box(-180 + 360 * k, -90, 180 + 360 * k, 90))
        parts.append(shapely.transform(piece, lambda c, k=k: c - [360.0 * k, 0.0]))
    merged = shapely.union(shapely.union(parts[0], parts[1]), parts[2])
    polygonal = is_polygonal(g)
    merged[polygonal] = polygon_parts(merged[polygonal])
    geoms[out] = merged
    return geoms


def polygon_parts(geoms: Geoms) -> Geoms:
    """Keep only the polygon parts (overlay can leave slivers as lines or points)."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    out = np.empty(len(geoms), dtype=object)
    shapely.multipolygons(parts[keep], indices=idx[keep], out=out)
    out[pd.isna(out)] = shapely.Polygon()
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def zone_areas(feature: Geoms, buffer_m: Floats) -> Geoms:
    """Zone polygon of each (longitude-normalised) feature, split at the antimeridian: points
    and lines buffered by buffer_m metres, polygons as drawn or grown by buffer_m."""
    polygonal = is_polygonal(feature)
    area = feature.copy()
    grow = np.flatnonzero(~polygonal | (buffer_m > 0))
    if len(grow):
        src = np.where(polygonal[grow], shapely.boundary(feature[grow]), feature[grow])
        buffered = metric_buffer(src, buffer_m[grow])
        grown = polygonal[grow]
        buffered[grown] = shapely.union(buffered[grown], feature[grow][grown])
        area[grow] = buffered
    return split_antimeridian(area)


def metric_buffer(geoms: Geoms, dist_m: Floats) -> Geoms:
    """Buffer lon/lat points and lines by metres: one zone polygon per input (vectorised).

    Lines are densified and cut where they pass from one 1° cell to the next; the runs and points
    of one feature in one cell are projected to an azimuthal equidistant plane centred on that
    cell, buffered there, projected back, and the pieces of each feature merged.
    """
    n = len(geoms)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    parts = shapely.segmentize(parts, _SEGMENT_DEG)
    coords, pidx = shapely.get_coordinates(parts, return_index=True)
    is_line = np.isin(shapely.get_type_id(parts), (1, 2))
    # segments of lines, each in the cell of its midpoint, joined into runs within one cell
    same = np.flatnonzero((pidx[1:] == pidx[:-1]) & is_line[pidx[:-1]])
    seg_cell = np.floor((coords[same] + coords[same + 1]) / 2).astype(np.int64)
    new_run = np.ones(len(same), dtype=bool)
    new_run[1:] = (pidx[same][1:] != pidx[same][:-1]) | (seg_cell[1:] != seg_cell[:-1]).any(axis=1)
    run = np.cumsum(new_run) - 1
    last = np.r_[np.flatnonzero(new_run)[1:] - 1, len(same) - 1] if len(same) else same
    # run vertices: every segment's start, then the end of the run's last segment
    vert_at = np.concatenate([2 * np.arange(len(same)), 2 * last + 1])
    vert_xy = np.concatenate([coords[same], coords[same[last] + 1]])
    vert_run = np.concatenate([run, run[last]])
    order = np.argsort(vert_at, kind="stable")
    runs = shapely.linestrings(vert_xy[order], indices=vert_run[order]) if len(same) else same
    single = ~is_line[pidx]
    item_geom = np.concatenate([runs, shapely.points(coords[single])]).astype(object)
    item_owner = owner[np.concatenate([pidx[same][new_run], pidx[single]])]
    item_cell = np.concatenate([seg_cell[new_run], np.floor(coords[single]).astype(np.int64)])
    key = np.column_stack([item_owner, item_cell])
    groups, gid = np.unique(key, axis=0, return_inverse=True)
    order = np.argsort(gid.ravel(), kind="stable")
    pieces = shapely.geometrycollections(item_geom[order], indices=gid.ravel()[order])
    lon0, lat0 = groups[:, 1] + 0.5, groups[:, 2] + 0.5
    pieces = reproject(pieces, lon0, lat0)
    pieces = shapely.buffer(pieces, dist_m[groups[:, 0]], quad_segs=_QUAD_SEGS)
    pieces = reproject(pieces, lon0, lat0, inverse=True)
    return _union_by(pieces, groups[:, 0], n)


def reproject(geoms: Geoms, lon0: Floats, lat0: Floats, inverse: bool = False) -> Geoms:
    """Apply :func:`project` to every vertex of geoms[i] with centre (lon0[i], lat0[i])."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    x, y = project(coords[:, 0], coords[:, 1], lon0[idx], lat0[idx], inverse=inverse)
    out: Geoms = shapely.set_coordinates(geoms.copy(), np.stack([x, y], axis=1))
    return out


def _union_by(pieces: Geoms, owner: Ints, n: int) -> Geoms:
    """Union of pieces per owner index 0..n-1 (one GEOS union per multi-piece owner)."""
    out = np.array([shapely.Polygon()] * n, dtype=object)
    order = np.argsort(owner, kind="stable")
    owner, pieces = owner[order], pieces[order]
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    ends = np.r_[starts[1:], len(owner)]
    for s, e in zip(starts, ends, strict=True):
        out[owner[s]] = pieces[s] if e - s == 1 else shapely.union_all(pieces[s:e])
    return out


def zone_area_km2(zones: gpd.GeoDataFrame) -> Floats:
    """Area of each zone in km², in a Lambert equal-area projection centred on each zone."""
    geoms = np.asarray(zones.geometry.values, dtype=object)
    centre = shapely.get_coordinates(shapely.centroid(geoms))
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return np.zeros(len(geoms))
    lon0 = centre[idx, 0]
    lon = lon0 + (coords[:, 0] - lon0 + 180) % 360 - 180  # split parts stay near the centre
    x, y = project(lon, coords[:, 1], lon0, centre[idx, 1], equal_area=True)
    projected = shapely.set_coordinates(geoms.copy(), np.stack([x, y], axis=1))
    return np.asarray(shapely.area(projected) / 1e6, dtype=np.float64)
