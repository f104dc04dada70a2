"""The alert book: scans, their alerts upserted as events that last, and analysts' reviews.

An alert is not new when its id is stored, or when a stored alert of the same type and vessels
(and zone, for schema.ZONE_EVENTS) overlaps it or lies within the merge gap of it: the stored
one is then updated in place and keeps its id (see `AlertBook.save_scan` and `_Event`).
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mda import schema
from mda.errors import MdaError
from mda.schema import utc
from mda.store import vessels
from mda.store.catalog import Catalog, iso, marks, now, transaction

#: Alerts of the same type and vessels (and zone, for schema.ZONE_EVENTS) this close in time
#: are one event: the default of ``scan.alert_merge_hours`` (mda.config), which scans pass.
MERGE_GAP = pd.Timedelta(hours=1)

#: What the store keeps of an event beyond schema.ALERTS: "open" while it lasts (see
#: mda.scan), else "closed", or "withdrawn" (see AlertBook.save_scan); `updated` is the data
#: time of the scan that last changed it (the end of its window: the same data give the same
#: alerts, whatever the wall clock).
EVENT_COLUMNS: dict[str, str] = {"status": "string", "updated": schema.TS}
#: An analyst's review of an alert (see AlertBook.review): one of schema.REVIEWS, the note, who
#: (the OS user) and when (wall clock). Scans never change it: an event updated or re-raised
#: keeps its id and so its review.
REVIEW_COLUMNS: dict[str, str] = {
    "review": "string",
    "review_note": "string",
    "reviewer": "string",
    "reviewed": schema.TS,
}

_MATCH_COLUMNS = "id, severity, t_start, t_end, status"


@dataclass
class _Event:
    """One incoming alert as the book compares it: its identity and its view of the event."""

    a: dict[str, Any]  # the alert's record (schema.ALERTS, status, whole)
    other: int | None
    zone: str | None
    start: pd.Timestamp
    end: pd.Timestamp
    subtype: str | None

    @classmethod
    def of(cls, a: dict[str, Any]) -> _Event:
        other = None if pd.isna(a["other_mmsi"]) else int(a["other_mmsi"])
        zone = _text(a["zone_id"])
        start, end = utc(a["start"]), utc(a["end"])
        end = start if end is None or pd.isna(end) else end
        subtype = schema.alert_subtype(a["type"], a["evidence"])
        if _text(a["id"]) is None:
            a["id"] = schema.alert_id(a["type"], a["mmsi"], other, zone, start, subtype)
        return cls(a, other, zone, start, end, subtype)

    def view(self) -> tuple[Any, ...]:
        """Where, in which zone, the evidence, thresholds and status: what a newer view
        replaces."""
        a = self.a
        return (
            _num(a["lat"]), _num(a["lon"]), self.zone, _text(a["zone_kind"]),
            _text(a["zone_name"]), _json(a["evidence"]), _json(a["thresholds"]), str(a["status"]),
        )  # fmt: skip


class AlertBook:
    """The scans and alerts of a store's catalog: the part of mda.store.Store that records
    scans, keeps their alerts as events and their reviews (`catalog` is the store's)."""

    catalog: Catalog

    def watermark(self) -> int:
        """The newest batch a scan making progress has seen (0 before any)."""
        row = self.catalog.db.execute("SELECT COALESCE(MAX(upto_batch), 0) FROM scans").fetchone()
        return int(row[0])

    def pending(self) -> tuple[int, pd.Timestamp, pd.Timestamp] | None:
        """(latest batch id, min ts, max ts) of the batches of positions stored since the last
        scan, or None."""
        row = self.catalog.db.execute(
            "SELECT MAX(id), MIN(min_ts), MAX(max_ts) FROM batches WHERE committed=1 AND "
            "rows > 0 AND id > (SELECT COALESCE(MAX(upto_batch), 0) FROM scans)"
        ).fetchone()
        if row[0] is None:
            return None
        return int(row[0]), pd.Timestamp(row[1], tz="UTC"), pd.Timestamp(row[2], tz="UTC")

    # -- a scan -------------------------------------------------------------------------------

    def save_scan(
        self,
        alerts: pd.DataFrame,
        *,
        upto_batch: int | None,
        window: tuple[Any, Any],
        states: pd.DataFrame | None = None,
        examined: Iterable[int] = (),
        merge_gap: pd.Timedelta = MERGE_GAP,
    ) -> pd.DataFrame:
        """Record a scan, upsert its alerts and vessel `states` in one transaction; return the
        new alerts only.

        An alert is not new when its id is stored, or when a stored alert of the same type and
        vessels (and zone, for schema.ZONE_EVENTS) overlaps it or lies within `merge_gap` of it
        (``scan.alert_merge_hours``):
        the stored one is then updated in place and keeps its id (start/end widened, severity
        never lowered; evidence, zone, status and `updated` taken from the newer view, see
        `_upsert`). `alerts` may carry a `status` column (EVENT_COLUMNS), else all are closed,
        and a `whole` column (see `_upsert`), else none is; a look back (`upto_batch` None)
        never changes the status of a stored alert.
        `states` (vessels.STATE_COLUMNS: each vessel's last good fix in the scan) replace older
        stored states. An open alert of a vessel in `states` that this scan did not find again
        is withdrawn: the scan read the vessel's fixes since the event's start (mda.scan), and
        with more of them the event is not one (an hour of drifting looked like anchoring);
        `alerts` leaves withdrawn alerts out unless asked. So is an open ais_gap (dark now) of
        a vessel in `examined` (judged for a silence going on to the end of the data) not found
        again.
        """
        incoming = _incoming(alerts)
        db = self.catalog.db
        with self.catalog.writing(), transaction(db):
            updated = self._data_time(window)
            scan_id = self._record_scan(window, upto_batch, len(incoming))
            progress = upto_batch is not None
            new_ids = [
                i
                for rec in incoming.to_dict("records")
                if (i := self._upsert(rec, scan_id, updated, progress, merge_gap)) is not None
            ]
            db.execute("UPDATE scans SET new_alerts=? WHERE id=?", (len(new_ids), scan_id))
            if states is not None and len(states):
                vessels.save_states(db, states, scan_id, updated)
            db.execute(  # only a dark-now ais_gap is open (mda.detect.gaps)
                "UPDATE alerts SET status='withdrawn', updated=? WHERE status='open' AND "
                "type='ais_gap' AND last_scan < ? AND mmsi IN (SELECT value FROM json_each(?))",
                (updated, scan_id, json.dumps([int(m) for m in examined])),
            )
        if not new_ids:
            return self.select("0", [])
        # a dismissed event is never news (an id is new only when inserted: said for clarity)
        new = self.select(f"id IN ({marks(new_ids)}) AND review != 'dismissed'", new_ids)
        return new.reset_index(drop=True)

    def _data_time(self, window: tuple[Any, Any]) -> str:
        """The data time a scan stamps on what it changes: its window's end, else the newest
        stored position."""
        newest = self.catalog.db.execute("SELECT MAX(max_ts) FROM parts WHERE kind='positions'")
        return iso(window[1]) or str(iso(pd.Timestamp(newest.fetchone()[0] or 0)))

    def _record_scan(self, window: tuple[Any, Any], upto_batch: int | None, alerts: int) -> int:
        cur = self.catalog.db.execute(
            "INSERT INTO scans (time, since, until, upto_batch, alerts, new_alerts) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            (now(), iso(window[0]), iso(window[1]), upto_batch, alerts),
        )
        return int(cur.lastrowid or 0)

    def _upsert(
        self,
        a: dict[str, Any],
        scan_id: int,
        updated: str,
        progress: bool,
        merge_gap: pd.Timedelta,
    ) -> str | None:
        """Insert or update one alert; its id when it is new, else None.

        A `whole` view (the scan saw its vessels before the event began, so its start is the
        event's own) from a scan making `progress` that ends no earlier than the stored one is
        the event as the data now show it: it replaces start, end, evidence, zone, position and
        status (what a run saw of an event still going on may differ at its edges). Any other
        view widens the end, and the start when it is whole; when it ends later its evidence,
        zone and position replace the stored ones, and its status too when the scan makes
        `progress`; when it ends at the same time, only its status (a progress scan that saw the
        vessel after it knows it is over). A view cut by the start of the data a run read
        changes nothing else, and a view that is not whole and begins after an event already
        over (closed or withdrawn) does not join it: the scan that found that event read the
        context this view lacks (a jump back from a spoofed position, read without the jump
        out, looks like a relocation).
        """
        ev = _Event.of(a)
        match = self._match(ev, merge_gap)
        if match is None:
            self._insert(ev, scan_id, updated)
            return str(a["id"])
        self._update(ev, match, scan_id, updated, progress)
        return None

    def _match(self, ev: _Event, merge_gap: pd.Timedelta) -> tuple[Any, ...] | None:
        """The stored event `ev` is a view of (same id, else same event within `merge_gap`)."""
        db, a = self.catalog.db, ev.a
        match = db.execute(f"SELECT {_MATCH_COLUMNS} FROM alerts WHERE id=?", (a["id"],)).fetchone()
        if match is not None:
            return tuple(match)
        match = db.execute(
            f"SELECT {_MATCH_COLUMNS} FROM alerts WHERE type=? AND mmsi=? "
            "AND other_mmsi IS ? AND (? = 0 OR zone_id IS ?) AND t_start <= ? "
            "AND t_end >= ? AND (? IS NULL OR json_extract(evidence, '$.kind') = ?) "
            "ORDER BY t_start LIMIT 1",
            (
                a["type"],
                int(a["mmsi"]),
                ev.other,
                int(a["type"] in schema.ZONE_EVENTS),
                ev.zone,
                iso(ev.end + merge_gap),
                iso(ev.start - merge_gap),
                ev.subtype,
                ev.subtype,
            ),
        ).fetchone()
        return None if match is None else tuple(match)

    def _insert(self, ev: _Event, scan_id: int, updated: str) -> None:
        a = ev.a
        self.catalog.db.execute(
            "INSERT INTO alerts (id, type, severity, mmsi, other_mmsi, vessel_name, t_start, "
            "t_end, lat, lon, zone_id, zone_kind, zone_name, evidence, thresholds, status, "
            "first_scan, last_scan, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                a["id"], a["type"], a["severity"], int(a["mmsi"]), ev.other,
                _text(a["vessel_name"]), iso(ev.start), iso(ev.end), *ev.view(),
                scan_id, scan_id, updated,
            ),
        )  # fmt: skip

    def _update(
        self, ev: _Event, match: tuple[Any, ...], scan_id: int, updated: str, progress: bool
    ) -> None:
        """Fold the view `ev` into the stored event `match` (see `_upsert`)."""
        db, a = self.catalog.db, ev.a
        sid, severity, t_start, t_end, stored_status = match
        start, end = iso(ev.start), str(iso(ev.end))
        if stored_status != "open" and not a["whole"] and str(start) > t_end:
            return  # next to an event over, read with less context than when it was found
        if schema.severity_rank(a["severity"]) > schema.severity_rank(severity):
            severity = a["severity"]
        # an event going on had a provisional end: the newer whole view may end it earlier
        replace = bool(a["whole"]) and progress and (end >= t_end or stored_status == "open")
        # the same span seen again with the fixes after it: its evidence (left, or not) is newer
        again = progress and end == t_end and str(iso(ev.start)) == t_start
        newer = replace or end > t_end or again
        if not replace:
            start = min(t_start, start) if a["whole"] else t_start
            end = max(t_end, end)
        db.execute(
            "UPDATE alerts SET severity=?, t_start=?, t_end=?, "
            "vessel_name=COALESCE(?, vessel_name), last_scan=?, updated=? WHERE id=?",
            (severity, start, end, _text(a["vessel_name"]), scan_id, updated, sid),
        )
        view = ev.view()
        if newer:
            db.execute(
                "UPDATE alerts SET lat=?, lon=?, zone_id=?, zone_kind=?, zone_name=?, "
                "evidence=?, thresholds=?, status=CASE WHEN ? THEN ? ELSE status END WHERE id=?",
                (*view[:-1], progress, view[-1], sid),
            )
        elif progress and end == t_end:  # the same end from a later start: only perhaps over
            db.execute("UPDATE alerts SET status=? WHERE id=?", (view[-1], sid))

    # -- reading and reviewing ----------------------------------------------------------------

    def scan_alerts(self, ids: Iterable[str] = ()) -> pd.DataFrame:
        """The alerts the latest scan found or updated, and the alerts `ids` whatever their
        status (an open one may have been withdrawn): what `mda watch` compares with the lines
        it wrote."""
        wanted = list(ids)
        where = "last_scan = (SELECT MAX(id) FROM scans)"
        if wanted:
            where += f" OR id IN ({marks(wanted)})"
        return self.select(where, wanted).reset_index(drop=True)

    def open_alerts(self) -> pd.DataFrame:
        """The alerts still open (events going on at the last scan), by start."""
        return self.select("status='open'", [])

    def alerts(
        self,
        since: Any = None,
        until: Any = None,
        types: Iterable[str] | None = None,
        min_severity: str | None = None,
        *,
        withdrawn: bool = False,
        review: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Stored alerts overlapping [since, until), of `types`, at least `min_severity`, of the
        `review` decisions (schema.REVIEWS) when given; `withdrawn` ones too when asked (see
        save_scan). Each carries its review (REVIEW_COLUMNS)."""
        where = ["1=1" if withdrawn else "status != 'withdrawn'"]
        args: list[str | None] = []
        if review is not None:
            reviews = [_review_name(r) for r in review]
            where.append(f"review IN ({marks(reviews)})")
            args += reviews
        if since is not None:
            where.append("t_end >= ?")
            args.append(iso(since))
        if until is not None:
            where.append("t_start < ?")
            args.append(iso(until))
        if types:
            kinds = list(types)
            where.append(f"type IN ({marks(kinds)})")
            args += kinds
        df = self.select(" AND ".join(where), args)
        if min_severity is not None:
            df = df[schema.severity_rank(df["severity"]) >= schema.severity_rank(min_severity)]
        return df.reset_index(drop=True)

    def review(self, alert_id: str, status: str, note: str | None = None) -> pd.DataFrame:
        """Record an analyst's decision on alert `alert_id`: `status` one of schema.REVIEWS
        ("open" reopens it: unreviewed), with an optional `note`, by the OS user, now. Returns
        the alert as `alerts` shows it. MdaError when no stored alert has that id.

        The store lock is not taken: a review is one SQLite transaction, so it can be given while
        mda watch or a long scan holds the lock (scans never write a review).
        """
        decision = _review_name(status)
        db = self.catalog.db
        with self.catalog.writing(), transaction(db):
            cur = db.execute(
                "UPDATE alerts SET review=?, review_note=?, reviewer=?, reviewed=? WHERE id=?",
                (decision, note, _user(), iso(pd.Timestamp.now(tz="UTC")), alert_id),
            )
        if not cur.rowcount:
            raise MdaError(f"{self.catalog.path}: no alert with id {alert_id[:80]!r}")
        return self.select("id=?", [alert_id])

    def select(self, where: str, args: list[Any]) -> pd.DataFrame:
        """Stored alerts (schema.ALERTS, then EVENT_COLUMNS, REVIEW_COLUMNS) matching an SQL
        condition."""
        spec = {**schema.ALERTS, **EVENT_COLUMNS, **REVIEW_COLUMNS}
        cols = [c for c in spec if c not in ("start", "end")]
        rows = self.catalog.db.execute(
            f"SELECT {', '.join(cols)}, t_start, t_end FROM alerts WHERE {where} "
            "ORDER BY t_start, id",
            args,
        ).fetchall()
        df = pd.DataFrame(rows, columns=[*cols, "start", "end"])
        for c in ("evidence", "thresholds"):
            df[c] = [json.loads(v) if v else {} for v in df[c]]
        return schema.conform(df, spec, extra=False)


def _incoming(alerts: pd.DataFrame) -> pd.DataFrame:
    """A scan's alerts with a status (closed unless given) and `whole` (False unless given),
    by start."""
    spec = {**schema.ALERTS, "status": "string", "whole": "boolean"}
    incoming = schema.conform(alerts, spec, extra=False)
    incoming["status"] = incoming["status"].fillna("closed")
    incoming["whole"] = incoming["whole"].fillna(False)
    return incoming.sort_values("start")


def _review_name(status: str) -> str:
    """A review decision of schema.REVIEWS ("open" is "unreviewed"), else MdaError."""
    status = "unreviewed" if status == "open" else status
    if status not in schema.REVIEWS:
        raise MdaError(f"unknown review {status[:40]!r} (one of {', '.join(schema.REVIEWS)}, open)")
    return status


def _user() -> str:
    """Who reviews: the OS user (a service account without a name is its uid)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def _json(value: Any) -> str:
    if value is None or (not isinstance(value, dict | list | str) and pd.isna(value)):
        return "{}"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
