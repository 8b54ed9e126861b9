"""The court map exhibit: an order's scope edged red on a map at a stated metric scale, with the
premises schedule and an incident summary, a title block on every sheet.

Conventions follow HM Land Registry plans (Practice Guide 40): a stated metric scale (1:500, 1:1250,
1:2500), a north point, the boundary edged red, plus an exhibit reference on each sheet, date,
version and the data attributions (closure-powers.md §3). The SHA-256 of the scope ties the paper
to the exact geometry in the workspace.
"""

from __future__ import annotations

import hashlib
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from closuremap.geo.incidents import EVIDENCE_REACH_M, filter_incidents, incident_dates

from . import labels, mapsheet
from .atomic import atomic_path
from .mapsheet import MM_PER_INCH, SCOPE_COLOUR, SCOPE_WIDTH_PT, Sheet, plain


@dataclass
class ExhibitInput:
    """What the exhibit shows, all in BNG."""

    title: str
    scope: BaseGeometry
    premises: gpd.GeoDataFrame
    communal_areas: gpd.GeoDataFrame | None = None
    access_routes: gpd.GeoDataFrame | None = None
    entrances: gpd.GeoDataFrame | None = None
    open_space: gpd.GeoDataFrame | None = None
    basemap: gpd.GeoDataFrame | None = None
    addresses: gpd.GeoDataFrame | None = None
    incidents: gpd.GeoDataFrame | None = None
    attribution: Sequence[str] = ()
    order_id: str | None = None


@dataclass
class ExhibitOptions:
    exhibit_ref: str
    prepared_by: str
    prepared_on: date
    version: int = 1
    paper: str = "A4"
    orientation: str = "landscape"
    scale: int | None = None  # None: fit, rounded to a standard scale
    atlas: bool = False
    evidence_from: date | None = None
    evidence_to: date | None = None


@dataclass
class ExhibitResult:
    path: Path
    pages: int
    scale: int
    sheet: Sheet
    scope_sha256: str
    map_pages: list[int] = field(default_factory=list)
    sheets: list[SheetRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings for the user (e.g. no attribution)

    @property
    def scale_statement(self) -> str:
        return f"Scale 1:{self.scale} at {self.sheet.paper}"


def scope_sha256(scope: BaseGeometry) -> str:
    """SHA-256 of the scope's WKB (little-endian, 2D, BNG coordinates rounded to the millimetre)."""
    fixed = shapely.set_precision(scope, 0.001)
    return hashlib.sha256(shapely.to_wkb(fixed, byte_order=1, output_dimension=2)).hexdigest()


def _blocks_touched(data: ExhibitInput) -> gpd.GeoDataFrame:
    p = data.premises
    touched = p[p.intersection(data.scope).area > 0.5]
    if data.communal_areas is not None and len(data.communal_areas) and "block_id" in p.columns:
        ids = set(
            data.communal_areas[data.communal_areas.intersection(data.scope).area > 0.1]["block_id"]
        )
        touched = p[p.index.isin(touched.index) | p["block_id"].isin(ids)]
    return touched


_OSM_ID = re.compile(
    r"^\s*(?:(?:way|node|relation|[wnr])\s*/?\s*)?-?\d+(?:\.0)?\s*$", re.IGNORECASE
)


def _clean(value: object) -> str | None:
    """A text value, or None for blanks, NaN and None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text if text and text.lower() not in ("nan", "none", "<na>") else None


def block_labels(premises: gpd.GeoDataFrame) -> pd.Series:
    """What each block is called on the sheets: its name, else its address, else "Block N" (N its
    place in the premises list). Never an OSM id ("way/123") or a bare number, which mean nothing
    to a magistrate."""
    out = {}
    for n, (idx, row) in enumerate(premises.iterrows(), start=1):
        name = _clean(row.get("name"))
        if name is not None and (
            _OSM_ID.match(name) or name == _clean(row.get("block_id")) and _OSM_ID.match(name)
        ):
            name = None
        street = " ".join(
            t for t in (_clean(row.get("addr_housenumber")), _clean(row.get("addr_street"))) if t
        )
        address = (
            _clean(row.get("address")) or _clean(row.get("addr_housename")) or (street or None)
        )
        out[idx] = name or address or f"Block {n}"
    return pd.Series(out, index=premises.index, dtype=object)


def _label_specs(data: ExhibitInput, view: BaseGeometry) -> list[labels.LabelSpec]:
    """What to name on a map, most important first: the blocks the order touches, then every
    other named block (if there is room), then the touched blocks' communal areas and doors."""
    names = block_labels(data.premises)
    touched = _blocks_touched(data)
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
            (_clean(getattr(row, "name", None)) or default, row.geometry)
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


def _draw_map(
    fig: Figure,
    sh: Sheet,
    data: ExhibitInput,
    centre: tuple[float, float],
    scale: int,
    with_labels: bool = True,
) -> labels.Placement:
    """One map sheet's frame, layers, furniture, labels and legend (with the key of numbered labels)."""
    ax = mapsheet.map_axes(fig, sh, centre, scale)
    mapsheet.draw_basemap(ax, data.basemap, data.open_space)
    handles = _draw_layers(ax, data)
    ax.set_xlabel("")
    ax.set_ylabel("")
    mapsheet.grid_ticks(ax, scale)
    before = (len(ax.patches), len(ax.texts))
    mapsheet.scale_bar(ax, scale)
    mapsheet.north_point(ax)
    placement = labels.Placement(dpi=fig.dpi)
    if with_labels:
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        placement = labels.place_labels(
            ax,
            _label_specs(data, shapely.box(x0, y0, x1, y1)),
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


def _title_block(
    fig: Figure,
    sh: Sheet,
    data: ExhibitInput,
    opts: ExhibitOptions,
    statement: str,
    sha: str,
    page: int,
    pages: int,
    subtitle: str,
) -> None:
    """The title block along the foot of every sheet; every supplied string printed literally."""
    ax = fig.add_axes(
        (
            mapsheet.MARGIN_MM / sh.width_mm,
            mapsheet.MARGIN_MM / sh.height_mm,
            (sh.width_mm - 2 * mapsheet.MARGIN_MM) / sh.width_mm,
            mapsheet.TITLE_BLOCK_MM / sh.height_mm,
        )
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
    ax.axvline(0.22, color="black", linewidth=0.5)
    ax.axvline(0.72, color="black", linewidth=0.5)
    ax.text(
        0.01, 0.8, plain(f"Exhibit {opts.exhibit_ref}"), fontsize=13, weight="bold", va="center"
    )
    ax.text(0.01, 0.55, f"Sheet {page} of {pages}", fontsize=8, va="center")
    ax.text(0.01, 0.33, plain(statement), fontsize=8, weight="bold", va="center")
    ax.text(0.01, 0.12, f"Version {opts.version}", fontsize=7, va="center")
    touched = _blocks_touched(data)
    premises = ", ".join(block_labels(data.premises).loc[touched.index].tolist()) or "-"
    ax.text(
        0.23, 0.85, plain(textwrap.shorten(data.title, 90)), fontsize=10, weight="bold", va="center"
    )
    ax.text(
        0.23, 0.66, plain(textwrap.shorten(f"Premises: {premises}", 110)), fontsize=7, va="center"
    )
    ax.text(0.23, 0.49, plain(subtitle), fontsize=7, va="center")
    ax.text(
        0.23, 0.31, f"Scope SHA-256: {sha}", fontsize=5.2, va="center", family="DejaVu Sans Mono"
    )
    attribution = (
        " ".join(data.attribution) or "No data attribution given: name the data sources before use"
    )
    # every attribution line is printed (the licences require it): smaller type on a narrow sheet
    lines = textwrap.wrap(attribution, int(150 * sh.width_mm / 297))
    size = 3.8 if len(lines) <= 4 else 3.8 * 4 / len(lines) * 1.15
    if len(lines) > 4:
        lines = textwrap.wrap(attribution, int(150 * sh.width_mm / 297 * 3.8 / size))
    ax.text(0.23, 0.06, plain("\n".join(lines)), fontsize=size, va="bottom")
    ax.text(0.73, 0.8, plain(f"Prepared by: {opts.prepared_by}"), fontsize=8, va="center")
    ax.text(0.73, 0.6, f"Date: {opts.prepared_on:%d %B %Y}", fontsize=8, va="center")
    ax.text(0.73, 0.4, plain(f"Order: {data.order_id or '-'}"), fontsize=8, va="center")
    ax.text(0.73, 0.18, "Grid: BNG (EPSG:27700)", fontsize=6, va="center")


def premises_schedule(data: ExhibitInput) -> pd.DataFrame:
    """One row a block: address, UPRNs, entrances, floors, communal parts included, flats excluded."""
    rows = []
    names = block_labels(data.premises)
    for idx, block in zip(_blocks_touched(data).index, _blocks_touched(data).itertuples()):
        bid = getattr(block, "block_id", None)
        addresses = (
            data.addresses[data.addresses["block_id"] == bid]
            if data.addresses is not None
            else None
        )
        uprns = (
            sorted(addresses["uprn"].astype(str))
            if addresses is not None and len(addresses)
            else []
        )
        doors = (
            data.entrances[data.entrances["block_id"] == bid]["name"].fillna("door").tolist()
            if data.entrances is not None and len(data.entrances)
            else []
        )
        parts = []
        if data.communal_areas is not None and len(data.communal_areas):
            mine = data.communal_areas[data.communal_areas["block_id"] == bid]
            parts = [
                f"{r.name} (floors {r.floor_from}-{r.floor_to})"
                for r in mine.itertuples()
                if r.geometry.intersection(data.scope).area > 0.5 * r.geometry.area
            ]
        whole = block.geometry.intersection(data.scope).area >= 0.99 * block.geometry.area
        rows.append(
            {
                "Block": f"{names[idx]} ({bid})",
                "Address": _clean(getattr(block, "address", None)) or "-",
                "UPRNs": (
                    f"{len(uprns)}: {uprns[0]}–{uprns[-1]}" if len(uprns) > 2 else ", ".join(uprns)
                )
                or "-",
                "Entrances": ", ".join(doors) or "-",
                "Floors": getattr(block, "floors", None)
                if pd.notna(getattr(block, "floors", None))
                else "-",
                "Communal parts included": "; ".join(parts) or "-",
                "Flats excluded": (
                    "none: whole footprint in scope"
                    if whole
                    else f"all {len(uprns)} flats (private dwellings)"
                    if uprns
                    else "all flats"
                ),
            }
        )
    return pd.DataFrame(rows)


def incident_summary(data: ExhibitInput, opts: ExhibitOptions) -> tuple[pd.DataFrame, str]:
    """Counts by category and month of the incidents on the scope (or within 10 m of it) dated in the
    evidence window, every month of the window a column (a month with none shows 0)."""
    if data.incidents is None or not len(data.incidents):
        return pd.DataFrame(), "no incidents given"
    near = data.incidents[data.incidents.distance(data.scope) <= EVIDENCE_REACH_M]
    near = filter_incidents(near, start=opts.evidence_from, end=opts.evidence_to)
    when = incident_dates(near)
    near = near[when.notna()]
    months = when[when.notna()].dt.to_period("M")
    first = (
        pd.Period(opts.evidence_from, "M")
        if opts.evidence_from
        else (months.min() if len(months) else None)
    )
    last = (
        pd.Period(opts.evidence_to, "M")
        if opts.evidence_to
        else (months.max() if len(months) else None)
    )
    category = (
        near["category"].fillna("uncategorised")
        if "category" in near
        else pd.Series("uncategorised", index=near.index)
    )
    table = pd.crosstab(category, months.astype(str)) if len(near) else pd.DataFrame()
    if len(table) and first is not None and last is not None:
        table = table.reindex(
            columns=[str(p) for p in pd.period_range(first, last, freq="M")], fill_value=0
        )
    span = (
        (f"{opts.evidence_from:%d %B %Y}" if opts.evidence_from else "first record")
        + " to "
        + (f"{opts.evidence_to:%d %B %Y}" if opts.evidence_to else "last record")
    )
    window = (
        f"evidence window {span}; incidents on the scope or within {EVIDENCE_REACH_M:.0f} m of it; "
        "undated records left out"
    )
    return table, window


def _table_page(fig: Figure, sh: Sheet, title: str, frame: pd.DataFrame, note: str = "") -> None:
    """A table the width of the title block (inside the margins), its columns sized to their text."""
    rect = _body_rect(sh)
    ax = fig.add_axes(rect)
    ax.axis("off")
    ax.set_title(plain(title), loc="left", fontsize=11, weight="bold")
    if frame.empty:
        ax.text(0, 0.9, "Nothing to list.", fontsize=8)
        return
    natural = [
        max(6, min(34, max(len(str(v)) for v in [c, *frame[c].astype(str)]))) for c in frame.columns
    ]
    room = int(rect[2] * sh.width_mm / (5.5 * 0.62 / 72 * MM_PER_INCH)) - 2 * len(
        natural
    )  # chars across
    shrink = min(1.0, room / sum(natural))
    widths = [max(6, int(w * shrink)) for w in natural]
    cells = [
        [plain(textwrap.fill(str(v), w)) for v, w in zip(row, widths)]
        for row in frame.astype(str).values.tolist()
    ]
    line_h = (
        5.5 * 1.25 / 72 * MM_PER_INCH / (rect[3] * sh.height_mm)
    )  # one line of 5.5 pt type, in axes units
    heights = [line_h * 1.8] + [
        line_h * (max(c.count("\n") + 1 for c in row) + 0.8) for row in cells
    ]
    total = min(sum(heights), 0.95)
    table = ax.table(
        cellText=cells,
        colLabels=[plain(c) for c in frame.columns],
        cellLoc="left",
        colWidths=[w / sum(widths) for w in widths],
        bbox=(0.0, 1.0 - total, 1.0, total),
    )
    table.auto_set_font_size(False)
    table.set_fontsize(5.5)
    for (
        r,
        _,
    ), cell in table.get_celld().items():  # the bbox scales these: rows keep their proportions
        cell.set_height(heights[r])
    if note:
        ax.text(0, 1.0 - total - 0.02, plain(note), fontsize=6, transform=ax.transAxes, va="top")


def _incident_page(fig: Figure, sh: Sheet, table: pd.DataFrame, window: str) -> None:
    """The evidence window's incidents by month and category: a chart and the table with totals
    (the court sees exact counts; small-count suppression is for public documents)."""
    x0, y0, w, h = _body_rect(sh)
    inset = 14.0 / sh.width_mm  # room inside the margin for the axis label and ticks
    chart = fig.add_axes((x0 + inset, y0 + h * 0.55, w * 0.78 - inset, h * 0.36))
    if table.empty:
        chart.axis("off")
        chart.text(
            0,
            0.5,
            plain(
                "\n".join(textwrap.wrap(f"No incidents in the evidence window ({window}).", 110))
            ),
            fontsize=8,
        )
        return
    table = table.rename(index=plain)
    table.T.plot(kind="bar", stacked=True, ax=chart, width=0.8, colormap="tab20")
    chars = int(
        (w * 0.78 - inset) * sh.width_mm / (8 * 0.62 * PT_MM)
    )  # 8 pt bold, to the chart's width
    chart.set_title(
        "Incidents by month and category\n" + plain("\n".join(textwrap.wrap(window, chars))),
        loc="left",
        fontsize=8,
        weight="bold",
    )
    chart.set_xlabel("")
    chart.set_ylabel("incidents", fontsize=7)
    chart.tick_params(labelsize=6)
    chart.legend(fontsize=5.5, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    totals = table.copy()
    totals["Total"] = totals.sum(axis=1)
    totals.loc["Total"] = totals.sum(axis=0)
    body = fig.add_axes((x0, y0, w, h * 0.42))
    body.axis("off")
    cat_w = (
        0.18  # the category column: wide enough to wrap a name inside the margins, not past them
    )
    chars = max(8, int(cat_w * w * sh.width_mm / (5.5 * 0.62 * PT_MM)))
    cells = [
        [textwrap.shorten(row[0], chars * 2, placeholder="…"), *row[1:]]
        for row in totals.reset_index().astype(str).values.tolist()
    ]
    cells = [[textwrap.fill(row[0], chars), *row[1:]] for row in cells]
    n = len(totals.columns)
    t = body.table(
        cellText=cells,
        colLabels=["Category", *[str(c) for c in totals.columns]],
        cellLoc="center",
        colWidths=[cat_w, *[(1 - cat_w) / n] * n],
        bbox=(0.0, 0.0, 1.0, 1.0) if len(cells) > 8 else None,
        loc="upper left",
    )
    t.auto_set_font_size(False)
    t.set_fontsize(5.5)
    if len(cells) <= 8:
        t.scale(1, 1.4)


PT_MM = MM_PER_INCH / 72


def _body_rect(sh: Sheet, title_mm: float = 8.0) -> tuple[float, float, float, float]:
    """A table sheet's body in figure fractions: the title block's width, from above it to below
    the top margin less room for the sheet's heading."""
    top = sh.height_mm - mapsheet.MARGIN_MM - title_mm
    bottom = sh.frame[1]
    return (
        mapsheet.MARGIN_MM / sh.width_mm,
        bottom / sh.height_mm,
        (sh.width_mm - 2 * mapsheet.MARGIN_MM) / sh.width_mm,
        (top - bottom) / sh.height_mm,
    )


@dataclass
class SheetRecord:
    """What one sheet is: a map (with its scale, centre and labels) or a table (not to scale)."""

    page: int
    kind: str  # map | atlas | schedule | incidents
    statement: str
    scale: int | None = None
    centre: tuple[float, float] | None = None
    placement: labels.Placement | None = None


def atlas_view(
    data: ExhibitInput, block: gpd.GeoSeries | pd.Series, sh: Sheet
) -> tuple[tuple[float, float], int]:
    """Centre and scale of a block's atlas sheet: the block with its doors and communal areas, at
    the largest standard scale that fits (so the sheet shows more than the overview, not the same)."""
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


def _map_sheet(
    pdf: PdfPages,
    sh: Sheet,
    data: ExhibitInput,
    opts: ExhibitOptions,
    centre: tuple[float, float],
    scale: int,
    head: tuple[str, int, int, str],
    kind: str,
) -> SheetRecord:
    """Draw, title and save one map sheet; its statement is its own scale."""
    sha, page, pages, subtitle = head
    statement = f"Scale 1:{scale} at {opts.paper}"
    fig = mapsheet.new_figure(sh)
    try:
        placement = _draw_map(fig, sh, data, centre, scale)
        _title_block(fig, sh, data, opts, statement, sha, page, pages, subtitle)
        pdf.savefig(fig)
    finally:
        mapsheet.close(fig)
    return SheetRecord(page, kind, statement, scale, centre, placement)


def _attribution_notes(data: ExhibitInput) -> list[str]:
    if any(str(a).strip() for a in data.attribution):
        return []
    return [
        "warning: the exhibit carries no data attribution; the data's licences (e.g. OpenStreetMap's "
        "ODbL, the Open Government Licence) require one: give --attribution"
    ]


def render_exhibit(data: ExhibitInput, opts: ExhibitOptions, out: str | Path) -> ExhibitResult:
    """Write the exhibit PDF (complete or not at all); returns its path, page count, scale, sheets."""
    if data.scope is None or data.scope.is_empty:
        raise mapsheet.SheetError("the order has no scope to draw")
    if opts.scale is not None and opts.scale not in mapsheet.STANDARD_SCALES:
        raise mapsheet.SheetError(
            f"scale must be one of {', '.join(f'1:{s}' for s in mapsheet.STANDARD_SCALES)}"
        )
    sh = mapsheet.sheet(opts.paper, opts.orientation)
    minx, miny, maxx, maxy = data.scope.bounds
    centre = ((minx + maxx) / 2, (miny + maxy) / 2)
    scale = opts.scale or mapsheet.fit_scale((maxx - minx, maxy - miny), (sh.frame[2], sh.frame[3]))
    statement = f"Scale 1:{scale} at {opts.paper}"
    sha = scope_sha256(data.scope)
    blocks = _blocks_touched(data) if opts.atlas else data.premises.iloc[0:0]
    names = block_labels(data.premises)
    schedule = premises_schedule(data)
    table, window = incident_summary(data, opts)
    pages = 1 + len(blocks) + 2
    sheets: list[SheetRecord] = []
    meta = {
        "Title": f"Exhibit {opts.exhibit_ref}: {data.title}",
        "Author": opts.prepared_by,
        "Subject": statement,
        "Keywords": f"scope-sha256:{sha}",
        "CreationDate": None,
    }
    with atomic_path(out) as tmp, PdfPages(tmp, metadata=meta) as pdf:
        sheets.append(
            _map_sheet(
                pdf,
                sh,
                data,
                opts,
                centre,
                scale,
                (sha, 1, pages, "Map of the premises and the closure scope"),
                "map",
            )
        )
        for idx, block in blocks.iterrows():
            bcentre, bscale = atlas_view(data, block, sh)
            sheets.append(
                _map_sheet(
                    pdf,
                    sh,
                    data,
                    opts,
                    bcentre,
                    bscale,
                    (sha, len(sheets) + 1, pages, f"Atlas sheet: {names[idx]}"),
                    "atlas",
                )
            )
        for kind, statement_words, subtitle in (
            ("schedule", "Not to scale: schedule", "Premises schedule"),
            ("incidents", "Not to scale: summary", "Incident summary for the evidence window"),
        ):
            fig = mapsheet.new_figure(sh)
            try:
                if kind == "schedule":
                    _table_page(
                        fig,
                        sh,
                        "Premises schedule",
                        schedule,
                        "UPRNs are listed as count: first–last. "
                        "Flats are private dwellings: residents keep access.",
                    )
                else:
                    _incident_page(fig, sh, table, window)
                _title_block(
                    fig, sh, data, opts, statement_words, sha, len(sheets) + 1, pages, subtitle
                )
                pdf.savefig(fig)
            finally:
                mapsheet.close(fig)
            sheets.append(SheetRecord(len(sheets) + 1, kind, statement_words))
    return ExhibitResult(
        Path(out),
        pages,
        scale,
        sh,
        sha,
        [s.page for s in sheets if s.scale is not None],
        sheets=sheets,
        notes=_attribution_notes(data),
    )
