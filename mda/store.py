"""The positions store: Parquet by UTC day; catalog, alerts and scan state in SQLite.

Layout of a store directory::

    positions/day=YYYY-MM-DD/<batch>-<n>.parquet   typed columns of schema.POSITIONS, zstd
    vessels.parquet                                static-data history (one row per change)
    mda.sqlite                                     catalog of parts and inputs, alerts, scans,
                                                   vessel state
    lock                                           flock(2) target; holds the owner's pid

Crash safety: each part is written to a temporary name and renamed into place, and only then
registered in the catalog together with its batch, in one SQLite transaction. Readers list parts
from the catalog, never from the directory, so a run killed half-way leaves a readable, consistent
store; the next ingest removes the orphaned files and the re-run completes. A write that fails
(disk full) removes its files and raises MdaError; what was committed before stays.

Read-only use (``Store(path, readonly=True)``) writes nothing, not even SQLite's -wal/-shm files,
so an archive on read-only media or owned by another user can be read. While a writer is active
its -wal file exists and is read through SQLite's read-only WAL mode; otherwise the database is
opened immutable (it is not expected to change while it is read).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import getpass
import hashlib
import itertools
import json
import logging
import operator
import os
import sqlite3
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs
import pyarrow.parquet as pq

from mda import progress, schema
from mda.config import FeedConfig, TracksConfig
from mda.errors import MdaError
from mda.feed_tally import LONGEST, FeedTally
from mda.fileio import reason, replacing
from mda.schema import utc
from mda.sources.base import (
    AisData,
    IngestReport,
    latest_vessels,
    type_order,
    vessel_changes,
)

log = logging.getLogger("mda")

#: Version of the on-disk layout and SQLite tables; bumped on incompatible changes.
#: 2: alerts carry status and updated; the vessel_state table. 3: alerts carry their review.
SCHEMA_VERSION = 3

#: Columns that make two position reports "the same report" (heard by two stations).
DEDUPE_KEY = ("mmsi", "msg_type", "lat", "lon", "sog", "cog", "heading")

#: Alerts of the same type and vessels (and zone, for schema.ZONE_EVENTS) this close in time
#: are one event.
MERGE_GAP = pd.Timedelta(hours=1)

#: What the store keeps of an event beyond schema.ALERTS: "open" while it lasts (see
#: mda.scan), else "closed", or "withdrawn" (see Store.save_scan); `updated` is the data time
#: of the scan that last changed it (the end of its window: the same data give the same
#: alerts, whatever the wall clock).
EVENT_COLUMNS: dict[str, str] = {"status": "string", "updated": schema.TS}
#: An analyst's review of an alert (see Store.review): one of schema.REVIEWS, the note, who
#: (the OS user) and when (wall clock). Scans never change it: an event updated or re-raised
#: keeps its id and so its review.
REVIEW_COLUMNS: dict[str, str] = {
    "review": "string",
    "review_note": "string",
    "reviewer": "string",
    "reviewed": schema.TS,
}
_REVIEW_SQL = (
    "review TEXT NOT NULL DEFAULT 'unreviewed'",
    "review_note TEXT",
    "reviewer TEXT",
    "reviewed TEXT",
)
#: Columns of a vessel's state: its last good fix as of the scan watermark.
STATE_COLUMNS = ["mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type"]

#: Parquet I/O on explicit local paths: a relative path with a colon is not taken for a URI.
_LOCAL = pyarrow.fs.LocalFileSystem()

_ROW_GROUP = 128 * 1024
#: Columns with few distinct values per part: dictionary-encoded (floats are not, it only costs).
_DICTIONARY_COLUMNS = ["mmsi", "nav_status", "msg_type", "source", "station"]
_ARROW_TYPES = {
    "uint32": pa.uint32(),
    schema.TS: pa.timestamp("ns", tz="UTC"),
    "float64": pa.float64(),
    "float32": pa.float32(),
    "uint8": pa.uint8(),
    "string": pa.string(),
}
POSITIONS_ARROW = pa.schema([(c, _ARROW_TYPES[t]) for c, t in schema.POSITIONS.items()])

_STATE_TABLES = """
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (status, mmsi);
CREATE TABLE IF NOT EXISTS vessel_state (
    mmsi INTEGER PRIMARY KEY, ts INTEGER NOT NULL, lat REAL, lon REAL, sog REAL, cog REAL,
    heading REAL, nav_status INTEGER, msg_type INTEGER, scan INTEGER NOT NULL);
"""

_TABLES = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, source TEXT NOT NULL,
    committed INTEGER NOT NULL DEFAULT 0, rows INTEGER NOT NULL DEFAULT 0,
    min_ts INTEGER, max_ts INTEGER);
CREATE TABLE IF NOT EXISTS parts (
    file TEXT PRIMARY KEY, batch INTEGER NOT NULL, day TEXT NOT NULL, rows INTEGER NOT NULL,
    min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, types TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS parts_time ON parts (min_ts, max_ts);
CREATE TABLE IF NOT EXISTS inputs (
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, name TEXT NOT NULL, ingested TEXT NOT NULL,
    PRIMARY KEY (sha256, size));
CREATE TABLE IF NOT EXISTS ingests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT,
    report TEXT);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, severity TEXT NOT NULL, mmsi INTEGER NOT NULL,
    other_mmsi INTEGER, vessel_name TEXT, t_start TEXT NOT NULL, t_end TEXT NOT NULL,
    lat REAL, lon REAL, zone_id TEXT, zone_kind TEXT, zone_name TEXT,
    evidence TEXT, thresholds TEXT, first_scan INTEGER, last_scan INTEGER,
    status TEXT NOT NULL DEFAULT 'closed', updated TEXT, {", ".join(_REVIEW_SQL)});
CREATE INDEX IF NOT EXISTS alerts_event ON alerts (type, mmsi);
CREATE INDEX IF NOT EXISTS alerts_start ON alerts (t_start);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, since TEXT, until TEXT,
    upto_batch INTEGER, alerts INTEGER NOT NULL, new_alerts INTEGER NOT NULL);
"""

#: Upgrades from each older schema version to the next, run in one transaction on open.
_MIGRATIONS = {
    1: "ALTER TABLE alerts ADD COLUMN status TEXT NOT NULL DEFAULT 'closed'; "
    "ALTER TABLE alerts ADD COLUMN updated TEXT; " + _STATE_TABLES,
    2: " ".join(f"ALTER TABLE alerts ADD COLUMN {c};" for c in _REVIEW_SQL),
}


def _now() -> str:
    return pd.Timestamp.now(tz="UTC").isoformat()


def _iso(t: Any) -> str | None:
    """Fixed-width ISO 8601 UTC text (sorts like time), or None."""
    t = utc(t)
    return None if t is None or pd.isna(t) else t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ns(t: pd.Timestamp) -> int:
    return int(t.value)


def _ns_array(ts: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch of a UTC timestamp column."""
    return ts.array.as_unit("ns").asi8


def _file_hash(path: Path) -> tuple[str, int] | None:
    """(sha256, size) of a file, or None when it cannot be read (the reader reports that)."""
    try:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        return digest, path.stat().st_size
    except OSError:
        return None


#: Most time spans a chunk's dedupe reads stored rows in (the largest gaps separate them).
_MAX_SPANS = 64


def _row_keys(cols: dict[str, np.ndarray]) -> np.ndarray:
    """A 64-bit hash per row of the DEDUPE_KEY columns (NaN equals NaN, -0.0 equals 0.0)."""
    h = np.zeros(len(cols["mmsi"]), dtype=np.uint64)
    for c in DEDUPE_KEY:
        v = cols[c]
        if v.dtype.kind == "f":
            v = v.astype(np.float64)  # a copy: the caller's column is left alone
            v[np.isnan(v)] = np.nan
            bits = (v + 0.0).view(np.uint64)
        else:
            bits = v.astype(np.uint64)
        h = _fmix64(h ^ bits)
    return h


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: every input bit affects every output bit."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _spans(ts: np.ndarray, window: int) -> np.ndarray:
    """[lo, hi] rows (ns) covering every time of sorted `ts` +- `window`, at most _MAX_SPANS."""
    gaps = np.diff(ts)
    cut = np.flatnonzero(gaps > 2 * window)
    if len(cut) >= _MAX_SPANS:
        cut = np.sort(cut[np.argpartition(gaps[cut], -(_MAX_SPANS - 1))[-(_MAX_SPANS - 1) :]])
    lo = ts[np.r_[0, cut + 1]] - window
    hi = ts[np.r_[cut, len(ts) - 1]] + window
    return np.stack([lo, hi], axis=1)


class Store:
    """A directory of AIS positions (Parquet by UTC day) with catalog, alerts and scans (SQLite).

    `create=False` refuses a missing store with MdaError instead of creating an empty one.
    `readonly=True` (implies create=False) opens it for reading only and writes nothing.
    `config` supplies `duplicate_window_s` for the two-station dedupe.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        create: bool = True,
        readonly: bool = False,
        config: TracksConfig | None = None,
    ):
        self.path = Path(path)
        self.readonly = readonly
        self._root = self.path.absolute()  # files are opened by absolute path, never as URIs
        self.window = pd.Timedelta(seconds=(config or TracksConfig()).duplicate_window_s)
        db = self._root / "mda.sqlite"
        #: What this object created: "" nothing, "db" the database, "dir" the directory too.
        self._fresh = "" if db.exists() else "db" if self.path.exists() else "dir"
        if not db.exists():
            if not create or readonly:
                raise MdaError(f"{self.path}: not an mda store")
            if self.path.exists() and not self.path.is_dir():
                raise MdaError(f"{self.path}: exists and is not a directory")
            try:
                (self.path / "positions").mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise MdaError(f"{self.path}: cannot create store: {e.strerror}") from None
        self._db = self._connect(db)
        self._lock_depth = 0

    # -- SQLite -------------------------------------------------------------------------------

    def _connect(self, db: Path) -> sqlite3.Connection:
        if not self.readonly and db.exists() and not _writable(db):
            raise MdaError(
                f"{self.path}: cannot write the store (read-only to this user or on read-only "
                "media): ingest and scan need write access; info, alerts, tracks and report "
                "only read it"
            )
        try:
            if self.readonly:
                con = self._open_readonly(db)
            else:
                con = _open(db, "mode=rwc")
                con.execute("PRAGMA journal_mode=WAL")
            if not con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                if self.readonly:
                    raise MdaError(f"{db}: not an mda store database (empty)")
                con.executescript(
                    f"BEGIN IMMEDIATE; {_TABLES} {_STATE_TABLES} INSERT OR IGNORE INTO meta "
                    f"VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
                )
            row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError as e:  # I/O, a full disk, locks: not the file's fault
            raise MdaError(f"{self.path}: cannot open the store: {reason(e, db.parent)}") from None
        except sqlite3.DatabaseError as e:
            raise MdaError(f"{db}: not an mda store database ({reason(e)})") from None
        if row is None:
            raise MdaError(f"{db}: not an mda store database (no schema version)")
        version = int(row[0])
        if version < SCHEMA_VERSION:
            self._migrate(con, version)
        if version > SCHEMA_VERSION:
            raise MdaError(
                f"{self.path}: store written by a newer mda (schema version {version}, this mda "
                f"reads {SCHEMA_VERSION}); upgrade mda to use it"
            )
        return con

    def _migrate(self, con: sqlite3.Connection, version: int) -> None:
        """Upgrade a store of an older schema version in place (one transaction), or refuse."""
        older = f"{self.path}: store written by an older mda (schema version {version}, this mda "
        if not all(v in _MIGRATIONS for v in range(version, SCHEMA_VERSION)):
            raise MdaError(
                f"{older}uses {SCHEMA_VERSION}); ingest the inputs again into a new store"
            )
        if self.readonly:
            raise MdaError(
                f"{older}uses {SCHEMA_VERSION}); a run with write access (mda scan --store) "
                "upgrades it"
            )
        steps = " ".join(_MIGRATIONS[v] for v in range(version, SCHEMA_VERSION))
        try:
            con.executescript(
                f"BEGIN IMMEDIATE; {steps} UPDATE meta SET value='{SCHEMA_VERSION}' "
                "WHERE key='schema_version'; COMMIT;"
            )
        except sqlite3.Error as e:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise MdaError(f"{self.path}: cannot upgrade the store: {reason(e)}") from None
        log.info("%s: store upgraded to schema version %d", self.path, SCHEMA_VERSION)

    @staticmethod
    def _open_readonly(db: Path) -> sqlite3.Connection:
        """A read-only connection that creates no file (see the module docstring)."""
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            try:  # a writer is (or was) active: read its -wal through the existing -shm
                con = _open(db, "mode=ro")
                con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
                return con
            except sqlite3.OperationalError as e:
                if wal.stat().st_size:
                    log.warning(
                        "%s: changes in %s cannot be read without write access (%s); "
                        "reading the database as it was before them",
                        db,
                        wal.name,
                        e,
                    )
        return _open(db, "mode=ro&immutable=1")

    def close(self) -> None:
        """Close the database connection (also done when the object is garbage collected)."""
        self._db.close()

    # -- lock ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, timeout: float = 0) -> Iterator[None]:
        """Hold the store's exclusive lock (flock on <store>/lock) for the duration.

        Re-entrant for this Store object. Raises MdaError naming the holder's pid when another
        process (or another Store object) holds it for longer than `timeout` seconds
        (math.inf waits as long as it takes).
        """
        if self.readonly:
            raise MdaError(f"{self.path}: opened read-only")
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        try:
            fd = os.open(self._root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise MdaError(f"{self.path}: cannot lock the store: {e.strerror}") from None
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                        raise MdaError(
                            f"{self.path}: store is busy, locked by another mda process "
                            f"(pid {pid}); --wait [SECONDS] waits for it"
                        ) from None
                    time.sleep(min(0.05, max(deadline - time.monotonic(), 0.001)))
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            os.close(fd)  # releases the flock

    # -- writing ------------------------------------------------------------------------------

    def ingest(
        self,
        inputs: str | os.PathLike | Iterable,
        *,
        start_time: Any = None,
        chunk_rows: int = 500_000,
        wait: float = 0,
        decode: Any = None,
    ) -> IngestReport:
        """Decode `inputs` (paths, directories, "-" for stdin) chunk by chunk into the store.

        A file whose size and sha256 were ingested before is skipped with a note; rows already
        stored (the same report, possibly heard by another station) are not stored again.
        Memory is bounded by `chunk_rows`, not by the size of the inputs or of the store.
        `wait` is how many seconds to wait for a busy store (see `lock`). When no input can be
        read into a store this object created, the store is removed again (and this object
        closed): a mistyped path leaves no empty store behind. `decode(src, start_time=,
        chunk_rows=)` yields the decoded chunks of one input (default mda.sources.iter_ais; the
        Dask engine decodes them on its workers).
        """
        try:
            report = self._ingest(
                inputs, start_time=start_time, chunk_rows=chunk_rows, wait=wait, decode=decode
            )
        except MdaError:
            if self._fresh and not self._db.execute("SELECT 1 FROM parts LIMIT 1").fetchone():
                self._discard()
            raise
        self._fresh = ""
        return report

    def _ingest(
        self, inputs: Any, *, wait: float, decode: Any, **read_options: Any
    ) -> IngestReport:
        from mda.sources import expand_inputs, none_read, warn_skipped

        report = IngestReport(feed=FeedTally())
        report.stored = 0
        with self.lock(timeout=wait):
            self._cleanup()
            with self._writing():
                cur = self._db.execute("INSERT INTO ingests (started) VALUES (?)", (_now(),))
            failures, read = [], 0
            for src in expand_inputs(inputs):
                if read:
                    warn_skipped(failures)
                try:
                    self._ingest_one(src, report, decode, **read_options)
                    read += 1
                except MdaError as e:  # unreadable: already counted in the report
                    if not self._unreadable(report, str(src)):
                        raise  # the store itself failed: never pass that off as a bad input
                    failures.append(str(e))
            if not read:
                raise none_read(failures)
            warn_skipped(failures)
            report.finish()
            with self._writing():
                self._db.execute(
                    "UPDATE ingests SET finished=?, report=? WHERE id=?",
                    (_now(), report.to_json(), cur.lastrowid),
                )
        return report

    def _discard(self) -> None:
        """Remove the store this object created (and close it): its first ingest stored nothing,
        and a mistyped input leaves no empty store behind. Files it did not create stay."""
        self.close()
        for name in ("mda.sqlite", "mda.sqlite-wal", "mda.sqlite-shm", "lock"):
            (self._root / name).unlink(missing_ok=True)
        folders = [self._root / "positions", *([self._root] if self._fresh == "dir" else [])]
        for folder in folders:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty

    def _ingest_one(self, src: Any, report: IngestReport, decode: Any, **read_options: Any) -> None:
        """Ingest one input of mda.sources.expand_inputs: a file path, "-" or a line iterable.

        Static reports are reduced to changes chunk by chunk and saved once, after the input's
        positions (a run killed before that re-reads the input, whose hash is not yet recorded).
        """
        from mda.sources import iter_ais

        # one thread hashes a file while it is read, another stores a chunk while the next one
        # is decoded; chunks are stored one at a time, in order, so each is deduplicated against
        # the ones before it
        with ThreadPoolExecutor(1) as pool, ThreadPoolExecutor(1) as writer:
            hashing = pool.submit(_file_hash, src) if isinstance(src, Path) else None
            if hashing and self._seen(src, hashing, report):
                return
            statics: list[pd.DataFrame] = []
            storing: Future | None = None
            for chunk in progress.chunks((decode or iter_ais)(src, **read_options), "ingest"):
                name = chunk.report.files[0] if chunk.report.files else "<lines>"
                report.merge(chunk.report)
                report.feed.add(chunk.positions["ts"], chunk.positions["mmsi"].to_numpy())
                if len(chunk.statics):
                    statics = [
                        vessel_changes(pd.concat([*statics, chunk.statics], ignore_index=True))
                    ]
                if storing is not None:
                    report.stored += storing.result()
                storing = writer.submit(self._add_positions, chunk.positions, source=name)
                del chunk  # its positions are freed once stored
            if storing is not None:
                report.stored += storing.result()
            if statics:
                self._save_statics(statics[0])
            fingerprint = hashing.result() if hashing else None
        if fingerprint and not self._unreadable(report, str(src)):
            with self._writing():
                self._db.execute(
                    "INSERT OR REPLACE INTO inputs VALUES (?, ?, ?, ?)",
                    (*fingerprint, str(src), _now()),
                )

    def _seen(self, src: Path, hashing: Future, report: IngestReport) -> bool:
        """True, with a note in `report`, when `src` has the size and sha256 of a stored input.

        The hash is awaited only when an input of the same size is known: a file of a new size
        is new, and its hash is finished while it is read.
        """
        try:
            size = src.stat().st_size
        except OSError:
            return False  # the reader reports it
        if not self._db.execute("SELECT 1 FROM inputs WHERE size=? LIMIT 1", (size,)).fetchone():
            return False
        fingerprint = hashing.result()
        seen = (
            fingerprint
            and self._db.execute(
                "SELECT name, ingested FROM inputs WHERE sha256=? AND size=?", fingerprint
            ).fetchone()
        )
        if not seen:
            return False
        report.files.append(str(src))
        report.warnings.append(f"{src}: skipped, same content as {seen[0]} ingested {seen[1][:19]}")
        return True

    @staticmethod
    def _unreadable(report: IngestReport, name: str) -> bool:
        """Whether input `name` was not read to its end (unreadable, or broken off part-way)."""
        return name in report.failed

    def add(self, data: AisData, *, source: str) -> int:
        """Store already-decoded AIS (simulator, scan, demo) with the same dedupe; rows stored.

        Positions whose `source` is missing or empty get `source`.
        """
        with self.lock():
            self._cleanup()
            return len(self.append(data, source=source))

    def append(self, data: AisData, *, source: str) -> pd.DataFrame:
        """`add` for a live feed (mda.watch): the positions stored (schema.POSITIONS, by ts),
        without the repeats the store already holds."""
        with self.lock():
            if len(data.statics):
                self._save_statics(data.statics)
            return self._store_positions(data.positions, source=source)

    def _add_positions(self, positions: pd.DataFrame, *, source: str) -> int:
        """Store the positions that are not repeats (see _new_rows) as one batch; rows stored."""
        return len(self._store_positions(positions, source=source))

    def _store_positions(self, positions: pd.DataFrame, *, source: str) -> pd.DataFrame:
        """_add_positions's work: the rows stored."""
        pos = schema.conform(positions, schema.POSITIONS, extra=False)
        ts = _ns_array(pos["ts"])
        order = np.flatnonzero(ts != np.iinfo(np.int64).min)  # NaT is dropped
        ordered = bool((np.diff(ts[order]) >= 0).all())
        if not ordered:
            order = order[np.argsort(ts[order], kind="stable")]
        if not ordered or len(order) < len(pos):
            pos = pos.take(order).reset_index(drop=True)
        if pos.empty:
            return pos
        src = pos["source"]
        named = src.notna() & (src != "")
        if not named.all():
            pos["source"] = src.where(named, source)
        if pos["station"].isna().any():
            pos["station"] = pos["station"].fillna("")
        keep = self._new_rows(pos)
        if not keep.all():
            pos = pos[keep].reset_index(drop=True)
        if pos.empty:
            return pos
        self._write_batch(pos, source)
        return pos

    def _new_rows(self, pos: pd.DataFrame) -> np.ndarray:
        """Mask of the rows of `pos` (ordered by ts) repeating no stored row and no earlier row.

        A repeat has the same DEDUPE_KEY values and a receive time within the duplicate window
        of its neighbour in time (chains of repeats collapse to their first row). Rows are
        matched by a 64-bit hash of their key, then compared value by value.
        """
        new = {c: pos[c].to_numpy() for c in DEDUPE_KEY}
        ts_new = _ns_array(pos["ts"])
        key_new = _row_keys(new)
        old, ts_old, key_old = self._stored_repeats(pos["mmsi"].unique(), ts_new, key_new)
        n_old = len(ts_old)
        key = np.concatenate([key_old, key_new])
        ts = np.concatenate([ts_old, ts_new])
        # only rows whose key occurs more than once can be repeats
        rows = np.flatnonzero(pd.Index(key).duplicated(keep=False))
        order = rows[np.lexsort((ts[rows], key[rows]))]
        key, ts = key[order], ts[order]
        close = (key[1:] == key[:-1]) & (np.diff(ts) <= self.window.value)
        pairs = np.flatnonzero(close)
        a, b = order[pairs], order[pairs + 1]
        for c in DEDUPE_KEY:
            both = np.concatenate([old[c], new[c]]).astype(np.float64)
            x, y = both[a], both[b]
            close[pairs] &= (x == y) | (np.isnan(x) & np.isnan(y))
        is_new = order >= n_old
        repeat = np.zeros(len(order), dtype=bool)
        repeat[1:] |= close  # the previous row is the same report
        repeat[:-1] |= close & ~is_new[1:]  # the next row is the same report, already stored
        keep = np.ones(len(ts_new), dtype=bool)
        keep[order[repeat & is_new] - n_old] = False
        return keep

    def _stored_repeats(
        self, mmsis: np.ndarray, ts: np.ndarray, key: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Stored rows that may be repeats of rows with times `ts` and keys `key`.

        Only the key columns of the chunk's MMSIs within the duplicate window of its times are
        read, batch by batch, and only rows whose key hash is in `key` are kept: memory stays
        bounded by the chunk, whatever the store holds. The times are cut into at most
        _MAX_SPANS spans: only parts that meet a span are opened, and Parquet row-group
        statistics skip what lies between the spans.
        """
        cols = [*DEDUPE_KEY, "ts"]
        spans = _spans(ts, self.window.value)
        rows = self._db.execute(
            "SELECT file, min_ts, max_ts FROM parts WHERE max_ts >= ? AND min_ts <= ? "
            "ORDER BY file",
            (int(spans[0, 0]), int(spans[-1, 1])),
        ).fetchall()
        first, last = (np.array([r[i] for r in rows], dtype=np.int64) for i in (1, 2))
        # the first span ending at or after a part's start must begin before the part ends
        at = np.searchsorted(spans[:, 1], first)
        meets = (at < len(spans)) & (spans[np.minimum(at, len(spans) - 1), 0] <= last)
        files = [str(self._root / rows[i][0]) for i in np.flatnonzero(meets)]
        empty = {c: np.empty(0, dtype=schema.POSITIONS[c]) for c in DEDUPE_KEY}
        if not files:
            return empty, np.empty(0, np.int64), np.empty(0, np.uint64)
        field, unit = ds.field("ts"), pa.timestamp("ns", tz="UTC")
        in_time = [
            (field >= pa.scalar(int(lo), unit)) & (field <= pa.scalar(int(hi), unit))
            for lo, hi in spans
        ]
        filt = functools.reduce(operator.or_, in_time)
        filt &= ds.field("mmsi").isin(pa.array(mmsis, pa.uint32()))
        wanted = np.sort(key)
        found: dict[str, list[np.ndarray]] = {c: [] for c in cols}
        try:
            scanner = _dataset(files).scanner(columns=cols, filter=filt)
            for batch in scanner.to_batches():
                vals = {c: batch.column(c).to_numpy(zero_copy_only=False) for c in cols}
                k = _row_keys(vals)
                at = np.minimum(np.searchsorted(wanted, k), len(wanted) - 1)
                hit = wanted[at] == k
                for c in cols:
                    found[c].append(vals[c][hit])
        except (OSError, pa.ArrowException) as e:
            raise MdaError(f"{self.path}: cannot read stored positions: {e}") from None
        if not found["ts"]:
            return empty, np.empty(0, np.int64), np.empty(0, np.uint64)
        old = {c: np.concatenate(found[c]) for c in DEDUPE_KEY}
        ts_old = np.concatenate(found["ts"]).astype("datetime64[ns]").view(np.int64)
        return old, ts_old, _row_keys(old)

    def _write_batch(self, pos: pd.DataFrame, source: str) -> None:
        """Write a batch ordered by ts: a Parquet part per UTC day, registered in one transaction.

        Parts are sorted by time, so Parquet row-group statistics narrow reads by time. When a
        write fails the batch's files are removed at once (the catalog never listed them).
        """
        written: list[Path] = []
        try:
            with self._writing():
                self._write_parts(pos, source, written)
        except BaseException:
            for f in written:
                f.unlink(missing_ok=True)
            raise

    def _write_parts(self, pos: pd.DataFrame, source: str, written: list[Path]) -> None:
        """_write_batch's work; each part file is added to `written` once it is in place."""
        cur = self._db.execute(
            "INSERT INTO batches (created, source) VALUES (?, ?)", (_now(), source)
        )
        batch = cur.lastrowid
        ts = _ns_array(pos["ts"])
        msg_type = pos["msg_type"].to_numpy()
        days = ts.astype("datetime64[ns]").astype("datetime64[D]")
        cuts = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1), len(pos)]
        table = pa.Table.from_pandas(pos, schema=POSITIONS_ARROW, preserve_index=False)
        parts = []
        for n, (lo, hi) in enumerate(itertools.pairwise(cuts)):
            label = str(days[lo])
            final = self._root / "positions" / f"day={label}" / f"{batch}-{n}.parquet"
            with replacing(final, what="stored positions") as (tmp,):
                pq.write_table(
                    table.slice(lo, hi - lo),
                    str(tmp),
                    filesystem=_LOCAL,
                    compression="zstd",
                    row_group_size=_ROW_GROUP,
                    use_dictionary=_DICTIONARY_COLUMNS,
                )
            written.append(final)
            types = np.bincount(msg_type[lo:hi], minlength=1)
            parts.append(
                (
                    str(final.relative_to(self._root)),
                    batch,
                    label,
                    int(hi - lo),  # a numpy integer would be stored as a BLOB
                    int(ts[lo]),
                    int(ts[hi - 1]),
                    json.dumps({str(k): int(v) for k, v in enumerate(types) if v}),
                )
            )
        with _transaction(self._db):
            self._db.executemany("INSERT INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)", parts)
            self._db.execute(
                "UPDATE batches SET committed=1, rows=?, min_ts=?, max_ts=? WHERE id=?",
                (len(pos), int(ts[0]), int(ts[-1]), batch),
            )

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn a failed store write (disk full, I/O error) into one line naming the store."""
        try:
            yield
        except (OSError, sqlite3.OperationalError) as e:  # not constraint errors: those are bugs
            raise MdaError(
                f"{self.path}: cannot write the store: {reason(e, self._root)}"
            ) from None

    def _cleanup(self) -> None:
        """Remove what a killed run left: uncommitted batches and files not in the catalog."""
        with self._writing():
            known = {r[0] for r in self._db.execute("SELECT file FROM parts")}
            for f in (self._root / "positions").glob("day=*/*"):
                if str(f.relative_to(self._root)) not in known:
                    f.unlink(missing_ok=True)
            self._db.execute("DELETE FROM batches WHERE committed=0")

    def _save_statics(self, statics: pd.DataFrame) -> None:
        """Fold new static reports into the change history (vessels.parquet, atomically)."""
        history = vessel_changes(pd.concat([self.vessel_history(), statics], ignore_index=True))
        with replacing(self._root / "vessels.parquet", what="the vessel history") as (tmp,):
            history.to_parquet(str(tmp), filesystem=_LOCAL, compression="zstd", index=False)

    # -- reading ------------------------------------------------------------------------------

    def _parts(self, since: pd.Timestamp | None, until: pd.Timestamp | None) -> list[str]:
        """Catalogued part files whose time range meets [since, until)."""
        sql, args = "SELECT file FROM parts WHERE 1=1", []
        if since is not None:
            sql += " AND max_ts >= ?"
            args.append(_ns(since))
        if until is not None:
            sql += " AND min_ts < ?"
            args.append(_ns(until))
        return [str(self._root / r[0]) for r in self._db.execute(sql + " ORDER BY file", args)]

    def _read(self, since, until, mmsi, columns) -> pd.DataFrame:
        files = self._parts(since, until)
        cols = list(columns or schema.POSITIONS)
        spec = {c: schema.POSITIONS[c] for c in cols}
        if not files:
            return schema.empty(spec)
        filt = None
        if since is not None:
            filt = ds.field("ts") >= pa.scalar(since, pa.timestamp("ns", tz="UTC"))
        if until is not None:
            f = ds.field("ts") < pa.scalar(until, pa.timestamp("ns", tz="UTC"))
            filt = f if filt is None else filt & f
        if mmsi is not None:
            f = ds.field("mmsi").isin(pa.array(np.asarray(mmsi, dtype=np.uint32)))
            filt = f if filt is None else filt & f
        try:
            table = _dataset(files).to_table(columns=cols, filter=filt)
        except (OSError, pa.ArrowException) as e:
            raise MdaError(f"{self.path}: cannot read stored positions: {e}") from None
        df = table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
        return schema.conform(df, spec, extra=False)

    def positions(
        self,
        since: Any = None,
        until: Any = None,
        mmsi: int | Iterable[int] | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Stored positions in [since, until) (UTC), optionally of some MMSIs, by mmsi then ts.

        `columns` selects a subset of schema.POSITIONS (mmsi and ts are always included).
        """
        if mmsi is not None:
            mmsi = [int(mmsi)] if np.isscalar(mmsi) else [int(m) for m in mmsi]
        cols = None
        if columns is not None:
            unknown = sorted(set(columns) - set(schema.POSITIONS))
            if unknown:
                raise MdaError(f"unknown position columns: {', '.join(unknown)}")
            cols = [c for c in schema.POSITIONS if c in {"mmsi", "ts", *columns}]
        df = self._read(utc(since), utc(until), mmsi, cols)
        order = np.lexsort((df["ts"].array.asi8, df["mmsi"].to_numpy()))  # stable, by mmsi, ts
        return df.take(order).reset_index(drop=True)

    def vessel_history(self) -> pd.DataFrame:
        """Every observed change of static data (schema.VESSELS rows, ts = first seen)."""
        f = self._root / "vessels.parquet"
        if not f.exists():
            return schema.empty(schema.VESSELS)
        try:
            table = pq.read_table(str(f), filesystem=_LOCAL)
            return schema.conform(table.to_pandas(), schema.VESSELS, extra=False)
        except (OSError, pa.ArrowException) as e:
            raise MdaError(f"{f}: cannot read the vessel history: {e}") from None

    def vessels(self) -> pd.DataFrame:
        """The latest static data per MMSI (schema.VESSELS)."""
        return latest_vessels(self.vessel_history())

    def info(self, feed: FeedConfig | None = None) -> dict[str, Any]:
        """What the store holds: positions, vessels, time span, days, message types, runs, and
        the feed's health (see `feed_health`; `feed` sets its thresholds)."""
        q = self._db.execute
        rows, first, last, days = q(
            "SELECT COALESCE(SUM(rows), 0), MIN(min_ts), MAX(max_ts), COUNT(DISTINCT day) "
            "FROM parts"
        ).fetchone()
        stored: Counter = Counter()  # positions by message type, as stored (deduplicated)
        for (t,) in q("SELECT types FROM parts"):
            stored.update(json.loads(t))
        decoded: Counter = Counter()  # every message the ingests decoded, statics included
        for (r,) in q("SELECT report FROM ingests WHERE report IS NOT NULL"):
            decoded.update(json.loads(r).get("messages_by_type", {}))
        scan = q("SELECT time FROM scans ORDER BY id DESC LIMIT 1").fetchone()
        tally = self._tally(feed)
        return {
            "path": str(self.path),
            "positions": int(rows),
            "vessels": tally.vessels,
            "vessels_with_static_data": len(self.vessels()),
            "first": _iso(pd.Timestamp(first, tz="UTC")) if first is not None else None,
            "last": _iso(pd.Timestamp(last, tz="UTC")) if last is not None else None,
            "days": int(days),
            "positions_by_type": {k: stored[k] for k in sorted(stored, key=type_order)},
            "messages_decoded_by_type": {k: decoded[k] for k in sorted(decoded, key=type_order)},
            "ingests": q("SELECT COUNT(*) FROM ingests WHERE finished IS NOT NULL").fetchone()[0],
            "alerts": q("SELECT COUNT(*) FROM alerts").fetchone()[0],
            "last_scan": scan[0] if scan else None,
            "feed": self._feed_health(tally),
        }

    def feed_health(self, cfg: FeedConfig | None = None) -> dict[str, Any]:
        """The feed's outages over everything stored (mda.feed_tally) and the holes: days between
        the first and the last with nothing stored (data sets years apart, a missing day).

        Only the ts and mmsi columns are read, batch by batch: memory of vessels x time bins,
        not of positions. Facts about the feed, never about a vessel.
        """
        return self._feed_health(self._tally(cfg))

    def _feed_health(self, tally: FeedTally) -> dict[str, Any]:
        days = [r[0] for r in self._db.execute("SELECT DISTINCT day FROM parts ORDER BY day")]
        return {**tally.summary(), **_day_holes(days)}

    def _tally(self, cfg: FeedConfig | None) -> FeedTally:
        """The (time bin, vessel) pairs of every stored position (see feed_health)."""
        first = self._db.execute("SELECT MIN(min_ts) FROM parts").fetchone()[0]
        tally = FeedTally(cfg or FeedConfig(), base=None if first is None else first / 1e9)
        files = self._parts(None, None)
        try:
            for batch in _dataset(files).scanner(columns=["ts", "mmsi"]).to_batches():
                ts, mmsi = (batch.column(c).to_numpy(zero_copy_only=False) for c in ("ts", "mmsi"))
                tally.add(ts, mmsi)
        except (OSError, pa.ArrowException) as e:
            raise MdaError(f"{self.path}: cannot read stored positions: {e}") from None
        return tally

    # -- scans and alerts ---------------------------------------------------------------------

    def watermark(self) -> int:
        """The newest batch a scan making progress has seen (0 before any)."""
        return self._db.execute("SELECT COALESCE(MAX(upto_batch), 0) FROM scans").fetchone()[0]

    def pending(self) -> tuple[int, pd.Timestamp, pd.Timestamp] | None:
        """(latest batch id, min ts, max ts) of batches stored since the last scan, or None."""
        row = self._db.execute(
            "SELECT MAX(id), MIN(min_ts), MAX(max_ts) FROM batches WHERE committed=1 AND "
            "id > (SELECT COALESCE(MAX(upto_batch), 0) FROM scans)"
        ).fetchone()
        if row[0] is None:
            return None
        return int(row[0]), pd.Timestamp(row[1], tz="UTC"), pd.Timestamp(row[2], tz="UTC")

    def save_scan(
        self,
        alerts: pd.DataFrame,
        *,
        upto_batch: int | None,
        window: tuple[Any, Any],
        states: pd.DataFrame | None = None,
        examined: Iterable[int] = (),
    ) -> pd.DataFrame:
        """Record a scan, upsert its alerts and vessel `states` in one transaction; return the
        new alerts only.

        An alert is not new when its id is stored, or when a stored alert of the same type and
        vessels (and zone, for schema.ZONE_EVENTS) overlaps it or lies within MERGE_GAP of it:
        the stored one is then updated in place and keeps its id (start/end widened, severity
        never lowered; evidence, zone, status and `updated` taken from the newer view, see
        `_upsert`). `alerts` may carry a `status` column (EVENT_COLUMNS), else all are closed,
        and a `whole` column (see `_upsert`), else none is; a look back (`upto_batch` None)
        never changes the status of a stored alert.
        `states` (STATE_COLUMNS: each vessel's last good fix in the scan) replace older stored
        states. An open alert of a vessel in `states` that this scan did not find again is
        withdrawn: the scan read the vessel's fixes since the event's start (mda.scan), and with
        more of them the event is not one (an hour of drifting looked like anchoring); `alerts`
        leaves withdrawn alerts out unless asked. So is an open ais_gap (dark now) of a vessel
        in `examined` (judged for a silence going on to the end of the data) not found again.
        """
        spec = {**schema.ALERTS, "status": "string", "whole": "boolean"}
        incoming = schema.conform(alerts, spec, extra=False)
        incoming["status"] = incoming["status"].fillna("closed")
        incoming["whole"] = incoming["whole"].fillna(False)
        incoming = incoming.sort_values("start")
        with self._writing(), _transaction(self._db):
            updated = _iso(window[1]) or _iso(
                pd.Timestamp(self._db.execute("SELECT MAX(max_ts) FROM parts").fetchone()[0] or 0)
            )
            cur = self._db.execute(
                "INSERT INTO scans (time, since, until, upto_batch, alerts, new_alerts) "
                "VALUES (?, ?, ?, ?, ?, 0)",
                (_now(), _iso(window[0]), _iso(window[1]), upto_batch, len(incoming)),
            )
            scan_id = cur.lastrowid
            progress = upto_batch is not None
            new_ids = [
                self._upsert(rec, scan_id, updated, progress=progress)
                for rec in incoming.to_dict("records")
            ]
            new_ids = [i for i in new_ids if i is not None]
            self._db.execute("UPDATE scans SET new_alerts=? WHERE id=?", (len(new_ids), scan_id))
            if states is not None and len(states):
                self._save_states(states, scan_id, updated)
            self._db.execute(  # only a dark-now ais_gap is open (mda.detect.gaps)
                "UPDATE alerts SET status='withdrawn', updated=? WHERE status='open' AND "
                "type='ais_gap' AND last_scan < ? AND mmsi IN (SELECT value FROM json_each(?))",
                (updated, scan_id, json.dumps([int(m) for m in examined])),
            )
        if not new_ids:
            return self._alerts("0", [])
        # a dismissed event is never news (an id is new only when inserted: said for clarity)
        new = self._alerts(f"id IN ({_marks(new_ids)}) AND review != 'dismissed'", new_ids)
        return new.reset_index(drop=True)

    def _save_states(self, states: pd.DataFrame, scan_id: int, updated: str) -> None:
        """Keep each vessel's newest state; close the open alerts this scan did not renew."""
        st = schema.conform(states, {c: schema.POSITIONS[c] for c in STATE_COLUMNS}, extra=False)
        cols = {c: st[c].astype("float64").to_numpy() for c in STATE_COLUMNS[2:]}
        rows = zip(
            st["mmsi"].astype("int64").tolist(),
            _ns_array(st["ts"]).tolist(),
            *([None if np.isnan(v) else float(v) for v in cols[c]] for c in cols),
            itertools.repeat(scan_id),
            strict=False,
        )
        self._db.executemany(
            "INSERT INTO vessel_state VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(mmsi) DO UPDATE "
            "SET ts=excluded.ts, lat=excluded.lat, lon=excluded.lon, sog=excluded.sog, "
            "cog=excluded.cog, heading=excluded.heading, nav_status=excluded.nav_status, "
            "msg_type=excluded.msg_type, scan=excluded.scan WHERE excluded.ts >= vessel_state.ts",
            rows,
        )
        self._db.execute(
            "UPDATE alerts SET status='withdrawn', updated=? WHERE status='open' AND last_scan < ? "
            "AND (mmsi IN (SELECT mmsi FROM vessel_state WHERE scan=?) "
            "OR other_mmsi IN (SELECT mmsi FROM vessel_state WHERE scan=?))",
            (updated, scan_id, scan_id, scan_id),
        )

    def vessel_states(
        self, mmsi: Iterable[int] | None = None, *, since: Any = None
    ) -> pd.DataFrame:
        """Each vessel's last good fix as of the scan watermark (STATE_COLUMNS), by mmsi: of
        the vessels `mmsi` and of every vessel last heard at or after `since` (the scheduled
        scan's dark-now horizon); of all vessels when neither is given."""
        sql, args, where = f"SELECT {', '.join(STATE_COLUMNS)} FROM vessel_state", [], []
        if mmsi is not None:
            args = [int(m) for m in mmsi]
            where.append(f"mmsi IN ({_marks(args)})" if args else "0")
        if since is not None:
            where.append("ts >= ?")
            args.append(_ns(utc(since)))
        if where:
            sql += " WHERE " + " OR ".join(where)
        df = pd.DataFrame(self._db.execute(sql + " ORDER BY mmsi", args).fetchall())
        df = df.set_axis(STATE_COLUMNS, axis=1) if len(df) else pd.DataFrame(columns=STATE_COLUMNS)
        df["ts"] = pd.to_datetime(df["ts"].astype("int64"), utc=True)
        for c in ("sog", "cog", "heading"):
            df[c] = df[c].astype("float64")
        spec = {c: schema.POSITIONS[c] for c in STATE_COLUMNS}
        return schema.conform(df.fillna({"nav_status": 15, "msg_type": 0}), spec, extra=False)

    def scan_alerts(self, ids: Iterable[str] = ()) -> pd.DataFrame:
        """The alerts the latest scan found or updated, and the alerts `ids` whatever their
        status (an open one may have been withdrawn): what `mda watch` compares with the lines
        it wrote."""
        ids = list(ids)
        where = "last_scan = (SELECT MAX(id) FROM scans)"
        if ids:
            where += f" OR id IN ({_marks(ids)})"
        return self._alerts(where, ids).reset_index(drop=True)

    def open_alerts(self) -> pd.DataFrame:
        """The alerts still open (events going on at the last scan), by start."""
        return self._alerts("status='open'", [])

    def _upsert(
        self, a: dict[str, Any], scan_id: int, updated: str, *, progress: bool
    ) -> str | None:
        """Insert or update one alert; its id when it is new, else None.

        A `whole` view (the scan saw its vessels before the event began, so its start is the
        event's own) from a scan making `progress` that ends no earlier than the stored one is
        the event as the data now show it: it replaces start, end, evidence, zone, position and
        status (what a run saw of an event still going on may differ at its edges). Any other
        view widens the end, and the start when it is whole; when it ends later its evidence,
        zone and position replace the stored ones, and its status too when the scan makes
        `progress`; when it ends at the same time, only its status (a progress scan that saw the
        vessel after the event knows it is over). A view cut by the start of the data a run read
        changes nothing else, and a view that is not whole and begins after an event already
        over (closed or withdrawn) does not join it: the scan that found that event read the
        context this view lacks (a jump back from a spoofed position, read without the jump
        out, looks like a relocation).
        """
        other = None if pd.isna(a["other_mmsi"]) else int(a["other_mmsi"])
        zone = _text(a["zone_id"])
        start, end = utc(a["start"]), utc(a["end"])
        end = start if end is None or pd.isna(end) else end
        subtype = schema.alert_subtype(a["type"], a["evidence"])
        if _text(a["id"]) is None:
            a["id"] = schema.alert_id(a["type"], a["mmsi"], other, zone, start, subtype)
        match = self._db.execute(
            "SELECT id, severity, t_start, t_end, status FROM alerts WHERE id=?", (a["id"],)
        ).fetchone()
        if match is None:
            match = self._db.execute(
                "SELECT id, severity, t_start, t_end, status FROM alerts WHERE type=? AND mmsi=? "
                "AND other_mmsi IS ? AND (? = 0 OR zone_id IS ?) AND t_start <= ? "
                "AND t_end >= ? AND (? IS NULL OR json_extract(evidence, '$.kind') = ?) "
                "ORDER BY t_start LIMIT 1",
                (
                    a["type"],
                    int(a["mmsi"]),
                    other,
                    int(a["type"] in schema.ZONE_EVENTS),
                    zone,
                    _iso(end + MERGE_GAP),
                    _iso(start - MERGE_GAP),
                    subtype,
                    subtype,
                ),
            ).fetchone()
        evidence = _json(a["evidence"])
        view = (
            _num(a["lat"]), _num(a["lon"]), zone, _text(a["zone_kind"]), _text(a["zone_name"]),
            evidence, _json(a["thresholds"]), str(a["status"]),
        )  # fmt: skip
        if match is None:
            self._db.execute(
                "INSERT INTO alerts (id, type, severity, mmsi, other_mmsi, vessel_name, t_start, "
                "t_end, lat, lon, zone_id, zone_kind, zone_name, evidence, thresholds, status, "
                "first_scan, last_scan, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    a["id"], a["type"], a["severity"], int(a["mmsi"]), other,
                    _text(a["vessel_name"]), _iso(start), _iso(end), *view,
                    scan_id, scan_id, updated,
                ),
            )  # fmt: skip
            return a["id"]
        sid, severity, t_start, t_end, stored_status = match
        if stored_status != "open" and not a["whole"] and _iso(start) > t_end:
            return None  # next to an event over, read with less context than when it was found
        if schema.severity_rank(a["severity"]) > schema.severity_rank(severity):
            severity = a["severity"]
        # an event going on had a provisional end: the newer whole view may end it earlier
        replace = bool(a["whole"]) and progress and (_iso(end) >= t_end or stored_status == "open")
        newer = replace or _iso(end) > t_end
        if not replace:
            start = min(t_start, _iso(start)) if a["whole"] else t_start
            end = max(t_end, _iso(end))
        self._db.execute(
            "UPDATE alerts SET severity=?, t_start=?, t_end=?, "
            "vessel_name=COALESCE(?, vessel_name), last_scan=?, updated=? WHERE id=?",
            (
                severity, _iso(start), _iso(end), _text(a["vessel_name"]), scan_id, updated, sid,
            ),
        )  # fmt: skip
        if newer:
            self._db.execute(
                "UPDATE alerts SET lat=?, lon=?, zone_id=?, zone_kind=?, zone_name=?, "
                "evidence=?, thresholds=?, status=CASE WHEN ? THEN ? ELSE status END WHERE id=?",
                (*view[:-1], progress, view[-1], sid),
            )
        elif progress and _iso(end) == t_end:  # the same end seen again, now perhaps over
            self._db.execute("UPDATE alerts SET status=? WHERE id=?", (view[-1], sid))
        return None

    def alerts(
        self,
        since: Any = None,
        until: Any = None,
        types: Iterable[str] | None = None,
        min_severity: str | None = None,
        *,
        withdrawn: bool = False,
        review: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Stored alerts overlapping [since, until), of `types`, at least `min_severity`, of the
        `review` decisions (schema.REVIEWS) when given; `withdrawn` ones too when asked (see
        save_scan). Each carries its review (REVIEW_COLUMNS)."""
        where, args = ["1=1" if withdrawn else "status != 'withdrawn'"], []
        if review is not None:
            review = [_review_name(r) for r in review]
            where.append(f"review IN ({_marks(review)})")
            args += review
        if since is not None:
            where.append("t_end >= ?")
            args.append(_iso(since))
        if until is not None:
            where.append("t_start < ?")
            args.append(_iso(until))
        if types:
            types = list(types)
            where.append(f"type IN ({_marks(types)})")
            args += types
        df = self._alerts(" AND ".join(where), args)
        if min_severity is not None:
            df = df[schema.severity_rank(df["severity"]) >= schema.severity_rank(min_severity)]
        return df.reset_index(drop=True)

    def review(self, alert_id: str, status: str, note: str | None = None) -> pd.DataFrame:
        """Record an analyst's decision on alert `alert_id`: `status` one of schema.REVIEWS
        ("open" reopens it: unreviewed), with an optional `note`, by the OS user, now. Returns
        the alert as `alerts` shows it. MdaError when no stored alert has that id.

        The store lock is not taken: a review is one SQLite transaction, so it can be given while
        mda watch or a long scan holds the lock (scans never write a review).
        """
        status = _review_name(status)
        with self._writing(), _transaction(self._db):
            cur = self._db.execute(
                "UPDATE alerts SET review=?, review_note=?, reviewer=?, reviewed=? WHERE id=?",
                (status, note, _user(), _iso(pd.Timestamp.now(tz="UTC")), alert_id),
            )
        if not cur.rowcount:
            raise MdaError(f"{self.path}: no alert with id {alert_id[:80]!r}")
        return self._alerts("id=?", [alert_id])

    def _alerts(self, where: str, args: list) -> pd.DataFrame:
        """Stored alerts (schema.ALERTS, then EVENT_COLUMNS, REVIEW_COLUMNS) matching an SQL
        condition."""
        spec = {**schema.ALERTS, **EVENT_COLUMNS, **REVIEW_COLUMNS}
        cols = [c for c in spec if c not in ("start", "end")]
        rows = self._db.execute(
            f"SELECT {', '.join(cols)}, t_start, t_end FROM alerts WHERE {where} "
            "ORDER BY t_start, id",
            args,
        ).fetchall()
        df = pd.DataFrame(rows, columns=[*cols, "start", "end"])
        for c in ("evidence", "thresholds"):
            df[c] = [json.loads(v) if v else {} for v in df[c]]
        return schema.conform(df, spec, extra=False)


def _review_name(status: str) -> str:
    """A review decision of schema.REVIEWS ("open" is "unreviewed"), else MdaError."""
    status = "unreviewed" if status == "open" else status
    if status not in schema.REVIEWS:
        raise MdaError(f"unknown review {status[:40]!r} (one of {', '.join(schema.REVIEWS)}, open)")
    return status


def _user() -> str:
    """Who reviews: the OS user (a service account without a name is its uid)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def _day_holes(days: list[str], longest: int = LONGEST) -> dict[str, Any]:
    """Runs of days with nothing stored between the stored `days` (sorted YYYY-MM-DD): how
    many, how many days in all, and the `longest` (first and last missing day, days)."""
    d = np.array(days, dtype="datetime64[D]")
    step = np.diff(d).astype(np.int64)
    at = np.flatnonzero(step > 1)
    top = at[np.argsort(-step[at], kind="stable")][:longest]
    return {
        "holes": len(at),
        "hole_days": int((step[at] - 1).sum()),
        "longest_holes": [
            {"from": str(d[i] + 1), "to": str(d[i + 1] - 1), "days": int(step[i] - 1)} for i in top
        ],
    }


def _dataset(files: list[str]) -> ds.Dataset:
    """The Parquet parts `files` (absolute paths) as one dataset of POSITIONS_ARROW."""
    return ds.dataset(files, schema=POSITIONS_ARROW, format="parquet", filesystem=_LOCAL)


def _open(db: Path, mode: str) -> sqlite3.Connection:
    """Connect through a `file:` URI of the absolute path, percent-escaped (a store named
    "file:x?mode=ro" is a folder of that name, not SQLite options)."""
    uri = f"file:{urllib.parse.quote(str(db.absolute()))}?{mode}"
    return sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None, check_same_thread=False)


def _writable(db: Path) -> bool:
    """Whether this user may write the database and create its -wal/-shm files beside it."""
    return os.access(db, os.W_OK) and os.access(db.parent, os.W_OK)


def _marks(values: list) -> str:
    """SQL placeholders for an IN (...) list."""
    return ",".join("?" * len(values))


def _json(value: Any) -> str:
    if value is None or (not isinstance(value, dict | list | str) and pd.isna(value)):
        return "{}"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


@contextlib.contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
