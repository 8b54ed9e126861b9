"""The geocoder's answer for every input row, filled method by method, then written as columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..crs import bng_to_lonlat

#: Values of ``match_method``, most exact first.
MATCH_METHODS = ("coordinates", "grid_ref", "address", "postcode", "none")
#: Columns :func:`geocode` adds (or replaces) on its copy of the input.
OUTPUT_COLUMNS = (
    "easting",
    "northing",
    "lat",
    "lon",
    "match_method",
    "match_score",
    "matched_address",
    "uprn",
    "reason",
    "needs_review",
)


@dataclass
class Placements:
    """The result columns of ``n`` rows, filled method by method; ``reason`` collects notes."""

    n: int
    easting: NDArray[np.float64] = field(init=False)
    northing: NDArray[np.float64] = field(init=False)
    lat: NDArray[np.float64] = field(init=False)
    lon: NDArray[np.float64] = field(init=False)
    method: NDArray[np.object_] = field(init=False)
    score: NDArray[np.float64] = field(init=False)
    matched: NDArray[np.object_] = field(init=False)
    uprn: NDArray[np.object_] = field(init=False)
    reason: list[list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.easting = np.full(self.n, np.nan)
        self.northing = np.full(self.n, np.nan)
        self.lat = np.full(self.n, np.nan)
        self.lon = np.full(self.n, np.nan)
        self.method = np.full(self.n, "none", dtype=object)
        self.score = np.zeros(self.n)
        self.matched = np.full(self.n, None, dtype=object)
        self.uprn = np.full(self.n, None, dtype=object)
        self.reason = [[] for _ in range(self.n)]

    def add_lonlat(self) -> None:
        """Latitude/longitude of everything placed in BNG without them; a place off the OSTN15
        grid (a grid reference or text coordinates out at sea) is not a place after all."""
        need = np.isfinite(self.easting) & ~np.isfinite(self.lat)
        if need.any():
            lon, lat = bng_to_lonlat(self.easting[need], self.northing[need])
            self.lon[need], self.lat[need] = lon, lat
        off_grid = (self.method != "none") & ~(np.isfinite(self.lat) & np.isfinite(self.lon))
        for i in np.flatnonzero(off_grid):
            self.reason[i].append(
                f"E {self.easting[i]:.0f} N {self.northing[i]:.0f} is off the OSTN15 grid (at "
                "sea, not in Great Britain); not placed"
            )
            self.method[i], self.score[i] = "none", 0.0
            self.easting[i] = self.northing[i] = self.lat[i] = self.lon[i] = np.nan
            self.matched[i], self.uprn[i] = None, None

    def to_frame(
        self, rows: pd.DataFrame, threshold: float, uprn_source: NDArray[Any]
    ) -> pd.DataFrame:
        """A copy of ``rows`` with the :data:`OUTPUT_COLUMNS`; a placed row scoring below
        ``threshold`` needs review, and its reason says so."""
        review = (self.method != "none") & (self.score < threshold)
        reasons = []
        for i in range(self.n):
            parts = self.reason[i]
            if review[i]:
                parts = parts + [f"score {self.score[i]:.0f} below threshold {threshold:g}: review"]
            reasons.append("; ".join(parts))
        result = rows.copy()
        result["easting"] = self.easting
        result["northing"] = self.northing
        result["lat"] = self.lat
        result["lon"] = self.lon
        result["match_method"] = self.method
        result["match_score"] = np.round(self.score, 1)
        result["matched_address"] = self.matched
        result["uprn"] = _uprn_column(self.uprn, uprn_source)
        result["reason"] = reasons
        result["needs_review"] = review
        return result


def _uprn_column(values: NDArray[np.object_], source: NDArray[Any]) -> Any:
    """UPRNs in the gazetteer's own type, nullable: integers stay integers (Int64) with <NA> for
    none."""
    if np.issubdtype(np.asarray(source).dtype, np.integer):
        return pd.array([None if v is None else int(v) for v in values], dtype="Int64")
    return values
