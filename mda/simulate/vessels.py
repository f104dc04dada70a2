"""Vessel kinds and transponder identities: MMSI, name, call sign, IMO, dimensions, class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from mda.simulate.world import World

#: Vessel kinds: speed range (kn), AIS ship type, AIS class, length range (m), DMA type text.
KINDS: dict[str, dict[str, Any]] = {
    "container": {"kn": (16.0, 22.0), "type": 70, "cls": "A", "len": (200, 400), "dma": "Cargo"},
    "tanker": {"kn": (11.0, 14.0), "type": 80, "cls": "A", "len": (120, 330), "dma": "Tanker"},
    "bulk": {"kn": (10.0, 13.0), "type": 70, "cls": "A", "len": (150, 300), "dma": "Cargo"},
    "ferry": {"kn": (15.0, 22.0), "type": 60, "cls": "A", "len": (120, 220), "dma": "Passenger"},
    "fishing": {"kn": (7.0, 10.0), "type": 30, "cls": "B", "len": (12, 30), "dma": "Fishing"},
    "pleasure": {"kn": (6.0, 12.0), "type": 37, "cls": "B", "len": (8, 20), "dma": "Pleasure"},
}
_NAME_A = (
    "SEA",
    "OCEAN",
    "GRAND",
    "STAR",
    "NORTH",
    "PACIFIC",
    "GOLDEN",
    "BLUE",
    "HAN",
    "BALTIC",
    "ORIENT",
    "SILVER",
    "POLAR",
)
_NAME_B = (
    "PIONEER",
    "SPIRIT",
    "FORTUNE",
    "HARMONY",
    "VOYAGER",
    "GLORY",
    "EAGLE",
    "PEARL",
    "DREAM",
    "TRADER",
    "WAVE",
    "CREST",
)
DEFAULT_FLAGS = (440, 441, 351, 352, 636, 538, 477, 215, 248, 256, 209, 311, 563, 566)


def _imo(n6: int) -> int:
    """A 7-digit IMO number with a valid check digit from its first six digits."""
    digits = [int(d) for d in f"{n6:06d}"]
    check = sum(d * w for d, w in zip(digits, range(7, 1, -1), strict=True)) % 10
    return n6 * 10 + check


def new_ident(
    world: World,
    ship: int,
    spec: dict[str, Any],
    rng: np.random.Generator,
    kind: str | None = None,
    flags: Sequence[int] = DEFAULT_FLAGS,
    t_start: float = 0.0,
    t_end: float | None = None,
    key: str = "",
) -> int:
    """Register a transponder identity with generated (or given) static data."""
    kind = spec.get("kind", kind or "bulk")
    if kind not in KINDS:
        raise world.where.error(f"{key}.kind", f"unknown kind {kind!r} ({', '.join(KINDS)})")
    k = KINDS[kind]
    mmsi = spec.get("mmsi")
    if mmsi is None:
        flag = spec.get("flag", int(rng.choice(flags)))
        while mmsi is None or mmsi in world.used_mmsi:
            mmsi = flag * 1_000_000 + int(rng.integers(100_000, 1_000_000))
    elif not (201_000_000 <= mmsi <= 775_999_999) or mmsi in world.used_mmsi:
        raise world.where.error(f"{key}.mmsi", f"{mmsi} is not a free ship-station MMSI")
    world.used_mmsi.add(mmsi)
    name = spec.get("name")
    while name is None or name in world.used_names:
        name = f"{rng.choice(_NAME_A)} {rng.choice(_NAME_B)}"
        if name in world.used_names:
            name = f"{name} {int(rng.integers(2, 99))}"
    world.used_names.add(name)
    length = float(rng.integers(*k["len"]))
    width = float(max(4, round(length / rng.uniform(5.5, 7.5))))
    bow = round(length * 0.8)
    imo = spec.get("imo") or _imo(int(rng.integers(900_000, 999_999)))
    callsign = spec.get("callsign") or "".join(
        rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"), 5)
    )
    ident = {
        "ship": ship,
        "mmsi": int(mmsi),
        "name": name.upper()[:20],
        "callsign": callsign.upper()[:7],
        "imo": int(imo) if k["cls"] == "A" else None,
        "ship_type": k["type"],
        "kind": kind,
        "ais_class": k["cls"],
        "length": length,
        "width": width,
        "to_bow": bow,
        "to_stern": int(length - bow),
        "to_port": int(width // 2),
        "to_starboard": int(width - width // 2),
        "draught": round(float(rng.uniform(0.3, 0.7) * length / 20), 1)
        if k["cls"] == "A"
        else None,
        "destination": spec.get("destination", ""),
        "t_start": float(t_start),
        "t_end": float(world.horizon if t_end is None else t_end),
        "phase": int(rng.integers(0, 60)),
        "planted": False,
        "watchlist": bool(spec.get("watchlist", False)),
        "status": -1,  # a navigational status broadcast whatever the ship does (-1: none)
        "speed": float(rng.uniform(*k["kn"])),
    }
    world.idents.append(ident)
    return len(world.idents) - 1
