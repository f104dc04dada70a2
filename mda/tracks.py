"""Vessel tracks: clean positions, flag outliers, split into segments, compute kinematics.

:func:`build_tracks` turns a positions table (schema.POSITIONS) into the three tables detectors and
maps use. Everything is vectorised over arrays sorted by (mmsi, ts); the only Python loop runs over
the rare fixes that imply an impossible speed.

What downstream code can rely on:

* Cleaning: rows without a fix or time are dropped and "not available" sentinels blanked. A report
  equal in lat/lon/sog/cog to an earlier one of the same vessel is dropped (the earliest is kept)
  when it came within ``duplicate_window_s`` (several receivers), or within ``repeat_window_s``
  when the vessel reports SOG >= 1 kn (a moving ship is never at exactly the same fix again: a
  stale relay).
* Receiver artefacts: a fix whose time stamp cannot be trusted (a feed burst, or several
  positions of one vessel under one second) and that contradicts the vessel's track is left out
  and listed in ``artefacts`` (see :func:`_stale_times`), before outliers and jumps are judged.
* ``points`` (schema.POSITIONS + schema.TRACK_POINTS_EXTRA, sorted by mmsi then ts, RangeIndex).
  Kinematics (``dt_s``, ``dist_m``, ``speed_kn``, ``course``) are measured from the vessel's
  previous *good* fix, also across segment breaks, and are NaN only at a vessel's first good fix.
  Outliers carry the figures measured from the last good fix (the evidence that made them
  outliers) but are never used as a previous fix. ``speed_kn`` is NaN when dt is 0, ``course``
  when the fix did not move. ``turn`` is the change of course between consecutive good fixes of
  one segment, positive to starboard (clockwise), NaN at the first two fixes of a segment and for
  outliers.
* Position jumps come in two kinds, both visible to the position-jump detector:
  a **glitch** (one fix, or fewer than ``jump_min_fixes``, out and back) has ``outlier=True`` and
  ``segment=-1``; a **relocation** (the vessel continues consistently from the new place for at
  least ``jump_min_fixes`` fixes, as with a spoofed position) starts a new segment whose first fix
  has ``jump=True``; its ``dist_m``/``speed_kn`` give the size of the jump. A far first fix that the
  track never comes back to is a glitch (outlier), not a jump.
* ``segments`` (EPSG:4326, built from the points on first access): one LineString per segment.
  A single-fix segment gets a degenerate two-vertex LineString at that fix, so every layer holds
  one geometry type (GeoPackage, QGIS and Leaflet styling stay simple); ``n_points`` tells them
  apart. Longitudes are *unwrapped* within a segment, so a track crossing the antimeridian
  continues past ±180 (179.9 -> 180.1) instead of drawing a line around the world; Leaflet draws
  such lines correctly. ``lon0``/``lon1`` stay in [-180, 180].
* ``gaps`` (schema.GAPS): every silence longer than ``gap_hours`` between consecutive good fixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mda import schema
from mda.config import TracksConfig
from mda.errors import MdaError
from mda.fileio import replacing
from mda.geo import NM, bearing_deg, haversine_m

if TYPE_CHECKING:
    import movingpandas

#: Columns of Tracks.points.
POINTS: dict[str, str] = {**schema.POSITIONS, **schema.TRACK_POINTS_EXTRA}

#: Attribute columns of Tracks.segments (plus geometry).
SEGMENTS: dict[str, str] = {
    "segment": "int64",
    "mmsi": "uint32",
    "start": schema.TS,
    "end": schema.TS,
    "lat0": "float64",
    "lon0": "float64",
    "lat1": "float64",
    "lon1": "float64",
    "n_points": "int64",
    "length_m": "float64",
    "mean_sog": "float64",  # reported SOG, NaN-aware
    "max_sog": "float64",
    "mean_speed_kn": "float64",  # implied: length over duration, NaN for a single instant
}

KN_MS = NM / 3600.0  # metres per second in one knot
#: Fixes compared with each earlier one when looking for a report heard by several receivers.
_DUP_LOOKBACK = 4
_SUFFIXES = (".parquet", ".geojson", ".gpkg")


@dataclass
class Tracks:
    """Cleaned track points, their segments as lines, and the silences between segments."""

    points: pd.DataFrame
    gaps: pd.DataFrame
    #: Fixes left out because their time stamp cannot be trusted (schema.ARTEFACTS): a fact about
    #: the feed, never vessel behaviour.
    artefacts: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.ARTEFACTS))

    @cached_property
    def segments(self) -> gpd.GeoDataFrame:
        """The segments table, built from the points on first use (detectors never need it)."""
        return _segments(self.points)

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The points as a GeoDataFrame of Points (EPSG:4326), e.g. for ``.to_crs`` or a GIS
        (``segments`` already is one, of LineStrings)."""
        from mda.gis import positions_gdf

        return positions_gdf(self.points)

    def vessels(self) -> pd.DataFrame:
        """One row per MMSI: fixes, outliers, segments, first and last time."""
        p = self.points
        g = p.groupby("mmsi", sort=True)
        out = pd.DataFrame(
            {
                "n_points": g.size(),
                "n_outliers": g["outlier"].sum(),
                "n_segments": self.segments.groupby("mmsi").size(),
                "first": g["ts"].min(),
                "last": g["ts"].max(),
            }
        )
        out["n_segments"] = out["n_segments"].fillna(0)
        out.index.name = "mmsi"
        return out.reset_index().astype(
            {c: "int64" for c in ("n_points", "n_outliers", "n_segments")}
        )


def build_tracks(positions: pd.DataFrame, cfg: TracksConfig | None = None) -> Tracks:
    """Clean positions, flag outliers and jumps, split into segments, compute kinematics."""
    cfg = cfg or TracksConfig()
    df = _clean(positions)
    ts_all = pd.DatetimeIndex(df["ts"]).asi8
    order = _sort_order(df["mmsi"].to_numpy(), ts_all)
    a = {c: df[c].to_numpy()[order] for c in ("mmsi", "lat", "lon", "sog", "cog")}
    a["ts"] = ts_all[order]
    keep = ~_duplicates(a, cfg)
    order = order[keep]
    a = {c: v[keep] for c, v in a.items()}
    stale = _stale_times(a, cfg)
    artefacts = _artefacts(a, stale)
    order = order[~stale]
    a = {c: v[~stale] for c, v in a.items()}
    mm, ts, lat, lon = a["mmsi"], a["ts"], a["lat"], a["lon"]

    t_s = (ts - ts[0]) / 1e9 if len(ts) else ts.astype(float)
    step = np.r_[np.nan, haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])] if len(ts) else t_s
    outlier, jump = _outliers(mm, t_s, lat, lon, step, cfg)
    kin = _kinematics(mm, t_s, lat, lon, step, outlier, jump, cfg)

    points = pd.DataFrame(
        {c: a[c] if c in a and c != "ts" else df[c].array.take(order) for c in schema.POSITIONS},
        copy=False,
    )
    for col in schema.TRACK_POINTS_EXTRA:
        points[col] = kin[col]
    gaps = _gaps(kin, mm, ts, lat, lon, ~outlier, cfg)
    return Tracks(points=points, gaps=gaps, artefacts=artefacts)


def _sort_order(mmsi: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Stable row order by (mmsi, ts): one sort of an int64 key when it fits, else two passes.
    Rows already in that order (as Store.positions returns them) are only checked."""
    later = (mmsi[1:] > mmsi[:-1]) | ((mmsi[1:] == mmsi[:-1]) & (ts[1:] >= ts[:-1]))
    if later.all():
        return np.arange(len(ts))
    codes, uniques = pd.factorize(mmsi, sort=True)
    t = ts - ts.min()
    span = int(t.max()) + 1
    if len(uniques) * span < 2**62:
        return np.argsort(codes.astype(np.int64) * span + t, kind="stable")
    order = np.argsort(ts, kind="stable")
    return order[np.argsort(codes[order], kind="stable")]


def _clean(positions: pd.DataFrame) -> pd.DataFrame:
    """Conform to schema.POSITIONS, blank AIS "not available" sentinels, drop rows without a fix."""
    df = schema.conform(positions, schema.POSITIONS, extra=False)
    nan = np.nan
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()
    df["lat"] = np.where(np.abs(lat) <= 90.0, lat, nan)  # 91 = not available
    df["lon"] = np.where(np.abs(lon) <= 180.0, lon, nan)  # 181 = not available
    limits = {"sog": 102.25, "cog": 360.0, "heading": 360.0}  # 102.3, 360, 511 = not available
    for col, hi in limits.items():
        v = df[col].to_numpy()
        df[col] = np.where((v >= 0) & (v < hi), v, nan).astype(v.dtype)
    keep = df["lat"].notna() & df["lon"].notna() & df["ts"].notna()
    return df if keep.all() else df[keep.to_numpy()].reset_index(drop=True)


def _duplicates(a: dict[str, np.ndarray], cfg: TracksConfig) -> np.ndarray:
    """True for a report equal (lat, lon, sog, cog) to an earlier one of the same vessel heard
    within duplicate_window_s, over arrays sorted by (mmsi, ts); the earliest is kept.

    Exact duplicates are the dt = 0 case. A vessel reporting SOG >= moving_kn cannot be at exactly
    the same fix again, so such a repeat within repeat_window_s is a stale relay of an old message
    (seen in DMA data: a copy 8 s late, then the fresh report 1 s after it, implying 100 kn).
    Each report is compared with the few reports before it, so copies interleaved with other
    traffic are still caught.
    """
    ts, n = a["ts"], len(a["ts"])
    cols = [a[c] for c in ("mmsi", "lat", "lon", "sog", "cog")]
    moving = np.nan_to_num(a["sog"]) >= cfg.moving_kn
    repeat = max(cfg.repeat_window_s, cfg.duplicate_window_s)
    window = np.where(moving, repeat, cfg.duplicate_window_s) * 1e9
    dup = np.zeros(n, dtype=bool)
    for k in range(1, min(_DUP_LOOKBACK, n - 1) + 1):
        same = ts[k:] - ts[:-k] <= window[k:]
        for col in cols:
            x, y = col[k:], col[:-k]
            same &= (x == y) | (np.isnan(x) & np.isnan(y)) if col.dtype.kind == "f" else x == y
        dup[k:] |= same
    return dup


def _bursts(ts: np.ndarray, cfg: TracksConfig) -> np.ndarray:
    """True per fix whose second is a burst: the feed carries burst_factor times its median
    rate of that hour (over seconds with traffic) and at least burst_min_messages in it.

    A receiver or an archive that releases buffered reports stamps them with the time it
    released them (MarineCadastre's day files open with hundreds of old fixes at 00:00:00).
    """
    sec = ts // 1_000_000_000
    uniq, inv, count = np.unique(sec, return_inverse=True, return_counts=True)
    hour = uniq // 3600
    h_uniq, h_inv = np.unique(hour, return_inverse=True)
    # median of each hour's per-second counts: sort by (hour, count), take the middle
    order = np.lexsort((count, h_inv))
    n = np.bincount(h_inv, minlength=len(h_uniq))
    start = np.r_[0, np.cumsum(n)[:-1]]
    sc = count[order]
    median = (sc[start + (n - 1) // 2] + sc[start + n // 2]) / 2.0
    burst = (count >= cfg.burst_factor * median[h_inv]) & (count >= cfg.burst_min_messages)
    return burst[inv]


def _stale_times(a: dict[str, np.ndarray], cfg: TracksConfig) -> np.ndarray:
    """Fixes whose time stamp is a receiver artefact and contradicts the vessel's track.

    A fix's time is unreliable when it falls in a feed burst (see _bursts) or when the same
    vessel has another fix in the same second at a place it cannot reach in that second (several
    different positions under one stamp). Such a fix is stale, and left out before outliers, jumps
    and twins are judged, when it is implausible from the vessel's next reliable fix (its last one
    when none follows) or from its first fix in a later second; a vessel with no reliable fix
    keeps its fixes unless they contradict each other.
    """
    mm, ts, n = a["mmsi"], a["ts"], len(a["ts"])
    if n < 2:
        return np.zeros(n, dtype=bool)
    lat, lon = a["lat"], a["lon"]
    sec = ts // 1_000_000_000
    link = (mm[1:] == mm[:-1]) & (sec[1:] == sec[:-1])
    link &= haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]) > cfg.noise_m
    clash = np.r_[link, False] | np.r_[False, link]
    unreliable = clash | _bursts(ts, cfg)
    if not unreliable.any():
        return unreliable
    idx = np.arange(n)
    reliable_idx = np.where(unreliable, -1, idx)
    prev = np.maximum.accumulate(reliable_idx)
    nxt = np.minimum.accumulate(np.where(unreliable, n, idx)[::-1])[::-1]
    ok_next = (nxt < n) & (mm[np.minimum(nxt, n - 1)] == mm)
    ok_prev = (prev >= 0) & (mm[np.maximum(prev, 0)] == mm)
    ref = np.where(ok_next, nxt, np.where(ok_prev, prev, -1))
    # the vessel's first fix in a later second (a stale neighbour may look plausible from a
    # reliable fix a minute away, never from one a second away)
    new = np.r_[True, (mm[1:] != mm[:-1]) | (sec[1:] != sec[:-1])]
    starts = np.flatnonzero(new)
    later = np.r_[starts[1:], n][np.cumsum(new) - 1]
    has_later = later < n
    has_later[has_later] = mm[later[has_later]] == mm[has_later]
    stale = np.zeros(n, dtype=bool)
    for ref_ok, refs in ((ref >= 0, ref), (has_later, later)):
        u = np.flatnonzero(unreliable & ref_ok)
        r = refs[u]
        dist = haversine_m(lat[u], lon[u], lat[r], lon[r])
        stale[u] |= _implausible(dist, np.abs(ts[r] - ts[u]) / 1e9, cfg)
    return stale


def _artefacts(a: dict[str, np.ndarray], stale: np.ndarray) -> pd.DataFrame:
    """The stale fixes as a table (schema.ARTEFACTS)."""
    table = pd.DataFrame(
        {
            "mmsi": a["mmsi"][stale],
            "ts": pd.to_datetime(a["ts"][stale], utc=True),
            "lat": a["lat"][stale],
            "lon": a["lon"][stale],
            "reason": "stale time stamp",
        }
    )
    return schema.conform(table, schema.ARTEFACTS, extra=False)


def _implausible(dist_m: np.ndarray, dt_s: np.ndarray, cfg: TracksConfig) -> np.ndarray:
    """A move further than max_speed_kn allows in dt, beyond the position noise tolerance."""
    return dist_m - cfg.noise_m > cfg.max_speed_kn * KN_MS * dt_s


def _outliers(
    mm: np.ndarray,
    t_s: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    step: np.ndarray,
    cfg: TracksConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(outlier, jump) flags over arrays sorted by (mmsi, ts); `step` is metres from the row before.

    A step implausible from its predecessor is a candidate (rare). Each candidate is judged from
    the vessel's last good fix g over the next jump_min_fixes (m) fixes: if the track comes back
    near g (plausible from g) within them, the excursion is a glitch (outliers); if they continue
    consistently from the new place, it is a relocation (jump, new segment); else only the
    consistent run is flagged and the next candidate is judged from g again (chaotic data, such as
    the stale fixes MarineCadastre clumps at 00:00:00, is flagged one run at a time). The windows
    are evaluated for all candidates at once; the loop over candidates only decides.
    """
    n = len(mm)
    outlier = np.zeros(n, dtype=bool)
    jump = np.zeros(n, dtype=bool)
    if n < 2:
        return outlier, jump
    same = np.r_[False, mm[1:] == mm[:-1]]
    bad = same & _implausible(step, np.r_[0.0, np.diff(t_s)], cfg)
    cand = np.flatnonzero(bad)
    if not len(cand):
        return outlier, jump
    first = np.flatnonzero(~same)
    vessel = np.searchsorted(first, cand, side="right") - 1
    vessel_first = first[vessel]
    m = cfg.jump_min_fixes
    win = cand[:, None] + np.arange(m)
    inside = win < np.r_[first[1:], n][vessel][:, None]
    win = np.where(inside, win, cand[:, None])
    # consistent run from each candidate (capped at m) and closeness to the fix before it
    stop = np.c_[bad[win[:, 1:]] | ~inside[:, 1:], np.ones(len(cand), dtype=bool)]
    chain = 1 + np.argmax(stop, axis=1)
    near_prev = inside & _near(lat, lon, t_s, cand - 1, win, cfg)
    # the fix after a one-fix glitch is judged from two rows back: precompute that too
    near_prev2 = inside & _near(lat, lon, t_s, np.maximum(cand - 2, 0), win, cfg)
    g = -1
    for k, (i, v0) in enumerate(zip(cand.tolist(), vessel_first.tolist(), strict=True)):
        if outlier[i]:
            continue
        if outlier[i - 1] and g == i - 2:
            near_g = near_prev2[k]
        elif outlier[i - 1]:
            w = win[k][inside[k]]
            near_g = _near(lat, lon, t_s, np.array([g]), w[None, :], cfg)[0]
        else:
            g, near_g = i - 1, near_prev[k]
        if near_g[0]:
            continue  # the fix after an excursion: plausible from the last good fix
        back = np.flatnonzero(near_g)
        if len(back):
            outlier[i : i + int(back[0])] = True
        elif chain[k] >= m:
            if g == v0:
                outlier[g] = True  # the vessel's first fix, never confirmed by the track
            else:
                jump[i] = True
        else:
            outlier[i : i + int(chain[k])] = True  # unconfirmed; the rest is judged from g again
    return outlier, jump


def _near(
    lat: np.ndarray,
    lon: np.ndarray,
    t_s: np.ndarray,
    frm: np.ndarray,
    to: np.ndarray,
    cfg: TracksConfig,
) -> np.ndarray:
    """Plausible moves from fixes `frm` (shape (k,)) to fixes `to` (shape (k, w))."""
    f = frm[:, None]
    dist = haversine_m(lat[f], lon[f], lat[to], lon[to])
    return ~_implausible(dist, t_s[to] - t_s[f], cfg)


def _kinematics(
    mm: np.ndarray,
    t_s: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    step: np.ndarray,
    outlier: np.ndarray,
    jump: np.ndarray,
    cfg: TracksConfig,
) -> dict[str, np.ndarray]:
    """Per-point segment ids and kinematics from each fix's previous good fix (see module doc)."""
    n = len(mm)
    good = ~outlier
    idx = np.arange(n)
    last_good = np.maximum.accumulate(np.where(good, idx, -1)) if n else idx
    prev = np.r_[-1, last_good[:-1]] if n else idx
    has = prev >= 0
    p = np.where(has, prev, 0)
    has &= mm[p] == mm
    nan = np.nan
    dt = np.where(has, t_s - t_s[p], nan)
    dist = np.where(has, step, nan)  # the previous good fix is usually the row before
    far = np.flatnonzero(has & (p != idx - 1))
    dist[far] = haversine_m(lat[p[far]], lon[p[far]], lat[far], lon[far])
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(dt > 0, dist / dt / KN_MS, nan)
    course = np.where(dist > 0, bearing_deg(lat[p], lon[p], lat, lon), nan)
    start = good & (~has | jump | (dt > cfg.gap_hours * 3600.0))
    segment = np.where(good, np.cumsum(start) - 1, -1).astype("int64")
    inner = good & ~start & ~start[p]
    turn = np.where(inner, 0.0 - ((course[p] - course + 180.0) % 360.0 - 180.0), nan)
    return {
        "segment": segment,
        "outlier": outlier,
        "dt_s": dt,
        "dist_m": dist,
        "speed_kn": speed,
        "course": course,
        "turn": turn,
        "jump": jump & good,
        "_has_prev": has,
        "_prev": p,
    }


def _segments(points: pd.DataFrame) -> gpd.GeoDataFrame:
    """One row and one LineString per segment of track points, with reduceat and
    shapely.linestrings. Segment ids grow by one at each segment's first good fix."""
    gi = np.flatnonzero(~points["outlier"].to_numpy(dtype=bool))
    if not len(gi):
        return gpd.GeoDataFrame(schema.empty(SEGMENTS), geometry=[], crs="EPSG:4326")
    seg = points["segment"].to_numpy()[gi]
    start = np.r_[True, seg[1:] != seg[:-1]]
    s0 = np.flatnonzero(start)
    s1 = np.r_[s0[1:], len(gi)] - 1  # last fix of each segment, in gi positions
    count = s1 - s0 + 1
    lat_g, lon_g = points["lat"].to_numpy()[gi], points["lon"].to_numpy()[gi]
    ts_g = pd.DatetimeIndex(points["ts"]).as_unit("ns").asi8[gi]
    length = np.add.reduceat(np.where(start, 0.0, points["dist_m"].to_numpy()[gi]), s0)
    sog_g = points["sog"].to_numpy(dtype="float64", na_value=np.nan)[gi]
    known = ~np.isnan(sog_g)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_sog = np.add.reduceat(np.where(known, sog_g, 0.0), s0) / np.add.reduceat(known, s0)
        duration = (ts_g[s1] - ts_g[s0]) / 1e9
        mean_speed = np.where(duration > 0, length / duration / KN_MS, np.nan)
    table = pd.DataFrame(
        {
            "segment": seg[s0],
            "mmsi": points["mmsi"].to_numpy()[gi[s0]],
            "start": pd.to_datetime(ts_g[s0], utc=True),
            "end": pd.to_datetime(ts_g[s1], utc=True),
            "lat0": lat_g[s0],
            "lon0": lon_g[s0],
            "lat1": lat_g[s1],
            "lon1": lon_g[s1],
            "n_points": count,
            "length_m": length,
            "mean_sog": mean_sog,
            "max_sog": np.fmax.reduceat(sog_g, s0),
            "mean_speed_kn": mean_speed,
        }
    )
    # unwrap longitudes within each segment so antimeridian crossings stay short
    step = np.r_[0.0, (np.diff(lon_g) + 180.0) % 360.0 - 180.0]
    step[s0] = 0.0
    run = np.cumsum(step)
    lon_u = run + np.repeat(lon_g[s0] - run[s0], count)
    # a single fix becomes a degenerate two-vertex line
    rep = np.ones(len(gi), dtype=np.int64)
    rep[s0[count == 1]] = 2
    coords = np.repeat(np.column_stack([lon_u, lat_g]), rep, axis=0)
    which = np.repeat(np.repeat(np.arange(len(s0)), count), rep)
    geometry = shapely.linestrings(coords, indices=which)
    return gpd.GeoDataFrame(schema.conform(table, SEGMENTS), geometry=geometry, crs="EPSG:4326")


def _gaps(
    kin: dict[str, np.ndarray],
    mm: np.ndarray,
    ts: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    good: np.ndarray,
    cfg: TracksConfig,
) -> pd.DataFrame:
    """Silences longer than gap_hours between consecutive good fixes of a vessel."""
    dt = kin["dt_s"]
    r = np.flatnonzero(good & kin["_has_prev"] & (np.nan_to_num(dt) > cfg.gap_hours * 3600.0))
    p = kin["_prev"][r]
    hours = dt[r] / 3600.0
    table = pd.DataFrame(
        {
            "mmsi": mm[r],
            "start": pd.to_datetime(ts[p], utc=True),
            "end": pd.to_datetime(ts[r], utc=True),
            "hours": hours,
            "lat0": lat[p],
            "lon0": lon[p],
            "lat1": lat[r],
            "lon1": lon[r],
            "dist_m": kin["dist_m"][r],
            "implied_kn": kin["dist_m"][r] / NM / hours,
        }
    )
    return schema.conform(table, schema.GAPS, extra=False)


def write_tracks(tracks: Tracks, path: str | Path) -> None:
    """Write tracks to `path` by suffix.

    * ``.parquet``: the points (with segment and kinematics columns) as GeoParquet Points at
      `path`, the segments as GeoParquet LineStrings at ``<stem>.segments.parquet`` and the gaps
      at ``<stem>.gaps.parquet`` beside it (all EPSG:4326, times as UTC timestamps).
    * ``.geojson`` / ``.gpkg``: the segments as LineStrings with their attributes (layer
      ``segments`` in a GeoPackage), written through pyogrio.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        known = ", ".join(_SUFFIXES)
        raise MdaError(f"{path}: unknown tracks format {suffix or '(none)'!r} (use {known})")
    if suffix == ".parquet":  # the three files replace the old ones together, or none does
        files = path, side_file(path, "segments"), side_file(path, "gaps")
        with replacing(*files, what="tracks") as (points, segments, gaps):
            tracks.to_geodataframe().to_parquet(points, index=False)
            tracks.segments.to_parquet(segments, index=False)
            tracks.gaps.to_parquet(gaps, index=False)
    else:
        layer = {"layer": "segments"} if suffix == ".gpkg" else {}
        with replacing(path, what="tracks") as (tmp,):
            tracks.segments.to_file(tmp, engine="pyogrio", **layer)


def side_file(path: Path, part: str) -> Path:
    """Where write_tracks puts the segments or gaps next to a points Parquet file."""
    return path.with_name(f"{path.stem}.{part}.parquet")


def to_movingpandas(tracks: Tracks) -> movingpandas.TrajectoryCollection:
    """The good fixes as a MovingPandas TrajectoryCollection, one trajectory per segment.

    Times are naive UTC (MovingPandas drops time zones); single-fix segments are not trajectories.
    """
    try:
        import movingpandas as mpd
    except ImportError:
        raise MdaError(
            "to_movingpandas needs the optional dependency movingpandas "
            "(pip install 'mda[movingpandas]')"
        ) from None
    pts = tracks.points[~tracks.points["outlier"].to_numpy()]
    gdf = gpd.GeoDataFrame(
        pts, geometry=gpd.points_from_xy(pts["lon"], pts["lat"]), crs="EPSG:4326"
    )
    gdf["ts"] = gdf["ts"].dt.tz_localize(None)  # MovingPandas wants naive times; these are UTC
    return mpd.TrajectoryCollection(gdf, traj_id_col="segment", obj_id_col="mmsi", t="ts")
