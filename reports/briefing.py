"""The ward-member briefing: what is proposed, where, why, on what legal basis, when, with whom.

It carries no personal data and no exact incident points: incidents appear only as counts per block
and per month, each count of 1-4 shown as "<5" (the minimum is a setting), on a map of blocks shaded
by band. Where a "<5" could be worked out by subtraction, other counts are hidden too and the total
is printed rounded ("about 35"). Nothing from an incident's reference, description or location text
is used. Every supplied name goes through :func:`reports.mapsheet.plain`, so a ``$`` prints as
itself, and the PDF is written whole or not at all.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

import geopandas as gpd

from closuremap.geo.aggregate import (
    DEFAULT_MINIMUM,
    HIDDEN,
    about,
    band_range,
    counts_by_block,
    counts_by_month,
    protect,
    recoverable,
    shade_classes,
)

from . import mapsheet
from .atomic import atomic_path
from .mapsheet import plain

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from closuremap.geo.evaluation import EvaluationResult

LEGAL_BASIS = (
    "A closure notice and order are powers under the Anti-social Behaviour, Crime and Policing "
    "Act 2014 (Part 4, Chapter 3). The police (an inspector or above) or the council may issue a "
    "closure notice for up to 24 hours (48 with a superintendent's or the chief executive's "
    "authority) where the use of premises has caused, or is likely soon to cause, nuisance to "
    "the public or disorder nearby (s.76). A notice cannot keep out people who live there or the "
    "owner. The magistrates' court must then hear an application within 48 hours of the notice "
    "being served (s.80); it may make a closure order for up to 3 months if there has been "
    "disorderly, offensive or criminal behaviour, serious nuisance or disorder, and the order is "
    "necessary. An order can be extended to 6 months in all (s.82). Breaking a notice or order "
    "is a criminal offence (s.86). Here the orders close only the shared parts of the blocks "
    "(stairwells, landings, corridors, access paths): residents keep full access to their homes."
)


DEFAULT_PARTNERS = ("Metropolitan Police Service", "the council's ASB team", "the housing provider")


@dataclass
class BriefingInput:
    """What the briefing draws on: blocks, orders and incidents (incidents only to be counted)."""

    title: str
    premises: gpd.GeoDataFrame
    orders: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    basemap: gpd.GeoDataFrame | None = None
    open_space: gpd.GeoDataFrame | None = None
    partners: list[str] = field(default_factory=lambda: list(DEFAULT_PARTNERS))
    attribution: list[str] = field(default_factory=list)
    window: tuple[date, date] | None = None  # the evidence window the incidents were taken from
    results: list[tuple[str, EvaluationResult]] = field(
        default_factory=list
    )  # (order, before/after) of orders made

    @property
    def window_words(self) -> str:
        if self.window is None:
            return "all recorded incidents"
        start, end = self.window
        return f"incidents from {start:%d %B %Y} to {end:%d %B %Y} (the evidence window)"


@dataclass
class BriefingTables:
    per_block: pd.DataFrame
    per_month: pd.DataFrame
    proposals: pd.DataFrame
    minimum: int
    total: str = "0"  # incidents in the area, rounded: an exact total would undo the suppression

    @property
    def note(self) -> str:
        return (
            f"Counts of 1-{self.minimum - 1} are shown as <{self.minimum}; where one could be "
            f"worked out by subtraction, another count is '{HIDDEN}' and totals are rounded to 5."
        )


def briefing_tables(data: BriefingInput, minimum: int = DEFAULT_MINIMUM) -> BriefingTables:
    """The aggregated, suppressed tables the PDF and the page both show."""
    blocks = counts_by_block(data.incidents, data.premises)
    raw_blocks = blocks["incidents"].copy()
    blocks["band"] = shade_classes(blocks["incidents"], minimum)
    blocks["incidents"] = (
        protect(blocks["incidents"], minimum, bands=blocks["band"]) if len(blocks) else []
    )
    months = counts_by_month(data.incidents)
    per_month = pd.DataFrame({"month": months.index, "incidents": months.to_numpy()})
    per_month["shown"] = protect(per_month["incidents"], minimum) if len(per_month) else []
    total = about(int(months.sum()) if len(months) else len(data.incidents))
    if _unprotected(blocks.assign(raw=raw_blocks), per_month, minimum):
        # a table whose small counts only the total could give away: withhold the total, and keep
        # the other table from adding up to it exactly
        total = "not shown (it would reveal a small count)"
        blocks["incidents"], per_month["shown"] = (
            _hide_one(blocks["incidents"], raw_blocks),
            _hide_one(per_month["shown"], per_month["incidents"]),
        )
    proposals = pd.DataFrame(
        {
            "order": data.orders.get("name", pd.Series(dtype=str)).astype(str).tolist(),
            "blocks": data.orders.get("block_ids", pd.Series(dtype=str))
            .fillna("")
            .astype(str)
            .tolist(),
            "status": data.orders.get("status", pd.Series(dtype=str))
            .fillna("draft")
            .astype(str)
            .tolist(),
            "order made": data.orders.get("order_made_on", pd.Series(dtype=str))
            .fillna("-")
            .astype(str)
            .tolist(),
        }
    )
    return BriefingTables(blocks, per_month, proposals, minimum, total)


def _unprotected(blocks: pd.DataFrame, per_month: pd.DataFrame, minimum: int) -> bool:
    """Whether a small count in either table could still be worked out if the exact total were known
    (a table of small counts alone cannot be protected by hiding more of its own cells)."""
    months = per_month["incidents"].astype(int).tolist()
    month_states = [
        "shown" if str(v).isdigit() else "small" if str(v).startswith("<") else "hidden"
        for v in per_month["shown"]
    ]
    if months and recoverable(months, month_states, minimum):
        return True
    counts = blocks["raw"].astype(int).tolist()
    states = [
        "shown" if v.isdigit() else "small" if v.startswith("<") else "hidden"
        for v in blocks["incidents"].astype(str)
    ]
    bands = [band_range(str(b), minimum) for b in blocks["band"]]
    return bool(counts) and bool(recoverable(counts, states, minimum, bands))


def _hide_one(shown: pd.Series, raw: pd.Series) -> pd.Series:
    """The table with its smallest printed non-zero count hidden too, so it no longer adds up to
    an exact total (unless it already has a hidden cell)."""
    text = shown.astype(str)
    if (text == HIDDEN).any():
        return shown
    printed = raw[text.str.isdigit() & (raw.astype(int) > 0)]
    if printed.empty:
        return shown
    out = shown.copy()
    out[printed.astype(int).idxmin()] = HIDDEN
    return out


BAND_COLOURS = {
    "none": "#f2f2f2",
    "1-4": "#fde0c5",
    "5-9": "#facba6",
    "10-24": "#f59e72",
    "25+": "#e4572e",
}


def render_briefing(
    data: BriefingInput, out: str | Path, *, prepared_on: date, minimum: int = DEFAULT_MINIMUM
) -> Path:
    """Write the two-page briefing PDF (whole or not at all: a failure leaves any earlier copy)."""
    tables = briefing_tables(data, minimum)
    path = Path(out)
    sh = mapsheet.sheet("A4", "portrait", legend_mm=0)
    with (
        atomic_path(path) as tmp,
        PdfPages(tmp, metadata={"Title": f"Ward member briefing: {data.title}"}) as pdf,
    ):
        fig = mapsheet.new_figure(sh)
        try:
            _first_page(fig, data, tables, prepared_on)
            pdf.savefig(fig)
        finally:
            mapsheet.close(fig)
        fig = mapsheet.new_figure(sh)
        try:
            _second_page(fig, tables)
            pdf.savefig(fig)
        finally:
            mapsheet.close(fig)
        if data.results:
            fig = mapsheet.new_figure(sh)
            try:
                _results_page(fig, data.results, minimum)
                pdf.savefig(fig)
            finally:
                mapsheet.close(fig)
    return path


def _results_page(fig: Figure, results: list[tuple[str, EvaluationResult]], minimum: int) -> None:
    """Results so far: each made order's before/after totals (small counts suppressed, see
    EvaluationResult.briefing_rows) and what they mean, in words."""
    fig.text(0.07, 0.955, "Results so far: before and after each order", fontsize=12, weight="bold")
    fig.text(
        0.07,
        0.935,
        "Target: the order's scope. Buffer: the ring around it (did the problem move next "
        "door?). Control: the rest of the ward, for the trend.",
        fontsize=7.5,
    )
    top = 0.9
    for name, result in results[:4]:
        rows, words = result.briefing_rows(minimum)
        fig.text(
            0.07,
            top,
            mapsheet.plain(
                f"{name}: {result.windows.after.words()} against {result.windows.before.words()}"
            ),
            fontsize=9,
            weight="bold",
        )
        ax = fig.add_axes((0.07, top - 0.1, 0.6, 0.085))
        ax.axis("off")
        t = ax.table(
            cellText=rows.astype(str).values.tolist(),
            colLabels=["Area", "Before", "After", "Change"],
            loc="upper left",
            cellLoc="left",
        )
        t.auto_set_font_size(False)
        t.set_fontsize(7)
        fig.text(
            0.07,
            top - 0.115,
            "\n".join(textwrap.wrap(mapsheet.plain(words), 120)),
            fontsize=7,
            va="top",
        )
        top -= 0.22
    if len(results) > 4:
        fig.text(
            0.07, top, f"{len(results) - 4} more order(s): see the Evaluation page.", fontsize=8
        )


def _first_page(fig, data: BriefingInput, tables: BriefingTables, prepared_on: date) -> None:  # noqa: ANN001
    """What is proposed, where (a shaded map), the legal basis and the partners."""
    minimum = tables.minimum
    fig.text(0.07, 0.955, plain(f"Ward member briefing: {data.title}"), fontsize=14, weight="bold")
    fig.text(
        0.07,
        0.935,
        f"Prepared {prepared_on:%d %B %Y}. No personal data; counts of 1-{minimum - 1} shown "
        f"as <{minimum}. Counts are of {data.window_words}.",
        fontsize=7.5,
    )
    fig.text(0.07, 0.905, "What is proposed", fontsize=11, weight="bold")
    lines = [
        f"- {r.order} (blocks {r.blocks or '-'}): {r.status.replace('_', ' ')}"
        for r in tables.proposals.itertuples()
    ] or ["- no orders yet"]
    fig.text(0.07, 0.895, plain("\n".join(lines[:8])), fontsize=8, va="top")
    ax = fig.add_axes((0.07, 0.36, 0.86, 0.45))
    if data.open_space is not None and len(data.open_space):
        data.open_space.plot(ax=ax, color="#dcebd3", linewidth=0)
    if data.basemap is not None and len(data.basemap):
        streets = data.basemap[data.basemap["feature_class"].astype(str).str.startswith("street:")]
        streets.plot(ax=ax, color="#cfcac0", linewidth=0.6)
    shaded = data.premises.merge(
        tables.per_block[["block_id", "band", "incidents"]], on="block_id", how="left"
    )
    shaded.plot(
        ax=ax,
        color=[BAND_COLOURS.get(b, "#f2f2f2") for b in shaded["band"].fillna("none")],
        edgecolor="#1f3a93",
        linewidth=0.6,
    )
    if len(data.orders):
        data.orders.boundary.plot(ax=ax, color="#d00000", linewidth=1.0)
    for row in shaded.itertuples():
        p = row.geometry.representative_point()
        ax.text(
            p.x, p.y, plain(f"{row.name}\n{row.incidents}"), fontsize=5.5, ha="center", va="center"
        )
    minx, miny, maxx, maxy = data.premises.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.15
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(
        "Where: the blocks, shaded by incidents in or at them; proposed orders edged red",
        fontsize=8,
        loc="left",
    )
    fig.text(0.07, 0.335, "Legal basis in plain words", fontsize=11, weight="bold")
    fig.text(0.07, 0.325, "\n".join(textwrap.wrap(LEGAL_BASIS, 118)), fontsize=7.2, va="top")
    fig.text(0.07, 0.06, plain("Partners: " + ", ".join(data.partners)), fontsize=8)
    fig.text(
        0.07,
        0.035,
        plain("\n".join(textwrap.wrap(" ".join(data.attribution), 170)[:3])),
        fontsize=4.5,
    )


def _second_page(fig, tables: BriefingTables) -> None:  # noqa: ANN001
    """Why: incidents per month (a chart whose bars show only printed counts) and per block."""
    minimum = tables.minimum
    fig.text(0.07, 0.955, "Why: the harm recorded", fontsize=12, weight="bold")
    fig.text(0.07, 0.94, f"Incidents in the area: {tables.total}. {tables.note}", fontsize=7)
    chart = fig.add_axes((0.1, 0.62, 0.82, 0.3))
    if len(tables.per_month):
        # a bar's height is a count too: only counts printed as numbers get one
        shown = tables.per_month["shown"].astype(str)
        visible = tables.per_month["incidents"].where(shown.str.isdigit(), 0)
        chart.bar(tables.per_month["month"], visible, color="#4a6fa5")
        for x, (label, v) in enumerate(zip(shown, visible, strict=True)):
            chart.text(x, v, label, ha="center", va="bottom", fontsize=6)
        chart.tick_params(axis="x", rotation=90, labelsize=6)
    chart.set_title(
        f"Incidents per month, whole area (months under {minimum} shown as <{minimum}; "
        f"'{HIDDEN}': not shown so that a <{minimum} cannot be worked out)",
        fontsize=8,
        loc="left",
    )
    table_ax = fig.add_axes((0.07, 0.3, 0.86, 0.25))
    table_ax.axis("off")
    cells = [
        [plain(v) for v in row]
        for row in tables.per_block[["name", "block_id", "incidents"]].astype(str).values.tolist()
    ]
    t = table_ax.table(
        cellText=cells,
        colLabels=["Block", "Ref", "Incidents in or at the block"],
        loc="upper left",
        cellLoc="left",
    )
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    t.scale(1, 1.3)
    fig.text(0.07, 0.25, "Timeline", fontsize=11, weight="bold")
    fig.text(
        0.07,
        0.24,
        "A notice lasts up to 48 hours; the court hears the case within 48 hours of service; an "
        "order lasts up to 3 months, 6 with extensions. Dates of each order: see 'What is "
        "proposed'.",
        fontsize=7.5,
        va="top",
        wrap=True,
    )
