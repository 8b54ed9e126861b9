"""The geocoder's reference tables: an address gazetteer and Code-Point Open postcode centroids.

Both are read from CSV with their columns checked once, here, so the matcher never meets a table it
cannot use; a missing column is a :class:`GeocodeError` that names the columns the file has.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ClosuremapError, InputFileError
from .text import normalise_postcode


class GeocodeError(ClosuremapError):
    """Input the geocoder cannot work with: no location column, or a gazetteer/postcode file
    without the columns it needs. The message names the columns found and the fix."""


GAZETTEER_COLUMNS = ("uprn", "address", "easting", "northing")
POSTCODE_COLUMNS = ("Postcode", "Eastings", "Northings")
#: Column order of a headerless Code-Point Open data file (OS's Code-Point Open user guide).
CODEPOINT_HEADER = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
)


def _read_csv(path: str | Path, what: str, **kwargs: Any) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{what} file {p} does not exist")
    try:
        frame: pd.DataFrame = pd.read_csv(p, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{what} file {p} cannot be read as CSV: {exc}") from exc
    return frame


def require_columns(
    frame: pd.DataFrame, columns: Sequence[str], what: str, where: str
) -> pd.DataFrame:
    """The frame with ``columns`` under their canonical names (matched case-insensitively), or a
    :class:`GeocodeError` naming what the frame has."""
    lower = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in columns if c.lower() not in lower]
    if missing:
        raise GeocodeError(
            f"{what} {where} lacks column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, frame.columns)) or 'none'}. "
            f"A {what} needs {', '.join(columns)}: rename the columns in the file"
        )
    return frame.rename(columns={lower[c.lower()]: c for c in columns if lower[c.lower()] != c})


def check_gazetteer(gazetteer: pd.DataFrame, where: str = "") -> pd.DataFrame:
    """A copy of the gazetteer with ``uprn, address, easting, northing`` present and coordinates
    numeric."""
    return _with_numbers(gazetteer, GAZETTEER_COLUMNS, ("easting", "northing"), "gazetteer", where)


def load_gazetteer(path: str | Path) -> pd.DataFrame:
    """Read an address gazetteer CSV (``uprn, address, easting, northing`` in BNG; other columns
    kept).

    UPRNs are read as text so leading zeros and 12-digit values survive. Raises
    :class:`GeocodeError` naming the missing columns, :class:`InputFileError` if it cannot be read.
    """
    frame = _read_csv(path, "gazetteer", dtype={"uprn": str, "UPRN": str})
    return check_gazetteer(frame, str(path))


def check_postcodes(postcodes: pd.DataFrame, where: str = "") -> pd.DataFrame:
    """A copy of a Code-Point Open table with ``Postcode, Eastings, Northings`` present and
    numeric."""
    return _with_numbers(
        postcodes, POSTCODE_COLUMNS, ("Eastings", "Northings"), "postcode table", where
    )


def _with_numbers(
    frame: pd.DataFrame, columns: Sequence[str], numeric: Sequence[str], what: str, where: str
) -> pd.DataFrame:
    """A copy with ``columns`` present (named as we spell them) and ``numeric`` read as numbers."""
    frame = require_columns(frame, columns, what, where or "(DataFrame)").copy()
    for col in numeric:
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def load_postcodes(path: str | Path) -> pd.DataFrame:
    """Read a Code-Point Open CSV, with its header row or without one (OS ships the data
    headerless).

    Raises :class:`GeocodeError` naming the missing columns, :class:`InputFileError` if unreadable.
    """
    frame = _read_csv(path, "postcode", dtype=str)
    if len(frame.columns) >= 4 and normalise_postcode(str(frame.columns[0])) is not None:
        # headerless Code-Point Open: the first row was taken as the header
        frame = _read_csv(path, "postcode", dtype=str, header=None)
        frame.columns = list(CODEPOINT_HEADER[: len(frame.columns)]) + [
            f"column_{i}" for i in range(len(CODEPOINT_HEADER), len(frame.columns))
        ]
    return check_postcodes(frame, str(path))


def postcode_lookup(
    postcodes: pd.DataFrame | None, wanted: set[str]
) -> dict[str, tuple[float, float, str]]:
    """Centroid and positional quality of each wanted postcode found in a Code-Point table.

    Vectorised and filtered first: the full Code-Point Open for Great Britain is 1.7M rows.
    """
    if postcodes is None:
        return {}
    frame = require_columns(postcodes, POSTCODE_COLUMNS, "postcode table", "(DataFrame)")
    if not wanted or frame.empty:
        return {}
    compact = frame["Postcode"].astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    normal = compact.str[:-3] + " " + compact.str[-3:]
    keep = normal.isin(wanted).to_numpy()
    pqi_col = next(
        (c for c in frame.columns if str(c).lower() == "positional_quality_indicator"), None
    )
    sub = frame.loc[keep]
    east = pd.to_numeric(sub["Eastings"], errors="coerce").to_numpy(dtype="float64")
    north = pd.to_numeric(sub["Northings"], errors="coerce").to_numpy(dtype="float64")
    pqi = sub[pqi_col].astype(str).to_numpy() if pqi_col else np.array([""] * len(sub))
    return {
        str(code): (float(e), float(n), str(q))
        for code, e, n, q in zip(normal[keep], east, north, pqi, strict=True)
    }
