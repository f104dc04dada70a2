"""Parquet parts: tables of one kind, one file per UTC day of a batch, written atomically.

Layout below the store root: ``<kind>/day=YYYY-MM-DD/<batch>-<n>.parquet`` for each kind of
KINDS (positions, aux: base stations, SAR aircraft and aids to navigation, binary: types 6
and 8). Rows are sorted by time, so Parquet row-group statistics narrow reads by time. A part
is written under a temporary name and renamed into place; it is visible only once the catalog
lists it (mda.store.catalog.Catalog.commit_parts).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs
import pyarrow.parquet as pq

from mda import schema
from mda.errors import MdaError
from mda.fileio import replacing
from mda.store.catalog import Part

#: Parquet I/O on explicit local paths: a relative path with a colon is not taken for a URI.
LOCAL = pyarrow.fs.LocalFileSystem()

_ROW_GROUP = 128 * 1024
#: Columns with few distinct values per part: dictionary-encoded (floats are not, it only costs).
_DICTIONARY_COLUMNS = ["mmsi", "nav_status", "msg_type", "source", "station", "dac", "fi"]
_ARROW_TYPES = {
    "uint32": pa.uint32(),
    "UInt32": pa.uint32(),
    "UInt16": pa.uint16(),
    "UInt8": pa.uint8(),
    schema.TS: pa.timestamp("ns", tz="UTC"),
    "float64": pa.float64(),
    "float32": pa.float32(),
    "uint8": pa.uint8(),
    "string": pa.string(),
}


def arrow_schema(spec: dict[str, str]) -> pa.Schema:
    """The Arrow schema of a schema.py table contract."""
    return pa.schema([(c, _ARROW_TYPES[t]) for c, t in spec.items()])


POSITIONS_ARROW = arrow_schema(schema.POSITIONS)
#: The kinds of parts: their folder name and table contract.
KINDS: dict[str, dict[str, str]] = {
    "positions": schema.POSITIONS,
    "aux": schema.AUX_POSITIONS,
    "binary": schema.BINARY,
}
ARROW = {kind: arrow_schema(spec) for kind, spec in KINDS.items()}


def write_day_parts(
    root: Path, kind: str, batch: int, table: pa.Table, written: list[Path]
) -> list[Part]:
    """Write `table` (of ARROW[kind], ordered by ts) as one part per UTC day of `batch`; their
    catalog rows. Each file is added to `written` once it is in place (the caller removes
    them when the batch fails)."""
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    msg_type = table.column("msg_type").to_numpy()
    days = ts.astype("datetime64[ns]").astype("datetime64[D]")
    cuts = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1), len(ts)]
    parts = []
    for n, (lo, hi) in enumerate(itertools.pairwise(cuts)):
        label = str(days[lo])
        final = root / kind / f"day={label}" / f"{batch}-{n}.parquet"
        with replacing(final, what=f"stored {kind}") as (tmp,):
            pq.write_table(
                table.slice(lo, hi - lo),
                str(tmp),
                filesystem=LOCAL,
                compression="zstd",
                row_group_size=_ROW_GROUP,
                use_dictionary=[c for c in _DICTIONARY_COLUMNS if c in table.column_names],
            )
        written.append(final)
        types = np.bincount(msg_type[lo:hi], minlength=1)
        parts.append(
            Part(
                file=str(final.relative_to(root)),
                day=label,
                rows=int(hi - lo),  # a numpy integer would be stored as a BLOB
                min_ts=int(ts[lo]),
                max_ts=int(ts[hi - 1]),
                types={str(k): int(v) for k, v in enumerate(types) if v},
                kind=kind,
            )
        )
    return parts


def remove_orphans(root: Path, known: set[str]) -> None:
    """Delete the part files below `root` that are not `known` (relative paths): what a run
    killed between writing and committing left."""
    for kind in KINDS:
        for f in (root / kind).glob("day=*/*"):
            if str(f.relative_to(root)) not in known:
                f.unlink(missing_ok=True)


def dataset(files: Sequence[str], kind: str = "positions") -> ds.Dataset:
    """The parts `files` (absolute paths) of `kind` as one dataset."""
    return ds.dataset(list(files), schema=ARROW[kind], format="parquet", filesystem=LOCAL)


def frame(table: pa.Table, kind: str, columns: list[str] | None = None) -> pd.DataFrame:
    """An Arrow table of parts of `kind` as a DataFrame in the dtypes of KINDS[kind]."""
    spec = {c: KINDS[kind][c] for c in columns or KINDS[kind]}
    df = table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
    return schema.conform(df, spec, extra=False)


def read(
    files: Sequence[str], kind: str, columns: list[str], filt: Any, where: Path
) -> pd.DataFrame:
    """The `columns` of the rows of parts `files` matching the dataset filter `filt`, in the
    dtypes of KINDS[kind]; MdaError naming the store `where` when a part cannot be read."""
    spec = {c: KINDS[kind][c] for c in columns}
    if not files:
        return schema.empty(spec)
    try:
        table = dataset(files, kind).to_table(columns=columns, filter=filt)
    except (OSError, pa.ArrowException) as e:
        raise MdaError(f"{where}: cannot read stored {kind}: {e}") from None
    return frame(table, kind, columns)
