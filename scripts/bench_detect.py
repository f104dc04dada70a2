"""Detector quality benchmark: recall and precision on simulated scenarios, and the alert rate on
real public AIS (a flood of alerts on ordinary traffic is a defect).

    .venv/bin/python scripts/bench_detect.py            # 3 scenarios x 3 seeds, clean and
                                                        # noisy, + real samples (+ the
                                                        # tests/scenarios variants)
    .venv/bin/python scripts/bench_detect.py --quick    # 1 seed each

For each scenario and seed it simulates the traffic, writes it as NMEA, scans the file with all
detectors and matches the alerts against the planted truth (mda.detect.scoring). Each bundled
scenario is scored clean and with the noisy background of real habits (its `-noisy` variant); the
false alerts on the noisy ones are listed by type and by the habit they fell on. Time figures are
given next to a baseline timed in the same run: decoding the same file without detecting.
Then every real public sample in ../shared/data is scanned as ``mda scan FILE`` does, and all of
them together in one store (scripts/real_scan.py: volumes, alerts by type and severity, non-info
alerts per 1,000 vessel-hours, every high or critical alert).
Targets: recall 1.0 and precision >= 0.95 for every type, clean and noisy; on the real LA/Long
Beach day at most 10 non-info alerts per 1,000 vessel-hours and at most 10 high or critical
alerts; on all real samples in one store at most 10 high or critical alerts. The exit status is
1 when one is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
import real_scan  # scripts/ is on the path when this script runs
from timing import timed

from mda.config import DATA_DIR
from mda.detect.scoring import false_alerts, false_by_habit, missed_events, score
from mda.scan import run_scan
from mda.sources import read_ais

SCENARIOS = ("korea-eu", "baltic-cables", "korea-strait")
NOISY = tuple(f"{s}-noisy" for s in SCENARIOS)
#: red-team variants of the same behaviours, used by the tests (scored here too when present)
VARIANTS = Path(__file__).resolve().parents[1] / "tests" / "scenarios"


def scenarios(names, seeds: list[int], tmp: Path, verbose: bool):
    """Score every scenario and seed; print one line each; return the summed table and the false
    alerts with the habit each fell on."""
    from mda.simulate import simulate

    tables, falses = [], []
    print(f"{'scenario':<20} {'seed':>4} {'positions':>10} {'alerts':>7} {'scan s':>7} "
          f"{'decode s':>8} {'ratio':>6}   (wall | CPU)")  # fmt: skip
    for name in names:
        if isinstance(name, str) and not (DATA_DIR / "scenarios" / f"{name}.toml").exists():
            print(f"{name:<20} (scenario not bundled: skipped)")
            continue
        label = getattr(name, "stem", name)
        for seed in seeds:
            sim = simulate(name, seed=seed)
            path = sim.write(tmp / f"{label}-{seed}.nmea")
            watch = None
            if sim.watchlist is not None:
                watch = tmp / f"{label}-{seed}-watch.csv"
                sim.watchlist.to_csv(watch, index=False)
            with timed() as decode:
                read_ais([path])
            with timed() as scan:
                result = run_scan(inputs=[path], watchlist=watch, zones=sim.zones)
            print(
                f"{label:<20} {seed:>4} {result.positions:>10,} {len(result.alerts):>7,} "
                f"{scan.wall:>7.2f} {decode.wall:>8.2f} {scan.wall / decode.wall:>5.1f}x | "
                f"{scan.cpu:.2f} {decode.cpu:.2f} {scan.cpu / decode.cpu:.1f}x"
            )
            tables.append(score(result.alerts, sim.truth))
            falses.append(false_by_habit(result.alerts, sim.truth, sim.must_not_alert))
            if verbose:
                _details(result.alerts, sim.truth)
    if not tables:
        return pd.DataFrame(), pd.DataFrame()
    total = pd.concat(tables).groupby("type", as_index=False).sum(numeric_only=True)
    total["precision"] = (total["alerts"] - total["false"]) / total["alerts"].where(
        total["alerts"] > 0
    )
    total["recall"] = total["found"] / total["planted"].where(total["planted"] > 0)
    return total.fillna({"precision": 1.0, "recall": 1.0}), pd.concat(falses)


def _missed_targets(total: pd.DataFrame) -> list[str]:
    bad = total[(total["recall"] < 1.0) | (total["precision"] < 0.95)]
    return bad["type"].tolist()


def _side_by_side(clean: pd.DataFrame, noisy: pd.DataFrame) -> None:
    """Per type: planted, false, precision and recall, clean next to noisy."""
    cols = ["type", "planted", "found", "false", "precision", "recall"]
    both = clean[cols].merge(noisy[cols], on="type", how="outer", suffixes=(" clean", " noisy"))
    print("\nper alert type, clean | noisy background (targets: recall 1.0, precision >= 0.95)")
    print(both.to_string(index=False, float_format=lambda x: f"{x:.3f}", na_rep="-"))


def _by_habit(false: pd.DataFrame) -> None:
    """False alerts on the noisy scenarios by type and the habit they fell on."""
    if false.empty:
        print("\nno false alerts on the noisy scenarios")
        return
    table = false.groupby(["type", "habit"]).size().unstack(fill_value=0)
    print("\nfalse alerts on the noisy scenarios, by type and by the habit they fell on")
    print(table.to_string())


def _details(alerts: pd.DataFrame, truth) -> None:
    missed = missed_events(alerts, truth)
    false = false_alerts(alerts, truth)
    cols = ["type", "mmsi", "other_mmsi", "start", "end"]
    if len(missed):
        print("  missed:\n" + missed[[*cols, "zone_id"]].to_string(index=False))
    if len(false):
        print("  false:\n" + false[[*cols, "zone_id", "evidence"]].to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one seed per scenario")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--verbose", action="store_true", help="list missed and false alerts")
    ap.add_argument("--no-real", action="store_true", help="skip the real samples")
    a = ap.parse_args(argv)
    seeds = a.seeds[:1] if a.quick else a.seeds
    variants = sorted(VARIANTS.glob("*.toml")) if VARIANTS.is_dir() else []
    with tempfile.TemporaryDirectory() as tmp:
        clean, _ = scenarios([*SCENARIOS, *variants], seeds, Path(tmp), a.verbose)
        noisy, false = scenarios(list(NOISY), seeds, Path(tmp), a.verbose)
    missed = []
    if len(clean) and len(noisy):
        _side_by_side(clean, noisy)
        _by_habit(false)
        missed = [f"{t} (clean)" for t in _missed_targets(clean)]
        missed += [f"{t} (noisy)" for t in _missed_targets(noisy)]
        print("targets met" if not missed else f"targets NOT met for: {', '.join(missed)}")
    if not a.no_real:
        missed += real_scan.run()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
