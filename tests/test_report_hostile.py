"""Hostile text in every report input never reaches a template engine (issue 9, finding 1).

Zone files, watch lists, alert files, file names, titles and tile URLs are attacker-controlled.
folium/branca compile rendered scripts as Jinja templates, so a zone named ``{{ ... }}`` used to
run code on the analyst's machine. Each test feeds the red team's payloads through the Python API
or the CLI, then checks: no file appeared (a sentinel over the working directory), no template
ever saw the text, and the page data carries it back verbatim as text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers.nmea import nmea_file, timed_line
from helpers.zones import write_layer

from mda import schema
from mda.alerts import write_alerts
from mda.report import build_report, layers, limits, offline, render_map
from mda.tracks import build_tracks

ROOT = Path(__file__).resolve().parents[1]
MKDIR = "{{ cycler.__init__.__globals__.os.mkdir(dict(PWNED_BY_ZONE=1)|first) }}"
MATH = "{{7*7}}"
XSS = "<img src=x onerror=alert(1)>"
#: The red team's payloads; each must come out of the report exactly as it went in.
PAYLOADS = (MKDIR, MATH, "{% raw %}", "{% endraw %}", "{#", XSS)
#: Substrings that only a payload contains: no template source may ever hold one.
MARKERS = ("PWNED", "7*7", "raw %}", "onerror")
MMSI = 440100001
T0 = 1_772_409_600  # 2026-03-02 00:00 UTC
BOX = (129.4, 34.4, 129.6, 34.6)


def files_under(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.fixture
def sentinel(tmp_path, monkeypatch):
    """Run in tmp_path; afterwards nothing but the expected outputs may exist there."""
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path)

    def check(*outputs: str) -> None:
        made = files_under(tmp_path) - before
        assert not (tmp_path / "PWNED_BY_ZONE").exists()
        assert made == {Path(o) for o in outputs}, made

    return check


@pytest.fixture
def template_sources(monkeypatch) -> list[str]:
    """Every source text compiled as a Jinja template while the test runs."""
    seen: list[str] = []
    compile_ = jinja2.Environment.from_string

    def spy(self, source, *args, **kwargs):
        seen.append(str(source))
        return compile_(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "from_string", spy)
    return seen


def assert_no_payload_compiled(sources: list[str]) -> None:
    assert sources, "the spy saw no template: it no longer watches what branca compiles"
    for src in sources:
        hit = [m for m in MARKERS if m in src]
        assert not hit, f"payload {hit} reached a template engine: {src[:200]!r}"


def page_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="mda-data">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def page_texts(data) -> set[str]:
    """Every string anywhere in the page data."""
    if isinstance(data, str):
        return {data}
    if isinstance(data, dict):
        return set().union(set(map(str, data)), *(page_texts(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(page_texts(v) for v in data))
    return set()


def zone_features(payloads=PAYLOADS) -> list[dict]:
    """One restricted box per payload, the payload in its id, name and source."""
    w, s, e, n = BOX
    return [
        {
            "type": "Feature",
            "properties": {"id": f"z{i}{p}", "name": p, "kind": "restricted", "source": p},
            "geometry": shapely.geometry.mapping(shapely.box(w, s, e, n)),
        }
        for i, p in enumerate(payloads)
    ]


def write_track(path: Path) -> Path:
    """One vessel crossing BOX for two hours, a fix a minute (tag-block times)."""
    lines = []
    for k in range(120):
        msg = {
            "type": 1,
            "mmsi": MMSI,
            "lat": 34.3 + 0.4 * k / 119,
            "lon": 129.3 + 0.4 * k / 119,
            "speed": 8.0,
            "course": 45.0,
        }
        lines.append(timed_line(T0 + 60 * k, msg))
    return nmea_file(path, lines)


def hostile_alerts() -> pd.DataFrame:
    n = len(PAYLOADS)
    return schema.conform(
        pd.DataFrame(
            {
                "id": [f"a{i}{p}" for i, p in enumerate(PAYLOADS)],
                "type": ["zone_entry"] * n,
                "severity": ["high"] * n,
                "mmsi": [MMSI] * n,
                "vessel_name": list(PAYLOADS),
                "start": pd.to_datetime([T0 + 3600] * n, unit="s", utc=True),
                "end": pd.to_datetime([T0 + 4000] * n, unit="s", utc=True),
                "lat": [34.5] * n,
                "lon": [129.5] * n,
                "zone_id": list(PAYLOADS),
                "zone_kind": ["restricted"] * n,
                "zone_name": list(PAYLOADS),
                "evidence": [{"note": p, p: 1} for p in PAYLOADS],
                "thresholds": [{"min_minutes": 0.0, "note": p} for p in PAYLOADS],
            }
        ),
        schema.ALERTS,
    )


def zone_names(data: dict) -> set[str]:
    return {f["properties"]["name"] for z in data["zones"] for f in z["geojson"]["features"]}


def assert_payloads_are_text(html: str, *, zones: bool = True) -> dict:
    data = page_data(html)
    texts = page_texts(data)
    assert set(PAYLOADS) <= texts
    assert XSS not in html  # escaped inside the JSON block, not markup
    if zones:
        assert set(PAYLOADS) <= zone_names(data)
    assert "PWNED_BY_ZONE" in html  # the payload is in the page, as data
    return data


def test_render_map_with_hostile_zones_titles_tiles_sources_and_alerts(
    sentinel, template_sources, tmp_path
):
    zones = gpd.GeoDataFrame.from_features(zone_features(), crs="EPSG:4326")
    track = write_track(tmp_path / "track.nmea")
    from mda.sources import read_ais

    data_in = read_ais([track])
    vessels = pd.DataFrame({"mmsi": [MMSI], "name": [MKDIR], "callsign": [MATH]})
    for inline, tiles in (
        (True, None),
        (False, None),
        (True, f"http://t/{{z}}/{{x}}/{{y}}{MKDIR}"),
    ):
        out = render_map(
            tmp_path / f"r{inline}{bool(tiles)}.html",
            tracks=build_tracks(data_in.positions),
            zones=zones,
            alerts=hostile_alerts(),
            vessels=vessels,
            title=" ".join(PAYLOADS),
            sources=list(PAYLOADS),
            thresholds={"zones": {p: p for p in PAYLOADS}},
            offline=inline,
            tiles=tiles,
            data_sources=list(PAYLOADS),  # not known sources: no credit line
            story={
                "views": [(p, [[34, 129], [35, 130]]) for p in PAYLOADS],
                "narrative": list(PAYLOADS),
                "partners": list(PAYLOADS),
                "partners_label": XSS,
            },
        )
        html = out.read_text(encoding="utf-8")
        data = assert_payloads_are_text(html)
        assert data["credits"] == []
        assert [v["name"] for v in data["story"]["views"]] == list(PAYLOADS)
        assert data["story"]["narrative"] == list(PAYLOADS)
        assert data["story"]["partners_label"] == XSS
        assert data["header"]["title"] == " ".join(PAYLOADS)
        assert data["header"]["sources"] == list(PAYLOADS)
        assert MATH in data["vessels"]["callsign"] and "49" not in data["vessels"]["callsign"]
        if tiles:
            assert data["tiles"]["url"] == tiles
            assert data["tiles"]["attribution"] == "Tiles: internal tile server"
    assert_no_payload_compiled(template_sources)
    sentinel("track.nmea", "rTrueFalse.html", "rFalseFalse.html", "rTrueTrue.html")


def test_build_report_with_hostile_files(sentinel, template_sources, tmp_path):
    """File names (shown as sources), zone file, alerts file and title, as `mda report` passes
    them."""
    track = write_track(tmp_path / f"{MKDIR}.nmea")
    zfile = write_layer(tmp_path / f"{MATH}.geojson", zone_features())
    afile = write_alerts(hostile_alerts(), tmp_path / "{% raw %}.geojson")
    out = build_report(
        inputs=[track],
        zones=[zfile],
        alerts=afile,
        title=MKDIR,
        tiles=f"http://t/{{z}}/{{x}}/{{y}}.png?{MKDIR}",
        out=tmp_path / "r.html",
    )
    data = assert_payloads_are_text(out.read_text(encoding="utf-8"))
    assert data["header"]["sources"] == [track.name, afile.name]
    assert data["header"]["title"] == MKDIR
    assert_no_payload_compiled(template_sources)
    sentinel(track.name, zfile.name, afile.name, "r.html")


def run_cli(cwd: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    """`python -m mda ARGS` in `cwd`; with `ok`, it must succeed without a traceback."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "mda", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in r.stderr, r.stderr
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def test_cli_report_with_hostile_zone_file(sentinel, tmp_path):
    track = write_track(tmp_path / "t.nmea")
    write_layer(tmp_path / "evil.geojson", zone_features())
    write_alerts(hostile_alerts(), tmp_path / "alerts.geojson")
    run_cli(
        tmp_path,
        "report",
        track.name,
        "--zones",
        "evil.geojson",
        "--alerts",
        "alerts.geojson",
        "--title",
        MKDIR + "{% raw %}",
        "--tiles",
        "http://t/{z}/{x}/{y}.png#{{7*7}}{#",
        "-o",
        "r.html",
    )
    data = assert_payloads_are_text((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert data["header"]["title"] == MKDIR + "{% raw %}"
    assert data["tiles"]["url"] == "http://t/{z}/{x}/{y}.png#{{7*7}}{#"
    sentinel("t.nmea", "evil.geojson", "alerts.geojson", "r.html")


def test_cli_scan_report_with_hostile_zones_and_watchlist(sentinel, tmp_path):
    """`mda scan --report`: zone alerts carry the zone text, watch-list alerts the list text."""
    write_track(tmp_path / "t.nmea")
    write_layer(tmp_path / "evil.geojson", zone_features())
    with (tmp_path / "wl.csv").open("w", newline="") as f:
        f.write("mmsi,name,reason,list\n")
        for p in PAYLOADS:
            f.write(f'{MMSI},"{p}","{p}","{p}"\n')
    run_cli(
        tmp_path,
        "scan",
        "t.nmea",
        "--zones",
        "evil.geojson",
        "--watchlist",
        "wl.csv",
        "--report",
        "r.html",
    )
    data = page_data((tmp_path / "r.html").read_text(encoding="utf-8"))
    a = data["alerts"]
    assert "watchlist" in a["type"] and "zone_entry" in a["type"]
    assert set(PAYLOADS) <= set(a["zone"])  # one zone entry per hostile zone
    wl = a["evidence"][a["type"].index("watchlist")]
    assert set(PAYLOADS) <= set(wl["reasons"]) and set(PAYLOADS) <= set(wl["lists"])
    assert zone_names(data) == set(PAYLOADS)
    sentinel("t.nmea", "evil.geojson", "wl.csv", "r.html")


@pytest.mark.parametrize("payload", [MKDIR, MATH, "{% raw %}"])
def test_cli_zone_kind_payload_is_a_one_line_error(sentinel, tmp_path, payload):
    """`kind` must be a known zone kind: a payload there is refused before anything renders."""
    feats = zone_features([payload])
    feats[0]["properties"]["kind"] = payload
    write_layer(tmp_path / "evil.geojson", feats)
    write_track(tmp_path / "t.nmea")
    r = run_cli(tmp_path, "report", "t.nmea", "--zones", "evil.geojson", "-o", "r.html", ok=False)
    assert r.returncode != 0 and "evil.geojson" in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2, r.stderr
    sentinel("t.nmea", "evil.geojson")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_alone_in_a_zone_name(sentinel, template_sources, tmp_path, payload):
    """One payload at a time (together they are a Jinja syntax error that hides the mkdir)."""
    zones = gpd.GeoDataFrame.from_features(zone_features([payload]), crs="EPSG:4326")
    html = render_map(tmp_path / "r.html", zones=zones, title=payload).read_text()
    (zone,) = page_data(html)["zones"]
    assert zone["geojson"]["features"][0]["properties"]["name"] == payload
    assert_no_payload_compiled(template_sources)
    sentinel("r.html")


def test_cli_mkdir_payload_alone_creates_nothing(sentinel, tmp_path):
    write_layer(tmp_path / "evil.geojson", zone_features([MKDIR]))
    write_track(tmp_path / "t.nmea")
    run_cli(tmp_path, "report", "t.nmea", "--zones", "evil.geojson", "-o", "r.html")
    sentinel("t.nmea", "evil.geojson", "r.html")


# ---- resource bounds (mda.report.limits): a huge input cannot make a huge page ----


def weaving_points(vessels: int, fixes: int) -> pd.DataFrame:
    """Tracks weaving ±1 km every 10 min (under 8 kn): nothing a 50-200 m tolerance can drop."""
    k = np.tile(np.arange(fixes), vessels)
    return pd.DataFrame(
        {
            "mmsi": np.repeat(np.arange(vessels) + 200_000_000, fixes),
            "ts": pd.Timestamp("2026-03-02", tz="UTC") + pd.to_timedelta(k * 600, "s"),
            "lat": 34.0 + 0.01 * np.sin(k * 1.3) + np.repeat(np.arange(vessels), fixes) * 0.05,
            "lon": 129.0 + 0.002 * k,
            "sog": 6.0,
            "msg_type": 1,
        }
    )


def test_track_vertices_fit_the_budget_by_coarser_simplification():
    good = layers.good_points(build_tracks(weaving_points(3, 4000)).points)
    full = layers.track_layer(good)
    assert len(full["coords"]) // 2 > 5000  # the noise survives normal simplification
    tr = layers.track_layer(good, max_vertices=600)
    assert len(tr["coords"]) // 2 <= 600 and tr["not_drawn"] == 0
    assert set(tr["mmsi"]) == set(full["mmsi"])  # every vessel still drawn, just coarser
    assert tr["offsets"][-1] * 2 == len(tr["coords"]) and len(tr["dt"]) == tr["offsets"][-1]


def test_track_pieces_beyond_the_budget_are_left_out_and_counted():
    """Many short segments: even the coarsest lines are two points each; the rest is cut."""
    good = layers.good_points(build_tracks(weaving_points(400, 3)).points)
    tr = layers.track_layer(good, max_vertices=100)
    n = len(tr["mmsi"])
    assert n > 0 and tr["offsets"][-1] <= 100 and len(tr["coords"]) == 2 * tr["offsets"][-1]
    assert len(tr["t0"]) == len(tr["t1"]) == len(tr["sog"]) == len(tr["offsets"]) - 1 == n
    assert tr["not_drawn"] > 0 and n + tr["not_drawn"] == len(layers.track_layer(good)["mmsi"])


def test_page_size_follows_the_budgets_not_the_input(monkeypatch, tmp_path):
    """120,000 fixes, 500 alerts, 100 kB texts: the page is bounded by the limits."""
    monkeypatch.setattr(limits, "MAX_TRACK_VERTICES", 2000)
    monkeypatch.setattr(limits, "MAX_ALERTS", 50)
    monkeypatch.setattr(limits, "MAX_VESSELS", 20)
    pos = weaving_points(30, 4000)
    huge = "X" * 100_000
    alerts = hostile_alerts().iloc[[0]].copy()
    alerts = pd.concat([alerts] * 500, ignore_index=True)
    alerts["mmsi"] = np.arange(500) % 30 + 200_000_000
    alerts["severity"] = np.where(np.arange(500) < 7, "critical", "low")
    alerts["vessel_name"] = huge
    alerts["evidence"] = [{"note": huge}] * 500
    vessels = pd.DataFrame({"mmsi": [200_000_000], "name": [huge], "destination": [huge]})
    out = render_map(
        tmp_path / "big.html",
        positions=pos,
        alerts=schema.conform(alerts, schema.ALERTS),
        vessels=vessels,
        title=huge,
        sources=[huge] * 10_000,
        offline=True,
    )
    size = out.stat().st_size
    land = len(offline.land_topojson()) + len(offline.head_html(offline=True))
    assert size - land < 1_500_000, size  # vs 1 GB of text and 120,000 fixes given
    data = page_data(out.read_text(encoding="utf-8"))
    h = data["header"]
    assert (h["vessels"], h["alerts"]) == (30, 500)  # the header counts all the data
    assert h["not_drawn"] == {"vessels": 10, "alerts": 450}
    assert len(data["alerts"]["id"]) == 50 and data["alerts"]["severity"].count("critical") == 7
    assert len(data["latest"]["mmsi"]) == len(data["vessels"]["mmsi"]) == 20
    assert len(data["tracks"]["coords"]) // 2 <= 2000
    assert len(h["title"]) == limits.MAX_TEXT_CHARS and h["title"].endswith("…")
    assert len(h["sources"]) == limits.MAX_LIST + 1 and h["sources"][-1].endswith("more sources")
    assert {len(n) for n in data["vessels"]["name"]} <= {0, limits.MAX_TEXT_CHARS}
    ev = data["alerts"]["evidence"][0]
    assert list(ev) == ["truncated"] and len(ev["truncated"]) == limits.MAX_EVIDENCE_CHARS


def test_limits_hold_vessels_with_alerts_first(monkeypatch):
    monkeypatch.setattr(limits, "MAX_VESSELS", 2)
    pos = weaving_points(5, 10)
    alerts = pd.DataFrame({"mmsi": [200_000_004]})
    kept, cut = limits.top_vessels(pos, alerts)
    assert cut == 3 and 200_000_004 in set(kept["mmsi"]) and kept["mmsi"].nunique() == 2
