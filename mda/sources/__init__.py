"""Where AIS comes from: the reader front door over NMEA and CSV inputs.

:func:`iter_ais` streams decoded chunks with bounded memory; :func:`read_ais` returns everything
at once. The format of each input is sniffed from its content, not its name: NMEA when an
``!xxVDM``/``!xxVDO`` sentence (or any NMEA-looking line) appears near the start, otherwise a
DMA or MarineCadastre CSV recognised by its header (mda.sources.csv). gzip and bzip2 are found
by their magic bytes. An input that cannot be read is skipped with a warning and counted as
``unreadable_file``; only when no input at all can be read is it an error. Directories are
walked (symbolic links to directories followed once); a subdirectory that cannot be listed or a
broken symbolic link below one is such an unreadable input, named with its reason.

Resource bounds (see mda.sources.lines and mda.sources.nmea): lines longer than
``MAX_LINE_BYTES`` are skipped and counted (``line_too_long``) in files, compressed files, stdin
and line iterables alike, so memory stays bounded and time linear whatever the input; an input
that breaks off part-way (truncated gzip) keeps what was read before and is listed in the
report's ``failed``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from mda import progress
from mda.errors import MdaError
from mda.schema import utc
from mda.sources.base import MAX_LINE_BYTES, AisData, IngestReport, concat
from mda.sources.lines import LineReader
from mda.sources.nmea import BATCH_LINES, iter_nmea

__all__ = ["AisData", "IngestReport", "expand_inputs", "iter_ais", "read_ais", "sniff"]

log = logging.getLogger("mda")

#: Bytes read ahead to tell formats apart.
SNIFF_BYTES = 1 << 16
#: Most bytes read per block when streaming an NMEA input (fewer for small `chunk_rows`).
BLOCK_BYTES = 1 << 22

_AIS_SENTENCE = re.compile(r"!..VD[MO]")
_NMEA_LINE = re.compile(r"^(?:\\[^\\\n]*\\)?[!$]\w+,", re.MULTILINE)

Inputs = str | os.PathLike[str] | Iterable[Any]


class _Lines:
    """An in-memory or live iterable of text/bytes lines (always NMEA)."""

    def __init__(self, lines: Iterable[Any]) -> None:
        self.lines = lines
        self.cut = 0  # lines longer than MAX_LINE_BYTES, skipped

    def batches(self) -> Iterator[list[str]]:
        batch: list[str] = []
        for item in self.lines:
            text = item.decode("latin-1") if isinstance(item, bytes | bytearray) else str(item)
            lines = text.rstrip("\n").split("\n")
            if max(map(len, lines)) > MAX_LINE_BYTES:
                self.cut += sum(len(x) > MAX_LINE_BYTES for x in lines)
                lines = [x for x in lines if len(x) <= MAX_LINE_BYTES]
            batch.extend(lines)
            if len(batch) >= BATCH_LINES:
                yield batch
                batch = []
        if batch:
            yield batch

    def finish(self, report: IngestReport) -> None:
        if self.cut:
            report.rejected["line_too_long"] += self.cut
            report.warnings.append(
                f"<lines>: {self.cut:,} line(s) longer than {MAX_LINE_BYTES:,} bytes skipped"
            )


class Unreadable:
    """An input found while expanding directories that cannot be read (see :func:`iter_ais`)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"Unreadable({str(self.path)!r}, {self.reason!r})"


def _looks_like_lines(items: list[Any]) -> bool:
    """A list holds lines (not paths) when any item is bytes, empty or reads like a record
    and is not an existing file (file names may contain commas).

    Pass a generator or iterator to have any content taken as lines.
    """
    for it in items:
        if isinstance(it, bytes | bytearray):
            return True
        record = isinstance(it, str) and (not it or "," in it or "\n" in it or it[0] in "!$\\")
        if record and not os.path.exists(it):  # an existing file is a path, commas and all
            return True
    return False


def _reason(e: OSError) -> str:
    return (e.strerror or str(e) or type(e).__name__).lower()


def _walk(top: Path, seen: set[tuple[int, int]]) -> Iterator[Path | Unreadable]:
    """Files below directory `top`, sorted; what cannot be listed or is a broken link as
    Unreadable. A directory reached twice (a symbolic link loop) is walked once."""
    try:
        st = top.stat()
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(top) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        yield Unreadable(top, _reason(e))
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            if entry.is_dir():
                yield from _walk(path, seen)
            elif entry.is_file():
                yield path
            elif entry.is_symlink() and not path.exists():
                yield Unreadable(path, f"broken symbolic link to {os.readlink(path)}")
        except OSError as e:
            yield Unreadable(path, _reason(e))


def _expand(inputs: Inputs) -> Iterator[str | Path | _Lines | Unreadable]:
    """Inputs as a flat sequence: paths (directories walked, sorted), "-", line iterables and
    the inputs found unreadable on the way."""
    if isinstance(inputs, str | os.PathLike | Unreadable):
        items: list[Any] = [inputs]
    elif isinstance(inputs, list | tuple) and not _looks_like_lines(list(inputs)):
        items = list(inputs)
    else:
        yield _Lines(inputs)
        return
    for item in items:
        if isinstance(item, str) and item == "-":
            yield "-"
            continue
        if isinstance(item, Unreadable):
            yield item
            continue
        p = Path(item)
        if p.is_dir():
            yield from _walk(p, set())
        elif p.is_symlink() and not p.exists():
            yield Unreadable(p, f"broken symbolic link to {os.readlink(p)}")
        else:
            yield p


def expand_inputs(inputs: Inputs) -> Iterator[str | Path | Iterable[Any] | Unreadable]:
    """The inputs of :func:`iter_ais` one by one, each readable on its own by iter_ais.

    A file path (directories walked, sorted), "-" for stdin, the iterable of NMEA lines, or an
    :class:`Unreadable` (a directory that cannot be listed, a broken link) that iter_ais reports.
    """
    for src in _expand(inputs):
        yield src.lines if isinstance(src, _Lines) else src


class _Prefixed(io.RawIOBase):
    """A binary stream that replays bytes already read (for sniffing) before the rest."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head = memoryview(head)
        self.rest = rest

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self.rest.close()
        super().close()

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]  # only given memoryviews
        if self.head.nbytes:
            n = min(len(buf), self.head.nbytes)
            buf[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        read = getattr(self.rest, "read1", None) or self.rest.read  # read1: a fault loses nothing
        data = read(len(buf))
        buf[: len(data)] = data
        return len(data)


def _open(src: str | Path) -> tuple[str, IO[bytes], bytes]:
    """Name, decompressed binary stream and its first bytes (already consumed from the stream)."""
    if src == "-":
        name, raw = "stdin", sys.stdin.buffer
    else:
        name, raw = str(src), open(src, "rb")  # noqa: SIM115 - closed by the caller
    magic = raw.read(3)
    stream: IO[bytes] = io.BufferedReader(_Prefixed(magic, raw))
    if magic[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
    elif magic == b"BZh":
        stream = bz2.BZ2File(stream)
    return name, stream, stream.read(SNIFF_BYTES)


def sniff(head: bytes) -> str | None:
    """Format of an input from its first bytes: "nmea", a CSV layout ("dma"/"noaa") or None."""
    text = head.decode("latin-1")
    if _AIS_SENTENCE.search(text) or _NMEA_LINE.search(text):
        return "nmea"
    if not text.strip():
        return "nmea"  # an empty input: nothing to decode, nothing wrong
    try:
        from mda.sources import csv
    except ImportError:  # pragma: no cover - the CSV reader is optional for NMEA-only use
        return None
    header = text.removeprefix("\xef\xbb\xbf").lstrip("\r\n").split("\n", 1)[0]  # UTF-8 BOM
    return csv.sniff(header)


def _read_one(
    src: str | Path, start_time: pd.Timestamp | None, chunk_rows: int
) -> Iterator[AisData]:
    """Decoded chunks of one file or stdin; OSError/MdaError when it cannot be read at all."""
    name, stream, head = _open(src)
    try:
        fmt = sniff(head)
        if fmt is None:
            raise MdaError(f"{name}: neither AIS NMEA nor a DMA/MarineCadastre CSV")
        if fmt == "nmea":
            # about 64 bytes per decoded row, so chunks stay near chunk_rows
            size = min(max(chunk_rows * 64, SNIFF_BYTES), BLOCK_BYTES)
            reader = LineReader(io.BufferedReader(_Prefixed(head, stream)), block_bytes=size)
            yield from iter_nmea(
                reader.line_blocks(),
                name,
                start_time=start_time,
                chunk_rows=chunk_rows,
                finish=lambda report: reader.finish(
                    report, name, last_line=reader.lines, kept="the messages before it"
                ),
            )
            return
        from mda.sources import csv

        # A plain file goes to Arrow by path (fastest); compressed files and stdin as a stream.
        plain = src != "-" and not isinstance(stream, gzip.GzipFile | bz2.BZ2File)
        csv_src = src if plain else io.BufferedReader(_Prefixed(head, stream))
        yield from csv.iter_csv(csv_src, fmt, source_name=name, chunk_rows=chunk_rows)
    finally:
        if src != "-":
            stream.close()


def _unreadable(name: str, reason: str) -> AisData:
    report = IngestReport()
    report.fail(name, reason)
    return AisData(report=report)


def warn_skipped(failures: list[str]) -> None:
    """Log the unreadable inputs of a run that read others, and forget them. A run that reads
    none logs nothing: its one error line names them."""
    for failure in failures:
        log.warning("skipped %s", failure)
    failures.clear()


def iter_ais(
    inputs: Inputs, *, start_time: object = None, chunk_rows: int = 500_000
) -> Iterator[AisData]:
    """Decode AIS inputs chunk by chunk with bounded memory.

    `inputs`: a path, a list of paths, a directory (every file below it, sorted), "-" for stdin,
    or an iterable of text/bytes NMEA lines. Each chunk's report counts only that chunk (merge
    them with IngestReport.merge). `start_time` (UTC, naive = UTC) times NMEA streams that carry
    no receiver time (see mda.sources.nmea). Unreadable inputs are skipped with a warning and
    counted as ``unreadable_file``; MdaError when none could be read.
    """
    start_time = utc(start_time)
    failures: list[str] = []
    read = 0
    for src in _expand(inputs):
        if read:
            warn_skipped(failures)
        if isinstance(src, _Lines):
            read += 1
            yield from iter_nmea(
                src.batches(),
                "<lines>",
                start_time=start_time,
                chunk_rows=chunk_rows,
                finish=src.finish,
            )
            continue
        name = "stdin" if src == "-" else str(src)
        if isinstance(src, Unreadable):
            failures.append(f"{name}: {src.reason}")
            yield _unreadable(name, src.reason)
            continue
        try:
            chunks = _read_one(src, start_time, chunk_rows)
            first = next(chunks)
        except StopIteration:
            read += 1
            continue
        except (OSError, EOFError, MdaError) as e:
            reason = (
                str(e).removeprefix(f"{name}: ")
                if isinstance(e, MdaError)
                else (getattr(e, "strerror", None) or str(e) or type(e).__name__)
            )
            failures.append(f"{name}: {reason}")
            yield _unreadable(name, reason)
            continue
        read += 1
        yield first
        yield from chunks  # a fault part-way ends the input cleanly and is in its report
    if read:
        warn_skipped(failures)
        return
    raise none_read(failures)


def none_read(failures: list[str]) -> MdaError:
    """The one error of a run that could read none of its inputs (`failures`: why, each)."""
    if not failures:
        return MdaError("no input given")
    more = f" (and {len(failures) - 1} more unreadable inputs)" if len(failures) > 1 else ""
    return MdaError(failures[0] + more)


def read_ais(inputs: Inputs, *, start_time: object = None) -> AisData:
    """Decode AIS inputs into memory: all chunks of iter_ais concatenated, report finished.

    The result's `vessels` and `vessel_history` reduce its static reports per MMSI.
    """
    data = concat(list(progress.chunks(iter_ais(inputs, start_time=start_time), "decoding")))
    data.report.finish()
    return data
