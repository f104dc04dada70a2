"""Colours, symbols and layer names of the report, in one place so map, legend and tests agree."""

from __future__ import annotations

#: Speed classes for track colouring: upper bounds in knots (last class is open-ended).
SPEED_BREAKS_KN = (2.0, 5.0, 10.0, 15.0, 20.0)
#: One colour per speed class (slow = dark blue ... fast = red), colour-blind-friendly ramp.
SPEED_COLORS = ("#253494", "#2c7fb8", "#41b6c4", "#a1dab4", "#fdae61", "#d7191c")

#: Severity colours, from schema.SEVERITIES order.
SEVERITY_COLORS = {
    "info": "#6c757d",
    "low": "#2b8cbe",
    "medium": "#f39c12",
    "high": "#e4572e",
    "critical": "#8e0c3a",
}

#: A short glyph per alert type, drawn inside the marker (the icon says the type).
TYPE_GLYPHS = {
    "ais_gap": "G",
    "loitering": "L",
    "anchoring": "A",
    "anchor_drag": "D",
    "encounter": "E",
    "position_jump": "J",
    "identity_conflict": "I",
    "zone_entry": "Z",
    "watchlist": "W",
    "port_visit": "P",
}

#: Zone layers: layer name and style per group of kinds.
ZONE_LAYERS = {
    "Ports & anchorages": (
        ("port", "anchorage"),
        {"color": "#1b7837", "weight": 1.5, "fillOpacity": 0.2},
    ),
    "Route corridors": (
        ("route",),
        {"color": "#9e9ac8", "weight": 1, "fillOpacity": 0.08, "dashArray": "3 4"},
    ),
    "Cable corridors": (("cable",), {"color": "#d95f02", "weight": 1.5, "fillOpacity": 0.12}),
    "Restricted areas": (("restricted",), {"color": "#b2182b", "weight": 1.5, "fillOpacity": 0.2}),
}

#: Severities drawn in their own layer, never hidden inside a marker cluster.
UNCLUSTERED = ("high", "critical")

#: Overlays the page script adds to the layer control (name -> shown at start).
OVERLAYS = {
    "Vessel tracks": True,
    "Latest positions": True,
    "High & critical alerts": True,
    "Alerts": True,
    "Gap & encounter lines": True,
    "Traffic density": False,
    "Receiver artefacts": True,
}

#: Fill of a vessel's latest position by ship-type group (shiptypes.SHIP_GROUPS).
SHIP_GROUP_COLORS = {
    "Cargo": "#3a86ff",
    "Tanker": "#d62828",
    "Passenger": "#8338ec",
    "Fishing": "#f4a261",
    "Service": "#2a9d8f",
    "High-speed craft": "#ff66c4",
    "Pleasure & sailing": "#9bd35a",
    "Military & law enforcement": "#3d405b",
    "Other": "#8d99ae",
    "Unknown type": "#ffffff",
}

#: Receiver artefacts (fixes left out for a stale time stamp): small grey dots, facts about the
#: feed, not alerts.
ARTEFACT_STYLE = {"radius": 3, "color": "#555b63", "fillColor": "#9aa1a9", "weight": 1}

#: The offline basemap: land, sea, borders between countries, and the countries a story shades
#: as partners.
LAND_STYLE = {
    "fill": "#f2efe6",
    "stroke": "#b9b3a5",
    "sea": "#cfe2ee",
    "border": "#a59c8a",
    "partner": "#cfe0c3",
}

#: Map labels (zone and country names): drawn from zoom `min_zoom` when the named shape is at
#: least `min_px` pixels across, at most `max` at once, zones first, then the largest; a label
#: that would overlap one already placed is left out.
LABELS = {"min_px": {"zone": 40, "country": 28}, "min_zoom": {"zone": 5, "country": 2}, "max": 80}
