"""The table sheets of the court exhibit: the premises schedule and the evidence window's
incidents by month and category (exact counts: the court sees the evidence)."""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.figure import Figure

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from closuremap.geo.floors import not_entered
from closuremap.geo.incidents import EVIDENCE_REACH_M, filter_incidents, incident_dates

from . import mapsheet
from .exhibit_data import ExhibitInput, ExhibitOptions, block_labels, blocks_touched, shown_text
from .mapsheet import MM_PER_INCH, Sheet, plain

PT_MM = MM_PER_INCH / 72


def premises_schedule(data: ExhibitInput) -> pd.DataFrame:
    """One row a block: address, UPRNs, entrances, floors, communal parts included, flats
    excluded."""
    rows = []
    names = block_labels(data.premises)
    for block in blocks_touched(data).itertuples():
        idx = block.Index
        bid = getattr(block, "block_id", None)
        addresses = _of_block(data.addresses, bid, block.geometry)
        uprns = sorted(addresses["uprn"].astype(str)) if "uprn" in addresses else []
        doors = [
            shown_text(getattr(r, "name", None)) or "door"
            for r in _of_block(data.entrances, bid, block.geometry).itertuples()
        ]
        parts = [
            _part_text(r)
            for r in _of_block(data.communal_areas, bid, block.geometry).itertuples()
            if r.geometry.intersection(data.scope).area > 0.5 * r.geometry.area
        ]
        whole = block.geometry.intersection(data.scope).area >= 0.99 * block.geometry.area
        rows.append(
            {
                "Block": f"{names[idx]} ({bid})",
                "Address": shown_text(getattr(block, "address", None)) or "-",
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


def _of_block(frame: gpd.GeoDataFrame | None, bid: object, footprint: BaseGeometry) -> pd.DataFrame:
    """The features of one block: by ``block_id`` where the layer has one; else, as a file
    given to ``closuremap exhibit --communal`` may have none, those on the block's footprint."""
    if frame is None or not len(frame):
        return pd.DataFrame(columns=["geometry"])
    if "block_id" in frame.columns:
        return frame[frame["block_id"] == bid]
    return frame[frame.intersects(footprint)]


def _part_text(row: object) -> str:
    """A communal part as the schedule lists it: "Stairwell A (floors 0-4)"; a file without
    ``floor_from``/``floor_to`` columns (or a blank cell) gives one floor or none."""
    name = shown_text(getattr(row, "name", None)) or str(
        shown_text(getattr(row, "area_type", None)) or "communal area"
    ).replace("_", " ")
    low, high = getattr(row, "floor_from", None), getattr(row, "floor_to", None)
    if not_entered(low) and not_entered(high):
        return name
    if not_entered(low) or not_entered(high):
        return f"{name} (floor {_floor(high if not_entered(low) else low)})"
    return f"{name} (floors {_floor(low)}-{_floor(high)})"


def _floor(value: object) -> str:
    """A floor as entered; a whole number read as a float (a column with blanks) without ".0"."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def incident_summary(data: ExhibitInput, opts: ExhibitOptions) -> tuple[pd.DataFrame, str]:
    """Counts by category and month of the incidents on the scope (or within 10 m of it) dated in
    the evidence window, every month of the window a column (a month with none shows 0)."""
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


def table_page(fig: Figure, sh: Sheet, title: str, frame: pd.DataFrame, note: str = "") -> None:
    """A table the width of the title block (inside the margins), its columns sized to their
    text."""
    rect = body_rect(sh)
    ax = fig.add_axes(rect)
    ax.axis("off")
    ax.set_title(plain(title), loc="left", fontsize=11, weight="bold")
    if frame.empty:
        ax.text(0, 0.9, "Nothing to list.", fontsize=8)
        return
    natural = [
        max(6, min(34, max(len(str(v)) for v in [c, *frame[c].astype(str)]))) for c in frame.columns
    ]
    # characters across the body at 5.5 pt, less two a column for the cell padding
    room = int(rect[2] * sh.width_mm / (5.5 * 0.62 * PT_MM)) - 2 * len(natural)
    shrink = min(1.0, room / sum(natural))
    widths = [max(6, int(w * shrink)) for w in natural]
    cells = [
        [plain(textwrap.fill(str(v), w)) for v, w in zip(row, widths, strict=True)]
        for row in frame.astype(str).values.tolist()
    ]
    line_h = 5.5 * 1.25 * PT_MM / (rect[3] * sh.height_mm)  # a line of 5.5 pt type, axes units
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
    for (r, _), cell in table.get_celld().items():  # the bbox scales these: rows keep proportion
        cell.set_height(heights[r])
    if note:
        ax.text(0, 1.0 - total - 0.02, plain(note), fontsize=6, transform=ax.transAxes, va="top")


def incident_page(fig: Figure, sh: Sheet, table: pd.DataFrame, window: str) -> None:
    """The evidence window's incidents by month and category: a chart and the table with totals
    (the court sees exact counts; small-count suppression is for public documents)."""
    x0, y0, w, h = body_rect(sh)
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
    chars = int((w * 0.78 - inset) * sh.width_mm / (8 * 0.62 * PT_MM))  # 8 pt, chart's width
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
    # the category column: wide enough to wrap a name inside the margins, not past them
    cat_w = 0.18
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


def body_rect(sh: Sheet, title_mm: float = 8.0) -> tuple[float, float, float, float]:
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
