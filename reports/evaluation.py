"""An evaluation as documents: the monthly chart (PNG) and the results table (CSV).

The chart has one panel per area (target, buffer, control), because the control's counts are
usually ten times the target's and would flatten it on a shared axis; the before and after windows
are shaded and the notice, order and extension dates drawn as lines.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402 - after the backend is chosen
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from closuremap.geo.displacement import AREAS, ODDS_METHOD  # noqa: E402
from closuremap.geo.evaluation import EvaluationResult  # noqa: E402
from closuremap.layers.csvio import neutralise  # noqa: E402

from .mapsheet import plain as _plain  # noqa: E402

_COLOURS = {"target": "#c0392b", "buffer": "#e67e22", "control": "#2c3e50"}
_EVENT_STYLES = {"notice": ":", "order": "--", "extension": "-."}


def _shade(ax: Any, result: EvaluationResult) -> None:
    for w, colour in ((result.windows.before, "#d6eaf8"), (result.windows.after, "#fdebd0")):
        ax.axvspan(pd.Timestamp(w.start), pd.Timestamp(w.end), color=colour, zorder=0)


def _events(ax: Any, events: list[tuple[str, date]], label: bool) -> None:
    for i, (what, when) in enumerate(events):
        style = next((s for k, s in _EVENT_STYLES.items() if k in what), "-")
        ax.axvline(pd.Timestamp(when), color="#7d3c98", linestyle=style, linewidth=1.2)
        if label:
            ax.annotate(
                _plain(what),
                (pd.Timestamp(when), 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -10 - 10 * (i % 3)),
                textcoords="offset points",
                fontsize=7,
                color="#7d3c98",
            )


def _legend_handles(result: EvaluationResult) -> list[Any]:
    """The chart's key: the before and after windows, and each area's line."""
    handles: list[Any] = [
        Patch(color="#d6eaf8", label="before window"),
        Patch(color="#fdebd0", label="after window"),
    ]
    handles += [
        Line2D([], [], color="#7d3c98", linestyle=style, label=kind)
        for kind, style in _EVENT_STYLES.items()
        if any(kind in what for what, _ in result.events)
    ]
    return handles


def chart_figure(result: EvaluationResult) -> Any:
    """The monthly counts per area as a matplotlib figure (the caller closes it)."""
    monthly = result.monthly
    x = [pd.Period(m, freq="M").start_time + pd.Timedelta(days=14) for m in monthly.index]
    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True, constrained_layout=True)
    for i, (ax, area) in enumerate(zip(axes, AREAS, strict=True)):
        _shade(ax, result)
        ax.plot(x, monthly[area].to_numpy(), marker="o", color=_COLOURS[area], linewidth=2)
        ax.set_ylim(bottom=0, top=max(1, int(monthly[area].max())) * 1.3)
        b, a = result.counts[area]["before"]["total"], result.counts[area]["after"]["total"]
        pct = result.change_pct[area]
        change = "n/a" if pct is None else f"{pct:+.0f}%"
        ax.set_ylabel(f"{area}\nper month", fontsize=9)
        where = f" ({_plain(result.control_name)})" if area == "control" else ""
        ax.set_title(
            f"{area.capitalize()}{where}: {b} before, {a} after ({change})", fontsize=9, loc="left"
        )
        _events(ax, result.events, label=i == 0)
        ax.grid(axis="y", alpha=0.3)
    axes[-1].legend(
        handles=_legend_handles(result),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        fontsize=8,
        ncols=6,
        frameon=False,
    )
    axes[-1].xaxis.set_major_locator(mdates.MonthLocator())
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    wdq = "n/a" if result.wdq is None else f"{result.wdq:+.3f}"
    tne = "n/a" if result.tne is None else f"{result.tne:+.1f}"
    fig.suptitle(_plain(f"{result.title}: incidents per month - WDQ {wdq}, TNE {tne}"), fontsize=11)
    return fig


def chart_png(result: EvaluationResult, dpi: int = 120) -> bytes:
    """The chart as PNG bytes, for the page, the download and the documents."""
    fig = chart_figure(result)
    try:
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi)
        return out.getvalue()
    finally:
        plt.close(fig)


def _cell(value: object) -> object:
    """A CSV cell: numbers as they are, text guarded against spreadsheet formulas (OWASP)."""
    return neutralise(round(value, 3) if isinstance(value, float) and not pd.isna(value) else value)


def results_csv(result: EvaluationResult) -> bytes:
    """The results as CSV: a header block (windows, areas, WDQ, TNE, odds ratio, warnings) then the
    per-category table. UTF-8 with a BOM so spreadsheets read the dashes and apostrophes."""
    out = io.StringIO()
    w = csv.writer(out)  # default "\r\n" terminator: csv quotes any \r or \n inside a field
    d = result.as_dict()
    head: list[tuple[str, object]] = [
        ("title", result.title),
        ("before", result.windows.before.words()),
        ("after", result.windows.after.words()),
        ("windows", result.windows.basis),
        ("control", result.control_name),
        ("buffer_m", result.buffer_m),
        *((f"{a}_area_m2", d["areas"][a]["area_m2"]) for a in AREAS),
        ("sm", result.measure.sm),
        ("bd", result.measure.bd),
        ("wdq", result.wdq),
        ("tne", result.tne),
        ("odds_ratio", result.odds.value),
        ("odds_ratio_ci_low", result.odds.low),
        ("odds_ratio_ci_high", result.odds.high),
        ("odds_ratio_method", ODDS_METHOD),
        *((f"reading_{k}", v) for k, v in d["reading"].items()),
        *(("warning", text) for text in result.warnings),
    ]
    for key, value in head:
        w.writerow([key, _cell(value)])
    w.writerow([])
    table = result.per_category
    w.writerow(list(table.columns))
    for row in table.itertuples(index=False):
        w.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
