"""Column contracts of the tables that move between pipeline stages.

Every stage builds its output through these helpers so that dtypes are the same everywhere
(Parquet store, tracks, detectors, reports). See DESIGN.md "Contracts that others rely on".
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any, cast

import numpy as np
import pandas as pd

TS = "datetime64[ns, UTC]"

#: Vessel position reports (AIS types 1, 2, 3, 18, 19, 27). NaN where AIS says "not available".
POSITIONS: dict[str, str] = {
    "mmsi": "uint32",
    "ts": TS,  # receiver time, UTC
    "lat": "float64",
    "lon": "float64",
    "sog": "float32",  # knots, NaN for 102.3
    "cog": "float32",  # degrees, NaN for 360
    "heading": "float32",  # degrees, NaN for 511
    "nav_status": "uint8",  # 0..15, 15 = not defined (also for Class B)
    "msg_type": "uint8",
    "source": "string",  # input file name, "stdin", or feed address
    "station": "string",  # receiving station (tag block s:, $PGHP base station), "" if unknown
}

#: Non-vessel positions kept apart: base stations (4), SAR aircraft (9), aids to navigation (21).
AUX_POSITIONS: dict[str, str] = {
    "mmsi": "uint32",
    "ts": TS,
    "lat": "float64",
    "lon": "float64",
    "msg_type": "uint8",
    "name": "string",  # AtoN name, else ""
    "source": "string",
    "clock": TS,  # UTC a base station (type 4) reports: a receiver-health signal; else NaT
}

#: Binary messages (types 6 and 8, addressed and broadcast): kept with their application id.
BINARY: dict[str, str] = {
    "mmsi": "uint32",
    "ts": TS,
    "msg_type": "uint8",
    "dest_mmsi": "UInt32",  # type 6 only
    "dac": "UInt16",  # designated area code (NA when the message ends before it)
    "fi": "UInt8",  # function identifier
    "data": "string",  # application data, lower-case hex (last byte zero-padded); NA if none
    "source": "string",
}

#: Static and voyage data (types 5, 19, 24A/B). `vessels` holds the latest row per MMSI; the
#: history table holds one row per observed change (same columns, ts = when it was seen).
VESSELS: dict[str, str] = {
    "mmsi": "uint32",
    "ts": TS,  # time of the latest static report
    "imo": "UInt32",
    "name": "string",
    "callsign": "string",
    "ship_type": "UInt8",
    "length": "Float32",  # metres (A + B)
    "width": "Float32",  # metres (C + D)
    "draught": "Float32",
    "destination": "string",
    "ais_class": "string",  # "A" or "B"
}

#: Per-point output of tracks.build_tracks: POSITIONS plus these columns.
TRACK_POINTS_EXTRA: dict[str, str] = {
    "segment": "int64",  # global segment id, -1 for outliers
    "outlier": "bool",  # implied speed from previous good fix above the plausible maximum
    "dt_s": "float64",  # seconds since the vessel's previous good fix (NaN at its first)
    "dist_m": "float64",  # great-circle metres from previous good fix
    "speed_kn": "float64",  # implied speed from previous good fix
    "course": "float64",  # implied course from previous good fix, degrees
    "turn": "float64",  # change of implied course, degrees in (-180, 180]
    "jump": "bool",  # first fix of a segment that starts with a sustained relocation
}

#: Silences longer than the segmentation gap, kept as facts for the AIS-gap detector.
GAPS: dict[str, str] = {
    "mmsi": "uint32",
    "start": TS,  # last fix before the silence
    "end": TS,  # first fix after it
    "hours": "float64",
    "lat0": "float64",
    "lon0": "float64",
    "lat1": "float64",
    "lon1": "float64",
    "dist_m": "float64",
    "implied_kn": "float64",
}

#: Fixes left out of tracks because their time stamp is a receiver artefact (feed facts).
ARTEFACTS: dict[str, str] = {
    "mmsi": "uint32",
    "ts": TS,
    "lat": "float64",
    "lon": "float64",
    "reason": "string",
}

#: Zone layers after loading: one polygon per feature (points/lines buffered by buffer_m).
ZONE_KINDS = ("port", "anchorage", "route", "cable", "restricted")
ZONES: dict[str, str] = {
    "id": "string",
    "name": "string",
    "kind": "string",
    "buffer_m": "float64",
    "source": "string",  # where the coordinates come from (may be "")
}

SEVERITIES = ("info", "low", "medium", "high", "critical")
#: An analyst's decision on an alert (mda alerts review), apart from its lifecycle `status`.
REVIEWS = ("unreviewed", "confirmed", "dismissed")
ALERT_TYPES = (
    "ais_gap",
    "loitering",
    "anchoring",
    "anchor_drag",
    "encounter",
    "position_jump",
    "identity_conflict",
    "zone_entry",
    "watchlist",
    "port_visit",
)

#: Alerts: one row per event. `evidence` and `thresholds` are dicts (JSON objects in files).
ALERTS: dict[str, str] = {
    "id": "string",
    "type": "string",
    "severity": "string",
    "mmsi": "uint32",
    "other_mmsi": "UInt32",  # <NA> unless two vessels take part
    "vessel_name": "string",
    "start": TS,
    "end": TS,
    "lat": "float64",
    "lon": "float64",
    "zone_id": "string",
    "zone_kind": "string",
    "zone_name": "string",
    "evidence": "object",
    "thresholds": "object",
}


def empty(spec: dict[str, str]) -> pd.DataFrame:
    """An empty table with the columns and dtypes of `spec` (a copy of one built once: building
    it column by column costs milliseconds, and scans ask for hundreds)."""
    return _empty(tuple(spec.items())).copy()


@functools.cache
def _empty(items: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in items})


def conform(df: pd.DataFrame, spec: dict[str, str], *, extra: bool = True) -> pd.DataFrame:
    """Cast `df` to the dtypes of `spec`, adding missing columns as missing values.

    Columns not in `spec` are kept after the contract columns when `extra` is true.
    """
    out = {}
    n = len(df)
    for col, dtype in spec.items():
        if col in df.columns:
            s = df[col]
            if str(s.dtype) == dtype:
                pass
            elif dtype == TS:
                s = pd.to_datetime(s, utc=True).astype(TS)
            else:
                s = s.astype(dtype)
            out[col] = s.reset_index(drop=True)
        else:
            out[col] = _empty(((col, dtype),))[col].reindex(range(n))
    res = pd.DataFrame(out)
    if extra:
        for col in df.columns:
            if col not in spec:
                res[col] = df[col].reset_index(drop=True)
    return res


def severity_rank(severity: pd.Series | str) -> pd.Series | int:
    """Order of a severity name (info=0 ... critical=4); -1 for unknown names."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    if isinstance(severity, str):
        return order.get(severity, -1)
    return severity.map(order).fillna(-1).astype(int)


def utc(t: object) -> pd.Timestamp | None:
    """A UTC timestamp from anything pandas parses (naive means UTC), or None for None."""
    if t is None:
        return None
    stamp = pd.Timestamp(t)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def iso_z(t: object) -> str:
    """ISO 8601 UTC with a 'Z' suffix, to the second: how times appear in files we write."""
    stamp: Any = utc(t)  # None for None, which has no strftime (as before)
    return cast(str, stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))


#: Alert types whose evidence["kind"] names a distinct sub-case: an invalid MMSI and two
#: transmitters on the same vessel at the same time are two events, not one that grew.
SUBTYPED_ALERTS = frozenset({"identity_conflict"})

#: Alert types whose event is the zone itself (a stay in it): entering a port and the restricted
#: area around it are two events. For every other type the zone is an attribute of the event
#: (where it happens), so an ongoing event whose zone changes between scans keeps its id.
ZONE_EVENTS = frozenset({"zone_entry", "port_visit"})


def alert_subtype(type_: str, evidence: object) -> str | None:
    """The sub-case that is part of an event's identity, or None for most alert types."""
    if type_ in SUBTYPED_ALERTS and isinstance(evidence, dict):
        return cast(str | None, evidence.get("kind"))
    return None


def alert_id(
    type_: str,
    mmsi: int,
    other_mmsi: int | None,
    zone_id: str | None,
    start: object,
    subtype: str | None = None,
) -> str:
    """Stable alert id: the same event found by two runs gets the same id.

    Built from what identifies an event (type and sub-case, vessels, start to the minute), never
    from its end, so an ongoing event that grows keeps its id. `zone_id` is part of it only for
    ZONE_EVENTS; elsewhere the zone is an attribute and a zone that flips is an update.
    """
    start = pd.Timestamp(start).tz_convert("UTC").floor("min").isoformat()
    key = f"{type_}|{int(mmsi)}|{int(other_mmsi) if other_mmsi else ''}|{start}"
    if subtype:
        key += f"|{subtype}"
    if type_ in ZONE_EVENTS:
        key += f"|zone={zone_id or ''}"
    return type_ + "-" + hashlib.sha1(key.encode()).hexdigest()[:16]


def seconds(ts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC timestamps (of any resolution) as float seconds since the epoch."""
    if not len(ts):
        return np.zeros(0)
    secs: np.ndarray = pd.DatetimeIndex(ts).as_unit("ns").asi8.astype("float64") / 1e9
    return secs
