"""Wall and CPU seconds of a benchmark step, measured together: the machine may be shared, so a
wall time alone can be another process's load, and CPU seconds above wall seconds show threads
at work (a second thread is not a faster algorithm). Benchmarks import it as a sibling module
(`python scripts/bench_x.py` puts scripts/ on the import path)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Took:
    """Seconds one step took: on the wall clock, and of this process's CPU (all its threads)."""

    wall: float = 0.0
    cpu: float = 0.0

    def __str__(self) -> str:
        return f"{self.wall:.2f} s wall, {self.cpu:.2f} s CPU"

    def speedup(self, base: Took) -> str:
        """How many times faster than `base` this step ran, by wall clock and by CPU."""
        cpu = f"{base.cpu / self.cpu:.1f}x" if self.cpu > 0 else "-"
        return f"{base.wall / self.wall:.1f}x wall, {cpu} CPU"


@contextmanager
def timed() -> Iterator[Took]:
    """`with timed() as took: ...`: took.wall and took.cpu are set when the block ends."""
    took = Took()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield took
    finally:
        took.wall, took.cpu = time.perf_counter() - wall, time.process_time() - cpu


def best_of(func: Callable[..., Any], *args: Any, repeat: int = 1) -> Took:
    """The fastest (by wall clock) of `repeat` calls of func(*args)."""
    runs = []
    for _ in range(repeat):
        with timed() as took:
            func(*args)
        runs.append(took)
    return min(runs, key=lambda t: t.wall)
