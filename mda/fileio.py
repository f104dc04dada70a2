"""Files written whole or not at all: each output goes to a temporary file beside it and is
renamed over the target only when complete.

A failed write (disk full, no permission, a writer's own error) removes the temporary files,
leaves any previous output untouched and raises MdaError with one line naming the target, so a
good report is never replaced by a truncated one and no empty file is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from mda.errors import MdaError

#: Longest reason quoted from a writer's error message (GDAL can put whole SQL statements there).
_MAX_REASON = 200
#: A library's own error (not an OSError) on a file system with less free space than this is
#: reported as a full disk: GDAL's GeoPackage driver says only that a later statement failed,
#: SQLite that it met a "disk I/O error" creating its -shm file.
_NEARLY_FULL = 1 << 20


def reason(e: BaseException, where: Path | None = None) -> str:
    """One line saying why an operation failed: the OS error text, else the message's first line.

    "Disk full" is recognised in any wording (pyarrow, SQLite and GDAL each say it differently),
    and assumed for a library error when the file system holding `where` is nearly full.
    """
    text = str(e)
    full = "No space left" in text or "disk is full" in text
    if not isinstance(e, OSError) and where is not None:
        full = full or _free_bytes(where) < _NEARLY_FULL
    if getattr(e, "errno", None) == errno.ENOSPC or full:
        return os.strerror(errno.ENOSPC)
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    line = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 3] + "..."


def temporary_name(path: Path) -> Path:
    """An unused hidden absolute name in `path`'s folder, with its suffix (writers choose the
    format by it); absolute, so pyarrow never takes a folder with a colon for a URI scheme."""
    return path.absolute().with_name(f".mda-{secrets.token_hex(6)}.tmp{path.suffix}")


def _write_errors() -> tuple[type[BaseException], ...]:
    """What the file writers raise when a write fails (imported only once one has failed)."""
    import pyarrow as pa
    import pyogrio.errors

    return OSError, pa.ArrowException, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError


@contextlib.contextmanager
def replacing(*paths: str | os.PathLike, what: str = "") -> Iterator[tuple[Path, ...]]:
    """Yield a temporary path for each of `paths`; rename them all over `paths` on success.

    The temporary files are flushed to disk before the renames. When a write fails (OSError,
    pyarrow or GDAL errors) they are removed and MdaError("<path>: cannot write <what>:
    <reason>") is raised; on any other exception (or an interrupt) they are removed and the
    exception propagates.
    """
    targets = [Path(p) for p in paths]
    temps = [temporary_name(p) for p in targets]
    label = f"cannot write {what}".rstrip()
    try:
        for p in targets:
            p.parent.mkdir(parents=True, exist_ok=True)
        yield tuple(temps)
        for t in temps:
            _flush(t)
        for t, p in zip(temps, targets, strict=True):
            os.replace(t, p)
    except _write_errors() as e:  # evaluated only when an exception is being matched
        _remove(temps)
        raise MdaError(f"{targets[0]}: {label}: {reason(e, targets[0].parent)}") from None
    except BaseException:
        _remove(temps)
        raise


def _flush(path: Path) -> None:
    """Force a finished file to disk, so a rename never exposes an empty file after a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _free_bytes(folder: Path) -> int:
    """Bytes this user may still write on the file system holding `folder`."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return _NEARLY_FULL
    return st.f_bavail * st.f_frsize


def _remove(paths: list[Path]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()


@contextlib.contextmanager
def appending(path: str | os.PathLike | None) -> Iterator[IO[str]]:
    """A text stream appending to `path` (a log such as `mda watch --alerts-out`, which a run
    extends rather than replaces), or stdout when `path` is None or "-"; MdaError with one line
    naming the file when it cannot be opened."""
    if path is None or str(path) == "-":
        yield sys.stdout
        return
    try:
        fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as e:
        raise MdaError(f"{path}: cannot write: {reason(e)}") from None
    with fh:
        yield fh
