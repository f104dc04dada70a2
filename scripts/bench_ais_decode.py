"""Payload decoding alone: mda.ais.decode and the NMEA tables step against a bare pyais loop.

The file's lines are framed and reassembled once, untimed (mda.sources.nmea); then, on the
same messages, best of --repeat runs each:

  (a) baseline: ``MSG_CLASS[type].from_vector(bit_vector(payload, fill))`` for every message;
  (b) ``mda.ais.decode``: every field of every message of types 1-27;
  (c) ``mda.ais.decode`` of the position fields of types 1, 2, 3 and 18 (what ingest needs);
  (d) ``mda.sources.nmea.decoding.decode``: messages into the AisData tables.

Wall and CPU seconds are printed side by side (the machine may be shared), with each ratio to
(a) in CPU time.

  .venv/bin/python scripts/bench_ais_decode.py traffic.nmea
  .venv/bin/python scripts/bench_ais_decode.py --scenario korea-eu   # simulate it first
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

from mda import ais
from mda.sources.base import IngestReport
from mda.sources.nmea import decoding
from mda.sources.nmea.framing import Framer
from mda.sources.nmea.reassembly import Messages, Reassembler

POSITION_FIELDS = frozenset({"mmsi", "lat", "lon", "speed", "course", "heading", "status"})


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the run with the least CPU time."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        run = (time.perf_counter() - w, time.process_time() - c)
        best = min(best, run, key=lambda x: x[1])
    return best


def messages(path: Path) -> Messages:
    report = IngestReport()
    lines = path.read_text("latin-1").splitlines()
    return Reassembler().assemble(Framer(None).scan(lines, report), report)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", nargs="?", type=Path, help="NMEA file")
    ap.add_argument("--scenario", help="simulate this scenario and decode its output")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file
        if args.scenario:
            from mda.simulate import simulate

            path = simulate(args.scenario).write(Path(tmp) / "traffic.nmea")
        if path is None:
            ap.error("give an NMEA file or --scenario")
        m = messages(path)
    payloads, fills = m.payload.to_pylist(), m.fill.tolist()

    def bare() -> None:
        for p, f in zip(payloads, fills, strict=True):
            bv = bit_vector(p.encode(), f)
            with contextlib.suppress(Exception):  # the baseline skips what does not decode
                MSG_CLASS[bv.get(0, 6)].from_vector(bv)

    def every_field() -> object:
        return ais.decode(m.payload, m.fill)

    def positions() -> object:
        return ais.decode(m.payload, m.fill, (1, 2, 3, 18), POSITION_FIELDS)

    def tables() -> object:
        return decoding.decode(m, "bench", IngestReport())

    n = len(m)
    n_pos = int(np.isin(ais.message_types(m.payload), (1, 2, 3, 18)).sum())
    base = timed(bare, args.repeat)
    runs = [
        ("(a) bare pyais loop", n, base),
        ("(b) mda.ais.decode, every field", n, timed(every_field, args.repeat)),
        ("(c) mda.ais.decode, positions of 1/2/3/18", n_pos, timed(positions, args.repeat)),
        ("(d) nmea decoding into tables", n, timed(tables, args.repeat)),
    ]
    print(f"{path.name}: {n:,} messages, {n_pos:,} position reports of types 1/2/3/18")
    for label, k, (wall, cpu) in runs:
        ratio = (base[1] / n) / (cpu / k)
        print(
            f"{label:<44} wall {wall:7.3f} s {k / wall:>12,.0f}/s   "
            f"cpu {cpu:7.3f} s {k / cpu:>12,.0f}/s   {ratio:5.1f}x (a) per message"
        )


if __name__ == "__main__":
    main()
