"""Detector and track thresholds with documented defaults, overridable from a TOML file.

A TOML file holds sections named like the dataclasses below (``[tracks]``, ``[ais_gap]``, ...).
Unknown sections or keys and out-of-range values raise MdaError naming the file and key, so a
typo never silently leaves a default in force. ``mda config show`` prints :func:`describe`.
Every name carries its unit (``_s``, ``_minutes``, ``_hours``, ``_m``, ``_km``, ``_kn``, ``_deg``);
a key renamed for that is still read under its old name (RENAMED) with a FutureWarning, so
existing files keep working.

Config files are passed between organisations, so every value is checked: its type (true/false,
integer, number, list of names), a finite number within its field's range (lo and hi below; a
field that gives no hi gets the ceiling of the unit its meaning ends with, _CEILING), names from
the field's choices (zone kinds from schema.ZONE_KINDS, ...). A file over MAX_CONFIG_BYTES or
nested too deeply for the TOML reader is refused.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mda import schema
from mda.errors import MdaError

#: Root of the bundled data (zone layers, scenarios) in a source checkout.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


#: Largest config file read (bytes); real ones are a few hundred bytes.
MAX_CONFIG_BYTES = 2**20
#: Upper bound of a threshold whose field gives none, by the unit its meaning ends with: beyond
#: any sensible setting, yet finite, so no value overflows a time span or a distance. Thresholds
#: without a unit (counts, factors) get _CEILING[""].
_CEILING = {
    "s": 86_400.0,  # a day
    "min": 43_200.0,  # 30 days
    "h": 720.0,  # 30 days
    "m": 1_000_000.0,  # 1,000 km
    "km": 20_000.0,  # half the Earth's circumference
    "kn": 1_000.0,  # AIS reports aircraft too
    "deg": 180.0,
    "": 1_000_000.0,
}
#: Vessel fields whose change identity_conflict can report; AIS ship type codes.
STATIC_FIELDS = tuple(k for k in schema.VESSELS if k not in ("mmsi", "ts"))
SHIP_TYPES = tuple(str(code) for code in range(100))


def _f(default: Any, doc: str, lo: float = 0.0, hi: float | None = None) -> Any:
    """A config field with its meaning and valid range (inclusive) kept as metadata."""
    unit = re.search(r"\((\w+)\)$", doc)
    if hi is None:
        hi = _CEILING.get(unit.group(1) if unit else "", _CEILING[""])
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi})


def _names(default: tuple[str, ...], doc: str, choices: tuple[str, ...]) -> Any:
    """A config field holding a list of names, each one of `choices` (zone kinds, fields)."""
    return field(default_factory=lambda: list(default), metadata={"doc": doc, "choices": choices})


@dataclass
class TracksConfig:
    max_speed_kn: float = _f(50.0, "implied speed above which a fix is an outlier (kn)", 1.0)
    gap_hours: float = _f(1.0, "silence that splits a track into segments (h)", 0.01)
    duplicate_window_s: float = _f(
        2.0, "same vessel, same position within this time = one report heard twice (s)"
    )
    repeat_window_s: float = _f(
        30.0,
        "a moving vessel (SOG >= moving_kn) at exactly the same fix again within this = stale (s)",
    )
    noise_m: float = _f(
        300.0, "position noise forgiven before implied speed counts (GPS scatter, type 27) (m)"
    )
    jump_min_fixes: int = _f(
        3, "consistent fixes at a new place that make a jump a relocation, not a glitch", 1
    )
    burst_factor: float = _f(
        4.0,
        "a second in which the feed carries this many times its hourly median rate is a burst: "
        "a receiver releasing buffered reports under one time stamp",
        1.0,
    )
    burst_min_messages: int = _f(
        20, "... and at least this many messages (a quiet feed cannot show a burst)", 2
    )
    moving_kn: float = _f(
        1.0,
        "a vessel reporting at least this SOG moves metres between reports, so the same fix "
        "again within repeat_window_s is a stale relay (kn)",
    )


@dataclass
class AisGapConfig:
    min_hours: float = _f(6.0, "silence at sea reported as a gap (h)", 0.1)
    zone_min_hours: float = _f(
        1.0, "shorter gaps reported when they start or end in a cable or restricted zone (h)", 0.1
    )
    zone_kinds: list[str] = _names(
        ("cable", "restricted"), "zone kinds where shorter gaps matter", schema.ZONE_KINDS
    )
    high_hours: float = _f(12.0, "gap length that raises severity to high (h)", 0.1)
    min_distance_m: float = _f(
        1000.0, "reappearing closer than this to where it went silent = moored, not a gap (m)"
    )
    dark_horizon_hours: float = _f(
        168.0,
        "a scheduled scan re-examines every vessel last heard at sea this recently, heard in "
        "its window or not, for a silence going on at the end of the data (dark now); one "
        "silent longer keeps its open alert as last examined until it is heard again (h)",
        1.0,
    )
    dark_edge_km: float = _f(
        20.0,
        "dark now: places within about this of each other (grid cells of this size and their "
        "neighbours) are one place: where vessels vanish together, and where the feed must "
        "still hear another vessel once the silence counts (km)",
        1.0,
    )
    dark_edge_vessels: int = _f(
        3,
        "dark now: this many vessels last heard in one place and silent since are the edge of "
        "what the receivers hear (vessels sailing out of range), not vessels going dark",
        2,
    )


@dataclass
class FeedConfig:
    coverage_bin_minutes: float = _f(
        60.0, "time bins in which the feed's reception is judged (min)", 1.0, 1440.0
    )
    outage_fraction: float = _f(
        0.1,
        "a bin in which the whole feed hears fewer vessels than this fraction of its median bin "
        "is a reception outage, not counted in any vessel's silence",
        0.0,
        1.0,
    )
    outage_min_vessels: int = _f(
        10,
        "median vessels per bin below which a feed cannot show a partial outage (a bin in which "
        "no vessel at all is heard is always one)",
        1,
    )
    hole_hours: float = _f(
        6.0,
        "a feed outage this long is a data hole (a feed that stopped, data sets apart): no "
        "silence, stay or port call is measured across it (h)",
        0.1,
    )
    shared_silence_vessels: int = _f(
        3,
        "this many vessels falling silent and coming back together is a receiver going down "
        "and up, not vessels going dark (two ships meeting dark stay below it)",
        2,
    )
    shared_silence_minutes: float = _f(
        10.0, "... together: their last and first fixes within this of each other's (min)"
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
    zone_kinds: list[str] = _names(
        ("cable", "restricted"), "zone kinds that raise severity to medium", schema.ZONE_KINDS
    )


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
    zone_kinds: list[str] = _names(
        ("cable",), "zone kinds where anchoring is high severity", schema.ZONE_KINDS
    )
    status_max_kn: float = _f(
        1.0,
        "a 'moored' or 'aground' status is believed at or below this SOG; above it the status "
        "is stale and the vessel under way (kn)",
    )
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
    cruise_window_hours: float = _f(
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
        1.0, "reporting 'at anchor' while moving faster than this may be dragging (kn)"
    )
    at_anchor_max_kn: float = _f(
        4.0,
        "... but not faster than this: a ship making way at cruising speed with 'at anchor' "
        "still set is under way with a stale status (an anchor drags at a few knots) (kn)",
    )
    min_points: int = _f(4, "fixes inside the corridor needed to judge", 2)
    ignore_ship_types: list[str] = _names(
        ("31", "32", "33", "34", "50", "51", "52", "53"),
        "AIS ship types not judged: towing, dredging, diving, pilot, SAR, tug, port tender",
        SHIP_TYPES,
    )


@dataclass
class EncounterConfig:
    max_distance_m: float = _f(500.0, "two vessels closer than this are together (m)", 10.0)
    min_hours: float = _f(2.0, "minimum time together (h)", 0.1)
    max_median_kn: float = _f(2.0, "both vessels' median speed below this (kn)")
    min_port_distance_km: float = _f(10.0, "ignore encounters closer than this to ports (km)")
    time_bucket_minutes: float = _f(10.0, "time resolution for pairing (min)", 1.0)
    max_missed_buckets: int = _f(
        1,
        "a pair may be out of range for this many time buckets without ending the encounter "
        "(GPS jitter)",
        0,
        100,
    )
    speed_slack: float = _f(
        2.0,
        "time buckets are kept as candidates while a vessel moves up to this multiple of "
        "max_median_kn, so a vessel hovering around the limit is judged on its median, not cut "
        "into pieces",
        1.0,
        100.0,
    )


@dataclass
class PositionJumpConfig:
    max_speed_kn: float = _f(50.0, "implied speed above which a jump is reported (kn)", 1.0)
    min_distance_m: float = _f(
        2000.0, "ignore jumps shorter than this (GPS noise at short intervals) (m)"
    )
    clock_slip_minutes: float = _f(
        60.0,
        "a jump along the vessel's own course no farther than it sails in this time is a time "
        "stamp that slipped (satellite AIS stamped at the downlink, up to an hour late), not a "
        "jump (min)",
    )
    not_a_ship_kn: float = _f(
        60.0,
        "a transponder reporting SOG above this flies: its jumps are a data-quality finding "
        "(low), not spoofing at sea (kn)",
        1.0,
    )
    inland_km: float = _f(
        5.0,
        "a transponder with fixes this far inland (1:50m coastline) travels on land, on a "
        "trailer or a car: its jumps are a data-quality finding (low) (km)",
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
    swap_window_s: float = _f(
        120.0,
        "one MMSI stops and another starts within this: powering one transponder down and "
        "another up takes a minute or two, and a Class A at anchor reports only every 3 min (s)",
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
        45.0, "... and the second's COG within this of the first's (deg)", 1, 180
    )
    swap_min_kn: float = _f(
        3.0,
        "... both under way at least this fast: moored craft switching transponders, or a "
        "harbour's small boats coming and going, are not swaps (kn)",
    )
    swap_speed_kn: float = _f(
        3.0, "... and the second's SOG within this of the first's: one ship's speed (kn)"
    )
    swap_max_minutes: float = _f(
        60.0,
        "with sparse reception the switch window stretches to 1.5 times the first vessel's "
        "usual interval between fixes, up to this (min)",
        1.0,
    )
    swap_distance_fraction: float = _f(
        0.3,
        "dead reckoning drifts with course noise: the distance tolerance grows by this "
        "fraction of the distance run since the first's last fix",
        0.0,
        1.0,
    )
    shared_stationary_kn: float = _f(
        0.5,
        "a relocation between two places where the vessel sits still at both (median SOG at or "
        "below this) is two transmitters sharing one MMSI, not a spoofed jump (kn)",
    )
    check_mid: bool = field(
        default=True, metadata={"doc": "report MMSIs whose MID is not a ship station"}
    )
    static_fields: list[str] = _names(
        ("name", "callsign", "imo", "ship_type"),
        "static fields whose change is reported",
        STATIC_FIELDS,
    )


@dataclass
class ZoneEntryConfig:
    kinds: list[str] = _names(
        ("restricted",), "zone kinds whose entry raises an alert", schema.ZONE_KINDS
    )
    merge_minutes: float = _f(
        10.0,
        "leaving a zone for less than this and coming back is one visit: boundary jitter (min)",
    )
    min_fixes: int = _f(
        2,
        "fixes inside needed for an entry (one fix may be a GPS glitch or a clipped corner)...",
        1,
    )
    min_minutes: float = _f(
        10.0, "... unless the vessel stays inside this long (sparse satellite fixes) (min)"
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
        24.0,
        "history a scheduled scan re-reads for the detectors that need it (each vessel's last "
        "fix is kept in the store, so a silence of any length is seen without it) (h)",
    )
    context_hours: float = _f(
        6.0,
        "an event a scheduled scan finds within this of the start of the track it read is "
        "judged without its context: it may extend an event going on, never rewrite one that "
        "is over (h)",
    )
    alert_merge_hours: float = _f(
        1.0,
        "the store makes one event of alerts of the same type and vessels (and zone, for zone "
        "events) that overlap or lie within this of each other (h)",
        0.0,
        24.0,
    )


@dataclass
class WatchConfig:
    """`mda watch` (mda.watch): how a live feed is read, cycled and kept in bounded memory."""

    cycle_seconds: float = _f(
        0.5,
        "a live cycle (decode, store, scan, alert lines) runs at most this often (s)",
        0.05,
        60.0,
    )
    max_vessels: int = _f(
        50_000,
        "most vessels whose fixes a live watch keeps in memory; beyond it the least recently "
        "heard are dropped (their last fix stays in the store's vessel state)",
        100,
        10_000_000,
    )
    max_fixes_per_vessel: int = _f(
        5_000, "most fixes per vessel a live watch keeps in memory (the oldest go first)", 10
    )
    queue_lines: int = _f(
        1_000_000,
        "lines read but not yet decoded a live watch may hold (a TCP feed then waits; a UDP "
        "feed's datagrams beyond it are dropped and counted)",
        1_000,
        100_000_000,
    )
    reconnect_max_seconds: float = _f(
        30.0, "longest wait between reconnects to a TCP feed (doubling from 0.5 s) (s)", 0.5, 3600.0
    )
    update_minutes: float = _f(
        15.0,
        "an open alert whose only change is a later end gets a new line once its end has "
        "moved this far; status, severity and zone changes at once (min)",
    )
    snapshot_seconds: float = _f(
        60.0, "`--map` rewrites the offline HTML snapshot this often (s)", 1.0, 86_400.0
    )
    live_hours: float = _f(
        1.0, "`--serve`: positions of the last hours shown on the live map (h)", 0.1, 48.0
    )


@dataclass
class ContextConfig:
    """World context (mda.context): WPI ports and the Natural Earth coastline, everywhere."""

    enabled: bool = field(
        default=True, metadata={"doc": "use the world ports and coastline as context"}
    )
    port_radius_scale: float = _f(
        1.0, "multiplies each WPI port's harbour radius (3-18 km by size and type)", 0.1, 10.0
    )
    at_sea_shore_m: float = _f(
        5000.0, "at sea: at least this far from the 1:50m coastline and out of harbours (m)"
    )
    anchorage_min_vessels: int = _f(
        5,
        "a place where at least this many different vessels sit still in one scan is an "
        "anchorage (learned from the data, as public pipelines derive anchorages from AIS)",
        2,
    )
    anchorage_cell_m: float = _f(
        2000.0, "grid cell of learned anchorages; neighbouring cells count together (m)", 100.0
    )


#: Keys renamed so that their names carry their unit: (section, old name) -> new name. A file
#: using an old name still loads, with a FutureWarning.
RENAMED = {
    ("anchor_drag", "cruise_window_h"): "cruise_window_hours",
    ("encounter", "time_bucket_min"): "time_bucket_minutes",
    ("identity_conflict", "swap_seconds"): "swap_window_s",
}

#: identity_conflict sub-cases (evidence "kind", see mda.detect.identity): each has its own
#: [severity] key beside the alert types.
IDENTITY_KINDS = ("two_transmitters", "invalid_mmsi", "shared_mmsi", "static_change", "mmsi_swap")
#: A [severity] value: a severity name, or "" for the detector's own judgement.
_POLICY_CHOICES = ("", *schema.SEVERITIES)


def _policy(key: str) -> Any:
    """A [severity] field: one of _POLICY_CHOICES for alerts of type or sub-case `key`."""
    what = f"{key} identity_conflict" if key in IDENTITY_KINDS else key
    doc = (
        f"severity of every {what} alert ({', '.join(schema.SEVERITIES)}); '' keeps the "
        "detector's own"
    )
    return field(default="", metadata={"doc": doc, "choices": _POLICY_CHOICES})


#: The severity policy, ``[severity]``: an organisation's own weight for a kind of finding
#: (``invalid_mmsi = "info"``, ``ais_gap = "high"``), set once after detection
#: (mda.detect.detect_all); a sub-case's key wins over identity_conflict's. The store never
#: lowers a stored alert's severity.
if TYPE_CHECKING:  # a field per alert type and sub-case, each a _POLICY_CHOICES string

    @dataclass
    class SeverityConfig:
        def __getattr__(self, key: str) -> str: ...

else:
    SeverityConfig = dataclasses.make_dataclass(
        "SeverityConfig", [(k, str, _policy(k)) for k in (*schema.ALERT_TYPES, *IDENTITY_KINDS)]
    )


@dataclass
class Config:
    tracks: TracksConfig = field(default_factory=TracksConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
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
    watch: WatchConfig = field(default_factory=WatchConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    severity: SeverityConfig = field(default_factory=SeverityConfig)

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
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)  # a device or huge file is not read whole
    except OSError as e:
        raise MdaError(f"{path}: cannot read config: {e.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise MdaError(f"{path}: config file larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise MdaError(f"{path}: not valid TOML: {e}") from None
    except RecursionError:
        raise MdaError(f"{path}: not valid TOML: nested too deeply") from None
    sections = {f.name for f in dataclasses.fields(Config)}
    for name, values in data.items():
        if name not in sections:
            known = ", ".join(sorted(sections))
            raise MdaError(f"{path}: unknown section [{_name(name)}] (known: {known})")
        if not isinstance(values, dict):
            raise MdaError(f"{path}: [{name}] must be a table")
        _apply(getattr(cfg, name), _renamed(name, values, f"{path}: [{name}]"), f"{path}: [{name}]")
    return cfg


def _renamed(section: str, values: dict[str, Any], where: str) -> dict[str, Any]:
    """`values` with each key of RENAMED under its new name, warning that the old is deprecated."""
    out = dict(values)
    for (sec, old), new in RENAMED.items():
        if sec != section or old not in out:
            continue
        if new in out:
            raise MdaError(f"{where} {old} and {new} both given ({old} is the old name of {new})")
        warnings.warn(f"{where} {old} is deprecated: use {new}", FutureWarning, stacklevel=2)
        out[new] = out.pop(old)
    return out


def _apply(section: Any, values: dict[str, Any], where: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(section)}
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            known = ", ".join(sorted(fields))
            raise MdaError(f"{where} unknown key {key[:60]!r} (known: {known})")
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        setattr(section, key, _checked(f, getattr(section, key), value, f"{where} {key} = {shown}"))


def _checked(f: dataclasses.Field[Any], default: Any, value: Any, what: str) -> Any:
    """`value` as the type of the field's default, within its range or choices; else MdaError."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise MdaError(f"{what}: expected bool (true or false)")
        return value
    if isinstance(default, str):
        if value not in f.metadata["choices"]:
            shown = ", ".join(c or "''" for c in f.metadata["choices"])
            raise MdaError(f"{what}: unknown value (one of {shown})")
        return value
    if isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MdaError(f"{what}: expected a list of strings")
        choices = f.metadata["choices"]
        unknown = [v for v in value if v not in choices]
        if unknown:
            raise MdaError(f"{what}: unknown {unknown[0][:60]!r} (one of {', '.join(choices)})")
        return list(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MdaError(f"{what}: expected {type(default).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise MdaError(f"{what}: not a finite number")
    if isinstance(default, int):
        if isinstance(value, float) and not value.is_integer():
            raise MdaError(f"{what}: expected int")
        value = int(value)
    lo, hi = f.metadata["lo"], f.metadata["hi"]
    if not lo <= value <= hi:
        raise MdaError(f"{what}: out of range [{lo:g}, {hi:g}]")
    return float(value) if isinstance(default, float) else value


def _name(text: str) -> str:
    """A key or value from the file, made safe for a one-line message."""
    return text[:60] if text.isprintable() else repr(text[:60])


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
