"""The geocoder itself: every incident row placed by the most exact evidence it holds.

Rows are read in this order: their coordinate columns (:mod:`.coordinates`); then each distinct
location text once (:mod:`.evidence`, :mod:`.resolve`); the answers are broadcast back to every
row that shares the text (:mod:`.placements`).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..columns import find_column, squeeze
from .coordinates import coordinate_pairs, from_columns
from .evidence import TextEvidence
from .index import GazetteerIndex
from .placements import Placements
from .resolve import read_texts
from .tables import POSTCODE_COLUMNS, GeocodeError, require_columns

#: Names taken for the location text, best first (compared by letters and digits only, so
#: "Location Text" and "location_text" are both "locationtext").
LOCATION_COLUMN_NAMES = (
    "location",
    "location_text",
    "location_description",
    "incident_location",
    "address",
    "address_text",
    "full_address",
    "location_address",
    "incident_address",
    "place",
    "loc",
)


def geocode(
    rows: pd.DataFrame,
    gazetteer: pd.DataFrame | GazetteerIndex,
    postcodes: pd.DataFrame | None = None,
    *,
    location_column: str | None = None,
    threshold: float = 85,
    min_score: float = 70,
    workers: int = -1,
) -> pd.DataFrame:
    """Place every incident row in BNG, saying how and how sure: a new DataFrame, input untouched.

    Every input row comes back once, in order, on the same index, with ``easting, northing`` (BNG
    m), ``lat, lon`` (WGS84), ``match_method`` (coordinates | grid_ref | address | postcode |
    none), ``match_score`` (0-100), ``matched_address``, ``uprn`` (empty unless a flat/house
    matched), ``reason`` (what was used, corrected or missing) and ``needs_review`` (placed but
    scored below ``threshold``). Columns of those names already in ``rows`` are replaced in the
    copy.

    Parameters
    ----------
    rows
        Incidents. Coordinates are read from easting/northing (or x/y) or lat/lon
        (latitude/longitude, lng/long) columns; the text from ``location_column`` or the first of
        location, location_text, location_description, address...
    gazetteer
        ``uprn, address, easting, northing`` (BNG), or a :class:`GazetteerIndex` built from one.
    postcodes
        Code-Point Open rows (``Postcode, Eastings, Northings``) for the postcode fallback.
    threshold
        Scores below it are returned (the review queue lists them) with ``needs_review`` set.
    min_score
        Address name scores below it are not matches at all (the row falls to postcode or none).
    workers
        Threads for rapidfuzz (-1: all cores).

    Raises
    ------
    GeocodeError
        No location column can be found and there are no coordinate columns, or the gazetteer or
        postcode table lacks a required column.
    """
    if not isinstance(rows, pd.DataFrame):
        raise GeocodeError(
            f"geocode needs a table of rows (a pandas DataFrame), not {type(rows).__name__}"
        )
    if not isinstance(gazetteer, GazetteerIndex):
        gazetteer = GazetteerIndex.from_frame(gazetteer)
    if postcodes is not None:
        require_columns(postcodes, POSTCODE_COLUMNS, "postcode table", "(DataFrame)")
    has_coordinates = any(pair is not None for pair in coordinate_pairs(rows.columns))
    loc_col = location_column_of(rows, location_column, has_coordinates)
    out = Placements(len(rows))
    todo = np.flatnonzero(~from_columns(rows, out))
    codes, uniques = pd.factorize(pd.Series(_texts(rows, loc_col)[todo], dtype=object))
    evidence = read_texts(list(uniques), gazetteer, postcodes, min_score, workers)
    _broadcast(evidence, todo, codes, out)
    out.add_lonlat()
    return out.to_frame(rows, threshold, gazetteer.uprn)


def location_column_of(
    rows: pd.DataFrame, location_column: str | None, has_coordinates: bool
) -> Hashable | None:
    """The column holding the location text: the one named, else the first that looks like one;
    None when there is none but the rows have coordinate columns."""
    if location_column is not None:
        if location_column not in rows.columns:
            raise GeocodeError(
                f"location column '{location_column}' is not in the table; its columns are "
                f"{', '.join(map(str, rows.columns))}"
            )
        return location_column
    found = find_column(rows.columns, LOCATION_COLUMN_NAMES)
    if found is None:
        found = next(
            (
                c
                for c in rows.columns
                if ("location" in squeeze(c) or "address" in squeeze(c))
                and not pd.api.types.is_numeric_dtype(rows[c])
            ),
            None,
        )
    if found is None and not has_coordinates:
        raise GeocodeError(
            "cannot tell which column holds the location: none is called location, "
            "location_text, location_description or address, and there are no easting/northing "
            "or latitude/longitude columns. The columns are: "
            f"{', '.join(map(str, rows.columns)) or '(none)'}. Say which column it is: "
            "--location-column NAME on the command line, or the location_text field of the "
            "column mapping on the Layers page"
        )
    return found


def _texts(rows: pd.DataFrame, column: Hashable | None) -> NDArray[np.object_]:
    """Each row's location as text; empty for a missing value or when there is no column."""
    if column is None:
        return np.full(len(rows), "", dtype=object)
    return np.array(
        [
            "" if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA) else str(v)
            for v in rows[column].to_numpy(dtype=object)
        ],
        dtype=object,
    )


def _broadcast(
    evidence: list[TextEvidence], todo: NDArray[np.intp], codes: NDArray[np.intp], out: Placements
) -> None:
    """Copy the answer of each distinct text to the rows ``todo`` that hold it (``codes``)."""
    if not evidence:
        return
    uprn = np.empty(len(evidence), dtype=object)
    uprn[:] = [ev.uprn for ev in evidence]
    out.method[todo] = np.array([ev.method for ev in evidence], dtype=object)[codes]
    out.easting[todo] = np.array([ev.easting for ev in evidence], dtype="float64")[codes]
    out.northing[todo] = np.array([ev.northing for ev in evidence], dtype="float64")[codes]
    out.lat[todo] = np.array([ev.lat for ev in evidence], dtype="float64")[codes]
    out.lon[todo] = np.array([ev.lon for ev in evidence], dtype="float64")[codes]
    out.score[todo] = np.array([ev.score for ev in evidence], dtype="float64")[codes]
    out.matched[todo] = np.array([ev.matched for ev in evidence], dtype=object)[codes]
    out.uprn[todo] = uprn[codes]
    reasons = ["; ".join(ev.notes) for ev in evidence]
    for i, c in zip(todo, codes, strict=True):
        if reasons[c]:
            out.reason[i].append(reasons[c])
