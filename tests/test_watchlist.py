"""Watchlist: loading the CSV (and its one-line errors) and matching by MMSI, IMO or name."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers.detect import Leg, context, positions, sail

from mda import schema
from mda.config import Config
from mda.detect import watchlist
from mda.errors import MdaError

A, B, C, D = 211000001, 211000002, 211000003, 211000004


def _csv(tmp_path, text: str):
    p = tmp_path / "watch.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_watchlist_columns_and_types(tmp_path):
    wl = watchlist.load_watchlist(
        _csv(
            tmp_path, "MMSI,IMO,Name,reason\n211000001,,,sanctions\n,IMO 9811000,,\n,,Ever Given,\n"
        )
    )
    assert list(wl.columns) == ["mmsi", "imo", "name", "reason", "list"]
    assert wl["mmsi"].tolist()[0] == A and pd.isna(wl["mmsi"][1])
    assert wl["imo"][1] == 9811000
    assert wl["name"][2] == "Ever Given"
    assert wl["reason"][0] == "sanctions"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"watch\.csv: watchlist is empty"),
        ("vessel,flag\nX,PA\n", r"watch\.csv:1: .*none of the columns"),
        ("mmsi,name\n21100000x,A\n", r"watch\.csv:2: mmsi '21100000x' is not a number"),
        ("mmsi,name\n211000001,A\n211000002\n", r"watch\.csv:3: expected 2 fields, found 1"),
        (
            "mmsi,name,reason\n211000001,A,x\n,,why\n",
            r"watch\.csv:3: entry has no mmsi, imo or name",
        ),
        ("imo\n98110001\n", r"watch\.csv:2: imo '98110001' is not a number of up to 7 digits"),
    ],
)
def test_bad_watchlists_are_one_line_errors(tmp_path, text, message):
    with pytest.raises(MdaError, match=message) as e:
        watchlist.load_watchlist(_csv(tmp_path, text))
    assert "\n" not in str(e.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(MdaError, match=r"nope\.csv: cannot read watchlist"):
        watchlist.load_watchlist(tmp_path / "nope.csv")
    bad = tmp_path / "bin.csv"
    bad.write_bytes(b"mmsi\n\xff\xfe\x00\x81\n")
    with pytest.raises(MdaError, match=r"bin\.csv: not a readable CSV watchlist"):
        watchlist.load_watchlist(bad)


def _ctx(wl: pd.DataFrame):
    pts = positions(
        *(sail(m, [Leg(60, 8)], lat=55.0 + i * 0.1, lon=15.0) for i, m in enumerate((A, B, C, D)))
    )
    ctx = context(pts)
    vessels = pd.DataFrame(
        {
            "mmsi": [B, C, D],
            "ts": pd.Timestamp("2026-03-01T00:00Z"),
            "imo": [9811000, 9000001, 9000002],
            "name": ["SOMETHING", "  ever  given@@", "EVERGREEN"],
        }
    )
    ctx.vessels = schema.conform(vessels, schema.VESSELS, extra=False)
    ctx.watchlist = wl
    return ctx


def test_matches_by_mmsi_imo_and_name(tmp_path):
    wl = watchlist.load_watchlist(
        _csv(
            tmp_path,
            "mmsi,imo,name,reason,list\n"
            "211000001,,,dark,OFAC\n,9811000,,sts,EU\n,,Ever Given,canal,\n",
        )
    )
    alerts = watchlist.detect(_ctx(wl), Config())
    by = {m: e["matched_by"] for m, e in zip(alerts["mmsi"], alerts["evidence"], strict=True)}
    assert by == {A: ["mmsi"], B: ["imo"], C: ["name"]}  # D's EVERGREEN is not EVER GIVEN
    assert set(alerts["type"]) == {"watchlist"} and set(alerts["severity"]) == {"high"}
    a = alerts.set_index("mmsi").loc[A]
    assert a["evidence"]["reasons"] == ["dark"] and a["evidence"]["lists"] == ["OFAC"]
    assert a["lat"] == pytest.approx(55.0, abs=0.01)  # its last position
    assert a["end"] > a["start"]
    assert a["evidence"]["fixes"] == 60


def test_one_alert_per_vessel_even_when_several_entries_match(tmp_path):
    wl = watchlist.load_watchlist(
        _csv(tmp_path, "mmsi,imo,name\n211000002,,\n,9811000,\n,,something\n")
    )
    alerts = watchlist.detect(_ctx(wl), Config())
    assert alerts["mmsi"].tolist() == [B]
    assert alerts["evidence"][0]["matched_by"] == ["imo", "mmsi", "name"]


def test_listed_vessel_not_seen_raises_nothing(tmp_path):
    wl = watchlist.load_watchlist(_csv(tmp_path, "mmsi\n229999999\n"))
    assert watchlist.detect(_ctx(wl), Config()).empty
    assert watchlist.detect(_ctx(None), Config()).empty


def test_a_namesake_with_another_imo_is_another_ship(tmp_path):
    wl = watchlist.load_watchlist(_csv(tmp_path, "imo,name\n9999999,Evergreen\n"))
    assert watchlist.detect(_ctx(wl), Config()).empty
    wl = watchlist.load_watchlist(_csv(tmp_path, "imo,name\n,Evergreen\n"))
    assert watchlist.detect(_ctx(wl), Config())["mmsi"].tolist() == [D]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("mmsi,name\n211000001,A\n".encode("utf-16"), r"not a readable CSV watchlist: 'utf-8'"),
        (b"mmsi,name\n211000001," + b"A" * 200_000 + b"\n", r"field larger than field limit"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), r"not a readable CSV watchlist"),
    ],
)
def test_hostile_watchlists_fail_in_one_line(tmp_path, data, message):
    p = tmp_path / "watch.csv"
    p.write_bytes(data)
    with pytest.raises(MdaError, match=message) as e:
        watchlist.load_watchlist(p)
    assert "\n" not in str(e.value) and str(p) in str(e.value)


def test_devices_directories_and_huge_files_are_not_read(tmp_path, monkeypatch):
    with pytest.raises(MdaError, match=r"/dev/zero: cannot read watchlist: not a regular file"):
        watchlist.load_watchlist("/dev/zero")
    with pytest.raises(MdaError, match="not a regular file"):
        watchlist.load_watchlist(tmp_path)
    monkeypatch.setattr(watchlist, "MAX_BYTES", 10)
    with pytest.raises(MdaError, match=r"watch\.csv: watchlist larger than"):
        watchlist.load_watchlist(_csv(tmp_path, "mmsi,name\n211000001,A\n"))


def test_formulas_and_control_characters_stay_data(tmp_path):
    text = 'mmsi,name,reason\n211000001,"=HYPERLINK(""x"")","a\x1b[2J\rb"\n' + "".join(
        f"{200000000 + i},SHIP {i},\n" for i in range(100_000)
    )
    wl = watchlist.load_watchlist(_csv(tmp_path, text))
    assert len(wl) == 100_001
    assert wl["name"][0] == '=HYPERLINK("x")' and wl["reason"][0] == "a\x1b[2J\rb"
