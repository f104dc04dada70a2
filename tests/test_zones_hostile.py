"""Hostile zone files (issue 9): whatever `mda zones validate` accepts, `mda scan` can use, and
whatever it cannot use fails both with one line naming the file (and feature), never a traceback."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from mda import cli, zones
from mda.errors import MdaError
from mda.zones import load as zone_load

POS = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,"
    "Width,Draft,Cargo,TransceiverClass\n"
    + "".join(
        f"211000001,2024-01-01T{h:02d}:00:00,{54.5 + h / 100},4.5,10,0,0,SHIP,,,70,0,100,20,8,,A\n"
        for h in (0, 1, 9)
    )
)


def feat(fid, geom, kind="restricted", **props) -> dict:
    return {"type": "Feature", "properties": {"id": fid, "kind": kind, **props}, "geometry": geom}


def square(x0, y0, x1, y1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def pt(x, y) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def collection(*features, **extra) -> str:
    return json.dumps({"type": "FeatureCollection", **extra, "features": list(features)})


# name -> (file text, pattern the one-line error must contain); None: valid and scannable
HOSTILE = {
    "lat91": (collection(feat("a", square(4, 89, 5, 91))), r"'a': latitude 91 outside"),
    "buffer_1e300": (collection(feat("a", pt(4, 54), buffer_m=1e300)), r"'a': buffer_m 1e\+300"),
    "buffer_inf": (collection(feat("a", pt(4, 54), buffer_m="inf")), r"'a': buffer_m inf"),
    "buffer_2000km": (collection(feat("a", pt(4, 54), buffer_m=2e6)), r"'a': buffer_m 2e\+06"),
    "unknown_crs": (
        collection(
            feat("a", square(4, 54, 5, 55)),
            crs={"type": "name", "properties": {"name": "EPSG:999999"}},
        ),
        r"unknown CRS 'EPSG:999999'",
    ),
    "link_crs": (
        collection(feat("a", square(4, 54, 5, 55)), crs={"type": "link", "properties": {}}),
        r'unsupported "crs" member',
    ),
    "nan": (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a",'
        '"kind":"port"},"geometry":{"type":"Polygon","coordinates":[[[4,54],[NaN,54],[5,55],'
        "[4,54]]]}}]}",
        r"'a': coordinates are not finite",
    ),
    "lon_1e6": (collection(feat("a", square(1e6, 0, 1e6 + 1, 1))), r"'a': longitude 1e\+06"),
    "wraps_twice": (
        collection(
            feat(
                "a",
                {
                    "type": "LineString",
                    "coordinates": [
                        [0, 10],
                        [170, 10],
                        [-20, 10],
                        [150, 10],
                        [-40, 10],
                        [130, 10],
                        [-60, 10],
                    ],
                },
                "route",
                buffer_m=1000,
            )
        ),
        r"'a': goes round the globe more than once",
    ),
    "control_id": (collection(feat("a\rb", square(4, 54, 5, 55))), r"control characters"),
    "empty_id": (collection(feat(" ", square(4, 54, 5, 55))), r"#0 \(no id\).*missing id"),
    "duplicate_id": (
        collection(feat("a", square(4, 54, 5, 55)), feat("a", square(6, 54, 7, 55))),
        r"'a': duplicate id",
    ),
    "empty": (collection(feat("a", None)), r"'a': empty geometry"),
    "not_json": ("{" * 100_000, r"cannot read zone layer"),
    "binary": (b"\x00\xff\xfe" * 1000, r"cannot read zone layer"),
    # valid edge cases that used to crash the scan or must keep working
    "lat90": (collection(feat("a", square(4, 89, 5, 90))), None),
    "south_pole": (collection(feat("a", square(4, -90, 5, -89))), None),
    "lon180": (collection(feat("a", square(179, 0, 180, 1))), None),
    "lon190_continuous": (collection(feat("a", square(175, 0, 190, 1))), None),
    "polar_buffer": (collection(feat("a", pt(0, 90), buffer_m=1e6)), None),
    "max_buffer": (collection(feat("a", pt(4, 54), buffer_m=1e6)), None),
    "crs84": (
        collection(
            feat("a", square(4, 54, 5, 55)),
            crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        ),
        None,
    ),
}


def run(capsys, *argv: str) -> tuple[int, str]:
    """`mda ARGV` in this process: (exit status, stderr). A traceback fails the test."""
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def check_both(tmp_path, capsys, path, pattern):
    """validate and scan agree: both exit 0, or both exit 1 with the same one-line error."""
    positions = tmp_path / "pos.csv"
    positions.write_text(POS)
    for argv in (("zones", "validate", str(path)), ("scan", str(positions), "--zones", str(path))):
        code, err = run(capsys, *argv)
        if pattern is None:
            assert code == 0, (argv, err)
        else:
            assert code == 1, argv
            assert err.count("\n") == 1 and err.startswith("mda: error: "), err
            assert str(path) in err
            assert re.search(pattern, err), err


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_validate_rejects_exactly_what_scan_cannot_use(tmp_path, capsys, case):
    text, pattern = HOSTILE[case]
    path = tmp_path / f"{case}.geojson"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    check_both(tmp_path, capsys, path, pattern)


@pytest.mark.parametrize(
    ("limit", "value", "pattern"),
    [
        ("MAX_FILE_BYTES", 100, r"zone file is .* MiB, over the limit"),
        ("MAX_FEATURES", 3, r"more than 3 features in one file \(5\)"),
        ("MAX_FEATURE_VERTICES", 4, r"'z0': 5 vertices, over the limit of 4"),
        ("MAX_TOTAL_VERTICES", 12, r"'z2': the layer passes 12 vertices here"),
        ("MAX_BOUNDARY_DEG", 10.0, r"'z2': zone boundaries reach 20° .* over the limit of 10°"),
    ],
)
def test_resource_bounds_fail_in_one_line(tmp_path, capsys, monkeypatch, limit, value, pattern):
    monkeypatch.setattr(zone_load, limit, value)
    path = tmp_path / "many.geojson"
    path.write_text(collection(*(feat(f"z{i}", square(i, 0, i + 1, 1)) for i in range(5))))
    check_both(tmp_path, capsys, path, pattern)


def test_size_is_checked_before_reading(tmp_path, monkeypatch):
    """A file over the limit is refused without handing it to the reader at all."""
    path = tmp_path / "huge.geojson"
    path.write_text(collection(feat("a", square(4, 54, 5, 55))))
    monkeypatch.setattr(zone_load, "MAX_FILE_BYTES", 10)

    def boom(*a, **k):
        raise AssertionError("read before the size check")

    monkeypatch.setattr(zone_load.pyogrio, "list_layers", boom)
    with pytest.raises(MdaError, match="over the limit"):
        zones.load_zones(path)


def test_unreadable_shapefile_prj_is_refused(tmp_path, capsys):
    path = tmp_path / "s.shp"
    gpd.GeoDataFrame(
        {"id": ["a"], "kind": ["port"]}, geometry=[shapely.box(4, 54, 5, 55)], crs=4326
    ).to_file(path)
    path.with_suffix(".prj").write_text("GARBAGE[blah]")
    check_both(tmp_path, capsys, path, r"unknown or unreadable CRS \(s\.prj not understood\)")


def test_shapefile_without_prj_is_lon_lat(tmp_path):
    path = tmp_path / "s.shp"
    gpd.GeoDataFrame(
        {"id": ["a"], "kind": ["port"]}, geometry=[shapely.box(4, 54, 5, 55)], crs=4326
    ).to_file(path)
    path.with_suffix(".prj").unlink()
    assert zones.load_zones(path).geometry.iloc[0].bounds == (4, 54, 5, 55)


def test_projected_coordinates_without_a_crs_are_refused(tmp_path):
    """Metres read as degrees (a CRS lost on the way) cannot pass as a zone."""
    path = tmp_path / "m.geojson"
    path.write_text(collection(feat("a", square(500_000, 6e6, 510_000, 6.01e6))))
    with pytest.raises(MdaError, match="'a': latitude 6e\\+06 outside"):
        zones.load_zones(path)


def test_classify_on_a_zone_reaching_the_pole(tmp_path):
    path = tmp_path / "n.geojson"
    path.write_text(collection(feat("a", square(4, 89, 5, 90))))
    z = zones.load_zones(path)
    got = zones.classify(pd.DataFrame({"lon": [4.5, 4.5, 6.0], "lat": [89.5, 90.0, 89.5]}), z)
    assert got["pos"].tolist() == [0]
