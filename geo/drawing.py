"""Drawing features on the map: routes with a width, repair on request, and the checks on save.

A shape drawn in a browser is approximate, and an order's schedule has to say exactly which parts
of a block are closed, so a drawn shape is snapped onto its neighbours (``geo.snapping``) and
checked here before it is stored. The checks *report* (what is wrong, how much in m², how to fix
it) as :class:`~geo.findings.Finding`s, the same type the scope check reports in; nothing here
repairs a shape unless asked (:func:`repair_drawing`, which the page offers as a button). All
geometry is in EPSG:27700, metres. Which floors a communal area covers is ``geo.floors``' job; the
checks use it to tell a landing above a lobby from two areas that overlap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from .crs import BNG
from .errors import ClosuremapError, CoordinateError, SchemaError
from .findings import Finding
from .floors import feature_label, floor_range, floor_ranges, floors_text, not_entered
from .validate import LINEAR, POLYGONAL, PUNTAL, repair

#: Below this, an area (m²) is floating-point noise from an overlay, not something to report.
NOISE_M2 = 0.01
DEFAULT_MIN_WIDTH_M = 0.3
#: An entrance further than this from its block's outline is probably not on a wall.
ENTRANCE_REACH_M = 1.0

#: The geometry types each drawable kind may be saved as (the same as layers/model.py's KINDS).
DRAWABLE: dict[str, tuple[str, ...]] = {
    "premises": POLYGONAL,
    "communal_areas": POLYGONAL,
    "access_routes": POLYGONAL + LINEAR,
    "open_space": POLYGONAL,
    "entrances": PUNTAL,
}
#: Kinds that must name the block they belong to.
NEEDS_BLOCK = ("communal_areas", "entrances")

_TITLES = {
    "premises": "block",
    "communal_areas": "communal area",
    "access_routes": "access route",
    "open_space": "open space",
    "entrances": "entrance",
}
_WHERE = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")


class DrawingError(ClosuremapError):
    """A drawing that cannot be turned into a feature at all (no width, nothing left to repair)."""


# --------------------------------------------------------------------------------------------
# Routes


def route_to_polygon(line: BaseGeometry, width_m: float) -> BaseGeometry:
    """A route drawn as a centre line with a width, as the strip of ground it covers.

    Flat ends (the route stops where it was drawn to stop, not half a width beyond) and mitred
    corners (a right-angled turn keeps its square corner), so the area is centre-line length x
    width. A MultiLineString gives one polygon per part, merged where they meet.
    """
    if not width_m or not math.isfinite(width_m) or width_m <= 0:
        raise DrawingError(
            f"A route needs a width of more than 0 m (got {width_m!r}); enter its width in metres."
        )
    if line is None or line.is_empty or line.geom_type not in LINEAR:
        raise DrawingError("A route must be drawn as a line; draw it along the middle of the path.")
    return shapely.buffer(line, width_m / 2, cap_style="flat", join_style="mitre")


# --------------------------------------------------------------------------------------------
# Repair


def repair_drawing(geom: BaseGeometry) -> BaseGeometry:
    """A valid polygonal version of an invalid drawn shape, for the officer to accept or not.

    GEOS ``make_valid`` keeps every bit of the drawn area: a bowtie becomes its two triangles.
    Lines and points left over from collapsed parts are dropped. The page offers this as a
    button; it is never applied without asking.
    """
    if geom is None or geom.is_empty:
        raise DrawingError("There is nothing to repair: draw the shape again.")
    fixed = repair(np.asarray([geom], dtype=object), POLYGONAL)[0]
    if fixed is None or fixed.is_empty:
        raise DrawingError("Repair leaves no area (the shape folds onto a line); draw it again.")
    return fixed  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# Checks on save


def _m2(area: float) -> str:
    return f"{area:,.2f} m²" if area < 1 else f"{area:,.1f} m²"


def _where(reason: str, geom: BaseGeometry) -> BaseGeometry:
    """The point GEOS names in its reason (``Self-intersection[5 5]``), else the whole shape."""
    match = _WHERE.search(reason)
    if match:
        try:
            return shapely.Point(float(match.group(1)), float(match.group(2)))
        except ValueError:
            pass
    return geom


def _structure(kind: str, geom: BaseGeometry | None) -> list[Finding]:
    """Errors that stop every other check: nothing drawn, the wrong type, an invalid shape."""
    title = _TITLES[kind]
    if geom is None or geom.is_empty:
        return [
            Finding(
                "NO_GEOMETRY",
                "error",
                f"Nothing is drawn for this {title}: draw it on the map, then save.",
            )
        ]
    allowed = DRAWABLE[kind]
    if geom.geom_type not in allowed:
        wanted = {"Polygon": "an area (polygon)", "LineString": "a line", "Point": "a point"}
        what = " or ".join(dict.fromkeys(wanted[t] for t in allowed if t in wanted))
        article = "An" if title[0] in "aeiou" else "A"
        return [
            Finding(
                "WRONG_TYPE",
                "error",
                f"{article} {title} must be drawn as {what}, not a {geom.geom_type}: delete this "
                "one and draw it with the matching tool.",
                geometry=geom,
            )
        ]
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        return [
            Finding(
                "SELF_INTERSECTION",
                "error",
                f"The outline crosses or folds over itself ({reason}), so its area is ambiguous. "
                "Redraw it, or use 'Repair' to keep the area it encloses, split where it crosses.",
                geometry=_where(reason, geom),
            )
        ]
    return []


def _check_crs(frame: gpd.GeoDataFrame, what: str) -> None:
    if frame.crs is not None and not frame.crs.equals(BNG):
        raise CoordinateError(
            f"The {what} are in {frame.crs.name}, not British National Grid (EPSG:27700): "
            "convert them with geo.crs before checking a drawing against them."
        )


def _valid(geoms: Iterable[Any]) -> NDArray[np.object_]:
    """Stored neighbours made valid for the overlay only (they are reported when they are saved)."""
    arr = np.asarray(list(geoms), dtype=object)
    if not len(arr):
        return arr
    bad = ~shapely.is_valid(arr) & ~shapely.is_missing(arr)
    arr[bad] = shapely.make_valid(arr[bad])
    return arr


def _overlaps(
    geom: BaseGeometry, others: gpd.GeoDataFrame, candidates: NDArray[np.bool_]
) -> Iterator[tuple[int, pd.Series, BaseGeometry]]:
    """Each candidate neighbour the shape overlaps by more than noise: its position, its row and
    the overlap (neighbours made valid for the overlay only)."""
    geoms = _valid(others.geometry.values)
    if not len(geoms):
        return
    for i in np.flatnonzero(candidates & shapely.intersects(geoms, geom)):
        overlap = shapely.intersection(geom, geoms[i])
        if overlap.area >= NOISE_M2:
            yield int(i), others.iloc[i], overlap


def _block_label(name: Any, block_id: Any) -> str:
    """'Perronet House (PER)', or whichever of the two is known."""
    if not_entered(name):
        return "another block" if not_entered(block_id) else str(block_id)
    return str(name) if not_entered(block_id) else f"{name} ({block_id})"


def _block(blocks: gpd.GeoDataFrame, block_id: Any) -> tuple[BaseGeometry, str] | None:
    if not_entered(block_id) or "block_id" not in blocks:
        return None
    rows = blocks[blocks["block_id"].astype(str) == str(block_id)]
    rows = rows[~shapely.is_missing(rows.geometry.values) & ~rows.geometry.is_empty]
    if not len(rows):
        return None
    geom = shapely.union_all(_valid(rows.geometry.values))
    return geom, _block_label(rows["name"].iloc[0] if "name" in rows else None, block_id)


def _unknown_block(kind: str, block_id: Any) -> Finding:
    title = _TITLES[kind]
    if not_entered(block_id):
        return Finding(
            "UNKNOWN_BLOCK", "error", f"Choose the block this {title} belongs to before saving."
        )
    return Finding(
        "UNKNOWN_BLOCK",
        "error",
        f"There is no block '{block_id}' in this workspace: choose the block this {title} belongs "
        "to, or draw the block first.",
    )


def _outside_block(
    geom: BaseGeometry, block: BaseGeometry, block_name: str, label: str
) -> list[Finding]:
    outside = geom.difference(block)
    area = outside.area
    if area < NOISE_M2:
        return []
    return [
        Finding(
            "OUTSIDE_BLOCK",
            "warning",
            f"{label} sticks out by {_m2(area)} beyond its block {block_name} "
            f"({area / geom.area:.0%} of its {_m2(geom.area)}). A communal area is part of the "
            "block: move or reshape it to lie inside the footprint (snapping pulls edges onto "
            "walls within the tolerance), or choose the right block.",
            area_m2=area,
            geometry=outside,
        )
    ]


def _overlaps_communal(
    geom: BaseGeometry,
    attrs: Mapping[str, Any],
    communal: gpd.GeoDataFrame,
    exclude: str | None,
    label: str,
) -> list[Finding]:
    """Areas of the same block on a shared floor that the new area overlaps."""
    block_id = attrs.get("block_id")
    if not_entered(block_id) or "block_id" not in communal or not len(communal):
        return []
    others = communal[communal["block_id"].astype(str) == str(block_id)]
    if exclude is not None and "feature_id" in others:
        others = others[others["feature_id"].astype(str) != str(exclude)]
    if not len(others):
        return []
    lo, hi = floor_range(attrs.get("floor_from"), attrs.get("floor_to"))
    o_lo, o_hi = floor_ranges(others)
    share = np.maximum(o_lo, lo) <= np.minimum(o_hi, hi)
    problems = []
    for i, row, overlap in _overlaps(geom, others, share):
        area = overlap.area
        name = feature_label(row, "another communal area")
        fid = row.get("feature_id")
        ident = f"'{name}' (feature {str(fid)[:8]})" if not not_entered(fid) else f"'{name}'"
        floors = floors_text(max(lo, o_lo[i]), min(hi, o_hi[i]))
        problems.append(
            Finding(
                "OVERLAPS_COMMUNAL",
                "warning",
                f"{label} overlaps {ident} by {_m2(area)} {floors}. Areas of one block on the same "
                "floor should not overlap: reshape one of them, or correct their floors if one is "
                "above the other.",
                area_m2=area,
                geometry=overlap,
            )
        )
    return problems


def _slivers(geom: BaseGeometry, min_width_m: float, label: str) -> list[Finding]:
    """Parts narrower than min_width_m: what a negative then positive buffer (an opening) removes.

    Mitred joins on both buffers give back a rectangle's corners exactly, so only narrow parts
    (a spike, a thin tail, a whole shape thinner than the minimum) are left in the difference.
    """
    if min_width_m <= 0 or geom.geom_type not in POLYGONAL:
        return []
    half = min_width_m / 2
    opened = shapely.buffer(
        shapely.buffer(geom, -half, join_style="mitre"), half, join_style="mitre"
    )
    thin = shapely.difference(geom, opened)
    problems = []
    for part in shapely.get_parts(thin):
        area = part.area
        if part.geom_type != "Polygon" or area < NOISE_M2:
            continue
        problems.append(
            Finding(
                "SLIVER",
                "warning",
                f"{label} has a part of {_m2(area)} narrower than {min_width_m:g} m, probably a "
                "slip of the mouse: delete the spike's vertices or widen that part to at least "
                f"{min_width_m:g} m.",
                area_m2=area,
                geometry=part,
            )
        )
    return problems


def _block_overlaps(
    geom: BaseGeometry, blocks: gpd.GeoDataFrame, exclude: str | None, label: str
) -> list[Finding]:
    """Other blocks the new footprint stands on (blocks may touch, never overlap)."""
    if not len(blocks):
        return []
    others = blocks
    if exclude is not None:
        column = "feature_id" if "feature_id" in blocks else "block_id"
        if column in blocks:
            others = blocks[blocks[column].astype(str) != str(exclude)]
    problems = []
    for _, row, overlap in _overlaps(geom, others, np.ones(len(others), dtype=bool)):
        area = overlap.area
        other = _block_label(row.get("name"), row.get("block_id"))
        problems.append(
            Finding(
                "BLOCK_OVERLAP",
                "warning",
                f"{label} overlaps the block {other} by {_m2(area)}. Two blocks cannot stand on "
                "the same ground: move the shared wall so the footprints only touch (snapping does "
                "this within the tolerance), or, if they are one building, draw it as one block.",
                area_m2=area,
                geometry=overlap,
            )
        )
    return problems


def _entrance_off_wall(
    point: BaseGeometry, block: BaseGeometry, block_name: str, label: str
) -> list[Finding]:
    distance = float(shapely.distance(point, block.boundary))
    if distance <= ENTRANCE_REACH_M:
        return []
    side = "inside" if block.contains(point) else "outside"
    return [
        Finding(
            "ENTRANCE_OFF_WALL",
            "warning",
            f"{label} is {distance:.1f} m {side} the outline of {block_name}; an entrance is a "
            f"door or gate in the wall (within {ENTRANCE_REACH_M:g} m of it): move it onto the "
            "wall, or choose the right block.",
            geometry=shapely.shortest_line(point, block.boundary),
        )
    ]


def _floor_order(attrs: Mapping[str, Any]) -> list[Finding]:
    lo: Any = attrs.get("floor_from")  # as entered: text, a number or nothing
    hi: Any = attrs.get("floor_to")
    if not not_entered(lo) and not not_entered(hi) and int(hi) < int(lo):
        return [
            Finding(
                "FLOOR_RANGE",
                "error",
                f"'To floor' ({int(hi)}) is below 'from floor' ({int(lo)}): swap them, or enter "
                "the same floor twice for an area on one floor.",
            )
        ]
    return []


def check_drawing(
    kind: str,
    geom: BaseGeometry | None,
    attrs: Mapping[str, Any],
    *,
    blocks: gpd.GeoDataFrame,
    communal: gpd.GeoDataFrame,
    min_width_m: float = DEFAULT_MIN_WIDTH_M,
    exclude_feature_id: str | None = None,
) -> list[Finding]:
    """Everything an officer should know about a shape before it is saved, errors first.

    ``kind`` is a drawable layer kind; ``attrs`` its attributes as entered (``block_id``,
    ``name``, ``floor_from``, ``floor_to``); ``blocks`` the block footprints (``block_id``,
    ``name``) and ``communal`` the stored communal areas (``feature_id``, ``block_id``, ``name``,
    ``floor_from``, ``floor_to``), both in EPSG:27700. ``exclude_feature_id`` is the feature
    being edited, so it is not compared with its own stored version (for blocks without a
    ``feature_id`` column, its ``block_id``).

    A shape that is missing, of the wrong type or invalid gets only that error: the area checks
    need a valid shape. Warnings below :data:`NOISE_M2` (0.01 m²) are floating-point noise and
    are not reported.
    """
    if kind not in DRAWABLE:
        raise SchemaError(
            f"'{kind}' is not a kind of layer that can be drawn; use one of {', '.join(DRAWABLE)}."
        )
    _check_crs(blocks, "blocks")
    _check_crs(communal, "communal areas")
    problems = _structure(kind, geom)
    if problems or geom is None:
        return problems
    name = attrs.get("name")
    label = f"'{name}'" if not not_entered(name) else f"This {_TITLES[kind]}"
    block = _block(blocks, attrs.get("block_id"))
    if kind in NEEDS_BLOCK and block is None:
        problems.append(_unknown_block(kind, attrs.get("block_id")))
    if kind == "communal_areas":
        problems += _floor_order(attrs)
        if block is not None:
            problems += _outside_block(geom, block[0], block[1], label)
        problems += _overlaps_communal(geom, attrs, communal, exclude_feature_id, label)
    elif kind == "premises":
        problems += _block_overlaps(geom, blocks, exclude_feature_id, label)
    elif kind == "entrances" and block is not None:
        problems += _entrance_off_wall(geom, block[0], block[1], label)
    problems += _slivers(geom, min_width_m, label)
    return sorted(problems, key=lambda p: p.severity != "error")
