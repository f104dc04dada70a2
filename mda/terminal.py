"""Text bound for a terminal: control characters of hostile input made harmless.

Zone names, vessel names and file names are attacker-controlled; printed raw they could move
the cursor, rewrite earlier lines (CR, backspace, ESC [ ...), plant hyperlinks (OSC 8), ring the
bell, or reorder what the analyst reads (bidi overrides). Every character below becomes "?"
(one column wide, so tables stay aligned); the CLI wraps stdout and stderr in :class:`SafeStream`
so that everything it prints passes through :func:`safe_text` once, at the output boundary.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

#: C0 controls except LF, DEL and C1 controls, bidi embeddings/overrides/isolates and marks,
#: line/paragraph separators, and lone surrogates (undecodable bytes of a file name).
_UNSAFE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_RE = re.compile(f"[{_UNSAFE}]")


def safe_text(text: str, *, newlines: bool = False) -> str:
    """`text` with every unsafe character replaced by "?"; line feeds kept when `newlines`,
    else turned into spaces (one-line messages: errors, warnings, log lines)."""
    if not newlines:
        text = text.strip("\n").replace("\n", " ")
    return _UNSAFE_RE.sub("?", text)


class SafeStream(io.TextIOBase):
    """A text stream that writes through :func:`safe_text` (line feeds kept) to `stream`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, s: str) -> int:
        self.stream.write(safe_text(s, newlines=True))
        return len(s)

    def flush(self) -> None:
        self.stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")
