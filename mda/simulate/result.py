"""The simulation result: transmitted positions, statics, what was heard, truth, watch list."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mda.errors import MdaError
from mda.fileio import replacing
from mda.schema import iso_z
from mda.simulate import writers

if TYPE_CHECKING:
    import geopandas as gpd


@dataclass
class Simulation:
    """Generated traffic: transmitted positions, statics, received messages, truth, watchlist."""

    scenario: str
    seed: int
    start: pd.Timestamp
    end: pd.Timestamp
    positions: pd.DataFrame  # transmitted positions: schema.POSITIONS + _ident, _t (unix s)
    statics: pd.DataFrame  # one row per transponder identity (schema.VESSELS + kind)
    truth: list[dict[str, Any]]
    must_not_alert: list[dict[str, Any]]  # ordinary habits that must raise no alert
    outages: list[dict[str, Any]]  # receiver and whole-feed silences
    watchlist: pd.DataFrame | None
    messages: pd.DataFrame = field(repr=False)  # what receivers heard, see reception.receive
    #: The scenario's zone layers (mda.zones.load_zones): scan with these to score against truth.
    zones: gpd.GeoDataFrame | None = field(repr=False, default=None)
    stations: list[str] = field(repr=False, default_factory=list)
    #: Cases of the scenario left out because `hours` cut the run short before they end.
    left_out: list[str] = field(default_factory=list)
    _payloads: dict[tuple[int, int], tuple[Any, ...]] = field(repr=False, default_factory=dict)

    def write(self, path: str | Path, csv: str | None = None) -> Path:
        """Write the received traffic as tagged NMEA, or DMA/NOAA CSV (`.gz` suffix -> gzip)."""
        path = Path(path)
        if csv not in (None, "dma", "noaa"):
            raise MdaError(f"{path}: unknown CSV layout {csv!r} (dma or noaa)")
        opener = gzip.open if path.suffix == ".gz" else open
        with replacing(path, what="traffic") as (tmp,), opener(tmp, "wb") as fh:
            if csv is None:
                for chunk in writers.nmea_chunks(self):
                    fh.write(chunk)
            else:
                fh.write(writers.csv_text(self, csv).encode("utf-8"))
        return path

    def write_truth(self, path: str | Path) -> Path:
        """Write the truth JSON; the watch list (if any) goes to `watchlist.csv` beside it."""
        path = Path(path)
        doc = {
            "scenario": self.scenario,
            "seed": self.seed,
            "start": iso_z(self.start),
            "end": iso_z(self.end),
            "events": self.truth,
            "must_not_alert": self.must_not_alert,
            "outages": self.outages,
        }
        files = [path] if self.watchlist is None else [path, path.with_name("watchlist.csv")]
        with replacing(*files, what="truth") as temps:
            temps[0].write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
            if self.watchlist is not None:
                self.watchlist.to_csv(temps[1], index=False)
        return path

    def summary(self) -> str:
        """Vessels, positions, sentences and planted events by type, one line each."""
        heard = self.messages
        n_sent = int(heard["lines"].sum())
        by_type = Counter(e["type"] for e in self.truth)
        habits = Counter(e["habit"] for e in self.must_not_alert)
        lines = [
            f"scenario {self.scenario} (seed {self.seed}): "
            f"{iso_z(self.start)} .. {iso_z(self.end)}",
            f"vessels: {self.statics['mmsi'].nunique():,} MMSIs",
            f"positions: {len(self.positions):,} transmitted, "
            f"{int((heard['kind'] == 0).sum()):,} received (with duplicates)",
            f"sentences: {n_sent:,} ({int(heard['corrupt'].sum()):,} corrupted)",
            "events: " + ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())),
        ]
        if habits or self.outages:  # a clean scenario plants no habits
            lines.append(
                "must not alert: "
                + ", ".join(f"{k} {v}" for k, v in sorted(habits.items()))
                + (f"; {len(self.outages)} outages" if self.outages else "")
            )
        if self.left_out:
            lines.append("left out (end after the shortened run): " + ", ".join(self.left_out))
        return "\n".join(lines)
