"""Tracks: cleaning, outliers vs jumps, segmentation, kinematics, writers, edge cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import shared_file
from hypothesis import given, settings
from hypothesis import strategies as st

from mda import schema
from mda.config import TracksConfig
from mda.errors import MdaError
from mda.geo import NM
from mda.tracks import POINTS, SEGMENTS, Tracks, build_tracks, to_movingpandas, write_tracks

T0 = pd.Timestamp("2024-03-01 12:00", tz="UTC")
M_PER_DEG = 111_195.0  # metres per degree of latitude on the mean sphere of mda.geo


def positions(rows: list[dict]) -> pd.DataFrame:
    """Positions per schema from dicts with mmsi, s (seconds after T0), lat, lon and extras."""
    df = pd.DataFrame(rows)
    df["ts"] = T0 + pd.to_timedelta(df.pop("s"), unit="s")
    defaults = {"sog": 10.0, "cog": 0.0, "heading": 0.0, "nav_status": 0, "msg_type": 1}
    for col, value in {**defaults, "source": "test", "station": ""}.items():
        df[col] = df[col].fillna(value) if col in df else value
    return schema.conform(df, schema.POSITIONS)


def straight(
    mmsi: int,
    n: int,
    *,
    every_s: float = 60.0,
    kn: float = 10.0,
    course: float = 0.0,
    lat0: float = 55.0,
    lon0: float = 10.0,
    s0: float = 0.0,
) -> list[dict]:
    """`n` fixes of a vessel steaming at `kn` on `course` (flat-earth steps, fine for tests)."""
    step = kn * NM / 3600.0 * every_s
    k = np.arange(n)
    dlat = k * step * np.cos(np.radians(course)) / M_PER_DEG
    dlon = k * step * np.sin(np.radians(course)) / (M_PER_DEG * np.cos(np.radians(lat0)))
    return [
        {
            "mmsi": mmsi,
            "s": s0 + i * every_s,
            "lat": lat0 + dlat[i],
            "lon": lon0 + dlon[i],
            "sog": kn,
        }
        for i in range(n)
    ]


def test_cross_receiver_duplicates_keep_the_earliest():
    rows = straight(1, 5)
    echo = {**rows[2], "s": rows[2]["s"] + 1.5, "station": "other"}  # heard again 1.5 s later
    exact = dict(rows[3])
    late = {**rows[4], "s": rows[4]["s"] + 40}  # same fix 40 s later: not a copy, kept
    tr = build_tracks(positions([*rows, echo, exact, late]))
    p = tr.points
    assert len(p) == 6
    assert (p["station"] == "").all()
    assert p["ts"].is_monotonic_increasing
    assert not p["outlier"].any()


def test_stale_repeat_of_a_moving_vessel_is_dropped():
    rows = straight(1, 5, every_s=10.0)
    stale = {**rows[2], "s": rows[2]["s"] + 8}  # relayed copy 8 s late, 2 s before the next fix
    p = build_tracks(positions([*rows, stale])).points
    assert len(p) == 5
    assert p["speed_kn"].max() == pytest.approx(10.0, rel=1e-3)
    moored = straight(2, 3, every_s=10.0, kn=0.0)  # a still vessel may repeat its fix
    assert len(build_tracks(positions(moored)).points) == 3


def test_moving_threshold_decides_which_repeats_are_stale():
    """tracks.moving_kn: a vessel reporting at least this SOG cannot repeat its fix, one slower
    may (the repeat 8 s later is kept at 0.8 kn by default, dropped with moving_kn = 0.5)."""
    slow = straight(1, 5, every_s=10.0, kn=0.8)
    repeat = {**slow[2], "s": slow[2]["s"] + 8}
    assert len(build_tracks(positions([*slow, repeat])).points) == 6
    points = build_tracks(positions([*slow, repeat]), TracksConfig(moving_kn=0.5)).points
    assert len(points) == 5


def test_duplicate_needs_same_sog_and_cog():
    rows = straight(1, 3)
    other = {**rows[1], "s": rows[1]["s"] + 1, "sog": 11.0}
    assert len(build_tracks(positions([*rows, other])).points) == 4


def test_unordered_input_gives_the_same_tracks():
    rows = straight(7, 20) + straight(3, 20, lat0=56.0)
    ordered = build_tracks(positions(rows))
    rng = np.random.default_rng(1)
    shuffled = build_tracks(positions([rows[i] for i in rng.permutation(len(rows))]))
    pd.testing.assert_frame_equal(ordered.points, shuffled.points)
    assert list(ordered.points["mmsi"].unique()) == [3, 7]
    assert ordered.points.index.equals(pd.RangeIndex(40))


def test_sentinels_never_survive():
    rows = straight(1, 4)
    rows[0].update(sog=102.3, cog=360.0, heading=511.0)
    bad_lat = {**rows[1], "s": 30, "lat": 91.0}
    bad_lon = {**rows[1], "s": 31, "lon": 181.0}
    missing = {**rows[1], "s": 32, "lat": np.nan}
    p = build_tracks(positions([*rows, bad_lat, bad_lon, missing])).points
    assert len(p) == 4
    assert p.loc[0, ["sog", "cog", "heading"]].isna().all()
    assert p["lat"].abs().max() <= 90 and p["lon"].abs().max() <= 180
    assert p.loc[1:, "sog"].eq(10.0).all()


def test_single_glitch_is_an_outlier_measured_from_the_last_good_fix():
    rows = straight(1, 10)
    rows[5]["lat"] += 0.5  # 55 km off for one report
    p = build_tracks(positions(rows)).points
    assert p["outlier"].tolist() == [i == 5 for i in range(10)]
    assert p.loc[5, "segment"] == -1
    assert p.loc[5, "speed_kn"] > 1000  # the evidence stays on the row
    assert not p["jump"].any()
    assert set(p.loc[p["segment"] >= 0, "segment"]) == {0}
    # the fix after the glitch is measured from the last good one, two minutes before
    assert p.loc[6, "dt_s"] == pytest.approx(120.0)
    assert p.loc[6, "speed_kn"] == pytest.approx(10.0, rel=1e-3)


def test_short_excursion_and_last_fix_glitch_are_outliers():
    rows = straight(1, 12)
    rows[4]["lon"] += 1.0
    rows[5]["lon"] += 1.0  # two fixes away, then back: below jump_min_fixes
    rows[11]["lat"] -= 1.0  # the last report is a glitch nothing confirms
    p = build_tracks(positions(rows)).points
    assert p.index[p["outlier"]].tolist() == [4, 5, 11]
    assert not p["jump"].any()


def test_sustained_jump_starts_a_new_segment():
    before = straight(1, 10)
    after = straight(1, 10, lat0=56.0, s0=600)  # spoofed: 1 degree north, continues from there
    tr = build_tracks(positions(before + after))
    p = tr.points
    assert not p["outlier"].any()
    assert p.index[p["jump"]].tolist() == [10]
    assert p["segment"].tolist() == [0] * 10 + [1] * 10
    dlat = p.loc[10, "lat"] - p.loc[9, "lat"]
    assert p.loc[10, "dist_m"] == pytest.approx(dlat * M_PER_DEG, rel=0.01)
    assert p.loc[10, "speed_kn"] > 50
    assert np.isnan(p.loc[10:11, "turn"]).all()
    assert len(tr.segments) == 2 and tr.gaps.empty


def test_far_first_fix_is_an_outlier_not_a_jump():
    rows = straight(1, 8)
    rows[0]["lat"] -= 2.0
    p = build_tracks(positions(rows)).points
    assert p["outlier"].tolist() == [True] + [False] * 7
    assert not p["jump"].any()
    assert p.loc[1, "segment"] == 0 and np.isnan(p.loc[1, "dt_s"])


def test_same_time_two_places_leaves_out_the_stale_one():
    # two positions of one vessel under one time stamp: a receiver artefact, not a jump
    rows = straight(1, 6)
    rows.append({**rows[3], "lat": rows[3]["lat"] + 0.3, "sog": 3.0})
    t = build_tracks(positions(rows))
    assert len(t.points) == 6 and not t.points["outlier"].any()
    assert t.artefacts["lat"].tolist() == [rows[3]["lat"] + 0.3]
    assert t.artefacts["reason"].tolist() == ["stale time stamp"]


def test_feed_burst_with_old_positions_is_left_out_before_jumps():
    # an archive opens its day with buffered old fixes stamped 00:00:00: vessel 1's old position
    # 30 km back along its track would be a 1,000-knot jump into its real track
    rows = []
    for v in range(2, 40):  # the burst: 38 vessels at once, then the feed's usual pace
        rows += straight(v, 40, lat0=50.0 + v / 10, s0=v % 3 if v > 30 else 0.0)
    stale = straight(1, 1, lat0=54.7)[0]
    rows += [stale, *straight(1, 30, s0=20.0)]
    t = build_tracks(positions(rows))
    assert t.artefacts["mmsi"].tolist() == [1]
    assert not t.points["outlier"].any() and not t.points["jump"].any()


def test_gps_noise_at_short_intervals_is_not_an_outlier():
    rows = straight(1, 200, every_s=1.0, kn=12.0)
    rng = np.random.default_rng(3)
    for r in rows:  # ~20 m scatter: 40 kn implied between two fixes 1 s apart
        r["lat"] += rng.normal(0, 20) / M_PER_DEG
        r["lon"] += rng.normal(0, 20) / (M_PER_DEG * 0.57)
    p = build_tracks(positions(rows)).points
    assert not p["outlier"].any()
    assert p["speed_kn"].max() > TracksConfig().max_speed_kn  # noise did imply high speeds


def test_type27_coarse_positions_are_not_outliers():
    rows = straight(1, 40, every_s=180.0, kn=8.0)
    for r in rows:  # 1/10 minute resolution, ~185 m
        r["lat"] = np.round(r["lat"] * 600) / 600
        r["lon"] = np.round(r["lon"] * 600) / 600
        r["msg_type"] = 27
    tr = build_tracks(positions(rows), TracksConfig(max_speed_kn=9.0))
    assert not tr.points["outlier"].any()
    assert len(tr.segments) == 1


def test_gap_splits_segments_and_is_reported():
    first = straight(1, 5)
    second = straight(1, 5, lat0=55.05, s0=240 + 2 * 3600)  # 2 h later, 5.6 km further
    tr = build_tracks(positions(first + second))
    p, gaps = tr.points, tr.gaps
    assert p["segment"].tolist() == [0] * 5 + [1] * 5
    assert len(gaps) == 1
    g = gaps.iloc[0]
    assert g["mmsi"] == 1
    assert g["start"] == p.loc[4, "ts"] and g["end"] == p.loc[5, "ts"]
    assert g["hours"] == pytest.approx(2.0)
    assert g["dist_m"] == pytest.approx(p.loc[5, "dist_m"])
    assert g["implied_kn"] == pytest.approx(g["dist_m"] / NM / 2.0)
    assert (g["lat0"], g["lat1"]) == (p.loc[4, "lat"], p.loc[5, "lat"])
    assert np.isnan(p.loc[5:6, "turn"]).all()
    assert tr.segments["n_points"].tolist() == [5, 5]
    assert tr.segments["start"].iloc[1] == p.loc[5, "ts"]


def test_kinematics_one_mile_north_in_six_minutes_is_ten_knots():
    p = build_tracks(positions(straight(1, 3, every_s=360.0))).points
    assert np.isnan(p.loc[0, ["dt_s", "dist_m", "speed_kn", "course"]].astype(float)).all()
    assert p.loc[1, "dt_s"] == 360.0
    assert p.loc[1, "dist_m"] == pytest.approx(NM, rel=1e-4)
    assert p.loc[1, "speed_kn"] == pytest.approx(10.0, rel=1e-4)
    assert p.loc[1, "course"] == pytest.approx(0.0, abs=1e-6)
    assert p.loc[2, "turn"] == pytest.approx(0.0, abs=1e-6)
    seg = build_tracks(positions(straight(1, 3, every_s=360.0))).segments.iloc[0]
    assert seg["mean_speed_kn"] == pytest.approx(10.0, rel=1e-4)
    assert seg["length_m"] == pytest.approx(2 * NM, rel=1e-4)


@pytest.mark.parametrize(("course", "turn"), [(90.0, 90.0), (270.0, -90.0), (180.0, 180.0)])
def test_turn_sign(course, turn):
    leg1 = straight(1, 3, every_s=360.0)
    end = leg1[-1]
    leg2 = straight(1, 3, every_s=360.0, course=course, lat0=end["lat"], s0=end["s"])[1:]
    p = build_tracks(positions(leg1 + leg2)).points
    assert p.loc[3, "turn"] == pytest.approx(turn, abs=0.1)
    assert np.isnan(p.loc[:1, "turn"]).all()


def test_antimeridian_crossing_does_not_circle_the_world():
    rows = straight(1, 10, course=90.0, kn=15.0, lon0=179.98, lat0=10.0)
    for r in rows:
        r["lon"] = (r["lon"] + 180.0) % 360.0 - 180.0
    tr = build_tracks(positions(rows))
    assert tr.points["lon"].min() < -179 and tr.points["lon"].max() > 179
    assert tr.points["speed_kn"].max() == pytest.approx(15.0, rel=0.01)
    seg = tr.segments.iloc[0]
    assert seg["length_m"] == pytest.approx(9 * 15 * NM / 60, rel=0.01)
    xmin, _, xmax, _ = seg.geometry.bounds
    assert xmax - xmin < 1.0
    assert -180 <= seg["lon1"] <= -179


def test_segments_of_several_vessels_have_global_ids():
    rows = straight(5, 4) + straight(9, 3, lat0=60.0) + straight(5, 4, s0=5 * 3600)
    tr = build_tracks(positions(rows))
    seg = tr.segments
    assert seg["segment"].tolist() == [0, 1, 2]
    assert seg["mmsi"].tolist() == [5, 5, 9]
    assert seg["n_points"].tolist() == [4, 4, 3]
    assert shapely.get_num_points(seg.geometry).tolist() == [4, 4, 3]
    v = tr.vessels()
    assert v["mmsi"].tolist() == [5, 9]
    assert v["n_segments"].tolist() == [2, 1] and v["n_points"].tolist() == [8, 3]


def assert_contract(tr: Tracks) -> None:
    assert dict(tr.points.dtypes.astype(str)) == POINTS
    assert dict(tr.gaps.dtypes.astype(str)) == schema.GAPS
    attrs = tr.segments.drop(columns="geometry")
    assert dict(attrs.dtypes.astype(str)) == SEGMENTS
    assert tr.segments.crs == "EPSG:4326"
    assert isinstance(tr.points.index, pd.RangeIndex)


@pytest.mark.parametrize(
    "rows",
    [
        [],
        straight(1, 1),
        [
            {"mmsi": 1, "s": 0, "lat": 91.0, "lon": 181.0},
            {"mmsi": 2, "s": 1, "lat": np.nan, "lon": 3.0},
        ],
        straight(1, 5) + straight(2, 1, lat0=50.0),
    ],
    ids=["empty", "one-fix", "all-missing", "mixed"],
)
def test_edge_cases_keep_the_contract(rows):
    pos = positions(rows) if rows else schema.empty(schema.POSITIONS)
    tr = build_tracks(pos)
    assert_contract(tr)
    n_valid = sum(abs(r["lat"]) <= 90 for r in rows)
    assert len(tr.points) == n_valid
    one_fix = tr.segments[tr.segments["n_points"] == 1]
    assert (shapely.get_type_id(one_fix.geometry) == 1).all()  # LineString
    assert (shapely.length(one_fix.geometry.to_numpy()) == 0).all()


def test_contract_on_a_realistic_mix():
    rows = straight(1, 10) + straight(2, 10, s0=4 * 3600) + straight(2, 5, s0=9 * 3600)
    rows[3]["lat"] += 1
    assert_contract(build_tracks(positions(rows)))


@pytest.fixture
def sample_tracks() -> Tracks:
    rows = straight(1, 6) + straight(1, 4, s0=3 * 3600) + straight(2, 1, lat0=50.0)
    return build_tracks(positions(rows))


def test_write_parquet_round_trip(tmp_path, sample_tracks):
    out = tmp_path / "tracks.parquet"
    write_tracks(sample_tracks, out)
    points = gpd.read_parquet(out)  # GeoParquet: geometry and CRS in the file's metadata
    assert points.crs == "EPSG:4326"
    assert set(points.geom_type) == {"Point"}
    assert points.geometry.x.tolist() == sample_tracks.points["lon"].tolist()
    pd.testing.assert_frame_equal(
        pd.DataFrame(points.drop(columns="geometry")), sample_tracks.points
    )
    segments = gpd.read_parquet(tmp_path / "tracks.segments.parquet")
    assert segments.crs == "EPSG:4326"
    assert segments.geometry.equals(sample_tracks.segments.geometry)
    assert segments["n_points"].tolist() == [6, 4, 1]
    gaps = pd.read_parquet(tmp_path / "tracks.gaps.parquet")
    pd.testing.assert_frame_equal(gaps, sample_tracks.gaps)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_write_vector_round_trip(tmp_path, sample_tracks, suffix):
    out = tmp_path / f"tracks{suffix}"
    write_tracks(sample_tracks, out)
    back = pyogrio.read_dataframe(out)
    assert len(back) == 3
    assert set(back.geom_type) == {"LineString"}
    assert back["mmsi"].tolist() == [1, 1, 2]
    assert back["n_points"].tolist() == [6, 4, 1]
    assert back["length_m"].to_numpy() == pytest.approx(sample_tracks.segments["length_m"])
    write_tracks(sample_tracks, out)  # overwriting works
    assert len(pyogrio.read_dataframe(out)) == 3


def test_points_as_geodataframe_reproject(sample_tracks):
    gdf = sample_tracks.to_geodataframe()
    assert gdf.crs == "EPSG:4326" and len(gdf) == len(sample_tracks.points)
    assert gdf.geometry.y.tolist() == sample_tracks.points["lat"].tolist()
    metric = gdf.to_crs("EPSG:3857")  # the finding: plain DataFrames had no .to_crs
    assert metric.geometry.x.abs().max() > 1000


def test_vector_files_keep_datetimes(tmp_path, sample_tracks):
    for suffix in (".gpkg", ".geojson"):
        write_tracks(sample_tracks, tmp_path / f"t{suffix}")
        back = pyogrio.read_dataframe(tmp_path / f"t{suffix}")
        assert back.crs == "EPSG:4326"
        assert str(back["start"].dtype).startswith("datetime64") and back["start"].dt.tz
        assert (back["start"] == sample_tracks.segments["start"]).all()


def test_write_unknown_suffix_or_bad_place_is_one_line_error(tmp_path, sample_tracks):
    with pytest.raises(MdaError, match=r"tracks\.csv.*unknown tracks format"):
        write_tracks(sample_tracks, tmp_path / "tracks.csv")
    (tmp_path / "a-file").write_text("")  # a missing folder is created, one under a file cannot be
    with pytest.raises(MdaError, match="cannot write") as e:
        write_tracks(sample_tracks, tmp_path / "a-file" / "tracks.parquet")
    assert "\n" not in str(e.value)


def test_to_movingpandas(sample_tracks):
    pytest.importorskip("movingpandas")
    tc = to_movingpandas(sample_tracks)
    assert len(tc) == 2  # the single-fix segment is not a trajectory
    assert sorted(len(t.df) for t in tc) == [4, 6]
    first = min(tc, key=lambda t: t.get_start_time())
    assert first.get_start_time() == T0.tz_localize(None)


def test_to_movingpandas_missing_is_an_mda_error(monkeypatch, sample_tracks):
    import sys

    monkeypatch.setitem(sys.modules, "movingpandas", None)
    with pytest.raises(MdaError, match="movingpandas"):
        to_movingpandas(sample_tracks)


def read_real(rel: str) -> pd.DataFrame:
    """Positions of a real sample, read by the project's own reader (skip until it exists)."""
    path = shared_file(rel)
    sources = pytest.importorskip("mda.sources")
    if not hasattr(sources, "read_ais"):
        pytest.skip("mda.sources.read_ais is not available yet")
    return sources.read_ais([path]).positions


def test_real_dma_ferry_is_one_clean_vessel():
    pos = read_real("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv")
    tr = build_tracks(pos)
    p = tr.points
    assert p["mmsi"].nunique() == 1
    assert not p["outlier"].any()
    assert 0 < p["speed_kn"].max() < 20
    assert_contract(tr)


def test_real_noaa_sample_has_few_outliers_per_vessel():
    pos = read_real("positions/marinecadastre_AIS_2022_01_03_first99999rows.csv.gz")
    tr = build_tracks(pos)
    v = tr.vessels()
    share = v["n_outliers"] / v["n_points"]
    assert len(v) > 100
    # the file clumps stale fixes of other times at 00:00:00; vessels with a real track are clean
    assert (share[v["n_points"] >= 50] <= 0.05).all()
    assert tr.points["outlier"].mean() < 0.002
    assert_contract(tr)


def test_real_nmea_log_keeps_the_contract():
    pos = read_real("nmea/dma_aislib_stream_example.txt")
    tr = build_tracks(pos)
    assert_contract(tr)
    assert tr.points["mmsi"].nunique() > 1000
    assert tr.points["segment"].max() + 1 == len(tr.segments)


def test_cli_tracks_writes_a_geopackage(tmp_path, capsys):
    from mda.cli import main

    src = shared_file("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv")
    read_real("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv")  # skips without a reader
    out = tmp_path / "ferry.gpkg"
    assert main(["tracks", str(src), "--out", str(out)]) == 0
    assert "1 segments of 1 vessels" in capsys.readouterr().out
    back = pyogrio.read_dataframe(out)
    assert back["mmsi"].tolist() == [219000734]
    with pytest.raises(SystemExit) as usage:  # refused before any work is done
        main(["tracks", str(src), "--out", str(tmp_path / "ferry.txt")])
    assert usage.value.code == 2
    assert "expected a .parquet or .geojson or .gpkg file" in capsys.readouterr().err
    assert main(["tracks", str(src), "-o", str(tmp_path / "ferry.parquet")]) == 0
    points = gpd.read_parquet(tmp_path / "ferry.parquet")
    assert points.crs == "EPSG:4326" and set(points["mmsi"]) == {219000734}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 2, 3]),
            st.integers(0, 6 * 3600),
            st.floats(-2, 2),
            st.floats(178, 182),
            st.sampled_from([0.0, 8.0, 102.3]),
        ),
        max_size=60,
    )
)
def test_invariants_hold_for_any_input(reports):
    rows = [
        {"mmsi": m, "s": s, "lat": la, "lon": (lo + 180) % 360 - 180, "sog": sog}
        for m, s, la, lo, sog in reports
    ]
    tr = build_tracks(positions(rows) if rows else schema.empty(schema.POSITIONS))
    assert_contract(tr)
    p = tr.points
    assert p.equals(p.sort_values(["mmsi", "ts"], kind="stable").reset_index(drop=True))
    out = p["outlier"].to_numpy()
    assert ((p["segment"] == -1).to_numpy() == out).all()
    assert not (p["jump"].to_numpy() & out).any()
    assert tr.segments["n_points"].sum() == (~out).sum()
    assert tr.segments["segment"].tolist() == list(range(len(tr.segments)))
    turn = p["turn"].dropna()
    assert ((turn > -180) & (turn <= 180)).all()
    assert (p["speed_kn"].dropna() >= 0).all() and (p["sog"].dropna() < 102.3).all()
    long = (~out) & (p["dt_s"] > TracksConfig().gap_hours * 3600).to_numpy()
    assert len(tr.gaps) == long.sum()
    assert len(tr.segments) >= len(tr.gaps) + p.loc[~out, "mmsi"].nunique()
