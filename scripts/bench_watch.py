"""Benchmark `mda watch`: a simulator scenario replayed over local TCP as fast as the socket
takes it, all detectors on.

Prints sustained messages/s (lines read, decoded, stored and scanned per second of the run),
memory (RSS at start, peak and end of the replay, and the in-memory window), and the latency
from each alert's triggering message (the first line whose time reaches the alert's end when it
was first written) leaving the feed server to its JSON line being written. Baseline, timed in
the same run: decoding the same lines with `read_ais` alone (no store, no detectors). With
`--rate`, lines are sent at that rate (a national feed sends a few thousand a second), so the
latency is the watch's own rather than that of a backlog.

    .venv/bin/python scripts/bench_watch.py [--scenario korea-eu] [--vessels N] [--hours H]
                                            [--rate LINES_PER_S]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mda.config import Config
from mda.simulate import simulate
from mda.sources import read_ais
from mda.watch import Watcher

CHUNK = 500
_TAG_TIME = re.compile(r"\\[^\\]*?c:(\d{9,13})")


def serve(path: str, port_q, times_path: str, rate: float) -> None:
    """The feed server (a child process): send every line as fast as the socket takes it, or
    at `rate` lines/s when given, recording when each chunk left."""
    lines = Path(path).read_bytes().splitlines(keepends=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port_q.put(sock.getsockname()[1])
    conn, _ = sock.accept()
    sent = []
    start = time.time()
    for i in range(0, len(lines), CHUNK):
        if rate:
            time.sleep(max(0.0, start + i / rate - time.time()))
        conn.sendall(b"".join(lines[i : i + CHUNK]))
        sent.append(time.time())
    Path(times_path).write_text(json.dumps(sent))
    time.sleep(3600)


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def line_times(lines: list[str]) -> np.ndarray:
    """Tag-block time (epoch s) of each line, carried forward to lines without one."""
    t = [float(m.group(1)) if (m := _TAG_TIME.match(x)) else np.nan for x in lines]
    return pd.Series(t).ffill().to_numpy()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="korea-eu")
    ap.add_argument("--vessels", type=int)
    ap.add_argument("--hours", type=float)
    ap.add_argument("--rate", type=float, default=0, help="lines/s sent (default: flat out)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    path = tmp / "feed.nmea"
    simulate(a.scenario, seed=1, vessels=a.vessels, hours=a.hours).write(path)
    lines = path.read_text(encoding="latin-1").splitlines()
    print(f"scenario {a.scenario}: {len(lines):,} lines")

    t0, c0 = time.perf_counter(), time.process_time()
    base = read_ais(path)
    decode_s, decode_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"baseline read_ais: {len(lines) / decode_s:,.0f} lines/s ({len(base.positions):,} pos; "
        f"{decode_s:.2f} s wall, {decode_cpu:.2f} s CPU)"
    )

    ctx = multiprocessing.get_context("fork")
    port_q = ctx.Queue()
    server = ctx.Process(target=serve, args=(str(path), port_q, str(tmp / "sent.json"), a.rate))
    server.start()
    port = port_q.get(timeout=30)
    cfg = Config()
    out = (tmp / "alerts.jsonl").open("w")
    w = Watcher(f"tcp://127.0.0.1:{port}", store=tmp / "store", config=cfg, alerts_out=out)
    arrivals: dict[str, float] = {}
    rss = [rss_mb()]
    done = threading.Event()

    def watch_lines() -> None:  # when each alert's first line was written
        seen = 0
        while True:
            ending = done.is_set()  # one more read once the run ended: its last lines
            with open(tmp / "alerts.jsonl") as fh:
                got = fh.read().split("\n")[:-1]  # whole lines only
            now = time.time()
            for line in got[seen:]:
                rec = json.loads(line)
                arrivals.setdefault(rec["id"], now)
            seen = len(got)
            rss.append(rss_mb())
            if ending:
                return
            time.sleep(0.01)

    runner = threading.Thread(target=w.run, daemon=True)
    poller = threading.Thread(target=watch_lines, daemon=True)
    start, cpu0 = time.time(), time.process_time()
    runner.start()
    poller.start()
    while w.summary.lines < len(lines):
        time.sleep(0.01)
    end, cpu = time.time(), time.process_time() - cpu0
    w.stop.set()
    runner.join(60)
    time.sleep(0.1)
    done.set()
    poller.join()
    out.close()
    server.kill()

    rate = len(lines) / (end - start)
    print(
        f"mda watch: {rate:,.0f} messages/s sustained over {end - start:.2f} s wall, "
        f"{cpu:.2f} s CPU (this process; the feed server is another) "
        f"({w.summary.cycles} cycles, {w.summary.positions_stored:,} positions stored)"
    )
    print(f"ratio to decoding alone: {rate / (len(lines) / decode_s):.2f}")
    print(
        f"memory: RSS {rss[0]:.0f} MB at start, peak {max(rss):.0f} MB, "
        f"{rss[-1]:.0f} MB at end; window {len(w.window.frame):,} fixes"
    )

    sent = np.array(json.loads((tmp / "sent.json").read_text()))
    times = line_times(lines)
    first_written = {}
    for line in (tmp / "alerts.jsonl").read_text().splitlines():
        rec = json.loads(line)
        first_written.setdefault(rec["id"], rec)
    lat = []
    for i, rec in first_written.items():
        end_t = pd.Timestamp(rec["end"]).timestamp()
        k = int(np.searchsorted(times, end_t, side="left"))
        k = min(k, len(lines) - 1)
        lat.append(arrivals[i] - sent[min(k // CHUNK, len(sent) - 1)])
    lat_a = np.array(lat)
    if len(lat_a):
        print(
            f"alert latency: {len(lat_a)} alerts, median {np.median(lat_a):.2f} s, "
            f"p95 {np.percentile(lat_a, 95):.2f} s, max {lat_a.max():.2f} s"
        )
    ok = rate >= 50_000 and (not len(lat_a) or np.percentile(lat_a, 95) < 1.0)
    print("targets (>= 50,000 msg/s, p95 latency < 1 s):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
