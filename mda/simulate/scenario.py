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
        "extends": str,
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
    "background": {
        "habits": str,
        "stale_status_share": _NUM,
        "undefined_status_share": _NUM,
        "sog_noise_kn": list,
        "cog_noise_deg": list,
        "gps_jitter_m": list,
        "harbours": int,
        "moored_groups": int,
        "berth_spacing_m": list,
        "anchored_groups": int,
        "class_b_switching": int,
        "off_in_port_share": _NUM,
        "feed_outages": int,
        "receiver_outages": int,
        "outage_minutes": _NUM,
        "batches": int,
        "batch_seconds": list,
        "shared_mmsi_pairs": int,
        "invalid_mmsis": int,
        "planted_heard_in_full": bool,
    },
    "truth": {"port_call_minutes": _NUM},
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
        "alert": bool,  # false: what this case plants must raise no alert (a "must not alert")
        "nav_status": int,  # the status it broadcasts throughout (a stale status)
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
_DEFAULTS: dict[str, dict[str, Any]] = {
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
    # real habits of AIS traffic (see mda/simulate/habits.py); on unless a scenario says "clean"
    "background": {
        "habits": "noisy",
        "stale_status_share": 0.3,
        "undefined_status_share": 0.05,
        "sog_noise_kn": [0.3, 1.0],
        "cog_noise_deg": [5.0, 20.0],
        "gps_jitter_m": [3.0, 15.0],
        "harbours": 3,
        "moored_groups": 2,
        "berth_spacing_m": [30.0, 80.0],
        "anchored_groups": 1,
        "class_b_switching": 4,
        "off_in_port_share": 0.3,
        "feed_outages": 1,
        "receiver_outages": 2,
        "outage_minutes": 60.0,
        "batches": 6,
        "batch_seconds": [120.0, 300.0],
        "shared_mmsi_pairs": 1,
        "invalid_mmsis": 2,
        "planted_heard_in_full": False,
    },
    "truth": {"port_call_minutes": 30.0},
}
_TABLES = ("scenario", "reporting", "reception", "background", "truth")
_ARRAYS = ("traffic", "anchored", "case")


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


def _read(path: Path) -> dict[str, Any]:
    """The raw TOML of a scenario file, with one-line errors naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise MdaError(f"{path}: no such scenario (bundled: {known})") from None
    except OSError as e:
        raise MdaError(f"{path}: cannot read scenario: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MdaError(f"{path}: not valid TOML: {e}") from None


def _resolve(scenario: str | Path, base: Path | None = None) -> Path:
    """A scenario name under data/scenarios/ or a path (relative to `base`'s folder if given)."""
    path = Path(scenario)
    if not path.suffix and not path.exists():
        return SCENARIO_DIR / f"{scenario}.toml"
    return base.parent / path if base is not None and not path.is_absolute() else path


def _extended(data: dict[str, Any], path: Path, depth: int = 0) -> dict[str, Any]:
    """`[scenario] extends = BASE`: the base's tables updated key by key, its arrays of
    tables ([[traffic]], [[anchored]], [[case]]) followed by this file's."""
    sc = data.get("scenario")
    parent = sc.get("extends") if isinstance(sc, dict) else None
    if parent is None:
        return data
    if not isinstance(parent, str) or depth > 4:
        raise Where(path).error("scenario.extends", "must name one scenario (at most 4 deep)")
    base_path = _resolve(parent, path)
    base = _extended(_read(base_path), base_path, depth + 1)
    out = dict(base)
    for k, v in data.items():
        if k in _ARRAYS and isinstance(v, list) and isinstance(base.get(k), list):
            out[k] = [*base[k], *v]
        elif k in _TABLES and isinstance(v, dict) and isinstance(base.get(k), dict):
            out[k] = {**base[k], **v}
        else:
            out[k] = v
    out["scenario"] = {k: v for k, v in out["scenario"].items() if k != "extends"}
    return out


def load_scenario(scenario: str | Path) -> tuple[dict[str, Any], Path]:
    """Read and validate a scenario TOML (a name under data/scenarios/ or a path)."""
    path = _resolve(scenario)
    where = Where(path)
    data = _extended(_read(path), path)
    for k, v in data.items():
        if k in _TABLES:
            _check_table(v, k, k, where)
        elif k in _ARRAYS:
            if not isinstance(v, list):
                raise where.error(k, "must be an array of tables [[...]]")
            for i, t in enumerate(v):
                _check_table(t, k, f"{k}[{i}]", where)
                for sub in ("vessel", "other_vessel"):
                    if sub in t:
                        _check_table(t[sub], "vessel", f"{k}[{i}].{sub}", where)
        else:
            raise where.error(k, f"unknown section (known: {', '.join(_TABLES + _ARRAYS)})")
    if "scenario" not in data:
        raise where.error("scenario", "missing section")
    sc = data["scenario"]
    for k in ("start", "hours", "zones"):
        if k not in sc:
            raise where.error(f"scenario.{k}", "missing")
    for sec, defaults in _DEFAULTS.items():
        data[sec] = {**defaults, **data.get(sec, {})}
    if data["background"]["habits"] not in ("noisy", "clean"):
        raise where.error("background.habits", "must be 'noisy' or 'clean'")
    return data, path
