"""Prove a restructuring changed no output: every output of the bundled scenarios and the real
samples, produced by this tree and by a base revision, compared byte for byte.

    .venv/bin/python scripts/same_outputs.py --base REV        # compare with REV (a commit)
    .venv/bin/python scripts/same_outputs.py --base REV --quick  # two scenarios, a few samples
    .venv/bin/python scripts/same_outputs.py --produce DIR     # only write this tree's outputs

The base revision is checked out in a temporary git worktree and run with the same interpreter
(its own `mda` package and bundled data first on the import path). Both runs go through the
command line in-process (`mda.cli.main`), as a user would:

* each bundled scenario (not `scale`): the simulator's NMEA and truth, `mda ingest` into a
  store, `mda scan --store` (alerts as CSV, GeoJSON and Parquet, the JSON summary), `mda report`
  (the map), `mda tracks` (Parquet and GeoJSON), `mda info --json`, and `mda scan FILE` of the
  file itself;
* each real sample under ../shared/data (positions/ and nmea/): what the readers decode
  (positions, static reports, the base stations and aids to navigation, the ingest counts) and
  the alerts of `mda scan FILE`; then all samples in one store, scanned and mapped.

Before hashing, wall-clock facts (elapsed seconds, when a scan ran: `_VOLATILE`) are blanked,
folium's random element ids numbered in order of use, and the thresholds that alerts and maps
record read with issue 13's renamed config keys mapped and its new ones left out (`_Thresholds`,
both printed). A JSON summary whose only change is new fields
(what new stored tables add to `mda info`) is listed as extended. Exit status 1 when any other
output differs or exists on one side only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
#: JSON keys whose values are wall-clock facts of the run, not results.
_VOLATILE = frozenset(
    {"seconds", "elapsed_s", "messages_per_s", "rate", "last_scan", "path", "created", "updated"}
)
#: The config's field names, written by each side so the comparison can allow for issue 13's
#: config changes (not itself compared).
_CONFIG = "_config-fields.json"
#: A flat JSON object (alert thresholds, a map's thresholds per section).
_OBJECT = re.compile(rb"\{[^{}]*\}")
#: Folium names each map element with a random 32-digit hex id: ids become their order of use.
_FOLIUM_ID = re.compile(rb"(?<=_)[0-9a-f]{32}(?![0-9a-f])")
#: Scenarios compared with --quick (the full run takes every bundled one but `scale`).
_QUICK = ("korea-strait", "baltic-cables")
_QUICK_SAMPLES = 4


def _cli(*argv: str) -> str:
    """Run `mda ARGV...` in-process; its stdout (stderr is dropped: progress and warnings)."""
    from mda.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "-q"] if argv[0] in _QUIET else list(argv))
    if code not in (0, 3):
        raise SystemExit(f"mda {' '.join(argv)} exited {code}: {err.getvalue().strip()[-300:]}")
    return out.getvalue()


_QUIET = frozenset({"ingest", "scan", "tracks", "report"})


def _scrub(value: object) -> object:
    if isinstance(value, dict):
        return {k: "*" if k in _VOLATILE else _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _write_json(path: Path, text: str) -> None:
    path.write_text(
        "\n".join(
            json.dumps(_scrub(json.loads(line)), sort_keys=True)
            for line in text.splitlines()
            if line.strip()
        )
    )


def _frame(path: Path, df: pd.DataFrame) -> None:
    """A table as CSV in a canonical row order (columns as they are)."""
    df = df.reset_index(drop=True)
    if len(df.columns):
        df = df.sort_values(list(df.columns), kind="stable", na_position="first")
    df.to_csv(path, index=False)


def _store_outputs(store: Path, out: Path, name: str) -> None:
    _write_json(
        out / f"{name}.scan.json",
        _cli("scan", "--store", str(store), "--json", "--out", str(out / f"{name}.alerts.csv")),
    )
    _cli("alerts", "--store", str(store), "--out", str(out / f"{name}.stored.geojson"))
    _cli("report", "--store", str(store), "-o", str(out / f"{name}.map.html"))
    _cli("tracks", "--store", str(store), "-o", str(out / f"{name}.tracks.parquet"))
    _write_json(out / f"{name}.info.json", _cli("info", "--store", str(store), "--json"))


def _scenario(name: str, work: Path, out: Path) -> None:
    nmea = Path(f"{name}.nmea")  # relative: file names are recorded as given
    _cli("simulate", name, "--out", str(nmea), "--truth", str(out / f"{name}.truth.json"))
    store = work / name
    _write_json(
        out / f"{name}.ingest.json", _cli("ingest", str(nmea), "--store", str(store), "--json")
    )
    _store_outputs(store, out, name)
    _cli("scan", str(nmea), "--out", str(out / f"{name}.file-alerts.geojson"))


def _samples(quick: bool) -> list[Path]:
    """The real samples; with --quick a few spread over each folder."""
    found = []
    for sub in ("positions", "nmea"):
        files = sorted(p for p in (SHARED / sub).rglob("*") if p.is_file())
        step = max(1, len(files) // _QUICK_SAMPLES) if quick else 1
        found += files[::step][: _QUICK_SAMPLES // 2] if quick else files
    return found


def _sample(path: Path, out: Path) -> None:
    from mda.sources import read_ais

    name = re.sub(r"[^\w.-]", "_", str(path.relative_to(SHARED)))
    data = read_ais(path)
    _frame(out / f"{name}.positions.csv", data.positions)
    _frame(out / f"{name}.statics.csv", data.statics)
    aux = data.aux[["mmsi", "ts", "lat", "lon", "msg_type", "name", "source"]]
    _frame(out / f"{name}.aux.csv", aux)
    (out / f"{name}.report.json").write_text(
        json.dumps(_scrub(json.loads(data.report.to_json())), sort_keys=True)
    )
    _cli("scan", str(path), "--out", str(out / f"{name}.alerts.csv"))


def _config_fields(path: Path) -> None:
    from dataclasses import fields

    from mda.config import Config

    cfg = Config()
    names = {f.name: [g.name for g in fields(getattr(cfg, f.name))] for f in fields(cfg)}
    path.write_text(json.dumps(names, sort_keys=True))


def produce(out: Path, quick: bool) -> None:
    """Write every output of this interpreter's `mda` into OUT."""
    import mda

    shutil.rmtree(out, ignore_errors=True)  # a store left by an earlier run would skip inputs
    out.mkdir(parents=True)
    _config_fields(out / _CONFIG)
    print(f"producing with {Path(mda.__file__).parent}", file=sys.stderr)
    scenarios = sorted(
        p.stem
        for p in (Path(mda.__file__).parents[1] / "data" / "scenarios").glob("*.toml")
        if p.stem != "scale"
    )
    samples = _samples(quick)
    if quick:
        scenarios = [s for s in scenarios if s in _QUICK]
    os.chdir(out)  # stores and simulated files are named relative to it, as recorded
    out, work = Path("."), Path(".stores")
    for name in scenarios:
        _scenario(name, work, out)
    for path in samples:
        _sample(path, out)
    if samples:
        _cli("ingest", *map(str, samples), "--store", str(work / "real"))
        _store_outputs(work / "real", out, "real-samples")


class _Thresholds:
    """Issue 13 renamed config keys (mda.config.RENAMED) and made constants configurable: alerts
    and maps record their thresholds, so both sides' threshold objects are compared with old
    names mapped to new ones and the keys new in this tree's config left out."""

    def __init__(self, base: Path, head: Path) -> None:
        from mda.config import RENAMED

        old, new = (json.loads((d / _CONFIG).read_text()) for d in (base, head))
        self.renamed = {o: n for (_, o), n in RENAMED.items()}
        self.added = {
            k
            for sec, keys in new.items()
            for k in keys
            if k not in old.get(sec, ()) and k not in self.renamed.values()
        }
        self.keys = {*self.renamed, *self.renamed.values(), *self.added}
        if self.renamed or self.added:
            print(f"config: renamed {self.renamed}, new {sorted(self.added)}")

    def _object(self, m: re.Match[bytes]) -> bytes:
        try:
            obj = json.loads(m[0])
        except ValueError:
            return m[0]
        if not isinstance(obj, dict) or not self.keys & obj.keys():
            return m[0]
        obj = {self.renamed.get(k, k): v for k, v in obj.items() if k not in self.added}
        return json.dumps(obj, sort_keys=True).encode()

    def __call__(self, data: bytes, suffix: str) -> bytes:
        if suffix not in (".csv", ".json", ".geojson", ".html"):
            return data
        if suffix == ".csv":
            data = data.replace(b'""', b'"')
        return _OBJECT.sub(self._object, data)


def _digest(path: Path, thresholds: _Thresholds) -> str:
    data = thresholds(path.read_bytes(), path.suffix)
    if path.suffix == ".html":
        order: dict[bytes, bytes] = {}
        data = _FOLIUM_ID.sub(lambda m: order.setdefault(m[0], b"%032d" % len(order)), data)
    return hashlib.sha256(data).hexdigest()


def _digests(folder: Path, thresholds: _Thresholds) -> dict[str, str]:
    return {
        p.name: _digest(p, thresholds)
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != _CONFIG
    }


def _run(tree: Path, out: Path, quick: bool) -> None:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--produce",
        str(out.resolve()),
        "--tree",
        str(tree),
    ]
    subprocess.run([*cmd, *(["--quick"] if quick else [])], check=True)


def _extends(old: Path, new: Path) -> bool:
    """A JSON summary (info, ingest report) whose only change is fields it did not have."""
    if old.suffix != ".json":
        return False
    a, b = (json.loads(p.read_text()) for p in (old, new))
    return isinstance(a, dict) and isinstance(b, dict) and all(b.get(k) == v for k, v in a.items())


def compare(base: str, quick: bool, keep: Path | None) -> int:
    """Outputs of BASE and of this tree, file by file; 1 when any differs."""
    with TemporaryDirectory() as tmp:
        work = keep or Path(tmp)
        tree = Path(tmp) / "base-tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), base],
            check=True,
        )
        try:
            _run(tree, work / "base", quick)
            _run(ROOT, work / "head", quick)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
            )
        thresholds = _Thresholds(work / "base", work / "head")
        a, b = _digests(work / "base", thresholds), _digests(work / "head", thresholds)
        changed = sorted(n for n in a.keys() & b.keys() if a[n] != b[n])
        extends = [n for n in changed if _extends(work / "base" / n, work / "head" / n)]
    differ = [n for n in changed if n not in extends]
    only = sorted(a.keys() ^ b.keys())
    for n in extends:
        print(f"EXTENDS  {n} (new fields only; every field of the base has its value)")
    for n in differ:
        print(f"DIFFERS  {n}")
    for n in only:
        print(f"ONLY IN {'base' if n in a else 'this tree'}  {n}")
    same = len(a.keys() & b.keys()) - len(changed)
    print(
        f"{same} outputs byte-identical, {len(extends)} extended with new fields, "
        f"{len(differ)} differ, {len(only)} on one side only "
        f"(base {base}, {'quick' if quick else 'full'} run)"
    )
    return 1 if differ or only else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", help="git revision to compare this tree with")
    ap.add_argument("--produce", type=Path, help="only write this tree's outputs into DIR")
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)  # the checkout to import from
    ap.add_argument("--quick", action="store_true", help="two scenarios and a few real samples")
    ap.add_argument("--keep", type=Path, help="keep both sets of outputs under this folder")
    a = ap.parse_args()
    if a.tree is not None:
        sys.path.insert(0, str(a.tree))
    if a.produce is not None:
        produce(a.produce, a.quick)
        return 0
    if a.base is None:
        ap.error("give --base REV (or --produce DIR)")
    return compare(a.base, a.quick, a.keep)


if __name__ == "__main__":
    sys.exit(main())
