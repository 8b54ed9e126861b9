"""The scope check: how much of a proposed closure scope is defined premises, how much is open space.

The High Court held that a closure "premises" must be an objectively identifiable, distinct property
or part of one, not an area or line drawn on a map (Leeds City Council v Persons Unknown [2023]
EWHC 1504 (Admin); s.92). So an officer sees, before applying, each part of the scope counted once:
first what lies on defined premises (block footprints, their communal areas, access routes tied to a
block), then what lies on mapped open space, then the rest (unmapped land, highway). All areas in m²
in EPSG:27700.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from .errors import ClosuremapError

DEFAULT_TOLERANCE_FRACTION = 0.01  # 1 % of the scope …
DEFAULT_TOLERANCE_M2 = 1.0  # … or 1 m², whichever is larger
SLIVER_WIDTH_M = 0.5
ENTRANCE_REACH_M = 1.0
RING_M = 50.0
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


class ScopeError(ClosuremapError):
    """A scope that cannot be checked at all (empty, or nothing polygonal in it)."""


@dataclass(frozen=True)
class Finding:
    """One thing an officer should know about a scope, with the geometry it is about."""

    code: str
    severity: str  # error | warning | info
    message: str
    geometry: BaseGeometry | None = None
    area_m2: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }
        if self.area_m2 is not None:
            out["area_m2"] = round(self.area_m2, 2)
        if self.geometry is not None and not self.geometry.is_empty:
            out["geometry_wkt"] = shapely.to_wkt(self.geometry, rounding_precision=2)
        return out


@dataclass
class ScopeCheck:
    """The result: areas and fractions (summing to 1), a verdict, findings, incident coverage."""

    scope_area_m2: float
    premises_area_m2: float
    open_space_area_m2: float
    other_area_m2: float
    tolerance_m2: float
    verdict: str
    findings: list[Finding] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)
    incidents: dict[str, Any] | None = None

    def fraction(self, area: float) -> float:
        return area / self.scope_area_m2 if self.scope_area_m2 > 0 else 0.0

    @property
    def premises_fraction(self) -> float:
        return self.fraction(self.premises_area_m2)

    @property
    def open_space_fraction(self) -> float:
        return self.fraction(self.open_space_area_m2)

    @property
    def other_fraction(self) -> float:
        return self.fraction(self.other_area_m2)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scope_area_m2": round(self.scope_area_m2, 3),
            "premises_area_m2": round(self.premises_area_m2, 3),
            "premises_fraction": round(self.premises_fraction, 6),
            "open_space_area_m2": round(self.open_space_area_m2, 3),
            "open_space_fraction": round(self.open_space_fraction, 6),
            "other_area_m2": round(self.other_area_m2, 3),
            "other_fraction": round(self.other_fraction, 6),
            "tolerance_m2": round(self.tolerance_m2, 3),
            "verdict": self.verdict,
            "findings": [f.as_dict() for f in self.findings],
            "parts": self.parts,
        }
        if self.incidents is not None:
            out.update(self.incidents)
        return out


def _polygonal(g: BaseGeometry | None) -> BaseGeometry:
    """Only the polygon parts of a geometry (an intersection can leave lines and points behind)."""
    if g is None or g.is_empty:
        return shapely.Polygon()
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _union(frame: gpd.GeoDataFrame | gpd.GeoSeries | None) -> BaseGeometry:
    if frame is None or len(frame) == 0:
        return shapely.Polygon()
    geoms = frame.geometry.values if isinstance(frame, gpd.GeoDataFrame) else frame.values
    geoms = shapely.make_valid(np.asarray(geoms, dtype=object))
    return _polygonal(shapely.union_all(geoms))


def _names(frame: gpd.GeoDataFrame, mask: np.ndarray, column: str = "name") -> str:
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


def _block_ids(frame: gpd.GeoDataFrame | None) -> np.ndarray:
    if frame is None or len(frame) == 0 or "block_id" not in frame.columns:
        return np.array([], dtype=object)
    return frame["block_id"].astype(object).to_numpy()


def check_scope(
    scope: BaseGeometry,
    *,
    premises: gpd.GeoDataFrame,
    communal_areas: gpd.GeoDataFrame | None = None,
    access_routes: gpd.GeoDataFrame | None = None,
    open_space: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    other_orders: gpd.GeoDataFrame | None = None,
    highways: gpd.GeoDataFrame | None = None,
    boroughs: gpd.GeoDataFrame | None = None,
    tolerance_m2: float | None = None,
) -> ScopeCheck:
    """Check a scope (BNG) against the premises and open space around it.

    Each part of the scope is counted once: on defined premises first (a block's footprint, its
    communal areas, the access routes tied to it), then on open space, then other. The verdict is
    ``premises`` when the non-premises part is within the tolerance (default the larger of 1 m²
    and 1 % of the scope); when the premises part is, ``open_space`` if mapped open space is most
    of the rest, else ``not_premises`` (a road, an unmapped yard); otherwise ``mixed``.
    """
    findings: list[Finding] = []
    add = findings.append
    if scope is None or scope.is_empty:
        raise ScopeError(
            "the scope is empty: draw it, or pick the blocks and communal areas it covers"
        )
    if not scope.is_valid:
        add(
            Finding(
                "SCOPE_INVALID",
                "error",
                f"the scope's outline is invalid ({shapely.is_valid_reason(scope)}); it was repaired to be "
                "measured, but fix it before it goes to court",
            )
        )
        scope = shapely.make_valid(scope)
    scope = _polygonal(scope)
    scope_area = scope.area
    if scope_area <= 0:
        raise ScopeError(
            "the scope has no area: a closure scope is a polygon (draw lines with a width)"
        )
    tol = (
        tolerance_m2
        if tolerance_m2 is not None
        else max(DEFAULT_TOLERANCE_M2, DEFAULT_TOLERANCE_FRACTION * scope_area)
    )

    routes = access_routes
    if routes is not None and len(routes) and "block_id" in routes.columns:
        routes = routes[routes["block_id"].notna() & (routes["block_id"].astype(str) != "")]
        routes = routes.assign(
            geometry=routes.geometry.buffer(0.0)
        )  # lines with width come as polygons
    defined = _polygonal(
        shapely.union_all([_union(premises), _union(communal_areas), _union(routes)])
    )
    on_premises = _polygonal(scope.intersection(defined))
    rest = _polygonal(scope.difference(defined))
    on_open = _polygonal(rest.intersection(_union(open_space)))
    other = _polygonal(rest.difference(on_open))
    premises_area, open_area = on_premises.area, on_open.area
    other_area = max(
        scope_area - premises_area - open_area, 0.0
    )  # the three add up to the scope exactly

    if scope_area - premises_area <= tol:
        verdict = "premises"
    elif premises_area <= tol:
        # off the premises: on mapped open space, or elsewhere (an unmapped road, a yard nobody drew)
        verdict = "open_space" if open_area >= other_area else "not_premises"
    else:
        verdict = "mixed"

    # which premises each part of the scope came from, each square metre counted once
    parts: list[dict[str, Any]] = []
    counted = shapely.Polygon()
    block_ids = _block_ids(premises)
    for i, block_id in enumerate(block_ids):
        own = [premises.geometry.values[i]]
        for frame in (communal_areas, routes):
            ids = _block_ids(frame)
            if len(ids):
                own += list(frame.geometry.values[ids == block_id])
        block_all = _polygonal(shapely.union_all(shapely.make_valid(np.asarray(own, dtype=object))))
        share = _polygonal(scope.intersection(block_all).difference(counted))
        if share.area > 0.01:
            counted = counted.union(share)
            name = premises["name"].iloc[i] if "name" in premises.columns else None
            parts.append({"block_id": block_id, "name": name, "area_m2": round(share.area, 3)})
            footprint = _polygonal(shapely.make_valid(premises.geometry.values[i]))
            if (
                footprint.area > 0
                and scope.intersection(footprint).area >= WHOLE_BLOCK_SHARE * footprint.area
            ):
                add(
                    Finding(
                        "WHOLE_BLOCK",
                        "warning",
                        f"the scope takes in the whole footprint of {name or block_id}, flats included: residents "
                        "and the owner must be in the permitted access of a notice (s.76(4)); close only the "
                        "communal parts if that is what is meant",
                        footprint,
                        footprint.area,
                    )
                )
            if entrances is not None and len(entrances):
                doors = entrances[_block_ids(entrances) == block_id]
                for door in doors.itertuples():
                    if door.geometry.distance(scope) > ENTRANCE_REACH_M:
                        label = getattr(door, "name", None) or "an entrance"
                        add(
                            Finding(
                                "ENTRANCE_NOT_COVERED",
                                "warning",
                                f"{label} of {name or block_id} is not on the scope: notices must be fixed at "
                                "every normal means of access to the premises (s.79(2)); check it is not one",
                                door.geometry,
                            )
                        )

    if premises_area <= tol:
        add(
            Finding(
                "NOT_TIED_TO_PREMISES",
                "error",
                "the scope covers no identified block, communal area or block access route: a closure premises "
                "must be an identifiable property or a distinct part of one (s.92; Leeds CC v Persons Unknown "
                "[2023] EWHC 1504 (Admin))",
            )
        )
    outside = _polygonal(scope.difference(defined))
    if outside.area > 0.01:
        severity = "warning" if outside.area <= tol else "error"
        add(
            Finding(
                "OUTSIDE_PREMISES",
                severity,
                f"{outside.area:.1f} m² ({outside.area / scope_area:.1%}) of the scope lies outside any block, "
                "communal area or block access route",
                outside,
                outside.area,
            )
        )
    if open_area > 0.01:
        open_mask = np.asarray(
            shapely.intersects(np.asarray(open_space.geometry.values, dtype=object), on_open)
        )
        names = _names(open_space, open_mask)
        add(
            Finding(
                "ON_OPEN_SPACE",
                "error" if open_area > tol else "warning",
                f"{open_area:.1f} m² of the scope lies on mapped open space{f' ({names})' if names else ''}: "
                "open land is not premises (Leeds CC v Persons Unknown [2023])",
                on_open,
                open_area,
            )
        )
    if other.area > 0.01 and other.area > tol:
        add(
            Finding(
                "UNMAPPED_OR_HIGHWAY",
                "warning",
                f"{other.area:.1f} m² of the scope lies on land mapped as neither premises nor open space "
                "(often highway or another property)",
                other,
                other.area,
            )
        )

    if highways is not None and len(highways):
        lines = highways
        if "feature_class" in lines.columns:
            cls = lines["feature_class"].astype(str).str.removeprefix("street:")
            lines = lines[cls.isin(VEHICLE_HIGHWAYS)]
        crossing = [g.intersection(scope) for g in lines.geometry.values]
        length = sum(c.length for c in crossing)
        if length > 0.5:
            mask = np.array([c.length > 0 for c in crossing])
            names = _names(lines, mask)
            add(
                Finding(
                    "CROSSES_HIGHWAY",
                    "error",
                    f"the scope crosses a public highway for {length:.1f} m{f' ({names})' if names else ''}: a "
                    "highway is not premises (Leeds CC v Persons Unknown [2023])",
                    shapely.union_all([c for c in crossing if not c.is_empty]),
                )
            )
    if boroughs is not None and len(boroughs):
        hit = [(row, row.geometry.intersection(scope).area) for row in boroughs.itertuples()]
        touched = [(row, a) for row, a in hit if a > tol]
        if len(touched) > 1:
            names = ", ".join(
                str(getattr(r, "name", None) or getattr(r, "LAD22NM", "")) for r, _ in touched
            )
            add(
                Finding(
                    "CROSSES_BOROUGH",
                    "warning",
                    f"the scope crosses a borough boundary ({names}): a local-authority notice reaches only its "
                    "own area, and each council must be consulted (s.76(7))",
                )
            )
    if other_orders is not None and len(other_orders):
        for row in other_orders.itertuples():
            overlap = _polygonal(scope.intersection(shapely.make_valid(row.geometry)))
            if overlap.area > 0.01:
                label = (
                    getattr(row, "order_id", None) or getattr(row, "name", None) or "another order"
                )
                add(
                    Finding(
                        "OVERLAPS_ORDER",
                        "warning",
                        f"{overlap.area:.1f} m² of the scope overlaps {label}",
                        overlap,
                        overlap.area,
                    )
                )

    for poly in shapely.get_parts(scope):
        if len(poly.interiors):
            add(
                Finding(
                    "HOLES",
                    "info",
                    f"the scope has {len(poly.interiors)} hole(s): say in the order what they are",
                    poly,
                )
            )
        if poly.buffer(-SLIVER_WIDTH_M / 2).is_empty:
            add(
                Finding(
                    "SLIVER",
                    "warning",
                    f"a part of the scope of {poly.area:.2f} m² is narrower than {SLIVER_WIDTH_M} m: a drawing "
                    "slip, or a boundary nobody can see on the ground",
                    poly,
                    poly.area,
                )
            )

    coverage = None
    if incidents is not None:
        points = np.asarray(
            incidents.geometry.values if hasattr(incidents, "geometry") else incidents, dtype=object
        )
        points = points[~shapely.is_empty(points) & (points != None)]  # noqa: E711 - numpy elementwise
        inside = int(np.count_nonzero(shapely.covered_by(points, scope)))
        ring = _polygonal(scope.buffer(RING_M).difference(scope))
        in_ring = int(
            np.count_nonzero(shapely.covered_by(points, ring) & ~shapely.covered_by(points, scope))
        )
        coverage = {
            "incidents_total": int(len(points)),
            "incidents_inside": inside,
            "incidents_ring": in_ring,
            "ring_m": RING_M,
            "rate_inside_per_ha": round(inside / (scope_area / 10_000), 3) if scope_area else None,
            "rate_ring_per_ha": round(in_ring / (ring.area / 10_000), 3) if ring.area else None,
        }
    return ScopeCheck(
        scope_area, premises_area, open_area, other_area, tol, verdict, findings, parts, coverage
    )


def scope_from_parts(geoms: Sequence[BaseGeometry]) -> BaseGeometry:
    """A scope as the union of the picked blocks, communal areas and routes."""
    return _polygonal(shapely.union_all(shapely.make_valid(np.asarray(list(geoms), dtype=object))))
