"""Zone layers as text: the table `mda zones list` prints."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from mda import schema
from mda.terminal import safe_text
from mda.zones.geometry import zone_area_km2


def format_zone_table(zones: gpd.GeoDataFrame) -> str:
    """Zones grouped by kind: counts per kind, then id, name, buffer and area (km²) per zone."""
    if len(zones) == 0:
        return "no zones"
    text = {c: zones[c].astype(str).map(safe_text) for c in ("id", "name", "kind")}
    zones = zones.assign(**text)  # one table line per zone, whatever its text holds
    area = zone_area_km2(zones)
    counts = zones["kind"].value_counts()
    kinds = [k for k in schema.ZONE_KINDS if k in counts] + sorted(
        k for k in counts.index if k not in schema.ZONE_KINDS
    )
    head = ", ".join(f"{counts[k]} {k}" for k in kinds)
    lines = [f"{len(zones)} zones: {head}"]
    idw = max(12, int(zones["id"].str.len().max()))
    for k in kinds:
        lines.append("")
        lines.append(f"{k} ({counts[k]})")
        lines.append(f"  {'id':<{idw}}  {'name':<44}  {'buffer m':>9}  {'area km²':>10}")
        sel = np.flatnonzero((zones["kind"] == k).to_numpy())
        for i in sel:
            row = zones.iloc[i]
            name = str(row["name"])
            name = name if len(name) <= 44 else name[:43] + "…"
            buf = "" if pd.isna(row["buffer_m"]) else f"{row['buffer_m']:,.0f}"
            lines.append(f"  {row['id']:<{idw}}  {name:<44}  {buf:>9}  {area[i]:>10,.1f}")
    return "\n".join(lines)
