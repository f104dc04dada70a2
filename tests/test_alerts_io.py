"""Alert writers and readers: GeoJSON schema, CSV formula neutralisation, GeoPackage round trip."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mda import schema
from mda.alerts import format_alert_table, read_alerts, write_alerts
from mda.csvsafe import guard, unguard
from mda.errors import MdaError

PROPS = {
    "id",
    "type",
    "severity",
    "mmsi",
    "other_mmsi",
    "vessel_name",
    "start",
    "end",
    "zone_id",
    "zone_kind",
    "zone_name",
    "evidence",
    "thresholds",
}


def _alerts() -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "id": ["encounter-1", "identity_conflict-2"],
            "type": ["encounter", "identity_conflict"],
            "severity": ["medium", "high"],
            "mmsi": [211000001, 211000003],
            "other_mmsi": [211000002, pd.NA],
            "vessel_name": ['=HYPERLINK("http://x")', "+CMD|' /C calc'!A0"],
            "start": pd.to_datetime(["2026-03-01T00:00:00Z", "2026-03-01T05:30:00Z"]),
            "end": pd.to_datetime(["2026-03-01T03:00:00Z", "2026-03-01T06:00:00Z"]),
            "lat": [55.1, 54.9],
            "lon": [15.2, -3.5],
            "zone_id": ["-1", pd.NA],
            "zone_kind": ["restricted", pd.NA],
            "zone_name": ["@zone", pd.NA],
            "evidence": [
                {"hours": 3.0, "median_distance_m": 120.5, "port_distance_km": np.nan},
                {"kind": "mmsi_swap", "seconds": np.float64(30.0), "n": np.int64(2)},
            ],
            "thresholds": [{"max_distance_m": 500.0}, {"swap_seconds": 60.0}],
        }
    )
    return schema.conform(rows, schema.ALERTS, extra=False)


def test_geojson_feature_collection_has_the_design_fields(tmp_path):
    path = write_alerts(_alerts(), tmp_path / "a.geojson")
    doc = json.loads(path.read_text())
    assert doc["type"] == "FeatureCollection"
    f0, f1 = doc["features"]
    assert f0["geometry"] == {"type": "Point", "coordinates": [15.2, 55.1]}
    assert set(f0["properties"]) == PROPS
    assert f0["properties"]["start"] == "2026-03-01T00:00:00Z"
    assert f0["properties"]["other_mmsi"] == 211000002
    assert f1["properties"]["other_mmsi"] is None
    assert f0["properties"]["evidence"]["port_distance_km"] is None  # NaN is not valid JSON
    assert f1["properties"]["evidence"] == {"kind": "mmsi_swap", "seconds": 30.0, "n": 2}
    assert f0["properties"]["thresholds"] == {"max_distance_m": 500.0}


def test_geojson_round_trip(tmp_path):
    a = _alerts()
    back = read_alerts(write_alerts(a, tmp_path / "a.geojson"))
    assert list(back.columns) == list(schema.ALERTS)
    assert back["id"].tolist() == a["id"].tolist()
    assert back["start"].tolist() == a["start"].tolist()
    assert back["other_mmsi"].isna().tolist() == [False, True]
    assert back["evidence"][1]["kind"] == "mmsi_swap"
    assert back["vessel_name"][0] == a["vessel_name"][0]


def test_csv_neutralises_formulas_in_every_text_cell(tmp_path):
    path = write_alerts(_alerts(), tmp_path / "a.csv")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["vessel_name"] == '\'=HYPERLINK("http://x")'
    assert rows[1]["vessel_name"].startswith("'+CMD")
    assert rows[0]["zone_id"] == "'-1"
    assert rows[0]["zone_name"] == "'@zone"
    assert json.loads(rows[0]["evidence"])["hours"] == 3.0
    for row in rows:
        for key, cell in row.items():
            if key not in ("lat", "lon"):  # numbers stay numbers
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (key, cell)
    # and the reader undoes the apostrophe
    back = read_alerts(path)
    assert back["vessel_name"].tolist() == _alerts()["vessel_name"].tolist()
    assert back["zone_id"][0] == "-1"
    assert back["lon"][1] == -3.5


@pytest.mark.parametrize(
    "cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", " =1", "\uff1d1", "'x", ""]
)
def test_guard_prefixes_formula_starts_apostrophes_and_empty_text(cell):
    assert guard(cell) == "'" + cell
    assert unguard(guard(cell)) == cell


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("\rx", "'\\rx"),
        ("SAFE\r=1+1", "'SAFE\\r=1+1"),
        ("A\nB\\C", "'A\\nB\\\\C"),
        ("A\u2028B", "'A\\u2028B"),
        ("A\x00B", "'A\\u0000B"),
    ],
)
def test_guard_escapes_line_breaks_inside_a_value(cell, written):
    assert guard(cell) == written
    assert unguard(written) == cell


def test_guard_leaves_plain_text_and_numbers():
    assert guard("EVER GIVEN") == "EVER GIVEN"
    assert guard("C:\\x\\n") == "C:\\x\\n"  # backslashes of a plain cell stay as they are
    assert guard(-3.5) == -3.5
    assert unguard("") is None


#: Text a hostile AIS or zone file can carry: formula starts, CSV and line-break characters.
HOSTILE = st.text(
    st.one_of(
        st.characters(codec="utf-8"),  # table strings are Arrow (UTF-8): no lone surrogates
        st.sampled_from(list("=+-@'\"\\,;\t\r\n\x00\x0b\x0c\x1c\x85\u2028\u2029\uff1d \x1b")),
    ),
    max_size=12,
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec=None, categories=None), max_size=12))
def test_guard_round_trips_any_text_including_lone_surrogates(text):
    cell = guard(text)
    assert unguard(cell) == text
    assert not cell.startswith(FORMULA_START)
    assert not any(c in cell for c in "\r\n\x00\u2028\u2029")


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@settings(max_examples=25, deadline=None)  # a file write and read each (0.2-0.5 s)
@given(st.lists(st.tuples(HOSTILE, HOSTILE, HOSTILE, HOSTILE), min_size=1, max_size=8))
def test_csv_round_trip_is_exact_and_no_cell_starts_a_formula(values):
    a = _alerts().iloc[[0] * len(values)].reset_index(drop=True)
    for i, col in enumerate(("id", "vessel_name", "zone_id", "zone_name")):
        a[col] = pd.array([v[i] for v in values], dtype="string")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_alerts(a, Path(tmp) / "a.csv")
        back = read_alerts(path)
        raw = path.read_bytes().decode("utf-8")
    for col in ("id", "vessel_name", "zone_id", "zone_name"):
        assert back[col].tolist() == a[col].tolist(), col
    # one physical line per record, however a reader splits lines, and no formula in any cell
    lines = raw.splitlines()
    assert len(lines) == len(a) + 1
    for row in csv.reader(lines):
        assert len(row) == len(lines[0].split(","))
        for cell in row:
            assert not cell.startswith(FORMULA_START) or _number(cell), cell


def test_csv_with_carriage_returns_in_names_and_zone_ids_reads_back(tmp_path):
    """Finding 2: `SAFE\r=1+1` was written unquoted, so readers started a record at `=1+1`."""
    a = _alerts()
    a.loc[0, "vessel_name"] = "SAFE\r=1+1"
    a.loc[0, "zone_id"] = "Z\r1"
    a.loc[1, "vessel_name"] = "'=already quoted"
    path = write_alerts(a, tmp_path / "a.csv")
    assert b"\r" not in path.read_bytes()
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2
    assert rows[0]["vessel_name"] == "'SAFE\\r=1+1"
    back = read_alerts(path)
    assert back["vessel_name"].tolist() == ["SAFE\r=1+1", "'=already quoted"]
    assert back["zone_id"][0] == "Z\r1"


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_geo_round_trip(tmp_path, suffix):
    a = _alerts()
    back = read_alerts(write_alerts(a, tmp_path / f"a{suffix}"))
    assert back["id"].tolist() == a["id"].tolist()
    assert back["mmsi"].tolist() == a["mmsi"].tolist()
    assert back["start"].tolist() == a["start"].tolist()
    assert back["evidence"][0]["hours"] == 3.0
    assert back["thresholds"][1] == {"swap_seconds": 60.0}
    np.testing.assert_allclose(back["lat"], a["lat"])


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_gis_reads_datetimes_and_wgs84(tmp_path, suffix):
    """The finding: start/end were text in GeoPackage; a GIS must see date-time fields."""
    import pyogrio

    a = _alerts()
    path = write_alerts(a, tmp_path / f"a{suffix}")
    info = pyogrio.read_info(path)
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["start"] == types["end"] == "OFTDateTime"
    back = pyogrio.read_dataframe(path)
    assert back.crs.to_epsg() == 4326
    assert isinstance(back["start"].dtype, pd.DatetimeTZDtype) and str(back["start"].dt.tz) == "UTC"
    assert back["start"].tolist() == a["start"].tolist()
    assert back["end"].tolist() == a["end"].tolist()
    assert back.geometry.x.tolist() == a["lon"].tolist()


def test_geoparquet_is_readable_by_geopandas(tmp_path):
    import geopandas as gpd

    a = _alerts()
    gdf = gpd.read_parquet(write_alerts(a, tmp_path / "alerts.parquet"))
    assert gdf.crs.to_epsg() == 4326
    assert set(gdf.geom_type) == {"Point"}
    assert isinstance(gdf["start"].dtype, pd.DatetimeTZDtype)
    assert gdf["severity"].tolist() == ["medium", "high"]
    assert json.loads(gdf["evidence"][1]) == {"kind": "mmsi_swap", "n": 2, "seconds": 30.0}


def test_alerts_gdf_reprojects_and_keeps_missing_fixes_missing():
    from mda.gis import alerts_gdf

    a = _alerts()
    a["status"] = ["open", "closed"]  # extra columns (the store's) are kept
    a.loc[1, ["lat", "lon"]] = np.nan
    gdf = alerts_gdf(a)
    assert gdf.crs.to_epsg() == 4326 and gdf["status"].tolist() == ["open", "closed"]
    assert gdf.geometry.iloc[0].x == 15.2 and gdf.geometry.isna().tolist() == [False, True]
    web_mercator_x = np.radians(15.2) * 6_378_137.0
    assert gdf.to_crs("EPSG:3857").geometry.iloc[0].x == pytest.approx(web_mercator_x)


def test_gpkg_has_a_qgis_style_beside_it(tmp_path):
    import xml.etree.ElementTree as ET

    a = _alerts()
    a.loc[0, "vessel_name"] = '<renderer-v2 attr="x"/>'  # layer text never reaches the style
    write_alerts(a, tmp_path / "a.gpkg")
    qml = (tmp_path / "a.qml").read_text()
    root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "severity"
    values = [c.get("value") for c in renderer.iter("category")]
    assert values == list(schema.SEVERITIES)
    assert len(list(renderer.iter("symbol"))) == len(values)
    assert "x" not in {r.get("attr") for r in root.iter("renderer-v2")} and "HYPERLINK" not in qml


def test_gpkg_rewrite_replaces_the_file(tmp_path):
    path = tmp_path / "a.gpkg"
    write_alerts(_alerts(), path)
    write_alerts(_alerts().iloc[:1], path)
    assert len(read_alerts(path)) == 1


@pytest.mark.parametrize("suffix", [".geojson", ".csv", ".gpkg", ".parquet"])
def test_empty_alerts_round_trip(tmp_path, suffix):
    back = read_alerts(write_alerts(schema.empty(schema.ALERTS), tmp_path / f"a{suffix}"))
    assert back.empty
    assert list(back.columns) == list(schema.ALERTS)


def test_unknown_suffix_is_a_one_line_error(tmp_path):
    with pytest.raises(MdaError, match=r"a\.xlsx: unknown alert file type"):
        write_alerts(_alerts(), tmp_path / "a.xlsx")


def test_reading_a_broken_file_names_it(tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(MdaError, match=r"bad\.geojson: not a readable alert file"):
        read_alerts(bad)
    other = tmp_path / "other.geojson"
    other.write_text('{"type": "FeatureCollection", "features": [{"properties": {"a": 1}}]}')
    with pytest.raises(MdaError, match="not an alert file"):
        read_alerts(other)


def test_alert_table_strips_control_characters():
    a = _alerts()
    a.loc[0, "vessel_name"] = "EVIL\x1b[31mRED"
    table = format_alert_table(a)
    assert "\x1b" not in table
    assert "encounter" in table and "identity_conflict" in table
    assert table.splitlines()[-1] == "2 alert(s)"
    assert format_alert_table(schema.empty(schema.ALERTS)) == "no alerts"


def test_cli_scan_writes_geoparquet_and_geopackage(tmp_path, capsys):
    import geopandas as gpd
    import pyogrio

    from mda.cli import main
    from mda.simulate import simulate

    nmea = tmp_path / "baltic.nmea"
    simulate("baltic-cables", seed=1).write(nmea)
    assert main(["scan", str(nmea), "--out", str(tmp_path / "alerts.parquet")]) == 0
    gdf = gpd.read_parquet(tmp_path / "alerts.parquet")
    assert gdf.crs.to_epsg() == 4326 and len(gdf) > 0
    assert {"ais_gap", "port_visit"} <= set(gdf["type"])
    assert isinstance(gdf["start"].dtype, pd.DatetimeTZDtype)
    with pytest.raises(SystemExit):  # refused before any work
        main(["scan", str(nmea), "--out", str(tmp_path / "alerts.xlsx")])
    assert ".parquet" in capsys.readouterr().err
    assert main(["scan", str(nmea), "--out", str(tmp_path / "alerts.gpkg")]) == 0
    assert (tmp_path / "alerts.qml").is_file()
    back = pyogrio.read_dataframe(tmp_path / "alerts.gpkg")
    assert sorted(back["id"]) == sorted(gdf["id"])
    capsys.readouterr()
