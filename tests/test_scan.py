"""The scan: files scanned directly, the incremental store scan across runs, and `mda scan`."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers.cli import run_cli
from helpers.detect import M_PER_DEG, T0, Leg, positions, sail

from mda.errors import MdaError
from mda.scan import run_scan

pytest.importorskip("mda.zones", reason="zones module not written yet")

A, B, C, BAD = 211000001, 211000002, 211000003, 123456789
NOAA = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,"
    "Width,Draft,Cargo,TransceiverClass"
)
# open sea in the southern North Sea between the bundled layers' ports (no zone nearby)
LAT, LON = 54.6, 4.0


def _traffic() -> pd.DataFrame:
    """Eight hours: A and B drift together from 1 h to 6 h (an encounter), C sails by, and a
    transmitter with the test number 123456789 reports throughout."""
    legs = [Leg(60, 10), Leg(300, 0.3), Leg(120, 10)]
    a = sail(A, legs, lat=LAT, lon=LON, every_s=120)
    b = sail(B, legs, lat=LAT + 200 / M_PER_DEG, lon=LON, every_s=120)
    c = sail(C, [Leg(480, 12, course=0)], lat=LAT - 0.5, lon=LON + 0.5, every_s=120)
    bad = sail(BAD, [Leg(480, 8, course=180)], lat=LAT + 0.5, lon=LON - 0.5, every_s=120)
    return positions(a, b, c, bad)


def _write_noaa(pos: pd.DataFrame, path, names=None) -> None:
    names = names or {}
    lines = [NOAA]
    for r in pos.itertuples():
        ts = r.ts.strftime("%Y-%m-%dT%H:%M:%S")
        name = names.get(r.mmsi, f"SHIP {r.mmsi % 1000}")
        lines.append(
            f"{r.mmsi},{ts},{r.lat:.6f},{r.lon:.6f},{r.sog:.1f},{r.cog:.1f},{r.heading:.0f},"
            f"{name},,,70,0,100,20,8,,A"
        )
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def parts(tmp_path):
    """The traffic split at 4 h into two files, as two ingests would receive it."""
    pos = _traffic()
    cut = T0 + pd.Timedelta(hours=4)
    p1, p2 = tmp_path / "part1.csv", tmp_path / "part2.csv"
    _write_noaa(pos[pos["ts"] < cut], p1)
    _write_noaa(pos[pos["ts"] >= cut], p2)
    whole = tmp_path / "whole.csv"
    _write_noaa(pos, whole)
    return p1, p2, whole


def _types(df: pd.DataFrame) -> list[str]:
    return sorted(df["type"].tolist())


def test_scan_files_directly(parts, tmp_path):
    _, _, whole = parts
    out = tmp_path / "alerts.geojson"
    r = run_scan(inputs=[whole], out=out)
    enc = r.alerts[r.alerts["type"] == "encounter"]
    assert enc[["mmsi", "other_mmsi"]].values.tolist() == [[A, B]]
    ident = r.alerts[r.alerts["type"] == "identity_conflict"]
    assert ident["mmsi"].tolist() == [BAD]
    assert len(r.new_alerts) == len(r.alerts)
    assert r.positions == len(_traffic())
    doc = json.loads(out.read_text())
    assert len(doc["features"]) == len(r.alerts)
    s = r.summary()
    assert s["by_type"]["encounter"] == 1 and s["new"] == len(r.alerts)
    assert "encounter" in r.format_summary()
    assert r.reached("medium") and not r.reached("critical")


def test_scan_files_within_a_window(parts):
    _, _, whole = parts
    r = run_scan(inputs=[whole], until=T0 + pd.Timedelta(hours=2))
    assert "encounter" not in r.alerts["type"].tolist()  # only 1 h together before 2 h
    empty = run_scan(inputs=[whole], since=T0 + pd.Timedelta(days=3))
    assert empty.alerts.empty and empty.positions == 0 and not empty.reached("info")


def test_watchlist_in_a_file_scan(parts, tmp_path):
    _, _, whole = parts
    wl = tmp_path / "watch.csv"
    wl.write_text(f"mmsi,reason\n{C},test\n")
    r = run_scan(inputs=[whole], watchlist=wl)
    w = r.alerts[r.alerts["type"] == "watchlist"]
    assert w["mmsi"].tolist() == [C]


def test_bad_watchlist_fails_before_any_work(parts, tmp_path):
    _, _, whole = parts
    wl = tmp_path / "watch.csv"
    wl.write_text("mmsi\nnot-a-number\n")
    with pytest.raises(MdaError, match=r"watch\.csv:2"):
        run_scan(inputs=[whole], watchlist=wl)


def test_no_inputs_and_no_store_is_an_error():
    with pytest.raises(MdaError, match="give INPUT files or --store"):
        run_scan()


# --- the incremental store scan -----------------------------------------------------------


@pytest.fixture
def store_mod():
    return pytest.importorskip("mda.store", reason="store module not written yet")


def test_incremental_scan_raises_each_event_once(parts, tmp_path, store_mod):
    p1, p2, _ = parts
    store = tmp_path / "store"
    r1 = run_scan(inputs=[p1], store=store)
    assert "encounter" in _types(r1.new_alerts)  # 3 h together already by the first cut
    first = r1.new_alerts.set_index("type").loc["encounter"]
    r2 = run_scan(inputs=[p2], store=store)
    assert "encounter" not in _types(r2.new_alerts)  # seen whole, same id, not raised again
    assert "encounter" in _types(r2.alerts)
    assert r2.window[0] <= T0 + pd.Timedelta(hours=1)  # the overlap re-read the first part
    stored = store_mod.Store(store, create=False).alerts(None, None, None, None)
    enc = stored[stored["type"] == "encounter"]
    assert len(enc) == 1  # no duplicate
    assert enc["id"].iloc[0] == first["id"]
    assert enc["end"].iloc[0] > first["end"]  # the ongoing event was extended
    assert len(stored) == len(stored["id"].unique())
    # nothing new: nothing to do, nothing raised
    r3 = run_scan(store=store)
    assert r3.new_alerts.empty and r3.positions == 0


def test_split_and_whole_scans_agree(parts, tmp_path, store_mod):
    p1, p2, whole = parts
    run_scan(inputs=[p1], store=tmp_path / "s1")
    run_scan(inputs=[p2], store=tmp_path / "s1")
    run_scan(inputs=[whole], store=tmp_path / "s2")
    ids = [
        set(store_mod.Store(tmp_path / s, create=False).alerts(None, None, None, None)["id"])
        for s in ("s1", "s2")
    ]
    assert ids[0] == ids[1]


def test_scheduled_scan_after_separate_ingest(parts, tmp_path, store_mod):
    p1, _, _ = parts
    store = tmp_path / "store"
    store_mod.Store(store).ingest([p1])
    r = run_scan(store=store)
    assert "encounter" in _types(r.new_alerts)
    assert r.watermark is not None
    assert run_scan(store=store).new_alerts.empty


def test_explicit_window_on_a_store_records_alerts_but_not_progress(parts, tmp_path, store_mod):
    p1, _, _ = parts
    store = tmp_path / "store"
    st = store_mod.Store(store)
    st.ingest([p1])
    pending = st.pending()
    look = run_scan(store=store, since=T0, until=T0 + pd.Timedelta(hours=4))
    assert "encounter" in _types(look.new_alerts) and look.watermark is None
    assert store_mod.Store(store, create=False).pending() == pending  # still to be scanned
    r = run_scan(store=store)
    assert r.watermark == pending[0]
    assert "encounter" not in _types(r.new_alerts)  # already raised by the look back


def test_lock_contention_is_a_one_line_error(parts, tmp_path, store_mod):
    p1, _, _ = parts
    store = tmp_path / "store"
    st = store_mod.Store(store)
    st.ingest([p1])
    with st.lock(), pytest.raises(MdaError) as e:
        run_scan(store=store)
    assert "\n" not in str(e.value)
    assert "encounter" in _types(run_scan(store=store).new_alerts)  # lock released: runs


def test_interrupted_scan_leaves_state_for_the_next_run(parts, tmp_path, store_mod, monkeypatch):
    p1, _, _ = parts
    store = tmp_path / "store"
    store_mod.Store(store).ingest([p1])
    import mda.scan

    real = mda.scan.detect_window

    def boom(*a, **kw):
        real(*a, **kw)
        raise KeyboardInterrupt  # after detection, before the alerts are saved

    monkeypatch.setattr(mda.scan, "detect_window", boom)
    with pytest.raises(KeyboardInterrupt):
        run_scan(store=store)
    monkeypatch.setattr(mda.scan, "detect_window", real)
    assert store_mod.Store(store, create=False).alerts(None, None, None, None).empty
    r = run_scan(store=store)
    assert "encounter" in _types(r.new_alerts)


# --- the command line ---------------------------------------------------------------------


def test_cli_exit_codes(parts, tmp_path):
    _, _, whole = parts
    ok = run_cli("scan", whole, "--json")
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)
    assert summary["by_type"]["encounter"] == 1
    assert run_cli("scan", whole, "--fail-on", "medium").returncode == 3
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[encounter]\nmax_distance_metres = 5\n")
    bad = run_cli("scan", whole, "--config", cfg)
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "max_distance_metres" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert run_cli("scan", whole, "--fail-on", "severe").returncode == 2
    assert run_cli("scan", "--json").returncode == 1  # neither INPUT nor --store


def test_scan_renders_the_map_report(parts, tmp_path):
    _, _, whole = parts
    html = tmp_path / "map.html"
    r = run_scan(inputs=[whole], report=html, out=tmp_path / "alerts.csv")
    text = html.read_text(encoding="utf-8")
    assert "encounter" in text and str(A) in text
    assert (tmp_path / "alerts.csv").read_text().count("\n") == len(r.alerts) + 1


def test_stream_without_times_is_reported_not_silently_empty(tmp_path):
    nmea = tmp_path / "no-times.nmea"
    nmea.write_text("!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30\n", encoding="ascii")
    r = run_cli("scan", str(nmea))
    assert r.returncode == 0
    assert "no receiver time" in r.stderr and "--start-time" in r.stderr
    assert "positions  0 of 0 vessels" in r.stdout
    r = run_cli("scan", str(nmea), "--start-time", "2024-05-30T00:00:00", "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["positions"] == 1
