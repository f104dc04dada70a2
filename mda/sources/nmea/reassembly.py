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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
        """Messages from single sentences (in order) then reassembled ones (as completed)."""
        ok, count, num = s.ok, s.count, s.num
        report.rejected["bad_checksum"] += int((~ok).sum())
        bad_numbering = ok & ((num < 1) | (num > count))
        report.rejected["malformed"] += int(bad_numbering.sum())
        single = pa.array(ok & (count == 1) & (num == 1))
        messages = Messages(
            payload=s.payload.filter(single),
            fill=s.fill[single],
            t=s.t[single],
            station=s.station.filter(single),
        )
        fine = ~bad_numbering[s.frag]
        if fine.any():
            joined = self._fragments(s, s.frag[fine], s.frag_key.filter(pa.array(fine)), report)
            messages = _concat(messages, joined)
        self.sentence_no += len(s)
        horizon = self.sentence_no - MAX_FRAGMENT_LAG
        for key in [k for k, e in self.pending.items() if e["first"] < horizon]:
            self._drop(key, report)
        return messages

    def _fragments(
        self, s: Sentences, idx: np.ndarray, keys: pa.Array, report: IngestReport
    ) -> Messages:
        """Messages completed by the fragments at `idx` (keys `keys`), in completion order.

        The common case, part 1 of 2 followed by its part 2 whose key nothing else waiting or
        arriving in this batch shares, is joined with Arrow; the rest go through the
        dictionary of messages waiting for parts (:meth:`_join`), to the same effect.
        """
        pairs = np.zeros(0, np.int64)
        if not s.frag_group:
            a, b = idx[:-1], idx[1:]
            two = (s.count[a] == 2) & (s.count[b] == 2) & (s.num[a] == 1) & (s.num[b] == 2)
            same = pc.equal(keys[:-1], keys[1:]).to_numpy(zero_copy_only=False)
            pairs = np.flatnonzero(two & same)
            in_pair = np.zeros(len(idx), bool)
            in_pair[pairs] = in_pair[pairs + 1] = True
            waiting = [k[0] for k in self.pending if len(k) == 2]
            rest = keys.filter(pa.array(~in_pair))
            others = pa.concat_arrays([rest, pa.array(waiting, pa.string())])
            clash = pc.is_in(keys.take(pairs), value_set=others).to_numpy(zero_copy_only=False)
            pairs = pairs[~clash]
            # no message can be pushed out while these wait: the dictionary never fills
            if len(self.pending) + len(idx) - 2 * len(pairs) >= MAX_PENDING_MESSAGES:
                pairs = pairs[:0]
        rest = np.ones(len(idx), bool)
        rest[pairs] = rest[pairs + 1] = False
        first, second = idx[pairs], idx[pairs + 1]
        t1, t2 = s.t[first], s.t[second]
        st1, st2 = s.station.take(first), s.station.take(second)
        joined = Messages(
            payload=pc.binary_join_element_wise(s.payload.take(first), s.payload.take(second), ""),
            fill=s.fill[second],
            t=np.where(np.isnan(t1), t2, t1),
            station=pc.if_else(pc.not_equal(st1, ""), st1, st2),
        )
        rest_keys = keys.filter(pa.array(rest)).to_pylist()
        others, done = self._join(s, idx[rest], rest_keys, report)
        order = np.argsort(np.concatenate((second, done)), kind="stable")
        both = _concat(joined, others)
        return Messages(
            payload=both.payload.take(order),
            fill=both.fill[order],
            t=both.t[order],
            station=both.station.take(order),
        )

    def _join(
        self, s: Sentences, idx: np.ndarray, keys: list[str], report: IngestReport
    ) -> tuple[Messages, np.ndarray]:
        """Messages completed by the fragments at `idx`, and the position completing each."""
        payload = s.payload.take(idx).to_pylist()
        station = s.station.take(idx).to_pylist()
        payloads: list[str] = []
        fills: list[int] = []
        times: list[float] = []
        stations: list[str] = []
        done: list[int] = []
        base = self.sentence_no
        for k, i in enumerate(idx.tolist()):
            group = s.frag_group.get(i)
            n, part = int(s.count[i]), int(s.num[i])
            if group is not None and group[1] == n and group[0] == part:
                key: tuple[Any, ...] = ("g", group[2], n)
            else:
                key = (keys[k], n)
            entry = self.pending.get(key)
            if entry is not None and part in entry["parts"]:
                self._drop(key, report)  # a part seen twice: the old message is stale
                entry = None
            if entry is None:
                if len(self.pending) >= MAX_PENDING_MESSAGES:
                    oldest = next(iter(self.pending))
                    report.rejected["fragment_overflow"] += len(self.pending.pop(oldest)["parts"])
                entry = self.pending[key] = {"first": base + i, "parts": {}}
            entry["parts"][part] = (payload[k], int(s.fill[i]), float(s.t[i]), station[k])
            if len(entry["parts"]) == n:
                del self.pending[key]
                frags = [entry["parts"][p] for p in sorted(entry["parts"])]
                payloads.append("".join(f[0] for f in frags))
                fills.append(frags[-1][1])
                times.append(next((f[2] for f in frags if f[2] == f[2]), np.nan))
                stations.append(next((f[3] for f in frags if f[3]), ""))
                done.append(i)
        messages = Messages(
            payload=pa.array(payloads, pa.string()),
            fill=np.asarray(fills, np.int64),
            t=np.asarray(times, np.float64),
            station=pa.array(stations, pa.string()),
        )
        return messages, np.asarray(done, np.int64)


def _concat(a: Messages, b: Messages) -> Messages:
    return Messages(
        payload=pa.concat_arrays([a.payload, b.payload]),
        fill=np.concatenate((a.fill, b.fill)),
        t=np.concatenate((a.t, b.t)),
        station=pa.concat_arrays([a.station, b.station]),
    )
