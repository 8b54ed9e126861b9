"""Map layers made ready once and drawn on every map sheet of a document: only what is in its view.

An atlas draws the same layers on fifty or more sheets. Each layer is split here, once, into its
polygons, lines and points; each polygon's matplotlib path is built once; and an STRtree over each
answers which features a sheet's view touches. A sheet then adds one collection per style with just
those features: what lies outside the frame would be clipped away anyway, so the sheet looks the
same while its PDF carries (and its renderer walks) only what is seen.

The collections are those geopandas' ``GeoDataFrame.plot`` makes with the same style keywords (one
collection per geometry type, multi-part features split into their parts), without its redraw of
the whole figure after every layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import Collection, LineCollection, PathCollection
from matplotlib.path import Path

import geopandas as gpd
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from closuremap.layers.styles import BASEMAP, basemap_style

#: How far past the frame (paper mm) a feature is still drawn: a door symbol or a thick line just
#: outside the frame shows its edge inside it.
BLEED_MM = 5.0


def _parts(geoms: np.ndarray) -> np.ndarray:
    """Single-part geometries, collections and multi-parts split, empties and None dropped."""
    parts = shapely.get_parts(shapely.get_parts(np.asarray(geoms, dtype=object)))
    return parts[~shapely.is_empty(parts)]


def _polygon_path(polygon: Polygon) -> Path:
    """The polygon's rings as one compound path (as geopandas draws a polygon)."""
    rings = [polygon.exterior, *polygon.interiors]
    return Path.make_compound_path(
        *(Path(np.asarray(ring.coords)[:, :2], closed=True) for ring in rings)
    )


def _in(tree: shapely.STRtree, view: BaseGeometry) -> np.ndarray:
    """Indices (in layer order) of the features whose bounding box meets the view."""
    return np.sort(tree.query(view))


@dataclass
class StyledLayer:
    """Features drawn in one style: their parts by type, each type with its own STRtree."""

    style: dict[str, Any]
    polygons: np.ndarray
    lines: np.ndarray
    points: np.ndarray
    paths: list[Path] = field(default_factory=list)
    segments: list[np.ndarray] = field(default_factory=list)
    trees: dict[str, shapely.STRtree] = field(default_factory=dict)

    @classmethod
    def of(cls, geoms: np.ndarray | gpd.GeoSeries, **style: Any) -> StyledLayer:
        parts = _parts(np.asarray(geoms, dtype=object))
        kinds = shapely.get_type_id(parts)
        layer = cls(style, parts[kinds == 3], parts[(kinds == 1) | (kinds == 2)], parts[kinds == 0])
        layer.paths = [_polygon_path(p) for p in layer.polygons]
        layer.segments = [shapely.get_coordinates(g) for g in layer.lines]
        for name in ("polygons", "lines", "points"):
            layer.trees[name] = shapely.STRtree(getattr(layer, name))
        return layer

    def draw(self, ax: Axes, view: BaseGeometry) -> list[Collection]:
        """Add this layer's features that meet ``view`` to ``ax``; returns the artists added."""
        style = dict(self.style)
        color = style.pop("color", None)
        markersize = style.pop("markersize", None)
        artists: list[Collection] = []
        hit = _in(self.trees["polygons"], view)
        if len(hit):
            polygons = PathCollection([self.paths[i] for i in hit], facecolor=color, **style)
            artists.append(ax.add_collection(polygons, autolim=False))
        hit = _in(self.trees["lines"], view)
        if len(hit):
            lines = LineCollection([self.segments[i] for i in hit], **style, color=color)
            artists.append(ax.add_collection(lines, autolim=False))
        hit = _in(self.trees["points"], view)
        if len(hit):
            xy = shapely.get_coordinates(self.points[hit])
            size = {} if markersize is None else {"s": markersize}
            artists.append(ax.scatter(xy[:, 0], xy[:, 1], **style, **size, color=color, marker="o"))
        return artists


def _present(frame: gpd.GeoDataFrame | None) -> bool:
    return frame is not None and len(frame) > 0


def basemap_layers(
    basemap: gpd.GeoDataFrame | None, open_space: gpd.GeoDataFrame | None
) -> list[StyledLayer]:
    """Open space, then the basemap by feature class (buildings, streets by width, the rest)."""
    out = []
    if open_space is not None and _present(open_space):
        out.append(
            StyledLayer.of(
                open_space.geometry, color="#dcebd3", edgecolor="#8fb98a", linewidth=0.4, zorder=1
            )
        )
    if basemap is None or not _present(basemap):
        return out
    for cls, group in basemap.groupby("feature_class"):
        style = basemap_style(str(cls))
        if cls == "building":
            kw: dict[str, Any] = {
                "color": "#ebe8e2",
                "edgecolor": "#b9b4aa",
                "linewidth": 0.3,
                "zorder": 1,
            }
        elif str(cls).startswith("street:"):
            kw = {
                "color": "#cfcac0",
                "linewidth": float(BASEMAP.get(str(cls), style).get("weight", 2)) * 0.45,
                "zorder": 2,
                "linestyle": "--" if style.get("dashArray") else "-",
            }
        else:
            kw = {"color": "#8a857a", "linewidth": 0.4, "zorder": 2}
        out.append(StyledLayer.of(group.geometry, **kw))
    return out


@dataclass
class SheetLayers:
    """Every layer of an exhibit, prepared once for all its map sheets, in drawing order."""

    layers: list[StyledLayer]

    def draw(self, ax: Axes, view: BaseGeometry, scale: float) -> list[Collection]:
        """Draw what meets ``view`` (widened by :data:`BLEED_MM` of paper at ``scale``)."""
        seen = view.buffer(BLEED_MM * scale / 1000, join_style="mitre")
        artists: list[Collection] = []
        for layer in self.layers:
            artists.extend(layer.draw(ax, seen))
        return artists
