"""Progress bars (mda.progress): drawn on a terminal's stderr only, never with --quiet, never
on stdout, so `--json` output and piped or scheduled runs stay clean."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from mda import progress


@pytest.fixture(scope="module")
def nmea(tmp_path_factory):
    from mda.simulate import simulate

    path = tmp_path_factory.mktemp("progress") / "traffic.nmea"
    simulate("baltic-cables", seed=1).write(path)
    return path


def _mda(*args: str, tty: bool) -> tuple[int, str, bytes]:
    """(exit status, stdout, stderr bytes) of `python -m mda ARGS`, stderr a 100-column
    pseudo-terminal when `tty`, else a pipe."""
    cmd = [sys.executable, "-m", "mda", *args]
    if not tty:
        p = subprocess.run(cmd, capture_output=True, timeout=300)
        return p.returncode, p.stdout.decode(), p.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave) as p:
        os.close(slave)
        err = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal's other end closed
                break
            if not data:
                break
            err += data
        out = p.stdout.read().decode()
    os.close(master)
    return p.returncode, out, err


def test_no_bar_when_stderr_is_not_a_terminal(nmea, tmp_path):
    rc, out, err = _mda("ingest", str(nmea), "--store", str(tmp_path / "s"), "--json", tty=False)
    assert rc == 0
    assert json.loads(out)["files"] == [str(nmea)]  # stdout is the JSON and nothing else
    assert b"positions/s" not in err and b"\r" not in err
    rc, out, err = _mda("scan", str(nmea), "--json", tty=False)
    assert rc == 0 and json.loads(out)["positions"] > 0
    assert b"positions/s" not in err and b"\r" not in err


def test_bar_on_a_terminal_and_not_with_quiet(nmea, tmp_path):
    rc, out, err = _mda("ingest", str(nmea), "--store", str(tmp_path / "a"), "--json", tty=True)
    assert rc == 0 and json.loads(out)["stored"] > 0
    assert b"ingest: " in err and b"positions/s" in err  # drawn on stderr, then cleared
    assert "positions/s" not in out
    rc, out, err = _mda("scan", str(nmea), "--json", tty=True)
    assert rc == 0 and json.loads(out)["positions"] > 0 and b"decoding: " in err
    rc, out, err = _mda("ingest", str(nmea), "--store", str(tmp_path / "b"), "-q", tty=True)
    assert rc == 0 and "stored" in out
    assert b"positions/s" not in err


def test_the_python_api_draws_nothing(capsys):
    items = list(range(3))
    assert list(progress.chunks(items, "x")) == items  # bars are off outside the CLI
    with progress.shown():
        assert list(progress.chunks(items, "x")) == items  # pytest's stderr is no terminal
    assert capsys.readouterr().err == ""
