"""Benchmark: generate the `scale` scenario as NMEA vs read it back with the project's reader.

Issue target: generating 1,000,000 positions is no slower than reading them back. Prints the time
to simulate (lanes, transponders, reception, truth) and to encode/write the NMEA, the time
`mda.read_ais` needs for the same file, and the ratio generation / reading (target <= 1).

    .venv/bin/python scripts/bench_simulate.py            # 1,000 vessels x 24 h (~1M positions)
    .venv/bin/python scripts/bench_simulate.py --quick    # 200 vessels x 24 h
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from timing import timed

from mda.simulate import simulate
from mda.sources import read_ais


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vessels", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="200 vessels (a smoke run)")
    a = ap.parse_args()
    vessels = 200 if a.quick else a.vessels

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.nmea"
        with timed() as gen:
            sim = simulate("scale", seed=a.seed, vessels=vessels, hours=a.hours)
        with timed() as enc:
            sim.write(path)
        with timed() as read:
            data = read_ais([path])
        size_mb = path.stat().st_size / 1e6

    m = sim.messages
    received = int((m["kind"] == 0).sum())
    sentences = int(m["lines"].sum())
    total, total_cpu = gen.wall + enc.wall, gen.cpu + enc.cpu
    print(f"scale scenario: {vessels:,} vessels x {a.hours:g} h, seed {a.seed}")
    print(f"  positions transmitted       {len(sim.positions):>12,}")
    print(f"  position reports written    {received:>12,} (with duplicates)")
    print(f"  sentences written           {sentences:>12,} ({size_mb:,.1f} MB)")
    print(f"  positions decoded by reader {len(data.positions):>12,}")
    print(f"{'':44}{'wall s':>8}{'CPU s':>8}")
    print(f"simulate (lanes, motion, reception, truth)  {gen.wall:8.2f}{gen.cpu:8.2f}")
    print(
        f"encode + write NMEA                         {enc.wall:8.2f}{enc.cpu:8.2f}  "
        f"({sentences / enc.wall:,.0f} sentences/s)"
    )
    print(
        f"generation total                            {total:8.2f}{total_cpu:8.2f}  "
        f"({received / total:,.0f} positions/s)"
    )
    print(
        f"baseline: mda.read_ais of the same file     {read.wall:8.2f}{read.cpu:8.2f}  "
        f"({len(data.positions) / read.wall:,.0f} positions/s)"
    )
    print(
        f"ratio generation / reading                  {total / read.wall:8.2f}"
        f"{total_cpu / read.cpu:8.2f}  (target <= 1.0)"
    )


if __name__ == "__main__":
    main()
