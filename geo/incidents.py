"""Incidents for the map and the tables: when they happened, filters, counts per area."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd


def incident_dates(frame: pd.DataFrame, column: str = "occurred_at") -> pd.Series:
    """Each incident's date (a month-only police.uk date counts as the 1st); NaT where unknown."""
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index)
    text = frame[column].astype("string").str.slice(0, 10)
    month_only = text.str.fullmatch(r"\d{4}-\d{2}").fillna(False)
    text = text.where(~month_only, text + "-01")
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")


def filter_incidents(frame: gpd.GeoDataFrame, *, start: date | None = None, end: date | None = None,
                     categories: Iterable[str] | None = None, sources: Iterable[str] | None = None,
                     precisions: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """The incidents within the date window (inclusive) and of the chosen categories, sources and
    precisions; ``None`` means no filter on that field. Undated incidents drop out of a date filter."""
    keep = np.ones(len(frame), dtype=bool)
    if start is not None or end is not None:
        when = incident_dates(frame)
        if start is not None:
            keep &= (when >= pd.Timestamp(start)).fillna(False).to_numpy()
        if end is not None:
            keep &= (when < pd.Timestamp(end) + pd.Timedelta(days=1)).fillna(False).to_numpy()
    for column, allowed in (("category", categories), ("source", sources), ("precision", precisions)):
        if allowed is not None and column in frame:
            keep &= frame[column].fillna("(none)").isin(list(allowed)).to_numpy()
    return frame[keep]


def counts_in(areas: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, reach_m: float = 0.0) -> pd.Series:
    """How many incidents fall in (or within ``reach_m`` of) each area, on the areas' index."""
    if not len(areas):
        return pd.Series(dtype=int)
    if not len(incidents):
        return pd.Series(0, index=areas.index)
    shapes = areas[["geometry"]].copy()
    if reach_m:
        shapes["geometry"] = shapes.buffer(reach_m)
    joined = gpd.sjoin(incidents[["geometry"]], shapes, how="inner", predicate="within")
    return joined.groupby("index_right").size().reindex(areas.index, fill_value=0).astype(int)
