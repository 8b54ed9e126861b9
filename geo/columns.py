"""The names coordinate columns go by in real exports: one list, read by the importer and the
geocoder alike, so a file placed by one is placed by the other.

Names are compared folded (:func:`fold`): lower case, runs of other characters as one underscore,
so "BNG Easting", "bng_easting" and "BNG-Easting" are the same name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

WKT_NAMES = ("wkt", "geometry_wkt", "geom_wkt", "the_geom", "geometry", "geom", "shape")
EASTING_NAMES = (
    "easting",
    "eastings",
    "bng_easting",
    "grid_easting",
    "os_easting",
    "x_bng",
    "east",
)
NORTHING_NAMES = (
    "northing",
    "northings",
    "bng_northing",
    "grid_northing",
    "os_northing",
    "y_bng",
    "north",
)
LON_NAMES = ("longitude", "lon", "lng", "long", "wgs84_longitude", "lon_wgs84")
LAT_NAMES = ("latitude", "lat", "wgs84_latitude", "lat_wgs84")
X_NAMES = ("x", "x_coord", "x_coordinate", "xcoord", "point_x")
Y_NAMES = ("y", "y_coord", "y_coordinate", "ycoord", "point_y")


def fold(name: object) -> str:
    """A column name folded for matching.

    >>> fold("BNG Easting"), fold("Crime ID")
    ('bng_easting', 'crime_id')
    """
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def find_column(columns: Iterable[object], names: Sequence[str]) -> object | None:
    """The caller's own label of the first column whose folded name is in ``names`` (in their order)."""
    folded = {}
    for c in columns:
        folded.setdefault(fold(c), c)
    for name in names:
        if name in folded:
            return folded[name]
    return None


def coordinate_columns(columns: Iterable[object]) -> dict[str, object]:
    """Which columns hold coordinates: keys among easting, northing, longitude, latitude, x, y, wkt."""
    columns = list(columns)
    found = {
        key: find_column(columns, names)
        for key, names in (
            ("wkt", WKT_NAMES),
            ("easting", EASTING_NAMES),
            ("northing", NORTHING_NAMES),
            ("longitude", LON_NAMES),
            ("latitude", LAT_NAMES),
            ("x", X_NAMES),
            ("y", Y_NAMES),
        )
    }
    return {k: v for k, v in found.items() if v is not None}
