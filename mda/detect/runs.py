"""Vectorised run-length helpers shared by the per-vessel detectors.

Track points are sorted by (mmsi, ts), so "a stretch of time a vessel spends doing X" is a run of
consecutive True values in a boolean array that does not cross a vessel boundary. These helpers
find such runs, bridge short breaks between them, slice time windows per vessel and turn zone
membership into visits, all with numpy on whole arrays (no loop per point).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mda.schema import seconds

__all__ = ["seconds"]  # re-exported: detectors take it from here with the other run helpers

if TYPE_CHECKING:
    from mda.detect.base import Context


def times_at(ts: pd.Series, idx: np.ndarray) -> pd.DatetimeIndex:
    """UTC timestamps at row positions `idx` (no per-element Timestamp objects: fast)."""
    return pd.DatetimeIndex(ts.array.take(np.asarray(idx, dtype=np.int64)))


def runs(mask: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index (inclusive) of each maximal run of True within one group value."""
    mask = np.asarray(mask, dtype=bool)
    if not len(mask):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    group = np.asarray(group)
    link = mask[:-1] & mask[1:] & (group[1:] == group[:-1])  # i and i+1 in one run
    same_prev = np.concatenate(([False], link))
    same_next = np.concatenate((link, [False]))
    return np.flatnonzero(mask & ~same_prev), np.flatnonzero(mask & ~same_next)


def bridge(
    first: np.ndarray,
    last: np.ndarray,
    t: np.ndarray,
    group: np.ndarray,
    max_gap_s: float,
    key: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge runs of the same group (and key) that are less than max_gap_s apart.

    `t` and `group` are per point; runs are given by first/last point index, sorted by first
    (or by (key, first) when a per-run `key` such as the zone of a visit is given). Returns the
    merged runs' first and last index and, per input run, the index of the merged run holding it.
    """
    if len(first) < 2:
        return first, last, np.arange(len(first))
    group = np.asarray(group)
    joins = (group[first[1:]] == group[last[:-1]]) & (t[first[1:]] - t[last[:-1]] < max_gap_s)
    if key is not None:
        joins &= key[1:] == key[:-1]
    new = np.concatenate(([True], ~joins))
    starts = np.flatnonzero(new)
    return first[starts], np.maximum.reduceat(last, starts), np.cumsum(new) - 1


def window(
    group_code: np.ndarray, t: np.ndarray, q_code: np.ndarray, q_lo: np.ndarray, q_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Index bounds [lo, hi) of the points of vessel q_code with q_lo <= t < q_hi.

    `group_code` is a dense per-point vessel code (0, 1, ...) sorted ascending, `t` seconds
    sorted within each code; the composite key keeps every vessel's window inside its own rows.
    """
    span = (np.nanmax(t) - np.nanmin(t) + 1.0) if len(t) else 1.0
    base = np.nanmin(t) if len(t) else 0.0
    key = group_code * (2 * span) + (t - base)
    lo = np.searchsorted(key, q_code * (2 * span) + np.clip(q_lo - base, -0.5, span), "left")
    hi = np.searchsorted(key, q_code * (2 * span) + np.clip(q_hi - base, -0.5, span), "left")
    return lo, hi


def expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, index) pairs listing every index in each [lo, hi) range, for grouped reductions."""
    n = np.maximum(np.asarray(hi) - np.asarray(lo), 0)
    owner = np.repeat(np.arange(len(n)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return owner, np.repeat(lo, n) + offset


def speed(points: pd.DataFrame) -> np.ndarray:
    """Reported SOG where present, implied speed from the track otherwise (knots)."""
    sog = points["sog"].to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(sog), points["speed_kn"].to_numpy(dtype="float64"), sog)


def vessel_codes(points: pd.DataFrame) -> np.ndarray:
    """Dense 0..n-1 code per point for its vessel (points sorted by mmsi)."""
    mmsi = points["mmsi"].to_numpy()
    if not len(mmsi):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(([0], np.cumsum(mmsi[1:] != mmsi[:-1])))


def visits(ctx: Context, kinds: list[str] | tuple[str, ...], merge_s: float) -> pd.DataFrame:
    """Stays of a vessel in a zone of the given kinds: consecutive good fixes inside it.

    An excursion outside shorter than `merge_s` (boundary jitter) does not split a visit, a data
    hole in the feed (mda.feed) does; track outliers are ignored. Returns columns zone (row
    position in ctx.zones), first and last (row positions in ctx.tracks.points) and n (fixes
    inside), sorted by first.
    """
    pts = ctx.tracks.points
    cols = {"zone": np.int64, "first": np.int64, "last": np.int64, "n": np.int64}
    m = ctx.membership
    if not len(m) or not len(pts):
        return pd.DataFrame({c: np.zeros(0, dtype=d) for c, d in cols.items()})
    good = ~pts["outlier"].to_numpy(dtype=bool)
    pos, zone = m["pos"].to_numpy(), m["zone"].to_numpy()
    keep = ctx.member_in(kinds) & good[pos]
    pos, zone = pos[keep], zone[keep]
    if not len(pos):
        return pd.DataFrame({c: np.zeros(0, dtype=d) for c, d in cols.items()})
    order = np.lexsort((pos, zone))
    pos, zone = pos[order], zone[order]
    # consecutive among good fixes: rank of each good fix in the good-only sequence
    rank = np.cumsum(good) - 1
    mmsi = pts["mmsi"].to_numpy()
    r = rank[pos]
    brk = np.ones(len(pos), dtype=bool)
    brk[1:] = (zone[1:] != zone[:-1]) | (r[1:] != r[:-1] + 1) | (mmsi[pos[1:]] != mmsi[pos[:-1]])
    t = seconds(pts["ts"])
    brk[1:] |= ctx.coverage.spans_hole(t[pos[:-1]], t[pos[1:]])  # nothing known across a hole
    start = np.flatnonzero(brk)
    end = np.concatenate((start[1:], [len(pos)])) - 1
    first, last, merged = bridge(pos[start], pos[end], t, mmsi, merge_s, key=zone[start])
    out = pd.DataFrame(
        {
            "zone": zone[start][np.unique(merged, return_index=True)[1]],
            "first": first,
            "last": last,
            "n": np.bincount(merged, weights=end - start + 1).astype(np.int64),
        }
    )
    return out.sort_values("first", kind="stable", ignore_index=True)


def locate(points: pd.DataFrame, mmsi: np.ndarray, ts: pd.Series) -> np.ndarray:
    """Row position in `points` of the fix of vessel `mmsi` at time `ts`, -1 where none."""
    codes = vessel_codes(points)
    pm = points["mmsi"].to_numpy()
    uniq = pm[np.concatenate(([True], pm[1:] != pm[:-1]))] if len(pm) else pm
    q = np.searchsorted(uniq, mmsi)
    known = (q < len(uniq)) & (uniq[np.minimum(q, len(uniq) - 1)] == mmsi) if len(uniq) else q < 0
    t, qt = seconds(points["ts"]), seconds(ts)
    lo, _ = window(codes, t, q, qt, qt)
    hit = known & (lo < len(t))
    hit[hit] &= (t[lo[hit]] == qt[hit]) & (codes[lo[hit]] == q[hit])
    return np.where(hit, lo, -1)


def run_zone(
    ctx: Context,
    pos: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    kinds: list[str] | tuple[str, ...],
) -> np.ndarray:
    """Per run, the zone (row position in ctx.zones) of these kinds holding most of its fixes.

    Runs are [first, last] ranges of a subset of track points whose row positions in
    ctx.tracks.points are `pos`; -1 where no fix of the run lies in such a zone.
    """
    out = np.full(len(first), -1, dtype=np.int64)
    m = ctx.membership
    if not len(m) or not len(first):
        return out
    zone = m["zone"].to_numpy()
    sel = ctx.member_in(kinds)
    # subset index of each membership pair, then the run holding it (runs are disjoint, sorted)
    sub = np.searchsorted(pos, m["pos"].to_numpy()[sel])
    sub_ok = (sub < len(pos)) & (pos[np.minimum(sub, len(pos) - 1)] == m["pos"].to_numpy()[sel])
    run = np.searchsorted(first, sub, "right") - 1
    inside = sub_ok & (run >= 0) & (sub <= last[np.maximum(run, 0)])
    if not inside.any():
        return out
    counts = pd.DataFrame({"run": run[inside], "zone": zone[sel][inside]}).value_counts()
    best = (
        counts.reset_index()
        .sort_values(["run", "count", "zone"], ascending=[True, False, True])
        .drop_duplicates("run")
    )
    out[best["run"].to_numpy()] = best["zone"].to_numpy()
    return out


def zone_ids(ctx: Context, zone: np.ndarray) -> pd.Series:
    """Zone ids for row positions in ctx.zones, <NA> where the position is -1 (no zone)."""
    ids = pd.Series(ctx.zones["id"].to_numpy(dtype=object), dtype="string")
    out = ids.reindex(np.asarray(zone, dtype=np.int64)).reset_index(drop=True)
    return out.astype("string")
