"""The names coordinate columns go by in real exports: one list, read by the importer and the
geocoder alike, so a file placed by one is placed by the other.

Names are compared by their letters and digits alone (:func:`squeeze`), so "BNG Easting",
"bng_easting", "BNG-Easting" and "BNGEasting" are the same name. :func:`find_column` is the one way
any module finds a column by name: the importer, the layers page and the geocoder call it.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence

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


def squeeze(name: object) -> str:
    """A column name as its letters and digits alone, lower case: what :func:`find_column`
    compares, so "BNG Easting", "bng_easting" and "BNGEasting" are one name.

    >>> squeeze("BNG Easting"), squeeze("Location_Text")
    ('bngeasting', 'locationtext')
    """
    return re.sub(r"[^0-9a-z]+", "", str(name).lower())


def find_column(columns: Iterable[Hashable], names: Sequence[str]) -> Hashable | None:
    """The caller's own label of the first column named like one of ``names`` (tried in their
    order; names are compared :func:`squeeze`-d). The first of several such columns wins.

    >>> find_column(["Crime ID", "Grid Easting", "x"], ("easting", "grid_easting", "x"))
    'Grid Easting'
    """
    squeezed: dict[str, Hashable] = {}
    for c in columns:
        squeezed.setdefault(squeeze(c), c)
    for name in names:
        found = squeezed.get(squeeze(name))
        if found is not None:
            return found
    return None


def coordinate_columns(columns: Iterable[Hashable]) -> dict[str, Hashable]:
    """Which columns hold coordinates: keys among easting, northing, longitude, latitude, x, y,
    wkt.

    >>> coordinate_columns(["Crime ID", "Longitude", "Latitude", "X"])
    {'longitude': 'Longitude', 'latitude': 'Latitude', 'x': 'X'}
    """
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
