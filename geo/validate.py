"""Row-level geometry checks: report why, never repair silently (repair is a separate step)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

import shapely
from shapely.geometry.base import BaseGeometry

POLYGONAL = ("Polygon", "MultiPolygon")
LINEAR = ("LineString", "MultiLineString")
PUNTAL = ("Point",)


_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def geometry_problems(geoms: ArrayLike, allowed: Sequence[str]) -> list[str | None]:
    """For each geometry, the reason it cannot be stored as a layer of ``allowed`` types, or None.

    Reasons: missing or empty geometry, the wrong geometry type, and invalid geometry with
    GEOS's own explanation (e.g. ``Self-intersection[530012 179870]``).
    """
    arr = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(arr)
    allowed_ids = [t for t, name in _TYPE_NAMES.items() if name in allowed]
    empty = shapely.is_empty(arr)
    valid = shapely.is_valid(arr)
    wrong = ~np.isin(types, allowed_ids)
    out: list[str | None] = [None] * len(arr)
    for i in np.flatnonzero((types < 0) | empty | wrong | ~valid):
        if types[i] < 0:
            out[i] = "no geometry"
        elif empty[i]:
            out[i] = "empty geometry"
        elif wrong[i]:
            out[i] = (
                f"wrong geometry type: {_TYPE_NAMES.get(int(types[i]), types[i])}, expected "
                f"{' or '.join(allowed)}"
            )
        else:
            why = shapely.is_valid_reason(arr[i])
            out[i] = f"invalid geometry: {why}; fix it in the source or import with --repair"
    return out


def repair(geoms: ArrayLike, allowed: Sequence[str]) -> NDArray[np.object_]:
    """Explicitly repaired geometries (``make_valid``), keeping only the allowed type's parts.

    A polygon whose repair leaves no polygonal part becomes empty, so the re-check rejects it.
    """
    arr = np.asarray(geoms, dtype=object)
    fixed = shapely.make_valid(arr)
    if tuple(allowed) == POLYGONAL:
        out = [None if g is None else polygon_parts(g) for g in fixed]
        return np.asarray(out, dtype=object)
    return fixed


def to_multipolygon(geoms: ArrayLike) -> NDArray[np.object_]:
    """Polygons promoted to single-part MultiPolygons, so a polygon layer has one declared type."""
    arr = np.asarray(geoms, dtype=object)
    out = np.empty(len(arr), dtype=object)
    for i, g in enumerate(arr):
        out[i] = shapely.MultiPolygon([g]) if g is not None and shapely.get_type_id(g) == 3 else g
    return out


def polygon_parts(g: BaseGeometry | None) -> BaseGeometry:
    """Only the polygon parts of a geometry (an intersection can leave lines and points behind)."""
    if g is None or g.is_empty:
        return shapely.Polygon()
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
