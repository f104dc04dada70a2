"""The common NMEA line shapes parsed for a whole block of bytes at once.

Three shapes make up nearly every real feed: a bare sentence (``!AIVDM,...*hh``), one tag block
with a station and/or time and one sentence (``\\s:x,c:t*hh\\!AIVDM...``) and a Gatehouse
``$PGHP,1,...`` time line. Each is recognised by an RE2 pattern that is exactly the Python
pattern of :mod:`mda.sources.nmea.framing` for that shape (Arrow matches binary in Latin-1,
as the Python path reads lines; Python's ``\\s`` is spelled out), and its fields are read with
numpy from the positions of commas and stars in the block. Every other line that could matter
(has a ``!``, or starts ``$PGHP``, ``$GPRMC`` or ``$GNRMC``) is marked SLOW and read by the
Python path, in order; the rest are ignored, as the Python path ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mda.sources.base import TIME_END_S, TIME_MIN_S
from mda.sources.nmea.clock import BAD_TIME, OUT_OF_RANGE

#: Line kinds.
IGNORED, BARE, TAGGED, PGHP, SLOW = range(5)

#: Python's ``\s`` in latin-1, for RE2 (whose ``\s`` is ASCII only).
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0"
_SENTENCE = (
    rf"![^,*\\!$\{_SPACE}]{{2}}VD[MO],[0-9],[0-9],[0-9]*,[^,*\\]*,[0-W`-w]*,[0-5]"
    r"\*[0-9A-Fa-f]{2}\r?\n?$"
)
_BARE = "^" + _SENTENCE
_TAGGED = (
    r"^\\(?:s:[^,*\\]*,c:[0-9]{9,13}|c:[0-9]{9,13},s:[^,*\\]*|c:[0-9]{9,13})"
    r"\*[0-9A-Fa-f]{2}\\" + _SENTENCE
)
#: A $PGHP time line whose fields int() reads as digits; the station (field 11) is followed by
#: a comma or the end (a CR there makes it no station: the Python path takes that line).
_PGHP = (
    r"^\$PGHP,1,[0-9]{1,4},[0-9]{1,2},[0-9]{1,2},[0-9]{1,2},[0-9]{1,2},[0-9]{1,2},[0-9]{1,3},"
    r"[^,!]*,[^,!]*,[0-9]*(?:,[^!]*)?\n?$"
)
_MATTERS = r"!|^\$(?:PGHP|GPRMC|GNRMC)"

_HEX = np.full(256, 255, np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _HEX[bytes([_c]).upper()[0]] = _i
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


@dataclass
class Shapes:
    """A block's lines (start and end of content, newline excluded) and the parsed shapes.

    Sentence columns (bare and tagged lines, in line order) are positions in the block, ranges
    as (start, end) rows; `tag_t` is NaN for bare lines. PGHP columns are one per PGHP line.
    """

    data: np.ndarray
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    line: np.ndarray
    body: np.ndarray
    count: np.ndarray
    num: np.ndarray
    fill: np.ndarray
    ok: np.ndarray
    seq: np.ndarray
    chan: np.ndarray
    payload: np.ndarray
    tag_t: np.ndarray
    tag_station: np.ndarray
    pghp_line: np.ndarray
    pghp_t: np.ndarray
    pghp_station: np.ndarray


def lines_of(block: bytes | memoryview) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bytes of a block and the start and end (newline excluded) of its lines, as
    ``str(block).split("\\n")`` without a last empty piece counts them."""
    data = np.frombuffer(block, np.uint8)
    nl = np.flatnonzero(data == 10)
    start = np.concatenate(([0], nl + 1))
    end = np.concatenate((nl, [len(data)]))
    if len(data) == 0 or data[-1] == 10:
        start, end = start[:-1], end[:-1]
    return data, start, end


def parse(block: bytes | memoryview, *, type4_slow: bool = False) -> Shapes:
    """The lines of `block` and the fields of those of a common shape.

    `type4_slow`: bare single-sentence lines whose payload starts with "4" are left to the
    Python path (with a start time, type 4 reports move the clock).
    """
    data, start, end = lines_of(block)
    n = len(start)
    offsets = np.append(start, min(int(end[-1]) + 1, len(data)) if n else 0).astype(np.int64)
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    kind = np.full(n, IGNORED, np.int8)
    kind[_matches(lines, _BARE)] = BARE
    kind[_matches(lines, _TAGGED)] = TAGGED
    pghp = np.flatnonzero(_matches(lines, _PGHP))
    kind[pghp] = PGHP
    other = np.flatnonzero(kind == IGNORED)
    kind[other[_matches(lines.take(other), _MATTERS)]] = SLOW
    commas = np.flatnonzero(data == 44)
    stars = np.flatnonzero(data == 42)

    line = np.flatnonzero((kind == BARE) | (kind == TAGGED))
    line_start = start[line]
    is_tagged = kind[line] == TAGGED
    # a tag block holds one star, its checksum's: the sentence begins 4 bytes after it
    first_star = _at(stars, np.searchsorted(stars, line_start))
    s = np.where(is_tagged, first_star + 4, line_start)
    k = np.searchsorted(commas, s)
    c3, c4, c5 = _at(commas, k + 3), _at(commas, k + 4), _at(commas, k + 5)
    if type4_slow:
        t4 = ~is_tagged & (c5 > c4 + 1) & (data[np.minimum(c4 + 1, len(data) - 1)] == ord("4"))
        t4 &= data[s + 7] == ord("1")
        kind[line[t4]] = SLOW
        keep = ~t4
        line, line_start, is_tagged, first_star = (
            line[keep],
            line_start[keep],
            is_tagged[keep],
            first_star[keep],
        )
        s, c3, c4, c5 = s[keep], c3[keep], c4[keep], c5[keep]
    star = c5 + 2
    body = np.stack((s + 1, star), axis=1)
    expected = (_HEX[data[star + 1]] << 4) | _HEX[data[star + 2]]
    tag_t, tag_station = _tags(data, line_start[is_tagged], first_star[is_tagged], commas)
    t = np.full(len(line), np.nan)
    t[is_tagged] = tag_t
    station = np.stack((line_start, line_start), axis=1)
    station[is_tagged] = tag_station
    p_t, p_station = _pghp(data, start[pghp], end[pghp], commas)
    return Shapes(
        data=data,
        start=start,
        end=end,
        kind=kind,
        line=line,
        body=body,
        count=data[s + 7].astype(np.int64) - 48,
        num=data[s + 9].astype(np.int64) - 48,
        fill=data[c5 + 1].astype(np.int64) - 48,
        ok=_xor(data, body) == expected,
        seq=np.stack((s + 11, c3), axis=1),
        chan=np.stack((c3 + 1, c4), axis=1),
        payload=np.stack((c4 + 1, c5), axis=1),
        tag_t=t,
        tag_station=station,
        pghp_line=pghp,
        pghp_t=p_t,
        pghp_station=p_station,
    )


def _matches(lines: pa.Array, pattern: str) -> np.ndarray:
    mask: np.ndarray = pc.match_substring_regex(lines, pattern).to_numpy(zero_copy_only=False)
    return mask


def _at(positions: np.ndarray, k: np.ndarray) -> np.ndarray:
    """positions[k], k clipped (rows of lines that hold those positions only are used)."""
    if len(positions) == 0:
        return np.zeros(len(k), np.int64)
    at: np.ndarray = positions[np.minimum(k, len(positions) - 1)]
    return at


def _xor(data: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """XOR of the bytes of each (start, end) range; ranges ascending and not overlapping."""
    if len(ranges) == 0:
        return np.zeros(0, np.uint8)
    idx = ranges.ravel()
    if idx[-1] >= len(data):  # reduceat needs indices inside the data; the last is an end
        data = np.concatenate((data, [0]))
    x: np.ndarray = np.bitwise_xor.reduceat(data, idx)[::2]
    return x


def digits(data: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Value of the decimal digits data[a:b] of each row (1 to 18 of them, checked before)."""
    text = gather(data, np.stack((a, b), axis=1))
    value: np.ndarray = pc.cast(text, pa.int64()).to_numpy()
    return value


def gather(data: np.ndarray, ranges: np.ndarray) -> pa.Array:
    """Arrow strings of the bytes of each (start, end) range of `data`, which must be ASCII
    (else see :func:`latin1`)."""
    lengths = ranges[:, 1] - ranges[:, 0]
    offsets = np.zeros(len(ranges) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = data[_spans(ranges[:, 0], lengths, offsets)]
    return pa.StringArray.from_buffers(
        len(ranges), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(values)
    )


def latin1(data: np.ndarray, ranges: np.ndarray) -> pa.Array:
    """Arrow strings of the bytes of each (start, end) range of `data` read as latin-1."""
    text = gather(data, ranges)
    raw = text.buffers()[2]
    if raw is None or np.frombuffer(raw, np.uint8).max(initial=0) < 0x80:
        return text
    as_bytes = text.view(pa.binary()).to_pylist()
    return pa.array([b.decode("latin-1") for b in as_bytes], pa.string())


#: 0, 1, 2, ... kept between calls: a fresh one per block costs page faults, not arithmetic.
_COUNTING = np.arange(0, dtype=np.int64)


def _spans(start: np.ndarray, lengths: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Indices of the bytes of every (start, length) span, one span after the other."""
    global _COUNTING
    total = int(offsets[-1])
    if len(_COUNTING) < total:
        _COUNTING = np.arange(max(total, 2 * len(_COUNTING)), dtype=np.int64)
    idx = np.repeat(start - offsets[:-1], lengths)
    idx += _COUNTING[:total]
    return idx


def _unix(v: np.ndarray) -> np.ndarray:
    """:func:`mda.sources.nmea.clock.unix_time` of integers: seconds, else milliseconds."""
    t = v.astype(np.float64)
    ms = t / 1000.0
    return np.where(_in_range(t), t, np.where(_in_range(ms), ms, OUT_OF_RANGE))


def _in_range(t: np.ndarray) -> np.ndarray:
    ok: np.ndarray = (t >= TIME_MIN_S) & (t < TIME_END_S)
    return ok


def _tags(
    data: np.ndarray, start: np.ndarray, star: np.ndarray, commas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Time and station range of tag blocks ``\\s:x,c:t*``, ``\\c:t,s:x*`` or ``\\c:t*``."""
    comma = _at(commas, np.searchsorted(commas, start))
    two = comma < star
    station_first = data[start + 1] == ord("s")
    t_from = np.where(station_first, comma + 3, start + 3)
    t_to = np.where(station_first | ~two, star, comma)
    st_from = np.where(station_first, start + 3, np.where(two, comma + 3, star))
    st_to = np.where(station_first, comma, star)
    return _unix(digits(data, t_from, t_to)), np.stack((st_from, st_to), axis=1)


def _pghp(
    data: np.ndarray, start: np.ndarray, end: np.ndarray, commas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Time (BAD_TIME, OUT_OF_RANGE as :func:`~mda.sources.nmea.clock.pghp_time`) and
    station range (field 11) of ``$PGHP,1,...`` lines."""
    k = np.searchsorted(commas, start)
    c = [_at(commas, k + j) for j in range(12)]
    fields = digits(data, np.concatenate(c[1:8]) + 1, np.concatenate(c[2:9]))
    y, m, d, h, mi, s, ms = fields.reshape(7, len(start))
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    dim = _DAYS_IN_MONTH[np.clip(m, 0, 12)] + (leap & (m == 2))
    good = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= dim)
    good &= (h < 24) & (mi < 60) & (s < 61) & (ms < 1000)
    day = _days_from_civil(y, m, d) * 86400.0
    t = day + h * 3600 + mi * 60 + s + ms / 1000
    t = np.where(good, np.where(_in_range(t), t, OUT_OF_RANGE), BAD_TIME)
    more = (k + 11 < len(commas)) & (c[11] < end)
    station_from = np.where(good, c[10] + 1, start)  # a bad time line names no station
    station = np.stack((station_from, np.where(good, np.where(more, c[11], end), start)), axis=1)
    return t, station


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days: np.ndarray = era * 146097 + doe - 719468
    return days
