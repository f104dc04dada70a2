"""NMEA 0183 AIS (AIVDM/AIVDO) decoding into the column contracts of mda.schema.

A stream is read in batches of lines, in three steps, each its own module:

* :mod:`~mda.sources.nmea.framing`: lines into sentence columns (tag blocks, time prefixes and
  trailers, ``$PGHP`` and RMC lines), each sentence with the receiver clock as it stands after
  its line (times parsed by :mod:`~mda.sources.nmea.clock`). Before any time is seen, messages
  are rejected as ``no_timestamp`` unless ``start_time`` is given: then the clock starts at
  ``start_time`` and is advanced (never moved back) by type 4 base-station UTC reports. Such
  times are only as good as the spacing of those reports (base stations send every 10 s) and
  of the RMC lines. A tag-block ``c:`` or ``$PGHP`` time that does not parse rejects its
  message as ``bad_tag_time``, and any receiver time outside [2000, 2100) (see
  ``mda.sources.base.TIME_MIN_S``) as ``time_out_of_range``.
* :mod:`~mda.sources.nmea.reassembly`: checksums checked for all sentences at once (numpy),
  multi-sentence messages reassembled (not by pyais), with bounded waiting
  (``MAX_FRAGMENT_LAG``, ``MAX_PENDING_MESSAGES``; lines are bounded by ``MAX_LINE_BYTES``,
  see mda.sources.lines).
* :mod:`~mda.sources.nmea.decoding`: whole messages into position, aux and static tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pandas as pd

from mda.sources.base import AisData, IngestReport, concat
from mda.sources.nmea.clock import BAD_TIME, OUT_OF_RANGE
from mda.sources.nmea.decoding import (
    AUX_TYPES,
    POSITION_BITS,
    POSITION_TYPES,
    STATIC_TYPES,
    decode,
)
from mda.sources.nmea.framing import Framer, Sentences
from mda.sources.nmea.reassembly import (
    MAX_FRAGMENT_LAG,
    MAX_PENDING_MESSAGES,
    Messages,
    Reassembler,
)

__all__ = [
    "AUX_TYPES",
    "BAD_TIME",
    "BATCH_LINES",
    "MAX_FRAGMENT_LAG",
    "MAX_PENDING_MESSAGES",
    "OUT_OF_RANGE",
    "POSITION_BITS",
    "POSITION_TYPES",
    "STATIC_TYPES",
    "Messages",
    "NmeaDecoder",
    "iter_nmea",
]

#: Lines decoded per batch: bounds memory and the latency of the stale-fragment check.
BATCH_LINES = 100_000


class NmeaDecoder:
    """Stateful decoder of one NMEA input: clock, pending fragments and counts carry over batches.

    Feed it batches of lines with :meth:`decode`, then call :meth:`close` for the fragments
    left over. Each call returns an AisData whose report counts only that call.
    """

    def __init__(self, source: str, start_time: pd.Timestamp | None = None) -> None:
        self.source = source
        self.framer = Framer(start_time.timestamp() if start_time is not None else None)
        self.reassembler = Reassembler()
        self.unstamped = 0

    @property
    def pending(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Multi-sentence messages waiting for their other parts."""
        return self.reassembler.pending

    def decode(self, lines: list[str]) -> AisData:
        """Decode one batch of lines (without line terminators; a trailing CR is fine).

        Lines are read as a block of their latin-1 bytes (:meth:`decode_block`); lines beyond
        latin-1 or holding newlines are read one by one, to the same effect.
        """
        text = "\n".join(lines)
        try:
            block = (text + "\n").encode("latin-1") if lines else b""
        except UnicodeEncodeError:
            block = None
        if block is not None and text.count("\n") == len(lines) - 1:
            return self.decode_block(block)
        report = IngestReport(files=[self.source])
        report.lines = len(lines)
        return self._decode(self.framer.scan(lines, report), report)

    def decode_block(self, block: bytes | memoryview) -> AisData:
        """Decode one block of whole lines (bytes read as latin-1; see mda.sources.lines)."""
        report = IngestReport(files=[self.source])
        return self._decode(self.framer.scan_block(block, report), report)

    def _decode(self, sentences: Sentences, report: IngestReport) -> AisData:
        messages = self.reassembler.assemble(sentences, report)
        data = decode(messages, self.source, report)
        self.unstamped += report.rejected["no_timestamp"]
        return data

    def close(self) -> AisData:
        """End of input: fragments still waiting are incomplete; warn about untimed messages."""
        report = IngestReport(files=[self.source])
        self.reassembler.close(report)
        if self.unstamped:
            report.warnings.append(
                f"{self.source}: {self.unstamped:,} messages had no receiver time and were "
                "dropped; give --start-time (UTC time of the first sentence) to keep them"
            )
        return AisData(report=report)


def iter_nmea(
    batches: Iterable[list[str] | bytes | memoryview],
    source: str,
    *,
    start_time: pd.Timestamp | None = None,
    chunk_rows: int = 500_000,
    finish: Callable[[IngestReport], None] | None = None,
) -> Iterator[AisData]:
    """Decode batches of one input (lists of lines or blocks of whole lines, see
    :meth:`NmeaDecoder.decode_block`); yield chunks of about `chunk_rows` positions.

    `finish`, when given, adds the framing's counts (cut lines, a read error) to the report of
    the last chunk, once every batch is read.
    """
    decoder = NmeaDecoder(source, start_time)
    parts: list[AisData] = []
    rows = 0
    for batch in batches:
        part = decoder.decode(batch) if isinstance(batch, list) else decoder.decode_block(batch)
        parts.append(part)
        rows += len(part.positions) + len(part.statics) + len(part.aux)
        if rows >= chunk_rows:
            yield concat(parts)
            parts, rows = [], 0
    last = decoder.close()
    if finish is not None:
        finish(last.report)
    parts.append(last)
    yield concat(parts)
