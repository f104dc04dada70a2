"""Zone layers: loading, validation, metric buffers, antimeridian, classify, distances, CLI."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import shared_file
from helpers.cli import run_cli
from helpers.zones import feature, line, point, polygon, write_layer

from mda import schema
from mda.errors import MdaError
from mda.geo import EARTH_RADIUS_M, haversine_m
from mda.zones import (
    BUNDLED_DIR,
    classify,
    demo_zone_files,
    format_zone_table,
    load_zones,
    zone_area_km2,
    zone_at,
    zone_distance_m,
)

REQUIRED_IDS = """
port-busan port-incheon port-ulsan port-gwangyang port-pyeongtaek-dangjin port-rotterdam
port-antwerp-bruges port-hamburg port-bremerhaven port-le-havre port-gdansk port-piraeus
port-valencia port-algeciras port-tallinn-muuga port-helsinki-vuosaari port-klaipeda
port-shanghai port-ningbo port-kaohsiung port-singapore port-port-klang port-colombo port-jeddah
port-port-said port-suez port-nampo port-rason port-vladivostok port-vostochny port-ust-luga
port-primorsk anchorage-busan-outer anchorage-rotterdam-maas anchorage-singapore-eastern
anchorage-gdansk-roads anchorage-port-said-waiting cable-estlink-1 cable-estlink-2
cable-balticconnector cable-c-lion1 cable-bcs-east-west cable-korea-japan-busan cable-jeju-hvdc-1
cable-jeju-hvdc-2 cable-smw-marseille cable-smw-suez-crossing cable-smw-djibouti cable-smw-mumbai
cable-smw-singapore route-korea-europe restricted-ecs-sts-hotspot restricted-exercise-area
""".split()  # noqa: SIM905


def one(tmp_path, *features, name="z.geojson") -> gpd.GeoDataFrame:
    return load_zones(write_layer(tmp_path / name, list(features)))


def positions(lon, lat) -> pd.DataFrame:
    return pd.DataFrame({"lon": np.asarray(lon, float), "lat": np.asarray(lat, float)})


def pairs(df: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(df["pos"].tolist(), df["zone"].tolist(), strict=True))


def sjoin_pairs(pos: pd.DataFrame, zones: gpd.GeoDataFrame) -> set[tuple[int, int]]:
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pos["lon"], pos["lat"]), crs=4326)
    j = gpd.sjoin(pts, zones[["geometry"]].reset_index(drop=True), predicate="within")
    return set(zip(j.index.tolist(), j["index_right"].tolist(), strict=True))


@pytest.fixture(scope="module")
def bundled() -> gpd.GeoDataFrame:
    return load_zones(demo_zone_files())  # every layer we ship, the illustrative ones too


def test_illustrative_zones_load_only_on_request():
    default = load_zones()
    assert not default["name"].str.startswith("ILLUSTRATIVE").any()
    assert "restricted" not in set(default["kind"])
    assert {"restricted-exercise-area"} <= set(load_zones(demo_zone_files())["id"])


# ------------------------------------------------------------------------------------------
# buffers in metres


@pytest.mark.parametrize("lat", [0.0, 60.0, -45.0])
def test_point_buffer_is_a_circle_in_metres(tmp_path, lat):
    z = one(tmp_path, feature("p", point(10.0, lat), buffer_m=1000))
    ring = shapely.get_coordinates(z.geometry.iloc[0].exterior)
    d = haversine_m(lat, 10.0, ring[:, 1], ring[:, 0])
    assert np.allclose(d, 1000.0, atol=1.0)
    half_span = (ring[:, 0].max() - ring[:, 0].min()) / 2
    expected = np.degrees(1000.0 / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    assert half_span == pytest.approx(expected, rel=1e-3)  # 0.018° of longitude at 60° N
    assert zone_area_km2(z)[0] == pytest.approx(np.pi, rel=0.01)


@pytest.mark.parametrize("lat", [0.0, 60.0])
def test_line_buffer_has_constant_half_width(tmp_path, lat):
    z = one(tmp_path, feature("c", line((10.0, lat - 0.2), (10.0, lat + 0.2)), "cable", 1852))
    ring = shapely.get_coordinates(z.geometry.iloc[0].exterior)
    side = np.abs(ring[:, 1] - lat) < 0.15  # away from the round caps
    d = haversine_m(ring[side, 1], ring[side, 0], ring[side, 1], 10.0)
    assert side.sum() > 4
    assert np.allclose(d, 1852.0, rtol=1e-3)
    length_km = haversine_m(lat - 0.2, 10, lat + 0.2, 10) / 1000
    expected = length_km * 2 * 1.852 + np.pi * 1.852**2
    assert zone_area_km2(z)[0] == pytest.approx(expected, rel=0.01)


def test_polygon_with_buffer_grows_by_metres(tmp_path):
    sq = polygon((0, 0), (0.1, 0), (0.1, 0.1), (0, 0.1))
    z = one(tmp_path, feature("a", sq, "restricted"), feature("b", sq, "restricted", 500))
    a, b = z.geometry.iloc[0], z.geometry.iloc[1]
    assert b.contains(a)
    east = shapely.get_coordinates(b)[:, 0].max()
    assert haversine_m(0.05, 0.1, 0.05, east) == pytest.approx(500, rel=1e-3)


def test_feature_geometry_keeps_the_drawn_shape(tmp_path):
    z = one(tmp_path, feature("c", line((1, 1), (2, 2)), "cable", 100))
    assert z["feature_geometry"].iloc[0].geom_type == "LineString"
    assert z.geometry.iloc[0].geom_type == "Polygon"
    assert list(z.columns[:5]) == list(schema.ZONES)
    assert {"feature_geometry", "file", "geometry"} <= set(z.columns)
    assert z.crs.to_epsg() == 4326
    assert z["file"].iloc[0].endswith("z.geojson")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_loaded_zones_write_with_to_file(tmp_path, bundled, suffix):
    """The finding: to_file raised "GeoDataFrame contains multiple geometry columns"."""
    import pyogrio

    out = tmp_path / f"zones{suffix}"
    bundled.to_file(out, engine="pyogrio")
    back = pyogrio.read_dataframe(out)
    assert back.crs.to_epsg() == 4326
    assert back["id"].tolist() == bundled["id"].tolist()
    assert back.geometry.hausdorff_distance(bundled.geometry).max() < 1e-6  # GeoJSON rounds
    drawn = shapely.from_wkt(back["feature_geometry"].to_numpy(dtype=object))
    assert shapely.equals_exact(drawn, bundled["feature_geometry"].to_numpy(), 1e-9).all()


# ------------------------------------------------------------------------------------------
# antimeridian


@pytest.mark.parametrize(
    "coords",
    [((170.0, 10.0), (-170.0, 10.0)), ((170.0, 10.0), (190.0, 10.0))],
    ids=["wrap", ">180"],
)
def test_line_across_antimeridian_is_split_not_wrapped(tmp_path, coords):
    z = one(tmp_path, feature("r", line(*coords), "route", 5000))
    g = z.geometry.iloc[0]
    assert g.geom_type == "MultiPolygon"
    widths = [p.bounds[2] - p.bounds[0] for p in g.geoms]
    assert max(widths) < 11  # each side spans about 10°, never the whole globe
    assert g.bounds[0] >= -180 and g.bounds[2] <= 180
    length_km = haversine_m(10, 170, 10, -170) / 1000
    assert zone_area_km2(z)[0] == pytest.approx(length_km * 10, rel=0.02)
    fg = z["feature_geometry"].iloc[0]
    assert fg.geom_type == "MultiLineString" and fg.bounds[2] <= 180
    got = classify(positions([179.9, -179.9, 0.0, 175.0], [10, 10, 10, 10.2]), z)
    assert pairs(got) == {(0, 0), (1, 0)}


def test_polygon_across_antimeridian(tmp_path):
    sq = polygon((175, -5), (-175, -5), (-175, 5), (175, 5))
    z = one(tmp_path, feature("x", sq, "restricted"))
    assert z.geometry.iloc[0].geom_type == "MultiPolygon"
    got = classify(positions([179, -179, 0, 170], [0, 0, 0, 0]), z)
    assert pairs(got) == {(0, 0), (1, 0)}


# ------------------------------------------------------------------------------------------
# validation


def assert_error(path: Path, pattern: str, *features) -> None:
    if features:
        write_layer(path, list(features))
    with pytest.raises(MdaError) as e:
        load_zones(path)
    msg = str(e.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert re.search(pattern, msg), msg


def test_missing_file(tmp_path):
    assert_error(tmp_path / "nope.geojson", "no such zone file")


def test_unreadable_file(tmp_path):
    p = tmp_path / "bad.geojson"
    p.write_text("{this is not json")
    assert_error(p, "cannot read zone layer")


def test_unknown_kind(tmp_path):
    assert_error(
        tmp_path / "k.geojson",
        r"'a'.*unknown kind 'harbour'",
        feature("a", point(0, 0), "harbour", 10),
    )


def test_missing_id_named_by_index(tmp_path):
    f = feature("a", point(0, 0), buffer_m=10)
    g = feature("", point(1, 1), buffer_m=10)
    assert_error(tmp_path / "i.geojson", r"#1 \(no id\).*missing id", f, g)


def test_duplicate_id_in_one_file(tmp_path):
    f = feature("a", point(0, 0), buffer_m=10)
    assert_error(tmp_path / "d.geojson", "'a'.*duplicate id", f, f)


def test_duplicate_id_across_files(tmp_path):
    a = write_layer(tmp_path / "a.geojson", [feature("x", point(0, 0), buffer_m=10)])
    b = write_layer(tmp_path / "b.geojson", [feature("x", point(1, 1), buffer_m=10)])
    with pytest.raises(
        MdaError, match=r"b\.geojson: feature 'x': duplicate id \(also in .*a\.geojson\)"
    ):
        load_zones([a, b])


def test_point_without_buffer(tmp_path):
    assert_error(tmp_path / "b.geojson", "'p'.*needs buffer_m", feature("p", point(0, 0)))


def test_negative_buffer(tmp_path):
    assert_error(
        tmp_path / "n.geojson", "'p'.*buffer_m -5 must be", feature("p", point(0, 0), buffer_m=-5)
    )


def test_non_numeric_buffer(tmp_path):
    f = feature("p", point(0, 0), buffer_m="wide")
    g = feature("q", point(0, 0), buffer_m=10)
    assert_error(tmp_path / "s.geojson", "'p'.*'wide' is not a number", f, g)


def test_empty_geometry(tmp_path):
    f = {"type": "Feature", "properties": {"id": "e", "kind": "port"}, "geometry": None}
    assert_error(
        tmp_path / "e.geojson", "'e'.*empty geometry", f, feature("ok", point(0, 0), buffer_m=1)
    )


def test_unrepairable_polygon(tmp_path):
    flat = polygon((0, 0), (1, 1), (2, 2))  # all on one line: no area left after repair
    assert_error(
        tmp_path / "f.geojson", "'flat'.*cannot be repaired", feature("flat", flat, "restricted")
    )


def test_bow_tie_is_repaired_with_a_warning(tmp_path, caplog):
    bow = polygon((0, 0), (1, 1), (1, 0), (0, 1))
    p = write_layer(tmp_path / "bow.geojson", [feature("bow", bow, "restricted")])
    with caplog.at_level("WARNING", logger="mda.zones"):
        z = load_zones(p)
    assert re.search(r"bow\.geojson: feature 'bow': repaired invalid polygon", caplog.text)
    g = z.geometry.iloc[0]
    assert g.is_valid and g.area == pytest.approx(0.5)
    assert pairs(classify(positions([0.1, 0.9, 0.5], [0.5, 0.5, 0.9]), z)) == {(0, 0), (1, 0)}


def test_optional_source_and_name(tmp_path):
    props = {"id": "a", "kind": "Port", "buffer_m": 10, "source": "WPI"}
    f = {"type": "Feature", "properties": props, "geometry": point(0, 0)}
    z = one(tmp_path, f)
    assert z["name"].iloc[0] == "a" and z["source"].iloc[0] == "WPI" and z["kind"].iloc[0] == "port"


def test_reprojects_and_reads_every_geopackage_layer(tmp_path):
    p = tmp_path / "z.gpkg"
    a = gpd.GeoDataFrame(
        {"id": ["m"], "kind": ["restricted"]},
        geometry=[shapely.box(0, 0, 100_000, 100_000)],
        crs=3857,
    )
    b = gpd.GeoDataFrame(
        {"id": ["n"], "kind": ["port"], "buffer_m": [1000.0]},
        geometry=[shapely.Point(5, 5)],
        crs=4326,
    )
    a.to_file(p, layer="areas")
    b.to_file(p, layer="ports")
    z = load_zones(p)
    assert sorted(z["id"]) == ["m", "n"]
    m = z.geometry[z["id"] == "m"].iloc[0]
    assert m.bounds[2] == pytest.approx(100_000 / 6378137 * 180 / np.pi, rel=1e-6)


# ------------------------------------------------------------------------------------------
# classification


def random_points(zones: gpd.GeoDataFrame, n: int, seed: int) -> pd.DataFrame:
    """Points near the zones (often on the edges) and some anywhere."""
    rng = np.random.default_rng(seed)
    ring = shapely.get_coordinates(shapely.boundary(zones.geometry.values))
    near = ring[rng.integers(0, len(ring), n // 2)] + rng.normal(0, 0.02, (n // 2, 2))
    anywhere = np.column_stack(
        [rng.uniform(-180, 180, n - n // 2), rng.uniform(-85, 85, n - n // 2)]
    )
    xy = np.concatenate([near, anywhere])
    xy[:, 0] = np.clip(xy[:, 0], -180, 180)
    return positions(xy[:, 0], xy[:, 1])


def test_classify_matches_sjoin_on_bundled_layers(bundled):
    vertices = shapely.get_coordinates(bundled.geometry.values)  # exactly on zone boundaries
    pos = pd.concat(
        [random_points(bundled, 40_000, seed=3), positions(vertices[:, 0], vertices[:, 1])],
        ignore_index=True,
    )
    got = classify(pos, bundled)
    assert got.dtypes.tolist() == [np.int64, np.int64]
    assert len(got) > 1000
    assert pairs(got) == sjoin_pairs(pos, bundled)
    assert got["pos"].is_monotonic_increasing


def test_classify_matches_sjoin_on_user_layers(tmp_path):
    rng = np.random.default_rng(7)
    feats = [
        feature(f"p{i}", point(float(x), float(y)), buffer_m=float(r))
        for i, (x, y, r) in enumerate(
            zip(
                rng.uniform(-10, 10, 60),
                rng.uniform(50, 65, 60),
                rng.uniform(200, 30000, 60),
                strict=True,
            )
        )
    ]
    feats.append(feature("sq", polygon((-5, 55), (5, 55), (5, 60), (-5, 60)), "restricted"))
    z = one(tmp_path, *feats)
    pos = random_points(z, 20_000, seed=11)
    assert pairs(classify(pos, z)) == sjoin_pairs(pos, z)


def test_boundary_rule_and_grid_edges(tmp_path):
    z = one(tmp_path, feature("sq", polygon((0, 0), (1, 0), (1, 1), (0, 1)), "restricted"))
    # on the edge or a vertex: outside (like sjoin "within"); on grid-cell edges inside: inside
    lon = [0.5, 0.0, 1.0, 0.5, 0.5, 0.25, 1 / 32, 0.999999]
    lat = [0.0, 0.0, 0.5, 1.0, 0.5, 0.25, 3 / 32, 0.5]
    got = pairs(classify(positions(lon, lat), z))
    assert got == {(4, 0), (5, 0), (6, 0), (7, 0)}
    assert got == sjoin_pairs(positions(lon, lat), z)


def test_zone_index_disk_cache_is_reused_keyed_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    from mda.zones import index

    cache = tmp_path / "cache"
    monkeypatch.setenv("MDA_CACHE_DIR", str(cache))
    monkeypatch.setattr(index, "_INDEX_CACHE", type(index._INDEX_CACHE)())
    builds = []
    build = index._build_index
    monkeypatch.setattr(index, "_build_index", lambda g: builds.append(len(g)) or build(g))
    sq = one(tmp_path, feature("sq", polygon((0, 0), (1, 0), (1, 1), (0, 1)), "restricted"))
    files = list(cache.glob("zone-index-*.npz"))
    assert len(files) == 1 and len(builds) == 1  # built and written as the zones load
    pts = positions([0.5, 0.5, 1.5], [0.5, 1.0, 0.5])
    want = pairs(classify(pts, sq))
    assert want == {(0, 0)} and len(builds) == 1
    index._INDEX_CACHE.clear()  # as in a fresh process: the file is used, not rebuilt
    sq = one(tmp_path, feature("sq", polygon((0, 0), (1, 0), (1, 1), (0, 1)), "restricted"))
    assert pairs(classify(pts, sq)) == want
    assert len(builds) == 1
    # another geometry gets another file; a damaged file is rebuilt and rewritten
    big = one(tmp_path, feature("sq", polygon((0, 0), (2, 0), (2, 2), (0, 2)), "restricted"))
    assert pairs(classify(pts, big)) == {(0, 0), (1, 0), (2, 0)}
    assert len(list(cache.glob("zone-index-*.npz"))) == 2 and len(builds) == 2
    files[0].write_bytes(b"not an index")
    index._INDEX_CACHE.clear()
    sq = one(tmp_path, feature("sq", polygon((0, 0), (1, 0), (1, 1), (0, 1)), "restricted"))
    assert pairs(classify(pts, sq)) == want
    assert len(builds) == 3 and files[0].stat().st_size > 100
    # "off" writes nothing
    monkeypatch.setenv("MDA_CACHE_DIR", "off")
    other = one(tmp_path, feature("t", polygon((5, 5), (6, 5), (6, 6)), "restricted"))
    assert len(classify(positions([5.9], [5.1]), other)) == 1
    assert len(list(cache.glob("zone-index-*.npz"))) == 2 and len(builds) == 4


def test_classify_reads_and_writes_no_file_and_never_uses_a_stale_index(tmp_path, monkeypatch):
    """The index is built as zones load; a copy, slice or changed table gets its own, in memory."""
    from mda.zones import index

    monkeypatch.setenv("MDA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(index, "_INDEX_CACHE", type(index._INDEX_CACHE)())
    z = one(
        tmp_path,
        feature("a", polygon((0, 0), (1, 0), (1, 1), (0, 1)), "restricted"),
        feature("b", polygon((2, 0), (3, 0), (3, 1), (2, 1)), "cable"),
    )

    def no_disk(*a, **k):
        raise AssertionError("disk cache used while classifying")

    monkeypatch.setattr(index, "_load_index", no_disk)
    monkeypatch.setattr(index, "_save_index", no_disk)
    monkeypatch.setenv("MDA_CACHE_DIR", str(tmp_path / "elsewhere"))
    builds = []
    build = index._build_index
    monkeypatch.setattr(index, "_build_index", lambda g: builds.append(len(g)) or build(g))
    pts = positions([0.5, 2.5, 5.0], [0.5, 0.5, 0.5])
    assert pairs(classify(pts, z)) == {(0, 0), (1, 1)} and not builds
    assert pairs(classify(pts, z.copy())) == {(0, 0), (1, 1)}  # same zones: in memory already
    assert pairs(classify(pts, z.iloc[::-1])) == {(0, 1), (1, 0)}
    assert pairs(classify(pts, z.iloc[[1]])) == {(1, 0)}
    z.loc[0, "geometry"] = shapely.box(4, 0, 6, 1)  # changed in place: its index is stale
    assert pairs(classify(pts, z)) == {(1, 1), (2, 0)}
    assert len(builds) == 3 and not (tmp_path / "elsewhere").exists()
    assert zone_at([0.5, 0.5, 0.5], [5.0, 2.5, 9.0], z, ["cable", "restricted"]).tolist() == [
        0,
        1,
        -1,
    ]


def test_point_in_several_zones(tmp_path):
    z = one(
        tmp_path,
        feature("port", point(10, 55), buffer_m=5000),
        feature("cable", line((9.9, 55), (10.3, 55)), "cable", 1852),
        feature("area", polygon((9, 54), (11, 54), (11, 56), (9, 56)), "restricted"),
    )
    got = classify(positions([10.0, 10.2, 10.5, 12.0], [55.0, 55.0, 55.5, 55.0]), z)
    assert pairs(got) == {(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)}


def test_classify_empty_and_bad_inputs(tmp_path, bundled):
    empty = classify(positions([], []), bundled)
    assert len(empty) == 0 and list(empty.columns) == ["pos", "zone"]
    assert empty.dtypes.tolist() == [np.int64, np.int64]
    assert len(classify(positions([4.1], [51.95]), bundled.iloc[0:0])) == 0
    got = classify(positions([np.nan, 4.1, 181.0], [51.95, np.nan, 51.95]), bundled)
    assert len(got) == 0
    blank = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Polygon()], crs=4326)
    assert len(classify(positions([1.0], [2.0]), blank)) == 0


def test_classify_uses_row_positions_not_labels(bundled):
    pos = positions([0.0, 4.1], [0.0, 51.95]).set_axis([100, 200])
    got = classify(pos, bundled.iloc[::-1])
    zones = bundled.iloc[::-1]
    assert set(got["pos"]) == {1}
    assert "port-rotterdam" in set(zones["id"].iloc[got["zone"]])


# ------------------------------------------------------------------------------------------
# distances


def test_zone_distance_m(tmp_path):
    z = one(
        tmp_path,
        feature("port", point(20.0, 60.0), buffer_m=5000),
        feature("cable", line((0, 0), (1, 0)), "cable", 1000),
    )
    north = 60 + np.degrees(15_000 / EARTH_RADIUS_M)
    east = 20 + np.degrees(15_000 / (EARTH_RADIUS_M * np.cos(np.radians(60))))
    d = zone_distance_m(
        [north, 60.0, 60.0, np.nan, 0.5], [20.0, east, 20.0, 20.0, 0.5], z, ["port"]
    )
    assert d[0] == pytest.approx(10_000, rel=0.01)
    assert d[1] == pytest.approx(10_000, rel=0.01)
    assert d[2] == 0.0
    assert np.isnan(d[3])
    assert d[4] > 4_000_000
    assert np.all(np.isinf(zone_distance_m([0.0], [0.0], z, ["anchorage"])))
    dc = zone_distance_m([0.5], [0.5], z, ["cable", "port"])
    assert dc[0] == pytest.approx(haversine_m(0.5, 0.5, 0.0, 0.5) - 1000, rel=0.01)


def test_zone_distance_across_antimeridian(tmp_path):
    z = one(tmp_path, feature("p", point(179.95, 0.0), buffer_m=1000))
    d = zone_distance_m([0.0], [-179.95], z, ["port"])
    assert d[0] == pytest.approx(haversine_m(0, 179.95, 0, -179.95) - 1000, rel=0.01)


# ------------------------------------------------------------------------------------------
# bundled layers


def test_bundled_layers_have_required_ids_and_kinds(bundled):
    ids = set(bundled["id"])
    assert set(REQUIRED_IDS) <= ids
    assert set(bundled["kind"]) == set(schema.ZONE_KINDS)
    assert bundled.geometry.is_valid.all()
    assert bundled.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (bundled["source"].str.len() > 10).all()
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)
    cables = bundled[bundled["kind"] == "cable"]
    assert (cables["buffer_m"] == 1852).all()
    assert bundled["name"][bundled["kind"] == "restricted"].str.startswith("ILLUSTRATIVE").all()


def test_every_bundled_feature_is_in_sources_md(bundled):
    text = (BUNDLED_DIR / "SOURCES.md").read_text(encoding="utf-8")
    missing = [i for i in bundled["id"] if f"`{i}`" not in text]
    assert not missing


def test_bundled_ports_contain_their_wpi_reference(bundled):
    # spot checks: the port zone covers the NGA WPI reference point of the port
    checks = {
        "port-busan": (35.1, 129.0333),
        "port-rotterdam": (51.9, 4.4833),
        "port-gdansk": (54.35, 18.6667),
    }
    idx = {i: k for k, i in enumerate(bundled["id"])}
    for fid, (lat, lon) in checks.items():
        got = classify(positions([lon], [lat]), bundled)
        assert idx[fid] in set(got["zone"]), fid


def test_bundled_cables_and_routes_stay_at_sea(bundled):
    land_file = shared_file("geo/naturalearth_world-atlas_land-10m.topojson")
    land = shapely.STRtree(shapely.get_parts(gpd.read_file(land_file).geometry.values))
    cables = bundled[bundled["kind"] == "cable"]
    for fid, g in zip(cables["id"], cables["feature_geometry"], strict=True):
        ends = shapely.points(shapely.get_coordinates(g)[[0, -1]])
        middle = g.difference(shapely.union_all(shapely.buffer(ends, 0.05)))
        assert len(land.query(middle, predicate="intersects")) == 0, fid
    # the modelled lane may touch land in canals and narrow straits, but only briefly
    route = bundled.loc[bundled["id"] == "route-korea-europe", "feature_geometry"].iloc[0]
    hits = land.geometries[land.query(route, predicate="intersects")]
    on_land = shapely.union_all(shapely.intersection(route, shapely.make_valid(hits)))
    assert on_land.length / route.length < 0.01


def test_format_zone_table(bundled):
    text = format_zone_table(bundled)
    first = text.splitlines()[0]
    assert first.startswith(f"{len(bundled)} zones: ")
    assert "32 port" in first and "restricted" in first
    assert "port-busan" in text and "cable-estlink-1" in text
    assert text.index("\nport (") < text.index("\nanchorage (") < text.index("\ncable (")
    assert format_zone_table(bundled.iloc[0:0]) == "no zones"


# ------------------------------------------------------------------------------------------
# CLI


def test_cli_zones_list_and_validate(tmp_path):
    r = run_cli("zones", "list")
    assert r.returncode == 0, r.stderr
    assert "port-busan" in r.stdout and "route-korea-europe" in r.stdout
    files = sorted(str(p) for p in BUNDLED_DIR.glob("*.geojson"))
    r = run_cli("zones", "validate", *files)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"ok: {len(load_zones())} zones in {len(files)} file(s)"


def test_cli_zones_validate_bad_file(tmp_path):
    p = write_layer(tmp_path / "bad.geojson", [feature("x", point(0, 0), "harbour", 10)])
    r = run_cli("zones", "validate", str(p))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.geojson" in lines[0] and "'x'" in lines[0]
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------
# real public layers (skipped when ../shared/data is absent)


def test_real_usace_ports_layer(tmp_path):
    src = gpd.read_file(shared_file("geo/usace_principal_ports.geojson"))
    src["id"] = [f"usace-{i}" for i in range(len(src))]
    src["kind"] = "port"
    src["buffer_m"] = 5000.0
    src["name"] = src["PORT_NAME"]
    p = tmp_path / "usace.geojson"
    src.to_file(p)
    z = load_zones(p)
    assert len(z) == len(src) == 150
    assert z.geometry.is_valid.all()
    ring = shapely.get_coordinates(z.geometry.iloc[0].exterior)
    c = src.geometry.iloc[0]
    assert np.allclose(haversine_m(c.y, c.x, ring[:, 1], ring[:, 0]), 5000, rtol=1e-3)
    got = classify(positions(src.geometry.x, src.geometry.y), z)
    assert set(got["pos"]) == set(range(150))


def test_real_noaa_cables_layer(tmp_path):
    path = shared_file("geo/noaa_charted_submarine_cables/NOAAChartedSubmarineCables.gdb.zip")
    src = gpd.read_file(path).iloc[:400]  # NAD83 MultiLineStrings
    assert src.crs.to_epsg() == 4269
    src = src[~src.geometry.is_empty].copy()
    src["id"] = [f"noaa-{i}" for i in range(len(src))]
    src["kind"] = "cable"
    src["buffer_m"] = 500.0
    p = tmp_path / "cables.gpkg"
    src[["id", "kind", "buffer_m", "geometry"]].to_file(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = load_zones(p)
    assert len(z) == len(src)
    assert z.geometry.is_valid.all() and z.crs.to_epsg() == 4326
    assert (z.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    # a vertex of each cable is inside its own corridor
    first = shapely.get_coordinates(
        shapely.get_point(shapely.get_geometry(src.geometry.values, 0), 1)
    )
    got = classify(positions(first[:, 0], first[:, 1]), z)
    own = got[got["pos"] == got["zone"]]
    assert len(own) == len(src)


def test_bundled_anchorages_lie_at_sea(bundled):
    land_file = shared_file("geo/naturalearth_world-atlas_land-10m.topojson")
    land = shapely.STRtree(shapely.get_parts(gpd.read_file(land_file).geometry.values))
    anchorages = bundled[bundled["kind"] == "anchorage"]
    assert len(anchorages) >= 5
    for fid, g in zip(anchorages["id"], anchorages["feature_geometry"], strict=True):
        assert len(land.query(g, predicate="intersects")) == 0, fid


def test_directory_input_and_no_files(tmp_path):
    write_layer(tmp_path / "a.geojson", [feature("a", point(0, 0), buffer_m=10)])
    write_layer(tmp_path / "b.geojson", [feature("b", point(1, 1), buffer_m=10)])
    (tmp_path / "notes.txt").write_text("not a layer")
    assert sorted(load_zones(tmp_path)["id"]) == ["a", "b"]
    with pytest.raises(MdaError, match="no zone files given"):
        load_zones([])


def test_detector_context_membership_from_real_tracks(bundled):
    """Integration: tracks.build_tracks points -> detect.base.Context.in_kinds via classify."""
    from mda.detect.base import Context
    from mda.tracks import build_tracks

    ts = pd.date_range("2026-01-01", periods=4, freq="10min", tz="UTC")
    pos = pd.DataFrame(
        {
            "mmsi": np.uint32(440123456),
            "ts": ts,
            "lat": [35.10, 35.08, 34.95, 34.80],  # Busan port, then out through the anchorage
            "lon": [129.03, 129.06, 129.20, 129.35],
            "sog": np.float32(10),
            "msg_type": np.uint8(1),
        }
    )
    tracks = build_tracks(pos)
    ctx = Context(tracks=tracks, zones=bundled)
    in_port = ctx.in_kinds(["port"])
    assert len(in_port) == len(tracks.points)
    assert in_port.tolist() == [True, True, False, False]


def test_cli_validate_reports_a_repair_on_one_line(tmp_path):
    bow = polygon((0, 0), (1, 1), (1, 0), (0, 1))
    p = write_layer(tmp_path / "bow.geojson", [feature("bow", bow, "restricted")])
    r = run_cli("zones", "validate", str(p))
    assert r.returncode == 0
    assert r.stdout.strip() == "ok: 1 zones in 1 file(s)"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "'bow': repaired invalid polygon" in lines[0]


def test_zone_distance_accuracy_at_high_latitude(tmp_path):
    z = one(tmp_path, feature("p", point(25.0, 65.0), buffer_m=5000))
    rng = np.random.default_rng(5)
    lat = 65 + rng.uniform(-0.4, 0.4, 500)
    lon = 25 + rng.uniform(-0.9, 0.9, 500)
    d = zone_distance_m(lat, lon, z, ["port"])
    truth = np.maximum(haversine_m(lat, lon, 65.0, 25.0) - 5000, 0)
    far = truth > 1000
    assert np.all(d[far] >= truth[far] * 0.999)
    assert np.all(d[far] <= truth[far] * 1.02)
    assert np.all(d[truth == 0] == 0)
