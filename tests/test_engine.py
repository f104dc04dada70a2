"""The incremental engine: the scheduled scan keeps per-vessel state between runs, so however the
data arrive (one file, six-hour files, hourly files) it raises the alerts one scan over
everything raises, with the same ids, types, start, end and evidence; ongoing events are open
and updated in place."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from helpers.detect import T0, Leg, positions, sail, zones

from mda.config import Config
from mda.scan import run_scan
from mda.sources.base import AisData
from mda.store import Store

pytest.importorskip("mda.zones", reason="zones module not written yet")

HOURS = 72
DARK = 219000009  # sails dark for 30 h from hour 20
LOITER = 219000010  # drifts from hour 28 to hour 40, then sails on
LATE = 219000011  # drifts from hour 64 to the end of the data: open at the end
GONE = 219000012  # sails dark from hour 58 to the end of the data: dark now, open at the end


def _config() -> Config:
    cfg = Config()
    cfg.context.enabled = False  # open sea everywhere: the test is about the engine
    return cfg


def _feed() -> pd.DataFrame:
    """Three days of six vessels sailing apart in open water, every five minutes, plus the
    three vessels above."""
    every = 300.0
    ships = [
        sail(
            219000001 + i, [Leg(HOURS * 60, 8.0, 90.0)], lat=56.0 + 0.3 * i, lon=3.0, every_s=every
        )
        for i in range(6)
    ]
    dark = sail(
        DARK,
        [Leg(20 * 60, 10.0), Leg(30 * 60, 10.0, silent=True), Leg(22 * 60, 10.0)],
        lat=57.55,  # falls silent at 10.5 E, where the slower ship at 57.5 N passes at hour 30
        lon=4.28,
        every_s=every,
    )
    loiter = sail(
        LOITER,
        [Leg(28 * 60, 9.0, 0.0), Leg(12 * 60, 0.5, 200.0), Leg(32 * 60, 9.0, 0.0)],
        lat=54.0,
        lon=5.0,
        every_s=every,
    )
    late = sail(
        LATE,
        [Leg(64 * 60, 9.0, 180.0), Leg(8 * 60, 0.5, 20.0)],
        lat=59.0,
        lon=6.0,
        every_s=every,
    )
    gone = sail(
        GONE,
        [Leg(58 * 60, 10.0), Leg(14 * 60, 10.0, silent=True)],
        lat=56.05,  # falls silent at 18.7 E, where the slower ship at 56 N passes at hour 66
        lon=1.4,
        every_s=every,
    )
    return positions(*ships, dark, loiter, late, gone)


def _scheduled(tmp_path, feed: pd.DataFrame, hours: float, seen: list | None = None) -> Store:
    """A store fed `hours` of data at a time, scanned after each piece; `seen` collects the
    stored alerts after each scan."""
    path = tmp_path / f"every-{hours}h"
    cfg, layer = _config(), zones()
    store = Store(path)
    edges = T0 + pd.to_timedelta(range(0, HOURS + int(hours) + 1, int(hours)), unit="h")
    for lo, hi in itertools.pairwise(edges):
        piece = feed[(feed["ts"] >= lo) & (feed["ts"] < hi)]
        if len(piece):
            store.add(AisData(positions=piece), source=f"{lo:%d%H}")
            run_scan(store=path, zones=layer, config=cfg)
            if seen is not None:
                seen.append(store.alerts(withdrawn=True))
    return store


def _key(alerts: pd.DataFrame) -> list[tuple]:
    cols = ["id", "type", "mmsi", "start", "end", "evidence"]
    return sorted(tuple(str(v) for v in row) for row in alerts[cols].itertuples(index=False))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("engine")
    feed = _feed()
    whole = _scheduled(tmp_path, feed, HOURS).alerts()
    return feed, whole, tmp_path


def test_one_scan_finds_the_planted_events(engine):
    feed, whole, _ = engine
    gaps = whole[whole["type"] == "ais_gap"].set_index("mmsi")
    assert sorted(gaps.index) == [DARK, GONE]
    dark, gone = gaps.loc[DARK], gaps.loc[GONE]
    assert dark["end"] - dark["start"] == pd.Timedelta(hours=30, minutes=5)
    assert dark["status"] == "closed" and dark["evidence"]["dark_now"] is False
    # the vessel dark at the end of the data: open, from its last fix to the end of the data
    assert gone["status"] == "open" and gone["evidence"]["dark_now"] is True
    assert gone["start"] == feed.loc[feed["mmsi"] == GONE, "ts"].max()
    assert gone["end"] == feed["ts"].max()
    assert gone["evidence"]["reappeared"] is None and gone["severity"] == "high"
    assert abs(gone["evidence"]["hours_heard"] - 14) < 0.1
    loiter = whole[(whole["type"] == "loitering") & (whole["mmsi"] == LOITER)]
    assert len(loiter) == 1 and loiter.iloc[0]["status"] == "closed"
    late = whole[(whole["type"] == "loitering") & (whole["mmsi"] == LATE)]
    assert len(late) == 1 and late.iloc[0]["status"] == "open"
    assert late.iloc[0]["end"] == whole["end"].max()  # it reaches the last fix


@pytest.mark.parametrize("hours", [6, 1])
def test_chunkings_give_the_same_alerts(engine, hours):
    """The 30 h silence is longer than the 24 h overlap: only the vessel's stored state lets a
    scan of six-hour (or hourly) files see it; the loitering spans several files and is found
    once, with the start, end and evidence of one scan over everything; the vessel dark at the
    end of the data is open, as one scan over everything finds it (evidence and all)."""
    feed, whole, tmp_path = engine
    seen: list[pd.DataFrame] = []
    store = _scheduled(tmp_path, feed, hours, seen)
    got = store.alerts()
    assert _key(got) == _key(whole)
    assert list(got.sort_values("id")["status"]) == list(whole.sort_values("id")["status"])
    late = got[(got["type"] == "loitering") & (got["mmsi"] == LATE)]
    assert list(late["status"]) == ["open"]
    # what an early scan took for an event and the fuller data do not show is withdrawn
    withdrawn = store.alerts(withdrawn=True).query("status == 'withdrawn'")
    assert set(withdrawn["mmsi"]) <= {LOITER, LATE}
    # the 30 h silence was dark now (open, one alert, its final id) while it lasted, its end
    # moving with each scan, and closed with the same id by the scan that heard it again
    (final,) = got.loc[(got["type"] == "ais_gap") & (got["mmsi"] == DARK), "id"]
    dark = [a[(a["type"] == "ais_gap") & (a["mmsi"] == DARK)] for a in seen]
    opened = [d for d in dark if len(d) and d["status"].iloc[0] == "open"]
    # from when the place is heard again, 6 h into the silence or more, to the reappearance
    assert len(opened) >= 18 // hours
    assert all(list(d["id"]) == [final] for d in dark if len(d))
    assert all(d["evidence"].iloc[0]["dark_now"] for d in opened)
    assert len({d["end"].iloc[0] for d in opened}) == len(opened)
    closed = got[got["id"] == final].iloc[0]
    assert closed["status"] == "closed" and closed["evidence"]["reappeared"] is not None


@pytest.mark.parametrize("suffix", [".geojson", ".csv", ".gpkg", ".parquet"])
def test_alert_files_carry_status_and_updated(engine, tmp_path, suffix):
    """`mda scan --out` writes what the store knows of each event: open or closed, and when
    it last changed; read_alerts gives it back."""
    from mda.alerts import read_alerts, write_alerts

    _, whole, _ = engine
    back = read_alerts(write_alerts(whole, tmp_path / f"alerts{suffix}")).set_index("id")
    want = whole.set_index("id").loc[back.index]
    assert len(back) == len(whole)
    assert list(back["status"]) == list(want["status"]) and "open" in set(back["status"])
    assert list(back["updated"]) == list(want["updated"]) and want["updated"].notna().all()
    dark = back[back["mmsi"] == GONE]
    assert dark["evidence"].iloc[0]["dark_now"] is True  # evidence travels as it is


def _pieces(tmp_path, feed: pd.DataFrame, cuts: list[int]) -> tuple[Store, list[pd.DataFrame]]:
    """A store fed the pieces of `feed` between the hours `cuts`, scanned after each piece;
    and the stored alerts (withdrawn ones too) after each scan."""
    path, cfg, layer, seen = tmp_path / "pieces", _config(), zones(), []
    store = Store(path)
    for lo, hi in itertools.pairwise(T0 + pd.to_timedelta(cuts, unit="h")):
        store.add(AisData(positions=feed[(feed["ts"] >= lo) & (feed["ts"] < hi)]), source=f"{lo}")
        run_scan(store=path, zones=layer, config=cfg)
        seen.append(store.alerts(withdrawn=True))
    return store, seen


def _fleet(hours: float, n: int = 12, *, until: float | None = None) -> list[pd.DataFrame]:
    """n vessels sailing apart, heard for `hours` (all but the first only `until` hours)."""
    return [
        sail(
            219100000 + k, [Leg((hours if k == 0 or until is None else until) * 60, 8.0)],
            lat=60.0 + 0.3 * k, every_s=600.0,
        )
        for k in range(n)
    ]  # fmt: skip


def _gone(mmsi: int, hours: float, after: float, lat: float = 56.0) -> pd.DataFrame:
    """A vessel sailing east at 10 kn to 15.6 E, reached after `after` hours, silent since."""
    lon = 15.6 - after * 10.0 / (60.0 * np.cos(np.radians(lat)))
    legs = [Leg(after * 60, 10.0), Leg((hours - after) * 60, 10.0, silent=True)]
    return sail(mmsi, legs, lat=lat, lon=lon)


def _watcher(hours: float) -> pd.DataFrame:
    """A still vessel 3 km from where the _gone vessels fall silent: that place is heard."""
    return sail(219200000, [Leg(hours * 60, 0.0)], lat=56.027, lon=15.6, every_s=600.0)


def test_dark_now_withdrawn_when_fuller_data_show_a_coverage_edge(tmp_path):
    """The first scan sees one vessel vanish at sea: dark now. The next sees two more vanish
    beside it: vessels sailing out of range, so the open alert is withdrawn, and the store ends
    as one scan over everything (no ais_gap)."""
    feed = positions(
        *_fleet(20),
        _watcher(20),
        _gone(DARK, 20, 2),
        *(_gone(DARK + k, 20, 11, 56.0 + 0.01 * k) for k in (1, 2)),
    )
    store, seen = _pieces(tmp_path, feed, [0, 10, 20])
    first = seen[0][seen[0]["type"] == "ais_gap"]
    assert list(first["mmsi"]) == [DARK] and list(first["status"]) == ["open"]
    assert store.alerts(types=["ais_gap"]).empty
    assert list(store.alerts(withdrawn=True, types=["ais_gap"])["status"]) == ["withdrawn"]
    assert _scheduled_once(tmp_path, feed).empty


def _scheduled_once(tmp_path, feed: pd.DataFrame) -> pd.DataFrame:
    """The ais_gaps of one scheduled scan over all of `feed`."""
    path = tmp_path / "once"
    Store(path).add(AisData(positions=feed), source="all")
    return run_scan(store=path, zones=zones(), config=_config(), only=["ais_gap"]).alerts


def test_dark_now_kept_open_through_an_outage_at_the_end(tmp_path):
    """A vessel dark from hour 2; the second file ends in a receiver outage (one vessel of
    twelve heard for its last five hours): nothing is known about now, so the open alert stays
    as it was, neither withdrawn nor extended; the third file, heard again, extends it, and the
    store ends as one scan over everything."""
    fleet = positions(*_fleet(30), _watcher(30))
    down = (fleet["ts"] >= T0 + pd.Timedelta(hours=15)) & (
        fleet["ts"] < T0 + pd.Timedelta(hours=20)
    )
    fleet = fleet[~down | (fleet["mmsi"] == 219100000)]
    feed = positions(fleet, _gone(DARK, 30, 2))
    store, seen = _pieces(tmp_path, feed, [0, 10, 20, 31])
    dark = [s[s["type"] == "ais_gap"].iloc[0] for s in seen]
    assert [d["status"] for d in dark] == ["open"] * 3
    assert dark[1]["end"] == dark[0]["end"] < dark[2]["end"]
    assert dark[2]["end"] == feed["ts"].max()
    final = store.alerts(types=["ais_gap"])
    assert _key(final) == _key(_scheduled_once(tmp_path, feed))
    assert final["evidence"].iloc[0]["hours_heard"] < final["evidence"].iloc[0]["hours"] - 4


def test_one_open_store_scanned_piece_by_piece_reads_the_feed_once(engine, tmp_path):
    """As mda watch does: one open Store, scan_store after each six-hour piece, with a six-hour
    overlap so that both silences outlast it. The feed before each window (for the coverage of
    silences older than it) is read once, never again, and the silences are those of one scan
    over everything."""
    from mda.scan import scan_store

    feed, whole, _ = engine
    store, cfg, layer, reads = Store(tmp_path / "open"), _config(), zones(), []
    cfg.scan.overlap_hours = 6.0
    positions_of = store.positions

    def spy(since=None, until=None, mmsi=None, columns=None):
        if columns == ["ts"]:
            reads.append((since, until))
        return positions_of(since=since, until=until, mmsi=mmsi, columns=columns)

    store.positions = spy
    for lo, hi in itertools.pairwise(T0 + pd.to_timedelta(range(0, HOURS + 7, 6), unit="h")):
        store.add(AisData(positions=feed[(feed["ts"] >= lo) & (feed["ts"] < hi)]), source=f"{lo}")
        with store.lock():
            scan_store(store, cfg=cfg, zones=layer)
    gaps = store.alerts(types=["ais_gap"])
    assert _key(gaps) == _key(whole[whole["type"] == "ais_gap"])
    assert list(gaps["status"]) == ["closed", "open"]
    assert len(reads) >= 5
    spans = sorted(reads)
    assert all(b <= c for (_, b), (c, _) in itertools.pairwise(spans)), reads  # none twice
