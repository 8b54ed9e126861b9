"""Incidents for the map and the tables: when they happened, filters, counts per area."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

import geopandas as gpd
from shapely.geometry.base import BaseGeometry


def incident_dates(frame: pd.DataFrame, column: str = "occurred_at") -> pd.Series:
    """Each incident's date (a month-only police.uk date counts as the 1st); NaT where unknown."""
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index)
    text = frame[column].astype("string").str.slice(0, 10)
    month_only = text.str.fullmatch(r"\d{4}-\d{2}").fillna(False)
    text = text.where(~month_only, text + "-01")
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")


def filter_incidents(
    frame: gpd.GeoDataFrame,
    *,
    start: date | None = None,
    end: date | None = None,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    precisions: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """The incidents within the date window (inclusive) and of the chosen categories, sources and
    precisions; ``None`` means no filter on that field. Undated incidents drop out of a date
    filter."""
    keep = np.ones(len(frame), dtype=bool)
    if start is not None or end is not None:
        when = incident_dates(frame)
        if start is not None:
            keep &= (when >= pd.Timestamp(start)).fillna(False).to_numpy()
        if end is not None:
            keep &= (when < pd.Timestamp(end) + pd.Timedelta(days=1)).fillna(False).to_numpy()
    for column, allowed in (
        ("category", categories),
        ("source", sources),
        ("precision", precisions),
    ):
        if allowed is not None and column in frame:
            keep &= frame[column].fillna("(none)").isin(list(allowed)).to_numpy()
    return frame[keep]


def counts_in(
    areas: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, reach_m: float = 0.0
) -> pd.Series:
    """How many incidents fall in (or within ``reach_m`` of) each area, on the areas' index."""
    if not len(areas):
        return pd.Series(dtype=int)
    if not len(incidents):
        return pd.Series(0, index=areas.index)
    shapes = areas[["geometry"]].copy()
    if reach_m:
        shapes["geometry"] = shapes.buffer(reach_m)
    joined = gpd.sjoin(incidents[["geometry"]], shapes, how="inner", predicate="within")
    counts: pd.Series = joined.groupby("index_right").size()  # geopandas is untyped: Any
    return counts.reindex(areas.index, fill_value=0).astype(int)


#: How far from a scope an incident still counts as evidence about it (at its doors, on its path).
EVIDENCE_REACH_M = 10.0


def evidence_incidents(
    incidents: gpd.GeoDataFrame,
    scope: BaseGeometry,
    start: date,
    end: date,
    reach_m: float = EVIDENCE_REACH_M,
) -> gpd.GeoDataFrame:
    """The incidents that are evidence about a scope: on it or within ``reach_m`` of it, dated from
    ``start`` to ``end`` inclusive. A month-only date (police.uk) counts as the 1st of its month;
    undated incidents are left out, because a court chronology cannot place them."""
    near = incidents[incidents.distance(scope) <= reach_m]
    return filter_incidents(near, start=start, end=end)


def _place(
    point: BaseGeometry, communal: gpd.GeoDataFrame | None, premises: gpd.GeoDataFrame
) -> str:
    """Where an incident was, at block or communal-area level (never the flat or exact point)."""
    has_names = "block_id" in premises and "name" in premises
    names = dict(zip(premises["block_id"], premises["name"], strict=True)) if has_names else {}
    if communal is not None and len(communal):
        hit = communal[communal.contains(point)]
        if len(hit):
            row = hit.iloc[0]
            block = names.get(row.get("block_id"), row.get("block_id"))
            what = str(row.get("name") or row.get("area_type") or "communal area")
            return f"{block}: {what}"
    if len(premises):
        distances = premises.distance(point)
        nearest = distances.idxmin()
        if distances[nearest] <= EVIDENCE_REACH_M:
            where = "in" if distances[nearest] == 0 else "at"
            block = premises.loc[nearest]
            return f"{where} {block.get('name') or block.get('block_id')}"
    return "near the premises"


def chronology(
    incidents: gpd.GeoDataFrame,
    premises: gpd.GeoDataFrame,
    communal: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """The incident chronology of a court bundle: date, time, category, reference and place (block
    or communal area), oldest first. No description, address or coordinates."""
    when = incident_dates(incidents)
    text = (
        incidents.get("occurred_at", pd.Series("", index=incidents.index))
        .astype("string")
        .fillna("")
    )
    month_only = text.str.fullmatch(r"\d{4}-\d{2}").fillna(False)
    times = text.str.extract(r"[T ](\d{2}:\d{2})", expand=False).fillna("")
    rows = pd.DataFrame(
        {
            "date": [
                d.strftime("%Y-%m-%d") for d in when
            ],  # a month-only date is its 1st, as in the filters
            "time": times.where(~month_only, "month only").tolist(),
            "category": incidents.get("category", pd.Series(None, index=incidents.index))
            .fillna("uncategorised")
            .tolist(),
            "reference": incidents.get("reference", pd.Series(None, index=incidents.index))
            .fillna("-")
            .astype(str)
            .tolist(),
            "location": [_place(g, communal, premises) for g in incidents.geometry],
            "_sort": when.tolist(),
            "_time": times.tolist(),
        }
    )
    rows = rows.sort_values(["_sort", "_time", "reference"], kind="stable")
    return rows.drop(columns=["_sort", "_time"]).reset_index(drop=True)
