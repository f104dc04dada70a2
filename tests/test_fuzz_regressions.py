"""The mutation fuzzer (scripts/fuzz.py): a short run, and every input it ever broke mda with.

Each file under tests/fuzz_cases/ is a shrunk input that once raised or lost data; it is read
the ways the fuzzer reads (file, gzip, line iterable, store ingest) and must give a clean result.
Targeted tests below pin what the fix promised for each.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED, load_script

from mda.sources import read_ais

CASES = sorted((Path(__file__).parent / "fuzz_cases").glob("*.*"))
START = pd.Timestamp("2024-05-30T00:00:00Z")


fuzz = load_script("fuzz", "mda_fuzz")


def _batch(path: Path, wrap: str, store: bool):
    lines = path.read_bytes().rstrip(b"\n").split(b"\n")
    kind = "nmea" if path.suffix == ".nmea" else "csv"
    return fuzz.Batch(kind, lines, wrap, mutated=0, store=store)


@pytest.mark.parametrize("wrap", ["plain", "gzip", "iter"])
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_fuzz_case_reads_cleanly(case, wrap, tmp_path):
    if wrap == "iter" and case.suffix != ".nmea":
        pytest.skip("only NMEA is read from a line iterable")
    fuzz.feed(_batch(case, wrap, store=wrap != "iter"), tmp_path)  # raises on any failure


def test_short_fuzz_run_raises_nothing(tmp_path):
    """A few thousand mutated lines of the real samples (when present) and simulator output."""
    seeds = fuzz.load_seeds(SHARED if SHARED.is_dir() else None, max_rows=3000)
    stats = fuzz.fuzz(2000, seed=20240530, out=tmp_path / "out", seeds=seeds, size=(100, 300))
    assert stats.mutated >= 2000 and stats.batches >= 10
    assert not stats.failures, stats.summary()


def test_fuzz_batches_are_deterministic_by_seed():
    seeds = fuzz.load_seeds(None)
    a = [fuzz.make_batch(7, i, seeds) for i in range(5)]
    b = [fuzz.make_batch(7, i, seeds) for i in range(5)]
    assert [x.data() for x in a] == [x.data() for x in b]
    assert a[0].data() != fuzz.make_batch(8, 0, seeds).data()


def test_fuzz_counts_a_crash_and_saves_it_shrunk(tmp_path, monkeypatch):
    """The harness itself: a reader that raises on one line is caught, shrunk to it, saved."""
    import mda

    real = mda.read_ais

    def fragile(inputs, **kw):
        data = real(inputs, **kw)
        if (data.positions["mmsi"] == 219000734).any():
            raise KeyError("boom")
        return data

    monkeypatch.setattr(mda, "read_ais", fragile)
    monkeypatch.setattr(fuzz, "mutate", lambda r, line, ops, ctx: line)
    rows = [_DMA_ROW, _DMA_ROW.replace(b"219000734", b"219000735")]
    seeds = [fuzz.Seed("dma", "csv", rows, _DMA_HEADER)]
    stats = fuzz.fuzz(20, seed=1, out=tmp_path, seeds=seeds, size=(2, 2), shrink_s=3)
    assert stats.exceptions >= 1 and stats.failures.most_common(1)[0][0].startswith("KeyError")
    saved = stats.saved[0].read_bytes()
    assert saved.count(b"\n") == 2 and b"219000734" in saved  # header and the one bad row


_DMA_HEADER = (
    b"# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,"
    b"IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,"
    b"Destination,ETA,Data source type,A,B,C,D"
)
_DMA_ROW = (
    b"15/10/2022 11:16:01,Class A,219000734,57.296787,10.922245,Under way using engine,0.0,0.0,"
    b"210.3,180,9107370,OXXL,ANE LAESOE,Passenger,,15,54,GPS,2.9,LAESOE,,AIS,24,30,7,8"
)

# -- targeted regressions ---------------------------------------------------------------------


def test_truncated_position_payload_is_a_decode_error_not_a_wrong_position():
    """`!AIVDM,1,1,,A,13,2*26` raised TypeError (int(None) for a missing nav status); longer
    cuts decoded the bits that were there into wrong latitudes. A payload too short for the
    fields mda reads does not decode; one long enough decodes to the full message's values."""
    full = "15RTgt0PAso;90TKcjM8h6g208CQ"
    lines = [_sentence(full[:n]) for n in range(1, len(full) + 1)]
    data = read_ais(lines, start_time=START)
    # 23 characters (138 bits) hold everything up to the heading (bit 137)
    assert len(data.positions) == len(full) - 22
    assert data.report.rejected["decode_error"] == 22
    assert np.allclose(data.positions["lat"], data.positions["lat"].iloc[-1])
    assert np.allclose(data.positions["lon"], data.positions["lon"].iloc[-1])


def _sentence(payload: str) -> str:
    body = f"AIVDM,1,1,,A,{payload},0"
    return f"!{body}*{fuzz._nmea_checksum(body.encode()).decode()}"


def test_short_csv_row_with_invalid_utf8_is_one_malformed_row():
    """Arrow could not hand a short row holding invalid UTF-8 to the invalid-row handler: the
    UnicodeDecodeError printed a traceback and ended the file there, losing the rows after it."""
    data = read_ais(Path(__file__).parent / "fuzz_cases" / "short-row-invalid-utf8.csv")
    assert len(data.positions) == 2
    assert data.report.rejected["malformed"] == 1
    assert not data.report.failed


def test_long_csv_row_of_invalid_utf8_does_not_straddle_arrow_blocks(tmp_path):
    """Invalid UTF-8 reaches Arrow as 3-byte U+FFFD: a row just under the 64 KiB line cap made
    of such bytes must still fit one parse block, or the rest of the file would be lost."""
    path = tmp_path / "wide.csv"
    good = _DMA_ROW
    later = good.replace(b"11:16:01", b"11:17:01")
    path.write_bytes(
        b"\n".join(
            [
                _DMA_HEADER,
                good,
                b"\xff" * 65_000,
                later,
                b"1," + b"\xfe" * 65_000,
                good.replace(b"11:16:01", b"11:18:01"),
            ]
        )
        + b"\n"
    )
    data = read_ais(path)
    assert len(data.positions) == 3
    assert data.report.rejected["malformed"] == 2
    assert not data.report.failed


def test_tag_group_with_a_superscript_digit_is_no_group():
    """`g:¹9-1-1` passed str.isdigit() and raised ValueError in int(): not a group, no crash."""
    data = read_ais(
        ["\\g:\xb99-1-1\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"], start_time=START
    )
    assert len(data.positions) == 1


def test_csv_with_a_utf8_bom_is_read():
    """The sniffer decodes latin-1, so a UTF-8 BOM is "ï»¿", not U+FEFF: a CSV saved with a BOM
    (spreadsheets do) was refused whole as "neither AIS NMEA nor a DMA/MarineCadastre CSV"."""
    data = read_ais(Path(__file__).parent / "fuzz_cases" / "utf8-bom-header.csv")
    assert len(data.positions) == 1
    assert not data.report.rejected.total()
