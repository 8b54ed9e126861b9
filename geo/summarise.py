"""Incidents counted per area: the analyst's own wards, LSOAs or beats, one row per area.

Every incident is counted by where it lies, once, under two stated rules:

- **Boundary rule** (:data:`BOUNDARY_RULE`): a point inside an area counts there. A point that lies
  exactly on an edge and inside no area (a boundary two wards share, a corner four LSOAs share, or
  the outer edge of a single area) counts once, in the first of the areas it touches in the areas'
  own order (the order of the file). Re-ordering the areas file can therefore move such a point,
  never double it or drop it.
- **Overlap rule** (:data:`OVERLAP_RULE`): areas may overlap (a beat across two wards, a list that
  holds both wards and LSOAs); a point inside two or more areas counts in each, and the summary
  says how many such points there were, so the area totals can add up to more than the incidents.

A point in no area is counted in :attr:`Summary.outside`, never silently dropped.

Pure logic: no file, no clock. Geometries are British National Grid (EPSG:27700) like everything
inside closuremap; files are read and converted at the edge (``layers.summarise``).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

import geopandas as gpd
import shapely
from pyproj import CRS

from .crs import BNG
from .errors import ClosuremapError, CoordinateError

BOUNDARY_RULE = (
    "a point inside an area counts there; a point exactly on an edge and inside no area (a shared "
    "boundary, a corner, or an area's outer edge) counts once, in the first area it touches in the "
    "areas' file order"
)
OVERLAP_RULE = "a point inside two or more overlapping areas counts in each of them"
TOTAL = "total"
UNCATEGORISED = "uncategorised"

#: Mean vertices per area above which each area is prepared once and the points are indexed
#: (point-in-polygon then costs log(vertices)); below it the areas are indexed and each point
#: tested.
PREPARED_AREAS_FROM_VERTICES = 64

_MONTH = re.compile(r"\d{4}-\d{2}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class SummariseError(ClosuremapError):
    """Areas, ids or a date window that cannot be summarised; the message says how to fix it."""


@dataclass(frozen=True)
class Summary:
    """The table (one row per area) and what became of every incident.

    ``incidents == unplaced + in_window + out_of_window + undated + month_straddling`` and
    ``in_window == counted + outside``; ``in_several`` of the counted incidents are counted in each
    of several overlapping areas, ``on_shared_boundary`` lay on an edge several areas share and were
    placed by the boundary rule.
    """

    table: pd.DataFrame
    id_columns: tuple[str, ...]
    categories: tuple[str, ...]
    incidents: int
    in_window: int
    counted: int
    outside: int
    unplaced: int = 0
    on_shared_boundary: int = 0
    in_several: int = 0
    out_of_window: int = 0
    undated: int = 0
    month_straddling: int = 0
    window: tuple[date | None, date | None] | None = None
    boundary_rule: str = BOUNDARY_RULE
    overlap_rule: str = OVERLAP_RULE
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.table.columns]


def parse_day(text: str, what: str) -> date:
    """A day given as ``YYYY-MM-DD`` (``--from``/``--to``).

    >>> parse_day("2024-04-30", "--to")
    datetime.date(2024, 4, 30)
    """
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise SummariseError(
            f"{what} '{text}' is not a date: use YYYY-MM-DD, e.g. 2024-04-30"
        ) from None


def _month_end(month: str) -> str | None:
    """The last day of a ``YYYY-MM`` month as ISO text, None for a month that does not exist."""
    year, number = int(month[:4]), int(month[5:7])
    if not 1 <= number <= 12:
        return None
    return date(year, number, calendar.monthrange(year, number)[1]).isoformat()


def window_mask(
    occurred_at: ArrayLike, date_from: date | None, date_to: date | None
) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """Which incidents fall in the window ``[date_from, date_to]`` (days inclusive; either open).

    Dates are ISO text as closuremap stores them: a day or date-time (the day written counts, any
    time-zone offset aside), or a police.uk month ``YYYY-MM``, which counts only when the whole
    month lies in the window (its day is not known). Returns the mask and how many were out of the
    window, undated (no readable date, so not known to be in it) and months straddling an edge.

    >>> mask, why = window_mask(["2024-03-31T23:59", "2024-04", "2024-05", None], date(2024, 4, 1),
    ...                         date(2024, 4, 30))
    >>> mask.tolist(), why
    ([False, True, False, False], {'out_of_window': 2, 'undated': 1, 'month_straddling': 0})
    >>> window_mask(["2024-04"], date(2024, 4, 15), None)[1]["month_straddling"]
    1
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        raise SummariseError(
            f"--from {date_from} is after --to {date_to}: give the earlier date first"
        )
    series = (
        occurred_at
        if isinstance(occurred_at, pd.Series)
        else pd.Series(np.asarray(occurred_at, dtype=object))
    )
    series = series.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d").astype("string")
    else:
        text = series.astype("string").str.strip()
    head = text.str.slice(0, 10)
    day = head.where(head.str.fullmatch(_DAY.pattern).fillna(False).astype(bool))
    month = text.where(text.str.fullmatch(_MONTH.pattern).fillna(False).astype(bool))
    ends = {m: _month_end(m) for m in month.dropna().unique()}
    month_end = month.map(ends).astype("string")
    month = month.where(month_end.notna())
    lo = day.fillna(
        month + "-01"
    )  # the first day the date may stand for (ISO text sorts as dates do)
    hi = day.fillna(month_end)  # and the last
    dated = lo.notna().to_numpy(dtype=bool)
    start = date_from.isoformat() if date_from else "0000-00-00"
    end = date_to.isoformat() if date_to else "9999-99-99"
    inside = ((lo >= start) & (hi <= end)).fillna(False).to_numpy(dtype=bool)
    meets = ((hi >= start) & (lo <= end)).fillna(False).to_numpy(dtype=bool)
    straddling = dated & meets & ~inside  # only a month can meet the window without lying inside it
    return inside, {
        "out_of_window": int((dated & ~meets).sum()),
        "undated": int((~dated).sum()),
        "month_straddling": int(straddling.sum()),
    }


def _check_bng(crs: object, what: str) -> None:
    if crs is not None and not CRS.from_user_input(crs).equals(BNG):
        raise CoordinateError(
            f"the {what} are in {CRS.from_user_input(crs).to_string()}, not British National "
            "Grid: convert them at the edge (layers.importer.read_features) first"
        )


def area_hits(
    points: ArrayLike, areas: ArrayLike
) -> tuple[NDArray[np.intp], NDArray[np.intp], dict[str, int]]:
    """Which area(s) each point counts in, under :data:`BOUNDARY_RULE` and :data:`OVERLAP_RULE`.

    Returns parallel arrays ``(point_index, area_index)``, one pair per count (a point inside
    several overlapping areas has one pair for each; a point on an edge exactly one; a point in no
    area none), and how many points lay on an edge several areas share (``on_shared_boundary``,
    placed by the boundary rule) and inside several areas (``in_several``).

    One spatial-index query with ``intersects`` (edges included) finds every candidate; only the
    points that meet two or more areas, rare in a tessellation, are then told apart by
    ``contains_properly`` (inside, not on an edge).

    >>> a = shapely.box(0, 0, 10, 10); b = shapely.box(10, 0, 20, 10)
    >>> p, i, stats = area_hits(shapely.points([[5, 5], [10, 5], [30, 5]]), [b, a])
    >>> p.tolist(), i.tolist(), stats  # (10, 5) is on the shared edge: b is first in the order
    ([0, 1], [1, 0], {'on_shared_boundary': 1, 'in_several': 0})
    """
    pts = np.asarray(points, dtype=object)
    polys = np.asarray(areas, dtype=object)
    if not len(pts) or not len(polys):
        return (
            np.array([], dtype=np.intp),
            np.array([], dtype=np.intp),
            {"on_shared_boundary": 0, "in_several": 0},
        )
    if shapely.get_num_coordinates(polys).mean() > PREPARED_AREAS_FROM_VERTICES:
        area_idx, point_idx = shapely.STRtree(pts).query(polys, predicate="intersects")
    else:
        point_idx, area_idx = shapely.STRtree(polys).query(pts, predicate="intersects")
    multi = np.bincount(point_idx, minlength=len(pts))[point_idx] > 1
    mp, ma = point_idx[multi], area_idx[multi]
    inside = shapely.contains_properly(polys[ma], pts[mp]) if len(mp) else np.zeros(0, dtype=bool)
    inside_per_point = np.bincount(mp[inside], minlength=len(pts))
    edge_only = inside_per_point[mp] == 0  # on edges of several areas and inside none of them
    order = np.lexsort((ma, mp))  # by point, then by the areas' order
    first = np.zeros(len(mp), dtype=bool)
    first[order[np.r_[True, mp[order][1:] != mp[order][:-1]]] if len(mp) else order] = True
    keep = inside | (edge_only & first)
    shared = np.count_nonzero(np.bincount(mp[edge_only], minlength=len(pts)))
    stats = {"on_shared_boundary": int(shared), "in_several": int((inside_per_point > 1).sum())}
    return (
        np.concatenate([point_idx[~multi], mp[keep]]).astype(np.intp),
        np.concatenate([area_idx[~multi], ma[keep]]).astype(np.intp),
        stats,
    )


def guess_id_columns(columns: Sequence[object]) -> list[str]:
    """The columns that name an area, guessed from their names: a code (ONS ``LSOA21CD``,
    ``WD24CD``, anything ending in code/id/ref) and a name (``LSOA21NM``, ``WardName``, ``name``),
    the first of each in the file's order; failing both, a column named for the kind of area
    (``beat``, ``ward``); GIS bookkeeping columns (``fid``, ``OBJECTID``, ``GlobalID``) never.

    >>> guess_id_columns(["FID", "WD24CD", "WD24NM", "WD24NMW", "LAD22CD", "GlobalID"])
    ['WD24CD', 'WD24NM']
    >>> guess_id_columns(["ONSWardCode", "WardName"]), guess_id_columns(["area_m2", "Beat"])
    (['ONSWardCode', 'WardName'], ['Beat'])
    """
    skip = {
        "fid",
        "ogc_fid",
        "objectid",
        "object_id",
        "globalid",
        "global_id",
        "gid",
        "shape_area",
        "shape_length",
        "shape_leng",
        "source_file",
        "source_row",
        "source_attrs",
    }
    folded = [
        (str(c), re.sub(r"[^0-9a-z]+", "_", str(c).strip().lower()).strip("_")) for c in columns
    ]
    folded = [(c, f) for c, f in folded if f and f not in skip]
    code_patterns = (r"[a-z]+\d{2}cd", r".*(code|_cd)", r".*(_id|_ref|ref)|id|ref|reference")
    name_patterns = (r"[a-z]+\d{2}nm", r".*name|.*_nm")
    area_words = (
        r"(police_)?(beat|ward|lsoa|msoa|sector|zone|district|neighbourhood|patch|area)s?",
    )
    chosen: list[str] = []
    for patterns in (code_patterns, name_patterns):
        for pattern in patterns:
            hit = next((c for c, f in folded if re.fullmatch(pattern, f) and c not in chosen), None)
            if hit is not None:
                chosen.append(hit)
                break
    if not chosen:  # no code or name: a column named for the kind of area, e.g. "beat"
        chosen += [c for c, f in folded if re.fullmatch(area_words[0], f)][:1]
    return chosen


def _placed_points(
    points: ArrayLike | gpd.GeoSeries, areas: gpd.GeoDataFrame, id_columns: Sequence[str]
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """The incidents as an object array and which of them have a location, once the inputs are
    known to be countable (BNG, some areas, the id columns there, points only)."""
    pts = np.asarray(points.values if isinstance(points, gpd.GeoSeries) else points, dtype=object)
    if isinstance(points, gpd.GeoSeries):
        _check_bng(points.crs, "incidents")
    _check_bng(areas.crs, "areas")
    if not len(areas):
        raise SummariseError(
            "there are no areas to count in: give a file of polygons (wards, LSOAs, beats)"
        )
    missing = [c for c in id_columns if c not in areas.columns]
    if missing:
        raise SummariseError(
            f"no id column {', '.join(map(repr, missing))} in the areas; the columns are "
            f"{', '.join(str(c) for c in areas.columns if c != areas.geometry.name)}"
        )
    types = shapely.get_type_id(pts)
    placed = (types == 0) & ~shapely.is_empty(pts)
    if (~placed & (types > 0)).any():
        raise SummariseError(
            "incidents must be points: leave out or convert the other shapes first"
        )
    return pts, np.asarray(placed, dtype=bool)


def _in_window(
    placed: NDArray[np.bool_],
    occurred_at: ArrayLike | None,
    date_from: date | None,
    date_to: date | None,
) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """The placed incidents inside the date window (all of them without one), and how many were
    left out and why (see :func:`window_mask`)."""
    keep = placed.copy()
    why = {"out_of_window": 0, "undated": 0, "month_straddling": 0}
    if date_from is None and date_to is None:
        return keep, why
    if occurred_at is None:
        raise SummariseError(
            "a date window needs the incidents' dates, and these have none (e.g. a Month, "
            "date or occurred_at column)"
        )
    dates = pd.Series(
        np.asarray(occurred_at, dtype=object)
        if not isinstance(occurred_at, pd.Series)
        else occurred_at.reset_index(drop=True)
    )
    if len(dates) != len(placed):
        raise SummariseError(
            f"{len(dates)} dates for {len(placed)} incidents: give one per incident"
        )
    in_window, why = window_mask(dates[placed], date_from, date_to)
    keep[np.flatnonzero(placed)] = in_window
    return keep, why


def _category_columns(
    categories: ArrayLike | None,
    considered: NDArray[np.intp],
    n: int,
    category_columns: Sequence[str],
) -> tuple[list[str], NDArray[np.intp] | None]:
    """The category column names (sorted: the standard set asked for, plus any that occurred) and
    each incident's category as an index into them (None: ``total`` only)."""
    names = sorted(set(map(str, category_columns)))
    if categories is None:
        return names, None
    values = (
        categories if isinstance(categories, pd.Series) else np.asarray(categories, dtype=object)
    )
    if len(values) != n:
        raise SummariseError(f"{len(values)} categories for {n} incidents: give one per incident")
    codes, uniques = pd.factorize(values)  # a missing category is -1
    codes = np.asarray(codes)
    labels = [str(u) for u in uniques] + [UNCATEGORISED]
    codes = np.where(codes < 0, len(uniques), codes)
    used = np.flatnonzero(np.bincount(codes[considered], minlength=len(labels)))
    names = sorted(set(names) | {labels[i] for i in used})
    position = {name: i for i, name in enumerate(names)}
    return names, np.array([position.get(label, -1) for label in labels], dtype=np.intp)[codes]


def _count_table(
    areas: gpd.GeoDataFrame,
    id_columns: Sequence[str],
    area_idx: NDArray[np.intp],
    category_idx: NDArray[np.intp] | None,
    names: Sequence[str],
) -> pd.DataFrame:
    """One row per area: its id columns, ``total``, then a count per category (``category_idx``:
    the category of each counted pair, parallel to ``area_idx``)."""
    m = len(areas)
    table = pd.DataFrame({c: areas[c].to_numpy() for c in id_columns})
    table[TOTAL] = np.bincount(area_idx, minlength=m).astype("int64")
    if category_idx is not None and names:
        cells = area_idx * len(names) + category_idx
        cube = np.bincount(cells, minlength=m * len(names)).reshape(m, len(names))
        for i, name in enumerate(names):
            table[name] = cube[:, i].astype("int64")
    return table


def _notes(
    unplaced: int,
    stats: dict[str, int],
    window: tuple[date | None, date | None] | None,
    why: dict[str, int],
) -> list[str]:
    """What became of the incidents not counted plainly once, in words for the analyst."""
    notes: list[str] = []
    if unplaced:
        notes.append(f"{unplaced} incident(s) without a location left out")
    if stats["in_several"]:
        notes.append(
            f"{stats['in_several']} incident(s) lay inside more than one area (the areas overlap) "
            "and are counted in each, so the area totals add up to more than the incidents counted"
        )
    if stats["on_shared_boundary"]:
        notes.append(
            f"{stats['on_shared_boundary']} incident(s) lay exactly on an edge several areas "
            "share: each counted once, in the first of those areas in the areas' order"
        )
    if window is not None:
        date_from, date_to = window
        notes.append(
            f"date window {date_from or 'the earliest'} to {date_to or 'the latest'} (days "
            f"inclusive): {why['out_of_window']} incident(s) outside it and {why['undated']} with "
            "no readable date left out"
            + (
                f"; {why['month_straddling']} dated only by a month that straddles the window's "
                "edge left out too (a month counts only when it lies wholly in the window)"
                if why["month_straddling"]
                else ""
            )
        )
    return notes


def summarise(
    points: ArrayLike | gpd.GeoSeries,
    areas: gpd.GeoDataFrame,
    id_columns: Sequence[str],
    *,
    categories: ArrayLike | None = None,
    occurred_at: ArrayLike | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    category_columns: Sequence[str] = (),
) -> Summary:
    """Incidents counted per area: the areas' id columns, ``total``, then one count per category.

    Parameters
    ----------
    points
        The incidents' points in BNG (a GeoSeries or an array of shapely Points; None for an
        incident with no location, which is counted in ``unplaced``).
    areas
        The areas in BNG, polygons; one output row each, in this order, zeros where none.
    id_columns
        The columns of ``areas`` that name each area, copied to the table.
    categories
        Each incident's category (already standardised if it should be); None: ``total`` only.
        A missing category counts as ``uncategorised``.
    occurred_at, date_from, date_to
        ISO dates (see :func:`window_mask`) and an inclusive window; no window: every incident.
    category_columns
        Categories that get a column even when none occurred (a standard set), so monthly runs
        have the same columns; others found are added. Category columns are sorted by name.

    The inputs are not changed; a new table is returned (see :class:`Summary` for the bookkeeping).

    >>> areas = gpd.GeoDataFrame({"beat": ["B1", "B2"]}, geometry=[shapely.box(0, 0, 10, 10),
    ...                          shapely.box(10, 0, 20, 10)], crs=27700)
    >>> s = summarise(shapely.points([[5, 5], [10, 5], [15, 5], [40, 5]]), areas, ["beat"],
    ...               categories=["drugs", "drugs", "violence", "drugs"])
    >>> s.table.to_dict("list"), s.counted, s.outside
    ({'beat': ['B1', 'B2'], 'total': [2, 1], 'drugs': [2, 0], 'violence': [0, 1]}, 3, 1)
    """
    pts, placed = _placed_points(points, areas, id_columns)
    n = len(pts)
    window = None if date_from is None and date_to is None else (date_from, date_to)
    keep, why = _in_window(placed, occurred_at, date_from, date_to)
    considered = np.flatnonzero(keep)
    names, column_of = _category_columns(categories, considered, n, category_columns)
    clash = [c for c in [TOTAL, *names] if c in set(map(str, id_columns))]
    if clash:
        raise SummariseError(
            f"the id column(s) {', '.join(clash)} would clash with the count column(s) of that "
            "name: choose other id columns (--id-column)"
        )
    p_idx, a_idx, stats = area_hits(pts[considered], areas.geometry.values)
    category_idx = None if column_of is None else column_of[considered][p_idx]
    counted = int(np.count_nonzero(np.bincount(p_idx, minlength=len(considered))))
    unplaced = int((~placed).sum())
    return Summary(
        table=_count_table(areas, id_columns, a_idx, category_idx, names),
        id_columns=tuple(map(str, id_columns)),
        categories=tuple(names),
        incidents=n,
        unplaced=unplaced,
        in_window=len(considered),
        counted=counted,
        outside=len(considered) - counted,
        on_shared_boundary=stats["on_shared_boundary"],
        in_several=stats["in_several"],
        out_of_window=why["out_of_window"],
        undated=why["undated"],
        month_straddling=why["month_straddling"],
        window=window,
        notes=_notes(unplaced, stats, window, why),
    )
