"""`mda watch` against local feeds: a TCP server replaying a simulator scenario, a UDP sender,
a followed file and stdin. Live alerts must equal one `mda scan --store` over the same data."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from mda.config import Config
from mda.scan import run_scan
from mda.simulate import simulate
from mda.sources.base import MAX_LINE_BYTES
from mda.store import Store
from mda.watch import Watcher, Window

ROOT = Path(__file__).resolve().parents[1]
#: What must be equal between a live watch and one scan of the same data.
SAME = ["id", "type", "severity", "mmsi", "other_mmsi", "start", "end", "status"]


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> dict:
    """korea-strait (36 h, a spoofing jump, an MMSI switch, STS, anchoring by a cable) as NMEA
    lines, and the alerts of one scheduled scan over all of it."""
    tmp = tmp_path_factory.mktemp("feed")
    path = tmp / "ks.nmea"
    simulate("korea-strait", seed=3).write(path)
    run_scan(inputs=[path], store=tmp / "batch")
    batch = Store(tmp / "batch", readonly=True)
    return {
        "path": path,
        "lines": path.read_text().splitlines(),
        "alerts": batch.alerts(),
        "positions": len(batch.positions()),
    }


def fast_config(cycle: float = 0.05) -> Config:
    cfg = Config()
    cfg.watch.cycle_seconds = cycle
    cfg.watch.reconnect_max_seconds = 0.5
    return cfg


class FeedServer:
    """A local TCP feed, the tests' stand-in for a public raw NMEA service: sends `lines` in
    chunks to the client, then keeps the connection open (a live feed does not end)."""

    def __init__(
        self, lines: list[str], port: int = 0, chunk: int = 400, tail: bytes = b"", pause=0.0
    ):
        self.lines, self.chunk, self.tail, self.pause = lines, chunk, tail, pause
        #: Called with the number of lines sent after each chunk (e.g. to wait for a client).
        self.pace: Callable[[int], None] | None = None
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.sent = threading.Event()
        self.hang_up = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            for i in range(0, len(self.lines), self.chunk):
                conn.sendall(("\n".join(self.lines[i : i + self.chunk]) + "\n").encode("latin-1"))
                time.sleep(self.pause)
                if self.pace is not None:
                    self.pace(min(i + self.chunk, len(self.lines)))
            conn.sendall(self.tail)
            self.sent.set()
            self.hang_up.wait(30)

    def kill(self) -> None:
        """Drop the connection and stop listening, as a feed server that dies."""
        self.hang_up.set()
        self.thread.join(5)
        self.sock.close()


def run_watcher(watcher: Watcher) -> threading.Thread:
    t = threading.Thread(target=watcher.run, daemon=True)
    t.start()
    return t


def wait_for(cond, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def drained(watcher: Watcher, lines: int) -> bool:
    """The watcher has read `lines` lines and decoded and scanned all of them."""
    return watcher.reader.stats["lines"] >= lines and watcher.summary.lines >= lines


def stop(watcher: Watcher, thread: threading.Thread) -> None:
    watcher.stop.set()
    thread.join(30)
    assert not thread.is_alive()


def same_alerts(store: Path, batch: pd.DataFrame) -> None:
    live = Store(store, readonly=True).alerts()
    cols = [*SAME, "evidence"]
    got = live[cols].sort_values("id").reset_index(drop=True)
    want = batch[cols].sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_tcp_alerts_equal_one_scan_and_arrive_once_in_order(feed, tmp_path):
    server = FeedServer(feed["lines"], chunk=300)
    out = tmp_path / "alerts.jsonl"
    with out.open("w") as fh:
        w = Watcher(
            f"tcp://127.0.0.1:{server.port}", store=tmp_path / "st", config=fast_config(),
            alerts_out=fh,
        )  # fmt: skip
        t = run_watcher(w)
        wait_for(lambda: drained(w, len(feed["lines"])))
        stop(w, t)
    server.kill()
    same_alerts(tmp_path / "st", feed["alerts"])
    assert len(Store(tmp_path / "st", readonly=True).positions()) == feed["positions"]
    lines = jsonl(out)
    assert {r["type"] for r in lines} >= {"anchoring", "encounter", "identity_conflict"}
    opened = [r["id"] for r in lines if r["event"] == "opened"]
    assert len(opened) == len(set(opened)), "an alert opened twice"
    # every stored alert was written, and its last line says what the store says
    last = {r["id"]: r for r in lines}
    stored = Store(tmp_path / "st", readonly=True).alerts(withdrawn=True)
    assert set(stored["id"]) == set(last)
    for a in stored.itertuples():
        assert last[a.id]["status"] == a.status
    updated = [r["updated"] for r in lines]
    assert updated == sorted(updated), "alert lines out of time order"


def test_reconnects_after_the_server_dies_without_duplicates_or_loss(feed, tmp_path):
    lines = feed["lines"]
    cut = len(lines) // 2
    # the first server dies in the middle of a line; its replacement replays from before the cut
    first = FeedServer(lines[:cut], tail=lines[cut][:20].encode())
    w = Watcher(f"tcp://127.0.0.1:{first.port}", store=tmp_path / "st", config=fast_config())
    t = run_watcher(w)
    wait_for(first.sent.is_set)
    wait_for(lambda: drained(w, cut))
    first.kill()
    wait_for(lambda: w.reader.stats["reconnects"] >= 1)
    time.sleep(1.0)  # the watcher retries against a closed port meanwhile
    second = FeedServer(lines[cut - 500 :], port=first.port)
    wait_for(lambda: drained(w, cut + len(lines) - (cut - 500)))
    stop(w, t)
    second.kill()
    assert w.reader.stats["partial_line"] == 1
    assert w.reader.stats["connections"] == 2
    assert len(Store(tmp_path / "st", readonly=True).positions()) == feed["positions"]
    same_alerts(tmp_path / "st", feed["alerts"])


def test_junk_half_lines_and_bursts_do_not_stop_it(feed, tmp_path):
    junk = [
        "x" * 200_000,  # longer than MAX_LINE_BYTES
        "\x00\x01\x02 binary",
        "!AIVDM,1,1,,A,not a payload,0*00",
        "!AIVDM,2,1,7,A,55NBs",  # a first half whose second never comes
        "$GPGGA,junk",
        "",
        "\\s:rx,c:notatime*00\\!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*5C",
    ]
    lines = []
    for i, line in enumerate(feed["lines"]):
        lines.append(line)
        if i % 97 == 0:
            lines.append(junk[i % len(junk)])
    server = FeedServer(lines, chunk=5000)
    w = Watcher(f"tcp://127.0.0.1:{server.port}", store=tmp_path / "st", config=fast_config())
    t = run_watcher(w)
    wait_for(lambda: drained(w, sum(0 < len(x) <= MAX_LINE_BYTES for x in lines)))
    stop(w, t)
    server.kill()
    assert w.reader.stats["line_too_long"] >= 1
    assert sum(w.summary.rejected.values()) > 0
    assert len(Store(tmp_path / "st", readonly=True).positions()) == feed["positions"]
    same_alerts(tmp_path / "st", feed["alerts"])


def test_many_small_cycles_equal_one_scan(feed, tmp_path):
    """A feed trickling in small bursts is scanned in many cycles, each a scheduled scan of about
    an hour of data: the alerts are still those of one scan over everything. The server sends a
    burst once the watcher has scanned the one before, so the cycles cut the feed at the same
    places on every run: where a cut falls can still matter (a loitering that lasts a day, cut
    just as the vessel leaves, can keep an end a few minutes late, since a view that does not
    reach back to the event's start does not shorten it)."""
    server = FeedServer(feed["lines"], chunk=1500)
    w = Watcher(f"tcp://127.0.0.1:{server.port}", store=tmp_path / "st", config=fast_config())
    server.pace = lambda sent: wait_for(lambda: w.summary.lines >= sent, 120)
    t = run_watcher(w)
    wait_for(lambda: drained(w, len(feed["lines"])), 300)
    stop(w, t)
    server.kill()
    assert w.summary.cycles >= 5
    same_alerts(tmp_path / "st", feed["alerts"])


def test_udp_datagrams(feed, tmp_path):
    lines = feed["lines"][:3000]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    w = Watcher(f"udp://127.0.0.1:{port}", store=tmp_path / "st", config=fast_config())
    t = run_watcher(w)
    wait_for(w.reader.ready.is_set)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for i in range(0, len(lines), 10):  # AIS-catcher style: a few sentences per datagram
            tx.sendto(("\r\n".join(lines[i : i + 10]) + "\r\n").encode(), ("127.0.0.1", port))
            time.sleep(0.005)  # a busy receiver's rate, well within the kernel's buffer
    wait_for(lambda: drained(w, len(lines)), 120)
    stop(w, t)
    assert w.reader.stats.get("dropped_lines", 0) == 0
    assert w.reader.stats["datagrams"] == len(range(0, len(lines), 10))
    batch = tmp_path / "batch"
    Store(batch).ingest([_write(tmp_path / "part.nmea", lines)])
    got = Store(tmp_path / "st", readonly=True).positions()
    assert len(got) == len(Store(batch, readonly=True).positions()) > 1000


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_followed_file_and_sigterm_flush(feed, tmp_path):
    """The CLI follows a growing file; SIGTERM stores what was read and exits 0."""
    path = tmp_path / "growing.nmea"
    lines = feed["lines"]
    path.write_text("\n".join(lines[:1000]) + "\n")
    out = tmp_path / "alerts.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mda", "watch", str(path), "--store", str(tmp_path / "st"),
         "--alerts-out", str(out)],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        time.sleep(3)
        with path.open("a") as fh:  # the file grows while followed
            fh.write("\n".join(lines[1000:]) + "\n")
        st = tmp_path / "st"
        wait_for(lambda: (st / "mda.sqlite").exists() and _stored(st) == feed["positions"], 120)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"{len(lines):,} lines" in err
    same_alerts(tmp_path / "st", feed["alerts"])
    assert jsonl(out)


def _stored(store: Path) -> int:
    with contextlib.suppress(Exception):
        return len(Store(store, readonly=True).positions(columns=["ts"]))
    return -1


def test_stdin_ends_with_the_input(feed, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mda", "watch", "-"],
        input="\n".join(feed["lines"]) + "\n", capture_output=True, text=True, timeout=300,
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    last = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
    kept = {i for i, r in last.items() if r["event"] != "withdrawn"}
    assert kept == set(feed["alerts"]["id"])


def test_window_is_bounded_and_flat():
    """The in-memory window keeps overlap_hours of fixes, within its per-vessel and vessel caps,
    however long the feed runs."""
    cfg = Config()
    cfg.scan.overlap_hours = 2
    cfg.watch.max_vessels = 100
    cfg.watch.max_fixes_per_vessel = 50
    w = Window(cfg)
    t0 = pd.Timestamp("2025-01-01", tz="UTC")
    sizes = []
    for minute in range(0, 72 * 60, 10):  # three days, a batch every 10 minutes
        n = 150  # 150 vessels, each with one fix per minute of the batch
        rows = pd.DataFrame(
            {
                "ts": [t0 + pd.Timedelta(minutes=minute + i % 10) for i in range(n * 10)],
                "mmsi": [200_000_000 + (i // 10) for i in range(n * 10)],
            }
        )
        rows = rows.reindex(columns=w.frame.columns)
        rows["lat"], rows["lon"] = 10.0, 10.0
        w.add(rows)
        w.trim()
        sizes.append(len(w.frame))
    assert max(sizes) <= 100 * 50
    assert w.frame["mmsi"].nunique() <= 100
    assert w.frame.groupby("mmsi").size().max() <= 50
    assert sizes[-1] == sizes[len(sizes) // 2]  # flat, not growing with the run
    assert w.dropped > 0


def test_bad_targets_are_one_line_errors(tmp_path):
    for target, message in [
        ("tcp://127.0.0.1:99999", "port must be 1-65535"),
        ("udp://nohost", "expected tcp://HOST:PORT"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "mda", "watch", target], capture_output=True, text=True,
            timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 1
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_unreachable_feed_is_retried_until_it_comes_up(feed, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    w = Watcher(f"tcp://127.0.0.1:{port}", store=tmp_path / "st", config=fast_config())
    t = run_watcher(w)
    time.sleep(1.5)  # refused several times meanwhile, with back-off
    assert w.reader.stats["connections"] == 0 and t.is_alive()
    server = FeedServer(feed["lines"][:2000], port=port)
    wait_for(lambda: drained(w, 2000))
    stop(w, t)
    server.kill()
    assert w.reader.stats["connections"] == 1
    assert len(Store(tmp_path / "st", readonly=True).positions()) > 1000
