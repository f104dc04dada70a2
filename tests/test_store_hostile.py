"""The store and output files on a hostile host: read-only archives, a full disk, paths with
colons, a busy store (issue 9, findings 9-11 and the lock part of 12)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from test_store import ROOT, ais, alert, alerts_frame, dma_csv, fixes

import mda.fileio
import mda.store
from mda.alerts import read_alerts, write_alerts
from mda.cli import main
from mda.errors import MdaError
from mda.store import Store

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def small_store(path: Path) -> Path:
    """A store with positions, a vessel and two alerts, its connection closed."""
    store = Store(path)
    statics = pd.DataFrame({"mmsi": [219000001], "ts": [fixes(1)["ts"][0]], "name": ["ALFA"]})
    store.add(ais(fixes(20), statics), source="x")
    store.save_scan(alerts_frame(alert(), alert(mmsi=219000002)), upto_batch=1, window=(None, None))
    store.close()
    return path


def snapshot(path: Path) -> dict[str, tuple[int, int]]:
    """Every file under `path` with its size and mtime (ns)."""
    return {
        str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(path.rglob("*"))
    }


def mda_run(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mda", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """The single stderr line of a failed command, checked to name every needle."""
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert err.count("\n") == 1 and err.startswith("mda: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


# -- finding 9: read-only stores -------------------------------------------------------------------


def test_readonly_store_reads_and_writes_nothing(tmp_path):
    path = small_store(tmp_path / "s")
    before = snapshot(path)
    store = Store(path, readonly=True)
    assert store.info()["positions"] == 20 and store.info()["alerts"] == 2
    assert len(store.positions()) == 20 and store.vessels()["name"].tolist() == ["ALFA"]
    assert len(store.alerts()) == 2 and store.pending() is None
    with pytest.raises(MdaError, match="opened read-only"):
        store.add(ais(fixes(2, mmsi=219000003)), source="y")
    with pytest.raises(MdaError, match="cannot write the store"):
        store.save_scan(alerts_frame(alert(mmsi=219000004)), upto_batch=None, window=(None, None))
    store.close()
    # not a byte, not a -wal/-shm file, not a lock file
    assert snapshot(path) == before
    assert not list(path.glob("mda.sqlite-*"))
    with pytest.raises(MdaError, match="not an mda store"):
        Store(tmp_path / "none", readonly=True)
    assert not (tmp_path / "none").exists()


def test_readonly_reader_sees_a_live_writer(tmp_path):
    """While a writer's connection is open its -wal exists and is read (mode=ro), not ignored."""
    path = small_store(tmp_path / "s")
    writer = Store(path)
    writer.add(ais(fixes(5, mmsi=219000007)), source="live")
    assert (path / "mda.sqlite-wal").exists()
    reader = Store(path, readonly=True)
    assert reader.info()["positions"] == 25
    reader.close()
    writer.close()


def _unshare_ok() -> str | None:
    """Why a private mount namespace cannot be used here, or None when it can."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        return "needs root and unshare(1) for a private read-only bind mount"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
    )
    if probe.returncode:
        return f"mount namespaces unavailable: {probe.stderr.decode().strip()}"
    return None


#: Runs mda commands in one Python process and prints their results as JSON (see in_namespace).
_RUNNER = """
import contextlib, io, json, os, shutil, sys
from mda.cli import main

def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in args])
    return {"rc": rc, "out": out.getvalue(), "err": err.getvalue()}
"""


def in_namespace(mounts: str, code: str, cwd: Path) -> dict:
    """Mount (a shell script) in a private mount namespace, whose mounts vanish when it ends,
    then run `code` there: Python with `run(*mda_args)` that sets `result`, returned here."""
    why = _unshare_ok()
    if why:
        pytest.skip(why)
    code = _RUNNER + textwrap.dedent(code) + "\nprint(json.dumps(result))\n"
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", f'set -e\n{textwrap.dedent(mounts)}\nexec "$PY" -c "$CODE"'],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PY": sys.executable, "CODE": code},
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout.decode().splitlines()[-1])


def test_commands_on_a_read_only_mount(tmp_path):
    """A real read-only file system (root cannot write it either): every reading command works,
    ingest and scan fail with one line naming the store. The store was left by a writer killed
    with an uncheckpointed -wal, whose committed rows must still be read."""
    path = small_store(tmp_path / "s")
    killed = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from test_store import ais, fixes
        from mda.store import Store
        Store({str(path)!r}).add(ais(fixes(7, mmsi=219000009)), source="late")
        os._exit(0)  # no close: the commit stays in mda.sqlite-wal
        """
    )
    subprocess.run([sys.executable, "-c", killed], cwd=ROOT, check=True)
    assert (path / "mda.sqlite-wal").stat().st_size > 0
    csv = dma_csv(tmp_path / "new.csv", 3)
    r = in_namespace(
        "mount --bind -o ro s s",
        f"""
        try:
            open("s/probe", "w")
            sys.exit("not read-only")
        except OSError:
            pass
        result = {{
            "read": [
                run("info", "--store", "s", "--json"),
                run("alerts", "--store", "s"),
                run("tracks", "--store", "s", "--out", "out/tracks.parquet"),
                run("report", "--store", "s", "-o", "out/report.html"),
            ],
            "write": [
                run("ingest", {str(csv)!r}, "--store", "s"),
                run("scan", "--store", "s"),
                run("scan", {str(csv)!r}, "--store", "s"),
            ],
        }}
        """,
        tmp_path,
    )
    assert [c["rc"] for c in r["read"]] == [0, 0, 0, 0], r["read"]
    assert json.loads(r["read"][0]["out"])["positions"] == 27
    assert "219000002" in r["read"][1]["out"]
    assert (tmp_path / "out" / "tracks.parquet").exists()
    assert (tmp_path / "out" / "report.html").stat().st_size > 0
    for c in r["write"]:
        assert c["rc"] == 1 and c["err"].count("\n") == 1, c
        assert c["err"].startswith("mda: error: s: cannot write the store (read-only"), c


# -- finding 10: disk full -------------------------------------------------------------------------


def test_ingest_disk_full_one_line_store_consistent(tmp_path, monkeypatch, capsys):
    path = small_store(tmp_path / "s")
    csv = dma_csv(tmp_path / "day.csv", 30)
    writes = []

    def full(table, where, **kw):
        writes.append(where)
        Path(where).write_bytes(b"PAR1 half a part")  # something reached the disk
        raise ENOSPC

    monkeypatch.setattr(mda.store.parts.pq, "write_table", full)
    assert main(["ingest", str(csv), "--store", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and str(path) in err
    assert writes and not any(Path(w).exists() for w in writes)  # the temporary part is gone
    monkeypatch.undo()
    store = Store(path)
    assert store.info()["positions"] == 20 and store.pending() is None
    assert len(list(path.glob("positions/day=*/*"))) == 1  # the first part only
    assert store.ingest([str(csv)]).stored == 30  # not recorded as seen: the re-run stores it


def test_sqlite_disk_full_is_one_line(tmp_path, monkeypatch):
    """SQLite says "database or disk is full" when the WAL cannot grow: one line, nothing lost."""
    path = small_store(tmp_path / "s")
    store = Store(path)
    real = store.catalog.db

    class Full:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO ingests"):
                raise sqlite3.OperationalError("database or disk is full")
            return real.execute(sql, *args)

    monkeypatch.setattr(store.catalog, "db", Full())
    with pytest.raises(MdaError) as e:
        store.ingest([str(dma_csv(tmp_path / "day.csv", 3))])
    assert str(e.value) == f"{path}: cannot write the store: No space left on device"
    monkeypatch.undo()
    assert Store(path).info()["positions"] == 20


def good_outputs(tmp_path: Path) -> dict[str, Path]:
    """One good file of every output format, written before the disk fills."""
    from mda.report import render_map
    from mda.tracks import build_tracks, write_tracks

    alerts = alerts_frame(alert(), alert(mmsi=219000002))
    tracks = build_tracks(fixes(30))
    out = {}
    for name in ("a.geojson", "a.csv", "a.gpkg"):
        out[name] = write_alerts(alerts, tmp_path / name)
    for name in ("t.parquet", "t.geojson", "t.gpkg"):
        write_tracks(tracks, tmp_path / name)
        out[name] = tmp_path / name
    out["r.html"] = render_map(tmp_path / "r.html", tracks=tracks, alerts=alerts)
    return out


def test_failed_outputs_keep_the_old_file(tmp_path, monkeypatch):
    """Every writer: a write that fails at the end leaves the good old file and no other file."""
    from mda.report import render_map
    from mda.tracks import build_tracks, write_tracks

    out = good_outputs(tmp_path)
    before = snapshot(tmp_path)

    def full(path):
        raise ENOSPC

    monkeypatch.setattr(mda.fileio, "_flush", full)
    other = alerts_frame(alert(mmsi=219000005))
    tracks = build_tracks(fixes(5, mmsi=219000005))
    attempts = {
        name: (lambda n=name: write_alerts(other, tmp_path / n))
        for name in ("a.geojson", "a.csv", "a.gpkg")
    }
    for name in ("t.parquet", "t.geojson", "t.gpkg"):
        attempts[name] = lambda n=name: write_tracks(tracks, tmp_path / n)
    attempts["r.html"] = lambda: render_map(tmp_path / "r.html", tracks=tracks, alerts=other)
    for name, attempt in attempts.items():
        with pytest.raises(MdaError) as e:
            attempt()
        assert str(e.value) == f"{out[name]}: cannot write {_what(name)}: No space left on device"
    assert snapshot(tmp_path) == before  # nothing replaced, no temporary or empty file left
    assert read_alerts(tmp_path / "a.csv")["mmsi"].tolist() == [219000001, 219000002]


def _what(name: str) -> str:
    return {"a": "alerts", "t": "tracks", "r": "report"}[name[0]]


def test_tracks_parquet_files_replace_together(tmp_path, monkeypatch):
    """The points, segments and gaps files are replaced together or not at all."""
    import geopandas

    from mda.tracks import build_tracks, side_file, write_tracks

    write_tracks(build_tracks(fixes(30)), tmp_path / "t.parquet")
    before = snapshot(tmp_path)
    real, calls = geopandas.GeoDataFrame.to_parquet, []  # points, then segments

    def second_fails(self, path, **kw):
        calls.append(path)
        if len(calls) == 2:
            raise ENOSPC
        return real(self, path, **kw)

    monkeypatch.setattr(geopandas.GeoDataFrame, "to_parquet", second_fails)
    with pytest.raises(MdaError, match=r"t\.parquet: cannot write tracks: No space left"):
        write_tracks(build_tracks(fixes(9, mmsi=219000005)), tmp_path / "t.parquet")
    assert snapshot(tmp_path) == before
    monkeypatch.undo()
    assert len(pd.read_parquet(side_file(tmp_path / "t.parquet", "segments"))) == 1


def test_real_full_tmpfs(tmp_path):
    """A real 1 MiB tmpfs filled up: ingest and scan say one line and keep the store readable; a
    report that no longer fits leaves the old report whole, and no output leaves a temporary
    file."""
    sim = tmp_path / "traffic.nmea"
    assert main(["simulate", "baltic-cables", "--out", str(sim)]) == 0
    small = dma_csv(tmp_path / "small.csv", 5)
    r = in_namespace(
        "mkdir -p disk && mount -t tmpfs -o size=1m tmpfs disk",
        f"""
        result = {{"setup": [
            run("ingest", {str(small)!r}, "--store", "disk/s"),
            run("report", "--store", "disk/s", "-o", "disk/report.html", "--cdn"),  # < 1 MiB
        ]}}
        shutil.copy("disk/report.html", "good.html")
        with open("disk/filler", "wb") as f:  # leave 40 kB free
            f.write(os.urandom(shutil.disk_usage("disk").free - 40_000))
        result["ingest"] = run("ingest", {str(sim)!r}, "--store", "disk/s")
        result["scan"] = run("scan", "--store", "disk/s")
        result["info"] = run("info", "--store", "disk/s", "--json")
        result["report"] = run("report", {str(sim)!r}, "-o", "disk/report.html")
        result["gpkg"] = run("tracks", "--store", "disk/s", "--out", "disk/tracks.gpkg")
        result["same"] = open("disk/report.html", "rb").read() == open("good.html", "rb").read()
        result["files"] = [str(p) for p in __import__("pathlib").Path("disk").rglob("*")]
        """,
        tmp_path,
    )
    assert [c["rc"] for c in r["setup"]] == [0, 0], r["setup"]
    for name in (
        "ingest",
        "scan",
        "report",
        "gpkg",
    ):  # GDAL's error is not repeated (it quotes SQL)
        c = r[name]
        assert c["rc"] == 1 and c["err"].count("\n") == 1, c
        assert "No space left on device" in c["err"], c
    assert r["info"]["rc"] == 0 and json.loads(r["info"]["out"])["positions"] == 5
    assert r["same"] and not [f for f in r["files"] if ".mda-" in f]


# -- finding 11: colons and URIs in paths ----------------------------------------------------------


def test_paths_with_colons_and_uri_lookalikes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    csv = dma_csv(tmp_path / "day-10:00.csv", 40).name
    assert main(["ingest", csv, "--store", "store-2024-05-30T12:00"]) == 0
    assert main(["tracks", "--store", "store-2024-05-30T12:00", "--out", "t-12:00.parquet"]) == 0
    assert len(pd.read_parquet(tmp_path / "t-12:00.parquet")) == 40
    assert (tmp_path / "t-12:00.segments.parquet").exists()
    assert main(["scan", "--store", "store-2024-05-30T12:00", "--out", "a:1.gpkg"]) == 0
    assert main(["report", "--store", "store-2024-05-30T12:00", "-o", "r:1.html"]) == 0
    assert (tmp_path / "r:1.html").stat().st_size > 0
    # an SQLite URI look-alike is a folder name like any other
    uri = "file:x.db?mode=ro"
    assert main(["ingest", csv, "--store", uri]) == 0
    assert (tmp_path / uri / "mda.sqlite").exists() and not (tmp_path / "x.db").exists()
    capsys.readouterr()
    assert main(["info", "--store", uri, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["positions"] == 40
    pct = "a%3Fb#c"  # percent signs and hashes are escaped too
    assert main(["ingest", csv, "--store", pct]) == 0 and (tmp_path / pct / "mda.sqlite").exists()


# -- finding 12 (part): a busy store ---------------------------------------------------------------


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the store's lock for `seconds` (returns once it holds it)."""
    code = (
        "import sys, time; from mda.store import Store\n"
        "with Store(sys.argv[1]).lock():\n"
        "    print('held', flush=True); time.sleep(float(sys.argv[2]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(seconds)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert proc.stdout.readline().strip() == b"held"
    return proc


def test_ingest_from_a_pipe_waits_for_a_busy_store(tmp_path):
    path = small_store(tmp_path / "s")
    lines = dma_csv(tmp_path / "day.csv", 25).read_bytes()
    holder = hold_lock(path, 30)
    try:
        busy = mda_run("ingest", "-", "--store", str(path), cwd=tmp_path, stdin=lines)
        one_line_error(busy, "store is busy", f"pid {holder.pid}", "--wait")
        timed_out = mda_run("ingest", "-", "--wait", "0.5", "--store", "s", cwd=tmp_path, stdin=b"")
        one_line_error(timed_out, "store is busy")
    finally:
        holder.kill()
        holder.wait()
    holder = hold_lock(path, 1.5)
    t0 = time.monotonic()
    ok = mda_run("ingest", "-", "--store", str(path), "--wait", cwd=tmp_path, stdin=lines)
    waited = time.monotonic() - t0
    holder.wait()
    assert ok.returncode == 0, ok.stderr.decode()
    assert waited >= 1.0  # it waited for the holder instead of dropping the piped data
    assert Store(path).info()["positions"] == 45


def test_scan_waits_for_a_busy_store(tmp_path, capsys):
    path = small_store(tmp_path / "s")
    Store(path).add(ais(fixes(5, mmsi=219000008)), source="new")
    holder = hold_lock(path, 1.0)
    try:
        assert main(["scan", "--store", str(path), "--wait", "60", "--json"]) == 0
    finally:
        holder.kill()
        holder.wait()
    assert json.loads(capsys.readouterr().out)["watermark"] == 2


@pytest.mark.parametrize("value", ["-1", "nan", "soon"])
def test_wait_rejects_bad_seconds(value, capsys):
    with pytest.raises(SystemExit) as e:
        main(["ingest", "-", "--store", "s", f"--wait={value}"])
    assert e.value.code == 2 and "not a number of seconds" in capsys.readouterr().err
