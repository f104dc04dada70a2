"""Where the report's scripts and stylesheets come from: vendored npm files inlined, or a CDN.

`ASSETS` is the single table of what a report page loads. `scripts/vendor_assets.py` fetches the
same table from the npm registry into ``mda/report/assets`` (with the licences) and records the
sha384 of every file in ``assets/integrity.json``. An offline report inlines those files. An
online one links the scripts on jsDelivr with Subresource Integrity (``integrity=`` the recorded
hash, ``crossorigin="anonymous"``), so the browser refuses a script that differs by one byte
from the vendored copy; stylesheets are always inlined (the vendored ones carry their images as
data: URIs, so they differ from the CDN files, and images loaded by CSS cannot be pinned).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parent / "assets"

#: name -> (npm package, version, file in the package). Order = load order in the page.
ASSETS: dict[str, tuple[str, str, str]] = {
    "leaflet.js": ("leaflet", "1.9.3", "dist/leaflet.js"),  # the version folium 0.20 uses
    "leaflet.css": ("leaflet", "1.9.3", "dist/leaflet.css"),
    "markercluster.js": ("leaflet.markercluster", "1.5.3", "dist/leaflet.markercluster.js"),
    "markercluster.css": ("leaflet.markercluster", "1.5.3", "dist/MarkerCluster.css"),
    "markercluster-default.css": (
        "leaflet.markercluster",
        "1.5.3",
        "dist/MarkerCluster.Default.css",
    ),
    "heat.js": ("leaflet.heat", "0.2.0", "dist/leaflet-heat.js"),
    "measure.js": ("leaflet-measure", "2.1.7", "dist/leaflet-measure.min.js"),
    "measure.css": ("leaflet-measure", "2.1.7", "dist/leaflet-measure.css"),
    "fullscreen.js": ("leaflet.fullscreen", "3.0.0", "Control.FullScreen.js"),
    "fullscreen.css": ("leaflet.fullscreen", "3.0.0", "Control.FullScreen.css"),
    "minimap.js": ("leaflet-minimap", "3.6.1", "dist/Control.MiniMap.min.js"),
    "minimap.css": ("leaflet-minimap", "3.6.1", "dist/Control.MiniMap.min.css"),
    "topojson.js": ("topojson-client", "3.1.0", "dist/topojson-client.min.js"),
}

#: Natural Earth 1:50m land (public domain) as TopoJSON from world-atlas: mda.context's coast.
LAND = ("world-atlas", "2.0.2", "land-50m.json")
#: The page's vector basemap, the same Natural Earth 1:50m with countries: the page draws its
#: "land" object as land, the borders between its "countries" and their names.
COUNTRIES = ("world-atlas", "2.0.2", "countries-50m.json")
#: Natural Earth 1:10m land (world-atlas, quantized like the others to about 400 m x 190 m):
#: a report of a small area draws it clipped to its view (mda.report.coast), so harbours are right.
LAND_10M = ("world-atlas", "2.0.2", "land-10m.json")
#: Every vendored npm file (scripts/vendor_assets.py fetches these and records their hashes).
VENDORED = sorted({*ASSETS.values(), LAND, LAND_10M, COUNTRIES})

#: Our own script and stylesheet (not from npm; always inlined).
OWN = ("mda-report.js", "mda-report.css")

#: sha384 of every vendored file (path under ASSET_DIR -> SRI value), by scripts/vendor_assets.py.
INTEGRITY_FILE = "integrity.json"


def cdn_url(pkg: str, version: str, file: str) -> str:
    """jsDelivr URL of one npm file (what an online report links)."""
    return f"https://cdn.jsdelivr.net/npm/{pkg}@{version}/{file}"


def asset_path(pkg: str, version: str, file: str) -> Path:
    """Where scripts/vendor_assets.py put one npm file."""
    return ASSET_DIR / f"{pkg}@{version}" / file


def _missing(path: Path, what: str) -> Exception:
    from mda.errors import MdaError

    return MdaError(f"{path}: report asset {what}; run scripts/vendor_assets.py to fetch it")


@cache
def read_asset(path: Path) -> str:
    """Text of a vendored file (cached: a report run reads each at most once)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise _missing(path, "missing") from None


def sri(data: bytes) -> str:
    """The Subresource Integrity value of some bytes: 'sha384-' + base64 digest."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def integrity(path: Path) -> str:
    """The recorded SRI hash of a vendored file (what an online page pins its CDN copy to)."""
    table = json.loads(read_asset(ASSET_DIR / INTEGRITY_FILE))
    try:
        return table[path.relative_to(ASSET_DIR).as_posix()]
    except KeyError:
        raise _missing(path, f"not in {INTEGRITY_FILE}") from None


def _script_text(text: str) -> str:
    """JS made safe to sit inside an inline <script> element."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def head_html(*, offline: bool, minimap: bool = True) -> str:
    """The <style> and <script> (offline) or <script src integrity> (online) tags of every asset.

    The minimap needs tiles: without them (offline, no tile server) its files are left out.
    """
    parts = []
    for name, (pkg, ver, file) in ASSETS.items():
        if name.startswith("minimap") and not minimap:
            continue
        path = asset_path(pkg, ver, file)
        if name.endswith(".css"):
            parts.append(f"<style>{read_asset(path)}</style>")
        elif offline:
            parts.append(f"<script>{_script_text(read_asset(path))}</script>")
        else:
            parts.append(
                f'<script src="{cdn_url(pkg, ver, file)}" integrity="{integrity(path)}"'
                ' crossorigin="anonymous"></script>'
            )
    for file in OWN:
        text = read_asset(ASSET_DIR / file)
        parts.append(
            f"<style>{text}</style>" if file.endswith(".css") else f"<script>{text}</script>"
        )
    return "\n".join(parts)


def land_topojson() -> str:
    """The vendored Natural Earth countries (and land) TopoJSON, as JSON text."""
    return read_asset(asset_path(*COUNTRIES))


def json_for_html(obj: object) -> str:
    """JSON that can sit inside a <script type="application/json"> element without closing it."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
