"""One map sheet of the court exhibit: the layers, the scope edged red, the sheet's furniture, the
labels placed clear of each other, and the legend with the key of numbered labels."""

from __future__ import annotations

import re

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
from .mapsheet import SCOPE_COLOUR, SCOPE_WIDTH_PT, Sheet


def label_specs(data: ExhibitInput, view: BaseGeometry) -> list[labels.LabelSpec]:
    """What to name on a map, most important first: the blocks the order touches, then every
    other named block (if there is room), then the touched blocks' communal areas and doors."""
    names = block_labels(data.premises)
    touched = blocks_touched(data)
    ids = set(touched["block_id"]) if "block_id" in touched.columns else set()
    specs: list[labels.LabelSpec] = []
    for idx, row in data.premises.iterrows():
        if not row.geometry.intersects(view):
            continue
        mine = idx in touched.index
        if mine or not re.fullmatch(r"Block \d+", str(names[idx])):
            point = row.geometry.intersection(view).representative_point()
            specs.append(
                labels.LabelSpec(
                    str(names[idx]), (point.x, point.y), "block", row.geometry, required=mine
                )
            )
    specs.sort(key=lambda s: not s.required)
    return (
        specs
        + _part_specs(data.communal_areas, ids, data.scope, view, "communal")
        + _part_specs(data.entrances, ids, data.scope, view, "door")
    )


def _part_specs(
    frame: gpd.GeoDataFrame | None, ids: set, scope: BaseGeometry, view: BaseGeometry, kind: str
) -> list[labels.LabelSpec]:
    """Communal areas (stacked floors of one footprint named together) or doors of the blocks in
    the order, or on its scope, that lie in view."""
    if frame is None or not len(frame):
        return []
    mine = frame[
        (frame.get("block_id", pd.Series(index=frame.index)).isin(ids)) | frame.intersects(scope)
    ]
    mine = mine[mine.intersects(view)]
    groups: dict[bytes, list] = {}
    for row in mine.itertuples():
        key = shapely.to_wkb(shapely.set_precision(row.geometry, 0.5).normalize())
        default = (
            "door"
            if kind == "door"
            else str(getattr(row, "area_type", "") or "communal area").replace("_", " ")
        )
        groups.setdefault(key, []).append(
            (shown_text(getattr(row, "name", None)) or default, row.geometry)
        )
    specs = []
    for members in groups.values():
        geom = members[0][1]
        text = "; ".join(dict.fromkeys(m[0] for m in members))
        p = geom if kind == "door" else geom.intersection(view).representative_point()
        specs.append(labels.LabelSpec(text, (p.x, p.y), kind, None if kind == "door" else geom))
    return specs


def _obstacles(
    ax: Axes, before: tuple[int, int], entrances: gpd.GeoDataFrame | None
) -> list[BaseGeometry]:
    """What labels must not cover, in display units: the scale bar, the north point (everything
    drawn since ``before`` = counts of patches and texts) and every door symbol."""
    renderer = ax.figure.canvas.get_renderer()
    out = []
    for artist in [*ax.patches[before[0] :], *ax.texts[before[1] :]]:
        bb = artist.get_window_extent(renderer)
        out.append(shapely.box(bb.x0, bb.y0, bb.x1, bb.y1))
    if entrances is not None and len(entrances):
        r = 2.4 * ax.figure.dpi / 72  # a door symbol: 14 pt² marker and its edge
        for x, y in ax.transData.transform([(g.x, g.y) for g in entrances.geometry]):
            out.append(shapely.box(x - r, y - r, x + r, y + r))
    return out


def _draw_layers(ax: Axes, data: ExhibitInput) -> list:
    """Blocks, routes, communal areas, the scope edged red and the doors; the legend's handles."""
    data.premises.plot(ax=ax, color="#e3e8f6", edgecolor="#1f3a93", linewidth=0.8, zorder=3)
    handles = [Patch(facecolor="#e3e8f6", edgecolor="#1f3a93", label="Block (premises)")]
    if data.access_routes is not None and len(data.access_routes):
        data.access_routes.plot(
            ax=ax, color="#e2d2ee", edgecolor="#7b3fa0", linewidth=0.4, zorder=4
        )
        handles.append(Patch(facecolor="#e2d2ee", edgecolor="#7b3fa0", label="Access route"))
    if data.communal_areas is not None and len(data.communal_areas):
        data.communal_areas.plot(
            ax=ax, color="#ffd2a6", edgecolor="#c25e00", linewidth=0.4, zorder=5
        )
        handles.append(Patch(facecolor="#ffd2a6", edgecolor="#c25e00", label="Communal area"))
    gpd.GeoSeries([data.scope]).boundary.plot(
        ax=ax, color=SCOPE_COLOUR, linewidth=SCOPE_WIDTH_PT, zorder=8
    )
    handles.append(
        Line2D(
            [], [], color=SCOPE_COLOUR, linewidth=SCOPE_WIDTH_PT, label="Closure scope (edged red)"
        )
    )
    if data.entrances is not None and len(data.entrances):
        data.entrances.plot(
            ax=ax, color="white", edgecolor="#1f3a93", markersize=14, linewidth=0.8, zorder=9
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
    return handles


def draw_map(
    fig: Figure,
    sh: Sheet,
    data: ExhibitInput,
    centre: tuple[float, float],
    scale: int,
    with_labels: bool = True,
) -> labels.Placement:
    """One map sheet's frame, layers, furniture, labels and legend (with the key of numbered
    labels)."""
    ax = mapsheet.map_axes(fig, sh, centre, scale)
    mapsheet.draw_basemap(ax, data.basemap, data.open_space)
    handles = _draw_layers(ax, data)
    before = (len(ax.patches), len(ax.texts))
    mapsheet.furniture(ax, scale)
    placement = labels.Placement(dpi=fig.dpi)
    if with_labels:
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        placement = labels.place_labels(
            ax,
            label_specs(data, shapely.box(x0, y0, x1, y1)),
            scope=data.scope,
            obstacles=_obstacles(ax, before, data.entrances),
        )
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
    return placement


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
            parts.extend(frame[frame["block_id"] == block["block_id"]].geometry)
    minx, miny, maxx, maxy = shapely.GeometryCollection(parts).bounds
    scale = mapsheet.fit_scale((maxx - minx, maxy - miny), (sh.frame[2], sh.frame[3]))
    return ((minx + maxx) / 2, (miny + maxy) / 2), scale
