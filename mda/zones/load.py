"""Zone files: find, read, check and turn them into one table of zone areas.

A zone file is anything pyogrio reads (GeoJSON, GeoPackage, Shapefile, KML, ...) whose features
carry ``id``, ``name``, ``kind`` (schema.ZONE_KINDS), an optional ``source`` and ``buffer_m``.
Points and lines become circles and corridors of ``buffer_m`` metres (required for them); polygons
are used as drawn, grown by ``buffer_m`` when it is given (mda.zones.geometry).

Zone files are passed between organisations, so everything in them is checked before use, and
anything :func:`load_zones` accepts is safe to scan. Refused, with one line naming the file and
the feature (id, or index when there is none): a file over MAX_FILE_BYTES (checked before it is
read), over MAX_FEATURES features (counted by the reader before the features are loaded), a
feature over MAX_FEATURE_VERTICES vertices or a load over MAX_TOTAL_VERTICES; an unknown or
unreadable CRS (only a file that declares none is read as lon/lat, as RFC 7946 says of GeoJSON);
coordinates that are not finite, latitudes outside [-90, 90] after transforming to EPSG:4326,
longitudes outside [-360, 360] (beyond ±180 only to continue across the antimeridian) or a
feature wrapping the globe more than once; empty, unsupported or unrepairable geometries (an
invalid polygon is repaired with make_valid, keeping its polygon parts, and the repair logged);
a missing, duplicated, over-long (MAX_ID_CHARS) or control-character id; an unknown kind; a
buffer_m that is not a number from 0 to MAX_BUFFER_M metres.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from mda import schema
from mda.config import DATA_DIR
from mda.errors import MdaError
from mda.zones import index
from mda.zones.geometry import (
    Geoms,
    is_polygonal,
    normalise_lon,
    split_antimeridian,
    zone_areas,
)

log = logging.getLogger(__name__)

_T = TypeVar("_T")
#: A feature's row in its layer, as numpy gives it.
Index = int | np.integer[Any]

#: Where the bundled layers live; load_zones() without paths reads every GeoJSON file here.
BUNDLED_DIR = DATA_DIR / "zones"
#: Zones this project drew for the demo (restricted areas): loaded only on request.
ILLUSTRATIVE_DIR = BUNDLED_DIR / "illustrative"


def demo_zone_files() -> list[Path]:
    """The bundled layers plus the illustrative ones: what the demo and its scenarios use."""
    return _zone_files(None) + sorted(ILLUSTRATIVE_DIR.glob("*.geojson"))


#: File types picked up when a directory is given.
ZONE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".kml", ".fgb")

#: Resource bounds (see the module docstring): a zone layer is a few thousand features, a
#: detailed coastline-following zone some ten thousand vertices; these are far above both and
#: keep loading and indexing a hostile file within about 1 GB of memory.
MAX_FILE_BYTES = 64 * 2**20
MAX_FEATURES = 100_000  # per file
MAX_FEATURE_VERTICES = 250_000
MAX_TOTAL_VERTICES = 500_000  # all files of one load together
#: Total length of zone boundaries in degrees (a line counts twice, both sides of its corridor),
#: before and after buffering: the classification index holds a piece per 1/32° cell a boundary
#: crosses. The bundled layers have about 530°.
MAX_BOUNDARY_DEG = 3_000.0
#: Largest buffer_m (metres): 1,000 km covers any real corridor or exclusion zone, and keeps the
#: azimuthal projection used for buffering far from its antipodal singularity.
MAX_BUFFER_M = 1_000_000.0
MAX_ID_CHARS = 200


# --------------------------------------------------------------------------------------------
# Loading and validation


def load_zones(paths: str | Path | Sequence[str | Path] | None = None) -> gpd.GeoDataFrame:
    """Read, validate and buffer zone layers into one table of zone areas.

    `paths` is a file, a directory (its zone files), or a sequence of them; None reads the bundled
    layers. Every layer of a multi-layer file (GeoPackage) is read. Returns schema.ZONES columns
    plus ``geometry`` (the zone area, Polygon/MultiPolygon, EPSG:4326), ``feature_geometry`` (the
    feature as drawn, EPSG:4326, split at the antimeridian) and ``file``. Raises MdaError naming
    the file and feature on the first problem.

    ``feature_geometry`` holds shapely geometries in a plain object column, not a second geometry
    column, so the table writes with ``to_file`` (GeoPackage, GeoJSON: it becomes WKT text) and
    the zone area stays the one geometry a GIS draws; drop it before ``to_parquet``.

    The table carries its classification index (mda.zones.index), built here or read from the
    on-disk cache, so classifying its positions reads and writes no file.
    """
    files = _zone_files(paths)
    if not files:
        raise MdaError("no zone files given")
    layers, vertices = [], 0
    for f in files:
        layers.append(_read_zone_file(f))
        vertices += int(shapely.get_num_coordinates(layers[-1]["geometry"].to_numpy()).sum())
        if vertices > MAX_TOTAL_VERTICES:
            raise MdaError(
                f"{f}: zone files reach {vertices:,} vertices together, over the limit of "
                f"{MAX_TOTAL_VERTICES:,}"
            )
    raw = pd.concat(layers, ignore_index=True)
    dup = raw["id"].duplicated(keep=False)
    if dup.any():
        fid = raw.loc[dup, "id"].iloc[0]
        seen = raw.loc[raw["id"] == fid, "file"].tolist()
        raise MdaError(f"{seen[1]}: feature {fid!r}: duplicate id (also in {seen[0]})")
    feature = raw["geometry"].to_numpy()
    _check_boundary(raw, np.where(is_polygonal(feature), 1, 2) * shapely.length(feature))
    area = zone_areas(feature, raw["buffer_m"].to_numpy())
    _check_boundary(raw, shapely.length(area))
    table = schema.conform(raw[list(schema.ZONES)], schema.ZONES, extra=False)
    table["feature_geometry"] = pd.Series(split_antimeridian(feature), dtype=object)
    table["file"] = raw["file"].astype("string").to_numpy()
    zones = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(area, crs=4326), crs=4326)
    return index.attach(zones)


def _check_boundary(raw: pd.DataFrame, lengths: np.ndarray) -> None:
    """MdaError naming the feature at which zone boundaries pass MAX_BOUNDARY_DEG."""
    total = np.cumsum(lengths)
    if len(total) and total[-1] > MAX_BOUNDARY_DEG:
        i = int(np.argmax(total > MAX_BOUNDARY_DEG))
        raise MdaError(
            f"{raw['file'].iloc[i]}: feature {raw['id'].iloc[i]!r}: zone boundaries reach "
            f"{total[-1]:,.0f}° of length together, over the limit of {MAX_BOUNDARY_DEG:,.0f}°"
        )


def _zone_files(paths: str | Path | Sequence[str | Path] | None) -> list[Path]:
    if paths is None:
        bundled = sorted(BUNDLED_DIR.glob("*.geojson"))
        if not bundled:
            raise MdaError(f"{BUNDLED_DIR}: no bundled zone layers found")
        return bundled
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
    if not path.is_file():
        raise MdaError(f"{path}: not a regular file")
    size = sum(f.stat().st_size for f in _file_parts(path))
    if size > MAX_FILE_BYTES:
        raise MdaError(
            f"{path}: zone file is {size / 2**20:,.1f} MiB, over the limit of "
            f"{MAX_FILE_BYTES / 2**20:,.0f} MiB"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # GDAL reports an unreadable CRS only as a warning
        infos = _ogr(
            path,
            lambda: [
                pyogrio.read_info(path, layer=name)
                for name, gtype in pyogrio.list_layers(path)
                if gtype is not None
            ],
        )
    srs_warning = next((str(w.message) for w in caught if "srs" in str(w.message).lower()), None)
    count = sum(max(int(info["features"]), 0) for info in infos)  # -1: not known in advance
    too_many = f"{path}: more than {MAX_FEATURES:,} features in one file"
    if count > MAX_FEATURES:
        raise MdaError(f"{too_many} ({count:,})")
    left, out = MAX_FEATURES, []
    for info in infos:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mixed-type columns: we check values ourselves
            read = partial(
                pyogrio.read_dataframe, path, layer=info["layer_name"], max_features=left + 1
            )
            df = _ogr(path, read)
        left -= len(df)
        if left < 0:
            raise MdaError(too_many)
        if len(df):
            out.append(_validate(_to_lonlat(df, path, info["driver"], srs_warning), path))
    if not out:
        raise MdaError(f"{path}: no zone features found")
    return pd.concat(out, ignore_index=True)


def _file_parts(path: Path) -> list[Path]:
    """The file and, for a Shapefile, the sidecar files the reader opens with it."""
    if path.suffix.lower() != ".shp":
        return [path]
    return [path] + [f for f in path.parent.glob(f"{path.stem}.*") if f != path and f.is_file()]


def _ogr(path: Path, read: Callable[[], _T]) -> _T:
    """read(), with any reader failure as a one-line MdaError naming the file."""
    try:
        return read()
    except Exception as e:  # pyogrio raises several types for unreadable input; report them all
        raise MdaError(f"{path}: cannot read zone layer: {_first_line(e)}") from None


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _to_lonlat(
    df: gpd.GeoDataFrame, path: Path, driver: str, srs_warning: str | None
) -> gpd.GeoDataFrame:
    """The layer in EPSG:4326. A declared CRS that cannot be read or applied is refused, never
    guessed: GDAL drops an unknown GeoJSON "crs" member, an unreadable .prj or GeoPackage srs_id
    and reads the coordinates as lon/lat. Only a file that declares no CRS is taken as lon/lat."""
    declared = _geojson_crs(path) if driver == "GeoJSON" else None
    if df.crs is None:
        prj = path.with_suffix(".prj")
        if srs_warning or (path.suffix.lower() == ".shp" and prj.exists()):
            why = srs_warning or f"{prj.name} not understood"
            raise MdaError(f"{path}: unknown or unreadable CRS ({why}); refusing to guess")
        return df.set_crs(4326)
    if declared is not None and not declared.equals(df.crs, ignore_axis_order=True):
        raise MdaError(f"{path}: declared CRS {declared.srs!r} was not applied by the reader")
    if df.crs.equals("EPSG:4326"):
        return df
    try:
        return df.to_crs(4326)
    except Exception as e:  # pyproj raises several types for CRSs it cannot transform
        msg = f"cannot transform {df.crs.to_string()} to EPSG:4326: {_first_line(e)}"
        raise MdaError(f"{path}: {msg}") from None


_CRS_MEMBER = re.compile(rb'"crs"\s*:\s*')


def _geojson_crs(path: Path) -> pyproj.CRS | None:
    """The CRS a GeoJSON file declares in a (pre-RFC 7946) "crs" member, or None.

    MdaError when a declared CRS is unknown or of a kind GDAL ignores ("link"). Every "crs" member
    shaped like a CRS object is checked, wherever it is (the file is at most MAX_FILE_BYTES).
    """
    data = path.read_bytes()
    found = None
    for m in _CRS_MEMBER.finditer(data):
        text = data[m.end() : m.end() + 4096].decode("utf-8", errors="replace")
        try:
            value, _ = json.JSONDecoder().raw_decode(text)
        except ValueError:
            continue  # not a JSON value we can read: a key inside a string, say
        if not isinstance(value, dict) or "type" not in value:
            continue
        props = value.get("properties")
        props = props if isinstance(props, dict) else {}
        kind = str(value["type"]).lower()
        name = props.get("name") if kind == "name" else None
        if kind == "epsg" and props.get("code") is not None:
            name = f"EPSG:{props['code']}"
        if not isinstance(name, str | int) or not str(name).strip():
            raise MdaError(f'{path}: unsupported "crs" member {json.dumps(value)[:200]}')
        try:
            found = pyproj.CRS.from_user_input(str(name))
        except pyproj.exceptions.CRSError:
            raise MdaError(f"{path}: unknown CRS {str(name)[:200]!r}") from None
    return found


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

    def fail(i: Index, problem: str) -> MdaError:
        return MdaError(f"{path}: feature {labels[int(i)]}: {problem}")

    if (ids == "").any():
        raise fail(np.flatnonzero(ids == "")[0], "missing id")
    dup = ids.duplicated()
    if dup.any():
        raise fail(np.flatnonzero(dup)[0], "duplicate id")
    long_id = ids.str.len() > MAX_ID_CHARS
    if long_id.any():
        raise fail(np.flatnonzero(long_id)[0], f"id longer than {MAX_ID_CHARS} characters")
    ctrl = ids.str.contains(r"[\x00-\x1f\x7f-\x9f]", regex=True)
    if ctrl.any():
        raise fail(np.flatnonzero(ctrl)[0], "id contains control characters")
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
    _check_coordinates(geom, fail)

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
    out_of_range = (buf < 0) | (buf > MAX_BUFFER_M) | np.isinf(buf)
    if out_of_range.any():
        i = np.flatnonzero(out_of_range)[0]
        raise fail(i, f"buffer_m {float(buf[i]):g} must be a number from 0 to {MAX_BUFFER_M:.0f} m")
    needs = ~polygonal & ~(buf > 0)
    if needs.any():
        i = np.flatnonzero(needs)[0]
        raise fail(i, "a Point or LineString needs buffer_m > 0 (radius or half-width in metres)")

    invalid = ~shapely.is_valid(geom)
    for i in np.flatnonzero(invalid):  # rare: one repair per broken feature
        reason = shapely.is_valid_reason(geom[i])
        if not polygonal[i]:
            raise fail(i, f"invalid geometry ({reason})")
        try:
            parts = shapely.get_parts(shapely.make_valid(geom[i]))
            fixed = shapely.union_all(parts[shapely.get_type_id(parts) == 3])  # drop collapsed
        except shapely.errors.GEOSException:
            fixed = shapely.Polygon()
        if fixed.is_empty or not fixed.is_valid:
            raise fail(i, f"invalid geometry that cannot be repaired ({reason})")
        log.warning("%s: feature %s: repaired invalid polygon (%s)", path, labels[i], reason)
        geom[i] = fixed
    geom = normalise_lon(geom)
    b = shapely.bounds(geom)
    wraps = (b[:, 2] - b[:, 0] > 360) | (b[:, 0] < -540) | (b[:, 2] > 540)
    if wraps.any():
        raise fail(np.flatnonzero(wraps)[0], "goes round the globe more than once")

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


def _check_coordinates(geom: Geoms, fail: Callable[[Index, str], MdaError]) -> None:
    """Vertex counts, finite numbers and lon/lat ranges of each feature (see module docstring)."""
    nverts = shapely.get_num_coordinates(geom)
    if (nverts > MAX_FEATURE_VERTICES).any():
        i = np.flatnonzero(nverts > MAX_FEATURE_VERTICES)[0]
        raise fail(i, f"{nverts[i]:,} vertices, over the limit of {MAX_FEATURE_VERTICES:,}")
    if nverts.sum() > MAX_TOTAL_VERTICES:  # before any per-vertex work on the rest
        i = int(np.argmax(np.cumsum(nverts) > MAX_TOTAL_VERTICES))
        raise fail(i, f"the layer passes {MAX_TOTAL_VERTICES:,} vertices here (the limit)")
    xy, owner = shapely.get_coordinates(geom, return_index=True)
    for bad, problem in (
        (~np.isfinite(xy).all(axis=1), "coordinates are not finite numbers"),
        (np.abs(xy[:, 1]) > 90, "latitude {y:g} outside [-90, 90]"),
        (np.abs(xy[:, 0]) > 360, "longitude {x:g} outside [-360, 360]"),
    ):
        if bad.any():
            k = np.flatnonzero(bad)[0]
            raise fail(owner[k], problem.format(x=xy[k, 0], y=xy[k, 1]))


def _text(col: pd.Series | None, n: int) -> pd.Series:
    """A property as stripped strings, "" where absent."""
    if col is None:
        return pd.Series([""] * n, dtype="string")
    s = col.reset_index(drop=True).astype("string").fillna("").str.strip()
    return s.astype("string")
