"""Feed health of data seen piece by piece: an ingest's chunks, a store's positions batch by batch.

mda.feed judges the feed by the distinct vessels it heard per time bin, so it needs only the set of
(bin, vessel) pairs, never the fixes. A FeedTally keeps that set as a sorted int64 array (a day of
400 vessels in hour bins is at most 9,600 pairs, 77 kB), so the outages of a whole input or store
are found in memory of vessels x bins, whatever the number of fixes. The outages are the ones
mda.feed.feed_outages finds over all the fixes at once when the tally's `base` is the first fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mda import schema
from mda.config import FeedConfig
from mda.feed import FEED_OUTAGES, Coverage, bin_coverage, coverage, distinct

#: Outages listed by name in summaries (`mda info`, the ingest report): the longest ones.
LONGEST = 5

_MMSI_BITS = 32
_MMSI_MASK = (1 << _MMSI_BITS) - 1


@dataclass
class FeedTally:
    """The (time bin, vessel) pairs of the fixes seen so far (see the module docstring).

    `base` is the epoch second where bin 0 starts: the earliest fix of the first batch added
    unless given (a store knows its first fix before it reads any).
    """

    cfg: FeedConfig = field(default_factory=FeedConfig)
    base: float | None = None
    pairs: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def bin_s(self) -> float:
        return self.cfg.coverage_bin_minutes * 60.0

    def add(self, ts: Any, mmsi: Any) -> None:
        """Count the fixes at times `ts` (UTC; missing times are skipped) of vessels `mmsi`."""
        ns = pd.DatetimeIndex(ts).as_unit("ns").asi8
        ok = ns != np.iinfo(np.int64).min
        if not ok.any():
            return
        t = ns[ok] / 1e9
        if self.base is None:
            self.base = float(t.min())
        b = ((t - self.base) // self.bin_s).astype(np.int64)  # as mda.feed.coverage bins
        new = (b << _MMSI_BITS) + np.asarray(mmsi)[ok].astype(np.int64)
        # a vessel is heard many times a bin: hashing drops the repeats in one pass, then the
        # few pairs left are sorted (a sort of every fix cost a third of a store's ingest)
        self.pairs = distinct(np.concatenate([self.pairs, distinct(pd.unique(new))]))

    @property
    def vessels(self) -> int:
        """How many distinct vessels were heard."""
        return len(distinct(self.pairs & _MMSI_MASK))

    def coverage(self) -> Coverage:
        """The feed's coverage (mda.feed.Coverage) from the pairs, binned exactly as counted."""
        if not len(self.pairs):
            return coverage(np.zeros(0), np.zeros(0, np.uint32), self.cfg)
        b = self.pairs >> _MMSI_BITS
        first = int(b[0])  # pairs are sorted: bin 0 of the coverage is the first bin heard
        return bin_coverage(
            (self.base or 0.0) + first * self.bin_s, b - first, self.pairs & _MMSI_MASK, self.cfg
        )

    def summary(self) -> dict[str, Any]:
        """Bin length, typical vessels per bin, count and hours of outages, the longest ones."""
        cov = self.coverage()
        return {
            "bin_minutes": self.cfg.coverage_bin_minutes,
            "typical_vessels": cov.typical,
            **outage_summary(schema.conform(cov.outages(), FEED_OUTAGES, extra=False)),
        }


def outage_summary(outages: pd.DataFrame, longest: int = LONGEST) -> dict[str, Any]:
    """Count and total hours of a FEED_OUTAGES table, and its `longest` outages (start, end,
    hours; longest first)."""
    top = outages.sort_values(["hours", "start"], ascending=[False, True], kind="stable")
    return {
        "outages": len(outages),
        "outage_hours": round(float(outages["hours"].sum()), 2),
        "longest_outages": [
            {"start": schema.iso_z(s), "end": schema.iso_z(e), "hours": round(float(h), 2)}
            for s, e, h in top[["start", "end", "hours"]].head(longest).itertuples(index=False)
        ],
    }
