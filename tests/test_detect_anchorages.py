"""Anchorages learned from the data: fields of vessels sitting still, never a pair meeting."""

from __future__ import annotations

import pandas as pd
import shapely
from helpers.detect import Leg, context, positions, sail

from mda.cli import main
from mda.config import Config
from mda.detect import encounter
from mda.detect.anchorages import anchorage_zones, learn, vessels_at
from mda.detect.runs import speed
from mda.sources.base import AisData
from mda.store import Store
from mda.zones import load_zones
from mda.zones.importing import write_zones


def _field(n: int = 6, lat: float = 56.0, lon: float = 12.0) -> pd.DataFrame:
    """n ships at anchor 300 m apart for 4 h."""
    return positions(
        *[sail(300 + k, [Leg(240, 0.0)], lat=lat, lon=lon + k * 0.005) for k in range(n)]
    )


def _pair(lat: float = 55.0, lon: float = 15.0) -> pd.DataFrame:
    """Two ships side by side at sea for 4 h: a ship-to-ship transfer."""
    return positions(
        sail(401, [Leg(240, 0.3)], lat=lat, lon=lon),
        sail(402, [Leg(240, 0.3)], lat=lat + 150 / 111_000, lon=lon),
    )


def test_a_field_of_still_ships_is_learned_and_a_pair_is_not():
    pts = positions(_field(), _pair())
    cfg = Config()
    field = learn(pts, speed(pts.assign(speed_kn=float("nan"))), cfg)
    assert vessels_at(field, pd.Series([56.0]), pd.Series([12.01]), cfg).tolist() == [6]
    assert vessels_at(field, pd.Series([55.0]), pd.Series([15.0]), cfg).tolist() == [0]


def test_encounters_inside_a_learned_anchorage_are_info_and_at_sea_medium():
    ctx = context(positions(_field(), _pair()))
    alerts = encounter.detect(ctx, Config())
    at_sea = alerts[alerts["mmsi"] == 401]
    assert at_sea["severity"].tolist() == ["medium"]
    in_field = alerts[alerts["mmsi"] != 401]
    assert len(in_field) and set(in_field["severity"]) == {"info"}
    assert all(e["anchorage_vessels"] >= 5 for e in in_field["evidence"])


def test_learned_anchorages_are_a_valid_zone_layer(tmp_path):
    cfg = Config()
    pts = _field()
    zones = anchorage_zones(learn(pts, speed(pts.assign(speed_kn=float("nan"))), cfg), cfg)
    assert len(zones) == 1 and zones["kind"].tolist() == ["anchorage"]
    out = tmp_path / "anchorages.geojson"
    write_zones(zones.drop(columns="vessels"), out)
    loaded = load_zones(out)
    assert loaded.geometry.iloc[0].contains(shapely.Point(12.01, 56.0))


def test_cli_zones_learn_from_a_store(tmp_path, capsys):
    store = Store(tmp_path / "store")
    store.add(AisData(positions=_field()), source="test")
    store.close()
    out = tmp_path / "learned.geojson"
    assert main(["zones", "learn", "--store", str(tmp_path / "store"), "-o", str(out)]) == 0
    assert "1 anchorage(s) learned" in capsys.readouterr().out
    assert load_zones(out)["kind"].tolist() == ["anchorage"]
