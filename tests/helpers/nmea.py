"""AIS as the readers take it: messages encoded by pyais (the project's encoder too), each
line led by its Unix receive time, as many receivers log it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pyais import encode_dict


def timed_line(t: float | pd.Timestamp, fields: Mapping[str, Any]) -> str:
    """One single-sentence AIS message of `fields` (pyais names), led by its receive time `t`
    (Unix seconds or a UTC Timestamp)."""
    seconds = t.value // 10**9 if isinstance(t, pd.Timestamp) else t
    return f"{seconds} {encode_dict(dict(fields))[0]}"


def nmea_file(path: Path, lines: Iterable[str]) -> Path:
    """`lines` written as an ASCII NMEA file at `path`."""
    path.write_text("".join(f"{line}\n" for line in lines), encoding="ascii")
    return path
