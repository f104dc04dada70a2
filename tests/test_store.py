"""The Parquet + SQLite store: round trip, partitions, dedupe, crash safety, alerts, scans, lock."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file

from mda import schema
from mda.cli import main
from mda.errors import MdaError
from mda.sources.base import AisData
from mda.sources.csv import DMA_COLUMNS
from mda.store import (
    DEDUPE_KEY,
    EVENT_COLUMNS,
    REVIEW_COLUMNS,
    SCHEMA_VERSION,
    Store,
)
from mda.store.dedupe import MAX_SPANS, spans

T0 = pd.Timestamp("2024-03-01 10:00:00", tz="UTC")
ROOT = Path(__file__).resolve().parents[1]


def fixes(n: int, *, mmsi: int = 219000001, start=T0, step_s: float = 10, **cols) -> pd.DataFrame:
    """`n` positions of one vessel moving north, conformed to schema.POSITIONS."""
    df = pd.DataFrame(
        {
            "mmsi": mmsi,
            "ts": pd.Timestamp(start) + pd.to_timedelta(np.arange(n) * step_s, unit="s"),
            "lat": 55.0 + np.arange(n) * 1e-3,
            "lon": 11.0,
            "sog": 10.0,
            "cog": 0.0,
            "heading": np.nan,
            "nav_status": 0,
            "msg_type": 1,
            "source": "test",
            "station": "",
        }
    )
    for k, v in cols.items():
        df[k] = v
    return schema.conform(df, schema.POSITIONS)


def ais(positions: pd.DataFrame, statics: pd.DataFrame | None = None) -> AisData:
    data = AisData(positions=positions)
    if statics is not None:
        data.statics = schema.conform(statics, schema.VESSELS)
    return data


def aux_rows(n: int, *, mmsi: int = 2190001, start=T0, step_s: float = 10) -> pd.DataFrame:
    """`n` reports of one base station (type 4) whose clock runs 2 s behind the receiver."""
    ts = start + pd.to_timedelta(np.arange(n) * step_s, unit="s")
    df = pd.DataFrame(
        {"mmsi": mmsi, "ts": ts, "lat": 55.5, "lon": 12.5, "msg_type": 4, "name": "",
         "source": "", "clock": ts - pd.Timedelta(seconds=2)}
    )  # fmt: skip
    return schema.conform(df, schema.AUX_POSITIONS)


def binary_rows(n: int, *, start=T0) -> pd.DataFrame:
    """`n` binary messages: broadcasts (8) of DAC 1 FI 31, and one addressed (6) without FI."""
    ts = start + pd.to_timedelta(np.arange(n), unit="s")
    df = pd.DataFrame(
        {"mmsi": 219000001, "ts": ts, "msg_type": 8, "dest_mmsi": pd.NA, "dac": 1, "fi": 31,
         "data": [f"{i:04x}" for i in range(n)], "source": "b.nmea"}
    )  # fmt: skip
    df.loc[0, ["msg_type", "dest_mmsi", "fi"]] = [6, 219000002, pd.NA]
    return schema.conform(df, schema.BINARY)


def alert(type_="loitering", mmsi=219000001, start=T0, hours=1.0, severity="medium", **kw):
    start = pd.Timestamp(start)
    row = {
        "type": type_,
        "severity": severity,
        "mmsi": mmsi,
        "other_mmsi": kw.pop("other_mmsi", None),
        "vessel_name": "ALFA",
        "start": start,
        "end": start + pd.Timedelta(hours=hours),
        "lat": 55.0,
        "lon": 11.0,
        "zone_id": kw.pop("zone_id", None),
        "evidence": {"hours": hours},
        "thresholds": {"min_hours": 2.0},
    }
    row["id"] = kw.pop("id", None) or schema.alert_id(
        type_, mmsi, row["other_mmsi"], row["zone_id"], start
    )
    return row


def alerts_frame(*rows) -> pd.DataFrame:
    return schema.conform(pd.DataFrame(list(rows)), schema.ALERTS)


def test_round_trip_types(tmp_path):
    store = Store(tmp_path / "s")
    pos = fixes(5, heading=[1.0, np.nan, 3.0, 4.0, 359.0], nav_status=[0, 1, 5, 15, 7])
    pos.loc[1, "sog"] = np.nan
    assert store.add(ais(pos), source="unit") == 5
    got = Store(tmp_path / "s", create=False).positions()
    assert {c: str(t) for c, t in got.dtypes.items()} == schema.POSITIONS
    pd.testing.assert_frame_equal(got, pos)
    part = next((tmp_path / "s" / "positions").glob("day=*/*.parquet"))
    assert part.parent.name == "day=2024-03-01" and part.name == "1-0.parquet"


def test_missing_store_and_bad_database(tmp_path):
    with pytest.raises(MdaError, match=r"nope: not an mda store$"):
        Store(tmp_path / "nope", create=False)
    assert not (tmp_path / "nope").exists()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "mda.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(MdaError, match="not an mda store database"):
        Store(bad)


@pytest.mark.parametrize(("version", "message"), [(0, "older mda"), (99, "newer mda")])
def test_other_schema_version(tmp_path, version, message):
    Store(tmp_path / "s").add(ais(fixes(2)), source="unit")
    with sqlite3.connect(tmp_path / "s" / "mda.sqlite") as con:
        con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
    with pytest.raises(MdaError, match=message) as e:
        Store(tmp_path / "s")
    assert "\n" not in str(e.value)


def test_partitions_by_utc_day_across_midnight(tmp_path):
    store = Store(tmp_path / "s")
    midnight = pd.Timestamp("2024-03-02", tz="UTC")
    store.add(ais(fixes(4, start=midnight - pd.Timedelta(seconds=20))), source="unit")
    days = sorted(p.name for p in (tmp_path / "s" / "positions").iterdir())
    assert days == ["day=2024-03-01", "day=2024-03-02"]
    after = store.positions(since=midnight)
    assert list(after["ts"]) == [midnight, midnight + pd.Timedelta(seconds=10)]
    before = store.positions(until=midnight)
    assert len(before) == 2 and (before["ts"] < midnight).all()
    assert store.info()["days"] == 2


def test_positions_windows_filters_and_order(tmp_path):
    store = Store(tmp_path / "s")
    store.add(ais(fixes(10, mmsi=219000002)), source="a")
    store.add(ais(fixes(10, mmsi=219000001, start=T0 + pd.Timedelta(seconds=5))), source="b")
    allpos = store.positions()
    assert list(allpos["mmsi"]) == [219000001] * 10 + [219000002] * 10
    assert allpos.groupby("mmsi")["ts"].apply(lambda s: s.is_monotonic_increasing).all()
    win = store.positions(since=T0 + pd.Timedelta(seconds=10), until=T0 + pd.Timedelta(seconds=30))
    assert list(win["ts"].dt.second) == [15, 25, 10, 20]  # by mmsi, then time
    one = store.positions(mmsi=219000002, until=T0 + pd.Timedelta(seconds=15))
    assert list(one["ts"]) == [T0, T0 + pd.Timedelta(seconds=10)]
    assert len(store.positions(mmsi=[219000001, 219000002])) == 20
    assert store.positions(mmsi=1).empty
    narrow = store.positions(columns=["lat"])
    assert list(narrow.columns) == ["mmsi", "ts", "lat"] and len(narrow) == 20
    with pytest.raises(MdaError, match="unknown position columns: speed"):
        store.positions(columns=["speed"])


def test_two_station_duplicates_stored_once(tmp_path):
    store = Store(tmp_path / "s")
    a = fixes(5, station="s1")
    b = fixes(5, station="s2")
    b["ts"] += pd.Timedelta(seconds=1.5)  # the same reports heard 1.5 s later elsewhere
    c = fixes(1, station="s3", start=T0 + pd.Timedelta(seconds=5))  # 5 s later: a new report
    assert store.add(ais(pd.concat([a, b, c], ignore_index=True)), source="x") == 6
    again = fixes(5, station="s4")
    again["ts"] -= pd.Timedelta(seconds=1)  # heard earlier than the stored copy
    assert store.add(ais(again), source="y") == 0
    moved = fixes(5, lat=56.0)  # same times, other position: different reports
    assert store.add(ais(moved), source="z") == 5
    assert len(store.positions()) == 11
    assert set(store.positions()["station"]) == {"s1", "s3", ""}


def test_nan_fields_compare_equal_in_dedupe(tmp_path):
    store = Store(tmp_path / "s")
    pos = fixes(3, sog=np.nan, cog=np.nan)
    assert store.add(ais(pos), source="x") == 3
    assert store.add(ais(pos), source="x") == 0


def test_repeat_chains_out_of_order_and_signed_zero(tmp_path):
    store = Store(tmp_path / "s")
    chain = fixes(1, cog=-0.0, heading=np.nan)
    chain = pd.concat([chain] * 3, ignore_index=True)
    chain["ts"] = [T0 + pd.Timedelta(seconds=s) for s in (3.0, 0.0, 1.5)]  # each within 2 s
    chain.loc[0, "cog"] = 0.0  # -0.0 and 0.0 are the same course
    later = fixes(1, start=T0 + pd.Timedelta(seconds=6))  # 3 s after the chain: new report
    assert store.add(ais(pd.concat([chain, later], ignore_index=True)), source="x") == 2
    got = store.positions()
    assert list(got["ts"]) == [T0, T0 + pd.Timedelta(seconds=6)]  # first of the chain, sorted


def test_dedupe_reads_only_candidate_stored_rows(tmp_path):
    """Against the store, only rows near the chunk's times are read, and once more were read
    than the chunk has, only those with the chunk's keys are kept."""
    store = Store(tmp_path / "s")
    stored = fixes(2000, step_s=5)  # about 2.8 h of one vessel
    assert store.add(ais(stored), source="x") == 2000
    chunk = stored.iloc[[10, 1500]].copy()
    chunk["ts"] += pd.Timedelta(seconds=1)  # heard again by another station
    chunk.loc[chunk.index[1], "lat"] += 0.5  # ... and one new report at that time
    pos = chunk.reset_index(drop=True)
    from mda.store.dedupe import Rows, ns_array, row_keys

    cols = {c: pos[c].to_numpy() for c in DEDUPE_KEY}
    new = Rows(cols, ns_array(pos["ts"]), row_keys(cols))
    old = store._stored_repeats("positions", cols["mmsi"], new)
    near = np.abs(ns_array(stored["ts"])[:, None] - new.ts).min(axis=1) <= store.window.value
    assert 0 < len(old.ts) <= max(near.sum(), len(new.ts))  # near the chunk's times only
    assert ns_array(stored["ts"])[10] in old.ts
    repeat = new._replace(hashes=new.hashes[:1])  # a chunk of one key: the repeat's
    old = store._stored_repeats("positions", cols["mmsi"], repeat)
    assert list(old.ts) == [ns_array(stored["ts"])[10]]  # more read than it has: filtered
    assert list(old.cols["lat"]) == [stored["lat"][10]]
    assert store.add(ais(pos), source="y") == 1


def test_dedupe_opens_only_parts_near_the_chunk_times(tmp_path):
    store = Store(tmp_path / "s")
    day = pd.Timedelta(days=1)
    for d in (1, 2, 3):
        assert store.add(ais(fixes(3, start=T0 + d * day)), source="x") == 3
    middle = next((tmp_path / "s" / "positions" / "day=2024-03-03").glob("*.parquet"))
    middle.write_bytes(b"garbage")  # lies between the chunk's times: never opened
    half = pd.Timedelta(seconds=0.5)
    chunk = [
        fixes(1, start=T0 + day + half),  # heard again: repeats of stored rows
        fixes(1, start=T0 + 3 * day + half),
        fixes(1, start=T0 + 3 * day + half, lat=56.0),  # a new report
    ]
    assert store.add(ais(pd.concat(chunk, ignore_index=True)), source="y") == 1


def test_spans_cover_every_time_and_are_capped():
    s = 10**9
    ts = np.array([0, 1, 2, 100, 101, 1000]) * s
    assert spans(ts, 2 * s).tolist() == [[-2 * s, 4 * s], [98 * s, 103 * s], [998 * s, 1002 * s]]
    ts = np.arange(500) * 100 * s
    cover = spans(ts, s)
    assert len(cover) == MAX_SPANS
    inside = (ts[:, None] - s >= cover[:, 0]) & (ts[:, None] + s <= cover[:, 1])
    assert inside.any(axis=1).all()


def test_source_filled_when_missing(tmp_path):
    store = Store(tmp_path / "s")
    pos = fixes(2, source=pd.array([pd.NA, ""], dtype="string"))
    store.add(ais(pos), source="simulator")
    assert list(store.positions()["source"]) == ["simulator", "simulator"]


def dma_csv(path: Path, n: int, first_second: int = 0) -> Path:
    rows = [
        f"01/03/2024 10:{(first_second + i) // 60:02d}:{(first_second + i) % 60:02d},Class A,"
        f"219000734,57.{i:06d},10.9,Moored,,0.0,0.0,180,9107370,OXXL,ANE LAESOE,Passenger,,"
        f"15,54,GPS,2.9,LAESOE,,AIS,24,30,7,8"
        for i in range(n)
    ]
    path.write_text(DMA_COLUMNS + "\n" + "\n".join(rows) + "\n")
    return path


def test_ingest_is_idempotent(tmp_path):
    store = Store(tmp_path / "s")
    f = dma_csv(tmp_path / "day.csv", 50)
    first = store.ingest([str(f)])
    assert first.stored == 50 and first.positions == 50
    second = store.ingest([str(f)])
    assert second.stored == 0 and second.positions == 0
    assert second.same_as == {str(f): str(f)} and not second.failed
    assert second.warnings[0].startswith(f"{f}: skipped, same content as {f} ingested ")
    copy = tmp_path / "copy.csv"
    copy.write_bytes(f.read_bytes())
    third = store.ingest([str(copy)])  # same content under another name
    assert third.stored == 0 and third.same_as == {str(copy): str(f)}
    longer = dma_csv(tmp_path / "longer.csv", 80)  # the same 50 rows and 30 new ones
    assert store.ingest([str(longer)]).stored == 30
    info = store.info()
    assert info["positions"] == 80 and info["ingests"] == 4
    assert info["positions_by_type"] == {"1": 80}


def test_ingest_directory_and_stdin_rows_dedupe(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    dma_csv(folder / "a.csv", 10)
    dma_csv(folder / "b.csv", 10, first_second=10)
    store = Store(tmp_path / "s")
    rep = store.ingest([str(folder)], chunk_rows=4)
    assert rep.stored == 20 and len(rep.files) == 2
    # stdin has no file hash: the row dedupe alone keeps it from being stored twice
    code = (
        "import sys; from mda.store import Store; "
        "r = Store(sys.argv[1]).ingest(['-']); print(r.stored)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "s")],
        input=(folder / "a.csv").read_bytes(),
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.strip() == b"0"


def test_ingest_statics_across_chunks_and_nmea_lines(tmp_path):
    f = dma_csv(tmp_path / "day.csv", 12)
    lines = f.read_text().splitlines()
    lines[8:] = [line.replace("ANE LAESOE", "NEW NAME") for line in lines[8:]]
    f.write_text("\n".join(lines) + "\n")
    store = Store(tmp_path / "s")
    assert store.ingest([str(f)], chunk_rows=3).stored == 12
    assert list(store.vessel_history()["name"]) == ["ANE LAESOE", "NEW NAME"]
    nmea = ["!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"]
    rep = store.ingest(nmea, start_time=T0)
    assert rep.stored == 1 and rep.files == ["<lines>"]


def test_vessels_and_history(tmp_path):
    store = Store(tmp_path / "s")
    statics = pd.DataFrame(
        {
            "mmsi": [219000001, 219000001, 219000002],
            "ts": [T0, T0 + pd.Timedelta(hours=1), T0],
            "imo": [9107370, 9107370, pd.NA],
            "name": ["ALFA", "BRAVO", "CHARLIE"],
            "ais_class": ["A", "A", "B"],
        }
    )
    store.add(ais(fixes(1), statics), source="x")
    hist = store.vessel_history()
    assert list(hist["name"]) == ["ALFA", "BRAVO", "CHARLIE"]
    store.add(ais(fixes(1), statics.iloc[[1]]), source="x")  # nothing new
    assert len(store.vessel_history()) == 3
    latest = Store(tmp_path / "s").vessels().set_index("mmsi")
    assert latest.loc[219000001, "name"] == "BRAVO" and latest.loc[219000001, "imo"] == 9107370
    assert latest.loc[219000002, "ais_class"] == "B"
    info = store.info()  # one vessel with positions, two with static data
    assert info["vessels"] == 1 and info["vessels_with_static_data"] == 2


def test_crash_leaves_store_consistent(tmp_path, monkeypatch):
    import mda.store

    store = Store(tmp_path / "s")
    store.add(ais(fixes(3)), source="ok")
    # a part file from a batch that never committed (process killed before the catalog write)
    stray = tmp_path / "s" / "positions" / "day=2024-03-01" / "99-0.parquet"
    fixes(3, mmsi=219000009).to_parquet(stray)
    assert len(store.positions()) == 3

    calls = []

    def failing_commit(con):
        calls.append(1)
        raise KeyboardInterrupt  # dies between writing the files and registering them

    monkeypatch.setattr(mda.store.catalog, "transaction", failing_commit)
    with pytest.raises(KeyboardInterrupt):
        store.add(ais(fixes(3, mmsi=219000002)), source="killed")
    monkeypatch.undo()
    assert calls and len(Store(tmp_path / "s").positions()) == 3
    assert Store(tmp_path / "s").pending()[0] == 1
    # the re-run completes and removes the orphans
    assert store.add(ais(fixes(3, mmsi=219000002)), source="rerun") == 3
    assert sorted(set(store.positions()["mmsi"])) == [219000001, 219000002]
    assert not stray.exists()
    files = sorted(p.name for p in (tmp_path / "s" / "positions").glob("day=*/*"))
    assert files == ["1-0.parquet", "3-0.parquet"]


def test_killed_process_mid_ingest(tmp_path):
    """A real process death (os._exit) after writing parts but before committing them."""
    path = tmp_path / "s"
    Store(path).add(ais(fixes(4)), source="first")
    code = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        import mda.store
        from test_store import ais, fixes
        mda.store.catalog.transaction = lambda con: os._exit(9)
        mda.store.Store({str(path)!r}).add(ais(fixes(4, mmsi=219000005)), source="doomed")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True)
    assert proc.returncode == 9, proc.stderr.decode()
    assert len(list(path.glob("positions/day=*/*.parquet"))) == 2  # the orphan is on disk
    store = Store(path)
    assert len(store.positions()) == 4 and set(store.positions()["mmsi"]) == {219000001}
    assert store.add(ais(fixes(4, mmsi=219000005)), source="rerun") == 4
    assert len(store.positions()) == 8
    assert len(list(path.glob("positions/day=*/*.parquet"))) == 2


def test_pending_and_scan_watermark(tmp_path):
    store = Store(tmp_path / "s")
    assert store.pending() is None
    store.add(ais(fixes(3)), source="a")
    batch, lo, hi = store.pending()
    assert (batch, lo, hi) == (1, T0, T0 + pd.Timedelta(seconds=20))
    store.save_scan(schema.empty(schema.ALERTS), upto_batch=batch, window=(lo, hi))
    assert store.pending() is None
    later = T0 + pd.Timedelta(hours=5)
    store.add(ais(fixes(2, start=later)), source="b")
    store.add(ais(fixes(2, start=T0 - pd.Timedelta(hours=1))), source="c")
    store.add(ais(fixes(2, start=T0 - pd.Timedelta(hours=1))), source="c")  # all dupes
    assert store.pending() == (3, T0 - pd.Timedelta(hours=1), later + pd.Timedelta(seconds=10))
    store.save_scan(schema.empty(schema.ALERTS), upto_batch=None, window=(T0, later))
    assert store.pending()[0] == 3  # a scan of files only does not move the watermark
    store.save_scan(schema.empty(schema.ALERTS), upto_batch=3, window=(T0, later))
    assert store.pending() is None
    assert store.info()["last_scan"] is not None


def test_alerts_upsert_extend_and_new_only(tmp_path):
    store = Store(tmp_path / "s")
    a = alert(severity="high")
    b = alert(type_="ais_gap", mmsi=219000002, severity="low")
    new = store.save_scan(alerts_frame(a, b), upto_batch=None, window=(T0, T0))
    assert sorted(new["id"]) == sorted([a["id"], b["id"]])
    spec = {**schema.ALERTS, **EVENT_COLUMNS, **REVIEW_COLUMNS}
    assert {c: str(t) for c, t in new.dtypes.items()} == spec
    assert set(new["status"]) == {"closed"} and new["updated"].notna().all()
    # the same event seen again, longer and judged lower: extended, severity kept
    a2 = alert(hours=3.0, severity="low")
    assert a2["id"] == a["id"]
    assert store.save_scan(alerts_frame(a2), upto_batch=None, window=(T0, T0)).empty
    stored = store.alerts().set_index("id")
    assert stored.loc[a["id"], "end"] == T0 + pd.Timedelta(hours=3)
    assert stored.loc[a["id"], "severity"] == "high"
    assert stored.loc[a["id"], "evidence"] == {"hours": 3.0}
    # a later scan sees the same loitering start 40 min later (other id): merged, id kept
    a3 = alert(start=T0 + pd.Timedelta(minutes=40), hours=4.0, severity="critical")
    assert a3["id"] != a["id"]
    assert store.save_scan(alerts_frame(a3), upto_batch=None, window=(T0, T0)).empty
    stored = store.alerts().set_index("id")
    assert len(stored) == 2
    assert stored.loc[a["id"], "start"] == T0
    assert stored.loc[a["id"], "end"] == T0 + pd.Timedelta(minutes=40, hours=4)
    assert stored.loc[a["id"], "severity"] == "critical"
    # within an hour of the end still touches; further away is a new event
    touching = alert(start=T0 + pd.Timedelta(hours=5, minutes=30))
    far = alert(start=T0 + pd.Timedelta(hours=9))
    new = store.save_scan(alerts_frame(touching, far), upto_batch=None, window=(T0, T0))
    assert list(new["id"]) == [far["id"]]
    assert len(store.alerts()) == 3
    assert store.info()["alerts"] == 3


def test_zone_is_an_attribute_except_for_zone_events(tmp_path):
    """An ongoing event whose zone flips between scans is updated in place (same id, the newer
    zone); a stay in a zone is an event of that zone, so two zones entered at once are two."""
    store = Store(tmp_path / "s")
    first = alert(zone_id="cable-1", hours=2.0)
    first["status"] = "open"
    store.save_scan(alerts_frame(first), upto_batch=None, window=(T0, T0))
    flipped = alert(zone_id="restricted-1", hours=3.0)
    assert flipped["id"] == first["id"]
    # a look back (no watermark) may end before the newest data: it leaves the status alone
    assert store.save_scan(alerts_frame(flipped), upto_batch=None, window=(T0, T0)).empty
    got = store.alerts()
    assert len(got) == 1 and got.loc[0, "id"] == first["id"]
    assert got.loc[0, "zone_id"] == "restricted-1" and got.loc[0, "status"] == "open"
    assert got.loc[0, "end"] == T0 + pd.Timedelta(hours=3)
    # a scheduled scan that saw the event whole: its view replaces the stored one
    whole = alert(start=T0 + pd.Timedelta(minutes=5), hours=3.0, zone_id="restricted-1")
    whole["whole"], whole["evidence"] = True, {"hours": 2.92}
    assert store.save_scan(alerts_frame(whole), upto_batch=1, window=(T0, T0)).empty
    got = store.alerts()
    assert got.loc[0, "status"] == "closed" and got.loc[0, "start"] == whole["start"]
    assert got.loc[0, "evidence"] == {"hours": 2.92}
    # a later run that saw only the tail of the event changes nothing but widens nothing either
    tail = alert(start=T0 + pd.Timedelta(minutes=30), hours=2.5, zone_id="cable-1")
    tail["evidence"] = {"hours": 2.5}
    assert store.save_scan(alerts_frame(tail), upto_batch=None, window=(T0, T0)).empty
    got = store.alerts()
    assert got.loc[0, "zone_id"] == "restricted-1" and got.loc[0, "evidence"] == {"hours": 2.92}
    assert got.loc[0, "start"] == whole["start"] and got.loc[0, "end"] == whole["end"]
    # entering a port and the restricted area around it at the same fix: two events
    port = alert(type_="zone_entry", zone_id="port-1")
    area = alert(type_="zone_entry", zone_id="restricted-1")
    assert port["id"] != area["id"]
    new = store.save_scan(alerts_frame(port, area), upto_batch=None, window=(T0, T0))
    assert sorted(new["zone_id"]) == ["port-1", "restricted-1"]


def test_old_store_is_upgraded_on_open(tmp_path):
    """A schema-1 store (alerts without status, no vessel state) opens upgraded, alerts kept;
    opened read-only it is refused with one line saying how to upgrade it."""
    path = tmp_path / "s"
    store = Store(path)
    store.add(ais(fixes(3)), source="unit")
    store.save_scan(alerts_frame(alert()), upto_batch=None, window=(T0, T0))
    store.close()
    with contextlib.closing(sqlite3.connect(path / "mda.sqlite")) as con, con:
        con.executescript(
            "DROP TABLE vessel_state; DROP INDEX alerts_open; "
            "ALTER TABLE alerts DROP COLUMN status; ALTER TABLE alerts DROP COLUMN updated; "
            + DROP_REVIEWS
            + DROP_KINDS
            + "UPDATE meta SET value='1' WHERE key='schema_version';"
        )
    with pytest.raises(MdaError, match=r"schema version 1.*upgrades it") as e:
        Store(path, readonly=True)
    assert "\n" not in str(e.value)
    store = Store(path)
    got = store.alerts()
    assert len(got) == 1 and got.loc[0, "status"] == "closed" and pd.isna(got.loc[0, "updated"])
    assert got.loc[0, "review"] == "unreviewed"
    assert store.vessel_states().empty and len(store.positions()) == 3
    version = store._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert int(version[0]) == SCHEMA_VERSION
    assert len(Store(path, readonly=True).alerts()) == 1


#: What makes a schema-3 alerts table a schema-2 one.
DROP_REVIEWS = "".join(f"ALTER TABLE alerts DROP COLUMN {c}; " for c in REVIEW_COLUMNS)
#: What makes a schema-4 parts table a schema-3 one.
DROP_KINDS = "ALTER TABLE parts DROP COLUMN kind; "


def test_schema_2_store_gains_reviews_on_open(tmp_path):
    path = tmp_path / "s"
    store = Store(path)
    store.save_scan(alerts_frame(alert()), upto_batch=None, window=(T0, T0))
    store.close()
    with contextlib.closing(sqlite3.connect(path / "mda.sqlite")) as con, con:
        con.executescript(
            DROP_REVIEWS + DROP_KINDS + "UPDATE meta SET value='2' WHERE key='schema_version';"
        )
    with pytest.raises(MdaError, match=r"schema version 2.*upgrades it"):
        Store(path, readonly=True).alerts()
    store = Store(path)
    assert list(store.alerts()["review"]) == ["unreviewed"]
    assert store.review(alert()["id"], "dismissed").loc[0, "review"] == "dismissed"


def test_schema_3_store_is_read_as_is_and_upgraded_by_a_writer(tmp_path):
    """A schema-3 store (parts without kind: positions only) reads read-only without change,
    and a writer upgrades it in place (its positions kept, aux parts stored beside them)."""
    path = tmp_path / "s"
    with Store(path) as store:
        store.add(ais(fixes(3)), source="unit")
    with contextlib.closing(sqlite3.connect(path / "mda.sqlite")) as con, con:
        con.executescript(DROP_KINDS + "UPDATE meta SET value='3' WHERE key='schema_version';")
    before = (path / "mda.sqlite").read_bytes()
    with Store(path, readonly=True) as store:
        assert len(store.positions()) == 3 and store.info()["positions"] == 3
        assert store.aux().empty
    assert (path / "mda.sqlite").read_bytes() == before
    with Store(path) as store:
        store.add(AisData(aux=aux_rows(2)), source="unit")
        assert len(store.positions()) == 3 and len(store.aux()) == 2
        version = store._db.execute("SELECT value FROM meta WHERE key='schema_version'")
        assert int(version.fetchone()[0]) == SCHEMA_VERSION


# -- alert review (issue 12, item 4) -------------------------------------------------------------


def test_review_is_stored_with_who_and_when_and_filters_alerts(tmp_path, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "analyst1")
    store = Store(tmp_path / "s")
    a, b = alert(), alert(type_="ais_gap", mmsi=219000002)
    store.save_scan(alerts_frame(a, b), upto_batch=None, window=(T0, T0))
    before = pd.Timestamp.now(tz="UTC")
    got = store.review(a["id"], "dismissed", "a tug, known to the harbour master")
    assert len(got) == 1 and got.loc[0, "id"] == a["id"]
    row = got.iloc[0]
    assert row["review"] == "dismissed" and row["review_note"].startswith("a tug")
    assert row["reviewer"] == "analyst1" and before <= row["reviewed"] <= pd.Timestamp.now("UTC")
    assert row["status"] == "closed"  # the lifecycle status is another column, untouched
    assert list(store.alerts(review=["dismissed"])["id"]) == [a["id"]]
    assert list(store.alerts(review=["unreviewed", "confirmed"])["id"]) == [b["id"]]
    # reopened ("open" is unreviewed); the note is the new decision's, the old one goes
    again = store.review(a["id"], "open").iloc[0]
    assert again["review"] == "unreviewed" and pd.isna(again["review_note"])
    assert len(Store(tmp_path / "s", readonly=True).alerts(review=["unreviewed"])) == 2


def test_review_of_an_unknown_id_or_decision_is_one_line(tmp_path):
    store = Store(tmp_path / "s")
    store.save_scan(alerts_frame(alert()), upto_batch=None, window=(T0, T0))
    with pytest.raises(MdaError, match="no alert with id 'loitering-nope'") as e:
        store.review("loitering-nope", "confirmed")
    assert "\n" not in str(e.value)
    with pytest.raises(MdaError, match="unknown review 'maybe'"):
        store.review(alert()["id"], "maybe")
    with pytest.raises(MdaError, match="unknown review"):
        store.alerts(review=["maybe"])
    assert store.alerts().loc[0, "review"] == "unreviewed"


def test_an_event_updated_or_re_raised_keeps_its_review_and_is_never_new(tmp_path):
    """A later scan that sees a dismissed event again (same id, or another start merged into
    it) updates it in place: the review stays, and it is not news for --fail-on."""
    store = Store(tmp_path / "s")
    a = alert(severity="medium")
    store.save_scan(alerts_frame(a), upto_batch=1, window=(T0, T0))
    store.review(a["id"], "dismissed", "fishing vessel")
    longer = alert(hours=3.0, severity="critical")  # same id, longer, judged higher
    merged = alert(start=T0 + pd.Timedelta(minutes=40), hours=5.0)  # another id, merged
    fresh = alert(start=T0 + pd.Timedelta(hours=12))  # another event of the same vessel
    new = store.save_scan(alerts_frame(longer, merged, fresh), upto_batch=2, window=(T0, T0))
    assert list(new["id"]) == [fresh["id"]] and list(new["review"]) == ["unreviewed"]
    kept = store.alerts().set_index("id").loc[a["id"]]
    assert kept["review"] == "dismissed" and kept["review_note"] == "fishing vessel"
    assert kept["severity"] == "critical" and kept["end"] == T0 + pd.Timedelta(minutes=40, hours=5)


def test_alert_filters(tmp_path):
    store = Store(tmp_path / "s")
    rows = [
        alert(severity="low", start=T0),
        alert(
            type_="encounter",
            other_mmsi=219000002,
            severity="high",
            start=T0 + pd.Timedelta(days=1),
        ),
        alert(type_="ais_gap", severity="critical", start=T0 + pd.Timedelta(days=2)),
    ]
    store.save_scan(alerts_frame(*rows), upto_batch=None, window=(T0, T0))
    got = store.alerts()
    assert list(got["type"]) == ["loitering", "encounter", "ais_gap"]  # by start
    assert got.loc[1, "other_mmsi"] == 219000002 and pd.isna(got.loc[0, "other_mmsi"])
    assert list(store.alerts(types=["ais_gap", "loitering"])["type"]) == ["loitering", "ais_gap"]
    assert list(store.alerts(min_severity="high")["severity"]) == ["high", "critical"]
    day1 = T0 + pd.Timedelta(days=1)
    assert list(store.alerts(since=day1, until=day1 + pd.Timedelta(hours=1))["type"]) == [
        "encounter"
    ]
    assert list(store.alerts(since=T0 + pd.Timedelta(minutes=30))["type"]) == [
        "loitering",  # still running at that time (it ends at +1 h)
        "encounter",
        "ais_gap",
    ]


def test_save_scan_is_one_transaction(tmp_path):
    store = Store(tmp_path / "s")
    broken = alerts_frame(alert(), alert(mmsi=219000002))
    broken["evidence"] = [{"ok": 1}, {"bad": object()}]  # json.dumps(default=str) copes
    assert len(store.save_scan(broken, upto_batch=None, window=(T0, T0))) == 2
    bad = alerts_frame(alert(mmsi=219000003), alert(mmsi=219000004))
    bad.loc[1, "type"] = None  # NOT NULL violated on the second insert
    with pytest.raises(sqlite3.IntegrityError):
        store.save_scan(bad, upto_batch=None, window=(T0, T0))
    assert len(store.alerts()) == 2  # nothing of the failed scan is kept
    assert store.info()["last_scan"] is not None


def test_lock_contention(tmp_path):
    path = tmp_path / "s"
    first, second = Store(path), Store(path)
    with first.lock():
        with first.lock():  # re-entrant for the same object
            first.add(ais(fixes(1)), source="x")
        with pytest.raises(MdaError, match=r"locked by another mda process \(pid \d+\)"):
            second.lock().__enter__()
        with pytest.raises(MdaError, match="locked"):
            second.ingest([str(dma_csv(tmp_path / "a.csv", 2))])
    with second.lock(timeout=1):
        pass


def test_lock_held_by_another_process(tmp_path):
    path = tmp_path / "s"
    Store(path)
    code = (
        "import sys, time; from mda.store import Store\n"
        "with Store(sys.argv[1]).lock():\n"
        "    print('held', flush=True); time.sleep(30)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout.readline().strip() == b"held"
        held = rf"locked by another mda process \(pid {proc.pid}\)"
        with pytest.raises(MdaError, match=held), Store(path).lock(timeout=0.2):
            pass
    finally:
        proc.kill()
        proc.wait()
    with Store(path).lock(timeout=5):  # released when its holder dies
        pass


def test_ingest_real_ferry_and_cli_info(shared_data, tmp_path, capsys):
    ferry = shared_file("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv")
    path = tmp_path / "s"
    assert main(["ingest", str(ferry), "--store", str(path), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    # one exact duplicate row, and one identical report received again 1 s later (11:23:52)
    assert rep["positions"] == 735 and rep["stored"] == 733
    assert main(["info", "--store", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["positions"] == 733 and info["vessels"] == 1 and info["days"] == 1
    assert info["first"].startswith("2022-10-15T11:16:01")
    v = Store(path).vessels().iloc[0]
    assert (v["mmsi"], v["imo"], v["name"]) == (219000734, 9107370, "ANE LAESOE")
    assert main(["info", "--store", str(tmp_path / "none")]) == 1
    assert "not an mda store" in capsys.readouterr().err


def test_ingest_skips_unreadable_inputs_unless_all_are(tmp_path):
    store = Store(tmp_path / "s")
    good = dma_csv(tmp_path / "good.csv", 5)
    rep = store.ingest([str(good), str(tmp_path / "missing.csv")])
    assert rep.stored == 5 and rep.rejected["unreadable_file"] == 1
    assert list(rep.failed) == [str(tmp_path / "missing.csv")] and not rep.same_as
    assert f"{tmp_path / 'missing.csv'}: skipped, " in rep.warnings[0]
    with pytest.raises(MdaError, match=r"missing\.csv"):
        store.ingest([str(tmp_path / "missing.csv")])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MdaError, match="no input given"):
        store.ingest([str(empty)])


def test_damaged_files_give_one_line_errors(tmp_path):
    store = Store(tmp_path / "s")
    store.add(
        ais(fixes(2), pd.DataFrame({"mmsi": [219000001], "ts": [T0], "name": ["A"]})), source="x"
    )
    part = next((tmp_path / "s" / "positions").glob("day=*/*.parquet"))
    part.write_bytes(b"garbage")
    with pytest.raises(MdaError, match="cannot read stored positions") as e:
        store.positions()
    assert "\n" not in str(e.value)
    (tmp_path / "s" / "vessels.parquet").write_bytes(b"garbage")
    with pytest.raises(MdaError, match="cannot read the vessel history"):
        store.vessels()


def test_identity_sub_cases_are_separate_events(tmp_path):
    """An invalid MMSI and two transmitters on one vessel at once are two alerts, not one."""
    store = Store(tmp_path / "s")
    rows = []
    for kind, start in (("invalid_mmsi", T0), ("two_transmitters", T0 + pd.Timedelta("10min"))):
        row = alert(type_="identity_conflict", start=start, hours=2.0)
        row["evidence"] = {"kind": kind}
        row["id"] = schema.alert_id(
            row["type"],
            row["mmsi"],
            None,
            None,
            start,
            schema.alert_subtype(row["type"], row["evidence"]),
        )
        rows.append(row)
    assert rows[0]["id"] != rows[1]["id"]
    new = store.save_scan(alerts_frame(*rows), upto_batch=None, window=(T0, T0))
    assert sorted(e["kind"] for e in new["evidence"]) == ["invalid_mmsi", "two_transmitters"]
    # the same two seen again, longer: both extended, nothing new
    for row in rows:
        row["end"] += pd.Timedelta(hours=1)
    assert store.save_scan(alerts_frame(*rows), upto_batch=None, window=(T0, T0)).empty
    assert len(store.alerts()) == 2


# -- the other tables: base stations, AtoN, SAR aircraft (aux) and binary messages (issue 13) ---


def test_aux_and_binary_are_stored_deduplicated_and_read_back(tmp_path):
    with Store(tmp_path / "s") as store:
        data = AisData(positions=fixes(3), aux=aux_rows(5), binary=binary_rows(4))
        assert store.add(data, source="one") == 3
        aux, binary = store.aux(), store.binary()
        assert len(aux) == 5 and (aux["clock"] == aux["ts"] - pd.Timedelta(seconds=2)).all()
        assert set(aux["source"]) == {"one"}  # a missing source is the batch's
        assert list(binary["msg_type"]) == [6, 8, 8, 8]
        assert binary.loc[0, "dest_mmsi"] == 219000002
        assert pd.isna(binary.loc[0, "fi"]) and list(binary["data"]) == [
            f"{i:04x}" for i in range(4)
        ]
        assert store.aux(since=T0 + pd.Timedelta(seconds=25)).shape[0] == 2
        # the same reports again, heard 1 s later by another station: nothing new stored
        again = AisData(aux=aux_rows(5), binary=binary_rows(4))
        for table in (again.aux, again.binary):
            table["ts"] += pd.Timedelta(seconds=1)  # the clock a base station sent is the same
        assert store.add(again, source="two") == 0
        assert len(store.aux()) == 5 and len(store.binary()) == 4
        other = binary_rows(1)
        other["data"] = pd.array(["ffff"], dtype="string")  # another message at the same time
        store.add(AisData(binary=other), source="three")
        assert len(store.binary()) == 5
        assert store.pending()[0] == 1  # batches without positions are not scanned
        assert store.add(ais(fixes(1, start=T0 + pd.Timedelta(hours=1))), source="four") == 1
        assert store.pending()[0] == 2  # ... nor numbered among those that are
        info = store.info()
    assert info["positions"] == 4 and info["positions_by_type"] == {"1": 4}
    assert info["aux_positions_by_type"] == {"4": 5}
    offsets = {"clock_offset_s_median": 2.0, "clock_offset_s_largest": 2.0}
    assert info["base_stations"] == {"heard": 1, **offsets}
    assert info["binary_messages_by_type"] == {"6": 2, "8": 3}
    folders = sorted(p.parent.parent.name for p in (tmp_path / "s").glob("*/day=*/*.parquet"))
    assert folders == ["aux", "binary", "binary", "positions", "positions"]


def test_info_without_aux_has_only_its_usual_fields(tmp_path):
    with Store(tmp_path / "s") as store:
        store.add(ais(fixes(2)), source="x")
        info = store.info()
    assert not {"aux_positions_by_type", "base_stations", "binary_messages_by_type"} & set(info)


def test_store_is_a_context_manager_closing_its_database(tmp_path):
    with Store(tmp_path / "s") as store:
        store.add(ais(fixes(2)), source="x")
    with pytest.raises(sqlite3.ProgrammingError):
        store._db.execute("SELECT 1")


def test_write_and_commit_a_batch_in_steps(tmp_path):
    """What the Dask engine does: a batch id, parts written elsewhere, committed at once."""
    import pyarrow as pa

    from mda.store import parts

    with Store(tmp_path / "s") as store:
        batch = store.begin_batch("tasks")
        written = []
        table = pa.Table.from_pandas(fixes(4), schema=parts.POSITIONS_ARROW, preserve_index=False)
        done = parts.write_day_parts(store.path.absolute(), "positions", batch, table, written)
        assert store.positions().empty and store.pending() is None  # not yet visible
        store.commit_batch(batch, done)
        assert len(store.positions()) == 4 and store.pending()[0] == batch


def test_row_keys_equal_for_the_same_report_only():
    from mda.store.dedupe import row_keys

    pos = fixes(5)
    pos.loc[1, "sog"] = np.nan  # row 1: NaN speed; row 2 the same report as row 1
    pos.loc[2] = pos.loc[1]
    pos.loc[3, "cog"], pos.loc[4, "cog"] = -0.0, 0.0  # -0.0 is 0.0
    pos.loc[4, ["lat", "lon", "sog", "heading"]] = pos.loc[3, ["lat", "lon", "sog", "heading"]]
    cols = {c: pos[c].to_numpy() for c in DEDUPE_KEY}
    keys = row_keys(cols)
    assert keys[1] == keys[2] and keys[3] == keys[4] and len(set(keys.tolist())) == 3
    swapped = {**cols, "sog": cols["cog"], "cog": cols["sog"]}  # two columns in one word
    assert not (row_keys(swapped)[[0, 3]] == keys[[0, 3]]).any()


@pytest.mark.parametrize(("gap_minutes", "events"), [(60, 1), (15, 2)])
def test_merge_gap_decides_when_two_alerts_are_one_event(tmp_path, gap_minutes, events):
    """30 min between two loitering alerts of one vessel: one event within the default hour,
    two when the merge gap (scan.alert_merge_hours) is 15 min."""
    store = Store(tmp_path / "s")
    gap = pd.Timedelta(minutes=gap_minutes)
    first, later = alert(), alert(start=T0 + pd.Timedelta(minutes=90))
    store.save_scan(alerts_frame(first), upto_batch=None, window=(T0, T0), merge_gap=gap)
    new = store.save_scan(alerts_frame(later), upto_batch=None, window=(T0, T0), merge_gap=gap)
    assert len(new) == events - 1 and len(store.alerts()) == events


def test_real_nmea_base_stations_and_binary_messages_stored_once(tmp_path):
    """The DMA stream's base stations (with their clock), aids to navigation and binary
    messages are stored beside the positions; ingesting the file again stores nothing."""
    sample = shared_file("nmea/dma_aislib_stream_example.txt")
    with Store(tmp_path / "s") as store:
        store.ingest([str(sample)])
        aux, binary, info = store.aux(), store.binary(), store.info()
        copy = tmp_path / "copy.txt"
        copy.write_bytes(sample.read_bytes() + b"\n")  # new bytes, the same messages
        assert store.ingest([str(copy)]).stored == 0
        assert store.aux().equals(aux) and store.binary().equals(binary)
    assert set(aux["msg_type"]) <= {4, 9, 21} and (aux["msg_type"] == 4).any()
    stations = aux[aux["msg_type"] == 4]
    assert stations["clock"].notna().any() and info["base_stations"]["heard"] > 0  # NaT: none sent
    assert abs(info["base_stations"]["clock_offset_s_median"]) < 60  # clocks near receive time
    assert set(binary["msg_type"]) <= {6, 8} and binary["dac"].notna().any()
    assert sum(info["aux_positions_by_type"].values()) == len(aux)
    assert sum(info["binary_messages_by_type"].values()) == len(binary)
