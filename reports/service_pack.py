"""The notice-service pack: every entrance of the order's premises on a map and in a checklist, so
a copy of the notice is fixed at each normal means of access (s.79(2)) and the record shows when, by
whom, with which photograph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

import geopandas as gpd

from closuremap.layers.csvio import write_csv

from . import mapsheet
from .atomic import atomic_path
from .mapsheet import SCOPE_COLOUR, SheetError, plain

CHECK_COLUMNS = ("time_fixed", "officer", "photo_ref")
#: The checklist's column headings as printed.
CHECK_HEADERS = (
    "No",
    "Block",
    "Entrance",
    "Type",
    "Easting",
    "Northing",
    "Time fixed",
    "Officer",
    "Photo ref",
)


@dataclass
class ServicePack:
    pdf: Path
    checklist: pd.DataFrame


def checklist(entrances: gpd.GeoDataFrame, premises: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row a door: number, block, entrance, type, where; blank columns to fill in on the day."""
    names = dict(zip(premises["block_id"], premises["name"], strict=True))
    rows = []
    for i, e in enumerate(entrances.sort_values(["block_id", "name"]).itertuples(), start=1):
        rows.append(
            {
                "no": i,
                "block": f"{names.get(e.block_id, e.block_id)} ({e.block_id})",
                "entrance": e.name or "door",
                "type": e.entrance_type or "-",
                "easting": round(e.geometry.x, 1),
                "northing": round(e.geometry.y, 1),
                **{c: "" for c in CHECK_COLUMNS},
            }
        )
    return pd.DataFrame(
        rows, columns=["no", "block", "entrance", "type", "easting", "northing", *CHECK_COLUMNS]
    )


def render_service_pack(
    *,
    title: str,
    scope,  # noqa: ANN001 - a shapely geometry in BNG
    premises: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    basemap: gpd.GeoDataFrame | None,
    out: str | Path,
    prepared_on: date,
    csv_out: str | Path | None = None,
) -> ServicePack:
    """A map page with numbered doors and a checklist page; the checklist also as CSV. The PDF is
    written whole or not at all; every name is printed literally (``$`` included)."""
    if premises.empty:
        raise SheetError(f"{title}: no blocks to draw; the order covers no premises")
    table = checklist(entrances, premises)
    path = Path(out)
    sh = mapsheet.sheet("A4", "landscape")
    with (
        atomic_path(path) as tmp,
        PdfPages(tmp, metadata={"Title": f"Service pack: {title}"}) as pdf,
    ):
        _save_page(
            pdf,
            sh,
            lambda fig: _map_page(
                fig, sh, title, scope, premises, entrances, basemap, table, prepared_on
            ),
        )
        _save_page(pdf, sh, lambda fig: _checklist_page(fig, title, table))
    if csv_out is not None:
        write_csv(table, csv_out)
    return ServicePack(path, table)


def _save_page(pdf: PdfPages, sh: mapsheet.Sheet, draw: Callable[[Figure], None]) -> None:
    """Draw one page on a new figure and add it to the PDF; the figure is closed either way."""
    fig = mapsheet.new_figure(sh)
    try:
        draw(fig)
        pdf.savefig(fig)
    finally:
        mapsheet.close(fig)


def _map_page(
    fig: Figure,
    sh: mapsheet.Sheet,
    title: str,
    scope,  # noqa: ANN001 - a shapely geometry in BNG
    premises: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    basemap: gpd.GeoDataFrame | None,
    table: pd.DataFrame,
    prepared_on: date,
) -> None:
    """The blocks to scale with each door numbered as in the checklist, and what to do."""
    minx, miny, maxx, maxy = premises.total_bounds
    scale = mapsheet.fit_scale((maxx - minx, maxy - miny), (sh.frame[2], sh.frame[3]))
    ax = mapsheet.map_axes(fig, sh, ((minx + maxx) / 2, (miny + maxy) / 2), scale)
    mapsheet.draw_basemap(ax, basemap, None)
    premises.plot(ax=ax, color="#e3e8f6", edgecolor="#1f3a93", linewidth=0.8)
    gpd.GeoSeries([scope]).boundary.plot(ax=ax, color=SCOPE_COLOUR, linewidth=1.0)
    entrances.plot(ax=ax, color="white", edgecolor="black", markersize=30, zorder=5)
    lookup = {(r.block, r.entrance): r.no for r in table.itertuples()}
    names = dict(zip(premises["block_id"], premises["name"], strict=True))
    for e in entrances.itertuples():
        no = lookup.get((f"{names.get(e.block_id, e.block_id)} ({e.block_id})", e.name or "door"))
        ax.annotate(
            str(no), (e.geometry.x, e.geometry.y), ha="center", va="center", fontsize=5.5, zorder=6
        )
    mapsheet.furniture(ax, scale)
    fig.text(
        0.05,
        0.1,
        plain(
            f"Service pack: {title}. Fix a copy of the notice at every entrance below "
            f"(s.79(2)); record the time, officer and photograph. "
            f"Prepared {prepared_on:%d %B %Y}."
        ),
        fontsize=8,
    )


def _checklist_page(fig: Figure, title: str, table: pd.DataFrame) -> None:
    """The checklist as a table to fill in on the day."""
    ax = fig.add_axes((0.05, 0.1, 0.9, 0.82))
    ax.axis("off")
    ax.set_title(
        plain(f"Entrances of {title}: notice-fixing record"), loc="left", fontsize=11, weight="bold"
    )
    t = ax.table(
        cellText=[[plain(v) for v in row] for row in table.astype(str).values.tolist()],
        colLabels=list(CHECK_HEADERS),
        loc="upper left",
        cellLoc="left",
    )
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    t.scale(1, 1.8)
