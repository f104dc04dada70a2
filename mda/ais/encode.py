"""One message's armoured payload from field values, by its declared layout (mda.ais.layouts).

For the messages the simulator sends once per vessel (static reports 5 and 24); the position
reports it sends by the million are packed with numpy in :mod:`mda.encode` from the same
layouts. Values are written as pyais's encoder writes them, so the output is the same bytes:
a field not given is 0 (text: empty), text is upper-cased and padded with '@', and a scaled
value is truncated (a draught of 7.35 m is sent as 73).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real

from mda.ais.layouts import LAYOUTS, Layout
from mda.ais.mmsi import is_auxiliary_craft

#: AIS text character -> 6-bit value ('@' 0, 'A' 1 ... '_' 31, ' ' 32 ... '?' 63).
_TEXT_CODE = {chr(v + 64 if v < 32 else v): v for v in range(64)}
_DIVISOR = {"tenth": 10.0, "hundredth": 100.0}
#: Characters of one sentence's payload (82-character sentences).
FRAGMENT_CHARS = 60


def _bits(layout: Layout, values: Mapping[str, object]) -> tuple[int, int]:
    """The message's bits as one integer, and how many there are."""
    acc, n = 0, 0
    for f in layout.fields:
        v = values.get(f.name)
        if f.kind == "t":
            chars = f.width // 6
            text = str(v or "").upper()[:chars].ljust(chars, "@")
            try:
                for ch in text:
                    acc = (acc << 6) | _TEXT_CODE[ch]
            except KeyError as e:
                raise ValueError(f"{f.name}: {ch!r} is not an AIS text character") from e
        elif f.kind == "x":
            raise ValueError(f"{f.name}: raw-bit fields are not encoded here")
        else:
            num = float(v) if isinstance(v, Real) and v == v and f.kind != "spare" else 0.0
            num *= _DIVISOR.get(f.conv, 1.0)
            acc = (acc << f.width) | (int(num) & ((1 << f.width) - 1))
        n += f.width
    return acc, n


def armour(bits: int, nbits: int) -> tuple[str, int]:
    """Armoured payload of `nbits` bits and its fill bits (zeros up to a whole character)."""
    fill = -nbits % 6
    chars = math.ceil(nbits / 6)
    bits <<= fill
    codes = [(bits >> (6 * (chars - 1 - k))) & 63 for k in range(chars)]
    return "".join(chr(c + 48 if c < 40 else c + 56) for c in codes), fill


def payload(layout: Layout, values: Mapping[str, object]) -> tuple[str, int]:
    """Armoured payload and fill bits of one message of `layout` with these field values."""
    return armour(*_bits(layout, values))


def fragments(layout: Layout, values: Mapping[str, object]) -> tuple[list[str], int]:
    """The payload cut into sentence-sized fragments, and its fill bits (on the last one)."""
    text, fill = payload(layout, values)
    return [text[i : i + FRAGMENT_CHARS] for i in range(0, len(text), FRAGMENT_CHARS)], fill


def static_layout(values: Mapping[str, object]) -> Layout:
    """The layout of a static report (type 5, or 24 part A/B by its part number and MMSI)."""
    if values.get("msg_type") == 5:
        return LAYOUTS["5"]
    part = values.get("partno", 0)
    if part == 0:
        return LAYOUTS["24A"]
    if part != 1:
        raise ValueError(f"type 24 part number {part}: 0 or 1")
    mmsi = values.get("mmsi", 0)
    aux = isinstance(mmsi, Real) and bool(is_auxiliary_craft(float(mmsi)))
    return LAYOUTS["24Baux" if aux else "24B"]
