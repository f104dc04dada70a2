"""position_jump: a vessel's reported position moves faster than any ship can (spoofing).

Built on what mda.tracks already decided about every implausible step:

* a **relocation** (``jump``: the track goes on consistently from a far place) is reported; when a
  later relocation brings the vessel back near where it was before, or undoes the first jump
  (the ship sailed on meanwhile), the two make one episode (start = first fix at the false
  place, end = last fix there);
* an **excursion**: at least ``tracks.jump_min_fixes`` consecutive outlier fixes (a spoofed shape
  drawn at an impossible speed, e.g. a circle far from the track) followed by a return to the
  track is reported as one event;
* a receiver **glitch** (fewer outlier fixes, out and back) is not.

Episodes that follow one another fix after fix (a shape drawn at speeds around the limit splits
into relocations and excursions) are reported as one, ending where a jump undoes the first.

Steps shorter than ``position_jump.min_distance_m`` or slower than its ``max_speed_kn`` are
ignored, so GPS scatter over short intervals never fires.

An episode whose fixes lie along the vessel's own course, no farther than it sails in
``clock_slip_minutes``, is a slipped time stamp (satellite AIS stamped at the downlink) and not
reported. Severity is high, except for a transponder that is not on a ship at sea: one
reporting a speed no ship makes (``not_a_ship_kn``: an aircraft) or with fixes ``inland_km``
inland (a boat on a trailer, a unit in a car). Its jumps are a data-quality finding (low); the
evidence says why (``not_at_sea``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.base import Context, make_alerts
from mda.detect.runs import expand, runs, times_at
from mda.geo import NM, bearing_deg, haversine_m


def _relocations(pts: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """One row per relocation episode: first/last index at the false place, the jump index."""
    th = cfg.position_jump
    n = len(pts)
    good = ~pts["outlier"].to_numpy(dtype=bool)
    idx = np.arange(n)
    prev_good = np.r_[-1, np.maximum.accumulate(np.where(good, idx, -1))[:-1]]
    jump = (
        pts["jump"].to_numpy(dtype=bool)
        & (pts["speed_kn"].to_numpy() > th.max_speed_kn)
        & (pts["dist_m"].to_numpy() >= th.min_distance_m)
    )
    cand = np.flatnonzero(jump)
    lat, lon, mmsi = pts["lat"].to_numpy(), pts["lon"].to_numpy(), pts["mmsi"].to_numpy()
    segment, dist = pts["segment"].to_numpy(), pts["dist_m"].to_numpy()
    # last good fix of each segment: segment ids grow along the sorted points
    gi = np.flatnonzero(good)
    seg_last = gi[np.searchsorted(segment[gi], segment[cand], "right") - 1]
    out, k = [], 0
    while k < len(cand):  # loop over the rare jumps only
        i, p = cand[k], prev_good[cand[k]]
        end, back = seg_last[k], None
        if k + 1 < len(cand) and mmsi[cand[k + 1]] == mmsi[i]:
            j = cand[k + 1]
            q = prev_good[j]  # last fix at the false place
            # back home: near where the vessel left, or a jump undoing the first one (the vessel
            # sailed on meanwhile, so its true position moved as far as the false one did)
            home = haversine_m(lat[p], lon[p], lat[j], lon[j])
            undo = haversine_m(lat[i] + lat[j] - lat[q], lon[i] + lon[j] - lon[q], lat[p], lon[p])
            if min(home, undo) < 0.5 * dist[i]:
                end, back = q, j
        out.append((i, p, end, -1 if back is None else back))
        k += 2 if back is not None else 1
    return pd.DataFrame(out, columns=["first", "before", "last", "back"], dtype=np.int64)


def shared_mmsi(pts: pd.DataFrame, rel: pd.DataFrame, cfg: Config) -> np.ndarray:
    """Per relocation: the vessel sits still both before the jump and at the new place.

    Two craft moored far apart that share one MMSI (a copied Class B configuration) look like
    one vessel jumping between them; a spoofed position is drawn as a moving track. The median
    reported SOG of the segment before the jump and of the fixes at the new place must both be
    at or below identity_conflict.shared_stationary_kn.
    """
    if rel.empty:
        return np.zeros(0, dtype=bool)
    good = ~pts["outlier"].to_numpy(dtype=bool)
    gi = np.flatnonzero(good)
    sog = pts["sog"].to_numpy(dtype="float64", na_value=np.nan)[gi]
    seg = pts["segment"].to_numpy()[gi]  # non-decreasing along the good fixes
    limit = cfg.identity_conflict.shared_stationary_kn

    def still(segment_of: np.ndarray, upto: np.ndarray) -> np.ndarray:
        """Median SOG of the good fixes of that segment up to (and including) index upto."""
        lo = np.searchsorted(seg, pts["segment"].to_numpy()[segment_of], "left")
        hi = np.searchsorted(gi, upto, "right")
        owner, idx = expand(lo, hi)
        med = pd.Series(sog[idx]).groupby(owner).median().reindex(range(len(lo)))
        return (med <= limit).to_numpy(dtype=bool)

    before = still(rel["before"].to_numpy(), rel["before"].to_numpy())
    after = still(rel["first"].to_numpy(), rel["last"].to_numpy())
    return before & after


def relocations(pts: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Relocation episodes with a ``shared`` flag (see :func:`shared_mmsi`)."""
    rel = _relocations(pts, cfg)
    return rel.assign(shared=shared_mmsi(pts, rel, cfg))


def _excursions(pts: pd.DataFrame, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Runs of at least jump_min_fixes outliers, far and fast from the track, that it came back
    from (without a good fix after them it is unknown whether the run or the track was wrong)."""
    th = cfg.position_jump
    outlier = pts["outlier"].to_numpy(dtype=bool)
    mmsi = pts["mmsi"].to_numpy()
    first, last = runs(outlier, mmsi)
    back = last + 1 < len(pts)
    back[back] = mmsi[last[back] + 1] == mmsi[last[back]]
    first, last = first[back], last[back]
    if not len(first):
        return first, last
    far = (pts["dist_m"].to_numpy() >= th.min_distance_m) & (
        pts["speed_kn"].to_numpy() > th.max_speed_kn
    )
    c = np.r_[0, np.cumsum(far)]
    ok = (last - first + 1 >= cfg.tracks.jump_min_fixes) & (c[last + 1] - c[first] > 0)
    return first[ok], last[ok]


def _chains(rows: list[tuple], mmsi: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> list[tuple]:
    """Episodes that follow one another fix after fix are one episode (a spoofed shape drawn at
    speeds around the limit splits into relocations and excursions); when the chain's last
    relocation undoes its first jump, that relocation is the return to the true track."""
    chains: list[list] = []
    for first, last, ev in sorted(rows, key=lambda r: r[0]):  # the rare episodes only
        if chains and mmsi[first] == mmsi[chains[-1][0]] and first == chains[-1][1] + 1:
            chains[-1][1] = last
            chains[-1][3].append((first, last, ev))
        else:
            chains.append([first, last, ev, [(first, last, ev)]])
    out = []
    for first, last, ev, parts in chains:
        if len(parts) > 1:
            ev = dict(ev, fragments=len(parts))
            back, _, back_ev = parts[-1]
            p, q = first - 1, back - 1  # the true fix before the chain, the last false fix
            home = haversine_m(lat[p], lon[p], lat[back], lon[back])
            undo = haversine_m(
                lat[first] + lat[back] - lat[q], lon[first] + lon[back] - lon[q], lat[p], lon[p]
            )
            away = haversine_m(lat[p], lon[p], lat[first], lon[first])
            if back_ev["kind"] == "relocation" and min(home, undo) < 0.5 * away:
                last, ev["fragments"] = q, len(parts) - 1
                ev["returned"] = True
            if ev["kind"] == "relocation":
                ev["fixes_at_false_place"] = int(last - first + 1)
        out.append((first, last, ev))
    return out


def _clock_slip(pts: pd.DataFrame, first: np.ndarray, last: np.ndarray, cfg: Config) -> np.ndarray:
    """Per episode [first, last]: its fixes lie on the vessel's own course from the fix before
    (within GPS noise and 3 degrees), no farther than it sails in clock_slip_minutes. That is a
    time stamp that slipped (satellite AIS stamped at the downlink, minutes late and out of
    order), not a ship that jumped: a spoofed or glitched position is not laid along the ship's
    own course."""
    th = cfg.position_jump
    before = np.maximum(first - 1, 0)
    known = (first > 0) & (pts["mmsi"].to_numpy()[before] == pts["mmsi"].to_numpy()[first])
    lat, lon = pts["lat"].to_numpy(), pts["lon"].to_numpy()
    sog = pts["sog"].to_numpy(dtype="float64", na_value=np.nan)[before]
    cog = pts["cog"].to_numpy(dtype="float64", na_value=np.nan)[before]
    reach = np.nan_to_num(sog) * NM / 3600.0 * th.clock_slip_minutes * 60 + cfg.tracks.noise_m
    ok = known & np.isfinite(cog)
    for end in (first, last):  # both ends of the stretch at the "false" place
        d = haversine_m(lat[before], lon[before], lat[end], lon[end])
        off = np.radians(bearing_deg(lat[before], lon[before], lat[end], lon[end]) - cog)
        # off the course line by no more than GPS noise and a few degrees of course
        ok &= (d <= reach) & (np.abs(d * np.sin(off)) <= cfg.tracks.noise_m + 0.05 * d)
    return ok


def _not_a_ship(
    ctx: Context, cfg: Config, mmsi: np.ndarray, first: np.ndarray, last: np.ndarray
) -> dict[int, str]:
    """Of these MMSIs, those whose transponder is not on a ship at sea, with the reason: it
    reports a speed no ship makes (an aircraft), or its track, away from the false places
    [first, last] of its jumps, runs far inland (a trailer, a car). A spoofed position put
    inland is a false place, so it never makes its vessel a car."""
    th = cfg.position_jump
    pts = ctx.tracks.points
    genuine = np.ones(len(pts), dtype=bool)
    _, idx = expand(first, last + 1)
    genuine[idx] = False
    mine = pts[pts["mmsi"].isin(mmsi).to_numpy() & genuine]
    sog = mine["sog"].astype("Float64").groupby(mine["mmsi"]).max()
    out = {int(m): f"reports {float(k):.0f} kn" for m, k in sog[sog > th.not_a_ship_kn].items()}
    if ctx.world is not None and len(mine):
        inland = ctx.world.inland_m(mine["lat"].to_numpy(), mine["lon"].to_numpy())
        far = pd.Series(inland, index=mine["mmsi"].to_numpy()).groupby(level=0).max()
        for m, d in far[far >= th.inland_km * 1000].items():
            out.setdefault(int(m), f"fixes {d / 1000:.0f} km inland")
    return out


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """Position-jump alerts (schema.ALERTS)."""
    pts = ctx.tracks.points
    if pts.empty:
        return schema.empty(schema.ALERTS)
    lat, lon = pts["lat"].to_numpy(), pts["lon"].to_numpy()
    dist, speed = pts["dist_m"].to_numpy(), pts["speed_kn"].to_numpy()
    rel = relocations(pts, cfg)
    rel = rel[~rel["shared"]]  # reported by identity_conflict as two transmitters
    ex_first, ex_last = _excursions(pts, cfg)
    rows = []
    for r in rel.itertuples(index=False):
        evidence = {
            "kind": "relocation",
            "distance_km": round(float(dist[r.first]) / 1000, 3),
            "implied_kn": round(float(speed[r.first]), 1),
            "from_lat": float(lat[r.before]),
            "from_lon": float(lon[r.before]),
            "to_lat": float(lat[r.first]),
            "to_lon": float(lon[r.first]),
            "returned": bool(r.back >= 0),
            "fixes_at_false_place": int(r.last - r.first + 1),
        }
        if r.back >= 0:
            evidence["return_km"] = round(float(dist[r.back]) / 1000, 3)
            evidence["return_kn"] = round(float(speed[r.back]), 1)
        rows.append((r.first, r.last, evidence))
    for a, b in zip(ex_first, ex_last, strict=True):
        far = np.nanargmax(dist[a : b + 1])
        rows.append(
            (
                a,
                b,
                {
                    "kind": "excursion",
                    "fixes": int(b - a + 1),
                    "max_distance_km": round(float(dist[a + far]) / 1000, 3),
                    "max_implied_kn": round(float(np.nanmax(speed[a : b + 1])), 1),
                    "to_lat": float(lat[a]),
                    "to_lon": float(lon[a]),
                },
            )
        )
    if not rows:
        return schema.empty(schema.ALERTS)
    rows = _chains(rows, pts["mmsi"].to_numpy(), lat, lon)
    first = np.array([r[0] for r in rows], dtype=np.int64)
    last = np.array([r[1] for r in rows], dtype=np.int64)
    slip = _clock_slip(pts, first, last, cfg)
    if slip.all():
        return schema.empty(schema.ALERTS)
    rows = [r for r, s in zip(rows, slip, strict=True) if not s]
    first, last = first[~slip], last[~slip]
    mmsi = pts["mmsi"].to_numpy()[first]
    not_a_ship = _not_a_ship(ctx, cfg, np.unique(mmsi), first, last)
    why = pd.Series(not_a_ship).reindex(mmsi).to_numpy()
    for r, reason in zip(rows, why, strict=True):
        if isinstance(reason, str):
            r[2]["not_at_sea"] = reason
    table = pd.DataFrame(
        {
            "type": "position_jump",
            "severity": np.where(pd.isna(why), "high", "low"),
            "mmsi": mmsi,
            "start": times_at(pts["ts"], first),
            "end": times_at(pts["ts"], last),
            "lat": lat[first],
            "lon": lon[first],
            "evidence": [r[2] for r in rows],
        }
    )
    return make_alerts(table, ctx, cfg.thresholds("position_jump"))
