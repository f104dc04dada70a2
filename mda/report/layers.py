"""One function per map layer: each turns a pipeline table into compact, JSON-ready columns.

Nothing here makes a folium object: tracks become simplified line pieces (flat coordinate
arrays + offsets), alerts and positions become columns, zones become GeoJSON, and the page
script draws them all on a canvas, putting every text in the page with textContent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from mda.alerts import jsonable
from mda.geo import EARTH_RADIUS_M, haversine_m
from mda.mid import flag_of
from mda.report import limits, styles
from mda.report.shiptypes import ship_group, ship_type_text

if TYPE_CHECKING:
    import geopandas as gpd

#: Tracks are cut into at most this many time slices, each coloured by its mean speed.
TIME_SLICES = 12
MIN_SLICE_S = 600
COORD_DECIMALS = 5  # ~1 m
#: Zone outlines are drawn simplified to this tolerance (degrees, ~50 m): shapes, not survey.
ZONE_TOLERANCE_DEG = 0.0005


def _nullable(values: np.ndarray | pd.Series, decimals: int | None = None) -> list:
    """A JSON-ready list: rounded floats, None for NaN/NA."""
    a = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")
    if decimals is not None:
        a = a.round(decimals)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def _epoch_s(ts: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(pd.to_datetime(ts, utc=True)).asi8 // 1_000_000_000


def good_points(points: pd.DataFrame) -> pd.DataFrame:
    """Track points that belong on a map (in a segment, not outliers, real coordinates).

    Ordered by segment and time: the input of track_layer, latest_layer and heat_layer.
    """
    if points.empty:
        return points
    ok = np.isfinite(points["lat"].to_numpy(float)) & np.isfinite(points["lon"].to_numpy(float))
    ok &= (points["lat"].abs() <= 90).to_numpy() & (points["lon"].abs() <= 180).to_numpy()
    if "segment" in points:
        ok &= (points["segment"] >= 0).to_numpy()
    if "outlier" in points:
        ok &= ~points["outlier"].to_numpy(dtype=bool)
    p = points[ok]
    if "segment" not in p:
        p = p.assign(segment=p["mmsi"].astype("int64"))
    seg, t = p["segment"].to_numpy(), _epoch_s(p["ts"])
    dseg = np.diff(seg)
    if not ((dseg >= 0).all() and (np.diff(t)[dseg == 0] >= 0).all()):  # build_tracks order
        p = p.iloc[np.lexsort((t, seg))]
    return p.reset_index(drop=True)


def extent_m(lat: np.ndarray, lon: np.ndarray) -> float:
    """Diagonal of the data's bounding box in metres (0 when empty)."""
    if len(lat) == 0:
        return 0.0
    return float(haversine_m(lat.min(), lon.min(), lat.max(), lon.max()))


def display_tolerance_m(points: pd.DataFrame) -> float:
    """Simplification tolerance: ~50 m for a harbour, up to 200 m for an ocean crossing."""
    d = extent_m(points["lat"].to_numpy(float), points["lon"].to_numpy(float))
    return float(np.clip(d / 10_000, 50.0, 200.0))


def _keep_mask(p: pd.DataFrame, alerts: pd.DataFrame | None) -> np.ndarray:
    """True at the track points nearest in time to each alert's start and end (per vessel)."""
    keep = np.zeros(len(p), dtype=bool)
    if alerts is None or alerts.empty or p.empty:
        return keep
    q = []
    for who in ("mmsi", "other_mmsi"):
        for when in ("start", "end"):
            part = pd.DataFrame({"mmsi": alerts[who], "ts": alerts[when]}).dropna()
            q.append(part)
    q = pd.concat(q, ignore_index=True)
    if q.empty:
        return keep
    q = pd.DataFrame(
        {"mmsi": q["mmsi"].astype("int64").to_numpy(), "t": _epoch_s(q["ts"])}
    ).sort_values("t")
    mmsi = p["mmsi"].astype("int64").to_numpy()
    pos = np.flatnonzero(np.isin(mmsi, q["mmsi"].unique()))
    ref = pd.DataFrame({"mmsi": mmsi[pos], "t": _epoch_s(p["ts"].iloc[pos]), "pos": pos})
    ref = ref.sort_values("t")
    hit = pd.merge_asof(q, ref, on="t", by="mmsi", direction="nearest")["pos"].dropna()
    keep[hit.astype("int64").to_numpy()] = True
    return keep


def _mercator(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.radians(np.clip(lat, -85.0, 85.0))
    return EARTH_RADIUS_M * np.radians(lon), EARTH_RADIUS_M * np.log(np.tan(np.pi / 4 + lat / 2))


def _inverse_mercator(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.degrees(2 * np.arctan(np.exp(y / EARTH_RADIUS_M)) - np.pi / 2)
    return lat, np.degrees(x / EARTH_RADIUS_M)


def simplify_within(
    geoms: np.ndarray, tolerance: float | np.ndarray, budget: int, *, preserve_topology: bool
) -> np.ndarray:
    """Geometries simplified at `tolerance`, raised fourfold (up to 6 times) until they have at
    most `budget` vertices in all: the report's size bound (see limits)."""
    for _ in range(7):
        out = shapely.simplify(geoms, tolerance, preserve_topology=preserve_topology)
        if shapely.get_num_coordinates(out).sum() <= budget:
            break
        tolerance = tolerance * 4
    return out


def track_layer(
    points: pd.DataFrame,
    alerts: pd.DataFrame | None = None,
    tolerance_m: float | None = None,
    max_vertices: int | None = None,
) -> dict[str, Any]:
    """Vessel tracks as simplified line pieces, each with one vessel, time slice and speed.

    `points` are the output of :func:`good_points` (as for every per-point layer here).

    Pieces break at segment ends, at the antimeridian (no line across the world), at time slices
    (speed colouring) and at alert times (so the simplified line keeps the exact fixes where
    alerts were raised: Douglas-Peucker keeps every piece's end points). Simplification runs in
    Web Mercator with the tolerance scaled by 1/cos(latitude), i.e. in metres on the ground; time
    rides along as the Z coordinate, so every kept vertex keeps its time (`dt`: seconds since
    the piece's `t0`) for the replay slider. At most `max_vertices` (default
    limits.MAX_TRACK_VERTICES) are drawn: the tolerance is raised until they fit, then the last
    pieces are left out (`not_drawn` counts them).
    """
    p = points
    empty: dict[str, Any] = {
        "mmsi": [], "t0": [], "t1": [], "sog": [], "offsets": [0], "coords": [], "dt": []
    }
    empty["not_drawn"] = 0
    if len(p) < 2:
        return empty
    tol = display_tolerance_m(p) if tolerance_m is None else tolerance_m
    max_vertices = limits.MAX_TRACK_VERTICES if max_vertices is None else max_vertices
    n = len(p)
    t = _epoch_s(p["ts"])
    lat, lon = p["lat"].to_numpy(float), p["lon"].to_numpy(float)
    seg = p["segment"].to_numpy()
    span = int(t.max() - t.min())
    slice_s = max(MIN_SLICE_S, -(-span // TIME_SLICES))
    bucket = (t - t.min()) // slice_s

    hard = np.ones(n, dtype=bool)
    hard[1:] = (seg[1:] != seg[:-1]) | (np.abs(np.diff(lon)) > 180.0)
    soft = np.zeros(n, dtype=bool)
    soft[1:] = (bucket[1:] != bucket[:-1]) | _keep_mask(p, alerts)[1:]
    soft &= ~hard
    piece = np.cumsum(hard | soft) - 1
    # a soft break at i: point i also ends the previous piece, so the line stays continuous
    junction = np.flatnonzero(soft)
    idx = np.concatenate([np.arange(n), junction])
    pc = np.concatenate([piece, piece[junction] - 1])
    order = np.lexsort((idx, pc))
    idx, pc = idx[order], pc[order]
    counts = np.bincount(pc, minlength=piece[-1] + 1)
    ok = counts[pc] >= 2
    idx, pc = idx[ok], pc[ok]
    if len(idx) == 0:
        return empty
    _, pc = np.unique(pc, return_inverse=True)
    n_pieces = int(pc.max()) + 1

    x, y = _mercator(lat[idx], lon[idx])
    lines = shapely.linestrings(x, y, t[idx] - t.min(), indices=pc)
    mean_lat = np.bincount(pc, weights=lat[idx]) / np.bincount(pc)
    tol_xy = tol / np.cos(np.radians(np.clip(mean_lat, -85, 85)))
    simple = simplify_within(lines, tol_xy, max_vertices, preserve_topology=False)
    fits = np.cumsum(shapely.get_num_coordinates(simple)) <= max_vertices
    simple = simple[fits]
    xy, owner = shapely.get_coordinates(simple, include_z=True, return_index=True)
    out_lat, out_lon = _inverse_mercator(xy[:, 0], xy[:, 1])
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(simple)))])

    first = np.flatnonzero(np.r_[True, pc[1:] != pc[:-1]])
    last = np.r_[first[1:] - 1, len(pc) - 1]
    sog = p["sog"].to_numpy(float)[idx]
    if "speed_kn" in p:
        sog = np.where(np.isfinite(sog), sog, p["speed_kn"].to_numpy(float)[idx])
    fin = np.isfinite(sog)
    mean_sog = np.bincount(pc, weights=np.where(fin, sog, 0.0)) / np.maximum(
        np.bincount(pc, weights=fin.astype(float)), 1
    )
    mean_sog[np.bincount(pc, weights=fin.astype(float)) == 0] = np.nan
    first, last, mean_sog = first[fits], last[fits], mean_sog[fits]
    coords = np.column_stack([out_lat, out_lon]).round(COORD_DECIMALS).ravel()
    dt = xy[:, 2] + t.min() - t[idx[first]][owner]
    return {
        "mmsi": p["mmsi"].to_numpy()[idx[first]].astype("int64").tolist(),
        "t0": t[idx[first]].tolist(),
        "t1": t[idx[last]].tolist(),
        "sog": _nullable(mean_sog, 1),
        "offsets": offsets.tolist(),
        "coords": coords.tolist(),
        "dt": dt.astype("int64").tolist(),
        "not_drawn": int(n_pieces - fits.sum()),
    }


def latest_layer(points: pd.DataFrame, table: dict[str, list]) -> dict[str, Any]:
    """The last good fix of every vessel, with heading (else COG, else implied course) and
    ship-type group (from `table`, the vessel_table) for its colour."""
    p = points
    if p.empty:
        return {k: [] for k in ("mmsi", "lat", "lon", "hdg", "sog", "t", "group")}
    last = p.iloc[np.lexsort((_epoch_s(p["ts"]), p["mmsi"].to_numpy()))]
    last = last.drop_duplicates("mmsi", keep="last")
    hdg = last["heading"].astype(float)
    hdg = hdg.fillna(last["cog"].astype(float))
    if "course" in last:
        hdg = hdg.fillna(last["course"].astype(float))
    kind = dict(zip(table["mmsi"], table["type"], strict=True))
    mmsi = last["mmsi"].astype("int64").tolist()
    return {
        "mmsi": mmsi,
        "lat": last["lat"].round(COORD_DECIMALS).tolist(),
        "lon": last["lon"].round(COORD_DECIMALS).tolist(),
        "hdg": _nullable(hdg, 0),
        "sog": _nullable(last["sog"], 1),
        "t": _epoch_s(last["ts"]).tolist(),
        "group": ship_group([kind.get(m, "") for m in mmsi]),
    }


def vessel_table(points: pd.DataFrame, vessels: pd.DataFrame | None) -> dict[str, list]:
    """Per vessel: name, call sign, type, flag, destination (raw text: shown via textContent)."""
    mmsi = pd.Series(pd.unique(points["mmsi"].astype("int64")), dtype="int64")
    v = pd.DataFrame({"mmsi": mmsi})
    if vessels is not None and not vessels.empty:
        vv = vessels.copy()
        vv["mmsi"] = vv["mmsi"].astype("int64")
        if "ts" in vv:
            vv = vv.sort_values("ts")
        vv = vv.drop_duplicates("mmsi", keep="last")
        cols = [c for c in ("name", "callsign", "ship_type", "destination") if c in vv]
        v = v.merge(vv[["mmsi", *cols]], on="mmsi", how="left")
    for c in ("name", "callsign", "destination"):
        v[c] = limits.texts(v[c].astype("string").str.strip()) if c in v else ""
    kind = ship_type_text(v["ship_type"]) if "ship_type" in v else pd.Series("", index=v.index)
    return {
        "mmsi": v["mmsi"].tolist(),
        "name": v["name"].tolist(),
        "callsign": v["callsign"].tolist(),
        "type": kind.tolist(),
        "flag": flag_of(v["mmsi"]).tolist(),
        "destination": v["destination"].tolist(),
    }


def _alert_line(
    types: pd.Series, evidence: pd.Series, lat: Iterable[float], lon: Iterable[float]
) -> list[list[float] | None]:
    """Gap: where the vessel went dark -> where it reappeared. Encounter or identity conflict:
    this position -> the other vessel's (or the same MMSI's other) position."""
    out = []
    for typ, ev, la, lo in zip(types, evidence, lat, lon, strict=True):
        ev = ev if isinstance(ev, dict) else {}
        pts = None
        if typ == "ais_gap" and all(k in ev for k in ("lat0", "lon0", "lat1", "lon1")):
            pts = [ev["lat0"], ev["lon0"], ev["lat1"], ev["lon1"]]
        elif typ in ("encounter", "identity_conflict") and "other_lat" in ev and "other_lon" in ev:
            pts = [la, lo, ev["other_lat"], ev["other_lon"]]
        try:
            ok = pts is not None and all(np.isfinite(float(v)) for v in pts)
        except (TypeError, ValueError):
            ok = False
        out.append([round(float(v), COORD_DECIMALS) for v in pts] if ok and pts else None)
    return out


#: What a store says of an alert beyond its finding: open/closed, and an analyst's review.
EVENT_TEXT = ("status", "review", "review_note")


def alert_layer(alerts: pd.DataFrame | None) -> dict[str, list]:
    """Alerts as columns, with evidence as JSON objects and the gap/encounter line if any."""
    cols = ("id", "type", "severity", "mmsi", "other_mmsi", "name", "start", "end", "lat", "lon")
    if alerts is None or alerts.empty:
        return {c: [] for c in (*cols, *EVENT_TEXT, "zone", "zone_kind", "evidence", "line")}
    a = alerts.reset_index(drop=True)
    a = a[np.isfinite(a["lat"].astype(float)) & np.isfinite(a["lon"].astype(float))]
    a = a.reset_index(drop=True)

    def txt(col: str) -> list[str]:
        return limits.texts(a[col]) if col in a else [""] * len(a)

    evidence = a["evidence"] if "evidence" in a else pd.Series([{}] * len(a))
    return {
        "id": txt("id"),
        "type": txt("type"),
        "severity": txt("severity"),
        "mmsi": a["mmsi"].astype("int64").tolist(),
        "other_mmsi": _nullable(a["other_mmsi"] if "other_mmsi" in a else [np.nan] * len(a)),
        "name": txt("vessel_name"),
        "start": _nullable(_epoch_s(a["start"]) if "start" in a else [np.nan] * len(a)),
        "end": _nullable(
            np.where(a["end"].isna(), np.nan, _epoch_s(a["end"].fillna(a["start"])))
            if "end" in a
            else [np.nan] * len(a)
        ),
        "lat": a["lat"].astype(float).round(COORD_DECIMALS).tolist(),
        "lon": a["lon"].astype(float).round(COORD_DECIMALS).tolist(),
        "zone": txt("zone_name"),
        "zone_kind": txt("zone_kind"),
        **{c: txt(c) for c in EVENT_TEXT},
        "evidence": [
            limits.json_value(jsonable(e)) if isinstance(e, dict) else {} for e in evidence
        ],
        "line": _alert_line(a["type"], evidence, a["lat"], a["lon"]),
    }


def heat_layer(points: pd.DataFrame, cells: int = 400) -> list[list[float]]:
    """Traffic density: fixes counted on a grid (~`cells` across the extent), weights in (0, 1]."""
    p = points
    if p.empty:
        return []
    lat, lon = p["lat"].to_numpy(float), p["lon"].to_numpy(float)
    size = max((lat.max() - lat.min()) / cells, (lon.max() - lon.min()) / cells, 0.001)
    row = np.floor(lat / size).astype(np.int64)
    col = np.floor(lon / size).astype(np.int64)
    width = col.max() - col.min() + 1
    cell, count = np.unique((row - row.min()) * width + (col - col.min()), return_counts=True)
    r, c = cell // width + row.min(), cell % width + col.min()
    w = np.log1p(count) / np.log1p(count.max())
    return np.column_stack(
        [((r + 0.5) * size).round(4), ((c + 0.5) * size).round(4), w.round(3)]
    ).tolist()


def _display_geometry(geoms: np.ndarray, budget: int) -> np.ndarray:
    """Zone shapes simplified (~50 m, coarser beyond `budget` vertices), rounded (~1 m)."""
    simple = simplify_within(geoms, ZONE_TOLERANCE_DEG, budget, preserve_topology=True)
    return shapely.set_precision(simple, 10**-COORD_DECIMALS)


def zone_layers(zones: gpd.GeoDataFrame | None) -> list[dict[str, Any]]:
    """Zone groups as JSON-ready GeoJSON: ``[{"name", "style", "geojson"}]``, one per layer.

    The page script draws them with L.geoJSON and shows name, kind and source as text
    (textContent): zone text goes into the page data like every other text, never through
    folium, whose rendered scripts branca compiles as Jinja templates (a zone named
    ``{{ ... }}`` would run code). Cable (and other line) features draw their centre line on
    top of the corridor.
    """
    if zones is None or len(zones) == 0:
        return []
    import geopandas as gpd

    out = []
    for layer, (kinds, style) in styles.ZONE_LAYERS.items():
        z = zones[zones["kind"].isin(kinds)]
        if z.empty:
            continue
        props = pd.DataFrame({c: limits.texts(z[c]) for c in ("name", "kind", "source") if c in z})
        geoms = [_display_geometry(z.geometry.to_numpy(), limits.MAX_ZONE_VERTICES)]
        if "feature_geometry" in z:
            drawn = gpd.GeoSeries(z["feature_geometry"].to_numpy(), crs=z.crs).to_numpy()
            lines = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)
            is_line = np.isin(shapely.get_type_id(drawn), [t.value for t in lines])
            if is_line.any():
                geoms.append(_display_geometry(drawn[is_line], limits.MAX_ZONE_VERTICES // 4))
                props = pd.concat([props, props[is_line]], ignore_index=True)
        gdf = gpd.GeoDataFrame(props, geometry=np.concatenate(geoms), crs="EPSG:4326")
        out.append({"name": layer, "style": style, "geojson": gdf.to_geo_dict(drop_id=True)})
    return out


def outage_list(outages: pd.DataFrame | None) -> dict[str, list]:
    """Feed outages (mda.feed.FEED_OUTAGES) as columns: start and end (epoch s), hours, mean
    vessels heard per bin. Spans of time, not places: listed in the side panel."""
    if outages is None or outages.empty:
        return {"start": [], "end": [], "hours": [], "vessels_heard": []}
    return {
        "start": _epoch_s(outages["start"]).tolist(),
        "end": _epoch_s(outages["end"]).tolist(),
        "hours": _nullable(outages["hours"], 2),
        "vessels_heard": _nullable(outages["vessels_heard"], 1),
    }


def artefact_layer(artefacts: pd.DataFrame | None) -> dict[str, list]:
    """Receiver artefacts (schema.ARTEFACTS: fixes left out for a stale time stamp) as columns."""
    cols = ("mmsi", "lat", "lon", "t", "reason")
    if artefacts is None or artefacts.empty:
        return {c: [] for c in cols}
    a = artefacts[np.isfinite(artefacts["lat"].astype(float).to_numpy())]
    a = a[np.isfinite(a["lon"].astype(float).to_numpy())]
    return {
        "mmsi": a["mmsi"].astype("int64").tolist(),
        "lat": a["lat"].astype(float).round(COORD_DECIMALS).tolist(),
        "lon": a["lon"].astype(float).round(COORD_DECIMALS).tolist(),
        "t": _epoch_s(a["ts"]).tolist(),
        "reason": limits.texts(a["reason"]),
    }
