/* mda report page script: draws tracks, positions, alerts, the side panel and the alert table.
 * Every text from the data (vessel names, call signs, zone names, file names) is put in the page
 * with textContent, never as HTML. Exposes window.mdaReport for tests. */
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") e.className = attrs[k];
      else if (k === "style") e.style.cssText = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return e;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function fmtTime(t) {
    if (t === null || t === undefined) return "–";
    var d = new Date(t * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }
  function fmtDur(s) {
    if (s === null || s === undefined || isNaN(s)) return "–";
    var h = Math.floor(s / 3600), m = Math.round((s % 3600) / 60);
    return h ? h + " h " + pad(m) + " min" : m + " min";
  }
  function fmtNum(n) { return Number(n).toLocaleString("en-US"); }
  /* Evidence keys that hold a latitude or longitude (lat, lon0, other_lat, to_lon...). */
  var COORD_KEY = /(^|_)(lat|lon)\d*(_|$)/;
  /* A value for a person: coordinates to 5 decimals (~1 m), other numbers to 2 (whole when
   * 100 or more), objects as JSON. */
  function fmtValue(v, key) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") {
      if (key !== undefined && COORD_KEY.test(key)) return v.toFixed(5);
      return Math.abs(v) >= 100 ? fmtNum(Math.round(v)) : String(Math.round(v * 100) / 100);
    }
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function label(key) { return String(key).replace(/_/g, " "); }
  /* Only for mda's own fixed credit lines, which Leaflet's attribution control puts in as HTML. */
  function escapeHtml(t) {
    return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function speedClass(sog, breaks) {
    if (sog === null || sog === undefined) return -1;
    for (var i = 0; i < breaks.length; i++) if (sog < breaks[i]) return i;
    return breaks.length;
  }
  function vesselColor(mmsi) {
    var h = (mmsi * 2654435761) % 360;
    return "hsl(" + h + ",70%,42%)";
  }

  function svg(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function alertIcon(glyph, color) {
    var s = svg("svg", { width: 24, height: 24, viewBox: "0 0 24 24" });
    s.appendChild(svg("path", {
      d: "M12 1 L23 12 L12 23 L1 12 Z", fill: color, stroke: "#fff", "stroke-width": 1.6
    }));
    var t = svg("text", { x: 12, y: 16, "text-anchor": "middle", "font-size": 10,
      "font-weight": 700, fill: "#fff", "font-family": "Arial,sans-serif" });
    t.textContent = glyph;
    s.appendChild(t);
    var box = el("div", { class: "mda-alert-icon" }, [s]);
    return L.divIcon({ html: box, className: "", iconSize: [24, 24], iconAnchor: [12, 12] });
  }

  /* A vessel's latest position drawn on the shared canvas (no DOM node per vessel): an arrow
   * pointing along its heading, or a dot when the heading is unknown. Uses Leaflet's canvas
   * renderer hooks (_drawing, _fillStroke) as L.CircleMarker itself does. */
  var ShipMarker = L.CircleMarker.extend({
    _updatePath: function () {
      var r = this._renderer, ctx = r._ctx, p = this._point, h = this.options.heading, s = this._radius;
      if (!r._drawing || this._empty()) return;
      if (h === null || h === undefined) { r._updateCircle(this); return; }
      ctx.save();
      ctx.translate(p.x, p.y);
      ctx.rotate(h * Math.PI / 180);
      ctx.beginPath();
      ctx.moveTo(0, -1.5 * s); ctx.lineTo(s, s); ctx.lineTo(0, 0.4 * s); ctx.lineTo(-s, s);
      ctx.closePath();
      ctx.restore();
      r._fillStroke(ctx, this);
    }
  });

  /* Natural Earth polygons that cross ±180° (Chukotka, Fiji...) would be drawn with an edge
   * across the whole world: make their rings continuous and add a copy 360° over. */
  function splitAntimeridian(fc) {
    function unwrap(ring) {  // continuous longitudes, then centred on [-180, 180] like its holes
      var off = 0, out = [], sum = 0;
      for (var i = 0; i < ring.length; i++) {
        if (i) { var d = ring[i][0] - ring[i - 1][0]; if (d > 180) off -= 360; else if (d < -180) off += 360; }
        out.push([ring[i][0] + off, ring[i][1]]);
        sum += ring[i][0] + off;
      }
      var shift = -360 * Math.round(sum / ring.length / 360);
      return out.map(function (c) { return [c[0] + shift, c[1]]; });
    }
    function crossings(ring) {
      var n = 0;
      for (var i = 1; i < ring.length; i++) if (Math.abs(ring[i][0] - ring[i - 1][0]) > 180) n++;
      return n;
    }
    var polys = [];
    fc.features.forEach(function (f) {
      var g = f.geometry, list = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
      list.forEach(function (poly) {
        var n = crossings(poly[0]);
        if (n === 0 || n % 2) { polys.push(poly); return; }  // odd: Antarctica, drawn as it is
        var u = poly.map(unwrap), east = u[0].some(function (c) { return c[0] > 180; });
        var shift = east ? -360 : 360;
        polys.push(u, u.map(function (r) { return r.map(function (c) { return [c[0] + shift, c[1]]; }); }));
      });
    });
    return { type: "Feature", properties: {}, geometry: { type: "MultiPolygon", coordinates: polys } };
  }

  /* Border lines cut where they jump across the antimeridian. */
  function cutAntimeridian(geom) {
    var out = [];
    (geom.type === "LineString" ? [geom.coordinates] : geom.coordinates).forEach(function (line) {
      var part = [line[0]];
      for (var i = 1; i < line.length; i++) {
        if (Math.abs(line[i][0] - line[i - 1][0]) > 180) { if (part.length > 1) out.push(part); part = []; }
        part.push(line[i]);
      }
      if (part.length > 1) out.push(part);
    });
    return { type: "MultiLineString", coordinates: out };
  }

  /* Where a country's name goes: the middle of the widest span across its largest polygon, at
   * the mean latitude of that polygon's outline; and the polygon's bounds (to size the label).
   * null when that polygon crosses ±180° with no span on one side (no sensible place). */
  function labelPlace(geom) {
    var polys = geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates, ring = null, best = -1;
    polys.forEach(function (p) {
      var r = p[0], area = 0;
      for (var i = 1; i < r.length; i++) area += (r[i - 1][0] * r[i][1] - r[i][0] * r[i - 1][1]);
      if (Math.abs(area) > best) { best = Math.abs(area); ring = r; }
    });
    var lat = 0, s = 90, n = -90, w = 180, e = -180;
    ring.forEach(function (c) { lat += c[1]; s = Math.min(s, c[1]); n = Math.max(n, c[1]); w = Math.min(w, c[0]); e = Math.max(e, c[0]); });
    lat /= ring.length;
    var xs = [];
    for (var i = 1; i < ring.length; i++) {
      var a = ring[i - 1], b = ring[i];
      if (Math.abs(b[0] - a[0]) > 180 || (a[1] <= lat) === (b[1] <= lat)) continue;
      xs.push(a[0] + (lat - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
    }
    xs.sort(function (x, y) { return x - y; });
    var lon = e - w > 180 ? null : (w + e) / 2, widest = -1;  // across ±180° (Fiji): no middle
    for (var k = 0; k + 1 < xs.length; k += 2) {
      var d = xs[k + 1] - xs[k];
      if (d > widest && d < 180) { widest = d; lon = (xs[k] + xs[k + 1]) / 2; }
    }
    return lon === null ? null : { latlng: [lat, lon], bounds: [[s, w], [n, e]] };
  }

  function MdaReport(map, control, data) {
    this.map = map;
    this.control = control;
    this.data = data;
    this.legend = data.legend;
    this.vessels = {};
    var v = data.vessels;
    for (var i = 0; i < v.mmsi.length; i++) {
      this.vessels[v.mmsi[i]] = { name: v.name[i], callsign: v.callsign[i], type: v.type[i],
        flag: v.flag[i], destination: v.destination[i] };
    }
    this.colorBy = "speed";
    this.layers = {};
    this.labels = [];  // {kind, text, latlng, bounds, layer}: see placeLabels
  }

  MdaReport.prototype.vesselRows = function (mmsi) {
    var v = this.vessels[mmsi] || {};
    return [["Name", v.name || "(unknown)"], ["MMSI", mmsi], ["Call sign", v.callsign],
      ["Type", v.type], ["Flag", v.flag], ["Destination", v.destination]];
  };

  function infoTable(title, rows) {
    var t = el("table", { class: "mda-info" });
    rows.forEach(function (r) {
      if (r[1] === "" || r[1] === null || r[1] === undefined) return;
      t.appendChild(el("tr", {}, [el("th", {}, [r[0]]), el("td", {}, [r[1]])]));
    });
    return el("div", {}, [el("div", { class: "mda-info-title" }, [title]), t]);
  }

  /* The basemap: the tile server in the data (URL used only as a URL template, the attribution
   * is fixed text from mda), else the inlined Natural Earth land. */
  MdaReport.prototype.drawLand = function () {
    var tiles = this.data.tiles;
    if (tiles) {
      L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: tiles.max_zoom,
        maxNativeZoom: tiles.max_zoom }).addTo(this.map);
      return;
    }
    var node = document.getElementById("mda-land");
    if (!node || !window.topojson) return;
    var topo = JSON.parse(node.textContent), self = this;
    var st = this.legend.land, map = this.map, story = this.data.story;
    map.getContainer().style.background = st.sea;
    map.createPane("mda-land").style.zIndex = 250;
    function fill(features, color) {
      L.geoJSON(splitAntimeridian({ type: "FeatureCollection", features: features }), {
        pane: "mda-land", interactive: false, noClip: true,
        style: { stroke: false, fillColor: color, fillOpacity: 1 }
      }).addTo(map);
    }
    fill(topojson.feature(topo, topo.objects.land).features, st.fill);
    var countries = topojson.feature(topo, topo.objects.countries).features;
    var partners = story ? story.partners : [];
    var shaded = countries.filter(function (f) { return partners.indexOf(f.properties.name) >= 0; });
    if (shaded.length) fill(shaded, st.partner);
    this.partnersShaded = shaded.map(function (f) { return f.properties.name; });
    var fine = this.data.fine_land;  // a small view: 1:10m land over a sea patch (mda.report.coast)
    if (fine) {
      L.rectangle(fine.box, { pane: "mda-land", interactive: false, stroke: false, fillColor: st.sea,
        fillOpacity: 1 }).addTo(map);
      this.fineLand = L.geoJSON(fine.land, { pane: "mda-land", interactive: false,
        style: { stroke: false, fillColor: st.fill, fillOpacity: 1 } }).addTo(map);
    }
    var borders = topojson.mesh(topo, topo.objects.countries, function (a, b) { return a !== b; });
    this.borders = L.geoJSON(cutAntimeridian(borders), { pane: "mda-land", interactive: false,
      style: { color: st.border, weight: 0.8, opacity: 1, fill: false } }).addTo(map);
    countries.forEach(function (f) {
      var place = labelPlace(f.geometry);
      if (place) self.labels.push({ kind: "country", text: f.properties.name, latlng: L.latLng(place.latlng),
        bounds: L.latLngBounds(place.bounds), layer: null });
    });
    map.attributionControl.addAttribution("Land, borders: Natural Earth (public domain)");
  };

  /* Names on the map (zones and countries): see styles.LABELS. Redrawn after every move; each
   * label is a DOM text node (zone names are user text). */
  MdaReport.prototype.placeLabels = function () {
    var map = this.map, cfg = this.legend.labels, z = map.getZoom(), view = map.getBounds().pad(0.05);
    var layer = this.labelLayer, cand = [], placed = [];
    layer.clearLayers();
    this.labels.forEach(function (l) {
      if ((l.layer && !map.hasLayer(l.layer)) || !view.contains(l.latlng)) return;
      if (z < cfg.min_zoom[l.kind]) return;
      var a = map.latLngToContainerPoint(l.bounds.getNorthWest()), b = map.latLngToContainerPoint(l.bounds.getSouthEast());
      var size = Math.max(b.x - a.x, b.y - a.y);
      if (size >= cfg.min_px[l.kind]) cand.push([l.kind === "zone" ? 1e9 + size : size, l]);
    });
    cand.sort(function (x, y) { return y[0] - x[0]; });
    cand.forEach(function (c) {
      var l = c[1];
      if (placed.length >= cfg.max) return;
      var p = map.latLngToContainerPoint(l.latlng), w = 3.3 * Math.min(l.text.length, 40) + 4, h = 8;
      var box = [p.x - w, p.y - h, p.x + w, p.y + h];
      if (placed.some(function (q) { return box[0] < q[2] && q[0] < box[2] && box[1] < q[3] && q[1] < box[3]; })) return;
      placed.push(box);
      layer.addLayer(L.tooltip({ permanent: true, direction: "center", interactive: false, opacity: 1,
        pane: "mda-labels", className: "mda-label mda-label-" + l.kind })
        .setLatLng(l.latlng).setContent(el("span", {}, [l.text])));
    });
  };

  /* Zone layers, one per group of kinds, in the layer control before the data layers. */
  MdaReport.prototype.drawZones = function () {
    var self = this;
    this.zoneLayers = this.data.zones.map(function (z) {
      var layer = L.geoJSON(z.geojson, { style: z.style });
      layer.eachLayer(function (part) {  // one label per zone (its corridor, not its centre line)
        var t = part.feature.geometry.type, name = part.feature.properties.name;
        if (!name || (t !== "Polygon" && t !== "MultiPolygon")) return;
        var b = part.getBounds();
        self.labels.push({ kind: "zone", text: name, latlng: b.getCenter(), bounds: b, layer: layer });
      });
      layer.bindTooltip(function (part) {
        var p = part.feature.properties;
        return infoTable(z.name, [["Name", p.name], ["Kind", p.kind], ["Source", p.source]]);
      }, { sticky: true });
      return [z.name, layer];
    });
  };

  MdaReport.prototype.trackColor = function (t) {
    if (this.colorBy === "vessel") return vesselColor(t.mmsi);
    return t.cls < 0 ? "#888" : this.legend.speed_colors[t.cls];
  };

  /* One multi-part polyline per (vessel, speed class): few layers however long the tracks. */
  MdaReport.prototype.drawTracks = function () {
    var self = this, tr = this.data.tracks, group = L.featureGroup(), byKey = {};
    this.tracks = [];
    for (var i = 0; i < tr.mmsi.length; i++) {
      var cls = speedClass(tr.sog[i], this.legend.speed_breaks), key = tr.mmsi[i] + "|" + cls;
      var t = byKey[key];
      if (!t) {
        t = byKey[key] = { mmsi: tr.mmsi[i], cls: cls, parts: [], times: [], first: tr.t0[i], last: tr.t1[i] };
        this.tracks.push(t);
      }
      var pts = [], times = [];
      for (var k = tr.offsets[i]; k < tr.offsets[i + 1]; k++) {
        pts.push([tr.coords[2 * k], tr.coords[2 * k + 1]]);
        times.push(tr.t0[i] + tr.dt[k]);
      }
      t.parts.push(pts);
      t.times.push(times);
      t.first = Math.min(t.first, tr.t0[i]);
      t.last = Math.max(t.last, tr.t1[i]);
    }
    var breaks = this.legend.speed_breaks;
    this.tracks.forEach(function (t) {
      t.layer = L.polyline(t.parts, { color: self.trackColor(t), weight: 2.2, opacity: 0.85,
        bubblingMouseEvents: false });
      t.layer._mdaTrack = t;
      t.until = Infinity;
      group.addLayer(t.layer);
    });
    group.bindTooltip(function (layer) {
      var t = layer._mdaTrack, rows = self.vesselRows(t.mmsi);
      var lo = t.cls > 0 ? breaks[t.cls - 1] : 0, hi = breaks[t.cls];
      rows.push(["Speed", t.cls < 0 ? "unknown" : hi === undefined ? "≥ " + lo + " kn" : lo + "–" + hi + " kn"]);
      rows.push(["Seen", fmtTime(t.first) + " – " + fmtTime(t.last)]);
      return infoTable("Vessel track", rows);
    }, { sticky: true });
    group.on("click", function (e) { self.highlight(e.layer._mdaTrack.mmsi); });
    this.layers["Vessel tracks"] = group;
  };

  MdaReport.prototype.drawLatest = function () {
    var self = this, p = this.data.latest, group = L.featureGroup();
    for (var i = 0; i < p.mmsi.length; i++) {
      var color = this.colorBy === "vessel" ? vesselColor(p.mmsi[i]) : this.legend.ship_groups[p.group[i]];
      var m = new ShipMarker([p.lat[i], p.lon[i]], { heading: p.hdg[i], radius: 4, color: "#222",
        weight: 1, fillColor: color, fillOpacity: 1, bubblingMouseEvents: false });
      m._mdaIdx = i;
      group.addLayer(m);
    }
    group.on("click", function (e) { self.highlight(p.mmsi[e.layer._mdaIdx]); });
    group.bindTooltip(function (layer) {
      var j = layer._mdaIdx, rows = self.vesselRows(p.mmsi[j]);
      rows.push(["Last fix", fmtTime(p.t[j])]);
      rows.push(["SOG", p.sog[j] === null ? "–" : p.sog[j] + " kn"]);
      rows.push(["Heading", p.hdg[j] === null ? "–" : p.hdg[j] + "°"]);
      rows.push(["Position", fmtValue(p.lat[j], "lat") + ", " + fmtValue(p.lon[j], "lon")]);
      rows.push(["Dossier", "mda vessel " + p.mmsi[j]]);
      return infoTable("Latest position", rows);
    });
    this.layers["Latest positions"] = group;
  };

  /* An alert's status (open/closed) and review, as the store has them ("" from a file). */
  MdaReport.prototype.stateOf = function (i) {
    var a = this.data.alerts, r = a.review[i] && a.review[i] !== "unreviewed" ? a.review[i] : "";
    return [a.status[i], r].filter(function (x) { return x; }).join(", ");
  };

  MdaReport.prototype.alertPopup = function (i) {
    var a = this.data.alerts, self = this;
    var rows = [["Type", label(a.type[i])], ["Severity", a.severity[i]],
      ["Vessel", (this.vessels[a.mmsi[i]] || {}).name || a.name[i] || "(unknown)"], ["MMSI", a.mmsi[i]],
      ["Other MMSI", a.other_mmsi[i]], ["Start", fmtTime(a.start[i])], ["End", fmtTime(a.end[i])],
      ["Duration", a.end[i] !== null && a.start[i] !== null ? fmtDur(a.end[i] - a.start[i]) : ""],
      ["Zone", a.zone[i] ? a.zone[i] + (a.zone_kind[i] ? " (" + a.zone_kind[i] + ")" : "") : ""],
      ["Position", fmtValue(a.lat[i], "lat") + ", " + fmtValue(a.lon[i], "lon")],
      ["Status", a.status[i]], ["Review", a.review[i] === "unreviewed" ? "" : a.review[i]],
      ["Review note", a.review_note[i]], ["Dossier", "mda vessel " + a.mmsi[i]]];
    var ev = a.evidence[i] || {};
    Object.keys(ev).forEach(function (k) { rows.push([label(k), fmtValue(ev[k], k)]); });
    var box = infoTable("Alert", rows);
    box.appendChild(el("a", { href: "#mda-row-" + i, class: "mda-link", onclick: function (e) {
      e.preventDefault(); self.showRow(i);
    } }, ["Show in alert table"]));
    return box;
  };

  /* High and critical alerts are drawn in their own layer, never inside a cluster (a cluster of
   * 78 markers at world zoom hid the demo's anchor drags); the rest are clustered. */
  MdaReport.prototype.drawAlerts = function () {
    var self = this, a = this.data.alerts, lg = this.legend;
    var cluster = L.markerClusterGroup({ maxClusterRadius: 36, disableClusteringAtZoom: 11,
      showCoverageOnHover: false, chunkedLoading: true });
    var severe = L.featureGroup(), lines = L.featureGroup();
    this.alertMarkers = [];
    var markers = [];
    for (var i = 0; i < a.id.length; i++) {
      var color = lg.severity_colors[a.severity[i]] || "#555";
      var alone = lg.unclustered.indexOf(a.severity[i]) >= 0;
      var m = L.marker([a.lat[i], a.lon[i]], {
        icon: alertIcon(lg.type_glyphs[a.type[i]] || "?", color), title: label(a.type[i]),
        zIndexOffset: alone ? 1000 : 0
      });
      m._mdaIdx = i;
      m._mdaGroup = alone ? severe : cluster;
      m.bindPopup(function (layer) { return self.alertPopup(layer._mdaIdx); }, { maxWidth: 360 });
      m.on("click", function (e) { self.highlight(a.mmsi[e.target._mdaIdx]); });
      m.on("add", function (e) {  // a marker leaving its cluster keeps its ring
        if (e.target._mdaRelated) L.DomUtil.addClass(e.target._icon, "mda-related");
      });
      if (alone) severe.addLayer(m); else markers.push(m);
      this.alertMarkers.push(m);
      var ln = a.line[i];
      if (ln) {
        var gap = a.type[i] === "ais_gap";
        lines.addLayer(L.polyline([[ln[0], ln[1]], [ln[2], ln[3]]], {
          color: gap ? color : "#7b3294", weight: gap ? 2.5 : 3,
          dashArray: gap ? "7 6" : null, opacity: 0.9
        }).bindTooltip(gap ? "AIS gap: dark from here to there" : label(a.type[i]) + ": the other position"));
      }
    }
    cluster.addLayers(markers);
    this.cluster = cluster;
    this.severe = severe;
    this.layers["High & critical alerts"] = severe;
    this.layers["Alerts"] = cluster;
    this.layers["Gap & encounter lines"] = lines;
  };

  /* Receiver artefacts: fixes left out for a stale time stamp, small grey dots (feed facts). */
  MdaReport.prototype.drawArtefacts = function () {
    var self = this, a = this.data.artefacts, st = this.legend.artefact_style, group = L.featureGroup();
    for (var i = 0; i < a.mmsi.length; i++) {
      var m = L.circleMarker([a.lat[i], a.lon[i]], { radius: st.radius, color: st.color,
        fillColor: st.fillColor, weight: st.weight, fillOpacity: 0.9 });
      m._mdaIdx = i;
      group.addLayer(m);
    }
    group.bindTooltip(function (layer) {
      var j = layer._mdaIdx, rows = self.vesselRows(a.mmsi[j]);
      rows.push(["Time stamp", fmtTime(a.t[j])]);
      rows.push(["Left out", a.reason[j]]);
      return infoTable("Receiver artefact", rows);
    });
    this.layers["Receiver artefacts"] = group;
  };

  MdaReport.prototype.drawHeat = function () {
    this.layers["Traffic density"] = L.heatLayer(this.data.heat, { radius: 14, blur: 16, maxZoom: 9, minOpacity: 0.25 });
  };

  MdaReport.prototype.addControls = function () {
    var map = this.map, self = this;
    L.control.fullscreen({ position: "topleft" }).addTo(map);
    new L.Control.Measure({ position: "topleft", primaryLengthUnit: "kilometers",
      secondaryLengthUnit: "nauticalmiles", primaryAreaUnit: "sqmeters",
      units: { nauticalmiles: { factor: 1 / 1852, display: "NM", decimals: 2 } } }).addTo(map);
    var Coords = L.Control.extend({
      onAdd: function () {
        var box = el("div", { class: "mda-coords leaflet-bar" }, ["lat, lon"]);
        map.on("mousemove", function (e) {
          box.textContent = e.latlng.lat.toFixed(5) + ", " + e.latlng.lng.toFixed(5);
        });
        return box;
      }
    });
    new Coords({ position: "bottomright" }).addTo(map);
    map.on("click", function () { self.highlight(null); });
    if (this.data.tiles) {
      new L.Control.MiniMap(L.tileLayer(this.data.tiles.url), { toggleDisplay: true,
        position: "bottomright", width: 140, height: 110 }).addTo(map);
    }
    this.zoneLayers.forEach(function (z) {
      self.control.addOverlay(z[1], z[0]);
      z[1].addTo(map);
    });
    Object.keys(this.legend.overlays).forEach(function (name) {
      var layer = self.layers[name];
      if (!layer) return;
      self.control.addOverlay(layer, name);
      if (self.legend.overlays[name]) layer.addTo(map);
    });
    this.data.credits.forEach(function (c) { map.attributionControl.addAttribution(escapeHtml(c[0])); });
    map.createPane("mda-labels").style.zIndex = 450;  // over zones and tracks, under markers
    this.labelLayer = L.layerGroup().addTo(map);
    map.on("zoomend moveend overlayadd overlayremove", function () { self.placeLabels(); });
  };

  /* ---- time slider: replay tracks and alerts up to a moment ---- */
  MdaReport.prototype.addTimeSlider = function () {
    var self = this, period = this.data.header.period;
    if (period[0] === null || period[0] === period[1]) return;
    var Slider = L.Control.extend({
      onAdd: function () {
        var out = el("span", { class: "mda-time-label" }, [fmtTime(period[1])]);
        var input = el("input", { type: "range", min: period[0], max: period[1], value: period[1],
          step: Math.max(1, Math.round((period[1] - period[0]) / 400)) });
        var btn = el("button", { type: "button", title: "Replay" }, ["▶"]);
        var timer = null;
        function apply() { var t = +input.value; out.textContent = fmtTime(t); self.setTime(t); }
        input.addEventListener("input", apply);
        btn.addEventListener("click", function () {
          if (timer) { clearInterval(timer); timer = null; btn.textContent = "▶"; return; }
          if (+input.value >= period[1]) input.value = period[0];
          btn.textContent = "❚❚";
          timer = setInterval(function () {
            input.value = Math.min(period[1], +input.value + (period[1] - period[0]) / 120);
            apply();
            if (+input.value >= period[1]) { clearInterval(timer); timer = null; btn.textContent = "▶"; }
          }, 100);
        });
        var box = el("div", { class: "mda-time leaflet-bar" }, [btn, input, out]);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        self.timeInput = input;
        return box;
      }
    });
    new Slider({ position: "bottomleft" }).addTo(this.map);
  };

  MdaReport.prototype.setTime = function (t) {
    var a = this.data.alerts;
    this.tracks.forEach(function (tk) {
      var until = t >= tk.last ? Infinity : t;
      if (until === tk.until) return;
      tk.until = until;
      var parts = [];
      for (var i = 0; i < tk.parts.length && tk.times[i][0] <= t; i++) {
        var times = tk.times[i], k = times.length;
        while (k > 0 && times[k - 1] > t) k--;  // vertices up to time t
        parts.push(k === times.length ? tk.parts[i] : tk.parts[i].slice(0, k));
      }
      tk.layer.setLatLngs(parts);
    });
    var add = [], rem = [];
    for (var j = 0; j < this.alertMarkers.length; j++) {
      var m = this.alertMarkers[j], vis = a.start[j] === null || a.start[j] <= t;
      var on = m._mdaGroup.hasLayer(m), clustered = m._mdaGroup === this.cluster;
      if (vis && !on) { if (clustered) add.push(m); else this.severe.addLayer(m); }
      else if (!vis && on) { if (clustered) rem.push(m); else this.severe.removeLayer(m); }
    }
    if (rem.length) this.cluster.removeLayers(rem);
    if (add.length) this.cluster.addLayers(add);
  };

  MdaReport.prototype.recolor = function () {
    var self = this;
    this.tracks.forEach(function (t) { t.layer.setStyle({ color: self.trackColor(t) }); });
    var latest = this.layers["Latest positions"], on = this.map.hasLayer(latest);
    if (on) this.map.removeLayer(latest);
    this.drawLatest();
    if (on) this.layers["Latest positions"].addTo(this.map);
    this.control.removeLayer(latest);
    this.control.addOverlay(this.layers["Latest positions"], "Latest positions");
  };

  /* ---- side panel: header, legend, thresholds, alert table ---- */
  MdaReport.prototype.buildPanel = function () {
    var h = this.data.header, lg = this.legend;
    document.title = h.title;
    var side = el("aside", { id: "mda-side" });
    var counts = el("div", { class: "mda-counts" }, [
      el("div", {}, [el("b", {}, [fmtNum(h.vessels)]), " vessels"]),
      el("div", {}, [el("b", {}, [fmtNum(h.positions)]), " positions"]),
      el("div", {}, [el("b", {}, [fmtNum(h.alerts)]), " alerts"])
    ]);
    var chips = el("div", { class: "mda-chips" });
    Object.keys(h.by_severity).forEach(function (s) {
      chips.appendChild(el("span", { class: "mda-chip", style: "background:" + (lg.severity_colors[s] || "#555") },
        [s + " " + h.by_severity[s]]));
    });
    Object.keys(h.by_type).forEach(function (t) {
      chips.appendChild(el("span", { class: "mda-chip mda-chip-type" }, [label(t) + " " + h.by_type[t]]));
    });
    side.appendChild(el("header", { class: "mda-head" }, [
      el("h1", {}, [h.title]),
      el("div", { class: "mda-period" }, [fmtTime(h.period[0]) + " → " + fmtTime(h.period[1])]),
      h.sources.length ? el("div", { class: "mda-sources" }, ["Sources: " + h.sources.join(", ")]) : null,
      Object.keys(h.not_drawn).length ? el("div", { class: "mda-sources mda-not-drawn" }, [
        "Not drawn (report limits): " + Object.keys(h.not_drawn).map(function (k) {
          return fmtNum(h.not_drawn[k]) + " " + k;
        }).join(", ")]) : null,
      counts, chips,
      this.data.credits.length ? el("div", { class: "mda-credits" }, this.data.credits.map(function (c) {
        return el("div", {}, [c[1]]);
      })) : null
    ]));
    if (this.data.story) side.appendChild(this.buildStory());
    side.appendChild(this.buildLegend());
    side.appendChild(this.buildFeed());
    var th = el("details", { class: "mda-box" }, [el("summary", {}, ["Thresholds in force"])]);
    var sections = Object.keys(h.thresholds);
    if (!sections.length) th.appendChild(el("p", { class: "mda-muted" }, ["No alerts, no thresholds recorded."]));
    sections.forEach(function (sec) {
      var rows = Object.keys(h.thresholds[sec]).map(function (k) { return [label(k), fmtValue(h.thresholds[sec][k])]; });
      th.appendChild(infoTable(label(sec), rows));
    });
    side.appendChild(th);
    side.appendChild(this.buildTable());
    document.body.appendChild(side);
    document.body.classList.add("mda-page");
  };

  /* The story of a demo: named views one click away (each fits the map to its area) and what
   * happened, in order. All text by textContent. */
  MdaReport.prototype.buildStory = function () {
    var self = this, st = this.data.story;
    var box = el("section", { class: "mda-box mda-story", id: "mda-story" }, [el("h2", {}, ["The story"])]);
    var views = el("div", { class: "mda-views" }, [el("button", { type: "button", class: "mda-view",
      id: "mda-view-all", onclick: function () { self.fit(); } }, ["Whole area"])]);
    st.views.forEach(function (v, i) {
      views.appendChild(el("button", { type: "button", class: "mda-view", id: "mda-view-" + i, onclick: function () {
        self.map.fitBounds(v.bounds, { padding: [16, 16] });
      } }, [v.name]));
    });
    box.appendChild(views);
    if (st.narrative.length) box.appendChild(el("ol", { class: "mda-narrative" }, st.narrative.map(function (t) {
      return el("li", {}, [t]);
    })));
    if (st.partners_label) box.appendChild(el("div", { class: "mda-legend-row" }, [el("span", { class: "mda-key" }, [
      el("i", { class: "mda-swatch", style: "background:" + this.legend.land.partner }), st.partners_label])]));
    return box;
  };

  /* Feed health: when the whole feed was silent (outages) and how many fixes were left out for a
   * stale time stamp. Facts about the feed, never vessel alerts. A row replays the map to its start. */
  MdaReport.prototype.buildFeed = function () {
    var self = this, f = this.data.feed, o = f.listed;
    var box = el("section", { class: "mda-box", id: "mda-feed" }, [el("h2", {}, ["Feed outages (" + fmtNum(f.outages) + ")"])]);
    box.appendChild(el("p", { class: "mda-muted" }, [f.outages
      ? fmtNum(f.outage_hours) + " h in which the feed heard no vessel, or a small fraction of its usual traffic: " +
        "a receiver or data outage, not vessel behaviour."
      : "No feed outages: the feed was heard throughout."]));
    if (o.start.length) {
      var body = el("tbody");
      for (var i = 0; i < o.start.length; i++) {
        var tr = el("tr", { class: "mda-outage" }, [el("td", {}, [fmtTime(o.start[i])]),
          el("td", {}, [fmtTime(o.end[i])]), el("td", {}, [fmtValue(o.hours[i])])]);
        tr._mdaT = o.start[i];
        tr.addEventListener("click", function () {
          if (!self.timeInput) return;
          self.timeInput.value = this._mdaT;
          self.timeInput.dispatchEvent(new Event("input"));
        });
        body.appendChild(tr);
      }
      var head = el("tr", {}, [el("th", {}, ["Start"]), el("th", {}, ["End"]), el("th", {}, ["Hours"])]);
      box.appendChild(el("div", { class: "mda-table-scroll mda-feed-scroll" }, [
        el("table", { class: "mda-table", id: "mda-outage-table" }, [el("thead", {}, [head]), body])]));
    }
    box.appendChild(el("p", { class: "mda-muted", id: "mda-artefacts" }, [fmtNum(f.artefacts) +
      " fix(es) left out for a stale time stamp (layer “Receiver artefacts”)."]));
    return box;
  };

  MdaReport.prototype.buildLegend = function () {
    var self = this, lg = this.legend, box = el("section", { class: "mda-box mda-legend" });
    var mode = el("select", { "aria-label": "Colour tracks by" }, [
      el("option", { value: "speed" }, ["speed"]), el("option", { value: "vessel" }, ["vessel"])]);
    mode.addEventListener("change", function () { self.colorBy = mode.value; self.recolor(); });
    box.appendChild(el("div", { class: "mda-legend-row" }, [el("b", {}, ["Tracks"]), " coloured by ", mode]));
    var ramp = el("div", { class: "mda-ramp" });
    lg.speed_colors.forEach(function (c, i) {
      var lo = i ? lg.speed_breaks[i - 1] : 0, hi = lg.speed_breaks[i];
      ramp.appendChild(el("span", {}, [el("i", { style: "background:" + c }), hi === undefined ? "≥" + lo : lo + "–" + hi]));
    });
    box.appendChild(el("div", { class: "mda-legend-row" }, ["Speed (kn) ", ramp]));
    var sev = el("div", { class: "mda-legend-row" }, [el("b", {}, ["Alerts"]), " "]);
    Object.keys(lg.severity_colors).forEach(function (s) {
      sev.appendChild(el("span", { class: "mda-key" }, [el("i", { class: "mda-diamond", style: "background:" + lg.severity_colors[s] }), s]));
    });
    box.appendChild(sev);
    var types = el("div", { class: "mda-legend-row mda-glyphs" });
    Object.keys(lg.type_glyphs).forEach(function (t) {
      types.appendChild(el("span", { class: "mda-key" }, [el("b", { class: "mda-glyph" }, [lg.type_glyphs[t]]), label(t)]));
    });
    box.appendChild(types);
    var ships = el("div", { class: "mda-legend-row", id: "mda-legend-ships" }, [el("b", {}, ["Vessels"]), " "]);
    Object.keys(lg.ship_groups).forEach(function (g) {
      ships.appendChild(el("span", { class: "mda-key" }, [el("i", { class: "mda-arrow", style: "border-bottom-color:" + lg.ship_groups[g] }), g]));
    });
    if (Object.keys(lg.ship_groups).length) box.appendChild(ships);
    var z = el("div", { class: "mda-legend-row", id: "mda-legend-zones" }, [el("b", {}, ["Zones"]), " "]);
    Object.keys(lg.zones).forEach(function (n) {
      z.appendChild(el("span", { class: "mda-key" }, [el("i", { style: "background:" + lg.zones[n] }), n]));
    });
    z.appendChild(el("span", { class: "mda-key" }, [el("i", { class: "mda-dash" }), "AIS gap"]));
    z.appendChild(el("span", { class: "mda-key" }, [el("i", { style: "background:#7b3294" }), "encounter"]));
    z.appendChild(el("span", { class: "mda-key" }, [el("i", { class: "mda-diamond", style: "border-radius:50%;transform:none;background:" +
      lg.artefact_style.fillColor }), "receiver artefact"]));
    box.appendChild(z);
    return box;
  };

  MdaReport.prototype.buildTable = function () {
    var self = this, a = this.data.alerts, n = a.id.length;
    var wrap = el("section", { class: "mda-box mda-table-box" }, [el("h2", {}, ["Alerts (" + n + ")"])]);
    if (!n) { wrap.appendChild(el("p", { class: "mda-muted" }, ["No alerts in this report."])); this.rows = []; return wrap; }
    function options(values, all) {
      var s = el("select", {}, [el("option", { value: "" }, [all])]);
      values.filter(function (v, i, arr) { return arr.indexOf(v) === i; }).sort().forEach(function (v) {
        s.appendChild(el("option", { value: v }, [label(v)]));
      });
      return s;
    }
    var fType = options(a.type.slice(), "all types"), fSev = options(a.severity.slice(), "all severities");
    fType.id = "mda-filter-type"; fSev.id = "mda-filter-severity";
    var fText = el("input", { type: "search", placeholder: "name or MMSI", id: "mda-filter-text" });
    wrap.appendChild(el("div", { class: "mda-filters" }, [fType, fSev, fText]));
    var sevRank = {}; Object.keys(this.legend.severity_colors).forEach(function (s, i) { sevRank[s] = i; });
    var cols = [
      ["Time", function (i) { return a.start[i]; }, function (i) { return fmtTime(a.start[i]).slice(5, 16); }],
      ["Type", function (i) { return a.type[i]; }, function (i) { return label(a.type[i]); }],
      ["Sev.", function (i) { return sevRank[a.severity[i]]; }, function (i) { return a.severity[i]; }],
      ["Vessel / MMSI", function (i) { return self.nameOf(i); }, function (i) {
        return el("span", {}, [self.nameOf(i) || "(unknown)", el("small", {}, [a.mmsi[i]])]);
      }],
      ["Zone", function (i) { return a.zone[i]; }, function (i) { return a.zone[i]; }],
      ["State", function (i) { return self.stateOf(i); }, function (i) { return self.stateOf(i); }]
    ];
    var table = el("table", { class: "mda-table", id: "mda-alert-table" });
    var head = el("tr"), body = el("tbody");
    var sort = this.data.story ? { col: 0, dir: 1 } : { col: 2, dir: -1 };  // a story in time order, else most severe first
    this.rows = [];
    for (var i = 0; i < n; i++) {
      var tr = el("tr", { id: "mda-row-" + i, "data-type": a.type[i], "data-severity": a.severity[i] });
      cols.forEach(function (c, k) {
        var v = c[2](i), td = el("td", { class: "mda-c" + k, title: v.textContent || String(v) }, [v]);
        if (k === 2) td.insertBefore(el("i", { class: "mda-dot", style: "background:" + (self.legend.severity_colors[a.severity[i]] || "#555") }), td.firstChild);
        tr.appendChild(td);
      });
      tr._mdaIdx = i;
      tr.addEventListener("click", function () { self.zoomTo(this._mdaIdx); });
      this.rows.push(tr);
    }
    function render() {
      var t = fType.value, s = fSev.value, q = fText.value.trim().toLowerCase();
      var key = cols[sort.col][1];
      var idx = self.rows.map(function (r) { return r._mdaIdx; });
      idx.sort(function (x, y) {
        var kx = key(x), ky = key(y);
        return (kx > ky ? 1 : kx < ky ? -1 : 0) * sort.dir || a.start[x] - a.start[y];
      });
      while (body.firstChild) body.removeChild(body.firstChild);
      idx.forEach(function (i) {
        var ok = (!t || a.type[i] === t) && (!s || a.severity[i] === s) &&
          (!q || self.nameOf(i).toLowerCase().indexOf(q) >= 0 || String(a.mmsi[i]).indexOf(q) >= 0);
        if (ok) body.appendChild(self.rows[i]);
      });
    }
    cols.forEach(function (c, k) {
      head.appendChild(el("th", { onclick: function () {
        sort.dir = sort.col === k ? -sort.dir : 1; sort.col = k; render();
      } }, [c[0]]));
    });
    table.appendChild(el("thead", {}, [head]));
    table.appendChild(body);
    [fType, fSev].forEach(function (f) { f.addEventListener("change", render); });
    fText.addEventListener("input", render);
    render();
    wrap.appendChild(el("div", { class: "mda-table-scroll" }, [table]));
    return wrap;
  };

  MdaReport.prototype.nameOf = function (i) {
    var a = this.data.alerts;
    return (this.vessels[a.mmsi[i]] || {}).name || a.name[i] || "";
  };

  MdaReport.prototype.zoomTo = function (i) {
    var a = this.data.alerts, self = this, m = this.alertMarkers[i];
    this.rows.forEach(function (r) { r.classList.remove("mda-selected"); });
    this.rows[i].classList.add("mda-selected");
    if (this.timeInput && +this.timeInput.value < this.data.header.period[1]) {
      this.timeInput.value = this.data.header.period[1];
      this.setTime(this.data.header.period[1]);
    }
    if (!this.map.hasLayer(m._mdaGroup)) m._mdaGroup.addTo(this.map);
    this.map.setView([a.lat[i], a.lon[i]], Math.max(this.map.getZoom(), 11));
    if (m._mdaGroup === this.cluster) this.cluster.zoomToShowLayer(m, function () { m.openPopup(); });
    else m.openPopup();
    this.highlight(a.mmsi[i]);
    self.selected = i;
  };

  /* One vessel picked (an alert, its table row, its track or its latest position): its track
   * drawn bold on top, the others faded, its alerts ringed on the map and marked in the table.
   * null (a click on the map) clears it. */
  MdaReport.prototype.highlight = function (mmsi) {
    var a = this.data.alerts, on = mmsi !== null && mmsi !== undefined;
    this.highlighted = on ? mmsi : null;
    this.tracks.forEach(function (t) {
      var mine = t.mmsi === mmsi;
      t.layer.setStyle({ weight: mine ? 4.5 : 2.2, opacity: !on || mine ? (mine ? 1 : 0.85) : 0.25 });
      if (mine) t.layer.bringToFront();
    });
    for (var i = 0; i < this.alertMarkers.length; i++) {
      var related = on && (a.mmsi[i] === mmsi || a.other_mmsi[i] === mmsi), m = this.alertMarkers[i];
      m._mdaRelated = related;
      if (m._icon) L.DomUtil[related ? "addClass" : "removeClass"](m._icon, "mda-related");
      if (this.rows && this.rows[i]) this.rows[i].classList.toggle("mda-related", related);
    }
  };

  MdaReport.prototype.showRow = function (i) {
    var r = this.rows[i];
    this.rows.forEach(function (x) { x.classList.remove("mda-selected"); });
    r.classList.add("mda-selected");
    r.scrollIntoView({ block: "center" });
  };

  MdaReport.prototype.fit = function () {
    var b = this.data.bounds;
    this.map.invalidateSize();  // the side panel narrowed the map
    if (!b) { this.map.setView([30, 20], 2); return; }
    if (b[0][0] === b[1][0] && b[0][1] === b[1][1]) this.map.setView(b[0], 10);
    else this.map.fitBounds(b, { padding: [24, 24], maxZoom: 12 });
  };

  window.MDA = {
    init: function (map, control, data) {
      if (!data.tiles) map.setMaxZoom(18);  // no tile layer offline
      var r = new MdaReport(map, control, data);
      r.timings = {};  // milliseconds per step, read by scripts/bench_report.py
      ["buildPanel", "drawLand", "drawZones", "drawTracks", "drawLatest", "drawAlerts", "drawHeat",
        "drawArtefacts", "addControls", "addTimeSlider", "fit", "placeLabels"].forEach(function (step) {
        var t = performance.now();
        r[step]();
        r.timings[step] = Math.round(performance.now() - t);
      });
      window.mdaReport = r;
      return r;
    }
  };
})();
