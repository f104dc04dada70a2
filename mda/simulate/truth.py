"""Truth, written from what was planted and never from the detectors' code or thresholds.

* ``events``: every event a correct detector set must raise. Planted cases give their own
  (a drag, a dark period, a switch, a spoof, an STS transfer, anchoring by a cable); port calls,
  restricted-area entries and the cable corridors a drag crosses come from the *planned* positions
  at every report (no GPS noise, no spoofing) tested against the zone areas with shapely. What
  counts is decided by the scenario (``[truth] port_call_minutes``, a case's ``alert = false``),
  never read from ``mda.config``.
* ``must_not_alert``: ordinary habits (moored neighbours, stale statuses, transponders off in port,
  feed outages, batched timestamps, ...) and declared no-alert cases, so a scorer can name the
  habit behind each false alert.
* ``outages``: receiver and whole-feed silences (feed health, not vessel behaviour).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from mda.schema import iso_z
from mda.simulate.world import World

_ZONE_KINDS = ("port", "anchorage", "cable", "restricted")


def _iso(unix: float) -> str:
    return iso_z(pd.Timestamp(int(unix), unit="s", tz="UTC"))


def truth_events(world: World, positions: pd.DataFrame) -> list[dict[str, Any]]:
    """The truth events of a run from its planned positions, by start, type and MMSI."""
    iv = pd.DataFrame(world.idents)
    mm = iv["mmsi"].to_numpy()
    t = positions["_t"].to_numpy()
    ident = positions["_ident"].to_numpy()
    t0u = int(world.t0.timestamp())
    sub = world.zones[world.zones["kind"].isin(_ZONE_KINDS)]
    pos, zone = _inside(world.plan_lat, world.plan_lon, sub.geometry.to_numpy())
    zone = sub.index.to_numpy()[zone]
    zkind = world.zones["kind"].to_numpy()
    zid = world.zones["id"].to_numpy()
    runs = _runs(pos, zone, ident)
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
                "start": _iso(t_a),
                "end": _iso(t_b),
                "zone_id": zone,
                "note": note,
            }
        )

    min_call = world.data["truth"]["port_call_minutes"] * 60
    silent = [(t0u + o["t0"], t0u + o["t1"]) for o in world.outages]

    def heard(a: float, b: float) -> float:
        """Seconds of [a, b] outside the planted outages (a call nobody heard is not a call)."""
        return (b - a) - sum(max(0.0, min(b, o1) - max(a, o0)) for o0, o1 in silent)

    for z, first, last in runs:
        i = ident[first]
        if zkind[z] == "port" and heard(t[first], t[last]) >= min_call:
            add("port_visit", i, t[first], t[last], zid[z], note="port call")
        if zkind[z] == "restricted":
            add("zone_entry", i, t[first], t[last], zid[z], note="entered a restricted area")

    def fixes(i, a, b):
        """Transmitted reports of identity i with a <= t - t0 <= b (seconds since start)."""
        return np.flatnonzero((ident == i) & (t >= t0u + a) & (t <= t0u + b))

    def zone_at(rows, kinds):
        hit = zone[np.isin(pos, rows)]
        hit = hit[np.isin(zkind[hit], kinds)]
        return zid[hit[0]] if len(hit) else None

    for ev in world.events:
        if not ev.get("alert", True):
            continue  # a declared no-alert case: it is in must_not_alert instead
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
            zone_id = zone_at(rows, ["restricted", "cable"])
            add("encounter", i, t[rows[0]], t[rows[-1]], zone_id, ev["other"], note=note)
        elif ev["kind"] == "slow":
            rows = fixes(i, ev["t0"], ev["t1"])
            zone_id = zone_at(rows, ["restricted", "cable"])
            add("loitering", i, t[rows[0]], t[rows[-1]], zone_id, note=note)
        elif ev["kind"] == "dark":
            before = fixes(i, -1, ev["t0"])
            after = fixes(i, ev["t1"], world.horizon)
            if not len(before) or not len(after):
                raise world.where.error(
                    "case", f"dark window of MMSI {mm[i]} must lie inside its voyage"
                )
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
        elif ev["kind"] == "identity":
            rows = fixes(i, -1, world.horizon)
            add("identity_conflict", i, t[rows[0]], t[rows[-1]], note=note)
    for i in np.flatnonzero(iv["watchlist"].to_numpy()):
        rows = np.flatnonzero(ident == i)
        add("watchlist", i, t[rows[0]], t[rows[-1]], note="on the scenario watch list")
    return sorted(out, key=lambda e: (e["start"], e["type"], e["mmsi"]))


def must_not_alert(world: World) -> list[dict[str, Any]]:
    """The ordinary habits of the run as truth entries: habit, vessel (or pair, or none for the
    feed), time range, station (for receiver artefacts) and a note."""
    mm = [iv["mmsi"] for iv in world.idents]
    t0u = int(world.t0.timestamp())
    out = [
        {
            "habit": q["habit"],
            "mmsi": None if q["ident"] is None else int(mm[q["ident"]]),
            "other_mmsi": None if q["other"] is None else int(mm[q["other"]]),
            "start": _iso(t0u + max(0.0, q["t0"])),
            "end": _iso(t0u + min(world.horizon, q["t1"])),
            "station": q.get("station"),
            "note": q["note"],
        }
        for q in world.quiet
    ]
    return sorted(out, key=lambda e: (e["start"], e["habit"], e["mmsi"] or 0))


def outages(world: World) -> list[dict[str, Any]]:
    """Receiver (station named) and whole-feed (station None) silences."""
    t0u = int(world.t0.timestamp())
    return [
        {"station": o["station"], "start": _iso(t0u + o["t0"]), "end": _iso(t0u + o["t1"])}
        for o in world.outages
    ]


def _inside(lat: np.ndarray, lon: np.ndarray, geoms) -> tuple[np.ndarray, np.ndarray]:
    """(point row, zone row) of every point inside a zone area (boundary = outside)."""
    pos, zone = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for z, g in enumerate(geoms):
        x0, y0, x1, y1 = g.bounds
        cand = np.flatnonzero((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        hit = cand[shapely.contains_xy(g, lon[cand], lat[cand])]
        pos.append(hit)
        zone.append(np.full(len(hit), z, np.int64))
    return np.concatenate(pos), np.concatenate(zone)


def _runs(pos: np.ndarray, zone: np.ndarray, ident: np.ndarray):
    """(zone, first row, last row) of every run of consecutive rows of one identity in a zone."""
    order = np.lexsort((pos, zone))
    p, z = pos[order], zone[order]
    new = np.ones(len(p), bool)
    new[1:] = (z[1:] != z[:-1]) | (p[1:] != p[:-1] + 1) | (ident[p[1:]] != ident[p[:-1]])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:] - 1, len(p) - 1)
    return list(zip(z[starts].tolist(), p[starts].tolist(), p[ends].tolist(), strict=True))
