"""Zone layers: load and validate, buffer points and lines in metres, classify positions fast.

A zone file is anything pyogrio reads (GeoJSON, GeoPackage, Shapefile, KML, ...) whose features
carry ``id``, ``name``, ``kind`` (schema.ZONE_KINDS), an optional ``source`` and ``buffer_m``.
Points and lines become circles and corridors of ``buffer_m`` metres (required for them); polygons
are used as drawn, grown by ``buffer_m`` when it is given. Buffers are computed in a spherical
azimuthal equidistant projection centred within a degree of each piece, so a 1 km buffer is 1 km at
60° N as at the equator. Features that cross the antimeridian (consecutive vertices more than 180°
of longitude apart, or longitudes beyond ±180) are split at ±180 into MultiPolygons.

Classification uses a grid index built once per zone set: 1° blocks of 1/32° cells, each cell
knowing the zones that cover it entirely and the clipped pieces of zones that cross it, so most
points are settled by two array look-ups and only points near a zone edge get an exact
point-in-polygon test against a small piece. A point exactly on a zone boundary is outside it
(the "within" rule of geopandas.sjoin). A built index is kept in memory and on disk, under
$MDA_CACHE_DIR (default $XDG_CACHE_HOME/mda or ~/.cache/mda; "off" disables it), keyed by the zone
geometries, this module's code and the GEOS version.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from mda import schema
from mda.config import DATA_DIR
from mda.errors import MdaError
from mda.geo import EARTH_RADIUS_M, haversine_m
from mda.terminal import safe_text

log = logging.getLogger(__name__)

#: Where the bundled layers live; load_zones() without paths reads every GeoJSON file here.
BUNDLED_DIR = DATA_DIR / "zones"
#: File types picked up when a directory is given.
ZONE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".kml", ".fgb")

_SEGMENT_DEG = 0.05  # lines are densified to this spacing before buffering (about 5.5 km)
_CELLS_PER_DEG = 32  # classification grid: 1° blocks of 1/32° cells
_PAD_DEG = 1e-9  # cells are clipped slightly larger so points on a cell edge test exactly
_QUAD_SEGS = 16  # circle smoothness of buffers (segments per quarter circle)


# --------------------------------------------------------------------------------------------
# Loading and validation


def load_zones(paths: str | Path | Sequence[str | Path] | None = None) -> gpd.GeoDataFrame:
    """Read, validate and buffer zone layers into one table of zone areas.

    `paths` is a file, a directory (its zone files), or a sequence of them; None reads the bundled
    layers. Every layer of a multi-layer file (GeoPackage) is read. Returns schema.ZONES columns
    plus ``geometry`` (the zone area, Polygon/MultiPolygon, EPSG:4326), ``feature_geometry`` (the
    feature as drawn, EPSG:4326, split at the antimeridian) and ``file``. Raises MdaError naming
    the file and feature on the first problem.
    """
    files = _zone_files(paths)
    if not files:
        raise MdaError("no zone files given")
    raw = pd.concat([_read_zone_file(f) for f in files], ignore_index=True)
    dup = raw["id"].duplicated(keep=False)
    if dup.any():
        fid = raw.loc[dup, "id"].iloc[0]
        seen = raw.loc[raw["id"] == fid, "file"].tolist()
        raise MdaError(f"{seen[1]}: feature {fid!r}: duplicate id (also in {seen[0]})")
    feature = _normalise_lon(raw["geometry"].to_numpy())
    area = _zone_areas(feature, raw["buffer_m"].to_numpy())
    table = schema.conform(raw[list(schema.ZONES)], schema.ZONES, extra=False)
    table["feature_geometry"] = gpd.GeoSeries(_split_antimeridian(feature), crs=4326)
    table["file"] = raw["file"].astype("string").to_numpy()
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(area, crs=4326), crs=4326)


def _zone_files(paths: str | Path | Sequence[str | Path] | None) -> list[Path]:
    if paths is None:
        files = sorted(BUNDLED_DIR.glob("*.geojson"))
        if not files:
            raise MdaError(f"{BUNDLED_DIR}: no bundled zone layers found")
        return files
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in ZONE_SUFFIXES)
            if not found:
                raise MdaError(f"{p}: no zone files ({', '.join(ZONE_SUFFIXES)}) in directory")
            files.extend(found)
        else:
            files.append(p)
    return files


def _read_zone_file(path: Path) -> pd.DataFrame:
    """All layers of one file as id, name, kind, buffer_m, source, geometry (EPSG:4326), file."""
    if not path.exists():
        raise MdaError(f"{path}: no such zone file")
    try:
        layers = [name for name, gtype in pyogrio.list_layers(path) if gtype is not None]
        frames = []
        for layer in layers:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # mixed-type columns: we check values ourselves
                frames.append(pyogrio.read_dataframe(path, layer=layer))
    except Exception as e:  # pyogrio raises several types for unreadable input; report them all
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise MdaError(f"{path}: cannot read zone layer: {msg}") from None
    frames = [f for f in frames if len(f)]
    if not frames:
        raise MdaError(f"{path}: no zone features found")
    out = []
    for df in frames:
        if df.crs is None:
            df = df.set_crs(4326)  # GeoJSON-like sources without a CRS are lon/lat
        elif not df.crs.equals("EPSG:4326"):
            df = df.to_crs(4326)
        out.append(_validate(df, path))
    return pd.concat(out, ignore_index=True)


def _column(df: pd.DataFrame, name: str) -> pd.Series | None:
    """A property column matched case-insensitively (Shapefile and KML change case)."""
    for col in df.columns:
        if col != "geometry" and str(col).lower() == name:
            return df[col]
    return None


def _labels(ids: pd.Series) -> list[str]:
    return [repr(v) if v else f"#{i} (no id)" for i, v in enumerate(ids)]


def _validate(df: gpd.GeoDataFrame, path: Path) -> pd.DataFrame:
    """Check one layer's features; raise MdaError naming file and feature on the first problem."""
    n = len(df)
    ids = _text(_column(df, "id"), n)
    labels = _labels(ids)

    def fail(i: int, problem: str) -> MdaError:
        return MdaError(f"{path}: feature {labels[int(i)]}: {problem}")

    if (ids == "").any():
        raise fail(np.flatnonzero(ids == "")[0], "missing id")
    dup = ids.duplicated()
    if dup.any():
        raise fail(np.flatnonzero(dup)[0], "duplicate id")
    kinds = _text(_column(df, "kind"), n).str.lower()
    bad = ~kinds.isin(schema.ZONE_KINDS)
    if bad.any():
        i = np.flatnonzero(bad)[0]
        raise fail(i, f"unknown kind {kinds[i]!r} (expected one of {', '.join(schema.ZONE_KINDS)})")
    names = _text(_column(df, "name"), n)
    names = names.where(names != "", ids)

    geom = np.array(shapely.force_2d(np.asarray(df.geometry.values, dtype=object)), dtype=object)
    missing = pd.isna(geom) | shapely.is_empty(geom)
    if missing.any():
        raise fail(np.flatnonzero(missing)[0], "empty geometry")
    gtype = shapely.get_type_id(geom)
    polygonal = np.isin(gtype, (3, 6))
    unsupported = ~np.isin(gtype, (0, 1, 3, 4, 5, 6))
    if unsupported.any():
        i = np.flatnonzero(unsupported)[0]
        raise fail(i, f"unsupported geometry type {geom[i].geom_type}")
    nonfinite = ~np.isfinite(shapely.bounds(geom)).all(axis=1)
    if nonfinite.any():
        raise fail(np.flatnonzero(nonfinite)[0], "coordinates are not finite numbers")

    raw_buf = _column(df, "buffer_m")
    if raw_buf is None:
        raw_buf = pd.Series([None] * n)
    raw_buf = raw_buf.reset_index(drop=True)
    buf = pd.to_numeric(raw_buf.where(raw_buf.astype("string").str.strip() != ""), errors="coerce")
    notnum = buf.isna() & raw_buf.notna() & (raw_buf.astype("string").str.strip() != "")
    if notnum.any():
        i = np.flatnonzero(notnum)[0]
        raise fail(i, f"buffer_m {raw_buf[i]!r} is not a number")
    buf = buf.astype("float64").to_numpy()
    if (buf < 0).any() or np.isinf(buf).any():
        i = np.flatnonzero((buf < 0) | np.isinf(buf))[0]
        raise fail(i, f"buffer_m {float(buf[i]):g} must be a finite number >= 0")
    needs = ~polygonal & ~(buf > 0)
    if needs.any():
        i = np.flatnonzero(needs)[0]
        raise fail(i, "a Point or LineString needs buffer_m > 0 (radius or half-width in metres)")

    invalid = ~shapely.is_valid(geom)
    for i in np.flatnonzero(invalid):  # rare: one repair per broken feature
        reason = shapely.is_valid_reason(geom[i])
        if not polygonal[i]:
            raise fail(i, f"invalid geometry ({reason})")
        parts = shapely.get_parts(shapely.make_valid(geom[i]))
        fixed = shapely.union_all(parts[shapely.get_type_id(parts) == 3])  # drop collapsed parts
        if fixed.is_empty or not fixed.is_valid:
            raise fail(i, f"invalid geometry that cannot be repaired ({reason})")
        log.warning("%s: feature %s: repaired invalid polygon (%s)", path, labels[i], reason)
        geom[i] = fixed

    return pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "name": names.to_numpy(),
            "kind": kinds.to_numpy(),
            "buffer_m": buf,
            "source": _text(_column(df, "source"), n).to_numpy(),
            "geometry": geom,
            "file": str(path),
        }
    )


def _text(col: pd.Series | None, n: int) -> pd.Series:
    """A property as stripped strings, "" where absent."""
    if col is None:
        return pd.Series([""] * n, dtype="string")
    s = col.reset_index(drop=True).astype("string").fillna("").str.strip()
    return s.astype("string")


# --------------------------------------------------------------------------------------------
# Projections, buffering and the antimeridian


def _project(lon, lat, lon0, lat0, inverse: bool = False, equal_area: bool = False):
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


def _normalise_lon(geoms: np.ndarray) -> np.ndarray:
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
    return shapely.set_coordinates(geoms.copy(), coords)


def _split_antimeridian(geoms: np.ndarray) -> np.ndarray:
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
    polygonal = np.isin(shapely.get_type_id(g), (3, 6))
    merged[polygonal] = _polygonal(merged[polygonal])
    geoms[out] = merged
    return geoms


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygon parts (overlay can leave slivers as lines or points)."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    out = np.empty(len(geoms), dtype=object)
    shapely.multipolygons(parts[keep], indices=idx[keep], out=out)
    out[pd.isna(out)] = shapely.Polygon()
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _metric_buffer(geoms: np.ndarray, dist_m: np.ndarray) -> np.ndarray:
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
    pieces = _reproject(pieces, lon0, lat0)
    pieces = shapely.buffer(pieces, dist_m[groups[:, 0]], quad_segs=_QUAD_SEGS)
    pieces = _reproject(pieces, lon0, lat0, inverse=True)
    return _union_by(pieces, groups[:, 0], n)


def _reproject(geoms: np.ndarray, lon0: np.ndarray, lat0: np.ndarray, inverse: bool = False):
    """Apply _project to every vertex of geoms[i] with centre (lon0[i], lat0[i])."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    x, y = _project(coords[:, 0], coords[:, 1], lon0[idx], lat0[idx], inverse=inverse)
    return shapely.set_coordinates(geoms.copy(), np.stack([x, y], axis=1))


def _union_by(pieces: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Union of pieces per owner index 0..n-1 (one GEOS union per multi-piece owner)."""
    out = np.array([shapely.Polygon()] * n, dtype=object)
    order = np.argsort(owner, kind="stable")
    owner, pieces = owner[order], pieces[order]
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    ends = np.r_[starts[1:], len(owner)]
    for s, e in zip(starts, ends, strict=True):
        out[owner[s]] = pieces[s] if e - s == 1 else shapely.union_all(pieces[s:e])
    return out


def _zone_areas(feature: np.ndarray, buffer_m: np.ndarray) -> np.ndarray:
    """Zone polygon of each (longitude-normalised) feature, split at the antimeridian."""
    polygonal = np.isin(shapely.get_type_id(feature), (3, 6))
    area = feature.copy()
    grow = np.flatnonzero(~polygonal | (buffer_m > 0))
    if len(grow):
        src = np.where(polygonal[grow], shapely.boundary(feature[grow]), feature[grow])
        buffered = _metric_buffer(src, buffer_m[grow])
        grown = polygonal[grow]
        buffered[grown] = shapely.union(buffered[grown], feature[grow][grown])
        area[grow] = buffered
    return _split_antimeridian(area)


# --------------------------------------------------------------------------------------------
# Classification


@dataclass
class _GridIndex:
    """Look-up tables of a zone set (see the module docstring)."""

    block_full_ptr: np.ndarray  # CSR over 180*360 blocks: zones covering the whole block
    block_full: np.ndarray
    block_slot: np.ndarray  # block -> slot in leaf_table, -1 when no cell-level entries
    leaf_table: np.ndarray  # slot * cells + cell -> leaf index, -1 when empty
    leaf_full_ptr: np.ndarray  # CSR over leaves: zones covering the whole cell
    leaf_full: np.ndarray
    leaf_part_ptr: np.ndarray  # CSR over leaves: pieces (zone clipped to the cell) to test
    leaf_part: np.ndarray
    edge_ptr: np.ndarray  # CSR over pieces: their ring edges as rows of (x0, y0, x1, y1)
    edges: np.ndarray  # shape (4, number of edges), rows contiguous for fast gathers
    piece_zone: np.ndarray


_INDEX_CACHE: OrderedDict[str, _GridIndex] = OrderedDict()
#: Index files kept in the on-disk cache; the least recently written beyond this are removed.
_DISK_CACHE_FILES = 16


def _index_for(geoms: np.ndarray) -> _GridIndex:
    """The grid index of a zone set, cached by the geometries' WKB (zones are reused per scan).

    Built indexes are also kept on disk (see :func:`_cache_dir`), so a fresh process loads one in
    milliseconds instead of building it. The key covers everything the index depends on: the
    geometries, this module's source (the algorithm) and the GEOS version, so a changed zone,
    code or library gets a new file, never a stale one.
    """
    digest = hashlib.sha1()
    digest.update(Path(__file__).read_bytes())
    digest.update(shapely.geos_version_string.encode())
    for wkb in shapely.to_wkb(geoms):
        digest.update(wkb)
    key = digest.hexdigest()
    if key in _INDEX_CACHE:
        _INDEX_CACHE.move_to_end(key)
        return _INDEX_CACHE[key]
    folder = _cache_dir()
    index = _load_index(folder / f"zone-index-{key}.npz") if folder else None
    if index is None:
        index = _build_index(geoms)
        if folder:
            _save_index(index, folder, key)
    _INDEX_CACHE[key] = index
    if len(_INDEX_CACHE) > 4:
        _INDEX_CACHE.popitem(last=False)
    return index


def _cache_dir() -> Path | None:
    """$MDA_CACHE_DIR, else $XDG_CACHE_HOME/mda, else ~/.cache/mda; None when MDA_CACHE_DIR is
    empty or "off" (no on-disk cache)."""
    env = os.environ.get("MDA_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off") else Path(env)
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "mda"
    try:
        return Path.home() / ".cache" / "mda"
    except RuntimeError:  # no home directory (some service accounts): no cache
        return None


def _load_index(path: Path) -> _GridIndex | None:
    """A cached index, or None when the file is missing or not a complete index (rebuilt)."""
    names = [f.name for f in fields(_GridIndex)]
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {n: npz[n] for n in names}
    except FileNotFoundError:
        return None
    except Exception as e:  # a truncated or foreign file: numpy, zipfile and OS errors alike
        log.debug("%s: unusable zone index cache (%s), rebuilding", path, e)
        return None
    if arrays["edges"].dtype != np.float64 or any(
        a.dtype != np.int64 for n, a in arrays.items() if n != "edges"
    ):
        return None
    return _GridIndex(**arrays)


def _save_index(index: _GridIndex, folder: Path, key: str) -> None:
    """Write the index atomically (temporary file, then rename); a cache that cannot be written
    is skipped, never an error. Keeps the newest _DISK_CACHE_FILES files."""
    tmp = folder / f".zone-index-{key}.{os.getpid()}.tmp.npz"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(tmp, **asdict(index))
        os.replace(tmp, folder / f"zone-index-{key}.npz")
        cached = sorted(folder.glob("zone-index-*.npz"), key=lambda f: f.stat().st_mtime)
        for old in cached[:-_DISK_CACHE_FILES]:
            old.unlink(missing_ok=True)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        log.debug("zone index cache not written to %s: %s", folder, e)


def _boxes(ix: np.ndarray, iy: np.ndarray, size: np.ndarray, pad: float) -> np.ndarray:
    x0, y0 = -180.0 + ix * size, -90.0 + iy * size
    return shapely.box(x0 - pad, y0 - pad, x0 + size + pad, y0 + size + pad)


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items with `counts` sub-items: (item of each sub-item, rank within its item)."""
    item = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return item, np.arange(len(item)) - starts[item]


def _csr(keys: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr, values[order]


def _build_index(geoms: np.ndarray) -> _GridIndex:
    """Quadtree descent per zone, all zones and cells of a level processed together."""
    leaf_size = 1.0 / _CELLS_PER_DEG
    b = shapely.bounds(geoms)
    ok = ~shapely.is_empty(geoms)
    zone = np.flatnonzero(ok)
    b = b[ok]
    extent = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    size = np.clip(2.0 ** np.ceil(np.log2(np.maximum(extent, leaf_size))), leaf_size, 64.0)
    x0 = np.floor((b[:, 0] + 180) / size).astype(np.int64)
    x1 = np.floor((b[:, 2] + 180) / size).astype(np.int64)
    y0 = np.floor((b[:, 1] + 90) / size).astype(np.int64)
    y1 = np.floor((b[:, 3] + 90) / size).astype(np.int64)
    nx, ny = x1 - x0 + 1, y1 - y0 + 1
    item, rank = _expand(nx * ny)
    cz, cs = zone[item], size[item]
    cx, cy = x0[item] + rank % nx[item], y0[item] + rank // nx[item]
    # pool: every clipped piece made so far; cpar: the piece (zone clipped to the parent cell)
    # that decides for each current cell. Leaves test points against their parent's piece,
    # exact inside the parent's padded cell, so the finest level needs no clipping.
    pool, cpar = [geoms], cz.copy()
    offset = len(geoms)
    no_int, no_float = np.empty(0, np.int64), np.empty(0, float)
    full_parts = [(no_int, no_float, no_int, no_int)]
    leaves = [(no_int, no_int, no_int, no_int)]
    while len(cz):
        parents = np.concatenate(pool)
        shapely.prepare(parents)
        padded = _boxes(cx, cy, cs, _PAD_DEG)
        hit = shapely.intersects(parents[cpar], padded)
        cz, cs, cx, cy, cpar, padded = (a[hit] for a in (cz, cs, cx, cy, cpar, padded))
        # the half-padded box lies strictly inside the parent's padded clip
        full = shapely.contains_properly(parents[cpar], _boxes(cx, cy, cs, _PAD_DEG / 2))
        full_parts.append((cz[full], cs[full], cx[full], cy[full]))
        cz, cs, cx, cy, cpar, padded = (a[~full] for a in (cz, cs, cx, cy, cpar, padded))
        leaf = cs <= leaf_size
        leaves.append((cz[leaf], cx[leaf], cy[leaf], cpar[leaf]))
        split = ~leaf
        pool.append(shapely.intersection(parents[cpar[split]], padded[split]))
        cpar = np.repeat(offset + np.arange(int(split.sum())), 4)
        offset += int(split.sum())
        cz, cs, cx, cy = (np.repeat(a[split], 4) for a in (cz, cs, cx, cy))
        q = np.tile(np.arange(4), int(split.sum()))
        cs = cs / 2
        cx, cy = cx * 2 + q % 2, cy * 2 + q // 2
    fz, fs, fx, fy = (np.concatenate(a) for a in zip(*full_parts, strict=True))
    lz, lx, ly, lpar = (np.concatenate(a) for a in zip(*leaves, strict=True))
    used, lpiece = np.unique(lpar, return_inverse=True)
    lpiece = lpiece.ravel()
    piece_zone = np.empty(len(used), dtype=np.int64)
    piece_zone[lpiece] = lz
    edge_ptr, edges = _piece_edges(np.concatenate(pool)[used])

    nblocks = 180 * 360
    # full cells of 1° or more -> every block inside them (within the world)
    big = fs >= 1.0
    per = (fs[big]).astype(np.int64)
    item, rank = _expand(per * per)
    bx = fx[big][item] * per[item] + rank % per[item]
    by = fy[big][item] * per[item] + rank // per[item]
    inside = (bx < 360) & (by < 180)
    bfull_block, bfull_zone = (by * 360 + bx)[inside], fz[big][item][inside]
    # smaller full cells -> leaf cells; partial leaves as they are
    small = ~big
    per = (fs[small] * _CELLS_PER_DEG).astype(np.int64)
    item, rank = _expand(per * per)
    sx = fx[small][item] * per[item] + rank % per[item]
    sy = fy[small][item] * per[item] + rank // per[item]
    cell_x = np.concatenate([sx, lx])
    cell_y = np.concatenate([sy, ly])
    nfull_leaf = len(sx)
    cell_key = cell_y * (360 * _CELLS_PER_DEG) + cell_x
    leaf_keys, leaf_of = np.unique(cell_key, return_inverse=True)
    leaf_of = leaf_of.ravel()
    lkx, lky = leaf_keys % (360 * _CELLS_PER_DEG), leaf_keys // (360 * _CELLS_PER_DEG)
    leaf_block = (lky // _CELLS_PER_DEG) * 360 + lkx // _CELLS_PER_DEG
    leaf_cell = (lky % _CELLS_PER_DEG) * _CELLS_PER_DEG + lkx % _CELLS_PER_DEG
    slot_blocks = np.unique(leaf_block)
    block_slot = np.full(nblocks, -1, dtype=np.int64)
    block_slot[slot_blocks] = np.arange(len(slot_blocks))
    cells = _CELLS_PER_DEG * _CELLS_PER_DEG
    leaf_table = np.full(len(slot_blocks) * cells, -1, dtype=np.int64)
    leaf_table[block_slot[leaf_block] * cells + leaf_cell] = np.arange(len(leaf_keys))
    nleaves = len(leaf_keys)
    bptr, bzones = _csr(bfull_block, bfull_zone, nblocks)
    lfptr, lfzones = _csr(leaf_of[:nfull_leaf], fz[small][item], nleaves)
    lpptr, lpieces = _csr(leaf_of[nfull_leaf:], lpiece, nleaves)
    return _GridIndex(
        bptr,
        bzones,
        block_slot,
        leaf_table,
        lfptr,
        lfzones,
        lpptr,
        lpieces,
        edge_ptr,
        edges,
        piece_zone,
    )


def _piece_edges(pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ring edges of each piece (x0, y0, x1, y1), as a CSR table over pieces."""
    mixed = shapely.get_type_id(pieces) == 7  # clipping can add slivers of lower dimension
    if mixed.any():
        pieces = pieces.copy()
        pieces[mixed] = _polygonal(pieces[mixed])
    polys, owner = shapely.get_parts(pieces, return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    edges = np.hstack([coords[:-1][same], coords[1:][same]])
    ptr, edges = _csr(owner[ring_poly[ring[:-1][same]]], edges, len(pieces))
    return ptr, np.ascontiguousarray(edges.T)


def _inside(x: np.ndarray, y: np.ndarray, piece: np.ndarray, idx: _GridIndex) -> np.ndarray:
    """Even-odd point-in-polygon test of (x[i], y[i]) against piece[i], vectorised over edges.

    Pieces are small (a zone clipped to one cell, about five edges). A point on an edge is
    outside, like the "within" predicate.
    """
    item, rank = _expand(idx.edge_ptr[piece + 1] - idx.edge_ptr[piece])
    edge = idx.edge_ptr[piece][item] + rank
    py = y[item]
    ay, by = idx.edges[1][edge], idx.edges[3][edge]
    straddle = (ay > py) != (by > py)  # half-open in y: each crossing counted once
    keep = np.flatnonzero(
        straddle | (ay == py) | (by == py)
    )  # the rest can neither cross nor touch
    edge, item, py, ay, by, straddle = (a[keep] for a in (edge, item, py, ay, by, straddle))
    ax, bx, px = idx.edges[0][edge], idx.edges[2][edge], x[item]
    cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)  # > 0: point left of a -> b
    crossings = np.bincount(item[straddle & (cross * (by - ay) > 0)], minlength=len(piece))
    on_edge = (cross == 0) & (np.minimum(ax, bx) <= px) & (px <= np.maximum(ax, bx))
    touching = np.bincount(item[on_edge], minlength=len(piece)) > 0
    return (crossings % 2 == 1) & ~touching


def _gather(ptr: np.ndarray, values: np.ndarray, rows: np.ndarray, keys: np.ndarray):
    """Pairs (row, value) for every value listed under keys[i] in a CSR table."""
    counts = ptr[keys + 1] - ptr[keys]
    item, rank = _expand(counts)
    return rows[item], values[ptr[keys][item] + rank]


def classify(positions: pd.DataFrame, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """Which zones contain each position: int64 columns `pos` (row position in positions) and
    `zone` (row position in zones), one row per containment, sorted by pos then zone.

    A position on a zone boundary is outside it; NaN or out-of-range coordinates are in no zone.
    """
    empty = pd.DataFrame({"pos": np.empty(0, np.int64), "zone": np.empty(0, np.int64)})
    if len(positions) == 0 or len(zones) == 0:
        return empty
    lon = np.asarray(positions["lon"], dtype="float64")
    lat = np.asarray(positions["lat"], dtype="float64")
    pos, zone = _classify_xy(lon, lat, _index_for(np.asarray(zones.geometry.values)))
    order = np.lexsort((zone, pos))
    return pd.DataFrame({"pos": pos[order], "zone": zone[order]})


def _classify_xy(lon: np.ndarray, lat: np.ndarray, idx: _GridIndex):
    ok = np.flatnonzero(
        np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    )
    x, y = lon[ok], lat[ok]
    cpd = _CELLS_PER_DEG
    cx = np.minimum(np.floor((x + 180.0) * cpd).astype(np.int64), 360 * cpd - 1)
    cy = np.minimum(np.floor((y + 90.0) * cpd).astype(np.int64), 180 * cpd - 1)
    block = (cy // cpd) * 360 + cx // cpd
    p1, z1 = _gather(idx.block_full_ptr, idx.block_full, ok, block)
    slot = idx.block_slot[block]
    has = slot >= 0
    leaf = idx.leaf_table[slot[has] * cpd * cpd + (cy[has] % cpd) * cpd + cx[has] % cpd]
    rows = np.flatnonzero(has)[leaf >= 0]
    leaf = leaf[leaf >= 0]
    p2, z2 = _gather(idx.leaf_full_ptr, idx.leaf_full, ok[rows], leaf)
    cand_row, piece = _gather(idx.leaf_part_ptr, idx.leaf_part, rows, leaf)
    inside = _inside(x[cand_row], y[cand_row], piece, idx)
    p3, z3 = ok[cand_row[inside]], idx.piece_zone[piece[inside]]
    return np.concatenate([p1, p2, p3]), np.concatenate([z1, z2, z3])


# --------------------------------------------------------------------------------------------
# Distances and listing


def zone_distance_m(lat, lon, zones: gpd.GeoDataFrame, kinds: Sequence[str]) -> np.ndarray:
    """Great-circle metres from each point to the nearest zone of `kinds` (0 inside, inf when
    there is no such zone, NaN for NaN coordinates).

    The nearest point of a zone is searched in a plane scaled by cos(latitude) per 1° latitude
    band (one STRtree query per band), then the distance to it is the exact haversine distance:
    the result is the true distance to a real point of the zone, within about 2 % of the true
    minimum for zones up to a few hundred km away (it never under-estimates).
    """
    lat = np.asarray(lat, dtype="float64")
    lon = np.asarray(lon, dtype="float64")
    out = np.full(lat.shape, np.nan)
    sel = zones.geometry.values[zones["kind"].isin(list(kinds)).to_numpy()]
    geoms = np.asarray(sel, dtype=object)
    good = np.isfinite(lat) & np.isfinite(lon)
    if len(geoms) == 0:
        out[good] = np.inf
        return out
    shifted = np.concatenate(
        [geoms]
        + [shapely.transform(geoms, lambda c, d=d: c + np.array([d, 0.0])) for d in (-360, 360)]
    )
    band = np.floor(np.where(good, lat, 0.0)).astype(np.int64)
    for b in np.unique(band[good]):
        rows = np.flatnonzero(good & (band == b))
        k = max(np.cos(np.radians(b + 0.5)), 0.01)
        scaled = shapely.transform(shifted, lambda c, k=k: c * [k, 1.0])
        pts = shapely.points(lon[rows] * k, lat[rows])
        src, hit = shapely.STRtree(scaled).query_nearest(pts, all_matches=False)
        near = shapely.get_coordinates(
            shapely.get_point(shapely.shortest_line(pts[src], scaled[hit]), 1)
        )
        out[rows[src]] = haversine_m(lat[rows[src]], lon[rows[src]], near[:, 1], near[:, 0] / k)
    return out


def format_zone_table(zones: gpd.GeoDataFrame) -> str:
    """Zones grouped by kind: counts per kind, then id, name, buffer and area (km²) per zone."""
    if len(zones) == 0:
        return "no zones"
    text = {c: zones[c].astype(str).map(safe_text) for c in ("id", "name", "kind")}
    zones = zones.assign(**text)  # one table line per zone, whatever its text holds
    area = zone_area_km2(zones)
    counts = zones["kind"].value_counts()
    kinds = [k for k in schema.ZONE_KINDS if k in counts] + sorted(
        k for k in counts.index if k not in schema.ZONE_KINDS
    )
    head = ", ".join(f"{counts[k]} {k}" for k in kinds)
    lines = [f"{len(zones)} zones: {head}"]
    idw = max(12, int(zones["id"].str.len().max()))
    for k in kinds:
        lines.append("")
        lines.append(f"{k} ({counts[k]})")
        lines.append(f"  {'id':<{idw}}  {'name':<44}  {'buffer m':>9}  {'area km²':>10}")
        sel = np.flatnonzero((zones["kind"] == k).to_numpy())
        for i in sel:
            row = zones.iloc[i]
            name = str(row["name"])
            name = name if len(name) <= 44 else name[:43] + "…"
            buf = "" if pd.isna(row["buffer_m"]) else f"{row['buffer_m']:,.0f}"
            lines.append(f"  {row['id']:<{idw}}  {name:<44}  {buf:>9}  {area[i]:>10,.1f}")
    return "\n".join(lines)


def zone_area_km2(zones: gpd.GeoDataFrame) -> np.ndarray:
    """Area of each zone in km², in a Lambert equal-area projection centred on each zone."""
    geoms = np.asarray(zones.geometry.values, dtype=object)
    centre = shapely.get_coordinates(shapely.centroid(geoms))
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) == 0:
        return np.zeros(len(geoms))
    lon0 = centre[idx, 0]
    lon = lon0 + (coords[:, 0] - lon0 + 180) % 360 - 180  # split parts stay near the centre
    x, y = _project(lon, coords[:, 1], lon0, centre[idx, 1], equal_area=True)
    projected = shapely.set_coordinates(geoms.copy(), np.stack([x, y], axis=1))
    return shapely.area(projected) / 1e6
