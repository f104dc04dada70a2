"""Alert files: GeoJSON, CSV and GeoPackage writers and readers, and the terminal table.

Every format carries the DESIGN.md alert fields (id, type, severity, mmsi, other_mmsi,
vessel_name, start, end, zone_id, zone_kind, zone_name, evidence, thresholds) at the alert's
point (EPSG:4326). GeoPackage and GeoParquet hold start/end as UTC date-time fields; GeoJSON
and CSV as ISO 8601 UTC text with 'Z' (GDAL reads GeoJSON's back as date-times). GeoJSON keeps
evidence and thresholds as objects; CSV, GeoPackage and GeoParquet hold them as JSON text. A
QGIS style (``<name>.qml``, points by severity) is written beside a GeoPackage. Vessel and zone
names are attacker-controlled: CSV text cells go through mda.csvsafe (no formula, no line
break, exact round trip), and the terminal table drops control characters (mda.terminal).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mda import csvsafe, schema
from mda.errors import MdaError
from mda.fileio import replacing
from mda.schema import iso_z
from mda.terminal import safe_text

if TYPE_CHECKING:
    import geopandas as gpd

#: The alert properties written to files, in order (lat/lon become the geometry).
FIELDS = [c for c in schema.ALERTS if c not in ("lat", "lon")]
#: Times written as ISO 8601 UTC text (or date-time fields): the event's and its last update's.
_TIMES = ("start", "end", "updated", "reviewed")
SUFFIXES = (".geojson", ".json", ".csv", ".gpkg", ".parquet")


def jsonable(value: Any) -> Any:
    """`value` with numpy scalars, NaN/NA and timestamps turned into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return iso_z(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _times(s: pd.Series) -> list[str | None]:
    s = pd.to_datetime(s, utc=True)
    return [None if pd.isna(t) else iso_z(t) for t in s]


def records(alerts: pd.DataFrame) -> list[dict[str, Any]]:
    """One JSON-ready property dict per alert (evidence and thresholds as objects)."""
    a = schema.conform(alerts, _spec(alerts), extra=False)
    fields = _fields(a)
    cols: dict[str, list[Any]] = {c: a[c].astype(object).tolist() for c in fields}
    cols.update({c: _times(a[c]) for c in _TIMES if c in a})
    out = []
    for i in range(len(a)):
        out.append({c: jsonable(cols[c][i]) for c in fields})
    return out


def _spec(alerts: pd.DataFrame) -> dict[str, str]:
    """schema.ALERTS, then the event and review columns (status, updated, review, ...:
    mda.store.EVENT_COLUMNS, REVIEW_COLUMNS) the alerts carry: a store's alerts and a scan's
    have them, a detector's do not."""
    from mda.store import EVENT_COLUMNS, REVIEW_COLUMNS

    extra = {**EVENT_COLUMNS, **REVIEW_COLUMNS}
    return {**schema.ALERTS, **{c: t for c, t in extra.items() if c in alerts}}


def _fields(alerts: pd.DataFrame) -> list[str]:
    """The properties written for these alerts, in order."""
    return FIELDS + [c for c in _spec(alerts) if c not in schema.ALERTS]


def _flat(alerts: pd.DataFrame, *, text_times: bool = True) -> pd.DataFrame:
    """Alerts as flat columns: evidence and thresholds as JSON text, start/end as ISO text
    (`text_times`) or as UTC date-times."""
    recs = records(alerts)
    a = schema.conform(alerts, _spec(alerts), extra=False)
    df = pd.DataFrame(recs, columns=_fields(a))
    for c in ("evidence", "thresholds"):
        df[c] = [json.dumps(r[c], sort_keys=True) for r in recs]
    if not text_times:
        df = df.assign(**{c: a[c] for c in _TIMES if c in a})
    df["lat"], df["lon"] = a["lat"].to_numpy(), a["lon"].to_numpy()
    return df


def _geo(alerts: pd.DataFrame) -> gpd.GeoDataFrame:
    """The flat alerts with date-times and Point geometry, typed for GeoPackage and GeoParquet."""
    from mda.gis import points_gdf

    flat = _flat(alerts, text_times=False).astype({"mmsi": "int64", "other_mmsi": "Int64"})
    return points_gdf(flat).drop(columns=["lat", "lon"])


def write_alerts(alerts: pd.DataFrame, path: str | Path) -> Path:
    """Write alerts as .geojson/.json, .csv or .gpkg (by suffix); MdaError for other suffixes."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MdaError(f"{path}: unknown alert file type (use {', '.join(SUFFIXES)})")
    if suffix == ".gpkg":  # the layer and its QGIS style, together
        from mda.gis import alert_style_qml

        with replacing(path, path.with_suffix(".qml"), what="alerts") as (tmp, qml):
            _geo(alerts).to_file(tmp, layer="alerts", driver="GPKG", engine="pyogrio")
            qml.write_text(alert_style_qml(), encoding="utf-8")
        return path
    with replacing(path, what="alerts") as (tmp,):  # whole or not at all
        if suffix in (".geojson", ".json"):
            _write_geojson(alerts, tmp)
        elif suffix == ".csv":
            csvsafe.write_csv(_flat(alerts), tmp)
        else:
            _geo(alerts).to_parquet(tmp, index=False)
    return path


def _write_geojson(alerts: pd.DataFrame, path: Path) -> None:
    a = schema.conform(alerts, _spec(alerts), extra=False)
    features = []
    for props, lat, lon in zip(records(a), a["lat"], a["lon"], strict=True):
        ok = pd.notna(lat) and pd.notna(lon)
        geom = {"type": "Point", "coordinates": [float(lon), float(lat)]} if ok else None
        features.append({"type": "Feature", "geometry": geom, "properties": props})
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False, allow_nan=False), encoding="utf-8")


def read_alerts(path: str | Path) -> pd.DataFrame:
    """Read an alert file written by :func:`write_alerts` back into the schema.ALERTS table."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MdaError(f"{path}: unknown alert file type (use {', '.join(SUFFIXES)})")
    if not path.is_file():
        raise MdaError(f"{path}: no such alert file")
    try:
        if suffix in (".geojson", ".json"):
            df = _read_geojson(path)
        elif suffix == ".csv":
            df = csvsafe.read_csv(path)
        else:
            import geopandas as gpd
            import pyogrio

            gdf = gpd.read_parquet(path) if suffix == ".parquet" else pyogrio.read_dataframe(path)
            df = pd.DataFrame(gdf.drop(columns="geometry"))
            df["lon"], df["lat"] = gdf.geometry.x, gdf.geometry.y
    except Exception as e:  # json, CSV and pyogrio errors alike: one line naming the file
        raise MdaError(f"{path}: not a readable alert file: {e}") from None
    return _to_alerts(df, path)


def _read_geojson(path: Path) -> pd.DataFrame:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ValueError("not a GeoJSON FeatureCollection")
    rows = []
    if not doc.get("features"):
        return schema.empty(schema.ALERTS)
    for f in doc["features"]:
        props = dict(f.get("properties") or {})
        coords = (f.get("geometry") or {}).get("coordinates") or [None, None]
        props["lon"], props["lat"] = coords[0], coords[1]
        rows.append(props)
    return pd.DataFrame(rows)


def _to_alerts(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    missing = [c for c in ("id", "type", "mmsi", "start") if c not in df.columns]
    if missing:
        raise MdaError(f"{path}: not an alert file (missing {', '.join(missing)})")
    for c in ("evidence", "thresholds"):
        if c in df.columns:
            df[c] = [
                v if isinstance(v, dict) else (json.loads(v) if isinstance(v, str) and v else {})
                for v in df[c]
            ]
    for c in ("mmsi", "other_mmsi", "lat", "lon"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    try:
        return schema.conform(df, _spec(df), extra=False)
    except (ValueError, TypeError) as e:
        raise MdaError(f"{path}: alert values of the wrong type: {e}") from None


def _clean(value: Any, width: int) -> str:
    text = "" if value is None or value is pd.NA or value != value else str(value)
    text = safe_text(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def format_alert_table(alerts: pd.DataFrame) -> str:
    """A fixed-width table of alerts for the terminal (control characters removed)."""
    if alerts is None or alerts.empty:
        return "no alerts"
    a = schema.conform(alerts, _spec(alerts), extra=False)
    cols = [
        ("id", 34),  # what `mda alerts review ID` takes: never cut (the longest type + 17)
        ("start", 16),
        ("type", 17),
        ("severity", 8),
        ("mmsi", 9),
        ("other_mmsi", 10),
        ("vessel_name", 20),
        ("zone_name", 20),
        ("hours", 6),
        *([("review", 10)] if "review" in a else []),
    ]
    hours = (a["end"] - a["start"]).dt.total_seconds() / 3600.0
    cells = {
        "start": a["start"].dt.strftime("%Y-%m-%d %H:%M"),
        "hours": hours.map(lambda h: f"{h:.1f}" if pd.notna(h) else ""),
    }
    lines = ["  ".join(f"{n:<{w}}" for n, w in cols)]
    values = [(cells[n] if n in cells else a[n], w) for n, w in cols]
    for i in range(len(a)):
        lines.append("  ".join(f"{_clean(v.iloc[i], w):<{w}}" for v, w in values))
    lines.append(f"{len(a):,} alert(s)")
    return "\n".join(lines)
