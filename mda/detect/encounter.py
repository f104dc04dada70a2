"""Encounters: two slow vessels side by side at sea for hours (possible ship-to-ship transfer).

Global Fishing Watch's definition: two vessels within ``max_distance_m`` of each other for at
least ``min_hours``, both with a median speed under ``max_median_kn``, at least
``min_port_distance_km`` from ports and anchorages (the zone layers' and, with the world
context, every World Port Index port, and out of its harbour radius). Candidate pairs come from a
space-time index, never from all pairs: each slow vessel's track is resampled onto a grid of
``time_bucket_minutes`` (interpolated within a segment, never across a gap), binned into grid
cells about one ``max_distance_m`` wide, and joined with itself on (bucket, cell) and the
neighbouring cells. A pair may drop out of range for ``max_missed_buckets`` buckets without
ending its encounter, and buckets where a vessel moves up to ``speed_slack`` x
``max_median_kn`` are kept, so a vessel hovering around the limit is judged on its median.

Severity: high inside a restricted area, medium elsewhere at sea, and info inside an anchorage
learned from the data (mda.detect.anchorages: a field of ships waiting at anchor, where lying
within 500 m of a neighbour for hours is ordinary); the evidence gives the field's size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config, EncounterConfig
from mda.detect.base import Context, make_alerts
from mda.detect.runs import expand, seconds, speed
from mda.geo import EARTH_RADIUS_M, haversine_m, per_cell

SECTION = "encounter"
NEAR_KINDS = ("port", "anchorage")
#: Zones named on the alert when the meeting point lies inside; "restricted" raises severity.
ZONE_KINDS = ("restricted", "cable")


def resample(points: pd.DataFrame, bucket_s: float) -> pd.DataFrame:
    """Positions and speed of each segment at the grid times k * bucket_s inside the segment.

    Linear interpolation between a segment's fixes; a grid time outside every segment (a gap)
    gets no row. Returns mmsi, bucket (k), lat, lon, speed.
    """
    cols = ["mmsi", "bucket", "lat", "lon", "speed"]
    if points.empty:
        return pd.DataFrame({c: [] for c in cols})
    seg = points["segment"].to_numpy()
    t = seconds(points["ts"])
    # a strictly increasing axis over all segments: segment rank * span + seconds since start
    _, rank = np.unique(seg, return_inverse=True)
    t0 = t.min()
    span = (t.max() - t0) + 10 * bucket_s
    x = rank * span + (t - t0)
    order = np.argsort(x, kind="stable")
    x, rank = x[order], rank[order]
    tt = t[order]
    first = np.r_[True, rank[1:] != rank[:-1]]
    last = np.r_[rank[1:] != rank[:-1], True]
    k0 = np.ceil(tt[first] / bucket_s).astype(np.int64)
    k1 = np.floor(tt[last] / bucket_s).astype(np.int64)
    n = np.maximum(k1 - k0 + 1, 0)
    seg_rank = rank[first]
    mmsi = points["mmsi"].to_numpy()[order][first]
    rep, k = expand(k0, k0 + n)
    xg = seg_rank[rep] * span + (k * bucket_s - t0)
    out = {"mmsi": mmsi[rep], "bucket": k}
    for col in ("lat", "lon", "speed"):
        out[col] = np.interp(xg, x, points[col].to_numpy()[order])
    return pd.DataFrame(out)


def candidate_pairs(buckets: pd.DataFrame, max_distance_m: float) -> pd.DataFrame:
    """Pairs (a < b) of resampled rows in the same bucket closer than `max_distance_m`.

    Rows are binned into equirectangular cells slightly wider than the distance, so two rows in
    range are always in the same or a neighbouring cell; only those are compared. The east-west
    scale is the one of the most poleward row for all rows (a per-row cos(lat) would shear the
    grid: far from Greenwich two ships a few hundred metres apart north-south would land cells
    apart east-west), so cells are at least `max_distance_m` wide everywhere.
    """
    size = max_distance_m * 1.05
    lat = buckets["lat"].to_numpy()
    y = np.radians(lat) * EARTH_RADIUS_M
    widest = np.cos(np.radians(min(np.abs(lat).max(initial=0.0), 89.0)))
    x = np.radians(buckets["lon"].to_numpy()) * EARTH_RADIUS_M * widest
    base = pd.DataFrame(
        {
            "bucket": buckets["bucket"].to_numpy(),
            "cx": np.floor(x / size).astype(np.int64),
            "cy": np.floor(y / size).astype(np.int64),
            "i": np.arange(len(buckets)),
        }
    )
    shifted = [
        base.assign(cx=base["cx"] + dx, cy=base["cy"] + dy)
        for dx in (-1, 0, 1)
        for dy in (-1, 0, 1)
    ]
    other = pd.concat(shifted, ignore_index=True)
    pairs = base.merge(other, on=["bucket", "cx", "cy"], suffixes=("_a", "_b"))
    ia, ib = pairs["i_a"].to_numpy(), pairs["i_b"].to_numpy()
    mm = buckets["mmsi"].to_numpy()
    keep = mm[ia] < mm[ib]
    ia, ib = ia[keep], ib[keep]
    lat, lon = buckets["lat"].to_numpy(), buckets["lon"].to_numpy()
    dist = haversine_m(lat[ia], lon[ia], lat[ib], lon[ib])
    near = dist <= max_distance_m
    ia, ib = ia[near], ib[near]
    return pd.DataFrame(
        {
            "mmsi": mm[ia],
            "other_mmsi": mm[ib],
            "bucket": buckets["bucket"].to_numpy()[ia],
            "dist_m": dist[near],
            "lat": (lat[ia] + lat[ib]) / 2,
            "lon": (lon[ia] + lon[ib]) / 2,
            "speed_a": buckets["speed"].to_numpy()[ia],
            "speed_b": buckets["speed"].to_numpy()[ib],
        }
    )


def _near_distance_m(lat: np.ndarray, lon: np.ndarray, ctx: Context) -> np.ndarray:
    """Metres to the nearest port or anchorage zone or world port, 0 inside a world port's
    harbour radius (inf when there is neither a layer nor the world context).

    Computed once per 0.001° cell (about 100 m, far finer than the km-scale rule): vessels
    waiting together repeat the same few positions bucket after bucket.
    """
    zones, world = ctx.zones, ctx.world
    near_zones = zones is not None and len(zones) and zones["kind"].isin(NEAR_KINDS).any()
    if not near_zones and world is None:
        return np.full(len(lat), np.inf)

    def distance(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        dist = np.full(len(la), np.inf)
        if near_zones:
            from mda.zones import zone_distance_m

            dist = np.asarray(zone_distance_m(la, lo, zones, NEAR_KINDS), dtype=float)
        if world is not None:
            port = np.where(world.near_port(la, lo), 0.0, world.port_distance_m(la, lo))
            dist = np.fmin(dist, port)
        return dist

    return per_cell(lat, lon, 1e-3, distance)


def _zone_at(lat: np.ndarray, lon: np.ndarray, zones) -> tuple[pd.Series, pd.Series]:
    """Id and kind of the zone of ZONE_KINDS (first kind first) holding each point, or <NA>."""
    zid = pd.Series(pd.NA, index=range(len(lat)), dtype="string")
    kind = zid.copy()
    if zones is None or not len(zones):
        return zid, kind
    from mda.zones import zone_at

    at = zone_at(lat, lon, zones, ZONE_KINDS)
    hit = at >= 0
    zid[hit], kind[hit] = zones["id"].to_numpy()[at[hit]], zones["kind"].to_numpy()[at[hit]]
    return zid, kind


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """One `encounter` alert per pair of vessels and meeting (mmsi < other_mmsi)."""
    c = cfg.encounter
    bucket_s = c.time_bucket_minutes * 60.0
    b = _slow_buckets(ctx.tracks.points, c, bucket_s)
    if len(b) < 2:
        return schema.empty(schema.ALERTS)
    pairs = _pairs_at_sea(b, c, ctx)
    if pairs.empty:
        return schema.empty(schema.ALERTS)
    runs = _meetings(pairs, c, bucket_s)
    if runs.empty:
        return schema.empty(schema.ALERTS)
    return make_alerts(_alert_rows(runs, b, ctx, bucket_s), ctx, cfg.thresholds(SECTION))


def _slow_buckets(p: pd.DataFrame, c: EncounterConfig, bucket_s: float) -> pd.DataFrame:
    """The grid positions (see resample) of vessels ever slow, in buckets slow enough to meet."""
    good = (p["segment"].to_numpy() >= 0) & ~p["outlier"].to_numpy(dtype=bool)
    p = p.loc[good, ["mmsi", "ts", "lat", "lon", "segment"]].assign(speed=speed(p)[good])
    p = p[p["speed"].notna()]
    # only vessels that are ever slow can meet under the rule
    slow_mmsi = p.loc[p["speed"] < c.max_median_kn, "mmsi"].unique()
    b = resample(p[p["mmsi"].isin(slow_mmsi)], bucket_s)
    return b[b["speed"] < c.max_median_kn * c.speed_slack].reset_index(drop=True)


def _pairs_at_sea(b: pd.DataFrame, c: EncounterConfig, ctx: Context) -> pd.DataFrame:
    """Candidate pairs in range, away from ports and anchorages."""
    pairs = candidate_pairs(b, c.max_distance_m)
    far = _near_distance_m(pairs["lat"].to_numpy(), pairs["lon"].to_numpy(), ctx)
    return pairs[far >= c.min_port_distance_km * 1000.0]


def _meetings(pairs: pd.DataFrame, c: EncounterConfig, bucket_s: float) -> pd.DataFrame:
    """The runs of buckets of each pair (gaps up to max_missed_buckets bridged) long and slow
    enough to be an encounter: one row each with its figures."""
    pairs = pairs.sort_values(["mmsi", "other_mmsi", "bucket"], ignore_index=True)
    new_pair = (pairs["mmsi"].diff() != 0) | (pairs["other_mmsi"].diff() != 0)
    jump = pairs["bucket"].diff() > 1 + c.max_missed_buckets
    pairs["run"] = (new_pair | jump).cumsum()
    runs = pairs.groupby("run").agg(
        mmsi=("mmsi", "first"),
        other_mmsi=("other_mmsi", "first"),
        b0=("bucket", "min"),
        b1=("bucket", "max"),
        lat=("lat", "mean"),
        lon=("lon", "mean"),
        median_distance_m=("dist_m", "median"),
        min_distance_m=("dist_m", "min"),
        median_kn=("speed_a", "median"),
        other_median_kn=("speed_b", "median"),
        buckets=("bucket", "size"),
    )
    hours = (runs["b1"] - runs["b0"]) * bucket_s / 3600.0
    ok = (
        (hours >= c.min_hours)
        & (runs["median_kn"] < c.max_median_kn)
        & (runs["other_median_kn"] < c.max_median_kn)
    )
    return runs[ok].assign(hours=hours[ok]).reset_index(drop=True)


def _alert_rows(runs: pd.DataFrame, b: pd.DataFrame, ctx: Context, bucket_s: float) -> pd.DataFrame:
    """Alert rows of the encounters: place, zone, severity and evidence."""
    lat, lon = runs["lat"].to_numpy(), runs["lon"].to_numpy()
    port_km = _near_distance_m(lat, lon, ctx) / 1000.0
    zone_id, zone_kind = _zone_at(lat, lon, ctx.zones)
    anchored_around = ctx.anchorage_vessels(lat, lon)
    start = pd.to_datetime(runs["b0"] * bucket_s, unit="s", utc=True)
    end = pd.to_datetime(runs["b1"] * bucket_s, unit="s", utc=True)
    other_pos = _other_positions(b, runs)
    evidence = [
        {
            "hours": round(float(r.hours), 2),
            "median_distance_m": round(float(r.median_distance_m), 1),
            "min_distance_m": round(float(r.min_distance_m), 1),
            "median_kn": round(float(r.median_kn), 2),
            "other_median_kn": round(float(r.other_median_kn), 2),
            "port_distance_km": round(float(km), 1) if np.isfinite(km) else None,
            "samples": int(r.buckets),
            "anchorage_vessels": int(k),
            "other_lat": round(float(olat), 6),
            "other_lon": round(float(olon), 6),
        }
        for r, km, k, (olat, olon) in zip(
            runs.itertuples(), port_km, anchored_around, other_pos, strict=True
        )
    ]
    return pd.DataFrame(
        {
            "type": "encounter",
            "severity": np.select(
                [(zone_kind == "restricted").fillna(False).to_numpy(), anchored_around > 0],
                ["high", "info"],
                "medium",
            ),
            "mmsi": runs["mmsi"].to_numpy(),
            "other_mmsi": runs["other_mmsi"].to_numpy(),
            "start": start,
            "end": end,
            "lat": lat,
            "lon": lon,
            "zone_id": zone_id,
            "evidence": evidence,
        }
    )


def _other_positions(b: pd.DataFrame, runs: pd.DataFrame) -> list[tuple[float, float]]:
    """Mean position of the other vessel (other_mmsi) over each encounter's buckets."""
    key = b[["mmsi", "bucket", "lat", "lon"]]
    span = runs[["other_mmsi", "b0", "b1"]].assign(run=np.arange(len(runs)))
    m = key.merge(span, left_on="mmsi", right_on="other_mmsi")
    m = m[(m["bucket"] >= m["b0"]) & (m["bucket"] <= m["b1"])]
    pos = m.groupby("run")[["lat", "lon"]].mean().reindex(range(len(runs)))
    return list(zip(pos["lat"].to_numpy(), pos["lon"].to_numpy(), strict=True))
