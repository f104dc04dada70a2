"""Whole AIS messages into the column contracts of mda.schema (positions, aux, statics).

Position reports of types 1, 2, 3 and 18 (168 bits) and static reports of type 5 (424 bits)
are decoded with numpy, all at once: 6-bit de-armoring and bit-field extraction on arrays,
with pyais's own rounding, so results equal pyais's (tests check every sample message). The
one deliberate difference: ship type codes are kept as sent, where pyais folds reserved codes
(57 becomes 56, 39 becomes 0). Types 4, 9, 19, 21, 24, 27 and odd-length messages go through
pyais; the types mda does not keep are counted from their first character and not decoded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from mda import schema
from mda.sources.base import (
    STATIC_FIELDS,
    TIME_END_S,
    TIME_MIN_S,
    AisData,
    IngestReport,
    valid_position,
)
from mda.sources.nmea.clock import BAD_TIME
from mda.sources.nmea.reassembly import Messages

#: Message types and where they go.
POSITION_TYPES = (1, 2, 3, 18, 19, 27)
AUX_TYPES = (4, 9, 21)
STATIC_TYPES = (5, 19, 24)
_FAST_TYPES = (1, 2, 3, 18)
_CLASS_B = (18, 19)
_KEPT_TYPES = sorted({*POSITION_TYPES, *AUX_TYPES, *STATIC_TYPES})

_MAX_MMSI = 999_999_999
#: Bits a message needs to hold the position fields mda reads (pyais layout, up to the heading,
#: course or latitude): a shorter payload would decode to partial, wrong values, or to None.
POSITION_BITS = {1: 137, 2: 137, 3: 137, 4: 134, 9: 128, 18: 133, 19: 133, 21: 219, 27: 94}


def decode(msgs: Messages, source: str, report: IngestReport) -> AisData:
    """Tables of one batch of messages; counts of what was rejected and why into `report`."""
    payloads: list[str] = msgs.payload.to_pylist()
    fills: list[int] = msgs.fill.tolist()
    n = len(payloads)
    lengths = np.fromiter(map(len, payloads), np.int64, count=n)
    empty = lengths == 0
    report.rejected["malformed"] += int(empty.sum())
    first = "".join([p[:1] or "0" for p in payloads]).encode("latin-1")
    mtype = _sixbit(np.frombuffer(first, np.uint8)).astype(np.int64)
    fill = np.asarray(fills, np.int64)
    fast = ~empty & np.isin(mtype, _FAST_TYPES) & (lengths == 28) & (fill == 0)
    fast_idx = np.flatnonzero(fast)
    mmsi = np.zeros(n, np.int64)
    decoded = fast.copy()
    pos_cols = _fast_positions(payloads, fast_idx, mtype)
    mmsi[fast_idx] = pos_cols["mmsi"]
    fast5 = ~empty & (mtype == 5) & (lengths == 71) & (fill == 2)
    static_fast = _fast_type5(payloads, np.flatnonzero(fast5))
    mmsi[fast5] = static_fast["mmsi"].to_numpy(np.int64)
    decoded |= fast5
    fast |= fast5
    pos_rows, aux_rows, static_rows = [], [], []
    kept = np.isin(mtype, _KEPT_TYPES)
    # types mda does not keep are counted from their first character, not decoded
    decoded |= ~empty & ~kept & (mtype >= 1) & (mtype <= 27)
    errors = int((~empty & ((mtype < 1) | (mtype > 27))).sum())
    for i in np.flatnonzero(~fast & ~empty & kept).tolist():
        row = _slow_decode(payloads[i], fills[i], int(mtype[i]))
        if row is None:
            errors += 1
            continue
        decoded[i] = True
        mmsi[i] = row[0]
        pos, aux, static = row[1:]
        if pos is not None:
            pos_rows.append((i, *pos))
        if aux is not None:
            aux_rows.append((i, *aux))
        if static is not None:
            static_rows.append((i, *static))
    report.rejected["decode_error"] += errors
    types, counts = np.unique(mtype[decoded], return_counts=True)
    report.messages.update(dict(zip(types.tolist(), counts.tolist(), strict=True)))

    t = msgs.t
    useful = decoded & kept
    bad_mmsi = useful & ((mmsi <= 0) | (mmsi > _MAX_MMSI))
    timed = useful & ~bad_mmsi
    no_ts = timed & np.isnan(t)
    bad_t = timed & (t == BAD_TIME)
    in_range = (t >= TIME_MIN_S) & (t < TIME_END_S)  # False for NaN and the sentinels
    out_t = timed & ~no_ts & ~bad_t & ~in_range  # includes --start-time clocks out of range
    report.rejected["invalid_mmsi"] += int(bad_mmsi.sum())
    report.rejected["no_timestamp"] += int(no_ts.sum())
    report.rejected["bad_tag_time"] += int(bad_t.sum())
    report.rejected["time_out_of_range"] += int(out_t.sum())
    keep = timed & in_range
    ts_ns = np.where(in_range, np.round(t * 1000.0), 0).astype(np.int64) * 1_000_000
    station = msgs.station.to_numpy(zero_copy_only=False)

    if pos_rows:
        slow = list(zip(*pos_rows, strict=True))
        cols = ("idx", "mmsi", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type")
        for name, values in zip(cols, slow, strict=True):
            pos_cols[name] = np.concatenate((pos_cols[name], np.asarray(values, np.float64)))
    positions = _positions(pos_cols, keep, ts_ns, station, source, report)
    aux = _aux(aux_rows, keep, ts_ns, source, report)
    statics = _statics(static_fast, static_rows, keep, ts_ns)
    report.positions = len(positions)
    report.static_reports = len(statics)
    report.mmsis.update(np.unique(positions["mmsi"].to_numpy()).tolist())
    report.mmsis.update(np.unique(statics["mmsi"].to_numpy()).tolist())
    report.see_times(positions["ts"])
    report.see_times(statics["ts"])
    report.see_times(aux["ts"])
    return AisData(positions=positions, aux=aux, statics=statics, report=report)


def _positions(
    c: dict[str, np.ndarray],
    keep: np.ndarray,
    ts_ns: np.ndarray,
    station: np.ndarray,
    source: str,
    report: IngestReport,
) -> pd.DataFrame:
    """Position rows of kept messages; sentinels to NaN; unusable positions rejected."""
    idx = c["idx"].astype(np.int64)
    take = keep[idx]
    lat, lon, mt = c["lat"], c["lon"], c["msg_type"]
    valid = valid_position(lat, lon)
    report.rejected["invalid_position"] += int((take & ~valid).sum())
    sel = take & valid
    idx, mt = idx[sel], mt[sel]
    coarse = mt == 27
    sog, cog, heading = c["sog"][sel], c["cog"][sel], c["heading"][sel]
    sog = np.where((coarse & (sog == 63)) | (~coarse & (sog > 102.25)), np.nan, sog)
    cog = np.where((coarse & (cog == 511)) | (cog >= 360), np.nan, cog)
    heading = np.where(heading > 359, np.nan, heading)
    status = np.where(np.isin(mt, _CLASS_B), 15, c["nav_status"][sel])
    return pd.DataFrame(
        {
            "mmsi": c["mmsi"][sel].astype(np.uint32),
            "ts": pd.to_datetime(ts_ns[idx], utc=True).astype(schema.TS),
            "lat": lat[sel],
            "lon": lon[sel],
            "sog": sog.astype(np.float32),
            "cog": cog.astype(np.float32),
            "heading": heading.astype(np.float32),
            "nav_status": status.astype(np.uint8),
            "msg_type": mt.astype(np.uint8),
            "source": pd.array(np.full(len(idx), source, dtype=object), dtype="string"),
            "station": pd.array(station[idx], dtype="string"),
        }
    )


def _aux(
    rows: list[tuple],
    keep: np.ndarray,
    ts_ns: np.ndarray,
    source: str,
    report: IngestReport,
) -> pd.DataFrame:
    """Base stations, SAR aircraft and aids to navigation of kept messages."""
    cols = ["idx", "mmsi", "lat", "lon", "msg_type", "name"]
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return schema.empty(schema.AUX_POSITIONS)
    idx = df["idx"].to_numpy(np.int64)
    lat, lon = df["lat"].to_numpy(np.float64), df["lon"].to_numpy(np.float64)
    valid = valid_position(lat, lon)
    report.rejected["invalid_position"] += int((keep[idx] & ~valid).sum())
    df = df[keep[idx] & valid]
    df = df.assign(ts=pd.to_datetime(ts_ns[df["idx"].to_numpy(np.int64)], utc=True))
    return schema.conform(df.assign(source=source), schema.AUX_POSITIONS, extra=False)


def _statics(
    fast: pd.DataFrame, rows: list[tuple], keep: np.ndarray, ts_ns: np.ndarray
) -> pd.DataFrame:
    """Static and voyage rows (schema.VESSELS) of kept messages, vectorised ones first."""
    slow = pd.DataFrame(rows, columns=["idx", *_STATIC_COLS])
    df = pd.concat([f for f in (fast, slow) if len(f)]) if len(fast) + len(slow) else slow
    if df.empty:
        return schema.empty(schema.VESSELS)
    idx = df["idx"].to_numpy(np.int64)
    df = df[keep[idx]]
    df = df.assign(ts=pd.to_datetime(ts_ns[df["idx"].to_numpy(np.int64)], utc=True))
    return schema.conform(df, schema.VESSELS, extra=False)


#: Columns of one static report row, in the order _slow_decode builds them.
_STATIC_COLS = ("mmsi", *STATIC_FIELDS, "ais_class")


def _sixbit(armored: np.ndarray) -> np.ndarray:
    """AIS payload characters (ASCII codes) to their 6-bit values."""
    v = armored.astype(np.int16) - 48
    return np.where(v > 40, v - 8, v).astype(np.uint8) & 63


def _bits(v6: np.ndarray, start: int, width: int, signed: bool = False) -> np.ndarray:
    """Bit field [start, start+width) of every row of 6-bit values (one payload per row)."""
    c0, c1 = start // 6, (start + width - 1) // 6
    acc = np.zeros(len(v6), np.int64)
    for c in range(c0, c1 + 1):
        acc = (acc << 6) | v6[:, c]
    shift = (c1 - c0 + 1) * 6 - (start - c0 * 6) - width
    val = (acc >> shift) & ((1 << width) - 1)
    if signed:
        val = np.where(val >= 1 << (width - 1), val - (1 << width), val)
    return val


#: Bit offsets (start, width) of the position fields of types 1-3 and 18.
_LAYOUT_123 = {
    "status": (38, 4),
    "speed": (50, 10),
    "lon": (61, 28),
    "lat": (89, 27),
    "course": (116, 12),
    "heading": (128, 9),
}
_LAYOUT_18 = {
    "speed": (46, 10),
    "lon": (57, 28),
    "lat": (85, 27),
    "course": (112, 12),
    "heading": (124, 9),
}


def _fast_positions(payloads: list[str], idx: np.ndarray, mtype: np.ndarray) -> dict:
    """Types 1, 2, 3, 18 of 168 bits decoded with numpy; values rounded as pyais does."""
    armored = "".join([payloads[i] for i in idx.tolist()]).encode("latin-1")
    v6 = _sixbit(np.frombuffer(armored, np.uint8)).reshape(len(idx), 28)
    mt = mtype[idx]
    is18 = mt == 18
    out = {"idx": idx.astype(np.float64), "mmsi": _bits(v6, 8, 30), "msg_type": mt}
    for name in ("speed", "lon", "lat", "course", "heading"):
        signed = name in ("lon", "lat")
        a = _bits(v6, *_LAYOUT_123[name], signed=signed)
        b = _bits(v6, *_LAYOUT_18[name], signed=signed)
        out[name] = np.where(is18, b, a)
    out["nav_status"] = np.where(is18, 15, _bits(v6, *_LAYOUT_123["status"]))
    for name in ("lat", "lon"):  # pyais: round(v / 600000, 6) computed exactly in integers
        out[name] = ((10 * out[name] + 3) // 6) / 1e6
    out["sog"] = out.pop("speed") / 10.0
    out["cog"] = out.pop("course") / 10.0
    out["heading"] = out["heading"].astype(np.float64)
    return out


_SIXBIT_ASCII = np.array([v + 64 if v < 32 else v for v in range(64)], np.uint8)


def _text_column(v6: np.ndarray, start: int, nchars: int) -> pd.Series:
    """AIS 6-bit text of every row, padding stripped as pyais and :func:`_text` do; NA if empty."""
    codes = np.stack([_bits(v6, start + 6 * k, 6) for k in range(nchars)], axis=1)
    raw = np.ascontiguousarray(_SIXBIT_ASCII[codes]).view(f"S{nchars}").ravel()
    text = pd.Series(raw).str.decode("latin-1").str.rstrip("@").str.strip().str.rstrip("@ ")
    return text.where(text != "", None).astype("string")


def _fast_type5(payloads: list[str], idx: np.ndarray) -> pd.DataFrame:
    """Type 5 messages of exactly 424 bits decoded with numpy (field layout as pyais)."""
    armored = "".join([payloads[i] for i in idx.tolist()]).encode("latin-1")
    v6 = _sixbit(np.frombuffer(armored, np.uint8)).reshape(len(idx), 71)

    def positive(values: np.ndarray, dtype: str) -> pd.Series:
        return pd.Series(values, dtype=dtype).mask(values == 0)

    return pd.DataFrame(
        {
            "idx": idx,
            "mmsi": _bits(v6, 8, 30),
            "imo": positive(_bits(v6, 40, 30), "UInt32"),
            "name": _text_column(v6, 112, 20),
            "callsign": _text_column(v6, 70, 7),
            "ship_type": positive(_bits(v6, 232, 8), "UInt8"),
            "length": positive(_bits(v6, 240, 9) + _bits(v6, 249, 9), "Float32"),
            "width": positive(_bits(v6, 258, 6) + _bits(v6, 264, 6), "Float32"),
            "draught": positive(_bits(v6, 294, 8) / 10.0, "Float32"),
            "destination": _text_column(v6, 302, 20),
            "ais_class": "A",
        }
    )


def _text(value: str | None) -> str | None:
    """AIS text without '@' padding and trailing blanks; None when empty."""
    if value is None:
        return None
    value = value.rstrip("@ ")
    return value or None


def _positive(value: int | float | None) -> int | float | None:
    """None for AIS 0 = "not available" (IMO, ship type, dimensions, draught)."""
    return value if value else None


#: Bit offset of the ship type in types 5, 19 and 24 part B (24 part A has none).
_SHIP_TYPE_AT = {5: 232, 19: 263, 24: 40}


def _raw_ship_type(bits: bit_vector, mt: int) -> int | None:
    """The ship type code as sent: pyais folds reserved codes (e.g. 57 into 56, 39 into 0)."""
    at = _SHIP_TYPE_AT[mt]
    if len(bits) < at + 8 or (mt == 24 and bits.get(38, 2) != 1):
        return None
    return bits.get(at, 8)


def _slow_decode(payload: str, fill: int, mt: int) -> tuple | None:
    """Decode one message with pyais: (mmsi, position, aux, static) or None on failure."""
    try:
        bits = bit_vector(payload.encode("latin-1"), fill)
        if len(bits) < POSITION_BITS.get(mt, 0):
            return None
        msg = MSG_CLASS[mt].from_vector(bits)
        mmsi = int(msg.mmsi)
    except Exception:  # pyais raises many types on bad payloads; all mean "does not decode"
        return None
    pos = aux = static = None
    g = msg.__getattribute__
    if mt in POSITION_TYPES:
        status = 15 if mt in _CLASS_B else int(g("status"))
        heading = g("heading") if mt != 27 else 511
        pos = (mmsi, g("lat"), g("lon"), g("speed"), g("course"), heading, status, mt)
    elif mt in AUX_TYPES:
        name = (g("name") or "") + (g("name_ext") or "") if mt == 21 else ""
        aux = (mmsi, g("lat"), g("lon"), mt, _text(name) or "")
    if mt in STATIC_TYPES:
        dims = {k: getattr(msg, k, None) for k in ("to_bow", "to_stern", "to_port", "to_starboard")}
        length = (dims["to_bow"] or 0) + (dims["to_stern"] or 0)
        width = (dims["to_port"] or 0) + (dims["to_starboard"] or 0)
        static = (
            mmsi,
            _positive(getattr(msg, "imo", None)),
            _text(getattr(msg, "shipname", None)),
            _text(getattr(msg, "callsign", None)),
            _positive(_raw_ship_type(bits, mt)),
            _positive(length),
            _positive(width),
            _positive(getattr(msg, "draught", None)),
            _text(getattr(msg, "destination", None)),
            "A" if mt == 5 else "B",
        )
    return mmsi, pos, aux, static
