"""DMA and MarineCadastre CSV readers: layouts, dates, sentinels, statics, bad rows."""

from __future__ import annotations

import gzip
import io
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import shared_file

from mda.cli import main
from mda.errors import MdaError
from mda.sources import csv as csv_module
from mda.sources import read_ais
from mda.sources.base import IngestReport, concat
from mda.sources.csv import (
    DMA_COLUMNS,
    NOAA_COLUMNS,
    NOAA_CORE_COLUMNS,
    UNKNOWN_CLASS,
    _prefetch,
    iter_csv,
    sniff,
)

FERRY = "positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv"
CLEAN_DF = "positions/dma_dipaal_clean_df_2021-09-07_modified.csv"
NOAA_1000 = "positions/marinecadastre_aisdb_2023-01-11_1000rows.csv"
NOAA_GZ = "positions/marinecadastre_AIS_2022_01_03_first99999rows.csv.gz"
LA_DAY = "positions/marinecadastre_2020-01-01_la_longbeach_fullday.csv.gz"
#: Rows of the 11-column MarineCadastre layout, as the LA/Long Beach day writes them.
NOAA11_ROWS = (
    "366562000,2020-01-01T00:00:00,33.76799,-118.22104,1.4,69.6,246.0,MANOA,IMO7907984,KDBG,70.0",
    "366562000,2020-01-01T00:10:00,33.77100,-118.21900,1.2,60.0,240.0,MANOA,IMO7907984,KDBG,70.0",
    "367507960,2020-01-01T00:00:00,33.77183,-118.21167,0.0,261.1,511.0,185 3,,WDF9705,90.0",
    "367507960,2020-01-01T00:05:00,33.77183,-118.21167,102.3,360.0,511.0,185 3,,WDF9705,90.0",
)

ROW = (
    "15/10/2022 11:16:01,Class A,219000734,57.296787,10.922245,Under way using engine,0.0,0.0,"
    "210.3,180,9107370,OXXL,ANE LAESOE,Passenger,,15,54,GPS,2.9,LAESOE-FREDERIKSHAVN,"
    "22/07/2023 11:00:00,AIS,24,30,7,8"
)


def read(source, layout: str, **kw):
    """All chunks of one CSV concatenated, with the merged report."""
    return concat(list(iter_csv(source, layout, source_name="test.csv", **kw)))


def dma_file(tmp_path: Path, rows: list[str], name: str = "dma.csv") -> Path:
    p = tmp_path / name
    p.write_text(DMA_COLUMNS + "\n" + "\n".join(rows) + "\n")
    return p


def dma_row(**changes: str) -> str:
    """ROW with some named fields replaced."""
    fields = dict(zip(DMA_COLUMNS.split(","), ROW.split(","), strict=True))
    for k, v in changes.items():
        fields[{"ts": "# Timestamp"}.get(k, k)] = v
    return ",".join(fields.values())


def test_sniff_layouts():
    assert sniff(DMA_COLUMNS) == "dma"
    assert sniff(DMA_COLUMNS.removeprefix("# ")) == "dma"
    assert sniff("\ufeff" + DMA_COLUMNS + ",geometry,index_right\r\n") == "dma"
    assert sniff(NOAA_COLUMNS) == "noaa"
    assert sniff(NOAA_COLUMNS.lower()) == "noaa"
    assert sniff(NOAA_CORE_COLUMNS + "\r\n") == "noaa"  # the 11-column layout
    assert sniff(NOAA_CORE_COLUMNS.removesuffix(",VesselType")) is None
    assert sniff("MMSI,BaseDateTime,LAT") is None
    assert sniff("!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26") is None


def test_dma_ferry(shared_data):
    data = read(shared_file(FERRY), "dma")
    pos, rep = data.positions, data.report
    assert len(pos) == 735  # the exact duplicate row is the store's business
    assert rep.messages == {"csv:dma": 735}
    assert sum(rep.rejected.values()) == 0
    assert pos["ts"].min() == pd.Timestamp("2022-10-15 11:16:01", tz="UTC")
    assert pos["ts"].max() == pd.Timestamp("2022-10-15 13:02:58", tz="UTC")
    assert (pos["ts"].dt.month == 10).all() and (pos["ts"].dt.day == 15).all()
    assert pos["lat"].between(57.29, 57.44).all() and pos["lon"].between(10.53, 10.93).all()
    assert pos["sog"].max() == pytest.approx(11.6)
    assert set(pos["msg_type"]) == {1} and set(pos["source"]) == {"test.csv"}
    assert str(pos["ts"].dtype) == "datetime64[ns, UTC]" and pos["mmsi"].dtype == np.uint32
    # static data repeat on all 735 rows but never change: one static row
    st = data.statics
    assert len(st) == 1
    v = st.iloc[0]
    assert (v["mmsi"], v["imo"], v["name"], v["callsign"]) == (
        219000734,
        9107370,
        "ANE LAESOE",
        "OXXL",
    )
    assert (v["ship_type"], v["length"], v["width"]) == (60, 54, 15)
    assert v["draught"] == pytest.approx(2.9) and v["destination"] == "LAESOE-FREDERIKSHAVN"
    assert v["ais_class"] == "A"


def test_dma_day_first(tmp_path):
    rows = [dma_row(ts="01/02/2022 00:00:05"), dma_row(ts="12/01/2022 23:59:59")]
    pos = read(dma_file(tmp_path, rows), "dma").positions
    assert list(pos["ts"]) == [
        pd.Timestamp("2022-02-01 00:00:05", tz="UTC"),
        pd.Timestamp("2022-01-12 23:59:59", tz="UTC"),
    ]


def test_times_outside_ais_years_are_rejected_by_reason_not_fatal(tmp_path):
    rows = [dma_row(ts="01/01/0001 00:00:00"), dma_row(), dma_row(ts="01/01/2300 00:00:00")]
    data = read(dma_file(tmp_path, rows), "dma")
    assert len(data.positions) == 1 and data.report.rejected["time_out_of_range"] == 2
    assert data.report.rejected["malformed"] == 0


def test_dma_extra_columns_and_floats(shared_data):
    data = read(shared_file(CLEAN_DF), "dma")
    pos = data.positions
    assert len(pos) == 99 and pos["mmsi"].nunique() == 63
    assert (pos["msg_type"] == 18).sum() == 3
    assert (pos.loc[pos["msg_type"] == 18, "nav_status"] == 15).all()  # Class B: not defined
    first = pos.iloc[0]
    assert (first["mmsi"], first["heading"], first["nav_status"]) == (220099000, 220.0, 7)
    st = data.statics.set_index("mmsi")
    assert st.loc[220099000, "ship_type"] == 30  # "Fishing"
    assert pd.isna(st.loc[220099000, "imo"])  # "Unknown"
    assert st.loc[220099000, "width"] == 6.0  # written as 6.0


def test_dma_navigational_status_text(tmp_path):
    texts = ["At anchor", "Moored", "Restricted maneuverability", "Unknown value", "AIS-SART"]
    rows = [
        dma_row(**{"Navigational status": t, "MMSI": str(219000001 + i)})
        for i, t in enumerate(texts)
    ]
    pos = read(dma_file(tmp_path, rows), "dma").positions
    assert list(pos["nav_status"]) == [1, 5, 3, 15, 14]


def test_dma_non_vessels_go_to_aux(tmp_path):
    rows = [
        dma_row(**{"Type of mobile": "Base Station", "MMSI": "2190047", "Name": "Unknown"}),
        dma_row(**{"Type of mobile": "AtoN", "MMSI": "992191234", "Name": "BUOY 7"}),
        dma_row(**{"Type of mobile": "Class B", "MMSI": "219999999"}),
    ]
    data = read(dma_file(tmp_path, rows), "dma")
    assert list(data.positions["mmsi"]) == [219999999]
    assert list(data.positions["msg_type"]) == [18]
    aux = data.aux.set_index("mmsi")
    assert aux.loc[2190047, "msg_type"] == 4 and aux.loc[2190047, "name"] == ""
    assert aux.loc[992191234, "msg_type"] == 21 and aux.loc[992191234, "name"] == "BUOY 7"
    assert list(data.statics["mmsi"]) == [219999999]


def test_noaa_1000(shared_data):
    data = read(shared_file(NOAA_1000), "noaa")
    pos = data.positions
    assert len(pos) == 1000 and pos["mmsi"].nunique() == 1000
    assert data.report.messages == {"csv:noaa": 1000}
    assert pos["heading"].isna().sum() == 426  # Heading 511
    assert (pos["msg_type"] == 18).sum() == 46
    assert pos["ts"].min() == pd.Timestamp("2023-01-11 00:00:00", tz="UTC")
    first = pos.iloc[0]
    assert first["mmsi"] == 367752440 and np.isnan(first["cog"])  # COG 360 = not available
    st = data.statics.set_index("mmsi")
    assert st.loc[636021061, "imo"] == 9307839  # "IMO9307839"
    assert st.loc[636021061, "name"] == "MSC NAISHA III"
    assert pd.isna(st.loc[367752440, "length"])  # empty


def test_noaa_gz_chunks_and_order(shared_data):
    path = shared_file(NOAA_GZ)
    whole = read(path, "noaa")
    chunks = list(iter_csv(path, "noaa", source_name="gz", chunk_rows=10_000))
    assert len(chunks) == 10
    merged = IngestReport()
    for c in chunks:
        merged.merge(c.report)
    assert merged.messages == whole.report.messages == {"csv:noaa": 99_999}
    assert merged.lines == 100_000
    pos = whole.positions
    assert merged.positions == len(pos) == 99_994
    assert whole.report.rejected["invalid_mmsi"] == 5  # MMSI 1072211352 has ten digits
    end_of_day = pos["ts"] > pd.Timestamp("2022-01-03 00:25:16", tz="UTC")
    assert end_of_day.sum() == 352  # the file is not time-sorted
    assert pos["ts"].max() == pd.Timestamp("2022-01-03 23:59:59", tz="UTC")
    assert pos["heading"].isna().sum() == 52_249 + 6  # 511, and 6 rows with an impossible 360
    assert (pos["msg_type"] == 18).sum() == 23_805 - 5  # the five ten-digit MMSI rows are B
    # a static row per vessel and chunk at most, not per row
    assert whole.report.mmsis == set(pos["mmsi"])
    assert len(whole.statics) < 11_000


def test_file_objects_plain_and_gzip(shared_data):
    path = shared_file(NOAA_1000)
    raw = path.read_bytes()
    for blob in (raw, gzip.compress(raw)):
        data = read(io.BytesIO(blob), "noaa")
        assert len(data.positions) == 1000
    with open(path, "rb") as f:
        assert len(read(f, "noaa", chunk_rows=300).positions) == 1000


def test_sentinels_and_ranges(tmp_path):
    rows = [
        dma_row(SOG="102.3", COG="360", Heading="511"),
        dma_row(Latitude="91", Longitude="181", MMSI="219000002"),
        dma_row(MMSI="0"),
        dma_row(MMSI="1234567890"),
        dma_row(Latitude="0", Longitude="0", MMSI="219000003"),
    ]
    data = read(dma_file(tmp_path, rows), "dma")
    assert len(data.positions) == 1
    p = data.positions.iloc[0]
    assert np.isnan(p["sog"]) and np.isnan(p["cog"]) and np.isnan(p["heading"])
    assert data.report.rejected["invalid_position"] == 2
    assert data.report.rejected["invalid_mmsi"] == 2


def test_malformed_rows_counted_with_line_numbers(shared_data, tmp_path):
    lines = shared_file(FERRY).read_text().splitlines()
    lines[4] = lines[4].replace("57.", "abc", 1)  # line 5: unparsable latitude
    lines[9] = ",".join(lines[9].split(",")[:10])  # line 10: too few fields
    lines[19] = "32/13/2022 25:00:00" + lines[19][19:]  # line 20: impossible date
    lines.insert(30, "")  # a blank line is not a row
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    data = read(bad, "dma", chunk_rows=7)
    rep = data.report
    assert rep.rejected["malformed"] == 2 and rep.rejected["invalid_date"] == 1
    assert len(data.positions) == 735 - 3
    assert rep.messages == {"csv:dma": 733}
    assert rep.warnings == [
        "test.csv: 2 malformed rows (lines 5, 10)",
        "test.csv: 1 row with a bad date or time (lines 20)",
    ]


def test_statics_only_on_change(tmp_path):
    names = ["ALFA", "ALFA", "BRAVO", "BRAVO", "ALFA"]
    rows = [
        dma_row(ts=f"15/10/2022 11:16:0{i}", Name=n, MMSI="219000001") for i, n in enumerate(names)
    ]
    # another vessel interleaved, constant, with an "Unknown" IMO placeholder
    rows += [
        dma_row(ts=f"15/10/2022 11:16:0{i}", MMSI="219000002", IMO="Unknown") for i in range(5)
    ]
    rows.append(dma_row(ts="15/10/2022 11:16:09", MMSI="219000002", Width="15.0"))  # same width
    st = read(dma_file(tmp_path, rows), "dma").statics
    one = st[st["mmsi"] == 219000001]
    assert list(one["name"]) == ["ALFA", "BRAVO", "ALFA"]
    assert [t.second for t in one["ts"]] == [0, 2, 4]
    two = st[st["mmsi"] == 219000002]
    assert len(two) == 2  # the IMO appears (Unknown -> 9107370), "15.0" is still 15
    assert pd.isna(two["imo"].iloc[0]) and two["imo"].iloc[1] == 9107370


def test_invalid_utf8_and_markup_text_kept_as_data(tmp_path):
    p = tmp_path / "utf.csv"
    row = dma_row(Name="=HYPERLINK(1)", Destination="<b>X</b>").encode()
    bad = dma_row(MMSI="219000009").encode().replace(b"ANE LAESOE", b"ANE \xff\xfe")
    p.write_bytes(DMA_COLUMNS.encode() + b"\n" + row + b"\n" + bad + b"\n")
    st = read(p, "dma").statics.set_index("mmsi")
    assert st.loc[219000734, "name"] == "=HYPERLINK(1)"  # neutralised by writers, not readers
    assert st.loc[219000734, "destination"] == "<b>X</b>"
    assert st.loc[219000009, "name"].startswith("ANE \ufffd")


def test_truncated_gzip_keeps_rows_read(shared_data, tmp_path):
    blob = shared_file(NOAA_GZ).read_bytes()
    cut = blob[: len(blob) // 2]
    complete = zlib.decompressobj(wbits=31).decompress(cut).count(b"\n") - 1  # data lines
    p = tmp_path / "cut.csv.gz"
    p.write_bytes(cut)
    with open(p, "rb") as f:
        for source in (p, f):  # a path, and a file object as the dispatcher hands it over
            data = read(source, "noaa", chunk_rows=5_000)
            rep = data.report
            # every complete line arrives; the cut-off last one is malformed
            assert rep.messages["csv:noaa"] + rep.rejected["malformed"] == complete + 1
            assert len(data.positions) > complete - 10
            assert rep.rejected["unreadable_file"] == 1
            assert any("read error after line" in w for w in rep.warnings)
    small = tmp_path / "small.csv.gz"  # cut inside the first block
    small.write_bytes(gzip.compress(shared_file(NOAA_1000).read_bytes())[:20_000])
    assert read(small, "noaa").report.rejected["unreadable_file"] == 1


def test_bad_headers(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(MdaError, match="empty file"):
        read(empty, "dma")
    other = tmp_path / "other.csv"
    other.write_text("MMSI,LAT,LON\n1,2,3\n")
    with pytest.raises(MdaError, match=r"line 1: not a NOAA CSV header \(missing BaseDateTime"):
        read(other, "noaa")


def test_prefetch_bounded_stops_early_and_passes_errors_on():
    made: list[int] = []

    def items(fail: bool):
        for i in range(100):
            made.append(i)
            yield i
        if fail:
            raise OSError("disk gone")

    ahead = _prefetch(items(fail=False), ahead=3)
    next(ahead)
    time.sleep(0.3)  # time for the thread to run ahead as far as it may
    assert len(made) <= 5  # 1 handed over, 3 queued, 1 taken and waiting
    ahead.close()  # stops the thread
    assert len(made) <= 5
    assert list(_prefetch(items(fail=False), ahead=3)) == list(range(100))
    with pytest.raises(OSError, match="disk gone"):
        list(_prefetch(items(fail=True), ahead=3))


def test_blocks_parsed_side_by_side_keep_line_numbers(tmp_path, monkeypatch):
    """Bad rows in several parse blocks (of a multithreaded read) are named by their lines."""
    monkeypatch.setattr(csv_module, "_PARSE_BYTES", 1 << 20)  # 5.7 MB: six parse blocks
    rows = [dma_row(ts=f"15/10/2022 11:{i // 60 % 60:02d}:{i % 60:02d}") for i in range(30_000)]
    bad = {1_234: "x,y", 9_000: "", 17_777: "1,2,3", 29_999: "z"}  # rows, not lines
    for i, text in bad.items():
        rows[i] = text
    rows[20_000] = rows[20_000].replace("57.", "abc", 1)  # parsed, then unparsable latitude
    data = read(dma_file(tmp_path, rows), "dma", chunk_rows=4_000)
    rep = data.report
    assert rep.rejected["malformed"] == 4  # the blank line is not a row
    assert "test.csv: 4 malformed rows (lines 1236, 17779, 20002, 30001)" in rep.warnings
    assert len(data.positions) == 30_000 - 5


def test_a_parse_failing_part_way_keeps_the_blocks_before_it(tmp_path, monkeypatch):
    """Arrow failing on one block ends the file there: the rows of the blocks before it are
    kept, in order, and the file is reported as failed after its last good line."""
    monkeypatch.setattr(csv_module, "_PARSE_BYTES", 1 << 20)
    parse = csv_module._BlockParser.__call__

    def failing(self, block):
        if b"BOOM" in bytes(block):
            raise pa.ArrowInvalid("CSV parse error: boom")
        return parse(self, block)

    monkeypatch.setattr(csv_module._BlockParser, "__call__", failing)
    rows = [dma_row(MMSI=str(219_000_000 + i)) for i in range(20_000)]
    rows[12_000] = rows[12_000].replace("ANE LAESOE", "BOOM")
    data = read(dma_file(tmp_path, rows), "dma", chunk_rows=3_000)
    n = len(data.positions)
    assert 0 < n < 12_000
    assert data.positions["mmsi"].tolist() == list(range(219_000_000, 219_000_000 + n))
    reason = f"read error after line {n + 1:,}: CSV parse error: boom"
    assert data.report.failed == {"test.csv": reason}
    assert f"test.csv: {reason}; kept the {n:,} rows before it, the rest was not read" in (
        data.report.warnings
    )


def noaa11_file(tmp_path: Path, rows=NOAA11_ROWS, name: str = "noaa11.csv") -> Path:
    p = tmp_path / name
    p.write_text(NOAA_CORE_COLUMNS + "\n" + "\n".join(rows) + "\n")
    return p


def test_noaa_eleven_columns_class_and_status_not_available(tmp_path):
    data = read(noaa11_file(tmp_path), "noaa")
    pos, rep = data.positions, data.report
    assert len(pos) == 4 and rep.messages == {"csv:noaa": 4} and not rep.rejected
    assert set(pos["nav_status"]) == {15}  # no Status column: "not defined"
    assert set(pos["msg_type"]) == {UNKNOWN_CLASS}  # no TransceiverClass: neither A nor B
    last = pos.iloc[-1]
    assert np.isnan(last["sog"]) and np.isnan(last["cog"]) and np.isnan(last["heading"])
    st = data.statics.set_index("mmsi")
    assert len(st) == 2 and st["ais_class"].isna().all()
    assert st.loc[366562000, "imo"] == 7907984  # "IMO7907984"
    assert st.loc[366562000, "ship_type"] == 70  # "70.0"
    assert pd.isna(st.loc[367507960, "imo"]) and st.loc[367507960, "ship_type"] == 90
    assert st[["length", "width", "draught", "destination"]].isna().all().all()


def test_noaa_status_without_class_and_class_without_status(tmp_path):
    """Columns beyond the eleven are read when present, each on its own."""
    header = NOAA_CORE_COLUMNS + ",Status"
    row = NOAA11_ROWS[0] + ",5"
    p = tmp_path / "status.csv"
    p.write_text(f"{header}\n{row}\n")
    pos = read(p, "noaa").positions
    assert (pos["nav_status"].iloc[0], pos["msg_type"].iloc[0]) == (5, UNKNOWN_CLASS)
    p.write_text(f"{NOAA_CORE_COLUMNS},TransceiverClass\n{NOAA11_ROWS[0]},B\n")
    data = read(p, "noaa")
    assert (data.positions["nav_status"].iloc[0], data.positions["msg_type"].iloc[0]) == (15, 18)
    assert data.statics["ais_class"].tolist() == ["B"]


def test_noaa_eleven_columns_missing_a_core_column_is_one_line(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text(NOAA_CORE_COLUMNS.replace(",VesselType", "") + "\n1,2,3\n")
    with pytest.raises(MdaError, match=r"line 1: not a NOAA CSV header \(missing VesselType\)"):
        read(p, "noaa")


def test_noaa_eleven_columns_ingest_and_scan_from_the_command_line(tmp_path, capsys):
    """`mda ingest` and `mda scan FILE` sniff the layout: no padding to 17 columns needed."""
    path = noaa11_file(tmp_path)
    assert read_ais([path]).report.messages == {"csv:noaa": 4}
    assert main(["ingest", str(path), "--store", str(tmp_path / "store"), "--json"]) == 0
    assert '"positions": 4' in capsys.readouterr().out
    out = tmp_path / "alerts.csv"
    assert main(["scan", str(path), "--out", str(out), "--json"]) == 0
    assert '"positions": 4' in capsys.readouterr().out and out.exists()


def test_noaa_eleven_columns_real_la_day(shared_data):
    data = read(shared_file(LA_DAY), "noaa")
    pos, rep = data.positions, data.report
    assert len(pos) == 167_440 and pos["mmsi"].nunique() == 413  # SOURCES.md
    assert rep.messages == {"csv:noaa": 167_440} and sum(rep.rejected.values()) == 0
    assert pos["ts"].min() == pd.Timestamp("2020-01-01 00:00:00", tz="UTC")
    assert pos["ts"].max() == pd.Timestamp("2020-01-01 23:59:59", tz="UTC")
    assert set(pos["nav_status"]) == {15} and set(pos["msg_type"]) == {UNKNOWN_CLASS}
    assert pos["lat"].between(33, 34.5).all() and pos["lon"].between(-119, -117.5).all()
    st = data.statics.drop_duplicates("mmsi", keep="last").set_index("mmsi")
    assert st.loc[366562000, "imo"] == 7907984 and st.loc[366562000, "name"] == "MANOA"
    assert st.loc[366562000, "ship_type"] == 70


def test_noaa_imo_prefix_in_the_17_column_layout(shared_data):
    st = read(shared_file(NOAA_GZ), "noaa").statics.set_index("mmsi")
    assert st.loc[367379190, "imo"].max() == 8207721  # "IMO8207721"
    assert st["ais_class"].notna().all()
