"""CSV files that are safe to open in a spreadsheet and read back exactly.

Text cells come from attacker-controlled AIS, zone and watch-list text. A spreadsheet runs a
cell that starts with = + - @ (or TAB/CR, OWASP's list; full-width ＝ ＋ － ＠ in some locales,
and after leading blanks in some importers) as a formula, and a line break inside a value
starts a new record in readers that split lines before parsing quotes.

Encoding of a text cell (unambiguous, so :func:`unguard` undoes :func:`guard` exactly):

- a cell that could run as a formula, starts with ``'``, is empty, or holds a line break
  (CR, LF, VT, FF, FS, GS, RS, NEL, LS, PS), a NUL or a lone surrogate is *guarded*: written
  as ``'`` followed by the value with ``\\`` doubled and those characters as ``\\r``, ``\\n``
  or ``\\uXXXX``; so no record of the file spans two lines and no cell starts a formula;
- every other cell is written as it is (the common case: plain names read unchanged).

A cell read back that starts with ``'`` was guarded (a plain cell never starts with one);
an empty cell is a missing value (an empty string is guarded as ``'``). Fields holding the
delimiter or quotes are quoted as RFC 4180 says.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

_BREAKS = "\x00\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\ud800-\udfff"
_NEEDS_GUARD = re.compile(f"^(?:$|'|[\\t\\r]|[ \\t]*[=+\\-@\uff1d\uff0b\uff0d\uff20])|[{_BREAKS}]")
_ESCAPE = re.compile(f"[\\\\{_BREAKS}]")
_UNESCAPE = re.compile(r"\\(\\|r|n|u[0-9a-f]{4})")
_SHORT = {"\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_LONG = {"\\": "\\", "r": "\r", "n": "\n"}


def guard(value: Any) -> Any:
    """A text value as a cell no spreadsheet runs and no reader splits; others unchanged."""
    if not isinstance(value, str) or not _NEEDS_GUARD.search(value):
        return value
    return "'" + _ESCAPE.sub(lambda m: _SHORT.get(m[0], f"\\u{ord(m[0]):04x}"), value)


def unguard(cell: str) -> str | None:
    """The value :func:`guard` wrote as `cell` (None for an empty cell)."""
    if not cell:
        return None
    if cell[0] != "'":
        return cell
    return _UNESCAPE.sub(lambda m: _LONG.get(m[1]) or chr(int(m[1][1:], 16)), cell[1:])


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write `df` as UTF-8 CSV, one line per row, every text cell guarded."""
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].astype(object).map(guard)
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv`: text cells unguarded, empty cells None."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8").map(unguard)
