"""Scenario files: read a scenario TOML, check its keys and types, fill in the defaults."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from mda.config import DATA_DIR
from mda.errors import MdaError

SCENARIO_DIR = DATA_DIR / "scenarios"

_NUM = (int, float)
_POINT = (str, list)  # a zone id (its berth / centre) or [lon, lat]
_SPEC: dict[str, dict[str, Any]] = {
    "scenario": {
        "name": str,
        "description": str,
        "start": str,
        "hours": _NUM,
        "seed": int,
        "zones": list,
        "watchlist_reason": str,
    },
    "reporting": {
        "cadence_s": int,
        "stationary_cadence_s": int,
        "class_b_cadence_s": int,
        "static_interval_s": int,
    },
    "reception": {
        "full": bool,
        "receiver_range_nm": _NUM,
        "receivers": list,
        "satellite_minutes": list,
        "satellite_static_share": _NUM,
        "duplicate_share": _NUM,
        "corrupt_share": _NUM,
    },
    "traffic": {
        "name": str,
        "ports": list,
        "vessels": int,
        "types": dict,
        "in_port": _NUM,
        "port_hours": list,
        "shuttle": bool,
        "flags": list,
    },
    "anchored": {"name": str, "zone": str, "vessels": int, "types": dict, "flags": list},
    "case": {
        "type": str,
        "name": str,
        "vessel": dict,
        "other_vessel": dict,
        "waypoints": list,
        "start_hour": _NUM,
        "speed_kn": _NUM,
        # anchor_drag
        "drag_start": _POINT,
        "drag_end": _POINT,
        "drag_kn": _NUM,
        "course_std_deg": _NUM,
        # anchor_near_cable
        "cable": str,
        "at": _NUM,
        "offset_nm": _NUM,
        "hours": _NUM,
        # sts
        "meet": _POINT,
        "wait_hours": _NUM,
        "drift_kn": _NUM,
        "other_waypoints": list,
        # dark / switch / spoof
        "event_hour": _NUM,
        "dark_hours": _NUM,
        "minutes": _NUM,
        "offset_bearing_deg": _NUM,
        "shape": str,  # spoof: "jump" (default) or "circle"
        "abeam_m": _NUM,  # sts: distance between the two ships alongside
        "switch_seconds": _NUM,  # mmsi_switch: first MMSI's last report to the second's first
        "moored_hours": _NUM,  # dark / switch / spoof / transit: moored at the first waypoint
    },
    "vessel": {
        "name": str,
        "kind": str,
        "mmsi": int,
        "imo": int,
        "callsign": str,
        "flag": int,
        "destination": str,
        "watchlist": bool,
    },
}
_DEFAULTS = {
    "reporting": {
        "cadence_s": 60,
        "stationary_cadence_s": 180,
        "class_b_cadence_s": 30,
        "static_interval_s": 360,
    },
    "reception": {
        "full": False,
        "receiver_range_nm": 40.0,
        "receivers": [],
        "satellite_minutes": [20.0, 50.0],
        "satellite_static_share": 0.2,
        "duplicate_share": 0.05,
        "corrupt_share": 0.002,
    },
}


class Where:
    """Builds `MdaError`s that name the scenario file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, key: str, msg: str) -> MdaError:
        return MdaError(f"{self.path}: {key}: {msg}")


def _check_table(table: Any, section: str, key: str, where: Where) -> dict[str, Any]:
    """Reject unknown keys and wrongly typed values of one TOML table."""
    if not isinstance(table, dict):
        raise where.error(key, "must be a table")
    spec = _SPEC[section]
    for k, v in table.items():
        if k not in spec:
            raise where.error(f"{key}.{k}", f"unknown key (known: {', '.join(sorted(spec))})")
        want = spec[k]
        bad_bool = isinstance(v, bool) and want is not bool
        if bad_bool or not isinstance(v, want):
            raise where.error(f"{key}.{k}", f"wrong type {type(v).__name__}")
    return table


def positive(value: float, key: str, where: Where, *, zero: bool = False) -> float:
    """`value` as a float, checked to be > 0 (>= 0 with `zero`)."""
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise where.error(key, f"must be {'>= 0' if zero else '> 0'}, got {value!r}")
    return float(value)


def load_scenario(scenario: str | Path) -> tuple[dict[str, Any], Path]:
    """Read and validate a scenario TOML (a name under data/scenarios/ or a path)."""
    path = Path(scenario)
    if not path.suffix and not path.exists():
        path = SCENARIO_DIR / f"{scenario}.toml"
    where = Where(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise MdaError(f"{path}: no such scenario (bundled: {known})") from None
    except OSError as e:
        raise MdaError(f"{path}: cannot read scenario: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MdaError(f"{path}: not valid TOML: {e}") from None
    for k, v in data.items():
        if k in ("scenario", "reporting", "reception"):
            _check_table(v, k, k, where)
        elif k in ("traffic", "anchored", "case"):
            if not isinstance(v, list):
                raise where.error(k, "must be an array of tables [[...]]")
            for i, t in enumerate(v):
                _check_table(t, k, f"{k}[{i}]", where)
                for sub in ("vessel", "other_vessel"):
                    if sub in t:
                        _check_table(t[sub], "vessel", f"{k}[{i}].{sub}", where)
        else:
            raise where.error(
                k,
                "unknown section (known: scenario, reporting, reception, traffic, anchored, case)",
            )
    if "scenario" not in data:
        raise where.error("scenario", "missing section")
    sc = data["scenario"]
    for k in ("start", "hours", "zones"):
        if k not in sc:
            raise where.error(f"scenario.{k}", "missing")
    for sec, defaults in _DEFAULTS.items():
        data[sec] = {**defaults, **data.get(sec, {})}
    return data, path
