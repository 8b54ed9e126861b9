"""Where harm concentrates: a kernel density surface and Getis-Ord Gi* hot spots on a square grid.

Statistics come from well-kept libraries (scikit-learn's KernelDensity, esda's G_Local with
libpysal weights), not written here; this module only lays the grid and labels the result. Every
output carries the parameters used, so the map can say how it was made.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

import geopandas as gpd
import shapely

from .crs import BNG
from .errors import ClosuremapError


class HotspotError(ClosuremapError):
    """Too few incidents, or parameters that make no grid."""


@dataclass(frozen=True)
class HotspotParams:
    cell_m: float = 25.0
    bandwidth_m: float = 75.0
    neighbour_m: float | None = None  # Gi* distance band; default 1.5 cells (queen neighbours)
    permutations: int = 999
    seed: int = 12345

    def describe(self) -> str:
        band = self.neighbour_m or 1.5 * self.cell_m
        return (
            f"{self.cell_m:g} m cells; kernel density: Epanechnikov, bandwidth "
            f"{self.bandwidth_m:g} m; Getis-Ord Gi*: distance band {band:g} m, {self.permutations} "
            "permutations"
        )


def grid(points: gpd.GeoSeries, cell_m: float, pad_m: float = 0.0) -> gpd.GeoDataFrame:
    """Square cells over the points' extent (plus ``pad_m``), each with the points it holds."""
    if cell_m <= 0:
        raise HotspotError("the cell size must be more than 0 m")
    xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    minx, miny = np.floor((xy.min(axis=0) - pad_m) / cell_m) * cell_m
    maxx, maxy = np.ceil((xy.max(axis=0) + pad_m) / cell_m) * cell_m
    nx, ny = max(int(round((maxx - minx) / cell_m)), 1), max(int(round((maxy - miny) / cell_m)), 1)
    if nx * ny > 250_000:
        raise HotspotError(f"{nx} x {ny} cells is too many; use larger cells than {cell_m:g} m")
    ix = np.clip(((xy[:, 0] - minx) // cell_m).astype(int), 0, nx - 1)
    iy = np.clip(((xy[:, 1] - miny) // cell_m).astype(int), 0, ny - 1)
    counts = np.bincount(iy * nx + ix, minlength=nx * ny)
    cx, cy = np.meshgrid(
        minx + (np.arange(nx) + 0.5) * cell_m, miny + (np.arange(ny) + 0.5) * cell_m
    )
    cells = shapely.box(
        cx.ravel() - cell_m / 2,
        cy.ravel() - cell_m / 2,
        cx.ravel() + cell_m / 2,
        cy.ravel() + cell_m / 2,
    )
    return gpd.GeoDataFrame(
        {"count": counts, "x": cx.ravel(), "y": cy.ravel()}, geometry=cells, crs=BNG
    )


def hotspots(
    points: gpd.GeoSeries | gpd.GeoDataFrame, params: HotspotParams = HotspotParams()
) -> gpd.GeoDataFrame:
    """Grid cells with ``count``, ``density_per_ha`` (kernel density) and Gi* ``z``, ``p`` and
    ``hotspot`` (e.g. 'hot 99%', 'cold 95%', 'not significant')."""
    # heavy (esda, libpysal, scikit-learn: ~2 s to import): loaded only when hot spots are drawn
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand, fill_diagonal
    from sklearn.neighbors import KernelDensity

    pts = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    pts = pts[~pts.is_empty & pts.notna()]
    if len(pts) < 10:
        raise HotspotError(
            f"{len(pts)} incidents are too few for a hot-spot analysis (10 at least)"
        )
    cells = grid(pts, params.cell_m, pad_m=params.bandwidth_m)
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    centres = cells[["x", "y"]].to_numpy()
    kde = KernelDensity(kernel="epanechnikov", bandwidth=params.bandwidth_m).fit(xy)
    density_m2 = np.exp(kde.score_samples(centres)) * len(xy)  # incidents per m²
    out = cells.copy()
    out["density_per_ha"] = density_m2 * 10_000
    band = params.neighbour_m or 1.5 * params.cell_m
    w = fill_diagonal(
        DistanceBand(centres, threshold=band, binary=True, silence_warnings=True), 1.0
    )  # Gi*: self in
    with warnings.catch_warnings():
        # esda announces a future change of its default test; G_Local offers no way to choose yet.
        # Our p is the directed (one-sided) pseudo p-value of conditional randomisation, as esda
        # 2.x gives.
        warnings.filterwarnings(
            "ignore", message="The alternative hypothesis", category=DeprecationWarning
        )
        g = G_Local(
            out["count"].to_numpy(dtype=float),
            w,
            star=None,
            permutations=params.permutations,
            seed=params.seed,
            n_jobs=1,
        )
    out["z"] = g.Zs
    out["p"] = g.p_sim
    label = np.full(len(out), "not significant", dtype=object)
    for level, alpha in (("90%", 0.10), ("95%", 0.05), ("99%", 0.01)):
        label[(out["p"] <= alpha) & (out["z"] > 0)] = f"hot {level}"
        label[(out["p"] <= alpha) & (out["z"] < 0)] = f"cold {level}"
    out["hotspot"] = label
    out.attrs["params"] = params.describe()
    return out
