"""Transponder reporting: when every identity sends position and static reports, and where
it says it is (silent windows of dark vessels and spoofed positions included)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mda import schema
from mda.ais import NavStatus
from mda.simulate import habits, motion
from mda.simulate.world import World

_CIRCLE_S = 1800.0  # a spoofed circle takes this long per turn


def transmissions(world: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every position and static report sent by every identity (vectorised over all)."""
    rep = world.data["reporting"]
    iv = pd.DataFrame(world.idents)
    ends = np.array([k.t[-1] for k in world.ships])
    t_end = np.minimum(iv["t_end"].to_numpy(), ends[iv["ship"].to_numpy()])
    t_end = np.minimum(t_end, world.horizon)
    cls_b = (iv["ais_class"] == "B").to_numpy()
    cad = np.where(cls_b, rep["class_b_cadence_s"], rep["cadence_s"]).astype(np.int64)
    start = np.ceil(iv["t_start"].to_numpy()).astype(np.int64) + iv["phase"].to_numpy() % cad
    ident, k = _grid(start, t_end, cad)
    t = start[ident] + k * cad[ident]
    # statics: every static_interval_s from a random phase
    sint = rep["static_interval_s"]
    s_start = np.ceil(iv["t_start"].to_numpy()).astype(np.int64) + (
        iv["phase"].to_numpy() * 7 % sint
    )
    s_ident, s_k = _grid(s_start, t_end, np.full(len(iv), sint))
    s_t = s_start[s_ident] + s_k * sint
    # silent windows
    keep = np.ones(len(t), bool)
    s_keep = np.ones(len(s_t), bool)
    for i, d0, d1 in world.darks:
        keep &= ~((ident == i) & (t >= d0) & (t < d1))
        s_keep &= ~((s_ident == i) & (s_t >= d0) & (s_t < d1))
    ident, k, t = ident[keep], k[keep], t[keep]
    s_ident, s_t = s_ident[s_keep], s_t[s_keep]
    ship = iv["ship"].to_numpy()
    pos = motion.evaluate(world.ships, ship[ident], t.astype(float))
    # still ships report less often (Class A at anchor / moored every stationary_cadence_s)
    step = max(1, rep["stationary_cadence_s"] // rep["cadence_s"])
    still = (pos["sog"] < 0.5) & ~cls_b[ident]
    keep = ~still | (k % step == 0)
    ident, t = ident[keep], t[keep]
    pos = {f: v[keep] for f, v in pos.items()}
    plan_lat, plan_lon = pos["lat"].copy(), pos["lon"].copy()
    habits.dress(world, ident, pos)
    for i, s0, s1, de, dn, radius in world.spoofs:
        sel = (ident == i) & (t >= s0) & (t < s1)
        turn = 2 * np.pi * (t[sel] - s0) / _CIRCLE_S  # the circle: one turn per _CIRCLE_S
        de, dn = de + radius * np.sin(turn), dn + radius * (np.cos(turn) - 1)
        pos["lat"][sel], pos["lon"][sel] = motion.offset(pos["lat"][sel], pos["lon"][sel], de, dn)
    t_unix = int(world.t0.timestamp()) + t
    positions = pd.DataFrame(
        {
            "mmsi": iv["mmsi"].to_numpy()[ident],
            "ts": pd.to_datetime(t_unix, unit="s", utc=True),
            "lat": pos["lat"],
            "lon": pos["lon"],
            "sog": pos["sog"],
            "cog": pos["cog"],
            "heading": pos["heading"],
            "nav_status": np.where(cls_b[ident], NavStatus.NOT_DEFINED, pos["nav"]),
            "msg_type": np.where(cls_b[ident], 18, 1),
            "source": f"simulate:{world.name}",
            "station": "",
        }
    )
    positions = schema.conform(positions, schema.POSITIONS)
    positions["_ident"] = ident
    positions["_t"] = t_unix
    s_pos = motion.evaluate(world.ships, ship[s_ident], s_t.astype(float))
    statics = pd.DataFrame(
        {
            "_ident": s_ident,
            "_t": int(world.t0.timestamp()) + s_t,
            "lat": s_pos["lat"],
            "lon": s_pos["lon"],
        }
    )
    order = np.lexsort((positions["_t"].to_numpy(), ident))
    world.plan_lat, world.plan_lon = plan_lat[order], plan_lon[order]
    return positions.iloc[order].reset_index(drop=True), statics


def _grid(start: np.ndarray, end: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, k) for every k with start + k*step < end, over all owners at once."""
    n = np.maximum(0, np.ceil((end - start) / step)).astype(np.int64)
    owner = np.repeat(np.arange(len(n)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return owner, k
