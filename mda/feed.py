"""Feed health: when the feed as a whole was heard, and when it was not.

A silence of every vessel at once is the receiver, the network or the archive (a station down, a
file that ends, an extract holding a few hours of a day, two data sets years apart), never vessel
behaviour. The timeline is cut into bins of ``feed.coverage_bin_minutes``; a bin is **down** when
the feed hears no vessel in it, or fewer than ``outage_fraction`` of the vessels of its median
bin (when that median reaches ``outage_min_vessels``: a small feed cannot show a partial outage).
Detectors measure silences over the bins that were up only, and the down bins are reported as
outages: facts about the feed, not about any vessel. A down run of ``hole_hours`` or more is a
data hole (a feed that stopped, a file that ends, two data sets years apart): nothing is measured
across it, as what lies beyond was heard by another feed or much later.

One receiver going down while the others are heard is not a feed outage, but it silences at once
every vessel only it hears: ``shared_silences`` finds silences that at least
``shared_silence_vessels`` vessels begin and end together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mda import schema
from mda.config import FeedConfig
from mda.schema import TS, seconds


@dataclass(frozen=True)
class Coverage:
    """Which bins of the timeline the feed was heard in (see the module docstring)."""

    base: float  # epoch seconds where bin 0 starts
    bin_s: float
    heard: np.ndarray  # distinct vessels heard per bin
    up: np.ndarray  # bool per bin
    typical: float  # median vessels per bin with traffic
    hole_bins: int = 1 << 62  # down runs this long are data holes
    #: Last fix (epoch seconds) of each bin, NaN when empty or unknown: a hole starts at the feed's
    #: last fix before it, not at a bin edge.
    last_fix: np.ndarray | None = None

    def _heard(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Seconds between each t0 and t1 in bins that were up."""
        if not len(self.up):
            return t1 - t0
        done = np.r_[0.0, np.cumsum(self.up * self.bin_s)]
        n = len(self.up)

        def upto(x: np.ndarray) -> np.ndarray:
            k = np.clip(((x - self.base) // self.bin_s).astype(np.int64), 0, n - 1)
            return done[k] + self.up[k] * np.clip(x - self.base - k * self.bin_s, 0.0, self.bin_s)

        return upto(t1) - upto(t0)

    def _holes(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and end (epoch seconds) of the data holes: down runs of at least hole_bins."""
        down = ~self.up
        edges = np.diff(np.r_[0, down.astype(np.int8), 0])
        k0, k1 = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = k1 - k0 >= self.hole_bins
        k0, k1 = k0[long], k1[long]
        start = self.base + k0 * self.bin_s
        if self.last_fix is not None:  # the feed's last fix before the hole, where known
            before = self.last_fix[np.maximum(k0 - 1, 0)]
            start = np.where((k0 > 0) & np.isfinite(before), before, start)
        return start, self.base + k1 * self.bin_s

    @property
    def end(self) -> float:
        """The feed's last fix (epoch seconds), NaN when unknown: where the data end."""
        known = self.last_fix[np.isfinite(self.last_fix)] if self.last_fix is not None else []
        return float(known[-1]) if len(known) else np.nan

    def up_at(self, t: float) -> bool:
        """Whether the feed was heard in the bin holding `t` (epoch seconds)."""
        k = int((t - self.base) // self.bin_s) if np.isfinite(t) else -1
        return bool(0 <= k < len(self.up) and self.up[k])

    def heard_seconds(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Seconds between each t0 and t1 (epoch seconds) during which the feed was heard."""
        return self._heard(np.asarray(t0, dtype="float64"), np.asarray(t1, dtype="float64"))

    def heard_from(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Like heard_seconds, but stopping at the first data hole after t0: how long the feed
        was heard going on from t0 (what lies beyond a hole is another data set)."""
        t0, t1 = np.asarray(t0, dtype="float64"), np.asarray(t1, dtype="float64")
        h0, _ = self._holes()
        if len(h0):
            nxt = np.searchsorted(h0, t0, "left")
            stop = np.where(nxt < len(h0), h0[np.minimum(nxt, len(h0) - 1)], np.inf)
            t1 = np.maximum(np.minimum(t1, stop), t0)
        return self._heard(t0, t1)

    def heard_until(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Like heard_seconds, but starting at the last data hole before t1: how long the feed
        had been heard up to t1."""
        t0, t1 = np.asarray(t0, dtype="float64"), np.asarray(t1, dtype="float64")
        _, h1 = self._holes()
        if len(h1):
            prv = np.searchsorted(h1, t1, "right") - 1
            since = np.where(prv >= 0, h1[np.maximum(prv, 0)], -np.inf)
            t0 = np.minimum(np.maximum(t0, since), t1)
        return self._heard(t0, t1)

    def spans_hole(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """True where a data hole lies between t0 and t1 (no stay or visit bridges one)."""
        h0, _ = self._holes()
        t0, t1 = np.asarray(t0, dtype="float64"), np.asarray(t1, dtype="float64")
        if not len(h0):
            return np.zeros(t0.shape, dtype=bool)
        nxt = np.searchsorted(h0, t0, "left")
        return (nxt < len(h0)) & (h0[np.minimum(nxt, len(h0) - 1)] < t1)

    def outages(self) -> pd.DataFrame:
        """One row per run of down bins (FEED_OUTAGES): start, end (UTC), hours, vessels heard
        (mean per bin) and the feed's typical vessels per bin."""
        down = ~self.up
        edges = np.diff(np.r_[0, down.astype(np.int8), 0])
        k0, k1 = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        start = self.base + k0 * self.bin_s
        end = self.base + k1 * self.bin_s
        csum = np.r_[0, np.cumsum(self.heard)]
        return pd.DataFrame(
            {
                "start": pd.to_datetime(start, unit="s", utc=True),
                "end": pd.to_datetime(end, unit="s", utc=True),
                "hours": (end - start) / 3600.0,
                "vessels_heard": (csum[k1] - csum[k0]) / np.maximum(k1 - k0, 1),
                "typical_vessels": self.typical,
            }
        )


#: Columns of a feed outages table.
FEED_OUTAGES: dict[str, str] = {
    "start": TS,
    "end": TS,
    "hours": "float64",
    "vessels_heard": "float64",
    "typical_vessels": "float64",
}


def feed_outages(points: pd.DataFrame, cfg: FeedConfig) -> pd.DataFrame:
    """The outages (FEED_OUTAGES) of the feed that gave these positions, binned from their first
    fix as the ingest and store tallies bin them (mda.feed_tally)."""
    t = seconds(points["ts"])
    cov = coverage(t, points["mmsi"].to_numpy(), cfg, base=float(t.min()) if len(t) else None)
    return schema.conform(cov.outages(), FEED_OUTAGES, extra=False)


def shared_silences(start: np.ndarray, end: np.ndarray, cfg: FeedConfig) -> np.ndarray:
    """Per silence (epoch seconds of its last and first fix): True when at least
    shared_silence_vessels silences, itself included, start and end within
    shared_silence_minutes of it. A receiver that goes down and up silences every vessel only it
    hears at once, while the rest of the feed is heard; vessels going dark do not coordinate."""
    n = len(start)
    if n < cfg.shared_silence_vessels:
        return np.zeros(n, dtype=bool)
    w = cfg.shared_silence_minutes * 60.0
    order = np.argsort(start, kind="stable")
    s, e = np.asarray(start, float)[order], np.asarray(end, float)[order]
    lo, hi = np.searchsorted(s, s - w, "left"), np.searchsorted(s, s + w, "right")
    from mda.detect.runs import expand  # here: mda.detect imports this module

    owner, idx = expand(lo, hi)
    together = np.abs(e[idx] - e[owner]) <= w
    count = np.bincount(owner[together], minlength=n)
    out = np.zeros(n, dtype=bool)
    out[order] = count >= cfg.shared_silence_vessels
    return out


def coverage(
    t: np.ndarray, mmsi: np.ndarray, cfg: FeedConfig, *, base: float | None = None
) -> Coverage:
    """The feed's coverage from every fix's time (epoch seconds) and vessel.

    Bins start at multiples of the bin length since the epoch unless `base` says where bin 0
    starts: the scheduled scan, which sees the feed piece by piece, then bins it exactly as one
    scan over everything does."""
    bin_s = cfg.coverage_bin_minutes * 60.0
    if not len(t):
        return Coverage(0.0, bin_s, np.zeros(0, np.int64), np.zeros(0, bool), 0.0)
    if base is None:
        base = float(np.floor(np.min(t) / bin_s) * bin_s)
    b = ((t - base) // bin_s).astype(np.int64)
    cov = bin_coverage(base, b, mmsi, cfg)
    last = np.full(len(cov.up), -np.inf)
    np.maximum.at(last, b, t)
    return replace(cov, last_fix=np.where(np.isfinite(last), last, np.nan))


def bin_coverage(base: float, b: np.ndarray, mmsi: np.ndarray, cfg: FeedConfig) -> Coverage:
    """The feed's coverage from every fix's bin (0, 1, ... from `base`, epoch seconds) and
    vessel: what `coverage` counts, for callers that binned the fixes themselves."""
    bin_s = cfg.coverage_bin_minutes * 60.0
    pairs = distinct(b * (1 << 32) + np.asarray(mmsi, dtype=np.int64))  # (bin, vessel)
    heard = np.bincount(pairs >> 32, minlength=int(b.max()) + 1)
    typical = float(np.median(heard[heard > 0]))
    up = heard > 0
    if typical >= cfg.outage_min_vessels:
        up &= heard >= cfg.outage_fraction * typical
    hole_bins = max(int(np.ceil(cfg.hole_hours * 3600.0 / bin_s)), 1)
    return Coverage(base, bin_s, heard, up, typical, hole_bins)


def distinct(x: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array. A sort, not np.unique: numpy 2.4 hashes
    integers first, and when most values differ that is 60x slower (1.5 s against 0.02 s for a
    million; 15 s for the 6 million (hour, vessel) pairs of a month of 10,000 vessels)."""
    s = np.sort(x)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s
