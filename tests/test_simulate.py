"""Scenario simulator: encoder vs pyais, determinism, planted events visible after decoding,
CSV layouts, truth file, scenario validation."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyais
import pytest

from mda import encode, schema
from mda.errors import MdaError
from mda.geo import haversine_m
from mda.simulate import Simulation, simulate

KN_MS = 1852.0 / 3600.0


# -- encoder ---------------------------------------------------------------------------------------


def _random_fields(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = {
        "mmsi": rng.integers(200_000_000, 775_999_999, n),
        "lat": np.round(rng.uniform(-90, 90, n), 5),
        "lon": np.round(rng.uniform(-180, 180, n), 5),
        "sog": np.round(rng.uniform(0, 102.2, n), 1),
        "cog": np.round(rng.uniform(0, 359.9, n), 1),
        "heading": rng.integers(0, 360, n).astype(float),
        "nav_status": rng.integers(0, 16, n),
        "second": rng.integers(0, 61, n),
        "msg_type": rng.choice([1, 2, 3, 18], n),
    }
    # "not available" sentinels and range ends
    f["lat"][:3] = np.nan
    f["lon"][:3] = np.nan
    f["sog"][3:6] = np.nan
    f["cog"][6:9] = np.nan
    f["heading"][9:12] = np.nan
    f["lat"][12], f["lon"][12] = -90.0, -180.0
    f["lat"][13], f["lon"][13] = 90.0, 180.0
    return f


def _sentences(f: dict[str, np.ndarray]) -> list[str]:
    payload = encode.position_payloads(encode.position_fields(**f))
    n = len(payload)
    body = encode.sentence_bodies(payload, 0, 1, 1, None, np.full(n, ord("A"), np.uint8))
    return [bytes(r).decode() for r in body]


def test_encoder_round_trip_every_field_through_pyais():
    f = _random_fields(3000)
    for i, s in enumerate(_sentences(f)):
        d = pyais.decode(s).asdict()
        assert d["msg_type"] == f["msg_type"][i] and d["mmsi"] == f["mmsi"][i]
        lat = 91.0 if np.isnan(f["lat"][i]) else f["lat"][i]
        lon = 181.0 if np.isnan(f["lon"][i]) else f["lon"][i]
        assert d["lat"] == pytest.approx(lat, abs=1e-6) and d["lon"] == pytest.approx(lon, abs=1e-6)
        sog = 102.3 if np.isnan(f["sog"][i]) else f["sog"][i]
        cog = 360.0 if np.isnan(f["cog"][i]) else f["cog"][i]
        assert d["speed"] == pytest.approx(sog) and d["course"] == pytest.approx(cog)
        assert d["heading"] == (511 if np.isnan(f["heading"][i]) else f["heading"][i])
        assert d["second"] == f["second"][i]
        if f["msg_type"][i] == 18:
            assert d["cs"] is True
        else:
            assert d["status"] == f["nav_status"][i]


def test_encoder_matches_pyais_encoder_byte_for_byte():
    f = _random_fields(300, seed=5)
    for i, s in enumerate(_sentences(f)):
        msg = {
            "msg_type": int(f["msg_type"][i]),
            "mmsi": int(f["mmsi"][i]),
            "lat": 91.0 if np.isnan(f["lat"][i]) else float(f["lat"][i]),
            "lon": 181.0 if np.isnan(f["lon"][i]) else float(f["lon"][i]),
            "speed": 102.3 if np.isnan(f["sog"][i]) else float(f["sog"][i]),
            "course": 360.0 if np.isnan(f["cog"][i]) else float(f["cog"][i]),
            "heading": 511 if np.isnan(f["heading"][i]) else int(f["heading"][i]),
            "second": int(f["second"][i]),
        }
        if msg["msg_type"] == 18:
            msg["cs"] = True
        else:
            msg.update(status=int(f["nav_status"][i]), turn=-128, maneuver=0)
        expected = pyais.encode_dict(msg, talker_id="AI", sentence_type="VDM")
        assert expected == [s]


def _xor(text: str) -> str:
    x = 0
    for ch in text.encode():
        x ^= ch
    return f"{x:02X}"


def test_tag_blocks_and_sentence_checksums_are_valid():
    f = _random_fields(50)
    payload = encode.position_payloads(encode.position_fields(**f))
    body = encode.sentence_bodies(payload, 0, 1, 1, None, np.full(50, ord("B"), np.uint8))
    station = np.arange(50) % 2
    unix = 1_700_000_000 + np.arange(50)
    width = np.full(50, body.shape[1])
    text = encode.tagged_lines(["rx-busan", "sat"], station, unix, body, width).decode()
    lines = text.splitlines()
    assert len(lines) == 50 and text.endswith("\n")
    for i, line in enumerate(lines):
        _, tag, sentence = line.split("\\")
        content, cs = tag.split("*")
        assert content == f"s:{['rx-busan', 'sat'][i % 2]},c:{unix[i]}" and cs == _xor(content)
        assert sentence[1:].split("*")[1] == _xor(sentence[1:].split("*")[0])


# -- simulations used by several tests (module scope: each scenario is generated once) ------------


@pytest.fixture(scope="module")
def baltic() -> Simulation:
    return simulate("baltic-cables", seed=3)


@pytest.fixture(scope="module")
def korea() -> Simulation:
    return simulate("korea-strait", seed=5)


@pytest.fixture(scope="module")
def baltic_decoded(baltic, tmp_path_factory):
    from mda.sources import read_ais

    path = baltic.write(tmp_path_factory.mktemp("baltic") / "traffic.nmea")
    return read_ais([path])


@pytest.fixture(scope="module")
def korea_decoded(korea, tmp_path_factory):
    from mda.sources import read_ais

    path = korea.write(tmp_path_factory.mktemp("korea") / "traffic.nmea.gz")
    return read_ais([path])


def _events(sim: Simulation, type_: str) -> list[dict]:
    return [e for e in sim.truth if e["type"] == type_]


def _fixes(data, mmsi: int, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Decoded positions of one vessel (duplicates heard by a second station removed)."""
    p = data.positions[data.positions["mmsi"] == mmsi]
    p = p.sort_values("ts").drop_duplicates(["ts", "lat", "lon"])
    p = p[~p["ts"].diff().dt.total_seconds().le(2) | p["ts"].diff().isna()]
    if start is not None:
        p = p[(p["ts"] >= pd.Timestamp(start)) & (p["ts"] <= pd.Timestamp(end))]
    return p.reset_index(drop=True)


# -- determinism ---------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(baltic, tmp_path):
    again = simulate("baltic-cables", seed=3)
    other = simulate("baltic-cables", seed=4)
    a = baltic.write(tmp_path / "a.nmea").read_bytes()
    b = again.write(tmp_path / "b.nmea").read_bytes()
    c = other.write(tmp_path / "c.nmea").read_bytes()
    assert a == b and len(a) > 100_000
    assert a != c
    assert again.truth == baltic.truth
    assert json.loads(baltic.write_truth(tmp_path / "t.json").read_text())["seed"] == 3


# -- the written traffic decodes, and every planted event is visible in it ------------------------


def test_nmea_decodes_with_duplicates_and_a_few_corrupt_sentences(baltic, baltic_decoded):
    rep = baltic_decoded.report
    corrupt = int(baltic.messages["corrupt"].sum())
    assert 0 < sum(rep.rejected.values()) <= 2 * corrupt
    assert rep.rejected["bad_checksum"] > 0 and rep.rejected["malformed"] > 0
    assert {1, 5, 18, 24} <= set(rep.messages)
    dup = baltic_decoded.positions.duplicated(["mmsi", "lat", "lon"], keep=False)
    assert dup.any()  # heard by two stations
    assert set(baltic_decoded.positions["mmsi"]) == set(baltic.positions["mmsi"])
    assert len(baltic_decoded.positions["station"].unique()) > 3


def test_dark_tanker_is_silent_for_twelve_hours_at_sea(baltic, baltic_decoded):
    (gap,) = _events(baltic, "ais_gap")
    p = _fixes(baltic_decoded, gap["mmsi"])
    silence = p["ts"].diff().dt.total_seconds() / 3600
    k = int(silence.idxmax())
    assert silence.max() >= 12
    assert p["ts"].iat[k - 1] == pd.Timestamp(gap["start"])
    assert p["ts"].iat[k] == pd.Timestamp(gap["end"])
    far = haversine_m(p["lat"].iat[k - 1], p["lon"].iat[k - 1], p["lat"].iat[k], p["lon"].iat[k])
    assert far > 100_000  # reappears far away


def test_background_offshore_silences_stay_short(baltic, baltic_decoded):
    planted = {e["mmsi"] for e in baltic.truth if e["type"] != "port_visit"}
    p = baltic_decoded.positions.sort_values(["mmsi", "ts"])
    p = p[~p["mmsi"].isin(planted)]
    dt = p.groupby("mmsi")["ts"].diff().dt.total_seconds()
    assert dt.max() < 3600


def test_drag_vessel_crosses_two_cable_corridors_slower_than_it_cruised(baltic, baltic_decoded):
    from mda.zones import classify, load_zones

    drags = _events(baltic, "anchor_drag")
    assert len({e["zone_id"] for e in drags}) >= 2
    mmsi = drags[0]["mmsi"]
    zones = load_zones()
    p = _fixes(baltic_decoded, mmsi)
    members = classify(p, zones)
    cruise = p[p["ts"] < pd.Timestamp(drags[0]["start"]) - pd.Timedelta(hours=1)]["sog"]
    assert cruise.median() >= 10.5
    for e in drags:
        inside = p.iloc[members[zones["id"].to_numpy()[members["zone"]] == e["zone_id"]]["pos"]]
        assert len(inside) >= 4
        assert inside["ts"].min() == pd.Timestamp(e["start"])
        assert inside["ts"].max() == pd.Timestamp(e["end"])
        assert inside["sog"].median() <= 0.9 * cruise.median()
        turn = np.abs((inside["cog"].diff() + 180) % 360 - 180)
        assert turn.median() > 10  # erratic course
        assert (np.abs((inside["cog"] - inside["heading"] + 180) % 360 - 180)).median() > 5


def test_restricted_entry_is_inside_the_zone(baltic, baltic_decoded):
    from mda.zones import classify

    (entry,) = _events(baltic, "zone_entry")
    zones = baltic.zones  # the scenario's layers, the illustrative restricted areas included
    p = _fixes(baltic_decoded, entry["mmsi"], entry["start"], entry["end"])
    members = classify(p, zones)
    hit = set(members["pos"][zones["id"].to_numpy()[members["zone"]] == entry["zone_id"]])
    assert len(p) > 10 and hit == set(range(len(p)))


def test_encounter_pair_is_together_slow_for_hours(korea, korea_decoded):
    (enc,) = _events(korea, "encounter")
    assert enc["mmsi"] < enc["other_mmsi"]
    a = _fixes(korea_decoded, enc["mmsi"], enc["start"], enc["end"])
    b = _fixes(korea_decoded, enc["other_mmsi"], enc["start"], enc["end"])
    hours = (a["ts"].max() - a["ts"].min()).total_seconds() / 3600
    assert hours > 2
    pair = pd.merge_asof(a, b, on="ts", direction="nearest", tolerance=pd.Timedelta("90s"))
    pair = pair.dropna(subset=["lat_y"])
    assert len(pair) > 60
    d = haversine_m(pair["lat_x"], pair["lon_x"], pair["lat_y"], pair["lon_y"])
    assert d.max() < 500
    assert pair["sog_x"].max() < 2 and pair["sog_y"].max() < 2
    loiter = {e["mmsi"] for e in _events(korea, "loitering")}
    assert {enc["mmsi"], enc["other_mmsi"]} <= loiter


def test_anchored_next_to_cable_inside_its_corridor(korea, korea_decoded):
    from mda.zones import classify, load_zones

    (anc,) = _events(korea, "anchoring")
    p = _fixes(korea_decoded, anc["mmsi"], anc["start"], anc["end"])
    assert (p["ts"].max() - p["ts"].min()) >= pd.Timedelta(hours=20)
    assert p["sog"].max() <= 0.5 and (p["nav_status"] == 1).all()
    spread = haversine_m(p["lat"], p["lon"], p["lat"].mean(), p["lon"].mean())
    assert spread.max() < 200
    zones = load_zones()
    members = classify(p, zones)
    in_cable = set(members["pos"][zones["id"].to_numpy()[members["zone"]] == anc["zone_id"]])
    assert in_cable == set(range(len(p)))


def test_mmsi_switch_within_a_minute_at_the_same_spot(korea, korea_decoded):
    (sw,) = _events(korea, "identity_conflict")
    a = _fixes(korea_decoded, sw["mmsi"])
    b = _fixes(korea_decoded, sw["other_mmsi"])
    assert a["ts"].max() == pd.Timestamp(sw["start"]) and b["ts"].min() == pd.Timestamp(sw["end"])
    assert (b["ts"].min() - a["ts"].max()).total_seconds() < 60
    d = haversine_m(a["lat"].iat[-1], a["lon"].iat[-1], b["lat"].iat[0], b["lon"].iat[0])
    assert d < 500
    names = korea.statics.set_index("mmsi")["name"]
    assert names[sw["mmsi"]] != names[sw["other_mmsi"]]


def test_spoofed_positions_jump_away_and_back(korea, korea_decoded):
    jumps = _events(korea, "position_jump")
    assert len(jumps) == 2
    p = _fixes(korea_decoded, jumps[0]["mmsi"])
    for j in jumps:
        pair = p[(p["ts"] >= pd.Timestamp(j["start"])) & (p["ts"] <= pd.Timestamp(j["end"]))]
        assert len(pair) == 2
        d = haversine_m(
            pair["lat"].iat[0], pair["lon"].iat[0], pair["lat"].iat[1], pair["lon"].iat[1]
        )
        dt = (pair["ts"].iat[1] - pair["ts"].iat[0]).total_seconds()
        assert d > 40_000 and d / dt / KN_MS > 50


def test_watchlist_file_and_event(korea, tmp_path):
    truth = korea.write_truth(tmp_path / "truth.json")
    wl = pd.read_csv(truth.with_name("watchlist.csv"))
    assert list(wl.columns) == ["mmsi", "imo", "name", "reason"]
    (ev,) = _events(korea, "watchlist")
    assert wl["mmsi"].tolist() == [ev["mmsi"]]
    doc = json.loads(truth.read_text())
    assert set(doc) == {
        "scenario", "seed", "start", "end", "events", "must_not_alert", "outages"
    }  # fmt: skip
    for e in doc["events"]:
        assert set(e) == {"type", "mmsi", "other_mmsi", "start", "end", "zone_id", "note"}
        assert e["type"] in schema.ALERT_TYPES
        assert e["start"].endswith("Z") and e["start"] <= e["end"]


def test_port_visits_start_and_end_inside_port_zones(korea):
    from mda.zones import classify, load_zones

    visits = _events(korea, "port_visit")
    assert len(visits) >= 5
    zones = load_zones()
    p = korea.positions
    for v in visits[:8]:
        rows = p[
            (p["mmsi"] == v["mmsi"])
            & p["ts"].isin([pd.Timestamp(v["start"]), pd.Timestamp(v["end"])])
        ]
        members = classify(rows, zones)
        ids = set(zones["id"].to_numpy()[members["zone"]])
        assert v["zone_id"] in ids
        assert pd.Timestamp(v["end"]) - pd.Timestamp(v["start"]) >= pd.Timedelta(minutes=30)


# -- CSV outputs and compression ----------------------------------------------------------------


@pytest.mark.parametrize("layout", ["dma", "noaa"])
def test_csv_layouts_read_back(baltic, tmp_path, layout):
    from mda.sources import read_ais

    path = baltic.write(tmp_path / f"traffic_{layout}.csv", csv=layout)
    head = path.read_text().splitlines()[0]
    assert head.startswith(
        "# Timestamp,Type of mobile,MMSI" if layout == "dma" else "MMSI,BaseDateTime"
    )
    data = read_ais([path])
    m = baltic.messages
    intact = int(((m["kind"] == 0) & ~m["corrupt"] & ~m["duplicate"]).sum())
    assert len(data.positions) == intact
    assert sum(data.report.rejected.values()) == 0
    assert set(data.positions["mmsi"]) == set(baltic.positions["mmsi"])
    assert data.vessels["name"].notna().all()


def test_gzip_output(korea, tmp_path):
    path = korea.write(tmp_path / "t.nmea.gz")
    with gzip.open(path, "rt") as fh:
        first = fh.readline()
    assert first.startswith("\\s:") and "!AIVDM" in first


def test_summary_and_overrides():
    sim = simulate("scale", vessels=20, hours=2, seed=1)
    planted = {int(e["mmsi"]) for e in sim.truth if "mmsi" in e}
    assert sim.statics["mmsi"].nunique() - len(planted) <= 20 <= sim.statics["mmsi"].nunique()
    assert (sim.positions["ts"] < sim.start + pd.Timedelta(hours=2)).all()
    text = sim.summary()
    assert f"{sim.statics['mmsi'].nunique()} MMSIs" in text
    assert "positions:" in text and "sentences:" in text
    # the scale scenario's cases that end after 2 h are left out, named, not an error
    assert sim.left_out and all(pd.Timestamp(e["end"]) <= sim.end for e in sim.truth)
    assert "left out (end after the shortened run): case[" in text
    full = simulate("scale", vessels=20, hours=12, seed=1)
    assert not full.left_out and len(full.truth) > len(sim.truth)


# -- scenario validation -------------------------------------------------------------------------

_BASE = """
[scenario]
start = "2025-01-01T00:00:00Z"
hours = 6
zones = ["ports", "cables", "routes", "restricted"]

[[traffic]]
ports = ["port-busan", "port-ulsan"]
vessels = 2
"""


@pytest.mark.parametrize(
    ("extra", "replace", "key"),
    [
        ("colour = 'red'\n", None, "scenario.colour"),
        ("\n[weather]\nwind = 3\n", None, "weather"),
        (None, ("port-ulsan", "port-atlantis"), "traffic[0].ports[1]"),
        (None, ("hours = 6", "hours = -6"), "scenario.hours"),
        (None, ("vessels = 2", "vessels = 2\nspeed = 3"), "traffic[0].speed"),
        (
            "\n[[case]]\ntype = 'dark'\nwaypoints = [[129.5, 35.0], [130.5, 35.5]]\n"
            "speed_kn = -3\n",
            None,
            "case[0].speed_kn",
        ),
        (
            "\n[[case]]\ntype = 'dark'\nwaypoints = [[129.5, 35.0], [130.5, 35.5]]\n"
            "event_hour = 2\ndark_hours = 12\n",
            None,
            "case[0].dark_hours",
        ),
        ("\n[[case]]\ntype = 'teleport'\n", None, "case[0].type"),
        (None, ("vessels = 2", "vessels = 2\nflags = [999]"), "traffic[0].flags[0]"),
        ("\n[[case]]\ntype = 'anchor_near_cable'\ncable = 'port-busan'\n", None, "case[0].cable"),
    ],
)
def test_bad_scenarios_name_file_and_key(tmp_path, extra, replace, key):
    text = _BASE
    if replace:
        text = text.replace(*replace)
    if extra:
        text = (
            text.replace("zones =", extra + "zones =", 1)
            if extra.startswith("colour")
            else (text + extra)
        )
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(MdaError) as e:
        simulate(path)
    msg = str(e.value)
    assert str(path) in msg and key in msg and "\n" not in msg


def test_unknown_scenario_name_lists_the_bundled_ones():
    with pytest.raises(MdaError, match="korea-eu"):
        simulate("no-such-scenario")


def test_bundled_scenarios_are_valid_toml_with_known_keys():
    from mda.simulate import SCENARIO_DIR, load_scenario

    names = {p.stem for p in SCENARIO_DIR.glob("*.toml")}
    assert {"korea-eu", "baltic-cables", "korea-strait", "scale"} <= names
    for name in names:
        data, path = load_scenario(name)
        assert Path(path).exists() and data["scenario"]["hours"] > 0


def test_cli_simulate_writes_traffic_truth_and_watchlist(tmp_path):
    import subprocess
    import sys

    out, truth = tmp_path / "t.csv", tmp_path / "truth.json"
    args = ["simulate", "korea-strait", "--out", str(out), "--csv", "noaa", "--truth", str(truth)]
    r = subprocess.run([sys.executable, "-m", "mda", *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "events:" in r.stdout and out.read_text().startswith("MMSI,BaseDateTime")
    assert json.loads(truth.read_text())["scenario"] == "korea-strait"
    assert (tmp_path / "watchlist.csv").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "mda", "simulate", str(tmp_path / "nope.toml"), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "nope.toml" in bad.stderr


@pytest.mark.parametrize(
    ("layout", "sample"),
    [
        ("dma", "positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv"),
        ("noaa", "positions/marinecadastre_AIS_2022_01_03_first99999rows.csv.gz"),
    ],
)
def test_csv_headers_match_the_real_public_exports(baltic, tmp_path, layout, sample):
    from conftest import shared_file

    real = shared_file(sample)
    opener = gzip.open if real.suffix == ".gz" else open
    with opener(real, "rt") as fh:
        expected = fh.readline().strip()
    ours = baltic.write(tmp_path / f"x_{layout}.csv", csv=layout).read_text().splitlines()
    assert ours[0] == expected
    first = ours[1].split(",")
    if layout == "dma":
        pd.to_datetime(first[0], format="%d/%m/%Y %H:%M:%S")
    else:
        pd.to_datetime(first[1], format="%Y-%m-%dT%H:%M:%S")


# -- red-team variants (tests/scenarios): the case parameters that describe them -----------------

VARIANTS = Path(__file__).parent / "scenarios" / "korea-variants.toml"


@pytest.fixture(scope="module")
def variants() -> Simulation:
    return simulate(VARIANTS, seed=2)


def _named(sim: Simulation, name: str) -> int:
    names = sim.statics.drop_duplicates("mmsi").set_index("name")["mmsi"]
    return int(names[name])


def _track(sim: Simulation, name: str) -> pd.DataFrame:
    p = sim.positions
    return p[p["mmsi"] == _named(sim, name)].sort_values("ts").reset_index(drop=True)


@pytest.mark.parametrize(
    ("a", "b", "metres"), [("QUICK HAND", "DARK HORSE", 450), ("SLOW HAND", "NIGHT OWL", 200)]
)
def test_sts_ships_lie_abeam_m_apart(variants, a, b, metres):
    pair = pd.merge_asof(
        _track(variants, a),
        _track(variants, b),
        on="ts",
        direction="nearest",
        tolerance=pd.Timedelta("30s"),
    ).dropna(subset=["lat_y"])
    pair = pair[(pair["sog_x"] < 2) & (pair["sog_y"] < 2)]
    d = haversine_m(pair["lat_x"], pair["lon_x"], pair["lat_y"], pair["lon_y"])
    assert np.median(d) == pytest.approx(metres, abs=25)


@pytest.mark.parametrize(("first", "seconds"), [("TWIN ONE", 30), ("ALPHA STAR", 90)])
def test_mmsi_switch_after_switch_seconds(variants, first, seconds):
    (sw,) = [
        e for e in _events(variants, "identity_conflict") if e["mmsi"] == _named(variants, first)
    ]
    gap = pd.Timestamp(sw["end"]) - pd.Timestamp(sw["start"])
    assert gap == pd.Timedelta(seconds=seconds)


def test_spoofed_circle_is_drawn_around_the_false_place(variants):
    p = _track(variants, "ROUND ROBIN")
    far = p[
        p["ts"].between(
            *[
                pd.Timestamp(e["end"])
                for e in _events(variants, "position_jump")
                if e["mmsi"] == _named(variants, "ROUND ROBIN")
            ]
        )
    ]
    far = far.iloc[1:-1]  # the fixes at the false place
    assert len(far) > 60
    # 40 nm west of a ship sailing on, a circle of 4 nm: the false fixes spread over ~8 nm
    spread = haversine_m(far["lat"].min(), far["lon"].mean(), far["lat"].max(), far["lon"].mean())
    assert 6 * 1852 < spread < 9 * 1852


def test_dark_truth_follows_the_ais_gap_definition(variants):
    gaps = {e["mmsi"] for e in _events(variants, "ais_gap")}
    assert gaps == {_named(variants, "SIX HALF")}
    for name, hours in (("FIVE HOURS", 5), ("QUIET QUAY", 5)):  # silent, but not a gap
        silence = _track(variants, name)["ts"].diff().max()
        assert silence >= pd.Timedelta(hours=hours)
    quay = _track(variants, "QUIET QUAY")
    assert quay["nav_status"].iat[0] == 5  # moored before it went dark


def test_spoof_shape_is_checked(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        _BASE + "\n[[case]]\ntype = 'spoof'\nwaypoints = [[129.5, 35.0], [130.5, 35.5]]\n"
        "event_hour = 1\nshape = 'square'\n"
    )
    with pytest.raises(MdaError, match=r"case\[0\]\.shape"):
        simulate(path)


# -- the noisy background: real habits, truth from the plan -------------------------------------


@pytest.fixture(scope="module")
def noisy() -> Simulation:
    return simulate("baltic-cables-noisy", seed=3)


@pytest.fixture(scope="module")
def noisy_decoded(noisy, tmp_path_factory):
    from mda.sources import read_ais

    return read_ais([noisy.write(tmp_path_factory.mktemp("noisy") / "traffic.nmea")])


def _habit(sim: Simulation, habit: str) -> list[dict]:
    return [e for e in sim.must_not_alert if e["habit"] == habit]


def test_clean_scenarios_keep_their_truth_and_a_noisy_variant_keeps_the_planted_cases(
    baltic, noisy
):
    assert baltic.must_not_alert == [] and baltic.outages == []
    planted = {"anchor_drag", "ais_gap", "zone_entry"}
    clean = sorted((e["type"], e["mmsi"]) for e in baltic.truth if e["type"] in planted)
    mine = sorted((e["type"], e["mmsi"]) for e in noisy.truth if e["type"] in planted)
    assert clean == mine  # same planted vessels and MMSIs; the habits come on top


def test_stale_statuses_under_way(noisy):
    p = noisy.positions
    stale = {e["mmsi"] for e in _habit(noisy, "stale_status")}
    assert len(stale) >= 2
    moving = p[p["sog"] > 5]
    said = moving[moving["mmsi"].isin(stale)]["nav_status"]
    assert said.isin([1, 5, 15]).mean() > 0.99
    share = moving["nav_status"].isin([1, 5]).mean()
    assert 0.03 < share < 0.6  # a real share, not every ship


def test_moored_neighbours_30_to_80_m_apart_for_hours(noisy):
    pairs = _habit(noisy, "moored_neighbours")
    assert len(pairs) >= 3
    p = noisy.positions
    for e in pairs[:4]:
        a = p[p["mmsi"] == e["mmsi"]].set_index("ts")
        b = p[p["mmsi"] == e["other_mmsi"]].set_index("ts")
        assert (a.index.max() - a.index.min()) > pd.Timedelta(hours=12)
        d = haversine_m(a["lat"].median(), a["lon"].median(), b["lat"].median(), b["lon"].median())
        assert 20 < d < 100
        assert (a["nav_status"] == 5).all() and a["sog"].max() < 1.5


def test_gps_jitter_at_berth_is_tens_of_metres(noisy):
    p = noisy.positions
    mmsi = _habit(noisy, "moored_neighbours")[0]["mmsi"]
    a = p[p["mmsi"] == mmsi]
    d = haversine_m(a["lat"], a["lon"], a["lat"].median(), a["lon"].median())
    assert 3 < np.percentile(d, 90) < 60


def test_noisy_speed_and_course_under_way(noisy, baltic):
    def spread(sim):
        p = sim.positions[sim.positions["sog"] > 8].sort_values(["mmsi", "ts"])
        turn = np.abs((p.groupby("mmsi")["cog"].diff() + 180) % 360 - 180)
        return p.groupby("mmsi")["sog"].std().median(), turn.median()

    sog_std, turn = spread(noisy)
    clean_sog, clean_turn = spread(baltic)
    assert 0.3 <= sog_std <= 1.2 and clean_sog < 0.2
    assert turn > 4 and clean_turn < 1


def test_feed_outage_silences_every_vessel_and_is_recorded(noisy, noisy_decoded):
    whole = [o for o in noisy.outages if o["station"] is None]
    assert whole and _habit(noisy, "feed_outage")
    ts = noisy_decoded.positions["ts"]
    for o in whole:
        inside = (ts >= pd.Timestamp(o["start"])) & (ts < pd.Timestamp(o["end"]))
        assert not inside.any()
        before = (ts >= pd.Timestamp(o["start"]) - pd.Timedelta(hours=1)) & (
            ts < pd.Timestamp(o["start"])
        )
        assert before.sum() > 100
    rx = [o for o in noisy.outages if o["station"] is not None]
    st = noisy_decoded.positions
    for o in rx:
        inside = st["ts"].between(pd.Timestamp(o["start"]), pd.Timestamp(o["end"]), "left")
        assert not (inside & (st["station"] == o["station"])).any()


def test_batched_timestamps_give_one_second_to_several_positions_of_a_ship(noisy_decoded):
    p = noisy_decoded.positions
    same = p.groupby(["mmsi", "ts"]).agg(n=("lat", "nunique"))
    assert (same["n"] >= 2).sum() >= 5


def test_transponders_off_in_harbour_not_at_sea(noisy):
    p = noisy.positions
    offs = _habit(noisy, "class_b_on_off") + _habit(noisy, "off_in_port")
    assert len(offs) >= 4
    for e in offs:
        v = p[p["mmsi"] == e["mmsi"]]
        inside = v["ts"].between(pd.Timestamp(e["start"]), pd.Timestamp(e["end"]), "neither")
        assert not inside.any()
        near = v[(v["ts"] - pd.Timestamp(e["start"])).abs() < pd.Timedelta(hours=3)]
        assert near.empty or near["sog"].max() < 2  # silent at the berth, not at sea


def test_shared_and_invalid_mmsis_are_identity_truth(noisy):
    ident = {e["mmsi"] for e in _events(noisy, "identity_conflict")}
    (shared,) = {e["mmsi"] for e in _habit(noisy, "shared_mmsi")}
    assert shared in ident
    rows = noisy.statics[noisy.statics["mmsi"] == shared]
    assert len(rows) == 2 and rows["name"].nunique() == 2
    p = noisy.positions[noisy.positions["mmsi"] == shared]
    lat, lon = p.groupby("_ident")[["lat", "lon"]].median().to_numpy().T
    assert haversine_m(lat[0], lon[0], lat[1], lon[1]) > 100_000
    assert 123456789 in ident
    # a coast-station number whose leading zeros the export lost is a valid station: no truth
    (coast,) = {e["mmsi"] for e in _habit(noisy, "coast_station_number")}
    assert coast < 10_000_000 and coast not in ident


def test_planted_vessels_are_heard_lossily_too(noisy, baltic):
    def heard_share(sim):
        (gap,) = _events(sim, "ais_gap")
        m = sim.messages
        sent = int((sim.positions["mmsi"] == gap["mmsi"]).sum())
        rows = sim.positions.index[sim.positions["mmsi"] == gap["mmsi"]]
        heard = m[(m["kind"] == 0) & ~m["duplicate"] & m["row"].isin(rows)]
        return len(heard) / sent

    assert heard_share(baltic) == 1.0
    assert heard_share(noisy) < 0.9


def test_noisy_is_deterministic_per_seed(noisy, tmp_path):
    again = simulate("baltic-cables-noisy", seed=3)
    assert again.truth == noisy.truth and again.must_not_alert == noisy.must_not_alert
    a = noisy.write(tmp_path / "a.nmea").read_bytes()
    assert a == again.write(tmp_path / "b.nmea").read_bytes()


def test_declared_no_alert_cases_leave_the_truth(variants):
    names = {e["note"] for e in _habit(variants, "no_alert_case")}
    assert any("too short" in n for n in names) and any("quay" in n for n in names)


def test_simulator_truth_uses_no_detector_code_or_thresholds():
    """Truth is written from the plan: mda/simulate imports nothing from mda.detect, no
    mda.zones.classify and from mda.config only DATA_DIR (where bundled files live)."""
    import ast

    root = Path(__file__).parents[1] / "mda" / "simulate"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {a.name for a in node.names}
                assert not node.module.startswith("mda.detect"), path
                assert not (node.module == "mda.zones" and "classify" in names), path
                if node.module == "mda.config":
                    assert names == {"DATA_DIR"}, path
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith(("mda.detect", "mda.config")) for a in node.names)
            elif isinstance(node, ast.Attribute):
                assert node.attr not in ("classify", "load_config"), path


def test_background_settings_are_checked(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(_BASE + "\n[background]\nsog_noise_kn = [1.0]\n")
    with pytest.raises(MdaError, match=r"background\.sog_noise_kn"):
        simulate(path)
    path.write_text(_BASE + "\n[background]\nhabits = 'messy'\n")
    with pytest.raises(MdaError, match=r"background\.habits"):
        simulate(path)
