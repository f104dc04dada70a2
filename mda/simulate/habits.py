"""Real habits of AIS traffic, for a background that is hard to please (``[background]``).

Each habit is ordinary, frequent in real feeds, and must raise no alert; every instance is
recorded with ``World.hush`` so the truth lists it under ``must_not_alert``:

* statuses: ships that never update their navigational status (under way while "moored" or
  "at anchor") and ships that always send 15 (undefined);
* unlisted harbours: real ports (NGA World Port Index, :mod:`mda.simulate.harbours`) that are in
  no zone layer, with ships moored side by side (``berth_spacing_m`` apart) and groups waiting at
  anchor off them;
* transponders: Class B craft switching on and off in harbour, Class A ships silent for hours at
  their berth (or starting / stopping mid-scenario there), never at sea;
* identities: one MMSI on two craft far apart (an identity conflict) and invalid MMSIs (a test
  number: a truth event; and a coast-station number that lost its leading zeros, which is a
  valid station number and must raise nothing); the others are truth events (data
  quality), and position jumps on them are habits;
* reception: a receiver or the whole feed silent for ``outage_minutes``, receivers stamping
  several messages (several positions of one ship) with one second, every report with noisy
  speed, course and GPS position; planted vessels heard as lossily as everyone else.

With ``habits = "clean"`` nothing here runs (the bytes of the scenarios written before).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import shapely

from mda.geo import haversine_m
from mda.simulate import motion
from mda.simulate.harbours import HARBOURS
from mda.simulate.scenario import positive
from mda.simulate.vessels import DEFAULT_FLAGS, new_ident
from mda.simulate.world import World

_NEAR_M = 600_000.0  # unlisted harbours are picked within this distance of the scenario's ports
_TEST_MMSIS = (123456789, 987654321, 111111111)
#: A harbour where habit ships are placed: name, lon, lat.
Place = tuple[str, float, float]


def _span(world: World, key: str) -> tuple[float, float]:
    """A [min, max] pair of the [background] section, checked."""
    v = world.habits[key]
    if len(v) != 2 or not all(isinstance(x, int | float) for x in v) or not 0 <= v[0] <= v[1]:
        raise world.where.error(f"background.{key}", f"expected [min, max] >= 0, got {v!r}")
    return float(v[0]), float(v[1])


def _check(world: World) -> None:
    """Shares in [0, 1] and counts >= 0 of the [background] section."""
    h = world.habits
    for k in ("stale_status_share", "undefined_status_share", "off_in_port_share"):
        if not 0 <= h[k] <= 1:
            raise world.where.error(f"background.{k}", f"must be in [0, 1], got {h[k]}")
    for k in (
        "harbours",
        "moored_groups",
        "anchored_groups",
        "class_b_switching",
        "feed_outages",
        "receiver_outages",
        "batches",
        "shared_mmsi_pairs",
        "invalid_mmsis",
    ):
        positive(h[k], f"background.{k}", world.where, zero=True)
    positive(h["outage_minutes"], "background.outage_minutes", world.where)
    for k in ("sog_noise_kn", "cog_noise_deg", "gps_jitter_m", "berth_spacing_m", "batch_seconds"):
        _span(world, k)


def add_habits(world: World) -> None:
    """Add the habit ships, transponder silences, statuses and feed disruptions of a noisy run
    (after the background and the planted cases, so those keep their identities)."""
    if not world.noisy:
        return
    _check(world)
    rng = np.random.default_rng([world.seed, 20])
    n_background = len(world.idents)
    harbours = _harbours(world, rng)
    for h in harbours:
        for _ in range(world.habits["moored_groups"]):
            _moored_group(world, h, rng)
        for _ in range(world.habits["anchored_groups"]):
            _anchored_group(world, h, rng)
    places = harbours + _listed_ports(world)
    for j in range(world.habits["class_b_switching"]):
        _class_b_on_off(world, places[j % len(places)], rng)
    for _ in range(world.habits["shared_mmsi_pairs"]):
        _shared_mmsi(world, places, rng)
    for j in range(world.habits["invalid_mmsis"]):
        _invalid_mmsi(world, places[j % len(places)], j, rng)
    _statuses(world, n_background, rng)
    _off_in_port(world, n_background, rng)
    _feed(world, rng)


# -- places ---------------------------------------------------------------------------------------


def _listed_ports(world: World) -> list[Place]:
    """(name, lon, lat) of the port zones the scenario's traffic uses."""
    used = {p for g in world.data.get("traffic", []) for p in g.get("ports", [])}
    out = []
    for zid in sorted(used):
        if world.zones["kind"].iat[world.zone(zid, "traffic.ports")] == "port":
            out.append((zid, *world.point(zid, "traffic.ports")))
    return out


def _harbours(world: World, rng: np.random.Generator) -> list[Place]:
    """Up to `harbours` real ports near the scenario's ports and outside every zone layer."""
    listed = _listed_ports(world)
    if not listed:
        return []
    lat = np.array([h[3] for h in HARBOURS])
    lon = np.array([h[4] for h in HARBOURS])
    plon, plat = np.array([p[1] for p in listed]), np.array([p[2] for p in listed])
    d = haversine_m(lat[:, None], lon[:, None], plat[None, :], plon[None, :]).min(axis=1)
    inside = shapely.contains_xy(shapely.union_all(world.zones.geometry.to_numpy()), lon, lat)
    ok = np.flatnonzero((d <= _NEAR_M) & ~inside)
    pick = rng.permutation(ok)[: world.habits["harbours"]]
    return [(HARBOURS[k][1], float(lon[k]), float(lat[k])) for k in sorted(pick)]


def _free_spot(
    world: World, lon: float, lat: float, r0: float, r1: float, rng: np.random.Generator
) -> tuple[float, float] | None:
    """A point r0..r1 m from (lon, lat) in no zone area of kinds other than port (None if none
    found in 30 tries)."""
    areas = world.zones[world.zones["kind"] != "port"].geometry.to_numpy()
    for _ in range(30):
        ang, r = rng.uniform(0, 2 * np.pi), rng.uniform(r0, r1)
        la, lo = motion.offset(lat, lon, r * math.sin(ang), r * math.cos(ang))
        if not any(shapely.contains_xy(a, float(lo), float(la)) for a in areas):
            return float(lo), float(la)
    return None


def _ship(
    world: World, knots: motion.Knots, kind: str, rng: np.random.Generator, **spec: Any
) -> int:
    """A habit ship and its transponder identity (flags of the scenario's traffic)."""
    flags = [f for g in world.data.get("traffic", []) for f in g.get("flags", [])]
    ship = world.add_ship(knots)
    return new_ident(world, ship, spec, rng, kind, flags or DEFAULT_FLAGS, key="background")


def _stay(
    world: World, lon: float, lat: float, nav: int, rng: np.random.Generator, radius: float = 3.0
) -> motion.Knots:
    return motion.stay(lon, lat, 0.0, world.horizon + 3600, nav, radius, rng)


# -- habit ships ----------------------------------------------------------------------------------


def _moored_group(world: World, h: Place, rng: np.random.Generator) -> None:
    """2-4 ships moored side by side at neighbouring berths for the whole scenario."""
    spot = _free_spot(world, h[1], h[2], 0.0, 600.0, rng)
    if spot is None:
        return
    along = rng.uniform(0, 2 * np.pi)
    gaps = rng.uniform(*_span(world, "berth_spacing_m"), int(rng.integers(1, 4)))
    offs = np.concatenate([[0.0], np.cumsum(gaps)])
    idents = []
    for off in offs:
        la, lo = motion.offset(spot[1], spot[0], off * math.sin(along), off * math.cos(along))
        kind = str(rng.choice(["container", "bulk", "tanker", "fishing"]))
        idents.append(_ship(world, _stay(world, float(lo), float(la), 5, rng), kind, rng))
    for a, b, gap in zip(idents[:-1], idents[1:], gaps, strict=True):
        world.hush(
            "moored_neighbours",
            a,
            0.0,
            world.horizon,
            f"moored side by side {gap:.0f} m apart at {h[0]} (no zone there)",
            other=b,
        )


def _anchored_group(world: World, h: Place, rng: np.random.Generator) -> None:
    """3-5 ships waiting at anchor together 2-5 km off a harbour, a few hundred metres apart."""
    centre = _free_spot(world, h[1], h[2], 2000.0, 5000.0, rng)
    if centre is None:
        return
    for _ in range(int(rng.integers(3, 6))):
        spot = _free_spot(world, *centre, 250.0, 700.0, rng)
        if spot is None:
            continue
        kind = str(rng.choice(["bulk", "tanker", "container"]))
        i = _ship(world, _stay(world, *spot, 1, rng, radius=40.0), kind, rng)
        world.hush("anchored_group", i, 0.0, world.horizon, f"waiting at anchor off {h[0]}")


def _class_b_on_off(world: World, place: Place, rng: np.random.Generator) -> None:
    """A Class B craft in harbour whose transponder is switched on and off for hours."""
    spot = _free_spot(world, place[1], place[2], 50.0, 500.0, rng) or place[1:]
    kind = str(rng.choice(["pleasure", "fishing"]))
    i = _ship(world, _stay(world, *spot, 5, rng), kind, rng)
    t = rng.uniform(0.5, 3) * 3600
    while t < world.horizon:
        off = rng.uniform(1, 6) * 3600
        world.darks.append((i, t, t + off))
        note = f"Class B switched off in harbour at {place[0]}"
        world.hush("class_b_on_off", i, t, t + off, note)
        t += off + rng.uniform(1, 4) * 3600


def _shared_mmsi(world: World, places: list[Place], rng: np.random.Generator) -> None:
    """Two Class B craft at harbours far apart configured with the same MMSI."""
    far = [
        (a, b)
        for a in places
        for b in places
        if a < b and haversine_m(a[2], a[1], b[2], b[1]) > 100_000
    ]
    if not far:
        return
    a, b = far[int(rng.integers(len(far)))]
    first = _ship(world, _stay(world, *a[1:], 5, rng), "pleasure", rng)
    second = _ship(world, _stay(world, *b[1:], 5, rng), "pleasure", rng)
    world.idents[second]["mmsi"] = world.idents[first]["mmsi"]
    note = f"one MMSI on two craft, at {a[0]} and {b[0]}"
    world.events.append(
        {"kind": "identity", "ident": first, "other": None, "t0": 0.0, "t1": world.horizon,
         "note": note}
    )  # fmt: skip
    for i in (first, second):
        world.hush("shared_mmsi", i, 0.0, world.horizon, note + " (not a position jump)")


def _invalid_mmsi(world: World, place: Place, j: int, rng: np.random.Generator) -> None:
    """A craft with an invalid MMSI: a test number, or a coast-station number 00MIDxxxx whose
    leading zeros were lost (seven digits)."""
    spot = _free_spot(world, place[1], place[2], 50.0, 500.0, rng) or place[1:]
    i = _ship(world, _stay(world, *spot, 5, rng), "fishing", rng)
    iv = world.idents[i]
    if j % 2 == 0:
        iv["mmsi"] = _TEST_MMSIS[(j // 2) % len(_TEST_MMSIS)]
        note = f"test MMSI {iv['mmsi']} (a data-quality finding)"
    else:  # a station number, recognised as such: no finding
        iv["mmsi"] = iv["mmsi"] // 1_000_000 * 10_000 + int(rng.integers(1000, 10_000))
        note = f"coast-station number 00{iv['mmsi']}, its leading zeros lost by the export"
        world.hush("coast_station_number", i, 0.0, world.horizon, note)
        return
    world.events.append(
        {"kind": "identity", "ident": i, "other": None, "t0": 0.0, "t1": world.horizon,
         "note": note}
    )  # fmt: skip


# -- transponders and statuses --------------------------------------------------------------------


def _background_a(world: World, n: int) -> list[int]:
    """Class A background identities (not planted) among the first n."""
    return [
        i for i, iv in enumerate(world.idents[:n]) if iv["ais_class"] == "A" and not iv["planted"]
    ]


def _statuses(world: World, n: int, rng: np.random.Generator) -> None:
    """Stale (never updated) and undefined (15) navigational statuses of background ships that
    sail (ships that never move have nothing to update)."""
    h = world.habits
    for i in _background_a(world, n):
        knots = world.ships[world.idents[i]["ship"]]
        if not (knots.nav == 0).any():
            continue
        u = rng.uniform()
        if u < h["stale_status_share"]:
            code = 5 if knots.nav[0] == 5 else int(rng.choice([1, 5]))
            word = {1: "at anchor", 5: "moored"}[code]
            note = f"status never updated: '{word}' ({code}) while under way"
        elif u < h["stale_status_share"] + h["undefined_status_share"]:
            code, note = 15, "status 15 (undefined) throughout"
        else:
            continue
        world.idents[i]["status"] = code
        world.hush("stale_status", i, 0.0, world.horizon, note)


def _moored_spans(knots: motion.Knots) -> list[tuple[float, float]]:
    """(start, end) of every run of moored knots."""
    moored = np.r_[False, knots.nav == 5, False].astype(np.int8)
    edge = np.flatnonzero(np.diff(moored))
    return [
        (float(knots.t[a]), float(knots.t[b - 1]))
        for a, b in zip(edge[::2], edge[1::2], strict=True)
    ]


def _off_in_port(world: World, n: int, rng: np.random.Generator) -> None:
    """Class A ships switched off for hours at their berth, or starting / stopping there."""
    share = world.habits["off_in_port_share"]
    for i in _background_a(world, n):
        for s0, s1 in _moored_spans(world.ships[world.idents[i]["ship"]]):
            s1 = min(s1, world.horizon)
            if s1 - s0 < 4 * 3600 or rng.uniform() >= share:
                continue
            if s0 <= 0:  # moored at the start: starts transmitting some hours later
                a, b = -1.0, rng.uniform(1, s1 / 3600 - 1) * 3600
            elif s1 >= world.horizon:  # moored at the end: stops transmitting there
                a, b = s0 + rng.uniform(0.5, (s1 - s0) / 3600 - 1) * 3600, world.horizon + 1
            else:
                a = s0 + 1800
                b = a + rng.uniform(1, (s1 - s0) / 3600 - 1.5) * 3600
            world.darks.append((i, a, b))
            world.hush("off_in_port", i, a, b, "transponder off at the berth")


# -- reception ------------------------------------------------------------------------------------


def _busy(world: World) -> list[tuple[float, float]]:
    """Times a feed disruption must avoid: planted events (or their edges when long) +- 1 h."""
    out = []
    for ev in world.events:
        if ev["kind"] == "identity":
            continue
        t0, t1 = ev["t0"], ev["t1"]
        if ev["kind"] in ("anchor", "slow", "sts") and t1 - t0 > 3 * 3600:
            out += [(t0 - 3600, t0 + 3600), (t1 - 3600, t1 + 3600)]
        else:
            out.append((t0 - 3600, t1 + 3600))
    return out


def _window(world: World, length: float, rng: np.random.Generator) -> tuple[float, float] | None:
    """A random [t0, t1) of `length` seconds clear of planted events (None if none found)."""
    busy = _busy(world)
    for _ in range(50):
        t0 = float(int(rng.uniform(0, max(1.0, world.horizon - length))))  # whole seconds
        t1 = t0 + round(length)
        if all(t1 <= a or t0 >= b for a, b in busy):
            return t0, t1
    return None


def _feed(world: World, rng: np.random.Generator) -> None:
    """Plan the whole-feed and receiver outages and the timestamp batches."""
    from mda.simulate.reception import receivers

    names = receivers(world)[0]
    ports = {"rx-" + p[0].removeprefix("port-") for p in _listed_ports(world)}
    busy_rx = [k for k, nm in enumerate(names) if nm in ports] or list(range(len(names)))
    h = world.habits
    length = h["outage_minutes"] * 60
    plan = [(None, length)] * h["feed_outages"] + [("rx", length)] * h["receiver_outages"]
    plan += [("batch", rng.uniform(*_span(world, "batch_seconds"))) for _ in range(h["batches"])]
    world.batches = []
    for what, secs in plan:
        w = _window(world, secs, rng)
        if w is None:
            continue
        station = None if what is None else int(rng.choice(busy_rx))
        name = None if station is None else names[station]
        if what == "batch" and station is not None:  # a batch is always one receiver's
            world.batches.append((station, *w))
            world.hush("batched_timestamps", None, *w, f"{name} stamps its messages at "
                       f"{w[1] - w[0]:.0f} s intervals", station=name)  # fmt: skip
            continue
        world.outages.append({"station": name, "index": station, "t0": w[0], "t1": w[1]})
        habit = "feed_outage" if station is None else "receiver_outage"
        what_ = "the whole feed" if station is None else name
        world.hush(habit, None, *w, f"{what_} silent for {secs / 60:.0f} min", station=name)


def feed(world: World, m: pd.DataFrame) -> pd.DataFrame:
    """Drop what outages silenced and stamp batched messages with their batch's last second."""
    if not world.noisy:
        return m
    t0u = int(world.t0.timestamp())
    unix, station = m["unix"].to_numpy().copy(), m["station"].to_numpy()
    keep = np.ones(len(m), bool)
    for o in world.outages:
        inside = (unix >= t0u + o["t0"]) & (unix < t0u + o["t1"])
        keep &= ~(inside & ((station == o["index"]) if o["index"] is not None else True))
    for s, b0, b1 in world.batches:
        sel = (station == s) & (unix >= t0u + b0) & (unix < t0u + b1)
        unix[sel] = t0u + int(b1)
    return m.assign(unix=unix)[keep]


def dress(world: World, ident: np.ndarray, pos: dict[str, np.ndarray]) -> None:
    """Statuses as broadcast, and (noisy runs) noisy speed, course, heading and GPS position of
    every report (in place; `pos` holds the planned values at report times)."""
    status = np.array([iv["status"] for iv in world.idents])[ident]
    pos["nav"] = np.where(status >= 0, status, pos["nav"]).astype(np.uint8)
    if not world.noisy:
        return
    n_id, n = len(world.idents), len(ident)
    per = np.random.default_rng([world.seed, 21])
    s_kn = per.uniform(*_span(world, "sog_noise_kn"), n_id)[ident]
    c_deg = per.uniform(*_span(world, "cog_noise_deg"), n_id)[ident]
    jit = per.uniform(*_span(world, "gps_jitter_m"), n_id)[ident]
    rng = np.random.default_rng([world.seed, 22])
    sog = pos["sog"]
    still = sog < 0.5
    moving = np.clip(sog + rng.normal(0, 1, n) * s_kn, 0, None)
    noisy_sog = np.where(still, np.abs(rng.normal(0, 1, n)) * s_kn / 3, moving)
    # course over ground from GPS: the slower, the noisier; meaningless when still
    spread = c_deg * np.maximum(1.0, 3.0 / np.maximum(sog, 0.1))
    cog = np.where(still, rng.uniform(0, 360, n), pos["cog"] + rng.normal(0, 1, n) * spread)
    pos["sog"] = np.round(noisy_sog, 1)
    pos["cog"] = np.round(cog % 360, 1) % 360
    gyro = np.rint(pos["heading"] + rng.normal(0, 1, n)) % 360
    pos["heading"] = np.where(still, pos["heading"], gyro)
    pos["lat"], pos["lon"] = motion.offset(
        pos["lat"], pos["lon"], rng.normal(0, 1, n) * jit, rng.normal(0, 1, n) * jit
    )
