"""What the header panel and legend say: title, period, sources, counts, thresholds, styles.

Only data here; the page script (assets/mda-report.js) draws it with textContent, so no text
from AIS or from file names is ever parsed as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from mda.alerts import jsonable
from mda.report import limits, styles
from mda.schema import ALERT_TYPES, SEVERITIES


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
    title: str,
    sources: Sequence[str],
    points: pd.DataFrame,
    n_positions: int,
    alerts: pd.DataFrame | None,
    thresholds: dict | None,
) -> dict[str, Any]:
    """The header panel: title, period, sources, counts and thresholds in force."""
    has = alerts is not None and len(alerts) > 0
    return {
        "title": limits.text(title),
        "period": _period(points, alerts),
        "sources": limits.head(limits.texts(pd.Series(list(sources), dtype="object")), "sources"),
        "vessels": int(points["mmsi"].nunique()) if len(points) else 0,
        "positions": int(n_positions),
        "alerts": len(alerts) if has else 0,
        "by_type": _counts(alerts["type"] if has else None, ALERT_TYPES),
        "by_severity": _counts(alerts["severity"] if has else None, SEVERITIES),
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
    }
