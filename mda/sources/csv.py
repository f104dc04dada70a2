"""Readers of the public AIS CSV exports: Danish Maritime Authority (DMA) and NOAA MarineCadastre.

Both are read in chunks of `chunk_rows` rows, so a multi-GB day file never has to fit in
memory. The file is cut into blocks of whole lines that Arrow's CSV parser reads side by side
on `pyarrow.cpu_count()` threads, about a chunk ahead of the chunk being converted; each block
is parsed single-threaded, so Arrow numbers the rows it cannot split into fields and a bad row
is named by its file line without a second parse. Fields are read as text and converted with
vectorised Arrow/numpy kernels; times and the low-cardinality and static text columns arrive
dictionary-encoded, so only their distinct values are interpreted. Unparsable rows are
counted as `malformed` (line numbers in a warning), never fatal. A CSV repeats a vessel's
static data on every row, so statics are reduced to the rows where they change.

Every input reaches Arrow through mda.sources.lines.LineReader: a row longer than
``MAX_LINE_BYTES`` is one ``line_too_long`` row (line number in a warning) and the rest of the
file is read; each block is one Arrow parse block, so no row straddles two of them. A
read that fails part-way (truncated gzip) keeps the rows before it and lists the file in the
report's ``failed``. Times: an impossible calendar date (30 February; Arrow's strptime would
roll it over into March) is ``invalid_date``, a time outside [2000, 2100) (see
mda.sources.base.TIME_MIN_S) is ``time_out_of_range``.
"""

from __future__ import annotations

import bz2
import collections
import contextlib
import functools
import gzip
import io
import os
import re
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import IO, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mda import schema
from mda.ais import NavStatus
from mda.errors import MdaError
from mda.sources.base import (
    MAX_LINE_BYTES,
    TIME_END_S,
    TIME_MIN_S,
    AisData,
    IngestReport,
    valid_position,
)
from mda.sources.lines import CUT_MARKER, LineReader, _valid_utf8

T = TypeVar("T")
#: What a CSV is read from: a path or a binary file object.
Source = str | os.PathLike[str] | IO[bytes]

#: Official headers of the layouts; extra columns (geometry, index_right, ...) are tolerated.
DMA_COLUMNS = (
    "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,"
    "IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,"
    "Destination,ETA,Data source type,A,B,C,D"
)
#: The 11 MarineCadastre columns that older years and many re-publications keep: without
#: Status and TransceiverClass, status is 15 (not defined) and the class unknown (UNKNOWN_CLASS).
NOAA_CORE_COLUMNS = "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType"
NOAA_COLUMNS = NOAA_CORE_COLUMNS + ",Status,Length,Width,Draft,Cargo,TransceiverClass"
#: The columns a header must have, per layout.
_REQUIRED = {"dma": DMA_COLUMNS, "noaa": NOAA_CORE_COLUMNS}

#: Our field -> the layout's column.
_FIELDS: dict[str, dict[str, str | None]] = {
    "dma": {
        "ts": "Timestamp",
        "mobile": "Type of mobile",
        "mmsi": "MMSI",
        "lat": "Latitude",
        "lon": "Longitude",
        "nav_status": "Navigational status",
        "sog": "SOG",
        "cog": "COG",
        "heading": "Heading",
        "imo": "IMO",
        "callsign": "Callsign",
        "name": "Name",
        "ship_type": "Ship type",
        "width": "Width",
        "length": "Length",
        "draught": "Draught",
        "destination": "Destination",
    },
    "noaa": {
        "ts": "BaseDateTime",
        "mobile": "TransceiverClass",
        "mmsi": "MMSI",
        "lat": "LAT",
        "lon": "LON",
        "nav_status": "Status",
        "sog": "SOG",
        "cog": "COG",
        "heading": "Heading",
        "imo": "IMO",
        "callsign": "CallSign",
        "name": "VesselName",
        "ship_type": "VesselType",
        "width": "Width",
        "length": "Length",
        "draught": "Draft",
        "destination": None,
    },
}

#: Navigational status of a row whose status is missing, unknown or not a vessel's.
_NOT_DEFINED = int(NavStatus.NOT_DEFINED)
#: DMA textual navigational status -> AIS code (lower case; anything else is 15 "not defined").
DMA_NAV_STATUS = {
    "under way using engine": 0,
    "at anchor": 1,
    "not under command": 2,
    "restricted maneuverability": 3,
    "restricted manoeuverability": 3,
    "restricted manoeuvrability": 3,
    "constrained by her draught": 4,
    "moored": 5,
    "aground": 6,
    "engaged in fishing": 7,
    "under way sailing": 8,
    "reserved for future amendment [hsc]": 9,
    "reserved for future amendment [wig]": 10,
    "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12,
    "reserved for future use": 13,
    "ais-sart": 14,
}

#: DMA textual ship type -> the first AIS code of its category (ITU-R M.1371 table 53).
DMA_SHIP_TYPE = {
    "wig": 20,
    "fishing": 30,
    "towing": 31,
    "towing long/wide": 32,
    "dredging": 33,
    "diving": 34,
    "military": 35,
    "sailing": 36,
    "pleasure": 37,
    "hsc": 40,
    "pilot": 50,
    "sar": 51,
    "tug": 52,
    "port tender": 53,
    "anti-pollution": 54,
    "law enforcement": 55,
    "spare 1": 56,
    "spare 2": 57,
    "medical": 58,
    "not party to conflict": 59,
    "passenger": 60,
    "cargo": 70,
    "tanker": 80,
    "other": 90,
}

#: Type of mobile / TransceiverClass -> AIS message type. Class A and B rows are vessel
#: positions; the rest (base stations, AtoN, SAR aircraft, SART/MOB/EPIRB) go to `aux`.
DMA_MOBILE = {
    "class a": 1,
    "class b": 18,
    "base station": 4,
    "sar airborne": 9,
    "aton": 21,
}
#: msg_type of a vessel position whose class the file does not give (11-column MarineCadastre).
UNKNOWN_CLASS = 0
_VESSEL_TYPES = (UNKNOWN_CLASS, 1, 18)
#: Other DMA mobiles (SART, MOB, EPIRB): not vessels, stored as aux rows of message type 1.
_OTHER_MOBILE = 255
#: DMA placeholders of a missing text value.
_DMA_MISSING = {"unknown", "undefined", ""}

_NUMERIC = ("mmsi", "lat", "lon", "sog", "cog", "heading")
#: Text read dictionary-encoded too, converted once per distinct value: a day has 86,400
#: seconds and a time is parsed more slowly than it is hashed. Numbers are not: Arrow hashes a
#: field more slowly than it parses a float.
_REPEATED: tuple[str, ...] = ("ts",)
_STATIC = ("imo", "name", "callsign", "ship_type", "length", "width", "draught", "destination")
#: Read dictionary-encoded: few distinct values per chunk, interpreted once each.
_CODED = ("mobile", "nav_status", *_STATIC)
_MAX_LINES_SHOWN = 5
#: Bytes read at a time (mda.sources.lines.LineReader's blocks).
_BLOCK_BYTES = 1 << 20
#: Bytes per Arrow parse: each parse has a fixed cost and its own dictionaries, so a few MB
#: (about 25,000 DMA rows) cost less than the reader's blocks one by one.
_PARSE_BYTES = 4 << 20
#: Fewest bytes of a CSV row (DMA rows have about 160): how many parses a chunk is ahead.
_ROW_BYTES = 64
#: The date at the start of a time field, per layout (day-first DMA, ISO 8601 NOAA).
_DATE = {
    "dma": re.compile(r"\s*(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"),
    "noaa": re.compile(r"\s*(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
}
_CUT_TEXT = CUT_MARKER.decode()


def _norm(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip('"').lstrip("#").strip().lower()


def _split_header(header_line: str) -> list[str]:
    return [_norm(c) for c in header_line.rstrip("\r\n").split(",")]


def sniff(header_line: str) -> str | None:
    """The CSV layout of a header line: "dma", "noaa", or None when it is neither.

    Column names are compared case-insensitively, a leading "# " is optional and extra columns
    (geometry, index_right, ...) are allowed.
    """
    cols = set(_split_header(header_line))
    for layout, header in _REQUIRED.items():
        if set(_split_header(header)) <= cols:
            return layout
    return None


def iter_csv(
    source: Source,
    layout: str,
    *,
    source_name: str,
    chunk_rows: int = 1_000_000,
) -> Iterator[AisData]:
    """Decode a DMA or NOAA CSV (plain, gzip or bzip2; path or binary file) chunk by chunk.

    A file object must start at the header line. Each chunk's report counts only that chunk
    (merge them for the file); the last one carries a warning with the first line numbers of
    malformed rows, and a read error part-way (truncated .gz) ends the file with a warning and
    the file in the report's `failed`.
    """
    if layout not in _FIELDS:
        raise ValueError(f"unknown CSV layout {layout!r}")
    header, reader, owned = _open(source, source_name)
    try:
        names, fields = _header_fields(header, layout, source_name)
        decoder = _Decoder(layout, source_name, fields)
        for table, last in _tables(reader, names, fields, chunk_rows, decoder):
            data = decoder.chunk(table)
            if last:
                decoder.finish(data.report, reader)
            yield data
    finally:
        if owned is not None:
            owned.close()


def _tables(
    reader: LineReader, names: list[str], fields: dict[str, str], chunk_rows: int, decoder: _Decoder
) -> Iterator[tuple[pa.Table, bool]]:
    """Raw tables of exactly `chunk_rows` rows, then the rest flagged as last.

    The blocks of whole lines are parsed by Arrow on `pa.cpu_count()` threads, about a chunk
    ahead (the next chunk is parsed while this one is stored). A read error ends the stream
    early: it is kept on the decoder and what was read is kept.
    """
    parse = _BlockParser(names, fields)
    pending: list[pa.Table] = []
    npending = 0
    workers = pa.cpu_count()
    ahead = max(2 * workers, chunk_rows * _ROW_BYTES // _PARSE_BYTES)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="mda-csv-parse")
    futures = _prefetch((pool.submit(parse, _arrow_text(b)) for b in _blocks(reader)), ahead)
    try:
        with contextlib.closing(futures):
            for future in futures:
                table, invalid = future.result()
                decoder.on_block(table.num_rows, invalid)
                pending.append(table)
                npending += table.num_rows
                while npending >= chunk_rows:
                    whole = pa.concat_tables(pending)
                    pending = [whole.slice(chunk_rows)]
                    npending -= chunk_rows
                    yield whole.slice(0, chunk_rows), False
    except (pa.ArrowInvalid, OSError, EOFError) as e:
        decoder.error = str(e).splitlines()[0] if str(e) else type(e).__name__
    finally:
        pool.shutdown(cancel_futures=True)
    yield pa.concat_tables(pending) if pending else parse.schema.empty_table(), True


def _blocks(reader: LineReader) -> Iterator[bytes | memoryview]:
    """The reader's blocks of whole lines gathered into parse blocks of about _PARSE_BYTES (one
    Arrow parse each: fewer, larger parses cost less), an unterminated last line joined to the
    block before it (as Arrow reads a stream: an open quote there runs on to the end of the
    file)."""
    group: list[bytes | memoryview] = []
    size = 0
    full: list[bytes | memoryview] | None = None  # a whole group, waiting for the next block
    for block in reader.blocks():
        if full is not None and bytes(block[-1:]) != b"\n":
            full.append(block)  # the last block: its line has no end
            continue
        if full is not None:
            yield _joined(full)
            full = None
        group.append(block)
        size += len(block)
        if size >= _PARSE_BYTES:
            full, group, size = group, [], 0
    for rest in (full, group):
        if rest:
            yield _joined(rest)


def _joined(blocks: list[bytes | memoryview]) -> bytes | memoryview:
    return blocks[0] if len(blocks) == 1 else b"".join(blocks)


def _arrow_text(block: bytes | memoryview) -> bytes | memoryview:
    """A block as Arrow may read it: invalid UTF-8 replaced (see mda.sources.lines.LineStream)."""
    whole = cast(bytes, block.obj) if isinstance(block, memoryview) else block
    return block if whole.isascii() else _valid_utf8(block)


class _BlockParser:
    """Arrow's parse of one block of whole lines, with the rows it could not split into fields.

    Each block is parsed on one thread, so Arrow numbers its invalid rows (a multithreaded parse
    does not); blocks are parsed side by side. The block is one Arrow block: no row straddles two.
    """

    def __init__(self, names: list[str], fields: dict[str, str]) -> None:
        self.names = names
        # numbers and times as unchecked text: stray bytes just make a field unparsable
        types: dict[str, pa.DataType] = {c: pa.string() for c in fields.values()}
        types.update({fields[f]: pa.dictionary(pa.int32(), pa.string()) for f in _REPEATED})
        coded = pa.dictionary(pa.int32(), pa.binary())
        types.update({fields[f]: coded for f in _CODED if f in fields})
        self.schema = pa.schema([(c, types[c]) for c in fields.values()])
        self.convert = pacsv.ConvertOptions(
            include_columns=list(fields.values()),
            column_types=types,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            check_utf8=False,
        )

    def __call__(self, block: bytes | memoryview) -> tuple[pa.Table, list[tuple[int, str]]]:
        """The block's table and its invalid rows: (row number in the block from 1, text)."""
        invalid: list[tuple[int, str]] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            invalid.append((row.number, row.text))
            return "skip"

        table = pacsv.read_csv(
            pa.py_buffer(block),
            read_options=pacsv.ReadOptions(
                column_names=self.names, use_threads=False, block_size=len(block) + 1
            ),
            parse_options=pacsv.ParseOptions(
                invalid_row_handler=on_invalid, ignore_empty_lines=False
            ),
            convert_options=self.convert,
        )
        # the types asked for, unless Arrow made them differ (a block of no good row)
        return table if table.schema == self.schema else table.cast(self.schema), invalid


def _open(source: Source, source_name: str) -> tuple[str, LineReader, IO[bytes] | None]:
    """Header line, the LineReader of the rows after it, and the stream to close (None when it
    is the caller's file object, which is left open).

    gzip/bzip2 are found by magic bytes.
    """
    owned = isinstance(source, str | os.PathLike)
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as f:
                compression = _compression(f.read(3))
            buf = _OPENERS[compression](source)
        else:
            raw = cast(io.RawIOBase, source)
            buf = source if hasattr(source, "peek") else io.BufferedReader(raw)
            compression = _compression(cast(io.BufferedReader, buf).peek(3)[:3])
            if compression is not None:
                buf = _OPENERS[compression](buf)
        header = buf.readline(MAX_LINE_BYTES + 1)
    except (OSError, EOFError) as e:
        raise MdaError(f"{source_name}: cannot read: {getattr(e, 'strerror', 0) or e}") from None
    if len(header) > MAX_LINE_BYTES:
        if owned:
            buf.close()
        raise MdaError(f"{source_name}: line 1: longer than {MAX_LINE_BYTES:,} bytes, no header")
    return _decode_header(header), LineReader(buf, block_bytes=_BLOCK_BYTES), buf if owned else None


def _opener(
    func: Callable[..., IO[bytes]],
) -> Callable[[str | os.PathLike[str] | IO[bytes]], IO[bytes]]:
    """`func(source, "rb")`: opens a path, or (gzip, bz2) wraps a file object."""
    return lambda source: func(source, "rb")


_OPENERS = {
    None: _opener(open),
    "gzip": _opener(cast(Callable[..., IO[bytes]], gzip.open)),  # "rb" gives a binary file
    "bz2": _opener(bz2.open),
}


def _decode_header(line: bytes) -> str:
    return line.decode("utf-8", errors="replace")


def _compression(magic: bytes) -> str | None:
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"BZh":
        return "bz2"
    return None


def _header_fields(header: str, layout: str, source_name: str) -> tuple[list[str], dict[str, str]]:
    """The header's column names and, for each field we read, its column."""
    if not header.strip():
        raise MdaError(f"{source_name}: empty file, expected a {layout.upper()} CSV header")
    names = header.rstrip("\r\n").split(",")
    by_norm = {_norm(c): c for c in names}
    missing = [c for c in _REQUIRED[layout].split(",") if _norm(c) not in by_norm]
    if missing:
        raise MdaError(
            f"{source_name}: line 1: not a {layout.upper()} CSV header "
            f"(missing {', '.join(missing)})"
        )
    wanted = {f: c for f, c in _FIELDS[layout].items() if c is not None}
    return names, {f: by_norm[_norm(c)] for f, c in wanted.items() if _norm(c) in by_norm}


def _prefetch(items: Iterator[T], ahead: int) -> Generator[T, None, None]:
    """The items of an iterator, taken up to `ahead` items in advance by a thread.

    Stops the thread when the consumer stops early; an error of the iterator is raised to the
    consumer in its place.
    """
    ready: collections.deque[T | BaseException] = collections.deque()
    cond = threading.Condition()
    state = {"stop": False, "done": False}

    def work() -> None:
        try:
            for item in items:
                with cond:
                    cond.wait_for(lambda: state["stop"] or len(ready) < ahead)
                    if state["stop"]:
                        return
                    ready.append(item)
                    cond.notify_all()
        except BaseException as e:  # handed to the consumer, which re-raises it
            with cond:
                ready.append(e)
        with cond:
            state["done"] = True
            cond.notify_all()

    thread = threading.Thread(target=work, name="mda-csv-reader", daemon=True)
    thread.start()
    try:
        while True:
            with cond:
                cond.wait_for(lambda: bool(ready) or state["done"])
                if not ready:
                    return
                item = ready.popleft()
                cond.notify_all()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        with cond:
            state["stop"] = True
            cond.notify_all()
        thread.join()


class _Decoder:
    """Converts the chunks of one file; keeps its row count and what was wrong with it."""

    def __init__(self, layout: str, source_name: str, fields: dict[str, str]):
        self.layout = layout
        self.source_name = source_name
        self.fields = fields
        self.rows = 0
        self.malformed = 0
        self.bad_lines: list[int] = []  # the first few of each chunk, for the warning
        self.bad_times = 0  # rows with an impossible date or a time out of range
        self.time_lines: list[int] = []  # the first few of each chunk, for the warning
        self.skipped: list[int] = []  # line numbers of rows with a wrong number of fields
        self.cut: list[int] = []  # line numbers of rows cut for length (LineReader counts them)
        self.error: str | None = None
        self.header = True
        self.arrow_rows = 0  # rows of the parsed blocks, good or not (Arrow's row numbers)

    def on_block(self, nrows: int, invalid: list[tuple[int, str]]) -> None:
        """Note the lines of a parsed block's rows with a wrong field count (skipped) or cut for
        length; the block held `nrows` good rows besides them."""
        for number, text in invalid:
            line = self.arrow_rows + number + 1  # the stream starts after the header line
            if text == _CUT_TEXT:
                self.cut.append(line)
            elif text.strip():
                self.skipped.append(line)
        self.arrow_rows += nrows + len(invalid)

    def chunk(self, table: pa.Table) -> AisData:
        report = IngestReport(files=[self.source_name])
        report.lines = table.num_rows + int(self.header)
        self.header = False
        cols = {f: table.column(c) for f, c in self.fields.items()}
        # static fields are compared by code: one dictionary per field in the chunk
        coded = [f for f in _CODED if f in cols]
        unified = table.select([self.fields[f] for f in coded]).unify_dictionaries()
        cols |= {f: unified.column(i) for i, f in enumerate(coded)}
        d = _decode(cols, self.layout, report)
        unparsed = self.skipped + self.cut
        malformed = np.flatnonzero(d["malformed"])
        self.malformed += len(malformed)
        self.bad_lines += _line_numbers(self.rows + malformed[:_MAX_LINES_SHOWN], unparsed)
        bad_time = np.flatnonzero(d["bad_time"])
        self.bad_times += len(bad_time)
        self.time_lines += _line_numbers(self.rows + bad_time[:_MAX_LINES_SHOWN], unparsed)
        self.rows += table.num_rows
        report.messages, report.rejected = +report.messages, +report.rejected  # no zero counts
        return _build(d, report, self.source_name)

    def _warn(self, report: IngestReport, what: str, n: int, lines: list[int]) -> None:
        """A warning with the count and the first line numbers of rows rejected for `what`."""
        if not n:
            return
        bad = sorted(lines)[:_MAX_LINES_SHOWN]
        shown = ", ".join(map(str, bad)) + (", ..." if n > len(bad) else "")
        rows = "row" if n == 1 else "rows"
        head = f"{n:,} malformed {rows}" if what == "malformed" else f"{n:,} {rows} {what}"
        report.warnings.append(f"{self.source_name}: {head} (lines {shown})")

    def finish(self, report: IngestReport, reader: LineReader) -> None:
        """Add the file-level counts and warnings to the last chunk's report."""
        skipped = self.skipped
        if skipped:
            report.rejected["malformed"] += len(skipped)
        report.lines += len(skipped) + len(self.cut)
        self._warn(report, "malformed", len(skipped) + self.malformed, skipped + self.bad_lines)
        self._warn(report, "with a bad date or time", self.bad_times, self.time_lines)
        kept = f"the {self.rows:,} rows before it"
        line = self.rows + len(skipped) + len(self.cut) + 1  # the last line read
        reader.cut_lines = self.cut
        reader.finish(report, self.source_name, last_line=line, kept=kept)
        if self.error is not None and self.source_name not in report.failed:
            reason = f"read error after line {line:,}: {self.error}"
            report.fail(self.source_name, reason, kept=kept)


def _line_numbers(rows: np.ndarray, skipped: list[int]) -> list[int]:
    """File line numbers of parsed data rows (0-based among parsed rows), given skipped lines."""
    s = np.sort(np.asarray(skipped, dtype=np.int64))
    before = s - 2 - np.arange(len(s))  # parsed rows preceding each skipped line
    return cast(list[int], (2 + rows + np.searchsorted(before, rows, side="right")).tolist())


def _np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numpy array of an Arrow column (nulls become NaN/NaT), read-only when it shares
    Arrow's memory: results are new arrays, never changed in place."""
    values: np.ndarray = arr.to_numpy(zero_copy_only=False)
    return values


def _number(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Text -> float64 (NaN when empty) and a mask of fields that are present but unparsable."""
    try:
        values = pc.cast(arr, pa.float64())
    except pa.ArrowInvalid:  # slow path, only for chunks holding bad fields
        flat = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        enc = pc.dictionary_encode(flat.cast(pa.binary()))
        parsed = pa.array([_float(v) for v in enc.dictionary.to_pylist()], pa.float64())
        values = parsed.take(enc.indices)
    return _np(values), _np(pc.and_(values.is_null(), arr.is_valid()))


def _float(v: str | bytes) -> float | None:
    try:
        return float(v)
    except ValueError:
        return None


def _timestamps(arr: pa.Array, layout: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text -> datetime64[ns] (NaT when unusable), and the masks of impossible dates and of
    times outside [TIME_MIN_S, TIME_END_S). DMA is day-first, NOAA is ISO 8601."""
    ts = None
    impossible = np.zeros(len(arr), dtype=bool)
    if layout == "noaa":
        with contextlib.suppress(pa.ArrowInvalid):
            ts = pc.cast(arr, pa.timestamp("s"))  # checks calendar dates itself
    if ts is None:
        fmt = "%d/%m/%Y %H:%M:%S" if layout == "dma" else "%Y-%m-%dT%H:%M:%S"
        ts = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
        impossible = _impossible_dates(arr, layout)
    seconds = pc.cast(ts, pa.int64())
    inside = pc.and_(pc.greater_equal(seconds, TIME_MIN_S), pc.less(seconds, TIME_END_S))
    inside = _np(inside.fill_null(False)) & ~impossible
    out = _np(ts.is_valid()) & ~inside & ~impossible
    ts = _np(pc.if_else(inside, ts, None).cast(pa.timestamp("ns")))
    return ts, impossible, out


def _impossible_dates(arr: pa.Array, layout: str) -> np.ndarray:
    """Rows whose date is not in the calendar (30 February, 31 April, month 13).

    Checked once per distinct date text: a file holds few dates.
    """
    head = pc.binary_slice(arr.cast(pa.binary()), 0, 10)
    pattern = _DATE[layout]

    def impossible(text: bytes) -> bool:
        m = pattern.match(text.decode("latin-1"))
        if m is None:
            return False  # not a date at all: unparsable, counted as malformed
        try:
            date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            return True
        return False

    bad = [v for v in pc.unique(head).to_pylist() if v is not None and impossible(v)]
    if not bad:
        return np.zeros(len(arr), dtype=bool)
    return _np(pc.is_in(head, value_set=pa.array(bad, pa.binary())))


class _Coded:
    """A dictionary-encoded column: per-row codes (-1 = empty) into its raw values.

    The values are distinct when the chunks share one dictionary (`shared`: the table's
    dictionaries were unified); otherwise the chunks' dictionaries are laid end to end.
    """

    def __init__(self, arr: pa.ChunkedArray, shared: bool):
        chunks = arr.chunks
        dicts = [c.dictionary for c in (chunks[:1] if shared else chunks)]
        self.dictionary = pa.concat_arrays(dicts) if dicts else pa.array([], arr.type.value_type)
        indices = pa.chunked_array([c.indices for c in chunks], type=pa.int32())
        codes = indices.fill_null(-1) if indices.null_count else indices
        self.codes = codes.to_numpy(zero_copy_only=False)
        if len(dicts) > 1:  # each chunk's codes move past the dictionaries before it
            starts = np.cumsum([0, *map(len, dicts[:-1])])
            at = np.repeat(starts, [len(c) for c in chunks])
            self.codes = np.where(self.codes >= 0, self.codes + at, -1)

    @functools.cached_property
    def values(self) -> list[bytes]:
        return list(self.dictionary.cast(pa.binary()).to_pylist())

    def per_row(self, values: np.ndarray, empty: object) -> np.ndarray:
        """`values` (one per distinct value), then `empty`, indexed with `codes`."""
        rows: np.ndarray = np.append(values, np.array([empty], values.dtype))[self.codes]
        return rows

    def lookup(
        self, func: Callable[[str], object], dtype: npt.DTypeLike, empty: object
    ) -> np.ndarray:
        """`func(text)` of each distinct value, then `empty`: index it with `codes`."""
        values = (func(v.decode("utf-8", errors="replace").strip()) for v in self.values)
        return np.array([*values, empty], dtype=dtype)

    def interpret(
        self, func: Callable[[str], object], dtype: npt.DTypeLike, empty: object
    ) -> np.ndarray:
        """Per-row `func(text)`, computed once per distinct value."""
        rows: np.ndarray = self.lookup(func, dtype, empty)[self.codes]
        return rows


def _decode(cols: dict[str, pa.ChunkedArray], layout: str, report: IngestReport) -> dict[str, Any]:
    """Vectorised conversion of one chunk's columns, with the reject reason of each row."""
    coded = {f: _Coded(cols[f], shared=False) for f in _REPEATED}
    coded |= {f: _Coded(cols[f], shared=True) for f in _CODED if f in cols}

    def per_row(
        f: str, convert: Callable[..., tuple[np.ndarray, ...]], empty: tuple[Any, ...]
    ) -> tuple[np.ndarray, ...]:
        """`convert` of field f's text, once per distinct value when it is coded."""
        if f not in coded:
            return convert(cols[f])
        values = convert(coded[f].dictionary)
        return tuple(coded[f].per_row(x, e) for x, e in zip(values, empty, strict=True))

    blank = _np(cols["mmsi"].is_null()) & _np(cols["ts"].is_null())
    ts, bad_date, out_of_range = per_row("ts", lambda a: _timestamps(a, layout), _NO_TIME)
    malformed = np.isnat(ts) & ~blank & ~bad_date & ~out_of_range
    num = {}
    for f in _NUMERIC:
        num[f], bad = per_row(f, _number, (np.nan, False))
        malformed |= bad
    bad_date = bad_date & ~malformed
    out_of_range = out_of_range & ~malformed
    if layout == "dma":
        mobile = coded["mobile"].interpret(
            lambda v: DMA_MOBILE.get(v.lower(), _OTHER_MOBILE), np.int64, _OTHER_MOBILE
        )
        nav = coded["nav_status"].interpret(
            lambda v: DMA_NAV_STATUS.get(v.lower(), _NOT_DEFINED), np.int64, _NOT_DEFINED
        )
    else:  # the 11-column layout has neither TransceiverClass nor Status
        mobile, nav = np.full(len(blank), UNKNOWN_CLASS), np.full(len(blank), _NOT_DEFINED)
        if "mobile" in coded:
            mobile = coded["mobile"].interpret(lambda v: 18 if v.upper() == "B" else 1, np.int64, 1)
        if "nav_status" in coded:
            nav = coded["nav_status"].interpret(_noaa_status, np.int64, _NOT_DEFINED)
    report.messages[f"csv:{layout}"] += int((~malformed & ~blank).sum())
    report.rejected["malformed"] += int(malformed.sum())
    report.rejected["invalid_date"] += int(bad_date.sum())
    report.rejected["time_out_of_range"] += int(out_of_range.sum())

    mmsi, lat, lon = num["mmsi"], num["lat"], num["lon"]
    good_mmsi = (mmsi >= 1) & (mmsi <= 999_999_999) & (mmsi == np.round(mmsi))
    good_pos = valid_position(lat, lon)
    ok = ~malformed & ~blank & ~bad_date & ~out_of_range
    report.rejected["invalid_mmsi"] += int((ok & ~good_mmsi).sum())
    report.rejected["invalid_position"] += int((ok & good_mmsi & ~good_pos).sum())
    sog, cog, heading = num["sog"], num["cog"], num["heading"]
    sog = np.where((sog >= 0) & (sog < 102.3), sog, np.nan)  # 102.3 = not available
    cog = np.where((cog >= 0) & (cog < 360), cog, np.nan)  # 360 = not available
    heading = np.where((heading >= 0) & (heading < 360), heading, np.nan)  # 511 = n/a
    vessel = np.isin(mobile, _VESSEL_TYPES)
    return {
        "malformed": malformed,
        "bad_time": bad_date | out_of_range,
        "identified": ok & good_mmsi,
        "located": ok & good_mmsi & good_pos,
        "vessel": vessel,
        "mmsi": np.where(good_mmsi, mmsi, 0).astype(np.uint32),
        "ts": ts,
        "lat": lat,
        "lon": lon,
        "sog": sog,
        "cog": cog,
        "heading": heading,
        "nav_status": np.where(vessel, nav, _NOT_DEFINED),
        "msg_type": mobile,
        "coded": coded,
        "layout": layout,
    }


#: What _timestamps gives an empty field: no time, not an impossible date, not out of range.
_NO_TIME = (np.datetime64("NaT", "ns"), False, False)


def _noaa_status(v: str) -> int:
    x = _float(v)
    return int(x) if x is not None and 0 <= x <= 15 and x == int(x) else _NOT_DEFINED


def _repeat(value: str, n: int) -> pd.arrays.ArrowStringArray:
    """A string column holding `value` n times, built from its buffers (offsets and bytes)."""
    text = value.encode()
    offsets = pa.py_buffer(np.arange(n + 1, dtype=np.int64) * len(text))
    arr = pa.LargeStringArray.from_buffers(n, offsets, pa.py_buffer(text * n))
    return pd.array(arr, dtype="string")


def _build(d: dict[str, Any], report: IngestReport, source: str) -> AisData:
    """Positions, aux positions and changed statics of one decoded chunk."""
    keep = d["located"] & d["vessel"]
    n = int(keep.sum())
    positions = pd.DataFrame(
        {
            "mmsi": d["mmsi"][keep],
            "ts": pd.to_datetime(d["ts"][keep], utc=True),
            "lat": d["lat"][keep],
            "lon": d["lon"][keep],
            "sog": d["sog"][keep].astype(np.float32),
            "cog": d["cog"][keep].astype(np.float32),
            "heading": d["heading"][keep].astype(np.float32),
            "nav_status": d["nav_status"][keep].astype(np.uint8),
            "msg_type": d["msg_type"][keep].astype(np.uint8),
            "source": _repeat(source, n),
            "station": _repeat("", n),
        },
        copy=False,
    )
    report.positions = n
    report.mmsis |= set(pd.unique(positions["mmsi"].to_numpy()).tolist())
    report.see_times(positions["ts"])
    statics = _statics(d, d["identified"] & d["vessel"])
    report.static_reports = len(statics)
    return AisData(
        positions=schema.conform(positions, schema.POSITIONS),
        aux=_aux(d, source),
        statics=statics,
        report=report,
    )


def _aux(d: dict[str, Any], source: str) -> pd.DataFrame:
    """Base stations, AtoN, SAR aircraft and other non-vessel mobiles with a valid position."""
    keep = d["located"] & ~d["vessel"]
    if not keep.any():
        return schema.empty(schema.AUX_POSITIONS)
    kind = d["msg_type"][keep]
    names = pd.Series(_static_tables(d)["name"][d["coded"]["name"].codes[keep]], dtype="string")
    return schema.conform(
        pd.DataFrame(
            {
                "mmsi": d["mmsi"][keep],
                "ts": pd.to_datetime(d["ts"][keep], utc=True),
                "lat": d["lat"][keep],
                "lon": d["lon"][keep],
                "msg_type": np.where(kind == _OTHER_MOBILE, 1, kind).astype(np.uint8),
                "name": names.fillna("").array,
                "source": _repeat(source, int(keep.sum())),
            }
        ),
        schema.AUX_POSITIONS,
    )


def _static_tables(d: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per static field present in the layout: its interpreted distinct values (see _Coded)."""
    missing = _DMA_MISSING if d["layout"] == "dma" else {""}

    def text(v: str) -> str | None:
        return None if v.lower() in missing else v

    def positive(v: str) -> float:  # AIS sends 0 for "not available"; above float32 is junk
        x = _float(v)
        return x if x is not None and 0 < x <= float(np.finfo(np.float32).max) else np.nan

    def imo(v: str) -> float:
        x = _float(v.upper().removeprefix("IMO"))
        return x if x is not None and 1 <= x <= 999_999_999 and x == int(x) else np.nan

    def ship_type(v: str) -> float:
        x = DMA_SHIP_TYPE.get(v.lower()) if d["layout"] == "dma" else _float(v)
        return x if x is not None and 1 <= x <= 255 and x == int(x) else np.nan

    funcs: dict[str, Callable[[str], object]] = {"imo": imo, "ship_type": ship_type}
    funcs |= {f: text for f in ("name", "callsign", "destination")}
    funcs |= {f: positive for f in ("length", "width", "draught")}
    coded = d["coded"]
    return {
        f: coded[f].lookup(func, object if func is text else np.float64, None)
        for f, func in funcs.items()
        if f in coded
    }


def _mix(state: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Fold one more column of small integer codes into a 64-bit row state (a hash)."""
    state = state * np.uint64(0x9E3779B97F4A7C15) + (codes.astype(np.int64) + 1).astype(np.uint64)
    return state ^ (state >> np.uint64(29))


def _statics(d: dict[str, Any], rows: np.ndarray) -> pd.DataFrame:
    """Static rows of vessels, kept only where they differ from the same MMSI's previous row.

    Works on the raw dictionary codes: in a time-ordered chunk, a vessel whose static fields
    never change (most of them) is settled by a hash of its (MMSI, state) pairs, and only the
    rows of vessels with several states are sorted by time and compared row by row.
    """
    tables = _static_tables(d)
    coded = d["coded"]
    mmsi, ts = d["mmsi"], d["ts"]
    state = np.zeros(len(rows), dtype=np.uint64)
    has_any = np.zeros(len(rows), dtype=bool)
    for f in tables:
        has_any |= coded[f].codes >= 0
        state = _mix(state, coded[f].codes)
    idx = np.flatnonzero(rows & has_any)
    settled = np.empty(0, dtype=np.int64)
    if len(idx) and not (np.diff(ts[idx]) < np.timedelta64(0)).any():
        pair = pd.factorize(_mix(state[idx], mmsi[idx]))[0]
        # factorize numbers pairs by first appearance: the running max rises at each first row
        first = idx[np.diff(np.maximum.accumulate(pair), prepend=-1) > 0]
        vessels, count = np.unique(mmsi[first], return_counts=True)
        multi = vessels[count > 1]
        settled = first[~np.isin(mmsi[first], multi)]
        idx = idx[np.isin(mmsi[idx], multi)]
    idx = idx[np.lexsort((ts[idx], mmsi[idx]))]
    keep = np.ones(len(idx), dtype=bool)
    keep[1:] = (mmsi[idx][1:] != mmsi[idx][:-1]) | (state[idx][1:] != state[idx][:-1])
    idx = np.concatenate([settled, idx[keep]])
    idx = idx[np.lexsort((ts[idx], mmsi[idx]))]
    # raw values that mean the same ("220" and "220.0", "Unknown" and empty) are no change
    ids = {f: pd.factorize(t)[0][coded[f].codes[idx]] for f, t in tables.items()}
    known = np.zeros(len(idx), dtype=bool)
    canon = np.zeros(len(idx), dtype=np.uint64)
    for v in ids.values():
        known |= v >= 0
        canon = _mix(canon, v)
    idx, canon = idx[known], canon[known]
    m = mmsi[idx]
    keep = np.ones(len(idx), dtype=bool)
    keep[1:] = (m[1:] != m[:-1]) | (canon[1:] != canon[:-1])
    idx = idx[keep]
    out = pd.DataFrame({f: t[coded[f].codes[idx]] for f, t in tables.items()})
    out["mmsi"] = mmsi[idx]
    out["ts"] = pd.to_datetime(ts[idx], utc=True)
    kind = d["msg_type"][idx]
    out["ais_class"] = pd.array(np.where(kind == 18, "B", "A"), dtype="string")
    out.loc[kind == UNKNOWN_CLASS, "ais_class"] = pd.NA
    out["imo"] = pd.array(out["imo"], dtype="Float64").astype("UInt32")
    out["ship_type"] = pd.array(out["ship_type"], dtype="Float64").astype("UInt8")
    return schema.conform(out, schema.VESSELS, extra=False)
