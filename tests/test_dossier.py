"""The vessel dossier (mda.dossier, `mda vessel`): identity and its changes, positions, port
visits, time dark and alerts, from a store or from INPUT files, with hostile AIS text."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import shared_file
from helpers.detect import T0, Leg, positions, sail

from mda import schema
from mda.cli import main
from mda.dossier import dossier
from mda.errors import MdaError
from mda.sources.base import AisData
from mda.store import Store

#: baltic-cables, seed 1: a Comoros-flagged tanker dark for 13 h after leaving Primorsk, and a
#: Finnish ship calling at several ports.
DARK, CALLER = 620651292, 230968690


@pytest.fixture(scope="module")
def baltic(tmp_path_factory):
    """(NMEA file, scanned store, truth) of the simulated baltic-cables scenario."""
    from mda.scan import run_scan
    from mda.simulate import simulate

    folder = tmp_path_factory.mktemp("baltic")
    sim = simulate("baltic-cables", seed=1)
    nmea = folder / "baltic.nmea"
    sim.write(nmea)
    run_scan(inputs=[nmea], store=folder / "store")
    return nmea, folder / "store", sim.truth


def test_dark_tanker_from_inputs(baltic):
    nmea, _, truth = baltic
    planted = next(e for e in truth if e["type"] == "ais_gap" and e["mmsi"] == DARK)
    hours = (pd.Timestamp(planted["end"]) - pd.Timestamp(planted["start"])).total_seconds() / 3600
    d = dossier(DARK, inputs=[nmea])
    assert d.flag == "Comoros"
    assert d.identity["name"] and d.identity["ship_type"] == 80
    assert d.positions > 100 and d.first_seen < d.last_seen
    assert d.dark_hours == pytest.approx(hours, abs=0.5)
    assert "ais_gap" in set(d.alerts["type"])
    assert (d.alerts["mmsi"] == DARK).all()
    # the feed is measured on every vessel: the tanker's own silence is no feed outage
    assert d.outages.empty and "0 outage(s) of the whole feed" in d.format_text()
    text = d.format_text()
    assert f"MMSI {DARK}" in text and "flag Comoros" in text and "dark" in text


def test_store_and_inputs_agree(baltic):
    nmea, store, _ = baltic
    from_store = dossier(CALLER, store=store)
    from_files = dossier(CALLER, inputs=[nmea])
    visits = from_store.port_visits
    assert len(visits) >= 2 and (visits["hours"] > 0).all()
    assert visits["zone_name"].notna().all()
    assert len(from_files.port_visits) == len(visits)
    assert sorted(from_store.alerts["id"]) == sorted(from_files.alerts["id"])
    assert from_store.first_seen == from_files.first_seen
    assert from_store.flag == "Finland" and from_store.notes == []
    assert set(from_store.zones["id"]) == set(visits["zone_id"])  # the ports it called at, mapped


def test_cli_json_and_map(baltic, tmp_path, capsys):
    _, store, _ = baltic
    out = tmp_path / "vessel.html"
    assert main(["vessel", str(DARK), "--store", str(store), "--json", "--report", str(out)]) == 0
    d = json.loads(capsys.readouterr().out)  # stdout is only the JSON
    assert d["mmsi"] == DARK and d["flag"] == "Comoros" and d["ais_gaps"] >= 1
    assert d["dark_hours"] > 10 and d["first_seen"].endswith("Z") and d["feed_outages"] == []
    assert {a["type"] for a in d["alerts"]} >= {"ais_gap"}
    html = out.read_text()
    assert str(DARK) in html and "ais_gap" in html


def test_unknown_mmsi_is_one_line(baltic, capsys):
    _, store, _ = baltic
    assert main(["vessel", "211999999", "--store", str(store)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MMSI 211999999: not heard in store" in err
    with pytest.raises(MdaError, match="give INPUT files or --store"):
        dossier(211999999)
    with pytest.raises(SystemExit):
        main(["vessel", "1234567890", "--store", str(store)])  # ten digits: a usage error


def _statics(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """Static reports: (time offset, name, call sign, IMO)."""
    df = pd.DataFrame(
        {
            "mmsi": 273123456,
            "ts": [T0 + pd.Timedelta(r[0]) for r in rows],
            "name": [r[1] for r in rows],
            "callsign": [r[2] for r in rows],
            "imo": [r[3] for r in rows],
            "ship_type": 80,
            "ais_class": "A",
        }
    )
    return schema.conform(df, schema.VESSELS, extra=False)


@pytest.fixture
def renamed(tmp_path):
    """A store holding a Russian-flagged tanker that changes name and call sign at sea (its new
    name carries terminal escapes and HTML), not yet scanned."""
    track = sail(273123456, [Leg(240, 10)], every_s=120)
    statics = _statics(
        [
            ("10min", "OLD NAME", "UBAA1", 9000001),
            ("2h", "NEW\x1b[2J<script>x</script>\u202e", "UBZZ9", 9000001),
        ]
    )
    st = Store(tmp_path / "store")
    st.add(AisData(positions=positions(track), statics=statics), source="test")
    st.close()
    return tmp_path / "store"


def test_identity_changes_with_times(renamed):
    d = dossier(273123456, store=renamed)
    assert d.flag == "Russia"
    assert d.positions == 120
    changes = d.changes.set_index("field")
    assert set(changes.index) == {"name", "callsign"}
    assert changes.loc["name", "old"] == "OLD NAME"
    assert changes.loc["callsign", "new"] == "UBZZ9"
    assert changes.loc["name", "ts"] == T0 + pd.Timedelta("2h")
    doc = d.to_dict()
    assert doc["names"][0] == "OLD NAME" and len(doc["names"]) == 2
    assert doc["callsigns"] == ["UBAA1", "UBZZ9"] and doc["imos"] == [9000001]
    assert doc["changes"][0]["ts"] == "2026-03-01T02:00:00Z"
    assert any("no scan has seen" in n for n in d.notes)  # alerts need a scan: say so


def test_hostile_names_are_neutralised(renamed, tmp_path, capsys):
    assert main(["vessel", "273123456", "--store", str(renamed)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "OLD NAME -> NEW?[2J<script>" in out  # shown, harmless on a terminal
    d = dossier(273123456, store=renamed)
    assert "\x1b" not in d.format_text()
    html = d.render_map(tmp_path / "v.html").read_text()
    assert "<script>x</script>" not in html  # the name is data, escaped, never markup


def test_real_dma_ferry():
    src = shared_file("positions/dma_dipaal_ferry_ane_laesoe_2022-10-15.csv")
    d = dossier(219000734, inputs=[src])
    assert d.flag == "Denmark"
    assert d.positions > 100
    assert d.first_seen.date() == pd.Timestamp("2022-10-15").date()
    text = d.format_text()
    assert "MMSI 219000734" in text and "positions" in text
    json.dumps(d.to_dict())  # plain JSON values throughout
