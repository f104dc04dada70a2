"""Hostile input to the readers (issue 9): over-long and newline-free lines, truncated
compressed files, unreadable directories and broken links, bad times, fragment floods."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import sys
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from mda.errors import MdaError
from mda.sources import expand_inputs, nmea, read_ais
from mda.sources.base import MAX_LINE_BYTES, REJECT_REASONS, TIME_END_S, TIME_MIN_S
from mda.sources.csv import DMA_COLUMNS, NOAA_COLUMNS
from mda.store import Store

T1 = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"  # MMSI 366053209, a valid position
GOOD_T = 1_717_027_200  # 2024-05-30T00:00:00Z
ROW = (
    "15/10/2022 11:16:01,Class A,219000734,57.296787,10.922245,Under way using engine,0.0,0.0,"
    "210.3,180,9107370,OXXL,ANE LAESOE,Passenger,,15,54,GPS,2.9,LAESOE-FREDERIKSHAVN,"
    "22/07/2023 11:00:00,AIS,24,30,7,8"
)
NOAA_ROW = "367000001,{ts},33.7,-118.2,0.1,10.0,511,TEST,IMO1234567,WDA1,70,0,100,20,5,70,A"


def dma_rows(n: int, mmsi0: int = 219000000) -> list[str]:
    """n distinct valid DMA rows (one per MMSI)."""
    return [ROW.replace("219000734", str(mmsi0 + i)) for i in range(n)]


def tagged(t: str, body: str = T1) -> str:
    return f"\\s:r1,c:{t}*00\\{body}"


# -- finding 3: rows longer than a parse block, truncated compressed files ---------------------


@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress])
def test_csv_row_longer_than_a_parse_block_is_one_rejected_row(tmp_path, compress):
    rows = [*dma_rows(3), "x" * (3 << 20), *dma_rows(4, mmsi0=219100000)]
    text = (DMA_COLUMNS + "\n" + "\n".join(rows) + "\n").encode()
    p = tmp_path / "long.csv"
    p.write_bytes(compress(text) if compress else text)
    data = read_ais(p)
    rep = data.report
    assert len(data.positions) == 7  # the rows after the long one are read too
    assert rep.rejected["line_too_long"] == 1 and rep.rejected["malformed"] == 0
    assert any("line(s) longer than" in w and "lines 5)" in w for w in rep.warnings), rep.warnings
    assert rep.failed == {}


def test_csv_long_row_within_a_block_and_line_numbers_after_it(tmp_path):
    rows = [*dma_rows(2), "y" * (MAX_LINE_BYTES + 1), *dma_rows(2, 219100000)]
    rows.append(rows[0].replace("57.", "abc", 1))  # line 7: malformed, numbered past the cut
    p = tmp_path / "long.csv"
    p.write_text(DMA_COLUMNS + "\n" + "\n".join(rows) + "\n")
    rep = read_ais(p).report
    assert rep.rejected["line_too_long"] == 1
    assert f"{p}: 1 malformed row (lines 7)" in rep.warnings


def _truncated_gzip(tmp_path: Path, text: bytes, name: str) -> tuple[Path, Path]:
    whole = tmp_path / f"whole-{name}"
    whole.write_bytes(gzip.compress(text))
    cut = tmp_path / name
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) * 2 // 3])
    return cut, whole


@pytest.mark.parametrize("fmt", ["csv", "nmea"])
def test_truncated_gzip_keeps_rows_reports_failure_and_is_not_marked_ingested(tmp_path, fmt):
    if fmt == "csv":
        text = (DMA_COLUMNS + "\n" + "\n".join(dma_rows(20_000)) + "\n").encode()
    else:  # times a minute apart: every message is a new stored row
        text = "".join(f"{tagged(str(GOOD_T + 60 * i))}\n" for i in range(20_000)).encode()
    cut, whole = _truncated_gzip(tmp_path, text, f"day.{fmt}.gz")
    store = Store(tmp_path / "store")
    rep = store.ingest([str(cut)])
    assert 5_000 < rep.stored < 20_000  # what was read before the fault is kept
    assert rep.rejected["unreadable_file"] == 1
    assert str(cut) in rep.failed and "read error after line" in rep.failed[str(cut)]
    warning = next(w for w in rep.warnings if w.startswith(f"{cut}: read error"))
    assert "; kept the" in warning and "skipped" not in warning
    # the file was not recorded as ingested: once repaired, the rest is read
    cut.write_bytes(whole.read_bytes())
    again = store.ingest([str(cut)])
    assert again.failed == {} and rep.stored + again.stored == 20_000
    assert not any("same content" in w for w in again.warnings)
    assert store.ingest([str(cut)]).stored == 0  # and now it is recorded as seen


def test_truncated_nmea_gzip_keeps_messages_read_before_the_fault(tmp_path):
    text = "".join(f"{tagged(str(GOOD_T + i))}\n" for i in range(5_000)).encode()
    cut, _ = _truncated_gzip(tmp_path, text, "feed.nmea.gz")
    data = read_ais(cut)
    assert 1_000 < len(data.positions) < 5_000
    assert list(data.report.failed) == [str(cut)]


# -- finding 4: newline-free input -------------------------------------------------------------


def _gzip_without_newlines(path: Path, head: bytes, mib: int, tail: bytes, unit: str = T1) -> None:
    """`head`, then `mib` MiB of `unit` repeated with no newline, then `tail` (streamed)."""
    junk = (unit * (1 + (1 << 20) // len(unit))).encode()[: 1 << 20]
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(head)
        for _ in range(mib):
            f.write(junk)
        f.write(b"\n" + tail)


def _peak_mib(func) -> tuple[object, float, float]:
    """Result, peak traced Python memory (MiB) and seconds of func()."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak / (1 << 20), time.perf_counter() - t0


def test_newline_free_gzip_is_skipped_in_bounded_memory(tmp_path):
    p = tmp_path / "bomb.nmea.gz"
    before = "".join(f"{tagged(str(GOOD_T + i))}\n" for i in range(3)).encode()
    after = "".join(f"{tagged(str(GOOD_T + 10 + i))}\n" for i in range(4)).encode()
    _gzip_without_newlines(p, before, 200, after)
    data, peak, seconds = _peak_mib(lambda: read_ais(p))
    assert len(data.positions) == 7  # the good lines on both sides are read
    assert data.report.rejected["line_too_long"] == 1
    assert peak < 100, f"peak {peak:.0f} MiB for a 200 MiB line"
    assert seconds < 60


def test_newline_free_csv_gzip_is_skipped_in_bounded_memory(tmp_path):
    p = tmp_path / "bomb.csv.gz"
    head = (DMA_COLUMNS + "\n" + "\n".join(dma_rows(2)) + "\n").encode()
    tail = ("\n".join(dma_rows(3, 219100000)) + "\n").encode()
    _gzip_without_newlines(p, head, 100, tail, unit=ROW + ",")
    data, peak, _ = _peak_mib(lambda: read_ais(p))
    assert len(data.positions) == 5
    assert data.report.rejected["line_too_long"] == 1
    assert peak < 100, f"peak {peak:.0f} MiB for a 100 MiB row"


def test_newline_free_stdin_is_skipped_in_bounded_memory(monkeypatch, tmp_path):
    raw = tmp_path / "stdin.gz"
    _gzip_without_newlines(raw, (tagged(str(GOOD_T)) + "\n").encode(), 40, T1.encode() + b"\n")

    with open(raw, "rb") as f:  # stdin carries the gzip; the reader finds it by magic bytes

        class Stdin:
            buffer = io.BufferedReader(f)

        monkeypatch.setattr(sys, "stdin", Stdin)
        data, peak, _ = _peak_mib(lambda: read_ais("-"))
    assert len(data.positions) == 2  # the last sentence takes the clock of the first
    assert data.report.rejected["line_too_long"] == 1
    assert peak < 60, f"peak {peak:.0f} MiB for a 40 MiB line"


def test_long_items_of_a_line_iterable_are_skipped():
    data = read_ais(iter([tagged(str(GOOD_T)), "!" * (MAX_LINE_BYTES + 1), T1]))
    assert len(data.positions) == 2
    assert data.report.rejected["line_too_long"] == 1


def test_long_nmea_line_inside_a_block_is_cut(tmp_path):
    p = tmp_path / "long.nmea"
    long = ("\\c:" + str(GOOD_T) + "*00\\" + T1) * (MAX_LINE_BYTES // 40)
    p.write_text("\n".join([tagged(str(GOOD_T)), long, T1]) + "\n")
    rep = read_ais(p).report
    assert rep.rejected["line_too_long"] == 1 and rep.positions == 2
    assert any("lines 2)" in w for w in rep.warnings)


# -- finding 5: unreadable directories and broken links ----------------------------------------


def _tree(tmp_path: Path) -> Path:
    top = tmp_path / "in"
    (top / "ok").mkdir(parents=True)
    (top / "locked").mkdir()
    (top / "ok" / "a.nmea").write_text(tagged(str(GOOD_T)) + "\n")
    (top / "locked" / "b.nmea").write_text(tagged(str(GOOD_T + 1)) + "\n")
    (top / "gone.nmea").symlink_to(tmp_path / "nowhere.nmea")
    return top


def _deny(monkeypatch, denied: Path) -> None:
    """os.scandir raises PermissionError for `denied` (tests run as root, chmod stops nobody)."""
    real = os.scandir

    def scandir(path="."):
        if Path(path) == denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_unreadable_subdirectory_and_broken_link_are_reported(tmp_path, monkeypatch):
    top = _tree(tmp_path)
    _deny(monkeypatch, top / "locked")
    data = read_ais(top)
    rep = data.report
    assert len(data.positions) == 1
    assert rep.rejected["unreadable_file"] == 2
    assert rep.failed[str(top / "locked")] == "permission denied"
    assert rep.failed[str(top / "gone.nmea")].startswith("broken symbolic link to ")
    assert any(w.startswith(f"{top / 'locked'}: skipped") for w in rep.warnings)


def test_unreadable_top_directory_names_it(tmp_path, monkeypatch):
    top = _tree(tmp_path)
    _deny(monkeypatch, top)
    with pytest.raises(MdaError, match=rf"^{top}: permission denied$"):
        read_ais(top)
    with pytest.raises(MdaError, match="permission denied"):
        Store(tmp_path / "s").ingest([str(top)])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory whatever its mode")
def test_unreadable_subdirectory_by_mode(tmp_path):
    top = _tree(tmp_path)
    (top / "locked").chmod(0)
    try:
        rep = read_ais(top).report
    finally:
        (top / "locked").chmod(0o755)
    assert "permission denied" in rep.failed[str(top / "locked")]


def test_directory_link_loop_is_walked_once(tmp_path):
    top = _tree(tmp_path)
    (top / "ok" / "loop").symlink_to(top, target_is_directory=True)
    found = [str(x) for x in expand_inputs(str(top))]
    assert found.count(str(top / "ok" / "a.nmea")) == 1


def test_store_ingest_of_a_directory_reports_what_it_could_not_read(tmp_path, monkeypatch):
    top = _tree(tmp_path)
    _deny(monkeypatch, top / "locked")
    rep = Store(tmp_path / "s").ingest([str(top)])
    assert rep.stored == 1 and set(rep.failed) == {str(top / "locked"), str(top / "gone.nmea")}


# -- finding 8: times --------------------------------------------------------------------------


def test_accepted_time_range_is_declared_once():
    assert pd.Timestamp(TIME_MIN_S, unit="s") == pd.Timestamp("2000-01-01")
    assert pd.Timestamp(TIME_END_S, unit="s") == pd.Timestamp("2100-01-01")
    for reason in ("time_out_of_range", "invalid_date", "bad_tag_time", "line_too_long"):
        assert reason in REJECT_REASONS


@pytest.mark.parametrize(
    ("layout", "bad_date", "dates"),
    [
        ("dma", "30/02/2023 01:00:00", ["31/12/1969 23:59:59", "01/01/2100 00:00:00"]),
        ("noaa", "2023-02-30T01:00:00", ["1969-12-31T23:59:59", "2100-01-01T00:00:00"]),
    ],
)
def test_csv_impossible_dates_and_times_out_of_range_are_rejected(
    tmp_path, layout, bad_date, dates
):
    if layout == "dma":
        good = "28/02/2023 01:00:00"
        rows = [ROW.replace("15/10/2022 11:16:01", t) for t in (good, bad_date, *dates)]
        header = DMA_COLUMNS
    else:
        good = "2023-02-28T01:00:00"
        rows = [NOAA_ROW.format(ts=t) for t in (good, bad_date, *dates)]
        header = NOAA_COLUMNS
    p = tmp_path / f"{layout}.csv"
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    data = read_ais(p)
    assert data.positions["ts"].tolist() == [pd.Timestamp("2023-02-28T01:00:00Z")]
    assert data.report.rejected["invalid_date"] == 1
    assert data.report.rejected["time_out_of_range"] == 2
    assert data.report.last_ts == pd.Timestamp("2023-02-28T01:00:00Z")  # no 2100 in the span


@pytest.mark.parametrize(
    ("c", "reason"),
    [
        ("0", "time_out_of_range"),
        ("4102444800", "time_out_of_range"),  # 2100-01-01
        ("253402300800", "time_out_of_range"),  # year 10000 in s; 1978 in ms: not a time here
        ("946684799", "time_out_of_range"),  # one second before 2000
        ("abc", "bad_tag_time"),
        ("", "bad_tag_time"),
    ],
)
def test_bad_tag_block_time_never_takes_the_previous_time(c, reason):
    data = read_ais([tagged(str(GOOD_T)), tagged(c), T1])
    # the untagged sentence after takes the clock; the bad one is rejected, not re-timed
    assert data.positions["ts"].tolist() == [pd.Timestamp(GOOD_T, unit="s", tz="UTC")] * 2
    assert data.report.rejected[reason] == 1


@pytest.mark.parametrize(
    "odd",
    [f"\\s:r1,c:\\*00\\{T1}", f"2*00\\{T1}", f"\\c:\\\\*00\\{T1}"],
    ids=["backslash-in-value", "cut-short", "empty-block-after"],
)
def test_broken_tag_block_is_a_bad_time_not_the_previous_one(odd):
    data = read_ais([tagged(str(GOOD_T)), odd])
    assert len(data.positions) == 1 and data.report.rejected["bad_tag_time"] == 1


def test_two_tag_blocks_before_a_sentence_are_both_read():
    data = read_ais([f"\\g:1-2-3*00\\\\s:r9,c:{GOOD_T}*00\\{T1}"])
    assert data.positions["ts"].tolist() == [pd.Timestamp(GOOD_T, unit="s", tz="UTC")]
    assert data.positions["station"].tolist() == ["r9"]


@pytest.mark.parametrize(
    ("c", "expected"),
    [("946684800", "2000-01-01T00:00:00Z"), ("1717027200123", "2024-05-30T00:00:00.123Z")],
)
def test_tag_block_seconds_or_milliseconds_by_range(c, expected):
    assert read_ais([tagged(c)]).positions["ts"].tolist() == [pd.Timestamp(expected)]


def test_out_of_range_prefix_and_pghp_times_are_rejected():
    pghp_bad = "$PGHP,1,2100,1,1,0,0,0,0,219,0,2190047,1,00*00"
    pghp_junk = "$PGHP,1,2024,2,30,0,0,0,0,219,0,2190047,1,00*00"
    data = read_ais([tagged(str(GOOD_T)), f"1969-07-20T20:17:00 {T1}", pghp_bad, T1, pghp_junk, T1])
    assert data.positions.empty is False and len(data.positions) == 1
    assert data.report.rejected["time_out_of_range"] == 2
    assert data.report.rejected["bad_tag_time"] == 1


def test_start_time_out_of_range_is_rejected():
    rep = read_ais([T1], start_time="1990-01-01").report
    assert rep.positions == 0 and rep.rejected["time_out_of_range"] == 1


# -- resource bounds: fragments ----------------------------------------------------------------


def test_unmatched_first_halves_cannot_grow_the_fragment_buffer():
    first_half = "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C"
    n = nmea.MAX_PENDING_MESSAGES + 500
    feed = [f"\\g:1-2-{i},c:{GOOD_T}*00\\{first_half}" for i in range(n)]
    decoder = nmea.NmeaDecoder("flood")
    # within one batch the count bounds them (the lag is checked once per batch) ...
    rep = decoder.decode(feed).report
    assert rep.rejected["fragment_overflow"] == 500
    # ... and at its end the lag: all but the last MAX_FRAGMENT_LAG are stale
    assert rep.rejected["incomplete_multipart"] == nmea.MAX_PENDING_MESSAGES - nmea.MAX_FRAGMENT_LAG
    assert len(decoder.pending) == nmea.MAX_FRAGMENT_LAG
