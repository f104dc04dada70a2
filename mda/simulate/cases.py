"""Planted cases modelled on real incidents: anchor drags, anchoring by a cable, ship-to-ship
transfers, going dark, MMSI switches, spoofed positions, transits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from mda.geo import NM, bearing_deg
from mda.simulate import motion
from mda.simulate.scenario import positive
from mda.simulate.vessels import new_ident
from mda.simulate.world import World

#: One [[case]] table of a scenario, as read from its TOML.
Case = dict[str, Any]


def plant_cases(world: World) -> None:
    """Add the ships and events of every [[case]] of the scenario."""
    for i, c in enumerate(world.data.get("case", [])):
        key = f"case[{i}]"
        ctype = c.get("type")
        if ctype not in _CASES:
            raise world.where.error(
                f"{key}.type", f"unknown case type {ctype!r} ({', '.join(_CASES)})"
            )
        for k in (
            "speed_kn",
            "drag_kn",
            "hours",
            "dark_hours",
            "minutes",
            "offset_nm",
            "drift_kn",
            "course_std_deg",
            "abeam_m",
            "switch_seconds",
        ):
            if k in c:
                positive(c[k], f"{key}.{k}", world.where)
        for k in ("start_hour", "event_hour", "wait_hours", "moored_hours"):
            if k in c:
                positive(c[k], f"{key}.{k}", world.where, zero=True)
        rng = np.random.default_rng([world.seed, 3, i])
        n_ident, n_event = len(world.idents), len(world.events)
        sizes = _sizes(world)
        try:
            _CASES[ctype](world, c, key, rng)
        except _BeyondEnd:
            _undo(world, sizes)
            world.left_out.append(f"{key} ({c.get('name', ctype)})")
            continue
        _declared(world, c, key, n_ident, n_event)


#: What a case adds to the world, by attribute (lists it appends to).
_ADDED = ("ships", "idents", "events", "darks", "spoofs", "quiet", "outages", "batches")


class _BeyondEnd(Exception):
    """A case of a run shortened by `hours` ends after the run does."""


def _sizes(world: World) -> dict[str, int]:
    return {name: len(getattr(world, name)) for name in _ADDED}


def _undo(world: World, sizes: dict[str, int]) -> None:
    """Remove what a case left out had already added."""
    for name, n in sizes.items():
        del getattr(world, name)[n:]


def _declared(world: World, c: Case, key: str, n_ident: int, n_event: int) -> None:
    """A case's `nav_status` (broadcast throughout) and `alert = false` (what it plants must
    raise no alert: its events leave the truth for must_not_alert)."""
    status = c.get("nav_status")
    if status is not None and not 0 <= status <= 15:
        raise world.where.error(f"{key}.nav_status", f"must be 0..15, got {status}")
    note: str = c["name"] if "name" in c else c["type"]
    for i, iv in enumerate(world.idents[n_ident:], n_ident):
        if status is not None:
            iv["status"] = status
            world.hush("stale_status", i, iv["t_start"], iv["t_end"], f"{note}: status {status}")
        if c.get("alert", True) is False:
            world.hush("no_alert_case", i, iv["t_start"], iv["t_end"], note)
    for ev in world.events[n_event:]:
        ev["alert"] = c.get("alert", True)


def _within(world: World, t: float, key: str) -> None:
    """A planted event must end before the scenario does (so its truth is complete); in a run
    shortened by `hours` the case is left out instead."""
    if t >= world.horizon:
        if world.shortened:
            raise _BeyondEnd
        raise world.where.error(
            key,
            f"the event ends {t / 3600:.1f} h after the start, after the scenario end "
            f"({world.hours:g} h)",
        )


def _planted(
    world: World,
    c: Case,
    key: str,
    rng: np.random.Generator,
    knots: motion.Knots,
    spec: dict[str, Any] | None = None,
    t_start: float = 0.0,
    t_end: float | None = None,
    kind: str = "tanker",
) -> int:
    """Add a planted ship and its identity (heard in full by every receiver)."""
    ship = world.add_ship(knots)
    ident = new_ident(
        world,
        ship,
        spec if spec is not None else c.get("vessel", {}),
        rng,
        kind,
        t_start=t_start,
        t_end=t_end,
        key=f"{key}.vessel",
    )
    world.idents[ident]["planted"] = True
    return ident


def _route(
    world: World,
    c: Case,
    key: str,
    rng: np.random.Generator,
    t0: float,
    speed: float,
    wps_key: str = "waypoints",
    tail_moored: bool = True,
) -> motion.Knots:
    """Knots along a case's waypoints: straight legs, or the lane between two ports."""
    wps = c.get(wps_key)
    if not wps or len(wps) < 2:
        raise world.where.error(f"{key}.{wps_key}", "needs at least two waypoints")
    pts = [world.point(w, f"{key}.{wps_key}[{j}]") for j, w in enumerate(wps)]
    lon, lat = [pts[0][0]], [pts[0][1]]
    for j in range(1, len(wps)):
        a, b = wps[j - 1], wps[j]
        if isinstance(a, str) and isinstance(b, str):
            llon, llat = world.lane(a, b, f"{key}.{wps_key}[{j}]")
            lon += [*llon.tolist(), pts[j][0]]
            lat += [*llat.tolist(), pts[j][1]]
        else:
            lon.append(pts[j][0])
            lat.append(pts[j][1])
    knots = motion.sail(lon, lat, t0, speed, rng)
    end_t, elat, elon = knots.end
    if tail_moored and isinstance(wps[-1], str) and end_t < world.horizon:
        knots = motion.Knots.concat(
            [knots, motion.stay(elon, elat, end_t, world.horizon + 3600, 5, 5.0, rng)]
        )
    return knots


def _sailing(
    world: World,
    c: Case,
    key: str,
    rng: np.random.Generator,
    speed: float,
    kind: str,
    t_end: float | None = None,
) -> int:
    """A planted vessel following the case's waypoints from start_hour (its identity)."""
    t0 = c.get("start_hour", 0.0) * 3600
    t_sail = t0 + c.get("moored_hours", 0.0) * 3600
    knots = _route(world, c, key, rng, t_sail, c.get("speed_kn", speed))
    if t_sail > t0:
        berth = world.point(c["waypoints"][0], f"{key}.waypoints[0]")
        knots = motion.Knots.concat([motion.stay(*berth, t0, t_sail, 5, 5.0, rng), knots])
    return _planted(world, c, key, rng, knots, t_start=t0, t_end=t_end, kind=kind)


def _event(
    world: World,
    kind: str,
    ident: int,
    t0: float,
    t1: float,
    note: str,
    other: int | None = None,
    **kw: Any,
) -> None:
    """Record a planted event; its truth times are read off the positions later."""
    world.events.append(
        {"kind": kind, "ident": ident, "other": other, "t0": t0, "t1": t1, "note": note, **kw}
    )


def _anchor_drag(world: World, c: Case, key: str, rng: np.random.Generator) -> None:
    t0 = c.get("start_hour", 0.0) * 3600
    cruise = c.get("speed_kn", 11.0)
    drag_kn = c.get("drag_kn", 9.5)
    if drag_kn >= cruise:
        raise world.where.error(f"{key}.drag_kn", "must be below speed_kn (a speed drop)")
    p_ds = world.point(c.get("drag_start"), f"{key}.drag_start")
    p_de = world.point(c.get("drag_end"), f"{key}.drag_end")
    pre = dict(c, waypoints=[*c.get("waypoints", [])[:1], list(p_ds)])
    k1 = _route(world, pre, key, rng, t0, cruise)
    t1 = k1.end[0]
    k2 = motion.drag(
        p_ds,
        p_de,
        t1,
        drag_kn,
        c.get("course_std_deg", 25.0),
        world.data["reporting"]["cadence_s"],
        rng,
    )
    t2 = k2.end[0]
    post = dict(c, waypoints=[list(p_de), *c.get("waypoints", [])[1:]])
    k3 = _route(world, post, key, rng, t2, cruise) if len(c.get("waypoints", [])) > 1 else None
    parts = [k1, k2] + ([k3] if k3 is not None else [])
    ident = _planted(world, c, key, rng, motion.Knots.concat(parts), kind="bulk")
    _event(world, "drag", ident, t1, t2, c.get("name", "anchor dragged across cable corridors"))


def _anchor_near_cable(world: World, c: Case, key: str, rng: np.random.Generator) -> None:
    ci = world.zone(c.get("cable", ""), f"{key}.cable", ("cable",))
    line = world.zones["feature_geometry"].iat[ci]
    at = c.get("at", 0.5)
    if not 0 <= at <= 1:
        raise world.where.error(f"{key}.at", f"fraction along the cable in [0, 1], got {at}")
    p = line.interpolate(at, normalized=True)
    q = line.interpolate(min(1.0, at + 0.01), normalized=True)
    if q.equals(p):
        q = p
        p = line.interpolate(at - 0.01, normalized=True)
    along = float(bearing_deg(p.y, p.x, q.y, q.x))
    off = c.get("offset_nm", 0.5) * NM
    la, lo = motion.offset(
        p.y,
        p.x,
        off * math.sin(math.radians(along + 90)),
        off * math.cos(math.radians(along + 90)),
    )
    anchor = (float(lo), float(la))
    if not shapely.contains_xy(world.zones.geometry.iat[ci], *anchor):
        raise world.where.error(
            f"{key}.offset_nm", "anchor position falls outside the cable corridor"
        )
    t0 = c.get("start_hour", 0.0) * 3600
    approach = _route(
        world,
        dict(c, waypoints=[*c.get("waypoints", [])[:1], list(anchor)]),
        key,
        rng,
        t0,
        c.get("speed_kn", 10.0),
        tail_moored=False,
    )
    ta = approach.end[0]
    tb = ta + c.get("hours", 48.0) * 3600
    _within(world, ta, f"{key}.hours")
    parts = [approach, motion.stay(*anchor, ta, tb, 1, 40.0, rng)]
    if len(c.get("waypoints", [])) > 1 and tb < world.horizon:
        leave = _route(
            world,
            dict(c, waypoints=[list(anchor), *c["waypoints"][1:]]),
            key,
            rng,
            tb,
            c.get("speed_kn", 10.0),
        )
        parts.append(leave)
    ident = _planted(world, c, key, rng, motion.Knots.concat(parts), kind="bulk")
    note = c.get("name", "waiting at anchor next to a cable")
    _event(world, "anchor", ident, ta, tb, note, zone=world.zones["id"].iat[ci])


def _sts(world: World, c: Case, key: str, rng: np.random.Generator) -> None:
    meet = world.point(c.get("meet"), f"{key}.meet")
    t_a = c.get("start_hour", 0.0) * 3600  # A arrives at the meeting point
    t_b = t_a + c.get("wait_hours", 1.0) * 3600  # B comes alongside
    t_e = t_b + c.get("hours", 6.0) * 3600  # B casts off
    t_f = t_e + 0.5 * 3600  # A leaves
    _within(world, t_f, f"{key}.hours")
    drift_kn = c.get("drift_kn", 0.8)
    direction = float(rng.uniform(0, 360))
    ia = _drifter(world, c, key, rng, "waypoints", meet, t_a, t_f, direction, c.get("vessel"))
    # B comes alongside ~120 m abeam of where A has drifted to, and drifts with it
    d_b = drift_kn * motion.KN * (t_b - t_a)
    abeam = c.get("abeam_m", 120.0)
    east = d_b * math.sin(math.radians(direction)) + abeam * math.sin(math.radians(direction + 90))
    north = d_b * math.cos(math.radians(direction)) + abeam * math.cos(math.radians(direction + 90))
    lat_b, lon_b = motion.offset(meet[1], meet[0], east, north)
    at_b = (float(lon_b), float(lat_b))
    ib = _drifter(
        world, c, key, rng, "other_waypoints", at_b, t_b, t_e, direction, c.get("other_vessel")
    )
    note = c.get("name", "ship-to-ship transfer at sea")
    _event(world, "sts", ia, t_b, t_e, note, ib)
    _event(world, "slow", ia, t_a, t_f, note)
    _event(world, "slow", ib, t_b, t_e, note)


def _drifter(
    world: World,
    c: Case,
    key: str,
    rng: np.random.Generator,
    wps_key: str,
    at: tuple[float, float],
    t_in: float,
    t_out: float,
    direction: float,
    spec: dict[str, Any] | None,
) -> int:
    """One ship of a transfer: sails in to `at` by t_in, drifts until t_out, sails on."""
    speed = c.get("speed_kn", 11.0)
    wps = c.get(wps_key, [])
    approach = _route(
        world,
        dict(c, **{wps_key: [*wps[:1], list(at)]}),
        key,
        rng,
        0.0,
        speed,
        wps_key,
        tail_moored=False,
    )
    approach.t += t_in - approach.t[-1]
    drift = motion.drift(*at, t_in, t_out, c.get("drift_kn", 0.8), direction, rng)
    parts = [approach, drift]
    _, lat, lon = drift.end
    if len(wps) > 1:
        leave = dict(c, **{wps_key: [[lon, lat], *wps[1:]]})
        parts.append(_route(world, leave, key, rng, t_out, speed, wps_key))
    start = max(0.0, float(approach.t[0]))
    return _planted(
        world, c, key, rng, motion.Knots.concat(parts), spec or {}, start, kind="tanker"
    )


def _dark(world: World, c: Case, key: str, rng: np.random.Generator) -> None:
    ident = _sailing(world, c, key, rng, 12.0, "tanker")
    d0 = c.get("event_hour", 1.0) * 3600
    d1 = d0 + c.get("dark_hours", 14.0) * 3600
    _within(world, d1, f"{key}.dark_hours")
    world.darks.append((ident, d0, d1))
    _event(world, "dark", ident, d0, d1, c.get("name", "tanker went dark"))


def _mmsi_switch(world: World, c: Case, key: str, rng: np.random.Generator) -> None:
    ts = c.get("event_hour", 1.0) * 3600
    _within(world, ts, f"{key}.event_hour")
    first = _sailing(world, c, key, rng, 11.0, "tanker", t_end=ts)
    ship = world.idents[first]["ship"]
    second = new_ident(
        world,
        ship,
        c.get("other_vessel", {}),
        rng,
        world.idents[first]["kind"],
        t_start=ts,
        key=f"{key}.other_vessel",
    )
    # the second transponder starts 20 s after the first one's last report
    a, b = world.idents[first], world.idents[second]
    if a["ais_class"] != "A" or b["ais_class"] != "A":
        raise world.where.error(f"{key}.vessel", "an MMSI switch needs Class A vessels")
    cad = world.data["reporting"]["cadence_s"]
    start_a = math.ceil(a["t_start"]) + a["phase"] % cad
    last_a = start_a + (math.ceil(ts) - 1 - start_a) // cad * cad
    b_start = last_a + round(c.get("switch_seconds", 20))
    a["t_end"], b["t_start"], b["phase"], b["planted"] = last_a + 1, b_start, 0, True
    _event(world, "switch", first, ts, ts, c.get("name", "one ship, two transponders"), second)


def _spoof(world: World, c: Case, key: str, rng: np.random.Generator) -> None:
    ident = _sailing(world, c, key, rng, 12.0, "bulk")
    s0 = c.get("event_hour", 1.0) * 3600
    s1 = s0 + c.get("minutes", 90.0) * 60
    _within(world, s1, f"{key}.minutes")
    off = c.get("offset_nm", 30.0) * NM
    b = math.radians(c.get("offset_bearing_deg", 90.0))
    shape = c.get("shape", "jump")
    if shape not in ("jump", "circle"):
        raise world.where.error(f"{key}.shape", f"'jump' or 'circle', got {shape!r}")
    radius = 0.1 * off if shape == "circle" else 0.0  # a circle drawn at the false place
    world.spoofs.append((ident, s0, s1, off * math.sin(b), off * math.cos(b), radius))
    _event(world, "spoof", ident, s0, s1, c.get("name", "spoofed position: jump away and back"))


def _transit(world: World, c: Case, key: str, rng: np.random.Generator) -> None:
    _sailing(world, c, key, rng, 12.0, "bulk")  # its zone entries come out of the truth pass


#: Case type -> the function that plants it.
_CASES = {
    "anchor_drag": _anchor_drag,
    "anchor_near_cable": _anchor_near_cable,
    "sts": _sts,
    "dark": _dark,
    "mmsi_switch": _mmsi_switch,
    "spoof": _spoof,
    "transit": _transit,
}
