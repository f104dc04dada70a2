"""NMEA framing and reassembly: the vectorised block path equals the line-by-line Python path.

The block path (mda.sources.nmea.shapes and Framer.scan_block) parses the common line shapes
for a whole block at once and hands every other line to the Python path with the clock and
$PGHP station the lines before it left; Framer.scan reads lines one by one. Both must give the
same sentences, times, stations, counts and clock, on every real sample and on hostile lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED

from mda.sources.base import IngestReport
from mda.sources.nmea import NmeaDecoder, shapes
from mda.sources.nmea.framing import Framer, Sentences
from mda.sources.nmea.reassembly import Reassembler

START_S = pd.Timestamp("2024-05-30T00:00:00Z").timestamp()
T1 = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
T5 = (
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
)


def _cs(text: str) -> str:
    x = 0
    for ch in text.encode("latin-1"):
        x ^= ch
    return f"{x:02X}"


def tagged(tag: str, sentence: str) -> str:
    return f"\\{tag}*{_cs(tag)}\\{sentence}"


def blocks(data: bytes, size: int) -> list[bytes]:
    """`data` cut into blocks of whole lines of about `size` bytes (the last may be unended)."""
    out, at = [], 0
    while at < len(data):
        end = data.rfind(b"\n", at, at + size) + 1
        if end <= at:
            nl = data.find(b"\n", at + size)
            end = len(data) if nl < 0 else nl + 1
        out.append(data[at:end])
        at = end
    return out


def assert_same(a: Sentences, b: Sentences) -> None:
    for name in ("ok", "count", "num", "fill", "frag"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.t, b.t, equal_nan=True)
    assert a.payload.to_pylist() == b.payload.to_pylist()
    assert a.station.to_pylist() == b.station.to_pylist()
    assert a.frag_key.to_pylist() == b.frag_key.to_pylist()
    assert a.frag_group == b.frag_group


def assert_block_path_is_line_path(data: bytes, start: float | None, size: int) -> None:
    fast, slow = Framer(start), Framer(start)
    for block in blocks(data, size):
        lines = block.decode("latin-1").split("\n")
        if not lines[-1]:
            lines.pop()
        ra, rb = IngestReport(), IngestReport()
        assert_same(fast.scan_block(block, ra), slow.scan(lines, rb))
        assert ra.lines == len(lines)
        assert (ra.sentences, ra.rejected) == (rb.sentences, rb.rejected)
        assert fast.clock == slow.clock
        assert fast.pghp_station == slow.pghp_station


SAMPLES = sorted(p for p in (SHARED / "nmea").rglob("*") if p.is_file()) if SHARED.is_dir() else []


@pytest.mark.skipif(not SAMPLES, reason=f"real public samples not found at {SHARED}")
@pytest.mark.parametrize("start", [None, START_S])
def test_block_path_equals_line_path_on_every_sample(start):
    for path in SAMPLES:
        data = path.read_bytes()
        assert_block_path_is_line_path(data, start, 1 << 14)


HOSTILE = [
    T1,
    T1 + "\r",
    T1 + "\r\r",
    "!\xa0IVDM" + T1[6:],  # Python's \s takes NBSP: not a talker
    "!=IVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",  # garbled talker, checksum decides
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4a",
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,6*4A",
    tagged("c:1717027200", T1),
    tagged("c:1717027200123", T1),
    tagged("c:99999999999", T1),  # neither seconds nor milliseconds in range
    tagged("s:r3669,c:1717027200", T1),
    tagged("c:1717027200,s:x\xe9", T1),
    tagged("s:,c:1717027200", T1),
    tagged("c:1717027200", T1) + ",1717027300",  # a trailer: the Python path
    tagged("c:1717027200,g:1-2-7", T5[0]),
    tagged("c:1717027201,g:2-2-7", T5[1]),
    "$PGHP,1,2024,5,30,1,2,3,456,219,0,2190047,1,2B*5B",
    "$PGHP,1,2024,2,30,1,2,3,456,219,0,2190047,1,2B*5B",  # no 30 February: bad time
    "$PGHP,1,2023,2,29,1,2,3,456,219,0,2190047",
    "$PGHP,1,2024,2,29,23,59,60,999,219,0,2190047\r",  # CR: no station
    "$PGHP,1,1999,12,31,23,59,59,0,219,0,7",  # out of range
    "$PGHP,1,2024,5,30,1,2,3,456,219,0,²",
    "$PGHP,2,2024,5,30,1,2,3,456",
    "$GPRMC,010203,A,4807.038,N,01131.000,E,022.4,084.4,300524,003.1,W*6A",
    "1717027200 " + T1,
    "2024-05-30T00:00:05 " + T1 + " " + T1,
    "!AIVDM,1,1,,A,402=481uaUcf;OQ55JS9ITi025Jp,0*2B",  # type 4: moves a --start-time clock
    "!AIVDM,1,1,,A,,0*" + _cs("AIVDM,1,1,,A,,0"),
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ",
    "garbage, with commas, * and ! in it",
    "",
    T5[0],
    T5[1],
]


@pytest.mark.parametrize("start", [None, START_S])
def test_block_path_equals_line_path_on_hostile_lines(start):
    rng = np.random.default_rng(13)
    for _ in range(40):
        lines = [HOSTILE[i] for i in rng.integers(0, len(HOSTILE), rng.integers(1, 60))]
        data = "\n".join(lines).encode("latin-1") + b"\n" * int(rng.integers(0, 2))
        assert_block_path_is_line_path(data, start, int(rng.choice([40, 200, 1 << 16])))


def test_a_bad_pghp_time_names_no_station_and_the_clock_carries_it():
    data = "\n".join(["$PGHP,1,2024,2,30,1,2,3,456,219,0,2190047", T1]).encode() + b"\n"
    s = Framer(None).scan_block(data, IngestReport())
    assert s.t.tolist() == [-1.0]  # BAD_TIME: present but unusable, never an earlier time
    assert s.station.to_pylist() == [""]


def test_lines_of_counts_lines_as_split_does():
    for block in (b"", b"\n", b"a", b"a\n", b"a\n\n", b"a\r\nb", b"\n\n\n"):
        _, start, end = shapes.lines_of(block)
        want = block.decode().split("\n")
        if not want[-1]:
            want.pop()
        assert [block[a:b].decode() for a, b in zip(start, end, strict=True)] == want


def test_text_lines_and_blocks_decode_the_same():
    lines = ["$PGHP,1,2024,5,30,1,2,3,456,219,0,2190047", *T5, T1, "", "x"]
    a = NmeaDecoder("x").decode(lines)
    b = NmeaDecoder("x").decode_block(("\n".join(lines) + "\n").encode())
    assert a.report.lines == b.report.lines == len(lines)
    assert a.statics.equals(b.statics) and a.positions.equals(b.positions)
    # lines beyond latin-1 are read one by one, with the same effect on what is latin-1
    c = NmeaDecoder("x").decode([*lines, "\u20ac"])
    assert c.positions.equals(a.positions) and c.report.lines == len(lines) + 1


def _assemble(lines: list[str], r: Reassembler | None = None) -> tuple:
    r = r or Reassembler()
    report = IngestReport()
    data = ("\n".join(lines) + "\n").encode()
    m = r.assemble(Framer(START_S).scan_block(data, report), report)
    return m.payload.to_pylist(), report.rejected["incomplete_multipart"], r


def test_two_parts_in_a_row_are_joined():
    payloads, dropped, r = _assemble([T1, T5[0], T5[1], T1])
    assert dropped == 0 and not r.pending
    assert payloads[2] == T5[0].split(",")[5] + T5[1].split(",")[5]  # after the singles


def test_a_pair_whose_key_is_waiting_goes_through_the_dictionary():
    # a first half already waiting under the same key is dropped when the next first half
    # arrives, and the new pair is joined: as the dictionary alone does it
    payloads, dropped, r = _assemble([T5[0], T1, T5[0], T5[1]])
    assert dropped == 1 and len(payloads) == 2 and not r.pending
    # a second half waiting from an earlier batch completes with the next first half
    _, _, r = _assemble([T5[1]])
    payloads, dropped, r = _assemble([T5[0], T5[1]], r)
    assert len(payloads) == 1 and dropped == 0 and len(r.pending) == 1
