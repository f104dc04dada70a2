"""Turn public geofence layers into zone files that `mda.zones.load_zones` accepts.

A zone file needs ``id``, ``name``, ``kind`` (schema.ZONE_KINDS) and, for points and lines,
``buffer_m``; public layers have none of these. Known layers are recognised by their columns (S-57
charts by their object classes) and get defaults chosen for them: the NGA World Port Index
(ports, radius from harbour size and type), USACE principal ports, NOAA charted submarine cables,
NOAA maritime limits, and the anchorage, cable, pipeline, restricted, fairway and harbour areas of
NOAA ENC cells. Any other layer is imported with explicit options (kind, id and name fields,
buffer). Features without a usable geometry are dropped and counted; blank ids are numbered and
repeated ids made unique, so one bad feature never loses the rest of the layer.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from mda import schema
from mda.errors import MdaError
from mda.fileio import replacing
from mda.zones.geometry import Floats

# --------------------------------------------------------------------------------------------
# NGA World Port Index

WPI_SOURCE = "NGA World Port Index (Pub. 150), US public domain"
#: Harbour radius by WPI "Harbor Size" (m). WPI gives one reference point per port, rounded to 1′
#: (up to ~0.9 km off), usually the basin or the town, while ships moor and wait at anchor around
#: it: measured on a real day of Los Angeles / Long Beach (MarineCadastre 2020-01-01), boats moored
#: in Newport Beach (very small) lie a median 2.5 km from its point and ships at the San Pedro Bay
#: anchorages 9-10 km from Long Beach (medium) and Los Angeles (large). Unknown size: as very small.
HARBOUR_RADIUS_M = {"Very Small": 3000.0, "Small": 4000.0, "Medium": 8000.0, "Large": 12000.0}
UNKNOWN_HARBOUR_RADIUS_M = 3000.0
#: An "Open Roadstead" port has no sheltered basin: ships lie at anchor off the coast, farther from
#: the reference point than at a quay, so its radius is half as large again.
ROADSTEAD_FACTOR = 1.5
_WPI_COLUMNS = {"world port index number", "main port name", "latitude", "longitude"}


def harbour_radius_m(size: pd.Series, harbour_type: pd.Series) -> Floats:
    """Radius (m) of each WPI port's harbour from its size and type (see HARBOUR_RADIUS_M)."""
    size = size.astype("string").str.strip()
    r = size.map(HARBOUR_RADIUS_M).astype("float64").fillna(UNKNOWN_HARBOUR_RADIUS_M)
    roadstead = harbour_type.astype("string").str.strip().eq("Open Roadstead").fillna(False)
    return np.asarray(np.where(roadstead.to_numpy(bool), r * ROADSTEAD_FACTOR, r), np.float64)


def read_wpi(path: str | Path) -> tuple[pd.DataFrame, Counter[str]]:
    """The ports of a World Port Index CSV: wpi, name, country, locode, lat, lon, harbor_size,
    harbor_type, radius_m; and the rows dropped, counted by reason (bad position, repeated WPI
    number: the first is kept)."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise MdaError(f"{path}: cannot read World Port Index CSV: {e}") from None
    cols = {c.strip().lower(): c for c in raw.columns}
    if not set(cols) >= _WPI_COLUMNS:
        missing = ", ".join(sorted(_WPI_COLUMNS - set(cols)))
        raise MdaError(f"{path}: not a World Port Index CSV (missing columns: {missing})")

    def col(name: str) -> pd.Series:
        c = cols.get(name)
        return raw[c].str.strip() if c else pd.Series([""] * len(raw), dtype="string")

    ports = pd.DataFrame(
        {
            "wpi": col("world port index number"),  # text: a few are fractional (49454.5)
            "name": col("main port name"),
            "country": col("country code"),
            "locode": col("un/locode").str.replace(" ", "", regex=False),
            "lat": pd.to_numeric(col("latitude"), errors="coerce"),
            "lon": pd.to_numeric(col("longitude"), errors="coerce"),
            "harbor_size": col("harbor size"),
            "harbor_type": col("harbor type"),
        }
    )
    ports["radius_m"] = harbour_radius_m(ports["harbor_size"], ports["harbor_type"])
    dropped: Counter[str] = Counter()
    has_number = pd.to_numeric(ports["wpi"], errors="coerce").notna()
    bad = ~(ports["lat"].abs().le(90) & ports["lon"].abs().le(180) & has_number)
    dropped["no valid WPI number or position"] = int(bad.sum())
    ports = ports[~bad]
    dup = ports["wpi"].duplicated()
    dropped["repeated WPI number"] = int(dup.sum())
    ports = ports[~dup].reset_index(drop=True)
    return ports, +dropped


# --------------------------------------------------------------------------------------------
# Known layers


@dataclass(frozen=True)
class LayerRule:
    """How one known public layer becomes zones."""

    title: str
    kind: str
    id_field: str | None  # None: features are numbered
    name_fields: tuple[str, ...]  # joined with " - "; the id when all are blank
    buffer_m: float | None  # for points and lines
    source: str
    id_prefix: str
    columns: frozenset[str] = frozenset()  # all present (case-insensitive): this layer
    exclude: tuple[str, frozenset[str], str] | None = None  # (column, values, why) not imported


#: Layers recognised by their columns. Buffers: a USACE principal port is a whole port district
#: (as a WPI medium port, 5 km); a cable corridor is 1 nm each side, as in the bundled layers; a
#: maritime limit (12 nm, 24 nm, 200 nm line) becomes a 1 km corridor, so entering it means
#: crossing the line. NOAA charts each cable at several scales; the small-scale copies (overview,
#: general and sailing charts, 1:600,000 and smaller) repeat the coastal and approach ones,
#: generalised, and reach the deep ocean where no anchor can touch a cable, so they are left
#: out (they would also double the layer past the validator's size limit).
KNOWN_LAYERS = (
    LayerRule(
        "USACE principal ports",
        "port",
        "PORT",
        ("PORT_NAME",),
        5000.0,
        "USACE Principal Ports (US Army Corps of Engineers), public domain",
        "usace-port-",
        frozenset({"port_name", "port", "rank", "total"}),
    ),
    LayerRule(
        "NOAA charted submarine cables",
        "cable",
        None,
        ("description",),
        1852.0,
        "NOAA Charted Submarine Cables in the United States (2012), public domain, "
        "not for navigation",
        "noaa-cable-",
        frozenset({"scaleband", "description"}),
        (
            "scaleBand",
            frozenset({"overview", "general", "sailing"}),
            "cable charted again at small scale (scaleBand overview, general or sailing)",
        ),
    ),
    LayerRule(
        "NOAA maritime limits and boundaries",
        "restricted",
        "OBJECTID",
        ("FEAT_TYPE", "REGION"),
        1000.0,
        "NOAA U.S. Maritime Limits and Boundaries, public domain, not for legal use",
        "noaa-limit-",
        frozenset({"bound_id", "feat_type", "ts", "cz", "eez"}),
    ),
)

#: S-57 (ENC) object classes imported from a chart cell: class -> (kind, buffer for points and
#: lines in m, description). Pipelines count as cables: both are seabed infrastructure where
#: anchoring and dragging matter. Harbour-scale charts: a berth or a charted cable line is a
#: corridor of 100-200 m, not 1 nm. An anchor berth uses its charted RADIUS when it has one.
ENC_CLASSES: dict[str, tuple[str, float, str]] = {
    "ACHARE": ("anchorage", 500.0, "Anchorage area"),
    "ACHBRT": ("anchorage", 200.0, "Anchor berth"),
    "CBLARE": ("cable", 200.0, "Cable area"),
    "CBLSUB": ("cable", 200.0, "Submarine cable"),
    "PIPARE": ("cable", 200.0, "Pipeline area"),
    "PIPSOL": ("cable", 200.0, "Submarine pipeline"),
    "RESARE": ("restricted", 200.0, "Restricted area"),
    "MIPARE": ("restricted", 500.0, "Military practice area"),
    "FAIRWY": ("route", 200.0, "Fairway"),
    "RECTRC": ("route", 200.0, "Recommended track"),
    "DWRTCL": ("route", 200.0, "Deep water route centreline"),
    "TSSLPT": ("route", 200.0, "Traffic separation scheme lane"),
    "PRCARE": ("route", 500.0, "Precautionary area"),
    "HRBARE": ("port", 500.0, "Harbour area"),
    "HRBFAC": ("port", 200.0, "Harbour facility"),
    "BERTHS": ("port", 150.0, "Berth"),
}
ENC_SOURCE = (
    "NOAA Electronic Navigational Chart (S-57) cell {cell}, public domain, not for navigation"
)


@dataclass
class ImportResult:
    """Zones made from one source, and what was dropped or changed on the way, by reason."""

    zones: gpd.GeoDataFrame
    layers: list[str] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line per fact: what was recognised, written, dropped and changed."""
        kinds = self.zones["kind"].value_counts()
        lines = [
            f"{len(self.zones)} zones ({', '.join(f'{n} {k}' for k, n in kinds.items())}) "
            f"from {', '.join(self.layers)}"
        ]
        lines += [f"dropped {n}: {why}" for why, n in sorted((+self.dropped).items())]
        lines += [f"changed {n}: {why}" for why, n in sorted((+self.changed).items())]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Import


def import_zones(
    src: str | Path,
    *,
    kind: str | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    buffer_m: float | None = None,
) -> ImportResult:
    """Zones (id, name, kind, buffer_m, source, geometry in EPSG:4326) from a public layer.

    Known layers need no options; options given override their defaults. Any other layer needs
    `kind` (or a ``kind`` column); its ids come from `id_field` (or an ``id`` column, else
    numbers), names from `name_field` (or a ``name`` column, else the id), and its points and
    lines need `buffer_m` (or a ``buffer_m`` column). Raises MdaError naming the file on a problem
    that leaves nothing to import.
    """
    path = Path(src)
    if not path.exists():
        raise MdaError(f"{path}: no such file")
    if kind is not None and kind.lower() not in schema.ZONE_KINDS:
        raise MdaError(f"unknown kind {kind!r} (expected one of {', '.join(schema.ZONE_KINDS)})")
    result = ImportResult(zones=gpd.GeoDataFrame())
    opts = {"kind": kind, "id_field": id_field, "name_field": name_field, "buffer_m": buffer_m}
    parts = [_convert(df, rule, opts, result, path) for df, rule in _layers(path, result)]
    parts = [p for p in parts if len(p)]
    if not parts:
        raise MdaError(f"{path}: no features with a usable geometry to import")
    zones = pd.concat(parts, ignore_index=True)
    zones["id"] = _unique_ids(zones["id"], result, "repeated id made unique (suffix -2, -3, ...)")
    result.zones = gpd.GeoDataFrame(zones, geometry="geometry", crs=4326)
    return result


def write_zones(zones: gpd.GeoDataFrame, out: str | Path) -> None:
    """Write zones as GeoJSON (or the format of the suffix, e.g. .gpkg), replacing the file."""
    out = Path(out)
    driver = "GPKG" if out.suffix.lower() == ".gpkg" else "GeoJSON"
    with replacing(out, what="zones") as (tmp,):
        pyogrio.write_dataframe(zones, tmp, driver=driver)


def _read_layer(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mixed-type columns, GDAL driver chatter
            df = pyogrio.read_dataframe(path, layer=layer)
    except Exception as e:  # pyogrio raises several types for unreadable input
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise MdaError(f"{path}: cannot read layer{f' {layer}' if layer else ''}: {msg}") from None
    if df.crs is None:
        df = df.set_crs(4326)  # GeoJSON-like sources without a CRS are lon/lat
    elif not df.crs.equals("EPSG:4326"):
        df = df.to_crs(4326)
    return df


def _layers(
    path: Path, result: ImportResult
) -> Iterator[tuple[gpd.GeoDataFrame, LayerRule | None]]:
    """(table, rule) for each layer of the source; rule None: a layer imported by the options."""
    if path.suffix.lower() in (".csv", ".txt"):
        yield _csv_points(path, result)
        return
    try:
        names = [n for n, gtype in pyogrio.list_layers(path) if gtype is not None]
        driver = pyogrio.read_info(path, layer=names[0])["driver"] if names else ""
    except Exception as e:  # pyogrio raises several types for unreadable input
        raise MdaError(f"{path}: cannot read: {str(e).splitlines()[0]}") from None
    if driver == "S57":
        cell = path.stem
        for cls in (n for n in names if n in ENC_CLASSES):
            kind, buf, title = ENC_CLASSES[cls]
            source = ENC_SOURCE.format(cell=cell)
            result.layers.append(f"ENC {cell} {cls} ({title})")
            df = _read_layer(path, cls)
            objnam = _field(df, "OBJNAM")
            df["_name"] = title if objnam is None else objnam.where(objnam != "", title).array
            rule = LayerRule(title, kind, "RCID", ("_name",), buf, source, f"{cell}-{cls}-")
            if cls == "ACHBRT" and "RADIUS" in df.columns:
                df["_buffer"] = pd.to_numeric(df["RADIUS"], errors="coerce")
            yield df, rule
        if not any(n in ENC_CLASSES for n in names):
            raise MdaError(f"{path}: S-57 cell has none of {', '.join(ENC_CLASSES)}")
        return
    for name in names:
        df = _read_layer(path, name)
        lower = {str(c).lower() for c in df.columns}
        known = next((r for r in KNOWN_LAYERS if r.columns <= lower), None)
        result.layers.append(known.title if known else f"{path.name} layer {name}")
        yield df, known


def _csv_points(path: Path, result: ImportResult) -> tuple[gpd.GeoDataFrame, LayerRule | None]:
    """A CSV of points: the World Port Index, or any table with latitude/longitude columns."""
    head = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    if {c.strip().lower() for c in head} >= _WPI_COLUMNS:
        ports, dropped = read_wpi(path)
        result.dropped.update(dropped)
        result.layers.append("NGA World Port Index")
        df = gpd.GeoDataFrame(
            ports.assign(_buffer=ports["radius_m"]),
            geometry=gpd.points_from_xy(ports["lon"], ports["lat"]),
            crs=4326,
        )
        return df, LayerRule("World Port Index", "port", "wpi", ("name",), None, WPI_SOURCE, "wpi-")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    cols = {c.strip().lower(): c for c in table.columns}
    lat = next((cols[c] for c in ("lat", "latitude", "y") if c in cols), None)
    lon = next((cols[c] for c in ("lon", "lng", "long", "longitude", "x") if c in cols), None)
    if lat is None or lon is None:
        raise MdaError(f"{path}: a CSV of zones needs latitude and longitude columns")
    y = pd.to_numeric(table[lat], errors="coerce")
    x = pd.to_numeric(table[lon], errors="coerce")
    ok = y.abs().le(90) & x.abs().le(180)
    result.dropped["CSV row without a valid latitude/longitude"] += int((~ok).sum())
    result.layers.append(path.name)
    geom = gpd.points_from_xy(x.where(ok), y.where(ok))
    return gpd.GeoDataFrame(table, geometry=geom, crs=4326), None


def _field(df: pd.DataFrame, name: str | None) -> pd.Series | None:
    """A column matched case-insensitively, as stripped text ("" where blank)."""
    if not name:
        return None
    for c in df.columns:
        if c != "geometry" and str(c).lower() == name.lower():
            s = df[c].reset_index(drop=True)
            s = s.map(lambda v: "" if v is None or v is pd.NA or v != v else v)
            s = s.map(lambda v: ", ".join(map(str, v)) if isinstance(v, list | np.ndarray) else v)
            return s.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return None


def _convert(
    df: gpd.GeoDataFrame,
    rule: LayerRule | None,
    opts: dict[str, Any],
    result: ImportResult,
    path: Path,
) -> pd.DataFrame:
    """One layer as zone rows; features without a usable geometry dropped and counted."""
    df = df.reset_index(drop=True)
    geom = np.asarray(shapely.force_2d(np.asarray(df.geometry.values, dtype=object)), dtype=object)
    gtype = shapely.get_type_id(geom)
    usable = ~(pd.isna(geom) | shapely.is_empty(geom)) & np.isin(gtype, (0, 1, 3, 4, 5, 6))
    finite = np.isfinite(shapely.bounds(geom)).all(axis=1)
    usable &= finite
    result.dropped["feature without a point, line or polygon geometry"] += int((~usable).sum())
    if rule and rule.exclude and (col := _field(df, rule.exclude[0])) is not None:
        band = col.str.lower().str.replace(r"^rnc \((.*)\)$", r"\1", regex=True)
        out = band.isin(rule.exclude[1]).to_numpy(bool) & usable
        result.dropped[rule.exclude[2]] += int(out.sum())
        usable &= ~out
    if not usable.any():
        return pd.DataFrame()

    kind = opts["kind"] or (rule.kind if rule else None)
    kinds = pd.Series([kind] * len(df), dtype="string")
    if kind is None:
        kinds = _field(df, "kind")
        if kinds is None:
            raise MdaError(f"{path}: unknown layer: give --kind ({', '.join(schema.ZONE_KINDS)})")
    kinds = kinds.str.lower()
    bad = ~kinds.isin(schema.ZONE_KINDS) & usable
    if bad.any():
        raise MdaError(f"{path}: unknown kind {kinds[np.flatnonzero(bad)[0]]!r} in column kind")

    id_field = opts["id_field"] or (rule.id_field if rule else "id")
    ids = _field(df, id_field)
    if opts["id_field"] and ids is None:
        raise MdaError(f"{path}: no column {opts['id_field']!r} for ids")
    number = pd.Series(np.arange(1, len(df) + 1).astype(str), dtype="string")
    if rule:
        ids = rule.id_prefix + (number if ids is None else ids.where(ids != "", number))
    else:  # the user's ids as they are; numbers named after the file
        numbered = f"{_slug(path.stem)}-" + number
        ids = numbered if ids is None else ids.where(ids != "", numbered)

    fields = (opts["name_field"],) if opts["name_field"] else (rule.name_fields if rule else ())
    found = [f for f in (_field(df, n) for n in fields or ("name",)) if f is not None]
    if opts["name_field"] and not found:
        raise MdaError(f"{path}: no column {opts['name_field']!r} for names")
    names = pd.Series([""] * len(df), dtype="string")
    for f in found:
        names = names.where(f == "", names.where(names == "", names + " - ") + f)
    names = names.where(names != "", ids)

    own = df["_buffer"] if "_buffer" in df.columns else _numeric(_field(df, "buffer_m"))
    default = opts["buffer_m"] if opts["buffer_m"] is not None else rule and rule.buffer_m
    buf = pd.Series(np.nan, index=df.index) if own is None else own.reset_index(drop=True)
    if opts["buffer_m"] is not None:
        buf[:] = opts["buffer_m"]
    buf = buf.where(buf > 0, default if default is not None else np.nan).astype("float64")
    polygonal = np.isin(gtype, (3, 6))
    needs = usable & ~polygonal & ~(buf.to_numpy() > 0)
    if needs.any():
        raise MdaError(f"{path}: points and lines need a buffer: give --buffer-m METRES")
    buf = buf.where(~pd.Series(polygonal) | (opts["buffer_m"] is not None))

    source = rule.source if rule else f"imported from {path.name}"
    out = pd.DataFrame(
        {
            "id": ids,
            "name": names,
            "kind": kinds,
            "buffer_m": buf,
            "source": source,
            "geometry": geom,
        }
    )
    return out[usable].reset_index(drop=True)


def _numeric(s: pd.Series | None) -> pd.Series | None:
    return None if s is None else pd.to_numeric(s, errors="coerce")


def _unique_ids(ids: pd.Series, result: ImportResult, reason: str) -> pd.Series:
    """Ids with repeats suffixed -2, -3, ... (in order), counting how many were changed."""
    rank = ids.groupby(ids).cumcount()
    result.changed[reason] += int((rank > 0).sum())
    return ids.where(rank == 0, ids + "-" + (rank + 1).astype("string"))


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-") or "zone"
