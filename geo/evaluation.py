"""Before/after evaluation of a closure: the windows, the areas, and the counts that go into the
displacement measures (``geo.displacement``: WDQ, TNE and a significance check).

Everything here is a pure function of counts, dates and geometries; reading a workspace or files
is ``layers.evaluation``'s job and drawing the chart is ``reports.evaluation``'s.

Areas (``shared/domain/closure-powers.md`` §4): target, buffer and control, made disjoint so an
incident counts once: the buffer is the ring (or the buffer polygon given) minus the target, the
control is the control polygon minus target and buffer, and a point on a shared edge goes to the
first area that touches it, in the order target, buffer, control.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from .aggregate import DEFAULT_MINIMUM, suppress
from .categories import STANDARD, standardise
from .crs import BNG
from .displacement import (
    AREAS,
    PERIODS,
    Displacement,
    OddsRatio,
    category_table,
    change_pct,
    count_cube,
    displacement,
    odds_ratio,
    tne_reading,
    wdq_reading,
)
from .errors import ClosuremapError
from .incidents import incident_dates

DEFAULT_BUFFER_M = 200.0
DEFAULT_MONTHS = 3
#: Below this many incidents in any area and period a percentage swings by 10 points or more for
#: one incident, and the WDQ's ratios are noise (POP Center Tool Guide 10 warns of small numbers).
SMALL_COUNT = 10


class EvaluationError(ClosuremapError):
    """Areas or dates an evaluation cannot be made from; the message says what to change."""


@dataclass(frozen=True)
class Window:
    """A half-open date window [start, end): ``end`` is the first day not included."""

    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def words(self) -> str:
        return f"{self.start:%d %b %Y} to {self.last_day:%d %b %Y}"

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.last_day.isoformat()}


@dataclass(frozen=True)
class Windows:
    before: Window
    after: Window
    basis: str


def parse_month_or_date(text: str, what: str, *, end: bool = False) -> date:
    """``YYYY-MM`` or ``YYYY-MM-DD`` as a date: a month means its first day, with ``end`` its last.

    >>> parse_month_or_date("2024-03", "--start"), parse_month_or_date("2024-02", "--end", end=True)
    (datetime.date(2024, 3, 1), datetime.date(2024, 2, 29))
    """
    t = str(text).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", t):
            first = date.fromisoformat(t + "-01")
            return first + relativedelta(months=1) - timedelta(days=1) if end else first
        return date.fromisoformat(t[:10])
    except ValueError:
        raise EvaluationError(
            f"{what} '{text}' is not a date: use YYYY-MM (police.uk months) or YYYY-MM-DD"
        ) from None


def _months_between(a: date, b: date) -> int | None:
    """Whole months from a to b when both fall on the same day of the month, else None."""
    delta = relativedelta(b, a)
    return delta.years * 12 + delta.months if delta.days == 0 else None


def make_windows(
    start: date,
    *,
    end: date | None = None,
    before_months: int | None = None,
    after_months: int | None = None,
    year_earlier: bool = False,
) -> Windows:
    """The before and after windows: after = [start, end] (or ``after_months`` from start); before =
    the same length just before start, or with ``year_earlier`` the same dates a year earlier, which
    takes seasonality out (closure-powers.md §4, Practice)."""
    if end is not None and end < start:
        raise EvaluationError(
            f"the end {end} is before the start {start}: give --end after --start"
        )
    after_end = (
        end + timedelta(days=1)
        if end is not None
        else start + relativedelta(months=after_months or DEFAULT_MONTHS)
    )
    after = Window(start, after_end)
    months = _months_between(start, after_end)
    if year_earlier:
        before = Window(start - relativedelta(years=1), after_end - relativedelta(years=1))
        basis = "the same dates a year earlier"
    elif before_months is not None and before_months != months:
        before = Window(start - relativedelta(months=before_months), start)
        basis = (
            f"{before_months} months before against {months or (after_end - start).days} "
            f"{'months' if months else 'days'} from the start"
        )
    elif months is not None:
        before = Window(start - relativedelta(months=months), start)  # equal lengths (§4 Practice)
        basis = f"equal lengths: {months} months before and after"
    else:
        before = Window(start - (after_end - start), start)
        basis = f"equal lengths: {(after_end - start).days} days before and after"
    return Windows(before, after, basis)


def periods_of(dates: pd.Series, month_only: pd.Series, windows: Windows) -> tuple[pd.Series, int]:
    """Each incident's period ('before', 'after' or None) and how many month-only incidents were
    left out because their month straddles a window's edge (police.uk gives only the month, so such
    a month cannot be split; it is counted only when the whole month lies inside a window)."""
    lo = pd.to_datetime(dates)
    hi = lo.where(~month_only, lo + pd.offsets.MonthBegin(1))  # exclusive end of a month-only span
    out = pd.Series(None, index=dates.index, dtype=object)
    straddling = pd.Series(False, index=dates.index)
    for name, w in (("before", windows.before), ("after", windows.after)):
        ws, we = pd.Timestamp(w.start), pd.Timestamp(w.end)
        inside = (lo >= ws) & np.where(month_only, hi <= we, lo < we)
        overlaps = month_only & (lo < we) & (hi > ws) & ~inside
        out = out.where(~(inside & out.isna()), name)
        straddling |= overlaps.fillna(False).astype(bool)
    return out.astype(object).where(out.notna(), None), int((straddling & out.isna()).sum())


def month_only_mask(text: pd.Series) -> pd.Series:
    """Which dates are police.uk months (``YYYY-MM``) rather than days or date-times."""
    return (
        text.astype("string").str.strip().str.fullmatch(r"\d{4}-\d{2}").fillna(False).astype(bool)
    )


def evaluation_areas(
    target: BaseGeometry,
    control: BaseGeometry,
    *,
    buffer_m: float | None = DEFAULT_BUFFER_M,
    buffer_area: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Target, buffer and control as three disjoint polygons in BNG, with ``area_m2``.

    The buffer is the ring of ``buffer_m`` metres round the target (or ``buffer_area``) minus the
    target; the control is ``control`` minus target and buffer (§4: an adjacent buffer, an untouched
    control)."""
    target = shapely.make_valid(shapely.union_all(target)) if target is not None else None
    if target is None or target.is_empty or target.area <= 0:
        raise EvaluationError(
            "the target has no area: give a scope or a polygon file for the target"
        )
    if buffer_area is not None:
        ring = shapely.make_valid(buffer_area).difference(target)
    elif buffer_m is not None and buffer_m > 0:
        ring = target.buffer(buffer_m).difference(target)
    else:
        raise EvaluationError("give a buffer: a width in metres (e.g. 200) or a buffer polygon")
    if ring.is_empty or ring.area <= 0:
        raise EvaluationError(
            "the buffer has no area outside the target: widen it or draw one round the target"
        )
    rest = shapely.make_valid(control).difference(target).difference(ring)
    if rest.is_empty or rest.area <= 0:
        raise EvaluationError(
            "the control area lies wholly inside the target and buffer: choose a larger or "
            "different control area (e.g. the ward or borough)"
        )
    geoms = [target, ring, rest]
    return gpd.GeoDataFrame(
        {"area": list(AREAS), "area_m2": [g.area for g in geoms]}, geometry=geoms, crs=BNG
    )


def assign_areas(points: gpd.GeoSeries, areas: gpd.GeoDataFrame) -> pd.Series:
    """Each point's area ('target', 'buffer', 'control' or None): the first area that covers it,
    boundary included, in the order target, buffer, control."""
    out = pd.Series(None, index=points.index, dtype=object)
    values = points.values
    for name, geom in zip(areas["area"], areas.geometry, strict=True):
        shapely.prepare(geom)
        hit = shapely.intersects(geom, values)
        out = out.where(~(hit & out.isna().to_numpy()), name)
    return out.astype(object).where(out.notna(), None)


def standard_categories(values: pd.Series) -> pd.Series:
    """The app's standard categories: standard values stay, others are mapped (geo.categories)."""
    text = values.astype(object)
    return text.where(text.isin(STANDARD), standardise(text))


def monthly_counts(months: pd.Series, area: pd.Series, windows: Windows) -> pd.DataFrame:
    """Incidents per calendar month and area over the span of both windows (none as 0)."""
    span = pd.period_range(windows.before.start, windows.after.last_day, freq="M")
    if windows.after.start < windows.before.start:
        span = pd.period_range(windows.after.start, windows.before.last_day, freq="M")
    frame = pd.DataFrame({"month": months, "area": area}).dropna()
    table = frame.groupby(["month", "area"]).size().unstack(fill_value=0)
    table = (
        table.reindex(index=span.astype(str), columns=list(AREAS), fill_value=0)
        .fillna(0)
        .astype(int)
    )
    table.index.name = "month"
    return table


@dataclass
class EvaluationResult:
    """Everything an evaluation found, for the page, the CLI, the CSV/PNG and the documents."""

    title: str
    areas: gpd.GeoDataFrame
    windows: Windows
    counts: dict[str, dict[str, dict[str, int]]]
    per_category: pd.DataFrame
    measure: Displacement
    odds: OddsRatio
    monthly: pd.DataFrame
    control_name: str = "control area"
    buffer_m: float | None = None
    events: list[tuple[str, date]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def wdq(self) -> float | None:
        return self.measure.wdq

    @property
    def tne(self) -> float | None:
        return self.measure.tne

    @property
    def change_pct(self) -> dict[str, float | None]:
        return {
            a: change_pct(self.counts[a]["before"]["total"], self.counts[a]["after"]["total"])
            for a in AREAS
        }

    def _change_words(self, area: str) -> str:
        b, a = self.counts[area]["before"]["total"], self.counts[area]["after"]["total"]
        pct = change_pct(b, a)
        how = (
            "no change"
            if pct == 0
            else "no incidents before"
            if pct is None
            else f"{'a fall' if pct < 0 else 'a rise'} of {abs(pct):.0f}%"
        )
        return f"{area.capitalize()}: {b} incidents before, {a} after - {how}."

    @property
    def reading(self) -> dict[str, str]:
        """Each figure in words; ``summary`` is the sentence a briefing would lead with."""
        words = {a: self._change_words(a) for a in AREAS}
        words["wdq"], words["tne"] = wdq_reading(self.wdq), tne_reading(self.tne)
        words["significance"] = self.odds.reading()
        t = self.change_pct["target"]
        verb = (
            "could not be measured"
            if t is None
            else "fell"
            if t < 0
            else "rose"
            if t > 0
            else "did not change"
        )
        lead = verb + (f" {abs(t):.0f}%" if t else "")
        words["summary"] = (
            f"Incidents in the target {lead} ({self.windows.after.words()} against "
            f"{self.windows.before.words()}). {words['wdq']} {words['tne']}"
        )
        return words

    def as_dict(self) -> dict[str, Any]:
        """The JSON the CLI prints: ``counts``, ``change_pct``, ``wdq``, ``tne``, ``reading``,
        ``warnings`` and the windows, areas, SM/BD, odds ratio, per-category table, monthly counts
        and events behind them."""
        table = self.per_category.astype(object).where(self.per_category.notna(), None)
        return {
            "title": self.title,
            "windows": {
                "before": self.windows.before.as_dict(),
                "after": self.windows.after.as_dict(),
                "basis": self.windows.basis,
            },
            "areas": {
                a: {"area_m2": round(float(m2), 1)}
                for a, m2 in zip(self.areas["area"], self.areas["area_m2"], strict=True)
            },
            "buffer_m": self.buffer_m,
            "control": self.control_name,
            "counts": self.counts,
            "change_pct": self.change_pct,
            "sm": self.measure.sm,
            "bd": self.measure.bd,
            "wdq": self.wdq,
            "tne": self.tne,
            "odds_ratio": self.odds.as_dict(),
            "reading": self.reading,
            "warnings": list(self.warnings),
            "per_category": table.to_dict(orient="records"),
            "monthly": {
                m: {a: int(v) for a, v in row.items()} for m, row in self.monthly.iterrows()
            },
            "events": [{"event": e, "date": d.isoformat()} for e, d in self.events],
            "notes": list(self.notes),
        }

    def briefing_rows(self, minimum: int = DEFAULT_MINIMUM) -> tuple[pd.DataFrame, str]:
        """What a ward briefing may print: each area's total before and after (1 to minimum-1 as
        '<minimum'), the change only where both counts are shown, and a sentence. The areas are
        disjoint and no sum of them is printed, so no suppressed count can be had by subtraction;
        WDQ and TNE are combinations of all six counts, so they are left out when any is small."""
        rows, small = [], False
        for a in AREAS:
            b, af = self.counts[a]["before"]["total"], self.counts[a]["after"]["total"]
            hidden = any(0 < x < minimum for x in (b, af))
            small |= hidden
            pct = change_pct(b, af)
            shown = suppress(pd.Series([b, af]), minimum).tolist()
            rows.append(
                {
                    "area": a,
                    "before": shown[0],
                    "after": shown[1],
                    "change": "-" if hidden or pct is None else f"{pct:+.0f}%",
                }
            )
        if small:
            words = (
                f"Some areas had fewer than {minimum} incidents in a window, so the displacement "
                "figures (WDQ, TNE) are not shown here; they are in the evaluation for the court "
                "and partners."
            )
        else:
            words = f"{self.reading['wdq']} {self.reading['tne']} {self.odds.reading()}"
        return pd.DataFrame(rows, columns=["area", "before", "after", "change"]), words

    def suppressed_table(self, minimum: int = DEFAULT_MINIMUM) -> pd.DataFrame:
        """Counts per area and category for audiences who must not see small numbers (ward members):
        1 to minimum-1 shown as '<minimum', and a change hidden when it would give a small count
        away."""
        rows = []
        for _, r in self.per_category.iterrows():
            for a in AREAS:
                b, af = int(r[f"{a}_before"]), int(r[f"{a}_after"])
                small = any(0 < x < minimum for x in (b, af))
                pct = r[f"{a}_change_pct"]
                change = "-" if small or pct is None or pd.isna(pct) else f"{pct:+.0f}%"
                shown = suppress(pd.Series([b, af]), minimum).tolist()
                rows.append(
                    {
                        "category": r["label"],
                        "area": a,
                        "before": shown[0],
                        "after": shown[1],
                        "change": change,
                    }
                )
        return pd.DataFrame(rows, columns=["category", "area", "before", "after", "change"])


def _warnings(cube: dict[str, dict[str, dict[str, int]]], min_count: int) -> list[str]:
    """Small counts and zeros (closure-powers.md §4: 'flag small counts or zeros')."""
    small = [
        f"{a} {p} {cube[a][p]['total']}"
        for a in AREAS
        for p in PERIODS
        if cube[a][p]["total"] < min_count
    ]
    if not small:
        return []
    return [
        f"small counts ({', '.join(small)}; fewer than {min_count}): one incident moves the "
        "percentage a long way and the WDQ is unreliable - read the figures as an indication only"
    ]


def evaluate(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    windows: Windows,
    *,
    date_column: str = "occurred_at",
    category_column: str = "category",
    title: str = "",
    control_name: str = "control area",
    buffer_m: float | None = None,
    events: list[tuple[str, date]] | None = None,
    min_count: int = SMALL_COUNT,
) -> EvaluationResult:
    """Count incidents per area, period and category and compute the measures.

    ``incidents[date_column]`` holds ISO dates or date-times, or police.uk months (``YYYY-MM``),
    which count only in a window that holds the whole month."""
    text = (
        incidents[date_column]
        if date_column in incidents
        else pd.Series(None, index=incidents.index)
    )
    dates = incident_dates(incidents, date_column)
    month_only = month_only_mask(text)
    period, straddling = periods_of(dates, month_only, windows)
    area = assign_areas(incidents.geometry, areas)
    raw = (
        incidents[category_column]
        if category_column in incidents
        else pd.Series("other", index=incidents.index)
    )
    category = standard_categories(raw.fillna("other"))
    cube = count_cube(area, period, category)
    measure = displacement(*(cube[a][p]["total"] for a in AREAS for p in PERIODS))
    odds = odds_ratio(*(cube[a][p]["total"] for a in ("target", "control") for p in PERIODS))
    warnings = list(measure.warnings) + _warnings(cube, min_count)
    if straddling:
        warnings.append(
            f"{straddling} month-only incidents (police.uk) fall in a month that a window splits "
            "and are not counted: start the windows on the 1st of a month (e.g. 2024-04-01)"
        )
    undated = int(dates.isna().sum())
    if undated:
        warnings.append(f"{undated} incidents have no readable date and are not counted")
    if windows.before.end > windows.after.start:
        warnings.append(
            "the before and after windows overlap: shorten the after window to 12 months or less"
        )
    known = dates.dropna().dt.to_period("M")
    first = pd.Period(min(windows.before.start, windows.after.start), freq="M")
    last = pd.Period(max(windows.before.last_day, windows.after.last_day), freq="M")
    if len(known) and (known.min() > first or known.max() < last):
        warnings.append(
            f"the incidents run from {known.min():%b %Y} to {known.max():%b %Y}, which does not "
            f"cover both windows ({first:%b %Y} to {last:%b %Y}): counts at the edges are "
            "incomplete"
        )
    notes = [
        f"{int(area.isna().sum())} incidents lie outside target, buffer and control and are not "
        "counted",
        "areas are disjoint: buffer = ring minus target, control = chosen area minus target and "
        "buffer; a point on a shared edge counts once, for the first of target, buffer, control",
    ]
    months = dates.dt.to_period("M").astype(str).where(dates.notna(), None)
    return EvaluationResult(
        title=title,
        areas=areas,
        windows=windows,
        counts=cube,
        per_category=category_table(cube),
        measure=measure,
        odds=odds,
        monthly=monthly_counts(months, area, windows),
        control_name=control_name,
        buffer_m=buffer_m,
        events=list(events or []),
        warnings=warnings,
        notes=notes,
    )
