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
from .errors import CoordinateError
from .summarise_window import SummariseError, day_window, window_mask

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
    polys = np.asarray(areas, dtype=object)
    return _hits(np.asarray(points, dtype=object), polys, _area_index(polys))


def _area_index(polys: NDArray[np.object_]) -> shapely.STRtree | None:
    """The areas' spatial index, built once for every chunk of incidents; None when the areas are
    detailed enough (:data:`PREPARED_AREAS_FROM_VERTICES`) that indexing each chunk's points and
    querying with the areas is faster."""
    if not len(polys) or shapely.get_num_coordinates(polys).mean() > PREPARED_AREAS_FROM_VERTICES:
        return None
    shapely.prepare(polys)  # a cache on each shape, not a change to it
    return shapely.STRtree(polys)


def _hits(
    pts: NDArray[np.object_], polys: NDArray[np.object_], tree: shapely.STRtree | None
) -> tuple[NDArray[np.intp], NDArray[np.intp], dict[str, int]]:
    """:func:`area_hits` with the areas' index already built (see :func:`_area_index`)."""
    if not len(pts) or not len(polys):
        return (
            np.array([], dtype=np.intp),
            np.array([], dtype=np.intp),
            {"on_shared_boundary": 0, "in_several": 0},
        )
    if tree is None:
        area_idx, point_idx = shapely.STRtree(pts).query(polys, predicate="intersects")
    else:  # boxes first, then each candidate against its area, prepared once for every chunk
        point_idx, area_idx = tree.query(pts)
        meets = shapely.intersects(polys[area_idx], pts[point_idx])
        point_idx, area_idx = point_idx[meets], area_idx[meets]
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


def _placed(points: ArrayLike | gpd.GeoSeries) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """The incidents as an object array and which of them have a location (points only)."""
    pts = np.asarray(points.values if isinstance(points, gpd.GeoSeries) else points, dtype=object)
    if isinstance(points, gpd.GeoSeries):
        _check_bng(points.crs, "incidents")
    types = shapely.get_type_id(pts)
    placed = (types == 0) & ~shapely.is_empty(pts)
    if (~placed & (types > 0)).any():
        raise SummariseError(
            "incidents must be points: leave out or convert the other shapes first"
        )
    return pts, np.asarray(placed, dtype=bool)


class AreaCounter:
    """Incidents counted per area a chunk at a time, under the same rules as :func:`summarise`.

    The areas' spatial index is built once; each :meth:`add` counts one chunk of incidents
    against it and adds the counts, so a year of a force's calls is never in memory at once, and
    :meth:`summary` gives the same table and bookkeeping as counting them all together.

    >>> areas = gpd.GeoDataFrame({"beat": ["B1", "B2"]}, geometry=[shapely.box(0, 0, 10, 10),
    ...                          shapely.box(10, 0, 20, 10)], crs=27700)
    >>> counter = AreaCounter(areas, ["beat"])
    >>> counter.add(shapely.points([[5, 5], [10, 5]]), categories=["drugs", "drugs"])
    >>> counter.add(shapely.points([[15, 5], [40, 5]]), categories=["violence", "drugs"])
    >>> counter.summary().table.to_dict("list")
    {'beat': ['B1', 'B2'], 'total': [2, 1], 'drugs': [2, 0], 'violence': [0, 1]}
    """

    def __init__(
        self,
        areas: gpd.GeoDataFrame,
        id_columns: Sequence[str],
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        category_columns: Sequence[str] = (),
    ) -> None:
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
        self.ids = {str(c): areas[c].to_numpy() for c in id_columns}
        self.category_columns = sorted(set(map(str, category_columns)))
        self._clash([])  # the category columns are known when the first categories come
        self.polys = np.asarray(areas.geometry.values, dtype=object)
        self.tree = _area_index(self.polys)
        self.window = None if date_from is None and date_to is None else (date_from, date_to)
        day_window(np.array([], dtype="datetime64[D]"), date_from, date_to)  # --from after --to
        self.labels: dict[str, int] = {}  # category -> its column in ``cells``
        self.used: set[int] = set()  # categories met among the incidents considered
        self.categorised = False
        self.totals = np.zeros(len(self.polys), dtype=np.int64)
        self.cells = np.zeros((len(self.polys), 0), dtype=np.int64)
        self.tally = dict.fromkeys(
            (
                "incidents",
                "unplaced",
                "in_window",
                "counted",
                "on_shared_boundary",
                "in_several",
                "out_of_window",
                "undated",
                "month_straddling",
            ),
            0,
        )

    def _clash(self, names: Sequence[str]) -> None:
        clash = [c for c in [TOTAL, *names] if c in self.ids]
        if clash:
            raise SummariseError(
                f"the id column(s) {', '.join(clash)} would clash with the count column(s) of "
                "that name: choose other id columns (--id-column)"
            )

    def add(
        self,
        points: ArrayLike | gpd.GeoSeries,
        *,
        categories: ArrayLike | None = None,
        occurred_at: ArrayLike | None = None,
        window: tuple[NDArray[np.bool_], dict[str, int]] | None = None,
    ) -> None:
        """Count one chunk: its points (None for no location), categories (None: ``total``
        only), and either its ISO dates (``occurred_at``, see :func:`window_mask`) or the
        window's verdict on them already reached (``window``: the mask and its counts)."""
        pts, placed = _placed(points)
        keep, why = placed, {}
        if window is not None:
            keep = placed & window[0]
            why = window[1]
        elif self.window is not None:
            keep, why = self._in_window(placed, occurred_at)
        considered = np.flatnonzero(keep)
        codes = self._codes(categories, len(pts), considered)
        p_idx, a_idx, stats = _hits(pts[considered], self.polys, self.tree)
        self.totals += np.bincount(a_idx, minlength=len(self.polys)).astype(np.int64)
        if codes is not None and len(self.labels):
            k = len(self.labels)
            if self.cells.shape[1] < k:
                self.cells = np.pad(self.cells, ((0, 0), (0, k - self.cells.shape[1])))
            flat = np.bincount(a_idx * k + codes[considered][p_idx], minlength=len(self.polys) * k)
            self.cells += flat.reshape(len(self.polys), k)
        counted = int(np.count_nonzero(np.bincount(p_idx, minlength=len(considered))))
        for key, value in (
            ("incidents", len(pts)),
            ("unplaced", int((~placed).sum())),
            ("in_window", len(considered)),
            ("counted", counted),
            *stats.items(),
            *why.items(),
        ):
            self.tally[key] += value

    def _in_window(
        self, placed: NDArray[np.bool_], occurred_at: ArrayLike | None
    ) -> tuple[NDArray[np.bool_], dict[str, int]]:
        """The placed incidents inside the date window, and how many were left out and why."""
        if occurred_at is None:
            raise SummariseError(
                "a date window needs the incidents' dates, and these have none (e.g. a Month, "
                "date or occurred_at column)"
            )
        dates = pd.Series(
            occurred_at.reset_index(drop=True)
            if isinstance(occurred_at, pd.Series)
            else np.asarray(occurred_at, dtype=object)
        )
        if len(dates) != len(placed):
            raise SummariseError(
                f"{len(dates)} dates for {len(placed)} incidents: give one per incident"
            )
        assert self.window is not None
        inside, why = window_mask(dates[placed], *self.window)
        keep = placed.copy()
        keep[np.flatnonzero(placed)] = inside
        return keep, why

    def _codes(
        self, categories: ArrayLike | None, n: int, considered: NDArray[np.intp]
    ) -> NDArray[np.intp] | None:
        """Each incident's category as its column in ``cells`` (a missing one is
        :data:`UNCATEGORISED`); None without categories."""
        if categories is None:
            return None
        values = (
            categories
            if isinstance(categories, (pd.Series, pd.Categorical))
            else np.asarray(categories, dtype=object)
        )
        if len(values) != n:
            raise SummariseError(
                f"{len(values)} categories for {n} incidents: give one per incident"
            )
        self.categorised = True
        local, uniques = pd.factorize(values)  # a missing category is -1
        local = np.where(np.asarray(local) < 0, len(uniques), local)
        labels = [str(u) for u in uniques] + [UNCATEGORISED]
        column = np.array(
            [self.labels.setdefault(label, len(self.labels)) for label in labels], dtype=np.intp
        )
        codes = column[local]
        self.used.update(np.unique(codes[considered]).tolist())
        return codes

    def summary(self) -> Summary:
        """The table (one row per area, in the areas' order) and what became of every
        incident added."""
        names: list[str] = []
        if self.categorised:
            found = {label for label, i in self.labels.items() if i in self.used}
            names = sorted(set(self.category_columns) | found)
            self._clash(names)
        table = pd.DataFrame(self.ids)
        table[TOTAL] = self.totals
        for name in names:
            i = self.labels.get(name)
            table[name] = self.cells[:, i] if i is not None and i < self.cells.shape[1] else 0
            table[name] = table[name].astype("int64")
        t = self.tally
        return Summary(
            table=table,
            id_columns=tuple(self.ids),
            categories=tuple(names),
            incidents=t["incidents"],
            unplaced=t["unplaced"],
            in_window=t["in_window"],
            counted=t["counted"],
            outside=t["in_window"] - t["counted"],
            on_shared_boundary=t["on_shared_boundary"],
            in_several=t["in_several"],
            out_of_window=t["out_of_window"],
            undated=t["undated"],
            month_straddling=t["month_straddling"],
            window=self.window,
            notes=_notes(t["unplaced"], t, self.window),
        )


def _notes(
    unplaced: int, t: dict[str, int], window: tuple[date | None, date | None] | None
) -> list[str]:
    """What became of the incidents not counted plainly once, in words for the analyst."""
    notes: list[str] = []
    if unplaced:
        notes.append(f"{unplaced} incident(s) without a location left out")
    if t["in_several"]:
        notes.append(
            f"{t['in_several']} incident(s) lay inside more than one area (the areas overlap) "
            "and are counted in each, so the area totals add up to more than the incidents counted"
        )
    if t["on_shared_boundary"]:
        notes.append(
            f"{t['on_shared_boundary']} incident(s) lay exactly on an edge several areas "
            "share: each counted once, in the first of those areas in the areas' order"
        )
    if window is not None:
        date_from, date_to = window
        notes.append(
            f"date window {date_from or 'the earliest'} to {date_to or 'the latest'} (days "
            f"inclusive): {t['out_of_window']} incident(s) outside it and {t['undated']} with "
            "no readable date left out"
            + (
                f"; {t['month_straddling']} dated only by a month that straddles the window's "
                "edge left out too (a month counts only when it lies wholly in the window)"
                if t["month_straddling"]
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
    Incidents too many to hold at once are counted chunk by chunk with :class:`AreaCounter`.

    >>> areas = gpd.GeoDataFrame({"beat": ["B1", "B2"]}, geometry=[shapely.box(0, 0, 10, 10),
    ...                          shapely.box(10, 0, 20, 10)], crs=27700)
    >>> s = summarise(shapely.points([[5, 5], [10, 5], [15, 5], [40, 5]]), areas, ["beat"],
    ...               categories=["drugs", "drugs", "violence", "drugs"])
    >>> s.table.to_dict("list"), s.counted, s.outside
    ({'beat': ['B1', 'B2'], 'total': [2, 1], 'drugs': [2, 0], 'violence': [0, 1]}, 3, 1)
    """
    counter = AreaCounter(
        areas, id_columns, date_from=date_from, date_to=date_to, category_columns=category_columns
    )
    counter.add(points, categories=categories, occurred_at=occurred_at)
    return counter.summary()
