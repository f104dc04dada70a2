"""Whole AIS messages into the column contracts of mda.schema (positions, aux, statics, binary).

Payloads are decoded by :func:`mda.ais.decode` (numpy, every message of a layout at once,
values equal to pyais's; ship type codes are kept as sent, where pyais folds reserved ones).
What goes where: vessel positions (1, 2, 3, 18, 19, 27), aux positions (base stations 4 with
the UTC they report in ``clock``, SAR aircraft 9, aids to navigation 21), static reports
(5, 19, 24) and binary messages (6, 8) with their DAC/FI. The other types are counted from
their first character. Rejections count kept types only (positions, aux and statics), as they
always have: binary messages of a bad MMSI or time are left out without a count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mda import ais, schema
from mda.ais import (
    AUX_TYPES,
    BINARY_TYPES,
    CLASS_B_TYPES,
    POSITION_BITS,
    POSITION_TYPES,
    STATIC_TYPES,
    Batch,
    NavStatus,
)
from mda.sources.base import TIME_END_S, TIME_MIN_S, AisData, IngestReport, valid_position
from mda.sources.nmea.clock import BAD_TIME
from mda.sources.nmea.reassembly import Messages

__all__ = ["AUX_TYPES", "POSITION_BITS", "POSITION_TYPES", "STATIC_TYPES", "decode"]

Bools = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]

_KEPT_TYPES = tuple(sorted({*POSITION_TYPES, *AUX_TYPES, *STATIC_TYPES}))
_DECODED_TYPES = (*_KEPT_TYPES, *BINARY_TYPES)
#: The fields mda reads (the decoder skips the others).
_FIELDS = frozenset(
    {
        "mmsi", "status", "speed", "lon", "lat", "course", "heading",
        "year", "month", "day", "hour", "minute", "second", "name", "name_ext",
        "imo", "callsign", "shipname", "ship_type", "partno", "draught", "destination",
        "to_bow", "to_stern", "to_port", "to_starboard",
        "dest_mmsi", "dac", "fid", "data",
    }
)  # fmt: skip
#: Bits needed: the position fields (ais.POSITION_BITS), else the MMSI (pyais gives None).
_NEED_BITS = np.array([POSITION_BITS.get(t, 9) for t in range(64)], np.int64)
#: Bit offset of the ship type in types 5, 19 and 24 part B: shorter messages have none.
_SHIP_TYPE_AT = {5: 232, 19: 263, 24: 40}
#: Fast rows come first in the position and static tables, as they always have: messages
#: of exactly these characters and fill bits (the common lengths of their types).
_COMMON_SHAPE = {1: (28, 0), 2: (28, 0), 3: (28, 0), 18: (28, 0), 5: (71, 2)}


def decode(msgs: Messages, source: str, report: IngestReport) -> AisData:
    """Tables of one batch of messages; counts of what was rejected and why into `report`."""
    d = ais.decode(msgs.payload, msgs.fill, _DECODED_TYPES, _FIELDS)
    mmsi, ok = _mmsi(d)
    useful = _count_types(d, ok, report)
    good_mmsi = ais.valid_mmsi(mmsi)
    in_range, ts_ns = _times(msgs.t, useful, good_mmsi, report)
    first = _common_shape(msgs, d.msg_type, d.nbits)
    rows = _Rows(d.batches, useful & good_mmsi & in_range, ts_ns, source, first)
    data = AisData(
        positions=rows.positions(msgs.station, report),
        aux=rows.aux(report),
        statics=rows.statics(),
        binary=_Rows(d.batches, ok & good_mmsi & in_range, ts_ns, source, first).binary(),
        report=report,
    )
    _tally(data)
    return data


def _mmsi(d: ais.Decoded) -> tuple[I64, Bools]:
    """Each message's MMSI, and where it decodes: a layout took it, it holds an MMSI (pyais
    gives None otherwise) and, for positions, the bits of the position fields."""
    mmsi = np.zeros(len(d.msg_type), np.int64)
    ok = np.zeros(len(d.msg_type), bool)
    for b in d.batches.values():
        mmsi[b.rows] = b.values["mmsi"]
        ok[b.rows] = b.present["mmsi"]
    return mmsi, ok & (d.nbits >= _NEED_BITS[np.clip(d.msg_type, 0, 63)])


def _count_types(d: ais.Decoded, ok: Bools, report: IngestReport) -> Bools:
    """Count messages by type and decode errors; the decoded messages of the kept types.

    Types mda does not keep are counted from their first character, decoded or not."""
    mtype = d.msg_type
    empty = mtype < 0
    report.rejected["malformed"] += int(empty.sum())
    kept = np.isin(mtype, _KEPT_TYPES)
    decoded = (kept & ok) | (~empty & ~kept & (mtype >= 1) & (mtype <= 27))
    report.rejected["decode_error"] += int((~empty & ~decoded).sum())
    types, counts = np.unique(mtype[decoded], return_counts=True)
    report.messages.update(dict(zip(types.tolist(), counts.tolist(), strict=True)))
    return decoded & kept


def _times(
    t: npt.NDArray[np.float64], useful: Bools, good_mmsi: Bools, report: IngestReport
) -> tuple[Bools, I64]:
    """Where the receiver time is usable, and the times in ns; rejections of kept messages
    counted (bad MMSI first, then missing, bad or out-of-range time)."""
    in_range = (t >= TIME_MIN_S) & (t < TIME_END_S)  # False for NaN and the sentinels
    timed = useful & good_mmsi
    no_ts = timed & np.isnan(t)
    bad_t = timed & (t == BAD_TIME)
    out_t = timed & ~no_ts & ~bad_t & ~in_range  # includes --start-time clocks out of range
    report.rejected["invalid_mmsi"] += int((useful & ~good_mmsi).sum())
    report.rejected["no_timestamp"] += int(no_ts.sum())
    report.rejected["bad_tag_time"] += int(bad_t.sum())
    report.rejected["time_out_of_range"] += int(out_t.sum())
    ts_ns = np.where(in_range, np.round(t * 1000.0), 0).astype(np.int64) * 1_000_000
    return in_range, ts_ns


def _tally(data: AisData) -> None:
    """The report's row counts, vessels and time span (positions, statics and aux)."""
    report = data.report
    report.positions = len(data.positions)
    report.static_reports = len(data.statics)
    report.mmsis.update(np.unique(data.positions["mmsi"].to_numpy()).tolist())
    report.mmsis.update(np.unique(data.statics["mmsi"].to_numpy()).tolist())
    report.see_times(data.positions["ts"])
    report.see_times(data.statics["ts"])
    report.see_times(data.aux["ts"])


def _common_shape(msgs: Messages, mtype: I64, nbits: I64) -> Bools:
    """Messages of the common length and fill bits of their type (see _COMMON_SHAPE)."""
    lengths = (nbits + msgs.fill) // 6
    first = np.zeros(len(mtype), bool)
    for mt, (chars, fill) in _COMMON_SHAPE.items():
        first |= (mtype == mt) & (lengths == chars) & (msgs.fill == fill)
    return first


class _Rows:
    """The kept messages of each table, gathered from the decoder's batches in table order."""

    def __init__(
        self,
        batches: dict[str, Batch],
        keep: Bools,
        ts_ns: I64,
        source: str,
        first: Bools,
    ) -> None:
        self.batches, self.keep, self.ts_ns, self.source = batches, keep, ts_ns, source
        self.first = first

    def _take(
        self, types: tuple[int, ...], report: IngestReport | None = None
    ) -> list[tuple[Batch, I64]]:
        """(batch, positions in it of kept messages) for the layouts of `types`; with a
        `report`, only usable positions, the others counted as ``invalid_position``."""
        out = []
        for b in self.batches.values():
            if b.layout.msg_type in types:
                s = np.flatnonzero(self.keep[b.rows])
                if report is not None:
                    valid = valid_position(b.values["lat"][s], b.values["lon"][s])
                    report.rejected["invalid_position"] += int((~valid).sum())
                    s = s[valid]
                out.append((b, s))
        return out

    def _gather(
        self, parts: list[tuple[Batch, I64]], columns: dict[str, Any]
    ) -> tuple[I64, dict[str, np.ndarray]]:
        """Input rows and columns of the kept messages of `parts`, fast rows first, each in
        input order; `columns[name](batch, sel)` gives a column's values for one part."""
        idx = np.concatenate([b.rows[s] for b, s in parts]) if parts else np.zeros(0, np.int64)
        order = np.lexsort((idx, ~self.first[idx]))
        cols = {
            name: (
                np.concatenate([np.asarray(get(b, s)) for b, s in parts])[order]
                if parts
                else np.zeros(0)
            )
            for name, get in columns.items()
        }
        return idx[order], cols

    def _ts(self, idx: I64) -> pd.Series:
        return pd.Series(self.ts_ns[idx].view("datetime64[ns]")).dt.tz_localize("UTC")

    def _source(self, n: int) -> pd.api.extensions.ExtensionArray:
        """The input's name, `n` times, as a string column."""
        return pd.array(pa.array([self.source]).take(np.zeros(n, np.int64)), dtype="string")

    def positions(self, station: pa.Array, report: IngestReport) -> pd.DataFrame:
        """Position rows; sentinels to NaN; unusable positions rejected."""

        def na(name: str) -> Any:
            def get(b: Batch, s: I64) -> np.ndarray:
                if name not in b.values:  # type 27 has no heading
                    return np.full(len(s), np.nan)
                return ais.not_available_to_nan(b.layout.by_name[name], b.values[name][s])

            return get

        def status(b: Batch, s: I64) -> np.ndarray:
            if b.layout.msg_type in CLASS_B_TYPES:
                return np.full(len(s), int(NavStatus.NOT_DEFINED))
            return b.values["status"][s]

        idx, c = self._gather(
            self._take(POSITION_TYPES, report),
            {
                "mmsi": lambda b, s: b.values["mmsi"][s],
                "lat": lambda b, s: b.values["lat"][s],
                "lon": lambda b, s: b.values["lon"][s],
                "sog": na("speed"),
                "cog": na("course"),
                "heading": na("heading"),
                "nav_status": status,
                "msg_type": lambda b, s: np.full(len(s), b.layout.msg_type),
            },
        )
        return pd.DataFrame(
            {
                "mmsi": c["mmsi"].astype(np.uint32),
                "ts": self._ts(idx),
                "lat": c["lat"].astype(np.float64),
                "lon": c["lon"].astype(np.float64),
                "sog": c["sog"].astype(np.float32),
                "cog": c["cog"].astype(np.float32),
                "heading": c["heading"].astype(np.float32),
                "nav_status": c["nav_status"].astype(np.uint8),
                "msg_type": c["msg_type"].astype(np.uint8),
                "source": self._source(len(idx)),
                "station": pd.array(station.take(pa.array(idx)), dtype="string"),
            }
        )

    def aux(self, report: IngestReport) -> pd.DataFrame:
        """Base stations (with the UTC they report), SAR aircraft and aids to navigation."""

        def name(b: Batch, s: I64) -> np.ndarray:
            if b.layout.msg_type != 21:
                return np.full(len(s), "", dtype=object)
            full = pc.binary_join_element_wise(b.values["name"], b.values["name_ext"], "")
            out: np.ndarray = _text(full.take(pa.array(s))).fill_null("").to_numpy(False)
            return out

        def clock(b: Batch, s: I64) -> np.ndarray:
            if b.layout.msg_type != 4:
                return np.full(len(s), np.datetime64("NaT", "ns"))
            fields = ("year", "month", "day", "hour", "minute", "second")
            return ais.reported_utc(*(b.values[k][s] for k in fields))

        idx, c = self._gather(
            self._take(AUX_TYPES, report),
            {
                "mmsi": lambda b, s: b.values["mmsi"][s],
                "lat": lambda b, s: b.values["lat"][s],
                "lon": lambda b, s: b.values["lon"][s],
                "msg_type": lambda b, s: np.full(len(s), b.layout.msg_type),
                "name": name,
                "clock": clock,
            },
        )
        if not len(idx):
            return schema.empty(schema.AUX_POSITIONS)
        df = pd.DataFrame(c)
        df["ts"] = self._ts(idx)
        df["clock"] = pd.to_datetime(df["clock"]).dt.tz_localize("UTC")
        return schema.conform(df.assign(source=self.source), schema.AUX_POSITIONS, extra=False)

    def statics(self) -> pd.DataFrame:
        """Static and voyage rows (schema.VESSELS)."""

        def num(name: str) -> Any:
            def get(b: Batch, s: I64) -> np.ndarray:
                if name not in b.values:
                    return np.full(len(s), np.nan)
                v = b.values[name][s].astype(np.float64)
                return np.where(b.present[name][s] & (v != 0), v, np.nan)

            return get

        def text(name: str) -> Any:
            def get(b: Batch, s: I64) -> np.ndarray:
                if name not in b.values:
                    return np.full(len(s), None, dtype=object)
                out: np.ndarray = _text(b.values[name].take(pa.array(s))).to_numpy(False)
                return out

            return get

        def ship_type(b: Batch, s: I64) -> np.ndarray:
            mt = b.layout.msg_type
            if "ship_type" not in b.values:  # type 24 part A
                return np.full(len(s), np.nan)
            v = b.values["ship_type"][s].astype(np.float64)
            sent = b.nbits[s] >= _SHIP_TYPE_AT[mt] + 8
            return np.where(sent & (v != 0), v, np.nan)

        def size(a: str, c: str) -> Any:
            def get(b: Batch, s: I64) -> np.ndarray:
                if a not in b.values:
                    return np.full(len(s), np.nan)
                v = (b.values[a][s] + b.values[c][s]).astype(np.float64)
                return np.where(v != 0, v, np.nan)

            return get

        idx, c = self._gather(
            self._take(STATIC_TYPES),
            {
                "mmsi": lambda b, s: b.values["mmsi"][s],
                "imo": num("imo"),
                "name": text("shipname"),
                "callsign": text("callsign"),
                "ship_type": ship_type,
                "length": size("to_bow", "to_stern"),
                "width": size("to_port", "to_starboard"),
                "draught": num("draught"),
                "destination": text("destination"),
                "ais_class": lambda b, s: np.full(len(s), "A" if b.layout.msg_type == 5 else "B"),
            },
        )
        if not len(idx):
            return schema.empty(schema.VESSELS)
        df = pd.DataFrame(c)
        df["ts"] = self._ts(idx)
        return schema.conform(df, schema.VESSELS, extra=False)

    def binary(self) -> pd.DataFrame:
        """Binary messages 6 and 8 with their application id and data (hexadecimal)."""

        def opt(name: str) -> Any:
            def get(b: Batch, s: I64) -> np.ndarray:
                if name not in b.values:
                    return np.full(len(s), np.nan)
                return np.where(b.present[name][s], b.values[name][s], np.nan)

            return get

        idx, c = self._gather(
            self._take(BINARY_TYPES),
            {
                "mmsi": lambda b, s: b.values["mmsi"][s],
                "msg_type": lambda b, s: np.full(len(s), b.layout.msg_type),
                "dest_mmsi": opt("dest_mmsi"),
                "dac": opt("dac"),
                "fi": opt("fid"),
                "data": lambda b, s: (
                    b.values["data"].take(pa.array(s)).to_numpy(zero_copy_only=False)
                ),
            },
        )
        if not len(idx):
            return schema.empty(schema.BINARY)
        df = pd.DataFrame(c)
        df["data"] = df["data"].where(df["data"] != "", None)
        df["ts"] = self._ts(idx)
        return schema.conform(df.assign(source=self.source), schema.BINARY, extra=False)


def _text(values: pa.Array) -> pa.Array:
    """AIS text as mda keeps it: trailing '@' and blanks removed, null when nothing is left."""
    trimmed = pc.utf8_rtrim(values, characters="@ ")
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
