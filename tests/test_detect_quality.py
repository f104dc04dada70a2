"""Detector quality: the truth matcher itself, and recall/precision on simulated scenarios."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mda import schema
from mda.config import Config
from mda.detect import scoring

T = pd.Timestamp("2026-03-01T00:00Z")
H = pd.Timedelta(hours=1)


def _alert(type_, mmsi, start, end, other=None):
    return {"type": type_, "severity": "medium", "mmsi": mmsi, "other_mmsi": other,
            "start": start, "end": end, "id": f"{type_}-{mmsi}-{start}"}  # fmt: skip


def _alerts(*rows) -> pd.DataFrame:
    return schema.conform(pd.DataFrame(list(rows)), schema.ALERTS, extra=False)


TRUTH = [
    {"type": "encounter", "mmsi": 1, "other_mmsi": 2, "start": T, "end": T + 3 * H},
    {"type": "ais_gap", "mmsi": 3, "start": T + 5 * H, "end": T + 12 * H},
    {"type": "ais_gap", "mmsi": 4, "start": T, "end": T + 8 * H},
]


def test_pairs_match_in_either_order_and_times_with_tolerance():
    alerts = _alerts(
        _alert("encounter", 1, T + H, T + 2 * H, other=2),
        _alert("ais_gap", 3, T + 12 * H + pd.Timedelta(minutes=30), T + 13 * H),  # within 1 h
    )
    s = scoring.score(alerts, TRUTH).set_index("type")
    assert s.loc["encounter", ["planted", "found", "false"]].tolist() == [1, 1, 0]
    assert s.loc["ais_gap", ["planted", "found", "missed"]].tolist() == [2, 1, 1]
    assert s.loc["ais_gap", "recall"] == 0.5 and s.loc["ais_gap", "precision"] == 1.0
    swapped = _alerts(_alert("encounter", 2, T, T + H, other=1))
    assert scoring.score(swapped, TRUTH[:1])["recall"].tolist() == [1.0]


def test_wrong_vessel_type_or_time_is_false():
    alerts = _alerts(
        _alert("encounter", 1, T, T + H, other=5),  # other vessel
        _alert("loitering", 1, T, T + H),  # type not planted
        _alert("ais_gap", 4, T + 10 * H, T + 11 * H),  # after the gap, beyond the tolerance
    )
    s = scoring.score(alerts, TRUTH).set_index("type")
    assert s.loc["encounter", "false"] == 1 and s.loc["encounter", "recall"] == 0.0
    assert s.loc["loitering", ["planted", "false", "precision"]].tolist() == [0, 1, 0.0]
    assert s.loc["ais_gap", "found"] == 0
    assert len(scoring.false_alerts(alerts, TRUTH)) == 3
    assert len(scoring.missed_events(alerts, TRUTH)) == 3


def test_duplicates_are_counted():
    alerts = _alerts(_alert("ais_gap", 4, T, T + H), _alert("ais_gap", 4, T + 2 * H, T + 3 * H))
    row = scoring.score(alerts, TRUTH[2:]).iloc[0]
    assert (row["found"], row["false"], row["duplicates"]) == (1, 0, 1)


# --- scenarios from the simulator ---------------------------------------------------------

VARIANTS = Path(__file__).parent / "scenarios"
SCENARIOS = [("korea-eu", 7), ("baltic-cables", 7), ("korea-strait", 7), ("korea-strait", 11)]
# red-team variants of the same behaviours (tests/scenarios/*.toml), several seeds each
SCENARIOS += [
    (name, seed) for name in ("baltic-drags", "korea-variants", "busy-port") for seed in (1, 2, 3)
]


@pytest.fixture(scope="module")
def simulate():
    sim = pytest.importorskip("mda.simulate", reason="simulator not written yet")
    return sim.simulate


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "seed"), SCENARIOS)
def test_scenario_recall_and_precision(simulate, tmp_path, scenario, seed):
    from mda.config import DATA_DIR
    from mda.scan import dark_now, run_scan

    variant = VARIANTS / f"{scenario}.toml"
    if not (variant.exists() or (DATA_DIR / "scenarios" / f"{scenario}.toml").exists()):
        pytest.skip(f"scenario {scenario} not bundled yet")
    sim = simulate(variant if variant.exists() else scenario, seed=seed)
    path = tmp_path / "traffic.nmea"
    sim.write(path)
    watch = None
    if getattr(sim, "watchlist", None) is not None:
        watch = tmp_path / "watch.csv"
        sim.watchlist.to_csv(watch, index=False)
    result = run_scan(inputs=[path], watchlist=watch, config=Config(), zones=sim.zones)
    # planted events end within the scenario: a silence going on at its end (dark now: a case
    # vessel whose route ends at sea) has no truth to be scored against
    alerts = result.alerts[~dark_now(result.alerts)]
    table = scoring.score(alerts, sim.truth)
    planted = table[table["planted"] > 0]
    missed = scoring.missed_events(alerts, sim.truth)
    assert (planted["recall"] == 1.0).all(), f"missed:\n{missed.to_string()}"
    bad = table[table["precision"] < 0.95]
    false = scoring.false_alerts(alerts, sim.truth)
    assert bad.empty, f"{bad.to_string()}\nfalse:\n{false[['type', 'mmsi', 'start']].to_string()}"


def test_truth_times_as_iso_strings():
    truth = [{"type": "ais_gap", "mmsi": 4, "start": "2026-03-01T00:00:00Z", "end": None}]
    alerts = _alerts(_alert("ais_gap", 4, T - H / 2, T + H))
    assert scoring.score(alerts, truth)["recall"].tolist() == [1.0]
