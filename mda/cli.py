"""The `mda` command: thin subcommands over the Python API, no logic of its own.

Exit status: 0 ran, 1 input/config/runtime error (one line on stderr), 2 usage error,
3 `scan --fail-on` threshold reached.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mda import progress
from mda.errors import MdaError
from mda.terminal import SafeStream, safe_text

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("mda")


def _ts(value: str) -> pd.Timestamp:
    """argparse type: an ISO 8601 time (naive = UTC)."""
    from mda.schema import utc

    try:
        return utc(value)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None


def _suffix(*allowed: str) -> Callable[[str], str]:
    """argparse type: an output path whose suffix is one of `allowed` (checked before any work)."""

    def check(value: str) -> str:
        if not value.lower().endswith(allowed):
            raise argparse.ArgumentTypeError(f"{value!r}: expected a {' or '.join(allowed)} file")
        return value

    return check


ALERT_FILES = _suffix(".geojson", ".csv", ".gpkg", ".parquet")


def _add_window(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", type=_ts, help="start of the time window (ISO 8601, UTC)")
    p.add_argument("--until", type=_ts, help="end of the time window (ISO 8601, UTC)")


def _seconds(value: str) -> float:
    """argparse type of --wait: seconds, 0 or more ("inf" is forever)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(
            f"not a number of seconds: {value!r} (write --wait=SECONDS before INPUT files)"
        )
    return seconds


def _add_wait(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wait",
        type=_seconds,
        nargs="?",
        const=float("inf"),
        default=0.0,
        metavar="SECONDS",
        help="when another mda process holds the store, wait for it (up to SECONDS; "
        "forever without a value) instead of exiting at once",
    )


def _add_read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--start-time",
        type=_ts,
        help="time of the first sentence for NMEA streams that carry no timestamps",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar while decoding (one is drawn only when stderr is a terminal)",
    )


def _add_engine(p: argparse.ArgumentParser) -> None:
    from mda.engine import ENGINES

    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: this process (default); dask: a Dask cluster (pip install 'mda[dask]')",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, help="dask: local worker processes (default: cores)")
    g.add_argument("--scheduler", metavar="tcp://HOST:8786", help="dask: join this cluster")


def _cmd_ingest(a: argparse.Namespace) -> int:
    from mda.engine import open_engine

    with open_engine(a.engine, workers=a.workers, scheduler=a.scheduler) as engine:
        report = engine.ingest(a.store, a.inputs, start_time=a.start_time, wait=a.wait)
    print(report.to_json() if a.json else report.format_table())
    # what was read is stored; an input not read to its end is an input error all the same
    for name, reason in report.failed.items():
        print(f"mda: {name}: not read to its end: {reason}", file=sys.stderr)
    return 1 if report.failed else 0


def _cmd_info(a: argparse.Namespace) -> int:
    from mda.config import load_config
    from mda.store import Store

    info = Store(a.store, readonly=True).info(load_config(a.config).feed)
    if a.json:
        print(json.dumps(info, default=str))
    else:
        print(_table(info))
    return 0


def _cmd_tracks(a: argparse.Namespace) -> int:
    from mda.config import load_config
    from mda.tracks import build_tracks, write_tracks

    cfg = load_config(a.config)
    positions = _load_positions(a)
    tracks = build_tracks(positions, cfg.tracks)
    write_tracks(tracks, a.out)
    print(
        f"{len(tracks.segments):,} segments of {tracks.points['mmsi'].nunique():,} vessels "
        f"({len(tracks.points):,} points, {len(tracks.gaps):,} gaps) -> {a.out}"
    )
    return 0


def _cmd_zones(a: argparse.Namespace) -> int:
    from mda.zones import format_zone_table, load_zones

    zones = load_zones(a.files or None)
    if a.zones_cmd == "validate":
        print(f"ok: {len(zones)} zones in {len(a.files)} file(s)")
    else:
        print(format_zone_table(zones))
    return 0


def _cmd_zones_import(a: argparse.Namespace) -> int:
    from mda.zones import load_zones
    from mda.zones.importing import import_zones, write_zones

    opts = {"id_field": a.id_field, "name_field": a.name_field, "buffer_m": a.buffer_m}
    result = import_zones(a.src, kind=a.kind, **opts)
    write_zones(result.zones, a.out)
    load_zones(a.out)  # what was written must validate
    for line in [*result.summary().splitlines(), f"-> {a.out}"]:
        print(safe_text(line))
    return 0


def _cmd_zones_learn(a: argparse.Namespace) -> int:
    from mda.config import load_config
    from mda.detect.anchorages import anchorage_zones, learn
    from mda.store import Store
    from mda.zones import load_zones
    from mda.zones.importing import write_zones

    cfg = load_config(a.config)
    pos = Store(a.store, readonly=True).positions(
        since=a.since, until=a.until, columns=["mmsi", "ts", "lat", "lon", "sog"]
    )
    sog = pos["sog"].to_numpy(dtype="float64", na_value=float("nan"))
    zones = anchorage_zones(learn(pos, sog, cfg), cfg)
    write_zones(zones.drop(columns="vessels"), a.out)
    if len(zones):
        load_zones(a.out)  # what was written must validate
    print(f"{len(zones):,} anchorage(s) learned from {len(pos):,} positions -> {a.out}")
    return 0


def _cmd_simulate(a: argparse.Namespace) -> int:
    from mda.simulate import simulate

    sim = simulate(a.scenario, seed=a.seed, vessels=a.vessels, hours=a.hours)
    sim.write(a.out, csv=a.csv)
    if a.truth:
        sim.write_truth(a.truth)
    print(sim.summary())
    return 0


def _cmd_scan(a: argparse.Namespace) -> int:
    from mda.engine import open_engine
    from mda.scan import run_scan

    with open_engine(a.engine, workers=a.workers, scheduler=a.scheduler) as engine:
        result = run_scan(
            inputs=a.inputs,
            store=a.store,
            zones=a.zones,
            config=a.config,
            watchlist=a.watchlist,
            since=a.since,
            until=a.until,
            start_time=a.start_time,
            out=a.out,
            report=a.report,
            wait=a.wait,
            engine=engine,
        )
    print(json.dumps(result.summary(), default=str) if a.json else result.format_summary())
    if a.fail_on and result.reached(a.fail_on):
        return 3
    return 0


def _cmd_alerts(a: argparse.Namespace) -> int:
    from mda.alerts import format_alert_table, write_alerts
    from mda.store import Store

    alerts = Store(_store(a), readonly=True).alerts(
        since=a.since, until=a.until, types=a.type, min_severity=a.min_severity, review=a.review
    )
    if a.out:
        write_alerts(alerts, a.out)
    print(format_alert_table(alerts))
    return 0


def _cmd_alerts_review(a: argparse.Namespace) -> int:
    from mda.store import Store

    row = Store(_store(a), create=False).review(a.id, a.status, a.note).iloc[0]
    print(f"{row['id']}: {row['review']} by {row['reviewer']} at {row['reviewed']:%Y-%m-%d %H:%M}Z")
    return 0


def _store(a: argparse.Namespace) -> str:
    """--store, given before or after `alerts review` (argparse cannot require it in both)."""
    if not a.store:
        a.usage_error("the following arguments are required: --store")
    return a.store


def _cmd_watch(a: argparse.Namespace) -> int:
    from mda.fileio import appending
    from mda.watch import watch

    with appending(a.alerts_out) as out:
        summary = watch(
            a.feed,
            store=a.store,
            zones=a.zones,
            config=a.config,
            watchlist=a.watchlist,
            alerts_out=out,
            map_path=a.map,
            serve=a.serve,
        )
    print(
        f"mda watch: {summary.lines:,} lines ({sum(summary.rejected.values()):,} rejected), "
        f"{summary.positions_stored:,} positions stored, {summary.alert_lines:,} alert lines, "
        f"{summary.reconnects:,} reconnects in {summary.seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


def _cmd_vessel(a: argparse.Namespace) -> int:
    from mda.dossier import dossier

    d = dossier(
        a.mmsi,
        store=a.store,
        inputs=a.inputs,
        zones=a.zones,
        config=a.config,
        since=a.since,
        until=a.until,
        start_time=a.start_time,
    )
    if a.report:
        d.render_map(a.report, offline=not a.cdn)
    print(json.dumps(d.to_dict()) if a.json else d.format_text())
    if a.report and not a.json:
        print(f"map written to {a.report}")
    return 0


def _mmsi(value: str) -> int:
    """argparse type: an MMSI (1 to 999999999)."""
    if not value.isdigit() or not 0 < int(value) < 1_000_000_000:
        raise argparse.ArgumentTypeError(f"not an MMSI (up to 9 digits): {value!r}")
    return int(value)


def _cmd_config(a: argparse.Namespace) -> int:
    from mda.config import describe, load_config

    rows = describe(load_config(a.config))
    for section, key, value, default, doc in rows:
        mark = "" if value == default else f"  (default {default!r})"
        print(f"[{section}] {key} = {value!r}{mark}\n    {doc}")
    return 0


def _cmd_report(a: argparse.Namespace) -> int:
    from mda.report import build_report

    out = build_report(
        inputs=a.inputs,
        store=a.store,
        zones=a.zones,
        alerts=a.alerts,
        since=a.since,
        until=a.until,
        mmsi=a.mmsi,
        bbox=a.bbox,
        title=a.title,
        offline=not a.cdn,
        tiles=a.tiles,
        out=a.output,
        start_time=a.start_time,
    )
    print(f"report written to {out}")
    return 0


def _cmd_demo(a: argparse.Namespace) -> int:
    from mda.demo import run_demo

    out = run_demo(out=a.out, offline=not a.cdn, refresh=a.refresh)
    print(f"demo map written to {out}")
    return 0


def _bbox(value: str) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected W,S,E,N: {value!r}") from None
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s < n <= 90):
        raise argparse.ArgumentTypeError(f"bbox out of range: {value!r}")
    return w, s, e, n


def _load_positions(a: argparse.Namespace) -> pd.DataFrame:
    """Positions from --store (within --since/--until) or decoded from INPUT files."""
    if getattr(a, "store", None) and not getattr(a, "inputs", None):
        from mda.store import Store

        return Store(a.store, readonly=True).positions(since=a.since, until=a.until)
    if not getattr(a, "inputs", None):
        raise MdaError("give INPUT files or --store DIR")
    from mda.sources import read_ais

    data = read_ais(a.inputs, start_time=a.start_time)
    pos = data.positions
    if a.since is not None:
        pos = pos[pos["ts"] >= a.since]
    if a.until is not None:
        pos = pos[pos["ts"] < a.until]
    return pos


def _table(d: dict, indent: str = "") -> str:
    lines = []
    width = max((len(k) for k, v in d.items() if not isinstance(v, dict | list)), default=0)
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(f"{indent}{k}:")
            lines.append(_table(v, indent + "  "))
        elif isinstance(v, list):  # records, e.g. the longest feed outages: one line each
            lines.append(f"{indent}{k}:" + ("" if v else " -"))
            for item in v:
                row = item.items() if isinstance(item, dict) else [("", item)]
                cells = (f"{name} {_value(x)}".strip() for name, x in row)
                lines.append(indent + "  " + "  ".join(cells))
        else:
            lines.append(f"{indent}{k:<{max(width, 20)}} {_value(v)}")
    return "\n".join(lines)


def _value(v: object) -> str:
    """A table value: integers with thousands separators."""
    return f"{v:,}" if isinstance(v, int) else str(v)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from mda.schema import ALERT_TYPES, REVIEWS, SEVERITIES

    p = argparse.ArgumentParser(prog="mda", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log progress on stderr")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    s = sub.add_parser("ingest", help="decode AIS files (NMEA, DMA/NOAA CSV) or stdin into a store")
    s.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories, or - for stdin")
    s.add_argument("--store", required=True, help="store directory (created if missing)")
    s.add_argument("--json", action="store_true", help="print the ingest report as JSON")
    _add_wait(s)
    _add_read_options(s)
    _add_engine(s)
    s.set_defaults(func=_cmd_ingest)

    s = sub.add_parser(
        "info", help="what is in a store: span, vessels, messages by type, feed outages and holes"
    )
    s.add_argument("--store", required=True)
    s.add_argument("--config", help="TOML file overriding thresholds (feed outages)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_cmd_info)

    s = sub.add_parser("tracks", help="build vessel tracks and write them to a file")
    s.add_argument("inputs", nargs="*", metavar="INPUT")
    s.add_argument("--store")
    s.add_argument("--config", help="TOML file overriding thresholds")
    s.add_argument(
        "-o",
        "--out",
        required=True,
        type=_suffix(".parquet", ".geojson", ".gpkg"),
        help="tracks.parquet, .geojson or .gpkg",
    )
    _add_window(s)
    _add_read_options(s)
    s.set_defaults(func=_cmd_tracks)

    s = sub.add_parser("zones", help="validate or list zone layers")
    zsub = s.add_subparsers(dest="zones_cmd", required=True, metavar="ACTION")
    z = zsub.add_parser("validate", help="check zone files and exit 1 on the first problem")
    z.add_argument("files", nargs="+", metavar="FILE")
    z.set_defaults(func=_cmd_zones)
    z = zsub.add_parser("list", help="table of zones by kind (the bundled layers by default)")
    z.add_argument("files", nargs="*", metavar="FILE")
    z.set_defaults(func=_cmd_zones)
    z = zsub.add_parser(
        "import",
        help="turn a public layer (WPI, USACE ports, NOAA cables and limits, ENC cells, or any "
        "file with the options) into a valid zone file",
    )
    z.add_argument("src", metavar="SRC")
    z.add_argument("-o", "--out", required=True, help="zones.geojson (or .gpkg)")
    z.add_argument("--kind", help="zone kind of every feature (required for unknown layers)")
    z.add_argument("--id-field", help="column holding feature ids (default: id, else numbers)")
    z.add_argument("--name-field", help="column holding names (default: name, else the id)")
    z.add_argument("--buffer-m", type=float, help="radius / half-width of points and lines (m)")
    z.set_defaults(func=_cmd_zones_import)
    z = zsub.add_parser(
        "learn",
        help="anchorages learned from a store: places where many different vessels sit still",
    )
    z.add_argument("--store", required=True)
    z.add_argument("-o", "--out", required=True, help="anchorages.geojson (or .gpkg)")
    z.add_argument("--config", help="TOML thresholds ([context] anchorage_min_vessels, ...)")
    _add_window(z)
    z.set_defaults(func=_cmd_zones_learn)

    s = sub.add_parser("simulate", help="generate AIS traffic with planted anomalies")
    s.add_argument("scenario", help="scenario name under data/scenarios/ or a TOML/JSON file")
    s.add_argument("--out", required=True, help="traffic.nmea[.gz] or .csv with --csv")
    s.add_argument("--csv", choices=["dma", "noaa"], help="write CSV in this layout instead")
    s.add_argument("--truth", help="write the planted events to this JSON file")
    s.add_argument("--seed", type=int)
    s.add_argument("--vessels", type=int, help="override the scenario's vessel count")
    s.add_argument("--hours", type=float, help="override the scenario's duration")
    s.set_defaults(func=_cmd_simulate)

    s = sub.add_parser("scan", help="detect anomalies in files or in a store")
    s.add_argument("inputs", nargs="*", metavar="INPUT")
    s.add_argument("--store")
    s.add_argument("--zones", nargs="+", metavar="FILE", help="zone layers (default: bundled)")
    s.add_argument("--config", help="TOML file overriding thresholds")
    s.add_argument("--watchlist", help="CSV with mmsi, imo and/or name columns")
    s.add_argument("--out", type=ALERT_FILES, help="alerts.geojson, .csv, .gpkg or .parquet")
    s.add_argument(
        "--report", type=_suffix(".html"), help="also render a map report to this HTML file"
    )
    s.add_argument("--fail-on", choices=SEVERITIES, help="exit 3 if new alerts reach this level")
    s.add_argument("--json", action="store_true", help="one JSON summary line on stdout")
    _add_wait(s)
    _add_window(s)
    _add_read_options(s)
    _add_engine(s)
    s.set_defaults(func=_cmd_scan)

    s = sub.add_parser("watch", help="alerts from a live feed: tcp://, udp://, a followed FILE, -")
    s.add_argument("feed", metavar="FEED", help="tcp://HOST:PORT, udp://BIND:PORT, FILE or -")
    s.add_argument("--store", help="store the feed here (default: a temporary store)")
    s.add_argument("--zones", nargs="+", metavar="FILE", help="zone layers (default: bundled)")
    s.add_argument("--config", help="TOML file overriding thresholds")
    s.add_argument("--watchlist", help="CSV with mmsi, imo and/or name columns")
    s.add_argument("--alerts-out", help="append alert JSON lines here (default: stdout)")
    s.add_argument("--map", type=_suffix(".html"), help="rewrite an offline map snapshot here")
    s.add_argument("--serve", metavar="HOST:PORT", help="serve a live map, e.g. 127.0.0.1:8080")
    s.set_defaults(func=_cmd_watch)

    s = sub.add_parser(
        "alerts", help="list the alerts stored by earlier scans, or review one (alerts review)"
    )
    s.add_argument("--store", help="store directory (required)")
    s.add_argument("--type", nargs="+", choices=ALERT_TYPES)
    s.add_argument("--min-severity", choices=SEVERITIES)
    s.add_argument("--review", nargs="+", choices=REVIEWS, help="only alerts of these decisions")
    s.add_argument("--out", type=ALERT_FILES, help="alerts.geojson, .csv, .gpkg or .parquet")
    _add_window(s)
    s.set_defaults(func=_cmd_alerts, usage_error=s.error)
    asub = s.add_subparsers(dest="alerts_cmd", metavar="ACTION")
    r = asub.add_parser(
        "review", help="record a decision on an alert (stored with your user name and the time)"
    )
    r.add_argument("id", metavar="ID", help="the alert's id (first column of mda alerts)")
    r.add_argument(
        "--status", required=True, choices=[*REVIEWS, "open"], help="open reopens it (unreviewed)"
    )
    r.add_argument("--note", help="why: what the analyst found")
    r.add_argument("--store", default=argparse.SUPPRESS, help="store directory")
    r.set_defaults(func=_cmd_alerts_review, usage_error=r.error)

    s = sub.add_parser(
        "vessel",
        help="one vessel's dossier: identity and its changes, when and where heard, port visits, "
        "time dark, alerts, and a map of its track",
    )
    s.add_argument("mmsi", type=_mmsi, metavar="MMSI")
    s.add_argument("inputs", nargs="*", metavar="INPUT", help="AIS files scanned whole")
    s.add_argument("--store", help="a store: its positions, static history and stored alerts")
    s.add_argument("--zones", nargs="+", metavar="FILE", help="zone layers (default: bundled)")
    s.add_argument("--config", help="TOML file overriding thresholds")
    s.add_argument("--json", action="store_true", help="print the dossier as JSON")
    s.add_argument("--report", type=_suffix(".html"), help="map of its track and alerts")
    s.add_argument("--cdn", action="store_true", help="smaller map: scripts from a CDN")
    _add_window(s)
    _add_read_options(s)
    s.set_defaults(func=_cmd_vessel)

    s = sub.add_parser("config", help="show thresholds")
    csub = s.add_subparsers(dest="config_cmd", required=True, metavar="ACTION")
    c = csub.add_parser("show", help="every threshold with its value, default and meaning")
    c.add_argument("--config", help="TOML file overriding thresholds")
    c.set_defaults(func=_cmd_config)

    s = sub.add_parser("report", help="render a Folium map report")
    s.add_argument("inputs", nargs="*", metavar="INPUT")
    s.add_argument("--store")
    s.add_argument("--zones", nargs="+", metavar="FILE")
    s.add_argument("--alerts", help="alerts.geojson from `mda scan --out`")
    s.add_argument("--mmsi", nargs="+", type=int)
    s.add_argument("--bbox", type=_bbox, help="W,S,E,N")
    s.add_argument("--title")
    s.add_argument(
        "--cdn", action="store_true", help="smaller page: scripts from a CDN (SRI), web tiles"
    )
    s.add_argument("--offline", action="store_true", help="self-contained page (the default)")
    s.add_argument("--tiles", help="tile URL template of an internal tile server")
    s.add_argument("-o", "--output", required=True, type=_suffix(".html"), help="HTML to write")
    _add_window(s)
    _add_read_options(s)
    s.set_defaults(func=_cmd_report)

    s = sub.add_parser("demo", help="the Korea-EU demo: simulate, ingest, scan, map")
    s.add_argument("--out", default="maps/demo.html")
    s.add_argument(
        "--cdn", "--online", action="store_true", help="use CDN assets (SRI) and web tiles"
    )
    s.add_argument("--refresh", action="store_true", help="regenerate the cached scenario")
    s.set_defaults(func=_cmd_demo)
    return p


class _OneLine(logging.Formatter):
    """Log records as one line each, control characters of hostile text made harmless."""

    def format(self, record: logging.LogRecord) -> str:
        return safe_text(super().format(record))


@contextlib.contextmanager
def _safe_terminal() -> Iterator[None]:
    """stdout and stderr through safe_text, log records and Python warnings as one line each.

    Everything the command prints (tables, summaries, argparse and error messages, library
    warnings) names hostile text, so it is cleaned once here rather than at every print.
    """
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(streams[0]), SafeStream(streams[1])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("mda: %(message)s"))
    root = logging.getLogger()
    level, show = root.level, warnings.showwarning
    seen: set[str] = set()

    def one_line(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = f"warning: {category.__name__}: {message} ({Path(filename).name}:{lineno})"
        if text not in seen:  # libraries reset the warnings registry: say each thing once
            seen.add(text)
            log.warning("%s", text)

    root.addHandler(handler)
    warnings.showwarning = one_line
    try:
        yield
    finally:
        warnings.showwarning = show
        root.removeHandler(handler)
        root.setLevel(level)
        sys.stdout, sys.stderr = streams


#: A list of numbers led by a negative one ("-130,20,-60,50"): a value, never an option.
_NEGATIVE_LIST = re.compile(r"-\.?\d[\d.]*(,\s*[-+]?[\d.]+)+")


def _attach_negative_lists(argv: Sequence[str]) -> list[str]:
    """`--bbox -130,20,-60,50` as `--bbox=-130,20,-60,50`: argparse takes a value that starts
    with '-' for an option unless it is a single number, so every western or southern box,
    point or extent given to a long option is attached to it here, whatever the option."""
    out: list[str] = []
    for arg in argv:
        prev = out[-1] if out else ""
        option = prev.startswith("--") and prev != "--" and "=" not in prev
        if option and _NEGATIVE_LIST.fullmatch(arg):
            out[-1] = f"{prev}={arg}"
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mda` console script."""
    with _safe_terminal():
        argv = sys.argv[1:] if argv is None else argv
        args = build_parser().parse_args(_attach_negative_lists(argv))
        logging.getLogger().setLevel(logging.INFO if args.verbose else logging.WARNING)
        with progress.shown(not getattr(args, "quiet", False)):
            return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; errors become one line on stderr and an exit status."""
    try:
        return args.func(args)
    except MdaError as e:
        print(f"mda: error: {safe_text(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mda: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
