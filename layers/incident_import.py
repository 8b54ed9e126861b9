"""Incidents as they import: placed offline when a row has no coordinates, categories standardised
with the original kept, police.uk points marked as street-level snap points.

A row is placed from what it has: its own coordinates (any columns the importer knows, or WKT);
else the offline geocoder (grid reference, the gazetteer, then postcode centroids). Each placed row
keeps how it was placed and the match's score, address and UPRN; a row that cannot be placed keeps
the geocoder's reason and waits in the review queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from closuremap.geo.categories import standardise
from closuremap.geo.columns import LAT_NAMES, LON_NAMES, coordinate_columns, squeeze
from closuremap.geo.crs import bng_to_crs
from closuremap.geo.errors import CoordinateError
from closuremap.geo.geocode import GazetteerIndex, check_gazetteer, geocode

from .sources import SourceTable, table_to_source
from .store import WorkspaceStore
from .tabular import POLICE_API_COLUMNS, blank_rows

POLICE_UK_COLUMNS = {"Crime ID", "Month", "Falls within", "LSOA code", "Crime type"}
#: The geocoder's answers kept on each incident as ``geocode_<name>`` (text), for the review queue.
GEOCODE_COLUMNS = ("match_method", "match_score", "matched_address", "uprn", "needs_review")
_LAT_LON = {squeeze(name) for name in (*LAT_NAMES, *LON_NAMES)}


@dataclass(frozen=True)
class IncidentGeocoder:
    """The offline geocoder as an import uses it: the gazetteer (indexed once per file, not per
    chunk), postcode centroids, the column holding the location text, and the score to accept."""

    gazetteer: pd.DataFrame | GazetteerIndex
    postcodes: pd.DataFrame | None = None
    location_column: str | None = None
    threshold: float = 85

    @classmethod
    def indexed(
        cls,
        gazetteer: pd.DataFrame,
        postcodes: pd.DataFrame | None = None,
        location_column: str | None = None,
        threshold: float = 85,
    ) -> IncidentGeocoder:
        """A geocoder whose gazetteer is checked and indexed now (an empty one stays a frame)."""
        index = (
            GazetteerIndex.from_frame(check_gazetteer(gazetteer)) if len(gazetteer) else gazetteer
        )
        return cls(index, postcodes, location_column, threshold)

    def can_place(self) -> bool:
        """Whether there is anything to look a row up in: addresses or postcodes."""
        g = self.gazetteer
        return bool(len(g.address) if isinstance(g, GazetteerIndex) else len(g)) or (
            self.postcodes is not None
        )

    def geocode(self, table: pd.DataFrame) -> pd.DataFrame:
        return geocode(
            table,
            self.gazetteer,
            self.postcodes,
            location_column=self.location_column,
            threshold=self.threshold,
        )


def _not_placed(reason: object) -> str:
    return f"not placed: {reason or 'no coordinates, grid reference, address or postcode found'}"


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype(str).where(values.notna(), "")


def workspace_gazetteer(store: WorkspaceStore) -> pd.DataFrame:
    """The workspace's addresses layer as a gazetteer (uprn, address, easting, northing)."""
    addresses = store.read("addresses")
    return pd.DataFrame(
        {
            "uprn": addresses["uprn"].astype(str),
            "address": addresses["address"],
            "easting": addresses.geometry.x,
            "northing": addresses.geometry.y,
        }
    )


def geocoded_source(
    path: Path, table: pd.DataFrame, ragged: list[str], geocoder: IncidentGeocoder
) -> SourceTable:
    """An incident table placed by the offline geocoder: rows it cannot place keep its reason."""
    coded = geocoder.geocode(table)
    placed = coded["match_method"] != "none"
    out = table.copy()
    for axis in ("easting", "northing"):
        out[axis] = coded[axis].where(placed).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    for column in GEOCODE_COLUMNS:
        out[f"geocode_{column}"] = _as_text(coded[column])
    out["geocode_reason"] = coded["reason"].fillna("")
    out["precision"] = coded["match_method"]
    # placed by the geocoder: easting/northing carry the answer
    out = out.drop(columns=[c for c in out.columns if squeeze(c) in _LAT_LON])
    source = table_to_source(path, out, ragged, None)
    blank = blank_rows(table)  # judged on the user's cells, before the geocoder's were added
    for i in np.flatnonzero(~placed.to_numpy()):
        source.problems[i] = "blank row" if blank[i] else _not_placed(coded["reason"].iloc[i])
    return source


def _has_coordinate_columns(columns: list[str]) -> bool:
    found = coordinate_columns(columns)
    return "wkt" in found or any(
        {a, b} <= found.keys()
        for a, b in (("easting", "northing"), ("longitude", "latitude"), ("x", "y"))
    )


def placed_source(
    path: Path, table: pd.DataFrame, ragged: list[str], geocoder: IncidentGeocoder
) -> SourceTable:
    """Incidents placed row by row from what the file has: rows with coordinates (any columns the
    importer knows, or WKT) keep them; only rows whose coordinates are empty go to the geocoder."""
    if not _has_coordinate_columns(list(table.columns)):
        return geocoded_source(path, table, ragged, geocoder)
    try:
        source = table_to_source(path, table, ragged, None)
    except CoordinateError:  # coordinate columns, but not one row fills them
        return geocoded_source(path, table, ragged, geocoder)
    empty = np.array(
        [
            g is None and (p or "").startswith(("no coordinates", "no geometry"))
            for g, p in zip(source.geometry, source.problems, strict=True)
        ],
        dtype=bool,
    )
    if not empty.any() or not geocoder.can_place():
        return source
    rows = np.flatnonzero(empty)
    coordinates = [c for c in coordinate_columns(table.columns).values() if c in table.columns]
    coded = geocoder.geocode(table.iloc[rows].drop(columns=coordinates))
    placed = (coded["match_method"] != "none").to_numpy()
    x, y = bng_to_crs(coded["easting"].to_numpy(), coded["northing"].to_numpy(), source.crs)
    attrs = source.attributes.copy()
    for column in (*GEOCODE_COLUMNS, "reason"):
        attrs[f"geocode_{column}"] = ""
        attrs.loc[attrs.index[rows], f"geocode_{column}"] = _as_text(coded[column]).to_numpy()
    if "precision" not in attrs.columns:
        attrs["precision"] = ""
        attrs.loc[attrs.index[rows], "precision"] = coded["match_method"].to_numpy()
    source.attributes = attrs
    for k, i in enumerate(rows):
        if placed[k]:
            source.geometry[i] = shapely.Point(x[k], y[k])
            source.problems[i] = None
        else:
            source.problems[i] = _not_placed(coded["reason"].iloc[k])
    source.geocoded = (len(rows), int(placed.sum()))
    return source


def prepare_incidents(accepted: gpd.GeoDataFrame, source: SourceTable) -> gpd.GeoDataFrame:
    """Standard categories with the original kept; police.uk street files marked as such, their
    points being anonymised street snap points (precision 'street'), never a premises location."""
    out = accepted.copy()
    out["category_original"] = out["category"]
    out["category"] = standardise(out["category"].astype("object"))
    columns = set(map(str, source.attributes.columns))
    if columns >= POLICE_UK_COLUMNS or (POLICE_API_COLUMNS - {"location"}) <= columns:
        out["source"] = "police.uk"
        out["precision"] = "street"
    elif "precision" in out:
        out["precision"] = out["precision"].replace({"coordinates": "exact"})
        out["precision"] = out["precision"].fillna("exact" if source.unit == "row" else "as drawn")
    return out
