"""The reader front door: inputs, compression, sniffing, chunks, errors, vessel reductions."""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import shared_file

from mda import schema
from mda.errors import MdaError
from mda.sources import iter_ais, read_ais, sniff
from mda.sources.base import IngestReport, latest_vessels, vessel_changes

ROOT = Path(__file__).resolve().parents[1]
STREAM = "nmea/dma_aislib_stream_example.txt"
START = pd.Timestamp("2024-05-30T00:00:00Z")


def test_plain_file_has_the_contract_columns():
    data = read_ais(shared_file(STREAM))
    assert list(data.positions.columns) == list(schema.POSITIONS)
    assert data.positions.dtypes.astype(str).to_dict() == schema.POSITIONS
    assert list(data.aux.columns) == list(schema.AUX_POSITIONS)
    assert data.statics.dtypes.astype(str).to_dict() == schema.VESSELS
    assert data.report.seconds > 0
    assert data.report.files == [str(shared_file(STREAM))]


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_compressed_copies_found_by_magic_bytes(tmp_path, compress):
    src = shared_file(STREAM)
    plain = read_ais(src)
    packed = tmp_path / "feed.txt"  # misleading suffix: the content decides
    packed.write_bytes(compress(src.read_bytes()))
    data = read_ais(packed)
    assert data.report.lines == plain.report.lines
    pd.testing.assert_frame_equal(
        data.positions.drop(columns="source"), plain.positions.drop(columns="source")
    )


def test_crlf_file_decodes_like_lf(tmp_path):
    src = shared_file("nmea/pyais_nmea_data_sample.txt")
    assert b"\r\n" in src.read_bytes()
    lf = tmp_path / "lf.txt"
    lf.write_bytes(src.read_bytes().replace(b"\r\n", b"\n"))
    a, b = read_ais(src, start_time=START), read_ais(lf, start_time=START)
    assert len(a.positions) > 500
    pd.testing.assert_frame_equal(
        a.positions.drop(columns="source"), b.positions.drop(columns="source")
    )
    assert a.report.lines == b.report.lines


def test_directory_of_mixed_files_skips_unreadable_with_warning(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.nmea").write_bytes(shared_file(STREAM).read_bytes())
    (tmp_path / "b.bin").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "c.csv").write_text("foo,bar\n1,2\n")
    data = read_ais(tmp_path)
    assert len(data.positions) > 2000
    assert data.report.rejected["unreadable_file"] == 2
    assert any("b.bin" in w for w in data.report.warnings)
    assert any("c.csv" in w for w in data.report.warnings)
    assert len(data.report.files) == 3


def test_no_readable_input_is_a_one_line_error(tmp_path):
    junk = tmp_path / "junk.dat"
    junk.write_bytes(b"\x00\x01\x02 not ais at all")
    with pytest.raises(MdaError) as e:
        read_ais(junk)
    assert str(junk) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(MdaError, match=r"missing\.nmea"):
        read_ais(tmp_path / "missing.nmea")
    with pytest.raises(MdaError, match="and 1 more"):
        read_ais([junk, tmp_path / "missing.nmea"])


def test_missing_file_among_good_ones_is_counted():
    data = read_ais([shared_file(STREAM), "/nonexistent/x.nmea"])
    assert data.report.rejected["unreadable_file"] == 1
    assert len(data.positions) > 2000


def test_chunks_merge_to_the_same_result():
    path = shared_file(STREAM)
    chunks = list(iter_ais(path, chunk_rows=100))
    assert len(chunks) > 5
    whole = read_ais(path)
    report = IngestReport()
    for c in chunks:
        report.merge(c.report)
    assert report.lines == whole.report.lines
    assert report.messages == whole.report.messages
    assert sum(len(c.positions) for c in chunks) == len(whole.positions)
    assert sum(c.report.positions for c in chunks) == len(whole.positions)


def test_lines_iterables_text_and_bytes():
    text = shared_file(STREAM).read_text().splitlines()
    a = read_ais(text)
    b = read_ais(line.encode() + b"\r\n" for line in text)
    assert len(a.positions) == len(b.positions) > 2000
    assert a.report.lines == b.report.lines == len(text)
    assert set(a.positions["source"]) == {"<lines>"}


def test_sniff_from_content():
    assert sniff(b"\\s:x,c:1*00\\!AIVDM,1,1,,A,1,0*00") == "nmea"
    assert sniff(b"# comment\n$GPRMC,1,2\n") == "nmea"
    assert sniff(b"") == "nmea"
    assert sniff(b"\x00\xff garbage") is None


def test_csv_dispatch_dma_and_noaa():
    dma = read_ais(shared_file("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv"))
    assert set(dma.positions["mmsi"]) == {219000734}
    assert len(dma.positions) > 700
    noaa = read_ais(shared_file("positions/marinecadastre_aisdb_2023-01-11_1000rows.csv"))
    assert noaa.positions["mmsi"].nunique() > 900


def test_csv_and_nmea_in_one_call():
    data = read_ais(
        [
            shared_file("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv"),
            shared_file(STREAM),
        ]
    )
    assert 219000734 in set(data.positions["mmsi"])
    assert data.report.messages[1] == 2511


def test_stdin_via_subprocess():
    src = shared_file(STREAM).read_bytes()
    code = (
        "import json; from mda.sources import read_ais; d = read_ais('-'); "
        "print(json.dumps([len(d.positions), d.report.files]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=gzip.compress(src),
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    n, files = json.loads(out.stdout)
    assert n == len(read_ais(shared_file(STREAM)).positions)
    assert files == ["stdin"]


@pytest.mark.skipif(importlib.util.find_spec("mda.store") is None, reason="mda.store not yet built")
def test_cli_ingest_from_stdin(tmp_path):
    src = shared_file(STREAM).read_bytes()
    out = subprocess.run(
        [sys.executable, "-m", "mda", "ingest", "-", "--store", str(tmp_path / "s"), "--json"],
        input=src,
        capture_output=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr.decode()
    report = json.loads(out.stdout)
    assert report["positions"] == len(read_ais(shared_file(STREAM)).positions)


# -- vessel reductions -------------------------------------------------------------------------


def _statics(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return schema.conform(df, schema.VESSELS, extra=False)


def test_type24_parts_merge_into_one_vessel():
    st = _statics(
        [
            {"mmsi": 1, "ts": "2024-01-01 00:00", "name": "ALPHA", "ais_class": "B"},
            {
                "mmsi": 1,
                "ts": "2024-01-01 00:01",
                "callsign": "CALL1",
                "ship_type": 37,
                "length": 12.0,
                "ais_class": "B",
            },
            {"mmsi": 2, "ts": "2024-01-01 00:00", "name": "BETA", "imo": 9107370, "ais_class": "A"},
        ]
    )
    v = latest_vessels(st).set_index("mmsi")
    assert len(v) == 2
    assert v.loc[1, "name"] == "ALPHA" and v.loc[1, "callsign"] == "CALL1"
    assert v.loc[1, "length"] == 12.0 and v.loc[1, "ship_type"] == 37
    assert v.loc[1, "ts"] == pd.Timestamp("2024-01-01 00:01", tz="UTC")
    h = vessel_changes(st)
    assert h["mmsi"].tolist() == [1, 2]  # 24A + 24B is one state, not a change
    assert h.loc[0, "callsign"] == "CALL1" and h.loc[0, "name"] == "ALPHA"
    assert h.loc[0, "ts"] == pd.Timestamp("2024-01-01 00:00", tz="UTC")


def test_vessel_history_records_real_changes_only():
    st = _statics(
        [
            {"mmsi": 5, "ts": "2024-01-01 03:00", "name": "NEW NAME", "ais_class": "A"},
            {
                "mmsi": 5,
                "ts": "2024-01-01 00:00",
                "name": "OLD",
                "callsign": "C5",
                "ais_class": "A",
            },
            {"mmsi": 5, "ts": "2024-01-01 01:00", "name": None, "callsign": "C5", "ais_class": "A"},
            {
                "mmsi": 5,
                "ts": "2024-01-01 04:00",
                "name": "NEW NAME",
                "destination": "RIGA",
                "ais_class": "A",
            },
        ]
    )
    h = vessel_changes(st)
    assert h["name"].tolist() == ["OLD", "NEW NAME"]
    assert h["ts"].tolist() == [
        pd.Timestamp("2024-01-01 00:00", tz="UTC"),
        pd.Timestamp("2024-01-01 03:00", tz="UTC"),
    ]
    assert h["callsign"].tolist() == ["C5", "C5"]  # carried, not lost
    assert h["destination"].iloc[1] == "RIGA"  # first known value is not a change
    assert latest_vessels(st).iloc[0]["name"] == "NEW NAME"


def test_vessel_reductions_of_empty_and_real_data():
    assert latest_vessels(schema.empty(schema.VESSELS)).empty
    assert vessel_changes(schema.empty(schema.VESSELS)).empty
    data = read_ais(shared_file(STREAM))
    v = data.vessels
    assert v["mmsi"].is_unique
    assert set(v["mmsi"]) == set(data.statics["mmsi"])
    assert list(v.columns) == list(schema.VESSELS)
    assert len(data.vessel_history) >= len(v)


def test_file_names_with_commas_are_paths_not_lines(tmp_path):
    path = tmp_path / "north,sea.nmea"
    path.write_text("1717027200 !AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30\n", "ascii")
    data = read_ais([str(path)])
    assert data.report.files == [str(path)]
    assert len(data.positions) == 1


def test_null_island_is_rejected_in_every_format(tmp_path):
    from pyais import encode_dict

    line = encode_dict({"type": 1, "mmsi": 219000001, "lat": 0.0, "lon": 0.0})[0]
    data = read_ais([f"1717027200 {line}"])
    assert data.positions.empty
    assert data.report.rejected["invalid_position"] == 1


# -- issue 12: the report reads like a summary, its units never mixed ---------------------------


def test_report_repr_is_one_short_line_and_the_table_sorts_types_by_number():
    """`print(data.report)` once dumped the MMSI set (117 KB on a day of traffic); message types
    sorted as text (1, 15, 16, 2, ...); "rejected" sentences sat next to decoded messages."""
    report = read_ais(shared_file(STREAM)).report
    text = repr(report)
    assert str(report) == text and "\n" not in text and len(text) < 400
    assert "vessels=1,719" in text and "messages=4,051" in text
    types = [int(k) for k in report.to_dict()["messages_by_type"]]
    assert types == sorted(types) and types[:3] == [1, 2, 3]
    rows = [line.split() for line in report.format_table().splitlines()]
    listed = [int(r[1]) for r in rows if r[0] == "type"]
    assert listed == sorted(listed) and 15 in listed and 20 in listed
    labels = [" ".join(r[:-1]) for r in rows]
    # rejected decoded messages are counted beside the messages, sentences beside sentences
    at = labels.index("messages rejected")
    assert labels.index("messages decoded") < at and rows[at][-1] == "29"
    assert "lines/sentences rejected" in labels and "rejected" not in labels


def test_rejects_are_grouped_by_what_they_count(tmp_path):
    src = tmp_path / "mixed.nmea"
    good = "!AIVDM,1,1,,B,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24"
    src.write_text(f"{good}\n!AIVDM,1,1,,B,13u?etPv2;0n:dDPwUM1U1Cb069D,0*25\n")
    table = read_ais(src, start_time=START).report.format_table()
    early, late = table.split("messages decoded")
    assert "bad_checksum" in early and "bad_checksum" not in late
