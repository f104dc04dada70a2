"""The Store: the front door over the catalog, the parts, the alert book and vessel state."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from mda import progress, schema
from mda.config import FeedConfig, TracksConfig
from mda.errors import MdaError
from mda.feed_tally import LONGEST, FeedTally
from mda.schema import utc
from mda.sources.base import AisData, IngestReport, latest_vessels, type_order, vessel_changes
from mda.store import dedupe, parts, vessels
from mda.store.book import AlertBook
from mda.store.catalog import Catalog, Part, iso

#: What decodes one input for `Store.ingest`: (src, start_time=, chunk_rows=) -> chunks.
Decoder = Callable[..., Iterable[AisData]]


class Store(AlertBook):
    """A directory of AIS positions (Parquet by UTC day) with catalog, alerts and scans (SQLite).

    `create=False` refuses a missing store with MdaError instead of creating an empty one.
    `readonly=True` (implies create=False) opens it for reading only and writes nothing.
    `config` supplies `duplicate_window_s` for the two-station dedupe. A context manager:
    ``with Store(path) as st:`` closes it on exit. Scans, alerts and reviews: its base
    mda.store.book.AlertBook.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        readonly: bool = False,
        config: TracksConfig | None = None,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._root = self.path.absolute()  # files are opened by absolute path, never as URIs
        self.window = pd.Timedelta(seconds=(config or TracksConfig()).duplicate_window_s)
        db = self._root / "mda.sqlite"
        #: What this object created: "" nothing, "db" the database, "dir" the directory too.
        self._fresh = "" if db.exists() else "db" if self.path.exists() else "dir"
        if not db.exists():
            self._create(create=create and not readonly)
        self.catalog = Catalog(self.path, readonly=readonly)

    def _create(self, *, create: bool) -> None:
        """Make the store's directory, or refuse (MdaError) when asked not to create one."""
        if not create:
            raise MdaError(f"{self.path}: not an mda store")
        if self.path.exists() and not self.path.is_dir():
            raise MdaError(f"{self.path}: exists and is not a directory")
        try:
            (self.path / "positions").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise MdaError(f"{self.path}: cannot create store: {e.strerror}") from None

    @property
    def _db(self) -> Any:
        """The catalog's SQLite connection (tests look inside)."""
        return self.catalog.db

    def close(self) -> None:
        """Close the database connection (also done when the object is garbage collected)."""
        self.catalog.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def lock(self, timeout: float = 0) -> Iterator[None]:
        """Hold the store's exclusive lock for the duration (see Catalog.lock)."""
        with self.catalog.lock(timeout):
            yield

    # -- ingest -------------------------------------------------------------------------------

    def ingest(
        self,
        inputs: str | os.PathLike[str] | Iterable[Any],
        *,
        start_time: Any = None,
        chunk_rows: int = 500_000,
        wait: float = 0,
        decode: Decoder | None = None,
    ) -> IngestReport:
        """Decode `inputs` (paths, directories, "-" for stdin) chunk by chunk into the store.

        A file whose size and sha256 were ingested before is skipped with a note (the report's
        `same_as`); rows already stored (the same report, possibly heard by another station)
        are not stored again. Memory is bounded by `chunk_rows`, not by the size of the inputs
        or of the store. `wait` is how many seconds to wait for a busy store (see `lock`). When
        no input can be read into a store this object created, the store is removed again (and
        this object closed): a mistyped path leaves no empty store behind. `decode(src,
        start_time=, chunk_rows=)` yields the decoded chunks of one input (default
        mda.sources.iter_ais; the Dask engine decodes them on its workers).
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
        self, inputs: Any, *, wait: float, decode: Decoder | None, **read_options: Any
    ) -> IngestReport:
        from mda.sources import expand_inputs, iter_ais, none_read, warn_skipped

        report = IngestReport(feed=FeedTally())
        report.stored = 0
        with self.lock(timeout=wait):
            self._cleanup()
            ingest = self.catalog.begin_ingest()
            failures: list[str] = []
            read = 0
            for src in expand_inputs(inputs):
                if read:
                    warn_skipped(failures)
                try:
                    self._ingest_one(src, report, decode or iter_ais, read_options)
                    read += 1
                except MdaError:
                    name = str(src)
                    if name not in report.failed:
                        raise  # the store itself failed: never pass that off as a bad input
                    failures.append(f"{name}: {report.failed[name]}")
            if not read:
                raise none_read(failures)
            warn_skipped(failures)
            report.finish()
            self.catalog.finish_ingest(ingest, report.to_json())
        return report

    def _discard(self) -> None:
        """Remove the store this object created (and close it): its first ingest stored nothing,
        and a mistyped input leaves no empty store behind. Files it did not create stay."""
        self.close()
        for name in ("mda.sqlite", "mda.sqlite-wal", "mda.sqlite-shm", "lock"):
            (self._root / name).unlink(missing_ok=True)
        folders = [self._root / k for k in parts.KINDS]
        for folder in [*folders, *([self._root] if self._fresh == "dir" else [])]:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty

    def _ingest_one(
        self, src: Any, report: IngestReport, decode: Decoder, read_options: dict[str, Any]
    ) -> None:
        """Ingest one input of mda.sources.expand_inputs: a file path, "-" or a line iterable.

        Static reports are reduced to changes chunk by chunk and saved once, after the input's
        positions (a run killed before that re-reads the input, whose hash is not yet recorded).
        """
        # one thread hashes a file while it is read, another stores a chunk while the next one
        # is decoded; chunks are stored one at a time, in order, so each is deduplicated against
        # the ones before it
        with ThreadPoolExecutor(1) as pool, ThreadPoolExecutor(1) as writer:
            hashing = pool.submit(_file_hash, src) if isinstance(src, Path) else None
            if hashing and self._seen(src, hashing, report):
                return
            chunks = decode(src, **read_options)
            statics = self._store_chunks(chunks, report, writer)
            if statics is not None:
                vessels.save_history(self._root, statics)
            fingerprint = hashing.result() if hashing else None
        if fingerprint and str(src) not in report.failed:
            self.catalog.record_input(fingerprint, str(src))

    def _store_chunks(
        self, chunks: Iterable[AisData], report: IngestReport, writer: ThreadPoolExecutor
    ) -> pd.DataFrame | None:
        """Store one input's decoded `chunks`, each by `writer` while the next is decoded; the
        input's static-data changes (None when it has no static reports)."""
        statics: pd.DataFrame | None = None
        storing: Future[int] | None = None
        assert report.feed is not None and report.stored is not None
        for chunk in progress.chunks(chunks, "ingest"):
            name = chunk.report.files[0] if chunk.report.files else "<lines>"
            report.merge(chunk.report)
            report.feed.add(chunk.positions["ts"], chunk.positions["mmsi"].to_numpy())
            if len(chunk.statics):
                both = [chunk.statics] if statics is None else [statics, chunk.statics]
                statics = vessel_changes(pd.concat(both, ignore_index=True))
            if storing is not None:
                report.stored += storing.result()
            storing = writer.submit(self._add_chunk, chunk, name)
            del chunk  # its tables are freed once stored
        if storing is not None:
            report.stored += storing.result()
        return statics

    def _add_chunk(self, data: AisData, source: str) -> int:
        return int(self._store(data, source).num_rows)

    def _seen(
        self, src: Path, hashing: Future[tuple[str, int] | None], report: IngestReport
    ) -> bool:
        """True, noted in `report`, when `src` has the size and sha256 of a stored input.

        The hash is awaited only when an input of the same size is known: a file of a new size
        is new, and its hash is finished while it is read.
        """
        try:
            size = src.stat().st_size
        except OSError:
            return False  # the reader reports it
        if not self.catalog.input_of_size(size):
            return False
        fingerprint = hashing.result()
        seen = self.catalog.input_named(fingerprint) if fingerprint else None
        if seen is None:
            return False
        report.same_content(str(src), seen[0], seen[1][:19])
        return True

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
                vessels.save_history(self._root, data.statics)
            return parts.frame(self._store(data, source), "positions")

    # -- writing parts ------------------------------------------------------------------------

    def _store(self, data: AisData, source: str) -> pa.Table:
        """Store the rows of `data` (positions, aux, binary) that are not repeats as one batch;
        the positions stored (parts.POSITIONS_ARROW, by ts)."""
        # the AisData tables are named like the kinds of part
        fresh = {kind: self._fresh_rows(kind, getattr(data, kind), source) for kind in parts.KINDS}
        tables = {kind: table for kind, table in fresh.items() if table.num_rows}
        if tables:
            self.write_batch(tables, source)
        return fresh["positions"]

    def _fresh_rows(self, kind: str, rows: pd.DataFrame, source: str) -> pa.Table:
        """The rows of table `kind` to store, as Arrow (parts.ARROW[kind]): timed (NaT dropped),
        by time, with their source (`source` where none is given) and station ("" where none),
        repeating nothing stored."""
        df = schema.conform(rows, parts.KINDS[kind], extra=False)
        table = _timed(pa.Table.from_pandas(df, schema=parts.ARROW[kind], preserve_index=False))
        if not table.num_rows:
            return table
        table = _filled(table, "source", source)
        if "station" in table.column_names:
            table = _filled(table, "station", "", empty=False)
        keep = self._new_rows(kind, table)
        return table if keep.all() else table.filter(pa.array(keep))

    def _new_rows(self, kind: str, table: pa.Table) -> np.ndarray:
        """Mask of the rows of `table` (ordered by ts) repeating no stored row and no earlier
        row (see mda.store.dedupe)."""
        key = dedupe.KEYS[kind]
        cols = dedupe.key_columns(table, key)
        new = dedupe.Rows(cols, dedupe.ns_of(table.column("ts")), dedupe.row_keys(cols, key))
        old = self._stored_repeats(kind, cols["mmsi"], new)
        return dedupe.new_rows(new, old, window=self.window.value, key=key)

    def _stored_repeats(self, kind: str, mmsis: np.ndarray, new: dedupe.Rows) -> dedupe.Rows:
        """The stored rows of `kind` that may repeat the rows `new` (see dedupe.stored_repeats):
        only parts near the rows' times are opened."""
        spans = dedupe.spans(new.ts, self.window.value)
        near = self.catalog.part_spans(int(spans[0, 0]), int(spans[-1, 1]), kind)
        files = [str(self._root / f) for f in dedupe.parts_meeting(near, spans)]
        try:
            return dedupe.stored_repeats(files, kind, pd.unique(mmsis), spans, new.hashes)
        except (OSError, pa.ArrowException) as e:
            raise MdaError(f"{self.path}: cannot read stored {kind}: {e}") from None

    def begin_batch(self, source: str, *, positions: bool = True) -> int:
        """A new batch id for parts about to be written (see `write_batch`, `commit_batch`);
        `positions` False when it holds none (see Catalog.new_batch)."""
        with self.catalog.writing():
            return self.catalog.new_batch(source, positions=positions)

    def commit_batch(self, batch: int, written: Iterable[Part]) -> None:
        """Make parts written for `batch` (by parts.write_day_parts, possibly in other processes)
        visible to readers, all at once."""
        done = list(written)
        rows = sum(p.rows for p in done if p.kind == "positions")
        with self.catalog.writing():
            self.catalog.commit_parts(batch, done, rows)

    def write_batch(self, tables: Mapping[str, pa.Table], source: str) -> int:
        """Write Arrow tables (by kind of part, each ordered by ts) as one batch: a Parquet part
        per kind and UTC day, registered in one transaction; the batch id. When a write fails
        the batch's files are removed at once (the catalog never listed them)."""
        written: list[Path] = []
        try:
            batch = self.begin_batch(source, positions="positions" in tables)
            with self.catalog.writing():
                done = [
                    p
                    for kind, table in tables.items()
                    for p in parts.write_day_parts(self._root, kind, batch, table, written)
                ]
            self.commit_batch(batch, done)
        except BaseException:
            for f in written:
                f.unlink(missing_ok=True)
            raise
        return batch

    def _cleanup(self) -> None:
        """Remove what a killed run left: uncommitted batches and files not in the catalog."""
        self.catalog.drop_uncommitted(self._root)

    # -- reading ------------------------------------------------------------------------------

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
        return _by_vessel(self._read("positions", since, until, mmsi, columns))

    def aux(
        self, since: Any = None, until: Any = None, mmsi: int | Iterable[int] | None = None
    ) -> pd.DataFrame:
        """Stored base stations (type 4, with their clock), SAR aircraft (9) and aids to
        navigation (21) in [since, until): schema.AUX_POSITIONS, by mmsi then ts."""
        return _by_vessel(self._read("aux", since, until, mmsi, None))

    def binary(
        self, since: Any = None, until: Any = None, mmsi: int | Iterable[int] | None = None
    ) -> pd.DataFrame:
        """Stored binary messages (types 6 and 8, with their DAC/FI) in [since, until):
        schema.BINARY, by mmsi then ts."""
        return _by_vessel(self._read("binary", since, until, mmsi, None))

    def _read(
        self,
        kind: str,
        since: Any,
        until: Any,
        mmsi: int | Iterable[int] | None,
        columns: list[str] | None,
    ) -> pd.DataFrame:
        """Stored rows of `kind` in [since, until) of the MMSIs `mmsi` (all when None): the
        `columns` of its contract (mmsi and ts always; all when None), in file order."""
        spec = parts.KINDS[kind]
        cols = list(spec)
        if columns is not None:
            unknown = sorted(set(columns) - set(spec))
            if unknown:
                raise MdaError(f"unknown position columns: {', '.join(unknown)}")
            cols = [c for c in spec if c in {"mmsi", "ts", *columns}]
        lo, hi = utc(since), utc(until)
        files = self.catalog.part_files(
            None if lo is None else int(lo.value), None if hi is None else int(hi.value), kind=kind
        )
        return parts.read(files, kind, cols, _filter(lo, hi, mmsi), self.path)

    def vessel_history(self) -> pd.DataFrame:
        """Every observed change of static data (schema.VESSELS rows, ts = first seen)."""
        return vessels.read_history(self._root)

    def vessels(self) -> pd.DataFrame:
        """The latest static data per MMSI (schema.VESSELS)."""
        return latest_vessels(self.vessel_history())

    def info(self, feed: FeedConfig | None = None) -> dict[str, Any]:
        """What the store holds: positions, vessels, time span, days, message types, runs, and
        the feed's health (see `feed_health`; `feed` sets its thresholds); then the base
        stations, aids to navigation and binary messages when it holds any (see `_aux_info`)."""
        q = self._db.execute
        rows, first, last, days = q(
            "SELECT COALESCE(SUM(rows), 0), MIN(min_ts), MAX(max_ts), COUNT(DISTINCT day) "
            "FROM parts WHERE kind='positions'"
        ).fetchone()
        decoded: Counter[str] = Counter()  # every message the ingests decoded, statics included
        for (r,) in q("SELECT report FROM ingests WHERE report IS NOT NULL"):
            decoded.update(json.loads(r).get("messages_by_type", {}))
        scan = q("SELECT time FROM scans ORDER BY id DESC LIMIT 1").fetchone()
        tally = self._tally(feed)
        return {
            "path": str(self.path),
            "positions": int(rows),
            "vessels": tally.vessels,
            "vessels_with_static_data": len(self.vessels()),
            "first": iso(pd.Timestamp(first, tz="UTC")) if first is not None else None,
            "last": iso(pd.Timestamp(last, tz="UTC")) if last is not None else None,
            "days": int(days),
            "positions_by_type": self._stored_types("positions"),
            "messages_decoded_by_type": {k: decoded[k] for k in sorted(decoded, key=type_order)},
            "ingests": q("SELECT COUNT(*) FROM ingests WHERE finished IS NOT NULL").fetchone()[0],
            "alerts": q("SELECT COUNT(*) FROM alerts").fetchone()[0],
            "last_scan": scan[0] if scan else None,
            "feed": self._feed_health(tally),
            **self._aux_info(),
        }

    def _stored_types(self, kind: str) -> dict[str, int]:
        """Rows of `kind` by message type, as stored (deduplicated)."""
        stored: Counter[str] = Counter()
        for (t,) in self._db.execute("SELECT types FROM parts WHERE kind=?", (kind,)):
            stored.update(json.loads(t))
        return {k: stored[k] for k in sorted(stored, key=type_order)}

    def _aux_info(self) -> dict[str, Any]:
        """The other stations heard, when the store holds any: rows by message type, the base
        stations (type 4) and how far their clocks were from the receive time (a receiver's
        clock that drifts shows as a growing offset), and binary messages by type."""
        out: dict[str, Any] = {}
        aux = self._stored_types("aux")
        if aux:
            out["aux_positions_by_type"] = aux
            if "4" in aux:
                out["base_stations"] = self._base_stations()
        binary = self._stored_types("binary")
        if binary:
            out["binary_messages_by_type"] = binary
        return out

    def _base_stations(self) -> dict[str, Any]:
        """How many base stations were heard and their clocks' offset from the receive time
        (receive time minus reported UTC, seconds: median and the largest in size)."""
        files = self.catalog.part_files(kind="aux")
        stations = parts.read(
            files, "aux", ["mmsi", "ts", "msg_type", "clock"], ds.field("msg_type") == 4, self.path
        )
        clock = stations["clock"].notna().to_numpy()
        offset = (
            dedupe.ns_array(stations["ts"])[clock] - dedupe.ns_array(stations["clock"])[clock]
        ) / 1e9
        return {
            "heard": int(stations["mmsi"].nunique()),
            "clock_offset_s_median": round(float(np.median(offset)), 3) if len(offset) else None,
            "clock_offset_s_largest": (
                round(float(offset[np.argmax(np.abs(offset))]), 3) if len(offset) else None
            ),
        }

    def feed_health(self, cfg: FeedConfig | None = None) -> dict[str, Any]:
        """The feed's outages over everything stored (mda.feed_tally) and the holes: days between
        the first and the last with nothing stored (data sets years apart, a missing day).

        Only the ts and mmsi columns are read, batch by batch: memory of vessels x time bins,
        not of positions. Facts about the feed, never about a vessel.
        """
        return self._feed_health(self._tally(cfg))

    def _feed_health(self, tally: FeedTally) -> dict[str, Any]:
        days = [
            r[0]
            for r in self._db.execute(
                "SELECT DISTINCT day FROM parts WHERE kind='positions' ORDER BY day"
            )
        ]
        return {**tally.summary(), **_day_holes(days)}

    def _tally(self, cfg: FeedConfig | None) -> FeedTally:
        """The (time bin, vessel) pairs of every stored position (see feed_health)."""
        sql = "SELECT MIN(min_ts) FROM parts WHERE kind='positions'"
        first = self._db.execute(sql).fetchone()[0]
        tally = FeedTally(cfg or FeedConfig(), base=None if first is None else first / 1e9)
        files = self.catalog.part_files()
        try:
            for batch in parts.dataset(files).scanner(columns=["ts", "mmsi"]).to_batches():
                ts, mmsi = (batch.column(c).to_numpy(zero_copy_only=False) for c in ("ts", "mmsi"))
                tally.add(ts, mmsi)
        except (OSError, pa.ArrowException) as e:
            raise MdaError(f"{self.path}: cannot read stored positions: {e}") from None
        return tally

    # -- vessel state (mda.store.vessels; scans and alerts: mda.store.book.AlertBook) ---------

    def vessel_states(
        self, mmsi: Iterable[int] | None = None, *, since: Any = None
    ) -> pd.DataFrame:
        """Each vessel's last good fix as of the scan watermark (vessels.STATE_COLUMNS), by
        mmsi: of the vessels `mmsi` and of every vessel last heard at or after `since` (the
        scheduled scan's dark-now horizon); of all vessels when neither is given."""
        return vessels.vessel_states(self._db, mmsi, since=since)


def _by_vessel(df: pd.DataFrame) -> pd.DataFrame:
    """`df` ordered by mmsi, then ts (stable)."""
    order = np.lexsort((df["ts"].array.asi8, df["mmsi"].to_numpy()))
    return df.take(order).reset_index(drop=True)


def _timed(table: pa.Table) -> pa.Table:
    """`table` without rows of no time (NaT), ordered by time (stable)."""
    ts = dedupe.ns_of(table.column("ts"))
    order = np.flatnonzero(ts != np.iinfo(np.int64).min)
    ordered = bool((np.diff(ts[order]) >= 0).all())
    if not ordered:
        order = order[np.argsort(ts[order], kind="stable")]
    if not ordered or len(order) < len(ts):
        return table.take(order)
    return table


def _filled(table: pa.Table, column: str, value: str, *, empty: bool = True) -> pa.Table:
    """`table` with `value` in text `column` where it is missing (or `empty`, "")."""
    col = table.column(column)
    if empty:
        blank = pc.equal(col, "")
        blank = pc.fill_null(blank, True) if blank.null_count else blank
    else:
        blank = pc.is_null(col)
    if not pc.any(blank).as_py():
        return table
    at = table.schema.get_field_index(column)
    return table.set_column(at, table.schema.field(at), pc.if_else(blank, value, col))


def _filter(lo: pd.Timestamp | None, hi: pd.Timestamp | None, mmsi: Any) -> Any:
    """The dataset filter of rows in [lo, hi) of the MMSIs `mmsi` (any when None)."""
    unit = pa.timestamp("ns", tz="UTC")
    terms = []
    if lo is not None:
        terms.append(ds.field("ts") >= pa.scalar(lo, unit))
    if hi is not None:
        terms.append(ds.field("ts") < pa.scalar(hi, unit))
    if mmsi is not None:
        wanted = [int(cast(int, mmsi))] if np.isscalar(mmsi) else [int(m) for m in mmsi]
        terms.append(ds.field("mmsi").isin(pa.array(np.asarray(wanted, dtype=np.uint32))))
    filt = None
    for t in terms:
        filt = t if filt is None else filt & t
    return filt


def _file_hash(path: Path) -> tuple[str, int] | None:
    """(sha256, size) of a file, or None when it cannot be read (the reader reports that)."""
    try:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        return digest, path.stat().st_size
    except OSError:
        return None


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
