"""Drawing and editing features on the map: snapping, routes with a width, checks on save, floors.

A shape drawn in a browser is approximate: a stairwell drawn "against" a wall stops 0.3 m short of
it or crosses it. An order's schedule has to say exactly which parts of a block are closed, so a
drawn shape is snapped onto its neighbours and checked before it is stored. The checks *report*
(what is wrong, how much in m², how to fix it); nothing here repairs a shape unless asked
(:func:`repair_drawing`, which the page offers as a button). All geometry is in EPSG:27700, metres.

Floors: a communal area covers the whole floors ``floor_from``..``floor_to`` inclusive. A missing
``floor_to`` means the single floor ``floor_from`` (and a missing ``floor_from`` the single floor
``floor_to``); both missing means every floor. Two areas of one block may overlap on the map when
they share no floor: a landing on floor 1 above the entrance lobby on floor 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from .crs import BNG
from .errors import ClosuremapError, CoordinateError, SchemaError
from .validate import LINEAR, POLYGONAL, PUNTAL, repair

#: Below this, an area (m²) is floating-point noise from an overlay, not something to report.
NOISE_M2 = 0.01
DEFAULT_SNAP_TOLERANCE_M = 0.5
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
_EPS = 1e-9  # metres: "the same point" for vertices computed in floating point


class DrawingError(ClosuremapError):
    """A drawing that cannot be turned into a feature at all (no width, nothing left to repair)."""


@dataclass(frozen=True)
class DrawingProblem:
    """One thing wrong with a drawn shape, worded for the officer who drew it.

    ``severity`` is ``"error"`` (cannot be saved as it is) or ``"warning"`` (can be saved, but
    probably should not be). ``geometry`` is the part to highlight on the map.
    """

    code: str
    severity: str
    message: str
    area_m2: float | None = None
    geometry: BaseGeometry | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for a table or JSON (geometry as WKT to the centimetre)."""
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


# --------------------------------------------------------------------------------------------
# Snapping


def _linework(g: BaseGeometry) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
    """The coordinate paths (edges) and lone points of an existing geometry, in 2D."""
    paths: list[NDArray[np.float64]] = []
    points: list[NDArray[np.float64]] = []
    for part in shapely.get_parts(g):
        kind = part.geom_type
        if kind == "GeometryCollection":
            p, q = _linework(part)
            paths += p
            points += q
        elif kind == "Polygon":
            for ring in (part.exterior, *part.interiors):
                paths.append(shapely.get_coordinates(ring))
        elif kind in ("LineString", "LinearRing"):
            paths.append(shapely.get_coordinates(part))
        elif kind == "Point" and not part.is_empty:
            points.append(shapely.get_coordinates(part))
    return paths, points


def _reference(
    existing: Sequence[BaseGeometry | None], bounds: tuple[float, float, float, float], tol: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The existing vertices (n, 2) and edges (m, 2, 2) that come within ``tol`` of ``bounds``."""
    x0, y0, x1, y1 = bounds[0] - tol, bounds[1] - tol, bounds[2] + tol, bounds[3] + tol
    window = shapely.box(x0, y0, x1, y1)
    vertices: list[NDArray[np.float64]] = []
    segments: list[NDArray[np.float64]] = []
    for g in existing:
        if g is None or g.is_empty or not shapely.intersects(window, shapely.envelope(g)):
            continue
        paths, points = _linework(g)
        vertices += [c for c in (*paths, *points) if len(c)]
        segments += [np.stack([c[:-1], c[1:]], axis=1) for c in paths if len(c) > 1]
    verts = np.unique(np.concatenate(vertices), axis=0) if vertices else np.empty((0, 2))
    segs = np.concatenate(segments) if segments else np.empty((0, 2, 2))
    inside = (verts[:, 0] >= x0) & (verts[:, 0] <= x1) & (verts[:, 1] >= y0) & (verts[:, 1] <= y1)
    lo, hi = segs.min(axis=1), segs.max(axis=1)
    near = (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
    return verts[inside], segs[near]


def _project(
    points: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Each point's nearest point on each segment a-b: (k, m, 2) points, (k, m) distances and t."""
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    rel = points[:, None, :] - a[None, :, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, np.einsum("kmj,mj->km", rel, ab) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    foot = a[None, :, :] + t[..., None] * ab[None, :, :]
    # exact coordinates where the segment is axis-parallel (a wall drawn east-west stays at its y)
    foot = np.where(ab[None, :, :] == 0, a[None, :, :], foot)
    dist = np.hypot(*(points[:, None, :] - foot).transpose(2, 0, 1))
    return foot, dist, t


def _snap_vertices(
    coords: NDArray[np.float64], verts: NDArray[np.float64], segs: NDArray[np.float64], tol: float
) -> NDArray[np.float64]:
    """Each vertex moved to the nearest existing vertex within tol, else to the nearest edge point."""
    out = coords.copy()
    if len(verts):
        d = np.hypot(*(coords[:, None, :] - verts[None, :, :]).transpose(2, 0, 1))
        best = d.argmin(axis=1)
        hit = d[np.arange(len(coords)), best] <= tol
        out[hit] = verts[best[hit]]
    else:
        hit = np.zeros(len(coords), dtype=bool)
    todo = np.flatnonzero(~hit)
    if len(segs) and len(todo):
        foot, dist, _ = _project(coords[todo], segs[:, 0], segs[:, 1])
        best = dist.argmin(axis=1)
        close = dist[np.arange(len(todo)), best] <= tol
        out[todo[close]] = foot[np.flatnonzero(close), best[close]]
    return out


_Additions = dict[tuple[int, int], list[tuple[float, NDArray[np.float64]]]]


def _insertions(
    paths: list[tuple[NDArray[np.float64], NDArray[np.float64], bool]],
    verts: NDArray[np.float64],
    tol: float,
) -> _Additions:
    """Existing vertices to add into the new edges: {(path, segment): [(t, vertex), ...]}.

    An existing vertex is added to the new edge nearest it when it lies within tol of that edge
    both before and after the vertex snap (so the shape never moves more than tol anywhere), and
    strictly between the edge's ends. This is what makes a new edge follow a wall that has a
    corner or kink along it.
    """
    if not len(verts):
        return {}
    best: dict[
        int, tuple[float, int, int, float]
    ] = {}  # vertex index -> (distance, path, segment, t)
    for p, (before, after, closed) in enumerate(paths):
        ends_a, ends_b = (after, np.roll(after, -1, axis=0)) if closed else (after[:-1], after[1:])
        orig_a, orig_b = (
            (before, np.roll(before, -1, axis=0)) if closed else (before[:-1], before[1:])
        )
        if not len(ends_a):
            continue
        foot, dist, t = _project(verts, ends_a, ends_b)
        _, dist_before, _ = _project(verts, orig_a, orig_b)
        seg_len = np.hypot(*(ends_b - ends_a).T)
        to_a = t * seg_len[None, :]
        to_b = (1 - t) * seg_len[None, :]
        ok = (dist <= tol) & (dist_before <= tol) & (to_a > _EPS) & (to_b > _EPS)
        already = (
            np.hypot(*(verts[:, None, :] - after[None, :, :]).transpose(2, 0, 1)) <= _EPS
        ).any(axis=1)
        ok &= ~already[:, None]
        for v, s in zip(*np.nonzero(ok)):
            if v not in best or dist[v, s] < best[v][0]:
                best[int(v)] = (float(dist[v, s]), p, int(s), float(t[v, s]))
    out: _Additions = {}
    for v, (_, p, s, t_) in best.items():
        out.setdefault((p, s), []).append((t_, verts[v]))
    return out


def _dedupe(coords: NDArray[np.float64], closed: bool) -> NDArray[np.float64]:
    """Consecutive repeated vertices dropped (two vertices snapped onto the same point)."""
    if len(coords) < 2:
        return coords
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
    coords = coords[keep]
    while closed and len(coords) > 1 and np.all(coords[0] == coords[-1]):
        coords = coords[:-1]
    return coords


def _paths_of(part: BaseGeometry) -> list[tuple[NDArray[np.float64], bool]]:
    """A simple geometry's coordinate paths (rings without their closing vertex)."""
    if part.geom_type == "Polygon":
        rings = (part.exterior, *part.interiors)
        return [(shapely.get_coordinates(r)[:-1], True) for r in rings]
    return [(shapely.get_coordinates(part), False)]


def _rebuild(kind: str, paths: list[NDArray[np.float64]]) -> BaseGeometry:
    if kind == "Point":
        return shapely.Point(paths[0][0])
    if kind == "LineString":
        return shapely.LineString(paths[0])
    return shapely.Polygon(paths[0], paths[1:])


def _snap_simple(
    part: BaseGeometry, verts: NDArray[np.float64], segs: NDArray[np.float64], tol: float
) -> tuple[BaseGeometry, int]:
    kind = part.geom_type
    paths = _paths_of(part)
    moved = 0
    snapped: list[tuple[NDArray[np.float64], NDArray[np.float64], bool]] = []
    for coords, closed in paths:
        new = _snap_vertices(coords, verts, segs, tol)
        moved += int(np.any(new != coords, axis=1).sum())
        snapped.append((coords, new, closed))
    added = _insertions(snapped, verts, tol) if kind != "Point" else {}
    rebuilt: list[NDArray[np.float64]] = []
    for p, (_, new, closed) in enumerate(snapped):
        rows: list[NDArray[np.float64]] = []
        for s, vertex in enumerate(new):
            rows.append(vertex)
            for _, extra in sorted(added.get((p, s), []), key=lambda item: item[0]):
                rows.append(extra)
        out = _dedupe(np.asarray(rows), closed)
        if closed:
            if len(out) < 3:
                raise ValueError("ring collapsed")
            out = np.vstack([out, out[:1]])
        elif kind == "LineString" and len(out) < 2:
            raise ValueError("line collapsed")
        rebuilt.append(out)
    moved += sum(len(v) for v in added.values())
    return _rebuild(kind, rebuilt), moved


def _snap_any(
    geom: BaseGeometry, verts: NDArray[np.float64], segs: NDArray[np.float64], tol: float
) -> tuple[BaseGeometry, int]:
    kind = geom.geom_type
    if kind in ("Point", "LineString", "Polygon"):
        return _snap_simple(geom, verts, segs, tol)
    if not kind.startswith("Multi") and kind != "GeometryCollection":
        return geom, 0  # a bare LinearRing: nothing we draw
    results = [_snap_any(part, verts, segs, tol) for part in shapely.get_parts(geom)]
    parts = [g for g, _ in results]
    count = sum(n for _, n in results)
    maker = {
        "MultiPoint": shapely.MultiPoint,
        "MultiLineString": shapely.MultiLineString,
        "MultiPolygon": shapely.MultiPolygon,
    }.get(kind, shapely.GeometryCollection)
    return maker(parts), count


def snap_to_existing(
    geom: BaseGeometry,
    existing: Sequence[BaseGeometry | None],
    tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
) -> tuple[BaseGeometry, int]:
    """The drawn shape pulled onto its neighbours, so a stairwell drawn against a wall shares it.

    Each vertex within ``tolerance_m`` of an existing vertex moves onto the nearest one (a corner
    drawn near a block's corner means that corner); otherwise, within ``tolerance_m`` of an
    existing edge, it moves to its projection on that edge (the nearest point, exactly on it for
    walls parallel to the grid axes, within ~1e-9 m for others). Then an existing vertex lying
    within ``tolerance_m`` of a new edge is added to that edge, so the new edge follows the wall
    round a kink instead of cutting it. No point of the shape moves more than ``tolerance_m``.

    Returns the snapped shape and how many of its vertices changed: moved ones plus added ones,
    so 0 means the shape comes back unchanged. Pass the neighbours, not the old version of the
    feature being edited. Z values are dropped: drawings are flat.

    If snapping would make the shape invalid (a thin shape whose two sides snap to one wall, a
    ring that folds over) or change its type, the shape is returned exactly as drawn with count 0:
    a snap must never turn a good drawing into a bad one. A shape that was already invalid is
    returned as drawn unless the snap happens to yield a valid one; the save checks report it.
    """
    if tolerance_m < 0 or not math.isfinite(tolerance_m):
        raise DrawingError(f"The snap tolerance must be 0 m or more, not {tolerance_m} m.")
    if geom is None or geom.is_empty or tolerance_m == 0:
        return geom, 0
    flat = shapely.force_2d(geom)
    verts, segs = _reference(existing, geom.bounds, tolerance_m)
    if not len(verts) and not len(segs):
        return geom, 0
    try:
        snapped, count = _snap_any(flat, verts, segs, tolerance_m)
    except (ValueError, shapely.errors.GEOSException):
        return geom, 0
    if (
        count == 0
        or snapped.is_empty
        or snapped.geom_type != geom.geom_type
        or not shapely.is_valid(snapped)
    ):
        return geom, 0
    return snapped, count


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
# Floors


def _missing(value: Any) -> bool:
    """None, NaN, pandas' NA or blank text: a value the officer did not enter."""
    if isinstance(value, str):
        return value.strip() == ""
    return value is None or bool(pd.isna(value))


def floor_range(floor_from: Any, floor_to: Any) -> tuple[float, float]:
    """The inclusive floors an area covers; (-inf, inf) when neither is known."""
    if _missing(floor_from) and _missing(floor_to):
        return (-math.inf, math.inf)
    if _missing(floor_to):
        return (int(floor_from), int(floor_from))
    if _missing(floor_from):
        return (int(floor_to), int(floor_to))
    return (int(floor_from), int(floor_to))


def _ranges(communal: gpd.GeoDataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = len(communal)
    lo = (
        communal["floor_from"]
        if "floor_from" in communal
        else pd.Series([None] * n, index=communal.index)
    )
    hi = (
        communal["floor_to"]
        if "floor_to" in communal
        else pd.Series([None] * n, index=communal.index)
    )
    pairs = [floor_range(a, b) for a, b in zip(lo, hi)]
    return (
        np.array([p[0] for p in pairs], dtype=float).reshape(n),
        np.array([p[1] for p in pairs], dtype=float).reshape(n),
    )


def on_floor(communal: gpd.GeoDataFrame, floor: int) -> gpd.GeoDataFrame:
    """The communal areas that exist on ``floor`` (a new frame; the input is untouched)."""
    lo, hi = _ranges(communal)
    return communal[(lo <= floor) & (floor <= hi)].copy()


def _label(row: Mapping[str, Any], fallback: str) -> str:
    for column in ("name", "area_type", "feature_id"):
        value = row.get(column)
        if not _missing(value):
            return str(value)
    return fallback


def floors_of(communal: gpd.GeoDataFrame, block_id: str) -> dict[int, list[str]]:
    """For each floor of a block, the names of the communal parts on it, floors in order.

    The floors are those any of the block's areas names. An area with no floors recorded exists
    on every one of them; when no area of the block names a floor, it is listed on floor 0.
    """
    if "block_id" not in communal or not len(communal):
        return {}
    mine = communal[communal["block_id"] == block_id]
    lo, hi = _ranges(mine)
    known = np.isfinite(lo)
    floors: set[int] = set()
    for a, b in zip(lo[known], hi[known]):
        floors.update(range(int(a), int(b) + 1))
    if not floors and len(mine):
        floors = {0}
    out: dict[int, list[str]] = {f: [] for f in sorted(floors)}
    for i, (_, row) in enumerate(mine.iterrows()):
        name = _label(row, f"area {i + 1}")
        for f in out:
            if lo[i] <= f <= hi[i]:
                out[f].append(name)
    return out


def _floors_text(lo: float, hi: float) -> str:
    if not math.isfinite(lo):
        return "on all floors"
    return f"on floor {int(lo)}" if lo == hi else f"on floors {int(lo)}–{int(hi)}"


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


def _structure(kind: str, geom: BaseGeometry | None) -> list[DrawingProblem]:
    """Errors that stop every other check: nothing drawn, the wrong type, an invalid shape."""
    title = _TITLES[kind]
    if geom is None or geom.is_empty:
        return [
            DrawingProblem(
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
            DrawingProblem(
                "WRONG_TYPE",
                "error",
                f"{article} {title} must be drawn as {what}, not a {geom.geom_type}: delete this one "
                "and draw it with the matching tool.",
                geometry=geom,
            )
        ]
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        return [
            DrawingProblem(
                "SELF_INTERSECTION",
                "error",
                f"The outline crosses or folds over itself ({reason}), so its area is ambiguous. Redraw it, or use "
                "'Repair' to keep the area it encloses, split where it crosses.",
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


def _block_label(name: Any, block_id: Any) -> str:
    """'Perronet House (PER)', or whichever of the two is known."""
    if _missing(name):
        return "another block" if _missing(block_id) else str(block_id)
    return str(name) if _missing(block_id) else f"{name} ({block_id})"


def _block(blocks: gpd.GeoDataFrame, block_id: Any) -> tuple[BaseGeometry, str] | None:
    if _missing(block_id) or "block_id" not in blocks:
        return None
    rows = blocks[blocks["block_id"].astype(str) == str(block_id)]
    rows = rows[~shapely.is_missing(rows.geometry.values) & ~rows.geometry.is_empty]
    if not len(rows):
        return None
    geom = shapely.union_all(_valid(rows.geometry.values))
    return geom, _block_label(rows["name"].iloc[0] if "name" in rows else None, block_id)


def _unknown_block(kind: str, block_id: Any) -> DrawingProblem:
    title = _TITLES[kind]
    if _missing(block_id):
        return DrawingProblem(
            "UNKNOWN_BLOCK", "error", f"Choose the block this {title} belongs to before saving."
        )
    return DrawingProblem(
        "UNKNOWN_BLOCK",
        "error",
        f"There is no block '{block_id}' in this workspace: choose the block this {title} belongs "
        "to, or draw the block first.",
    )


def _outside_block(
    geom: BaseGeometry, block: BaseGeometry, block_name: str, label: str
) -> list[DrawingProblem]:
    outside = geom.difference(block)
    area = outside.area
    if area < NOISE_M2:
        return []
    return [
        DrawingProblem(
            "OUTSIDE_BLOCK",
            "warning",
            f"{label} sticks out by {_m2(area)} beyond its block {block_name} ({area / geom.area:.0%} of its "
            f"{_m2(geom.area)}). A communal area is part of the block: move or reshape it to lie inside the footprint "
            "(snapping pulls edges onto walls within the tolerance), or choose the right block.",
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
) -> list[DrawingProblem]:
    block_id = attrs.get("block_id")
    if _missing(block_id) or "block_id" not in communal or not len(communal):
        return []
    others = communal[communal["block_id"].astype(str) == str(block_id)]
    if exclude is not None and "feature_id" in others:
        others = others[others["feature_id"].astype(str) != str(exclude)]
    if not len(others):
        return []
    lo, hi = floor_range(attrs.get("floor_from"), attrs.get("floor_to"))
    o_lo, o_hi = _ranges(others)
    share = np.maximum(o_lo, lo) <= np.minimum(o_hi, hi)
    geoms = _valid(others.geometry.values)
    hits = share & shapely.intersects(geoms, geom)
    problems = []
    for i in np.flatnonzero(hits):
        overlap = shapely.intersection(geom, geoms[i])
        area = overlap.area
        if area < NOISE_M2:
            continue
        row = others.iloc[i]
        name = _label(row, "another communal area")
        fid = row.get("feature_id")
        ident = f"'{name}' (feature {str(fid)[:8]})" if not _missing(fid) else f"'{name}'"
        floors = _floors_text(max(lo, o_lo[i]), min(hi, o_hi[i]))
        problems.append(
            DrawingProblem(
                "OVERLAPS_COMMUNAL",
                "warning",
                f"{label} overlaps {ident} by {_m2(area)} {floors}. Areas of one block on the same floor should not "
                "overlap: reshape one of them, or correct their floors if one is above the other.",
                area_m2=area,
                geometry=overlap,
            )
        )
    return problems


def _slivers(geom: BaseGeometry, min_width_m: float, label: str) -> list[DrawingProblem]:
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
            DrawingProblem(
                "SLIVER",
                "warning",
                f"{label} has a part of {_m2(area)} narrower than {min_width_m:g} m, probably a slip of the mouse: "
                f"delete the spike's vertices or widen that part to at least {min_width_m:g} m.",
                area_m2=area,
                geometry=part,
            )
        )
    return problems


def _block_overlaps(
    geom: BaseGeometry,
    attrs: Mapping[str, Any],
    blocks: gpd.GeoDataFrame,
    exclude: str | None,
    label: str,
) -> list[DrawingProblem]:
    if not len(blocks):
        return []
    others = blocks
    if exclude is not None:
        column = "feature_id" if "feature_id" in blocks else "block_id"
        if column in blocks:
            others = blocks[blocks[column].astype(str) != str(exclude)]
    geoms = _valid(others.geometry.values)
    if not len(geoms):
        return []
    problems = []
    for i in np.flatnonzero(shapely.intersects(geoms, geom)):
        overlap = shapely.intersection(geom, geoms[i])
        area = overlap.area
        if area < NOISE_M2:
            continue
        row = others.iloc[i]
        other = _block_label(row.get("name"), row.get("block_id"))
        problems.append(
            DrawingProblem(
                "BLOCK_OVERLAP",
                "warning",
                f"{label} overlaps the block {other} by {_m2(area)}. Two blocks cannot stand on the "
                "same ground: move the shared wall so the footprints only touch (snapping does this within the "
                "tolerance), or, if they are one building, draw it as one block.",
                area_m2=area,
                geometry=overlap,
            )
        )
    return problems


def _entrance_off_wall(
    point: BaseGeometry, block: BaseGeometry, block_name: str, label: str
) -> list[DrawingProblem]:
    distance = float(shapely.distance(point, block.boundary))
    if distance <= ENTRANCE_REACH_M:
        return []
    side = "inside" if block.contains(point) else "outside"
    return [
        DrawingProblem(
            "ENTRANCE_OFF_WALL",
            "warning",
            f"{label} is {distance:.1f} m {side} the outline of {block_name}; an entrance is a door or gate in the "
            f"wall (within {ENTRANCE_REACH_M:g} m of it): move it onto the wall, or choose the right block.",
            geometry=shapely.shortest_line(point, block.boundary),
        )
    ]


def _floor_order(attrs: Mapping[str, Any]) -> list[DrawingProblem]:
    lo, hi = attrs.get("floor_from"), attrs.get("floor_to")
    if not _missing(lo) and not _missing(hi) and int(hi) < int(lo):
        return [
            DrawingProblem(
                "FLOOR_RANGE",
                "error",
                f"'To floor' ({int(hi)}) is below 'from floor' ({int(lo)}): swap them, or enter the "
                "same floor twice for an area on one floor.",
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
) -> list[DrawingProblem]:
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
    label = f"'{name}'" if not _missing(name) else f"This {_TITLES[kind]}"
    block = _block(blocks, attrs.get("block_id"))
    if kind in NEEDS_BLOCK and block is None:
        problems.append(_unknown_block(kind, attrs.get("block_id")))
    if kind == "communal_areas":
        problems += _floor_order(attrs)
        if block is not None:
            problems += _outside_block(geom, block[0], block[1], label)
        problems += _overlaps_communal(geom, attrs, communal, exclude_feature_id, label)
    elif kind == "premises":
        problems += _block_overlaps(geom, attrs, blocks, exclude_feature_id, label)
    elif kind == "entrances" and block is not None:
        problems += _entrance_off_wall(geom, block[0], block[1], label)
    problems += _slivers(geom, min_width_m, label)
    return sorted(problems, key=lambda p: p.severity != "error")
