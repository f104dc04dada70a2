"""Receiver times written in NMEA streams, parsed into seconds since the epoch.

Every parser returns None when its text carries no time, BAD_TIME when a time is present but
does not parse, and OUT_OF_RANGE when it parses outside [TIME_MIN_S, TIME_END_S) (see
``mda.sources.base``). How the parsed times move the stream clock is framing's business
(``mda.sources.nmea.framing``).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

from mda.ais.layouts import LAYOUTS
from mda.sources.base import TIME_END_S, TIME_MIN_S

#: Times of sentences whose own time is present but unusable (never a real time, which is
#: positive): BAD_TIME does not parse, OUT_OF_RANGE is outside [TIME_MIN_S, TIME_END_S).
BAD_TIME = -1.0
OUT_OF_RANGE = -2.0

#: A Unix time in seconds (9-10 digits) or milliseconds (12-13 digits), fraction optional.
UNIX = re.compile(r"\d{9,13}(?:\.\d*)?")
_SEPARATORS = " \t,;"


def in_range(t: float) -> bool:
    """A receiver time inside the accepted range."""
    return TIME_MIN_S <= t < TIME_END_S


def _plausible(t: float) -> float | None:
    """A receiver time in the accepted range, else None (for clocks that are only hints)."""
    return t if in_range(t) else None


def unix_time(text: str) -> float | None:
    """Seconds since the epoch of a Unix time in seconds or milliseconds, whichever lands in
    the accepted range; OUT_OF_RANGE when neither does, None when `text` is not a number."""
    try:
        v = float(text)
    except (ValueError, OverflowError):
        return None
    if v != v:
        return None
    for t in (v, v / 1000.0):
        if in_range(t):
            return t
    return OUT_OF_RANGE


def prefix_time(text: str) -> float | None:
    """Time written before a sentence: Unix seconds/milliseconds or ISO 8601 (naive = UTC)."""
    text = text.strip(_SEPARATORS)
    if not text:
        return None
    if UNIX.fullmatch(text):
        return unix_time(text)
    try:
        t = datetime.fromisoformat(text)
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        seconds = t.timestamp()
    except (ValueError, OverflowError):
        return None
    return seconds if in_range(seconds) else OUT_OF_RANGE


def pghp_time(line: str) -> tuple[float | None, str]:
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
    return (t if in_range(t) else OUT_OF_RANGE), station


@functools.lru_cache(maxsize=4096)
def _day_start(y: str, m: str, d: str) -> float | None:
    """Seconds since the epoch of 00:00 UTC of a date given as text (cached: streams repeat)."""
    try:
        return datetime(int(y), int(m), int(d), tzinfo=UTC).timestamp()
    except (ValueError, OverflowError):
        return None


def rmc_time(line: str) -> float | None:
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


_TYPE4 = LAYOUTS["4"]
_UTC_FIELDS = ("year", "month", "day", "hour", "minute", "second")


def type4_time(payload: str) -> float | None:
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
        y, mo, d, h, mi, sec = (field(*_TYPE4.span(name)) for name in _UTC_FIELDS)
        t = datetime(y, mo, d, h, mi, sec, tzinfo=UTC)
    except (ValueError, OverflowError):  # year 0, month 0, hour 24, second 60: "not available"
        return None
    return _plausible(t.timestamp())
