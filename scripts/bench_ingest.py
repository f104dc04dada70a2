"""Ingest throughput and peak memory, against pyais's own decoding timed in the same run.

Inputs, built from real samples:

* the DMA stream: dma_aislib_stream_example.txt (28 s of the Danish network, every sentence
  after a Gatehouse $PGHP time line, all message types) replicated with each copy's times
  shifted;
* position reports: the single-sentence type 1/2/3/18 sentences of that sample, each behind a
  NMEA 4.0 tag block with its receiver time (``\\c:<ms>*hh\\!BSVDM,...``), the same copies;
* a DMA CSV built from the real ferry track with distinct MMSIs per copy.

For each NMEA input:

  (a) baseline: ``for msg in pyais.FileReaderStream(path): msg.decode()`` -- pyais reads the
      file, checks checksums, joins fragments and decodes every message to objects; nothing is
      kept or converted to tables.
  (b) mda: ``Store(tmp).ingest(path)`` (decode, tables, Parquet) when mda.store exists, else
      ``read_ais(path)`` (decode to in-memory tables); printed with its ratio to (a), by CPU
      seconds (time.process_time: a second thread would not count as speed) and by wall time.

  (c) mda on the DMA CSV, rows/s.

Each phase runs in its own subprocess so its peak RSS (getrusage maxrss) is its own; its clock
starts after its imports (pandas and pyarrow take ~0.4 s to import, a start-up cost, not ingest).
Targets (issue 13): (b) >= 8x (a), and >= 1,000,000 position messages/s on one core.

  .venv/bin/python scripts/bench_ingest.py            # ~500k sentences, 2M CSV rows
  .venv/bin/python scripts/bench_ingest.py --quick    # ~100k sentences, 200k CSV rows
  .venv/bin/python scripts/bench_ingest.py --nmea-only --profile   # + cProfile top of (b)
  .venv/bin/python scripts/bench_ingest.py --file my.nmea
  .venv/bin/python scripts/bench_ingest.py --memory   # ~1 GB NMEA file: peak RSS of
                                                      # iter_ais alone, then of (b)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
NMEA_SAMPLE = DATA / "nmea" / "dma_aislib_stream_example.txt"
CSV_SAMPLE = DATA / "positions" / "dma_dipaal_ferry_ane_laesoe_2022-10-15.csv"
SENTENCES_PER_COPY = 4482
ROWS_PER_COPY = 735


def _has_store() -> bool:
    sys.path.insert(0, str(ROOT))
    return importlib.util.find_spec("mda.store") is not None


def build_nmea(path: Path, copies: int) -> None:
    """Replicate the DMA sample `copies` times, shifting every $PGHP time by 30 s per copy."""
    lines = NMEA_SAMPLE.read_text("latin-1").splitlines()
    stamps = {}
    for i, line in enumerate(lines):
        if line.startswith("$PGHP,1,"):
            f = line.split(",")
            y, mo, d, h, mi, s, ms = (int(v) for v in f[2:9])
            stamps[i] = (f, dt.datetime(y, mo, d, h, mi, s, ms * 1000))
    with open(path, "w", encoding="latin-1", newline="\n") as out:
        for k in range(copies):
            shift = dt.timedelta(seconds=30 * k)
            block = list(lines)
            for i, (f, t) in stamps.items():
                t = t + shift
                f = [
                    *f[:2],
                    str(t.year),
                    str(t.month),
                    str(t.day),
                    str(t.hour),
                    str(t.minute),
                    str(t.second),
                    str(t.microsecond // 1000),
                    *f[9:],
                ]
                block[i] = ",".join(f)
            out.write("\n".join(block) + "\n")


def build_positions(path: Path, copies: int) -> None:
    """The sample's single-sentence position reports, each behind a tag block with its time:
    copies 30 s apart, sentences 6 ms apart within a copy."""
    start = dt.datetime(2010, 6, 11, 11, 46, tzinfo=dt.UTC).timestamp()
    sentences = [
        line
        for line in NMEA_SAMPLE.read_text("latin-1").splitlines()
        if line[6:13] == ",1,1,,A" or line[6:13] == ",1,1,,B"
        if line.split(",")[5][:1] in ("1", "2", "3", "B")
    ]
    with open(path, "w", encoding="latin-1", newline="\n") as out:
        for k in range(copies):
            lines = []
            for i, sentence in enumerate(sentences):
                tag = f"c:{round((start + 30 * k + 0.006 * i) * 1000)}"
                lines.append(f"\\{tag}*{_checksum(tag)}\\{sentence}\n")
            out.write("".join(lines))


def _checksum(text: str) -> str:
    x = 0
    for ch in text.encode():
        x ^= ch
    return f"{x:02X}"


def build_csv(path: Path, copies: int) -> None:
    """Replicate the ferry CSV with a distinct MMSI per copy: one UTC day, like a DMA daily file."""
    header, body = CSV_SAMPLE.read_text("utf-8").split("\n", 1)
    body = body.rstrip("\n") + "\n"
    with open(path, "w", encoding="utf-8") as out:
        out.write(header + "\n")
        for k in range(copies):
            out.write(body.replace("219000734", str(230000000 + k)))


def child(kind: str, path: str, profile: bool) -> None:
    """Run one phase in this process and print its figures as JSON (after the profile)."""
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
    if kind == "pyais":
        import pyais

        t0, c0 = time.perf_counter(), time.process_time()
        n = 0
        for msg in pyais.FileReaderStream(path):
            try:
                msg.decode()
                n += 1
            except Exception:  # the same messages mda rejects as decode errors
                pass
        figures = {"messages": n}
    else:
        sys.path.insert(0, str(ROOT))
        from mda.sources import iter_ais, read_ais
        from mda.sources.base import IngestReport

        store = importlib.import_module("mda.store") if _has_store() else None
        t0, c0 = time.perf_counter(), time.process_time()
        if prof is not None:
            prof.enable()
        if kind == "stream":
            report = IngestReport()
            for chunk in iter_ais(path):
                report.merge(chunk.report)
            what = "iter_ais (decode only, chunks dropped)"
        elif store is not None:
            with tempfile.TemporaryDirectory() as tmp:
                report = store.Store(Path(tmp) / "store").ingest(path)
            what = "Store.ingest"
        else:
            report = read_ais(path).report
            what = "read_ais (no store yet)"
        figures = {
            "messages": sum(report.messages.values()),
            "positions": report.positions,
            "rows": report.positions + report.static_reports,
            "what": what,
        }
    figures["seconds"] = time.perf_counter() - t0
    figures["cpu"] = time.process_time() - c0
    if prof is not None:
        import pstats

        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def run(kind: str, path: Path, profile: bool = False) -> dict:
    args = [sys.executable, __file__, "--child", kind, str(path)]
    out = subprocess.run(args + ["--profile"] * profile, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{kind} on {path.name} failed:\n{out.stderr}")
    if profile:
        print(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(label: str, path: Path, profile: bool) -> None:
    """Time (a) pyais and (b) mda on one NMEA file and print both with their ratio."""
    print(f"{label}: {path.stat().st_size / 2**20:.0f} MB")
    base = run("pyais", path)
    ours = run("mda", path, profile)
    for name, r in (
        ("(a) pyais FileReaderStream + decode", base),
        (f"(b) mda {ours['what']}", ours),
    ):
        extra = f" ({r['positions']:,} positions)" if "positions" in r else ""
        print(
            f"  {name}: {r['messages']:,} messages{extra}; wall {r['seconds']:.2f} s = "
            f"{r['messages'] / r['seconds']:,.0f} msg/s; CPU {r['cpu']:.2f} s = "
            f"{r['messages'] / r['cpu']:,.0f} msg/s; peak RSS {r['rss_mb']:,.0f} MB"
        )
    by_cpu = (ours["messages"] / ours["cpu"]) / (base["messages"] / base["cpu"])
    by_wall = (ours["messages"] / ours["seconds"]) / (base["messages"] / base["seconds"])
    print(f"  ratio (b)/(a): {by_cpu:.2f}x by CPU, {by_wall:.2f}x by wall (target >= 8x)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller inputs (~1 minute)")
    p.add_argument("--file", type=Path, help="time this NMEA file instead of the built one")
    p.add_argument("--memory", action="store_true", help="peak RSS of ingesting a ~1 GB file")
    p.add_argument("--nmea-only", action="store_true", help="leave out the CSV (c)")
    p.add_argument("--profile", action="store_true", help="cProfile top lines of (b)")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(*a.child, a.profile)
        return
    if not NMEA_SAMPLE.exists():
        sys.exit(f"real samples not found under {DATA}")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        tmp = Path(tmp)
        if a.memory:
            big = tmp / "big.nmea"
            copies = (1 << 30) // NMEA_SAMPLE.stat().st_size
            build_nmea(big, copies)
            print(f"memory: {big.stat().st_size / 2**30:.2f} GB, {copies} copies of the sample")
            for kind in ("stream", "mda"):
                r = run(kind, big)
                print(
                    f"  {r['what']}: {r['messages']:,} messages; wall {r['seconds']:.1f} s, "
                    f"CPU {r['cpu']:.1f} s ({r['messages'] / r['cpu']:,.0f} msg/s by CPU); "
                    f"peak RSS {r['rss_mb']:,.0f} MB (target < 1024 MB)"
                )
            return
        copies = 25 if a.quick else 112
        if a.file is not None:
            compare(f"NMEA input {a.file}", a.file, a.profile)
        else:
            nmea = tmp / "dma_stream_x.nmea"
            build_nmea(nmea, copies)
            compare(
                f"DMA stream: {copies} shifted copies of {NMEA_SAMPLE.name}, "
                f"~{copies * SENTENCES_PER_COPY:,} sentences",
                nmea,
                a.profile,
            )
            nmea.unlink()
            positions = tmp / "positions_x.nmea"
            build_positions(positions, copies)
            compare(
                f"position reports: tag-block timed type 1/2/3/18 sentences, {copies} copies",
                positions,
                a.profile,
            )
            positions.unlink()
        if a.nmea_only:
            return
        csv_copies = 272 if a.quick else 2720
        csv_path = tmp / "dma_ferry_x.csv"
        build_csv(csv_path, csv_copies)
        c = run("mda", csv_path)
        print(
            f"(c) mda {c['what']} of a DMA CSV ({csv_copies * ROWS_PER_COPY:,} rows, "
            f"{csv_path.stat().st_size / 2**20:.0f} MB): {c['rows']:,} rows; wall "
            f"{c['seconds']:.2f} s = {c['rows'] / c['seconds']:,.0f} rows/s; CPU {c['cpu']:.2f} s "
            f"= {c['rows'] / c['cpu']:,.0f} rows/s; peak RSS {c['rss_mb']:,.0f} MB"
        )
        os.sync()


if __name__ == "__main__":
    main()
