"""What every detector receives and how it builds its alerts table.

A detector is a pure function ``detect(ctx, cfg) -> alerts`` (schema.ALERTS). The context bundles
the tracks, the zones, vessel static data and the zone membership of every track point, computed
once per scan and shared by all detectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.runs import seconds, speed
from mda.feed import Coverage, coverage
from mda.geo import per_cell

if TYPE_CHECKING:
    import geopandas as gpd

    from mda.context import WorldContext
    from mda.tracks import Tracks


#: Zone kinds that are harbour: stopping, mooring and switching AIS off there is ordinary.
HARBOUR_KINDS = ("port", "anchorage")
#: Navigational statuses of a vessel made fast or stuck: moored (5) and aground (6).
STILL_STATUSES = (5, 6)


@dataclass
class Context:
    """Inputs of one scan, shared read-only by all detectors."""

    tracks: Tracks
    zones: gpd.GeoDataFrame
    vessels: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.VESSELS))
    vessel_history: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.VESSELS))
    watchlist: pd.DataFrame | None = None
    config: Config = field(default_factory=Config)
    #: World ports and coastline (mda.context.WorldContext); None leaves only the zone layers.
    world: WorldContext | None = None
    #: (ts, mmsi) of fixes the feed gave beyond the tracks (the scheduled scan's span before its
    #: window, mda.scan): counted in the coverage, as the feed was heard then too.
    feed: pd.DataFrame | None = None

    @cached_property
    def membership(self) -> pd.DataFrame:
        """(pos, zone) pairs: row position in tracks.points inside row position in zones."""
        from mda.zones import classify

        return classify(self.tracks.points, self.zones)

    def member_in(self, kinds: tuple[str, ...] | list[str]) -> np.ndarray:
        """Boolean per membership pair: its zone is of one of these kinds."""
        zone_ok = np.isin(self.zones["kind"].to_numpy(), list(kinds))  # per zone, not per pair
        return zone_ok[self.membership["zone"].to_numpy()]

    def in_kinds(self, kinds: tuple[str, ...] | list[str]) -> np.ndarray:
        """Boolean per track point: inside any zone of these kinds."""
        hit = np.zeros(len(self.tracks.points), dtype=bool)
        hit[self.membership["pos"].to_numpy()[self.member_in(kinds)]] = True
        return hit

    @cached_property
    def coverage(self) -> Coverage:
        """When the feed as a whole was heard (mda.feed), over the tracks and `feed`: outages
        are not vessel behaviour."""
        heard = self.tracks.points[["ts", "mmsi"]]
        if self.feed is not None and len(self.feed):
            heard = pd.concat([self.feed[["ts", "mmsi"]], heard])
        return coverage(seconds(heard["ts"]), heard["mmsi"].to_numpy(), self.config.feed)

    @cached_property
    def anchorages(self) -> pd.Series:
        """Anchorages learned from this scan's data (mda.detect.anchorages.learn)."""
        from mda.detect.anchorages import learn

        return learn(self.tracks.points, speed(self.tracks.points), self.config)

    def anchorage_vessels(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Per place: vessels of the learned anchorage it lies in, 0 outside every one."""
        from mda.detect.anchorages import vessels_at

        return vessels_at(self.anchorages, lat, lon, self.config)

    @cached_property
    def _harbour_known(self) -> np.ndarray:
        """Per track point: -1 not judged yet, else 0/1 (harbour_at fills it on demand)."""
        return np.full(len(self.tracks.points), -1, dtype=np.int8)

    def harbour_at(self, idx: np.ndarray) -> np.ndarray:
        """Boolean per track point of `idx` (row positions): in a port or anchorage of the zone
        layers, within a world port's harbour radius, in an anchorage learned from the data, or
        moored (status 5) / aground (6) while barely moving. Harbour life (berths, waiting at
        anchor, transponders switched off) is not at-sea behaviour, whatever the user's layers
        cover. Judged only for the points asked about, once each (the world look-up is the
        costly part of a scan when done for every fix)."""
        idx = np.asarray(idx, dtype=np.int64)
        known = self._harbour_known
        todo = np.unique(idx[known[idx] < 0])
        if len(todo):
            pts = self.tracks.points
            lat, lon = pts["lat"].to_numpy()[todo], pts["lon"].to_numpy()[todo]
            status = pts["nav_status"].to_numpy(dtype="float64", na_value=np.nan)[todo]
            sog = pts["sog"].to_numpy(dtype="float64", na_value=np.nan)[todo]
            hit = np.isin(status, STILL_STATUSES) & ~(sog > self.config.anchoring.status_max_kn)
            if len(self.zones):
                hit |= self.in_kinds(HARBOUR_KINDS)[todo]
            if self.world is not None:  # once per ~10 m cell: still ships repeat their fix
                hit |= per_cell(lat, lon, 1e-4, self.world.near_port)
            hit |= self.anchorage_vessels(lat, lon) > 0
            known[todo] = hit
        return known[idx].astype(bool)

    def offshore(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Per place: off the coastline and out of the world's harbours (open water, not a bay
        or a river mouth), by the world context; every place when there is none. Asked for the
        few places a detector judges (a stay's centre, a silence's ends), not for every fix."""
        if self.world is None:
            return np.ones(len(lat), dtype=bool)
        return self.world.at_sea(lat, lon)

    @cached_property
    def names(self) -> pd.Series:
        """Latest known vessel name by MMSI."""
        v = self.vessels
        return (
            pd.Series(v["name"].to_numpy(), index=v["mmsi"].to_numpy())
            if len(v)
            else (pd.Series(dtype="string"))
        )


def make_alerts(rows: pd.DataFrame, ctx: Context, thresholds: dict[str, Any]) -> pd.DataFrame:
    """Turn a detector's rows into the alerts table: fill names, zone fields and stable ids.

    `rows` needs type, severity, mmsi, start, end, lat, lon and evidence (one dict per row);
    other_mmsi and zone_id are optional. Zone name and kind are looked up from ctx.zones.
    """
    if rows.empty:
        return schema.empty(schema.ALERTS)
    rows = rows.reset_index(drop=True).copy()
    if "other_mmsi" not in rows:
        rows["other_mmsi"] = pd.NA
    if "zone_id" not in rows:
        rows["zone_id"] = pd.NA
    zones = ctx.zones.set_index("id") if len(ctx.zones) else None
    for col in ("name", "kind"):
        if zones is not None:
            rows[f"zone_{col}"] = rows["zone_id"].map(zones[col]).astype("string")
        else:
            rows[f"zone_{col}"] = pd.Series(pd.NA, index=rows.index, dtype="string")
    rows["vessel_name"] = rows["mmsi"].map(ctx.names).astype("string")
    rows["thresholds"] = [dict(thresholds)] * len(rows)
    rows["id"] = [
        schema.alert_id(
            t,
            m,
            o if pd.notna(o) else None,
            z if pd.notna(z) else None,
            s,
            schema.alert_subtype(t, e),
        )
        for t, m, o, z, s, e in zip(
            rows["type"],
            rows["mmsi"],
            rows["other_mmsi"],
            rows["zone_id"],
            rows["start"],
            rows["evidence"],
            strict=True,
        )
    ]
    return schema.conform(rows, schema.ALERTS, extra=False)
