"""Short text for AIS ship-type codes, and the groups the map colours latest positions by."""

from __future__ import annotations

import numpy as np
import pandas as pd

_SHIP_TYPES = [
    (20, 29, "Wing in ground"),
    (30, 30, "Fishing"),
    (31, 32, "Towing"),
    (33, 33, "Dredging"),
    (34, 34, "Diving ops"),
    (35, 35, "Military ops"),
    (36, 36, "Sailing"),
    (37, 37, "Pleasure craft"),
    (40, 49, "High-speed craft"),
    (50, 50, "Pilot"),
    (51, 51, "Search and rescue"),
    (52, 52, "Tug"),
    (53, 53, "Port tender"),
    (55, 55, "Law enforcement"),
    (58, 58, "Medical transport"),
    (60, 69, "Passenger"),
    (70, 79, "Cargo"),
    (80, 89, "Tanker"),
    (90, 99, "Other"),
]


def ship_type_text(codes: pd.Series) -> pd.Series:
    """AIS ship-type code -> short category ('' when unknown)."""
    c = pd.to_numeric(codes, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(c), "", dtype=object)
    for lo, hi, name in _SHIP_TYPES:
        out[(c >= lo) & (c <= hi)] = name
    return pd.Series(out, index=codes.index)


#: Map groups of ship-type texts (the legend's order; "" = no static data heard).
SHIP_GROUPS = {
    "Cargo": ("Cargo",),
    "Tanker": ("Tanker",),
    "Passenger": ("Passenger",),
    "Fishing": ("Fishing",),
    "Service": (
        "Tug",
        "Pilot",
        "Towing",
        "Dredging",
        "Port tender",
        "Search and rescue",
        "Diving ops",
        "Medical transport",
    ),
    "High-speed craft": ("High-speed craft",),
    "Pleasure & sailing": ("Pleasure craft", "Sailing"),
    "Military & law enforcement": ("Military ops", "Law enforcement"),
    "Other": ("Other", "Wing in ground"),
    "Unknown type": ("",),
}
_GROUP_OF = {text: group for group, texts in SHIP_GROUPS.items() for text in texts}


def ship_group(texts: list[str]) -> list[str]:
    """Ship-type text (ship_type_text) -> its map group."""
    return [_GROUP_OF.get(t, "Other") for t in texts]
