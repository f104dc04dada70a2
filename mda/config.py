"""Detector and track thresholds with documented defaults, overridable from a TOML file.

A TOML file holds sections named like the dataclasses below (``[tracks]``, ``[ais_gap]``, ...).
Unknown sections or keys and out-of-range values raise MdaError naming the file and key, so a
typo never silently leaves a default in force. ``mda config show`` prints :func:`describe`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mda.errors import MdaError

#: Root of the bundled data (zone layers, scenarios) in a source checkout.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _f(default: Any, doc: str, lo: float | None = 0.0, hi: float | None = None) -> Any:
    """A config field with its meaning and valid range (inclusive) kept as metadata."""
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi})


def _names(default: tuple[str, ...], doc: str) -> Any:
    """A config field holding a list of names (zone kinds, static fields)."""
    return field(default_factory=lambda: list(default), metadata={"doc": doc})


@dataclass
class TracksConfig:
    max_speed_kn: float = _f(50.0, "implied speed above which a fix is an outlier (kn)", 1.0)
    gap_hours: float = _f(1.0, "silence that splits a track into segments (h)", 0.01)
    duplicate_window_s: float = _f(
        2.0, "same vessel, same position within this time = one report heard twice (s)"
    )
    repeat_window_s: float = _f(
        30.0, "a moving vessel (SOG >= 1 kn) at exactly the same fix again within this = stale (s)"
    )
    noise_m: float = _f(
        300.0, "position noise forgiven before implied speed counts (GPS scatter, type 27) (m)"
    )
    jump_min_fixes: int = _f(
        3, "consistent fixes at a new place that make a jump a relocation, not a glitch", 1
    )


@dataclass
class AisGapConfig:
    min_hours: float = _f(6.0, "silence at sea reported as a gap (h)", 0.1)
    zone_min_hours: float = _f(
        1.0, "shorter gaps reported when they start or end in a cable or restricted zone (h)", 0.1
    )
    zone_kinds: list = _names(("cable", "restricted"), "zone kinds where shorter gaps matter")
    high_hours: float = _f(12.0, "gap length that raises severity to high (h)", 0.1)
    min_distance_m: float = _f(
        1000.0, "reappearing closer than this to where it went silent = moored, not a gap (m)"
    )
    coverage_bin_minutes: float = _f(
        60.0, "time bins in which the feed's reception is judged (min)", 1.0
    )
    outage_fraction: float = _f(
        0.1,
        "a bin in which the whole feed hears fewer vessels than this fraction of its median bin "
        "is a reception outage, not counted in any vessel's silence",
        0.0,
        1.0,
    )
    outage_min_vessels: int = _f(
        10, "median vessels per bin below which a feed cannot show an outage (all bins count)", 1
    )


@dataclass
class LoiteringConfig:
    max_speed_kn: float = _f(2.0, "hourly mean speed below which a vessel loiters (kn)")
    min_hours: float = _f(2.0, "minimum loitering duration (h)", 0.1)
    window_minutes: float = _f(60.0, "window of the (time-weighted) mean speed (min)", 1.0)
    max_silence_hours: float = _f(
        6.0, "a silence longer than this ends a stay: the vessel may have left and come back (h)"
    )
    merge_minutes: float = _f(
        60.0, "faster or silent breaks shorter than this do not split one loitering event (min)"
    )
    zone_kinds: list = _names(("cable", "restricted"), "zone kinds that raise severity to medium")


@dataclass
class AnchoringConfig:
    min_minutes: float = _f(30.0, "at anchor outside an anchorage for at least (min)", 1.0)
    stationary_kn: float = _f(0.5, "SOG at or below which a vessel counts as stationary (kn)")
    max_radius_m: float = _f(
        500.0, "a stationary vessel stays within this radius of its mean position (m)", 10.0
    )
    merge_minutes: float = _f(
        10.0, "breaks shorter than this (a fix above stationary speed) do not split a stay (min)"
    )
    zone_kinds: list = _names(("cable",), "zone kinds where anchoring is high severity")
    max_silence_hours: float = _f(
        6.0, "a silence longer than this ends a stay: the vessel may have left and come back (h)"
    )


@dataclass
class AnchorDragConfig:
    min_drop_fraction: float = _f(
        0.1, "speed drop, as a fraction of the vessel's own recent cruising speed", 0.01, 0.9
    )
    min_speed_kn: float = _f(
        1.0, "below this the vessel is anchored or drifting, not dragging (kn)"
    )
    cruise_window_h: float = _f(
        12.0,
        "window before the corridor used for cruising speed: reaches back before a drag that "
        "began hours before the cable (Eagle S dragged for ~100 km) (h)",
        0.1,
    )
    cruise_quantile: float = _f(
        0.75, "quantile of SOG in that window = cruising speed (a drag may begin in it)", 0.5, 1
    )
    min_cog_std_deg: float = _f(
        15.0, "robust spread (IQR / 1.349) of fix-to-fix COG/heading changes: erratic (deg)", 1, 180
    )
    min_cog_heading_diff_deg: float = _f(
        20.0, "median |COG - heading| that counts as divergence (deg)", 1.0, 180.0
    )
    at_anchor_moving_kn: float = _f(
        1.0, "reporting 'at anchor' while moving faster than this is dragging (kn)"
    )
    min_points: int = _f(4, "fixes inside the corridor needed to judge", 2)
    ignore_ship_types: list = _names(
        ("31", "32", "33", "34", "50", "51", "52", "53"),
        "AIS ship types not judged: towing, dredging, diving, pilot, SAR, tug, port tender",
    )


@dataclass
class EncounterConfig:
    max_distance_m: float = _f(500.0, "two vessels closer than this are together (m)", 10.0)
    min_hours: float = _f(2.0, "minimum time together (h)", 0.1)
    max_median_kn: float = _f(2.0, "both vessels' median speed below this (kn)")
    min_port_distance_km: float = _f(10.0, "ignore encounters closer than this to ports (km)")
    time_bucket_min: float = _f(10.0, "time resolution for pairing (min)", 1.0)


@dataclass
class PositionJumpConfig:
    max_speed_kn: float = _f(50.0, "implied speed above which a jump is reported (kn)", 1.0)
    min_distance_m: float = _f(
        2000.0, "ignore jumps shorter than this (GPS noise at short intervals) (m)"
    )


@dataclass
class IdentityConfig:
    simultaneous_km: float = _f(
        20.0, "one MMSI in two places further apart than speed allows, beyond this (km)", 0.1
    )
    min_conflicts: int = _f(
        3, "jumps back to the other place before two transmitters are reported", 1
    )
    max_speed_kn: float = _f(
        50.0, "implied speed between two fixes of one MMSI that no vessel reaches (kn)", 1.0
    )
    swap_seconds: float = _f(
        120.0,
        "one MMSI stops and another starts within (s): powering one transponder down and another "
        "up takes a minute or two, and a Class A at anchor reports only every 3 min",
        1.0,
    )
    swap_distance_m: float = _f(
        500.0,
        "... where the first would be by dead reckoning (its last SOG and COG), within (m)",
        1.0,
    )
    swap_silent_minutes: float = _f(
        30.0, "... the first then stays silent and the second was unheard this long (min)", 1.0
    )
    swap_course_deg: float = _f(
        45.0, "... and, both under way, the second's COG within this of the first's (deg)", 1, 180
    )
    check_mid: bool = field(
        default=True, metadata={"doc": "report MMSIs whose MID is not a ship station"}
    )
    static_fields: list = _names(
        ("name", "callsign", "imo", "ship_type"), "static fields whose change is reported"
    )


@dataclass
class ZoneEntryConfig:
    kinds: list = _names(("restricted",), "zone kinds whose entry raises an alert")
    merge_minutes: float = _f(
        10.0, "leaving a zone for less than this and coming back is one visit (boundary jitter)"
    )


@dataclass
class PortVisitConfig:
    min_dwell_minutes: float = _f(30.0, "minimum stay in a port zone to count as a visit (min)")
    merge_minutes: float = _f(
        60.0, "leaving a port for less than this and coming back is one port call (min)"
    )


@dataclass
class ScanConfig:
    overlap_hours: float = _f(
        24.0, "how far back a scheduled scan re-reads so events spanning runs are seen whole (h)"
    )


@dataclass
class Config:
    tracks: TracksConfig = field(default_factory=TracksConfig)
    ais_gap: AisGapConfig = field(default_factory=AisGapConfig)
    loitering: LoiteringConfig = field(default_factory=LoiteringConfig)
    anchoring: AnchoringConfig = field(default_factory=AnchoringConfig)
    anchor_drag: AnchorDragConfig = field(default_factory=AnchorDragConfig)
    encounter: EncounterConfig = field(default_factory=EncounterConfig)
    position_jump: PositionJumpConfig = field(default_factory=PositionJumpConfig)
    identity_conflict: IdentityConfig = field(default_factory=IdentityConfig)
    zone_entry: ZoneEntryConfig = field(default_factory=ZoneEntryConfig)
    port_visit: PortVisitConfig = field(default_factory=PortVisitConfig)
    scan: ScanConfig = field(default_factory=ScanConfig)

    def thresholds(self, section: str) -> dict[str, Any]:
        """The thresholds of one section as a plain dict (attached to every alert)."""
        return dataclasses.asdict(getattr(self, section))


def load_config(path: str | Path | None = None) -> Config:
    """Defaults, overridden by the TOML file at `path` if given."""
    cfg = Config()
    if path is None:
        return cfg
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MdaError(f"{path}: cannot read config: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MdaError(f"{path}: not valid TOML: {e}") from None
    sections = {f.name for f in dataclasses.fields(Config)}
    for name, values in data.items():
        if name not in sections:
            known = ", ".join(sorted(sections))
            raise MdaError(f"{path}: unknown section [{name}] (known: {known})")
        if not isinstance(values, dict):
            raise MdaError(f"{path}: [{name}] must be a table")
        _apply(getattr(cfg, name), values, f"{path}: [{name}]")
    return cfg


def _apply(section: Any, values: dict[str, Any], where: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(section)}
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            raise MdaError(f"{where} unknown key {key!r} (known: {', '.join(sorted(fields))})")
        default = getattr(section, key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int | float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok and isinstance(default, int):
                ok = float(value).is_integer()
                value = int(value) if ok else value
            elif ok:
                value = float(value)
        else:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not ok:
            raise MdaError(f"{where} {key} = {value!r}: expected {type(default).__name__}")
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            rng = f"[{lo}, {hi if hi is not None else '∞'}]"
            raise MdaError(f"{where} {key} = {value!r} out of range {rng}")
        setattr(section, key, value)


def describe(cfg: Config | None = None) -> list[tuple[str, str, Any, Any, str]]:
    """Rows (section, key, value in force, default, meaning) for every threshold."""
    cfg = cfg or Config()
    default = Config()
    rows = []
    for sec in dataclasses.fields(Config):
        cur, dflt = getattr(cfg, sec.name), getattr(default, sec.name)
        for f in dataclasses.fields(cur):
            rows.append(
                (sec.name, f.name, getattr(cur, f.name), getattr(dflt, f.name), f.metadata["doc"])
            )
    return rows
