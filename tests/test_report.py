"""Map reports: layers, counts, escaping of hostile AIS text, offline assets, edge cases."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers.nmea import nmea_file, timed_line

from mda import schema
from mda.mid import flag_of
from mda.report import build_report, layers, offline, render_map
from mda.tracks import build_tracks

T0 = pd.Timestamp("2026-03-02 00:00", tz="UTC")
HOSTILE = ("<IMG SRC=X ONERROR=ALERT(1)>", '"><script>alert(1)</script>')
ASSET_REF = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*https?:"
    r"|url\(\s*[\"']?\s*https?:|@import\s+[\"']?https?:",
    re.IGNORECASE,
)


def _vessel(mmsi, lat0, lon0, dlat, dlon, *, minutes=360, sog=12.0, skip=None, wiggle=0.0):
    """One vessel's fixes every minute along a (wiggly) straight line; `skip` = silent minutes."""
    k = np.arange(minutes)
    if skip is not None:
        k = k[(k < skip[0]) | (k >= skip[1])]
    f = k / minutes
    return pd.DataFrame(
        {
            "mmsi": mmsi,
            "ts": T0 + pd.to_timedelta(k, "min"),
            "lat": lat0 + dlat * f + wiggle * np.sin(k / 7.0),
            "lon": lon0 + dlon * f,
            "sog": sog,
            "cog": 135.0,
            "heading": 131.0,
            "nav_status": 0,
            "msg_type": 1,
            "source": "synthetic",
        }
    )


def scenario() -> dict:
    """Six vessels in the Korea Strait for 6 h: a gap, an encounter, a zone entry, hostile names."""
    pos = pd.concat(
        [
            _vessel(440100001, 35.00, 129.20, -1.0, 1.2, skip=(120, 220), wiggle=0.004),
            _vessel(440100002, 34.70, 129.40, 0.02, 0.02, sog=0.8),
            _vessel(440100003, 34.80, 129.10, -0.10, 0.31, sog=1.0),
            _vessel(351000004, 34.30, 129.30, 0.40, 0.40, sog=9.0),
            _vessel(219000005, 34.20, 128.60, 0.60, 1.60, sog=18.0),
            _vessel(636000006, 35.30, 129.60, -0.20, -0.50, sog=6.0),
        ],
        ignore_index=True,
    )
    tracks = build_tracks(schema.conform(pos, schema.POSITIONS))
    vessels = schema.conform(
        pd.DataFrame(
            {
                "mmsi": [440100001, 440100002, 440100003, 351000004, 219000005, 636000006],
                "name": [HOSTILE[0], HOSTILE[1], "SEA & STAR", "PANAMAX (1) [=+]", "DANA", "LIB"],
                "callsign": ["D7AB", "=cmd|' /C calc'!A0", "", "", "OZ1", ""],
                "ship_type": [70, 80, 30, 70, 60, 52],
                "destination": ["BUSAN", "<b>x</b>", "", "", "", ""],
            }
        ),
        schema.VESSELS,
    )
    gap0 = pos[(pos.mmsi == 440100001) & (pos.ts < T0 + pd.Timedelta(minutes=120))].iloc[-1]
    gap1 = pos[(pos.mmsi == 440100001) & (pos.ts >= T0 + pd.Timedelta(minutes=220))].iloc[0]
    alerts = pd.DataFrame(
        {
            "type": ["ais_gap", "encounter", "zone_entry", "loitering", "port_visit"],
            "severity": ["high", "medium", "critical", "low", "info"],
            "mmsi": [440100001, 440100002, 351000004, 440100002, 636000006],
            "other_mmsi": [None, 440100003, None, None, None],
            "vessel_name": [HOSTILE[0], HOSTILE[1], "PANAMAX", HOSTILE[1], "LIB"],
            "start": [
                gap0.ts,
                T0 + pd.Timedelta("2h"),
                T0 + pd.Timedelta("3h"),
                T0 + pd.Timedelta("1h"),
                T0 + pd.Timedelta("5h"),
            ],
            "end": [
                gap1.ts,
                T0 + pd.Timedelta("4h"),
                T0 + pd.Timedelta("3h"),
                T0 + pd.Timedelta("5h"),
                pd.NaT,
            ],
            "lat": [gap0.lat, 34.71, 34.50, 34.71, 35.25],
            "lon": [gap0.lon, 129.41, 129.50, 129.41, 129.48],
            "zone_id": [None, None, "r1", None, "p1"],
            "zone_kind": [None, None, "restricted", None, "port"],
            "zone_name": [None, None, "Firing <range>", None, "Port & co"],
            "evidence": [
                {
                    "lat0": gap0.lat,
                    "lon0": gap0.lon,
                    "lat1": gap1.lat,
                    "lon1": gap1.lon,
                    "hours": 1.67,
                },
                {"other_lat": 34.74, "other_lon": 129.45, "min_distance_m": 210.0, "hours": 2.0},
                {"entered": str(T0 + pd.Timedelta("3h")), "note": HOSTILE[1]},
                {"mean_sog_kn": 0.8},
                {},
            ],
            "thresholds": [
                {"min_hours": 6.0},
                {"max_distance_m": 500.0},
                {},
                {"min_hours": 2.0},
                {},
            ],
        }
    )
    alerts["id"] = [f"a{i}" for i in range(len(alerts))]
    zones = gpd.GeoDataFrame(
        {
            "id": ["p1", "an1", "rt1", "c1", "r1"],
            "name": ["Port & co", "Anchorage A", "Strait lane", "KJCN <cable>", "Firing <range>"],
            "kind": ["port", "anchorage", "route", "cable", "restricted"],
            "buffer_m": [3000.0, 1000.0, 5000.0, 2000.0, 0.0],
            "source": ["test", "test", "test", "test", "<i>src</i>"],
            "feature_geometry": [
                shapely.Point(129.5, 35.25),
                shapely.Point(129.1, 35.0),
                shapely.LineString([(129.0, 35.1), (130.3, 33.9)]),
                shapely.LineString([(129.1, 35.05), (129.9, 34.1)]),
                shapely.box(129.4, 34.4, 129.6, 34.6),
            ],
        },
        geometry=[
            shapely.Point(129.5, 35.25).buffer(0.03),
            shapely.Point(129.1, 35.0).buffer(0.01),
            shapely.LineString([(129.0, 35.1), (130.3, 33.9)]).buffer(0.05),
            shapely.LineString([(129.1, 35.05), (129.9, 34.1)]).buffer(0.02),
            shapely.box(129.4, 34.4, 129.6, 34.6),
        ],
        crs="EPSG:4326",
    )
    return {
        "tracks": tracks,
        "vessels": vessels,
        "alerts": schema.conform(alerts, schema.ALERTS),
        "zones": zones,
    }


def page_data(html: str, element: str = "mda-data") -> dict:
    """The JSON the page script reads."""
    m = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', html, re.S)
    assert m, f"no {element} element"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def scen() -> dict:
    return scenario()


@pytest.fixture(scope="module")
def offline_html(scen, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("rep") / "r.html"
    render_map(out, **scen, title="Strait <test>", sources=["a&b.nmea"], offline=True)
    return out.read_text(encoding="utf-8")


def test_layers_present_by_name(offline_html):
    data = page_data(offline_html)
    assert [z["name"] for z in data["zones"]] == [
        "Ports & anchorages",
        "Route corridors",
        "Cable corridors",
        "Restricted areas",
    ]
    assert "geo_json_" not in offline_html and "tile_layer_" not in offline_html  # not folium
    assert list(data["legend"]["overlays"]) == [
        "Vessel tracks",
        "Latest positions",
        "High & critical alerts",
        "Alerts",
        "Gap & encounter lines",
        "Traffic density",
        "Receiver artefacts",
    ]
    assert "MDA.init(map_" in offline_html


def test_legend_lists_only_what_is_drawn(scen, tmp_path):
    """Zones: only the layers drawn; vessels: the ship-type groups of the vessels drawn."""
    ports = scen["zones"][scen["zones"]["kind"] == "port"]
    html = render_map(
        tmp_path / "l.html", tracks=scen["tracks"], vessels=scen["vessels"], zones=ports
    ).read_text()
    data = page_data(html)
    assert list(data["legend"]["zones"]) == ["Ports & anchorages"]
    # types 70, 80, 30, 70, 60, 52 -> cargo, tanker, fishing, cargo, passenger, tug
    assert list(data["legend"]["ship_groups"]) == [
        "Cargo",
        "Tanker",
        "Passenger",
        "Fishing",
        "Service",
    ]
    by_mmsi = dict(zip(data["latest"]["mmsi"], data["latest"]["group"], strict=True))
    assert by_mmsi[351000004] == "Cargo" and by_mmsi[636000006] == "Service"
    bare = page_data(render_map(tmp_path / "b.html", tracks=scen["tracks"]).read_text())
    assert set(bare["latest"]["group"]) == {"Unknown type"} and bare["legend"]["zones"] == {}


def test_counts_of_tracks_alerts_and_header(offline_html, scen):
    data = page_data(offline_html)
    assert set(data["tracks"]["mmsi"]) == set(scen["vessels"]["mmsi"].astype(int))
    assert len(data["latest"]["mmsi"]) == 6
    assert len(data["alerts"]["id"]) == 5
    h = data["header"]
    assert (h["vessels"], h["alerts"]) == (6, 5)
    assert h["positions"] == len(scen["tracks"].points)
    assert h["by_type"]["ais_gap"] == 1 and h["by_severity"]["critical"] == 1
    assert h["thresholds"]["ais_gap"] == {"min_hours": 6.0}
    assert data["vessels"]["flag"][data["vessels"]["mmsi"].index(440100001)] == "Korea (Rep.)"


def test_gap_and_encounter_lines(offline_html):
    a = page_data(offline_html)["alerts"]
    lines = dict(zip(a["type"], a["line"], strict=True))
    assert lines["ais_gap"] is not None and len(lines["ais_gap"]) == 4
    assert lines["encounter"][2:] == [34.74, 129.45]
    assert lines["zone_entry"] is None


def test_zone_features_by_kind(scen):
    got = {z["name"]: z["geojson"] for z in layers.zone_layers(scen["zones"])}
    counts = {k: len(v["features"]) for k, v in got.items()}
    # cable and route corridors also draw their centre line
    assert counts == {
        "Ports & anchorages": 2,
        "Route corridors": 2,
        "Cable corridors": 2,
        "Restricted areas": 1,
    }
    names = [f["properties"]["name"] for f in got["Cable corridors"]["features"]]
    assert names == ["KJCN <cable>"] * 2  # raw text: the page script shows it as text


def test_hostile_text_is_escaped_everywhere(offline_html):
    for bad in (*HOSTILE, "<b>x</b>", "<i>src</i>", "Firing <range>", "Strait <test>"):
        assert bad not in offline_html
    data = page_data(offline_html)
    # the page script receives them as plain text (it sets textContent)
    assert HOSTILE[0] in data["vessels"]["name"] and HOSTILE[1] in data["alerts"]["name"]
    assert data["header"]["title"] == "Strait <test>"
    assert data["alerts"]["evidence"][2]["note"] == HOSTILE[1]
    zone = data["zones"][-1]["geojson"]["features"][0]["properties"]
    assert zone == {"name": "Firing <range>", "kind": "restricted", "source": "<i>src</i>"}


def test_template_syntax_in_names_stays_text(scen, tmp_path):
    """CSV inputs allow any character: a name must never be evaluated as a Jinja template."""
    vessels = scen["vessels"].copy()
    vessels.loc[0, "name"] = "{{ 7*7 }}{% if true %}X{% endif %}"
    html = render_map(tmp_path / "j.html", tracks=scen["tracks"], vessels=vessels).read_text()
    assert "{{ 7*7 }}{% if true %}X{% endif %}" in page_data(html)["vessels"]["name"]


def test_page_script_never_uses_innerhtml():
    js = (offline.ASSET_DIR / "mda-report.js").read_text()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "document.write" not in js


def test_offline_report_references_no_remote_asset(offline_html):
    assert ASSET_REF.search(offline_html) is None, ASSET_REF.search(offline_html)
    assert 'id="mda-land"' in offline_html
    assert "leaflet-control-minimap" not in offline_html  # no tiles: minimap files left out
    land = page_data(offline_html, "mda-land")
    assert land["type"] == "Topology" and "land" in land["objects"]


def test_online_report_links_cdn_and_check_would_catch_it(scen, tmp_path):
    out = render_map(tmp_path / "on.html", **scen, offline=False)
    html = out.read_text()
    assert ASSET_REF.search(html)
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in html
    assert 'id="mda-land"' not in html
    assert page_data(html)["tiles"]["url"].startswith("https://tile.openstreetmap.org/")


CDN = "https://cdn.jsdelivr.net/npm/"
EXTERNAL_TAG = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"https?://[^>]*>", re.I)


def test_every_cdn_asset_is_pinned_to_the_vendored_file(scen, tmp_path):
    """Subresource Integrity: each external <script>/<link> carries the sha384 of the vendored
    copy of the same file, so a changed CDN file is refused by the browser."""
    html = render_map(tmp_path / "on.html", **scen, offline=False).read_text()
    tags = EXTERNAL_TAG.findall(html)
    js = [a for n, a in offline.ASSETS.items() if n.endswith(".js")]
    assert len(tags) == len(js) == len(ASSET_REF.findall(html))
    for tag in tags:
        url = re.search(r'(?:src|href)="([^"]+)"', tag).group(1)
        assert url.startswith(CDN), tag
        vendored = offline.ASSET_DIR / url.removeprefix(CDN)
        digest = base64.b64encode(hashlib.sha384(vendored.read_bytes()).digest()).decode()
        assert f'integrity="sha384-{digest}"' in tag, tag
        assert 'crossorigin="anonymous"' in tag, tag
    # stylesheets are inlined even online (their vendored copies embed their images)
    assert "<link" not in html and html.count("<style>") >= 5


def test_integrity_manifest_matches_every_vendored_file():
    """scripts/vendor_assets.py records the hashes; they cannot drift from the files."""
    table = json.loads((offline.ASSET_DIR / offline.INTEGRITY_FILE).read_text())
    used = {offline.asset_path(*a) for a in offline.VENDORED}
    assert {offline.ASSET_DIR / k for k in table} == used
    for rel, value in table.items():
        assert offline.sri((offline.ASSET_DIR / rel).read_bytes()) == value, rel
    # the published SRI of leaflet 1.9.3 (leafletjs.com/download): the copy is the CDN's bytes
    leaflet = offline.asset_path(*offline.ASSETS["leaflet.js"]).read_bytes()
    assert base64.b64encode(hashlib.sha256(leaflet).digest()).decode() == (
        "WBkoXOwTeyKclOHuWtc+i2uENFpDZ9YPdf5Hf+D7ewM="
    )


def test_asset_missing_from_the_manifest_is_one_line_error(monkeypatch):
    from mda.errors import MdaError

    monkeypatch.setitem(offline.ASSETS, "extra.js", ("leaflet", "1.9.3", "dist/other.js"))
    with pytest.raises(MdaError, match=r"integrity\.json.*vendor_assets\.py"):
        offline.head_html(offline=False)


def test_tiles_url_used_when_given(scen, tmp_path):
    url = "http://tiles.internal:8080/{z}/{x}/{y}.png"
    html = render_map(tmp_path / "t.html", **scen, offline=True, tiles=url).read_text()
    assert url in html
    assert 'id="mda-land"' not in html
    assert page_data(html)["tiles"] == {
        "url": url,
        "attribution": "Tiles: internal tile server",
        "max_zoom": 18,
    }
    assert "leaflet-control-minimap" in html  # inlined, since there are tiles to show
    # the only remote reference is the tile server the user asked for, never an asset
    assert ASSET_REF.search(html) is None


def test_antimeridian_track_is_split():
    pos = _vessel(412000001, 40.0, 179.0, 0.5, 2.0, minutes=240)
    pos["lon"] = (pos["lon"] + 180) % 360 - 180
    points = build_tracks(schema.conform(pos, schema.POSITIONS)).points
    tr = layers.track_layer(layers.good_points(points))
    coords = np.array(tr["coords"]).reshape(-1, 2)
    assert (coords[:, 1] > 179).any() and (coords[:, 1] < -179).any()
    for a, b in zip(tr["offsets"][:-1], tr["offsets"][1:], strict=True):
        assert np.abs(np.diff(coords[a:b, 1])).max(initial=0) < 180


def test_tracks_simplified_but_exact_at_alerts(scen):
    pts = scen["tracks"].points
    one = pts[pts["mmsi"] == 440100001]
    alerts = scen["alerts"][scen["alerts"]["type"] == "ais_gap"]
    tr = layers.track_layer(layers.good_points(one), alerts, tolerance_m=2000)
    coords = np.array(tr["coords"]).reshape(-1, 2)
    assert len(coords) < len(one) / 3  # simplified
    gap = alerts.iloc[0]["evidence"]
    for lat, lon in ((gap["lat0"], gap["lon0"]), (gap["lat1"], gap["lon1"])):
        assert np.abs(coords - [round(lat, 5), round(lon, 5)]).sum(axis=1).min() < 1e-9
    assert all(len(str(c).split(".")[-1]) <= 5 for c in tr["coords"])
    # every kept vertex keeps its own time (replay slider): the gap's first fix is at its start
    times = np.repeat(tr["t0"], np.diff(tr["offsets"])) + np.array(tr["dt"])
    at = np.abs(coords - [round(gap["lat0"], 5), round(gap["lon0"], 5)]).sum(axis=1).argmin()
    assert times[at] == int(alerts.iloc[0]["start"].timestamp())
    assert (np.array(tr["dt"]) >= 0).all()


def test_empty_inputs_still_make_a_page(tmp_path):
    html = render_map(tmp_path / "e.html", offline=True).read_text()
    data = page_data(html)
    assert data["tracks"]["mmsi"] == [] and data["alerts"]["id"] == []
    assert data["header"]["vessels"] == 0 and data["bounds"] is None
    assert "</html>" in html and ASSET_REF.search(html) is None


def test_tracks_without_alerts(scen, tmp_path):
    html = render_map(tmp_path / "n.html", tracks=scen["tracks"], offline=True).read_text()
    data = page_data(html)
    assert data["header"]["alerts"] == 0 and len(data["tracks"]["mmsi"]) > 0
    assert data["header"]["thresholds"] == {}


def test_positions_alone_are_built_into_tracks(scen, tmp_path):
    pos = scen["tracks"].points[list(schema.POSITIONS)]
    html = render_map(tmp_path / "p.html", positions=pos, offline=True).read_text()
    assert len(set(page_data(html)["tracks"]["mmsi"])) == 6


def test_build_report_from_alerts_geojson_and_store_window(scen, tmp_path, monkeypatch):
    """Alerts from `mda scan --out` GeoJSON; positions from a store window (contract faked)."""
    from mda.alerts import write_alerts

    path = write_alerts(scen["alerts"], tmp_path / "alerts.geojson")
    positions = scen["tracks"].points[list(schema.POSITIONS)]

    class FakeStore:  # the store's contract: positions(since, until) and alerts(since, until)
        def __init__(self, root, **how):  # opened for reading only, never created
            assert how in ({"create": False}, {"readonly": True}), how

        def positions(self, since=None, until=None, mmsi=None):
            return positions

        def vessels(self):
            return scen["vessels"]

        def info(self):  # what was ingested: a DMA CSV
            return {"messages_decoded_by_type": {"1": 10, "csv:dma": 5}}

        def alerts(self, since=None, until=None):
            raise AssertionError("--alerts file given: the store's alerts are not read")

    pytest.importorskip("mda.zones", reason="zones module not available yet")
    monkeypatch.setattr("mda.store.Store", FakeStore)
    out = build_report(
        store=tmp_path / "store",
        alerts=path,
        zones=None,
        mmsi=[440100001, 440100002],
        since=T0 + pd.Timedelta("30min"),
        out=tmp_path / "b.html",
        offline=True,
    )
    data = page_data(out.read_text())
    assert set(data["tracks"]["mmsi"]) == {440100001, 440100002}
    assert sorted(data["alerts"]["type"]) == ["ais_gap", "encounter", "loitering"]
    assert min(data["tracks"]["t0"]) >= int((T0 + pd.Timedelta("30min")).timestamp())
    assert data["header"]["sources"] == [f"store: {tmp_path / 'store'}", "alerts.geojson"]
    assert HOSTILE[0] in data["vessels"]["name"]  # names come from the store's vessel table
    assert [c[0] for c in data["credits"]] == ["AIS: Danish Maritime Authority"]


def test_build_report_from_a_real_store(tmp_path):
    """Integration with mda.store: a real sample ingested, then reported from the store."""
    from conftest import shared_file

    from mda.store import Store

    src = shared_file("nmea/dma_aislib_stream_example.txt")
    Store(tmp_path / "store").ingest([src])
    out = build_report(store=tmp_path / "store", out=tmp_path / "s.html", offline=True)
    data = page_data(out.read_text())
    assert data["header"]["vessels"] > 1000
    assert sum(1 for n in data["vessels"]["name"] if n) > 100  # type 5 names from the store


def test_build_report_bbox_filter(scen, tmp_path, monkeypatch):
    from mda.report import _filter

    p = scen["tracks"].points
    got = _filter(p, since=None, until=None, mmsi=None, bbox=(129.0, 34.6, 129.5, 34.9))
    assert (
        len(got) and got["lat"].between(34.6, 34.9).all() and got["lon"].between(129.0, 129.5).all()
    )


def test_build_report_from_input_files(tmp_path):
    from conftest import shared_file

    pytest.importorskip("mda.zones", reason="zones module not available yet")
    if not hasattr(importlib.import_module("mda.sources"), "read_ais"):
        pytest.skip("mda.sources.read_ais not available yet")
    src = shared_file("nmea/dma_aislib_replay_dump.txt")
    out = build_report(inputs=[src], out=tmp_path / "in.html", offline=True)
    data = page_data(out.read_text())
    assert data["header"]["vessels"] > 10
    assert data["header"]["sources"] == [src.name]


def test_flags_from_mid():
    got = flag_of(pd.Series([440123456, 219000001, 351999999, 2190047, 970010001]))
    assert got.tolist() == ["Korea (Rep.)", "Denmark", "Panama", "", ""]


def test_vendored_assets_and_licences_present():
    for pkg, ver, file in offline.VENDORED:
        assert offline.asset_path(pkg, ver, file).is_file(), (pkg, file)
        folder = offline.ASSET_DIR / f"{pkg}@{ver}"
        assert any(re.match(r"(?i)(mit-)?licen[cs]e", p.name) for p in folder.iterdir()), pkg
    for css in (p for p in offline.ASSET_DIR.rglob("*.css")):
        assert not re.search(r"url\(\s*(?!['\"]?(?:data:|#))", css.read_text()), css


def test_json_for_html_cannot_close_its_script():
    text = offline.json_for_html({"n": "</script><script>alert(1)</script>", "a": "&"})
    assert "</" not in text and "<" not in text
    assert json.loads(text) == {"n": "</script><script>alert(1)</script>", "a": "&"}


def test_unwritable_output_is_one_line_error(tmp_path):
    from mda.errors import MdaError

    (tmp_path / "f").write_text("")
    with pytest.raises(MdaError, match="cannot write report"):
        render_map(tmp_path / "f" / "x.html", offline=True)


def test_missing_asset_is_one_line_error(monkeypatch, tmp_path):
    from mda.errors import MdaError

    offline.read_asset.cache_clear()
    monkeypatch.setattr(offline, "ASSET_DIR", Path(tmp_path))
    monkeypatch.setitem(offline.ASSETS, "leaflet.js", ("leaflet", "0.0.0", "dist/leaflet.js"))
    try:
        with pytest.raises(MdaError, match=r"vendor_assets\.py"):
            offline.head_html(offline=True)
    finally:
        offline.read_asset.cache_clear()


def test_simulated_scenario_scanned_and_rendered(tmp_path):
    """Integration: simulator -> tracks -> every detector -> report (as `mda scan --report`)."""
    from mda.config import load_config
    from mda.scan import detect_window
    from mda.simulate import simulate
    from mda.zones import load_zones

    sim = simulate("korea-strait")
    zones = load_zones()
    alerts, tracks = detect_window(sim.positions, load_config(), zones, vessels=sim.statics)
    html = render_map(
        tmp_path / "scan.html", tracks=tracks, zones=zones, alerts=alerts, vessels=sim.statics
    ).read_text()
    data = page_data(html)
    assert len(data["alerts"]["id"]) == len(alerts) > 0
    assert data["header"]["by_type"] == alerts["type"].value_counts().to_dict()
    lines = dict(zip(data["alerts"]["type"], data["alerts"]["line"], strict=True))
    assert "encounter" not in lines or lines["encounter"] is not None
    assert len(set(data["tracks"]["mmsi"])) == len(data["latest"]["mmsi"])
    assert ASSET_REF.search(html) is None  # self-contained by default


def write_scan_map(d: Path) -> Path:
    """`mda scan strait.nmea --report scan.html` of the simulated Korea Strait in `d`: the page an
    analyst opens on an air-gapped workstation."""
    from mda.cli import main
    from mda.simulate import simulate

    simulate("korea-strait").write(d / "strait.nmea")
    assert main(["scan", str(d / "strait.nmea"), "--report", str(d / "scan.html")]) == 0
    return d / "scan.html"


@pytest.fixture(scope="module")
def scan_map(tmp_path_factory) -> Path:
    return write_scan_map(tmp_path_factory.mktemp("scanmap"))


def test_scan_report_is_self_contained_by_default(scan_map):
    html = scan_map.read_text()
    assert ASSET_REF.search(html) is None, ASSET_REF.search(html)
    assert 'id="mda-land"' in html
    assert page_data(html)["tiles"] is None


def test_report_cdn_flag_opts_in_to_cdn_assets(scan_map, tmp_path):
    """`mda report --cdn`: scripts from jsDelivr pinned by integrity; without it, inlined."""
    from mda.cli import main

    src = scan_map.parent / "strait.nmea"
    assert main(["report", str(src), "-o", str(tmp_path / "cdn.html"), "--cdn"]) == 0
    assert main(["report", str(src), "-o", str(tmp_path / "own.html")]) == 0
    cdn, own = (tmp_path / "cdn.html").read_text(), (tmp_path / "own.html").read_text()
    assert re.search(r'<script src="https://cdn\.jsdelivr\.net/[^"]+" integrity="sha384-', cdn)
    assert ASSET_REF.search(own) is None
    assert len(cdn) < len(own)


def test_title_from_the_data_when_none_given(scen, tmp_path):
    """The area the positions cover and their day, not "mda report: store: st_mc"."""
    html = render_map(tmp_path / "t.html", tracks=scen["tracks"]).read_text()
    lat, lon = scen["tracks"].points["lat"], scen["tracks"].points["lon"]
    area = f"{lat.min():.2f}° N–{lat.max():.2f}° N, {lon.min():.2f}° E–{lon.max():.2f}° E"
    assert page_data(html)["header"]["title"] == f"AIS {area} · 2026-03-02"
    west = scen["tracks"].points.assign(lon=-lon, lat=-lat)
    html = render_map(tmp_path / "w.html", positions=west).read_text()
    assert page_data(html)["header"]["title"].startswith(f"AIS {lat.max():.2f}° S–")
    assert f"{lon.min():.2f}° W" in page_data(html)["header"]["title"]


def test_credit_lines_of_the_public_feeds_read(tmp_path):
    """A DMA CSV and a MarineCadastre CSV: both credit lines, as their terms ask."""
    from conftest import shared_file

    dma = shared_file("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv")
    noaa = shared_file("positions/marinecadastre_aisdb_2023-01-11_1000rows.csv")
    out = build_report(inputs=[dma, noaa], out=tmp_path / "c.html")
    credits = page_data(out.read_text())["credits"]
    assert [c[0] for c in credits] == [
        "AIS: Danish Maritime Authority",
        "AIS: MarineCadastre.gov (BOEM/NOAA)",
    ]
    assert credits[0][1].startswith("Contains data from the Danish Maritime Authority")
    one = build_report(inputs=[noaa], out=tmp_path / "n.html", title="given")
    data = page_data(one.read_text())
    assert [c[0] for c in data["credits"]] == ["AIS: MarineCadastre.gov (BOEM/NOAA)"]
    assert data["header"]["title"] == "given"


def test_bbox_sets_the_initial_view(scen, tmp_path):
    html = render_map(tmp_path / "v.html", tracks=scen["tracks"], bbox=(129.0, 34.0, 130.0, 35.0))
    assert page_data(html.read_text())["bounds"] == [[34.0, 129.0], [35.0, 130.0]]


def test_report_from_input_files_names_class_b_vessels(tmp_path):
    """Type 24 part A carries the name, part B the call sign: the report shows both."""
    mmsi = 244670000
    msgs = [
        {"type": 18, "mmsi": mmsi, "lat": 52.0, "lon": 4.0, "speed": 5.0, "course": 90.0},
        {"type": 24, "mmsi": mmsi, "partno": 0, "shipname": "NORTH STAR"},
        {"type": 24, "mmsi": mmsi, "partno": 1, "callsign": "PD1234", "ship_type": 37},
        {"type": 18, "mmsi": mmsi, "lat": 52.0, "lon": 4.01, "speed": 5.0, "course": 90.0},
    ]
    lines = [timed_line(1_700_000_000 + 60 * i, m) for i, m in enumerate(msgs)]
    src = nmea_file(tmp_path / "classb.nmea", lines)
    out = build_report(inputs=[src], out=tmp_path / "r.html", offline=True)
    vessels = page_data(out.read_text())["vessels"]
    assert vessels["mmsi"] == [mmsi]
    assert vessels["name"] == ["NORTH STAR"]
    assert vessels["callsign"] == ["PD1234"]


# -- feed health: outages in the side panel, receiver artefacts in their own layer -------------


def feed_positions() -> pd.DataFrame:
    """Two ships at sea, both unheard for 8 h (the feed down), and one fix of the first ship
    stamped with the second of another fix 20 km away (a stale time stamp)."""
    from test_ingest_feed import two_ships

    pos = two_ships(silent_b=True)
    first = pos[pos["mmsi"] == 244000001]
    stale = first.iloc[[15]].assign(lat=first["lat"].iloc[15] + 0.2)
    return schema.conform(pd.concat([pos, stale], ignore_index=True), schema.POSITIONS)


def _epoch(t: str) -> int:
    return int(pd.Timestamp(t).timestamp())


def test_feed_outage_listed_and_artefact_drawn_with_counts(tmp_path):
    pos = feed_positions()
    html = render_map(tmp_path / "f.html", positions=pos, offline=True).read_text()
    data = page_data(html)
    feed = data["feed"]
    assert (feed["outages"], feed["outage_hours"], feed["artefacts"]) == (1, 8.0, 1)
    assert feed["listed"] == {
        "start": [_epoch("2026-03-01T03:01Z")],
        "end": [_epoch("2026-03-01T11:01Z")],
        "hours": [8.0],
        "vessels_heard": [0.0],
    }
    art = data["artefacts"]
    assert art["mmsi"] == [244000001] and art["reason"] == ["stale time stamp"]
    assert art["lat"] == [round(pos["lat"].iloc[-1], 5)]
    assert data["legend"]["overlays"]["Receiver artefacts"] is True
    assert data["header"]["alerts"] == 0 and data["header"]["not_drawn"] == {}


def test_report_without_feed_problems_lists_none(scen, tmp_path):
    html = render_map(tmp_path / "n.html", **scen, offline=True).read_text()
    data = page_data(html)
    assert data["feed"]["outages"] == 0 and data["feed"]["listed"]["start"] == []
    assert data["artefacts"]["mmsi"] == []


def test_feed_lists_are_capped_by_the_report_limits(tmp_path, monkeypatch):
    from mda.report import limits

    outages = pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-03-01T01:00Z", "2026-03-01T05:00Z"]),
            "end": pd.to_datetime(["2026-03-01T02:00Z", "2026-03-01T08:00Z"]),
            "hours": [1.0, 3.0],
            "vessels_heard": [0.0, 0.0],
            "typical_vessels": [2.0, 2.0],
        }
    )
    monkeypatch.setattr(limits, "MAX_OUTAGES", 1)
    monkeypatch.setattr(limits, "MAX_ARTEFACTS", 0)
    out = render_map(tmp_path / "c.html", positions=feed_positions(), outages=outages)
    data = page_data(out.read_text())
    assert data["feed"]["outages"] == 2 and data["feed"]["outage_hours"] == 4.0  # all counted
    assert data["feed"]["listed"]["hours"] == [3.0]  # the longest listed
    assert data["artefacts"]["mmsi"] == []
    assert data["header"]["not_drawn"] == {"feed outages": 1, "receiver artefacts": 1}


def test_scan_report_and_store_report_show_the_outage_not_a_gap(tmp_path):
    """`mda scan --report` lists the scan's outages; `mda report --store` finds the same."""
    from test_ingest_feed import write_nmea

    from mda.scan import run_scan

    src = write_nmea(tmp_path, silent_b=True)
    store = tmp_path / "store"
    result = run_scan(inputs=[src], store=store, report=tmp_path / "scan.html")
    assert "ais_gap" not in set(result.alerts["type"])
    scanned = page_data((tmp_path / "scan.html").read_text())["feed"]
    assert scanned["outages"] == len(result.outages) == 1
    assert scanned["listed"]["start"] == [_epoch("2026-03-01T03:01Z")]
    out = build_report(store=store, out=tmp_path / "store.html", offline=True)
    assert page_data(out.read_text())["feed"]["listed"] == scanned["listed"]


#: Inside the Long Beach breakwater (San Pedro Bay): water at Natural Earth 1:10m, land at 1:50m.
LONG_BEACH_WATER = (33.75, -118.16)
DOWNTOWN_LA = (34.05, -118.25)  # land at both scales


def test_harbour_report_draws_10m_land_clipped_to_its_view(tmp_path, monkeypatch):
    """At harbour scale the page carries Natural Earth 1:10m land clipped around its view, so a
    ship in the Long Beach basin is at sea, not on the 1:50m land; the page stays small."""
    from mda.context import world_context
    from mda.report import coast

    pos = _vessel(366000001, 33.72, -118.24, 0.03, 0.10, sog=5.0)
    html = render_map(tmp_path / "lb.html", positions=pos, offline=True).read_text()
    fine = page_data(html)["fine_land"]
    (s, w), (n, e) = fine["box"]
    assert s < 33.72 < 33.75 < n and w < -118.24 < -118.14 < e and e - w <= 2 * 10
    land = shapely.from_geojson(json.dumps(fine["land"]))
    xy = shapely.get_coordinates(land)
    assert len(xy) > 50 and (xy[:, 0] >= w).all() and (xy[:, 0] <= e).all()
    assert (xy[:, 1] >= s).all() and (xy[:, 1] <= n).all()
    lat, lon = LONG_BEACH_WATER
    assert world_context().on_land(np.array([lat]), np.array([lon]))[0]  # the 1:50m coast's error
    assert not land.contains(shapely.Point(lon, lat))
    assert land.contains(shapely.Point(DOWNTOWN_LA[::-1]))
    monkeypatch.setattr(coast, "fine_land", lambda bounds: None)
    without = render_map(tmp_path / "lb50.html", positions=pos, offline=True).read_text()
    assert 0 < len(html.encode()) - len(without.encode()) < 1_000_000


def test_world_and_tiled_reports_carry_no_10m_land(tmp_path):
    """A world view keeps the 1:50m land alone; a page over tiles draws no land at all."""
    pos = pd.concat(
        [_vessel(366000001, 33.7, -118.2, 0.1, 0.1), _vessel(440100001, 35.0, 129.2, 0.1, 0.1)]
    )
    world = render_map(tmp_path / "w.html", positions=pos, offline=True).read_text()
    assert page_data(world)["fine_land"] is None
    harbour = pos[pos["mmsi"] == 366000001]
    cdn = render_map(tmp_path / "c.html", positions=harbour, offline=False).read_text()
    assert page_data(cdn)["fine_land"] is None
    bbox = render_map(tmp_path / "b.html", positions=harbour, bbox=(-170, -60, 170, 70))
    assert page_data(bbox.read_text())["fine_land"] is None


def test_scan_report_has_the_data_title_and_credit_lines(tmp_path):
    """`mda scan FILE --report`: the title from the data (not "mda scan") and the feed's credit."""
    from conftest import shared_file

    from mda.cli import main

    noaa = shared_file("positions/marinecadastre_aisdb_2023-01-11_1000rows.csv")
    out = tmp_path / "scan.html"
    assert main(["scan", str(noaa), "--report", str(out), "--quiet"]) == 0
    data = page_data(out.read_text())
    assert [c[0] for c in data["credits"]] == ["AIS: MarineCadastre.gov (BOEM/NOAA)"]
    assert re.fullmatch(r"AIS .*° N–.*° W · 2023-01-1\d", data["header"]["title"])
    assert data["header"]["sources"] == [noaa.name]


def test_gis_helpers_in_the_public_api(tmp_path):
    """`mda.alerts_gdf(result.alerts).to_crs(3857)`: a scan's alerts straight into a GIS."""
    import mda
    from mda.simulate import simulate

    assert {"alerts_gdf", "positions_gdf", "points_gdf"} <= set(mda.__all__)
    simulate("korea-strait").write(tmp_path / "strait.nmea")
    result = mda.run_scan(inputs=[tmp_path / "strait.nmea"])
    assert len(result.alerts)
    web = mda.alerts_gdf(result.alerts).to_crs(3857)
    assert web.crs.to_epsg() == 3857 and len(web) == len(result.alerts)
    x = web.geometry.x.to_numpy()
    assert np.allclose(x / 6378137.0, np.radians(result.alerts["lon"].to_numpy(float)))
    tracks = mda.positions_gdf(result.tracks.points)
    assert tracks.crs.to_epsg() == 4326 and tracks.geometry.notna().all()
    assert mda.points_gdf(result.alerts).crs == tracks.crs


def test_alerts_carry_their_status_and_review_to_the_page():
    """A store's alerts show whether they are open and what an analyst decided (issue 12)."""
    alerts = schema.empty(schema.ALERTS)
    alerts.loc[0, ["id", "type", "severity", "mmsi", "lat", "lon"]] = [
        "a1", "ais_gap", "high", 123456789, 10.0, 20.0,
    ]  # fmt: skip
    alerts["status"] = "open"
    alerts["review"], alerts["review_note"] = "dismissed", "tug on trials <b>"
    page = layers.alert_layer(alerts)
    assert page["status"] == ["open"]
    assert page["review"] == ["dismissed"]
    assert page["review_note"] == ["tug on trials <b>"]  # text, drawn with textContent
    # alerts from a file carry neither: empty strings, which the page leaves out
    plain = layers.alert_layer(alerts.drop(columns=["status", "review", "review_note"]))
    assert plain["status"] == [""] and plain["review"] == [""]
    assert set(layers.alert_layer(None)) == set(page)
    script = (Path(offline.__file__).parent / "assets" / "mda-report.js").read_text()
    assert '["Dossier", "mda vessel "' in script and "stateOf(i)" in script
