"""The scope check's finding rules, one function each: given the scope (or one of its parts) and
one kind of neighbour, each returns what an officer should know, as :class:`Finding`s.

:func:`geo.scope.check_scope` measures the scope and runs them in a fixed order, so its findings
read the same way every time. All geometry is in EPSG:27700, areas in m².
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from .findings import Finding
from .validate import polygon_parts

SLIVER_WIDTH_M = 0.5
ENTRANCE_REACH_M = 1.0
WHOLE_BLOCK_SHARE = 0.99
VEHICLE_HIGHWAYS = (
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "residential",
    "unclassified",
    "living_street",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
)


def geometries(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> NDArray[np.object_]:
    """The shapes of a frame or series as a plain object array, for shapely's vectorised calls."""
    values = frame.geometry.values if hasattr(frame, "geometry") else frame.values
    return np.asarray(values, dtype=object)


def _names(frame: gpd.GeoDataFrame, mask: NDArray[np.bool_], column: str = "name") -> str:
    """Up to five distinct names of the features picked by ``mask``, for a finding's message."""
    if column not in frame.columns:
        return ""
    names = sorted(
        {
            str(n)
            for n in frame.loc[mask, column]
            if n is not None and str(n) not in ("", "nan", "None")
        }
    )
    return ", ".join(names[:5]) + ("…" if len(names) > 5 else "")


def whole_block(scope: BaseGeometry, footprint: BaseGeometry, label: str) -> list[Finding]:
    """s.76(4): a scope over a whole footprint closes the flats too, not just the communal parts."""
    if (
        footprint.area <= 0
        or scope.intersection(footprint).area < WHOLE_BLOCK_SHARE * footprint.area
    ):
        return []
    return [
        Finding(
            "WHOLE_BLOCK",
            "warning",
            f"the scope takes in the whole footprint of {label}, flats included: residents and "
            "the owner must be in the permitted access of a notice (s.76(4)); close only the "
            "communal parts if that is what is meant",
            area_m2=footprint.area,
            geometry=footprint,
        )
    ]


def uncovered_entrances(scope: BaseGeometry, doors: gpd.GeoDataFrame, label: str) -> list[Finding]:
    """s.79(2): notices are fixed at every normal means of access; a door off the scope is asked."""
    return [
        Finding(
            "ENTRANCE_NOT_COVERED",
            "warning",
            f"{getattr(door, 'name', None) or 'an entrance'} of {label} is not on the scope: "
            "notices must be fixed at every normal means of access to the premises (s.79(2)); "
            "check it is not one",
            geometry=door.geometry,
        )
        for door in doors.itertuples()
        if door.geometry.distance(scope) > ENTRANCE_REACH_M
    ]


def not_tied_to_premises(premises_area: float, tol: float) -> list[Finding]:
    """s.92 and Leeds CC v Persons Unknown: a closure premises is an identifiable property."""
    if premises_area > tol:
        return []
    return [
        Finding(
            "NOT_TIED_TO_PREMISES",
            "error",
            "the scope covers no identified block, communal area or block access route: a "
            "closure premises must be an identifiable property or a distinct part of one (s.92; "
            "Leeds CC v Persons Unknown [2023] EWHC 1504 (Admin))",
        )
    ]


def outside_premises(outside: BaseGeometry, scope_area: float, tol: float) -> list[Finding]:
    """s.92: the part of the scope on no block, communal area or block route; an error past
    tolerance."""
    area = outside.area
    if area <= 0.01:
        return []
    return [
        Finding(
            "OUTSIDE_PREMISES",
            "warning" if area <= tol else "error",
            f"{area:.1f} m² ({area / scope_area:.1%}) of the scope lies outside any block, "
            "communal area or block access route",
            area_m2=area,
            geometry=outside,
        )
    ]


def on_open_space(
    on_open: BaseGeometry, open_space: gpd.GeoDataFrame | None, tol: float
) -> list[Finding]:
    """s.92 and Leeds CC v Persons Unknown: open land is not premises; the spaces are named."""
    area = on_open.area
    if area <= 0.01 or open_space is None:
        return []
    hit = np.asarray(shapely.intersects(geometries(open_space), on_open), dtype=bool)
    names = _names(open_space, hit)
    return [
        Finding(
            "ON_OPEN_SPACE",
            "error" if area > tol else "warning",
            f"{area:.1f} m² of the scope lies on mapped open space"
            f"{f' ({names})' if names else ''}: open land is not premises "
            "(Leeds CC v Persons Unknown [2023])",
            area_m2=area,
            geometry=on_open,
        )
    ]


def unmapped_or_highway(other: BaseGeometry, tol: float) -> list[Finding]:
    """s.92: land mapped as neither premises nor open space, past the tolerance."""
    area = other.area
    if area <= 0.01 or area <= tol:
        return []
    return [
        Finding(
            "UNMAPPED_OR_HIGHWAY",
            "warning",
            f"{area:.1f} m² of the scope lies on land mapped as neither premises nor open space "
            "(often highway or another property)",
            area_m2=area,
            geometry=other,
        )
    ]


def crosses_highway(scope: BaseGeometry, highways: gpd.GeoDataFrame | None) -> list[Finding]:
    """s.92: a vehicle highway through the scope for more than half a metre (a road is not
    premises)."""
    if highways is None or not len(highways):
        return []
    lines = highways
    if "feature_class" in lines.columns:
        cls = lines["feature_class"].astype(str).str.removeprefix("street:")
        lines = lines[cls.isin(VEHICLE_HIGHWAYS)]
    crossing = [g.intersection(scope) for g in lines.geometry.values]
    length = sum(c.length for c in crossing)
    if length <= 0.5:
        return []
    names = _names(lines, np.array([c.length > 0 for c in crossing], dtype=bool))
    return [
        Finding(
            "CROSSES_HIGHWAY",
            "error",
            f"the scope crosses a public highway for {length:.1f} m"
            f"{f' ({names})' if names else ''}: a highway is not premises "
            "(Leeds CC v Persons Unknown [2023])",
            geometry=shapely.union_all([c for c in crossing if not c.is_empty]),
        )
    ]


def crosses_borough(
    scope: BaseGeometry, boroughs: gpd.GeoDataFrame | None, tol: float
) -> list[Finding]:
    """s.76(7): a council's notice reaches only its own area, and each council is consulted."""
    if boroughs is None or not len(boroughs):
        return []
    touched = [row for row in boroughs.itertuples() if row.geometry.intersection(scope).area > tol]
    if len(touched) <= 1:
        return []
    names = ", ".join(
        str(getattr(row, "name", None) or getattr(row, "LAD22NM", "")) for row in touched
    )
    return [
        Finding(
            "CROSSES_BOROUGH",
            "warning",
            f"the scope crosses a borough boundary ({names}): a local-authority notice reaches "
            "only its own area, and each council must be consulted (s.76(7))",
        )
    ]


def overlaps_orders(scope: BaseGeometry, other_orders: gpd.GeoDataFrame | None) -> list[Finding]:
    """Each other order the scope overlaps, by how much."""
    if other_orders is None or not len(other_orders):
        return []
    findings = []
    for row in other_orders.itertuples():
        overlap = polygon_parts(scope.intersection(shapely.make_valid(row.geometry)))
        if overlap.area > 0.01:
            label = getattr(row, "order_id", None) or getattr(row, "name", None) or "another order"
            findings.append(
                Finding(
                    "OVERLAPS_ORDER",
                    "warning",
                    f"{overlap.area:.1f} m² of the scope overlaps {label}",
                    area_m2=overlap.area,
                    geometry=overlap,
                )
            )
    return findings


def holes_and_slivers(scope: BaseGeometry) -> list[Finding]:
    """Per polygon of the scope: holes to explain, and parts too thin to see on the ground."""
    findings = []
    for poly in shapely.get_parts(scope):
        if len(poly.interiors):
            findings.append(
                Finding(
                    "HOLES",
                    "info",
                    f"the scope has {len(poly.interiors)} hole(s): say in the order what they are",
                    geometry=poly,
                )
            )
        if poly.buffer(-SLIVER_WIDTH_M / 2).is_empty:
            findings.append(
                Finding(
                    "SLIVER",
                    "warning",
                    f"a part of the scope of {poly.area:.2f} m² is narrower than "
                    f"{SLIVER_WIDTH_M} m: a drawing slip, or a boundary nobody can see on the "
                    "ground",
                    area_m2=poly.area,
                    geometry=poly,
                )
            )
    return findings
