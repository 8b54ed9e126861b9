"""Floors of a block's communal areas: which floors an area covers, and what is on each floor.

A communal area covers the whole floors ``floor_from``..``floor_to`` inclusive. A missing
``floor_to`` means the single floor ``floor_from`` (and a missing ``floor_from`` the single floor
``floor_to``); both missing means every floor. Two areas of one block may overlap on the map when
they share no floor: a landing on floor 1 above the entrance lobby on floor 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

import geopandas as gpd


def not_entered(value: Any) -> bool:
    """None, NaN, pandas' NA or blank text: a value the officer did not enter."""
    if isinstance(value, str):
        return value.strip() == ""
    return value is None or bool(pd.isna(value))


def floor_range(floor_from: Any, floor_to: Any) -> tuple[float, float]:
    """The inclusive floors an area covers; (-inf, inf) when neither is known."""
    if not_entered(floor_from) and not_entered(floor_to):
        return (-math.inf, math.inf)
    if not_entered(floor_to):
        return (int(floor_from), int(floor_from))
    if not_entered(floor_from):
        return (int(floor_to), int(floor_to))
    return (int(floor_from), int(floor_to))


def floor_ranges(communal: gpd.GeoDataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each area's lowest and highest floor (see :func:`floor_range`), as two parallel arrays."""
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
    pairs = [floor_range(a, b) for a, b in zip(lo, hi, strict=True)]
    return (
        np.array([p[0] for p in pairs], dtype=float).reshape(n),
        np.array([p[1] for p in pairs], dtype=float).reshape(n),
    )


def on_floor(communal: gpd.GeoDataFrame, floor: int) -> gpd.GeoDataFrame:
    """The communal areas that exist on ``floor`` (a new frame; the input is untouched)."""
    lo, hi = floor_ranges(communal)
    return communal[(lo <= floor) & (floor <= hi)].copy()


def feature_label(row: pd.Series | Mapping[str, Any], fallback: str) -> str:
    """What an officer calls a feature: its name, else its type, else its id, else ``fallback``."""
    for column in ("name", "area_type", "feature_id"):
        value = row.get(column)
        if not not_entered(value):
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
    lo, hi = floor_ranges(mine)
    known = np.isfinite(lo)
    floors: set[int] = set()
    for a, b in zip(lo[known], hi[known], strict=True):
        floors.update(range(int(a), int(b) + 1))
    if not floors and len(mine):
        floors = {0}
    out: dict[int, list[str]] = {f: [] for f in sorted(floors)}
    for i, (_, row) in enumerate(mine.iterrows()):
        name = feature_label(row, f"area {i + 1}")
        for f in out:
            if lo[i] <= f <= hi[i]:
                out[f].append(name)
    return out


def floors_text(lo: float, hi: float) -> str:
    """A floor range in words, for a message: 'on floor 1', 'on floors 0–3', 'on all floors'."""
    if not math.isfinite(lo):
        return "on all floors"
    return f"on floor {int(lo)}" if lo == hi else f"on floors {int(lo)}–{int(hi)}"
