"""A source's records on the British National Grid: the one step every file takes, whether it is
imported into a layer or only read for an analysis (a summary's areas, an evaluation's incidents).

Coordinates are checked in the file's own CRS first (a latitude of 300 is the file's mistake, not
the conversion's), then converted with the OSTN15 grid, then checked again on the grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG, bng_problems, coordinate_problems, geometries_to_bng
from closuremap.geo.validate import repair

from .coercion import map_columns
from .model import get_kind
from .sources import SourceTable, read_source


# -- validation -----------------------------------------------------------------------------------
def place_in_bng(
    source: SourceTable,
    reasons: list[list[str]],
    notes: list[str] | None = None,
    geometry_types: tuple[str, ...] | None = None,
) -> np.ndarray:
    """Each record's geometry in BNG, or None with the reason appended to ``reasons``.

    A polygon valid in its own CRS is never rejected for what the conversion did to it: one that
    came out invalid (rounding made an edge touch itself) is repaired, and ``notes`` says how
    many."""
    n = len(source)
    has_geom = np.array(
        [g is not None and not reasons[i] for i, g in enumerate(source.geometry)], dtype=bool
    )
    bounds = np.full((n, 4), np.nan)
    if has_geom.any():
        bounds[has_geom] = shapely.bounds(np.asarray(source.geometry[has_geom], dtype=object))
    for i, why in enumerate(coordinate_problems(bounds, source.crs)):
        if why and has_geom[i]:
            reasons[i].append(why)
    convertible = np.array([has_geom[i] and not reasons[i] for i in range(n)], dtype=bool)
    geoms = np.full(n, None, dtype=object)
    if convertible.any():
        original = np.asarray(source.geometry[convertible], dtype=object)
        converted = geometries_to_bng(original, source.crs)
        if converted is not original and geometry_types:
            repaired = _repair_broken_by_conversion(original, converted, geometry_types)
            if repaired and notes is not None:
                notes.append(
                    f"{repaired} shape(s) valid in {source.crs.to_string()} became invalid when "
                    "converted to British National Grid (coordinates rounded onto each other) "
                    "and were repaired; check them on the map"
                )
        geoms[convertible] = converted
    for i, why in enumerate(bng_problems(geoms)):
        if why and convertible[i]:  # rows not converted are None here and already explained
            reasons[i].append(why)
            geoms[i] = None
    return geoms


def _repair_broken_by_conversion(
    original: np.ndarray, converted: np.ndarray, geometry_types: tuple[str, ...]
) -> int:
    """Repair, in ``converted``, the shapes that were valid before the conversion and are not
    after it; returns how many. Only shapes with finite coordinates are looked at: one off the grid
    is rejected by the grid check instead."""
    present = np.array([g is not None for g in converted], dtype=bool)
    present[present] = np.isfinite(shapely.bounds(converted[present].astype(object))).all(axis=1)
    broke = np.zeros(len(converted), dtype=bool)
    broke[present] = shapely.is_valid(original[present]) & ~shapely.is_valid(
        converted[present].astype(object)
    )
    if not broke.any():
        return 0
    try:
        converted[broke] = repair(converted[broke], geometry_types)
    except shapely.errors.GEOSException:  # left invalid: the geometry check gives GEOS's reason
        return 0
    return int(broke.sum())


def read_features(
    path: str | Path, kind: str | None = None, *, layer: str | None = None, crs: str | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """A file's features in BNG for analysis (no store, no required fields): columns are renamed to
    the kind's field names where they match; features that cannot be placed are left out and
    counted in the notes."""
    source = read_source(path, layer=layer, crs=crs, prefer_layer=kind)
    reasons: list[list[str]] = [[p] if p else [] for p in source.problems]
    geoms = place_in_bng(source, reasons)
    notes = list(source.notes)
    attrs = source.attributes.drop(columns=list(source.geometry_columns), errors="ignore")
    if kind is not None:
        mapping = map_columns(list(attrs.columns), get_kind(kind))
        attrs = attrs.rename(columns={col: name for name, col in mapping.items() if col != name})
        attrs = attrs.loc[:, ~attrs.columns.duplicated()]
    ok = np.array(
        [
            not r and g is not None and not shapely.is_empty(g)
            for r, g in zip(reasons, geoms, strict=True)
        ],
        dtype=bool,
    )
    if (~ok).any():
        first = next(i for i in range(len(ok)) if not ok[i])
        notes.append(
            f"{int((~ok).sum())} of {len(ok)} {source.unit}s of {source.path.name} left out "
            f"(e.g. {source.unit} {first + 1}: {'; '.join(reasons[first]) or 'no geometry'})"
        )
    frame = gpd.GeoDataFrame(attrs[ok].reset_index(drop=True), geometry=list(geoms[ok]), crs=BNG)
    return frame, notes
