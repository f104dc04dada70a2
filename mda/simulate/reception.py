"""Reception: which reports terrestrial receivers and satellite passes hear, which are heard
twice and which sentences arrive corrupted."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mda.geo import NM, haversine_m
from mda.simulate.habits import feed
from mda.simulate.scenario import positive
from mda.simulate.world import World


def receivers(world: World) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names and positions of the receivers: one at every port, plus the scenario's own."""
    rc = world.data["reception"]
    ports = world.zones[world.zones["kind"] == "port"]
    names = ["rx-" + z.removeprefix("port-") for z in ports["id"]]
    pts = [world.point(z, "receivers") for z in ports["id"]]
    for j, r in enumerate(rc["receivers"]):
        if not isinstance(r, dict) or set(r) != {"name", "lon", "lat"}:
            raise world.where.error(f"reception.receivers[{j}]", "expected {name, lon, lat}")
        names.append(str(r["name"]))
        pts.append(world.point([r["lon"], r["lat"]], f"reception.receivers[{j}]"))
    lon, lat = np.array(pts, dtype=float).T
    return names, lon, lat


def receive(
    world: World, positions: pd.DataFrame, statics: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Which reports are heard, by which station, twice or corrupted: the message table, and the
    station names its `station` column indexes."""
    rc = world.data["reception"]
    for k in ("receiver_range_nm",):
        positive(rc[k], f"reception.{k}", world.where)
    for k in ("satellite_static_share", "duplicate_share", "corrupt_share"):
        v = rc[k]
        if not 0 <= v <= 1:
            raise world.where.error(f"reception.{k}", f"must be in [0, 1], got {v}")
    sat = rc["satellite_minutes"]
    if len(sat) != 2 or not 0 < sat[0] <= sat[1]:
        raise world.where.error(
            "reception.satellite_minutes", f"expected [min, max] > 0, got {sat!r}"
        )
    rng = np.random.default_rng([world.seed, 4])
    names, rlon, rlat = receivers(world)
    planted = np.array([iv["planted"] for iv in world.idents], dtype=bool)
    if world.noisy and not world.habits["planted_heard_in_full"]:
        planted[:] = False  # heard through the same lossy reception as everyone else
    frames = []
    for kind, df in ((0, positions), (1, statics)):
        n = len(df)
        ident = df["_ident"].to_numpy()
        near, d_near, second, d_second = _nearest2(
            df["lat"].to_numpy(), df["lon"].to_numpy(), rlat, rlon
        )
        rng_m = rc["receiver_range_nm"] * NM
        heard_t = rc["full"] | (d_near <= rng_m) | planted[ident]
        heard = heard_t.copy()
        if kind == 0:
            heard |= _satellite(ident, df["_t"].to_numpy(), len(world.idents), sat, rng)
        else:
            heard |= rng.uniform(size=n) < rc["satellite_static_share"]
        station = np.where(heard_t, near, len(names))
        msg = pd.DataFrame(
            {
                "unix": df["_t"].to_numpy(),
                "kind": kind,
                "row": np.arange(n),
                "ident": ident,
                "station": station,
                "duplicate": False,
            }
        )[heard]
        # heard twice: the second-nearest receiver, a second or two later
        dup = (
            heard_t
            & (rc["full"] | (d_second <= rng_m))
            & (rng.uniform(size=n) < rc["duplicate_share"])
        )
        d = pd.DataFrame(
            {
                "unix": df["_t"].to_numpy() + rng.integers(0, 3, n),
                "kind": kind,
                "row": np.arange(n),
                "ident": ident,
                "station": second,
                "duplicate": True,
            }
        )[dup & (second != near)]
        frames += [msg, d]
    m = feed(world, pd.concat(frames, ignore_index=True))
    iv = pd.DataFrame(world.idents)
    is_b = (iv["ais_class"] == "B").to_numpy()[m["ident"].to_numpy()]
    m["kind"] = np.where(m["kind"] == 0, 0, np.where(is_b, 3, 2))  # 2: type 5, 3: type 24
    # Class B statics come as two messages, 24A then 24B
    m = pd.concat([m, m[m["kind"] == 3].assign(kind=4)], ignore_index=True)
    order = np.lexsort((m["kind"].to_numpy(), m["ident"].to_numpy(), m["unix"].to_numpy()))
    m = m.iloc[order].reset_index(drop=True)
    m["lines"] = np.where(m["kind"] == 2, 2, 1)
    m["channel"] = rng.integers(0, 2, len(m))
    n = len(m)
    corrupt = (rng.uniform(size=n) < rc["corrupt_share"]) & ~planted[m["ident"].to_numpy()]
    m["corrupt"] = corrupt
    m["corrupt_at"] = rng.integers(0, 1000, n)
    return m, [*names, "sat-ais"]


def _nearest2(
    lat: np.ndarray, lon: np.ndarray, rlat: np.ndarray, rlon: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest and second-nearest receiver of every point and their distances (m).

    Receivers are ranked once per 0.05-degree cell (points of one cell share a ranking); the
    distances are exact for every point.
    """
    ilat = np.rint(np.asarray(lat) * 20).astype(np.int64) + 2000
    ilon = np.rint(np.asarray(lon) * 20).astype(np.int64) + 4000
    cells, inv = np.unique(ilat * 10_000 + ilon, return_inverse=True)
    clat = np.radians((cells // 10_000 - 2000) / 20)
    clon = np.radians((cells % 10_000 - 4000) / 20)
    pts = np.stack([np.cos(clat) * np.cos(clon), np.cos(clat) * np.sin(clon), np.sin(clat)], -1)
    rla, rlo = np.radians(rlat), np.radians(rlon)
    rx = np.stack([np.cos(rla) * np.cos(rlo), np.cos(rla) * np.sin(rlo), np.sin(rla)], -1)
    order = np.argsort(-(pts @ rx.T), axis=1)[:, :2]
    near = order[inv, 0]
    second = order[inv, min(1, len(rx) - 1)]
    d_near = haversine_m(lat, lon, rlat[near], rlon[near])
    d_second = haversine_m(lat, lon, rlat[second], rlon[second])
    return near, d_near, second, d_second


def _satellite(
    ident: np.ndarray,
    t: np.ndarray,
    n_ident: int,
    minutes: Sequence[float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Reports picked up by satellite passes: the first report at or after each pass of a
    vessel's own pass schedule (intervals uniform in `minutes`)."""
    lo, hi = minutes
    n_pass = int(np.ceil((t.max() - t.min()) / (lo * 60))) + 2 if len(t) else 0
    first = t.min() if len(t) else 0
    gaps = rng.uniform(lo * 60, hi * 60, (n_ident, n_pass))
    passes = first - rng.uniform(0, hi * 60, (n_ident, 1)) + np.cumsum(gaps, axis=1)
    span = 1e10
    key = ident * span + t  # sorted by (ident, t)
    q = (np.arange(n_ident)[:, None] * span + passes).ravel()
    idx = np.searchsorted(key, q, side="left")
    ok = idx < len(t)
    idx = idx[ok]
    ok2 = ident[idx] == np.repeat(np.arange(n_ident), n_pass)[ok]
    hit = np.zeros(len(t), bool)
    hit[idx[ok2]] = True
    return hit
