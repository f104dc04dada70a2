"""NMEA 0183 AIS (AIVDM/AIVDO) decoding into the column contracts of mda.schema.

How a stream is read:

* Lines are parsed in batches. A line may carry a NMEA 4.0 tag block, a time before the
  sentence (Unix seconds or ISO 8601), trailing fields after it (a Unix time, USCG N-AIS
  ``r<station>``), or be a Gatehouse ``$PGHP`` line that times the next sentence. Several
  sentences on one line are accepted. Checksums are checked for all sentences at once (numpy).
* Receiver time: each line's own time (tag ``c:`` in seconds or milliseconds, ``$PGHP``,
  prefix, trailing Unix time) sets the stream clock, and a sentence gets the clock as it stands
  after its line was read. A sentence without its own time therefore gets the latest receiver
  time seen before it in the same input (exact for tag-block groups and ``$PGHP`` streams, where
  the time is only on the first fragment or the line before). A time that is present but bad
  never falls back to an earlier one: a tag-block ``c:`` or ``$PGHP`` time that does not parse
  rejects its message as ``bad_tag_time``, and any receiver time outside [2000, 2100) (see
  ``mda.sources.base.TIME_MIN_S``) as ``time_out_of_range``. A Unix time is taken as seconds
  when that lands in the range, else as milliseconds when that does: the two ranges (9-10 and
  12-13 digits) cannot overlap. ``$GPRMC``/``$GNRMC`` lines (the
  receiver's own GNSS clock) set the clock too. Before any time is seen, messages are rejected
  as ``no_timestamp`` unless ``start_time`` is given: then the clock starts at ``start_time`` and
  is advanced (never moved back) by type 4 base-station UTC reports. Such times are only as
  good as the spacing of those reports (base stations send every 10 s) and of the RMC lines.
* Multi-sentence messages are reassembled here (not by pyais): fragments are keyed on the tag
  block group (``g:`` or the old ``1G2:id`` form) when present and consistent, otherwise on
  (tag-block station or talker, channel, sequence id, fragment count). Parts may arrive in any
  order and interleaved; a fragment still waiting after ``MAX_FRAGMENT_LAG`` further sentences,
  a repeated part, or one left at the end of the input is counted as ``incomplete_multipart``.
  At most ``MAX_PENDING_MESSAGES`` messages wait for parts at a time: beyond that the oldest is
  dropped and counted as ``fragment_overflow``, so a stream of unmatched first halves cannot
  grow memory (lines are bounded by ``MAX_LINE_BYTES``, see mda.sources.lines).
* Position reports of types 1, 2, 3 and 18 (168 bits) and static reports of type 5 (424 bits)
  are decoded with numpy, all at once: 6-bit de-armoring and bit-field extraction on arrays,
  with pyais's own rounding, so results equal pyais's (tests check every sample message). The
  one deliberate difference: ship type codes are kept as sent, where pyais folds reserved codes
  (57 becomes 56, 39 becomes 0). Types 4, 9, 19, 21, 24, 27 and odd-length messages go through
  pyais; the types mda does not keep are counted from their first character and not decoded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from mda import schema
from mda.sources.base import (
    STATIC_FIELDS,
    TIME_END_S,
    TIME_MIN_S,
    AisData,
    IngestReport,
    concat,
    valid_position,
)

#: A multi-sentence fragment whose siblings have not arrived after this many further AIS
#: sentences of the same input is dropped (checked once per batch of lines).
MAX_FRAGMENT_LAG = 1000
#: Most multi-sentence messages waiting for their other parts at once (the oldest is dropped).
MAX_PENDING_MESSAGES = 10_000

#: Lines decoded per batch: bounds memory and the latency of the stale-fragment check.
BATCH_LINES = 100_000

#: The talker is any two printable characters: some feeds carry garbled ones (AMSA's "!=IVDM")
#: under a valid checksum, and pyais decodes them; the checksum is what vouches for a sentence.
_SENTENCE = re.compile(
    r"!(([^,*\\!$\s]{2})(VD[MO]),(\d),(\d),(\d*),([^,*\\]*),([0-W`-w]*),([0-5]))\*([0-9A-Fa-f]{2})"
)
_SENTENCE_LINE = re.compile(_SENTENCE.pattern + "\r?")
#: The commonest timed line: one tag block (station, time, nothing else) and one sentence.
_TAGGED_LINE = re.compile(
    r"\\(s:([^,*\\]*),c:(\d{9,13})|c:(\d{9,13}),s:([^,*\\]*)|c:(\d{9,13}))"
    r"\*[0-9A-Fa-f]{2}\\" + _SENTENCE.pattern + "\r?"
)
_AIS_LIKE = re.compile(r"!..VD[MO]")
_OLD_GROUP = re.compile(r"(\d+)G(\d+)")
#: What a tag block cut short (a closing backslash alone) reads as: one with a bad time.
_CUT_TAG = "c:?"
_UNIX = re.compile(r"\d{9,13}(?:\.\d*)?")
_SEPARATORS = " \t,;"

#: Message types and where they go.
POSITION_TYPES = (1, 2, 3, 18, 19, 27)
AUX_TYPES = (4, 9, 21)
STATIC_TYPES = (5, 19, 24)
_FAST_TYPES = (1, 2, 3, 18)
_CLASS_B = (18, 19)
_KEPT_TYPES = sorted({*POSITION_TYPES, *AUX_TYPES, *STATIC_TYPES})

_MAX_MMSI = 999_999_999
#: Bits a message needs to hold the position fields mda reads (pyais layout, up to the heading,
#: course or latitude): a shorter payload would decode to partial, wrong values, or to None.
POSITION_BITS = {1: 137, 2: 137, 3: 137, 4: 134, 9: 128, 18: 133, 19: 133, 21: 219, 27: 94}
#: Times of sentences whose own time is present but unusable (never a real time, which is
#: positive): BAD_TIME does not parse, OUT_OF_RANGE is outside [TIME_MIN_S, TIME_END_S).
BAD_TIME = -1.0
OUT_OF_RANGE = -2.0


def _in_range(t: float) -> bool:
    return TIME_MIN_S <= t < TIME_END_S


def _plausible(t: float) -> float | None:
    """A receiver time in the accepted range, else None (for clocks that are only hints)."""
    return t if _in_range(t) else None


def _unix(text: str) -> float | None:
    """Seconds since the epoch of a Unix time in seconds or milliseconds, whichever lands in
    the accepted range; OUT_OF_RANGE when neither does, None when `text` is not a number."""
    try:
        v = float(text)
    except (ValueError, OverflowError):
        return None
    if v != v:
        return None
    for t in (v, v / 1000.0):
        if _in_range(t):
            return t
    return OUT_OF_RANGE


def _prefix_time(text: str) -> float | None:
    """Time written before a sentence: Unix seconds/milliseconds or ISO 8601 (naive = UTC)."""
    text = text.strip(_SEPARATORS)
    if not text:
        return None
    if _UNIX.fullmatch(text):
        return _unix(text)
    try:
        t = datetime.fromisoformat(text)
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        seconds = t.timestamp()
    except (ValueError, OverflowError):
        return None
    return seconds if _in_range(seconds) else OUT_OF_RANGE


def _pghp(line: str) -> tuple[float | None, str]:
    """Time and base-station MMSI of a Gatehouse ``$PGHP,1,y,m,d,h,mi,s,ms,...`` line.

    None for other $PGHP lines; BAD_TIME or OUT_OF_RANGE for a time line with a bad time.
    """
    f = line.split(",", 12)
    if len(f) < 2 or f[1] != "1":
        return None, ""
    try:
        day = _day_start(f[2], f[3], f[4])
        h, mi, s, ms = int(f[5]), int(f[6]), int(f[7]), int(f[8])
    except (ValueError, OverflowError, IndexError):
        return BAD_TIME, ""
    if day is None or not (0 <= h < 24 and 0 <= mi < 60 and 0 <= s < 61 and 0 <= ms < 1000):
        return BAD_TIME, ""
    station = f[11] if len(f) > 11 and f[11].isdigit() else ""
    t = day + h * 3600 + mi * 60 + s + ms / 1000
    return (t if _in_range(t) else OUT_OF_RANGE), station


@functools.lru_cache(maxsize=4096)
def _day_start(y: str, m: str, d: str) -> float | None:
    """Seconds since the epoch of 00:00 UTC of a date given as text (cached: streams repeat)."""
    try:
        return datetime(int(y), int(m), int(d), tzinfo=UTC).timestamp()
    except (ValueError, OverflowError):
        return None


def _rmc(line: str) -> float | None:
    """UTC of a ``$GPRMC``/``$GNRMC`` line (time hhmmss[.ss] and date ddmmyy)."""
    f = line.split(",")
    if len(f) < 10 or len(f[1]) < 6 or len(f[9]) != 6:
        return None
    try:
        hh, mi, ss = int(f[1][0:2]), int(f[1][2:4]), float(f[1][4:].split("*")[0])
        dd, mo, yy = int(f[9][0:2]), int(f[9][2:4]), int(f[9][4:6])
        t = datetime(2000 + yy, mo, dd, hh, mi, int(ss), tzinfo=UTC).timestamp()
    except (ValueError, OverflowError):
        return None
    return _plausible(t + (ss - int(ss)))


def _type4_time(payload: str) -> float | None:
    """UTC carried by a type 4 base-station report, or None when not available."""
    if len(payload) != 28:
        return None
    bits = 0
    for ch in payload:
        v = ord(ch) - 48
        bits = (bits << 6) | (v - 8 if v > 40 else v)

    def field(start: int, width: int) -> int:
        return (bits >> (168 - start - width)) & ((1 << width) - 1)

    try:
        t = datetime(
            field(38, 14),
            field(52, 4),
            field(56, 5),
            field(61, 5),
            field(66, 6),
            field(72, 6),
            tzinfo=UTC,
        )
    except (ValueError, OverflowError):  # year 0, month 0, hour 24, second 60: "not available"
        return None
    return _plausible(t.timestamp())


def _parse_tag(tag: str) -> tuple[float | None, str, tuple | None]:
    """Receiver time, station and group (part, total, id) of a tag block's text."""
    t, station, group = None, "", None
    items = [i for block in tag.split("\\") for i in block.split("*", 1)[0].split(",")]
    for item in items:
        key, _, value = item.partition(":")
        if key == "c":
            t = _unix(value)
            if t is None:
                t = BAD_TIME
        elif key == "s":
            station = value
        elif key == "g":
            parts = value.split("-")
            if len(parts) == 3 and all(p.isdecimal() for p in parts):  # isdigit() takes "¹"
                group = (int(parts[0]), int(parts[1]), parts[2])
        else:
            m = _OLD_GROUP.fullmatch(key)
            if m:
                group = (int(m.group(1)), int(m.group(2)), value)
    return t, station, group


def _trailer(text: str) -> tuple[float | None, str]:
    """First Unix time and USCG receiver id (``r...``/``b...``) in fields after a sentence."""
    t, station = None, ""
    for f in text.split(","):
        f = f.strip()
        if t is None and _UNIX.fullmatch(f):
            t = _unix(f)
        elif not station and len(f) > 1 and f[0] in "rb" and f[1:].isalnum():
            station = f
    return t, station


class _Sentences:
    """Columns of the AIS sentences of one batch of lines (filled by NmeaDecoder._scan).

    `fields` holds the regex groups of each sentence (body, talker, kind, count, num, seq,
    channel, payload, fill, checksum); `tag` the tag-block (station, group) or None.
    """

    __slots__ = ("fields", "station", "t", "tag")

    def __init__(self) -> None:
        self.fields: list[tuple] = []
        self.t: list[float] = []
        self.station: list[str] = []
        self.tag: list[tuple | None] = []

    def columns(self) -> tuple:
        """The regex groups as columns (tuples), or empty tuples when there are no sentences."""
        return tuple(zip(*self.fields, strict=True)) if self.fields else ((),) * 10


class NmeaDecoder:
    """Stateful decoder of one NMEA input: clock, pending fragments and counts carry over batches.

    Feed it batches of lines with :meth:`decode`, then call :meth:`close` for the fragments
    left over. Each call returns an AisData whose report counts only that call.
    """

    def __init__(self, source: str, start_time: pd.Timestamp | None = None) -> None:
        self.source = source
        self.start_given = start_time is not None
        self.clock: float | None = start_time.timestamp() if start_time is not None else None
        self.sentence_no = 0
        self.pending: dict[tuple, dict] = {}
        self.unstamped = 0
        self.pghp_station = ""

    # -- line scanning -------------------------------------------------------------------------

    def _scan(self, lines: list[str], report: IngestReport) -> _Sentences:
        """Split lines into sentence columns; update the clock from times found on the way.

        The common line, one bare sentence, takes a single regex match; everything else
        (tag blocks, prefixes, trailers, several sentences) goes through :meth:`_scan_line`.
        """
        s = _Sentences()
        fields, times, stations, tags = s.fields, s.t, s.station, s.tag
        fullmatch, tagged = _SENTENCE_LINE.fullmatch, _TAGGED_LINE.fullmatch
        nan = np.nan
        clock = np.nan if self.clock is None else self.clock
        malformed = 0
        for line in lines:
            m = fullmatch(line)
            if m is not None:
                g = m.groups()
                if self.start_given and g[7][:1] == "4":
                    clock = self._type4_clock(g, clock)
                fields.append(g)
                times.append(clock)
                stations.append(self.pghp_station)
                tags.append(None)
                self.pghp_station = ""
            elif (m := tagged(line)) is not None and (t := _unix(m[3] or m[4] or m[6])):
                # what _scan_line makes of it, without its general parsing
                station = m[2] or m[5] or ""
                clock = t if t > 0 else clock
                fields.append(m.groups()[6:])
                times.append(t)
                stations.append(station or self.pghp_station)
                tags.append((station, None))
                self.pghp_station = ""
            elif "!" in line:
                self.clock = None if clock != clock else clock
                malformed += self._scan_line(line, s)
                clock = nan if self.clock is None else self.clock
            elif line.startswith("$PGHP"):
                t, station = _pghp(line)
                if t is not None:
                    clock, self.pghp_station = t, station
            elif line.startswith(("$GPRMC", "$GNRMC")):
                t = _rmc(line)
                if t is not None:
                    clock = t
        self.clock = None if clock != clock else clock
        report.rejected["malformed"] += malformed
        report.sentences += len(fields) + malformed
        return s

    def _type4_clock(self, g: tuple, clock: float) -> float:
        """With --start-time, a single-sentence type 4 moves the clock forward to its UTC."""
        if g[3] != "1":
            return clock
        t4 = _type4_time(g[7])
        return t4 if t4 is not None and not t4 <= clock else clock

    def _scan_line(self, line: str, s: _Sentences) -> int:
        """One line with tag blocks, a time prefix or trailer, or several sentences.

        Returns the number of AIS-looking sentences on it that do not parse (malformed).
        """
        matches = list(_SENTENCE.finditer(line))
        malformed = len(_AIS_LIKE.findall(line)) - len(matches)
        line_t = None
        pieces: list[list] = []
        prev_end = 0
        for i, m in enumerate(matches):
            pre = line[prev_end : m.start()]
            tag = None
            if pre.endswith("\\"):  # tag blocks, from the first backslash
                j = pre.find("\\")
                tag, pre = (pre[j + 1 : -1], pre[:j]) if j < len(pre) - 1 else (_CUT_TAG, "")
            if i == 0:
                line_t = _prefix_time(pre) if pre else None
            elif pre:
                self._add_trailer(pieces[-1], pre)
            pieces.append([m, None, "", tag])
            prev_end = m.end()
        if pieces and len(line) - prev_end > 2:
            self._add_trailer(pieces[-1], line[prev_end:])
        for m, trail_t, trail_station, tag in pieces:
            g = m.groups()
            t, station, group = (None, "", None) if tag is None else _parse_tag(tag)
            own = [x for x in (t, trail_t, line_t) if x is not None]
            good = [x for x in own if x > 0]
            bad = own[0] if own and not good else None  # present but unusable: no fallback
            if good:
                self.clock = good[0]
            elif not own and self.start_given and g[7][:1] == "4":
                self.clock = self._type4_clock(g, np.nan if self.clock is None else self.clock)
                self.clock = None if self.clock != self.clock else self.clock
            s.fields.append(g)
            s.t.append(bad if bad is not None else np.nan if self.clock is None else self.clock)
            s.station.append(station or trail_station or self.pghp_station)
            s.tag.append((station, group) if tag is not None else None)
            self.pghp_station = ""
        return malformed

    @staticmethod
    def _add_trailer(piece: list, text: str) -> None:
        t, station = _trailer(text)
        piece[1] = piece[1] or t
        piece[2] = piece[2] or station

    # -- checksums and reassembly --------------------------------------------------------------

    @staticmethod
    def _checksums_ok(body: tuple, cs: tuple) -> np.ndarray:
        """XOR checksum of every sentence at once: bitwise_xor.reduceat over the joined bodies."""
        n = len(body)
        if n == 0:
            return np.zeros(0, bool)
        data = np.frombuffer("".join(body).encode("latin-1"), np.uint8)
        lengths = np.fromiter(map(len, body), np.int64, count=n)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        expected = np.frombuffer(bytes.fromhex("".join(cs)), np.uint8)
        return np.bitwise_xor.reduceat(data, starts) == expected

    def _drop_pending(self, key: tuple, report: IngestReport) -> None:
        report.rejected["incomplete_multipart"] += len(self.pending.pop(key)["parts"])

    def _assemble(
        self, s: _Sentences, report: IngestReport
    ) -> tuple[list[str], list[int], list[float], list[str]]:
        """Messages (payload, fill bits, time, station) from single sentences and fragments."""
        body, talker, _, count_s, num_s, seq, chan, payload, fill_s, cs = s.columns()
        ok = self._checksums_ok(body, cs)
        report.rejected["bad_checksum"] += int((~ok).sum())
        count = np.array(count_s, dtype="U1").astype(np.int64)
        num = np.array(num_s, dtype="U1").astype(np.int64)
        fill = np.array(fill_s, dtype="U1").astype(np.int64)
        bad_numbering = ok & ((num < 1) | (num > count))
        report.rejected["malformed"] += int(bad_numbering.sum())
        idx = np.flatnonzero(ok & (count == 1) & (num == 1))
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
                key: tuple = ("g", tag[1][2], n)
            else:
                key = ((tag[0] if tag else "") or talker[i], chan[i], seq[i], n)
            entry = self.pending.get(key)
            if entry is not None and part in entry["parts"]:
                self._drop_pending(key, report)  # a part seen twice: the old message is stale
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
            self._drop_pending(key, report)
        return payloads, fills, times, stations

    # -- payload decoding ----------------------------------------------------------------------

    def decode(self, lines: list[str]) -> AisData:
        """Decode one batch of lines (without line terminators; a trailing CR is fine)."""
        report = IngestReport(files=[self.source])
        report.lines = len(lines)
        s = self._scan(lines, report)
        payloads, fills, times, stations = self._assemble(s, report)
        return self._tables(payloads, fills, times, stations, report)

    def close(self) -> AisData:
        """End of input: fragments still waiting are incomplete; warn about untimed messages."""
        report = IngestReport(files=[self.source])
        for key in list(self.pending):
            self._drop_pending(key, report)
        if self.unstamped:
            report.warnings.append(
                f"{self.source}: {self.unstamped:,} messages had no receiver time and were "
                "dropped; give --start-time (UTC time of the first sentence) to keep them"
            )
        return AisData(report=report)

    def _tables(
        self,
        payloads: list[str],
        fills: list[int],
        times: list[float],
        stations: list[str],
        report: IngestReport,
    ) -> AisData:
        n = len(payloads)
        lengths = np.fromiter(map(len, payloads), np.int64, count=n)
        empty = lengths == 0
        report.rejected["malformed"] += int(empty.sum())
        first = "".join([p[:1] or "0" for p in payloads]).encode("latin-1")
        mtype = _sixbit(np.frombuffer(first, np.uint8)).astype(np.int64)
        fill = np.asarray(fills, np.int64)
        fast = ~empty & np.isin(mtype, _FAST_TYPES) & (lengths == 28) & (fill == 0)
        fast_idx = np.flatnonzero(fast)
        mmsi = np.zeros(n, np.int64)
        decoded = fast.copy()
        pos_cols = _fast_positions(payloads, fast_idx, mtype)
        mmsi[fast_idx] = pos_cols["mmsi"]
        fast5 = ~empty & (mtype == 5) & (lengths == 71) & (fill == 2)
        static_fast = _fast_type5(payloads, np.flatnonzero(fast5))
        mmsi[fast5] = static_fast["mmsi"].to_numpy(np.int64)
        decoded |= fast5
        fast |= fast5
        pos_rows, aux_rows, static_rows = [], [], []
        kept = np.isin(mtype, _KEPT_TYPES)
        # types mda does not keep are counted from their first character, not decoded
        decoded |= ~empty & ~kept & (mtype >= 1) & (mtype <= 27)
        errors = int((~empty & ((mtype < 1) | (mtype > 27))).sum())
        for i in np.flatnonzero(~fast & ~empty & kept).tolist():
            row = _slow_decode(payloads[i], fills[i], int(mtype[i]))
            if row is None:
                errors += 1
                continue
            decoded[i] = True
            mmsi[i] = row[0]
            pos, aux, static = row[1:]
            if pos is not None:
                pos_rows.append((i, *pos))
            if aux is not None:
                aux_rows.append((i, *aux))
            if static is not None:
                static_rows.append((i, *static))
        report.rejected["decode_error"] += errors
        types, counts = np.unique(mtype[decoded], return_counts=True)
        report.messages.update(dict(zip(types.tolist(), counts.tolist(), strict=True)))

        t = np.asarray(times, np.float64)
        useful = decoded & kept
        bad_mmsi = useful & ((mmsi <= 0) | (mmsi > _MAX_MMSI))
        timed = useful & ~bad_mmsi
        no_ts = timed & np.isnan(t)
        bad_t = timed & (t == BAD_TIME)
        in_range = (t >= TIME_MIN_S) & (t < TIME_END_S)  # False for NaN and the sentinels
        out_t = timed & ~no_ts & ~bad_t & ~in_range  # includes --start-time clocks out of range
        report.rejected["invalid_mmsi"] += int(bad_mmsi.sum())
        report.rejected["no_timestamp"] += int(no_ts.sum())
        report.rejected["bad_tag_time"] += int(bad_t.sum())
        report.rejected["time_out_of_range"] += int(out_t.sum())
        self.unstamped += int(no_ts.sum())
        keep = timed & in_range
        ts_ns = np.where(in_range, np.round(t * 1000.0), 0).astype(np.int64) * 1_000_000
        station = np.asarray(stations, dtype=object)

        if pos_rows:
            slow = list(zip(*pos_rows, strict=True))
            cols = ("idx", "mmsi", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type")
            for name, values in zip(cols, slow, strict=True):
                pos_cols[name] = np.concatenate((pos_cols[name], np.asarray(values, np.float64)))
        positions = self._positions(pos_cols, keep, ts_ns, station, report)
        aux = self._aux(aux_rows, keep, ts_ns, report)
        statics = self._statics(static_fast, static_rows, keep, ts_ns)
        report.positions = len(positions)
        report.static_reports = len(statics)
        report.mmsis.update(np.unique(positions["mmsi"].to_numpy()).tolist())
        report.mmsis.update(np.unique(statics["mmsi"].to_numpy()).tolist())
        report.see_times(positions["ts"])
        report.see_times(statics["ts"])
        report.see_times(aux["ts"])
        return AisData(positions=positions, aux=aux, statics=statics, report=report)

    def _positions(
        self,
        c: dict[str, np.ndarray],
        keep: np.ndarray,
        ts_ns: np.ndarray,
        station: np.ndarray,
        report: IngestReport,
    ) -> pd.DataFrame:
        """Position rows of kept messages; sentinels to NaN; unusable positions rejected."""
        idx = c["idx"].astype(np.int64)
        take = keep[idx]
        lat, lon, mt = c["lat"], c["lon"], c["msg_type"]
        valid = valid_position(lat, lon)
        report.rejected["invalid_position"] += int((take & ~valid).sum())
        sel = take & valid
        idx, mt = idx[sel], mt[sel]
        coarse = mt == 27
        sog, cog, heading = c["sog"][sel], c["cog"][sel], c["heading"][sel]
        sog = np.where((coarse & (sog == 63)) | (~coarse & (sog > 102.25)), np.nan, sog)
        cog = np.where((coarse & (cog == 511)) | (cog >= 360), np.nan, cog)
        heading = np.where(heading > 359, np.nan, heading)
        status = np.where(np.isin(mt, _CLASS_B), 15, c["nav_status"][sel])
        return pd.DataFrame(
            {
                "mmsi": c["mmsi"][sel].astype(np.uint32),
                "ts": pd.to_datetime(ts_ns[idx], utc=True).astype(schema.TS),
                "lat": lat[sel],
                "lon": lon[sel],
                "sog": sog.astype(np.float32),
                "cog": cog.astype(np.float32),
                "heading": heading.astype(np.float32),
                "nav_status": status.astype(np.uint8),
                "msg_type": mt.astype(np.uint8),
                "source": pd.array(np.full(len(idx), self.source, dtype=object), dtype="string"),
                "station": pd.array(station[idx], dtype="string"),
            }
        )

    def _aux(
        self, rows: list[tuple], keep: np.ndarray, ts_ns: np.ndarray, report: IngestReport
    ) -> pd.DataFrame:
        """Base stations, SAR aircraft and aids to navigation of kept messages."""
        cols = ["idx", "mmsi", "lat", "lon", "msg_type", "name"]
        df = pd.DataFrame(rows, columns=cols)
        if df.empty:
            return schema.empty(schema.AUX_POSITIONS)
        idx = df["idx"].to_numpy(np.int64)
        lat, lon = df["lat"].to_numpy(np.float64), df["lon"].to_numpy(np.float64)
        valid = valid_position(lat, lon)
        report.rejected["invalid_position"] += int((keep[idx] & ~valid).sum())
        df = df[keep[idx] & valid]
        df = df.assign(ts=pd.to_datetime(ts_ns[df["idx"].to_numpy(np.int64)], utc=True))
        return schema.conform(df.assign(source=self.source), schema.AUX_POSITIONS, extra=False)

    def _statics(
        self, fast: pd.DataFrame, rows: list[tuple], keep: np.ndarray, ts_ns: np.ndarray
    ) -> pd.DataFrame:
        """Static and voyage rows (schema.VESSELS) of kept messages, vectorised ones first."""
        slow = pd.DataFrame(rows, columns=["idx", *_STATIC_COLS])
        df = pd.concat([f for f in (fast, slow) if len(f)]) if len(fast) + len(slow) else slow
        if df.empty:
            return schema.empty(schema.VESSELS)
        idx = df["idx"].to_numpy(np.int64)
        df = df[keep[idx]]
        df = df.assign(ts=pd.to_datetime(ts_ns[df["idx"].to_numpy(np.int64)], utc=True))
        return schema.conform(df, schema.VESSELS, extra=False)


#: Columns of one static report row, in the order _slow_decode builds them.
_STATIC_COLS = ("mmsi", *STATIC_FIELDS, "ais_class")


def _sixbit(armored: np.ndarray) -> np.ndarray:
    """AIS payload characters (ASCII codes) to their 6-bit values."""
    v = armored.astype(np.int16) - 48
    return np.where(v > 40, v - 8, v).astype(np.uint8) & 63


def _bits(v6: np.ndarray, start: int, width: int, signed: bool = False) -> np.ndarray:
    """Bit field [start, start+width) of every row of 6-bit values (one payload per row)."""
    c0, c1 = start // 6, (start + width - 1) // 6
    acc = np.zeros(len(v6), np.int64)
    for c in range(c0, c1 + 1):
        acc = (acc << 6) | v6[:, c]
    shift = (c1 - c0 + 1) * 6 - (start - c0 * 6) - width
    val = (acc >> shift) & ((1 << width) - 1)
    if signed:
        val = np.where(val >= 1 << (width - 1), val - (1 << width), val)
    return val


#: Bit offsets (start, width) of the position fields of types 1-3 and 18.
_LAYOUT_123 = {
    "status": (38, 4),
    "speed": (50, 10),
    "lon": (61, 28),
    "lat": (89, 27),
    "course": (116, 12),
    "heading": (128, 9),
}
_LAYOUT_18 = {
    "speed": (46, 10),
    "lon": (57, 28),
    "lat": (85, 27),
    "course": (112, 12),
    "heading": (124, 9),
}


def _fast_positions(payloads: list[str], idx: np.ndarray, mtype: np.ndarray) -> dict:
    """Types 1, 2, 3, 18 of 168 bits decoded with numpy; values rounded as pyais does."""
    armored = "".join([payloads[i] for i in idx.tolist()]).encode("latin-1")
    v6 = _sixbit(np.frombuffer(armored, np.uint8)).reshape(len(idx), 28)
    mt = mtype[idx]
    is18 = mt == 18
    out = {"idx": idx.astype(np.float64), "mmsi": _bits(v6, 8, 30), "msg_type": mt}
    for name in ("speed", "lon", "lat", "course", "heading"):
        signed = name in ("lon", "lat")
        a = _bits(v6, *_LAYOUT_123[name], signed=signed)
        b = _bits(v6, *_LAYOUT_18[name], signed=signed)
        out[name] = np.where(is18, b, a)
    out["nav_status"] = np.where(is18, 15, _bits(v6, *_LAYOUT_123["status"]))
    for name in ("lat", "lon"):  # pyais: round(v / 600000, 6) computed exactly in integers
        out[name] = ((10 * out[name] + 3) // 6) / 1e6
    out["sog"] = out.pop("speed") / 10.0
    out["cog"] = out.pop("course") / 10.0
    out["heading"] = out["heading"].astype(np.float64)
    return out


_SIXBIT_ASCII = np.array([v + 64 if v < 32 else v for v in range(64)], np.uint8)


def _text_column(v6: np.ndarray, start: int, nchars: int) -> pd.Series:
    """AIS 6-bit text of every row, padding stripped as pyais and :func:`_text` do; NA if empty."""
    codes = np.stack([_bits(v6, start + 6 * k, 6) for k in range(nchars)], axis=1)
    raw = np.ascontiguousarray(_SIXBIT_ASCII[codes]).view(f"S{nchars}").ravel()
    text = pd.Series(raw).str.decode("latin-1").str.rstrip("@").str.strip().str.rstrip("@ ")
    return text.where(text != "", None).astype("string")


def _fast_type5(payloads: list[str], idx: np.ndarray) -> pd.DataFrame:
    """Type 5 messages of exactly 424 bits decoded with numpy (field layout as pyais)."""
    armored = "".join([payloads[i] for i in idx.tolist()]).encode("latin-1")
    v6 = _sixbit(np.frombuffer(armored, np.uint8)).reshape(len(idx), 71)

    def positive(values: np.ndarray, dtype: str) -> pd.Series:
        return pd.Series(values, dtype=dtype).mask(values == 0)

    return pd.DataFrame(
        {
            "idx": idx,
            "mmsi": _bits(v6, 8, 30),
            "imo": positive(_bits(v6, 40, 30), "UInt32"),
            "name": _text_column(v6, 112, 20),
            "callsign": _text_column(v6, 70, 7),
            "ship_type": positive(_bits(v6, 232, 8), "UInt8"),
            "length": positive(_bits(v6, 240, 9) + _bits(v6, 249, 9), "Float32"),
            "width": positive(_bits(v6, 258, 6) + _bits(v6, 264, 6), "Float32"),
            "draught": positive(_bits(v6, 294, 8) / 10.0, "Float32"),
            "destination": _text_column(v6, 302, 20),
            "ais_class": "A",
        }
    )


def _text(value: str | None) -> str | None:
    """AIS text without '@' padding and trailing blanks; None when empty."""
    if value is None:
        return None
    value = value.rstrip("@ ")
    return value or None


def _positive(value: int | float | None) -> int | float | None:
    """None for AIS 0 = "not available" (IMO, ship type, dimensions, draught)."""
    return value if value else None


#: Bit offset of the ship type in types 5, 19 and 24 part B (24 part A has none).
_SHIP_TYPE_AT = {5: 232, 19: 263, 24: 40}


def _raw_ship_type(bits: bit_vector, mt: int) -> int | None:
    """The ship type code as sent: pyais folds reserved codes (e.g. 57 into 56, 39 into 0)."""
    at = _SHIP_TYPE_AT[mt]
    if len(bits) < at + 8 or (mt == 24 and bits.get(38, 2) != 1):
        return None
    return bits.get(at, 8)


def _slow_decode(payload: str, fill: int, mt: int) -> tuple | None:
    """Decode one message with pyais: (mmsi, position, aux, static) or None on failure."""
    try:
        bits = bit_vector(payload.encode("latin-1"), fill)
        if len(bits) < POSITION_BITS.get(mt, 0):
            return None
        msg = MSG_CLASS[mt].from_vector(bits)
        mmsi = int(msg.mmsi)
    except Exception:  # pyais raises many types on bad payloads; all mean "does not decode"
        return None
    pos = aux = static = None
    g = msg.__getattribute__
    if mt in POSITION_TYPES:
        status = 15 if mt in _CLASS_B else int(g("status"))
        heading = g("heading") if mt != 27 else 511
        pos = (mmsi, g("lat"), g("lon"), g("speed"), g("course"), heading, status, mt)
    elif mt in AUX_TYPES:
        name = (g("name") or "") + (g("name_ext") or "") if mt == 21 else ""
        aux = (mmsi, g("lat"), g("lon"), mt, _text(name) or "")
    if mt in STATIC_TYPES:
        dims = {k: getattr(msg, k, None) for k in ("to_bow", "to_stern", "to_port", "to_starboard")}
        length = (dims["to_bow"] or 0) + (dims["to_stern"] or 0)
        width = (dims["to_port"] or 0) + (dims["to_starboard"] or 0)
        static = (
            mmsi,
            _positive(getattr(msg, "imo", None)),
            _text(getattr(msg, "shipname", None)),
            _text(getattr(msg, "callsign", None)),
            _positive(_raw_ship_type(bits, mt)),
            _positive(length),
            _positive(width),
            _positive(getattr(msg, "draught", None)),
            _text(getattr(msg, "destination", None)),
            "A" if mt == 5 else "B",
        )
    return mmsi, pos, aux, static


def iter_nmea(
    batches: Iterable[list[str]],
    source: str,
    *,
    start_time: pd.Timestamp | None = None,
    chunk_rows: int = 500_000,
    finish: Callable[[IngestReport], None] | None = None,
) -> Iterator[AisData]:
    """Decode batches of lines of one input; yield chunks of about `chunk_rows` positions.

    `finish`, when given, adds the framing's counts (cut lines, a read error) to the report of
    the last chunk, once every batch is read.
    """
    decoder = NmeaDecoder(source, start_time)
    parts: list[AisData] = []
    rows = 0
    for lines in batches:
        part = decoder.decode(lines)
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
