"""Lines of an NMEA stream into sentence columns, with the receiver clock carried along.

A line may carry a NMEA 4.0 tag block, a time before the sentence (Unix seconds or ISO 8601),
trailing fields after it (a Unix time, USCG N-AIS ``r<station>``), or be a Gatehouse ``$PGHP``
line that times the next sentence. Several sentences on one line are accepted.

Receiver time: each line's own time (tag ``c:`` in seconds or milliseconds, ``$PGHP``, prefix,
trailing Unix time) sets the stream clock, and a sentence gets the clock as it stands after its
line was read, so a sentence without its own time gets the latest receiver time seen before it
in the same input. A time that is present but bad never falls back to an earlier one: it is
given to its sentence as BAD_TIME or OUT_OF_RANGE (see ``mda.sources.nmea.clock``).
``$GPRMC``/``$GNRMC`` lines set the clock too. With a start time given, the clock starts there
and single-sentence type 4 base-station reports move it forward (never back).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mda.sources.base import IngestReport
from mda.sources.nmea import shapes
from mda.sources.nmea.clock import (
    BAD_TIME,
    UNIX,
    pghp_time,
    prefix_time,
    rmc_time,
    type4_time,
    unix_time,
)

#: The talker is any two printable characters: some feeds carry garbled ones (AMSA's "!=IVDM")
#: under a valid checksum, and pyais decodes them; the checksum is what vouches for a sentence.
SENTENCE = re.compile(
    r"!(([^,*\\!$\s]{2})(VD[MO]),(\d),(\d),(\d*),([^,*\\]*),([0-W`-w]*),([0-5]))\*([0-9A-Fa-f]{2})"
)
_SENTENCE_LINE = re.compile(SENTENCE.pattern + "\r?")
#: The commonest timed line: one tag block (station, time, nothing else) and one sentence.
_TAGGED_LINE = re.compile(
    r"\\(s:([^,*\\]*),c:(\d{9,13})|c:(\d{9,13}),s:([^,*\\]*)|c:(\d{9,13}))"
    r"\*[0-9A-Fa-f]{2}\\" + SENTENCE.pattern + "\r?"
)
_AIS_LIKE = re.compile(r"!..VD[MO]")
_OLD_GROUP = re.compile(r"(\d+)G(\d+)")
#: What a tag block cut short (a closing backslash alone) reads as: one with a bad time.
_CUT_TAG = "c:?"

#: A tag block's group: (part, total, id).
Group = tuple[int, int, str]
#: A sentence's tag block: (station, group), or None when it has none.
Tag = tuple[str, Group | None] | None


def parse_tag(tag: str) -> tuple[float | None, str, Group | None]:
    """Receiver time, station and group (part, total, id) of a tag block's text."""
    t, station, group = None, "", None
    items = [i for block in tag.split("\\") for i in block.split("*", 1)[0].split(",")]
    for item in items:
        key, _, value = item.partition(":")
        if key == "c":
            t = unix_time(value)
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


def trailer(text: str) -> tuple[float | None, str]:
    """First Unix time and USCG receiver id (``r...``/``b...``) in fields after a sentence."""
    t, station = None, ""
    for f in text.split(","):
        f = f.strip()
        if t is None and UNIX.fullmatch(f):
            t = unix_time(f)
        elif not station and len(f) > 1 and f[0] in "rb" and f[1:].isalnum():
            station = f
    return t, station


class _PySentences:
    """Sentences of lines read one by one in Python (regex groups, time, station, tag, line).

    `fields` holds the regex groups of each sentence (body, talker, kind, count, num, seq,
    channel, payload, fill, checksum); `tag` the tag-block (station, group) or None.
    """

    __slots__ = ("fields", "line", "station", "t", "tag")

    def __init__(self) -> None:
        self.fields: list[tuple[str, ...]] = []
        self.t: list[float] = []
        self.station: list[str] = []
        self.tag: list[Tag] = []
        self.line: list[int] = []

    def columns(self) -> Sentences:
        """The sentences as columns, checksums checked."""
        cols = tuple(zip(*self.fields, strict=True)) if self.fields else ((),) * 10
        body, talker, _, count_s, num_s, seq, chan, payload, fill_s, cs = cols
        ok = checksums_ok(body, cs)
        count = np.array(count_s, dtype="U1").astype(np.int64)
        frag = np.flatnonzero(ok & (count > 1))
        tags = [self.tag[i] for i in frag.tolist()]
        keys = [
            f"{(tag[0] if tag else '') or talker[i]},{chan[i]},{seq[i]}"
            for i, tag in zip(frag.tolist(), tags, strict=True)
        ]
        return Sentences(
            ok=ok,
            count=count,
            num=np.array(num_s, dtype="U1").astype(np.int64),
            fill=np.array(fill_s, dtype="U1").astype(np.int64),
            t=np.asarray(self.t, np.float64),
            payload=pa.array(payload, pa.string()),
            station=strings(self.station),
            frag=frag,
            frag_key=strings(keys),
            frag_group={
                i: tag[1]
                for i, tag in zip(frag.tolist(), tags, strict=True)
                if tag is not None and tag[1] is not None
            },
        )


@dataclass
class Sentences:
    """The AIS sentences of one batch in input order, as columns (what reassembly takes).

    `ok`: the checksum matches; `t`: receiver time (NaN: none; BAD_TIME / OUT_OF_RANGE).
    Sentences of multi-sentence messages (count > 1) whose checksum matches are listed in
    `frag` (positions, ascending) with their key in `frag_key` ("station or talker,channel,
    sequence id") and, for those of a tag-block group, the group in `frag_group`.
    """

    ok: np.ndarray
    count: np.ndarray
    num: np.ndarray
    fill: np.ndarray
    t: np.ndarray
    payload: pa.Array
    station: pa.Array
    frag: np.ndarray
    frag_key: pa.Array
    frag_group: dict[int, Group]

    def __len__(self) -> int:
        return len(self.ok)

    def take(self, order: np.ndarray) -> Sentences:
        """The sentences in `order` (a permutation of positions)."""
        where = np.empty(len(order), np.int64)
        where[order] = np.arange(len(order))
        frag = where[self.frag]
        by_pos = np.argsort(frag)
        return Sentences(
            ok=self.ok[order],
            count=self.count[order],
            num=self.num[order],
            fill=self.fill[order],
            t=self.t[order],
            payload=self.payload.take(order),
            station=self.station.take(order),
            frag=frag[by_pos],
            frag_key=self.frag_key.take(by_pos),
            frag_group={int(where[i]): g for i, g in self.frag_group.items()},
        )


def concat_sentences(parts: list[Sentences]) -> Sentences:
    """Sentences of several parts one after the other."""
    at = np.cumsum([0, *(len(p) for p in parts)])
    return Sentences(
        ok=np.concatenate([p.ok for p in parts]),
        count=np.concatenate([p.count for p in parts]),
        num=np.concatenate([p.num for p in parts]),
        fill=np.concatenate([p.fill for p in parts]),
        t=np.concatenate([p.t for p in parts]),
        payload=pa.concat_arrays([p.payload for p in parts]),
        station=pa.concat_arrays([p.station for p in parts]),
        frag=np.concatenate([p.frag + a for p, a in zip(parts, at, strict=False)]),
        frag_key=pa.concat_arrays([p.frag_key for p in parts]),
        frag_group={
            int(a) + i: g for p, a in zip(parts, at, strict=False) for i, g in p.frag_group.items()
        },
    )


def strings(values: Sequence[str]) -> pa.Array:
    """An Arrow string array of `values`; lone surrogates (text lines given as str) become
    U+FFFD, which Arrow's UTF-8 cannot hold."""
    try:
        return pa.array(values, pa.string())
    except UnicodeEncodeError:
        fixed = [v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for v in values]
        return pa.array(fixed, pa.string())


def checksums_ok(body: Sequence[str], cs: Sequence[str]) -> np.ndarray:
    """XOR checksum of every sentence at once: bitwise_xor.reduceat over the joined bodies.

    A character beyond latin-1 (text lines given as str) cannot be in a valid sentence."""
    n = len(body)
    if n == 0:
        return np.zeros(0, bool)
    data = np.frombuffer("".join(body).encode("latin-1", "replace"), np.uint8)
    lengths = np.fromiter(map(len, body), np.int64, count=n)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    expected = np.frombuffer(bytes.fromhex("".join(cs)), np.uint8)
    ok: np.ndarray = np.bitwise_xor.reduceat(data, starts) == expected
    return ok


class _Piece:
    """One sentence of a line being read: its match, trailer time and station, tag text."""

    __slots__ = ("m", "station", "t", "tag")

    def __init__(self, m: re.Match[str], tag: str | None) -> None:
        self.m, self.tag = m, tag
        self.t: float | None = None
        self.station = ""

    def add_trailer(self, text: str) -> None:
        """Take the time and station of fields after the sentence (the first ones found)."""
        t, station = trailer(text)
        self.t = self.t or t
        self.station = self.station or station


class Framer:
    """Sentence columns of batches of lines of one input; the clock carries over batches."""

    def __init__(self, start_time_s: float | None) -> None:
        self.start_given = start_time_s is not None
        self.clock: float | None = start_time_s
        self.pghp_station = ""

    def scan(self, lines: list[str], report: IngestReport) -> Sentences:
        """Sentence columns of text lines, read one by one (see :meth:`_line`)."""
        s = _PySentences()
        clock = np.nan if self.clock is None else self.clock
        malformed = 0
        for line in lines:
            clock, bad = self._line(line, clock, s)
            malformed += bad
        self.clock = None if clock != clock else clock
        report.rejected["malformed"] += malformed
        report.sentences += len(s.fields) + malformed
        return s.columns()

    def scan_block(self, block: bytes | memoryview, report: IngestReport) -> Sentences:
        """Sentence columns of a block of whole lines, the same as :meth:`scan` of its lines.

        The common shapes are parsed for the whole block at once (:mod:`.shapes`); the other
        lines that matter are read by :meth:`_line` in order, each given the clock and
        $PGHP station as the lines before it left them; then the clock and station are
        carried forward to the bare sentences with numpy.
        """
        sh = shapes.parse(block, type4_slow=self.start_given)
        clock0 = np.nan if self.clock is None else self.clock
        tagged = ~np.isnan(sh.tag_t)
        sets = tagged & (sh.tag_t > 0)
        n = len(sh.kind)
        clocks = _Events(n, clock0)
        clocks.put(sh.line[sets], sh.tag_t[sets])
        clocks.put(sh.pghp_line, sh.pghp_t)
        text = _Text(sh.data, self.pghp_station)
        stations = _Events(n, text.first)
        stations.put(sh.line, np.zeros((len(sh.line), 2), np.int64))
        stations.put(sh.pghp_line, sh.pghp_station)
        py = _PySentences()
        slow = np.flatnonzero(sh.kind == shapes.SLOW)
        malformed = 0
        if len(slow):
            slow_clock = np.empty(len(slow))
            slow_station = np.empty((len(slow), 2), np.int64)
            prev_clock, prev_station = clocks.last()[slow], stations.last()[slow]
            clock, station, last = clock0, self.pghp_station, -1
            for i, j in enumerate(slow.tolist()):
                # the latest of: an event of the fast lines, the slow line before, the start
                if prev_clock[i] - 1 > last:
                    clock = float(clocks.value[prev_clock[i]])
                if prev_station[i] - 1 > last:
                    station = text.get(stations.value[prev_station[i]])
                self.pghp_station = station
                before = len(py.fields)
                clock, bad = self._line(text.get((sh.start[j], sh.end[j])), clock, py)
                malformed += bad
                py.line.extend([j] * (len(py.fields) - before))
                station = self.pghp_station
                slow_clock[i], slow_station[i], last = clock, text.add(station), j
            clocks.put(slow, slow_clock)
            stations.put(slow, slow_station)
        # what a bare sentence gets: the clock and station as the lines before it left them
        clock_at, station_at = clocks.last(), stations.last()
        t = sh.tag_t.copy()
        t[~tagged] = clocks.value[clock_at[sh.line[~tagged]]]
        station = stations.value[station_at[sh.line]]
        has_tag_station = sh.tag_station[:, 1] > sh.tag_station[:, 0]
        station[has_tag_station] = sh.tag_station[has_tag_station]
        last_clock = clocks.value[clock_at[n]]
        self.clock = None if last_clock != last_clock else float(last_clock)
        self.pghp_station = text.get(stations.value[station_at[n]])
        frag = np.flatnonzero(sh.ok & (sh.count > 1))
        key_station = sh.tag_station[frag]
        talker = sh.body[frag, 0]
        no_station = key_station[:, 1] == key_station[:, 0]
        key_station[no_station] = np.stack((talker, talker + 2), axis=1)[no_station]
        frag_key = pc.binary_join_element_wise(
            text.strings(key_station), text.strings(sh.chan[frag]), text.strings(sh.seq[frag]), ","
        )
        fast = Sentences(
            ok=sh.ok,
            count=sh.count,
            num=sh.num,
            fill=sh.fill,
            t=t,
            payload=text.strings(sh.payload),
            station=text.strings(station),
            frag=frag,
            frag_key=frag_key,
            frag_group={},
        )
        report.rejected["malformed"] += malformed
        report.sentences += len(sh.line) + len(py.fields) + malformed
        report.lines += len(sh.kind)
        if not py.fields:
            return fast
        both = concat_sentences([fast, py.columns()])
        return both.take(np.argsort(np.concatenate((sh.line, py.line)), kind="stable"))

    def _line(self, line: str, clock: float, s: _PySentences) -> tuple[float, int]:
        """Read one line into `s`: the clock after it and its malformed AIS sentences.

        The common line, one bare sentence, takes a single regex match; everything else
        (tag blocks, prefixes, trailers, several sentences) goes through :meth:`_scan_line`.
        """
        m = _SENTENCE_LINE.fullmatch(line)
        if m is not None:
            g = m.groups()
            if self.start_given and g[7][:1] == "4":
                clock = self._type4_clock(g, clock)
            s.fields.append(g)
            s.t.append(clock)
            s.station.append(self.pghp_station)
            s.tag.append(None)
            self.pghp_station = ""
        elif (m := _TAGGED_LINE.fullmatch(line)) is not None and (
            t := unix_time(m[3] or m[4] or m[6])
        ):
            # what _scan_line makes of it, without its general parsing
            station = m[2] or m[5] or ""
            clock = t if t > 0 else clock
            s.fields.append(m.groups()[6:])
            s.t.append(t)
            s.station.append(station or self.pghp_station)
            s.tag.append((station, None))
            self.pghp_station = ""
        elif "!" in line:
            self.clock = None if clock != clock else clock
            malformed = self._scan_line(line, s)
            return (np.nan if self.clock is None else self.clock), malformed
        elif line.startswith("$PGHP"):
            t, station = pghp_time(line)
            if t is not None:
                clock, self.pghp_station = t, station
        elif line.startswith(("$GPRMC", "$GNRMC")):
            t = rmc_time(line)
            if t is not None:
                clock = t
        return clock, 0

    def _type4_clock(self, g: tuple[str, ...], clock: float) -> float:
        """With a start time, a single-sentence type 4 moves the clock forward to its UTC."""
        if g[3] != "1":
            return clock
        t4 = type4_time(g[7])
        return t4 if t4 is not None and not t4 <= clock else clock

    def _scan_line(self, line: str, s: _PySentences) -> int:
        """One line with tag blocks, a time prefix or trailer, or several sentences.

        Returns the number of AIS-looking sentences on it that do not parse (malformed).
        """
        matches = list(SENTENCE.finditer(line))
        malformed = len(_AIS_LIKE.findall(line)) - len(matches)
        line_t = None
        pieces: list[_Piece] = []
        prev_end = 0
        for i, m in enumerate(matches):
            pre = line[prev_end : m.start()]
            tag = None
            if pre.endswith("\\"):  # tag blocks, from the first backslash
                j = pre.find("\\")
                tag, pre = (pre[j + 1 : -1], pre[:j]) if j < len(pre) - 1 else (_CUT_TAG, "")
            if i == 0:
                line_t = prefix_time(pre) if pre else None
            elif pre:
                pieces[-1].add_trailer(pre)
            pieces.append(_Piece(m, tag))
            prev_end = m.end()
        if pieces and len(line) - prev_end > 2:
            pieces[-1].add_trailer(line[prev_end:])
        for piece in pieces:
            g, tag = piece.m.groups(), piece.tag
            t, station, group = (None, "", None) if tag is None else parse_tag(tag)
            own = [x for x in (t, piece.t, line_t) if x is not None]
            good = [x for x in own if x > 0]
            bad = own[0] if own and not good else None  # present but unusable: no fallback
            if good:
                self.clock = good[0]
            elif not own and self.start_given and g[7][:1] == "4":
                self.clock = self._type4_clock(g, np.nan if self.clock is None else self.clock)
                self.clock = None if self.clock != self.clock else self.clock
            s.fields.append(g)
            s.t.append(bad if bad is not None else np.nan if self.clock is None else self.clock)
            s.station.append(station or piece.station or self.pghp_station)
            s.tag.append((station, group) if tag is not None else None)
            self.pghp_station = ""
        return malformed


class _Events:
    """Lines of a block that set a state (the clock, the $PGHP station), by position: position
    0 holds the state before the block, position i + 1 what line i set, if it set it."""

    def __init__(self, n: int, initial: float | np.ndarray) -> None:
        self.set = np.zeros(n + 1, bool)
        self.set[0] = True
        self.value = np.zeros((n + 1, *np.shape(initial)), np.asarray(initial).dtype)
        self.value[0] = initial

    def put(self, lines: np.ndarray, values: np.ndarray) -> None:
        """Lines `lines` set the state to `values`."""
        self.set[lines + 1] = True
        self.value[lines + 1] = values

    def last(self) -> np.ndarray:
        """Position of the latest setting at or before each position: at position i, the
        state as lines before line i left it."""
        at: np.ndarray = np.maximum.accumulate(np.where(self.set, np.arange(len(self.set)), 0))
        return at


class _Text:
    """Text of a block's bytes by (start, end) range, with room for strings added after it."""

    def __init__(self, data: np.ndarray, first: str) -> None:
        self.data = data
        self.extra = bytearray()
        self.first = self.add(first)

    def add(self, text: str) -> np.ndarray:
        """The range of `text`, appended after the block's bytes."""
        at = len(self.data) + len(self.extra)
        self.extra += text.encode("latin-1", "replace")
        return np.array((at, len(self.data) + len(self.extra)), np.int64)

    def get(self, rng: np.ndarray | tuple[int, int]) -> str:
        """The text of one range."""
        a, b, n = int(rng[0]), int(rng[1]), len(self.data)
        raw = self.data[a:b].tobytes() if a < n else self.extra[a - n : b - n]
        return raw.decode("latin-1")

    def strings(self, ranges: np.ndarray) -> pa.Array:
        """Arrow strings of (start, end) ranges (read as latin-1)."""
        data = self.data
        if self.extra:
            data = np.concatenate((data, np.frombuffer(bytes(self.extra), np.uint8)))
        return shapes.latin1(data, ranges)
