"""Snapping a drawn shape onto its neighbours, so a stairwell drawn against a wall shares it.

A shape drawn in a browser is approximate: a stairwell drawn "against" a wall stops 0.3 m short of
it or crosses it. An order's schedule has to say exactly which parts of a block are closed, so a
drawn shape is pulled onto the existing vertices and edges within a tolerance before it is stored.
All geometry is in EPSG:27700, metres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import numpy as np
from numpy.typing import NDArray

import shapely
from shapely.geometry.base import BaseGeometry

from .drawing import DrawingError

DEFAULT_SNAP_TOLERANCE_M = 0.5
_EPS = 1e-9  # metres: "the same point" for vertices computed in floating point


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
    """Each vertex moved onto the nearest existing vertex within tol, else onto its nearest edge."""
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
        for v, s in zip(*np.nonzero(ok), strict=True):
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
    if isinstance(part, shapely.Polygon):
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
    # each part keeps its simple type (_snap_simple rebuilds the kind it was given)
    if kind == "MultiPoint":
        return shapely.MultiPoint(cast(list[shapely.Point], parts)), count
    if kind == "MultiLineString":
        return shapely.MultiLineString(cast(list[shapely.LineString], parts)), count
    if kind == "MultiPolygon":
        return shapely.MultiPolygon(cast(list[shapely.Polygon], parts)), count
    return shapely.GeometryCollection(parts), count


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
