"""Resource bounds of a report: what one page draws at most, so no input makes a huge HTML.

A report is one page a browser must open, whatever it was fed (a year of global AIS, a hostile
alerts file with megabyte names). Each layer has a budget; what does not fit is simplified
harder or left out, counted, and named in the header panel ("not drawn (report limits)"). Counts
in the header (vessels, positions, alerts by type and severity) always describe all the data.

Budgets and their worst-case share of the page:

- tracks: at most ``MAX_TRACK_VERTICES`` vertices after simplification (about 25 bytes each,
  50 MB); the tolerance is raised fourfold until they fit, then the last pieces are left out;
- vessels: at most ``MAX_VESSELS`` (latest position + table row, about 200 bytes each, 40 MB),
  those with alerts first, then those with most fixes;
- alerts: at most ``MAX_ALERTS`` markers and table rows, the most severe first, then the earliest;
  one alert's evidence is at most ``MAX_EVIDENCE_CHARS`` of JSON (with texts, about 3 kB each,
  60 MB);
- zones: at most ``MAX_ZONE_VERTICES`` vertices per layer (4 layers, about 20 bytes each, 40 MB);
- feed: at most ``MAX_OUTAGES`` feed outages listed (the longest; about 60 bytes each) and
  ``MAX_ARTEFACTS`` receiver artefacts drawn (the earliest; about 60 bytes each, 1 MB);
- texts (names, call signs, zone names, titles, file names, evidence strings): at most
  ``MAX_TEXT_CHARS`` characters each, cut ones end in "…"; lists in the header (sources,
  alert types) at most ``MAX_LIST`` entries;
- traffic density: at most 400 x 400 grid cells (layers.heat_layer, 4 MB).
- harbour-scale land: Natural Earth 1:10m clipped to a box at most 20° across, only for a view
  under 10° across (mda.report.coast; the largest found, the Chilean fjords, 320 kB).

So a page stays below about 250 MB however large the input.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from mda.schema import SEVERITIES

MAX_TRACK_VERTICES = 2_000_000
MAX_VESSELS = 200_000
MAX_ALERTS = 20_000
MAX_EVIDENCE_CHARS = 2_000
MAX_ZONE_VERTICES = 500_000
MAX_OUTAGES = 1_000
MAX_ARTEFACTS = 20_000
MAX_TEXT_CHARS = 200
MAX_LIST = 50
ELLIPSIS = "…"


def text(value: Any) -> str:
    """A value as text ("" for missing), cut to MAX_TEXT_CHARS."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    s = str(value)
    return s if len(s) <= MAX_TEXT_CHARS else s[: MAX_TEXT_CHARS - 1] + ELLIPSIS


def texts(values: Iterable[Any]) -> list[str]:
    """`text` of every value of a Series, array or list (a row loop over vessels, alerts or
    zones: pandas string methods would copy every long text first)."""
    return [text(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]


def json_value(obj: Any, max_chars: int = MAX_EVIDENCE_CHARS) -> Any:
    """A JSON-ready value, or its JSON text cut to `max_chars` (under a "truncated" key)."""
    dumped = json.dumps(obj, ensure_ascii=False, default=str)
    if len(dumped) <= max_chars:
        return obj
    return {"truncated": dumped[: max_chars - 1] + ELLIPSIS}


def top_alerts(alerts: pd.DataFrame | None) -> tuple[pd.DataFrame | None, int]:
    """At most MAX_ALERTS alerts (the most severe, then the earliest) and how many were cut."""
    if alerts is None or len(alerts) <= MAX_ALERTS:
        return alerts, 0
    rank = alerts["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(-1)
    start = pd.to_datetime(alerts["start"], utc=True)
    order = np.lexsort((start.to_numpy(), -rank.to_numpy()))
    keep = np.sort(order[:MAX_ALERTS])
    return alerts.iloc[keep], len(alerts) - MAX_ALERTS


def top_vessels(points: pd.DataFrame, alerts: pd.DataFrame | None) -> tuple[pd.DataFrame, int]:
    """Points of at most MAX_VESSELS vessels (with alerts first, then most fixes); vessels cut."""
    mmsi = points["mmsi"].astype("int64")
    count = mmsi.value_counts()
    if len(count) <= MAX_VESSELS:
        return points, 0
    flagged = count.index.isin(alerts["mmsi"].astype("int64")) if alerts is not None else False
    order = np.lexsort((-count.to_numpy(), ~np.asarray(flagged, dtype=bool)))
    kept = count.index[order[:MAX_VESSELS]]
    return points[mmsi.isin(kept).to_numpy()], len(count) - MAX_VESSELS


def top_rows(df: pd.DataFrame, limit: int, by: str, *, largest: bool) -> tuple[pd.DataFrame, int]:
    """At most `limit` rows (those with the largest or smallest `by`, in their original order)
    and how many were cut."""
    if len(df) <= limit:
        return df, 0
    order = np.argsort(df[by].to_numpy(), kind="stable")
    keep = np.sort(order[::-1][:limit] if largest else order[:limit])
    return df.iloc[keep], len(df) - limit


def head(items: list, what: str) -> list:
    """The first MAX_LIST items, then one saying how many more there were."""
    if len(items) <= MAX_LIST:
        return items
    return [*items[:MAX_LIST], f"{ELLIPSIS} and {len(items) - MAX_LIST:,} more {what}"]
