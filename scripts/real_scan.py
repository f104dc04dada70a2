"""Alerts on real public AIS: every sample in ../shared/data scanned as a new user would.

    .venv/bin/python scripts/real_scan.py          # each sample, then all of them in one store

Each file under positions/ and nmea/ is scanned with the default configuration and zones, as
``mda scan FILE`` does; NMEA logs whose messages carry no receiver time give no positions
without ``--start-time`` and are listed as skipped with that reason. Then every sample is
ingested into one temporary store and scanned once with ``mda scan --store`` (several days,
years apart: feed holes that must not become vessel behaviour).

For each scan: positions, vessels, vessel-hours (the hours in which a vessel has at least one
fix, summed over vessels; first-to-last spans are shown too), alerts by type and severity,
non-info alerts per 1,000 vessel-hours, and every high or critical alert. Targets (issue 10):
on the ordinary full day of a busy port (Los Angeles / Long Beach) at most 10 non-info alerts
per 1,000 vessel-hours and at most 10 high or critical alerts; on all samples in one store at
most 10 high or critical alerts. Exit status 1 when one is missed. scripts/bench_detect.py runs
this next to the simulator scores; tests/test_real_traffic.py uses the same functions.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mda.scan import ScanResult, run_scan
from mda.schema import severity_rank

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
#: An ordinary whole day of one of the world's busiest port complexes (SOURCES.md 2.5).
LA_DAY = "positions/marinecadastre_2020-01-01_la_longbeach_fullday.csv.gz"
#: The issue's limits: non-info alerts per 1,000 vessel-hours, and high or critical alerts.
MAX_RATE = 10.0
MAX_SEVERE = 10


@dataclass
class Figures:
    """What one scan of real data gave, with the volumes that put it in proportion."""

    label: str
    result: ScanResult
    vessel_hours: float  # hours with at least one fix, summed over vessels
    span_hours: float  # first to last fix, summed over vessels
    seconds: float

    @property
    def alerts(self) -> pd.DataFrame:
        return self.result.alerts

    @property
    def vessels(self) -> int:
        t = self.result.tracks
        return 0 if t is None else int(t.points["mmsi"].nunique())

    @property
    def non_info(self) -> int:
        return int((self.alerts["severity"] != "info").sum())

    @property
    def rate(self) -> float:
        """Non-info alerts per 1,000 vessel-hours."""
        return 1000.0 * self.non_info / self.vessel_hours if self.vessel_hours else 0.0

    @property
    def severe(self) -> pd.DataFrame:
        """The high and critical alerts, most severe first."""
        a = self.alerts
        rank = severity_rank(a["severity"])
        keep = rank >= severity_rank("high")
        return a[keep].assign(_r=rank[keep]).sort_values(["_r", "type", "start"], ascending=[
            False, True, True]).drop(columns="_r")  # fmt: skip


def samples(root: Path = SHARED) -> list[Path]:
    """Every real AIS sample file: positions/*.csv* and nmea/** (sorted)."""
    files = sorted((root / "positions").glob("*.csv*"))
    return files + sorted(p for p in (root / "nmea").rglob("*") if p.is_file())


def vessel_hours(result: ScanResult) -> tuple[float, float]:
    """(hours with at least one fix, first-to-last hours), each summed over vessels."""
    if result.tracks is None or result.tracks.points.empty:
        return 0.0, 0.0
    p = result.tracks.points
    mmsi = p["mmsi"].to_numpy(np.int64)
    hour = p["ts"].to_numpy("datetime64[h]").astype(np.int64)
    with_fix = len(np.unique(mmsi << 32 | (hour - hour.min())))
    span = p.groupby("mmsi")["ts"].agg(["min", "max"])
    return float(with_fix), float((span["max"] - span["min"]).dt.total_seconds().sum() / 3600)


def scan(label: str, **kw) -> Figures:
    """run_scan(**kw) with the default configuration and zones, and its figures."""
    t0 = time.perf_counter()
    result = run_scan(**kw)
    return Figures(label, result, *vessel_hours(result), time.perf_counter() - t0)


def scan_file(path: Path, root: Path = SHARED) -> Figures | str:
    """`mda scan FILE` of one sample, or the reason it gives nothing to scan."""
    fig = scan(str(path.relative_to(root)), inputs=[path])
    if fig.result.positions == 0:
        dropped = fig.result.ingest.rejected.get("no_timestamp", 0)
        if dropped:
            return f"{dropped:,} messages without a receiver time (needs --start-time)"
        return "no vessel positions"
    return fig


def scan_store(files: list[Path], store: Path) -> Figures:
    """All `files` ingested into one store, then `mda scan --store` once."""
    return scan(f"all {len(files)} samples in one store", inputs=files, store=store)


def la_day(root: Path = SHARED) -> Path | None:
    p = root / LA_DAY
    return p if p.exists() else None


def missed(fig: Figures, *, rate: bool) -> list[str]:
    """The targets `fig` misses (the rate only where it is meaningful: a whole day)."""
    out = []
    if rate and fig.rate > MAX_RATE:
        out.append(
            f"{fig.label}: {fig.rate:.1f} non-info alerts per 1,000 vessel-hours > {MAX_RATE:g}"
        )
    if len(fig.severe) > MAX_SEVERE:
        out.append(f"{fig.label}: {len(fig.severe)} high or critical alerts > {MAX_SEVERE}")
    return out


def evidence_text(evidence: object, width: int = 90) -> str:
    """A short one-line rendering of an alert's evidence."""
    if not isinstance(evidence, dict):
        return ""
    text = ", ".join(f"{k}={v}" for k, v in evidence.items() if not isinstance(v, dict | list))
    return text if len(text) <= width else text[: width - 3] + "..."


def report(fig: Figures) -> str:
    """The figures of one scan: volumes, alerts by type and severity, each high/critical alert."""
    lines = [
        f"{fig.label}: {fig.result.positions:,} positions, {fig.vessels:,} vessels, "
        f"{fig.vessel_hours:,.0f} vessel-hours ({fig.span_hours:,.1f} first-to-last), "
        f"{len(fig.alerts):,} alerts, {fig.non_info:,} non-info = {fig.rate:.1f} per 1,000 "
        f"vessel-hours, {len(fig.severe)} high/critical; {fig.seconds:.1f} s"
    ]
    if len(fig.alerts):
        table = fig.alerts.groupby(["type", "severity"]).size()
        lines.append("  " + ", ".join(f"{t} {s} {n:,}" for (t, s), n in table.items()))
    for a in fig.severe.itertuples():
        kind = a.evidence.get("kind", "") if isinstance(a.evidence, dict) else ""
        other = "" if pd.isna(a.other_mmsi) else f"/{a.other_mmsi}"
        name = "" if pd.isna(a.vessel_name) else a.vessel_name
        zone = "" if pd.isna(a.zone_id) else f" zone {a.zone_id}"
        lines.append(
            f"  ! {a.severity:<8} {a.type} {kind} {a.mmsi}{other} {name!r} "
            f"{a.start:%Y-%m-%d %H:%M} {a.lat:.4f},{a.lon:.4f}{zone}: {evidence_text(a.evidence)}"
        )
    return "\n".join(lines)


def run(root: Path = SHARED, out=print) -> list[str]:
    """Scan every sample, then all in one store; print the figures; return the missed targets."""
    if not root.is_dir():
        out(f"real samples not found at {root}: skipped")
        return []
    logging.getLogger("mda").setLevel(logging.ERROR)  # reader warnings are not the subject here
    files, misses = samples(root), []
    out(f"\nreal public AIS in {root} (default configuration and zones)")
    for path in files:
        fig = scan_file(path, root)
        if isinstance(fig, str):
            out(f"{path.relative_to(root)}: skipped, {fig}")
            continue
        out(report(fig))
        if path == la_day(root):
            misses += missed(fig, rate=True)
    with tempfile.TemporaryDirectory() as tmp:
        fig = scan_store(files, Path(tmp) / "store")
    out(report(fig))
    misses += missed(fig, rate=False)
    if la_day(root) is None:
        out(f"{LA_DAY} not found: the busy-port day target is not checked")
    out(
        "real-data targets met"
        if not misses
        else "real-data targets NOT met:\n  " + "\n  ".join(misses)
    )
    return misses


if __name__ == "__main__":
    sys.exit(1 if run() else 0)
