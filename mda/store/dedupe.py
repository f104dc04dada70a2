"""Repeats: the same report heard twice (by two stations, or an input read twice).

A repeat has the same key values (KEYS, per kind of part) and a receive time within the
duplicate window of its neighbour in time; chains of repeats collapse to their first row. Rows
are matched by a 64-bit hash of their key, then compared value by value. The functions here
work on numpy columns; `stored_repeats` reads the few stored rows a chunk can repeat.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from mda.store.parts import dataset

#: Columns that make two position reports "the same report" (heard by two stations).
DEDUPE_KEY = ("mmsi", "msg_type", "lat", "lon", "sog", "cog", "heading")
#: The key columns of each kind of part (mda.store.parts.KINDS): a base station's report
#: carries its clock, a binary message its addressee, application id and data.
KEYS: dict[str, tuple[str, ...]] = {
    "positions": DEDUPE_KEY,
    "aux": ("mmsi", "msg_type", "lat", "lon", "clock"),
    "binary": ("mmsi", "msg_type", "dest_mmsi", "dac", "fi", "data"),
}

#: Most time spans a chunk's dedupe reads stored rows in (the largest gaps separate them).
MAX_SPANS = 64

Columns = dict[str, npt.NDArray[np.generic]]
_NULL_INT = np.uint64(1 << 63)  # a missing integer: no uint32 equals it


def ns_array(ts: pd.Series) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch of a UTC timestamp column."""
    values: npt.NDArray[np.int64] = ts.array.as_unit("ns").asi8
    return values


def ns_of(times: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch of an Arrow timestamp column (missing: the int64 minimum,
    what pandas takes for NaT)."""
    ns = times.cast(pa.int64())
    if ns.null_count:
        ns = ns.fill_null(np.iinfo(np.int64).min)
    values: npt.NDArray[np.int64] = ns.to_numpy()
    return values


def key_columns(table: pa.Table | pa.RecordBatch, key: Sequence[str]) -> Columns:
    """The `key` columns of an Arrow table as numbers: floats as they are (NaN for missing),
    times and integers as int64/uint64 (missing as a value no real one has), text as a 64-bit
    hash of it."""
    out: Columns = {}
    for c in key:
        col = table.column(c)
        t = col.type
        if pa.types.is_floating(t):
            out[c] = col.fill_null(np.nan).to_numpy() if col.null_count else col.to_numpy()
        elif pa.types.is_timestamp(t):
            out[c] = ns_of(col)
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            text = pc.fill_null(col, "").to_numpy(zero_copy_only=False).astype(object)
            out[c] = pd.util.hash_array(text, categorize=False)
        elif col.null_count:
            out[c] = col.cast(pa.uint64()).fill_null(_NULL_INT).to_numpy()
        else:
            out[c] = col.to_numpy()
    return out


def row_keys(cols: Columns, key: Sequence[str] = DEDUPE_KEY) -> npt.NDArray[np.uint64]:
    """A 64-bit hash per row of the `key` columns (NaN equals NaN, -0.0 equals 0.0)."""
    h = np.zeros(len(cols[key[0]]), dtype=np.uint64)
    for word in _words(cols, key):
        h = fmix64(h ^ word)
    return h


def _words(cols: Columns, key: Sequence[str]) -> Iterator[npt.NDArray[np.uint64]]:
    """The bits of the `key` columns as 64-bit words, two columns of 32 bits or fewer in one
    word (fewer words to mix: the hash costs a pass over the rows per word)."""
    narrow: list[npt.NDArray[np.uint64]] = []
    for c in key:
        v = cols[c]
        if v.dtype.kind == "f":  # one NaN, and +0.0 for -0.0
            f = cast("npt.NDArray[np.floating[Any]]", v)
            v = np.where(np.isnan(f), f.dtype.type(np.nan), f + f.dtype.type(0.0))
        bits = v.view(f"u{v.dtype.itemsize}")
        if bits.dtype.itemsize == 8:
            yield bits.astype(np.uint64, copy=False)
        else:
            narrow.append(bits.astype(np.uint64))
    for i in range(0, len(narrow) - 1, 2):
        yield (narrow[i] << np.uint64(32)) | narrow[i + 1]
    if len(narrow) % 2:
        yield narrow[-1]


def fmix64(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """MurmurHash3's 64-bit finaliser: every input bit affects every output bit."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def spans(ts: npt.NDArray[np.int64], window: int) -> npt.NDArray[np.int64]:
    """[lo, hi] rows (ns) covering every time of sorted `ts` +- `window`, at most MAX_SPANS."""
    gaps = np.diff(ts)
    cut = np.flatnonzero(gaps > 2 * window)
    if len(cut) >= MAX_SPANS:
        cut = np.sort(cut[np.argpartition(gaps[cut], -(MAX_SPANS - 1))[-(MAX_SPANS - 1) :]])
    lo = ts[np.r_[0, cut + 1]] - window
    hi = ts[np.r_[cut, len(ts) - 1]] + window
    return np.stack([lo, hi], axis=1)


class Rows(NamedTuple):
    """Rows to compare: their key columns, times (ns) and key hashes (`row_keys`)."""

    cols: Columns
    ts: npt.NDArray[np.int64]
    hashes: npt.NDArray[np.uint64]


def new_rows(
    new: Rows, old: Rows, *, window: int, key: Sequence[str] = DEDUPE_KEY
) -> npt.NDArray[np.bool_]:
    """Mask of the rows `new` (ordered by time) repeating no row of `old` (stored) and no
    earlier new row, within `window` ns."""
    n_old = len(old.ts)
    hashes = np.concatenate([old.hashes, new.hashes])
    ts = np.concatenate([old.ts, new.ts])
    # only rows whose key occurs more than once can be repeats
    rows = np.flatnonzero(pd.Index(hashes).duplicated(keep=False))
    order = rows[np.lexsort((ts[rows], hashes[rows]))]
    hashes, ts = hashes[order], ts[order]
    close = (hashes[1:] == hashes[:-1]) & (np.diff(ts) <= window)
    pairs = np.flatnonzero(close)
    a, b = order[pairs], order[pairs + 1]
    for c in key:
        both = np.concatenate([old.cols[c], new.cols[c]])
        x, y = both[a], both[b]
        same = x == y
        if both.dtype.kind == "f":
            same |= np.isnan(x) & np.isnan(y)
        close[pairs] &= same
    is_new = order >= n_old
    repeat = np.zeros(len(order), dtype=bool)
    repeat[1:] |= close  # the previous row is the same report
    repeat[:-1] |= close & ~is_new[1:]  # the next row is the same report, already stored
    keep = np.ones(len(new.ts), dtype=bool)
    keep[order[repeat & is_new] - n_old] = False
    return keep


def parts_meeting(
    parts: Iterable[tuple[str, int, int]], time_spans: npt.NDArray[np.int64]
) -> list[str]:
    """The files of `parts` ((file, min_ts, max_ts)) whose time range meets one of `spans`."""
    rows = list(parts)
    first, last = (np.array([r[i] for r in rows], dtype=np.int64) for i in (1, 2))
    # the first span ending at or after a part's start must begin before the part ends
    at = np.searchsorted(time_spans[:, 1], first)
    meets = (at < len(time_spans)) & (time_spans[np.minimum(at, len(time_spans) - 1), 0] <= last)
    return [rows[i][0] for i in np.flatnonzero(meets)]


def stored_repeats(
    files: Sequence[str],
    kind: str,
    mmsis: npt.NDArray[np.uint32],
    time_spans: npt.NDArray[np.int64],
    hashes: npt.NDArray[np.uint64],
) -> Rows:
    """The stored rows in `files` (parts of `kind`) that may be repeats of rows with key
    hashes `hashes` (see `new_rows`).

    Only the key columns of the MMSIs `mmsis` within the time spans `time_spans` are read,
    batch by batch; once more rows were read than `hashes` has, only those whose key hash is in
    `hashes` are kept: memory stays bounded by the chunk, whatever the store holds. Parquet
    row-group statistics skip what lies between the spans. OSError or pyarrow.ArrowException
    when a part cannot be read.
    """
    key = KEYS[kind]
    found: dict[str, list[npt.NDArray[np.generic]]] = {c: [] for c in (*key, "ts")}
    if len(files):
        field, unit = ds.field("ts"), pa.timestamp("ns", tz="UTC")
        in_time = [
            (field >= pa.scalar(int(lo), unit)) & (field <= pa.scalar(int(hi), unit))
            for lo, hi in time_spans
        ]
        filt = functools.reduce(operator.or_, in_time)
        filt &= ds.field("mmsi").isin(pa.array(mmsis, pa.uint32()))
        scanner = dataset(files, kind).scanner(columns=[*key, "ts"], filter=filt)
        budget, wanted = len(hashes), None
        for batch in scanner.to_batches():
            vals = key_columns(batch, (*key, "ts"))
            budget -= batch.num_rows
            if budget < 0:  # more stored rows than new ones: keep only those that may match
                wanted = np.sort(hashes) if wanted is None else wanted
                k = row_keys(vals, key)
                at = np.minimum(np.searchsorted(wanted, k), len(wanted) - 1)
                vals = {c: v[wanted[at] == k] for c, v in vals.items()}
            for c in found:
                found[c].append(vals[c])
    old = {
        c: np.concatenate(v) if v else np.empty(0, dtype=_dtype(kind, c)) for c, v in found.items()
    }
    ts_old: npt.NDArray[np.int64] = old.pop("ts").astype(np.int64)
    return Rows(old, ts_old, row_keys(old, key))


def _dtype(kind: str, column: str) -> np.dtype[np.generic]:
    """The numpy dtype `key_columns` gives a column of a kind of part."""
    from mda.store.parts import ARROW

    t = ARROW[kind].field(column).type
    if pa.types.is_floating(t):
        return cast("np.dtype[np.generic]", np.dtype(t.to_pandas_dtype()))
    if pa.types.is_timestamp(t):
        return np.dtype(np.int64)
    if pa.types.is_string(t):
        return np.dtype(np.uint64)
    return cast("np.dtype[np.generic]", np.dtype(t.to_pandas_dtype()))
