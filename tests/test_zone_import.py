"""mda zones import: every public layer in ../shared/data/geo becomes a zone file that validates."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from conftest import shared_file
from helpers.zones import write_layer

from mda.cli import main
from mda.errors import MdaError
from mda.zones import load_zones
from mda.zones.importing import ENC_CLASSES, HARBOUR_RADIUS_M, import_zones, read_wpi, write_zones

# (file under ../shared/data/geo, expected kinds, expected zone count)
LAYERS = [
    ("nga_wpi_UpdatedPub150.csv", {"port"}, 3766),
    ("usace_principal_ports.geojson", {"port"}, 150),
    ("noaa_charted_submarine_cables/NOAAChartedSubmarineCables.gdb.zip", {"cable"}, 2059),
    ("noaa_USMaritimeLimitsAndBoundariesSHP.zip", {"restricted"}, 260),
    ("noaa_enc/US5FL4DR.000", {"anchorage", "cable", "restricted", "route"}, 84),
    ("noaa_enc/US5MIACC.000", {"cable", "port", "restricted", "route"}, 51),
]


@pytest.mark.parametrize(
    ("rel", "kinds", "count"), LAYERS, ids=[r[0].split("/")[0] for r in LAYERS]
)
def test_real_layer_imports_to_valid_zones(rel, kinds, count, tmp_path):
    src = shared_file(f"geo/{rel}")
    out = tmp_path / "zones.geojson"
    result = import_zones(src)
    write_zones(result.zones, out)
    zones = load_zones(out)  # the validator the scan uses accepts it
    assert len(zones) == count
    assert set(zones["kind"]) == kinds
    assert zones["id"].is_unique and (zones["name"] != "").all()
    assert (zones["source"] != "").all()
    lines_points = shapely.get_type_id(zones["feature_geometry"].values) < 3
    assert (zones.loc[lines_points, "buffer_m"] > 0).all()


def test_wpi_ports_carry_harbour_radius():
    ports, dropped = read_wpi(shared_file("geo/nga_wpi_UpdatedPub150.csv"))
    assert dropped == {"repeated WPI number": 2}
    la = ports.set_index("name").loc["Los Angeles"]
    assert la["radius_m"] == HARBOUR_RADIUS_M["Large"]
    roadstead = ports[ports["harbor_type"] == "Open Roadstead"]
    assert (roadstead["radius_m"] > roadstead["harbor_size"].map(HARBOUR_RADIUS_M).fillna(0)).all()
    zones = import_zones(shared_file("geo/nga_wpi_UpdatedPub150.csv")).zones
    assert "wpi-49454.5" in set(zones["id"])  # fractional WPI numbers kept as they are


def test_enc_anchor_berth_uses_charted_radius():
    zones = import_zones(shared_file("geo/noaa_enc/US5FL4DR.000")).zones
    berths = zones[zones["id"].str.contains("-ACHBRT-")]
    assert len(berths) == 35 and berths["kind"].eq("anchorage").all()
    assert berths["buffer_m"].between(50, 500).all()
    assert berths["buffer_m"].nunique() > 1  # RADIUS per berth, not the class default
    assert ENC_CLASSES["ACHBRT"][1] not in set(berths["buffer_m"])


def _points(tmp_path, props: list[dict]):
    feats = [
        {
            "type": "Feature",
            "properties": p,
            "geometry": {"type": "Point", "coordinates": [10 + i, 55]},
        }
        for i, p in enumerate(props)
    ]
    return write_layer(tmp_path / "mine.geojson", feats)


def test_unknown_layer_needs_kind_and_buffer(tmp_path):
    src = _points(tmp_path, [{"ref": "A"}, {"ref": "B"}])
    with pytest.raises(MdaError, match="give --kind"):
        import_zones(src)
    with pytest.raises(MdaError, match="--buffer-m"):
        import_zones(src, kind="anchorage")
    with pytest.raises(MdaError, match="unknown kind 'harbour'"):
        import_zones(src, kind="harbour", buffer_m=100)
    with pytest.raises(MdaError, match="no column 'nope'"):
        import_zones(src, kind="port", buffer_m=100, id_field="nope")
    zones = import_zones(src, kind="Anchorage", buffer_m=250, id_field="ref").zones
    assert list(zones["id"]) == ["A", "B"] and list(zones["name"]) == ["A", "B"]
    assert (zones["kind"] == "anchorage").all() and (zones["buffer_m"] == 250).all()


def test_bad_features_dropped_and_ids_made_unique(tmp_path):
    src = _points(
        tmp_path, [{"id": "x", "kind": "port"}, {"id": "x", "kind": "port"}, {"kind": "port"}]
    )
    data = json.loads(src.read_text())
    data["features"].append(
        {"type": "Feature", "properties": {"id": "e", "kind": "port"}, "geometry": None}
    )
    src.write_text(json.dumps(data))
    result = import_zones(src, buffer_m=500)
    assert list(result.zones["id"]) == ["x", "x-2", "mine-3"]
    assert result.dropped["feature without a point, line or polygon geometry"] == 1
    assert result.changed["repeated id made unique (suffix -2, -3, ...)"] == 1
    out = tmp_path / "out.geojson"
    write_zones(result.zones, out)
    assert len(load_zones(out)) == 3


def test_csv_with_lat_lon_columns(tmp_path):
    src = tmp_path / "berths.csv"
    src.write_text("name,lat,lon\n=cmd(),55.1,10.2\nbad,95,10\n")
    result = import_zones(src, kind="port", buffer_m=300)
    assert len(result.zones) == 1 and result.zones["name"][0] == "=cmd()"
    assert result.dropped["CSV row without a valid latitude/longitude"] == 1


def test_cli_import_then_validate(tmp_path, capsys):
    src = shared_file("geo/usace_principal_ports.geojson")
    out = tmp_path / "usace.geojson"
    assert main(["zones", "import", str(src), "-o", str(out)]) == 0
    assert "150 zones (150 port) from USACE principal ports" in capsys.readouterr().out
    assert main(["zones", "validate", str(out)]) == 0
    assert gpd.read_file(out)["id"].str.startswith("usace-port-").all()


def test_cli_unknown_layer_is_one_line_error(tmp_path, capsys):
    src = _points(tmp_path, [{"ref": "A"}])
    assert main(["zones", "import", str(src), "-o", str(tmp_path / "o.geojson")]) == 1
    err = capsys.readouterr().err.strip()
    assert "give --kind" in err and len(err.splitlines()) == 1
