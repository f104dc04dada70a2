"""Engines: how the same ingest and scan functions are mapped onto processes.

``local`` (the default) runs them in this process. ``dask`` (mda.engine.dask, the optional
``mda[dask]`` extra, imported only when asked for) maps them onto a Dask cluster: a
``LocalCluster`` of ``workers`` single-threaded processes on this machine, or the cluster whose
scheduler is at ``scheduler``. Both decode, dedupe, detect and commit with the same functions, so
they store the same positions and raise the same alerts with the same ids.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from mda.errors import MdaError

if TYPE_CHECKING:  # the command line imports this module to list the engines: keep it light
    import pandas as pd

    from mda.sources.base import IngestReport

ENGINES = ("local", "dask")


class Engine(Protocol):
    """What a scan and an ingest ask of an engine."""

    def ingest(
        self, store: str | os.PathLike[str], inputs: Any, *, start_time: Any = None, wait: float = 0
    ) -> IngestReport:
        """Decode `inputs` into the store at `store` (Store.ingest's contract)."""
        ...

    def detect_window(
        self, positions: pd.DataFrame, cfg: Any, zones: Any, **kw: Any
    ) -> tuple[pd.DataFrame, Any]:
        """Tracks and all detectors over one window (mda.scan.detect_window's contract)."""
        ...


class LocalEngine:
    """The embedded engine: everything in this process."""

    def ingest(
        self, store: str | os.PathLike[str], inputs: Any, *, start_time: Any = None, wait: float = 0
    ) -> IngestReport:
        """Store.ingest, in this process."""
        from mda.store import Store

        return Store(store).ingest(inputs, start_time=start_time, wait=wait)

    def detect_window(
        self, positions: pd.DataFrame, cfg: Any, zones: Any, **kw: Any
    ) -> tuple[pd.DataFrame, Any]:
        """mda.scan.detect_window, in this process."""
        from mda.scan import detect_window

        return detect_window(positions, cfg, zones, **kw)


@contextlib.contextmanager
def open_engine(
    name: str = "local", *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Engine]:
    """The engine `name` for the duration (a Dask cluster is started, or joined, and let go)."""
    if name not in ENGINES:
        raise MdaError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
    if name == "local":
        if workers is not None or scheduler is not None:
            raise MdaError("--workers and --scheduler are options of --engine dask")
        yield LocalEngine()
        return
    try:
        from mda.engine.dask import DaskEngine
    except ImportError as e:
        raise MdaError(
            f"--engine dask needs Dask ({e.name} is not installed): pip install 'mda[dask]'"
        ) from None
    with DaskEngine.open(workers=workers, scheduler=scheduler) as engine:
        yield engine
