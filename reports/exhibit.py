"""The court map exhibit: an order's scope edged red on a map at a stated metric scale, with the
premises schedule and an incident summary, a title block on every sheet.

Conventions follow HM Land Registry plans (Practice Guide 40): a stated metric scale (1:500, 1:1250,
1:2500), a north point, the boundary edged red, plus an exhibit reference on each sheet, date,
version and the data attributions (closure-powers.md §3). The SHA-256 of the scope ties the paper
to the exact geometry in the workspace.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from shapely.geometry.base import BaseGeometry

from geo.incidents import EVIDENCE_REACH_M, filter_incidents, incident_dates
from reports import mapsheet
from reports.mapsheet import SCOPE_COLOUR, SCOPE_WIDTH_PT, Sheet



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

    @property
    def scale_statement(self) -> str:
        return f"Scale 1:{self.scale} at {self.sheet.paper}"


def scope_sha256(scope: BaseGeometry) -> str:
    """SHA-256 of the scope's WKB (little-endian, 2D, BNG coordinates rounded to the millimetre)."""
    fixed = shapely.set_precision(scope, 0.001)
    return hashlib.sha256(shapely.to_wkb(fixed, byte_order=1, output_dimension=2)).hexdigest()


def _in_scope(frame: gpd.GeoDataFrame | None, scope: BaseGeometry) -> gpd.GeoDataFrame | None:
    if frame is None or not len(frame):
        return frame
    return frame[frame.intersects(scope)]


def _blocks_touched(data: ExhibitInput) -> gpd.GeoDataFrame:
    p = data.premises
    touched = p[p.intersection(data.scope).area > 0.5]
    if data.communal_areas is not None and len(data.communal_areas) and "block_id" in p.columns:
        ids = set(data.communal_areas[data.communal_areas.intersection(data.scope).area > 0.1]["block_id"])
        touched = p[p.index.isin(touched.index) | p["block_id"].isin(ids)]
    return touched


def _draw_map(fig: Figure, sh: Sheet, data: ExhibitInput, centre: tuple[float, float], scale: int,
              labels: bool = True) -> None:
    ax = mapsheet.map_axes(fig, sh, centre, scale)
    mapsheet.draw_basemap(ax, data.basemap, data.open_space)
    handles = []
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    data.premises.plot(ax=ax, color="#e3e8f6", edgecolor="#1f3a93", linewidth=0.8, zorder=3)
    handles.append(Patch(facecolor="#e3e8f6", edgecolor="#1f3a93", label="Block (premises)"))
    if data.access_routes is not None and len(data.access_routes):
        data.access_routes.plot(ax=ax, color="#e2d2ee", edgecolor="#7b3fa0", linewidth=0.4, zorder=4)
        handles.append(Patch(facecolor="#e2d2ee", edgecolor="#7b3fa0", label="Access route"))
    if data.communal_areas is not None and len(data.communal_areas):
        data.communal_areas.plot(ax=ax, color="#ffd2a6", edgecolor="#c25e00", linewidth=0.4, zorder=5)
        handles.append(Patch(facecolor="#ffd2a6", edgecolor="#c25e00", label="Communal area"))
    gpd.GeoSeries([data.scope]).boundary.plot(ax=ax, color=SCOPE_COLOUR, linewidth=SCOPE_WIDTH_PT, zorder=8)
    handles.append(Line2D([], [], color=SCOPE_COLOUR, linewidth=SCOPE_WIDTH_PT, label="Closure scope (edged red)"))
    if data.entrances is not None and len(data.entrances):
        data.entrances.plot(ax=ax, color="white", edgecolor="#1f3a93", markersize=14, linewidth=0.8, zorder=9)
        handles.append(Line2D([], [], marker="o", color="#1f3a93", markerfacecolor="white", linestyle="",
                              label="Entrance"))
    if labels:
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        view = shapely.box(x0, y0, x1, y1)
        for row in data.premises.itertuples():
            if row.geometry.intersects(view):
                p = row.geometry.intersection(view).representative_point()
                ax.text(p.x, p.y, str(getattr(row, "name", "") or getattr(row, "block_id", "")), fontsize=6.5,
                        ha="center", va="center", color="#1f3a93", weight="bold", zorder=12,
                        bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 0.5})
        if data.communal_areas is not None:
            for row in _in_scope(data.communal_areas, view).itertuples():
                p = row.geometry.representative_point()
                ax.text(p.x, p.y, str(row.name or row.area_type), fontsize=4.2, ha="center", va="center",
                        color="#6b3300", zorder=11)
        if data.entrances is not None:
            for row in _in_scope(data.entrances, view).itertuples():
                ax.annotate(str(row.name or "door"), (row.geometry.x, row.geometry.y), xytext=(3, 3),
                            textcoords="offset points", fontsize=4.5, color="#1f3a93", zorder=12)
    ax.set_xlabel("")
    ax.set_ylabel("")
    mapsheet.grid_ticks(ax, scale)
    mapsheet.scale_bar(ax, scale)
    mapsheet.north_point(ax)
    legend_ax = fig.add_axes(((sh.frame[0] + sh.frame[2] + 6) / sh.width_mm, sh.frame[1] / sh.height_mm,
                              (sh.width_mm - sh.frame[0] - sh.frame[2] - 6 - mapsheet.MARGIN_MM) / sh.width_mm,
                              sh.frame[3] / sh.height_mm))
    legend_ax.axis("off")
    legend_ax.legend(handles=handles, loc="upper left", fontsize=6.5, frameon=False, title="Legend",
                     title_fontsize=7.5, alignment="left")


def _title_block(fig: Figure, sh: Sheet, data: ExhibitInput, opts: ExhibitOptions, statement: str, sha: str,
                 page: int, pages: int, subtitle: str) -> None:
    ax = fig.add_axes((mapsheet.MARGIN_MM / sh.width_mm, mapsheet.MARGIN_MM / sh.height_mm,
                       (sh.width_mm - 2 * mapsheet.MARGIN_MM) / sh.width_mm, mapsheet.TITLE_BLOCK_MM / sh.height_mm))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
    ax.axvline(0.22, color="black", linewidth=0.5)
    ax.axvline(0.72, color="black", linewidth=0.5)
    ax.text(0.01, 0.8, f"Exhibit {opts.exhibit_ref}", fontsize=13, weight="bold", va="center")
    ax.text(0.01, 0.55, f"Sheet {page} of {pages}", fontsize=8, va="center")
    ax.text(0.01, 0.33, statement, fontsize=8, weight="bold", va="center")
    ax.text(0.01, 0.12, f"Version {opts.version}", fontsize=7, va="center")
    premises = ", ".join(str(n) for n in _blocks_touched(data).get("name", pd.Series(dtype=str)).tolist()) or "-"
    ax.text(0.23, 0.85, textwrap.shorten(data.title, 90), fontsize=10, weight="bold", va="center")
    ax.text(0.23, 0.66, textwrap.shorten(f"Premises: {premises}", 110), fontsize=7, va="center")
    ax.text(0.23, 0.49, subtitle, fontsize=7, va="center")
    ax.text(0.23, 0.31, f"Scope SHA-256: {sha}", fontsize=5.2, va="center", family="DejaVu Sans Mono")
    attribution = " ".join(data.attribution) or "Data sources: see premises schedule"
    # every attribution line is printed (the licences require it): smaller type on a narrow sheet
    lines = textwrap.wrap(attribution, int(150 * sh.width_mm / 297))
    size = 3.8 if len(lines) <= 4 else 3.8 * 4 / len(lines) * 1.15
    if len(lines) > 4:
        lines = textwrap.wrap(attribution, int(150 * sh.width_mm / 297 * 3.8 / size))
    ax.text(0.23, 0.06, "\n".join(lines), fontsize=size, va="bottom")
    ax.text(0.73, 0.8, f"Prepared by: {opts.prepared_by}", fontsize=8, va="center")
    ax.text(0.73, 0.6, f"Date: {opts.prepared_on:%d %B %Y}", fontsize=8, va="center")
    ax.text(0.73, 0.4, f"Order: {data.order_id or '-'}", fontsize=8, va="center")
    ax.text(0.73, 0.18, "Grid: BNG (EPSG:27700)", fontsize=6, va="center")


def premises_schedule(data: ExhibitInput) -> pd.DataFrame:
    """One row a block: address, UPRNs, entrances, floors, communal parts included, flats excluded."""
    rows = []
    for block in _blocks_touched(data).itertuples():
        bid = getattr(block, "block_id", None)
        addresses = data.addresses[data.addresses["block_id"] == bid] if data.addresses is not None else None
        uprns = sorted(addresses["uprn"].astype(str)) if addresses is not None and len(addresses) else []
        doors = (data.entrances[data.entrances["block_id"] == bid]["name"].fillna("door").tolist()
                 if data.entrances is not None and len(data.entrances) else [])
        parts = []
        if data.communal_areas is not None and len(data.communal_areas):
            mine = data.communal_areas[data.communal_areas["block_id"] == bid]
            parts = [f"{r.name} (floors {r.floor_from}-{r.floor_to})" for r in mine.itertuples()
                     if r.geometry.intersection(data.scope).area > 0.5 * r.geometry.area]
        whole = block.geometry.intersection(data.scope).area >= 0.99 * block.geometry.area
        rows.append({
            "Block": f"{block.name} ({bid})",
            "Address": getattr(block, "address", None) or "-",
            "UPRNs": (f"{len(uprns)}: {uprns[0]}–{uprns[-1]}" if len(uprns) > 2 else ", ".join(uprns)) or "-",
            "Entrances": ", ".join(doors) or "-",
            "Floors": getattr(block, "floors", None) if pd.notna(getattr(block, "floors", None)) else "-",
            "Communal parts included": "; ".join(parts) or "-",
            "Flats excluded": ("none: whole footprint in scope" if whole else
                               f"all {len(uprns)} flats (private dwellings)" if uprns else "all flats"),
        })
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
    first = pd.Period(opts.evidence_from, "M") if opts.evidence_from else (months.min() if len(months) else None)
    last = pd.Period(opts.evidence_to, "M") if opts.evidence_to else (months.max() if len(months) else None)
    category = near["category"].fillna("uncategorised") if "category" in near else pd.Series(
        "uncategorised", index=near.index)
    table = pd.crosstab(category, months.astype(str)) if len(near) else pd.DataFrame()
    if len(table) and first is not None and last is not None:
        table = table.reindex(columns=[str(p) for p in pd.period_range(first, last, freq="M")], fill_value=0)
    span = (f"{opts.evidence_from:%d %B %Y}" if opts.evidence_from else "first record") + " to " + (
        f"{opts.evidence_to:%d %B %Y}" if opts.evidence_to else "last record")
    window = (f"evidence window {span}; incidents on the scope or within {EVIDENCE_REACH_M:.0f} m of it; "
              "undated records left out")
    return table, window


def _table_page(fig: Figure, sh: Sheet, title: str, frame: pd.DataFrame, note: str = "") -> None:
    ax = fig.add_axes((mapsheet.MARGIN_MM / sh.width_mm, (sh.frame[1]) / sh.height_mm,
                       (sh.width_mm - 2 * mapsheet.MARGIN_MM) / sh.width_mm, sh.frame[3] / sh.height_mm))
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=11, weight="bold")
    if frame.empty:
        ax.text(0, 0.9, "Nothing to list.", fontsize=8)
        return
    cells = [[textwrap.fill(str(v), 34) for v in row] for row in frame.astype(str).values.tolist()]
    table = ax.table(cellText=cells, colLabels=list(frame.columns), loc="upper left", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(5.5)
    line_h = 0.022
    for (r, _), cell in table.get_celld().items():
        lines = 1 if r == 0 else max(c.count("\n") + 1 for c in cells[r - 1])
        cell.set_height(line_h * (lines + 0.8))
    if note:
        ax.text(0, -0.02, note, fontsize=6, transform=ax.transAxes, va="top")


def _incident_page(fig: Figure, sh: Sheet, table: pd.DataFrame, window: str) -> None:
    x0 = mapsheet.MARGIN_MM / sh.width_mm
    w = (sh.width_mm - 2 * mapsheet.MARGIN_MM) / sh.width_mm
    y0, h = sh.frame[1] / sh.height_mm, sh.frame[3] / sh.height_mm
    chart = fig.add_axes((x0 + 0.03, y0 + h * 0.55, w * 0.78, h * 0.36))
    if table.empty:
        chart.axis("off")
        chart.text(0, 0.5, "\n".join(textwrap.wrap(f"No incidents in the evidence window ({window}).", 110)),
                   fontsize=8)
        return
    table.T.plot(kind="bar", stacked=True, ax=chart, width=0.8, colormap="tab20")
    chart.set_title("Incidents by month and category\n" + "\n".join(textwrap.wrap(window, 150)), loc="left",
                    fontsize=8, weight="bold")
    chart.set_xlabel("")
    chart.set_ylabel("incidents", fontsize=7)
    chart.tick_params(labelsize=6)
    chart.legend(fontsize=5.5, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    totals = table.copy()
    totals["Total"] = totals.sum(axis=1)
    totals.loc["Total"] = totals.sum(axis=0)
    body = fig.add_axes((x0, y0, w, h * 0.42))
    body.axis("off")
    cells = totals.reset_index().astype(str).values.tolist()
    t = body.table(cellText=cells, colLabels=["Category", *[str(c) for c in totals.columns]], cellLoc="center",
                   bbox=(0.0, 0.0, 1.0, 1.0) if len(cells) > 8 else None, loc="upper left")
    t.auto_set_font_size(False)
    t.set_fontsize(5.5)
    if len(cells) <= 8:
        t.scale(1, 1.4)


def render_exhibit(data: ExhibitInput, opts: ExhibitOptions, out: str | Path) -> ExhibitResult:
    """Write the exhibit PDF; returns its path, page count, scale and sheet."""
    if data.scope is None or data.scope.is_empty:
        raise mapsheet.SheetError("the order has no scope to draw")
    sh = mapsheet.sheet(opts.paper, opts.orientation)
    minx, miny, maxx, maxy = data.scope.bounds
    centre = ((minx + maxx) / 2, (miny + maxy) / 2)
    scale = opts.scale or mapsheet.fit_scale((maxx - minx, maxy - miny), (sh.frame[2], sh.frame[3]))
    if opts.scale is not None and opts.scale not in mapsheet.STANDARD_SCALES:
        raise mapsheet.SheetError(f"scale must be one of {', '.join(f'1:{s}' for s in mapsheet.STANDARD_SCALES)}")
    statement = f"Scale 1:{scale} at {opts.paper}"
    sha = scope_sha256(data.scope)
    blocks = _blocks_touched(data) if opts.atlas else data.premises.iloc[0:0]
    schedule = premises_schedule(data)
    table, window = incident_summary(data, opts)
    pages = 1 + len(blocks) + 2
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    map_pages = [1]
    with PdfPages(path, metadata={"Title": f"Exhibit {opts.exhibit_ref}: {data.title}", "Author": opts.prepared_by,
                                  "Subject": statement, "Keywords": f"scope-sha256:{sha}",
                                  "CreationDate": None}) as pdf:
        page = 1
        fig = mapsheet.new_figure(sh)
        _draw_map(fig, sh, data, centre, scale)
        _title_block(fig, sh, data, opts, statement, sha, page, pages, "Map of the premises and the closure scope")
        pdf.savefig(fig)
        mapsheet.close(fig)
        for block in blocks.itertuples():
            page += 1
            map_pages.append(page)
            bminx, bminy, bmaxx, bmaxy = block.geometry.bounds
            fig = mapsheet.new_figure(sh)
            _draw_map(fig, sh, data, ((bminx + bmaxx) / 2, (bminy + bmaxy) / 2), scale)
            _title_block(fig, sh, data, opts, statement, sha, page, pages, f"Atlas sheet: {block.name}")
            pdf.savefig(fig)
            mapsheet.close(fig)
        page += 1
        fig = mapsheet.new_figure(sh)
        _table_page(fig, sh, "Premises schedule", schedule,
                    "UPRNs are listed as count: first–last. Flats are private dwellings: residents keep access.")
        _title_block(fig, sh, data, opts, statement, sha, page, pages, "Premises schedule")
        pdf.savefig(fig)
        mapsheet.close(fig)
        page += 1
        fig = mapsheet.new_figure(sh)
        _incident_page(fig, sh, table, window)
        _title_block(fig, sh, data, opts, statement, sha, page, pages, "Incident summary for the evidence window")
        pdf.savefig(fig)
        mapsheet.close(fig)
    return ExhibitResult(path, pages, scale, sh, sha, map_pages)


