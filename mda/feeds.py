"""Live AIS feeds read line by line: TCP, UDP, a followed file, stdin (for `mda watch`).

A feed is ``tcp://HOST:PORT`` (a public raw NMEA service), ``udp://BIND:PORT`` (what receivers
such as AIS-catcher forward), a FILE followed like ``tail -f`` (across rotation and truncation)
or ``-`` (stdin, until its end). A `Reader` thread splits the bytes into lines and queues them,
each chunk with its receive time, in a `LineBuffer` bounded by a number of lines: a TCP or file
reader then waits (the sender is slowed by TCP itself), a UDP reader drops the datagram and
counts it. A line longer than MAX_LINE_BYTES, and the partial line a dropped connection leaves,
are counted and skipped: the lines around them are kept. A TCP feed that drops or cannot be
reached is reconnected with doubling back-off, each attempt logged on stderr.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mda.errors import MdaError
from mda.sources.base import MAX_LINE_BYTES

log = logging.getLogger("mda")

#: Bytes asked of a socket or file per read.
READ_BYTES = 1 << 16
#: Receive buffer asked for a UDP feed (bytes).
UDP_BUFFER_BYTES = 8 << 20
#: First wait before reconnecting to a TCP feed (s); it doubles up to reconnect_max_seconds.
FIRST_BACKOFF_S = 0.5
#: How often a followed file is polled for new data, and a blocked reader checks for stop (s).
POLL_S = 0.2

_URL = re.compile(r"(tcp|udp)://(\[[0-9a-fA-F:.]+\]|[^:/\[\]\s]+):(\d{1,5})/?")


@dataclass(frozen=True)
class Target:
    """Where a feed comes from: kind is tcp, udp, file or stdin."""

    kind: str
    host: str = ""
    port: int = 0
    path: str = ""

    def __str__(self) -> str:
        if self.kind in ("tcp", "udp"):
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"{self.kind}://{host}:{self.port}"
        return "stdin" if self.kind == "stdin" else self.path


def parse_target(text: str) -> Target:
    """The feed named on the command line; MdaError for a malformed URL."""
    if text == "-":
        return Target("stdin")
    m = _URL.fullmatch(text)
    if m:
        port = int(m.group(3))
        if not 0 < port < 65536:
            raise MdaError(f"{text}: port must be 1-65535")
        return Target(m.group(1), m.group(2).strip("[]"), port)
    if re.match(r"(tcp|udp)://", text):
        raise MdaError(f"{text[:80]}: expected tcp://HOST:PORT or udp://BIND:PORT")
    return Target("file", path=text)


class LineBuffer:
    """Chunks of (receive time, lines) between the reader thread and the watch, holding at
    most `max_lines` lines (one chunk more when a single chunk is larger)."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self._chunks: collections.deque[tuple[float, list[str]]] = collections.deque()
        self._lines = 0
        self._cond = threading.Condition()

    def put(self, received: float, lines: list[str], *, wait: bool, stop: threading.Event) -> bool:
        """Queue one chunk; with `wait`, block while full (until `stop`), else drop it: False
        when it was not queued."""
        with self._cond:
            while self._lines and self._lines + len(lines) > self.max_lines:
                if not wait or stop.is_set():
                    return False
                self._cond.wait(POLL_S)
            self._chunks.append((received, lines))
            self._lines += len(lines)
            self._cond.notify_all()
        return True

    def take(self, timeout: float) -> list[tuple[float, list[str]]]:
        """Every chunk queued, waiting up to `timeout` seconds for the first one."""
        with self._cond:
            if not self._chunks and timeout > 0:
                self._cond.wait(timeout)
            chunks = list(self._chunks)
            self._chunks.clear()
            self._lines = 0
            self._cond.notify_all()
        return chunks

    def wake(self) -> None:
        """Wake a `take` that is waiting (the reader ended, or the watch is stopping)."""
        with self._cond:
            self._cond.notify_all()


class Splitter:
    """Bytes to whole lines (text, latin-1, no line ends), keeping an unfinished line for the
    next block; lines longer than MAX_LINE_BYTES are skipped and counted in `stats`."""

    def __init__(self, stats: Counter) -> None:
        self.stats = stats
        self._rest = b""
        self._skipping = False  # inside a line already too long

    def feed(self, data: bytes) -> list[str]:
        parts = (self._rest + data).split(b"\n")
        self._rest = parts.pop()
        lines = []
        for i, raw in enumerate(parts):
            if (i == 0 and self._skipping) or len(raw) > MAX_LINE_BYTES:
                self.stats["line_too_long"] += 1
            elif raw.strip():
                lines.append(raw.rstrip(b"\r").decode("latin-1"))
            self._skipping = False
        if len(self._rest) > MAX_LINE_BYTES:
            self._skipping = True
            self._rest = b""
        return lines

    def end(self, *, complete: bool) -> list[str]:
        """The unfinished line: returned when the input says it is whole (a datagram, the end
        of stdin), else dropped and counted as ``partial_line`` (a connection that broke)."""
        rest, self._rest = self._rest, b""
        skipping, self._skipping = self._skipping, False
        if skipping:
            self.stats["line_too_long"] += 1
            return []
        if not rest.strip():
            return []
        if complete:
            return [rest.rstrip(b"\r").decode("latin-1")]
        self.stats["partial_line"] += 1
        return []


class Reader(threading.Thread):
    """Reads one feed into `buffer` until `stop` is set (or stdin ends): see the module doc."""

    def __init__(
        self, target: Target, buffer: LineBuffer, stop: threading.Event, backoff_max: float
    ) -> None:
        super().__init__(name=f"mda-feed {target}", daemon=True)
        self.target, self.buffer, self.stop = target, buffer, stop
        self.backoff_max = backoff_max
        self.stats: Counter = Counter()
        self.done = threading.Event()
        self.ready = threading.Event()  # listening (UDP) or the file opened: for tests, logs
        self.error: str | None = None
        self._splitter = Splitter(self.stats)

    def run(self) -> None:
        read = {"tcp": self._tcp, "udp": self._udp, "file": self._follow, "stdin": self._stdin}
        try:
            read[self.target.kind]()
        except MdaError as e:
            self.error = str(e)
        except OSError as e:
            self.error = f"{self.target}: {e.strerror or e}"
        finally:
            self.done.set()
            self.buffer.wake()

    def _put(self, lines: list[str], *, wait: bool = True) -> None:
        if not lines:
            return
        if self.buffer.put(time.time(), lines, wait=wait, stop=self.stop):
            self.stats["lines"] += len(lines)
        else:
            self.stats["dropped_lines"] += len(lines)

    def _tcp(self) -> None:
        t = self.target
        delay = FIRST_BACKOFF_S
        while not self.stop.is_set():
            try:
                sock = socket.create_connection((t.host, t.port), timeout=5)
            except OSError as e:
                log.warning("%s: cannot connect (%s); retrying in %.1f s", t, _why(e), delay)
                self.stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            log.warning("%s: connected", t)
            self.stats["connections"] += 1
            why = self._receive(sock)
            self._splitter.end(complete=False)
            if self.stop.is_set():
                break
            self.stats["reconnects"] += 1
            if why is None:  # data came: the feed was up, start the back-off again
                delay = FIRST_BACKOFF_S
                why = "closed by the feed"
            log.warning("%s: connection lost (%s); reconnecting in %.1f s", t, why, delay)
            self.stop.wait(delay)
            delay = min(delay * 2, self.backoff_max)

    def _receive(self, sock: socket.socket) -> str | None:
        """Read a connected socket until it ends: None when data came and it closed cleanly,
        else why it failed."""
        sock.settimeout(POLL_S)
        got = False
        with sock:
            while not self.stop.is_set():
                try:
                    data = sock.recv(READ_BYTES)
                except TimeoutError:
                    continue
                except OSError as e:
                    return _why(e)
                if not data:
                    return None if got else "closed by the feed before sending anything"
                got = True
                self.stats["bytes"] += len(data)
                self._put(self._splitter.feed(data))
        return None

    def _udp(self) -> None:
        t = self.target
        family = socket.AF_INET6 if ":" in t.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # datagrams arriving while a cycle holds the interpreter wait in the kernel: ask
            # for a large buffer (the kernel caps it at net.core.rmem_max)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER_BYTES)
            try:
                sock.bind((t.host, t.port))
            except OSError as e:
                raise MdaError(f"{t}: cannot listen: {_why(e)}") from None
            log.warning("%s: listening", t)
            self.ready.set()
            sock.settimeout(POLL_S)
            while not self.stop.is_set():
                try:
                    data = sock.recv(READ_BYTES)
                except TimeoutError:
                    continue
                self.stats["bytes"] += len(data)
                self.stats["datagrams"] += 1
                lines = self._splitter.feed(data) + self._splitter.end(complete=True)
                self._put(lines, wait=False)

    def _follow(self) -> None:
        """Read a file from its start and follow it; reopen it when it is replaced (rotation)
        or cut shorter (truncation)."""
        path = Path(self.target.path)
        fh = None
        said_missing = False
        try:
            while not self.stop.is_set():
                if fh is None:
                    try:
                        fh = path.open("rb")
                    except FileNotFoundError:
                        if not said_missing:
                            log.warning("%s: not there yet; waiting for it", path)
                            said_missing = True
                        self.stop.wait(POLL_S)
                        continue
                    except OSError as e:
                        raise MdaError(f"{path}: cannot read: {e.strerror}") from None
                data = fh.read(READ_BYTES)
                if data:
                    self.stats["bytes"] += len(data)
                    self._put(self._splitter.feed(data))
                    continue
                if _replaced(path, fh):
                    log.warning("%s: replaced or truncated; reading it from its start", path)
                    self._put(self._splitter.end(complete=True))
                    fh.close()
                    fh = None
                    continue
                self.stop.wait(POLL_S)
        finally:
            if fh is not None:
                fh.close()

    def _stdin(self) -> None:
        fd = sys.stdin.buffer.fileno()
        while not self.stop.is_set():
            data = os.read(fd, READ_BYTES)
            if not data:
                break
            self.stats["bytes"] += len(data)
            self._put(self._splitter.feed(data))
        self._put(self._splitter.end(complete=True))


def _replaced(path: Path, fh: BinaryIO) -> bool:
    """The followed file was rotated away, replaced, or truncated below what was read."""
    try:
        now = path.stat()
    except OSError:
        return False  # moved away, the new one not there yet: keep reading the old one
    mine = os.fstat(fh.fileno())
    return (now.st_ino, now.st_dev) != (mine.st_ino, mine.st_dev) or now.st_size < fh.tell()


def _why(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__
