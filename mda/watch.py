"""`mda watch`: alerts from a live AIS feed, found by the same engine as the scheduled scan.

The feed is read by mda.feeds (TCP, UDP, a followed file or stdin). Every
``watch.cycle_seconds`` the lines read are decoded as `mda ingest` decodes them: one NmeaDecoder
for the whole run, so a multi-part message split between cycles is reassembled; the tag-block
time when a line has one, else the time it was received. The positions are appended to the
store as one batch (its dedupe drops reports it already holds, so a feed replayed after a
reconnect, or heard by two stations, is stored once) and scanned by mda.scan.scan_store, the
function `mda scan --store` runs: the same detectors, vessel state, open and closed events and
ids. `mda scan`, `mda report` and `mda info` see the data while it streams. Without ``--store`` a
temporary store is used and removed at exit.

Each alert that opens, changes or closes is written as one JSON line: the alert's fields with
``status``, ``updated`` (the time of the newest data when it was written) and ``event``
(opened, updated, closed, withdrawn), in the order of the data that raised them. An open
alert whose only change is a later end (a loitering that goes on) is written again once its end
has moved ``watch.update_minutes``; a change of status, severity or zone at once.

Memory is bounded whatever the feed's duration (`Window`): the scan window is kept in memory
rather than re-read from disk and holds the last ``scan.overlap_hours`` of fixes, at most
``watch.max_fixes_per_vessel`` per vessel and ``watch.max_vessels`` vessels (the least recently
heard go first; a vessel's last fix stays in the store's vessel state, so its silence is still
seen). The line buffer holds at most ``watch.queue_lines`` lines and the decoder at most
MAX_PENDING_MESSAGES unfinished messages. What a cycle costs grows with the window, not with the
run: on a busy national feed, a shorter ``overlap_hours`` makes cycles faster.

SIGINT and SIGTERM end the run after a last cycle over what was read: exit status 0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config, load_config
from mda.feeds import LineBuffer, Reader, parse_target
from mda.scan import SCAN_COLUMNS, ScanResult, scan_store

log = logging.getLogger("mda")

#: What identifies a version of an alert: a change in any of these is written as a line.
_MATERIAL = ("status", "severity", "zone_id", "start")


class Window:
    """The fixes a live scan reads, in memory: see the module docstring for the bounds."""

    def __init__(self, cfg: Config) -> None:
        self.hours = cfg.scan.overlap_hours
        self.max_vessels = cfg.watch.max_vessels
        self.max_fixes = cfg.watch.max_fixes_per_vessel
        self.frame = schema.empty({c: schema.POSITIONS[c] for c in SCAN_COLUMNS})
        self.dropped = 0  # fixes dropped by the caps (not by age)

    def add(self, rows: pd.DataFrame) -> None:
        """Add stored rows within the caps (the scan of this cycle reads them all)."""
        if rows.empty:
            return
        frame = pd.concat([self.frame, rows[SCAN_COLUMNS]], ignore_index=True)
        self.frame = self._capped(frame).reset_index(drop=True)

    def trim(self) -> None:
        """Drop what the next scan will not read: fixes more than overlap_hours (and an hour for
        late data) before the newest."""
        ts = self.frame["ts"]
        if len(ts):
            old = ts < ts.max() - pd.Timedelta(hours=self.hours + 1)
            if old.any():
                self.frame = self.frame[~old.to_numpy()].reset_index(drop=True)

    def _capped(self, frame: pd.DataFrame) -> pd.DataFrame:
        mmsi = frame["mmsi"].to_numpy()
        per = frame.groupby(mmsi, sort=False)["ts"].agg(["max", "size"])
        keep = np.ones(len(frame), dtype=bool)
        if len(per) > self.max_vessels:
            kept = per["max"].nlargest(self.max_vessels).index
            keep &= np.isin(mmsi, kept.to_numpy())
        if per["size"].max() > self.max_fixes:
            newest_first = frame.sort_values("ts", ascending=False, kind="stable")
            rank = newest_first.groupby("mmsi", sort=False).cumcount()
            keep &= (rank.reindex(frame.index) < self.max_fixes).to_numpy()
        self.dropped += int((~keep).sum())
        return frame if keep.all() else frame[keep]


@dataclass
class AlertLines:
    """Writes one JSON line per new version of an alert (see the module docstring)."""

    out: IO[str]
    update_minutes: float
    written: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: int = 0

    def write(self, alerts: pd.DataFrame, *, final: bool = False) -> int:
        """Write the alerts that changed; `final` writes every change (the run is ending).
        Returns the lines written."""
        from mda.alerts import records

        if alerts.empty:
            return 0
        recs = records(alerts)
        extra = {
            "status": alerts["status"].astype(object).tolist(),
            "updated": [schema.iso_z(t) if pd.notna(t) else None for t in alerts["updated"]],
        }
        out = []
        for i, rec in enumerate(recs):
            rec["status"], rec["updated"] = extra["status"][i], extra["updated"][i]
            event = self._event(rec, final)
            if event is not None:
                out.append({"event": event, **rec})
                self._remember(rec)
        out.sort(key=lambda r: (r["updated"] or "", r["end"] or "", r["start"] or "", r["id"]))
        for rec in out:
            self.out.write(json.dumps(rec, ensure_ascii=False, allow_nan=False) + "\n")
        if out:
            self.out.flush()
        self.lines += len(out)
        return len(out)

    def _event(self, rec: dict[str, Any], final: bool) -> str | None:
        before = self.written.get(rec["id"])
        if before is None:
            return "opened" if rec["status"] == "open" else rec["status"]
        if any(before[k] != rec[k] for k in _MATERIAL):
            return rec["status"] if rec["status"] != "open" else "updated"
        if before["end"] == rec["end"] and before["evidence"] == rec["evidence"]:
            return None
        moved = pd.Timestamp(rec["end"]) - pd.Timestamp(before["end"])
        if final or rec["status"] != "open" or moved >= pd.Timedelta(minutes=self.update_minutes):
            return "updated"
        return None

    def _remember(self, rec: dict[str, Any]) -> None:
        self.written[rec["id"]] = {k: rec[k] for k in (*_MATERIAL, "end", "evidence")}

    def forget_before(self, t: pd.Timestamp) -> None:
        """Forget closed alerts that ended before `t`: no later scan reads their fixes."""
        cut = schema.iso_z(t)
        for key in [k for k, v in self.written.items() if v["status"] != "open" and v["end"] < cut]:
            del self.written[key]

    def open_ids(self) -> list[str]:
        return [k for k, v in self.written.items() if v["status"] == "open"]


@dataclass
class WatchSummary:
    """What a watch did, for its last log line."""

    cycles: int = 0
    lines: int = 0
    positions_stored: int = 0
    alert_lines: int = 0
    reconnects: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Watcher:
    """One `mda watch` run (see the module docstring); `run()` returns its summary."""

    def __init__(
        self,
        target: str,
        *,
        store: str | Path | None = None,
        zones: Any = None,
        config: str | Path | Config | None = None,
        watchlist: str | Path | pd.DataFrame | None = None,
        alerts_out: IO[str] | None = None,
        map_path: str | Path | None = None,
        serve: str | None = None,
    ) -> None:
        from mda.detect.watchlist import load_watchlist
        from mda.sources.nmea import NmeaDecoder
        from mda.zones import load_zones

        self.target = parse_target(target)
        self.cfg = config if isinstance(config, Config) else load_config(config)
        self.zones = zones if hasattr(zones, "geometry") else load_zones(zones)
        self.watchlist = (
            load_watchlist(watchlist) if isinstance(watchlist, str | Path) else watchlist
        )
        self.store_path = Path(store) if store is not None else None
        self.map_path = Path(map_path) if map_path is not None else None
        self.serve = serve
        self.stop = threading.Event()
        self.buffer = LineBuffer(self.cfg.watch.queue_lines)
        self.reader = Reader(
            self.target, self.buffer, self.stop, self.cfg.watch.reconnect_max_seconds
        )
        self.decoder = NmeaDecoder(str(self.target))
        self.window = Window(self.cfg)
        self.lines = AlertLines(alerts_out or sys.stdout, self.cfg.watch.update_minutes)
        self.summary = WatchSummary()
        self.last: ScanResult | None = None
        self.live: Any = None  # mda.live.LiveServer with --serve

    def run(self) -> WatchSummary:
        """Read, decode, store, scan and write alert lines until stopped or the input ends."""
        from mda.store import Store

        t0 = time.monotonic()
        with contextlib.ExitStack() as stack:
            root = self.store_path
            if root is None:
                root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mda-watch-")))
            st = stack.enter_context(contextlib.closing(Store(root, config=self.cfg.tracks)))
            self.store = st
            if self.serve:
                from mda.live import LiveServer

                self.live = stack.enter_context(LiveServer(self.serve, self))
            stack.enter_context(_signals(self.stop))
            self.reader.start()
            self._loop()
            self.stop.set()
            self.reader.join(timeout=2)
        self.summary.seconds = time.monotonic() - t0
        self.summary.reconnects = self.reader.stats.get("reconnects", 0)
        if self.reader.error:
            from mda.errors import MdaError

            raise MdaError(self.reader.error)
        return self.summary

    def _loop(self) -> None:
        cycle = self.cfg.watch.cycle_seconds
        next_map = time.monotonic()
        while True:
            started = time.monotonic()
            ending = self.stop.is_set() or self.reader.done.is_set()
            chunks = self.buffer.take(0 if ending else cycle)
            if chunks or ending:
                self._cycle(chunks, final=ending)
            if self.map_path is not None and (ending or time.monotonic() >= next_map):
                self._snapshot()
                next_map = time.monotonic() + self.cfg.watch.snapshot_seconds
            if ending:
                return
            rest = cycle - (time.monotonic() - started)
            if rest > 0:
                self.stop.wait(rest)

    def _cycle(self, chunks: list[tuple[float, list[str]]], *, final: bool) -> None:
        """Decode, store and scan what was read; write the alert lines."""
        lines: list[str] = []
        for received, part in chunks:
            # a bare sentence gets the receive time (tag-block and other timed lines keep theirs)
            first = part[0]
            lines.append(f"{received:.3f} {first}" if first[:1] == "!" else first)
            lines.extend(part[1:])
        data = self.decoder.decode(lines)
        if final:
            from mda.sources.base import concat

            data = concat([data, self.decoder.close()])
        self.summary.lines += len(lines)
        for reason, n in data.report.rejected.items():
            self.summary.rejected[reason] = self.summary.rejected.get(reason, 0) + int(n)
        st = self.store
        with st.lock(timeout=math.inf):
            stored = st.append(data, source=f"watch {self.target}")
            self.window.add(stored)
            result = scan_store(
                st, cfg=self.cfg, zones=self.zones, watchlist=self.watchlist,
                window=self.window.frame,
            )  # fmt: skip
            changed = st.scan_alerts(self.lines.open_ids()) if result.watermark else None
        self.window.trim()
        self.summary.cycles += 1
        self.summary.positions_stored += len(stored)
        if changed is not None:
            self.last = result
            self.summary.alert_lines += self.lines.write(changed, final=final)
            since = result.window[0]
            if since is not None:
                self.lines.forget_before(since)
        if self.live is not None:
            self.live.publish(self)

    def _snapshot(self) -> None:
        """Rewrite the offline map snapshot (--map) from the latest scan."""
        from mda.report import render_map

        if self.last is None or self.map_path is None:
            return
        since = self.last.window[0]
        render_map(
            self.map_path,
            tracks=self.last.tracks,
            zones=self.zones,
            alerts=self.store.alerts(since=since),
            vessels=self.last.vessels,
            title=f"mda watch: {self.target}",
        )


@contextlib.contextmanager
def _signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (the loop then finishes its last cycle) while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = lambda signum, frame: stop.set()  # noqa: E731
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def watch(target: str, **options: Any) -> WatchSummary:
    """Run `mda watch` on `target` (see Watcher for the options) until stopped."""
    return Watcher(target, **options).run()
