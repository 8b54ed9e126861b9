"""One map sheet of the court exhibit: the layers, the scope edged red, the sheet's furniture, the
labels placed clear of each other, and the legend with the key of numbered labels."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from . import labels, mapsheet
from .exhibit_data import ExhibitInput, block_labels, blocks_touched, shown_text
from .maplayers import SheetLayers, StyledLayer, basemap_layers
from .mapsheet import SCOPE_COLOUR, SCOPE_WIDTH_PT, Sheet


@dataclass
class _Parts:
    """A layer's communal areas or doors that may be named (those of the order's blocks or on its
    scope), each with its grouping key (its shape to 0.5 m) and its words, made once."""

    geoms: np.ndarray
    keys: list[bytes]
    texts: list[str]


@dataclass
class PreparedMap:
    """What every map sheet of one exhibit shares, built once: the layers ready to draw, the
    legend's handles, the names of the blocks, the namable parts, the doors and the text sizes."""

    layers: SheetLayers
    handles: list
    names: pd.Series
    touched: pd.Index
    premises: np.ndarray
    parts: dict[str, _Parts]
    doors: np.ndarray  # (n, 2) easting, northing of every door symbol
    sizes: labels.TextSizes = field(default_factory=labels.TextSizes)


def _parts(frame: gpd.GeoDataFrame | None, ids: set, scope: BaseGeometry, kind: str) -> _Parts:
    """The communal areas (stacked floors of one footprint are named together) or doors of the
    blocks in the order, or on its scope."""
    if frame is None or not len(frame):
        return _Parts(np.empty(0, dtype=object), [], [])
    mine = frame[
        (frame.get("block_id", pd.Series(index=frame.index)).isin(ids)) | frame.intersects(scope)
    ]
    keys, texts = [], []
    for row in mine.itertuples():
        keys.append(shapely.to_wkb(shapely.set_precision(row.geometry, 0.5).normalize()))
        default = (
            "door"
            if kind == "door"
            else str(getattr(row, "area_type", "") or "communal area").replace("_", " ")
        )
        texts.append(shown_text(getattr(row, "name", None)) or default)
    return _Parts(np.asarray(mine.geometry.values, dtype=object), keys, texts)


def prepare_map(data: ExhibitInput) -> PreparedMap:
    """Everything the map sheets of ``data`` share (see :class:`PreparedMap`)."""
    touched = blocks_touched(data)
    ids = set(touched["block_id"]) if "block_id" in touched.columns else set()
    layers, handles = _layers(data)
    doors = (
        shapely.get_coordinates(data.entrances.geometry.values)
        if data.entrances is not None and len(data.entrances)
        else np.empty((0, 2))
    )
    return PreparedMap(
        SheetLayers(layers),
        handles,
        block_labels(data.premises),
        touched.index,
        np.asarray(data.premises.geometry.values, dtype=object),
        {
            "communal": _parts(data.communal_areas, ids, data.scope, "communal"),
            "door": _parts(data.entrances, ids, data.scope, "door"),
        },
        doors,
    )


def label_specs(
    data: ExhibitInput, view: BaseGeometry, prepared: PreparedMap | None = None
) -> list[labels.LabelSpec]:
    """What to name on a map, most important first: the blocks the order touches, then every
    other named block (if there is room), then the touched blocks' communal areas and doors."""
    prep = prepared or prepare_map(data)
    names = prep.names
    specs: list[labels.LabelSpec] = []
    seen = np.flatnonzero(shapely.intersects(prep.premises, view))
    points = shapely.point_on_surface(shapely.intersection(prep.premises[seen], view))
    for i, point in zip(seen, points, strict=True):
        idx = data.premises.index[i]
        mine = idx in prep.touched
        if mine or not re.fullmatch(r"Block \d+", str(names[idx])):
            specs.append(
                labels.LabelSpec(
                    str(names[idx]), (point.x, point.y), "block", prep.premises[i], required=mine
                )
            )
    specs.sort(key=lambda s: not s.required)
    return (
        specs
        + _part_specs(prep.parts["communal"], view, "communal")
        + _part_specs(prep.parts["door"], view, "door")
    )


def _part_specs(parts: _Parts, view: BaseGeometry, kind: str) -> list[labels.LabelSpec]:
    """The parts in view, those of one footprint named together."""
    groups: dict[bytes, list] = {}
    for i in np.flatnonzero(shapely.intersects(parts.geoms, view)):
        groups.setdefault(parts.keys[i], []).append((parts.texts[i], parts.geoms[i]))
    specs = []
    for members in groups.values():
        geom = members[0][1]
        text = "; ".join(dict.fromkeys(m[0] for m in members))
        p = geom if kind == "door" else geom.intersection(view).representative_point()
        specs.append(labels.LabelSpec(text, (p.x, p.y), kind, None if kind == "door" else geom))
    return specs


def _obstacles(ax: Axes, before: tuple[int, int], doors: np.ndarray) -> list[BaseGeometry]:
    """What labels must not cover, in display units: the scale bar, the north point (everything
    drawn since ``before`` = counts of patches and texts) and every door symbol on the map (one
    wholly outside the frame cannot meet a label, which stays inside it)."""
    renderer = ax.figure.canvas.get_renderer()
    out = []
    for artist in [*ax.patches[before[0] :], *ax.texts[before[1] :]]:
        bb = artist.get_window_extent(renderer)
        out.append(shapely.box(bb.x0, bb.y0, bb.x1, bb.y1))
    if len(doors):
        r = 2.4 * ax.figure.dpi / 72  # a door symbol: 14 pt² marker and its edge
        xy = ax.transData.transform(doors)
        bb = ax.get_window_extent()
        near = (
            (xy[:, 0] + r >= bb.x0)
            & (xy[:, 0] - r <= bb.x1)
            & (xy[:, 1] + r >= bb.y0)
            & (xy[:, 1] - r <= bb.y1)
        )
        out.extend(shapely.box(x - r, y - r, x + r, y + r) for x, y in xy[near])
    return out


def _layers(data: ExhibitInput) -> tuple[list[StyledLayer], list]:
    """Open space and basemap, blocks, routes, communal areas, the scope edged red and the doors,
    in drawing order; and the legend's handles."""
    layers = basemap_layers(data.basemap, data.open_space)
    handles: list = []
    filled = (  # frame, fill, edge, line width, zorder, legend label; blocks always have theirs
        (data.premises, "#e3e8f6", "#1f3a93", 0.8, 3, "Block (premises)"),
        (data.access_routes, "#e2d2ee", "#7b3fa0", 0.4, 4, "Access route"),
        (data.communal_areas, "#ffd2a6", "#c25e00", 0.4, 5, "Communal area"),
    )
    for frame, fill, edge, width, z, label in filled:
        if frame is not data.premises and (frame is None or not len(frame)):
            continue
        layers.append(
            StyledLayer.of(frame.geometry, color=fill, edgecolor=edge, linewidth=width, zorder=z)
        )
        handles.append(Patch(facecolor=fill, edgecolor=edge, label=label))
    layers.append(
        StyledLayer.of(
            [data.scope.boundary], color=SCOPE_COLOUR, linewidth=SCOPE_WIDTH_PT, zorder=8
        )
    )
    handles.append(
        Line2D(
            [], [], color=SCOPE_COLOUR, linewidth=SCOPE_WIDTH_PT, label="Closure scope (edged red)"
        )
    )
    if data.entrances is not None and len(data.entrances):
        layers.append(
            StyledLayer.of(
                data.entrances.geometry,
                color="white",
                edgecolor="#1f3a93",
                markersize=14,
                linewidth=0.8,
                zorder=9,
            )
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                color="#1f3a93",
                markerfacecolor="white",
                linestyle="",
                label="Entrance",
            )
        )
    return layers, handles


def draw_map(
    fig: Figure,
    sh: Sheet,
    data: ExhibitInput,
    centre: tuple[float, float],
    scale: int,
    with_labels: bool = True,
    prepared: PreparedMap | None = None,
) -> labels.Placement:
    """One map sheet's frame, layers (only what is in its view), furniture, labels and legend
    (with the key of numbered labels). ``prepared``: what the sheets of one exhibit share."""
    prep = prepared or prepare_map(data)
    ax = mapsheet.map_axes(fig, sh, centre, scale)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    prep.layers.draw(ax, view, scale)
    before = (len(ax.patches), len(ax.texts))
    mapsheet.furniture(ax, scale)
    placement = labels.Placement(dpi=fig.dpi)
    if with_labels:
        placement = labels.place_labels(
            ax,
            label_specs(data, view, prep),
            scope=data.scope,
            obstacles=_obstacles(ax, before, prep.doors),
            sizes=prep.sizes,
        )
    _legend(fig, sh, prep.handles, placement)
    return placement


def _legend(fig: Figure, sh: Sheet, handles: list, placement: labels.Placement) -> None:
    """The legend in the column right of the frame, and under it the key of numbered labels."""
    legend_ax = fig.add_axes(
        (
            (sh.frame[0] + sh.frame[2] + 6) / sh.width_mm,
            sh.frame[1] / sh.height_mm,
            (sh.width_mm - sh.frame[0] - sh.frame[2] - 6 - mapsheet.MARGIN_MM) / sh.width_mm,
            sh.frame[3] / sh.height_mm,
        )
    )
    legend_ax.axis("off")
    legend = legend_ax.legend(
        handles=handles,
        loc="upper left",
        fontsize=6.5,
        frameon=False,
        title="Legend",
        title_fontsize=7.5,
        alignment="left",
    )
    if placement.key:
        renderer = fig.canvas.get_renderer()
        bottom = legend_ax.transAxes.inverted().transform(legend.get_window_extent(renderer))[0][1]
        width_mm = sh.width_mm - sh.frame[0] - sh.frame[2] - 6 - mapsheet.MARGIN_MM
        labels.draw_key(
            legend_ax,
            placement.key,
            top=bottom - 0.03,
            width_mm=width_mm,
            height_mm=sh.frame[3] * (bottom - 0.03),
        )


def atlas_view(
    data: ExhibitInput, block: gpd.GeoSeries | pd.Series, sh: Sheet
) -> tuple[tuple[float, float], int]:
    """Centre and scale of a block's atlas sheet: the block with its doors and communal areas, at
    the largest standard scale that fits (so the sheet shows more than the overview, not the
    same)."""
    parts = [block.geometry]
    for frame in (data.communal_areas, data.entrances):
        if (
            frame is not None
            and len(frame)
            and "block_id" in frame.columns
            and "block_id" in block.index
        ):
            mask = (frame["block_id"] == block["block_id"]).to_numpy()
            parts.extend(frame.geometry.values[mask])  # the array, not a filtered frame: faster
    minx, miny, maxx, maxy = shapely.GeometryCollection(parts).bounds
    scale = mapsheet.fit_scale((maxx - minx, maxy - miny), (sh.frame[2], sh.frame[3]))
    return ((minx + maxx) / 2, (miny + maxy) / 2), scale
