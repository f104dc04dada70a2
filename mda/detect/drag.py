"""anchor_drag: a ship dragging its anchor across an undersea cable corridor.

What the 2023-2024 Baltic incidents (Newnew Polar Bear, Yi Peng 3, Eagle S) looked like in AIS:
the ship keeps going, but clearly slower than its own cruising speed just before (11 -> 9.5 kn,
8.5 -> 6.3 kn: not only crawling), with an erratic course: COG and heading zig-zag, or the heading
turns away from the direction of travel as the anchor pulls the bow; or it reports "at anchor"
while moving. Each passage through a cable corridor is judged on its own fixes:

* slowed: the median SOG inside <= (1 - min_drop_fraction) x the vessel's cruising speed, the
  cruise_quantile (upper quartile) of its SOG under way (>= min_speed_kn) over
  cruise_window_hours before entering (a plain median would already hold the dragging speed when the
  drag began hours before the cable), and still >= min_speed_kn (below that it is anchored or
  drifting); the speed made good through the corridor must be that slow as well (noisy SOG
  alone does not make a drag);
* erratic: two measures, each scaled by its threshold and added, reach 1 (either alone at its
  threshold suffices, two half-strong signs together also do): the robust spread (interquartile
  range / 1.349) of fix-to-fix COG or heading changes over min_cog_std_deg, which
  one turn or a steady curve does not raise; and how much the median |COG - heading| inside
  exceeds the vessel's own before the corridor, over min_cog_heading_diff_deg (a transponder
  with a constant heading offset does not count);
* fires when slowed and erratic, or when the vessel reports "at anchor" (status 1) inside while
  moving like a dragging anchor: a median SOG above at_anchor_moving_kn but not above
  at_anchor_max_kn, erratic or with its heading off its course (the same two measures, the
  divergence taken as it is). Navigational status is evidence, not truth: a ship crossing straight
  at cruising speed with "at anchor" left set is under way.

Service craft whose trade is to manoeuvre over cables (tugs, pilots, dredgers: AIS ship types in
ignore_ship_types, from the vessels' static data) are not judged. Fixes inside port zones are
left out (a ferry manoeuvring at its berth in a corridor that reaches
the harbour) and so are fixes slower than min_speed_kn for the course measures (COG is noise
when a ship barely moves). One alert per vessel per corridor passage, severity critical; the
evidence counts the cable corridors this vessel crossed that way in the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mda import schema
from mda.ais import NavStatus
from mda.config import AnchorDragConfig, Config
from mda.detect.base import Context, make_alerts
from mda.detect.runs import expand, seconds, times_at, vessel_codes, visits, window
from mda.geo import NM, haversine_m

AT_ANCHOR = NavStatus.AT_ANCHOR
IQR_TO_STD = 1.349  # interquartile range / standard deviation for normal data


def _wrap(deg: np.ndarray) -> np.ndarray:
    """Angle differences folded into [-180, 180)."""
    return (deg + 180.0) % 360.0 - 180.0


def _robust_spread(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per owner, interquartile range / 1.349 of `values` (NaN ignored; NaN if none).

    Not the median absolute deviation: a strict zig-zag (+a, -a, +a, ...) with one sign in the
    majority has a MAD of 0, while its IQR is 2a. One turn (a single outlier) moves neither.
    """
    q = pd.Series(values).groupby(owner).quantile([0.25, 0.75]).unstack()
    q = q.reindex(columns=[0.25, 0.75])  # no values at all: no columns
    return ((q[0.75] - q[0.25]) / IQR_TO_STD).reindex(range(n)).to_numpy()


def _median(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per owner median of `values` (NaN ignored; NaN if none)."""
    return _quantile(owner, values, n, 0.5)


def _quantile(owner: np.ndarray, values: np.ndarray, n: int, q: float) -> np.ndarray:
    """Per owner quantile q of `values` (NaN ignored; NaN if none)."""
    return pd.Series(values).groupby(owner).quantile(q).reindex(range(n)).to_numpy()


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """Anchor-drag alerts (schema.ALERTS)."""
    th = cfg.anchor_drag
    if ctx.tracks.points.empty or not len(ctx.zones):
        return schema.empty(schema.ALERTS)
    passages = visits(ctx, ["cable"], 0.0)
    if passages.empty:
        return schema.empty(schema.ALERTS)
    fx = _Fixes.of(ctx)
    first, last = passages["first"].to_numpy(), passages["last"].to_numpy()
    inside = _inside(fx, first, last, th)
    cruise, diverge_before = _cruising_before(fx, first, th)
    verdict = _Verdict(inside, _judged(ctx, first, inside.fixes, th), th)
    fire = verdict(cruise, diverge_before)
    fire, cruise, diverge_before = _carried_forward(
        fx, first, last, verdict, fire, cruise, diverge_before
    )
    if not fire.any():
        return schema.empty(schema.ALERTS)
    rows = _alert_rows(ctx, fx.t, passages, fire, inside, verdict, cruise, diverge_before)
    return make_alerts(rows, ctx, cfg.thresholds("anchor_drag"))


@dataclass
class _Fixes:
    """The per-fix arrays of the tracks that the phases read."""

    t: np.ndarray  # seconds
    code: np.ndarray  # vessel code (runs.vessel_codes)
    sog: np.ndarray
    cog: np.ndarray
    heading: np.ndarray
    status: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    usable: np.ndarray  # not an outlier, not inside a port

    @classmethod
    def of(cls, ctx: Context) -> _Fixes:
        pts = ctx.tracks.points
        return cls(
            t=seconds(pts["ts"]),
            code=vessel_codes(pts),
            sog=pts["sog"].to_numpy(dtype="float64", na_value=np.nan),
            cog=pts["cog"].to_numpy(dtype="float64", na_value=np.nan),
            heading=pts["heading"].to_numpy(dtype="float64", na_value=np.nan),
            status=pts["nav_status"].to_numpy(),
            lat=pts["lat"].to_numpy(),
            lon=pts["lon"].to_numpy(),
            usable=~pts["outlier"].to_numpy(dtype=bool) & ~ctx.in_kinds(["port"]),
        )


@dataclass
class _Inside:
    """Per passage, the measures of its own usable fixes."""

    fixes: np.ndarray
    speed: np.ndarray  # median SOG
    made: np.ndarray  # speed made good, kn
    cog_spread: np.ndarray
    head_spread: np.ndarray
    diverge: np.ndarray  # median |COG - heading| of the moving fixes
    anchored_n: np.ndarray  # fixes reporting "at anchor"
    anchored_kn: np.ndarray  # their median SOG


def _inside(fx: _Fixes, first: np.ndarray, last: np.ndarray, th: AnchorDragConfig) -> _Inside:
    """Speed, course and status measures of the fixes inside each passage."""
    n = len(first)
    owner, idx = expand(first, last + 1)
    keep = fx.usable[idx]
    owner, idx = owner[keep], idx[keep]
    sog, cog, heading = fx.sog, fx.cog, fx.heading
    moving = sog[idx] >= th.min_speed_kn
    # speed made good (evidence: a zig-zagging ship progresses slower than its SOG says)
    ends = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])  # first fix of each owner
    a_idx, b_idx = idx[ends], idx[np.r_[ends[1:], len(idx)] - 1]
    made = np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        made[owner[ends]] = (
            haversine_m(fx.lat[a_idx], fx.lon[a_idx], fx.lat[b_idx], fx.lon[b_idx]) / NM
        ) / ((fx.t[b_idx] - fx.t[a_idx]) / 3600)
    m_owner, m_idx = owner[moving], idx[moving]
    consecutive = np.r_[False, m_owner[1:] == m_owner[:-1]]
    d_cog = np.where(consecutive, _wrap(cog[m_idx] - np.r_[np.nan, cog[m_idx][:-1]]), np.nan)
    d_head = np.where(
        consecutive, _wrap(heading[m_idx] - np.r_[np.nan, heading[m_idx][:-1]]), np.nan
    )
    anchored = fx.status[idx] == AT_ANCHOR
    return _Inside(
        fixes=np.bincount(owner, minlength=n),
        speed=_median(owner, sog[idx], n),
        made=made,
        cog_spread=_robust_spread(m_owner, d_cog, n),
        head_spread=_robust_spread(m_owner, d_head, n),
        diverge=_median(m_owner, np.abs(_wrap(cog[m_idx] - heading[m_idx])), n),
        anchored_n=np.bincount(owner[anchored], minlength=n),
        anchored_kn=_median(owner[anchored], sog[idx][anchored], n),
    )


def _cruising_before(
    fx: _Fixes, first: np.ndarray, th: AnchorDragConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The vessel's own cruising speed and median |COG - heading| before each passage."""
    n = len(first)
    lo, hi = window(
        fx.code, fx.t, fx.code[first], fx.t[first] - th.cruise_window_hours * 3600, fx.t[first]
    )
    b_owner, b_idx = expand(lo, hi)
    b_keep = fx.usable[b_idx]
    b_owner, b_idx = b_owner[b_keep], b_idx[b_keep]
    b_moving = fx.sog[b_idx] >= th.min_speed_kn
    # cruising = under way: hours moored or at anchor in the window do not pull it down
    cruise = _quantile(b_owner[b_moving], fx.sog[b_idx][b_moving], n, th.cruise_quantile)
    diverge_before = _median(
        b_owner[b_moving], np.abs(_wrap(fx.cog[b_idx] - fx.heading[b_idx]))[b_moving], n
    )
    return cruise, diverge_before


def _judged(ctx: Context, first: np.ndarray, fixes: np.ndarray, th: AnchorDragConfig) -> np.ndarray:
    """Passages with enough fixes, of vessels not in a service trade (ignore_ship_types)."""
    enough = fixes >= th.min_points
    if len(ctx.vessels):
        types = ctx.vessels.drop_duplicates("mmsi", keep="last").set_index("mmsi")["ship_type"]
        service = types.astype("string").isin(th.ignore_ship_types).fillna(False)
        mmsi = ctx.tracks.points["mmsi"].to_numpy()[first]
        enough &= ~service.reindex(mmsi, fill_value=False).to_numpy(bool)
    return enough


class _Verdict:
    """Whether each passage is a drag, given the reference speed and course before it."""

    def __init__(self, inside: _Inside, judged: np.ndarray, th: AnchorDragConfig) -> None:
        self.inside, self.judged, self.th = inside, judged, th
        with np.errstate(invalid="ignore"):
            zigzag = np.nan_to_num(np.fmax(inside.cog_spread, inside.head_spread))
            self.zigzag = zigzag / th.min_cog_std_deg
            # "at anchor" believed only when the motion agrees: slow, and erratic or with the
            # bow pulled off the direction of travel (a straight crossing at speed is a stale
            # status)
            off_course = np.nan_to_num(inside.diverge) / th.min_cog_heading_diff_deg
            self.dragging_at_anchor = (
                (inside.anchored_n >= th.min_points)
                & (inside.anchored_kn > th.at_anchor_moving_kn)
                & (inside.anchored_kn <= th.at_anchor_max_kn)
                & (self.zigzag + off_course >= 1)
            )

    def __call__(self, cruise: np.ndarray, diverge_before: np.ndarray) -> np.ndarray:
        th, inside = self.th, self.inside
        with np.errstate(invalid="ignore"):
            limit = (1 - th.min_drop_fraction) * cruise
            slow = (inside.speed <= limit) & (inside.speed >= th.min_speed_kn)
            slow &= ~(inside.made > limit)  # the track must slow too, not only the reported SOG
            diverging = np.nan_to_num(inside.diverge - np.nan_to_num(diverge_before))
            erratic = self.zigzag + np.maximum(diverging, 0) / th.min_cog_heading_diff_deg >= 1
        return self.judged & ((slow & erratic) | self.dragging_at_anchor)


def _carried_forward(
    fx: _Fixes,
    first: np.ndarray,
    last: np.ndarray,
    verdict: _Verdict,
    fire: np.ndarray,
    cruise: np.ndarray,
    diverge_before: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The verdicts, cruising speeds and course baselines once carried from cable to cable.

    A ship dragging from one cable to the next never regains its cruising speed in between,
    so the speed before the next corridor is the dragging speed: carry the reference forward
    while the vessel stays that slow since the previous corridor it dragged across (and its
    COG-heading baseline too: the bow has been pulled round since then).
    """
    th = verdict.th
    n = len(first)
    prev = np.r_[-1, np.arange(n - 1)]
    same = np.r_[False, fx.code[first[1:]] == fx.code[first[:-1]]]
    b_owner, b_idx = expand(np.where(same, np.r_[0, last[:-1] + 1], first), first)
    b_keep = fx.usable[b_idx]
    between = _median(b_owner[b_keep], fx.sog[b_idx[b_keep]], n)
    for _ in range(n):
        carry = same & ~fire & fire[np.maximum(prev, 0)]
        carry &= ~(between > (1 - th.min_drop_fraction) * cruise[np.maximum(prev, 0)])
        carry &= ~(cruise >= cruise[np.maximum(prev, 0)])
        if not carry.any():
            break
        cruise = np.where(carry, cruise[np.maximum(prev, 0)], cruise)
        diverge_before = np.where(carry, diverge_before[np.maximum(prev, 0)], diverge_before)
        fire = verdict(cruise, diverge_before)
    return fire, cruise, diverge_before


def _alert_rows(
    ctx: Context,
    t: np.ndarray,
    passages: pd.DataFrame,
    fire: np.ndarray,
    inside: _Inside,
    verdict: _Verdict,
    cruise: np.ndarray,
    diverge_before: np.ndarray,
) -> pd.DataFrame:
    """One alert row per passage that fired, with its evidence (`t`: the fixes' seconds)."""
    pts = ctx.tracks.points
    first, last = passages["first"].to_numpy(), passages["last"].to_numpy()
    zone_ids = ctx.zones["id"].to_numpy()[passages["zone"].to_numpy()]
    mmsi = pts["mmsi"].to_numpy()[first]
    hits = pd.DataFrame({"mmsi": mmsi[fire], "zone": zone_ids[fire]})
    cables = hits.groupby("mmsi")["zone"].agg(lambda z: sorted(set(z)))
    sel = np.flatnonzero(fire)
    mid = (first[sel] + last[sel]) // 2
    rows = pd.DataFrame(
        {
            "type": "anchor_drag",
            "severity": "critical",
            "mmsi": mmsi[sel],
            "start": times_at(pts["ts"], first[sel]),
            "end": times_at(pts["ts"], last[sel]),
            "lat": pts["lat"].to_numpy()[mid],
            "lon": pts["lon"].to_numpy()[mid],
            "zone_id": zone_ids[sel],
        }
    )

    with np.errstate(invalid="ignore", divide="ignore"):
        drop_pct = 100 * (1 - inside.speed / cruise)

    def fig(a: np.ndarray, k: int, nd: int = 1) -> float | None:
        return round(float(a[k]), nd) if np.isfinite(a[k]) else None

    rows["evidence"] = [
        {
            "cruise_kn": fig(cruise, k),
            "median_kn_in_corridor": fig(inside.speed, k),
            "made_good_kn_in_corridor": fig(inside.made, k),
            "speed_drop_pct": fig(drop_pct, k),
            "cog_change_spread_deg": fig(inside.cog_spread, k),
            "heading_change_spread_deg": fig(inside.head_spread, k),
            "cog_heading_diff_deg": fig(inside.diverge, k),
            "cog_heading_diff_before_deg": fig(diverge_before, k),
            "at_anchor_fixes_moving": (
                int(inside.anchored_n[k]) if verdict.dragging_at_anchor[k] else 0
            ),
            "fixes": int(inside.fixes[k]),
            "minutes_in_corridor": round(float(t[last[k]] - t[first[k]]) / 60, 1),
            "cables_crossed": len(cables[mmsi[k]]),
            "cables": cables[mmsi[k]],
        }
        for k in map(int, sel)
    ]
    return rows
