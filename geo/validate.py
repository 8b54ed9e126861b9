"""Row-level geometry checks: report why, never repair silently (repair is a separate step)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

POLYGONAL = ("Polygon", "MultiPolygon")
LINEAR = ("LineString", "MultiLineString")
PUNTAL = ("Point",)


def geometry_problems(geoms: ArrayLike, allowed: Sequence[str]) -> list[str | None]:
    """For each geometry, the reason it cannot be stored as a layer of ``allowed`` types, or None.

    Reasons: missing or empty geometry, the wrong geometry type, and invalid geometry with
    GEOS's own explanation (e.g. ``Self-intersection[530012 179870]``).
    """
    arr = np.asarray(geoms, dtype=object)
    out: list[str | None] = []
    types = shapely.get_type_id(arr)
    names = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
             5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
    valid_reason = shapely.is_valid_reason(arr)
    for g, t, why in zip(arr, types, valid_reason):
        if g is None or t < 0:
            out.append("no geometry")
        elif shapely.is_empty(g):
            out.append("empty geometry")
        elif names.get(int(t)) not in allowed:
            out.append(f"wrong geometry type: {names.get(int(t), t)}, expected {' or '.join(allowed)}")
        elif why != "Valid Geometry":
            out.append(f"invalid geometry: {why}; fix it in the source or import with --repair")
        else:
            out.append(None)
    return out


def repair(geoms: ArrayLike, allowed: Sequence[str]) -> NDArray[np.object_]:
    """Explicitly repaired geometries (``make_valid``), keeping only the allowed type's parts.

    A polygon whose repair leaves no polygonal part becomes empty, so the re-check rejects it.
    """
    arr = np.asarray(geoms, dtype=object)
    fixed = shapely.make_valid(arr)
    if tuple(allowed) == POLYGONAL:
        out = []
        for g in fixed:
            if g is None:
                out.append(g)
                continue
            parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
            out.append(shapely.union_all(parts) if parts else shapely.Polygon())
        return np.asarray(out, dtype=object)
    return fixed


def to_multipolygon(geoms: ArrayLike) -> NDArray[np.object_]:
    """Polygons promoted to single-part MultiPolygons, so a polygon layer has one declared type."""
    arr = np.asarray(geoms, dtype=object)
    out = np.empty(len(arr), dtype=object)
    for i, g in enumerate(arr):
        out[i] = shapely.MultiPolygon([g]) if g is not None and shapely.get_type_id(g) == 3 else g
    return out
