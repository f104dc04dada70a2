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
from typing import IO, cast

import numpy as np

from mda.sources.base import MAX_LINE_BYTES, IngestReport

#: What a cut line is replaced with: a one-field line no CSV layout or NMEA sentence accepts.
CUT_MARKER = b"\x00line-too-long"
#: First line numbers of cut lines kept for the warning.
_SHOWN = 5


class LineReader:
    """Whole-line blocks of a binary stream with over-long lines cut (see the module docstring).

    Blocks are handed on without copying where possible (memoryviews into what was read).
    `lines` and `cut_lines` (file line numbers of the first cut lines) are kept by
    :meth:`text_lines`; a reader that numbers lines itself (Arrow) fills `cut_lines`.
    """

    def __init__(self, stream: IO[bytes], *, block_bytes: int) -> None:
        self.stream = stream
        self.block_bytes = block_bytes
        self.lines = 0
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

    def _cut_one(self, nbytes: int) -> bytes:
        self.cut += 1
        self.cut_bytes += nbytes
        return CUT_MARKER + b"\n"

    def blocks(self) -> Iterator[bytes | memoryview]:
        """Blocks of whole lines (each ending in a newline, except perhaps the very last)."""
        rest = b""  # the start of an unfinished line, never longer than MAX_LINE_BYTES
        skipping = 0  # bytes of an over-long line dropped so far (0: not inside one)
        while block := self._read():
            start = 0
            if skipping or rest:  # finish the line begun in an earlier block
                nl = block.find(b"\n")
                if nl < 0:
                    if skipping or len(rest) + len(block) > MAX_LINE_BYTES:
                        skipping, rest = skipping + len(rest) + len(block), b""
                    else:
                        rest += block
                    continue
                if skipping or len(rest) + nl > MAX_LINE_BYTES:
                    yield self._cut_one(skipping + len(rest) + nl)
                else:
                    yield rest + block[: nl + 1]
                skipping, rest, start = 0, b"", nl + 1
            end = block.rfind(b"\n", start) + 1 or start
            if end > start:
                body = memoryview(block)[start:end]
                yield self._cut_long(body) if self._may_hold_long(block, start, end) else body
            if len(block) - end > MAX_LINE_BYTES:
                skipping = len(block) - end
            else:
                rest = block[end:]
        if skipping:
            yield self._cut_one(skipping)[:-1]
        elif rest:
            yield rest

    @staticmethod
    def _may_hold_long(data: bytes, start: int, end: int) -> bool:
        """Cheap test: a line longer than MAX_LINE_BYTES covers a whole aligned window of half
        that size, so only blocks with a newline-free window need a closer look."""
        w = MAX_LINE_BYTES // 2
        return any(data.find(b"\n", p, p + w) < 0 for p in range(start, end - w + 1, w))

    def _cut_long(self, data: memoryview) -> bytes:
        """`data` (whole lines), each line longer than MAX_LINE_BYTES replaced by the marker."""
        lines = bytes(data).split(b"\n")
        for i, line in enumerate(lines):
            if len(line) > MAX_LINE_BYTES:
                lines[i] = self._cut_one(len(line))[:-1]
        return b"\n".join(lines)

    def line_blocks(self) -> Iterator[bytes | memoryview]:
        """Blocks of whole lines (as split on newlines, no last empty piece), cut lines left out
        and numbered; `lines` counts every line, cut ones too."""
        for block in self.blocks():
            if self.cut and CUT_MARKER in bytes(block):
                lines = bytes(block).split(b"\n")
                if not lines[-1]:
                    lines.pop()
                at = [i for i, x in enumerate(lines) if x == CUT_MARKER]
                self.cut_lines += [self.lines + i + 1 for i in at][: _SHOWN - len(self.cut_lines)]
                self.lines += len(lines)
                kept = [x for x in lines if x != CUT_MARKER]
                yield b"".join(x + b"\n" for x in kept)
            else:
                data = np.frombuffer(block, np.uint8)
                unended = len(data) > 0 and data[-1] != 10
                self.lines += int(np.count_nonzero(data == 10)) + unended
                yield block

    def finish(self, report: IngestReport, name: str, *, last_line: int, kept: str) -> None:
        """Count cut lines and a read error (after file line `last_line`) into `report`."""
        if self.cut:
            report.rejected["line_too_long"] += self.cut
            shown = ", ".join(map(str, self.cut_lines[:_SHOWN]))
            more = ", ..." if self.cut > min(len(self.cut_lines), _SHOWN) else ""
            report.warnings.append(
                f"{name}: {self.cut:,} line(s) longer than {MAX_LINE_BYTES:,} bytes skipped "
                f"({self.cut_bytes:,} bytes; lines {shown}{more})"
            )
        if self.error is not None:
            report.fail(name, f"read error after line {last_line:,}: {self.error}", kept=kept)


class LineStream(io.RawIOBase):
    """A LineReader as a binary file object (what Arrow's CSV reader reads).

    Invalid UTF-8 reads as U+FFFD (3 bytes each, so a line grows at most threefold): Arrow
    decodes the text of a malformed row strictly for the invalid-row handler, and a failure
    there ended the file with a traceback. Values are decoded with errors="replace" anyway, and
    blocks hold whole lines, so no character is split and nothing else changes.
    """

    def __init__(self, reader: LineReader, owned: bool) -> None:
        self.reader = reader
        self.owned = owned
        self._blocks = reader.blocks()
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]  # only given memoryviews
        if not self._buf.nbytes:
            block = next(self._blocks, b"")
            # the whole block's bytes: ASCII if it is
            whole = cast(bytes, block.obj) if isinstance(block, memoryview) else block
            self._buf = memoryview(block if whole.isascii() else _valid_utf8(block))
        n = min(len(buf), self._buf.nbytes)
        buf[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        if self.owned and not self.closed:
            self.reader.stream.close()
        super().close()


def _valid_utf8(block: bytes | memoryview) -> bytes:
    return str(block, "utf-8", errors="replace").encode()
