"""Vectorised decoding of AIS payloads: every field of every message of one layout at once.

A batch of armoured payloads (a pyarrow string array, a list of str, or one uint8 buffer of
characters with n+1 offsets) and their fill bits is de-armoured (numpy, all characters at
once) into rows of 60-bit words (10 characters each); each
field of :mod:`mda.ais.layouts` is then a shift and a mask on a word column for all messages
of its layout at once. Values equal pyais's field by field, short messages included: a field
that starts past a message's last bit is absent (pyais: None) and one cut short by it holds
the bits there are, as pyais reads them. The one deliberate difference: coded fields (ship
type, EPFD, station type...) are kept as sent, where pyais folds reserved codes into a
catch-all member of its enums (ship type 57 becomes 56).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view

from mda.ais.layouts import BY_TYPE, LAYOUTS, Field, Layout
from mda.ais.mmsi import is_auxiliary_craft

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

#: Armoured payload character (ASCII code) -> 6-bit value; outside '0'..'w' reads as 0 (pyais).
SIXBIT = np.array(
    [(c - 56 if c - 48 > 40 else c - 48) if 48 <= c <= 119 else 0 for c in range(256)], np.uint8
)
#: 6-bit value -> the character it stands for in AIS text ('@' for 0, then 'A'...).
TEXT_CHARS = np.array([v + 64 if v < 32 else v for v in range(64)], np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_WORD_CHARS = 10  # 6-bit characters held by one 64-bit word
_WORD_BITS = 6 * _WORD_CHARS
#: Characters of the longest layout, rounded up to whole words.
_LONGEST_CHARS = -(-max(lo.bits for lo in LAYOUTS.values()) // _WORD_BITS) * _WORD_CHARS


@dataclass
class Batch:
    """The messages of one layout: their rows in the input, lengths in bits, field values.

    Numeric fields are int64 (bool for kind "b", float64 when the layout converts them); text
    and raw-bit fields are pyarrow string arrays. `present[name]` is False where the message
    ends before the field starts (pyais gives None there; the value is then 0 or "").
    """

    layout: Layout
    rows: I64
    nbits: I64
    values: dict[str, np.ndarray | pa.StringArray] = field(default_factory=dict)
    present: dict[str, Bools] = field(default_factory=dict)


@dataclass
class Decoded:
    """A decoded batch: each message's type (-1 for an empty payload), its length in bits,
    and the messages of each layout that decodes (pyais raises on the others)."""

    msg_type: I64
    nbits: I64
    batches: dict[str, Batch]


class _Bits:
    """Rows of payload bits as 60-bit words, with each row's length in bits."""

    def __init__(self, words: U64, nbits: I64) -> None:
        self.words = words
        self.nbits = nbits
        self.shortest = int(nbits.min()) if len(nbits) else 0

    def take(self, rows: I64) -> _Bits:
        return _Bits(self.words[:, rows], self.nbits[rows])

    def raw(self, start: int, width: int) -> I64:
        """Bits [start, start+width) of every row as unsigned integers (width <= 60); bits
        past the end of the words read as 0."""
        nw, n = self.words.shape
        k, off = divmod(start, _WORD_BITS)
        if k >= nw:
            return np.zeros(n, np.int64)
        avail = _WORD_BITS - off
        if width <= avail:
            v = self.words[k] >> np.uint64(avail - width)
        else:
            lo = width - avail
            v = (self.words[k] & np.uint64((1 << avail) - 1)) << np.uint64(lo)
            if k + 1 < nw:
                v = v | (self.words[k + 1] >> np.uint64(_WORD_BITS - lo))
        out: I64 = (v & np.uint64((1 << width) - 1)).astype(np.int64)
        return out

    def get(self, start: int, width: int, signed: bool = False) -> tuple[I64, Bools]:
        """Field value of every row as pyais reads it, and where it is present.

        A row whose bits end inside the field gives the bits it has, right-aligned (and signed
        on that many bits), as pyais's bit vector does.
        """
        raw = self.raw(start, width)
        v = np.where(raw >= 1 << (width - 1), raw - (1 << width), raw) if signed else raw
        present = np.ones(len(v), bool)
        if self.shortest >= start + width:  # every row holds the whole field
            return v, present
        cut = np.flatnonzero(self.nbits < start + width)  # the few rows that end inside it
        avail = np.clip(self.nbits[cut] - start, 0, width)
        part = raw[cut] >> (width - avail)
        if signed:
            sign = np.left_shift(np.int64(1), np.maximum(avail, 1) - 1)
            part = np.where(part >= sign, part - (sign << 1), part)
        v[cut] = np.where(avail > 0, part, 0)
        present[cut] = avail > 0
        return v, present


#: Payloads: Arrow strings, str, or (uint8 characters, int64 offsets of the n payloads + 1).
Payloads: TypeAlias = "pa.Array | list[str] | tuple[npt.NDArray[np.uint8], I64]"


def _buffers(payload: Payloads) -> tuple[npt.NDArray[np.uint8], I64]:
    """The characters of all payloads as one uint8 array, and each payload's start (n+1)."""
    if isinstance(payload, tuple):
        return payload[0], np.asarray(payload[1], np.int64)
    arr = payload if isinstance(payload, pa.Array) else pa.array(payload, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    _, offsets, data = arr.buffers()
    n = len(arr)
    starts = np.frombuffer(offsets, np.int64, n + 1, arr.offset * 8)
    chars = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return chars, starts


def _sixbit(chars: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """SIXBIT[chars], computed in a few passes (the table lookup costs ten times more)."""
    v = chars - np.uint8(48)
    v -= np.uint8(8) * (v > 40)
    bad = (chars < 48) | (chars > 119)
    if bad.any():
        v[bad] = 0
    return v


def _words(six: npt.NDArray[np.uint8], starts: I64, rows: I64, nchars: int) -> U64:
    """The first `nchars` 6-bit values of the payloads at `rows` packed into 60-bit words,
    one row of words per word position (characters past a payload's end read as 0).

    `six` holds the 6-bit values of all payloads followed by at least `nchars` + 9 zeros."""
    nw = -(-nchars // _WORD_CHARS)
    width = nw * _WORD_CHARS
    m = sliding_window_view(six, width)[starts[rows]]  # one row copy per message
    length = starts[rows + 1] - starts[rows]
    short = np.flatnonzero(length < nchars)
    if len(short):  # characters past a payload's end are the next payload's: zero them
        sub = m[short]
        sub[np.arange(width)[None, :] >= length[short, None]] = 0
        m[short] = sub
    cols = np.ascontiguousarray(m.T)
    words = np.empty((nw, len(rows)), np.uint64)
    six_bits = np.uint64(6)
    for k in range(nw):
        acc = cols[k * _WORD_CHARS].astype(np.uint64)
        for j in range(k * _WORD_CHARS + 1, (k + 1) * _WORD_CHARS):
            acc <<= six_bits
            if j < nchars:
                acc |= cols[j]
        words[k] = acc
    return words


def _variants(mt: int, bits: _Bits) -> list[tuple[Layout, Bools]]:
    """Which layout each message of type `mt` follows (pyais's dispatch); rows in none of them
    do not decode (type 24 part numbers 2 and 3)."""
    layouts = {lo.name: lo for lo in BY_TYPE[mt]}
    if len(layouts) == 1:
        return [(next(iter(layouts.values())), np.ones(len(bits.nbits), bool))]
    if mt == 16:
        ab = bits.nbits > 96
        return [(layouts["16AB"], ab), (layouts["16A"], ~ab)]
    if mt == 22:
        addressed = bits.get(139, 1)[0] == 1
        return [(layouts["22addressed"], addressed), (layouts["22broadcast"], ~addressed)]
    if mt == 24:
        part = bits.get(38, 2)[0]
        aux = is_auxiliary_craft(bits.get(8, 30)[0])
        return [
            (layouts["24A"], part == 0),
            (layouts["24B"], (part == 1) & ~aux),
            (layouts["24Baux"], (part == 1) & aux),
        ]
    addressed = bits.get(38, 1)[0] == 1
    structured = bits.get(39, 1)[0] == 1
    return [
        (
            layouts[f"{mt}{'addressed' if a else 'broadcast'}_{'' if s else 'un'}structured"],
            (addressed == a) & (structured == s),
        )
        for a in (True, False)
        for s in (True, False)
    ]


def _turn(raw: I64) -> npt.NDArray[np.float64]:
    """pyais's rate of turn: 0, +-127 and -128 as sent, else sign * round((raw / 4.733)^2)."""
    r = raw.astype(np.float64)
    rate = np.copysign(np.round((r / 4.733) ** 2), r)
    special = (raw == 0) | (np.abs(raw) == 127)
    return np.where(special, r, np.where(np.abs(raw) == 128, -128.0, rate))


def convert(f: Field, raw: I64) -> np.ndarray:
    """A numeric field's value from its integer, computed as pyais does (bit for bit)."""
    if f.kind == "b":
        return np.not_equal(raw, 0)
    if f.conv == "":
        return raw
    if f.conv == "float":
        return raw.astype(np.float64)
    if f.conv == "tenth":
        return raw / 10.0
    if f.conv == "hundredth":
        return raw / 100.0
    if f.conv == "turn":
        return _turn(raw)
    # pyais: round(v / scale, 6), which equals this integer rounding for every field width
    factor = {"deg": 10, "deg600": 10_000, "deg60000": 100}[f.conv]
    return ((factor * raw + 3) // 6) / 1e6


def _strings(codes: npt.NDArray[np.uint8], keep: Bools) -> pa.StringArray:
    """One string per row from a matrix of ASCII codes, taking the codes where `keep`."""
    lengths = keep.sum(axis=1)
    offsets = np.zeros(len(codes) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = np.ascontiguousarray(codes[keep])
    return pa.LargeStringArray.from_buffers(
        len(codes), pa.py_buffer(offsets), pa.py_buffer(data)
    ).cast(pa.string())


def _text(bits: _Bits, start: int, width: int) -> pa.StringArray:
    """6-bit text as pyais reads it: '@' padding stripped from the end, then blanks."""
    nch = -(-width // 6)
    codes = np.empty((len(bits.nbits), nch), np.uint8)
    if bits.shortest >= start + 6 * nch:  # every row holds the whole field: 10 at a time
        for k0 in range(0, nch, _WORD_CHARS):
            k1 = min(k0 + _WORD_CHARS, nch)
            chunk = bits.raw(start + 6 * k0, 6 * (k1 - k0))
            for k in range(k0, k1):
                codes[:, k] = (chunk >> (6 * (k1 - 1 - k))) & 63
    else:
        for k in range(nch):
            codes[:, k] = bits.get(start + 6 * k, 6)[0]
    text = TEXT_CHARS[codes]
    j = np.arange(nch)
    not_at = text != ord("@")
    end = np.where(not_at.any(axis=1), nch - np.argmax(not_at[:, ::-1], axis=1), 0)
    body = (text != ord(" ")) & (j < end[:, None])
    first = np.where(body.any(axis=1), np.argmax(body, axis=1), 0)
    last = np.where(body.any(axis=1), nch - np.argmax(body[:, ::-1], axis=1), 0)
    return _strings(text, (j >= first[:, None]) & (j < last[:, None]))


def _hex(bits: _Bits, start: int, width: int) -> pa.StringArray:
    """Raw bits as lower-case hexadecimal, the last byte padded with zero bits (pyais's bytes)."""
    n, nw = len(bits.nbits), bits.words.shape[0]
    avail = np.clip(bits.nbits - start, 0, width)
    big_endian = np.ascontiguousarray(bits.words.T, dtype=">u8")
    stream = np.unpackbits(big_endian.view(np.uint8).reshape(n, nw, 8), axis=2)
    stream = stream[:, :, 64 - _WORD_BITS :].reshape(n, nw * _WORD_BITS)  # each row's bits
    nbytes = -(-width // 8)
    field_bits = np.zeros((n, 8 * nbytes), np.uint8)
    have = stream[:, start : start + width]
    field_bits[:, : have.shape[1]] = have
    field_bits[np.arange(8 * nbytes)[None, :] >= avail[:, None]] = 0  # past the message's end
    packed = np.packbits(field_bits, axis=1)
    codes = np.empty((n, 2 * nbytes), np.uint8)
    codes[:, 0::2], codes[:, 1::2] = _HEX[packed >> 4], _HEX[packed & 15]
    digits = 2 * (-(-avail // 8))
    return _strings(codes, np.arange(2 * nbytes)[None, :] < digits[:, None])


def _decode_layout(layout: Layout, bits: _Bits, rows: I64, fields: frozenset[str] | None) -> Batch:
    batch = Batch(layout, rows, bits.nbits)
    for f in layout.fields:
        if f.kind == "spare" or (fields is not None and f.name not in fields):
            continue
        start = layout.offsets[f.name]
        batch.present[f.name] = bits.nbits > start
        if f.kind == "t":
            batch.values[f.name] = _text(bits, start, f.width)
        elif f.kind == "x":
            batch.values[f.name] = _hex(bits, start, f.width)
        else:
            raw, _ = bits.get(start, f.width, f.kind == "i")
            batch.values[f.name] = convert(f, raw)
    return batch


def message_types(payload: Payloads) -> I64:
    """Each payload's message type from its first character (-1 for an empty payload)."""
    return _types(*_buffers(payload))


def _types(chars: npt.NDArray[np.uint8], starts: I64) -> I64:
    if len(chars) == 0:
        return np.full(len(starts) - 1, -1, np.int64)
    first = SIXBIT[chars[np.minimum(starts[:-1], len(chars) - 1)]].astype(np.int64)
    return np.where(starts[1:] > starts[:-1], first, -1)


def decode(
    payload: Payloads,
    fill: npt.ArrayLike,
    types: tuple[int, ...] | None = None,
    fields: frozenset[str] | None = None,
) -> Decoded:
    """Decode a batch of payloads (with their fill bits); only `types` and `fields` when given.

    Messages of types outside 1..27 (and of types not asked for) are in no batch.
    """
    chars, starts = _buffers(payload)
    six = np.concatenate([_sixbit(chars), np.zeros(_LONGEST_CHARS, np.uint8)])
    mtype = _types(chars, starts)
    nbits = 6 * (starts[1:] - starts[:-1]) - np.asarray(fill, np.int64)
    batches: dict[str, Batch] = {}
    wanted = set(BY_TYPE if types is None else types) & set(BY_TYPE)
    # rows grouped by type, in input order (a stable sort of bytes is a radix sort)
    order = np.argsort(np.clip(mtype, -1, 63).astype(np.int8), kind="stable")
    bounds = np.searchsorted(mtype[order], np.arange(65))
    for mt in sorted(wanted):
        rows = order[bounds[mt] : bounds[mt + 1]]
        if not len(rows):
            continue
        longest = int((starts[rows + 1] - starts[rows]).max())
        need = -(-max(lo.bits for lo in BY_TYPE[mt]) // 6)
        bits = _Bits(_words(six, starts, rows, min(longest, need)), nbits[rows])
        for layout, sel in _variants(mt, bits):
            if sel.all():
                batches[layout.name] = _decode_layout(layout, bits, rows, fields)
            elif sel.any():
                idx = np.flatnonzero(sel)
                batches[layout.name] = _decode_layout(layout, bits.take(idx), rows[idx], fields)
    return Decoded(mtype, nbits, batches)
