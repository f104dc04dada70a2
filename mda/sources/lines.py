"""Bounded line framing of a byte stream, shared by the NMEA and CSV readers.

Hostile or broken input may hold a line of any length (a file with no newline at all, a gzip
bomb of one line). :class:`LineReader` hands the stream on in blocks of whole lines and replaces
each line longer than :data:`~mda.sources.base.MAX_LINE_BYTES` with :data:`CUT_MARKER`, so a
reader holds at most one block plus one line-length in memory, in time linear in the input,
and goes on at the next newline. Cut lines are counted as ``line_too_long`` with their line
numbers and the bytes dropped. A read that fails part-way (a truncated gzip or bzip2) ends the
stream cleanly after the last whole line; the error is kept and reported as a failed input, so
everything before it is kept and the file is not taken as read to the end.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from typing import IO

from mda.sources.base import MAX_LINE_BYTES, IngestReport

#: What a cut line is replaced with: a one-field line no CSV layout or NMEA sentence accepts.
CUT_MARKER = b"\x00line-too-long"
#: First line numbers of cut lines kept for the warning.
_SHOWN = 5


class LineReader:
    """Whole-line blocks of a binary stream with over-long lines cut (see the module docstring).

    `first_line` is the file line number of the stream's first line (2 after a CSV header).
    """

    def __init__(self, stream: IO[bytes], *, block_bytes: int, first_line: int = 1) -> None:
        self.stream = stream
        self.block_bytes = block_bytes
        self.first_line = first_line
        self.lines = 0  # newlines handed on
        self.cut = 0
        self.cut_bytes = 0
        self.cut_lines: list[int] = []
        self.error: str | None = None

    def _read(self) -> bytes:
        """About `block_bytes` of the stream; b"" at its end or after a read error.

        Read piece by piece (read1) so that a fault keeps every byte before it; the error is
        kept in `error`.
        """
        pieces: list[bytes] = []
        size = 0
        read = getattr(self.stream, "read1", None) or self.stream.read
        while self.error is None and size < self.block_bytes:
            try:
                piece = read(self.block_bytes - size)
            except (EOFError, OSError, zlib.error) as e:
                self.error = str(e) or type(e).__name__
                break
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _note_cut(self, nbytes: int) -> None:
        self.cut += 1
        self.cut_bytes += nbytes
        if len(self.cut_lines) < _SHOWN:
            self.cut_lines.append(self.first_line + self.lines)

    def blocks(self) -> Iterator[bytes]:
        """Blocks of whole lines (each ending in a newline, except perhaps the very last)."""
        rest = b""  # an unfinished line, never longer than MAX_LINE_BYTES
        skipping = 0  # bytes of an over-long line dropped so far (0: not inside one)
        while block := self._read():
            if skipping:
                nl = block.find(b"\n")
                if nl < 0:
                    skipping += len(block)
                    continue
                self._note_cut(skipping + nl)
                self.lines += 1
                skipping = 0
                yield CUT_MARKER + b"\n"
                block = block[nl + 1 :]
            data = rest + block if rest else block
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if len(rest) > MAX_LINE_BYTES:
                skipping, rest = len(rest), b""
            if cut:
                whole = data[:cut] if cut < len(data) else data
                self.lines += whole.count(b"\n")
                yield self._cut_long(whole) if self._may_hold_long(whole) else whole
        if skipping:
            self._note_cut(skipping)
            yield CUT_MARKER
        elif rest:
            yield rest

    @staticmethod
    def _may_hold_long(data: bytes) -> bool:
        """Cheap test: a line longer than MAX_LINE_BYTES covers a whole aligned window of half
        that size, so only blocks with a newline-free window need a closer look."""
        w = MAX_LINE_BYTES // 2
        return any(data.find(b"\n", p, p + w) < 0 for p in range(0, len(data) - w + 1, w))

    def _cut_long(self, data: bytes) -> bytes:
        """`data` (whole lines), each line longer than MAX_LINE_BYTES replaced by the marker."""
        lines = data.split(b"\n")
        before = self.lines - data.count(b"\n")
        for i, line in enumerate(lines):
            if len(line) > MAX_LINE_BYTES:
                self.cut += 1
                self.cut_bytes += len(line)
                if len(self.cut_lines) < _SHOWN:
                    self.cut_lines.append(self.first_line + before + i)
                lines[i] = CUT_MARKER
        return b"\n".join(lines)

    def finish(self, report: IngestReport, name: str, *, kept: str = "") -> None:
        """Count cut lines and a read error into `report` (the input's last report)."""
        if self.cut:
            report.rejected["line_too_long"] += self.cut
            shown = ", ".join(map(str, self.cut_lines)) + (", ..." if self.cut > _SHOWN else "")
            report.warnings.append(
                f"{name}: {self.cut:,} line(s) longer than {MAX_LINE_BYTES:,} bytes skipped "
                f"({self.cut_bytes:,} bytes; lines {shown})"
            )
        if self.error is not None:
            line = self.first_line + self.lines - 1
            report.fail(name, f"read error after line {line:,}: {self.error}", kept=kept)


class LineStream(io.RawIOBase):
    """A LineReader as a binary file object (what Arrow's CSV reader reads)."""

    def __init__(self, reader: LineReader, owned: bool) -> None:
        self.reader = reader
        self.owned = owned
        self._blocks = reader.blocks()
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[override]
        if not self._buf.nbytes:
            self._buf = memoryview(next(self._blocks, b""))
        n = min(len(buf), self._buf.nbytes)
        buf[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        if self.owned and not self.closed:
            self.reader.stream.close()
        super().close()
