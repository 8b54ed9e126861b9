"""Incidents on the web map, in tiers by how many there are, so a borough's year still opens.

Up to CLUSTER_ABOVE each incident is drawn with its popup (by :mod:`.webmap`, like any layer);
above it they are clustered in the browser from one compact array (:mod:`.incident_points`), each
popup made only when its point is clicked; above POPUPS_UP_TO the points carry no popups and a grid
of counts (with each square's commonest categories, :mod:`.count_grid`) says what is where; above
GRID_ONLY_ABOVE only the grid is drawn. A heat map is the other choice. Every popup is escaped:
incident text is free text typed by members of the public.
"""

from __future__ import annotations

from collections.abc import Callable

import folium
import numpy as np
import pandas as pd
from folium.plugins import HeatMap
from numpy.typing import NDArray

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG, bng_to_lonlat

from .count_grid import CountGrid
from .incident_points import IncidentPoints
from .map_parts import page_escape, plain_text

#: Above this many incidents the map clusters them instead of drawing each one.
CLUSTER_ABOVE = 3000
COUNT_FILL = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")

#: Above this many incidents the clusters carry no popups (100k popups made a 15 MB page); above
#: GRID_ONLY_ABOVE only the grid of counts is drawn (a million points would not open at all).
POPUPS_UP_TO = 20_000


GRID_ONLY_ABOVE = 200_000


GRID_CELL_M = (
    100.0  # the smallest square; a wide extent gets bigger ones, at most GRID_CELLS of them
)


GRID_CELLS = 5_000


def grid_cell_m(frame: gpd.GeoDataFrame) -> float:
    """The grid's square side: GRID_CELL_M, or wider in 50 m steps so the extent has at most
    GRID_CELLS squares (the page's size is then set by the area, never by the rows)."""
    minx, miny, maxx, maxy = frame.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        return GRID_CELL_M
    side = float(np.sqrt(max(maxx - minx, 1.0) * max(maxy - miny, 1.0) / GRID_CELLS))
    return max(GRID_CELL_M, float(np.ceil(side / 50.0) * 50.0))


def _count_cells(
    frame: gpd.GeoDataFrame, cell_m: float, label: Callable[[str], str] = str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], list[str]]:
    """Each occupied cell's column and row (BNG, in cells), its count, and its three commonest
    categories as words (each name through ``label``); ties by name."""
    geoms = frame.geometry.values
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    ok = np.isfinite(x) & np.isfinite(y)
    ix, iy = np.floor(x[ok] / cell_m).astype(np.int64), np.floor(y[ok] / cell_m).astype(np.int64)
    if not ok.any():
        return ix, iy, ix, []
    # one integer per cell, so counting is bincount rather than a grouped string join
    height = int(iy.max() - iy.min()) + 1
    cell_of, cells = pd.factorize((ix - ix.min()) * height + (iy - iy.min()), sort=True)
    labels = (
        frame["category"].astype(str).to_numpy()[ok]
        if "category" in frame
        else np.full(len(ix), "", dtype=object)
    )
    category_of, names = pd.factorize(labels, sort=True)
    shown = [label(str(name)) for name in names]
    table = np.bincount(
        cell_of * len(names) + category_of, minlength=len(cells) * len(names)
    ).reshape(len(cells), len(names))
    top = np.argsort(-table, axis=1, kind="stable")[:, :3]
    words = [
        ", ".join(f"{shown[c]} {row[c]}".strip() for c in order if row[c])
        for row, order in zip(table.tolist(), top.tolist(), strict=True)
    ]
    return cells // height + ix.min(), cells % height + iy.min(), table.sum(axis=1), words


def incident_grid(frame: gpd.GeoDataFrame, cell_m: float = GRID_CELL_M) -> gpd.GeoDataFrame:
    """Incidents counted in square BNG cells (``count`` and the three commonest ``categories``,
    ties by name): what a map can draw of a borough's year at any zoom."""
    ix, iy, count, words = _count_cells(frame, cell_m)
    boxes = shapely.box(ix * cell_m, iy * cell_m, (ix + 1) * cell_m, (iy + 1) * cell_m)
    return gpd.GeoDataFrame(
        {"count": pd.Series(count, dtype="int64"), "categories": pd.Series(words, dtype=object)},
        geometry=gpd.GeoSeries(boxes, crs=BNG),
    )


def _grid_layer(frame: gpd.GeoDataFrame, title: str, show: bool) -> folium.FeatureGroup:
    cell = grid_cell_m(frame)
    ix, iy, count, words = _count_cells(frame, cell, label=page_escape)
    group = folium.FeatureGroup(name=title.format(cell=cell), show=show)
    if not len(count):
        return group
    edges = np.unique(np.quantile(count, [0.2, 0.4, 0.6, 0.8]))
    bands = np.minimum(np.searchsorted(edges, count, side="right"), len(COUNT_FILL) - 1)
    # each square's corners (anticlockwise from its south-west) straight to WGS84
    east = (ix[:, None] + np.array([0, 1, 1, 0])) * cell
    north = (iy[:, None] + np.array([0, 0, 1, 1])) * cell
    lon, lat = bng_to_lonlat(east.ravel(), north.ravel())
    CountGrid(
        np.stack([lon, lat], axis=-1).reshape(len(count), 4, 2),
        count.tolist(),
        words,
        bands.tolist(),
        cell_m=cell,
        fills=COUNT_FILL,
    ).add_to(group)
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
    # points straight from their coordinates: no WGS84 geometry objects to build and throw away
    geoms = frame.geometry.values
    lon, lat = bng_to_lonlat(shapely.get_x(geoms), shapely.get_y(geoms))
    ok = np.isfinite(lon) & np.isfinite(lat)
    lat, lon = lat[ok], lon[ok]
    if mode == "heat":
        HeatMap(
            np.column_stack([lat, lon]).round(6).tolist(), radius=14, blur=18, min_opacity=0.3
        ).add_to(group)
        return [group]
    if n > POPUPS_UP_TO:  # no popups: 100k of them made a 15 MB page
        IncidentPoints(lat, lon).add_to(group)
        return [
            group,
            _grid_layer(frame, "Incidents per {cell:.0f} m square (click for counts)", show=False),
        ]

    def short(column: str, width: int) -> list[str]:
        if column not in frame:
            return [""] * int(ok.sum())
        return [page_escape(plain_text(v)[:width]) for v in frame[column][ok].tolist()]

    # compact popups, built in the browser only when clicked: full tables made a 40 MB page
    popups = [
        f"<b>{c}</b> {w}<br>{loc}<br>{d}"
        for c, w, loc, d in zip(
            short("category", 40),
            short("occurred_at", 16),
            short("location_text", 60),
            short("description", 80),
            strict=True,
        )
    ]
    IncidentPoints(lat, lon, popups).add_to(group)
    return [group]
