"""The simulation result: transmitted positions, statics, what was heard, truth, watch list."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mda.errors import MdaError
from mda.schema import iso_z
from mda.simulate import writers


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
    watchlist: pd.DataFrame | None
    messages: pd.DataFrame = field(repr=False)  # what receivers heard, see reception.receive
    stations: list[str] = field(repr=False, default_factory=list)
    _payloads: dict = field(repr=False, default_factory=dict)

    def write(self, path: str | Path, csv: str | None = None) -> Path:
        """Write the received traffic as tagged NMEA, or DMA/NOAA CSV (`.gz` suffix -> gzip)."""
        path = Path(path)
        if csv not in (None, "dma", "noaa"):
            raise MdaError(f"{path}: unknown CSV layout {csv!r} (dma or noaa)")
        path.parent.mkdir(parents=True, exist_ok=True)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "wb") as fh:
            if csv is None:
                for chunk in writers.nmea_chunks(self):
                    fh.write(chunk)
            else:
                fh.write(writers.csv_text(self, csv).encode("utf-8"))
        return path

    def write_truth(self, path: str | Path) -> Path:
        """Write the truth JSON; the watch list (if any) goes to `watchlist.csv` beside it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "scenario": self.scenario,
            "seed": self.seed,
            "start": iso_z(self.start),
            "end": iso_z(self.end),
            "events": self.truth,
        }
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        if self.watchlist is not None:
            self.watchlist.to_csv(path.with_name("watchlist.csv"), index=False)
        return path

    def summary(self) -> str:
        """Vessels, positions, sentences and planted events by type, one line each."""
        heard = self.messages
        n_sent = int(heard["lines"].sum())
        by_type = Counter(e["type"] for e in self.truth)
        lines = [
            f"scenario {self.scenario} (seed {self.seed}): "
            f"{iso_z(self.start)} .. {iso_z(self.end)}",
            f"vessels: {self.statics['mmsi'].nunique():,} MMSIs",
            f"positions: {len(self.positions):,} transmitted, "
            f"{int((heard['kind'] == 0).sum()):,} received (with duplicates)",
            f"sentences: {n_sent:,} ({int(heard['corrupt'].sum()):,} corrupted)",
            "events: " + ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())),
        ]
        return "\n".join(lines)
