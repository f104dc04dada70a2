"""The `mda` command as an analyst runs it, fed hostile text (issue 9, finding 12).

Zone names, vessel names and file names are attacker-controlled. Whatever the command prints
(tables, one-line errors, usage errors, log lines, library warnings) must reach the terminal
without escape sequences, bell, backspace, carriage returns, C1 controls or bidi overrides;
--json output stays exact JSON.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from helpers.cli import run_cli, run_main
from helpers.zones import feature, point, polygon, write_layer

import mda.cli
from mda import schema
from mda.cli import main
from mda.store import Store

#: An OSC 8 hyperlink, a screen clear, cursor tricks, a C1 CSI and a right-to-left override.
HOSTILE = "\x1b]8;;http://evil\x07click\x1b]8;;\x07\x1b[2J\b\b\rOVER\x9b31m\x7f\u202eRTL\u2066"
#: What no line the command prints may hold (LF separates lines and is checked apart).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_clean(text: str) -> None:
    assert not UNSAFE.search(text), repr(UNSAFE.search(text)[0])


def zone_file(path: Path, name: str, kind: str = "restricted") -> Path:
    ring = polygon((10.0, 55.0), (10.1, 55.0), (10.1, 55.1), (10.0, 55.1))
    return write_layer(path, [feature("z1", ring, kind, name=name)])


def test_zones_list_prints_no_escape_sequences(tmp_path):
    """The red team's OSC 8 hyperlink and screen clear, on the real stdout of the real command."""
    zones = zone_file(tmp_path / "evil.geojson", HOSTILE)
    res = run_cli("zones", "list", str(zones), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert_clean(res.stdout)
    assert "http://evil?click" in res.stdout  # the text is still there to read, made inert
    assert res.stderr == ""


def test_alerts_table_of_a_store_prints_no_escape_sequences(tmp_path, capsys, store, t0):
    alert = {
        "type": "loitering",
        "severity": "high",
        "mmsi": 219000001,
        "vessel_name": HOSTILE,
        "zone_id": "z1",
        "zone_name": "\x1b[8mHIDDEN",
        "start": t0,
        "end": t0 + pd.Timedelta(hours=3),
        "lat": 55.0,
        "lon": 10.0,
        "evidence": {"hours": 3.0},
        "thresholds": {"min_hours": 2.0},
    }
    alert["id"] = schema.alert_id("loitering", 219000001, None, "z1", t0)
    store.save_scan(
        schema.conform(pd.DataFrame([alert]), schema.ALERTS), upto_batch=None, window=(None, None)
    )
    out_csv = tmp_path / "alerts.csv"
    assert main(["alerts", "--store", str(store.path), "--out", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    assert "?]8;;http://evil" in out and "?[8mHIDDEN" in out
    assert out.splitlines()[-1] == "1 alert(s)"
    # the file keeps the exact text (the terminal is where it is made inert)
    from mda.alerts import read_alerts

    assert read_alerts(out_csv)["vessel_name"][0] == HOSTILE


def test_error_naming_a_hostile_file_is_one_clean_line(tmp_path, capsys):
    name = str(tmp_path / "a\x1b[2J\nmda: ok\r.geojson")
    assert main(["zones", "validate", name]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mda: error: ")
    assert_clean(captured.err)
    assert "a?[2J mda: ok?.geojson" in lines[0]


def test_file_name_that_is_not_utf8_is_printed_not_a_traceback(tmp_path, capsys):
    """A file name's undecodable bytes arrive as lone surrogates, which stdout cannot encode."""
    name = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xff.geojson")
    assert main(["zones", "validate", name]) == 1
    err = capsys.readouterr().err
    assert "bad?.geojson" in err
    err.encode("utf-8")  # strict: nothing unencodable left


def test_usage_error_with_a_hostile_argument_is_clean(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["info", "--store", str(tmp_path), "\x1b[2J\x1b]0;title\x07"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err
    assert_clean(err)


def test_ingest_report_and_json_name_a_hostile_file_safely(tmp_path, capsys):
    src = tmp_path / "ev\x1b[2J\u202eil.nmea"
    src.write_text("!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24\n")
    store = str(tmp_path / "store")
    assert main(["ingest", str(src), "--store", store]) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    assert "ev?[2J?il.nmea" in out
    # JSON escapes control characters itself: exact, and still nothing raw on the terminal
    assert main(["ingest", str(src), "--store", store, "--json"]) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    assert json.loads(out)["files"] == [str(src)]


def test_warnings_and_log_lines_are_one_clean_line_each(tmp_path, capsys, monkeypatch):
    def noisy(args) -> int:
        for _ in range(3):  # the same warning again and again is said once
            warnings.warn("overflow\nencountered \x1b[2J in cast", RuntimeWarning, stacklevel=1)
        logging.getLogger("mda.zones").warning("zone %s\nskipped", "\x1b]0;x\x07")
        return 0

    monkeypatch.setattr(mda.cli, "_cmd_info", noisy)
    assert main(["info", "--store", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert_clean(err)
    lines = err.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("mda: warning: RuntimeWarning: overflow encountered ?[2J in cast (")
    assert lines[1] == "mda: zone ?]0;x? skipped"


def test_streams_and_logging_are_restored_after_main(tmp_path, capsys):
    before = sys.stdout, sys.stderr, warnings.showwarning, logging.getLogger().handlers[:]
    assert main(["zones", "validate", str(tmp_path / "none.geojson")]) == 1
    assert (sys.stdout, sys.stderr, warnings.showwarning, logging.getLogger().handlers) == before


HUGE = [
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass",
    "367752440,2023-01-11T00:00:00,43.07917,-70.75733,1e400,360.0,95.0,SAN JOSE,,WDI9818,31,0.0,"
    "1e300,1e300,1e300,52.0,A",
    "367752440,2023-01-11T00:01:00,1e308,-70.75733,0.0,1e400,1e400,SAN JOSE,,WDI9818,1e400,1e400,"
    "1e400,1e400,1e400,1e400,A",
    "99999999999999999999,2023-01-11T00:02:00,43.07917,-70.75733,0.0,360.0,95.0,SAN JOSE,,WDI9818,"
    "31,0.0,,,,52.0,A",
    "367752440,2023-01-11T00:04:00,43.07917,-70.75733,1e308,-1e308,1e308,SAN JOSE,"
    "IMO99999999999999999999,WDI9818,-1e300,-1e308,3.5e38,-1e300,-1e300,-1e300,A",
]


def test_huge_numbers_in_a_csv_print_no_warning_block(tmp_path):
    """Ship dimensions of 1e300 overflowed the float32 cast and printed RuntimeWarning blocks;
    run with -W error::RuntimeWarning, any numeric warning left would be a traceback here."""
    src = tmp_path / "huge.csv"
    src.write_text("\n".join(HUGE) + "\n")
    res = run_cli("ingest", src, "--store", tmp_path / "store", cwd=tmp_path, strict=True)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert re.search(r"\npositions +2\n", res.stdout)
    res = run_cli("tracks", src, "--out", tmp_path / "t.parquet", cwd=tmp_path, strict=True)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""


def test_ingest_of_a_truncated_file_keeps_its_rows_and_exits_1(tmp_path, capsys):
    """Issue 9, finding 3: a file that breaks off is an input error (exit 1, one line naming
    it), the rows before the break are stored, and the repaired file is read whole later."""
    import gzip

    from test_csv import DMA_COLUMNS, dma_row

    rows = [
        dma_row(
            ts=f"01/03/2026 {h:02d}:{m:02d}:00", MMSI=str(219000001 + h), Latitude=f"55.{m:02d}"
        )
        for h in range(24)
        for m in range(60)
    ]
    whole = gzip.compress((DMA_COLUMNS + "\n" + "\n".join(rows) * 5 + "\n").encode())
    cut = tmp_path / "day.csv.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    store = tmp_path / "store"
    assert main(["ingest", str(cut), "--store", str(store)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and all("day.csv.gz" in line for line in err)
    assert any("not read to its end" in line for line in err)
    kept = Store(store, readonly=True).info()
    assert 0 < kept["positions"] < 24 * 60
    cut.write_bytes(whole)  # repaired: not taken for the file already seen
    assert main(["ingest", str(cut), "--store", str(store)]) == 0


# -- issue 12: found when tried as a new analyst would --------------------------------------------


@pytest.mark.parametrize(
    "box",
    [["--bbox", "-130,20,-60,50"], ["--bbox=-130,20,-60,50"], ["--bbox", "-.5, -10,3,1"]],
)
def test_a_western_bbox_is_taken_with_or_without_equals(tmp_path, monkeypatch, box):
    """`--bbox -130,20,-60,50` failed with "expected one argument": argparse took the value for
    an option. A single negative number (`--buffer-m -5`) never had that problem."""
    seen = {}
    monkeypatch.setattr(mda.cli, "_cmd_report", lambda a: seen.setdefault("a", a) and 0)
    argv = ["report", "--store", "s", *box, "--mmsi", "1", "-o", str(tmp_path / "r.html")]
    assert main(argv) == 0
    w, s, e, n = seen["a"].bbox
    assert w < 0 and e > w and n > s and seen["a"].mmsi == [1]


def test_an_option_value_that_is_not_a_number_list_is_left_to_argparse(capsys):
    assert mda.cli._attach_negative_lists(["--bbox", "--title", "-1,2"]) == [
        "--bbox",
        "--title=-1,2",
    ]
    assert mda.cli._attach_negative_lists(["--", "-1,2"]) == ["--", "-1,2"]
    with pytest.raises(SystemExit) as e:
        main(["report", "--store", "s", "--bbox", "-o", "x.html"])
    assert e.value.code == 2 and "--bbox" in capsys.readouterr().err


@pytest.mark.parametrize("inputs", [["missing.nmea"], ["missing.nmea", "gone.csv"]])
def test_a_missing_input_is_one_line_and_leaves_no_store(tmp_path, capsys, inputs):
    """A missing input printed a warning and then the same as an error; the failed ingest left
    an empty store directory that later commands took for a store."""
    store = tmp_path / "new" / "store"
    assert main(["ingest", *(str(tmp_path / i) for i in inputs), "--store", str(store)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("mda: error: ") and "missing.nmea" in err[0]
    assert ("1 more" in err[0]) == (len(inputs) == 2)
    assert not store.exists() and (tmp_path / "new").exists()
    # a directory that was there before stays, with what it held; only the store files go
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    assert main(["ingest", str(tmp_path / "missing.nmea"), "--store", str(keep)]) == 1
    assert sorted(p.name for p in keep.iterdir()) == ["notes.txt"]
    assert main(["scan", str(tmp_path / "missing.nmea")]) == 1
    assert len(capsys.readouterr().err.splitlines()) == 2


def test_a_missing_input_beside_a_good_one_is_warned_and_the_store_kept(tmp_path, capsys):
    good = tmp_path / "good.nmea"
    good.write_text("\\s:r1,c:1772323200*00\\!AIVDM,1,1,,B,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24\n")
    store = tmp_path / "store"
    assert main(["ingest", str(tmp_path / "missing.nmea"), str(good), "--store", str(store)]) == 1
    err = capsys.readouterr().err
    assert "skipped" in err and "missing.nmea" in err
    assert Store(store, readonly=True).info()["ingests"] == 1
    # a failing ingest into an existing store never removes it
    assert main(["ingest", str(tmp_path / "missing.nmea"), "--store", str(store)]) == 1
    assert (store / "mda.sqlite").exists()


def test_alerts_review_from_the_command_line(tmp_path, capsys, monkeypatch, t0):
    """mda alerts review ID --status ... --note ...: stored, listed by --review, one line for an
    unknown id, a usage error without --store."""
    monkeypatch.setattr("getpass.getuser", lambda: "analyst1")
    store = tmp_path / "store"
    rows = [
        {"type": "loitering", "severity": "high", "mmsi": 219000001 + i, "start": t0, "end": t0}
        for i in range(2)
    ]
    alerts = schema.conform(pd.DataFrame(rows), schema.ALERTS)
    ids = list(Store(store).save_scan(alerts, upto_batch=None, window=(t0, t0))["id"])
    argv = ["alerts", "review", ids[0], "--status", "dismissed", "--note", "tug", "--store"]
    assert main([*argv, str(store)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{ids[0]}: dismissed by analyst1 at ") and len(out.splitlines()) == 1
    # --store before the action works too; "open" reopens
    assert main(["alerts", "--store", str(store), "review", ids[1], "--status", "confirmed"]) == 0
    listed = tmp_path / "dismissed.csv"
    argv = ["alerts", "--store", str(store), "--review", "dismissed", "--out", str(listed)]
    assert main(argv) == 0
    from mda.alerts import read_alerts

    back = read_alerts(listed)  # the alert file carries the review
    assert list(back["id"]) == [ids[0]] and back.loc[0, "review_note"] == "tug"
    assert (back.loc[0, "review"], back.loc[0, "reviewer"]) == ("dismissed", "analyst1")
    got = Store(store, readonly=True).alerts().set_index("id")
    assert got.loc[ids[0], "review_note"] == "tug" and got.loc[ids[1], "review"] == "confirmed"
    capsys.readouterr()
    assert main(["alerts", "--store", str(store)]) == 0  # the table shows what review takes
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:-1]]
    assert [(r[0], r[-1]) for r in rows] == [(ids[0], "dismissed"), (ids[1], "confirmed")]
    assert main(["alerts", "review", "nope", "--status", "confirmed", "--store", str(store)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"mda: error: {store}: no alert with id 'nope'"]
    for argv in (["alerts", "review", ids[0], "--status", "confirmed"], ["alerts"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2 and "--store" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["alerts", "--store", str(store), "review", ids[0], "--status", "maybe"])


def test_a_dismissed_event_going_on_is_not_news_for_fail_on(tmp_path, capsys):
    """The scheduled scan: a loitering open at the end of the first piece is dismissed; the next
    scan sees it go on (updated in place, its review kept) and exits 0 with --fail-on low."""
    from helpers.detect import Leg, sail
    from helpers.detect import positions as fixes

    from mda.sources.base import AisData

    fleet = [
        sail(219100000 + k, [Leg(600, 8.0)], lat=60.0 + 0.3 * k, every_s=300.0) for k in range(8)
    ]
    drifter = sail(219000010, [Leg(120, 9.0), Leg(480, 0.5, 200.0)], lat=54.0, every_s=300.0)
    feed = fixes(*fleet, drifter)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[context]\nenabled = false\n")
    store, cut = tmp_path / "store", feed["ts"].min() + pd.Timedelta(hours=6)
    scan = ["scan", "--store", str(store), "--config", str(cfg), "--fail-on", "low", "--json"]
    Store(store).add(AisData(positions=feed[feed["ts"] < cut]), source="first")
    assert main(scan) == 3  # the loitering is news
    first = Store(store, readonly=True).alerts()
    assert "loitering" in set(first["type"])
    for alert_id in first["id"]:
        assert (
            main(["alerts", "review", alert_id, "--status", "dismissed", "--store", str(store)])
            == 0
        )
    Store(store).add(AisData(positions=feed[feed["ts"] >= cut]), source="second")
    capsys.readouterr()
    assert main(scan) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["new"] == 0
    after = Store(store, readonly=True).alerts().set_index("id")
    loiter = first.loc[first["type"] == "loitering", "id"].iloc[0]
    assert after.loc[loiter, "review"] == "dismissed"
    assert after.loc[loiter, "end"] > first.set_index("id").loc[loiter, "end"]  # seen going on


# -- every subcommand: its happy path, and bad input as one line (issue 13) ---------------------
# `mda demo` runs whole in test_packaging (without the test extras) and in test_browser.


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> dict[str, Path]:
    """The korea-strait scenario (36 h, 25 vessels, planted events) simulated, ingested into a
    store and scanned once, each by its subcommand: what the other subcommands read."""
    d = tmp_path_factory.mktemp("day")
    nmea, truth, store = d / "traffic.nmea", d / "truth.json", d / "store"
    ran = run_main("simulate", "korea-strait", "--out", nmea, "--truth", truth, "--seed", "1")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("scenario korea-strait (seed 1): 2025-02-03T00:00:00Z")
    ran = run_main("ingest", nmea, "--store", store, "--json", "-q")
    assert ran.code == 0, ran.err
    ingest = json.loads(ran.out)
    ran = run_main("scan", "--store", store, "--json", "-q")
    assert ran.code == 0, ran.err
    return {"dir": d, "nmea": nmea, "truth": truth, "store": store} | {
        "ingest": ingest,
        "scan": json.loads(ran.out.splitlines()[-1]),
    }


def test_simulate_ingest_and_scan_agree(day):
    planted = {e["type"] for e in json.loads(day["truth"].read_text())["events"]}
    assert {"encounter", "loitering", "identity_conflict"} <= planted
    ingest, scan = day["ingest"], day["scan"]
    assert ingest["files"] == [str(day["nmea"])] and ingest["lines"] == len(
        day["nmea"].read_text().splitlines()
    )
    assert ingest["vessels"] == 25 and ingest["positions"] > 20_000
    assert scan["new"] == scan["alerts"] > 0
    assert {"encounter", "loitering", "identity_conflict"} <= set(scan["by_type"])


def test_info_describes_the_store(day):
    ran = run_main("info", "--store", day["store"], "--json")
    assert ran.code == 0, ran.err
    info = json.loads(ran.out)
    assert (info["vessels"], info["ingests"], info["alerts"]) == (25, 1, day["scan"]["alerts"])
    assert 0 < info["positions"] <= day["ingest"]["positions"]  # duplicates stored once


def test_tracks_of_a_store_and_of_a_file(day, tmp_path):
    ran = run_main("tracks", "--store", day["store"], "-o", tmp_path / "t.parquet", "-q")
    assert ran.code == 0, ran.err
    assert re.fullmatch(r"\d+ segments of 25 vessels \([\d,]+ points, \d+ gaps\) -> .*\n", ran.out)
    points = pd.read_parquet(tmp_path / "t.parquet")
    assert points["mmsi"].nunique() == 25
    ran = run_main("tracks", day["nmea"], "-o", tmp_path / "t.geojson", "-q")
    assert ran.code == 0, ran.err
    assert json.loads((tmp_path / "t.geojson").read_text())["type"] == "FeatureCollection"


def test_scan_of_a_file_writes_its_alerts(day, tmp_path):
    ran = run_main("scan", day["nmea"], "--out", tmp_path / "alerts.csv", "--json", "-q")
    assert ran.code == 0, ran.err
    summary = json.loads(ran.out.splitlines()[-1])
    alerts = pd.read_csv(tmp_path / "alerts.csv")
    assert len(alerts) == summary["alerts"] > 0
    assert set(alerts["type"]) == set(summary["by_type"])


def test_alerts_of_the_store(day, tmp_path):
    ran = run_main("alerts", "--store", day["store"], "--out", tmp_path / "a.geojson")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines()[-1] == f"{day['scan']['alerts']} alert(s)"
    features = json.loads((tmp_path / "a.geojson").read_text())["features"]
    assert len(features) == day["scan"]["alerts"]
    ran = run_main("alerts", "--store", day["store"], "--type", "encounter")
    assert ran.out.splitlines()[-1] == f"{day['scan']['by_type']['encounter']} alert(s)"


def test_vessel_dossier_from_the_store(day, tmp_path):
    stored = Store(day["store"], readonly=True).alerts()
    mmsi = int(stored.loc[stored["type"] == "encounter", "mmsi"].iloc[0])
    ran = run_main("vessel", str(mmsi), "--store", day["store"], "--json")
    assert ran.code == 0, ran.err
    dossier = json.loads(ran.out)
    assert dossier["mmsi"] == mmsi and dossier["positions"] > 0
    assert "encounter" in {a["type"] for a in dossier["alerts"]}
    ran = run_main("vessel", str(mmsi), "--store", day["store"], "--report", tmp_path / "v.html")
    assert ran.code == 0, ran.err
    assert ran.out.startswith(f"MMSI {mmsi}") and (tmp_path / "v.html").stat().st_size > 10_000


def test_report_of_the_store(day, tmp_path):
    out = tmp_path / "report.html"
    ran = run_main("report", "--store", day["store"], "-o", out, "-q")
    assert ran.code == 0, ran.err
    assert ran.out == f"report written to {out}\n"
    assert 'id="mda-data"' in out.read_text(encoding="utf-8")


def test_zones_list_validate_import_and_learn(day, tmp_path):
    ran = run_main("zones", "list")
    assert ran.code == 0 and "port-busan" in ran.out
    public = [  # a public layer's own columns, not yet a zone file
        {"type": "Feature", "properties": {"PORT_NAME": name, "NO": no},
         "geometry": point(129.0 + no / 10, 35.1)}
        for no, name in ((7, "Alpha"), (8, "Beta"))
    ]  # fmt: skip
    src = write_layer(tmp_path / "ports.geojson", public)
    made = tmp_path / "zones.geojson"
    argv = ["--kind", "port", "--name-field", "PORT_NAME", "--id-field", "NO", "--buffer-m", "2000"]
    ran = run_main("zones", "import", src, "-o", made, *argv)
    assert ran.code == 0, ran.err
    assert ran.out.startswith("2 zones (2 port) from ports.geojson")
    ran = run_main("zones", "validate", made)
    assert (ran.code, ran.out) == (0, "ok: 2 zones in 1 file(s)\n")
    learned = tmp_path / "anchorages.geojson"
    ran = run_main("zones", "learn", "--store", day["store"], "-o", learned)
    assert ran.code == 0, ran.err
    n = int(ran.out.split()[0])
    assert ran.out.startswith(f"{n} anchorage(s) learned from")
    assert len(json.loads(learned.read_text())["features"]) == n


def test_config_show_lists_every_threshold():
    ran = run_main("config", "show")
    assert ran.code == 0
    assert "[encounter] time_bucket_minutes = 10.0" in ran.out
    assert "[scan] alert_merge_hours = 1.0" in ran.out


def test_watch_reads_a_feed_from_stdin_to_its_end(day, tmp_path):
    lines = day["nmea"].read_text().splitlines()[:5000]
    res = run_cli("watch", "-", "--store", tmp_path / "live", cwd=tmp_path, stdin=lines)
    assert res.returncode == 0, res.stderr
    assert f"{len(lines):,} lines" in res.stderr
    for line in res.stdout.splitlines():  # alert lines, if any, are whole JSON objects
        assert json.loads(line)["id"]
    assert Store(tmp_path / "live", readonly=True).info()["positions"] > 0


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["ingest", "{missing}", "--store", "{tmp}/s"], "{missing}: No such file or directory"),
        (["info", "--store", "{tmp}/none"], "{tmp}/none: not an mda store"),
        (["tracks", "{missing}", "-o", "{tmp}/t.parquet"], "No such file or directory"),
        (["zones", "validate", "{bad_zone}"], "unknown kind 'harbour'"),
        (["zones", "list", "{missing}"], "{missing}: no such zone file"),
        (["zones", "import", "{missing}", "-o", "{tmp}/z.geojson"], "{missing}: no such file"),
        (["zones", "learn", "--store", "{tmp}/none", "-o", "{tmp}/a.geojson"], "not an mda store"),
        (["simulate", "no-such-sea", "--out", "{tmp}/x.nmea"], "no-such-sea.toml: no such"),
        (["scan", "{missing}"], "{missing}: No such file or directory"),
        (["watch", "udp://nohost"], "udp://nohost: expected tcp://HOST:PORT"),
        (["alerts", "--store", "{tmp}/none"], "{tmp}/none: not an mda store"),
        (["vessel", "219000001", "--store", "{tmp}/none"], "{tmp}/none: not an mda store"),
        (["config", "show", "--config", "{missing}"], "{missing}: cannot read config"),
        (["report", "-o", "{tmp}/r.html"], "give INPUT files or --store DIR"),
    ],
)
def test_bad_input_is_one_line_naming_it(tmp_path, argv, needle):
    bad_zone = zone_file(tmp_path / "bad.geojson", "x", kind="harbour")
    names = {"tmp": tmp_path, "missing": tmp_path / "missing.nmea", "bad_zone": bad_zone}
    ran = run_main(*(a.format(**names) for a in argv))
    assert ran.code == 1
    assert ran.err.startswith("mda: error: ") and len(ran.err.splitlines()) == 1
    assert needle.format(**names) in ran.err
    assert not (tmp_path / "s").exists() and not (tmp_path / "none").exists()


def test_vessel_not_heard_and_a_usage_error(day):
    ran = run_main("vessel", "219000001", "--store", day["store"])
    assert ran.code == 1
    assert ran.err == f"mda: error: MMSI 219000001: not heard in store {day['store']}\n"
    ran = run_main("demo", "--bogus")
    assert ran.code == 2
    assert ran.err.splitlines()[-1] == "mda: error: unrecognized arguments: --bogus"


def test_demo_with_an_out_under_a_file_fails_at_once(tmp_path):
    """A bad --out is refused before the demo simulates anything (nothing built, one line)."""
    (tmp_path / "file").write_text("")
    ran = run_main("demo", "--out", str(tmp_path / "file" / "demo.html"))
    assert ran.code == 1
    assert ran.err == f"mda: error: {tmp_path / 'file'}: cannot write here (a file, not a folder)\n"
    assert "simulating" not in ran.out
