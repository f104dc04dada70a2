"""One vessel's dossier: who it says it is and how that changed, where and when it was heard,
its port visits, its time dark and its alerts, and a map of its track.

From a store (its positions, static history and the alerts of earlier scans) or from INPUT files
(decoded and scanned whole, since detectors judge a vessel against the others: a silence is only a
gap while others are heard). AIS text in the dossier is attacker-controlled: ``format_text``
drops control characters, the JSON is data, and the map goes through mda.report (escaped).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mda import schema
from mda.alerts import format_alert_table, jsonable, records
from mda.config import Config, load_config
from mda.errors import MdaError
from mda.mid import flag_of
from mda.sources.base import STATIC_FIELDS
from mda.terminal import safe_text

if TYPE_CHECKING:
    import geopandas as gpd

    from mda.tracks import Tracks

#: Latest static data shown, in order.
SHOWN = ("name", "callsign", "imo", "ship_type", "length", "width", "ais_class", "destination")
#: Static fields that are voyage data (change every voyage), not identity: counted, not listed.
VOYAGE = ("draught", "destination")


@dataclass
class Dossier:
    """Everything known about one MMSI in a store or in input files."""

    mmsi: int
    #: Flag state from the MMSI's MID ('' when not a ship station or unallocated).
    flag: str
    #: Latest static data (schema.VESSELS row as a dict; empty when none was heard).
    identity: dict[str, Any]
    #: Every observed state of its static data (schema.VESSELS rows, ts = first seen).
    history: pd.DataFrame
    #: One row per changed field: ts, field, old, new.
    changes: pd.DataFrame
    positions: int
    first_seen: pd.Timestamp | None
    last_seen: pd.Timestamp | None
    #: Alerts it takes part in (as `mmsi` or `other_mmsi`), by start.
    alerts: pd.DataFrame
    #: Outages of the whole feed while it was heard (mda.feed.FEED_OUTAGES): a silence then is
    #: the receivers', not the vessel's.
    outages: pd.DataFrame
    #: Where the data came from ("store DIR" or the input files) and what is missing from it.
    source: str = ""
    notes: list[str] = field(default_factory=list)
    #: Its track (mda.tracks.Tracks) for the map; None without positions.
    tracks: Tracks | None = None
    #: The zones its alerts name (from the zone layers given), for the map; None when none.
    zones: gpd.GeoDataFrame | None = None

    @property
    def port_visits(self) -> pd.DataFrame:
        """Its port_visit alerts: zone, start, end, hours."""
        v = self.alerts[self.alerts["type"] == "port_visit"]
        out = v[["zone_id", "zone_name", "start", "end"]].reset_index(drop=True)
        out["hours"] = _hours(v).to_numpy()
        return out

    @property
    def ais_gaps(self) -> pd.DataFrame:
        """Its ais_gap alerts (those where it is the silent vessel)."""
        a = self.alerts
        return a[((a["type"] == "ais_gap") & (a["mmsi"] == self.mmsi)).to_numpy(dtype=bool)]

    @property
    def dark_hours(self) -> float:
        """Hours dark: the length of its AIS gaps."""
        return float(_hours(self.ais_gaps).sum())

    def to_dict(self) -> dict[str, Any]:
        """The dossier as plain JSON values (times ISO 8601 UTC)."""
        return jsonable(
            {
                "mmsi": self.mmsi,
                "flag": self.flag,
                "identity": self.identity,
                "names": _distinct(self.history, "name"),
                "callsigns": _distinct(self.history, "callsign"),
                "imos": _distinct(self.history, "imo"),
                "history": self.history.drop(columns="mmsi").to_dict("records"),
                "changes": self.changes.to_dict("records"),
                "positions": self.positions,
                "first_seen": self.first_seen,
                "last_seen": self.last_seen,
                "port_visits": self.port_visits.to_dict("records"),
                "dark_hours": round(self.dark_hours, 2),
                "ais_gaps": len(self.ais_gaps),
                "feed_outages": self.outages.to_dict("records"),
                "alerts": records(self.alerts),
                "source": self.source,
                "notes": self.notes,
            }
        )

    def format_text(self) -> str:
        """A readable dossier for the terminal (control characters of AIS text removed)."""
        d = self.to_dict()
        ident = d["identity"]
        lines = [f"MMSI {self.mmsi}" + (f"  flag {self.flag} (from the MID)" if self.flag else "")]
        for key in SHOWN:
            value = ident.get(key)
            if value not in (None, ""):
                if key == "ship_type":
                    value = f"{value} {_ship_type_text(value)}".rstrip()
                lines.append(f"  {key:<12} {value}")
        if len(d["names"]) > 1:
            lines.append(f"  {'also named':<12} {', '.join(d['names'][:-1])}")
        seen = (
            "never"
            if self.first_seen is None
            else f"{_t(self.first_seen)} .. {_t(self.last_seen)} UTC"
        )
        lines += [
            f"  {'seen':<12} {seen} ({self.positions:,} positions)",
            f"  {'dark':<12} {self.dark_hours:.1f} h in {d['ais_gaps']} AIS gap(s)",
            f"  {'feed':<12} {len(self.outages)} outage(s) of the whole feed while it was heard "
            f"({self.outages['hours'].sum():.1f} h)",
            f"  {'source':<12} {self.source}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        voyage = self.changes["field"].isin(VOYAGE).to_numpy()
        lines.append(f"identity changes: {int((~voyage).sum()) or 'none'}")
        for c in self.changes[~voyage].itertuples():
            lines.append(f"  {_t(c.ts)}  {c.field:<11} {_text(c.old)} -> {_text(c.new)}")
        if voyage.any():
            lines.append(f"voyage data changes (destination, draught): {int(voyage.sum())}")
        visits = self.port_visits
        lines.append(f"port visits: {len(visits) or 'none'}")
        for v in visits.itertuples():
            lines.append(f"  {_t(v.start)} .. {_t(v.end)}  {_text(v.zone_name)} ({v.hours:.1f} h)")
        lines.append(f"alerts: {len(self.alerts) or 'none'}")
        if len(self.alerts):
            lines.append(format_alert_table(self.alerts))
        return "\n".join(safe_text(line, newlines=True) for line in lines)

    def render_map(self, out: str | Path, *, offline: bool = True) -> Path:
        """A map report of its track, alerts and their zones (mda.report.render_map) at `out`;
        self-contained unless `offline` is false (scripts from a CDN)."""
        from mda.report import render_map

        name = self.identity.get("name") or ""
        return render_map(
            out,
            tracks=self.tracks,
            zones=self.zones,
            alerts=self.alerts,
            vessels=self.history.tail(1),
            title=f"Vessel {self.mmsi} {name}".strip(),
            sources=[self.source],
            offline=offline,
            outages=self.outages,
        )


def dossier(
    mmsi: int,
    *,
    store: str | Path | None = None,
    inputs: Sequence[str | Path] = (),
    zones: Any = None,
    config: str | Path | Config | None = None,
    since: Any = None,
    until: Any = None,
    start_time: Any = None,
) -> Dossier:
    """The dossier of `mmsi` from a store (positions, static history, stored alerts) or from
    INPUT files (decoded and scanned whole with `zones` and `config`). `zones` (files, a loaded
    layer, None for the bundled layers) are also where the map finds the zones alerts name.
    MdaError when the MMSI is neither heard nor described in the data."""
    mmsi = int(mmsi)
    since, until = schema.utc(since), schema.utc(until)
    cfg = config if isinstance(config, Config) else load_config(config)
    if inputs:
        zones = _layer(zones)  # the scan needs them; a store's alerts name theirs
        found = _from_inputs(mmsi, list(inputs), zones, cfg, since, until, start_time)
    elif store is not None:
        found = _from_store(mmsi, Path(store), since, until)
    else:
        raise MdaError("give INPUT files or --store DIR")
    positions, history, alerts, source, notes, feed = found
    if positions.empty and history.empty:
        raise MdaError(f"MMSI {mmsi}: not heard in {source}")
    from mda.tracks import build_tracks

    tracks = build_tracks(positions, cfg.tracks) if len(positions) else None
    return Dossier(
        mmsi=mmsi,
        flag=str(flag_of(np.array([mmsi])).iloc[0]),
        identity=history.iloc[-1].to_dict() if len(history) else {},
        history=history,
        changes=_changes(history),
        positions=len(positions),
        first_seen=positions["ts"].min() if len(positions) else None,
        last_seen=positions["ts"].max() if len(positions) else None,
        alerts=alerts,
        source=source,
        notes=notes,
        tracks=tracks,
        zones=_zones_of(zones, alerts),
        outages=_outages(feed, positions, cfg),
    )


#: What a dossier is built from: the vessel's positions, its static history, the alerts it
#: takes part in, where they came from, notes on what is missing, the feed's fixes (ts, mmsi).
_Found = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str, list[str], pd.DataFrame]


def _from_store(
    mmsi: int, path: Path, since: pd.Timestamp | None, until: pd.Timestamp | None
) -> _Found:
    from mda.store import Store

    with contextlib.closing(Store(path, readonly=True)) as st:
        positions = st.positions(since=since, until=until, mmsi=mmsi)
        history = st.vessel_history()
        alerts = st.alerts(since=since, until=until)
        notes = []
        if st.pending() is not None:
            notes.append("the store holds data no scan has seen: run mda scan --store for alerts")
        feed = positions[["ts", "mmsi"]]
        if len(positions):  # every vessel heard while it was (ts and mmsi only)
            last = positions["ts"].max() + pd.Timedelta(1, "ns")
            feed = st.positions(since=positions["ts"].min(), until=last, columns=["ts"])
    own = _own(history, mmsi)
    return positions, own, _involving(alerts, mmsi), f"store {path}", notes, feed


def _from_inputs(
    mmsi: int,
    inputs: list[str | Path],
    zones: gpd.GeoDataFrame | None,
    cfg: Config,
    since: pd.Timestamp | None,
    until: pd.Timestamp | None,
    start_time: Any,
) -> _Found:
    from mda.scan import detect_window
    from mda.sources import read_ais

    data = read_ais(inputs, start_time=start_time)
    pos = data.positions
    if since is not None:
        pos = pos[pos["ts"] >= since]
    if until is not None:
        pos = pos[pos["ts"] < until]
    mine = pos[pos["mmsi"] == mmsi].reset_index(drop=True)
    history = _own(data.vessel_history, mmsi)
    source = ", ".join(Path(str(i)).name for i in inputs)
    if mine.empty:  # nothing to scan for this vessel
        return mine, history, schema.empty(schema.ALERTS), source, [], mine
    alerts, _ = detect_window(
        pos.reset_index(drop=True),
        cfg,
        zones,
        vessels=data.vessels,
        history=data.vessel_history,
    )
    return mine, history, _involving(alerts, mmsi), source, [], pos


def _outages(feed: pd.DataFrame, positions: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Outages of the feed (all vessels' `feed` fixes) between the vessel's first and last fix."""
    from mda.feed import feed_outages

    out = feed_outages(feed, cfg.feed)
    if len(positions):
        t0, t1 = positions["ts"].min(), positions["ts"].max()
        out = out[(out["end"] > t0) & (out["start"] < t1)]
    return out.reset_index(drop=True)


def _own(history: pd.DataFrame, mmsi: int) -> pd.DataFrame:
    h = history[history["mmsi"] == mmsi]
    return h.sort_values("ts", kind="stable").reset_index(drop=True)


def _involving(alerts: pd.DataFrame, mmsi: int) -> pd.DataFrame:
    """Alerts where `mmsi` is the vessel or the other vessel, by start."""
    mine = (alerts["mmsi"] == mmsi) | (alerts["other_mmsi"] == mmsi).fillna(False)
    return (
        alerts[mine.to_numpy(dtype=bool)].sort_values("start", kind="stable").reset_index(drop=True)
    )


def _changes(history: pd.DataFrame) -> pd.DataFrame:
    """Per consecutive pair of history states, each static field whose known value changed."""
    rows = []
    for f in STATIC_FIELDS:
        old, new = history[f].shift(1).iloc[1:], history[f].iloc[1:]
        changed = (old.notna() & new.notna() & (old != new)).to_numpy(dtype=bool)
        for i in new.index[changed]:
            rows.append({"ts": history["ts"].iat[i], "field": f, "old": old[i], "new": new[i]})
    out = pd.DataFrame(rows, columns=["ts", "field", "old", "new"])
    return out.sort_values(["ts"], kind="stable").reset_index(drop=True)


def _distinct(history: pd.DataFrame, col: str) -> list:
    """The distinct known values of `col`, in the order they were first heard."""
    return history[col].dropna().drop_duplicates().tolist()


def _hours(alerts: pd.DataFrame) -> pd.Series:
    return (alerts["end"] - alerts["start"]).dt.total_seconds() / 3600.0


def _t(ts: Any) -> str:
    return "-" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M")


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else safe_text(str(value))


def _ship_type_text(code: Any) -> str:
    from mda.report.shiptypes import ship_type_text

    return ship_type_text(pd.Series([code])).iloc[0]


def _layer(zones: Any) -> Any:
    """`zones` loaded (files, or None for the bundled layers), or as given when loaded."""
    from mda.zones import load_zones

    return zones if hasattr(zones, "geometry") else load_zones(zones)


def _zones_of(zones: Any, alerts: pd.DataFrame) -> Any:
    """The zones the vessel's alerts name, for its map (None when none); read only then."""
    ids = set(alerts["zone_id"].dropna())
    if not ids:
        return None
    layer = _layer(zones)
    picked = layer[layer["id"].isin(ids)]
    return picked if len(picked) else None
