"""The Dask engine: the local engine's functions mapped onto a Dask cluster.

Ingest: every input file, and every byte range of a large NMEA file (cut at a line that begins
a message, so no multi-part message is split), is decoded by its own task with the same
readers (mda.sources.iter_ais); the driver stores the decoded chunks in input order with the
store's own dedupe and commit (Store.ingest with this engine's `decode`), so the catalog, the
cross-station dedupe and the skipping of inputs ingested before are exactly the local engine's,
while the next ranges decode.

Scan: the driver builds the window's tracks (a feed burst is judged over all vessels) and the
feed-wide facts every detector shares: the coverage (when the feed was heard) and the learned
anchorages. Detector families that judge each vessel on its own track (PER_VESSEL) then run
partition-local: the points are split by MMSI hash, each partition with those shared facts,
the zone layers scattered once to every worker and the world context built once per worker.
The families that compare vessels (silences shared by a receiver, dark-now judged by the
vessels heard around, encounters between two vessels, identity conflicts judged over the
window) run on the driver over the whole window at the same time, so no pair or neighbour
straddling two partitions is missed. Alerts are merged in detect_all's order; the scan's
status, ids and watermark are then committed by mda.scan exactly as for the local engine.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

from mda import schema
from mda.errors import MdaError
from mda.sources.base import AisData, IngestReport

#: Detector families that judge each vessel on its own track (given the feed-wide coverage and
#: learned anchorages): mapped over MMSI partitions. The others compare vessels.
PER_VESSEL = ("dwell", "anchor_drag", "position_jump", "zones", "watchlist")

#: Settings of our LocalCluster's workers. The nanny's default MALLOC_TRIM_THRESHOLD_ turns off
#: glibc's adaptive mmap threshold, so every large array is a fresh mmap: decoding took 1.5-1.9x
#: the CPU seconds it takes in this process. Dask's statistical profiler (every 10 ms) and GIL
#: monitor (every 1 ms) are off too: nobody reads them.
QUIET_WORKERS = {
    "distributed.nanny.pre-spawn-environ": {
        "OMP_NUM_THREADS": 1,
        "MKL_NUM_THREADS": 1,
        "OPENBLAS_NUM_THREADS": 1,
    },
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.gil.enabled": False,
}

#: NMEA files larger than this are decoded by several tasks, one per byte range of about it.
CHUNK_BYTES = 16 * 1024 * 1024


class DaskEngine:
    """Ingest and scan on a Dask cluster (see the module docstring)."""

    def __init__(self, client: Client, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.client = client
        #: NMEA files larger than this are decoded by several tasks (see byte_ranges).
        self.chunk_bytes = chunk_bytes
        self._scattered: dict[int, Any] = {}

    @classmethod
    @contextlib.contextmanager
    def open(cls, *, workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
        """A LocalCluster of `workers` single-threaded processes (default: one per core), or
        a client of the cluster at `scheduler`, for the duration."""
        if workers is not None and workers < 1:
            raise MdaError(f"--workers must be 1 or more, not {workers}")
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout="10s")
            except OSError as e:
                raise MdaError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
            with client:
                yield cls(client)
            return
        n = workers or os.cpu_count() or 1
        logging.getLogger("distributed").setLevel(logging.ERROR)  # its chatter is not ours
        with (
            dask.config.set(QUIET_WORKERS),
            LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: several clusters may run
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield cls(client)

    # -- ingest -----------------------------------------------------------------------------

    def ingest(
        self, store: str | os.PathLike[str], inputs: Any, *, start_time: Any = None, wait: float = 0
    ) -> IngestReport:
        """Store.ingest with the decoding spread over the cluster (see the module docstring)."""
        from mda.store import Store

        st = Store(store)
        return st.ingest(inputs, start_time=start_time, wait=wait, decode=self._decode)

    def _decode(
        self, src: Any, *, start_time: Any = None, chunk_rows: int = 500_000
    ) -> Iterator[AisData]:
        """The decoded chunks of one input, in order, decoded by the cluster's workers: two
        byte ranges per worker in flight (memory stays bounded), each stored by the caller
        while the next ones decode. Standard input and line iterables are read here."""
        from mda.sources import iter_ais

        if not isinstance(src, Path):
            yield from iter_ais(src, start_time=start_time, chunk_rows=chunk_rows)
            return
        ranges = byte_ranges(src, self.chunk_bytes) if start_time is None else [(0, -1)]
        todo = iter(ranges)

        def submit(n: int) -> None:
            for lo, hi in itertools.islice(todo, n):
                queue.append(self.client.submit(decode_range, src, lo, hi, start_time, chunk_rows))

        queue: collections.deque[Any] = collections.deque()
        try:
            submit(2 * self._workers())
            while queue:
                chunks = queue.popleft().result()
                submit(1)
                yield from chunks
        finally:
            self.client.cancel(list(queue))

    def _workers(self) -> int:
        """How many workers the cluster has (at least 1)."""
        return max(len(self.client.scheduler_info().get("workers", {})), 1)

    # -- scan -------------------------------------------------------------------------------

    def detect_window(
        self,
        positions: pd.DataFrame,
        cfg: Any,
        zones: Any,
        *,
        vessels: pd.DataFrame | None = None,
        history: pd.DataFrame | None = None,
        watchlist: pd.DataFrame | None = None,
        only: Any = None,
        feed: pd.DataFrame | None = None,
    ) -> tuple[pd.DataFrame, Any]:
        """mda.scan.detect_window with the per-vessel families mapped over MMSI partitions."""
        from mda.detect import detect_all
        from mda.scan import window_context

        ctx = window_context(
            positions, cfg, zones, vessels=vessels, history=history, watchlist=watchlist, feed=feed
        )
        local, mapped = split_only(only)
        futures = []
        if mapped:
            shared = {
                "zones": self._scatter(zones),
                "vessels": ctx.vessels,
                "history": ctx.vessel_history,
                "watchlist": watchlist,
                "coverage": ctx.coverage,
                "anchorages": ctx.anchorages,
            }
            for part in partitions(ctx.tracks, 2 * self._workers()):
                futures.append(self.client.submit(detect_part, part, cfg, mapped, **shared))
        alerts = [detect_all(ctx, cfg, only=local)] if local else []
        alerts += self.client.gather(futures)
        return merge_alerts(alerts), ctx.tracks

    def _scatter(self, obj: Any) -> Any:
        """`obj` on every worker, sent once per object (zone layers)."""
        key = id(obj)
        if key not in self._scattered:
            self._scattered[key] = (obj, self.client.scatter(obj, broadcast=True, hash=False))
        return self._scattered[key][1]


# -- tasks and their pure helpers --------------------------------------------------------------


def byte_ranges(path: Path, chunk_bytes: int) -> list[tuple[int, int]]:
    """[(start, end)) byte ranges covering an NMEA file, each cut before a line that sets the
    receiver clock for a message's first fragment (see `_starts_clean`), so every range decodes
    as it does within the whole file; one range for other files (CSV: the header belongs to
    the whole file), small ones and files with no such line. End -1 is the end of the file."""
    from mda.sources import sniff

    size = path.stat().st_size
    with path.open("rb") as f:
        if size <= chunk_bytes or sniff(f.read(4096)) != "nmea":
            return [(0, -1)]
        cuts = [0]
        while cuts[-1] + chunk_bytes < size:
            f.seek(cuts[-1] + chunk_bytes)
            f.readline()  # to the next line start
            at, line = f.tell(), f.readline()
            while line and not _starts_clean(line, f):
                at, line = f.tell(), f.readline()
            if not line:
                break
            cuts.append(at)
    return [(lo, hi) for lo, hi in zip(cuts, [*cuts[1:], -1], strict=True)]


def _starts_clean(line: bytes, f: Any) -> bool:
    """Whether a range may begin at `line`: it sets the stream's clock itself (a tag block with
    ``c:``, outside a multi-line group, or a Gatehouse ``$PGHP`` line) and the sentence it times
    (on it, or on the next line of `f`, read without moving on) is a message's first fragment.
    A sentence without its own time takes the clock of the lines before it, so a range cut
    there would time it differently."""
    if line.startswith(b"$PGHP"):
        at = f.tell()
        nxt = f.readline()
        f.seek(at)
        return _first_fragment(nxt)
    if not line.startswith(b"\\"):
        return False
    tag, _, sentence = line[1:].partition(b"\\")
    fields = dict(t.partition(b":")[::2] for t in tag.split(b"*")[0].split(b","))
    return b"c" in fields and b"g" not in fields and _first_fragment(sentence)


def _first_fragment(sentence: bytes) -> bool:
    """An AIS sentence that is its message's first (or only) fragment."""
    fields = sentence.split(b",", 3)
    return len(fields) > 3 and fields[0][3:6] in (b"VDM", b"VDO") and fields[2] == b"1"


def decode_range(path: Path, lo: int, hi: int, start_time: Any, chunk_rows: int) -> list[AisData]:
    """The decoded chunks of bytes [lo, hi) of `path` (the whole file for (0, -1)), as the
    local engine's reader decodes them, named after the file."""
    from mda.sources import iter_ais

    if (lo, hi) == (0, -1):
        return list(iter_ais(path, start_time=start_time, chunk_rows=chunk_rows))
    with path.open("rb") as f:
        f.seek(lo)
        data = f.read(hi - lo if hi >= 0 else -1)
    chunks = list(iter_ais([data], start_time=start_time, chunk_rows=chunk_rows))
    for c in chunks:
        _rename(c, "<lines>", str(path))
    return chunks


def _rename(chunk: AisData, old: str, new: str) -> None:
    """Name a chunk decoded from lines after the file they came from."""
    r = chunk.report
    r.files = [new if f == old else f for f in r.files]
    r.failed = {new if k == old else k: v for k, v in r.failed.items()}
    r.warnings = [w.replace(old, new, 1) if w.startswith(old) else w for w in r.warnings]
    src = chunk.positions["source"]
    chunk.positions["source"] = src.where(src.notna() & (src != old), new)


def partitions(tracks: Any, n: int) -> list[Any]:
    """`tracks` split into up to `n` Tracks by a hash of the MMSI (empty ones left out)."""
    from mda.tracks import Tracks

    def key(df: pd.DataFrame) -> np.ndarray:
        mmsi = df["mmsi"].to_numpy(dtype=np.uint64)
        return ((mmsi * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) % np.uint64(n)

    kp, kg, ka = key(tracks.points), key(tracks.gaps), key(tracks.artefacts)
    out = []
    for k in range(n):
        pts = tracks.points[kp == k].reset_index(drop=True)
        if len(pts):
            gaps = tracks.gaps[kg == k].reset_index(drop=True)
            out.append(Tracks(pts, gaps, tracks.artefacts[ka == k].reset_index(drop=True)))
    return out


def detect_part(
    tracks: Any,
    cfg: Any,
    only: list[str],
    *,
    zones: Any,
    vessels: pd.DataFrame,
    history: pd.DataFrame,
    watchlist: pd.DataFrame | None,
    coverage: Any,
    anchorages: pd.Series,
) -> pd.DataFrame:
    """The families `only` over one partition's vessels, with the feed-wide facts given."""
    from mda.detect import detect_all
    from mda.scan import tracks_context

    ctx = tracks_context(tracks, cfg, zones, vessels=vessels, history=history, watchlist=watchlist)
    ctx.coverage = coverage  # the feed's, not this partition's (cached properties)
    ctx.anchorages = anchorages
    return detect_all(ctx, cfg, only=only)


def split_only(only: Any) -> tuple[list[str], list[str]]:
    """The detector names of `only` (None: all families) run on the whole window and those
    mapped over partitions; MdaError for an unknown one, as detect_all says."""
    from mda.detect import DETECTORS, family_types

    family = {n: n for n in DETECTORS} | {t: n for n in DETECTORS for t in family_types(n)}
    names = list(DETECTORS) if only is None else list(only)
    unknown = sorted(set(names) - set(family))
    if unknown:
        raise MdaError(
            f"unknown detector {', '.join(unknown)} (known: {', '.join(sorted(family))})"
        )
    mapped = [n for n in names if family[n] in PER_VESSEL]
    return [n for n in names if n not in mapped], mapped


def merge_alerts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Alerts of several detect_all calls in the order one call over everything gives."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return schema.empty(schema.ALERTS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["start", "type", "mmsi"], kind="stable", ignore_index=True)
