"""Truth: every event a correct detector set must raise, read off the transmitted positions
and the real zone geometries (port visits, restricted-zone entries, per-corridor anchor drags)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mda.schema import iso_z
from mda.simulate.world import World


def truth_events(world: World, positions: pd.DataFrame) -> list[dict[str, Any]]:
    """The truth events of a run from its transmitted positions, by start, type and MMSI."""
    from mda.zones import classify

    iv = pd.DataFrame(world.idents)
    mm = iv["mmsi"].to_numpy()
    t = positions["_t"].to_numpy()
    ident = positions["_ident"].to_numpy()
    t0u = int(world.t0.timestamp())
    # only the kinds truth depends on (lane corridors are large and irrelevant here)
    sub = world.zones[world.zones["kind"].isin(["port", "anchorage", "cable", "restricted"])]
    members = classify(positions, sub.reset_index(drop=True))
    members["zone"] = sub.index.to_numpy()[members["zone"].to_numpy()]
    zkind = world.zones["kind"].to_numpy()
    zid = world.zones["id"].to_numpy()
    runs = _runs(members["pos"].to_numpy(), members["zone"].to_numpy(), ident)
    out: list[dict[str, Any]] = []

    def add(type_, i, t_a, t_b, zone=None, other=None, note=""):
        a, b = int(mm[i]), None if other is None else int(mm[other])
        if b is not None and type_ == "encounter" and b < a:
            a, b = b, a
        out.append(
            {
                "type": type_,
                "mmsi": a,
                "other_mmsi": b,
                "start": iso_z(pd.Timestamp(int(t_a), unit="s", tz="UTC")),
                "end": iso_z(pd.Timestamp(int(t_b), unit="s", tz="UTC")),
                "zone_id": zone,
                "note": note,
            }
        )

    min_dwell = world.cfg.port_visit.min_dwell_minutes * 60
    entry_kinds = set(world.cfg.zone_entry.kinds)
    for z, first, last in runs:
        i = ident[first]
        if zkind[z] == "port" and t[last] - t[first] >= min_dwell:
            add("port_visit", i, t[first], t[last], zid[z], note="port call")
        if zkind[z] in entry_kinds:
            add("zone_entry", i, t[first], t[last], zid[z], note="entered a restricted area")

    def fixes(i, a, b):
        """Positions rows of identity i with a <= t - t0 <= b (seconds since start)."""
        return np.flatnonzero((ident == i) & (t >= t0u + a) & (t <= t0u + b))

    def zone_at(rows, kinds):
        hit = members[np.isin(members["pos"], rows)]
        hit = hit[np.isin(zkind[hit["zone"]], kinds)]
        return zid[hit["zone"].iat[0]] if len(hit) else None

    for ev in world.events:
        i, note = ev["ident"], ev["note"]
        if ev["kind"] == "drag":
            for z, first, last in runs:
                inside = t0u + ev["t0"] <= t[first] and t[last] <= t0u + ev["t1"]
                if ident[first] == i and zkind[z] == "cable" and inside:
                    add("anchor_drag", i, t[first], t[last], zid[z], note=note)
        elif ev["kind"] == "anchor":
            rows = fixes(i, ev["t0"], ev["t1"])
            add("anchoring", i, t[rows[0]], t[rows[-1]], ev["zone"], note=note)
            add(
                "loitering",
                i,
                t[rows[0]],
                t[rows[-1]],
                ev["zone"],
                note=note + " (anchored at sea: also slow for hours)",
            )
        elif ev["kind"] == "sts":
            rows = fixes(ev["other"], ev["t0"], ev["t1"])
            zone = zone_at(rows, ["restricted", "cable"])
            add("encounter", i, t[rows[0]], t[rows[-1]], zone, ev["other"], note=note)
        elif ev["kind"] == "slow":
            rows = fixes(i, ev["t0"], ev["t1"])
            add(
                "loitering",
                i,
                t[rows[0]],
                t[rows[-1]],
                zone_at(rows, ["restricted", "cable"]),
                note=note,
            )
        elif ev["kind"] == "dark":
            before = fixes(i, -1, ev["t0"])
            after = fixes(i, ev["t1"], world.horizon)
            if not len(before) or not len(after):
                raise world.where.error(
                    "case", f"dark window of MMSI {mm[i]} must lie inside its voyage"
                )
            # a gap as [ais_gap] defines it: not when it starts at the quay or at anchor,
            # at sea from min_hours, from zone_min_hours when it starts or ends in a zone
            edges = np.r_[before[-1], after[0]]
            hours = (t[after[0]] - t[before[-1]]) / 3600
            g = world.cfg.ais_gap
            in_zone = zone_at(edges, g.zone_kinds) is not None
            long = hours >= g.min_hours or (in_zone and hours >= g.zone_min_hours)
            if long and zone_at(before[-1:], ["port", "anchorage"]) is None:
                add("ais_gap", i, t[before[-1]], t[after[0]], note=note)
        elif ev["kind"] == "switch":
            a = fixes(i, -1, world.horizon)
            b = fixes(ev["other"], -1, world.horizon)
            add("identity_conflict", i, t[a[-1]], t[b[0]], other=ev["other"], note=note)
        elif ev["kind"] == "spoof":
            rows = fixes(i, -1, world.horizon)
            tt = t[rows]
            inside = (tt >= t0u + ev["t0"]) & (tt < t0u + ev["t1"])
            k_in, k_out = np.flatnonzero(inside)[[0, -1]]
            add("position_jump", i, tt[k_in - 1], tt[k_in], note=note + " (jump away)")
            add("position_jump", i, tt[k_out], tt[k_out + 1], note=note + " (jump back)")
    for i in np.flatnonzero(iv["watchlist"].to_numpy()):
        rows = np.flatnonzero(ident == i)
        add("watchlist", i, t[rows[0]], t[rows[-1]], note="on the scenario watch list")
    return sorted(out, key=lambda e: (e["start"], e["type"], e["mmsi"]))


def _runs(pos: np.ndarray, zone: np.ndarray, ident: np.ndarray):
    """(zone, first row, last row) of every run of consecutive rows of one identity in a zone."""
    order = np.lexsort((pos, zone))
    p, z = pos[order], zone[order]
    new = np.ones(len(p), bool)
    new[1:] = (z[1:] != z[:-1]) | (p[1:] != p[:-1] + 1) | (ident[p[1:]] != ident[p[:-1]])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:] - 1, len(p) - 1)
    return list(zip(z[starts].tolist(), p[starts].tolist(), p[ends].tolist(), strict=True))
