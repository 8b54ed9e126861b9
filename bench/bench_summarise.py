"""Benchmark: ``closuremap.geo.summarise.summarise`` against raw geopandas ``sjoin`` + ``groupby``
on the same data in the same run (figures go in the closing note, not in tests).

    summarise  1M incident points x 10k areas (a 100 x 100 grid of 100 m squares), 5 categories
               ours: geo.summarise.summarise (one STRtree query, the boundary rule, bincount)
               raw:  gpd.sjoin(predicate="intersects") + groupby(area, category).size().unstack()
    chunked    the same points counted 50,000 at a time (geo.summarise.AreaCounter, the areas'
               index built once), as ``closuremap summarise`` streams a CSV: same table, and the
               chunks cost no more than one pass

The whole command, file reading included, is timed against geopandas read + sjoin + groupby by
``bench/run.py`` (``bench_summarise``), each side a whole process.

Both are handed the same prebuilt GeoDataFrame of incidents (ours its geometry and category
columns, as ``layers.summarise`` calls it), so building the points is in neither time. The points
are random floats, so none lies on an edge and the two tables must agree cell for cell; the run
checks that too.

Run: ``.venv/bin/python bench/bench_summarise.py``. Importing this module runs nothing.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.summarise import AreaCounter, summarise

E0, N0, CELL = 500_000.0, 150_000.0, 100.0
CATEGORIES = ("asb_nuisance", "burglary", "drugs", "public_order", "violence")


def timed_pair(
    first: Callable[[], Any], second: Callable[[], Any], repeat: int
) -> tuple[float, float, Any, Any]:
    """Median wall times of ``repeat`` rounds, each round running one then the other (so a busy
    machine slows both alike), and each one's last result."""
    times: tuple[list[float], list[float]] = ([], [])
    results: list[Any] = [None, None]
    for _ in range(repeat):
        for k, fn in enumerate((first, second)):
            start = time.perf_counter()
            results[k] = fn()
            times[k].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1]), results[0], results[1]


def make_data(n_points: int, side: int, seed: int = 1) -> tuple[Any, Any, Any]:
    """``side`` x ``side`` square areas, and ``n_points`` random points over them and a margin
    round them."""
    rng = np.random.default_rng(seed)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(side), np.arange(side)))
    areas = gpd.GeoDataFrame(
        {"code": [f"A{k:05d}" for k in range(side * side)]},
        geometry=shapely.box(
            E0 + i * CELL, N0 + j * CELL, E0 + (i + 1) * CELL, N0 + (j + 1) * CELL
        ),
        crs=BNG,
    )
    extent = side * CELL
    x = E0 - 0.01 * extent + rng.random(n_points) * 1.02 * extent
    y = N0 - 0.01 * extent + rng.random(n_points) * 1.02 * extent
    return areas, shapely.points(x, y), rng.choice(CATEGORIES, n_points)


def main(n_points: int = 1_000_000, side: int = 100, repeat: int = 3) -> dict[str, Any]:
    """Time both on the same data; print one line and return the figures."""
    areas, points, categories = make_data(n_points, side)
    incidents = gpd.GeoDataFrame({"category": categories}, geometry=points, crs=BNG)
    names = sorted(CATEGORIES)

    def ours() -> Any:
        # handed the same prebuilt frame's columns as sjoin, as layers.summarise does
        return summarise(
            incidents.geometry, areas, ["code"], categories=incidents["category"]
        ).table

    def raw() -> Any:
        joined = gpd.sjoin(incidents, areas, predicate="intersects")
        return (
            joined.groupby(["index_right", "category"])
            .size()
            .unstack(fill_value=0)
            .reindex(index=range(len(areas)), columns=names, fill_value=0)
        )

    def chunked(rows: int = 50_000) -> Any:
        counter = AreaCounter(areas, ["code"])
        for lo in range(0, n_points, rows):
            part = incidents.iloc[lo : lo + rows]
            counter.add(part.geometry, categories=part["category"])
        return counter.summary().table

    ours_s, raw_s, ours_table, raw_table = timed_pair(ours, raw, repeat)
    chunked_s, _, chunked_table, _ = timed_pair(chunked, lambda: None, repeat)
    same = bool((ours_table[names].to_numpy() == raw_table.to_numpy()).all())
    same = same and ours_table.equals(chunked_table)
    work = (
        f"{n_points:,} points x {side * side:,} areas ({side}x{side} grid), "
        f"{len(names)} categories, median of {repeat}"
    )
    ratio = ours_s / raw_s
    label = f"{n_points / 1e6:g}M x {side * side / 1e3:g}k"
    print(
        f"summarise {label}: ours {ours_s:.2f} s (in 50k chunks {chunked_s:.2f} s), "
        f"sjoin+groupby {raw_s:.2f} s, ratio {ratio:.2f}{'' if same else ' (TABLES DIFFER)'}"
    )
    return {
        "work": work,
        "ours_s": round(ours_s, 3),
        "chunked_s": round(chunked_s, 3),
        "raw_s": round(raw_s, 3),
        "ratio": round(ratio, 3),
        "same_counts": same,
    }


if __name__ == "__main__":
    main()
