"""Progress bars for long work (decoding large inputs for ingest, scan, report), on a terminal.

A bar is drawn with tqdm on stderr, and only when the `mda` command turned bars on (not with
``--quiet``) and stderr is a terminal: pipes, logs, cron mail and the Python API get nothing, and
stdout (``--json``) never carries a bar. Bars count decoded positions chunk by chunk, so they cost
one update per chunk, and are cleared when done so the command's own output follows cleanly.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

_shown = False


@contextlib.contextmanager
def shown(on: bool = True) -> Iterator[None]:
    """Within this block, draw bars when stderr is a terminal (the CLI's switch)."""
    global _shown
    before, _shown = _shown, on
    try:
        yield
    finally:
        _shown = before


def _terminal() -> TextIO | None:
    """The real stderr when bars are on and it is a terminal, else None.

    The CLI's stderr is a mda.terminal.SafeStream, which would turn tqdm's carriage returns into
    "?": the bar goes to the stream beneath it, and its text is fixed (no input text in it).
    """
    if not _shown:
        return None
    stream = getattr(sys.stderr, "stream", sys.stderr)
    try:
        return stream if stream.isatty() else None
    except (AttributeError, ValueError):  # no isatty, or closed
        return None


def chunks(items: Iterable[Any], desc: str) -> Iterator[Any]:
    """Yield decoded chunks (mda.sources.AisData) from `items`, counting their positions on a
    bar labelled `desc` when bars are shown."""
    stream = _terminal()
    if stream is None:
        yield from items
        return
    from tqdm import tqdm

    with tqdm(
        desc=desc,
        unit=" positions",
        unit_scale=True,
        file=stream,
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        for chunk in items:
            bar.update(len(chunk.positions))
            yield chunk
