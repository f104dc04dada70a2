"""Thresholds: defaults documented, TOML overrides applied, typos and bad values refused."""

from __future__ import annotations

import subprocess
import sys

import pytest

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


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mda", *args], capture_output=True, text=True, timeout=120
    )


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
