"""GIS-ready tables: alerts, positions and track points as GeoDataFrames in EPSG:4326.

The pipeline moves plain DataFrames with ``lat``/``lon`` columns (cheap to build, filter and
store); these helpers add a Point geometry when a GIS needs one (``.to_crs``, ``.to_file``,
``.to_parquet`` as GeoParquet, spatial joins). Rows without a fix get a missing geometry, never a
point at (0, 0). :func:`alert_style_qml` is the QGIS layer style written beside alert GeoPackages.
"""

from __future__ import annotations

from html import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mda import schema

#: Coordinate reference system of every table mda writes: WGS84 longitude/latitude.
CRS = "EPSG:4326"


def points_gdf(df: pd.DataFrame, *, lon: str = "lon", lat: str = "lat") -> gpd.GeoDataFrame:
    """`df` (copied) with a Point geometry from its `lon`/`lat` columns, in EPSG:4326."""
    x = df[lon].to_numpy(dtype="float64", na_value=np.nan)
    y = df[lat].to_numpy(dtype="float64", na_value=np.nan)
    geometry = shapely.points(x, y)
    geometry[np.isnan(x) | np.isnan(y)] = None
    return gpd.GeoDataFrame(df.copy(), geometry=gpd.GeoSeries(geometry, index=df.index), crs=CRS)


def alerts_gdf(alerts: pd.DataFrame) -> gpd.GeoDataFrame:
    """Alerts (schema.ALERTS, extra columns such as status kept) as Points at each alert."""
    return points_gdf(schema.conform(alerts, schema.ALERTS))


def positions_gdf(positions: pd.DataFrame) -> gpd.GeoDataFrame:
    """Positions or track points (any table with lat/lon) as Points at each fix."""
    return points_gdf(positions)


def alert_style_qml() -> str:
    """A QGIS layer style (.qml) for alert layers: points categorised by ``severity``.

    Built only from the fixed severities and report colours, never from layer content.
    """
    from mda.report.styles import SEVERITY_COLORS

    categories, symbols = [], []
    for i, severity in enumerate(schema.SEVERITIES):
        rgb = ",".join(str(int(SEVERITY_COLORS[severity][k : k + 2], 16)) for k in (1, 3, 5))
        size = 2.0 + 0.8 * i
        value = escape(severity, quote=True)
        categories.append(f'<category value="{value}" label="{value}" symbol="{i}" render="true"/>')
        symbols.append(
            f'<symbol type="marker" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
            '<Option type="Map">'
            f'<Option type="QString" name="color" value="{rgb},255"/>'
            '<Option type="QString" name="name" value="circle"/>'
            '<Option type="QString" name="outline_color" value="35,35,35,255"/>'
            '<Option type="QString" name="outline_width" value="0.2"/>'
            f'<Option type="QString" name="size" value="{size:.1f}"/>'
            '<Option type="QString" name="size_unit" value="MM"/>'
            "</Option></layer></symbol>"
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.28" styleCategories="Symbology">\n'
        '  <renderer-v2 type="categorizedSymbol" attr="severity" symbollevels="0" '
        'enableorderby="0" forceraster="0">\n'
        f"    <categories>{''.join(categories)}</categories>\n"
        f"    <symbols>{''.join(symbols)}</symbols>\n"
        "  </renderer-v2>\n"
        "</qgis>\n"
    )
