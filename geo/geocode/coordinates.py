"""Coordinates a row already holds: in its coordinate columns, or written in its location text.

Columns are found by the importer's names (:mod:`closuremap.geo.columns`); x/y are read like
easting/northing, and the checks here tell metres from degrees, fix swapped pairs and refuse
anything outside Great Britain with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..columns import coordinate_columns
from ..crs import bng_to_lonlat, in_bng_range, in_lonlat_range, lonlat_to_bng
from .placements import Placements
from .scores import COORDINATE_SCORE

_LATLON_TEXT = re.compile(
    r"(?<![\w.])([-+]?\d{1,3}\.\d{3,})[ \t]*°?[ \t]*([NSEWnsew])?[ \t]*[,;/ \t][ \t]*"
    r"([-+]?\d{1,3}\.\d{3,})[ \t]*°?[ \t]*([NSEWnsew])?(?![\w.])"
)
_EN_TEXT = re.compile(
    r"(?<![\w.])(?:(e|east|easting|x)[ \t]*[:=]?[ \t]*)?(\d{5,6}(?:\.\d+)?)[ \t]*m?[ \t]*"
    r"[,;/ \t][ \t]*"
    r"(?:(n|north|northing|y)[ \t]*[:=]?[ \t]*)?(\d{5,7}(?:\.\d+)?)[ \t]*m?(?![\w.])",
    re.IGNORECASE,
)
_NE_TEXT = re.compile(
    r"(?<![\w.])(?:n|north|northing)[ \t]*[:=]?[ \t]*(\d{5,7}(?:\.\d+)?)[ \t]*m?[ \t]*"
    r"[,;/ \t][ \t]*"
    r"(?:e|east|easting)[ \t]*[:=]?[ \t]*(\d{5,6}(?:\.\d+)?)[ \t]*m?(?![\w.])",
    re.IGNORECASE,
)

#: A pair of column labels, (easting, northing) or (latitude, longitude).
ColumnPair = tuple[Hashable, Hashable]


def coordinate_pairs(columns: Iterable[object]) -> tuple[ColumnPair | None, ColumnPair | None]:
    """The (easting, northing) and (latitude, longitude) columns of a table, each None when the
    table lacks one of the two. x/y count as easting/northing when there are none of those."""
    found = coordinate_columns(columns)
    e_col = found.get("easting", found.get("x"))
    n_col = found.get("northing", found.get("y"))
    lat_col, lon_col = found.get("latitude"), found.get("longitude")
    metres = (e_col, n_col) if e_col is not None and n_col is not None else None
    degrees = (lat_col, lon_col) if lat_col is not None and lon_col is not None else None
    return metres, degrees


def latlon_in_text(text: str) -> tuple[float, float, str] | None | str:
    """(lat, lon, note) of a decimal-degree pair in the text; a reason string if it is outside
    GB."""
    m = _LATLON_TEXT.search(text)
    if not m:
        return None
    a, ha = float(m.group(1)), (m.group(2) or "").upper()
    b, hb = float(m.group(3)), (m.group(4) or "").upper()
    if ha in ("S", "W"):
        a = -abs(a)
    if hb in ("S", "W"):
        b = -abs(b)
    if ha in ("E", "W") or hb in ("N", "S"):
        a, b = b, a  # the letters say it is longitude first
        order = "longitude, latitude (by the N/E/W letters)"
    else:
        order = "latitude, longitude"
    pair = m.group(0).strip()
    if in_lonlat_range(np.array([b]), np.array([a]))[0]:
        return a, b, f"coordinates '{pair}' in the text, read as {order}"
    if in_lonlat_range(np.array([a]), np.array([b]))[0]:
        return (
            b,
            a,
            f"coordinates '{pair}' in the text look swapped (longitude first); read as "
            "latitude, longitude",
        )
    return f"coordinates '{pair}' in the text are outside Great Britain; ignored"


def en_in_text(text: str) -> tuple[float, float, str] | None | str:
    """(easting, northing, note) of a BNG pair in the text; a reason string if it is outside
    GB."""
    m = _NE_TEXT.search(text)
    if m:
        e, n = float(m.group(2)), float(m.group(1))
    else:
        m = _EN_TEXT.search(text)
        if not m:
            return None
        labelled = bool(m.group(1) or m.group(3))
        if not labelled and len(m.group(2).split(".")[0]) < 6:
            # two bare 5-digit numbers are more likely anything else than a grid position
            return None
        e, n = float(m.group(2)), float(m.group(4))
    if in_bng_range(np.array([e]), np.array([n]))[0]:
        return e, n, f"easting/northing '{m.group(0).strip()}' in the text"
    return f"easting/northing '{m.group(0).strip()}' in the text is outside Great Britain; ignored"


def on_grid(e: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Eastings/northings inside the OSTN15 grid: the National Grid's rectangle also holds open
    sea (and a latitude typed as an easting), where no conversion, and no incident, exists."""
    inside = np.isfinite(e) & np.isfinite(n) & in_bng_range(e, n)
    if inside.any():
        lon, lat = bng_to_lonlat(e[inside], n[inside])
        inside[inside] = np.isfinite(lon) & np.isfinite(lat)
    return inside


def from_columns(rows: pd.DataFrame, out: Placements) -> NDArray[np.bool_]:
    """Place rows by their coordinate columns (vectorised). Returns which rows were placed."""
    done = np.zeros(out.n, dtype=bool)
    metres, degrees = coordinate_pairs(rows.columns)
    if metres is not None:
        done |= _from_metres(rows, metres, out)
    if degrees is not None:
        done |= _from_degrees(rows, degrees, out, done)
    return done


def _numbers(rows: pd.DataFrame, column: Hashable) -> NDArray[np.float64]:
    return pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype="float64")


def _from_metres(rows: pd.DataFrame, pair: ColumnPair, out: Placements) -> NDArray[np.bool_]:
    """Easting/northing columns: taken as they are, swapped when only that lands in Great
    Britain, or read as degrees when they hold degrees."""
    e_col, n_col = pair
    e, n = _numbers(rows, e_col), _numbers(rows, n_col)
    given = np.isfinite(e) & np.isfinite(n)
    ok = given & on_grid(e, n)
    out.easting[ok], out.northing[ok] = e[ok], n[ok]
    out.method[ok], out.score[ok] = "coordinates", COORDINATE_SCORE
    for i in np.flatnonzero(ok):
        out.reason[i].append(f"from the {e_col}/{n_col} columns")
    swapped = given & ~ok & on_grid(n, e)
    degrees = given & ~ok & ~swapped & (in_lonlat_range(e, n) | in_lonlat_range(n, e))
    for i in np.flatnonzero(swapped):
        out.easting[i], out.northing[i] = n[i], e[i]
        out.method[i], out.score[i] = "coordinates", COORDINATE_SCORE
        out.reason[i].append(
            f"{e_col} {e[i]:g} and {n_col} {n[i]:g} were swapped (no GB point has "
            f"that easting); read as E {n[i]:g} N {e[i]:g}"
        )
    if degrees.any():
        _metres_holding_degrees(pair, e, n, degrees, out)
    for i in np.flatnonzero(given & (out.method == "none")):
        out.reason[i].append(
            f"{e_col}/{n_col} E {e[i]:g} N {n[i]:g} is outside Great Britain; ignored"
        )
    placed: NDArray[np.bool_] = out.method == "coordinates"
    return placed


def _metres_holding_degrees(
    pair: ColumnPair,
    e: NDArray[np.float64],
    n: NDArray[np.float64],
    degrees: NDArray[np.bool_],
    out: Placements,
) -> None:
    """Easting/northing columns that hold longitude/latitude (either way round)."""
    e_col, n_col = pair
    lon = np.where(in_lonlat_range(e, n), e, n)[degrees]
    lat = np.where(in_lonlat_range(e, n), n, e)[degrees]
    ge, gn = lonlat_to_bng(lon, lat)
    for k, i in enumerate(np.flatnonzero(degrees)):
        if np.isfinite(ge[k]) and in_bng_range(ge[k : k + 1], gn[k : k + 1])[0]:
            out.easting[i], out.northing[i] = ge[k], gn[k]
            out.lat[i], out.lon[i] = lat[k], lon[k]
            out.method[i], out.score[i] = "coordinates", COORDINATE_SCORE
            out.reason[i].append(
                f"{e_col}/{n_col} hold degrees ({e[i]:g}, {n[i]:g}), not metres; "
                f"read as latitude {lat[k]:g}, longitude {lon[k]:g}"
            )


def _from_degrees(
    rows: pd.DataFrame, pair: ColumnPair, out: Placements, done: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Latitude/longitude columns, for rows not placed yet; a swapped pair is fixed."""
    lat_col, lon_col = pair
    lat, lon = _numbers(rows, lat_col), _numbers(rows, lon_col)
    todo = ~done & np.isfinite(lat) & np.isfinite(lon)
    straight = todo & in_lonlat_range(lon, lat)
    swapped = todo & ~straight & in_lonlat_range(lat, lon)
    use_lat = np.where(swapped, lon, lat)
    use_lon = np.where(swapped, lat, lon)
    cand = straight | swapped
    placed = np.zeros(out.n, dtype=bool)
    if cand.any():
        ge, gn = lonlat_to_bng(use_lon[cand], use_lat[cand])
        e_all = np.full(out.n, np.nan)
        n_all = np.full(out.n, np.nan)
        e_all[cand], n_all[cand] = ge, gn
        placed = cand & np.isfinite(e_all) & np.isfinite(n_all)
        placed[placed] = in_bng_range(e_all[placed], n_all[placed])
        out.easting[placed], out.northing[placed] = e_all[placed], n_all[placed]
        out.lat[placed], out.lon[placed] = use_lat[placed], use_lon[placed]
        out.method[placed], out.score[placed] = "coordinates", COORDINATE_SCORE
        for i in np.flatnonzero(placed):
            out.reason[i].append(
                f"{lat_col} {lat[i]:g} and {lon_col} {lon[i]:g} were swapped; read as latitude "
                f"{use_lat[i]:g}, longitude {use_lon[i]:g}"
                if swapped[i]
                else f"from the {lat_col}/{lon_col} columns"
            )
    for i in np.flatnonzero(todo & ~placed):
        out.reason[i].append(
            f"{lat_col}/{lon_col} {lat[i]:g}, {lon[i]:g} is outside Great Britain; ignored"
        )
    return placed
