"""Fetch the report's JS/CSS and the Natural Earth land basemap from the npm registry.

Reproducible: `npm pack <pkg>@<version>` for every package in mda.report.offline (VENDORED:
ASSETS and the Natural Earth LAND, LAND_10M, COUNTRIES), then extract the files the report
uses plus each package's licence into mda/report/assets/<pkg>@<version>/. Images referenced by a
stylesheet are embedded as data: URIs so an offline page makes no request at all. Last, the
sha384 of every file the report uses is written to mda/report/assets/integrity.json: an online
report pins its CDN scripts to these hashes (Subresource Integrity), and tests check them against
the files. Run it after changing a version:

    .venv/bin/python scripts/vendor_assets.py
"""

from __future__ import annotations

import base64
import json
import mimetypes
import posixpath
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

from mda.report.offline import ASSET_DIR, INTEGRITY_FILE, VENDORED, asset_path, sri

LICENCE_NAMES = re.compile(r"^package/(LICEN[CS]E|MIT-LICEN[CS]E)[^/]*$", re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def inline_css_urls(css: str, css_file: str, members: dict[str, bytes]) -> str:
    """Replace url(relative) in a stylesheet by data: URIs of the package's own files."""

    def repl(m: re.Match) -> str:
        ref = m.group(1)
        if ref.startswith(("data:", "#")):  # data already, or IE-only VML behaviour
            return m.group(0)
        name = posixpath.normpath(posixpath.join("package", posixpath.dirname(css_file), ref))
        if name not in members:
            raise SystemExit(f"{css_file}: url({ref}) not found in the package")
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        data = base64.b64encode(members[name]).decode()
        return f'url("data:{mime};base64,{data}")'

    return CSS_URL.sub(repl, css)


def vendor(pkg: str, version: str, files: list[str], work: Path) -> None:
    """npm pack one package and copy `files` (+ licence) into the assets folder."""
    out = subprocess.run(
        ["npm", "pack", "--silent", f"{pkg}@{version}"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    with tarfile.open(work / out) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    licences = [n for n in members if LICENCE_NAMES.match(n)]
    if not licences:
        raise SystemExit(f"{pkg}@{version}: no licence file in the package")
    for name in [*files, *(n.removeprefix("package/") for n in licences)]:
        data = members[f"package/{name}"]
        if name.endswith(".css"):
            data = inline_css_urls(data.decode(), name, members).encode()
        dest = asset_path(pkg, version, name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        print(f"{pkg}@{version}/{name}  {len(data):,} bytes")


def write_integrity() -> None:
    """Record the SRI hash of every vendored file the report uses (the bytes on disk)."""
    table = {
        asset_path(*a).relative_to(ASSET_DIR).as_posix(): sri(asset_path(*a).read_bytes())
        for a in VENDORED
    }
    (ASSET_DIR / INTEGRITY_FILE).write_text(json.dumps(table, indent=1) + "\n")
    print(f"{INTEGRITY_FILE}: {len(table)} hashes")


def main() -> None:
    wanted: dict[tuple[str, str], list[str]] = {}
    for pkg, version, file in VENDORED:
        wanted.setdefault((pkg, version), []).append(file)
    with tempfile.TemporaryDirectory() as tmp:
        for (pkg, version), files in wanted.items():
            vendor(pkg, version, files, Path(tmp))
    write_integrity()


if __name__ == "__main__":
    main()
