"""What the store knows of each vessel: its state (last good fix as of the scan watermark, in
SQLite) and its static-data history (vessels.parquet, one row per observed change)."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mda import schema
from mda.errors import MdaError
from mda.fileio import replacing
from mda.schema import utc
from mda.sources.base import vessel_changes
from mda.store.catalog import marks
from mda.store.dedupe import ns_array
from mda.store.parts import LOCAL

#: Columns of a vessel's state: its last good fix as of the scan watermark.
STATE_COLUMNS = ["mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type"]
_STATE_SPEC = {c: schema.POSITIONS[c] for c in STATE_COLUMNS}
HISTORY_FILE = "vessels.parquet"


def save_states(db: sqlite3.Connection, states: pd.DataFrame, scan_id: int, updated: str) -> None:
    """Keep each vessel's newest state; withdraw the open alerts of its vessels this scan did
    not renew (within the caller's transaction)."""
    st = schema.conform(states, _STATE_SPEC, extra=False)
    cols = {c: st[c].astype("float64").to_numpy() for c in STATE_COLUMNS[2:]}
    rows = zip(
        st["mmsi"].astype("int64").tolist(),
        ns_array(st["ts"]).tolist(),
        *([None if np.isnan(v) else float(v) for v in cols[c]] for c in cols),
        itertools.repeat(scan_id),
        strict=False,
    )
    db.executemany(
        "INSERT INTO vessel_state VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(mmsi) DO UPDATE "
        "SET ts=excluded.ts, lat=excluded.lat, lon=excluded.lon, sog=excluded.sog, "
        "cog=excluded.cog, heading=excluded.heading, nav_status=excluded.nav_status, "
        "msg_type=excluded.msg_type, scan=excluded.scan WHERE excluded.ts >= vessel_state.ts",
        rows,
    )
    db.execute(
        "UPDATE alerts SET status='withdrawn', updated=? WHERE status='open' AND last_scan < ? "
        "AND (mmsi IN (SELECT mmsi FROM vessel_state WHERE scan=?) "
        "OR other_mmsi IN (SELECT mmsi FROM vessel_state WHERE scan=?))",
        (updated, scan_id, scan_id, scan_id),
    )


def vessel_states(
    db: sqlite3.Connection, mmsi: Iterable[int] | None = None, *, since: Any = None
) -> pd.DataFrame:
    """Each vessel's state (STATE_COLUMNS) by mmsi: of the vessels `mmsi` and of every vessel
    last heard at or after `since`; of all vessels when neither is given."""
    sql, args, where = f"SELECT {', '.join(STATE_COLUMNS)} FROM vessel_state", [], []
    if mmsi is not None:
        args = [int(m) for m in mmsi]
        where.append(f"mmsi IN ({marks(args)})" if args else "0")
    if since is not None:
        where.append("ts >= ?")
        args.append(int(utc(since).value))  # type: ignore[union-attr]
    if where:
        sql += " WHERE " + " OR ".join(where)
    df = pd.DataFrame(db.execute(sql + " ORDER BY mmsi", args).fetchall())
    df = df.set_axis(STATE_COLUMNS, axis=1) if len(df) else pd.DataFrame(columns=STATE_COLUMNS)
    df["ts"] = pd.to_datetime(df["ts"].astype("int64"), utc=True)
    for c in ("sog", "cog", "heading"):
        df[c] = df[c].astype("float64")
    return schema.conform(df.fillna({"nav_status": 15, "msg_type": 0}), _STATE_SPEC, extra=False)


def read_history(root: Path) -> pd.DataFrame:
    """Every observed change of static data (schema.VESSELS rows, ts = first seen)."""
    f = root / HISTORY_FILE
    if not f.exists():
        return schema.empty(schema.VESSELS)
    try:
        table = pq.read_table(str(f), filesystem=LOCAL)
        return schema.conform(table.to_pandas(), schema.VESSELS, extra=False)
    except (OSError, pa.ArrowException) as e:
        raise MdaError(f"{f}: cannot read the vessel history: {e}") from None


def save_history(root: Path, statics: pd.DataFrame) -> None:
    """Fold new static reports into the change history (vessels.parquet, atomically)."""
    history = vessel_changes(pd.concat([read_history(root), statics], ignore_index=True))
    with replacing(root / HISTORY_FILE, what="the vessel history") as (tmp,):
        history.to_parquet(str(tmp), filesystem=LOCAL, compression="zstd", index=False)
