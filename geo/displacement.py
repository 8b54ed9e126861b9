"""The displacement measures of an evaluation: counts per area, period and category, and what they
say (% change, SM, BD, WDQ, TNE, and an odds ratio with its confidence interval).

Pure functions of counts. Areas (``shared/domain/closure-powers.md`` §4): R = response (target)
area, D = buffer, C = control; b = before, a = after.

Sources: Bowers & Johnson (2003), "Measuring the geographical displacement and diffusion of
benefit effects of crime prevention activity", J. Quantitative Criminology 19(3):275-301; POP
Center Problem-Solving Tool Guide No. 10, Appendices B-C (the WDQ, TNE and their reading).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .categories import STANDARD

AREAS = ("target", "buffer", "control")
PERIODS = ("before", "after")
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
            "the control area has no incidents in one period: SM, BD, WDQ and TNE cannot be "
            "computed"
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
        return (
            "No WDQ: the target did not improve relative to the control, so displacement cannot "
            "be judged."
        )
    if wdq > 1:
        return (
            f"WDQ {wdq:+.3f}: diffusion of benefit - the buffer improved by more than the target's "
            "direct effect."
        )
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
        return (
            f"TNE {tne:+.1f}: about {n:.0f} fewer incidents in target and buffer than the "
            "control's trend predicts."
        )
    if tne < 0:
        return (
            f"TNE {tne:+.1f}: about {n:.0f} more incidents in target and buffer than the control's "
            "trend predicts."
        )
    return "TNE 0: target and buffer together moved exactly with the control."


ODDS_METHOD = (
    "Odds ratio OR = (Ra/Rb) / (Ca/Cb): the target's after/before ratio against the control's "
    "(below 1: the target fell relative to the control). 95% interval exp(ln OR +/- 1.96 SE), SE = "
    "sqrt(1/Rb + 1/Ra + 1/Cb + 1/Ca) - the inverse of Welsh & Farrington's relative effect size "
    "(Campbell Systematic Reviews 2008:17); 0.5 is added to all four counts when any is zero "
    "(Haldane-Anscombe correction). It assumes Poisson counts; crime counts are usually "
    "over-dispersed, so the true interval is wider (Farrington et al. 2007, J. Experimental "
    "Criminology 3:21-38)."
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
            return (
                f"{ci}: the target {way} relative to the control, and chance alone is unlikely "
                f"(the interval is {side} 1)."
            )
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
    """``{area: {period: {"total": n, category: n, ...}}}`` over every area, period and standard
    category."""
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
