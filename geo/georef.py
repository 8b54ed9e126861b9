"""Placing a floor-plan image on the map: an affine transform from image pixels to ground
coordinates, fixed by three control points (or by fitting the image to a block's outline)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

import shapely

from .errors import ClosuremapError


class GeorefError(ClosuremapError):
    """Control points that fix no transform (repeated, or all on one line)."""


Affine = tuple[float, float, float, float, float, float]  # x' = a*x + b*y + c ; y' = d*x + e*y + f


def affine_from_points(
    source: Sequence[tuple[float, float]], target: Sequence[tuple[float, float]]
) -> Affine:
    """The affine transform taking three source points exactly onto three target points.

    >>> affine_from_points([(0, 0), (1, 0), (0, 1)], [(10, 20), (12, 20), (10, 23)])
    (2.0, 0.0, 10.0, 0.0, 3.0, 20.0)
    """
    src = np.asarray(source, dtype=float)
    dst = np.asarray(target, dtype=float)
    if src.shape != (3, 2) or dst.shape != (3, 2):
        raise GeorefError(
            "give exactly three control points, each with an image x, y and a ground easting, "
            "northing"
        )
    m = np.column_stack([src, np.ones(3)])
    if abs(np.linalg.det(m)) < 1e-9:
        raise GeorefError(
            "the three control points on the image are on one line (or repeated): pick three "
            "corners"
        )
    ax = np.linalg.solve(m, dst[:, 0])
    ay = np.linalg.solve(m, dst[:, 1])
    return (float(ax[0]), float(ax[1]), float(ax[2]), float(ay[0]), float(ay[1]), float(ay[2]))


def apply(affine: Affine, points: NDArray[np.float64]) -> NDArray[np.float64]:
    a, b, c, d, e, f = affine
    p = np.asarray(points, dtype=float)
    return np.column_stack([a * p[:, 0] + b * p[:, 1] + c, d * p[:, 0] + e * p[:, 1] + f])


def invert(affine: Affine) -> Affine:
    a, b, c, d, e, f = affine
    m = np.array([[a, b, c], [d, e, f], [0, 0, 1]], dtype=float)
    i = np.linalg.inv(m)
    return (
        float(i[0, 0]),
        float(i[0, 1]),
        float(i[0, 2]),
        float(i[1, 0]),
        float(i[1, 1]),
        float(i[1, 2]),
    )


def fit_to_outline(
    width_px: int, height_px: int, outline: shapely.Geometry
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Three control points that lay the image over the outline's minimum rotated rectangle, its
    long side along the image's long side: a first placement the user then corrects."""
    box = shapely.minimum_rotated_rectangle(outline)
    if not isinstance(box, shapely.Polygon):  # a line or a point has no rectangle to fit to
        raise GeorefError(
            "the outline has no area to lay the plan over: pick a block, not a line or a point"
        )
    corners = list(box.exterior.coords)[:4]
    side = [
        np.hypot(corners[i + 1][0] - corners[i][0], corners[i + 1][1] - corners[i][1])
        for i in range(2)
    ]
    start = 0 if (side[0] >= side[1]) == (width_px >= height_px) else 1
    c0, c1, c3 = corners[start], corners[(start + 1) % 4], corners[(start + 3) % 4]
    # image top-left -> c3 ... pixel rows grow downwards, northings upwards
    return [
        ((0.0, 0.0), (c3[0], c3[1])),
        ((float(width_px), 0.0), (c3[0] + c1[0] - c0[0], c3[1] + c1[1] - c0[1])),
        ((0.0, float(height_px)), (c0[0], c0[1])),
    ]
