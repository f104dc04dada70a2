"""The Dask engine against the local one: the same inputs ingested and scanned on a 2-worker
LocalCluster store the same positions and raise the same alerts (ids, types, times, evidence,
status) as the embedded engine, on the bundled scenarios, the red-team variants and the real
samples."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import pandas as pd
import pytest

from mda.engine import LocalEngine, open_engine
from mda.errors import MdaError
from mda.scan import run_scan
from mda.simulate import simulate
from mda.store import Store

pytest.importorskip("distributed", reason="the Dask engine needs the mda[dask] extra")

from mda.engine.dask import DaskEngine, byte_ranges, split_only

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@pytest.fixture(scope="module")
def dask_engine():
    """One 2-worker LocalCluster for the module; NMEA files over 1 MB decode in byte ranges,
    so the tests' small files are cut into several tasks too."""
    with DaskEngine.open(workers=2) as engine:
        engine.chunk_bytes = 1 << 20
        yield engine


def both(inputs: list[Path], tmp_path: Path, engine, **scan) -> tuple[dict, dict]:
    """Ingest and scan `inputs` into a store per engine: (local, dask) results."""
    out = []
    for name, eng in (("local", LocalEngine()), ("dask", engine)):
        store = tmp_path / name
        report = eng.ingest(store, inputs)
        result = run_scan(store=store, engine=eng, **scan)
        with contextlib.closing(Store(store, readonly=True)) as st:
            out.append(
                {
                    "report": report,
                    "alerts": result.alerts,
                    "new": result.new_alerts,
                    "stored": st.alerts(),
                    "positions": st.positions(),
                    "watermark": result.watermark == st.watermark(),
                    "pending": st.pending(),
                }
            )
    return out[0], out[1]


def assert_same(local: dict, dask: dict) -> None:
    """Same positions stored, same alerts found, raised and stored, watermark at the end."""
    pd.testing.assert_frame_equal(local["positions"], dask["positions"])
    for key in ("alerts", "new", "stored"):
        pd.testing.assert_frame_equal(local[key], dask[key], obj=key)
    assert local["watermark"] and dask["watermark"]  # every batch seen (ids are the store's)
    assert local["pending"] is None and dask["pending"] is None
    assert local["report"].positions == dask["report"].positions
    assert local["report"].stored == dask["report"].stored


def _simulated(tmp_path: Path, scenario: str | Path, **kw) -> tuple[Path, int]:
    path = tmp_path / "traffic.nmea"
    sim = simulate(scenario, seed=1, **kw)
    sim.write(path)
    return path, len(sim.truth)


@pytest.mark.parametrize(
    ("scenario", "vessels"),
    [
        ("baltic-cables", None),
        pytest.param("korea-strait", None, marks=pytest.mark.slow),
        pytest.param("scale", 120, marks=pytest.mark.slow),
    ],
)
def test_scenarios_same_alerts(scenario, vessels, tmp_path, dask_engine):
    path, planted = _simulated(tmp_path, scenario, vessels=vessels)
    assert len(byte_ranges(path, dask_engine.chunk_bytes)) > 1  # decoded by several tasks
    local, dask = both([path], tmp_path, dask_engine)
    assert_same(local, dask)
    assert planted and len(local["alerts"]) >= 3  # the planted cases were found, not nothing
    assert local["alerts"]["type"].nunique() >= 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "scenario",
    [
        "korea-eu",
        "korea-strait-noisy",
        "baltic-cables-noisy",
        "korea-eu-noisy",
        SCENARIOS / "korea-variants.toml",
        SCENARIOS / "baltic-drags.toml",
        SCENARIOS / "busy-port.toml",
    ],
    ids=lambda s: Path(str(s)).stem,
)
def test_variants_same_alerts(scenario, tmp_path, dask_engine):
    path, _ = _simulated(tmp_path, scenario)
    local, dask = both([path], tmp_path, dask_engine)
    assert_same(local, dask)
    assert len(local["alerts"])


@pytest.mark.slow
def test_incremental_and_look_back_same(tmp_path, dask_engine):
    """Two ingests, each followed by a scheduled scan, then a look back: the same at each step
    (open events carried, watermark, alerts updated in place)."""
    sim = simulate("korea-strait", seed=2)
    first, second = tmp_path / "a.nmea", tmp_path / "b.nmea"
    sim.write(tmp_path / "all.nmea")
    lines = (tmp_path / "all.nmea").read_text().splitlines(keepends=True)
    first.write_text("".join(lines[: len(lines) // 2]))
    second.write_text("".join(lines[len(lines) // 2 :]))
    local, dask = both([first], tmp_path, dask_engine)
    assert_same(local, dask)
    for name, eng in (("local", LocalEngine()), ("dask", dask_engine)):
        eng.ingest(tmp_path / name, [second])
    steps = [{}, {"since": sim.start + pd.Timedelta(hours=6), "until": sim.end}]
    for scan in steps:
        got = [
            run_scan(store=tmp_path / name, engine=eng, **scan)
            for name, eng in (("local", LocalEngine()), ("dask", dask_engine))
        ]
        pd.testing.assert_frame_equal(got[0].alerts, got[1].alerts)
        pd.testing.assert_frame_equal(got[0].new_alerts, got[1].new_alerts)
        assert len(got[0].alerts)


def test_reingest_is_a_no_op(tmp_path, dask_engine):
    path, _ = _simulated(tmp_path, "baltic-cables")
    dask_engine.ingest(tmp_path / "s", [path])
    again = dask_engine.ingest(tmp_path / "s", [path])
    assert again.stored == 0
    assert any("skipped, same content" in w for w in again.warnings)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["nmea", "positions"])
def test_real_samples_same_alerts(kind, shared_data, tmp_path, dask_engine):
    files = sorted(p for p in (shared_data / kind).rglob("*") if p.is_file())
    if not files:
        pytest.skip(f"no real samples under {shared_data / kind}")
    local, dask = both(files, tmp_path, dask_engine)
    assert_same(local, dask)
    assert len(local["positions"])


def test_byte_ranges_cut_before_a_message(tmp_path):
    path, _ = _simulated(tmp_path, "baltic-cables")
    ranges = byte_ranges(path, 50_000)
    data = path.read_bytes()
    assert ranges[0][0] == 0 and ranges[-1][1] == -1
    for (_, hi), (lo, _) in itertools.pairwise(ranges):
        assert hi == lo and data[lo - 1 : lo] == b"\n"
        sentence = data[lo:].split(b"\\", 2)[-1]
        assert sentence.split(b",")[2] == b"1"  # a first fragment
    csv = tmp_path / "p.csv"
    csv.write_text("MMSI,BaseDateTime,LAT,LON\n" * 10_000)
    assert byte_ranges(csv, 1000) == [(0, -1)]  # the header belongs to the whole file


def test_split_only():
    local, mapped = split_only(None)
    assert "encounter" in local and "ais_gap" in local and "dwell" in mapped
    assert split_only(["loitering", "encounter"]) == (["encounter"], ["loitering"])
    with pytest.raises(MdaError, match="unknown detector"):
        split_only(["nope"])


def test_engine_options():
    with pytest.raises(MdaError, match="--engine dask"), open_engine("local", workers=2):
        pass
    with pytest.raises(MdaError, match="unknown engine"), open_engine("spark"):
        pass
    with pytest.raises(MdaError, match="1 or more"), open_engine("dask", workers=0):
        pass


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line():
    with (
        pytest.raises(MdaError, match="cannot reach"),
        open_engine("dask", scheduler="tcp://127.0.0.1:9"),
    ):
        pass


def test_input_files_scan_same(tmp_path, dask_engine):
    """`mda scan INPUT --engine dask` (no store) maps the detectors the same way."""
    path, _ = _simulated(tmp_path, "baltic-cables")
    local, dask = run_scan(inputs=[path]), run_scan(inputs=[path], engine=dask_engine)
    pd.testing.assert_frame_equal(local.alerts, dask.alerts)
    assert len(local.alerts)
