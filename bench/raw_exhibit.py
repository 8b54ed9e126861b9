"""The raw-library side of the exhibit benchmark: matplotlib drawing the atlas that
``closuremap exhibit`` draws, with the same texts, but none of closuremap's own work (issue 15:
"a ratio against the raw library doing the same work").

    python bench/raw_exhibit.py WORKSPACE OUT.pdf

Each map sheet, on the same A3 figure with the same map frame, centre and scale as ours, carries:

- every layer's features in view (an STRtree query and ``clip_by_rect``), as collections;
- a label at its representative point, in our label styles and white halo, for every feature our
  atlas names there: each block, each communal area and each door in the view. The position is
  NOT searched for (no candidate positions, no overlap tests, no leaders or numbered key): the
  placement search is closuremap's added value and stays on its side of the ratio;
- BNG grid coordinates on all four edges (the same steps and type), a scale bar with its three
  texts, a north point with its two, a legend of the same entries in the same column;
- a title block of the same lines in the same type sizes.

Then the two table sheets (premises and incidents by month), each with the title block: 53 pages.
The rcParams are ours (TrueType fonts embedded: ``pdf.fonttype`` 42, DejaVu Sans).
"""

from __future__ import annotations

import sys
import textwrap

import numpy as np

A3 = (420.0, 297.0)  # landscape, mm
FRAME_MM = (17.0, 63.0, 327.0, 217.0)  # reports.mapsheet.sheet("A3")'s map frame
MARGIN_MM, TITLE_BLOCK_MM = 12.0, 42.0
SCALES = (500, 1250, 2500, 5000, 10000)
KINDS = (
    "premises",
    "communal_areas",
    "access_routes",
    "entrances",
    "open_space",
    "basemap",
    "addresses",
    "incidents",
    "orders",
)
DRAWN = ("open_space", "basemap", "premises", "access_routes", "communal_areas", "orders")
STYLE = {  # kind: (face, edge, line width)
    "open_space": ("#dcebd3", "#8fb98a", 0.4),
    "basemap": ("#ebe8e2", "#b9b4aa", 0.3),
    "premises": ("#e3e8f6", "#1f3a93", 0.8),
    "access_routes": ("#e2d2ee", "#7b3fa0", 0.4),
    "communal_areas": ("#ffd2a6", "#c25e00", 0.4),
}
#: the label styles and halo of reports.labels (kept in step by hand: this side imports no
#: closuremap code)
LABEL = {
    "premises": {"fontsize": 6.5, "color": "#1f3a93", "weight": "bold"},
    "communal_areas": {"fontsize": 4.6, "color": "#6b3300", "weight": "normal"},
    "entrances": {"fontsize": 4.6, "color": "#1f3a93", "weight": "normal"},
}
HALO = {"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.6}


def fit_scale(width_m: float, height_m: float) -> int:
    need = max(width_m * 1.15 / (FRAME_MM[2] / 1000), height_m * 1.15 / (FRAME_MM[3] / 1000))
    return next((s for s in SCALES if s >= need), SCALES[-1])


def views(layers: dict) -> list[tuple[float, float, int, str]]:
    """(centre east, centre north, scale, title): the overview at 1:1250, then one a block fitted
    to the block, its communal areas and doors (as the exhibit's atlas does)."""
    import shapely

    x0, y0, x1, y1 = layers["orders"].total_bounds
    out = [((x0 + x1) / 2, (y0 + y1) / 2, 1250, "Map of the premises and the closure scope")]
    for _, block in layers["premises"].iterrows():
        parts = [block.geometry]
        for kind in ("communal_areas", "entrances"):
            frame = layers[kind]
            parts += list(frame.geometry[frame["block_id"] == block["block_id"]])
        bx0, by0, bx1, by1 = shapely.GeometryCollection(parts).bounds
        out.append(
            (
                (bx0 + bx1) / 2,
                (by0 + by1) / 2,
                fit_scale(bx1 - bx0, by1 - by0),
                f"Atlas sheet: {block['name']}",
            )
        )
    return out


def _draw_clipped(ax, geoms, kind: str, z: int) -> None:  # noqa: ANN001
    """Polygons as one PathCollection, lines as one LineCollection, points as one scatter."""
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.path import Path

    import shapely

    parts = shapely.get_parts(geoms)
    parts = parts[~shapely.is_empty(parts)]
    kinds = shapely.get_type_id(parts)
    polygons, lines = parts[kinds == 3], parts[(kinds == 1) | (kinds == 2)]
    points = parts[kinds == 0]
    if kind == "orders":
        lines = shapely.get_parts(shapely.boundary(polygons))
        polygons = polygons[:0]
    face, edge, width = STYLE.get(kind, ("white", "#1f3a93", 0.8))
    if len(polygons):
        paths = [
            Path.make_compound_path(
                *[Path(np.asarray(r.coords), closed=True) for r in (p.exterior, *p.interiors)]
            )
            for p in polygons
        ]
        ax.add_collection(
            PathCollection(paths, facecolor=face, edgecolor=edge, linewidth=width, zorder=z)
        )
    if len(lines):
        red = kind == "orders"
        ax.add_collection(
            LineCollection(
                [shapely.get_coordinates(g) for g in lines],
                color="#ff0000" if red else "#cfcac0",
                linewidth=1.5 if red else 2.0,
                zorder=z,
            )
        )
    if len(points):
        xy = shapely.get_coordinates(points)
        ax.scatter(xy[:, 0], xy[:, 1], s=14, color="white", edgecolor=edge, linewidth=0.8, zorder=z)


def _labels(ax, layers: dict, trees: dict, rect: tuple) -> None:  # noqa: ANN001
    """A label at each named feature's representative point, in our styles and halo, no search."""
    import shapely

    view = shapely.box(*rect)
    for kind in ("premises", "communal_areas", "entrances"):
        hit = np.sort(trees[kind].query(view, predicate="intersects"))
        frame = layers[kind].iloc[hit]
        points = shapely.point_on_surface(shapely.clip_by_rect(frame.geometry.values, *rect))
        for text, point in zip(frame["name"].astype(str), points, strict=True):
            ax.text(
                point.x,
                point.y,
                text.replace("$", r"\$"),
                ha="center",
                va="center",
                zorder=12,
                bbox=HALO,
                **LABEL[kind],
            )


def _grid(ax, scale: int, rect: tuple) -> None:  # noqa: ANN001
    """BNG coordinates on all four edges, as reports.mapsheet.grid_ticks."""
    step = 50 if scale <= 1250 else 100 if scale <= 2500 else 250
    xs = list(range(int(np.ceil(rect[0] / step) * step), int(rect[2]) + 1, step))
    ys = list(range(int(np.ceil(rect[1] / step) * step), int(rect[3]) + 1, step))
    ax.set_xticks(xs, [f"E {v:,}" for v in xs], fontsize=5.5)
    ax.set_yticks(ys, [f"N {v:,}" for v in ys], fontsize=5.5, rotation=90, va="center")
    ax.tick_params(direction="in", length=3, width=0.5, top=True, right=True, labeltop=True)
    ax.tick_params(labelright=True, pad=2)


def _scale_bar_and_north(ax, scale: int, rect: tuple) -> None:  # noqa: ANN001
    from matplotlib.patches import FancyArrow, Rectangle

    x0, y0, x1, y1 = rect
    length = max(v for v in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if v <= (x1 - x0) / 5)
    bx, by, h = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05, (y1 - y0) * 0.012
    for i in range(4):
        face = "black" if i % 2 == 0 else "white"
        ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, h, facecolor=face,
                               edgecolor="black", linewidth=0.5, zorder=20))  # fmt: skip
    ax.text(bx, by + h * 1.8, "0", fontsize=6, ha="center", zorder=20)
    ax.text(bx + length, by + h * 1.8, f"{length} m", fontsize=6, ha="center", zorder=20)
    ax.text(bx + length / 2, by - h * 2.2, f"1:{scale}", fontsize=6, ha="center", va="top")
    x, y, n = x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.16, (y1 - y0) * 0.08
    ax.add_patch(FancyArrow(x, y, 0, n, width=n * 0.12, head_width=n * 0.4, head_length=n * 0.35,
                            length_includes_head=True, color="black", zorder=20))  # fmt: skip
    ax.text(x, y + n * 1.15, "N", ha="center", va="bottom", fontsize=9, weight="bold")
    ax.text(x, y - n * 0.15, "grid north", ha="center", va="top", fontsize=5)


def _legend(fig) -> None:  # noqa: ANN001
    """The legend column right of the frame, with our entries."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    left = FRAME_MM[0] + FRAME_MM[2] + 6
    ax = fig.add_axes(
        (left / A3[0], FRAME_MM[1] / A3[1], (A3[0] - left - MARGIN_MM) / A3[0], FRAME_MM[3] / A3[1])
    )
    ax.axis("off")
    handles = [
        Patch(facecolor=STYLE[k][0], edgecolor=STYLE[k][1], label=name)
        for k, name in (
            ("premises", "Block (premises)"),
            ("access_routes", "Access route"),
            ("communal_areas", "Communal area"),
        )
    ]
    scope = Line2D([], [], color="#ff0000", linewidth=1.5, label="Closure scope (edged red)")
    handles.append(scope)
    handles.append(Line2D([], [], marker="o", color="#1f3a93", markerfacecolor="white",
                          linestyle="", label="Entrance"))  # fmt: skip
    ax.legend(handles=handles, loc="upper left", fontsize=6.5, frameon=False, title="Legend",
              title_fontsize=7.5, alignment="left")  # fmt: skip


def _title_block(fig, lines: dict, statement: str, subtitle: str, page: int) -> None:  # noqa: ANN001
    """The title block: our lines, type sizes and rules."""
    ax = fig.add_axes((MARGIN_MM / A3[0], MARGIN_MM / A3[1], (A3[0] - 2 * MARGIN_MM) / A3[0],
                       TITLE_BLOCK_MM / A3[1]))  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axvline(0.22, color="black", linewidth=0.5)
    ax.axvline(0.72, color="black", linewidth=0.5)
    for x, y, text, size, extra in (
        (0.01, 0.8, lines["ref"], 13, {"weight": "bold"}),
        (0.01, 0.55, f"Sheet {page} of {lines['pages']}", 8, {}),
        (0.01, 0.33, statement, 8, {"weight": "bold"}),
        (0.01, 0.12, "Version 1", 7, {}),
        (0.23, 0.85, lines["title"], 10, {"weight": "bold"}),
        (0.23, 0.66, lines["premises"], 7, {}),
        (0.23, 0.49, subtitle, 7, {}),
        (0.23, 0.31, lines["sha"], 5.2, {"family": "DejaVu Sans Mono"}),
        (0.23, 0.06, lines["attribution"], 3.8, {"va": "bottom"}),
        (0.73, 0.8, lines["by"], 8, {}),
        (0.73, 0.6, lines["date"], 8, {}),
        (0.73, 0.4, lines["order"], 8, {}),
        (0.73, 0.18, "Grid: BNG (EPSG:27700)", 6, {}),
    ):
        ax.text(x, y, text, fontsize=size, **{"va": "center", **extra})


def _map_page(pdf, layers: dict, trees: dict, view: tuple, lines: dict, page: int) -> None:  # noqa: ANN001
    """One map sheet: features in view clipped to it, labels, furniture, legend, title block."""
    import matplotlib.pyplot as plt

    import shapely

    cx, cy, scale, title = view
    hw, hh = FRAME_MM[2] / 2000 * scale, FRAME_MM[3] / 2000 * scale
    rect = (cx - hw, cy - hh, cx + hw, cy + hh)
    fig = plt.figure(figsize=(A3[0] / 25.4, A3[1] / 25.4))
    ax = fig.add_axes(
        (FRAME_MM[0] / A3[0], FRAME_MM[1] / A3[1], FRAME_MM[2] / A3[0], FRAME_MM[3] / A3[1])
    )
    ax.set_xlim(rect[0], rect[2])
    ax.set_ylim(rect[1], rect[3])
    ax.set_aspect("equal")
    seen = shapely.box(*rect).buffer(5 * scale / 1000, join_style="mitre")  # our bleed
    for z, kind in enumerate((*DRAWN, "entrances")):
        hit = np.sort(trees[kind].query(seen))
        if len(hit):
            geoms = shapely.clip_by_rect(layers[kind].geometry.values[hit], *seen.bounds)
            _draw_clipped(ax, np.asarray(geoms), kind, z)
    _labels(ax, layers, trees, rect)
    _grid(ax, scale, rect)
    _scale_bar_and_north(ax, scale, rect)
    _legend(fig)
    _title_block(fig, lines, f"Scale 1:{scale} at A3", title, page)
    pdf.savefig(fig)
    plt.close(fig)


def _title_lines(layers: dict, pages: int) -> dict:
    """The title block's words: the same strings (and so the same glyph count) as ours."""
    import hashlib

    import shapely

    order = layers["orders"].iloc[0]
    wkb = shapely.to_wkb(shapely.set_precision(order.geometry, 0.001), byte_order=1)
    names = ", ".join(layers["premises"]["name"])
    return {
        "ref": "Exhibit BENCH/1",
        "pages": pages,
        "title": textwrap.shorten(str(order["name"]), 90),
        "premises": textwrap.shorten(f"Premises: {names}", 110),
        "sha": f"Scope SHA-256: {hashlib.sha256(wkb).hexdigest()}",
        "attribution": "\n".join(textwrap.wrap("Synthetic estate for the exhibit benchmark", 212)),
        "by": "Prepared by: bench",
        "date": "Date: 29 November 2026",
        "order": f"Order: {order['order_id']}",
    }


def _table_pages(pdf, layers: dict, lines: dict, first: int) -> None:  # noqa: ANN001
    """The premises table and the incidents by month, each under the title block."""
    import matplotlib.pyplot as plt
    import pandas as pd

    fig = plt.figure(figsize=(A3[0] / 25.4, A3[1] / 25.4))
    ax = fig.add_axes((0.05, 0.2, 0.9, 0.75))
    ax.axis("off")
    table = layers["premises"][["block_id", "name", "address", "floors"]].astype(str)
    ax.table(cellText=table.values.tolist(), colLabels=list(table.columns), loc="upper left")
    _title_block(fig, lines, "Not to scale: schedule", "Premises schedule", first)
    pdf.savefig(fig)
    plt.close(fig)
    fig = plt.figure(figsize=(A3[0] / 25.4, A3[1] / 25.4))
    ax = fig.add_axes((0.08, 0.45, 0.8, 0.45))
    incidents = layers["incidents"]
    month = pd.to_datetime(incidents["occurred_at"]).dt.to_period("M").astype(str)
    pd.crosstab(incidents["category"], month).T.plot(kind="bar", stacked=True, ax=ax)
    _title_block(fig, lines, "Not to scale: summary", "Incident summary", first + 1)
    pdf.savefig(fig)
    plt.close(fig)


def raw(workspace: str, out: str) -> None:
    """The raw libraries' atlas: pyogrio reads, matplotlib draws every sheet clipped to its view."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["pdf.fonttype"] = 42
    matplotlib.rcParams["ps.fonttype"] = 42
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    from matplotlib.backends.backend_pdf import PdfPages

    import pyogrio
    import shapely

    layers = {k: pyogrio.read_dataframe(workspace, layer=k) for k in KINDS}
    trees = {k: shapely.STRtree(f.geometry.values) for k, f in layers.items()}
    sheets = views(layers)
    lines = _title_lines(layers, len(sheets) + 2)
    with PdfPages(out) as pdf:
        for page, view in enumerate(sheets, start=1):
            _map_page(pdf, layers, trees, view, lines, page)
        _table_pages(pdf, layers, lines, len(sheets) + 1)


if __name__ == "__main__":
    raw(sys.argv[1], sys.argv[2])
