"""Background traffic: ships sailing sea lanes between ports, shuttling, waiting at anchor."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from mda.geo import haversine_m
from mda.simulate import motion
from mda.simulate.scenario import positive
from mda.simulate.vessels import DEFAULT_FLAGS, KINDS, new_ident
from mda.simulate.world import World


def add_background(world: World) -> None:
    """Add the [[traffic]] and [[anchored]] ships, rescaled to `world.n_vessels` if given."""
    groups = world.data.get("traffic", [])
    anchored = world.data.get("anchored", [])
    counts = [g.get("vessels", 0) for g in groups] + [a.get("vessels", 0) for a in anchored]
    for i, c in enumerate(counts):
        positive(
            c,
            f"{'traffic' if i < len(groups) else 'anchored'}[...].vessels",
            world.where,
            zero=True,
        )
    total = sum(counts)
    if world.n_vessels is not None and total:
        scaled = np.floor(np.array(counts) * world.n_vessels / total).astype(int)
        scaled[np.argmax(counts)] += world.n_vessels - scaled.sum()
        counts = scaled.tolist()
    for gi, g in enumerate(groups):
        _traffic(world, g, counts[gi], f"traffic[{gi}]")
    for ai, a in enumerate(anchored):
        _anchored(world, a, counts[len(groups) + ai], f"anchored[{ai}]")


def _types(world: World, g: dict, key: str) -> tuple[list[str], np.ndarray]:
    """The vessel kinds of a group and their probabilities."""
    types = g.get("types", {"bulk": 1.0})
    for k, v in types.items():
        if k not in KINDS:
            raise world.where.error(f"{key}.types.{k}", f"unknown kind ({', '.join(KINDS)})")
        positive(v, f"{key}.types.{k}", world.where)
    w = np.array(list(types.values()), dtype=float)
    return list(types), w / w.sum()


def _traffic(world: World, g: dict, n: int, key: str) -> None:
    """`n` ships of a [[traffic]] group sailing between its ports."""
    ports = g.get("ports", [])
    if len(ports) < 2:
        raise world.where.error(f"{key}.ports", "needs at least two port ids")
    for j, p in enumerate(ports):
        world.zone(p, f"{key}.ports[{j}]", ("port", "anchorage"))
    kinds, w = _types(world, g, key)
    hours = g.get("port_hours", [6, 24])
    if len(hours) != 2 or not 0 < hours[0] <= hours[1]:
        raise world.where.error(f"{key}.port_hours", f"expected [min, max] > 0, got {hours!r}")
    in_port = float(g.get("in_port", 0.2))
    if not 0 <= in_port <= 1:
        raise world.where.error(f"{key}.in_port", f"must be in [0, 1], got {in_port}")
    flags = _flags(world, g, key)
    rng = np.random.default_rng([world.seed, 1, len(world.ships)])
    for _ in range(n):
        a, b = rng.choice(len(ports), 2, replace=False)
        kind = kinds[rng.choice(len(kinds), p=w)]
        ident = new_ident(world, len(world.ships), {}, rng, kind, flags, key=key)
        iv = world.idents[ident]
        iv["destination"] = ports[b].removeprefix("port-").upper().replace("-", " ")[:20]
        stay_s = rng.uniform(*hours) * 3600
        world.ships.append(
            _voyage(
                world,
                ports[a],
                ports[b],
                iv["speed"],
                rng,
                key,
                shuttle=g.get("shuttle", False),
                in_port=rng.uniform() < in_port,
                stay_s=stay_s,
                hours=hours,
            )
        )


def _voyage(
    world: World,
    a: str,
    b: str,
    speed: float,
    rng: np.random.Generator,
    key: str,
    *,
    shuttle: bool,
    in_port: bool,
    stay_s: float,
    hours: Any,  # the group's port_hours: [min, max]
) -> motion.Knots:
    """Knots of one background ship: maybe moored first, then lane legs and port stays."""
    berth_a, berth_b = world.berth(a, key, rng), world.berth(b, key, rng)
    lane_lon, lane_lat = world.lane(a, b, key)
    head = motion.densify(np.array([berth_a[0], lane_lon[0]]), np.array([berth_a[1], lane_lat[0]]))
    tail = motion.densify(
        np.array([lane_lon[-1], berth_b[0]]), np.array([lane_lat[-1], berth_b[1]])
    )
    lon = np.concatenate([head[0][:-1], lane_lon, tail[0][1:]])
    lat = np.concatenate([head[1][:-1], lane_lat, tail[1][1:]])
    parts = []
    t = 0.0
    d0 = 0.0
    if shuttle or in_port:
        dwell = stay_s * (rng.uniform() if shuttle else 1.0)
        parts.append(motion.stay(berth_a[0], berth_a[1], 0.0, dwell, 5, 5.0, rng))
        t = dwell
    else:
        length = float(np.sum(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])))
        d0 = rng.uniform(0.02, 0.98) * length
    forward = True
    while t < world.horizon:
        la, lo = (lat, lon) if forward else (lat[::-1], lon[::-1])
        leg = motion.sail(lo, la, t, speed, rng, d0, dense=True)
        parts.append(leg)
        t, elat, elon = leg.end
        stay = world.horizon + 3600 if not shuttle else rng.uniform(*hours) * 3600
        parts.append(motion.stay(elon, elat, t, t + stay, 5, 5.0, rng))
        t += stay
        forward, d0 = not forward, 0.0
    return motion.Knots.concat(parts)


def _flags(world: World, g: dict, key: str) -> list[int]:
    """The MIDs (flag-state digits of an MMSI) ships of a group are drawn from."""
    flags = g.get("flags", list(DEFAULT_FLAGS))
    for j, f in enumerate(flags):
        if not isinstance(f, int) or isinstance(f, bool) or not 201 <= f <= 775:
            raise world.where.error(f"{key}.flags[{j}]", f"not a ship-station MID: {f!r}")
    if not flags:
        raise world.where.error(f"{key}.flags", "needs at least one MID")
    return flags


def _anchored(world: World, g: dict, n: int, key: str) -> None:
    """`n` ships of an [[anchored]] group at anchor in its anchorage."""
    zi = world.zone(g.get("zone", ""), f"{key}.zone", ("anchorage",))
    kinds, w = _types(world, g, key)
    flags = _flags(world, g, key)
    poly = world.zones.geometry.iat[zi]
    lon0, lat0 = world.point(world.zones["id"].iat[zi], f"{key}.zone")
    radius = float(world.zones["buffer_m"].iat[zi] or 1000.0) * 0.6
    rng = np.random.default_rng([world.seed, 2, len(world.ships)])
    for _ in range(n):
        kind = kinds[rng.choice(len(kinds), p=w)]
        for _try in range(50):
            ang, r = rng.uniform(0, 2 * np.pi), radius * math.sqrt(rng.uniform())
            la, lo = motion.offset(lat0, lon0, r * math.sin(ang), r * math.cos(ang))
            if shapely.contains_xy(poly, float(lo), float(la)):
                break
        new_ident(world, len(world.ships), {}, rng, kind, flags, key=key)
        world.ships.append(
            motion.stay(float(lo), float(la), 0.0, world.horizon + 3600, 1, 40.0, rng)
        )
