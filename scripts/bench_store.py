"""The store's side of an ingest: Store.ingest against the reader alone, timed in the same run.

Inputs are those of bench_ingest (the real DMA NMEA stream replicated, times shifted) and
bench_csv (a synthetic DMA CSV day). For each, the baseline is the reader alone
(``mda.sources.iter_ais``: decode to tables), then ``Store.ingest`` of the same file into a
fresh store (decode, dedupe, Parquet parts, catalog); the difference is what the store costs.
CPU seconds (time.process_time, every thread) are printed next to wall seconds: the store writes
a chunk on a second thread while the next one decodes, so wall time alone would flatter it.
Each is run `--repeat` times in turns and the least time kept (the machine may be shared).

  .venv/bin/python scripts/bench_store.py            # 100 NMEA copies (~450k sentences), 1M rows
  .venv/bin/python scripts/bench_store.py --quick    # 20 copies, 200k rows
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_csv  # sibling scripts: their input builders
import bench_ingest

from mda.sources import iter_ais
from mda.store import Store


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def read_only(path: Path) -> tuple[float, float, int, int]:
    """Wall and CPU seconds of the reader alone over `path`, its messages and positions."""
    w0, c0 = clocks()
    messages = positions = 0
    for chunk in iter_ais(path):
        messages += sum(chunk.report.messages.values())
        positions += len(chunk.positions)
    w1, c1 = clocks()
    return w1 - w0, c1 - c0, messages, positions


def ingest(path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of Store.ingest of `path` into a fresh store, rows stored."""
    with tempfile.TemporaryDirectory() as tmp:
        w0, c0 = clocks()
        with Store(Path(tmp) / "s") as st:
            stored = st.ingest([path]).stored or 0
        w1, c1 = clocks()
    return w1 - w0, c1 - c0, stored


def measure(path: Path, label: str, repeat: int) -> None:
    """Print the reader's and the ingest's wall and CPU seconds for `path` (the least of
    `repeat` runs each, taken in turns), and the store's share."""
    reads, ingests = [], []
    for _ in range(repeat):
        reads.append(read_only(path))
        ingests.append(ingest(path))
    read_wall, read_cpu = min(r[0] for r in reads), min(r[1] for r in reads)
    _, _, messages, positions = reads[0]
    wall, cpu, stored = min(ingests[0], *ingests[1:], key=lambda r: r[1])
    store_cpu = max(cpu - read_cpu, 1e-9)
    print(f"{label}: {messages:,} messages, {positions:,} positions ({stored:,} stored)")
    print(
        f"  reader alone (baseline) {read_wall:6.2f} s wall {read_cpu:6.2f} s cpu  "
        f"{positions / read_cpu:>11,.0f} positions/s cpu"
    )
    print(
        f"  Store.ingest            {wall:6.2f} s wall {cpu:6.2f} s cpu  "
        f"{positions / cpu:>11,.0f} positions/s cpu  ({cpu / read_cpu:.2f}x the reader's cpu)"
    )
    print(
        f"  the store's share       {'':6} {'':6} {store_cpu:6.2f} s cpu  "
        f"{positions / store_cpu:>11,.0f} positions/s cpu"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 NMEA copies, 200,000 CSV rows")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each, the least taken")
    args = ap.parse_args()
    copies, rows = (20, 200_000) if args.quick else (100, 1_000_000)
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        nmea = Path(tmp) / "dma-stream.nmea"
        bench_ingest.build_nmea(nmea, copies)
        measure(nmea, f"NMEA ({copies} copies of the DMA stream)", args.repeat)
        nmea.unlink()
        csv = Path(tmp) / "aisdk-synthetic.csv"
        bench_csv.synthesise(csv, rows)
        measure(csv, f"DMA CSV ({rows:,} rows)", args.repeat)


if __name__ == "__main__":
    main()
