"""Mutation fuzzer of mda's readers: real and simulated AIS, mutated, through the public API.

Seeds are the real public samples in ../shared/data (every NMEA file; the DMA and MarineCadastre
CSVs, .gz decompressed) and the simulator's NMEA, DMA and NOAA output. Each batch takes a run of
consecutive lines of one seed (multi-part messages and tag-block groups stay together), mutates
about half of them (bit flips, byte insert/delete, truncation, NUL, CR, invalid UTF-8, huge and
newline-free lines, fragment counts and numbers, absurd tag blocks and times, checksums broken
or fixed up so that a mutated payload reaches the decoder; for CSV: missing and extra columns,
wrong types, absurd numbers and dates, quoted newlines, BOMs, duplicated headers) and feeds the
batch through the public reading path:

* ``mda.read_ais`` of the batch as a file (sometimes gzip- or bzip2-compressed, sometimes a
  truncated .gz), or for NMEA as an iterable of lines;
* ``Store.ingest`` of the file into a temporary store, every few batches.

A clean ``MdaError`` (a one-line input error) is an accepted outcome; any other exception, and
any broken output invariant (sentinel or out-of-range positions, unknown reject reasons,
multi-line messages), is a failure: its batch is shrunk to a minimal input and saved to --out.
Deterministic by seed; batch i of seed S is the same bytes on every run.

Run: ``.venv/bin/python scripts/fuzz.py --lines 1000000 --seed 1 --out fuzz-out``.
"""

from __future__ import annotations

import argparse
import bz2
import contextlib
import dataclasses
import gzip
import hashlib
import logging
import random
import shutil
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SCENARIO = Path(__file__).resolve().parents[1] / "tests" / "scenarios" / "busy-port.toml"

#: Lines per batch (a batch is one read_ais call); every STORE_EVERY-th batch is also ingested.
BATCH_LINES = (1000, 5000)
STORE_EVERY = 4
#: Probability that a line of a batch is mutated.
MUTATE_P = 0.6

# -- seeds ------------------------------------------------------------------------------------


@dataclass
class Seed:
    """Lines of one seed input: NMEA lines, or a CSV header and its rows (bytes, no newline)."""

    name: str
    kind: str  # "nmea" or "csv"
    lines: list[bytes]
    header: bytes = b""


def load_seeds(shared: Path | None = SHARED, simulated: bool = True, max_rows: int = 20_000):
    """The seed corpus: real samples under `shared` (when present) and simulator output."""
    seeds: list[Seed] = []
    if shared is not None and shared.is_dir():
        for p in sorted((shared / "nmea").rglob("*")):
            if p.is_file():
                seeds.append(Seed(p.name, "nmea", _lines(p.read_bytes())[:max_rows]))
        for p in sorted((shared / "positions").glob("*.csv*")):
            raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
            header, *rows = _lines(raw[: max_rows * 400])[:max_rows]
            seeds.append(Seed(p.name, "csv", rows, header))
    if simulated:
        seeds += _simulated()
    if not seeds:
        raise SystemExit("fuzz: no seeds (no shared data and no simulator output)")
    return seeds


def _lines(raw: bytes) -> list[bytes]:
    return [ln.rstrip(b"\r") for ln in raw.split(b"\n") if ln.strip()]


def _simulated() -> list[Seed]:
    """A small simulated scenario written as tagged NMEA, DMA CSV and NOAA CSV."""
    from mda.simulate import simulate

    sim = simulate(SCENARIO, seed=7, vessels=8, hours=3)
    seeds = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, layout in (("sim.nmea", None), ("sim-dma.csv", "dma"), ("sim-noaa.csv", "noaa")):
            path = sim.write(Path(tmp) / name, csv=layout)
            lines = _lines(path.read_bytes())
            if layout is None:
                seeds.append(Seed(name, "nmea", lines))
            else:
                seeds.append(Seed(name, "csv", lines[1:], lines[0]))
    return seeds


# -- mutations --------------------------------------------------------------------------------

_PAYLOAD = b"0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"
_JUNK = b"!$\\*,:-.0123456789ABCDEFVMOabcsgt@` \t\r\x00\x7f\xff\"'="
_BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\xc0\xaf"]
_TAG_TIMES = [
    b"0", b"-1", b"1e99", b"abc", b"", b"nan", b"inf", b"-inf", b"4102444800", b"253402300800",
    b"99999999999999999999999", b"1.5", b"1635731889.999", b"1e-400", b"0x10", b" 1635731889",
]
_TAG_JUNK = [
    b"s:", b"s:\x00\xff,,,", b"s:" + b"A" * 300, b"g:1-2-", b"g:0-0-0", b"g:3-2-1",
    b"g:99999999999999999999-1-1", b"g:-1-2-3", b"1G2:", b"0G0:12", b"d:x", b"n:abc", b"*",
    b"**ZZ", b"t:\\", b"c", b":", b",",
]
_FIELD_VALUES = [
    b"", b"abc", b"1e400", b"-1e400", b"nan", b"NaN", b"inf", b"-inf", b"-0", b"0", b"-1",
    b"999999999999999999999999", b"1e-400", b"0x1F", b" 12 ", b"=1+1", b"+1", b"@SUM(A1)", b'"',
    b'""', b'"a\nb"', b'"a\r\nb"', b'"\n"', b"\r", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf1",
    b"2023-02-30T00:00:00", b"30/02/2023 00:00:00", b"1969-12-31T23:59:59", b"2100-01-01T00:00:00",
    b"9999-12-31T23:59:59", b"0000-00-00T00:00:00", b"2024-13-01T25:61:61", b"01/01/1677 00:00:00",
    b"31/12/2262 23:59:59", b"2262-04-12T00:00:00", b"1e19", b"4294967296", b"18446744073709551616",
    b"91", b"181", b"-91", b"102.3", b"360", b"511", b"1" * 400, b"\xe2\x80\xae", b"\x1b[31m",
]


def _nmea_checksum(body: bytes) -> bytes:
    c = 0
    for b in body:
        c ^= b
    return b"%02X" % c


def _sentence_span(line: bytes) -> tuple[int, int] | None:
    """Start of the body (after '!') and position of '*' of the first sentence on a line."""
    i = line.find(b"!")
    j = line.find(b"*", i + 1)
    return (i + 1, j) if i >= 0 and j > i else None


def fix_checksum(line: bytes) -> bytes:
    """Recompute the checksum of the line's first sentence, so a mutated body gets decoded."""
    span = _sentence_span(line)
    if span is None:
        return line
    i, j = span
    return line[: j + 1] + _nmea_checksum(line[i:j]) + line[j + 3 :]


def _fields(line: bytes) -> tuple[bytes, list[bytes], bytes] | None:
    """(prefix up to '!', the sentence's comma fields, rest from '*') of the first sentence."""
    span = _sentence_span(line)
    if span is None:
        return None
    i, j = span
    return line[:i], line[i:j].split(b","), line[j:]


def _with_field(line: bytes, k: int, value: bytes) -> bytes:
    parts = _fields(line)
    if parts is None or len(parts[1]) <= k:
        return line
    pre, f, rest = parts
    f[k] = value
    return fix_checksum(pre + b",".join(f) + rest)


def _pos(r: random.Random, line: bytes) -> int:
    return r.randrange(len(line) + 1)


def m_bitflip(r, line, ctx):
    if not line:
        return line
    b = bytearray(line)
    for _ in range(r.randint(1, 3)):
        b[r.randrange(len(b))] ^= 1 << r.randrange(8)
    return bytes(b)


def m_insert(r, line, ctx):
    i = _pos(r, line)
    pool = _JUNK if r.random() < 0.7 else bytes(range(256))
    return line[:i] + bytes(r.choice(pool) for _ in range(r.randint(1, 8))) + line[i:]


def m_delete(r, line, ctx):
    i = _pos(r, line)
    return line[:i] + line[i + r.randint(1, 10) :]


def m_truncate(r, line, ctx):
    return line[: _pos(r, line)]


def m_nul(r, line, ctx):
    i = _pos(r, line)
    return line[:i] + b"\x00" * r.choice([1, 1, 2, 64]) + line[i:]


def m_utf8(r, line, ctx):
    i = _pos(r, line)
    return line[:i] + r.choice(_BAD_UTF8) + line[i:]


def m_cr(r, line, ctx):
    i = _pos(r, line)
    return line[:i] + r.choice([b"\r", b"\r\r", b"\r\n\r"]) + line[i:]


def m_splice(r, line, ctx):
    other = r.choice(ctx)
    return line[: _pos(r, line)] + other[_pos(r, other) :]


def m_join(r, line, ctx):
    """Several lines with their newlines lost."""
    return line + b"".join(r.choice(ctx) for _ in range(r.randint(1, 20)))


def m_huge(r, line, ctx):
    """A very long line, newline-free: repeated content or junk (rare: slow by design)."""
    n = r.choice([5_000, 65_535, 65_536, 65_537, 300_000, 1_100_000 if r.random() < 0.3 else 9_000])
    unit = line or b"x"
    if r.random() < 0.5:
        return (unit * (n // len(unit) + 1))[:n]
    return line + bytes(r.choice(_JUNK) for _ in range(64)) * (n // 64)


def m_checksum(r, line, ctx):
    parts = _fields(line)
    if parts is None:
        return line
    pre, f, rest = parts
    return pre + b",".join(f) + r.choice([b"*00", b"*ZZ", b"*", b"", b"*7", b"*7G", b"*1234"]) + (
        rest[3:]
    )


def m_fragments(r, line, ctx):
    k = r.choice([1, 2, 3])  # count, number, sequence id
    v = r.choice([b"0", b"1", b"2", b"3", b"9", b"", b"-1", b"10", b"x", b"7", b"99999999"])
    return _with_field(line, k, v)


def m_payload(r, line, ctx):
    """Change the payload's bytes, length, message type or fill bits; checksum fixed up."""
    parts = _fields(line)
    if parts is None or len(parts[1]) < 7:
        return line
    pre, f, rest = parts
    p = bytearray(f[5])
    op = r.randrange(5)
    if op == 0 and p:
        for _ in range(r.randint(1, 6)):
            p[r.randrange(len(p))] = r.choice(_PAYLOAD)
    elif op == 1:
        p = p[: r.randrange(len(p) + 1)]
    elif op == 2:
        p += bytes(r.choice(_PAYLOAD) for _ in range(r.randint(1, 80)))
    elif op == 3:
        p[:1] = bytes([r.choice(_PAYLOAD)])
    f[5] = bytes(p)
    if len(f) > 6 and r.random() < 0.4:
        f[6] = r.choice([b"0", b"1", b"2", b"5", b"6", b"", b"9"])
    return fix_checksum(pre + b",".join(f) + rest)


def m_tag(r, line, ctx):
    """Replace or add a tag block with absurd times, junk keys, missing or nested '\\'."""
    items = []
    for _ in range(r.randint(1, 4)):
        if r.random() < 0.5:
            items.append(b"c:" + r.choice(_TAG_TIMES))
        else:
            items.append(r.choice(_TAG_JUNK))
    tag = b",".join(items)
    tag += b"*" + _nmea_checksum(tag) if r.random() < 0.7 else b""
    body = line[line.rfind(b"\\") + 1 :] if line.startswith(b"\\") else line
    shape = r.randrange(5)
    if shape == 0:
        return b"\\" + tag + body  # missing closing '\'
    if shape == 1:
        return b"\\" + tag + b"\\\\" + tag + b"\\" + body  # nested
    if shape == 2:
        return b"\\" + tag + b"\\" + line  # a second block before the old one
    return b"\\" + tag + b"\\" + body


def m_time_text(r, line, ctx):
    """An absurd time before the sentence or after it."""
    t = r.choice(
        [b"2024-02-30T00:00:00", b"9999999999999", b"1e400", b"0000000000", b"1969-12-31 23:59:59",
         b"2262-04-12T00:00:00", b"-1", b"253402300800", b"2100-01-01T00:00:00+14:00"]
    )
    return t + b" " + line if r.random() < 0.5 else line + b"," + t


def m_dup_field(r, line, ctx):
    """Duplicate or drop one comma field (NMEA field or CSV column)."""
    f = line.split(b",")
    i = r.randrange(len(f))
    if r.random() < 0.5:
        f.insert(i, f[i])
    else:
        del f[i]
    return b",".join(f)


def m_csv_value(r, line, ctx):
    """One or more CSV fields replaced by a wrong type, an absurd number or a quoted newline."""
    f = line.split(b",")
    for _ in range(r.randint(1, 3)):
        f[r.randrange(len(f))] = r.choice(_FIELD_VALUES)
    return b",".join(f)


def m_csv_columns(r, line, ctx):
    """Missing or extra columns at the end."""
    f = line.split(b",")
    if r.random() < 0.5:
        return b",".join(f[: r.randrange(len(f))])
    return b",".join(f + [r.choice(_FIELD_VALUES) for _ in range(r.randint(1, 30))])


def m_csv_quote(r, line, ctx):
    """A field quoted around a newline, an unterminated quote, or a BOM at the row start."""
    f = line.split(b",")
    i = r.randrange(len(f))
    f[i] = r.choice([b'"' + f[i] + b"\n" + f[i] + b'"', b'"' + f[i], b'"' + f[i] + b'"x'])
    row = b",".join(f)
    return b"\xef\xbb\xbf" + row if r.random() < 0.2 else row


GENERIC = [m_bitflip, m_insert, m_delete, m_truncate, m_nul, m_utf8, m_cr, m_splice, m_join]
NMEA = [
    *GENERIC, m_checksum, m_fragments, m_fragments, m_payload, m_payload, m_payload, m_tag, m_tag,
    m_time_text, m_dup_field,
]
CSV = [*GENERIC, m_csv_value, m_csv_value, m_csv_value, m_csv_columns, m_csv_quote, m_dup_field]


def mutate(r: random.Random, line: bytes, ops: list[Callable], ctx: list[bytes]) -> bytes:
    """`line` after one to three mutations (rarely a huge one); NMEA checksums sometimes fixed."""
    for _ in range(r.choice([1, 1, 1, 2, 3])):
        op = m_huge if r.random() < 0.0005 else r.choice(ops)
        line = op(r, line, ctx)
    if ops is NMEA and r.random() < 0.3:
        line = fix_checksum(line)
    return line


# -- batches ----------------------------------------------------------------------------------


@dataclass
class Batch:
    """One fuzz input: its lines, how it is fed, and how many of its lines were mutated."""

    kind: str  # "nmea" or "csv"
    lines: list[bytes]  # for CSV the first line is the header
    wrap: str  # "plain", "gzip", "bz2", "gzip-cut", or "iter" (NMEA lines as an iterable)
    mutated: int
    store: bool
    cut: float = 1.0  # fraction of the compressed bytes kept for "gzip-cut"

    def data(self) -> bytes:
        raw = b"\n".join(self.lines) + b"\n"
        if self.wrap in ("gzip", "gzip-cut"):
            z = gzip.compress(raw, compresslevel=1, mtime=0)
            return z[: max(10, int(len(z) * self.cut))] if self.wrap == "gzip-cut" else z
        if self.wrap == "bz2":
            return bz2.compress(raw, compresslevel=1)
        return raw

    def suffix(self) -> str:
        base = ".nmea" if self.kind == "nmea" else ".csv"
        return base + {"gzip": ".gz", "gzip-cut": ".gz", "bz2": ".bz2"}.get(self.wrap, "")


def make_batch(
    seed: int, i: int, seeds: list[Seed], size: tuple[int, int] = BATCH_LINES
) -> Batch:
    """Batch `i` of fuzz seed `seed` (independent of every other batch), of `size` lines."""
    r = random.Random(f"mda-fuzz:{seed}:{i}")
    s = r.choice(seeds)
    n = r.randint(*size)
    start = r.randrange(max(1, len(s.lines) - n))
    lines = list(s.lines[start : start + n])
    ops = NMEA if s.kind == "nmea" else CSV
    mutated = 0
    out: list[bytes] = []
    for line in lines:
        if r.random() < MUTATE_P:
            mutated += 1
            roll = r.random()
            if roll < 0.04:
                continue  # line dropped
            if roll < 0.08:
                out += [line, line]  # line repeated (fragments seen twice)
                continue
            if roll < 0.12 and out:
                out.insert(r.randrange(len(out) + 1), line)  # out of order
                continue
            if s.kind == "csv" and roll < 0.13:
                out.append(s.header)  # a header repeated inside the data
                continue
            line = mutate(r, line, ops, lines)
        out.append(line)
    if s.kind == "csv":
        header = s.header
        if r.random() < 0.1:
            header = _mutate_header(r, header)
        out = [header, *out]
    roll = r.random()
    wrap = (
        "iter" if s.kind == "nmea" and roll < 0.3 else
        "gzip" if roll < 0.4 else
        "gzip-cut" if roll < 0.45 else
        "bz2" if roll < 0.48 else
        "plain"
    )
    return Batch(s.kind, out, wrap, mutated, i % STORE_EVERY == 0, r.uniform(0.2, 0.98))


def _mutate_header(r: random.Random, header: bytes) -> bytes:
    names = header.split(b",")
    op = r.randrange(5)
    if op == 0:
        names.insert(r.randrange(len(names)), r.choice(names))  # a duplicated column
    elif op == 1:
        del names[r.randrange(len(names))]
    elif op == 2:
        r.shuffle(names)
    elif op == 3:
        return b"\xef\xbb\xbf" + header
    else:
        return header.upper()
    return b",".join(names)


# -- feeding and checking ---------------------------------------------------------------------


#: The accepted receiver-time range of mda.sources.base: [start, end) in Unix seconds.
_TIME_RANGE = ("TIME_MIN_S", "TIME_END_S")


class Violation(AssertionError):
    """An output invariant broken without an exception (a silent wrong result).

    `what` names the invariant (the failure's identity); `detail` shows the offending value.
    """

    def __init__(self, what: str, detail: object = "") -> None:
        super().__init__(f"{what} {detail}".strip())
        self.what = what


def check(data) -> None:
    """Invariants every read must keep, whatever its input."""
    import pandas as pd

    from mda.sources import base

    r = data.report
    if not set(r.rejected) <= set(base.REJECT_REASONS):
        raise Violation("unknown reject reasons", set(r.rejected) - set(base.REJECT_REASONS))
    if any(v < 0 for v in r.rejected.values()):
        raise Violation("negative reject count", dict(r.rejected))
    for w in r.warnings:
        if "\n" in w or "Traceback" in w:
            raise Violation("multi-line warning", repr(w[:200]))
    pos = data.positions
    lat, lon = pos["lat"], pos["lon"]
    if not (lat.between(-90, 90).all() and lon.between(-180, 180).all()):
        raise Violation("position out of range")
    if ((lat == 91) | (lon == 181) | ((lat == 0) & (lon == 0))).any():
        raise Violation("not-available position kept")
    if (pos["sog"] > 102.25).any() or (pos["cog"] >= 360).any() or (pos["heading"] > 359).any():
        raise Violation("not-available speed, course or heading kept")
    if not ((pos["mmsi"] > 0) & (pos["mmsi"] <= 999_999_999)).all():
        raise Violation("invalid MMSI kept")
    lo, end = (pd.Timestamp(getattr(base, k), unit="s", tz="UTC") for k in _TIME_RANGE)
    for frame in (data.positions, data.aux, data.statics):
        if frame["ts"].isna().any():
            raise Violation("row without a time kept")
        if ((frame["ts"] < lo) | (frame["ts"] >= end)).any():
            raise Violation("time outside the accepted range kept", frame["ts"].agg(["min", "max"]))


@contextlib.contextmanager
def _hidden_errors() -> Iterator[None]:
    """Raise what Python could only print: errors in callbacks (Arrow's invalid-row handler),
    in __del__ and in threads, which leave a traceback on stderr and the work undone."""
    caught: list[BaseException | None] = []
    hooks = sys.unraisablehook, threading.excepthook
    sys.unraisablehook = threading.excepthook = lambda args: caught.append(args.exc_value)
    try:
        yield
    finally:
        sys.unraisablehook, threading.excepthook = hooks
    if caught and caught[0] is not None:
        raise caught[0]


def feed(batch: Batch, workdir: Path, n: int = 0) -> int:
    """Read `batch` through the public API (and ingest it when batch.store); raises on failure.

    MdaError is a clean, reported input error and is accepted when its message is one line;
    returns how many were raised.
    """
    path = workdir / f"batch-{n}{batch.suffix()}"
    path.write_bytes(batch.data())
    try:
        with _hidden_errors():
            return _read(batch, path, workdir / f"store-{n}")
    finally:
        path.unlink(missing_ok=True)
        shutil.rmtree(workdir / f"store-{n}", ignore_errors=True)


def _read(batch: Batch, path: Path, store_dir: Path) -> int:
    import mda
    from mda.errors import MdaError

    errors = 0
    try:
        if batch.wrap == "iter":
            check(mda.read_ais(iter(batch.lines)))
        else:
            check(mda.read_ais(path))
    except MdaError as e:
        errors += 1
        if "\n" in str(e):
            raise Violation("multi-line MdaError", repr(str(e)[:200])) from e
    if batch.store:
        store = mda.Store(store_dir)
        try:
            report = store.ingest(iter(batch.lines) if batch.wrap == "iter" else path)
            if report.stored is None or report.stored > report.positions:
                raise Violation("stored more than read", (report.stored, report.positions))
        except MdaError as e:
            errors += 1
            if "\n" in str(e):
                raise Violation("multi-line MdaError", repr(str(e)[:200])) from e
        finally:
            store.close()
    return errors


def signature(exc: BaseException) -> str:
    """Exception type and innermost mda frame (or innermost frame): the identity of a crash."""
    if isinstance(exc, Violation):
        return f"Violation: {exc.what}"
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/mda/" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


def _fails(batch: Batch, workdir: Path, sig: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            feed(batch, workdir, n=99)
    except Exception as e:
        return signature(e) == sig
    return False


def shrink(batch: Batch, workdir: Path, sig: str, budget_s: float = 60.0) -> Batch:
    """A smaller batch failing the same way: plain and not stored if that still fails, fewer
    lines (ddmin), then fewer bytes per line."""
    deadline = time.monotonic() + budget_s
    for change in ({"store": False}, {"wrap": "plain"}):
        simpler = dataclasses.replace(batch, **change)
        if simpler != batch and _fails(simpler, workdir, sig):
            batch = simpler
    head = batch.lines[:1] if batch.kind == "csv" else []
    body = batch.lines[len(head) :]

    def with_body(lines: list[bytes]) -> Batch:
        return dataclasses.replace(batch, lines=head + lines)

    chunks = 2
    while len(body) > 1 and time.monotonic() < deadline:
        size = -(-len(body) // chunks)
        for k in range(0, len(body), size):
            candidate = body[:k] + body[k + size :]
            if candidate and _fails(with_body(candidate), workdir, sig):
                body = candidate
                chunks = max(chunks - 1, 2)
                break
        else:
            if chunks >= len(body):
                break
            chunks = min(chunks * 2, len(body))
    for li in range(len(body)):  # bytes of each remaining line, halving the cut each time
        step = max(1, len(body[li]) // 2)
        while step and time.monotonic() < deadline:
            line, shrunk = body[li], False
            for k in range(0, len(line), step):
                trial = [*body[:li], line[:k] + line[k + step :], *body[li + 1 :]]
                if _fails(with_body(trial), workdir, sig):
                    body, shrunk = trial, True
                    break
            if not shrunk:
                step //= 2
    return with_body(body)


@dataclass
class Stats:
    """What a fuzz run tried and found."""

    lines: int = 0
    mutated: int = 0
    batches: int = 0
    ingests: int = 0
    input_errors: int = 0
    failures: Counter = field(default_factory=Counter)  # by signature
    warnings: Counter = field(default_factory=Counter)  # Python warnings by category and text
    saved: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exceptions(self) -> int:
        return sum(n for sig, n in self.failures.items() if not sig.startswith("Violation"))

    @property
    def violations(self) -> int:
        return sum(n for sig, n in self.failures.items() if sig.startswith("Violation"))

    def summary(self) -> str:
        rate = self.lines / self.seconds if self.seconds else 0
        out = [
            f"lines tried  {self.lines:,} ({self.mutated:,} mutated) in {self.batches:,} batches, "
            f"{self.ingests:,} store ingests",
            f"exceptions   {self.exceptions:,}",
            f"violations   {self.violations:,} (broken output invariants)",
            f"input errors {self.input_errors:,} (clean one-line MdaError)",
            f"lines/s      {rate:,.0f} ({self.seconds:.1f} s)",
        ]
        out += [f"  {n:>6,}  {sig}" for sig, n in self.failures.most_common()]
        out += [f"  saved {p}" for p in self.saved]
        out += [f"  warning x{n:,}: {w}" for w, n in self.warnings.most_common(10)]
        return "\n".join(out)


def batches(
    seed: int, seeds: list[Seed], mutated_lines: int, size: tuple[int, int] = BATCH_LINES
) -> Iterator[Batch]:
    """Batches until `mutated_lines` mutated lines were produced."""
    done, i = 0, 0
    while done < mutated_lines:
        b = make_batch(seed, i, seeds, size)
        done += b.mutated
        i += 1
        yield b


def fuzz(
    lines: int,
    seed: int = 0,
    out: Path | None = None,
    seeds: list[Seed] | None = None,
    progress: Callable[[Stats], None] | None = None,
    size: tuple[int, int] = BATCH_LINES,
    shrink_s: float = 60.0,
) -> Stats:
    """Feed batches of `size` lines until `lines` mutated lines were read; failures shrunk (for
    up to `shrink_s` seconds each) and saved to `out`."""
    logging.getLogger("mda").setLevel(logging.CRITICAL)  # the report counts what was rejected
    seeds = seeds if seeds is not None else load_seeds()
    stats = Stats()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mda-fuzz-") as tmp:
        work = Path(tmp)
        for i, batch in enumerate(batches(seed, seeds, lines, size)):
            stats.batches += 1
            stats.lines += len(batch.lines)
            stats.mutated += batch.mutated
            stats.ingests += batch.store
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    stats.input_errors += feed(batch, work, n=i)
                for w in caught:
                    stats.warnings[f"{w.category.__name__}: {str(w.message)[:100]}"] += 1
            except Exception as e:
                sig = signature(e)
                stats.failures[sig] += 1
                if out is not None and stats.failures[sig] == 1:
                    small = shrink(batch, work, sig, shrink_s)
                    stats.saved.append(_save(small, sig, e, out, f"seed {seed} batch {i}"))
            if progress and i % 200 == 0:
                stats.seconds = time.perf_counter() - t0
                progress(stats)
    stats.seconds = time.perf_counter() - t0
    return stats


def _save(small: Batch, sig: str, exc: BaseException, out: Path, origin: str) -> Path:
    """Write a (shrunk) failing batch and how it failed under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(sig.encode()).hexdigest()[:10]
    path = out / f"{name}{small.suffix()}"
    path.write_bytes(small.data())
    tb = "".join(traceback.format_exception(exc))
    path.with_suffix(path.suffix + ".txt").write_text(
        f"{sig}\n{origin} wrap {small.wrap} store {small.store}\n\n{tb}"
    )
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lines", type=int, default=100_000, help="mutated lines to feed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("fuzz-out"), help="where failures are saved")
    p.add_argument("--no-sim", action="store_true", help="real samples only, no simulator seeds")
    a = p.parse_args(argv)
    seeds = load_seeds(simulated=not a.no_sim)

    def progress(s: Stats) -> None:
        rate = s.lines / s.seconds if s.seconds else 0
        print(
            f"  {s.mutated:,} mutated lines, {s.exceptions} exceptions, {s.violations} "
            f"violations, {rate:,.0f} lines/s",
            file=sys.stderr,
            flush=True,
        )

    with contextlib.redirect_stdout(sys.stderr):  # anything printed by a library stays off stdout
        stats = fuzz(a.lines, a.seed, a.out, seeds, progress)
    print(f"fuzz: seed {a.seed}, {len(seeds)} seed inputs")
    print(stats.summary())
    return 1 if stats.failures else 0


if __name__ == "__main__":
    sys.exit(main())
