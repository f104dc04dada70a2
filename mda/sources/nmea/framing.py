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

import numpy as np

from mda.sources.base import IngestReport
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


class Sentences:
    """Columns of the AIS sentences of one batch of lines (filled by :meth:`Framer.scan`).

    `fields` holds the regex groups of each sentence (body, talker, kind, count, num, seq,
    channel, payload, fill, checksum); `tag` the tag-block (station, group) or None.
    """

    __slots__ = ("fields", "station", "t", "tag")

    def __init__(self) -> None:
        self.fields: list[tuple[str, ...]] = []
        self.t: list[float] = []
        self.station: list[str] = []
        self.tag: list[Tag] = []

    def columns(self) -> tuple[tuple[str, ...], ...]:
        """The regex groups as columns (tuples), or empty tuples when there are no sentences."""
        return tuple(zip(*self.fields, strict=True)) if self.fields else ((),) * 10


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
        """Split lines into sentence columns; update the clock from times found on the way.

        The common line, one bare sentence, takes a single regex match; everything else
        (tag blocks, prefixes, trailers, several sentences) goes through :meth:`_scan_line`.
        """
        s = Sentences()
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
            elif (m := tagged(line)) is not None and (t := unix_time(m[3] or m[4] or m[6])):
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
                t, station = pghp_time(line)
                if t is not None:
                    clock, self.pghp_station = t, station
            elif line.startswith(("$GPRMC", "$GNRMC")):
                t = rmc_time(line)
                if t is not None:
                    clock = t
        self.clock = None if clock != clock else clock
        report.rejected["malformed"] += malformed
        report.sentences += len(fields) + malformed
        return s

    def _type4_clock(self, g: tuple[str, ...], clock: float) -> float:
        """With a start time, a single-sentence type 4 moves the clock forward to its UTC."""
        if g[3] != "1":
            return clock
        t4 = type4_time(g[7])
        return t4 if t4 is not None and not t4 <= clock else clock

    def _scan_line(self, line: str, s: Sentences) -> int:
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
