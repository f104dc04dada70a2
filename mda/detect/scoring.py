"""Detector quality against planted truth: match alerts to events, precision and recall per type.

An alert matches a truth event (from ``mda.simulate``) when the type and vessel agree (for
two-vessel events the MMSI pair, in either order) and the time ranges overlap, allowing
``tolerance`` either side. A truth event is *found* when some alert matches it; an alert is
*false* when it matches no event. Several alerts on one event are counted as ``duplicates``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from mda import schema

DEFAULT_TOLERANCE = pd.Timedelta(hours=1)
TRUTH = {
    "type": "string",
    "mmsi": "uint32",
    "other_mmsi": "UInt32",
    "start": schema.TS,
    "end": schema.TS,
    "zone_id": "string",
}


def truth_frame(truth: Iterable[Mapping] | pd.DataFrame) -> pd.DataFrame:
    """Truth events (dicts with type, mmsi, other_mmsi, start, end, zone_id) as a table."""
    df = truth if isinstance(truth, pd.DataFrame) else pd.DataFrame(list(truth))
    if df.empty:
        return schema.empty(TRUTH)
    df = df.copy()
    if "end" not in df:
        df["end"] = df["start"]
    df["end"] = df["end"].fillna(df["start"])
    return schema.conform(df, TRUTH, extra=False)


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    """type, vessel pair in canonical order (k1 <= k2; k2 = 0 for one vessel), start, end."""
    a = df["mmsi"].to_numpy(dtype=np.int64)
    o = df["other_mmsi"].fillna(0).to_numpy(dtype=np.int64)
    one = o == 0
    return pd.DataFrame(
        {
            "type": df["type"].astype(str).to_numpy(),
            "k1": np.where(one, a, np.minimum(a, o)),
            "k2": np.where(one, 0, np.maximum(a, o)),
            "start": pd.to_datetime(df["start"], utc=True).to_numpy("datetime64[ns]"),
            "end": pd.to_datetime(df["end"], utc=True).to_numpy("datetime64[ns]"),
        }
    )


def match(
    alerts: pd.DataFrame, truth: pd.DataFrame, tolerance: pd.Timedelta = DEFAULT_TOLERANCE
) -> pd.DataFrame:
    """Every (alert, event) pair that matches: columns `alert` and `event` (row positions)."""
    a = _keyed(alerts).assign(alert=np.arange(len(alerts)))
    t = _keyed(truth).assign(event=np.arange(len(truth)))
    m = a.merge(t, on=["type", "k1", "k2"], suffixes=("_a", "_t"))
    tol = np.timedelta64(int(pd.Timedelta(tolerance).value), "ns")
    overlap = (m["start_a"] <= m["end_t"] + tol) & (m["end_a"] >= m["start_t"] - tol)
    return m.loc[overlap, ["alert", "event"]].reset_index(drop=True)


def score(
    alerts: pd.DataFrame,
    truth: Iterable[Mapping] | pd.DataFrame,
    tolerance: pd.Timedelta = DEFAULT_TOLERANCE,
) -> pd.DataFrame:
    """Per alert type: planted, found, missed, alerts, false, duplicates, precision, recall."""
    truth = truth_frame(truth)
    alerts = schema.conform(alerts, schema.ALERTS, extra=False)
    m = match(alerts, truth, tolerance)
    types = sorted(set(truth["type"].astype(str)) | set(alerts["type"].astype(str)))
    rows = []
    for typ in types:
        t_idx = np.flatnonzero(truth["type"].astype(str).to_numpy() == typ)
        a_idx = np.flatnonzero(alerts["type"].astype(str).to_numpy() == typ)
        mm = m[m["alert"].isin(a_idx)]
        found = mm["event"].nunique()
        true_alerts = mm["alert"].nunique()
        planted, n_alerts = len(t_idx), len(a_idx)
        rows.append(
            {
                "type": typ,
                "planted": planted,
                "found": found,
                "missed": planted - found,
                "alerts": n_alerts,
                "false": n_alerts - true_alerts,
                "duplicates": max(true_alerts - found, 0),
                "precision": true_alerts / n_alerts if n_alerts else 1.0,
                "recall": found / planted if planted else 1.0,
            }
        )
    cols = ["type", "planted", "found", "missed", "alerts", "false", "duplicates"]
    return pd.DataFrame(rows, columns=[*cols, "precision", "recall"])


def missed_events(
    alerts: pd.DataFrame,
    truth: Iterable[Mapping] | pd.DataFrame,
    tolerance: pd.Timedelta = DEFAULT_TOLERANCE,
) -> pd.DataFrame:
    """The truth events no alert matched (for test failure messages and the bench)."""
    truth = truth_frame(truth)
    m = match(schema.conform(alerts, schema.ALERTS, extra=False), truth, tolerance)
    return truth.drop(index=m["event"].unique()).reset_index(drop=True)


def false_alerts(
    alerts: pd.DataFrame,
    truth: Iterable[Mapping] | pd.DataFrame,
    tolerance: pd.Timedelta = DEFAULT_TOLERANCE,
) -> pd.DataFrame:
    """The alerts that match no truth event."""
    alerts = schema.conform(alerts, schema.ALERTS, extra=False)
    m = match(alerts, truth_frame(truth), tolerance)
    return alerts.drop(index=m["alert"].unique()).reset_index(drop=True)


def false_by_habit(
    alerts: pd.DataFrame,
    truth: Iterable[Mapping] | pd.DataFrame,
    must_not: Iterable[Mapping],
    tolerance: pd.Timedelta = DEFAULT_TOLERANCE,
) -> pd.DataFrame:
    """The false alerts, each with the `habit` of the simulator's must-not-alert entry it falls
    on ("unexplained" if none): an entry names a vessel (either MMSI of a pair alert), a pair,
    or no vessel (a feed or receiver artefact, matched by time alone)."""
    false = false_alerts(alerts, truth, tolerance).reset_index(drop=True)
    q = pd.DataFrame(list(must_not))
    false["habit"] = "unexplained"
    if false.empty or q.empty:
        return false
    tol = pd.Timedelta(tolerance)
    q_start = pd.to_datetime(q["start"], utc=True) - tol
    q_end = pd.to_datetime(q["end"], utc=True) + tol
    qa = q["mmsi"].fillna(-1).astype(np.int64).to_numpy()
    qb = q["other_mmsi"].fillna(-1).astype(np.int64).to_numpy()
    a_m = false["mmsi"].astype(np.int64).to_numpy()
    a_o = false["other_mmsi"].astype("Int64").fillna(-2).to_numpy(np.int64)
    start, end = pd.to_datetime(false["start"], utc=True), pd.to_datetime(false["end"], utc=True)
    hit = (start.to_numpy()[:, None] <= q_end.to_numpy()[None, :]) & (
        end.to_numpy()[:, None] >= q_start.to_numpy()[None, :]
    )
    own = np.zeros(hit.shape, bool)
    for col in (qa, qb):
        own |= (col[None, :] == a_m[:, None]) | (col[None, :] == a_o[:, None])
    # an entry on the alert's own vessel first, a feed-wide one (no vessel) otherwise
    rank = hit * (2 * own + (qa[None, :] == -1))
    first = np.where(rank.max(axis=1) > 0, rank.argmax(axis=1), -1)
    habits = q["habit"].astype(str).to_numpy()
    false.loc[first >= 0, "habit"] = habits[first[first >= 0]]
    return false
