"""The scope check: how much of a proposed closure scope is defined premises, how much open space.

The High Court held that a closure "premises" must be an objectively identifiable, distinct property
or part of one, not an area or line drawn on a map (Leeds City Council v Persons Unknown [2023]
EWHC 1504 (Admin); s.92). So an officer sees, before applying, each part of the scope counted once:
first what lies on defined premises (block footprints, their communal areas, access routes tied to a
block), then what lies on mapped open space, then the rest (unmapped land, highway). All areas in m²
in EPSG:27700. Here the scope is measured and divided; each finding rule is a small function in
``geo.scope_rules``, which :func:`check_scope` runs in a fixed order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from .errors import ClosuremapError
from .findings import Finding
from .scope_rules import (
    crosses_borough,
    crosses_highway,
    geometries,
    holes_and_slivers,
    not_tied_to_premises,
    on_open_space,
    outside_premises,
    overlaps_orders,
    uncovered_entrances,
    unmapped_or_highway,
    whole_block,
)
from .validate import polygon_parts

DEFAULT_TOLERANCE_FRACTION = 0.01  # 1 % of the scope …
DEFAULT_TOLERANCE_M2 = 1.0  # … or 1 m², whichever is larger
RING_M = 50.0


class ScopeError(ClosuremapError):
    """A scope that cannot be checked at all (empty, or nothing polygonal in it)."""


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


def _valid_union(geoms: Iterable[BaseGeometry]) -> BaseGeometry:
    """The polygonal union of shapes, each made valid first (a drawn bowtie still counts)."""
    valid = shapely.make_valid(np.asarray(list(geoms), dtype=object))
    return polygon_parts(shapely.union_all(valid))


def _union(frame: gpd.GeoDataFrame | gpd.GeoSeries | None) -> BaseGeometry:
    """The polygonal union of a layer's shapes (nothing for no layer)."""
    if frame is None or len(frame) == 0:
        return shapely.Polygon()
    return _valid_union(geometries(frame))


def _block_ids(frame: gpd.GeoDataFrame | None) -> NDArray[np.object_]:
    """Each feature's ``block_id`` (none for a layer without them), to pick a block's parts."""
    if frame is None or len(frame) == 0 or "block_id" not in frame.columns:
        return np.array([], dtype=object)
    return np.asarray(frame["block_id"], dtype=object)


def _measurable(scope: BaseGeometry | None) -> tuple[BaseGeometry, list[Finding]]:
    """The scope as polygons to be measured, repaired if its outline is invalid (and said so)."""
    if scope is None or scope.is_empty:
        raise ScopeError(
            "the scope is empty: draw it, or pick the blocks and communal areas it covers"
        )
    findings = []
    if not scope.is_valid:
        findings.append(
            Finding(
                "SCOPE_INVALID",
                "error",
                f"the scope's outline is invalid ({shapely.is_valid_reason(scope)}); it was "
                "repaired to be measured, but fix it before it goes to court",
            )
        )
        scope = shapely.make_valid(scope)
    scope = polygon_parts(scope)
    if scope.area <= 0:
        raise ScopeError(
            "the scope has no area: a closure scope is a polygon (draw lines with a width)"
        )
    return scope, findings


def _tied_routes(access_routes: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The access routes that name their block, as polygons: only those are part of a premises."""
    routes = access_routes
    if routes is not None and len(routes) and "block_id" in routes.columns:
        routes = routes[routes["block_id"].notna() & (routes["block_id"].astype(str) != "")]
        # lines with width come as polygons
        routes = routes.assign(geometry=routes.geometry.buffer(0.0))
    return routes


@dataclass(frozen=True)
class _Division:
    """The scope cut into its three parts, each square metre in exactly one of them."""

    on_premises: BaseGeometry
    off_premises: BaseGeometry
    on_open: BaseGeometry
    other: BaseGeometry


def _divide(
    scope: BaseGeometry, defined: BaseGeometry, open_space: gpd.GeoDataFrame | None
) -> _Division:
    """On defined premises first, then on mapped open space, then the rest."""
    off_premises = polygon_parts(scope.difference(defined))
    on_open = polygon_parts(off_premises.intersection(_union(open_space)))
    return _Division(
        on_premises=polygon_parts(scope.intersection(defined)),
        off_premises=off_premises,
        on_open=on_open,
        other=polygon_parts(off_premises.difference(on_open)),
    )


def _verdict(scope_area: float, premises_area: float, open_area: float, tol: float) -> str:
    """``premises``, ``open_space``, ``not_premises`` or ``mixed`` (see :func:`check_scope`)."""
    other_area = max(scope_area - premises_area - open_area, 0.0)
    if scope_area - premises_area <= tol:
        return "premises"
    if premises_area <= tol:
        # off the premises: on mapped open space, or elsewhere (an unmapped road, an undrawn yard)
        return "open_space" if open_area >= other_area else "not_premises"
    return "mixed"


def _blocks(
    scope: BaseGeometry,
    premises: gpd.GeoDataFrame,
    others: Sequence[gpd.GeoDataFrame | None],
    entrances: gpd.GeoDataFrame | None,
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Which block each part of the scope came from (each m² counted once) and the per-block rules.

    A block is its footprint plus the communal areas and access routes (``others``) that name it.
    """
    parts: list[dict[str, Any]] = []
    findings: list[Finding] = []
    counted: BaseGeometry = shapely.Polygon()
    owned = [(frame, _block_ids(frame)) for frame in others if frame is not None]
    door_ids = _block_ids(entrances)
    for i, block_id in enumerate(_block_ids(premises)):
        own = [premises.geometry.values[i]]
        for frame, ids in owned:
            if len(ids):
                own += list(frame.geometry.values[ids == block_id])
        block_all = _valid_union(own)
        share = polygon_parts(scope.intersection(block_all).difference(counted))
        if share.area <= 0.01:
            continue
        counted = counted.union(share)
        name = premises["name"].iloc[i] if "name" in premises.columns else None
        parts.append({"block_id": block_id, "name": name, "area_m2": round(share.area, 3)})
        footprint = polygon_parts(shapely.make_valid(premises.geometry.values[i]))
        findings += whole_block(scope, footprint, name or block_id)
        if entrances is not None and len(entrances):
            doors = entrances[door_ids == block_id]
            findings += uncovered_entrances(scope, doors, name or block_id)
    return parts, findings


def incident_coverage(
    scope: BaseGeometry, incidents: gpd.GeoSeries | gpd.GeoDataFrame
) -> dict[str, Any]:
    """How many incidents lie in the scope and in the ring of :data:`RING_M` metres round it,
    with rates per hectare (None for an area of nothing)."""
    points = geometries(incidents)
    points = points[~shapely.is_empty(points) & ~shapely.is_missing(points)]
    inside = int(np.count_nonzero(shapely.covered_by(points, scope)))
    ring = polygon_parts(scope.buffer(RING_M).difference(scope))
    in_ring = int(
        np.count_nonzero(shapely.covered_by(points, ring) & ~shapely.covered_by(points, scope))
    )
    return {
        "incidents_total": int(len(points)),
        "incidents_inside": inside,
        "incidents_ring": in_ring,
        "ring_m": RING_M,
        "rate_inside_per_ha": round(inside / (scope.area / 10_000), 3) if scope.area else None,
        "rate_ring_per_ha": round(in_ring / (ring.area / 10_000), 3) if ring.area else None,
    }


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
    scope, findings = _measurable(scope)
    scope_area = scope.area
    tol = (
        tolerance_m2
        if tolerance_m2 is not None
        else max(DEFAULT_TOLERANCE_M2, DEFAULT_TOLERANCE_FRACTION * scope_area)
    )
    routes = _tied_routes(access_routes)
    defined = polygon_parts(
        shapely.union_all([_union(premises), _union(communal_areas), _union(routes)])
    )
    cut = _divide(scope, defined, open_space)
    premises_area, open_area = cut.on_premises.area, cut.on_open.area
    other_area = max(scope_area - premises_area - open_area, 0.0)  # the three add up exactly
    parts, block_findings = _blocks(scope, premises, (communal_areas, routes), entrances)
    findings += block_findings
    findings += not_tied_to_premises(premises_area, tol)
    findings += outside_premises(cut.off_premises, scope_area, tol)
    findings += on_open_space(cut.on_open, open_space, tol)
    findings += unmapped_or_highway(cut.other, tol)
    findings += crosses_highway(scope, highways)
    findings += crosses_borough(scope, boroughs, tol)
    findings += overlaps_orders(scope, other_orders)
    findings += holes_and_slivers(scope)
    return ScopeCheck(
        scope_area,
        premises_area,
        open_area,
        other_area,
        tol,
        _verdict(scope_area, premises_area, open_area, tol),
        findings,
        parts,
        None if incidents is None else incident_coverage(scope, incidents),
    )


def scope_from_parts(geoms: Sequence[BaseGeometry]) -> BaseGeometry:
    """A scope as the union of the picked blocks, communal areas and routes."""
    return _valid_union(geoms)
