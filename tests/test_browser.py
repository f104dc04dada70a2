"""The offline report opened from disk in a real headless Chromium, with the network cut off.

Skips (with the reason) when Playwright or a Chromium binary is missing; .ci/run installs the
Debian `chromium` package. Saves maps/browser-test.png for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mda.report import render_map

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RECORD_ALERTS = """
window.__alerts = [];
window.alert = window.confirm = window.prompt = function (m) { window.__alerts.push(String(m)); };
"""


def chromium_path() -> str:
    """The system Chromium (never a downloaded one), or skip."""
    for p in (os.environ.get("MDA_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if p and Path(p).is_file():
            return p
    pytest.skip("no Chromium binary (install the Debian package `chromium`)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    exe = chromium_path()
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_report(browser, path: Path):
    """Open `path` from disk with networking off: every request but the file itself is aborted
    and recorded."""
    page = browser.new_page(viewport={"width": 1500, "height": 900})
    seen = {"requests": [], "errors": []}

    def block(route):
        if route.request.url == path.as_uri():
            route.continue_()
            return
        seen["requests"].append(route.request.url)
        route.abort()

    page.route("**/*", block)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.add_init_script(RECORD_ALERTS)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("window.mdaReport !== undefined", timeout=15_000)
    return page, seen


def screen_xy(page, points) -> list[list[int]]:
    """Page pixels of map positions [(lat, lon), ...]."""
    return page.evaluate(
        "pts => pts.map(([lat, lon]) => {"
        " const p = mdaReport.map.latLngToContainerPoint([lat, lon]);"
        " const r = mdaReport.map.getContainer().getBoundingClientRect();"
        " return [Math.round(r.left + p.x), Math.round(r.top + p.y)]; })",
        points,
    )


def tooltip_at(page, lat: float, lon: float) -> str:
    """Move the mouse over a map position and return the text of the tooltip that opens."""
    page.mouse.move(*screen_xy(page, [(lat, lon)])[0])
    page.wait_for_selector(".leaflet-tooltip", timeout=3000)
    return page.inner_text(".leaflet-tooltip")


@pytest.fixture(scope="module")
def report(browser, tmp_path_factory):
    from test_report import scenario

    out = render_map(
        tmp_path_factory.mktemp("browser") / "report.html",
        **scenario(),
        title="Korea Strait — browser test",
        sources=["synthetic.nmea"],
        offline=True,
    )
    page, seen = open_report(browser, out)
    yield page, seen
    page.close()


def test_leaflet_loaded_without_network_or_errors(report):
    page, seen = report
    assert page.evaluate("typeof window.L === 'object' && typeof L.markerClusterGroup")
    assert seen["requests"] == []
    assert seen["errors"] == []
    # the vector basemap is drawn instead of tiles
    assert page.evaluate("document.querySelectorAll('.leaflet-tile').length") == 0
    assert page.evaluate("!!window.mdaReport.map.getPane('mda-land')")


def test_scan_map_draws_with_networking_off(browser, tmp_path):
    """`mda scan --report` writes a page that draws on an air-gapped workstation."""
    from test_report import write_scan_map

    page, seen = open_report(browser, write_scan_map(tmp_path))
    try:
        assert seen == {"requests": [], "errors": []}
        assert page.evaluate("mdaReport.tracks.length") > 0
        assert page.evaluate("mdaReport.map.getPane('mda-land').children.length") > 0
        assert page.evaluate("document.querySelectorAll('#mda-alert-table tbody tr').length") > 0
    finally:
        page.close()


def _pixel_colours(page, points) -> list[str]:
    """The colours ("#rrggbb") on screen at map positions [(lat, lon), ...]."""
    image = pytest.importorskip("PIL.Image", reason="Pillow not installed")
    import io

    shot = image.open(io.BytesIO(page.screenshot())).convert("RGB")
    return ["#{:02x}{:02x}{:02x}".format(*shot.getpixel(tuple(p))) for p in screen_xy(page, points)]


def test_harbour_is_water_at_1_to_10m(browser, tmp_path, monkeypatch):
    """In a Long Beach harbour report the basin inside the breakwater is drawn as sea (it is
    land at Natural Earth 1:50m, as a page without the 1:10m land shows) and the city as land."""
    from test_report import LONG_BEACH_WATER, _vessel

    from mda.report import coast

    pos = _vessel(366000001, 33.70, -118.25, 0.01, 0.10, sog=5.0)
    city = (33.80, -118.20)  # Long Beach, 4 km inland at 1:10m

    def colours(name: str) -> tuple[list[str], dict]:
        page, seen = open_report(browser, render_map(tmp_path / name, positions=pos))
        try:
            assert seen == {"requests": [], "errors": []}
            page.evaluate("mdaReport.map.setView([33.77, -118.2], 12, { animate: false })")
            page.wait_for_timeout(300)
            return _pixel_colours(page, [LONG_BEACH_WATER, city]), page.evaluate(
                "mdaReport.legend.land"
            )
        finally:
            page.close()

    fine, land = colours("lb.html")
    assert fine == [land["sea"], land["fill"]]
    monkeypatch.setattr(coast, "fine_land", lambda bounds: None)
    assert colours("lb50.html")[0] == [land["fill"], land["fill"]]


def test_layer_control_lists_expected_layers(report):
    page, _ = report
    names = page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label span", "els => els.map(e => e.textContent.trim())"
    )
    for name in (
        "Ports & anchorages",
        "Route corridors",
        "Cable corridors",
        "Restricted areas",
        "Vessel tracks",
        "Latest positions",
        "High & critical alerts",
        "Alerts",
        "Gap & encounter lines",
        "Traffic density",
    ):
        assert name in names


def test_alert_markers_and_table_filled(report):
    page, _ = report
    assert page.evaluate("window.mdaReport.alertMarkers.length") == 5
    icons = page.evaluate("document.querySelectorAll('.mda-alert-icon, .marker-cluster').length")
    assert icons >= 1
    assert page.evaluate("document.querySelectorAll('#mda-alert-table tbody tr').length") == 5
    page.select_option("#mda-filter-severity", "critical")
    rows = page.eval_on_selector_all("#mda-alert-table tbody tr", "r => r.length")
    assert rows == 1
    page.select_option("#mda-filter-severity", "")


#: Is alert marker i drawn as its own icon (not inside a cluster), inside the map's view?
MARKER_SHOWN = (
    "i => { const m = mdaReport.alertMarkers[i], r = m._icon && m._icon.getBoundingClientRect();"
    " return mdaReport.map.hasLayer(m) && mdaReport.map.getBounds().contains(m.getLatLng())"
    " && !!r && r.width > 0; }"
)


def test_high_and_critical_alerts_never_clustered(report):
    """At the initial zoom and at world zoom the critical and high alerts stand alone."""
    page, _ = report
    page.evaluate("() => { mdaReport.map.closePopup(); mdaReport.fit(); }")
    page.wait_for_timeout(300)
    severities = page.evaluate("mdaReport.data.alerts.severity")
    severe = [i for i, s in enumerate(severities) if s in ("high", "critical")]
    assert len(severe) == 2
    for i in severe:
        assert page.evaluate(MARKER_SHOWN, i), severities[i]
    page.evaluate("mdaReport.map.setView([34.7, 129.4], 2, { animate: false })")
    page.wait_for_timeout(300)
    assert all(page.evaluate(MARKER_SHOWN, i) for i in severe)
    assert page.locator(".marker-cluster").count() == 1  # the other three clustered
    page.evaluate("mdaReport.fit()")


def test_click_on_table_row_moves_the_map(report):
    page, _ = report
    before = page.evaluate("[mdaReport.map.getCenter().lat, mdaReport.map.getZoom()]")
    page.click("#mda-row-2")  # the zone entry
    page.wait_for_timeout(800)
    after = page.evaluate("[mdaReport.map.getCenter().lat, mdaReport.map.getZoom()]")
    assert after != before
    assert after[1] >= 11
    assert page.evaluate("mdaReport.map.getBounds().contains([34.5, 129.5])")
    assert page.locator(".leaflet-popup-content").inner_text().find("Firing <range>") >= 0


def test_clicking_an_alert_highlights_its_vessel(report):
    """The vessel's track drawn bold on top, the others faded, its other alerts marked."""
    page, _ = report
    page.click("#mda-row-1")  # the encounter of 440100002 (and 440100003)
    page.wait_for_timeout(500)
    assert page.evaluate("mdaReport.highlighted") == 440100002
    styles = page.evaluate(
        "mdaReport.tracks.map(t => [t.mmsi, t.layer.options.weight, t.layer.options.opacity])"
    )
    assert {(w, o) for m, w, o in styles if m == 440100002} == {(4.5, 1)}
    assert {o for m, _, o in styles if m != 440100002} == {0.25}
    related = page.eval_on_selector_all(
        "#mda-alert-table tr.mda-related", "rs => rs.map(r => r.id).sort()"
    )
    assert related == ["mda-row-1", "mda-row-3"]  # its encounter and its loitering
    page.evaluate("mdaReport.map.fire('click', {latlng: mdaReport.map.getCenter()})")
    assert page.evaluate("mdaReport.highlighted") is None
    assert page.locator("#mda-alert-table tr.mda-related").count() == 0
    page.evaluate("() => { mdaReport.map.closePopup(); mdaReport.fit(); }")


def test_hostile_names_render_as_text_and_nothing_runs(report):
    from test_report import HOSTILE

    page, _ = report
    cells = page.eval_on_selector_all(
        "#mda-alert-table tbody td", "els => els.map(e => e.textContent)"
    )
    assert any(c.startswith(HOSTILE[0]) for c in cells)
    assert any(c.startswith(HOSTILE[1]) for c in cells)
    page.click("#mda-row-0")  # the gap of the vessel named like an <img onerror>
    page.wait_for_timeout(800)
    assert HOSTILE[0] in page.locator(".leaflet-popup-content").inner_text()
    # no element was injected by any name, and no dialog fired
    assert page.evaluate("document.querySelectorAll('img[src=x], img[src=X]').length") == 0
    injected = (
        "[...document.scripts].some(s => s.type !== 'application/json' && s.text === 'alert(1)')"
    )
    assert page.evaluate(injected) is False
    assert page.evaluate("window.__alerts") == []


def test_zone_tooltip_shows_escaped_name_as_text(report):
    page, _ = report
    page.evaluate(
        "() => { mdaReport.map.closePopup(); mdaReport.map.setView([34.55, 129.45], 12); }"
    )
    page.wait_for_timeout(400)
    text = tooltip_at(page, 34.58, 129.42)
    assert "Firing <range>" in text and "<i>src</i>" in text
    assert page.evaluate("window.__alerts") == []


def test_screenshot_of_the_fitted_report(report):
    page, _ = report
    page.mouse.move(1450, 880)  # over the side panel: no tooltip open in the picture
    page.evaluate("() => { mdaReport.map.closePopup(); mdaReport.fit(); }")
    page.wait_for_timeout(600)
    shot = ROOT / "maps" / "browser-test.png"
    shot.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_time_slider_replays(report):
    page, _ = report
    shown = "mdaReport.tracks.reduce((n, t) => n + t.layer.getLatLngs().length, 0)"
    n = page.evaluate(shown)
    page.evaluate("mdaReport.setTime(mdaReport.data.header.period[0] + 3600)")
    early = page.evaluate(shown)
    markers = "mdaReport.cluster.getLayers().length + mdaReport.severe.getLayers().length"
    alerts_early = page.evaluate(markers)
    page.evaluate("mdaReport.setTime(mdaReport.data.header.period[1])")
    assert 0 < early < n
    assert alerts_early < 5  # only alerts started in the first hour
    assert page.evaluate(shown) == n
    assert page.evaluate(markers) == 5


def test_controls_and_colour_by_vessel(report):
    page, _ = report
    for sel in (".leaflet-control-zoom-fullscreen", ".leaflet-control-measure", ".mda-coords"):
        assert page.locator(sel).count() == 1, sel
    assert page.locator(".leaflet-control-minimap").count() == 0  # offline: no tiles
    colour = "mdaReport.tracks.map(t => t.layer.options.color)"
    by_speed = page.evaluate(colour)
    assert set(by_speed) <= set(page.evaluate("mdaReport.legend.speed_colors")) | {"#888"}
    page.select_option("#mda-side select", "vessel")
    by_vessel = page.evaluate(colour)
    assert all(c.startswith("hsl(") for c in by_vessel)
    assert len(set(by_vessel)) == 6
    page.select_option("#mda-side select", "speed")
    assert page.evaluate(colour) == by_speed


def test_empty_report_opens_cleanly(browser, tmp_path):
    page, seen = open_report(browser, render_map(tmp_path / "empty.html", offline=True))
    assert seen == {"requests": [], "errors": []}
    assert "No alerts in this report." in page.inner_text("#mda-side")
    page.close()


def test_hostile_zone_name_is_text_in_the_tooltip(browser, tmp_path):
    """A zone named like an <img onerror> (and one like a Jinja expression) shows as text."""
    import geopandas as gpd
    import shapely

    xss, math = "<img src=x onerror=alert(1)>", "{{7*7}}"
    zones = gpd.GeoDataFrame(
        {"id": ["z1"], "name": [xss], "kind": ["restricted"], "source": [math]},
        geometry=[shapely.box(129.4, 34.4, 129.6, 34.6)],
        crs="EPSG:4326",
    )
    page, seen = open_report(browser, render_map(tmp_path / "z.html", zones=zones, offline=True))
    assert page.evaluate("mdaReport.map.getBounds().contains([34.5, 129.5])")  # fitted to it
    text = tooltip_at(page, 34.5, 129.5)
    assert xss in text and math in text and "49" not in text
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert page.evaluate("window.__alerts") == []
    assert seen == {"requests": [], "errors": []}
    names = page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label span", "els => els.map(e => e.textContent.trim())"
    )
    assert names[0] == "Restricted areas"
    page.close()


@pytest.mark.parametrize("tamper", [False, True])
def test_online_report_scripts_are_pinned_by_integrity(browser, tmp_path, tamper):
    """The CDN is served from the vendored files: they load; one changed byte is refused."""
    from mda.report import offline

    cdn = "https://cdn.jsdelivr.net/npm/"
    out = render_map(tmp_path / "online.html", offline=False)
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def serve(route):
        body = (offline.ASSET_DIR / route.request.url.removeprefix(cdn)).read_bytes()
        if tamper and route.request.url.endswith("leaflet-heat.js"):
            body += b"\n//"
        route.fulfill(
            body=body,
            content_type="application/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    page.route(cdn + "**", serve)
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    page.goto(out.as_uri(), wait_until="load")
    loaded = page.evaluate("typeof window.L === 'object' && typeof L.heatLayer === 'function'")
    assert loaded is not tamper
    refused = [e for e in errors if "integrity" in e]
    assert bool(refused) is tamper, errors
    page.close()


def test_report_limits_are_named_in_the_panel(browser, tmp_path, monkeypatch):
    from test_report import scenario

    from mda.report import limits

    monkeypatch.setattr(limits, "MAX_ALERTS", 2)
    page, seen = open_report(browser, render_map(tmp_path / "l.html", **scenario(), offline=True))
    assert page.inner_text(".mda-not-drawn") == "Not drawn (report limits): 3 alerts"
    assert page.evaluate("mdaReport.alertMarkers.length") == 2
    assert "5 alerts" in page.inner_text(".mda-counts").replace("\n", " ")
    assert seen == {"requests": [], "errors": []}
    page.close()


def test_feed_outages_panel_and_receiver_artefacts_layer(browser, tmp_path):
    from test_report import feed_positions

    out = render_map(tmp_path / "feed.html", positions=feed_positions(), offline=True)
    page, seen = open_report(browser, out)
    try:
        assert seen["errors"] == []
        names = page.eval_on_selector_all(
            ".leaflet-control-layers-overlays label span",
            "els => els.map(e => e.textContent.trim())",
        )
        assert "Receiver artefacts" in names
        assert page.evaluate("mdaReport.layers['Receiver artefacts'].getLayers().length") == 1
        assert page.inner_text("#mda-feed h2") == "Feed outages (1)"
        rows = page.eval_on_selector_all(
            "#mda-outage-table tbody tr", "rs => rs.map(r => r.textContent)"
        )
        assert rows == ["2026-03-01 03:01 UTC2026-03-01 11:01 UTC8"]
        assert page.inner_text("#mda-artefacts").startswith("1 fix(es) left out")
        page.click("#mda-outage-table tbody tr")  # replays the map to the outage's start
        start = 1_772_334_060  # 2026-03-01T03:01Z, to the slider's step
        value, step = page.evaluate("[+mdaReport.timeInput.value, +mdaReport.timeInput.step]")
        assert abs(value - start) < step
    finally:
        page.close()


def test_popup_coordinates_to_five_decimals(browser, tmp_path):
    """A gap from lon -119.12345 to 129.98765 reads so in the popup (it said "lon -119")."""
    import pandas as pd

    from mda import schema

    t0 = pd.Timestamp("2026-03-02", tz="UTC")
    alerts = schema.conform(
        pd.DataFrame(
            {
                "id": ["g"],
                "type": ["ais_gap"],
                "severity": ["high"],
                "mmsi": [366000001],
                "start": [t0],
                "end": [t0 + pd.Timedelta("9h")],
                "lat": [33.54321],
                "lon": [-119.12345],
                "evidence": [
                    {"lat0": 33.54321, "lon0": -119.12345, "lat1": 35.1, "lon1": 129.98765}
                ],
            }
        ),
        schema.ALERTS,
    )
    page, seen = open_report(browser, render_map(tmp_path / "c.html", alerts=alerts))
    try:
        page.click("#mda-row-0")
        page.wait_for_selector(".leaflet-popup-content", timeout=3000)
        text = page.inner_text(".leaflet-popup-content")
        for value in ("-119.12345", "129.98765", "33.54321", "35.10000"):
            assert value in text, text
        assert "33.54321, -119.12345" in text  # the alert's own position
        assert seen["errors"] == []
    finally:
        page.close()


@pytest.fixture(scope="module")
def story_page(browser, tmp_path_factory):
    """The scenario with the demo's story: its named views, narrative and partners."""
    from test_report import scenario

    from mda import demo

    out = render_map(
        tmp_path_factory.mktemp("story") / "story.html",
        **scenario(),
        title="story",
        story=demo.story(Path("no-truth.json")),
        data_sources=["simulated"],
    )
    page, seen = open_report(browser, out)
    yield page, seen
    page.close()


def test_named_views_move_the_map(story_page):
    from mda.demo import VIEWS

    page, seen = story_page
    assert seen == {"requests": [], "errors": []}
    buttons = page.eval_on_selector_all(".mda-view", "bs => bs.map(b => b.textContent)")
    assert buttons == ["Whole area", *VIEWS]
    for i, (name, ((s, w), (n, e))) in enumerate(VIEWS.items()):
        page.click(f"#mda-view-{i}")
        page.wait_for_timeout(400)
        lat, lon = page.evaluate("[mdaReport.map.getCenter().lat, mdaReport.map.getCenter().lng]")
        assert s < lat < n and w < lon < e, name
    page.click("#mda-view-all")
    page.wait_for_timeout(400)
    assert page.evaluate("mdaReport.map.getBounds().contains([34.5, 129.5])")


def test_story_panel_partners_and_credits(story_page):
    page, _ = story_page
    lines = page.eval_on_selector_all(".mda-narrative li", "ls => ls.map(l => l.textContent)")
    assert lines[0].startswith("72 h of simulated traffic")
    assert any("VOLGA PEARL: anchor dragged across Estlink 1" in t for t in lines)
    shaded = page.evaluate("mdaReport.partnersShaded")
    assert len(shaded) == 28 and "South Korea" in shaded and "Germany" in shaded
    assert "Simulated traffic (mda simulate)" in page.inner_text(".leaflet-control-attribution")
    assert "no real vessel" in page.inner_text(".mda-credits")
    times = page.evaluate(
        "[...document.querySelectorAll('#mda-alert-table tbody tr')]"
        ".map(r => mdaReport.data.alerts.start[+r.id.slice(8)])"
    )
    assert times == sorted(times)  # a story lists its alerts in time order


def test_zone_and_country_labels_and_borders(story_page):
    page, _ = story_page
    assert page.evaluate("mdaReport.borders.getLayers().length") > 0
    page.evaluate("mdaReport.map.setView([34.5, 129.5], 11, { animate: false })")
    page.wait_for_timeout(300)
    zones = page.eval_on_selector_all(".mda-label-zone", "ls => ls.map(l => l.textContent)")
    assert "Firing <range>" in zones  # user text, as text
    assert (
        page.evaluate("document.querySelectorAll('.mda-label-zone b, .mda-label-zone i').length")
        == 0
    )
    page.evaluate("mdaReport.map.setView([50, 10], 4, { animate: false })")
    page.wait_for_timeout(300)
    countries = page.eval_on_selector_all(".mda-label-country", "ls => ls.map(l => l.textContent)")
    assert {"Germany", "France", "Poland"} <= set(countries)
    assert page.locator(".mda-label-zone").count() == 0  # zone names only from zoom 5
    page.evaluate("mdaReport.fit()")


def test_demo_opens_on_the_whole_lane_with_critical_alerts_in_sight(browser, tmp_path):
    """`mda demo`: the whole Korea–EU lane at the initial zoom, the two critical anchor drags
    drawn on their own (they hid in a cluster of 78), the story panel and the partners."""
    from mda.demo import VIEWS, run_demo

    out = run_demo(out=tmp_path / "demo.html", build=tmp_path / "build")
    page, seen = open_report(browser, out)
    try:
        assert seen == {"requests": [], "errors": []}
        assert page.evaluate("mdaReport.map.getBounds().contains([35.1, 129.0])")  # Busan
        assert page.evaluate("mdaReport.map.getBounds().contains([51.95, 4.1])")  # Rotterdam
        severities = page.evaluate("mdaReport.data.alerts.severity")
        critical = [i for i, s in enumerate(severities) if s == "critical"]
        assert len(critical) == 2
        assert all(page.evaluate(MARKER_SHOWN, i) for i in critical)
        assert page.locator(".mda-view").count() == 1 + len(VIEWS)
        assert len(page.evaluate("mdaReport.partnersShaded")) == 28
        assert page.locator(".mda-narrative li").count() >= 8
    finally:
        page.close()
