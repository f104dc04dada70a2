"""AIS as the readers take it: messages encoded by pyais (the project's encoder too), each
line led by its Unix receive time, as many receivers log it; and pyais's own reading of a file
(the reference the decoders are compared with)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyais
from pyais import encode_dict

#: An AIS sentence anywhere on a line (tag blocks, prefixes and trailers around it).
SENTENCE = re.compile(r"!..VD[MO],[^*]*\*[0-9A-Fa-f]{2}")


def timed_line(t: float | pd.Timestamp, fields: Mapping[str, Any]) -> str:
    """One single-sentence AIS message of `fields` (pyais names), led by its receive time `t`
    (Unix seconds or a UTC Timestamp)."""
    seconds = t.value // 10**9 if isinstance(t, pd.Timestamp) else t
    return f"{seconds} {encode_dict(dict(fields))[0]}"


def nmea_file(path: Path, lines: Iterable[str]) -> Path:
    """`lines` written as an ASCII NMEA file at `path`."""
    path.write_text("".join(f"{line}\n" for line in lines), encoding="ascii")
    return path


def pyais_stream(path: Path) -> Iterator[Any]:
    """pyais's valid messages of a file, every sentence of it fed in file order (pyais joins
    the fragments of multi-sentence messages)."""
    raw = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            raw += [m.group(0).encode() for m in SENTENCE.finditer(line)]
    return (msg for msg in pyais.IterMessages(raw) if msg.is_valid)
