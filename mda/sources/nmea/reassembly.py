"""Sentence columns into messages: checksums checked, multi-sentence messages reassembled.

Fragments are keyed on the tag block group (``g:`` or the old ``1G2:id`` form) when present and
consistent, otherwise on (tag-block station or talker, channel, sequence id, fragment count).
Parts may arrive in any order and interleaved; a fragment still waiting after
``MAX_FRAGMENT_LAG`` further sentences, a repeated part, or one left at the end of the input is
counted as ``incomplete_multipart``. At most ``MAX_PENDING_MESSAGES`` messages wait for parts at
a time: beyond that the oldest is dropped and counted as ``fragment_overflow``, so a stream of
unmatched first halves cannot grow memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from mda.sources.base import IngestReport
from mda.sources.nmea.framing import Sentences

#: A multi-sentence fragment whose siblings have not arrived after this many further AIS
#: sentences of the same input is dropped (checked once per batch of lines).
MAX_FRAGMENT_LAG = 1000
#: Most multi-sentence messages waiting for their other parts at once (the oldest is dropped).
MAX_PENDING_MESSAGES = 10_000


@dataclass
class Messages:
    """Whole AIS messages of one batch, in input order (what decoding takes).

    `payload`: armored payloads (Arrow strings); `fill`: fill bits; `t`: receiver time in
    seconds since the epoch (NaN: none; BAD_TIME / OUT_OF_RANGE: present but unusable, see
    ``mda.sources.nmea.clock``); `station`: receiving station ("" when unknown).
    """

    payload: pa.Array
    fill: np.ndarray
    t: np.ndarray
    station: pa.Array

    def __len__(self) -> int:
        return len(self.fill)


def strings(values: Sequence[str]) -> pa.Array:
    """An Arrow string array of `values`; lone surrogates (text lines given as str) become
    U+FFFD, which Arrow's UTF-8 cannot hold."""
    try:
        return pa.array(values, pa.string())
    except UnicodeEncodeError:
        fixed = [v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for v in values]
        return pa.array(fixed, pa.string())


def checksums_ok(body: Sequence[str], cs: Sequence[str]) -> np.ndarray:
    """XOR checksum of every sentence at once: bitwise_xor.reduceat over the joined bodies."""
    n = len(body)
    if n == 0:
        return np.zeros(0, bool)
    data = np.frombuffer("".join(body).encode("latin-1"), np.uint8)
    lengths = np.fromiter(map(len, body), np.int64, count=n)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    expected = np.frombuffer(bytes.fromhex("".join(cs)), np.uint8)
    ok: np.ndarray = np.bitwise_xor.reduceat(data, starts) == expected
    return ok


class Reassembler:
    """Messages of batches of sentences of one input; fragments wait across batches."""

    def __init__(self) -> None:
        self.sentence_no = 0
        self.pending: dict[tuple[Any, ...], dict[str, Any]] = {}

    def _drop(self, key: tuple[Any, ...], report: IngestReport) -> None:
        report.rejected["incomplete_multipart"] += len(self.pending.pop(key)["parts"])

    def close(self, report: IngestReport) -> None:
        """End of input: fragments still waiting are incomplete."""
        for key in list(self.pending):
            self._drop(key, report)

    def assemble(self, s: Sentences, report: IngestReport) -> Messages:
        """Messages (payload, fill bits, time, station) from single sentences and fragments."""
        body, talker, _, count_s, num_s, seq, chan, payload, fill_s, cs = s.columns()
        ok = checksums_ok(body, cs)
        report.rejected["bad_checksum"] += int((~ok).sum())
        count = np.array(count_s, dtype="U1").astype(np.int64)
        num = np.array(num_s, dtype="U1").astype(np.int64)
        fill = np.array(fill_s, dtype="U1").astype(np.int64)
        bad_numbering = ok & ((num < 1) | (num > count))
        report.rejected["malformed"] += int(bad_numbering.sum())
        idx = np.flatnonzero(ok & (count == 1) & (num == 1))
        payloads: list[str]
        times: list[float]
        stations: list[str]
        if len(idx) == len(payload):
            payloads, fills, times, stations = list(payload), fill.tolist(), s.t, s.station
        else:
            payloads = [payload[i] for i in idx]
            fills = fill[idx].tolist()
            times = np.asarray(s.t)[idx].tolist()
            stations = [s.station[i] for i in idx]
        base = self.sentence_no
        for i in np.flatnonzero(ok & (count > 1) & ~bad_numbering).tolist():
            tag = s.tag[i]
            n, part = int(count[i]), int(num[i])
            if tag is not None and tag[1] is not None and tag[1][1] == n and tag[1][0] == part:
                key: tuple[Any, ...] = ("g", tag[1][2], n)
            else:
                key = ((tag[0] if tag else "") or talker[i], chan[i], seq[i], n)
            entry = self.pending.get(key)
            if entry is not None and part in entry["parts"]:
                self._drop(key, report)  # a part seen twice: the old message is stale
                entry = None
            if entry is None:
                if len(self.pending) >= MAX_PENDING_MESSAGES:
                    oldest = next(iter(self.pending))
                    report.rejected["fragment_overflow"] += len(self.pending.pop(oldest)["parts"])
                entry = self.pending[key] = {"first": base + i, "parts": {}}
            entry["parts"][part] = (payload[i], int(fill[i]), s.t[i], s.station[i])
            if len(entry["parts"]) == n:
                del self.pending[key]
                frags = [entry["parts"][k] for k in sorted(entry["parts"])]
                payloads.append("".join(f[0] for f in frags))
                fills.append(frags[-1][1])
                times.append(next((f[2] for f in frags if f[2] == f[2]), np.nan))
                stations.append(next((f[3] for f in frags if f[3]), ""))
        self.sentence_no += len(payload)
        horizon = self.sentence_no - MAX_FRAGMENT_LAG
        for key in [k for k, e in self.pending.items() if e["first"] < horizon]:
            self._drop(key, report)
        return Messages(
            payload=strings(payloads),
            fill=np.asarray(fills, np.int64),
            t=np.asarray(times, np.float64),
            station=strings(stations),
        )
