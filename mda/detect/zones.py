"""zone_entry and port_visit: a vessel's stays in zones, one alert per visit.

A visit is a run of consecutive good fixes of one vessel inside one zone; leaving for less than
``merge_minutes`` (jitter along a boundary, a turn at the harbour mouth) does not end it. Entry
is the first fix inside, exit the last; a vessel already inside when the data begin counts from
its first fix, and one still inside at the end has no exit yet (``exited`` is false). An entry
needs ``zone_entry.min_fixes`` fixes inside or a stay of ``min_minutes``: one fix alone may be a
GPS glitch or a track clipping a corner.
"""

from __future__ import annotations

import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.base import Context, make_alerts
from mda.detect.runs import seconds, times_at, visits

TYPES = ("zone_entry", "port_visit")


def _visit_alerts(
    ctx: Context,
    kinds: list[str],
    merge_minutes: float,
    min_minutes: float,
    min_fixes: int | None = None,
) -> pd.DataFrame:
    """Alert rows (all but type and severity) for stays of at least min_minutes or with at
    least min_fixes fixes inside (a visit with min_fixes fixes counts however short)."""
    v = visits(ctx, kinds, merge_minutes * 60)
    pts = ctx.tracks.points
    t = seconds(pts["ts"])
    first, last = v["first"].to_numpy(), v["last"].to_numpy()
    minutes = (t[last] - t[first]) / 60
    keep = minutes >= min_minutes
    if min_fixes is not None:
        keep |= v["n"].to_numpy() >= min_fixes
    v, first, last, minutes = v[keep], first[keep], last[keep], minutes[keep]
    mmsi = pts["mmsi"].to_numpy()
    # what the data show just before and after the stay: a fix outside, or nothing
    before = first > 0
    before[before] = mmsi[first[before] - 1] == mmsi[first[before]]
    after = last < len(pts) - 1
    after[after] = mmsi[last[after] + 1] == mmsi[last[after]]
    rows = pd.DataFrame(
        {
            "mmsi": mmsi[first],
            "start": times_at(pts["ts"], first),
            "end": times_at(pts["ts"], last),
            "lat": pts["lat"].to_numpy()[first],
            "lon": pts["lon"].to_numpy()[first],
            "zone_id": ctx.zones["id"].to_numpy()[v["zone"].to_numpy()],
        }
    )
    rows["evidence"] = [
        {
            "entered": pd.Timestamp(s).isoformat(),
            "exited": pd.Timestamp(e).isoformat() if a else None,
            "dwell_minutes": round(float(m), 1),
            "fixes_inside": int(n),
            "inside_at_data_start": not bool(b),
            "seen_leaving": bool(a),
        }
        for s, e, m, n, b, a in zip(
            rows["start"], rows["end"], minutes, v["n"], before, after, strict=True
        )
    ]
    return rows


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """Restricted-zone entries and port calls (schema.ALERTS)."""
    if ctx.tracks.points.empty or not len(ctx.zones):
        return schema.empty(schema.ALERTS)
    ze = cfg.zone_entry
    entry = _visit_alerts(ctx, ze.kinds, ze.merge_minutes, ze.min_minutes, ze.min_fixes)
    entry["type"], entry["severity"] = "zone_entry", "high"
    port = _visit_alerts(
        ctx, ["port"], cfg.port_visit.merge_minutes, cfg.port_visit.min_dwell_minutes
    )
    port["type"], port["severity"] = "port_visit", "info"
    found = [
        make_alerts(entry, ctx, cfg.thresholds("zone_entry")),
        make_alerts(port, ctx, cfg.thresholds("port_visit")),
    ]
    found = [a for a in found if len(a)]
    return pd.concat(found, ignore_index=True) if found else schema.empty(schema.ALERTS)
