"""Vectorised AIS NMEA encoder: position reports packed with numpy, lines built as byte arrays.

A message at a time costs tens of microseconds (pyais's `encode_dict`); the simulator writes
millions. Here the fixed-layout position reports (types 1, 2, 3 and 18, 168 bits each; bit
layouts and sentinels from mda.ais.layouts) are packed into three 64-bit words per message, cut
into 6-bit characters, armoured, checksummed and joined with their NMEA 4.0 tag blocks as uint8
matrices. Static messages (5, 24) are encoded once per
vessel (:func:`static_payloads`, by mda.ais.encode from the same layouts) and re-framed here.
"""

from __future__ import annotations

import numpy as np

from mda.ais import encode as ais_encode
from mda.ais.layouts import (
    COURSE_NA,
    DEG,
    HEADING_NA,
    LAT_NA,
    LAYOUTS,
    LON_NA,
    SPEED_NA,
    TURN_NA,
    Layout,
)

#: 6-bit value -> armoured ASCII character (ITU-R M.1371 / IEC 61162-1).
ARMOR = np.array([c + 48 if c < 40 else c + 56 for c in range(64)], dtype=np.uint8)
HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
POSITION_CHARS = 28  # 168 bits / 6

#: The encoder's names of the position fields -> their names in mda.ais.layouts.
_FIELD_NAMES = {
    "msg_type": "msg_type",
    "mmsi": "mmsi",
    "nav_status": "status",
    "rot": "turn",
    "sog": "speed",
    "lon": "lon",
    "lat": "lat",
    "cog": "course",
    "heading": "heading",
    "second": "second",
    "cs": "cs",  # 1 = Class B "CS" (carrier-sense) unit, the common kind
}


def _spans(layout: Layout) -> tuple[tuple[str, int, int], ...]:
    """(encoder field, bit offset, width) of the fields a layout has; other bits stay zero."""
    return tuple(
        (ours, *layout.span(name)) for ours, name in _FIELD_NAMES.items() if name in layout.offsets
    )


_LAYOUT_123 = _spans(LAYOUTS["1"])
_LAYOUT_18 = _spans(LAYOUTS["18"])


def _put(words: np.ndarray, value: np.ndarray, off: int, width: int) -> None:
    """OR `width` bits of `value` into the big-endian bit string held in `words` (3, N)."""
    v = value.astype(np.uint64) & np.uint64((1 << width) - 1)
    k0, k1 = off // 64, (off + width - 1) // 64
    if k0 == k1:
        words[k0] |= v << np.uint64(64 * (k0 + 1) - off - width)
    else:
        n1 = off + width - 64 * k1  # bits that spill into the next word
        words[k0] |= v >> np.uint64(n1)
        words[k1] |= (v & np.uint64((1 << n1) - 1)) << np.uint64(64 - n1)


def _get6(words: np.ndarray, off: int) -> np.ndarray:
    """The 6-bit value at bit offset `off` of the bit string in `words`."""
    k0, k1 = off // 64, (off + 5) // 64
    if k0 == k1:
        return (words[k0] >> np.uint64(64 * (k0 + 1) - off - 6)) & np.uint64(63)
    n1 = off + 6 - 64 * k1
    hi = (words[k0] & np.uint64((1 << (6 - n1)) - 1)) << np.uint64(n1)
    return hi | (words[k1] >> np.uint64(64 - n1))


def position_fields(
    mmsi, lat, lon, sog, cog, heading, nav_status, second, msg_type
) -> dict[str, np.ndarray]:
    """AIS integer fields from physical values; NaN becomes the AIS "not available" sentinel."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    sog = np.asarray(sog, dtype=np.float64)
    cog = np.asarray(cog, dtype=np.float64)
    heading = np.asarray(heading, dtype=np.float64)
    return {
        "msg_type": np.asarray(msg_type, dtype=np.int64),
        "mmsi": np.asarray(mmsi, dtype=np.int64),
        "nav_status": np.asarray(nav_status, dtype=np.int64),
        "rot": np.full(len(lat), TURN_NA, dtype=np.int64),  # no turn information
        "sog": np.where(
            np.isnan(sog), SPEED_NA, np.clip(np.rint(sog * 10), 0, SPEED_NA - 1)
        ).astype(np.int64),
        "lon": np.where(np.isnan(lon), LON_NA, np.rint(lon * DEG)).astype(np.int64),
        "lat": np.where(np.isnan(lat), LAT_NA, np.rint(lat * DEG)).astype(np.int64),
        "cog": np.where(np.isnan(cog), COURSE_NA, np.rint(cog * 10) % COURSE_NA).astype(np.int64),
        "heading": np.where(np.isnan(heading), HEADING_NA, np.rint(heading) % 360).astype(np.int64),
        "second": np.asarray(second, dtype=np.int64),
        "cs": np.ones(len(lat), dtype=np.int64),
    }


def position_payloads(fields: dict[str, np.ndarray]) -> np.ndarray:
    """Armoured 28-character payloads (N, 28) uint8 of position reports 1/2/3 and 18."""
    n = len(fields["mmsi"])
    out = np.empty((n, POSITION_CHARS), dtype=np.uint8)
    msg_type = fields["msg_type"]
    for layout, rows in ((_LAYOUT_123, msg_type != 18), (_LAYOUT_18, msg_type == 18)):
        if not rows.any():
            continue
        words = np.zeros((3, int(rows.sum())), dtype=np.uint64)
        for name, off, width in layout:
            _put(words, fields[name][rows], off, width)
        out[rows] = ARMOR[np.stack([_get6(words, 6 * j) for j in range(POSITION_CHARS)], axis=1)]
    return out


def static_payloads(msg: dict[str, object]) -> tuple[list[bytes], int]:
    """Armoured payload fragments and fill bits of one static message (type 5 or 24)."""
    parts, fill = ais_encode.fragments(ais_encode.static_layout(msg), msg)
    return [p.encode("ascii") for p in parts], fill


def sentence_bodies(
    payload: np.ndarray,
    fill: int,
    total: int,
    part: int,
    seq: np.ndarray | None,
    channel: np.ndarray,
) -> np.ndarray:
    """Complete `!AIVDM,...*hh` sentences (N, W) uint8 around equal-length armoured payloads.

    `seq` holds the sequential message id (0-9) of multi-sentence messages, None for single ones;
    `channel` the radio channel letters as uint8 (b"A" or b"B").
    """
    n = len(payload)
    seq_cols = np.empty((n, 0), np.uint8) if seq is None else (48 + seq.astype(np.uint8))[:, None]
    cols = [
        _const(f"!AIVDM,{total},{part},".encode(), n),
        seq_cols,
        _const(b",", n),
        channel.astype(np.uint8)[:, None],
        _const(b",", n),
        payload,
        _const(f",{fill}*".encode(), n),
    ]
    body = np.hstack(cols)
    xor = np.bitwise_xor.reduce(body[:, 1:-1], axis=1)
    return np.hstack([body, HEX[xor >> 4][:, None], HEX[xor & 15][:, None]])


def _const(b: bytes, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(b, dtype=np.uint8), (n, len(b)))


def _pad(strings: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Byte strings as a zero-padded uint8 matrix and their lengths."""
    width = max((len(s) for s in strings), default=0)
    mat = np.zeros((len(strings), width), dtype=np.uint8)
    for i, s in enumerate(strings):
        mat[i, : len(s)] = np.frombuffer(s, dtype=np.uint8)
    return mat, np.array([len(s) for s in strings], dtype=np.int64)


def tagged_lines(
    stations: list[str],
    station: np.ndarray,
    unix_s: np.ndarray,
    body: np.ndarray,
    body_len: np.ndarray,
) -> bytes:
    """Lines `\\s:<station>,c:<unix>*hh\\<body>\\n` as one bytes object, in row order.

    `station` indexes `stations`; `body` (N, W) holds each sentence, of which the first
    `body_len` bytes are used (so rows may differ in length, e.g. truncated sentences).
    """
    n = len(body)
    if n == 0:
        return b""
    st_mat, st_len = _pad([f"s:{s}".encode("ascii") for s in stations])
    st_xor = np.array([np.bitwise_xor.reduce(r[:k]) for r, k in zip(st_mat, st_len, strict=True)])
    unix_s = np.asarray(unix_s, dtype=np.int64)
    digits = (48 + (unix_s[:, None] // 10 ** np.arange(9, -1, -1)) % 10).astype(np.uint8)
    c_part = np.hstack([_const(b",c:", n), digits])
    xor = st_xor[station].astype(np.uint8) ^ np.bitwise_xor.reduce(c_part, axis=1)
    tail = np.hstack([_const(b"*", n), HEX[xor >> 4][:, None], HEX[xor & 15][:, None]])
    parts = [
        (_const(b"\\", n), None),
        (st_mat[station], st_len[station]),
        (c_part, None),
        (tail, None),
        (_const(b"\\", n), None),
        (body, body_len),
        (_const(b"\n", n), None),
    ]
    mats, masks = [], []
    for mat, length in parts:
        mats.append(mat)
        width = mat.shape[1]
        if length is None:
            masks.append(np.ones((n, width), dtype=bool))
        else:
            masks.append(np.arange(width)[None, :] < np.asarray(length)[:, None])
    return np.hstack(mats)[np.hstack(masks)].tobytes()
