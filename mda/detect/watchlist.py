"""Watch-listed vessels seen in the window, matched by MMSI, IMO or name.

The watchlist is a CSV with any of the columns ``mmsi``, ``imo``, ``name`` (case-insensitive
headers) and optional ``reason`` and ``list``. Names match case- and space-insensitively, unless
both sides carry an IMO number and they differ (a namesake, not the listed ship). One
`watchlist` alert per vessel and window, placed at its last position, severity high.

Watch lists come from other organisations: a file that is not a regular file, is larger than
MAX_BYTES, is not UTF-8 CSV, or holds a malformed entry is refused with one line naming the file
(and line); text is kept as data (never evaluated), and outputs neutralise it where they write it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.base import Context, make_alerts
from mda.errors import MdaError

KEYS = ("mmsi", "imo", "name")
#: Largest watch list read (bytes): about a million entries; checked before reading.
MAX_BYTES = 64 * 2**20
COLUMNS = {
    "mmsi": "UInt32",
    "imo": "UInt32",
    "name": "string",
    "reason": "string",
    "list": "string",
}


def norm_name(names: pd.Series) -> pd.Series:
    """Names compared case- and space-insensitively (AIS pads names with spaces and '@')."""
    s = names.astype("string").str.upper().str.replace(r"[\s@]+", "", regex=True)
    return s.mask(s == "")


def _number(value: str, path: Path, line: int, col: str, digits: int) -> int | None:
    value = value.strip()
    if not value:
        return None
    if col == "imo" and value.upper().startswith("IMO"):
        value = value[3:].strip()
    if not value.isdigit() or len(value) > digits:
        raise MdaError(f"{path}:{line}: {col} {value!r} is not a number of up to {digits} digits")
    return int(value)


def load_watchlist(path: str | Path) -> pd.DataFrame:
    """Read a watchlist CSV into columns mmsi, imo, name, reason, list (one row per entry).

    Raises MdaError naming the file (and line) when it cannot be read, has none of the key
    columns, or holds an MMSI/IMO that is not a number.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise MdaError(f"{path}: cannot read watchlist: not a regular file")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MdaError(f"{path}: watchlist larger than {MAX_BYTES // 2**20} MiB")
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise MdaError(f"{path}: watchlist is empty (need a header with mmsi, imo or name)")
            cols = [h.strip().lower() for h in header]
            if not set(cols) & set(KEYS):
                raise MdaError(
                    f"{path}:1: watchlist header {header!r} has none of the columns mmsi, imo, name"
                )
            rows = []
            for line, rec in enumerate(reader, start=2):
                if not any(v.strip() for v in rec):
                    continue
                if len(rec) != len(cols):
                    raise MdaError(f"{path}:{line}: expected {len(cols)} fields, found {len(rec)}")
                r = dict(zip(cols, rec, strict=True))
                entry = {
                    "mmsi": _number(r.get("mmsi", ""), path, line, "mmsi", 9),
                    "imo": _number(r.get("imo", ""), path, line, "imo", 7),
                    "name": r.get("name", "").strip() or None,
                    "reason": r.get("reason", "").strip() or None,
                    "list": r.get("list", "").strip() or None,
                }
                if entry["mmsi"] is None and entry["imo"] is None and entry["name"] is None:
                    raise MdaError(f"{path}:{line}: entry has no mmsi, imo or name")
                rows.append(entry)
    except OSError as e:
        raise MdaError(f"{path}: cannot read watchlist: {e.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise MdaError(f"{path}: not a readable CSV watchlist: {e}") from None
    return as_watchlist(pd.DataFrame(rows, columns=list(COLUMNS)))


def as_watchlist(df: pd.DataFrame) -> pd.DataFrame:
    """A watchlist table with exactly the columns and dtypes of COLUMNS (missing ones empty)."""
    df = df.rename(columns=str.lower).reindex(columns=list(COLUMNS))
    return df.astype(COLUMNS).reset_index(drop=True)


def _matches(ctx: Context, wl: pd.DataFrame) -> pd.DataFrame:
    """(mmsi, entry, by) for every vessel seen in the window that matches a watchlist entry."""
    seen = pd.Index(ctx.tracks.points["mmsi"].unique())
    v = ctx.vessels[ctx.vessels["mmsi"].isin(seen)]
    statics = pd.concat([v, ctx.vessel_history[ctx.vessel_history["mmsi"].isin(seen)]])
    entries = wl.reset_index(drop=True).assign(entry=lambda d: np.arange(len(d)))
    found = []
    by_mmsi = entries.dropna(subset=["mmsi"])
    hit = by_mmsi[by_mmsi["mmsi"].isin(seen)]
    found.append(pd.DataFrame({"mmsi": hit["mmsi"], "entry": hit["entry"], "by": "mmsi"}))
    for key, left, right in (
        ("imo", statics["imo"], entries["imo"]),
        ("name", norm_name(statics["name"]), norm_name(entries["name"])),
    ):
        lhs = pd.DataFrame(
            {"mmsi": statics["mmsi"].to_numpy(), "k": left.to_numpy(), "imo": statics["imo"]}
        ).dropna(subset=["k"])
        rhs = pd.DataFrame(
            {"entry": entries["entry"], "k": right.to_numpy(), "imo": entries["imo"]}
        )
        m = lhs.merge(rhs.dropna(subset=["k"]), on="k", suffixes=("", "_entry"))
        # IMO numbers are permanent: a namesake with another IMO is another ship
        other_ship = m["imo"].notna() & m["imo_entry"].notna() & (m["imo"] != m["imo_entry"])
        found.append(m.loc[~other_ship.fillna(False), ["mmsi", "entry"]].assign(by=key))
    out = pd.concat(found, ignore_index=True)
    if out.empty:
        return out
    out["mmsi"] = out["mmsi"].astype("uint32")
    return out.drop_duplicates(["mmsi", "entry", "by"])


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """One `watchlist` alert per listed vessel seen in the window (needs ctx.watchlist)."""
    wl = ctx.watchlist
    p = ctx.tracks.points
    if wl is None or wl.empty or p.empty:
        return schema.empty(schema.ALERTS)
    wl = as_watchlist(wl)
    hits = _matches(ctx, wl)
    if hits.empty:
        return schema.empty(schema.ALERTS)
    hits = hits.join(wl[["reason", "list"]], on="entry")
    g = p[p["mmsi"].isin(hits["mmsi"])].groupby("mmsi")
    seen = g.agg(start=("ts", "min"), end=("ts", "max"), lat=("lat", "last"), lon=("lon", "last"))
    seen["fixes"] = g.size()
    evidence = []
    for mmsi, row in seen.iterrows():
        h = hits[hits["mmsi"] == mmsi]
        evidence.append(
            {
                "matched_by": sorted(set(h["by"])),
                "reasons": sorted({str(x) for x in h["reason"].dropna()}),
                "lists": sorted({str(x) for x in h["list"].dropna()}),
                "first_seen": row["start"].isoformat(),
                "last_seen": row["end"].isoformat(),
                "fixes": int(row["fixes"]),
            }
        )
    rows = seen.reset_index().assign(type="watchlist", severity="high", evidence=evidence)
    return make_alerts(rows, ctx, {})
