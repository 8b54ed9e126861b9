"""Before/after evaluation of a closure with displacement: counts, WDQ, TNE and a significance check.

Everything here is a pure function of counts, dates and geometries; reading a workspace or files is
``layers.evaluation``'s job and drawing the chart is ``reports.evaluation``'s.

Areas (``shared/domain/closure-powers.md`` §4): R = response (target) area, D = buffer, C = control;
b = before, a = after. The three areas are made disjoint so an incident counts once: the buffer is the
ring (or the buffer polygon given) minus the target, the control is the control polygon minus target
and buffer, and a point on a shared edge goes to the first area that touches it, in the order target,
buffer, control.

Sources: Bowers & Johnson (2003), "Measuring the geographical displacement and diffusion of benefit
effects of crime prevention activity", J. Quantitative Criminology 19(3):275-301; POP Center Problem-
Solving Tool Guide No. 10, Appendices B-C (the WDQ, TNE and their reading).
"""

from __future__ import annotations

import math
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
from .errors import ClosuremapError
from .incidents import incident_dates

AREAS = ("target", "buffer", "control")
PERIODS = ("before", "after")
DEFAULT_BUFFER_M = 200.0
DEFAULT_MONTHS = 3
#: Below this many incidents in any area and period a percentage swings by 10 points or more for
#: one incident, and the WDQ's ratios are noise (POP Center Tool Guide 10 warns of small numbers).
SMALL_COUNT = 10
Z_95 = 1.959964

CATEGORY_LABELS = {
    "total": "All incidents",
    "asb": "ASB (all qualifiers)",
    "asb_personal": "ASB - personal",
    "asb_nuisance": "ASB - nuisance",
    "asb_environmental": "ASB - environmental",
    "public_order": "Public order",
    "drugs": "Drugs",
    "weapons": "Possession of weapons",
    "violence": "Violence",
    "burglary": "Burglary",
    "criminal_damage": "Criminal damage and arson",
    "other": "Other",
}
_ASB = ("asb_personal", "asb_nuisance", "asb_environmental")


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
    """``YYYY-MM`` or ``YYYY-MM-DD`` as a date: a month means its first day, or with ``end`` its last.

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
    for name, geom in zip(areas["area"], areas.geometry):
        shapely.prepare(geom)
        hit = shapely.intersects(geom, values)
        out = out.where(~(hit & out.isna().to_numpy()), name)
    return out.astype(object).where(out.notna(), None)


def standard_categories(values: pd.Series) -> pd.Series:
    """The app's standard categories: values already standard stay, others are mapped (geo.categories)."""
    text = values.astype(object)
    return text.where(text.isin(STANDARD), standardise(text))


def change_pct(before: int, after: int) -> float | None:
    """Percentage change, None when there was nothing before.

    >>> change_pct(120, 80)
    -33.33333333333333
    """
    return None if before == 0 else (after - before) / before * 100.0


@dataclass(frozen=True)
class Displacement:
    """SM, BD, WDQ and TNE (Bowers & Johnson 2003; POP Center Tool Guide 10, Appendices B-C)."""

    sm: float | None
    bd: float | None
    wdq: float | None
    tne: float | None
    warnings: tuple[str, ...]


def displacement(rb: int, ra: int, db: int, da: int, cb: int, ca: int) -> Displacement:
    """SM = Ra/Ca - Rb/Cb (must be < 0), BD = Da/Ca - Db/Cb, WDQ = BD/SM,
    TNE = [Rb(Ca/Cb) - Ra] + [Db(Ca/Cb) - Da] (closure-powers.md §4).

    >>> d = displacement(120, 60, 80, 70, 1000, 950)
    >>> round(d.wdq, 3), round(d.tne, 3)
    (0.111, 60.0)
    """
    warnings: list[str] = []
    if cb == 0 or ca == 0:
        warnings.append(
            "the control area has no incidents in one period: SM, BD, WDQ and TNE cannot be computed"
        )
        return Displacement(None, None, None, None, tuple(warnings))
    sm = ra / ca - rb / cb
    bd = da / ca - db / cb
    tne = (rb * (ca / cb) - ra) + (db * (ca / cb) - da)
    wdq: float | None = bd / sm if sm < 0 else None
    if sm >= 0:
        warnings.append(
            f"the success measure is not negative (SM = {sm:+.4f}): the target did not improve "
            "relative to the control, so the WDQ is meaningless and is not given"
        )
    return Displacement(sm, bd, wdq, tne, tuple(warnings))


def wdq_reading(wdq: float | None) -> str:
    """The WDQ in words, by the bands of closure-powers.md §4 (POP Center Tool Guide 10, App. C)."""
    if wdq is None:
        return "No WDQ: the target did not improve relative to the control, so displacement cannot be judged."
    if wdq > 1:
        return f"WDQ {wdq:+.3f}: diffusion of benefit - the buffer improved by more than the target's direct effect."
    if wdq > 0:
        return (
            f"WDQ {wdq:+.3f}: some diffusion of benefit into the buffer; no sign of displacement."
        )
    if wdq == 0:
        return "WDQ 0: neither displacement nor diffusion."
    if wdq > -1:
        return f"WDQ {wdq:+.3f}: some displacement into the buffer, but still a net gain."
    return f"WDQ {wdq:+.3f}: displacement into the buffer outweighs the gain in the target."


def tne_reading(tne: float | None) -> str:
    """The TNE in words: incidents prevented (or added) in target and buffer together, net."""
    if tne is None:
        return "No TNE: the control area has no incidents in a period."
    n = abs(tne)
    if tne > 0:
        return f"TNE {tne:+.1f}: about {n:.0f} fewer incidents in target and buffer than the control's trend predicts."
    if tne < 0:
        return f"TNE {tne:+.1f}: about {n:.0f} more incidents in target and buffer than the control's trend predicts."
    return "TNE 0: target and buffer together moved exactly with the control."


ODDS_METHOD = (
    "Odds ratio OR = (Ra/Rb) / (Ca/Cb): the target's after/before ratio against the control's (below 1: the "
    "target fell relative to the control). 95% interval exp(ln OR +/- 1.96 SE), SE = sqrt(1/Rb + 1/Ra + 1/Cb + "
    "1/Ca) - the inverse of Welsh & Farrington's relative effect size (Campbell Systematic Reviews 2008:17); "
    "0.5 is added to all four counts when any is zero (Haldane-Anscombe correction). It assumes Poisson "
    "counts; crime counts are usually over-dispersed, so the true interval is wider (Farrington et al. 2007, "
    "J. Experimental Criminology 3:21-38)."
)


@dataclass(frozen=True)
class OddsRatio:
    """The target's change against the control's, with a 95% confidence interval."""

    value: float | None
    low: float | None
    high: float | None
    corrected: bool

    def reading(self) -> str:
        if self.value is None or self.low is None or self.high is None:
            return "No significance indication: target and control have no incidents."
        ci = f"Odds ratio {self.value:.2f} (95% CI {self.low:.2f} to {self.high:.2f})"
        if self.high < 1 or self.low > 1:
            way, side = ("fell", "below") if self.high < 1 else ("rose", "above")
            return f"{ci}: the target {way} relative to the control, and chance alone is unlikely (the interval is {side} 1)."
        return f"{ci}: the interval includes 1, so the difference from the control may be chance."

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "ci_low": self.low,
            "ci_high": self.high,
            "zero_corrected": self.corrected,
            "method": ODDS_METHOD,
        }


def odds_ratio(rb: int, ra: int, cb: int, ca: int) -> OddsRatio:
    """OR = (Ra*Cb)/(Rb*Ca) with a log-normal 95% CI (see ``ODDS_METHOD``).

    >>> o = odds_ratio(100, 50, 1000, 1000)
    >>> round(o.value, 2), round(o.low, 2), round(o.high, 2)
    (0.5, 0.35, 0.71)
    """
    cells = [rb, ra, cb, ca]
    if rb + ra == 0 or cb + ca == 0:
        return OddsRatio(None, None, None, False)
    corrected = min(cells) == 0
    b, a, c_b, c_a = (x + 0.5 if corrected else float(x) for x in cells)
    log_or = math.log((a * c_b) / (b * c_a))
    se = math.sqrt(1 / b + 1 / a + 1 / c_b + 1 / c_a)
    return OddsRatio(
        math.exp(log_or), math.exp(log_or - Z_95 * se), math.exp(log_or + Z_95 * se), corrected
    )


def count_cube(
    area: pd.Series, period: pd.Series, category: pd.Series
) -> dict[str, dict[str, dict[str, int]]]:
    """``{area: {period: {"total": n, category: n, ...}}}`` over every area, period and standard category."""
    frame = pd.DataFrame({"area": area, "period": period, "category": category}).dropna(
        subset=["area", "period"]
    )
    grouped = frame.groupby(["area", "period", "category"]).size()
    cube: dict[str, dict[str, dict[str, int]]] = {}
    for a in AREAS:
        cube[a] = {}
        for p in PERIODS:
            cell = {c: int(grouped.get((a, p, c), 0)) for c in STANDARD}
            cube[a][p] = {"total": sum(cell.values()), **cell}
    return cube


def _cell(cube: dict[str, dict[str, dict[str, int]]], area: str, period: str, category: str) -> int:
    part = cube[area][period]
    return sum(part[c] for c in _ASB) if category == "asb" else part[category]


def category_table(cube: dict[str, dict[str, dict[str, int]]]) -> pd.DataFrame:
    """One row per category (all, ASB together, then each standard category with any incidents):
    counts, % change per area, WDQ and TNE - the shape of the reference operation's outcome."""
    rows = []
    for category in ("total", "asb", *STANDARD):
        counts = {(a, p): _cell(cube, a, p, category) for a in AREAS for p in PERIODS}
        if category not in ("total", "asb") and not any(counts.values()):
            continue
        row: dict[str, Any] = {"category": category, "label": CATEGORY_LABELS[category]}
        for a in AREAS:
            row[f"{a}_before"], row[f"{a}_after"] = counts[(a, "before")], counts[(a, "after")]
            row[f"{a}_change_pct"] = change_pct(counts[(a, "before")], counts[(a, "after")])
        d = displacement(*(counts[(a, p)] for a in AREAS for p in PERIODS))
        row["wdq"], row["tne"] = d.wdq, d.tne
        rows.append(row)
    return pd.DataFrame(rows)


def monthly_counts(months: pd.Series, area: pd.Series, windows: Windows) -> pd.DataFrame:
    """Incidents per calendar month and area over the span of both windows (months without any as 0)."""
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
    """Everything an evaluation found, for the page, the CLI, the CSV/PNG and (later) the documents."""

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
        """The JSON the CLI prints: ``counts``, ``change_pct``, ``wdq``, ``tne``, ``reading``, ``warnings`` and
        the windows, areas, SM/BD, odds ratio, per-category table, monthly counts and events behind them."""
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
                for a, m2 in zip(self.areas["area"], self.areas["area_m2"])
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
                f"Some areas had fewer than {minimum} incidents in a window, so the displacement figures "
                "(WDQ, TNE) are not shown here; they are in the evaluation for the court and partners."
            )
        else:
            words = f"{self.reading['wdq']} {self.reading['tne']} {self.odds.reading()}"
        return pd.DataFrame(rows, columns=["area", "before", "after", "change"]), words

    def suppressed_table(self, minimum: int = DEFAULT_MINIMUM) -> pd.DataFrame:
        """Counts per area and category for audiences who must not see small numbers (ward members):
        1 to minimum-1 shown as '<minimum', and a change hidden when it would give a small count away."""
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
        f"small counts ({', '.join(small)}; fewer than {min_count}): one incident moves the percentage a long "
        "way and the WDQ is unreliable - read the figures as an indication only"
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

    ``incidents[date_column]`` holds ISO dates or date-times, or police.uk months (``YYYY-MM``), which
    count only in a window that holds the whole month."""
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
            f"{straddling} month-only incidents (police.uk) fall in a month that a window splits and are "
            "not counted: start the windows on the 1st of a month (e.g. 2024-04-01)"
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
            f"the incidents run from {known.min():%b %Y} to {known.max():%b %Y}, which does not cover "
            f"both windows ({first:%b %Y} to {last:%b %Y}): counts at the edges are incomplete"
        )
    notes = [
        f"{int(area.isna().sum())} incidents lie outside target, buffer and control and are not counted",
        "areas are disjoint: buffer = ring minus target, control = chosen area minus target and buffer; "
        "a point on a shared edge counts once, for the first of target, buffer, control",
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
