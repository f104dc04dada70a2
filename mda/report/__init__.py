"""Map reports: one self-contained HTML page per run (Folium + a small page script).

`render_map` draws what it is given; `build_report` gathers it first (input files or a store
window, zones, alerts, filters) — the `mda report` command. By default (``offline=True``) every
script, stylesheet and the Natural Earth basemap are inlined from mda/report/assets, so the page
makes no network request and opens on an air-gapped workstation; ``offline=False`` (the CLI's
``--cdn``) makes a smaller page that loads its scripts from a CDN (pinned with Subresource
Integrity) over web tiles; ``tiles=URL`` uses an (internal) tile server instead of the land layer.

Hostile input: no text from any input (vessel data, zones, watch lists, alert files, file names,
titles, tile URLs) ever reaches a template engine. folium builds only the empty map and its
layer control (branca compiles every rendered folium script as a Jinja template, so a zone named
``{{ ... }}`` would run code); all data goes into one JSON block that the page script parses and
puts in the page with textContent. Online pages pin their CDN scripts with Subresource
Integrity. The page is size-bounded whatever the input: see mda.report.limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import folium
import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from mda import schema
from mda.config import FeedConfig
from mda.errors import MdaError
from mda.feed import feed_outages
from mda.fileio import replacing
from mda.report import coast, layers, limits, panel
from mda.report import offline as assets

if TYPE_CHECKING:
    import geopandas as gpd

    from mda.tracks import Tracks

__all__ = ["build_report", "render_map"]


class _Raw(Element):
    """Text put in the page as-is, never compiled as a Jinja template: the page data holds
    attacker-controlled text, and '{{ ... }}' in a vessel name must stay text."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


#: The online basemap (an XYZ URL template) and its attribution, shown as HTML by Leaflet.
ONLINE_TILES = {
    "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
    " contributors",
    "max_zoom": 19,
}
#: Attribution of a user's `tiles` server (fixed text: the URL is never put in as HTML).
OWN_TILES_ATTRIBUTION = "Tiles: internal tile server"


def _bounds(
    points: pd.DataFrame,
    alerts: pd.DataFrame | None,
    zones: gpd.GeoDataFrame | None,
    bbox: tuple[float, float, float, float] | None,
) -> list[list[float]] | None:
    """[[S, W], [N, E]] to fit: the bbox if given, else tracks + alerts (else zones)."""
    if bbox is not None:
        w, s, e, n = bbox
        return [[s, w], [n, e]]
    lats = [points["lat"].to_numpy(float)]
    lons = [points["lon"].to_numpy(float)]
    if alerts is not None and len(alerts):
        lats.append(alerts["lat"].to_numpy(float))
        lons.append(alerts["lon"].to_numpy(float))
    lat, lon = np.concatenate(lats), np.concatenate(lons)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if ok.any():
        return [[lat[ok].min(), lon[ok].min()], [lat[ok].max(), lon[ok].max()]]
    if zones is not None and len(zones):
        w, s, e, n = zones.total_bounds
        return [[s, w], [n, e]]
    return None


def _feed(outages: pd.DataFrame, artefacts: pd.DataFrame) -> tuple[dict, dict, dict[str, int]]:
    """The feed's health: outages for the side panel (the longest MAX_OUTAGES, with totals over
    all), artefacts for their layer (the earliest MAX_ARTEFACTS), and what was cut."""
    listed, cut_outages = limits.top_rows(outages, limits.MAX_OUTAGES, "hours", largest=True)
    drawn, cut_artefacts = limits.top_rows(artefacts, limits.MAX_ARTEFACTS, "ts", largest=False)
    feed = {
        "outages": len(outages),
        "outage_hours": round(float(outages["hours"].sum()), 2),
        "artefacts": len(artefacts),
        "listed": layers.outage_list(listed),
    }
    cut = {"feed outages": cut_outages, "receiver artefacts": cut_artefacts}
    return feed, layers.artefact_layer(drawn), cut


def _page_data(
    points: pd.DataFrame,
    n_positions: int,
    alerts: pd.DataFrame | None,
    vessels: pd.DataFrame | None,
    zones: gpd.GeoDataFrame | None,
    bbox: tuple[float, float, float, float] | None,
    feed_tables: tuple[pd.DataFrame | None, pd.DataFrame | None],
    text: dict[str, Any],
) -> dict[str, Any]:
    """Everything the page script draws; within the size bounds of mda.report.limits. `text`:
    title, sources, thresholds, story and data_sources (see render_map)."""
    header = panel.header(
        title=text["title"],
        sources=text["sources"],
        points=points,
        n_positions=n_positions,
        alerts=alerts,
        thresholds=text["thresholds"],
    )
    drawn_alerts, cut_alerts = limits.top_alerts(alerts)
    drawn_points, cut_vessels = limits.top_vessels(points, drawn_alerts)
    good = layers.good_points(drawn_points)
    tracks = layers.track_layer(good, drawn_alerts)
    feed, artefact_points, cut_feed = _feed(*feed_tables)
    cut = {"vessels": cut_vessels, "alerts": cut_alerts, "track pieces": tracks["not_drawn"]}
    header["not_drawn"] = {k: v for k, v in (cut | cut_feed).items() if v}
    table = layers.vessel_table(drawn_points, vessels)
    latest = layers.latest_layer(good, table)
    zone_layers = layers.zone_layers(zones)
    return {
        "header": header,
        "legend": panel.legend(zone_layers, latest["group"]),
        "vessels": table,
        "tracks": tracks,
        "latest": latest,
        "alerts": layers.alert_layer(drawn_alerts),
        "heat": layers.heat_layer(good),
        "zones": zone_layers,
        "feed": feed,
        "artefacts": artefact_points,
        "bounds": _bounds(drawn_points, drawn_alerts, zones, bbox),
        "tiles": None,
        "fine_land": None,
        "story": panel.story(text["story"]),
        "credits": panel.credits(text["data_sources"]),
    }


def render_map(
    out: str | Path,
    *,
    tracks: Tracks | None = None,
    positions: pd.DataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    alerts: pd.DataFrame | None = None,
    vessels: pd.DataFrame | None = None,
    title: str | None = None,
    sources: Sequence[str] = (),
    thresholds: dict[str, Any] | None = None,
    offline: bool = True,
    tiles: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    outages: pd.DataFrame | None = None,
    data_sources: Sequence[str] = (),
    story: dict[str, Any] | None = None,
) -> Path:
    """Render one self-contained HTML report to `out` and return its path.

    `title` defaults to the area and days of the data. `data_sources` are keys of
    panel.DATA_CREDITS ("csv:dma", "csv:noaa", "simulated"): the data's credit lines are shown.
    `story` (panel.story: named views, narrative, partner countries) adds a story panel.

    `positions` alone are turned into tracks with mda.tracks.build_tracks. `bbox` (W, S, E, N)
    sets the initial view; `thresholds` ({section: {key: value}}) overrides those shown from
    the alerts. `tiles` is an XYZ URL template (e.g. an internal tile server). `outages`
    (mda.feed.FEED_OUTAGES, e.g. a scan's) are the feed outages listed in the side panel; by
    default those of the tracks' points under the default thresholds. The tracks' receiver
    artefacts are drawn in their own layer. A view under coast.FINE_LAND_MAX_SPAN_DEG across
    (a harbour, a strait) gets Natural Earth 1:10m land clipped around it over the 1:50m basemap.
    """
    if tracks is None and positions is not None:
        from mda.tracks import build_tracks

        tracks = build_tracks(positions)
    points = tracks.points if tracks is not None else schema.empty(schema.POSITIONS)
    artefacts = tracks.artefacts if tracks is not None else schema.empty(schema.ARTEFACTS)
    if outages is None:
        outages = feed_outages(points, FeedConfig())
    n_positions = len(positions) if positions is not None else len(points)
    if zones is not None and zones.crs is not None:
        zones = zones.to_crs("EPSG:4326")
    feed_tables = (outages, artefacts)
    text = {
        "title": title,
        "sources": sources,
        "thresholds": thresholds,
        "story": story,
        "data_sources": data_sources,
    }
    data = _page_data(points, n_positions, alerts, vessels, zones, bbox, feed_tables, text)

    with_tiles = bool(tiles) or not offline
    if with_tiles:
        data["tiles"] = (
            {"url": tiles, "attribution": OWN_TILES_ATTRIBUTION, "max_zoom": 18}
            if tiles
            else ONLINE_TILES
        )
    else:
        data["fine_land"] = coast.fine_land(data["bounds"])
    # folium draws only the empty map and layer control: branca compiles every rendered folium
    # script as a Jinja template, so no input text may go into a folium object. Everything else
    # (tiles, zones, tracks, alerts, titles) is page data, drawn by the page script.
    m = folium.Map(
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        zoom_start=2,
        location=[20, 0],
        world_copy_jump=False,
    )
    m.default_js, m.default_css = [], []  # assets come from offline.head_html, nothing else
    root = cast(Figure, m.get_root())  # a Map's root is its page
    root.header.add_child(
        _Raw(assets.head_html(offline=offline, minimap=with_tiles)), name="mda_assets"
    )
    if not with_tiles:
        root.header.add_child(
            _Raw(
                f'<script type="application/json" id="mda-land">{assets.land_topojson()}</script>'
            ),
            name="mda_land",
        )
    root.header.add_child(
        _Raw(
            f'<script type="application/json" id="mda-data">{assets.json_for_html(data)}</script>'
        ),
        name="mda_data",
    )
    control = folium.LayerControl(collapsed=False, position="topright").add_to(m)
    init = MacroElement()
    init._template = Template(
        "{% macro script(this, kwargs) %}"
        "MDA.init({{ this._parent.get_name() }}, " + control.get_name() + ", "
        "JSON.parse(document.getElementById('mda-data').textContent));"
        "{% endmacro %}"
    )
    m.add_child(init)
    out = Path(out)
    html = root.render()
    with replacing(out, what="report") as (tmp,):  # a good old report is never truncated
        tmp.write_text(html, encoding="utf-8")
    return out


def _filter(
    df: pd.DataFrame,
    *,
    since: pd.Timestamp | None,
    until: pd.Timestamp | None,
    mmsi: Sequence[int] | None,
    bbox: tuple[float, float, float, float] | None,
    t0: str = "ts",
    t1: str = "ts",
) -> pd.DataFrame:
    """Rows within the time window (overlapping it, for alerts), of the MMSIs, in the bbox."""
    keep = np.ones(len(df), dtype=bool)
    start = pd.to_datetime(df[t0], utc=True)
    if since is not None:
        keep &= (pd.to_datetime(df[t1], utc=True).fillna(start) >= since).to_numpy()
    if until is not None:
        keep &= (start < until).to_numpy()
    if mmsi:
        keep &= df["mmsi"].astype("int64").isin([int(m) for m in mmsi]).to_numpy()
    if bbox is not None:
        w, s, e, n = bbox
        lat, lon = df["lat"].to_numpy(float), df["lon"].to_numpy(float)
        in_lon = (lon >= w) & (lon <= e) if w <= e else (lon >= w) | (lon <= e)
        keep &= (lat >= s) & (lat <= n) & in_lon
    return df[keep].reset_index(drop=True)


def build_report(
    *,
    inputs: Sequence[str | Path] = (),
    store: str | Path | None = None,
    zones: Sequence[str | Path] | None = None,
    alerts: str | Path | None = None,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    mmsi: Sequence[int] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    title: str | None = None,
    offline: bool = True,
    tiles: str | None = None,
    out: str | Path,
    start_time: pd.Timestamp | None = None,
    data_sources: Sequence[str] = (),
    story: dict[str, Any] | None = None,
) -> Path:
    """Gather positions (INPUT files or a store window), zones and alerts, filter, render.

    Zones default to the bundled layers. Alerts come from an alert file (`mda scan --out`) or,
    with a store, from the alerts stored for the window. The credit lines of the public feeds
    read (DMA, MarineCadastre) are shown with any `data_sources` given; `title` defaults to the
    data's area and days; `story` as in render_map. Returns the written HTML path.
    """
    from mda.zones import load_zones

    since, until = schema.utc(since), schema.utc(until)  # naive times are UTC, as in run_scan
    vessels = None
    if inputs:
        from mda.sources import read_ais

        data = read_ais(list(inputs), start_time=start_time)
        positions, vessels = data.positions, data.vessels  # 24A names merged with 24B
        sources = [Path(p).name for p in inputs]
        kinds = set(data.report.messages)
    elif store is not None:
        from mda.store import Store

        st = Store(store, readonly=True)
        positions = st.positions(since=since, until=until, mmsi=mmsi)
        vessels = st.vessels()
        sources = [f"store: {store}"]
        kinds = set(st.info()["messages_decoded_by_type"])
    else:
        raise MdaError("give INPUT files or --store DIR")
    positions = _filter(positions, since=since, until=until, mmsi=mmsi, bbox=bbox)
    table = None
    if alerts is not None:
        from mda.alerts import read_alerts

        table = read_alerts(alerts)
        sources.append(Path(alerts).name)
    elif store is not None:
        table = st.alerts(since=since, until=until)
    if table is not None:
        table = _filter(table, since=since, until=until, mmsi=mmsi, bbox=bbox, t0="start", t1="end")
    return render_map(
        out,
        positions=positions,
        zones=load_zones(list(zones) if zones else None),
        alerts=table,
        vessels=vessels,
        title=title,
        sources=sources,
        offline=offline,
        tiles=tiles,
        bbox=bbox,
        data_sources=[*map(str, kinds), *data_sources],
        story=story,
    )
