"""Counts for audiences who must not see personal data: ward members, residents.

Incidents are aggregated to blocks (or months) and any count from 1 to ``minimum - 1`` is shown as
"<minimum", so no small group of incidents, and no incident's place, can be picked out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

DEFAULT_MINIMUM = 5
BLOCK_REACH_M = 10.0  # incidents at a door or on a block's path count for the block


def suppress(counts: pd.Series, minimum: int = DEFAULT_MINIMUM) -> pd.Series:
    """Counts as text, with 1..minimum-1 shown as '<minimum'.

    >>> suppress(pd.Series([0, 3, 5, 12])).tolist()
    ['0', '<5', '5', '12']
    """
    values = counts.astype(int)
    return values.astype(str).where(~values.between(1, minimum - 1), f"<{minimum}")


def counts_by_block(incidents: gpd.GeoDataFrame, premises: gpd.GeoDataFrame,
                    reach_m: float = BLOCK_REACH_M) -> pd.DataFrame:
    """Incidents per block: those within ``reach_m`` of its footprint, each counted for its nearest block."""
    if not len(incidents) or not len(premises):
        return pd.DataFrame({"block_id": premises.get("block_id", []), "name": premises.get("name", []),
                             "incidents": 0})
    joined = gpd.sjoin_nearest(incidents[["geometry"]], premises[["block_id", "geometry"]], how="inner",
                               max_distance=reach_m, distance_col="distance_m")
    joined = joined[~joined.index.duplicated(keep="first")]
    counts = joined.groupby("block_id").size()
    out = premises[["block_id", "name"]].copy()
    out["incidents"] = out["block_id"].map(counts).fillna(0).astype(int)
    return out.reset_index(drop=True)


def counts_by_month(incidents: gpd.GeoDataFrame | pd.DataFrame, column: str = "occurred_at") -> pd.Series:
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
    labels = ["none", f"1-{minimum - 1}", f"{minimum}-{2 * minimum - 1}", f"{2 * minimum}-{5 * minimum - 1}",
              f"{5 * minimum}+"]
    return pd.cut(counts, bins=bins, labels=labels).astype(str)
