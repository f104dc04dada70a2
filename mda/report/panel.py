"""What the header panel and legend say: title, period, sources, counts, thresholds, styles.

Only data here; the page script (assets/mda-report.js) draws it with textContent, so no text
from AIS or from file names is ever parsed as HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mda.alerts import jsonable
from mda.report import limits, styles
from mda.schema import ALERT_TYPES, SEVERITIES

#: Credit lines of the data sources a report can show, by source key: (short, for the map's
#: attribution, full, as the source asks it to be given). Keys: ingest message kinds
#: ("csv:dma", "csv:noaa") and "simulated".
DATA_CREDITS = {
    "csv:dma": (
        "AIS: Danish Maritime Authority",
        "Contains data from the Danish Maritime Authority that is used in accordance with the"
        " conditions for the use of Danish public data.",
    ),
    "csv:noaa": (
        "AIS: MarineCadastre.gov (BOEM/NOAA)",
        "AIS data courtesy of MarineCadastre.gov (BOEM/NOAA), from the U.S. Coast Guard's"
        " national AIS network.",
    ),
    "simulated": (
        "Simulated traffic (mda simulate)",
        "Simulated traffic from the mda simulator: no real vessel, every name and MMSI invented.",
    ),
}


def credits(keys: Iterable[str]) -> list[list[str]]:
    """[short, full] credit lines of the data sources among `keys` (others have none)."""
    return [list(DATA_CREDITS[k]) for k in DATA_CREDITS if k in set(keys)]


def _degrees(v: float, pos: str, neg: str) -> str:
    return f"{abs(v):.2f}° {pos if v >= 0 else neg}"


def default_title(points: pd.DataFrame, period: list[int | None]) -> str:
    """A title from the data when none is given: the area the positions cover and their days
    ("AIS 54.90° N–57.80° N, 9.10° E–13.20° E · 2024-03-01 – 2024-03-02")."""
    title = "AIS"
    lat, lon = points["lat"].to_numpy(float), points["lon"].to_numpy(float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if ok.any():
        lat, lon = lat[ok], lon[ok]
        title += (
            f" {_degrees(lat.min(), 'N', 'S')}–{_degrees(lat.max(), 'N', 'S')},"
            f" {_degrees(lon.min(), 'E', 'W')}–{_degrees(lon.max(), 'E', 'W')}"
        )
    if period[0] is not None:
        first, last = (pd.Timestamp(t, unit="s", tz="UTC").strftime("%Y-%m-%d") for t in period)
        title += f" · {first}" if first == last else f" · {first} – {last}"
    return title


def _period(points: pd.DataFrame, alerts: pd.DataFrame | None) -> list[int | None]:
    times = [pd.to_datetime(points["ts"], utc=True)] if len(points) else []
    if alerts is not None and len(alerts):
        times += [pd.to_datetime(alerts[c], utc=True) for c in ("start", "end") if c in alerts]
    ts = pd.concat(times).dropna() if times else pd.Series(dtype="datetime64[ns, UTC]")
    if ts.empty:
        return [None, None]
    return [int(ts.min().timestamp()), int(ts.max().timestamp())]


def thresholds_in_force(alerts: pd.DataFrame | None, given: dict | None) -> dict[str, Any]:
    """Thresholds to show: those given, else those attached to the alerts, by alert type."""
    if given:
        return jsonable(given)
    if alerts is None or alerts.empty or "thresholds" not in alerts:
        return {}
    first = alerts.drop_duplicates("type").head(limits.MAX_LIST)
    return {
        limits.text(t): limits.json_value(jsonable(th))
        for t, th in zip(first["type"], first["thresholds"], strict=True)
        if isinstance(th, dict) and th
    }


def _counts(col: pd.Series | None, order: Sequence[str]) -> dict[str, int]:
    if col is None:
        return {}
    vc = col.astype("string").value_counts()
    known = {k: int(vc[k]) for k in order if k in vc}
    other = vc[~vc.index.isin(list(known))].head(limits.MAX_LIST)  # e.g. from a foreign file
    return known | dict(zip(limits.texts(other.index), other.astype(int).tolist(), strict=True))


def header(
    *,
    title: str | None,
    sources: Sequence[str],
    points: pd.DataFrame,
    n_positions: int,
    alerts: pd.DataFrame | None,
    thresholds: dict | None,
) -> dict[str, Any]:
    """The header panel: title (from the data when None), period, sources, counts and
    thresholds in force."""
    shown = alerts if alerts is not None and len(alerts) > 0 else None
    period = _period(points, alerts)
    return {
        "title": limits.text(default_title(points, period) if title is None else title),
        "period": period,
        "sources": limits.head(limits.texts(pd.Series(list(sources), dtype="object")), "sources"),
        "vessels": int(points["mmsi"].nunique()) if len(points) else 0,
        "positions": int(n_positions),
        "alerts": len(shown) if shown is not None else 0,
        "by_type": _counts(shown["type"] if shown is not None else None, ALERT_TYPES),
        "by_severity": _counts(shown["severity"] if shown is not None else None, SEVERITIES),
        "thresholds": thresholds_in_force(alerts, thresholds),
    }


def legend(zone_layers: list[dict], ship_groups: list[str]) -> dict[str, Any]:
    """Colours and symbols the legend shows (the same tables the layers are drawn with): only
    the zone layers drawn and the ship-type groups of the vessels drawn."""
    present = set(ship_groups)
    return {
        "speed_breaks": list(styles.SPEED_BREAKS_KN),
        "speed_colors": list(styles.SPEED_COLORS),
        "severity_colors": styles.SEVERITY_COLORS,
        "unclustered": list(styles.UNCLUSTERED),
        "type_glyphs": styles.TYPE_GLYPHS,
        "zones": {z["name"]: z["style"]["color"] for z in zone_layers},
        "ship_groups": {g: c for g, c in styles.SHIP_GROUP_COLORS.items() if g in present},
        "overlays": styles.OVERLAYS,
        "artefact_style": styles.ARTEFACT_STYLE,
        "land": styles.LAND_STYLE,
        "labels": styles.LABELS,
    }


def story(given: dict | None) -> dict[str, Any] | None:
    """The page's story panel (a demo's): named views (``[name, [[S, W], [N, E]]]``, a button
    each that fits the map to them), the narrative (lines of text), the countries shaded as
    partners (Natural Earth names) and their legend label. Texts are cut like every other text;
    alerts are then listed in time order."""
    if not given:
        return None
    views = [
        {"name": limits.text(name), "bounds": [[float(v) for v in c] for c in bounds]}
        for name, bounds in given.get("views", ())
    ]
    return {
        "views": views[: limits.MAX_LIST],
        "narrative": limits.head(limits.texts(list(given.get("narrative", ()))), "lines"),
        "partners": limits.texts(list(given.get("partners", ()))),
        "partners_label": limits.text(given.get("partners_label", "")),
    }
