"""The store's SQLite catalog: schema and migrations, connections, the lock, and the batches of
Parquet parts that make stored data visible.

A part is visible once its row is in the ``parts`` table, and its batch is committed in the same
transaction (`Catalog.commit_parts`): readers list parts from here, never from the directory.
Read-only use creates no file (see mda.store).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mda.errors import MdaError
from mda.fileio import reason
from mda.schema import utc

log = logging.getLogger("mda")

#: Version of the on-disk layout and SQLite tables; bumped on incompatible changes.
#: 2: alerts carry status and updated; the vessel_state table. 3: alerts carry their review.
#: 4: parts carry their kind (positions, aux, binary: see mda.store.parts).
SCHEMA_VERSION = 4

_STATE_TABLES = """
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (status, mmsi);
CREATE TABLE IF NOT EXISTS vessel_state (
    mmsi INTEGER PRIMARY KEY, ts INTEGER NOT NULL, lat REAL, lon REAL, sog REAL, cog REAL,
    heading REAL, nav_status INTEGER, msg_type INTEGER, scan INTEGER NOT NULL);
"""

_REVIEW_SQL = (
    "review TEXT NOT NULL DEFAULT 'unreviewed'",
    "review_note TEXT",
    "reviewer TEXT",
    "reviewed TEXT",
)

_KIND_SQL = "kind TEXT NOT NULL DEFAULT 'positions'"

_TABLES = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, source TEXT NOT NULL,
    committed INTEGER NOT NULL DEFAULT 0, rows INTEGER NOT NULL DEFAULT 0,
    min_ts INTEGER, max_ts INTEGER);
CREATE TABLE IF NOT EXISTS parts (
    file TEXT PRIMARY KEY, batch INTEGER NOT NULL, day TEXT NOT NULL, rows INTEGER NOT NULL,
    min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, types TEXT NOT NULL, {_KIND_SQL});
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
    3: f"ALTER TABLE parts ADD COLUMN {_KIND_SQL};",
}

#: Older versions a read-only open reads as they are: their parts are all positions, which a
#: temporary view (in memory, no file) says.
_READABLE_AS_IS = {3: "CREATE TEMP VIEW parts AS SELECT *, 'positions' AS kind FROM main.parts"}


@dataclass(frozen=True)
class Part:
    """One Parquet part written and not yet committed: its catalog row."""

    file: str  # relative to the store root
    day: str  # YYYY-MM-DD (UTC)
    rows: int
    min_ts: int  # ns since the epoch
    max_ts: int
    types: dict[str, int]  # rows by message type
    kind: str = "positions"


def now() -> str:
    """The wall clock, ISO 8601 UTC."""
    return str(pd.Timestamp.now(tz="UTC").isoformat())


def iso(t: Any) -> str | None:
    """Fixed-width ISO 8601 UTC text (sorts like time), or None."""
    u = utc(t)
    return None if u is None or pd.isna(u) else str(u.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def marks(values: Sequence[Any]) -> str:
    """SQL placeholders for an IN (...) list."""
    return ",".join("?" * len(values))


@contextlib.contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


class Catalog:
    """The SQLite database of a store at `path` (opened, created or upgraded) and its lock."""

    def __init__(self, path: Path, *, readonly: bool) -> None:
        self.path = path  # as given: error messages name it so
        self.root = path.absolute()  # files are opened by absolute path, never as URIs
        self.readonly = readonly
        self.db = self._connect(self.root / "mda.sqlite")
        self._lock_depth = 0

    # -- opening ------------------------------------------------------------------------------

    def _connect(self, db: Path) -> sqlite3.Connection:
        """A connection to `db`, created with the tables when empty, upgraded when older."""
        if not self.readonly and db.exists() and not _writable(db):
            raise MdaError(
                f"{self.path}: cannot write the store (read-only to this user or on read-only "
                "media): ingest and scan need write access; info, alerts, tracks and report "
                "only read it"
            )
        try:
            con = _open_readonly(db) if self.readonly else self._open_writable(db)
            row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError as e:  # I/O, a full disk, locks: not the file's fault
            raise MdaError(f"{self.path}: cannot open the store: {reason(e, db.parent)}") from None
        except sqlite3.DatabaseError as e:
            raise MdaError(f"{db}: not an mda store database ({reason(e)})") from None
        if row is None:
            raise MdaError(f"{db}: not an mda store database (no schema version)")
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise MdaError(
                f"{self.path}: store written by a newer mda (schema version {version}, this mda "
                f"reads {SCHEMA_VERSION}); upgrade mda to use it"
            )
        if version < SCHEMA_VERSION:
            if self.readonly and version in _READABLE_AS_IS:
                con.execute(_READABLE_AS_IS[version])
            else:
                self._migrate(con, version)
        return con

    def _open_writable(self, db: Path) -> sqlite3.Connection:
        con = _open(db, "mode=rwc")
        con.execute("PRAGMA journal_mode=WAL")
        if not con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
            con.executescript(
                f"BEGIN IMMEDIATE; {_TABLES} {_STATE_TABLES} INSERT OR IGNORE INTO meta "
                f"VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
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

    def close(self) -> None:
        self.db.close()

    # -- lock and writes ----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, timeout: float = 0) -> Iterator[None]:
        """Hold the store's exclusive lock (flock on <store>/lock) for the duration.

        Re-entrant for this catalog. Raises MdaError naming the holder's pid when another
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
        fd = self._acquire(timeout)
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            os.close(fd)  # releases the flock

    def _acquire(self, timeout: float) -> int:
        """The lock file's descriptor, flocked and holding this pid (see `lock`)."""
        try:
            fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
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
        return fd

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Turn a failed store write (disk full, I/O error) into one line naming the store."""
        try:
            yield
        except (OSError, sqlite3.OperationalError) as e:  # not constraint errors: those are bugs
            raise MdaError(f"{self.path}: cannot write the store: {reason(e, self.root)}") from None

    # -- batches and parts --------------------------------------------------------------------

    def new_batch(self, source: str, *, positions: bool = True) -> int:
        """A batch id for parts about to be written (uncommitted until `commit_parts`). A batch
        without `positions` (base stations or binary messages alone) gets an id below zero: the
        ids of the batches scans read (their watermark) stay those of the positions alone."""
        if positions:
            sql = "INSERT INTO batches (created, source) VALUES (?, ?)"
        else:
            sql = (
                "INSERT INTO batches (id, created, source) "
                "VALUES ((SELECT MIN(COALESCE(MIN(id), 0), 0) - 1 FROM batches), ?, ?)"
            )
        cur = self.db.execute(sql, (now(), source))
        return int(cur.lastrowid or 0)

    def commit_parts(self, batch: int, parts: Sequence[Part], rows: int) -> None:
        """Make the written `parts` of `batch` visible, in one transaction: the batch holds
        `rows` positions, and its time span is that of its positions parts (what a scan reads)."""
        spans = [(p.min_ts, p.max_ts) for p in parts if p.kind == "positions"]
        with transaction(self.db):
            self.db.executemany(
                "INSERT INTO parts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (p.file, batch, p.day, p.rows, p.min_ts, p.max_ts, json.dumps(p.types), p.kind)
                    for p in parts
                ],
            )
            self.db.execute(
                "UPDATE batches SET committed=1, rows=?, min_ts=?, max_ts=? WHERE id=?",
                (
                    rows,
                    min((lo for lo, _ in spans), default=None),
                    max((hi for _, hi in spans), default=None),
                    batch,
                ),
            )

    def part_files(
        self, since: int | None = None, until: int | None = None, *, kind: str = "positions"
    ) -> list[str]:
        """Absolute paths of the committed parts of `kind` whose time range meets [since, until)
        (ns since the epoch)."""
        sql = "SELECT file FROM parts WHERE kind=?"
        args: list[str | int] = [kind]
        if since is not None:
            sql += " AND max_ts >= ?"
            args.append(since)
        if until is not None:
            sql += " AND min_ts < ?"
            args.append(until)
        return [str(self.root / r[0]) for r in self.db.execute(sql + " ORDER BY file", args)]

    def part_spans(self, lo: int, hi: int, kind: str) -> list[tuple[str, int, int]]:
        """(file, min_ts, max_ts) of the parts of `kind` meeting [lo, hi] (ns), by file."""
        return self.db.execute(
            "SELECT file, min_ts, max_ts FROM parts WHERE max_ts >= ? AND min_ts <= ? "
            "AND kind=? ORDER BY file",
            (lo, hi, kind),
        ).fetchall()

    def drop_uncommitted(self, root: Path) -> None:
        """Remove what a killed run left: uncommitted batches and part files not catalogued
        below the folders of `root` the parts live in."""
        from mda.store.parts import remove_orphans

        with self.writing():
            remove_orphans(root, {r[0] for r in self.db.execute("SELECT file FROM parts")})
            self.db.execute("DELETE FROM batches WHERE committed=0")

    # -- inputs and ingests -------------------------------------------------------------------

    def input_of_size(self, size: int) -> bool:
        """Whether an input of `size` bytes was ingested."""
        row = self.db.execute("SELECT 1 FROM inputs WHERE size=? LIMIT 1", (size,)).fetchone()
        return row is not None

    def input_named(self, fingerprint: tuple[str, int]) -> tuple[str, str] | None:
        """(name, when ingested) of the input of this (sha256, size), or None."""
        row = self.db.execute(
            "SELECT name, ingested FROM inputs WHERE sha256=? AND size=?", fingerprint
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def record_input(self, fingerprint: tuple[str, int], name: str) -> None:
        with self.writing():
            self.db.execute(
                "INSERT OR REPLACE INTO inputs VALUES (?, ?, ?, ?)", (*fingerprint, name, now())
            )

    def begin_ingest(self) -> int:
        with self.writing():
            cur = self.db.execute("INSERT INTO ingests (started) VALUES (?)", (now(),))
        return int(cur.lastrowid or 0)

    def finish_ingest(self, ingest: int, report: str) -> None:
        with self.writing():
            self.db.execute(
                "UPDATE ingests SET finished=?, report=? WHERE id=?", (now(), report, ingest)
            )


def _open_readonly(db: Path) -> sqlite3.Connection:
    """A read-only connection that creates no file (see mda.store)."""
    wal = db.with_name(db.name + "-wal")
    if wal.exists():
        try:  # a writer is (or was) active: read its -wal through the existing -shm
            con = _open(db, "mode=ro")
            con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
            return _not_empty(con, db)
        except sqlite3.OperationalError as e:
            if wal.stat().st_size:
                log.warning(
                    "%s: changes in %s cannot be read without write access (%s); "
                    "reading the database as it was before them",
                    db,
                    wal.name,
                    e,
                )
    return _not_empty(_open(db, "mode=ro&immutable=1"), db)


def _not_empty(con: sqlite3.Connection, db: Path) -> sqlite3.Connection:
    if not con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
        raise MdaError(f"{db}: not an mda store database (empty)")
    return con


def _open(db: Path, mode: str) -> sqlite3.Connection:
    """Connect through a `file:` URI of the absolute path, percent-escaped (a store named
    "file:x?mode=ro" is a folder of that name, not SQLite options)."""
    uri = f"file:{urllib.parse.quote(str(db.absolute()))}?{mode}"
    return sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None, check_same_thread=False)


def _writable(db: Path) -> bool:
    """Whether this user may write the database and create its -wal/-shm files beside it."""
    return os.access(db, os.W_OK) and os.access(db.parent, os.W_OK)
