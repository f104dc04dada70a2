"""The `mda` command run as a test runs it: in this process (fast, monkeypatchable) or as a
subprocess (`python -m mda`, for exit paths that end the interpreter and for stdin)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mda.cli import main

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Ran:
    """What one `mda` command did: its exit status and what it printed."""

    code: int
    out: str
    err: str


def run_main(*args: str | Path) -> Ran:
    """`mda ARGS` in this process; a usage error (argparse's SystemExit) is exit status 2."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:
            code = int(e.code or 0)
    return Ran(code, out.getvalue(), err.getvalue())


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    strict: bool = False,
    stdin: Sequence[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m mda ARGS` as a subprocess (this tree's mda), its output as text; `strict`
    makes a RuntimeWarning (numpy overflow, invalid value) an error; `stdin`: lines fed to it."""
    flags = ["-W", "error::RuntimeWarning"] if strict else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "mda", *map(str, args)],
        input=None if stdin is None else "".join(f"{line}\n" for line in stdin),
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
