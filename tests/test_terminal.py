"""safe_text and SafeStream: what reaches the terminal from hostile text."""

from __future__ import annotations

import io
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mda.terminal import SafeStream, safe_text


@pytest.mark.parametrize(
    "char",
    [
        "\x00",
        "\x07",
        "\x08",
        "\t",
        "\r",
        "\x1b",
        "\x7f",
        "\x85",
        "\x9b",
        "\u202e",
        "\u2066",
        "\u2069",
        "\u200f",
        "\u2028",
        "\udcff",
    ],
)
def test_unsafe_characters_become_one_question_mark(char):
    assert safe_text(f"a{char}b") == "a?b"
    assert safe_text(f"a{char}b", newlines=True) == "a?b"


def test_line_feeds_kept_only_in_multi_line_text():
    assert safe_text("a\nb\n", newlines=True) == "a\nb\n"
    assert safe_text("a\nb\n") == "a b"  # one-line messages: errors, warnings, log lines


def test_plain_and_international_text_unchanged():
    for text in ("EVER GIVEN", "Busan 부산 港", "Ærø – Søby", "area km²", "1,234.5"):
        assert safe_text(text) == text


#: Bidi classes of the embedding, override, isolate and mark characters.
BIDI_CONTROLS = ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")


@given(st.text(st.characters(codec=None, categories=None)))
def test_output_never_holds_a_control_and_keeps_its_width(text):
    out = safe_text(text, newlines=True)
    assert len(out) == len(text)  # one "?" per character: tables stay aligned
    for c in out:
        assert c == "\n" or unicodedata.category(c) not in ("Cc", "Cs", "Zl", "Zp"), repr(c)
        assert unicodedata.bidirectional(c) not in BIDI_CONTROLS, repr(c)


def test_safe_stream_writes_clean_text_through():
    raw = io.StringIO()
    stream = SafeStream(raw)
    assert stream.write("\x1b[2Jhello\n") == len("\x1b[2Jhello\n")
    print("bell\x07", file=stream)
    stream.flush()
    assert raw.getvalue() == "?[2Jhello\nbell?\n"
    assert stream.isatty() is False and stream.writable()
