"""The live map of `mda watch --serve HOST:PORT`: the report page, fed by a JSON endpoint.

``/`` is the same self-contained page `mda report` writes (zones, basemap, panel), rendered once
at start, with a small script added that polls ``/live.json`` every POLL_MS and draws each
vessel's latest position of the last ``watch.live_hours`` (of data time), the open alerts and
the alerts closed in that time; an alert not seen before is drawn larger and listed in the live
panel. ``/live.json`` is rebuilt after every watch cycle. AIS text reaches the page only as JSON
and is put in the DOM as text (never as HTML). Only these two paths are served, read-only.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mda import schema
from mda.errors import MdaError

if TYPE_CHECKING:
    from mda.watch import Watcher

log = logging.getLogger("mda")

#: How often the page asks for new data (ms).
POLL_MS = 2000

_SCRIPT = """
<script>
(function start() {
  "use strict";
  var map = window.mdaReport && window.mdaReport.map;
  if (!map) { setTimeout(start, 100); return; }  // the report script sets it up on load
  var COLOURS = {critical: "#7a0000", high: "#d7301f", medium: "#fc8d59", low: "#fdcc8a",
                 info: "#6baed6"};
  var layer = L.layerGroup().addTo(map);
  var box = document.createElement("div");
  box.id = "mda-live";
  box.setAttribute("style", "position:fixed;bottom:12px;left:12px;z-index:1000;" +
    "background:rgba(255,255,255,.92);padding:6px 9px;font:12px sans-serif;" +
    "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.4);max-width:360px");
  var head = document.createElement("div");
  head.textContent = "live: waiting for the feed";
  var list = document.createElement("ol");
  list.setAttribute("style", "margin:4px 0 0 16px;padding:0");
  box.appendChild(head);
  box.appendChild(list);
  document.body.appendChild(box);
  var seen = {}, first = true;
  function text(parts) {
    var el = document.createElement("span");
    el.textContent = parts.filter(function (p) { return p; }).join(" \\u00b7 ");
    return el;
  }
  function draw(d) {
    layer.clearLayers();
    d.positions.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], {radius: 3, color: "#225", weight: 1, fillOpacity: 0.8})
        .bindTooltip(text([p.name, String(p.mmsi), p.sog == null ? "" : p.sog + " kn", p.ts]))
        .addTo(layer);
    });
    var fresh = [];
    d.alerts.forEach(function (a) {
      var isNew = !first && !seen[a.id];
      seen[a.id] = true;
      if (isNew) { fresh.push(a); }
      L.circleMarker([a.lat, a.lon], {radius: isNew ? 14 : 7, weight: isNew ? 4 : 2,
        color: COLOURS[a.severity] || "#555", fillOpacity: a.status === "open" ? 0.7 : 0.2})
        .bindTooltip(text([a.severity, a.type, a.status, a.vessel_name, String(a.mmsi),
                           a.start, a.end]))
        .addTo(layer);
    });
    first = false;
    fresh.forEach(function (a) {
      var li = document.createElement("li");
      li.className = "mda-new-alert";
      li.appendChild(text([a.severity, a.type, a.vessel_name || String(a.mmsi), a.start]));
      list.insertBefore(li, list.firstChild);
    });
    while (list.children.length > 8) { list.removeChild(list.lastChild); }
    box.dataset.positions = d.positions.length;
    box.dataset.alerts = d.alerts.length;
    box.dataset.updated = d.updated || "";
    head.textContent = "live: " + d.positions.length + " vessels, " +
      d.alerts.filter(function (a) { return a.status === "open"; }).length +
      " open alerts; data to " + (d.updated || "-");
  }
  function poll() {
    fetch("live.json", {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(draw)
      .catch(function () { head.textContent = "live: the watch does not answer"; })
      .then(function () { setTimeout(poll, POLL_MS); });
  }
  poll();
})();
</script>
"""


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise MdaError(f"--serve {text[:80]}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def live_data(watcher: Watcher) -> dict[str, Any]:
    """What /live.json holds after the watcher's latest cycle."""
    from mda.alerts import records

    frame = watcher.window.frame
    if frame.empty:
        return {"updated": None, "positions": [], "alerts": []}
    newest = frame["ts"].max()
    since = newest - pd.Timedelta(hours=watcher.cfg.watch.live_hours)
    recent = frame[frame["ts"] >= since].sort_values("ts", kind="stable")
    latest = recent.drop_duplicates("mmsi", keep="last")
    names = watcher.last.vessels if watcher.last is not None else schema.empty(schema.VESSELS)
    name = latest["mmsi"].map(pd.Series(names["name"].to_numpy(), index=names["mmsi"].to_numpy()))
    positions = [
        {
            "mmsi": int(m),
            "lat": round(float(lat), 5),
            "lon": round(float(lon), 5),
            "sog": None if pd.isna(sog) else round(float(sog), 1),
            "ts": schema.iso_z(ts),
            "name": None if pd.isna(n) else str(n),
        }
        for m, lat, lon, sog, ts, n in zip(
            latest["mmsi"], latest["lat"], latest["lon"], latest["sog"], latest["ts"], name,
            strict=True,
        )
    ]  # fmt: skip
    alerts = watcher.store.alerts(since=since)
    recs = records(alerts)
    for rec, status, lat, lon in zip(
        recs, alerts["status"], alerts["lat"], alerts["lon"], strict=True
    ):
        rec.update(status=str(status), lat=float(lat), lon=float(lon))
    return {"updated": schema.iso_z(newest), "positions": positions, "alerts": recs}


class LiveServer:
    """Serves the live map on `address` in a thread while inside its `with` block."""

    def __init__(self, address: str, watcher: Watcher) -> None:
        self.host, self.port = _address(address)
        self.watcher = watcher
        self._json = b'{"updated": null, "positions": [], "alerts": []}'
        self._page = b""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> LiveServer:
        self._page = self._render()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in ("/", "/index.html"):
                    self._send(server._page, "text/html; charset=utf-8")
                elif path == "/live.json":
                    with server._lock:
                        body = server._json
                    self._send(body, "application/json")
                elif path == "/favicon.ico":
                    self.send_response(HTTPStatus.NO_CONTENT)
                    self.end_headers()
                else:
                    self.send_error(HTTPStatus.NOT_FOUND)

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.info("live map: " + format, *args)

        try:
            self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        except OSError as e:
            raise MdaError(f"--serve {self.host}:{self.port}: {e.strerror or e}") from None
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="mda-live", daemon=True).start()
        log.warning("live map at http://%s:%d/", self.host, self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def publish(self, watcher: Watcher) -> None:
        """Rebuild /live.json from the watcher's latest cycle."""
        body = json.dumps(live_data(watcher), ensure_ascii=False, allow_nan=False).encode()
        with self._lock:
            self._json = body

    def _render(self) -> bytes:
        """The report page with the zones and the live script."""
        from mda.report import render_map

        with tempfile.TemporaryDirectory(prefix="mda-live-") as tmp:
            page = Path(tmp) / "live.html"
            render_map(page, zones=self.watcher.zones, title=f"mda watch: {self.watcher.target}")
            html = page.read_text(encoding="utf-8")
        cut = html.rfind("</body>")
        cut = cut if cut >= 0 else len(html)
        script = _SCRIPT.replace("POLL_MS", str(POLL_MS))
        return (html[:cut] + script + html[cut:]).encode("utf-8")
