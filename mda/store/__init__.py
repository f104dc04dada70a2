"""The positions store: Parquet by UTC day; catalog, alerts and scan state in SQLite.

Layout of a store directory::

    positions/day=YYYY-MM-DD/<batch>-<n>.parquet   typed columns of schema.POSITIONS, zstd
    aux/day=YYYY-MM-DD/<batch>-<n>.parquet         base stations, SAR aircraft, aids to
                                                   navigation (schema.AUX_POSITIONS)
    binary/day=YYYY-MM-DD/<batch>-<n>.parquet      binary messages 6/8 (schema.BINARY)
    vessels.parquet                                static-data history (one row per change)
    mda.sqlite                                     catalog of parts and inputs, alerts, scans,
                                                   vessel state
    lock                                           flock(2) target; holds the owner's pid

The package, one job a module: `catalog` (SQLite schema, migrations, lock, batches of parts),
`parts` (Parquet write and read, orphan cleanup), `dedupe` (pure functions: row keys, time spans,
repeats), `book` (scans, alerts, reviews), `vessels` (vessel state, static-data history), and
`front`, whose `Store` is the front door every other module uses.

Crash safety: each part is written to a temporary name and renamed into place, and only then
registered in the catalog together with its batch, in one SQLite transaction. Readers list parts
from the catalog, never from the directory, so a run killed half-way leaves a readable, consistent
store; the next ingest removes the orphaned files and the re-run completes. A write that fails
(disk full) removes its files and raises MdaError; what was committed before stays. Writers in
other processes (the Dask engine) follow the same steps: `Store.begin_batch`, then
`parts.write_day_parts` per table (anywhere), then `Store.commit_batch` with the parts written.

Read-only use (``Store(path, readonly=True)``) writes nothing, not even SQLite's -wal/-shm files,
so an archive on read-only media or owned by another user can be read. While a writer is active
its -wal file exists and is read through SQLite's read-only WAL mode; otherwise the database is
opened immutable (it is not expected to change while it is read).
"""

from mda.store.book import EVENT_COLUMNS, MERGE_GAP, REVIEW_COLUMNS, AlertBook
from mda.store.catalog import SCHEMA_VERSION, Catalog, Part
from mda.store.dedupe import DEDUPE_KEY
from mda.store.front import Store
from mda.store.parts import POSITIONS_ARROW
from mda.store.vessels import STATE_COLUMNS

__all__ = [
    "DEDUPE_KEY",
    "EVENT_COLUMNS",
    "MERGE_GAP",
    "POSITIONS_ARROW",
    "REVIEW_COLUMNS",
    "SCHEMA_VERSION",
    "STATE_COLUMNS",
    "AlertBook",
    "Catalog",
    "Part",
    "Store",
]
