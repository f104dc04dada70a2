"""Thresholds: defaults documented, TOML overrides applied, typos and bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import run_cli

from mda.config import Config, describe, load_config
from mda.errors import MdaError


def write(tmp_path, text: str):
    p = tmp_path / "cfg.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_match_the_documented_public_practice():
    cfg = load_config()
    assert cfg.ais_gap.min_hours == 6.0
    assert cfg.encounter.max_distance_m == 500.0
    assert cfg.encounter.min_hours == 2.0
    assert cfg.position_jump.max_speed_kn == 50.0
    assert cfg.tracks.gap_hours == 1.0


def test_every_threshold_has_a_meaning():
    rows = describe()
    assert len(rows) > 30
    assert all(doc for *_, doc in rows)
    assert {r[0] for r in rows} >= {"ais_gap", "encounter", "anchor_drag", "tracks", "scan"}


def test_override_is_applied_and_shown(tmp_path):
    cfg = load_config(
        write(tmp_path, "[ais_gap]\nmin_hours = 3\n[zone_entry]\nkinds = ['cable']\n")
    )
    assert cfg.ais_gap.min_hours == 3.0
    assert cfg.zone_entry.kinds == ["cable"]
    assert Config().ais_gap.min_hours == 6.0  # defaults untouched
    assert cfg.thresholds("ais_gap")["min_hours"] == 3.0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[ais_gapp]\nmin_hours = 3\n", "unknown section [ais_gapp]"),
        ("[ais_gap]\nmin_hour = 3\n", "unknown key 'min_hour'"),
        ("[ais_gap]\nmin_hours = -1\n", "out of range"),
        ("[ais_gap]\nmin_hours = 'six'\n", "expected float"),
        ("[anchor_drag]\nmin_points = 2.5\n", "expected int"),
        ("[identity_conflict]\ncheck_mid = 1\n", "expected bool"),
        ("[ais_gap\n", "not valid TOML"),
        # issue 9: non-finite and absurd numbers, wrong types, unknown names
        ("[ais_gap]\nmin_hours = nan\n", "min_hours = nan: not a finite number"),
        ("[scan]\noverlap_hours = inf\n", "overlap_hours = inf: not a finite number"),
        ("[scan]\noverlap_hours = -inf\n", "not a finite number"),
        ("[scan]\noverlap_hours = 1e300\n", "overlap_hours = 1e+300: out of range [0, 720]"),
        ("[encounter]\nmax_distance_m = 1e9\n", "out of range [10, 1e+06]"),
        ("[anchor_drag]\nmin_points = 99999999999999999999\n", "min_points = 9999"),
        ("[tracks]\nmax_speed_kn = true\n", "expected float"),
        ("[tracks]\nmax_speed_kn = '50'\n", "expected float"),
        ("[zone_entry]\nkinds = ['cable', 'harbour']\n", "unknown 'harbour' (one of port,"),
        ("[ais_gap]\nzone_kinds = 'cable'\n", "expected a list of strings"),
        ("[identity_conflict]\nstatic_fields = ['name', 1]\n", "expected a list of strings"),
        ("[identity_conflict]\nstatic_fields = ['colour']\n", "unknown 'colour'"),
        ("[anchor_drag]\nignore_ship_types = ['tug']\n", "unknown 'tug'"),
        ("[ais_gap.sub]\nx = 1\n", "unknown key 'sub'"),
        ("[[ais_gap]]\nmin_hours = 1\n", "[ais_gap] must be a table"),
        ("x = 1\n", "unknown section [x]"),
        ('["a\\nb"]\n', "unknown section ['a\\nb']"),
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        ("[ais_gap]\nmin_hours = 3\n" + "#" * 2**20, "larger than 1,048,576 bytes"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(MdaError) as e:
        load_config(path)
    msg = str(e.value)
    assert needle in msg
    assert str(path) in msg
    assert "\n" not in msg


def test_missing_config_file(tmp_path):
    with pytest.raises(MdaError, match="cannot read config"):
        load_config(tmp_path / "nope.toml")


def test_cli_config_show_marks_overrides(tmp_path):
    r = run_cli("config", "show", "--config", str(write(tmp_path, "[loitering]\nmin_hours = 4\n")))
    assert r.returncode == 0
    assert "[loitering] min_hours = 4.0  (default 2.0)" in r.stdout
    assert "[encounter] max_distance_m = 500.0\n" in r.stdout


def test_cli_error_is_one_line_exit_1(tmp_path):
    r = run_cli("config", "show", "--config", str(write(tmp_path, "[x]\n")))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("mda: error:")
    assert "Traceback" not in r.stderr


def test_cli_usage_error_exit_2():
    r = run_cli("scan", "--fail-on", "catastrophic")
    assert r.returncode == 2


def test_every_numeric_threshold_has_a_finite_range():
    import dataclasses
    import math

    for sec in dataclasses.fields(Config):
        for f in dataclasses.fields(getattr(Config(), sec.name)):
            if "lo" in f.metadata:
                lo, hi = f.metadata["lo"], f.metadata["hi"]
                assert math.isfinite(lo) and math.isfinite(hi) and lo <= f.default <= hi, f.name


@pytest.mark.parametrize(
    "text", ["[ais_gap]\nmin_hours = nan\n", "[scan]\noverlap_hours = 1e300\n"]
)
@pytest.mark.parametrize("command", [("config", "show"), ("scan", "nothing.csv")])
def test_cli_refuses_non_finite_config_in_one_line(tmp_path, text, command):
    path = write(tmp_path, text)
    r = run_cli(*command, "--config", str(path))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and str(path) in r.stderr
    assert "Traceback" not in r.stderr


def test_devices_and_directories_are_not_read(tmp_path):
    with pytest.raises(MdaError, match="larger than"):
        load_config("/dev/zero")
    with pytest.raises(MdaError, match="cannot read config"):
        load_config(tmp_path)


# -- the severity policy (issue 12, item 5) ------------------------------------------------------


def test_severity_policy_is_read_and_shown(tmp_path):
    path = write(tmp_path, '[severity]\ninvalid_mmsi = "info"\nais_gap = "high"\n')
    cfg = load_config(path)
    assert (cfg.severity.invalid_mmsi, cfg.severity.ais_gap, cfg.severity.loitering) == (
        "info",
        "high",
        "",
    )
    r = run_cli("config", "show", "--config", str(path))
    assert r.returncode == 0
    assert "[severity] invalid_mmsi = 'info'  (default '')" in r.stdout
    assert "[severity] mmsi_swap = ''\n" in r.stdout  # every key listed, with its meaning


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[severity]\ninvalid_mmsis = "low"', "[severity] unknown key 'invalid_mmsis'"),
        ('[severity]\nais_gap = "urgent"', "[severity] ais_gap = 'urgent': unknown value"),
        ("[severity]\nais_gap = 3", "[severity] ais_gap = 3: unknown value (one of '', info"),
        ('[severity]\nais_gap = ["low"]', "[severity] ais_gap = ['low']: unknown value"),
    ],
)
def test_bad_severity_policy_is_one_line_naming_file_and_key(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(MdaError) as e:
        load_config(path)
    assert str(e.value).startswith(str(path)) and needle in str(e.value)
    r = run_cli("scan", "--config", str(path), "x.nmea")
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1 and needle in r.stderr


def test_severity_policy_is_set_once_after_detection():
    """A sub-case's key wins over its type's; an alert changed says so in its thresholds."""
    from helpers.detect import Leg, context, positions, sail

    from mda.detect import detect_all

    pts = positions(
        sail(123456789, [Leg(60, 8)], lat=55.0, lon=15.0),  # a test number: invalid_mmsi
        sail(217123456, [Leg(60, 8)], lat=55.2, lon=15.0),  # no administration holds MID 217
    )
    plain = detect_all(context(pts), Config(), only=["identity_conflict"])
    assert set(plain["severity"]) == {"low"} and len(plain) == 2
    cfg = Config()
    cfg.severity.identity_conflict = "critical"
    got = detect_all(context(pts, cfg=cfg), cfg, only=["identity_conflict"])
    assert set(got["severity"]) == {"critical"}
    assert all(t["severity_policy"] == "critical" for t in got["thresholds"])
    assert list(got["id"]) == list(plain["id"])  # the same events, weighed differently
    cfg.severity.invalid_mmsi = "info"
    got = detect_all(context(pts, cfg=cfg), cfg, only=["identity_conflict"])
    assert set(got["severity"]) == {"info"}
    cfg.severity.invalid_mmsi = "low"  # what the detector says already: nothing recorded
    got = detect_all(context(pts, cfg=cfg), cfg, only=["identity_conflict"])
    assert not any("severity_policy" in t for t in got["thresholds"])


def test_every_identity_sub_case_has_a_severity_key():
    """The [severity] keys of identity_conflict are the sub-cases mda.detect.identity emits."""
    import re

    import mda.detect.identity as identity
    from mda.config import IDENTITY_KINDS

    source = Path(identity.__file__).read_text()
    emitted = set(re.findall(r'_rows\(\s*"(\w+)"', source))
    assert emitted == set(IDENTITY_KINDS)


# -- names carry their units (issue 13) -------------------------------------------------------

#: The unit a meaning ends with -> the endings a field's name may have.
_UNIT_NAMES = {
    "s": ("_s", "_seconds"),
    "min": ("_minutes",),
    "h": ("_hours",),
    "m": ("_m",),
    "km": ("_km",),
    "kn": ("_kn",),
    "deg": ("_deg",),
}


def test_every_name_carries_the_unit_of_its_meaning():
    import dataclasses
    import re

    endings = [e for v in _UNIT_NAMES.values() for e in v]
    for sec in dataclasses.fields(Config):
        for f in dataclasses.fields(getattr(Config(), sec.name)):
            unit = re.search(r"\((\w+)\)$", f.metadata["doc"])
            if unit:
                assert f.name.endswith(_UNIT_NAMES[unit.group(1)]), (sec.name, f.name)
            else:  # a count, factor, fraction, name list or switch: no unit in its name either
                assert not f.name.endswith(tuple(endings)), (sec.name, f.name)


@pytest.mark.parametrize(
    ("section", "old", "new", "value"),
    [
        ("encounter", "time_bucket_min", "time_bucket_minutes", 5.0),
        ("identity_conflict", "swap_seconds", "swap_window_s", 60.0),
        ("anchor_drag", "cruise_window_h", "cruise_window_hours", 6.0),
    ],
)
def test_an_old_name_is_still_read_with_a_warning(tmp_path, section, old, new, value):
    path = write(tmp_path, f"[{section}]\n{old} = {value}\n")
    with pytest.warns(FutureWarning, match=rf"\[{section}\] {old} is deprecated: use {new}"):
        cfg = load_config(path)
    assert getattr(getattr(cfg, section), new) == value
    assert old not in cfg.thresholds(section)


def test_an_old_name_beside_its_new_one_is_refused(tmp_path):
    path = write(tmp_path, "[encounter]\ntime_bucket_min = 5\ntime_bucket_minutes = 10\n")
    with pytest.raises(MdaError, match="time_bucket_min and time_bucket_minutes both given"):
        load_config(path)


def test_an_old_name_is_still_range_checked(tmp_path):
    path = write(tmp_path, "[identity_conflict]\nswap_seconds = 0\n")
    with pytest.warns(FutureWarning), pytest.raises(MdaError, match="swap_window_s = 0: out of"):
        load_config(path)


def test_cli_warns_once_in_one_line_about_an_old_name(tmp_path):
    path = write(tmp_path, "[encounter]\ntime_bucket_min = 5\n")
    r = run_cli("config", "show", "--config", str(path))
    assert r.returncode == 0
    assert "[encounter] time_bucket_minutes = 5.0  (default 10.0)" in r.stdout
    assert len(r.stderr.splitlines()) == 1
    assert "FutureWarning" in r.stderr and "use time_bucket_minutes" in r.stderr


def test_constants_that_decide_results_are_shown_with_their_defaults():
    """The store's merge gap, encounter's slack and missed buckets and the tracks' moving speed
    are config fields (issue 13): listed by mda config show with their meanings."""
    rows = {(sec, key): (value, doc) for sec, key, value, _, doc in describe()}
    assert rows[("scan", "alert_merge_hours")][0] == 1.0
    assert rows[("encounter", "max_missed_buckets")][0] == 1
    assert rows[("encounter", "speed_slack")][0] == 2.0
    assert rows[("tracks", "moving_kn")][0] == 1.0
    assert "same type and vessels" in rows[("scan", "alert_merge_hours")][1]
