"""The state of one simulation run: scenario settings, zones, ships, identities, planted events."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from mda.errors import MdaError
from mda.simulate import motion
from mda.simulate.scenario import Where, positive

if TYPE_CHECKING:
    import geopandas as gpd


class World:
    """One run: scenario settings, zone layers, ships (knots), transponder identities, events."""

    def __init__(
        self,
        data: dict[str, Any],
        path: Path,
        *,
        seed: int | None,
        vessels: int | None,
        hours: float | None,
    ) -> None:
        self.data, self.path, self.where = data, path, Where(path)
        sc = data["scenario"]
        self.name = sc.get("name", path.stem)
        self.seed = int(seed if seed is not None else sc.get("seed", 0))
        try:
            self.t0 = pd.Timestamp(sc["start"])
        except ValueError:
            raise self.where.error(
                "scenario.start", f"not an ISO 8601 time: {sc['start']!r}"
            ) from None
        self.t0 = self.t0.tz_localize("UTC") if self.t0.tzinfo is None else self.t0
        self.hours = positive(
            hours if hours is not None else sc["hours"], "scenario.hours", self.where
        )
        self.horizon = self.hours * 3600.0
        #: `hours` cut the scenario short: a case that no longer fits is left out, not an error.
        self.shortened = hours is not None and hours < sc["hours"]
        self.left_out: list[str] = []  # those cases, named
        self.n_vessels = vessels
        if vessels is not None and vessels < 0:
            raise MdaError(f"--vessels must be >= 0, got {vessels}")
        rep = data["reporting"]
        for k, v in rep.items():
            positive(v, f"reporting.{k}", self.where)
        self.habits = data["background"]
        self.noisy = self.habits["habits"] == "noisy"
        self.zones = self._zones(sc["zones"])
        self.zone_index = {z: i for i, z in enumerate(self.zones["id"])}
        self.zone_points: dict[str, tuple[float, float]] = {}
        self.ships: list[motion.Knots] = []
        self.idents: list[dict[str, Any]] = []  # transponder identities
        self.darks: list[tuple[int, float, float]] = []  # (ident, t0, t1) silent windows
        # ident, t0, t1, dE, dN, circle radius (m, 0 = a plain jump)
        self.spoofs: list[tuple[int, float, float, float, float, float]] = []
        self.events: list[dict[str, Any]] = []  # planted events (times filled from positions)
        # what must raise no alert: ordinary habits and declared no-alert cases (truth entries)
        self.quiet: list[dict[str, Any]] = []
        self.outages: list[dict[str, Any]] = []  # receiver / whole-feed silences (station, t0, t1)
        self.batches: list[tuple[int, float, float]] = []  # (station, t0, t1): one time stamp
        # true planned positions at every transmitted report (no GPS noise, no spoofing)
        self.plan_lat = self.plan_lon = np.empty(0)
        self.used_mmsi: set[int] = set()
        self.used_names: set[str] = set()

    def _zones(self, layers: list[str]) -> gpd.GeoDataFrame:
        """The scenario's zone layers (bundled names or paths beside the scenario), loaded."""
        from mda.zones import BUNDLED_DIR, ILLUSTRATIVE_DIR, load_zones

        files = []
        for i, layer in enumerate(layers):
            if not isinstance(layer, str):
                raise self.where.error(f"scenario.zones[{i}]", "must be a layer name or path")
            p = Path(layer)
            if not p.suffix:  # a bundled layer, the illustrative ones included
                named = [d / f"{layer}.geojson" for d in (BUNDLED_DIR, ILLUSTRATIVE_DIR)]
                p = next((f for f in named if f.exists()), named[0])
            elif not p.is_absolute():
                p = self.path.parent / p
            if not p.exists():
                raise self.where.error(f"scenario.zones[{i}]", f"no such zone layer {layer!r}")
            files.append(p)
        return load_zones(files).reset_index(drop=True)

    def zone(self, zid: str, key: str, kinds: tuple[str, ...] | None = None) -> int:
        """Row of zone `zid` in `zones`, checked to be one of `kinds` if given."""
        i = self.zone_index.get(zid)
        if i is None:
            raise self.where.error(key, f"unknown zone id {zid!r} in the scenario's zone layers")
        if kinds and self.zones["kind"].iat[i] not in kinds:
            raise self.where.error(
                key, f"{zid!r} is a {self.zones['kind'].iat[i]}, not a {' or '.join(kinds)}"
            )
        return i

    def point(self, value: Any, key: str) -> tuple[float, float]:
        """[lon, lat] or a zone id (a point on the feature as drawn, e.g. a port's quay line)."""
        if isinstance(value, str):
            if value not in self.zone_points:
                g = self.zones["feature_geometry"].iat[self.zone(value, key)]
                p = (
                    shapely.point_on_surface(g)
                    if g.geom_type != "LineString"
                    else (g.interpolate(0.5, normalized=True))
                )
                self.zone_points[value] = (float(p.x), float(p.y))
            return self.zone_points[value]
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        )
        if not ok or not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90):
            raise self.where.error(key, f"expected a zone id or [lon, lat], got {value!r}")
        return float(value[0]), float(value[1])

    def berth(self, zid: str, key: str, rng: np.random.Generator) -> tuple[float, float]:
        """A quay position in a port: a point of the drawn feature, scattered a few hundred m."""
        lon, lat = self.point(zid, key)
        spread = min(800.0, 0.3 * float(self.zones["buffer_m"].iat[self.zone(zid, key)] or 0))
        ang, r = rng.uniform(0, 2 * np.pi), spread * math.sqrt(rng.uniform())
        la, lo = motion.offset(lat, lon, r * math.sin(ang), r * math.cos(ang))
        return float(lo), float(la)

    def lane(self, a: str, b: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The sea lane between two ports (searoute network, berth to berth), cached."""
        pa, pb = self.point(a, key), self.point(b, key)
        if pb < pa:
            lon, lat = motion.sea_lane(pb, pa)
            return lon[::-1], lat[::-1]
        return motion.sea_lane(pa, pb)

    def hush(
        self,
        habit: str,
        ident: int | None,
        t0: float,
        t1: float,
        note: str = "",
        other: int | None = None,
        **kw: Any,
    ) -> None:
        """Record an ordinary habit that must raise no alert (`ident` None: the whole feed)."""
        self.quiet.append(
            {"habit": habit, "ident": ident, "other": other, "t0": t0, "t1": t1, "note": note, **kw}
        )

    def add_ship(self, knots: motion.Knots) -> int:
        """Add a ship's motion; returns its index in `ships`."""
        self.ships.append(knots)
        return len(self.ships) - 1
