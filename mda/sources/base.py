"""What every reader returns: decoded tables plus an ingest report counting what was rejected."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mda import schema
from mda.feed_tally import FeedTally
from mda.terminal import safe_text

#: Longest line (bytes, without its newline) a reader accepts; longer lines are skipped and
#: counted as ``line_too_long``. An NMEA sentence is at most 82 characters, a tag block and a
#: few sentences on one line some hundreds; a DMA CSV row about 200 bytes. This bounds the
#: memory a newline-free input can take (see mda.sources.lines).
MAX_LINE_BYTES = 1 << 16

#: The receiver times a reader accepts, as Unix seconds [TIME_MIN_S, TIME_END_S): from
#: 2000-01-01 (AIS was introduced from 2002; earlier times are a broken clock or an epoch
#: default such as 0 = 1970) to 2100-01-01 exclusive. A fixed range, not "now + a margin", so
#: a file reads the same whatever the day and the machine's clock (replays and simulated
#: future scenarios included). Times outside it are rejected as ``time_out_of_range``.
TIME_MIN_S = 946_684_800
TIME_END_S = 4_102_444_800

#: Reasons a line, sentence, message or row is rejected. Reports count by these names.
REJECT_REASONS = {
    "line_too_long": f"line longer than {MAX_LINE_BYTES:,} bytes",
    "bad_checksum": "NMEA checksum does not match",
    "malformed": "not a parsable AIS sentence or CSV row",
    "incomplete_multipart": "multi-sentence message with missing or orphan fragments",
    "fragment_overflow": "fragment dropped: too many multi-sentence messages waiting for parts",
    "no_timestamp": "no receiver time and no --start-time",
    "bad_tag_time": "tag-block or $PGHP time that is not a time (no fallback to an earlier one)",
    "invalid_date": "impossible calendar date (30 February, 31 April)",
    "time_out_of_range": "time before 2000-01-01 or from 2100-01-01 on",
    "invalid_position": "position out of range or not available",
    "invalid_mmsi": "MMSI zero or out of range",
    "decode_error": "payload does not decode as its message type",
    "unreadable_file": "file could not be opened or read",
}

#: Reasons counted before a message exists: lines or sentences of the input (CSV rows that do
#: not parse). The other reasons count decoded messages (CSV rows) refused, and files.
SENTENCE_REJECTS = frozenset(
    {"line_too_long", "bad_checksum", "malformed", "incomplete_multipart", "fragment_overflow"}
)


def type_order(key: Any) -> tuple[int, int, str]:
    """Sort key of message types: AIS types by number (1, 2, ... 27), then CSV layouts by name."""
    text = str(key)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def valid_position(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Where a reported position can be used, whatever the input format.

    In range, not AIS "not available" (91/181), not NaN, and not 0/0: a transponder without a
    GPS fix often sends 0 N 0 E ("Null Island"), which would otherwise draw jumps to the Gulf of
    Guinea.
    """
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    in_range = (np.abs(lat) <= 90) & (np.abs(lon) <= 180) & (lat != 91) & (lon != 181)
    valid: np.ndarray = in_range & ~((lat == 0) & (lon == 0))
    return valid


@dataclass(repr=False)
class IngestReport:
    """Counts of one read or ingest: what came in, what was decoded, what was rejected and why."""

    files: list[str] = field(default_factory=list)
    lines: int = 0
    sentences: int = 0
    #: by AIS message type (int) or CSV layout (str)
    messages: Counter[int | str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)  # by REJECT_REASONS key
    positions: int = 0
    static_reports: int = 0
    mmsis: set[int] = field(default_factory=set)
    first_ts: pd.Timestamp | None = None
    last_ts: pd.Timestamp | None = None
    seconds: float = 0.0
    stored: int | None = None  # positions newly written to a store (None when not ingesting)
    warnings: list[str] = field(default_factory=list)
    #: Inputs not read to their end, name -> why: unreadable, or broken off part-way (what was
    #: read before the fault is kept). A store does not mark them as ingested.
    failed: dict[str, str] = field(default_factory=dict)
    #: Inputs a store skipped because it holds their content already, name -> the input it
    #: was ingested as (see mda.store.Store.ingest).
    same_as: dict[str, str] = field(default_factory=dict)
    #: When the feed was heard, tallied by a store's ingest from the positions it decoded (None
    #: when nobody tallied): its outages are the hours of the input's span the feed was silent.
    feed: FeedTally | None = None
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    def __repr__(self) -> str:
        """One line of totals (the MMSI set alone may be megabytes): format_table has it all."""
        span = f"{self.first_ts} .. {self.last_ts}" if self.first_ts is not None else "-"
        return (
            f"IngestReport(files={len(self.files)}, lines={self.lines:,}, "
            f"sentences={self.sentences:,}, messages={sum(self.messages.values()):,}, "
            f"rejected={sum(self.rejected.values()):,}, positions={self.positions:,}, "
            f"static_reports={self.static_reports:,}, vessels={len(self.mmsis):,}, "
            f"span={span}, warnings={len(self.warnings)})"
        )

    def see_times(self, ts: pd.Series) -> None:
        """Widen the time span with the non-missing timestamps of `ts`."""
        ts = ts.dropna()
        if ts.empty:
            return
        lo, hi = ts.min(), ts.max()
        self.first_ts = lo if self.first_ts is None else min(self.first_ts, lo)
        self.last_ts = hi if self.last_ts is None else max(self.last_ts, hi)

    def fail(self, name: str, reason: str, *, kept: str = "") -> None:
        """Note that input `name` was not read to its end: counted, warned, listed in `failed`.

        `kept` says what was kept of it (e.g. "the 1,024 rows before it"); empty when nothing
        was read, and the warning then says the input was skipped.
        """
        self.rejected["unreadable_file"] += 1
        self.failed[name] = reason
        if name not in self.files:
            self.files.append(name)
        if kept:
            self.warnings.append(f"{name}: {reason}; kept {kept}, the rest was not read")
        else:
            self.warnings.append(f"{name}: skipped, {reason}")

    def same_content(self, name: str, earlier: str, when: str) -> None:
        """Note that input `name` was skipped: its content was ingested as `earlier` at `when`."""
        self.files.append(name)
        self.same_as[name] = earlier
        self.warnings.append(f"{name}: skipped, same content as {earlier} ingested {when}")

    def merge(self, other: IngestReport) -> IngestReport:
        """Add the counts of `other` into this report (used across files and chunks)."""
        for f in other.files:
            if f not in self.files:
                self.files.append(f)
        self.lines += other.lines
        self.sentences += other.sentences
        self.messages.update(other.messages)
        self.rejected.update(other.rejected)
        self.positions += other.positions
        self.static_reports += other.static_reports
        self.mmsis |= other.mmsis
        for t in (other.first_ts, other.last_ts):
            if t is not None:
                self.see_times(pd.Series([t]))
        if other.stored is not None:
            self.stored = (self.stored or 0) + other.stored
        self.warnings.extend(w for w in other.warnings if w not in self.warnings)
        self.failed.update(other.failed)
        self.same_as.update(other.same_as)
        return self

    def finish(self) -> IngestReport:
        """Stamp the elapsed time since the report was created."""
        self.seconds = time.perf_counter() - self._t0
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what `--json` prints)."""
        msgs = sum(self.messages.values())
        types = sorted(self.messages, key=type_order)
        return {
            "files": self.files,
            "lines": self.lines,
            "sentences": self.sentences,
            "messages": msgs,
            "messages_by_type": {str(k): self.messages[k] for k in types},
            "rejected": {k: v for k, v in sorted(self.rejected.items()) if v},
            "positions": self.positions,
            "static_reports": self.static_reports,
            "vessels": len(self.mmsis),
            "first": self.first_ts.isoformat() if self.first_ts is not None else None,
            "last": self.last_ts.isoformat() if self.last_ts is not None else None,
            "seconds": round(self.seconds, 3),
            "messages_per_s": round(msgs / self.seconds) if self.seconds > 0 else None,
            "stored": self.stored,
            "warnings": self.warnings,
            "failed": self.failed,
            "feed": self.feed.summary() if self.feed is not None else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def format_table(self) -> str:
        """A readable multi-line report for the terminal."""
        d = self.to_dict()
        early = {k: v for k, v in d["rejected"].items() if k in SENTENCE_REJECTS}
        late = {k: v for k, v in d["rejected"].items() if k not in early}
        files = late.pop("unreadable_file", 0)
        rows = [
            ("files", ", ".join(map(safe_text, d["files"])) or "-"),
            ("lines read", f"{d['lines']:,}"),
            ("sentences", f"{d['sentences']:,}"),
            ("lines/sentences rejected", f"{sum(early.values()):,}"),
            *((f"  {k}", f"{v:,}") for k, v in early.items()),
            ("messages decoded", f"{d['messages']:,}"),
            *((f"  type {k}", f"{v:,}") for k, v in d["messages_by_type"].items()),
            ("messages rejected", f"{sum(late.values()):,}"),
            *((f"  {k}", f"{v:,}") for k, v in late.items()),
        ]
        if files:
            rows.append(("files unreadable", f"{files:,}"))
        rows += [
            ("positions", f"{d['positions']:,}"),
            ("static reports", f"{d['static_reports']:,}"),
            ("vessels", f"{d['vessels']:,}"),
            ("time span", f"{d['first'] or '-'} .. {d['last'] or '-'}"),
        ]
        if self.stored is not None:
            rows.append(("new positions stored", f"{self.stored:,}"))
        if d["feed"] is not None:
            rows += _feed_rows(d["feed"], self.first_ts, self.last_ts)
        rate = d["messages_per_s"]
        rows.append(("elapsed", f"{d['seconds']:.2f} s" + (f" ({rate:,} msg/s)" if rate else "")))
        width = max(len(k) for k, _ in rows)
        out = [f"{k:<{width}}  {v}" for k, v in rows]
        out += [f"warning: {safe_text(w)}" for w in self.warnings]
        return "\n".join(out)


def _feed_rows(
    feed: dict[str, Any], first: pd.Timestamp | None, last: pd.Timestamp | None
) -> list[tuple[str, str]]:
    """The ingest table's feed rows: outage hours out of the input's span, the longest ones."""
    span = (last - first).total_seconds() / 3600.0 if first is not None and last is not None else 0
    rows = [
        (
            "feed outages",
            f"{feed['outages']:,}, {feed['outage_hours']:,} h of the {span:,.2f} h span not heard",
        )
    ]
    rows += [
        (f"  {o['start']}", f"to {o['end']} ({o['hours']:,} h)") for o in feed["longest_outages"]
    ]
    return rows


@dataclass
class AisData:
    """Decoded AIS: vessel and other positions, static reports, binary messages, the report."""

    positions: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.POSITIONS))
    aux: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.AUX_POSITIONS))
    statics: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.VESSELS))
    binary: pd.DataFrame = field(default_factory=lambda: schema.empty(schema.BINARY))
    report: IngestReport = field(default_factory=IngestReport)

    @property
    def vessels(self) -> pd.DataFrame:
        """Latest known static data per MMSI (schema.VESSELS), from `statics`."""
        return latest_vessels(self.statics)

    @property
    def vessel_history(self) -> pd.DataFrame:
        """One row per MMSI per observed change of its static data, from `statics`."""
        return vessel_changes(self.statics)


#: Static fields whose change makes a new row in the vessel history.
STATIC_FIELDS = (
    "imo",
    "name",
    "callsign",
    "ship_type",
    "length",
    "width",
    "draught",
    "destination",
)


def _sorted_statics(statics: pd.DataFrame) -> pd.DataFrame:
    """Statics in schema.VESSELS dtypes, ordered by MMSI and time (stable for equal times)."""
    df = schema.conform(statics, schema.VESSELS, extra=False)
    return df.sort_values(["mmsi", "ts"], kind="stable").reset_index(drop=True)


def latest_vessels(statics: pd.DataFrame) -> pd.DataFrame:
    """One row per MMSI: the latest non-missing value of each static field.

    Type 24 part A carries only the name and part B the rest, so each field is taken from the
    latest report that has it; `ts` is the time of the latest static report of any kind.
    """
    df = _sorted_statics(statics)
    if df.empty:
        return schema.empty(schema.VESSELS)
    # GroupBy.last skips missing values column by column: exactly "latest non-missing".
    out = df.groupby("mmsi", sort=True).last().reset_index()
    return schema.conform(out, schema.VESSELS, extra=False)


def vessel_changes(statics: pd.DataFrame) -> pd.DataFrame:
    """One row per MMSI per observed change of its static data, `ts` = when first seen.

    Reports of one MMSI are forward-filled (a 24A name and a later 24B call sign describe the
    same state); a new state starts where a field that was known before gets a different
    non-missing value. A missing field is never a change. Each row holds the whole state.
    """
    df = _sorted_statics(statics)
    if df.empty:
        return schema.empty(schema.VESSELS)
    fields = [*STATIC_FIELDS, "ais_class"]
    filled = df.groupby("mmsi", sort=False)[fields].ffill()
    prev = filled.groupby(df["mmsi"], sort=False).shift(1)
    own = df[list(STATIC_FIELDS)]
    before = prev[list(STATIC_FIELDS)]
    differs = (own.notna() & before.notna() & (own != before).fillna(False)).any(axis=1)
    first = df["mmsi"].ne(df["mmsi"].shift())
    state = (first | differs).cumsum().rename("_state")
    filled["mmsi"] = df["mmsi"]
    filled["ts"] = df["ts"]
    grouped = filled.groupby(state, sort=True)
    out = grouped[fields].last()
    out["mmsi"] = grouped["mmsi"].first()
    out["ts"] = grouped["ts"].first()
    return schema.conform(out.reset_index(drop=True), schema.VESSELS, extra=False)


def concat(parts: list[AisData]) -> AisData:
    """One AisData from several (chunks or inputs): tables concatenated, reports merged."""
    if len(parts) == 1:
        return parts[0]
    report = IngestReport()
    report._t0 = min((p.report._t0 for p in parts), default=report._t0)
    for p in parts:
        report.merge(p.report)

    def cat(name: str, spec: dict[str, str]) -> pd.DataFrame:
        frames = [getattr(p, name) for p in parts if len(getattr(p, name))]
        if not frames:
            return schema.empty(spec)
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    return AisData(
        positions=cat("positions", schema.POSITIONS),
        aux=cat("aux", schema.AUX_POSITIONS),
        statics=cat("statics", schema.VESSELS),
        binary=cat("binary", schema.BINARY),
        report=report,
    )
