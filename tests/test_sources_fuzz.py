"""Property-based robustness: random and mutated input never raises, every line is counted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mda.sources import read_ais
from mda.sources.base import REJECT_REASONS

START = pd.Timestamp("2024-05-30T00:00:00Z")

# Real sentences (DMA stream example, gpsd sample, tag-block feeds) to mutate.
REAL = [
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
    "!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B",
    "!AIVDM,1,1,,A,33nr7t001f13KNTOahh2@QpF00vh,0*58",
    "\\s:42809,c:1635731889,t:1635731965*6A\\!AIVDM,1,1,,,403t>B1vFhQr5`NonbBw?>G00<0n,0*7B",
    "\\g:1-2-1278,s:66,c:1661782369*43\\!AIVDM,2,1,3,A,56=nR7D00003A<I@E=@TmDh637OS60mA:222220N1"
    "@6427?P00888888,0*66",
    "\\g:2-2-1278*51\\!AIVDM,2,2,3,A,888888888888880,2*27",
    "$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B",
    "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30,d-080,S2118,t050056.00,T56.4837741,"
    "r003669946,1325394060,1325394001",
    "!AIVDM,1,1,,B,B>cSnNP00FVur7UaC7WQ3wS1jCJJ,0*73",
    "!AIVDM,1,1,,B,H>cSnNP@4eEL544000000000000,0*3E",
]

_CHARS = st.sampled_from(list("!$\\*,:-0123456789ABCDEFVMOabw@` \t\r"))


@st.composite
def mutated(draw) -> str:
    """A real sentence flipped, truncated, re-checksummed wrongly or given a junk tag block."""
    line = draw(st.sampled_from(REAL))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "checksum", "tag", "dup"]))
        if not line:
            break
        i = draw(st.integers(0, len(line) - 1))
        if op == "flip":
            line = line[:i] + draw(_CHARS) + line[i + 1 :]
        elif op == "cut":
            line = line[:i]
        elif op == "insert":
            line = line[:i] + draw(st.text(_CHARS, max_size=5)) + line[i:]
        elif op == "checksum" and "*" in line:
            line = line[: line.rindex("*") + 1] + draw(st.sampled_from(["00", "ZZ", "", "7"]))
        elif op == "tag":
            line = "\\" + draw(st.text(_CHARS, max_size=20)) + "\\" + line
        else:
            line = line + line
    return line


def _expected_lines(items: list[str]) -> int:
    return sum(len(s.rstrip("\n").split("\n")) for s in items)


def _check(data, n_lines: int) -> None:
    r = data.report
    assert r.lines == n_lines
    assert set(r.rejected) <= set(REJECT_REASONS)
    sentence_level = ("bad_checksum", "malformed", "incomplete_multipart")
    assert r.sentences >= sum(r.rejected[k] for k in sentence_level)
    assert sum(r.messages.values()) <= r.sentences
    _check_tables(data)


def _check_tables(data) -> None:
    """What reaches the tables, whatever the input format: no sentinel, no untimed row."""
    pos = data.positions
    assert pos["lat"].between(-90, 90).all() and pos["lon"].between(-180, 180).all()
    assert not ((pos["lat"] == 91) | (pos["lon"] == 181)).any()
    assert not (pos["sog"] > 102.25).any()
    assert not (pos["cog"] >= 360).any() and not (pos["heading"] > 359).any()
    assert (pos["mmsi"] > 0).all() and pos["ts"].notna().all()
    for frame in (data.positions, data.aux, data.statics):
        assert frame["ts"].notna().all()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=1, max_size=30), st.booleans())
def test_mutated_real_sentences_never_raise(items, with_start):
    data = read_ais(iter(items), start_time=START if with_start else None)
    _check(data, _expected_lines(items))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=120), min_size=1, max_size=20))
def test_random_byte_lines_never_raise(items):
    items = [b if not b.endswith(b"\n") else b[:-1] for b in items]
    data = read_ais(iter(items), start_time=START)
    _check(data, _expected_lines([b.decode("latin-1") for b in items]))


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=2000))
def test_random_file_never_raises_more_than_a_one_line_error(tmp_path_factory, blob):
    from mda.errors import MdaError

    path = tmp_path_factory.mktemp("fuzz") / "blob"
    path.write_bytes(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n" + blob)
    try:
        data = read_ais(path)
    except MdaError as e:  # only when the whole file is unreadable
        assert "\n" not in str(e)
        return
    text = path.read_bytes()
    expected = text.count(b"\n") + (0 if text.endswith(b"\n") else 1)
    _check(data, expected)


def test_valid_positions_never_carry_sentinels_on_real_sentences():
    data = read_ais(REAL * 3, start_time=START)
    assert len(data.positions) >= 6
    sog = data.positions["sog"].to_numpy(np.float64)
    assert not any(math.isclose(v, 102.3, abs_tol=1e-3) for v in sog if not math.isnan(v))
    _check(data, len(REAL) * 3)


# -- CSV rows and tag-block times --------------------------------------------------------------

NOAA_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,"
    "Width,Draft,Cargo,TransceiverClass"
)
NOAA_ROW = [
    "367752440",
    "2023-01-11T00:00:00",
    "43.07917",
    "-70.75733",
    "0.0",
    "360.0",
    "95.0",
    "SAN JOSE",
    "",
    "WDI9818",
    "31",
    "0.0",
    "",
    "",
    "",
    "52.0",
    "A",
]
_ODD_VALUES = st.sampled_from(
    [
        "",
        "nan",
        "-0",
        "1e400",
        "-1e400",
        "inf",
        "1e19",
        "4294967296",
        "91",
        "181",
        "511",
        "102.3",
        "2023-02-30T00:00:00",
        "1969-12-31T23:59:59",
        "2100-01-01T00:00:00",
        "9999-12-31T23:59:59",
        '"a\nb"',
        "\r",
        "=1+1",
        "\ufeff1",
        "abc",
        " 12 ",
    ]
)


@st.composite
def noaa_rows(draw) -> str:
    """The real row with fields replaced by odd values, columns dropped or added."""
    fields = list(NOAA_ROW)
    for _ in range(draw(st.integers(0, 4))):
        fields[draw(st.integers(0, len(fields) - 1))] = draw(_ODD_VALUES | st.text(max_size=8))
    cut = draw(st.integers(0, 3))
    fields = fields[: len(fields) - cut] if cut < 3 else [*fields, *draw(st.lists(_ODD_VALUES))]
    return ",".join(fields)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(noaa_rows(), min_size=1, max_size=20), st.booleans())
def test_mutated_csv_rows_never_raise_and_keep_only_valid_times(tmp_path_factory, rows, bom):
    from mda.sources.base import TIME_END_S, TIME_MIN_S

    path = tmp_path_factory.mktemp("csv") / "rows.csv"
    text = ("\ufeff" if bom else "") + "\n".join([NOAA_HEADER, *rows]) + "\n"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    data = read_ais(path)
    _check_tables(data)
    assert set(data.report.rejected) <= set(REJECT_REASONS)
    assert len(data.positions) + sum(data.report.rejected.values()) >= 1
    ts = data.positions["ts"]
    lo, end = (pd.Timestamp(t, unit="s", tz="UTC") for t in (TIME_MIN_S, TIME_END_S))
    assert ((ts >= lo) & (ts < end)).all()


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.integers(-(10**20), 10**20).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(st.characters(blacklist_characters="\\*,\n"), max_size=12),
    )
)
def test_any_tag_block_time_is_used_in_range_or_rejected_by_reason(value):
    """c: of any value: the message is kept with a time in [2000, 2100) or counted as a bad or
    out-of-range time; it never takes another message's time."""
    from mda.sources.base import TIME_END_S, TIME_MIN_S

    good = "\\c:1635731889*00\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
    odd = f"\\c:{value}*00\\!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B"
    data = read_ais([good, odd])
    r = data.report
    kept = len(data.positions) + len(data.aux)
    timing = r.rejected["bad_tag_time"] + r.rejected["time_out_of_range"]
    assert kept + timing + r.rejected["malformed"] + r.rejected["decode_error"] == 2
    for frame in (data.positions, data.aux):
        secs = frame["ts"].astype("int64") / 1e9
        assert ((secs >= TIME_MIN_S) & (secs < TIME_END_S)).all()
    if len(data.aux):  # the type 4 kept: with its own time, not the first line's
        assert data.aux["ts"].iloc[0] != data.positions["ts"].iloc[0] or value.strip() in (
            "1635731889",
        )
