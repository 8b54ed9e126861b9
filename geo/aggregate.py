"""Counts for audiences who must not see personal data: ward members, residents.

Incidents are aggregated to blocks (or months) and any count from 1 to ``minimum - 1`` is shown as
"<minimum", so no small group of incidents, and no incident's place, can be picked out. A "<5" alone
in a table is undone by subtraction from the total (4 of 4 cases in the ward briefing), so
:func:`protect` hides further cells until no small count can be worked out even from the exact
total, and totals are printed rounded (:func:`about`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd

import geopandas as gpd

DEFAULT_MINIMUM = 5
BLOCK_REACH_M = 10.0  # incidents at a door or on a block's path count for the block


def suppress(counts: pd.Series, minimum: int = DEFAULT_MINIMUM) -> pd.Series:
    """Counts as text, with 1..minimum-1 shown as '<minimum'.

    >>> suppress(pd.Series([0, 3, 5, 12])).tolist()
    ['0', '<5', '5', '12']
    """
    values = counts.astype(int)
    return values.astype(str).where(~values.between(1, minimum - 1), f"<{minimum}")


def counts_by_block(
    incidents: gpd.GeoDataFrame, premises: gpd.GeoDataFrame, reach_m: float = BLOCK_REACH_M
) -> pd.DataFrame:
    """Incidents per block: those within ``reach_m`` of its footprint, counted for the nearest."""
    if not len(incidents) or not len(premises):
        return pd.DataFrame(
            {
                "block_id": premises.get("block_id", []),
                "name": premises.get("name", []),
                "incidents": 0,
            }
        )
    joined = gpd.sjoin_nearest(
        incidents[["geometry"]],
        premises[["block_id", "geometry"]],
        how="inner",
        max_distance=reach_m,
        distance_col="distance_m",
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    counts = joined.groupby("block_id").size()
    out: pd.DataFrame = premises[["block_id", "name"]].copy()  # geopandas is untyped: Any
    out["incidents"] = out["block_id"].map(counts).fillna(0).astype(int)
    return out.reset_index(drop=True)


def counts_by_month(
    incidents: gpd.GeoDataFrame | pd.DataFrame, column: str = "occurred_at"
) -> pd.Series:
    """Incidents per calendar month (YYYY-MM), months without any included as 0."""
    if not len(incidents) or column not in incidents:
        return pd.Series(dtype=int)
    months = incidents[column].astype(str).str.slice(0, 7)
    months = months[months.str.match(r"^\d{4}-\d{2}$")]
    if months.empty:
        return pd.Series(dtype=int)
    span = pd.period_range(months.min(), months.max(), freq="M").astype(str)
    return months.value_counts().reindex(span, fill_value=0).astype(int)


def counts_by_category(incidents: pd.DataFrame, column: str = "category") -> pd.Series:
    if not len(incidents) or column not in incidents:
        return pd.Series(dtype=int)
    return incidents[column].fillna("uncategorised").value_counts().astype(int)


def shade_classes(counts: pd.Series, minimum: int = DEFAULT_MINIMUM) -> pd.Series:
    """A band per count for a shaded map, with every small count in one band."""
    bins = [-1, 0, minimum - 1, 2 * minimum - 1, 5 * minimum - 1, np.inf]
    labels = [
        "none",
        f"1-{minimum - 1}",
        f"{minimum}-{2 * minimum - 1}",
        f"{2 * minimum}-{5 * minimum - 1}",
        f"{5 * minimum}+",
    ]
    return pd.cut(counts, bins=bins, labels=labels).astype(str)


# -- suppression that survives subtraction -------------------------------------------------------
#: How a cell hidden only to protect a small count elsewhere (secondary suppression) is printed.
HIDDEN = "hidden"


def band_range(band: str, minimum: int) -> tuple[int, float]:
    """The counts a printed band (:func:`shade_classes`) allows: "5-9" (5, 9), "25+" (25, inf)."""
    if band == "none":
        return 0, 0
    low, _, high = band.partition("-")
    return (int(low.rstrip("+")), float("inf")) if band.endswith("+") else (int(low), int(high))


def _domain(
    value: int, state: str, minimum: int, total: int, band: tuple[int, float] | None
) -> set[int]:
    """What a reader can tell a cell holds: its value if shown, 1..minimum-1 for '<minimum', and for
    a hidden cell 0 or at least ``minimum`` (else it would say '<minimum'), within its band."""
    if state == "shown":
        return {value}
    values = set(range(1, minimum)) if state == "small" else {0, *range(minimum, total + 1)}
    if band is not None:
        values = {v for v in values if band[0] <= v <= band[1]}
    return {v for v in values if v <= total}


def _sums(domains: list[set[int]], cap: int) -> int:
    """Bit mask of every total (up to ``cap``) the cells can add up to."""
    mask = 1
    full = (1 << (cap + 1)) - 1
    for d in domains:
        mask = 0 if not d else functools.reduce(lambda m, v: m | (mask << v), d, 0) & full
    return mask


def recoverable(
    values: Sequence[int],
    states: Sequence[str],
    minimum: int = DEFAULT_MINIMUM,
    bands: Sequence[tuple[int, float]] | None = None,
) -> list[int]:
    """Positions of '<minimum' cells whose exact value a reader could work out if the table's exact
    total were known too (the worst case: the total may be printed elsewhere or implied by
    another table). Solved exactly over the integers, not just by interval bounds."""
    total = int(sum(values))
    domains = [
        _domain(int(v), s, minimum, total, None if bands is None else bands[i])
        for i, (v, s) in enumerate(zip(values, states, strict=True))
    ]
    out = []
    for i, state in enumerate(states):
        if state != "small":
            continue
        others = _sums(domains[:i] + domains[i + 1 :], total)
        feasible = [v for v in domains[i] if total - v >= 0 and (others >> (total - v)) & 1]
        if len(feasible) <= 1:
            out.append(i)
    return out


def protect(
    counts: pd.Series, minimum: int = DEFAULT_MINIMUM, bands: pd.Series | None = None
) -> pd.Series:
    """Counts as text with small counts shown as '<minimum' and, where a reader could otherwise
    work one out by subtraction from a total, the smallest other counts shown as 'hidden' too
    (secondary suppression, as statistical offices do), until none can be.

    ``bands``: the shading band printed for each cell (a map), which the reader also sees.

    >>> protect(pd.Series([3, 6, 9, 20])).tolist()
    ['<5', 'hidden', '9', '20']
    """
    values = [int(v) for v in counts.astype(int)]
    states = ["small" if 1 <= v < minimum else "shown" for v in values]
    ranges = None if bands is None else [band_range(str(b), minimum) for b in bands]
    order = sorted(
        (i for i, v in enumerate(values) if states[i] == "shown"),
        key=lambda i: (values[i] == 0, values[i]),
    )
    while "small" in states and recoverable(values, states, minimum, ranges) and order:
        states[order.pop(0)] = "hidden"
    text = [
        str(v) if s == "shown" else f"<{minimum}" if s == "small" else HIDDEN
        for v, s in zip(values, states, strict=True)
    ]
    return pd.Series(text, index=counts.index, dtype=object)


def about(total: int, base: int = 5) -> str:
    """A total rounded to ``base`` and said to be approximate, so it cannot undo a suppression.

    >>> about(37), about(2)
    ('about 35', 'fewer than 5')
    """
    if total < base:
        return f"fewer than {base}" if total else "0"
    return f"about {int(base * round(total / base))}"
