"""One scan: a time window of positions -> tracks -> all detectors -> de-duplicated alerts.

Two ways in. With INPUT files the positions are decoded and scanned directly. With a store, the
scan is incremental: it takes the store's lock, asks for the data ingested since the previous
scan (``Store.pending``) and re-reads ``scan.overlap_hours`` before it for the detectors that need
history. In front of that window it puts, per vessel heard in it, what the store keeps between
runs: the fixes of its open events since their start (so an event that lasts is seen whole, and
found again with the same start, end and evidence as one scan over everything finds it) and its
last good fix as of the previous scan (``Store.vessel_states``), so a silence of any length is
seen. The feed's coverage is measured over that whole span (a vessel is silent only while others
are heard). ``Store.save_scan`` then upserts the alerts, the vessels' new states and the
watermark in one transaction and returns only the alerts not raised before. A scan interrupted
before that commit changes nothing, so the next run simply does the work again.

Open events: an alert of a type that lasts (LASTING) is open when it reaches its vessel's last
good fix in the scan (for an encounter, the earlier of the two vessels' last fixes, less one
pairing bucket; for loitering, less half its mean-speed window, which later fixes still
change): as far as the data go, the vessel is still doing it. Every other alert, and
every alert of a look back ending before the newest data, is closed. A later scan, having read
the vessel's fixes since the event's start, finds it again: it updates the open alert in place
(same id; new end, evidence, status, updated), closed when the vessel has stopped doing it. An
open alert the fuller data no longer show is withdrawn (Store.save_scan).

Dark now: a vessel silent at sea up to the end of the data (mda.detect.gaps.dark_now) is an
open ais_gap from its last fix to the end of the data. The scheduled scan puts in front the
stored state of every vessel last heard within ``ais_gap.dark_horizon_hours`` of the window's
end, heard in it or not, so a vessel that fell silent in an earlier file is found dark by each
later scan (the same start, so the same id: its end and evidence updated in place) and closed by
the scan that hears it again (the silence it came back from, same id). A vessel in front for its
state alone gets no other alert, and its state is not saved again (only vessels heard anew are),
so its other open events stay as they were. An open dark-now alert a scan that judged its vessel
(the feed heard at the end of the data) does not find again is withdrawn (the fuller data show a
coverage edge); through an outage at the end it stays as it was; one silent beyond the horizon
keeps its last examined end until the vessel is heard again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config, load_config
from mda.errors import MdaError
from mda.feed import FEED_OUTAGES, feed_outages

if TYPE_CHECKING:
    import geopandas as gpd

    from mda.engine import Engine
    from mda.sources.base import IngestReport
    from mda.tracks import Tracks

log = logging.getLogger("mda")

#: Position columns a scan reads from a store: what tracks and detectors use. The receiving
#: station and source file name are left out (two string columns cost more to read and order
#: than all the others together); tracks.points then holds them as missing values.
SCAN_COLUMNS = [c for c in schema.POSITIONS if c not in ("source", "station")]

#: Alert types of events that last while the vessel goes on doing it, so may be open. An
#: ais_gap is open only while the vessel is dark now (see `dark_now`).
LASTING = frozenset(
    {"loitering", "anchoring", "anchor_drag", "encounter", "zone_entry", "port_visit"}
)

#: New positions a scheduled scan reads at a time (about): a longer pending span is scanned in
#: steps of whole hours (scan_store). A memory bound, not a threshold: the steps find the
#: events one pass finds, as mda watch's cycles do (an anchor drag across two cables cut by a
#: one-hour step kept one cable in its evidence).
STEP_POSITIONS = 8_000_000

#: What Store.pending returns: (newest batch, first fix, last fix) of what no scan has seen.
Pending = tuple[int, pd.Timestamp, pd.Timestamp]


@dataclass
class ScanResult:
    """What one scan found: all alerts in the window and the ones raised for the first time."""

    alerts: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.ALERTS))
    new_alerts: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.ALERTS))
    window: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None)
    watermark: int | None = None
    tracks: Tracks | None = None
    zones: gpd.GeoDataFrame | None = None
    vessels: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.VESSELS))
    ingest: IngestReport | None = None
    positions: int = 0
    seconds: float = 0.0
    #: Feed outages in the window (mda.feed): facts about the feed, never vessel behaviour.
    outages: pd.DataFrame = field(default_factory=lambda: schema.empty(FEED_OUTAGES))

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Alert counts by type and by severity, for all alerts and for the new ones."""

        def count(df: pd.DataFrame, col: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in df[col].value_counts().sort_index().items()}

        return {
            "by_type": count(self.alerts, "type"),
            "by_severity": count(self.alerts, "severity"),
            "new_by_type": count(self.new_alerts, "type"),
            "new_by_severity": count(self.new_alerts, "severity"),
        }

    def summary(self) -> dict[str, Any]:
        """The JSON summary line of `mda scan --json`."""
        w0, w1 = self.window
        return {
            "alerts": len(self.alerts),
            "new": len(self.new_alerts),
            **self.counts,
            "window": [
                None if w0 is None else w0.isoformat(),
                None if w1 is None else w1.isoformat(),
            ],
            "watermark": self.watermark,
            "positions": self.positions,
            "vessels": int(self.tracks.points["mmsi"].nunique()) if self.tracks is not None else 0,
            "feed": {
                "outages": len(self.outages),
                "outage_hours": round(float(self.outages["hours"].sum()), 2),
                "stale_time_stamps": len(self.tracks.artefacts) if self.tracks is not None else 0,
            },
            "seconds": round(self.seconds, 3),
        }

    def format_summary(self) -> str:
        """A readable summary for the terminal: window, volumes and alerts by type."""
        s = self.summary()
        w0, w1 = s["window"]
        lines = [
            f"window     {w0 or '-'} .. {w1 or '-'}",
            f"positions  {s['positions']:,} of {s['vessels']:,} vessels",
            f"alerts     {s['alerts']:,} in window, {s['new']:,} new",
        ]
        if s["watermark"] is not None:
            lines.append(f"watermark  batch {s['watermark']}")
        types = sorted(set(s["by_type"]) | set(s["new_by_type"]))
        if types:
            width = max(len(t) for t in types)
            lines.append(f"  {'type':<{width}}  {'all':>6}  {'new':>6}")
            for t in types:
                n_all, n_new = s["by_type"].get(t, 0), s["new_by_type"].get(t, 0)
                lines.append(f"  {t:<{width}}  {n_all:>6,}  {n_new:>6,}")
        feed = s["feed"]
        if feed["outages"] or feed["stale_time_stamps"]:
            lines.append(
                f"feed       {feed['outages']:,} outage(s), {feed['outage_hours']:,} h not heard; "
                f"{feed['stale_time_stamps']:,} fix(es) with a stale time stamp left out"
            )
        sev = ", ".join(f"{k} {v}" for k, v in s["new_by_severity"].items())
        if sev:
            lines.append(f"new by severity: {sev}")
        lines.append(f"elapsed    {s['seconds']:.2f} s")
        return "\n".join(lines)

    def reached(self, severity: str) -> bool:
        """True when a new alert is at or above `severity` (what `--fail-on` tests)."""
        rank = schema.severity_rank(severity)
        if rank < 0:
            raise MdaError(f"unknown severity {severity!r} (known: {', '.join(schema.SEVERITIES)})")
        ranks: pd.Series = schema.severity_rank(self.new_alerts["severity"])
        return bool((ranks >= rank).any())


def detect_window(
    positions: pd.DataFrame,
    cfg: Config,
    zones: Any,
    *,
    vessels: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    watchlist: pd.DataFrame | None = None,
    only: Iterable[str] | None = None,
    feed: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, Any]:
    """Tracks and all detectors over one window of positions: (alerts, tracks).

    `feed` (ts, mmsi) adds fixes the window does not hold to the feed's coverage: every vessel
    heard in the span of the fixes put in front of the window (see the module docstring).
    """
    from mda.detect import detect_all

    t0 = time.perf_counter()
    ctx = window_context(
        positions, cfg, zones, vessels=vessels, history=history, watchlist=watchlist, feed=feed
    )
    alerts = detect_all(ctx, cfg, only=only)
    log.info("detectors: %d alerts (%.2f s)", len(alerts), time.perf_counter() - t0)
    return alerts, ctx.tracks


def window_context(positions: pd.DataFrame, cfg: Config, zones: Any, **shared: Any) -> Any:
    """The tracks of one window of positions and what the detectors share (detect.base.Context),
    as every engine builds it; `shared`: tracks_context's keywords."""
    from mda.tracks import build_tracks

    t0 = time.perf_counter()
    tracks = build_tracks(positions, cfg.tracks)
    log.info(
        "tracks: %d points, %d gaps (%.2f s)",
        len(tracks.points),
        len(tracks.gaps),
        time.perf_counter() - t0,
    )
    return tracks_context(tracks, cfg, zones, **shared)


def tracks_context(
    tracks: Any,
    cfg: Config,
    zones: Any,
    *,
    vessels: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    watchlist: pd.DataFrame | None = None,
    feed: pd.DataFrame | None = None,
) -> Any:
    """The detectors' Context over `tracks` (all of a window's, or a partition's of them)."""
    from mda.context import world_context
    from mda.detect.base import Context

    return Context(
        tracks=tracks,
        zones=zones,
        vessels=vessels if vessels is not None else schema.empty(schema.VESSELS),
        vessel_history=history if history is not None else schema.empty(schema.VESSELS),
        watchlist=watchlist,
        config=cfg,
        world=world_context(cfg.context) if cfg.context.enabled else None,
        feed=feed,
    )


def last_fixes(points: pd.DataFrame) -> pd.DataFrame:
    """Each vessel's last good fix (not an outlier) among track points: its state."""
    from mda.store import STATE_COLUMNS

    good = points.loc[~points["outlier"].to_numpy(dtype=bool), STATE_COLUMNS]
    good = good.sort_values(["mmsi", "ts"], kind="stable")
    return good.drop_duplicates("mmsi", keep="last").reset_index(drop=True)


def seen_whole(
    alerts: pd.DataFrame,
    points: pd.DataFrame,
    cfg: Config,
    since: pd.Timestamp | None = None,
    history: pd.Index | None = None,
) -> pd.Series:
    """Per alert: the scan read its vessel's track (both, for two) from before the event began,
    so the event's start is its own, not where the data the scan read begin. A vessel's stored
    state in front of an incremental scan is one fix, not its track: a track read begins at
    `since`, or earlier for the vessels whose open events' fixes were read (`history`). An
    encounter is judged on a time grid: the grid step before its start must have been read. An
    event is judged in context: ``scan.context_hours`` of track must precede it (a jump back
    from a spoofed position read without the jump out looks like a relocation)."""
    if since is not None:  # points are by mmsi, ts: filtering keeps that order
        read = (points["ts"] >= since).to_numpy()
        if history is not None and len(history):
            read = read | points["mmsi"].isin(history).to_numpy()
        points = points[read]
    first = points.drop_duplicates("mmsi", keep="first")
    since = _per_vessel(first, alerts, np.maximum, -np.inf)
    start = schema.seconds(alerts["start"]) - _grid(alerts, cfg) - cfg.scan.context_hours * 3600
    return pd.Series(start > since, index=alerts.index)


def _grid(alerts: pd.DataFrame, cfg: Config) -> np.ndarray:
    """Per alert: the time step (s) its detector judges on, 0 for those judging every fix."""
    return np.where(alerts["type"] == "encounter", cfg.encounter.time_bucket_minutes * 60.0, 0.0)


def _reach(alerts: pd.DataFrame, cfg: Config) -> np.ndarray:
    """Per alert: how long after its end later fixes can still change its detector's verdict
    (s): the encounter's time step; loitering's centred mean-speed window reaches half its width
    ahead (a vessel's first fixes leaving count as slow until the window holds enough of them)."""
    half_window = np.where(alerts["type"] == "loitering", cfg.loitering.window_minutes * 30.0, 0.0)
    return _grid(alerts, cfg) + half_window


def _per_vessel(fixes: pd.DataFrame, alerts: pd.DataFrame, both, missing: float) -> np.ndarray:
    """Per alert: the time (epoch s) of its vessel's row in `fixes` (one per mmsi), combined
    by `both` with its other vessel's; `missing` for a vessel not in `fixes`."""
    index = pd.Index(fixes["mmsi"].to_numpy(dtype="int64"))
    ts = np.r_[schema.seconds(fixes["ts"]), missing]

    def of(mmsi: pd.Series) -> np.ndarray:
        at = index.get_indexer(mmsi.to_numpy(dtype="int64", na_value=-1))
        return ts[np.where(at < 0, len(index), at)]

    t = of(alerts["mmsi"])
    return np.where(alerts["other_mmsi"].notna(), both(t, of(alerts["other_mmsi"])), t)


def dark_now(alerts: pd.DataFrame) -> np.ndarray:
    """Per alert: an ais_gap going on at the end of the data (mda.detect.gaps.dark_now)."""
    gap = (alerts["type"] == "ais_gap").to_numpy()
    gap[gap] = [bool(e.get("dark_now")) for e in alerts["evidence"][gap]]
    return gap


def event_status(alerts: pd.DataFrame, points: pd.DataFrame, cfg: Config) -> pd.Series:
    """ "open" or "closed" per alert, by the rule of the module docstring."""
    # a vessel without good fixes is never open
    until = _per_vessel(last_fixes(points), alerts, np.minimum, np.inf)
    slack = _reach(alerts, cfg)
    is_open = alerts["type"].isin(LASTING).to_numpy() & (
        schema.seconds(alerts["end"]) + slack >= until
    )
    is_open |= dark_now(alerts)
    return pd.Series(np.where(is_open, "open", "closed"), index=alerts.index, dtype="string")


def _in_window(df: pd.DataFrame, since, until) -> pd.DataFrame:
    if since is not None:
        df = df[df["ts"] >= since]
    if until is not None:
        df = df[df["ts"] < until]
    return df.reset_index(drop=True)


def run_scan(
    *,
    inputs: Iterable[str | Path] = (),
    store: str | Path | None = None,
    zones: Any = None,
    config: str | Path | Config | None = None,
    watchlist: str | Path | pd.DataFrame | None = None,
    since: Any = None,
    until: Any = None,
    start_time: Any = None,
    out: str | Path | None = None,
    report: str | Path | None = None,
    only: Iterable[str] | None = None,
    wait: float = 0,
    engine: Engine | None = None,
) -> ScanResult:
    """Scan INPUT files, or a store incrementally, and write the alerts (see module docstring).

    `zones` is None (the bundled layers), a list of files or an already loaded GeoDataFrame;
    `config` a TOML path or a Config; `watchlist` a CSV path or a loaded watchlist table;
    `wait` the seconds to wait for a store another process holds (math.inf: as long as it takes);
    `engine` maps the detectors of a store's scan (mda.engine; None: this process).
    """
    from mda.detect.watchlist import load_watchlist
    from mda.zones import load_zones

    t0 = time.perf_counter()
    inputs = [str(i) for i in (inputs or ())]
    cfg = config if isinstance(config, Config) else load_config(config)
    wl = load_watchlist(watchlist) if isinstance(watchlist, str | Path) else watchlist
    since, until = schema.utc(since), schema.utc(until)
    if since is not None and until is not None and since >= until:
        raise MdaError(f"empty window: --since {since} is not before --until {until}")
    if not inputs and store is None:
        raise MdaError("give INPUT files or --store DIR")
    layer = zones if hasattr(zones, "geometry") else load_zones(zones)
    kw = {"cfg": cfg, "zones": layer, "watchlist": wl, "only": only}
    if store is None:
        result = _scan_inputs(inputs, since, until, start_time, engine, **kw)
    else:
        result = _scan_store(store, inputs, since, until, start_time, wait, engine, **kw)
    result.zones = layer
    if result.tracks is not None:
        result.outages = feed_outages(result.tracks.points, cfg.feed)
    result.seconds = time.perf_counter() - t0
    for warning in result.ingest.warnings if result.ingest is not None else ():
        log.warning(warning)  # e.g. messages dropped for lack of receiver time: say so
    log.info(
        "scan: %d alerts, %d new (%.2f s)",
        len(result.alerts),
        len(result.new_alerts),
        result.seconds,
    )
    if out is not None:
        from mda.alerts import write_alerts

        write_alerts(result.alerts, out)
        log.info("alerts written to %s", out)
    if report is not None:
        _render(report, result, cfg)
    return result


def _scan_inputs(
    inputs, since, until, start_time, engine, *, cfg, zones, watchlist, only
) -> ScanResult:
    """Decode the INPUT files and scan them whole (or within since/until)."""
    from mda.sources import read_ais

    data = read_ais(inputs, start_time=start_time)
    pos = _in_window(data.positions, since, until)
    vessels = data.vessels
    result = ScanResult(ingest=data.report, vessels=vessels, positions=len(pos))
    if pos.empty:
        result.window = (since, until)
        return result
    result.window = (since or pos["ts"].min(), until or pos["ts"].max())
    alerts, tracks = (detect_window if engine is None else engine.detect_window)(
        pos,
        cfg,
        zones,
        vessels=vessels,
        history=data.vessel_history,
        watchlist=watchlist,
        only=only,
    )
    alerts["status"] = event_status(alerts, tracks.points, cfg)
    result.alerts, result.new_alerts, result.tracks = alerts, alerts, tracks
    return result


def _scan_store(
    store, inputs, since, until, start_time, wait, engine, *, cfg, zones, watchlist, only
) -> ScanResult:
    """Ingest INPUT files if given, then scan what the store holds that no scan has seen."""
    from mda.store import Store

    with contextlib.closing(Store(store, create=bool(inputs))) as st, st.lock(timeout=wait):
        report = st.ingest(inputs, start_time=start_time) if inputs else None
        result = scan_store(
            st, since, until, cfg=cfg, zones=zones, watchlist=watchlist, only=only, engine=engine
        )
        result.ingest = report
    return result


def scan_store(
    st: Any,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    *,
    cfg: Config,
    zones: Any,
    watchlist: pd.DataFrame | None = None,
    only: Iterable[str] | None = None,
    window: pd.DataFrame | None = None,
    engine: Engine | None = None,
    step_positions: int = STEP_POSITIONS,
) -> ScanResult:
    """One scan of an open Store whose lock the caller holds: incremental (what no scan has
    seen, with the vessels' state in front) unless `since`/`until` ask for a look back. The
    scheduled `mda scan --store` and every cycle of `mda watch` run this (see the module
    docstring). `window`: the stored positions of the scan's window already at hand (SCAN_COLUMNS,
    mda.watch keeps them in memory), read from the store when None. `engine` maps the
    detectors (mda.engine; None: this process). A scheduled scan of more than `step_positions`
    new positions proceeds in steps (see `_steps`), so its memory does not grow with the span."""
    kw: dict[str, Any] = {"cfg": cfg, "zones": zones, "watchlist": watchlist, "only": only}
    pending = st.pending()
    if since is None and until is None and window is None and pending is not None:
        steps = _steps(st, pending, step_positions)
        if len(steps) > 1:
            return _stepped(st, steps, engine, kw)
    return _scan_window(st, since, until, pending, window, engine, kw)


def _steps(st: Any, pending: tuple[int, pd.Timestamp, pd.Timestamp], n: int) -> list[Pending]:
    """The pending span cut at whole hours into steps of about `n` stored positions each (at
    least an hour), as (batch, first, last) like Store.pending; counted one day at a time from
    the time stamps alone, so the count costs 8 bytes per position of a day."""
    upto, lo, hi = pending
    hours = pd.date_range(lo.floor("h"), hi.floor("h"), freq="h")
    if len(hours) < 2 or _pending_rows(st) <= n:  # most scans: nothing is read to count
        return [pending]
    count = np.zeros(len(hours), dtype=np.int64)
    for day in pd.date_range(lo.floor("D"), hi.floor("D"), freq="D"):
        ts = st.positions(since=max(day, lo), until=day + pd.Timedelta(days=1), columns=["ts"])
        at = (ts["ts"].array.asi8 - hours[0].value) // 3_600_000_000_000
        count += np.bincount(at[at < len(hours)], minlength=len(hours))
    cuts, held = [], 0
    for i, c in enumerate(count):
        if held and held + c > n:
            cuts.append(hours[i])
            held = 0
        held += int(c)
    ends = [*cuts, hi + pd.Timedelta(seconds=1)]
    starts = [lo, *cuts]
    return [(upto, a, b - pd.Timedelta(seconds=1)) for a, b in zip(starts, ends, strict=True)]


def _pending_rows(st: Any) -> int:
    """Positions in the batches no scan has seen, from the store's catalog."""
    row = st.catalog.db.execute(
        "SELECT COALESCE(SUM(rows), 0) FROM batches WHERE committed=1 AND "
        "id > (SELECT COALESCE(MAX(upto_batch), 0) FROM scans)"
    ).fetchone()
    return int(row[0])


def _stepped(st: Any, steps: list[Pending], engine: Engine | None, kw: dict[str, Any]):
    """A scheduled scan in `steps`, each as `mda watch` scans a cycle: its window with
    ``scan.overlap_hours`` before it, the vessel state and open events the previous step saved
    in front. Steps before the last leave the watermark where it was: a run interrupted half
    way does them again (their alerts are upserted by id). The result holds every alert found,
    in its last version (none withdrawn by a later step), the new ones, and the last step's
    tracks."""
    before = st.watermark()
    results = []
    for i, (upto, lo, hi) in enumerate(steps):
        mark = upto if i == len(steps) - 1 else before
        log.info("scan: step %d of %d, %s .. %s", i + 1, len(steps), lo, hi)
        results.append(_scan_window(st, None, None, (mark, lo, hi), None, engine, kw))
    last = results[-1]
    alerts = pd.concat([r.alerts for r in results], ignore_index=True)
    alerts = alerts.drop_duplicates("id", keep="last")
    stored = st.scan_alerts(alerts["id"].tolist())
    gone = set(stored.loc[stored["status"] == "withdrawn", "id"])
    alerts = alerts[~alerts["id"].isin(gone)]
    new = pd.concat([r.new_alerts for r in results], ignore_index=True)
    new = stored[stored["id"].isin(set(new["id"]) - gone)]
    order = ["start", "type", "mmsi"]
    return ScanResult(
        alerts=alerts.sort_values(order, kind="stable", ignore_index=True),
        new_alerts=new.sort_values(order, kind="stable", ignore_index=True),
        window=(results[0].window[0], last.window[1]),
        watermark=last.watermark,
        tracks=last.tracks,
        vessels=last.vessels,
        positions=sum(r.positions for r in results),
    )


def _scan_window(
    st: Any,
    since: pd.Timestamp | None,
    until: pd.Timestamp | None,
    pending: Pending | None,
    window: pd.DataFrame | None,
    engine: Engine | None,
    kw: dict[str, Any],
) -> ScanResult:
    """scan_store's one pass over one window (see scan_store)."""
    cfg, zones, watchlist, only = kw["cfg"], kw["zones"], kw["watchlist"], kw["only"]
    result = ScanResult()
    look_back = since is not None or until is not None
    if not look_back:
        if pending is None:
            log.info("scan: nothing ingested since the previous scan")
            return result
        upto, lo, hi = pending
        since = pd.Timestamp(lo) - pd.Timedelta(hours=cfg.scan.overlap_hours)
        # the store's window is half-open; one second past the newest fix keeps it
        until = pd.Timestamp(hi) + pd.Timedelta(seconds=1)
    else:  # an explicit window is a look back: it records alerts, not progress
        upto = None
    result.window, result.watermark = (since, until), upto
    if window is None:
        pos = st.positions(since=since, until=until, columns=SCAN_COLUMNS)
    else:
        pos = _in_window(window[SCAN_COLUMNS], since, until)
    feed, dark, history = None, pd.Index([]), None
    if not look_back and len(pos):
        front, feed, dark, history = _front(st, pos, since, cfg, pending)
        pos = pd.concat([front, pos], ignore_index=True)
    result.positions = len(pos)
    vessels = st.vessels()
    result.vessels = vessels
    alerts, states = schema.empty(schema.ALERTS), None
    examined: np.ndarray | list[int] = []
    if len(pos):
        detect = detect_window if engine is None else engine.detect_window
        alerts, result.tracks = detect(
            pos,
            cfg,
            zones,
            vessels=vessels,
            history=st.vessel_history(),
            watchlist=watchlist,
            only=only,
            feed=feed,
        )
        alerts["status"] = event_status(alerts, result.tracks.points, cfg)
        alerts["whole"] = seen_whole(alerts, result.tracks.points, cfg, since, history)
        if look_back and until is not None:  # may end before the newest data
            alerts["status"] = pd.Series("closed", index=alerts.index, dtype="string")
        if not look_back:  # the vessels heard anew; the others' state has not changed
            states = last_fixes(result.tracks.points)
            states = states[states["ts"] >= pd.Timestamp(cast(Pending, pending)[1])]
            examined = _examined(st, result.tracks, feed, cfg, only)
        # a vessel in front for its state alone is scanned for a silence going on, no more
        alone = alerts["mmsi"].isin(dark) & (
            alerts["other_mmsi"].isna() | alerts["other_mmsi"].isin(dark)
        )
        alerts = alerts[~alone.to_numpy(dtype=bool) | dark_now(alerts)].reset_index(drop=True)
    result.alerts = alerts
    result.new_alerts = st.save_scan(
        alerts,
        upto_batch=upto,
        window=(since, until),
        states=states,
        examined=examined,
        merge_gap=pd.Timedelta(hours=cfg.scan.alert_merge_hours),
    )
    return result


def _examined(st, tracks: Any, feed: pd.DataFrame | None, cfg: Config, only) -> np.ndarray:
    """The vessels with an open dark-now alert this scan judged for a silence going on: those
    in it when the ais_gap detector ran and the feed was heard at the end of the data, else none
    (nothing is known about now, and an open dark-now alert stays as it was)."""
    from mda.detect.base import Context
    from mda.detect.gaps import heard_at_end

    opened = st.open_alerts()
    dark = np.intersect1d(
        opened.loc[opened["type"] == "ais_gap", "mmsi"].to_numpy(dtype=np.int64),
        tracks.points["mmsi"].to_numpy(dtype=np.int64),
    )
    ran = only is None or bool({"ais_gap"} & set(only))
    if not len(dark) or not ran:  # the coverage is measured only when it can matter
        return dark[:0]
    return (
        dark
        if heard_at_end(Context(tracks=tracks, zones=None, config=cfg, feed=feed))
        else dark[:0]
    )


def _front(
    st, pos: pd.DataFrame, since: pd.Timestamp, cfg: Config, pending
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Index, pd.Index]:
    """What goes in front of an incremental scan's window for the vessels heard in it: the
    fixes of their open events from the alert merge gap (``scan.alert_merge_hours``) before
    the events' start (of both vessels of an encounter, so seen_whole holds) and their last
    good fix stored as their state, when older
    than the window; the state of every vessel not heard in it but last heard within
    ``ais_gap.dark_horizon_hours`` of its end (it may be dark now); (ts, mmsi) of every fix
    stored over that span, for the feed's coverage; the vessels in front for their state
    alone; and those whose open events' fixes were read. See the module docstring."""
    heard = pos["mmsi"].unique()
    opened = st.open_alerts()
    # the vessels heard and the partners of their open events (an encounter's other vessel)
    mine = opened["mmsi"].isin(heard) | opened["other_mmsi"].isin(heard).fillna(False)
    opened = opened[mine.to_numpy(dtype=bool)]
    vessels = pd.concat([opened["mmsi"], opened["other_mmsi"].dropna()]).astype("uint32")
    starts = pd.concat([opened["start"], opened.loc[opened["other_mmsi"].notna(), "start"]])
    first = starts.groupby(vessels.to_numpy()).min() - pd.Timedelta(
        hours=cfg.scan.alert_merge_hours
    )
    first = first[first < since]
    frames = []
    if len(first):
        hist = st.positions(since=first.min(), until=since, mmsi=first.index, columns=SCAN_COLUMNS)
        frames.append(hist[hist["ts"] >= hist["mmsi"].map(first)])
    horizon = pos["ts"].max() - pd.Timedelta(hours=cfg.ais_gap.dark_horizon_hours)
    state = st.vessel_states(heard, since=horizon)
    state = state[state["ts"] < since]
    frames.append(state)
    dark = pd.Index(state["mmsi"]).difference(pd.Index(heard)).difference(first.index)
    front = pd.concat([f for f in frames if len(f)] or [pos.iloc[:0]], ignore_index=True)
    front = schema.conform(front, {c: schema.POSITIONS[c] for c in SCAN_COLUMNS}, extra=False)
    front = front.drop_duplicates(["mmsi", "ts", "lat", "lon"], ignore_index=True)
    if front.empty:
        return front, front[["ts", "mmsi"]], dark, first.index
    heard_before = _heard_before(st, front["ts"].min(), since, cfg, pending)
    return front, heard_before, dark, first.index


@dataclass
class _Heard:
    """What a scheduled scan read of the feed before its window, kept for the next scan of
    the same open Store (mda watch scans one every few seconds): `fixes` over [since, until)
    reduced by `last_per_bin`, as of the store's watermark `upto`."""

    since: pd.Timestamp
    until: pd.Timestamp
    upto: int
    bin_s: float
    fixes: pd.DataFrame


#: Per open Store, the feed its last scan read before its window (see _heard_before).
_HEARD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def last_per_bin(fixes: pd.DataFrame, bin_s: float) -> pd.DataFrame:
    """(ts, mmsi) of each vessel's last fix in each coverage bin: all the feed's coverage counts
    (vessels heard per bin, the last fix of each bin), as mda.feed bins from the epoch."""
    t = fixes["ts"].array.asi8
    key = (t // int(bin_s * 1e9)) * (1 << 32) + fixes["mmsi"].to_numpy(dtype=np.int64)
    order = np.lexsort((t, key))
    last = order[np.r_[key[order][1:] != key[order][:-1], True]] if len(t) else order
    return fixes.iloc[np.sort(last)][["ts", "mmsi"]].reset_index(drop=True)


def _heard_before(
    st, start: pd.Timestamp, since: pd.Timestamp, cfg: Config, pending
) -> pd.DataFrame:
    """The feed's fixes over [start, since), for the coverage, reduced by `last_per_bin`. What
    the previous scan of this Store read is reused when nothing came into it since (no other
    scan, no new batch holding fixes before its end): only the rest is read. The scheduled scan
    of a new process reads it all: with the dark horizon that is up to
    ``dark_horizon_hours - overlap_hours`` of (ts, mmsi), on top of the window it reads."""
    bin_s = cfg.feed.coverage_bin_minutes * 60.0
    upto, lo, _ = pending
    got = _HEARD.get(st)
    if got is not None and ((got.bin_s, got.upto) != (bin_s, st.watermark()) or lo < got.until):
        got = None
    read_from, parts = start, []
    if got is not None:
        if start < got.since:  # an event opened since reaches further back
            parts.append(st.positions(since=start, until=got.since, columns=["ts"]))
        read_from, parts = got.until, [*parts, got.fixes]
    if read_from < since:
        parts.append(st.positions(since=read_from, until=since, columns=["ts"]))
    fixes = last_per_bin(pd.concat(parts, ignore_index=True), bin_s)  # start < since: not empty
    # a vessel heard in a bin from `start` on has its last fix there at or after `start`
    fixes = fixes[fixes["ts"] >= start].reset_index(drop=True)
    _HEARD[st] = _Heard(start, max(since, read_from), upto, bin_s, fixes)
    return fixes[fixes["ts"] < since]


def _render(path: str | Path, result: ScanResult, cfg: Config) -> None:
    """The map report of this scan: tracks, zones and alerts, with the thresholds in force."""
    from mda.report import render_map

    render_map(
        path,
        tracks=result.tracks,
        zones=result.zones,
        alerts=result.alerts,
        vessels=result.vessels,
        title=None,  # the data's area and days
        sources=[Path(f).name for f in (result.ingest.files if result.ingest else [])],
        thresholds=dataclasses.asdict(cfg),
        outages=result.outages,
        # the CSV layouts read (str keys; the int ones are AIS message types): their credits
        data_sources=[k for k in result.ingest.messages if isinstance(k, str)]
        if result.ingest
        else [],
    )
