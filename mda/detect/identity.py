"""Identity conflicts: one MMSI used by two transmitters, invalid MMSIs, changed static data, swaps.

Four sub-cases, named in ``evidence["kind"]``:

* ``two_transmitters`` (high; medium when the MMSI sits still throughout): one MMSI whose fixes
  jump back and forth between two places further apart than ``simultaneous_km`` at an impossible
  implied speed, at least ``min_conflicts`` times (a single spoofed excursion jumps away and back
  only once).
* ``invalid_mmsi`` (low, a data-quality finding): not a station number (ITU-R M.585): a
  Maritime Identification Digit (MID) no administration holds, a form no station has, or a test
  number (111111111, 123456789). Ships, craft of a parent ship, aids to navigation, SAR aircraft,
  AIS-SART/MOB/EPIRB devices and coast stations (their leading zeros lost by CSV exports) are
  valid stations and not reported (see :func:`valid_mmsi`).
* ``shared_mmsi`` (medium): one MMSI sitting still in two places too far apart to sail between
  (two craft with one copied configuration): found by the position-jump rules, reported here.
* ``static_change`` (medium): name, call sign, IMO or ship type changing within the window.
* ``mmsi_swap`` (high): one MMSI falls silent and another, unheard before, starts after it
  (never overlapping) within ``swap_window_s`` (or 1.5 of the first's usual interval between fixes,
  up to ``swap_max_minutes``, when reception is sparse), where the first would be by dead
  reckoning (within ``swap_distance_m`` plus ``swap_distance_fraction`` of the run), both
  under way (``swap_min_kn``) outside harbours with one course and speed; the first stays
  silent, so vessels moored side by side (both transmitting) are not a swap. One alert per pair.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.base import Context, make_alerts
from mda.detect.jumps import relocations
from mda.detect.runs import expand, seconds, times_at
from mda.feed import Coverage
from mda.geo import EARTH_RADIUS_M, NM, haversine_m
from mda.mid import ALLOCATED_MIDS

SECTION = "identity_conflict"

#: AIS-SART, man-overboard and EPIRB-AIS devices (ITU-R M.585 annex 2).
_DEVICE_PREFIXES = (970, 972, 974)
#: Numbers people type when they do not know their MMSI.
_TEST_NUMBERS = (123456789, 987654321)


def valid_mmsi(mmsi: np.ndarray | pd.Series) -> np.ndarray:
    """True where an MMSI is a station number that may appear in a feed (vectorised).

    Ships (MIDxxxxxx), craft of a parent ship (98MIDxxxx), aids to navigation (99MIDxxxx), SAR
    aircraft (111MIDxxx), AIS-SART/MOB/EPIRB devices, and coast stations (00MIDxxxx, which CSV
    exports write as the 7-digit number MIDxxxx once the leading zeros are lost).
    """
    m = np.asarray(mmsi, dtype=np.int64)
    ship = (m >= 200_000_000) & (m <= 799_999_999) & np.isin(m // 1_000_000, ALLOCATED_MIDS)
    craft = np.isin(m // 10_000_000, (98, 99)) & np.isin((m // 10_000) % 1000, ALLOCATED_MIDS)
    aircraft = (m // 1_000_000 == 111) & np.isin((m // 1000) % 1000, ALLOCATED_MIDS)
    coast = (m >= 2_000_000) & (m <= 7_999_999) & np.isin(m // 10_000, ALLOCATED_MIDS)
    device = np.isin(m // 1_000_000, _DEVICE_PREFIXES)
    same_digit = (m % 111_111_111 == 0) & (m > 0)
    test = same_digit | np.isin(m, _TEST_NUMBERS)
    return (ship | craft | aircraft | coast | device) & ~test


def _iso(t: pd.Timestamp | np.datetime64) -> str:
    return pd.Timestamp(t).isoformat()


def _rows(
    kind: str, severity: str, frame: pd.DataFrame, evidence: list[dict[str, Any]], **extra: Any
) -> pd.DataFrame:
    """Alert rows of one sub-case from a frame with mmsi, start, end, lat, lon."""
    for e in evidence:
        e["kind"] = kind
    rows = frame[["mmsi", "start", "end", "lat", "lon"]].reset_index(drop=True)
    return rows.assign(type=SECTION, severity=severity, evidence=evidence, **extra)


def two_transmitters(p: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """MMSIs whose fixes alternate between two far-apart places at impossible speeds."""
    c = cfg.identity_conflict
    mm = p["mmsi"].to_numpy()
    lat, lon = p["lat"].to_numpy(), p["lon"].to_numpy()
    t = seconds(p["ts"])
    if len(p) < 3:
        return pd.DataFrame()
    same = mm[1:] == mm[:-1]
    d = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    dt = np.maximum(t[1:] - t[:-1], 1.0)
    kn = d / dt * 3600.0 / NM
    jump = same & (d > c.simultaneous_km * 1000.0) & (kn > c.max_speed_kn)
    j = np.flatnonzero(jump) + 1  # index of the fix after each jump; its origin is j - 1
    if len(j) < 2:
        return pd.DataFrame()
    # a return: the jump lands nearer to where the previous jump of the same MMSI left from
    # than half its own length, i.e. back in the other place
    prev_origin = np.r_[-1, j[:-1] - 1]
    same_vessel = np.r_[False, mm[j[1:]] == mm[j[:-1]]]
    po = np.where(same_vessel, prev_origin, j - 1)
    back = haversine_m(lat[j], lon[j], lat[po], lon[po])
    ret = same_vessel & (back < d[j - 1] / 2)
    jumps = pd.DataFrame(
        {
            "mmsi": mm[j],
            "ret": ret,
            "ts": p["ts"].iloc[j].reset_index(drop=True),
            "dist_km": d[j - 1] / 1000.0,
            "kn": kn[j - 1],
            "lat": lat[j - 1],
            "lon": lon[j - 1],
            "other_lat": lat[j],
            "other_lon": lon[j],
        }
    )
    g = jumps.groupby("mmsi", sort=False)
    agg = g.agg(
        conflicts=("ret", "sum"),
        jumps=("ret", "size"),
        start=("ts", "min"),
        end=("ts", "max"),
        lat=("lat", "first"),
        lon=("lon", "first"),
        other_lat=("other_lat", "first"),
        other_lon=("other_lon", "first"),
        max_distance_km=("dist_km", "max"),
        median_distance_km=("dist_km", "median"),
        max_implied_kn=("kn", "max"),
    ).reset_index()
    agg = agg[agg["conflicts"] >= c.min_conflicts]
    mine = p[p["mmsi"].isin(agg["mmsi"])]  # the MMSIs in conflict only, not every vessel
    sog = mine["sog"].astype("Float64").groupby(mine["mmsi"]).median()
    still = (sog.reindex(agg["mmsi"]) <= c.shared_stationary_kn).fillna(False).to_numpy(bool)
    evidence = [
        {
            "conflicts": int(r.conflicts),
            "jumps": int(r.jumps),
            "max_distance_km": round(float(r.max_distance_km), 1),
            "median_distance_km": round(float(r.median_distance_km), 1),
            "max_implied_kn": round(float(min(r.max_implied_kn, 1e6)), 1),
            "other_lat": round(float(r.other_lat), 6),
            "other_lon": round(float(r.other_lon), 6),
            "first": _iso(r.start),
            "last": _iso(r.end),
        }
        for r in agg.itertuples()
    ]
    rows = _rows("two_transmitters", "high", agg, evidence)
    rows.loc[still, "severity"] = "medium"
    return rows


def shared(pts: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Relocations between two places where the vessel sits still at both (jumps.shared_mmsi)."""
    rel = relocations(pts, cfg)
    rel = rel[rel["shared"]]
    if rel.empty:
        return pd.DataFrame()
    f, b, last = rel["first"].to_numpy(), rel["before"].to_numpy(), rel["last"].to_numpy()
    lat, lon = pts["lat"].to_numpy(), pts["lon"].to_numpy()
    frame = pd.DataFrame(
        {
            "mmsi": pts["mmsi"].to_numpy()[f],
            "start": times_at(pts["ts"], b),
            "end": times_at(pts["ts"], last),
            "lat": lat[b],
            "lon": lon[b],
        }
    )
    dist = haversine_m(lat[b], lon[b], lat[f], lon[f])
    evidence = [
        {
            "distance_km": round(float(d) / 1000, 1),
            "last_there": _iso(t0),
            "first_here": _iso(t1),
            "other_lat": round(float(lat[i]), 6),
            "other_lon": round(float(lon[i]), 6),
        }
        for d, t0, t1, i in zip(
            dist, times_at(pts["ts"], b), times_at(pts["ts"], f), f, strict=True
        )
    ]
    return _rows("shared_mmsi", "medium", frame, evidence)


def invalid_mmsis(p: pd.DataFrame) -> pd.DataFrame:
    """One row per MMSI in the window that is not a valid station number."""
    bad = p[~valid_mmsi(p["mmsi"].to_numpy())]
    if bad.empty:
        return pd.DataFrame()
    g = bad.groupby("mmsi", sort=False)
    agg = g.agg(
        start=("ts", "min"), end=("ts", "max"), lat=("lat", "last"), lon=("lon", "last")
    ).reset_index()
    agg["fixes"] = g.size().to_numpy()
    mids = agg["mmsi"].astype(np.int64) // 1_000_000
    evidence = [
        {
            "mmsi": int(m),
            "digits": len(str(int(m))),
            "mid": int(mid) if int(m) >= 100_000_000 else None,
            "fixes": int(n),
            "first": _iso(s),
            "last": _iso(e),
        }
        for m, mid, n, s, e in zip(
            agg["mmsi"], mids, agg["fixes"], agg["start"], agg["end"], strict=True
        )
    ]
    return _rows("invalid_mmsi", "low", agg, evidence)


def _norm(values: pd.Series) -> pd.Series:
    """Comparable static values: text upper-cased with runs of spaces collapsed, '' -> <NA>."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("Float64").where(lambda v: v > 0).astype("string")
    s = values.astype("string").str.upper().str.replace(r"[\s@]+", " ", regex=True).str.strip()
    return s.mask(s == "")


def static_changes(
    history: pd.DataFrame,
    p: pd.DataFrame,
    fields: list[str],
    since: pd.Timestamp,
    until: pd.Timestamp,
) -> pd.DataFrame:
    """One row per MMSI whose static fields changed between since and until."""
    fields = [f for f in fields if f in history.columns]
    if history.empty or not fields or p.empty:
        return pd.DataFrame()
    h = history[history["mmsi"].isin(p["mmsi"].unique())]
    h = h.sort_values(["mmsi", "ts"], kind="stable", ignore_index=True)
    changes = []
    for f in fields:
        cur = _norm(h[f])
        prev = cur.groupby(h["mmsi"]).ffill().groupby(h["mmsi"]).shift()
        hit = cur.notna() & prev.notna() & (cur != prev).fillna(False)
        hit &= (h["ts"] >= since) & (h["ts"] <= until)
        if hit.any():
            changes.append(
                pd.DataFrame(
                    {
                        "mmsi": h.loc[hit, "mmsi"],
                        "ts": h.loc[hit, "ts"],
                        "change": [
                            {"field": f, "from": a, "to": b, "at": _iso(t)}
                            for a, b, t in zip(prev[hit], cur[hit], h.loc[hit, "ts"], strict=True)
                        ],
                    }
                )
            )
    if not changes:
        return pd.DataFrame()
    ch = pd.concat(changes).sort_values(["mmsi", "ts"], kind="stable")
    agg = ch.groupby("mmsi").agg(start=("ts", "min"), end=("ts", "max"), changes=("change", list))
    agg = agg.reset_index()
    # where: the vessel's fix nearest before the first change (else its first fix)
    pos = p[["mmsi", "ts", "lat", "lon"]].sort_values("ts", kind="stable")
    loc = pd.merge_asof(
        agg.sort_values("start"),
        pos,
        left_on="start",
        right_on="ts",
        by="mmsi",
        direction="nearest",
    )
    evidence = [
        {
            "changes": len(c),
            "fields": sorted({x["field"] for x in c}),
            "detail": c[:10],
            "first": _iso(s),
            "last": _iso(e),
        }
        for c, s, e in zip(loc["changes"], loc["start"], loc["end"], strict=True)
    ]
    return _rows("static_change", "medium", loc, evidence)


def swaps(
    p: pd.DataFrame,
    harbour_at: Callable[[np.ndarray], np.ndarray],
    coverage: Coverage,
    cfg: Config,
) -> pd.DataFrame:
    """MMSI pairs where one falls silent and the other starts at the same spot right after.

    `harbour_at` says which rows of `p` lie in harbour, where no swap is judged; `coverage` is
    the feed's (the first must stay silent, and the second unheard, while the feed is heard).
    """
    c = cfg.identity_conflict
    if p.empty:
        return pd.DataFrame()
    # points are sorted by (mmsi, ts): a vessel's first and last fixes border the mmsi changes
    mm = p["mmsi"].to_numpy()
    change = np.flatnonzero(mm[1:] != mm[:-1])
    i_first, i_last = np.r_[0, change + 1], np.r_[change, len(p) - 1]
    fast = p["sog"].to_numpy(dtype="float64", na_value=np.nan) >= c.swap_min_kn
    i_first, i_last = i_first[fast[i_first]], i_last[fast[i_last]]
    first = p.iloc[i_first[~harbour_at(i_first)]]
    last = p.iloc[i_last[~harbour_at(i_last)]]
    w0, w1 = seconds(pd.DatetimeIndex([p["ts"].min(), p["ts"].max()]))
    quiet = c.swap_silent_minutes * 60
    te, ts_ = seconds(last["ts"]), seconds(first["ts"])
    ends = last[coverage.heard_from(te, np.full(len(te), w1)) >= quiet]
    heard_before = coverage.heard_until(np.full(len(ts_), w0), ts_)
    starts = first[heard_before >= quiet].sort_values("ts", ignore_index=True)
    if ends.empty or starts.empty:
        return pd.DataFrame()
    st, et = seconds(starts["ts"]), seconds(ends["ts"])
    # with sparse reception the switch is heard only at the next fixes received: the window
    # stretches to 1.5 times the first vessel's usual interval between fixes
    interval = p["dt_s"].groupby(p["mmsi"]).median().reindex(ends["mmsi"]).to_numpy(float)
    window = np.clip(np.nan_to_num(1.5 * interval), c.swap_window_s, c.swap_max_minutes * 60)
    # the second starts after the first's last fix: two transmitters heard at once are two ships
    lo = np.searchsorted(st, et, side="right")
    hi = np.searchsorted(st, et + window, side="right")
    ie, js = expand(lo, hi)
    e, s = ends.iloc[ie].reset_index(drop=True), starts.iloc[js].reset_index(drop=True)
    # where the first would be by dead reckoning when the second starts (a ship under way moves
    # several hundred metres while one transponder is powered down and the other up); the
    # reckoning drifts with the course noise, so the tolerance grows with the distance run
    run_m = np.nan_to_num(e["sog"].to_numpy(float)) * NM / 3600.0 * (seconds(s["ts"]) - et[ie])
    # heading on: the course the track made good into the last fix where known (a single COG
    # reading is noisy), else the reported COG
    made = e["course"].to_numpy(float)
    course_deg = np.where(np.isfinite(made), made, e["cog"].to_numpy(float))
    course = np.radians(np.nan_to_num(course_deg))
    lat0 = e["lat"].to_numpy()
    lat_dr = lat0 + np.degrees(run_m * np.cos(course) / EARTH_RADIUS_M)
    lon_dr = e["lon"].to_numpy() + np.degrees(
        run_m * np.sin(course) / (EARTH_RADIUS_M * np.cos(np.radians(lat0)))
    )
    d = haversine_m(lat_dr, lon_dr, s["lat"].to_numpy(), s["lon"].to_numpy())
    tolerance = c.swap_distance_m + c.swap_distance_fraction * run_m
    ok = (e["mmsi"].to_numpy() != s["mmsi"].to_numpy()) & (d <= tolerance)
    # one ship keeps its course and speed through the switch; two ships passing do not
    turn = np.abs((s["cog"].to_numpy(float) - course_deg + 180.0) % 360.0 - 180.0)
    ok &= turn <= c.swap_course_deg
    ok &= np.abs(s["sog"].to_numpy(float) - e["sog"].to_numpy(float)) <= c.swap_speed_kn
    e, s, d = e[ok].reset_index(drop=True), s[ok].reset_index(drop=True), np.asarray(d)[ok]
    # a pair is one event, whichever way round and however often it recurs in the window
    pair = np.sort(np.c_[e["mmsi"].to_numpy(np.int64), s["mmsi"].to_numpy(np.int64)], axis=1)
    once = ~pd.DataFrame(pair).duplicated().to_numpy()
    e, s, d = e[once].reset_index(drop=True), s[once].reset_index(drop=True), d[once]
    if e.empty:
        return pd.DataFrame()
    frame = pd.DataFrame(
        {
            "mmsi": e["mmsi"],
            "start": np.minimum(e["ts"], s["ts"]),
            "end": np.maximum(e["ts"], s["ts"]),
            "lat": s["lat"],
            "lon": s["lon"],
        }
    )
    evidence = [
        {
            "from_mmsi": int(a),
            "to_mmsi": int(b),
            "seconds": round((tb - ta).total_seconds(), 1),
            "distance_m": round(float(dist), 1),
            "last_seen": _iso(ta),
            "first_seen": _iso(tb),
            "other_lat": round(float(la), 6),
            "other_lon": round(float(lo_), 6),
        }
        for a, b, ta, tb, dist, la, lo_ in zip(
            e["mmsi"], s["mmsi"], e["ts"], s["ts"], d, e["lat"], e["lon"], strict=True
        )
    ]
    return _rows("mmsi_swap", "high", frame, evidence, other_mmsi=s["mmsi"].to_numpy())


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """`identity_conflict` alerts of all four sub-cases (evidence.kind names which)."""
    c = cfg.identity_conflict
    p = ctx.tracks.points
    if p.empty:
        return schema.empty(schema.ALERTS)
    parts = [shared(p, cfg)]
    p = p[["mmsi", "ts", "lat", "lon", "sog", "cog", "dt_s", "course"]]
    parts += [two_transmitters(p, cfg), swaps(p, ctx.harbour_at, ctx.coverage, cfg)]
    if c.check_mid:
        parts.append(invalid_mmsis(p))
    parts.append(
        static_changes(ctx.vessel_history, p, c.static_fields, p["ts"].min(), p["ts"].max())
    )
    parts = [x for x in parts if len(x)]
    if not parts:
        return schema.empty(schema.ALERTS)
    return make_alerts(pd.concat(parts, ignore_index=True), ctx, cfg.thresholds(SECTION))
