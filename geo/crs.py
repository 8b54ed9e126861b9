"""Coordinates in British National Grid, and the few places they cross to and from WGS84.

Inside closuremap every geometry is in EPSG:27700 (metres). WGS84/ETRS89 longitude and latitude
appear only at the edges: files coming in, the web map, files going out. Between the two we use
the OSTN15 grid transformation (via ``convertbng``), which agrees with Ordnance Survey's own
published test points to the millimetre; pyproj's wheel lacks the OSTN15 grid and falls back to a
Helmert transform that is 0.5-3.2 m out (1.75 m in London), too coarse for a stairwell.

GPS (WGS84) coordinates are treated as ETRS89, as Ordnance Survey does for mapping-grade work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

import shapely
from convertbng.cutil import convert_bng, convert_lonlat
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from pyproj.transformer import TransformerGroup

from .errors import CoordinateError

BNG = CRS.from_epsg(27700)
WGS84 = CRS.from_epsg(4326)

#: Great Britain and its islands in BNG: (min easting, min northing, max easting, max northing).
GB_BOUNDS_EN = (0.0, 0.0, 700_000.0, 1_300_000.0)
#: The same in longitude/latitude: (west, south, east, north), degrees.
GB_BOUNDS_LONLAT = (-9.0, 49.0, 2.5, 61.5)


def _ostn15(
    convert: Callable[[NDArray[np.float64], NDArray[np.float64]], tuple[Any, Any]],
    x: ArrayLike,
    y: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One of convertbng's OSTN15 conversions over two coordinate arrays, as float arrays
    (convertbng returns lists, and refuses empty input)."""
    x_a = np.asarray(x, dtype="float64")
    y_a = np.asarray(y, dtype="float64")
    if x_a.size == 0:
        return x_a.copy(), y_a.copy()
    out_x, out_y = convert(x_a, y_a)
    return np.asarray(out_x, dtype="float64"), np.asarray(out_y, dtype="float64")


def lonlat_to_bng(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Easting and northing (m) of WGS84/ETRS89 longitudes and latitudes, by OSTN15.

    Points outside the OSTN15 grid (off the coast of Great Britain) come back as NaN.

    >>> e, n = lonlat_to_bng([-0.128329], [51.503992])
    >>> round(float(e[0])), round(float(n[0]))
    (530000, 180000)
    """
    return _ostn15(convert_bng, lon, lat)


def bng_to_lonlat(
    easting: ArrayLike, northing: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS84/ETRS89 longitude and latitude (degrees) of BNG eastings and northings, by OSTN15."""
    return _ostn15(convert_lonlat, easting, northing)


def _pinned_transformer(source: CRS, target: CRS) -> Transformer:
    """One transformation for every point, so a layer never mixes operations (stack-notes)."""
    group = TransformerGroup(source, target, always_xy=True)
    if not group.transformers:
        raise CoordinateError(f"no transformation from {source.name} to {target.name} is available")
    return group.transformers[0]


def crs_kind(crs: CRS) -> str:
    """Say how a CRS reaches BNG: ``"bng"``, ``"lonlat"`` (WGS84/ETRS89) or ``"other"``."""
    epsg = crs.to_epsg(min_confidence=70)
    if epsg == 27700 or crs.equals(BNG, ignore_axis_order=True):
        return "bng"
    if (
        crs.is_geographic
        and epsg in (4326, 4258, 4937, 4979, 4936, 4230)
        or (
            crs.is_geographic
            and crs.ellipsoid is not None
            and crs.ellipsoid.name in ("WGS 84", "GRS 1980")
        )
    ):
        return "lonlat"
    return "other"


def xy_to_bng(
    x: NDArray[np.float64], y: NDArray[np.float64], source: CRS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates in ``source`` as eastings and northings (NaN off the OSTN15 grid)."""
    kind = crs_kind(source)
    if kind == "bng":
        return x, y
    if kind == "lonlat":
        return lonlat_to_bng(x, y)
    # Anything else: to WGS84 with one pinned pyproj operation, then OSTN15 to BNG. OSGB36
    # geographic (EPSG:4277) goes straight to BNG: same datum, only the projection differs.
    if source.to_epsg() == 4277:
        return tuple(np.asarray(a) for a in _pinned_transformer(source, BNG).transform(x, y))  # type: ignore[return-value]
    lon, lat = _pinned_transformer(source, WGS84).transform(x, y)
    return lonlat_to_bng(lon, lat)


def bng_to_crs(
    easting: ArrayLike, northing: ArrayLike, target: CRS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BNG points in another CRS: the inverse of the import step, for points placed in BNG (by the
    geocoder) that join a file's own coordinates."""
    e, n = np.asarray(easting, dtype="float64"), np.asarray(northing, dtype="float64")
    kind = crs_kind(target)
    if kind == "bng":
        return e, n
    lon, lat = bng_to_lonlat(e, n)
    if kind == "lonlat":
        return lon, lat
    x, y = _pinned_transformer(WGS84, target).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def geometries_to_bng(geoms: ArrayLike, source: CRS) -> NDArray[np.object_]:
    """The same geometries in BNG. Coordinates outside the OSTN15 grid become NaN."""
    arr = np.asarray(geoms, dtype=object)
    if crs_kind(source) == "bng":
        return arr

    def _fn(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        e, n = xy_to_bng(coords[:, 0].copy(), coords[:, 1].copy(), source)
        return np.column_stack([e, n])

    try:
        return shapely.transform(arr, _fn)
    except shapely.errors.GEOSException:
        # a polygon partly off the OSTN15 grid cannot be rebuilt: convert one by one, None for those
        out = np.empty(len(arr), dtype=object)
        for i, g in enumerate(arr):
            try:
                out[i] = shapely.transform(g, _fn)
            except shapely.errors.GEOSException:
                out[i] = None
        return out


def geometries_to_lonlat(geoms: ArrayLike) -> NDArray[np.object_]:
    """BNG geometries as WGS84 longitude/latitude: only for the web map and export edges."""

    def _fn(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = bng_to_lonlat(coords[:, 0].copy(), coords[:, 1].copy())
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), _fn)


@dataclass(frozen=True)
class CrsGuess:
    """A CRS inferred from coordinate ranges, with the reason to tell the user."""

    crs: CRS
    reason: str


def _share(mask: NDArray[np.bool_]) -> float:
    return float(mask.mean()) if mask.size else 0.0


def in_lonlat_range(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
    w, s, e, n = GB_BOUNDS_LONLAT
    return (x >= w) & (x <= e) & (y >= s) & (y <= n)


def in_bng_range(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
    w, s, e, n = GB_BOUNDS_EN
    # Small values are far likelier to be degrees than metres near the false origin.
    return (x >= w) & (x <= e) & (y >= s) & (y <= n) & ~((np.abs(x) < 200) & (np.abs(y) < 200))


def infer_crs(x: ArrayLike, y: ArrayLike) -> CrsGuess:
    """Infer the CRS of coordinates that came without one, from their ranges.

    Longitude/latitude in Great Britain and BNG eastings/northings do not overlap, so the
    majority decides. Raises :class:`CoordinateError` when neither fits, naming the ranges.
    """
    xa = np.asarray(x, dtype="float64")
    ya = np.asarray(y, dtype="float64")
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    if xa.size == 0:
        raise CoordinateError("no usable coordinates to infer the coordinate system from")
    lonlat = _share(in_lonlat_range(xa, ya))
    swapped = _share(in_lonlat_range(ya, xa))
    bng = _share(in_bng_range(xa, ya))
    best = max(lonlat, swapped, bng)
    if best < 0.5:
        raise CoordinateError(
            f"cannot tell the coordinate system: x runs {xa.min():g} to {xa.max():g}, y runs "
            f"{ya.min():g} to {ya.max():g}, which is neither longitude/latitude nor British "
            "National Grid in Great Britain; state it with --crs (e.g. --crs EPSG:27700)"
        )
    if bng == best:
        return CrsGuess(
            BNG, f"no CRS in the file; {bng:.0%} of coordinates are BNG eastings/northings"
        )
    if lonlat >= swapped:
        return CrsGuess(
            WGS84, f"no CRS in the file; {lonlat:.0%} of coordinates are WGS84 longitude/latitude"
        )
    return CrsGuess(
        WGS84,
        f"no CRS in the file; {swapped:.0%} of coordinates read as latitude/longitude in the wrong "
        "order (rows with swapped pairs are rejected with that reason)",
    )


def coordinate_problems(bounds: NDArray[np.float64], source: CRS) -> list[str | None]:
    """Per geometry, why its source coordinates cannot be placed in Great Britain (or None).

    ``bounds`` is shapely's (minx, miny, maxx, maxy) per geometry in the source CRS. Catches the
    lat/lon swap, degrees in a metric file (and the reverse), and points far outside Great Britain
    (including police.uk's zeroed coordinates). Rows with NaN bounds (no geometry) get None.
    """
    b = np.asarray(bounds, dtype="float64").reshape(-1, 4)
    minx, miny, maxx, maxy = b.T
    kind = crs_kind(source)
    reasons: list[str | None] = [None] * len(b)
    if kind == "other" or len(b) == 0:
        return reasons  # checked after transformation, in BNG
    finite = np.isfinite(b).all(axis=1)

    def both(
        test: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.bool_]],
        xa: NDArray[np.float64],
        ya: NDArray[np.float64],
        xb: NDArray[np.float64],
        yb: NDArray[np.float64],
    ) -> NDArray[np.bool_]:
        """Both corners of each envelope pass ``test``."""
        return test(xa, ya) & test(xb, yb)

    lonlat = both(in_lonlat_range, minx, miny, maxx, maxy)
    swapped = both(in_lonlat_range, miny, minx, maxy, maxx)
    bng = both(in_bng_range, minx, miny, maxx, maxy)
    for i in np.flatnonzero(finite & ~(lonlat if kind == "lonlat" else bng)):
        x, y = minx[i], miny[i]
        if kind == "lonlat":
            if swapped[i]:
                reasons[i] = (
                    f"latitude and longitude look swapped ({x:g}, {y:g} reads as lat, lon); "
                    "swap the two columns or coordinates"
                )
            elif bng[i]:
                reasons[i] = (
                    f"coordinates {x:g}, {y:g} look like BNG eastings/northings but the file says "
                    "longitude/latitude; fix the file's CRS or pass --crs EPSG:27700"
                )
            else:
                reasons[i] = f"point {x:g}, {y:g} (lon, lat) is far outside Great Britain"
        elif lonlat[i] or swapped[i]:
            reasons[i] = (
                f"coordinates {x:g}, {y:g} look like degrees but the file says British National "
                "Grid; fix the file's CRS or pass --crs EPSG:4326"
            )
        else:
            reasons[i] = f"point E {x:.0f}, N {y:.0f} is outside Great Britain"
    return reasons


def bng_problems(geoms: ArrayLike) -> list[str | None]:
    """Per geometry converted to BNG, why it cannot be in Great Britain (or None).

    ``None`` in the input is a geometry the conversion could not rebuild (off the OSTN15 grid).
    """
    arr = np.asarray(geoms, dtype=object)
    missing = np.array([g is None for g in arr], dtype=bool)
    b = shapely.bounds(arr)
    minx, miny, maxx, maxy = b.T
    empty = shapely.is_empty(arr) & ~missing
    finite = np.asarray(np.isfinite(b).all(axis=1), dtype=bool)
    inside = in_bng_range(minx, miny) & in_bng_range(maxx, maxy)
    out: list[str | None] = [None] * len(arr)
    for i in np.flatnonzero(missing | (~empty & ~(finite & inside))):
        if missing[i] or not finite[i]:
            out[i] = "coordinates fall outside the OSTN15 grid, i.e. outside Great Britain"
        else:
            out[i] = f"point E {minx[i]:.0f}, N {miny[i]:.0f} is outside Great Britain"
    return out


def parse_crs(text: str) -> CRS:
    """A CRS from what a user typed (``EPSG:27700``, ``27700``, ``bng``, ``wgs84``)."""
    aliases = {
        "bng": "EPSG:27700",
        "osgb": "EPSG:27700",
        "wgs84": "EPSG:4326",
        "lonlat": "EPSG:4326",
    }
    value = aliases.get(text.strip().lower(), text.strip())
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:  # pyproj's message is terse: say what to type instead
        raise CoordinateError(
            f"'{text}' is not a coordinate system I know; try EPSG:27700 or EPSG:4326"
        ) from exc
