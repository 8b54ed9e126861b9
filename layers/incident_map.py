"""Incidents on the web map, in tiers by how many there are, so a borough's year still opens.

Up to CLUSTER_ABOVE each incident is drawn with its popup (by :mod:`.webmap`, like any layer);
above it they are clustered; above POPUPS_UP_TO the clusters carry no popups and a grid of counts
(with each square's commonest categories) says what is where; above GRID_ONLY_ABOVE only the grid
is drawn. A heat map is the other choice. Every popup is escaped: incident text is free text
typed by members of the public.
"""

from __future__ import annotations

import html

import folium
import numpy as np
import pandas as pd
from folium.plugins import FastMarkerCluster, HeatMap

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG, geometries_to_lonlat

from .map_parts import filled_geojson, plain_text

#: Above this many incidents the map clusters them instead of drawing each one.
CLUSTER_ABOVE = 3000
COUNT_FILL = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")

_CLUSTER_CALLBACK = """function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 4, color: '#8a0000', fillColor: '#e34a33', fillOpacity: 0.7, weight: 1});
    marker.bindPopup(row[2]);
    return marker;
}"""


#: Above this many incidents the clusters carry no popups (100k popups made a 15 MB page); above
#: GRID_ONLY_ABOVE only the grid of counts is drawn (a million points would not open at all).
POPUPS_UP_TO = 20_000


GRID_ONLY_ABOVE = 200_000


GRID_CELL_M = (
    100.0  # the smallest square; a wide extent gets bigger ones, at most GRID_CELLS of them
)


GRID_CELLS = 5_000


_PLAIN_CLUSTER_CALLBACK = """function (row) {
    return L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 3, color: '#8a0000', fillColor: '#e34a33', fillOpacity: 0.7, weight: 1});
}"""


def grid_cell_m(frame: gpd.GeoDataFrame) -> float:
    """The grid's square side: GRID_CELL_M, or wider in 50 m steps so the extent has at most
    GRID_CELLS squares (the page's size is then set by the area, never by the rows)."""
    minx, miny, maxx, maxy = frame.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        return GRID_CELL_M
    side = float(np.sqrt(max(maxx - minx, 1.0) * max(maxy - miny, 1.0) / GRID_CELLS))
    return max(GRID_CELL_M, float(np.ceil(side / 50.0) * 50.0))


def incident_grid(frame: gpd.GeoDataFrame, cell_m: float = GRID_CELL_M) -> gpd.GeoDataFrame:
    """Incidents counted in square BNG cells (``count`` and the three commonest ``categories``):
    what a map can draw of a borough's year at any zoom."""
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    ix, iy = np.floor(x[ok] / cell_m).astype(np.int64), np.floor(y[ok] / cell_m).astype(np.int64)
    cells = pd.DataFrame(
        {
            "ix": ix,
            "iy": iy,
            "category": (
                frame["category"].astype(str).to_numpy()[ok] if "category" in frame else ""
            ),
        }
    )
    by_category = (
        cells.groupby(["ix", "iy", "category"], sort=False).size().rename("n").reset_index()
    )
    by_category = by_category.sort_values(["ix", "iy", "n"], ascending=[True, True, False])
    top = by_category.groupby(["ix", "iy"], sort=False).head(3)
    words = (
        top.assign(text=top["category"] + " " + top["n"].astype(str))
        .groupby(["ix", "iy"], sort=False)["text"]
        .agg(", ".join)
    )
    counts = by_category.groupby(["ix", "iy"], sort=False)["n"].sum()
    out = pd.DataFrame({"count": counts, "categories": words}).reset_index()
    boxes = shapely.box(
        out["ix"] * cell_m, out["iy"] * cell_m, (out["ix"] + 1) * cell_m, (out["iy"] + 1) * cell_m
    )
    return gpd.GeoDataFrame(out[["count", "categories"]], geometry=boxes, crs=BNG)


def _grid_layer(frame: gpd.GeoDataFrame, title: str, show: bool) -> folium.FeatureGroup:
    cell = grid_cell_m(frame)
    grid = incident_grid(frame, cell)
    group = folium.FeatureGroup(name=title.format(cell=cell), show=show)
    if not len(grid):
        return group
    edges = np.unique(np.quantile(grid["count"], [0.2, 0.4, 0.6, 0.8]))
    fills = [
        COUNT_FILL[min(int(np.searchsorted(edges, c, side="right")), len(COUNT_FILL) - 1)]
        for c in grid["count"]
    ]
    boxes = shapely.set_precision(geometries_to_lonlat(grid.geometry.values), 1e-5)  # a metre
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(g),
            "properties": {
                "popup": f"<b>{c:,}</b> in this {cell:.0f} m square<br>{html.escape(w)}",
                "fill": f,
            },
        }
        for g, c, w, f in zip(
            boxes, grid["count"].tolist(), grid["categories"].tolist(), fills, strict=True
        )
    ]
    filled_geojson(features, title, edge="#7f2704", weight=0.3, opacity=0.65).add_to(group)
    return group


def incident_layer(frame: gpd.GeoDataFrame, mode: str, title: str) -> list[folium.FeatureGroup]:
    """Incidents as clusters or a heat map; beyond POPUPS_UP_TO the clusters carry no popups and a
    grid of counts (with its commonest categories) says what is where; beyond GRID_ONLY_ABOVE only
    the grid is drawn. Every popup escaped."""
    group = folium.FeatureGroup(name=title, show=True)
    if not len(frame):
        return [group]
    n = len(frame)
    if mode != "heat" and n > GRID_ONLY_ABOVE:
        return [
            _grid_layer(
                frame,
                title + ": counts per {cell:.0f} m square (filter by date or area to see "
                "each incident)",
                show=True,
            )
        ]
    pts = geometries_to_lonlat(frame.geometry.values)
    lat, lon = shapely.get_y(pts), shapely.get_x(pts)
    if mode == "heat":
        HeatMap(
            np.column_stack([lat, lon]).round(6).tolist(), radius=14, blur=18, min_opacity=0.3
        ).add_to(group)
        return [group]
    if n > POPUPS_UP_TO:  # 5 decimals is a metre: 100k points stay a few MB
        FastMarkerCluster(
            np.column_stack([lat, lon]).round(5).tolist(),
            callback=_PLAIN_CLUSTER_CALLBACK,
            options={"maxClusterRadius": 40},
        ).add_to(group)
        return [
            group,
            _grid_layer(frame, "Incidents per {cell:.0f} m square (click for counts)", show=False),
        ]

    def short(column: str, width: int) -> list[str]:
        if column not in frame:
            return [""] * n
        return [html.escape(plain_text(v)[:width]) for v in frame[column].tolist()]

    # compact popups: full tables would make a 40 MB page
    rows = [
        [round(float(a), 6), round(float(b), 6), f"<b>{c}</b> {w}<br>{loc}<br>{d}"]
        for a, b, c, w, loc, d in zip(
            lat,
            lon,
            short("category", 40),
            short("occurred_at", 16),
            short("location_text", 60),
            short("description", 80),
            strict=True,
        )
    ]
    FastMarkerCluster(rows, callback=_CLUSTER_CALLBACK, options={"maxClusterRadius": 40}).add_to(
        group
    )
    return [group]
