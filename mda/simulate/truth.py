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
    truth = _Truth(world, positions)
    truth.zone_stays()
    for ev in world.events:
        if ev.get("alert", True):  # a declared no-alert case is in must_not_alert instead
            truth.planted(ev)
    truth.watch_list()
    return sorted(truth.out, key=lambda e: (e["start"], e["type"], e["mmsi"]))


class _Truth:
    """The events of one run, collected phase by phase from its planned positions."""

    def __init__(self, world: World, positions: pd.DataFrame) -> None:
        self.world = world
        self.iv = pd.DataFrame(world.idents)
        self.mm = self.iv["mmsi"].to_numpy()
        self.t = positions["_t"].to_numpy()
        self.ident = positions["_ident"].to_numpy()
        self.t0u = int(world.t0.timestamp())
        sub = world.zones[world.zones["kind"].isin(_ZONE_KINDS)]
        self.pos, zone = _inside(world.plan_lat, world.plan_lon, sub.geometry.to_numpy())
        self.zone = sub.index.to_numpy()[zone]
        self.zkind = world.zones["kind"].to_numpy()
        self.zid = world.zones["id"].to_numpy()
        self.runs = _runs(self.pos, self.zone, self.ident)
        self.out: list[dict[str, Any]] = []

    def add(self, type_, i, t_a, t_b, zone=None, other=None, note=""):
        a, b = int(self.mm[i]), None if other is None else int(self.mm[other])
        if b is not None and type_ == "encounter" and b < a:
            a, b = b, a
        self.out.append(
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

    def zone_stays(self) -> None:
        """Port calls long enough to count, and every entry into a restricted area."""
        t, zkind, zid = self.t, self.zkind, self.zid
        min_call = self.world.data["truth"]["port_call_minutes"] * 60
        silent = [(self.t0u + o["t0"], self.t0u + o["t1"]) for o in self.world.outages]

        def heard(a: float, b: float) -> float:
            """Seconds of [a, b] outside the planted outages (a call nobody heard is not a call)."""
            return (b - a) - sum(max(0.0, min(b, o1) - max(a, o0)) for o0, o1 in silent)

        for z, first, last in self.runs:
            i = self.ident[first]
            if zkind[z] == "port" and heard(t[first], t[last]) >= min_call:
                self.add("port_visit", i, t[first], t[last], zid[z], note="port call")
            if zkind[z] == "restricted":
                self.add(
                    "zone_entry", i, t[first], t[last], zid[z], note="entered a restricted area"
                )

    def fixes(self, i, a, b):
        """Transmitted reports of identity i with a <= t - t0 <= b (seconds since start)."""
        t = self.t
        return np.flatnonzero((self.ident == i) & (t >= self.t0u + a) & (t <= self.t0u + b))

    def zone_at(self, rows, kinds):
        hit = self.zone[np.isin(self.pos, rows)]
        hit = hit[np.isin(self.zkind[hit], kinds)]
        return self.zid[hit[0]] if len(hit) else None

    def planted(self, ev: dict[str, Any]) -> None:
        """The events a planted case must raise (kinds without an alert of their own: none)."""
        handler = {
            "drag": self._drag,
            "anchor": self._anchor,
            "sts": self._sts,
            "slow": self._slow,
            "dark": self._dark,
            "switch": self._switch,
            "spoof": self._spoof,
            "identity": self._identity,
        }.get(ev["kind"])
        if handler is not None:
            handler(ev, ev["ident"], ev["note"])

    def _drag(self, ev, i, note):
        t, ident = self.t, self.ident
        for z, first, last in self.runs:
            inside = self.t0u + ev["t0"] <= t[first] and t[last] <= self.t0u + ev["t1"]
            if ident[first] == i and self.zkind[z] == "cable" and inside:
                self.add("anchor_drag", i, t[first], t[last], self.zid[z], note=note)

    def _anchor(self, ev, i, note):
        rows = self.fixes(i, ev["t0"], ev["t1"])
        t_a, t_b = self.t[rows[0]], self.t[rows[-1]]
        self.add("anchoring", i, t_a, t_b, ev["zone"], note=note)
        also = " (anchored at sea: also slow for hours)"
        self.add("loitering", i, t_a, t_b, ev["zone"], note=note + also)

    def _sts(self, ev, i, note):
        rows = self.fixes(ev["other"], ev["t0"], ev["t1"])
        zone_id = self.zone_at(rows, ["restricted", "cable"])
        self.add("encounter", i, self.t[rows[0]], self.t[rows[-1]], zone_id, ev["other"], note=note)

    def _slow(self, ev, i, note):
        rows = self.fixes(i, ev["t0"], ev["t1"])
        zone_id = self.zone_at(rows, ["restricted", "cable"])
        self.add("loitering", i, self.t[rows[0]], self.t[rows[-1]], zone_id, note=note)

    def _dark(self, ev, i, note):
        world = self.world
        before = self.fixes(i, -1, ev["t0"])
        after = self.fixes(i, ev["t1"], world.horizon)
        if not len(before) or not len(after):
            raise world.where.error(
                "case", f"dark window of MMSI {self.mm[i]} must lie inside its voyage"
            )
        self.add("ais_gap", i, self.t[before[-1]], self.t[after[0]], note=note)

    def _switch(self, ev, i, note):
        a = self.fixes(i, -1, self.world.horizon)
        b = self.fixes(ev["other"], -1, self.world.horizon)
        self.add("identity_conflict", i, self.t[a[-1]], self.t[b[0]], other=ev["other"], note=note)

    def _spoof(self, ev, i, note):
        tt = self.t[self.fixes(i, -1, self.world.horizon)]
        inside = (tt >= self.t0u + ev["t0"]) & (tt < self.t0u + ev["t1"])
        k_in, k_out = np.flatnonzero(inside)[[0, -1]]
        self.add("position_jump", i, tt[k_in - 1], tt[k_in], note=note + " (jump away)")
        self.add("position_jump", i, tt[k_out], tt[k_out + 1], note=note + " (jump back)")

    def _identity(self, ev, i, note):
        rows = self.fixes(i, -1, self.world.horizon)
        self.add("identity_conflict", i, self.t[rows[0]], self.t[rows[-1]], note=note)

    def watch_list(self) -> None:
        """A watch-list event over each listed vessel's whole voyage."""
        for i in np.flatnonzero(self.iv["watchlist"].to_numpy()):
            rows = np.flatnonzero(self.ident == i)
            self.add(
                "watchlist", i, self.t[rows[0]], self.t[rows[-1]], note="on the scenario watch list"
            )


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
