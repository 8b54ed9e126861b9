"""Property-based fuzzing of every importer, the offline geocoder and the CSV writer (issue 12).

Why: users bring whatever their systems export. The import contract is that a file either lands
whole, with every record stored or rejected with a reason, or is refused with a ClosuremapError
(a sentence the user can act on) and the workspace is left exactly as it was. Hand-picked examples
cannot cover what real exports hold, so hypothesis writes adversarial files in every supported
format and checks the contract on each.

Profiles: ``ci`` (default, a few dozen cases per test, part of ``make test``) and ``fuzz``
(thousands, ``make fuzz``), chosen with HYPOTHESIS_PROFILE; CLOSUREMAP_FUZZ_EXAMPLES overrides
the count and CLOSUREMAP_FUZZ_SHRINK=0 skips shrinking (to survey failures quickly). With
CLOSUREMAP_FUZZ_REPORT set, the counts (cases tried, crashes, rows read, rows unaccounted) are
written there as JSON when the module finishes, for ``bench/fuzz.py`` (which runs the module in
one process: under pytest-xdist each worker would write its own counts over the others').
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import math
import os
import shutil
import sqlite3
import tempfile
import traceback
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import bng_to_lonlat, in_bng_range
from closuremap.geo.errors import ClosuremapError
from closuremap.geo.geocode import MATCH_METHODS, GazetteerIndex, geocode, load_gazetteer
from closuremap.layers.csvio import FORMULA_START, _is_number, csv_bytes, neutralise, write_csv
from closuremap.layers.import_result import ImportResult
from closuremap.layers.importer import import_file
from closuremap.layers.model import SOURCE_ROW, get_kind
from closuremap.layers.store import GeoPackageStore

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    # cells of 10,000 characters are the point, not a mistake: hypothesis may print them
    pytest.mark.filterwarnings(
        "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
    ),
    # GDAL's notes on odd files ("invalid winding order", "invalid coord dimension") are warned from
    # inside pyogrio's C error handler, where an error cannot reach the caller: they are not crashes
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


# -- profiles --------------------------------------------------------------------------------------
_SUPPRESS = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
    HealthCheck.large_base_example,
]
_EXAMPLES = {"ci": 25, "fuzz": 2000}  # cases per test


def _fuzz_settings() -> settings:
    """The chosen profile, applied per test rather than loaded globally, so the rest of the suite
    keeps its own settings. Hypothesis ships a "ci" profile (derandomised: the same cases every run,
    so CI is not flaky; no example database), used as it is but for our case count; "fuzz" is
    registered here unless someone registered it first. No deadline: an import of a 10k-character
    cell is slow, not wrong."""
    for name, extra in (("ci", {"derandomize": True, "database": None}), ("fuzz", {})):
        try:
            settings.get_profile(name)
        except InvalidArgument:
            settings.register_profile(
                name,
                max_examples=_EXAMPLES[name],
                deadline=None,
                suppress_health_check=_SUPPRESS,
                **extra,
            )
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    try:
        base = settings.get_profile(name)
    except InvalidArgument:
        name, base = "ci", settings.get_profile("ci")
    override = os.environ.get("CLOSUREMAP_FUZZ_EXAMPLES")
    examples = int(override) if override else _EXAMPLES.get(name, base.max_examples)
    phases = base.phases
    if (
        os.environ.get("CLOSUREMAP_FUZZ_SHRINK", "1") == "0"
    ):  # find failures fast, leave them unshrunk
        phases = tuple(p for p in phases if p is not Phase.shrink)
    return settings(
        base, max_examples=examples, deadline=None, suppress_health_check=_SUPPRESS, phases=phases
    )


FUZZ = _fuzz_settings()


# -- counting, for the report ----------------------------------------------------------------------
STATS: dict[str, int] = {
    "cases": 0,
    "crashes": 0,
    "rows_written": 0,
    "rows_read": 0,
    "rows_unaccounted": 0,
    "imports_ok": 0,
    "imports_refused": 0,
    "geocoded_rows": 0,
    "csv_cells": 0,
}
CRASHES: dict[
    str, int
] = {}  # "Type: message @ file:line" -> how many inputs raised it (shrinking included)
REFUSALS: Counter[str] = Counter()  # which ClosuremapError subclasses refused files


def _crash(exc: BaseException) -> None:
    """Count a crash under its signature; the caller re-raises it so the test still fails."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [
        f
        for f in frames
        if f"{os.sep}tests{os.sep}" not in f.filename
        and str(ROOT) in f.filename
        and f"{os.sep}.venv{os.sep}" not in f.filename
    ]
    places = list(
        dict.fromkeys(f"{Path(f.filename).name}:{f.lineno}" for f in [*frames[-1:], *ours[-1:]])
    )
    where = (
        " < ".join(places) or "?"
    )  # where it was raised, and the last closuremap line on the way
    signature = (
        f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''} @ {where}"
    )
    STATS["crashes"] += 1
    CRASHES[signature] = CRASHES.get(signature, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _fuzz_report() -> Iterator[None]:
    """Write the counts for bench/fuzz.py when the module is done (only when asked to)."""
    yield
    target = os.environ.get("CLOSUREMAP_FUZZ_REPORT")
    if target:
        Path(target).write_text(
            json.dumps({**STATS, "crash_signatures": CRASHES, "refusals": dict(REFUSALS)}, indent=2)
        )


# -- places ----------------------------------------------------------------------------------------
E0, N0 = 531750.0, 179100.0  # the sample estate, BNG
_lon, _lat = bng_to_lonlat(np.array([E0]), np.array([N0]))
LON0, LAT0 = float(_lon[0]), float(_lat[0])
_MERC_X, _MERC_Y = LON0 * 111_319.49, 6_710_000.0  # near enough to the estate in EPSG:3857

_gaz = load_gazetteer(ROOT / "data" / "synthetic" / "addresses.csv")
GAZETTEER = pd.concat(
    [
        _gaz.groupby(_gaz["address"].str.split(", ").str[1], sort=False).head(4),
        pd.DataFrame(
            {
                "uprn": ["X1", "", "990000009999"],
                "address": ["", "😀 House, Nowhere Road", "Flat 1"],
                "easting": [np.nan, 1e19, E0],
                "northing": [N0, 5.0, np.nan],
            }
        ),  # rows it cannot use
    ],
    ignore_index=True,
)
GAZETTEER_INDEX = GazetteerIndex.from_frame(GAZETTEER)
_pc = pd.read_csv(
    ROOT / "data" / "postcodes" / "codepoint_open_2025-10_southwark_estate_1km.csv", dtype=str
)
POSTCODES = pd.concat(
    [
        _pc.head(30),
        pd.DataFrame(
            {"Postcode": ["SE1 6FY", "ZZ9 9ZZ"], "Eastings": ["", "1e19"], "Northings": ["x", "0"]}
        ),
    ],
    ignore_index=True,
)


# -- strategies: cells -----------------------------------------------------------------------------
def _no_nul(text: str) -> str:
    return text.replace("\x00", "")


CONTROL = "".join(chr(c) for c in range(1, 32)) + "\x7f\x85\u2028\u2029\u200b\u202e\ufeff"
NUMBER_WORDS = [
    "1e19",
    "1e400",
    "-1e400",
    "-inf",
    "inf",
    "+inf",
    "Infinity",
    "nan",
    "NaN",
    "-nan",
    "9" * 40,
    "-" + "9" * 25,
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    "2**53",
    "1e-400",
    "0x10",
    "1_000",
    "1,000",
    "١٢",
    "１２",
    " 7 ",
    "7.",
    ".5",
    "-0",
    "+3",
    "1e",
    "e1",
    "--1",
    "3.0",
    "4.5",
    "200",
    "201",
    "-10",
    "-11",
    "0",
    "1",
    "12",
]
DATE_WORDS = [
    "31/02/2024",
    "2024-13-01",
    "1/1/24",
    "2024-04",
    "2024-4",
    "25 Dec 2024",
    "Dec 25, 2024",
    "0000-00-00",
    "9999-12-31T23:59:59",
    "1970-01-01T00:00:00Z",
    "2024-01-01T00:00:00+05:30",
    "29/02/2023",
    "29/02/2024 25:61",
    "2024-02-29T24:00:00",
    "12/31/2024",
    "1712345678",
    "yesterday",
    "2024-06-01 12:00:00.123456",
    "01.06.2024",
    "1 June 2024",
    "2024-06-01T12:00",
    "45123",
]
SPECIAL_WORDS = [
    "$",
    "$x",
    "$a$b$",
    "$$",
    "\\$",
    "50$",
    "$1,000",
    "$`whoami`",
    "${HOME}",
    "$(rm -rf)",
    "x\r\ny",
    "x\ry",
    "x\ny",
    "\r",
    "\n",
    "😀🏳️‍🌈",
    "Ǆ",
    "\u202eevil",
    "\ufeffbom",
    "null",
    "None",
    "NaN",
    "N/A",
    "NaT",
    "<NA>",
    "#REF!",
    "'",
    '"',
    '""',
    "'=1+1",
    '=HYPERLINK("http://x")',
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "\tTab",
    " ",
    "\u00a0",
    "stairwell",
    "Stairwell",
    "bin store",
    "BIN_STORE",
    "other",
    "[1, 2]",
    '{"a": 1}',
    "<b>x</b>",
    "&amp;",
    "]]>",
    "SE1 6FY",
]

TEXT = st.one_of(
    st.text(max_size=25),
    st.text(st.sampled_from(list(CONTROL + "ab ,;\"'$=+-@")), max_size=20),
    st.tuples(st.sampled_from(["=", "+", "-", "@", "\t", "\r"]), st.text(max_size=15)).map("".join),
    st.sampled_from(SPECIAL_WORDS),
    st.text(min_size=1, max_size=4).map(lambda s: (s * 2500)[:10_000]),  # very long
).map(_no_nul)
NUMBER_TEXT = st.one_of(
    st.sampled_from(NUMBER_WORDS),
    st.integers(-(10**25), 10**25).map(str),
    st.floats().map(repr),
    st.floats(-300, 300).map(lambda f: f"{f:.3f}"),
)
DATE_TEXT = st.one_of(
    st.sampled_from(DATE_WORDS),
    st.tuples(
        st.datetimes(min_value=datetime(1, 1, 1)),
        st.sampled_from(
            [
                "%Y-%m-%dT%H:%M:%S",
                "%d/%m/%Y %H:%M",
                "%d/%m/%Y",
                "%Y-%m-%d",
                "%d %b %Y",
                "%m/%d/%Y",
                "%Y%m%d",
                "%d-%m-%Y %H:%M",
                "%A %d %B %Y",
            ]
        ),
    ).map(lambda t: t[0].strftime(t[1])),
)
CELL = st.one_of(TEXT, NUMBER_TEXT, DATE_TEXT, st.just(""))

WKT_WORDS = [
    "POINT(1 2",
    "POLYGON EMPTY",
    "POINT EMPTY",
    "POINT (nan nan)",
    "POINT (1e400 1e400)",
    "POLYGON ((0 0, 1 1, 0 0))",
    "LINESTRING (0 0)",
    "GEOMETRYCOLLECTION EMPTY",
    "SRID=27700;POINT (531700 179000)",
    "POINT Z (531700 179000 5)",
    "POINT M (531700 179000 5)",
    "CIRCULARSTRING (0 0, 1 1, 2 0)",
    "TRIANGLE ((0 0, 1 0, 0 1, 0 0))",
    "POLYHEDRALSURFACE EMPTY",
    "0101000000000000000000F03F000000000000F03F",
    '{"type":"Point","coordinates":[0,0]}',
    "POINT (531700 179000) junk",
    "point(531700 179000)",
    "POINT(531700,179000)",
    "NULL",
    "POLYGON ((531700 179000, 531710 179000, 531710 179010))",
    "MULTIPOLYGON (((531700 179000, 531705 179000, 531705 179005, 531700 179000)), EMPTY)",
]


# -- strategies: geometry --------------------------------------------------------------------------
COORD_CASES = (
    "bng",
    "bng",
    "lonlat",
    "lonlat",
    "swapped",
    "outside_lonlat",
    "outside_bng",
    "mercator",
    "zero",
    "huge",
    "nonfinite",
)


@st.composite
def base_xy(draw: st.DrawFn, finite: bool = False) -> tuple[str, float, float]:
    """A coordinate pair: on the estate in BNG or WGS84 mostly, else swapped, abroad, huge or
    NaN."""
    cases = [c for c in COORD_CASES if not (finite and c == "nonfinite")]
    case = draw(st.sampled_from(cases))
    dx, dy = draw(st.floats(-400, 400)), draw(st.floats(-400, 400))
    if case == "bng":
        return case, E0 + dx, N0 + dy
    if case == "lonlat":
        return case, LON0 + dx * 1e-5, LAT0 + dy * 1e-5
    if case == "swapped":
        return case, LAT0 + dy * 1e-5, LON0 + dx * 1e-5
    if case == "outside_lonlat":
        x, y = draw(
            st.sampled_from(
                [(2.35, 48.85), (-74.0, 40.7), (179.9, -89.9), (-9.5, 60.0), (180.0, 90.0)]
            )
        )
        return case, x, y
    if case == "outside_bng":
        x, y = draw(
            st.sampled_from(
                [
                    (900_000.0, 1_500_000.0),
                    (-5000.0, 100_000.0),
                    (699_999.0, 1_299_999.0),
                    (150.0, 150.0),
                    (E0, -N0),
                ]
            )
        )
        return case, x + dx, y + dy
    if case == "mercator":
        return case, _MERC_X + dx, _MERC_Y + dy
    if case == "zero":
        return case, 0.0, 0.0
    if case == "huge":
        x, y = draw(st.sampled_from([(1e19, 1e19), (-1e300, 1e300), (1e19, N0), (E0, 2.0**63)]))
        return case, x, y
    x, y = draw(st.sampled_from([(math.nan, N0), (E0, math.inf), (-math.inf, math.nan)]))
    return case, x, y


SHAPES = (
    "point",
    "square",
    "square",
    "bowtie",
    "line",
    "multi",
    "hole",
    "spike",
    "empty_polygon",
    "empty_point",
    "collection",
    "none",
    "z",
)


@st.composite
def geometries(
    draw: st.DrawFn, shapes: tuple[str, ...] = SHAPES, finite: bool = False
) -> shapely.Geometry | None:
    """A geometry of any shape at a coordinate from :func:`base_xy`, valid or not."""
    _, x, y = draw(base_xy(finite=finite))
    degrees = abs(x) < 200 and abs(y) < 200
    s = draw(st.sampled_from([0.0, 1e-9, 0.5, 12.0, 300.0])) * (1e-5 if degrees else 1.0)
    form = draw(st.sampled_from(shapes))
    try:
        return _shape(form, x, y, s)
    except (
        shapely.errors.GEOSException,
        ValueError,
    ):  # a ring of NaN cannot be closed: a NaN point will do
        return shapely.Point(x, y)


def _shape(form: str, x: float, y: float, s: float) -> shapely.Geometry | None:
    square = shapely.Polygon([(x, y), (x + s, y), (x + s, y + s), (x, y + s)])
    if form == "point":
        return shapely.Point(x, y)
    if form == "square":
        return square
    if form == "bowtie":
        return shapely.Polygon([(x, y), (x + s, y + s), (x + s, y), (x, y + s)])
    if form == "line":
        return shapely.LineString([(x, y), (x + s, y + s)])
    if form == "multi":
        return shapely.MultiPolygon(
            [square, shapely.Polygon([(x + 2 * s, y), (x + 3 * s, y), (x + 3 * s, y + s)])]
        )
    if form == "hole":
        inner = [(x + s / 4, y + s / 4), (x + s / 2, y + s / 4), (x + s / 2, y + s / 2)]
        return shapely.Polygon(square.exterior.coords, [inner])
    if form == "spike":
        return shapely.Polygon(
            [(x, y), (x + s, y), (x + s, y + s), (x + s, y + 2 * s), (x + s, y + s), (x, y + s)]
        )
    if form == "empty_polygon":
        return shapely.Polygon()
    if form == "empty_point":
        return shapely.Point()
    if form == "collection":
        return shapely.GeometryCollection([shapely.Point(x, y), square])
    if form == "z":
        return shapely.Polygon([(x, y, 5.0), (x + s, y, 5.0), (x + s, y + s, 5.0)])
    return None


def _family(kind: str) -> tuple[str, ...]:
    """The shapes a kind stores, for files that mostly fit the kind."""
    return ("point",) if kind == "incidents" else ("square", "multi", "hole")


WKT_CELL = st.one_of(
    st.sampled_from(WKT_WORDS),
    geometries().map(lambda g: "" if g is None else shapely.to_wkt(g, rounding_precision=-1)),
    TEXT,
)


@st.composite
def coordinate_pair(draw: st.DrawFn) -> tuple[str, str]:
    """Two coordinate cells written as a person or a system might, or junk."""
    _, x, y = draw(base_xy())
    style = draw(
        st.sampled_from(["repr", "fixed", "spaced", "comma", "empty", "one_empty", "junk"])
    )
    if style == "repr":
        return repr(x), repr(y)
    if style == "fixed":
        return f"{x:.2f}", f"{y:.2f}"
    if style == "spaced":
        return f"  {x} ", f"\t{y}"
    if style == "comma":
        return f"{x:,.1f}", f"{y:,.1f}"
    if style == "empty":
        return "", ""
    if style == "one_empty":
        return repr(x), ""
    return draw(st.one_of(NUMBER_TEXT, TEXT)), draw(st.one_of(NUMBER_TEXT, TEXT))


# -- strategies: tables ----------------------------------------------------------------------------
TABLE_KINDS = ("incidents", "communal_areas", "premises")
JUNK_HEADERS = [
    "reason",
    "row",
    "line",
    "feature",
    "feature_id",
    "geocode_match_method",
    "geocode_needs_review",
    "source_attrs",
    "source_row",
    "source_file",
    "Unnamed: 0",
    "",
    "É",
    "😀",
    "$x$",
    "=A1",
    "1",
    "category_original",
    "wkt_crs",
    "extra",
    "EXTRA",
    "notes2",
    "Block ID",
    "Area Type",
]
GEOMETRY_SCHEMES = {
    "wkt": [("wkt",), ("geometry",), ("WKT",), ("the_geom",)],
    "en": [
        ("easting", "northing"),
        ("Eastings", "Northings"),
        ("BNG Easting", "BNG Northing"),
        ("east", "north"),
    ],
    "lonlat": [
        ("longitude", "latitude"),
        ("lon", "lat"),
        ("Lng", "Lat"),
        ("latitude", "longitude"),
    ],
    "xy": [("x", "y"), ("X", "Y"), ("point_x", "point_y")],
    "none": [()],
}
FIELD_CELLS: dict[str, st.SearchStrategy[str]] = {
    "area_type": st.one_of(
        st.sampled_from(get_kind("communal_areas").field("area_type").choices), TEXT
    ),
    "floor_from": st.one_of(st.integers(-12, 202).map(str), NUMBER_TEXT),
    "floor_to": st.one_of(st.integers(-12, 202).map(str), NUMBER_TEXT),
    "floors": st.one_of(st.integers(-2, 202).map(str), NUMBER_TEXT),
    "uprn": st.one_of(st.integers(0, 10**13).map(str), NUMBER_TEXT),
    "occurred_at": st.one_of(DATE_TEXT, TEXT),
    "block_id": st.one_of(st.sampled_from(["PER", "HAY", "B1", " B2 ", "per"]), TEXT),
    "location_text": st.one_of(
        st.sampled_from(
            [
                "Flat 3, Perronet House",
                "o/s Hayles Buildings",
                "SE1 6FY",
                "TQ 318 791",
                "51.4952, -0.1021",
                "E 531700 N 179000",
                "see notes",
                "flt 2 newman hse",
            ]
        ),
        TEXT,
    ),
}


@dataclass
class TableCase:
    """A table file to write: its header and records exactly as they go on disk."""

    kind: str
    fmt: str  # csv | tsv | txt (semicolons) | xlsx
    header: list[str]
    records: list[list[Any]]
    newline: str = "\r\n"
    bom: bool = False
    crs: str | None = None
    repair: bool = False
    geocode: bool = False
    chunk_rows: int | None = None  # stream the table in chunks this small (None: the default)


def _column_name(draw: st.DrawFn, name: str, aliases: tuple[str, ...]) -> str:
    choice = draw(st.sampled_from([name, name, *aliases]))
    style = draw(st.sampled_from(["as_is", "as_is", "upper", "title", "spaced"]))
    if style == "upper":
        return choice.upper()
    if style == "title":
        return choice.replace("_", " ").title()
    if style == "spaced":
        return f" {choice} "
    return choice


CRS_ARG = st.sampled_from(
    [None] * 14
    + [
        "EPSG:27700",
        "EPSG:4326",
        "bng",
        "wgs84",
        "EPSG:3857",
        "nonsense",
        "",
        "EPSG:999999",
        "EPSG:32630",
    ]
)


@st.composite
def table_cases(
    draw: st.DrawFn, formats: tuple[str, ...] = ("csv", "tsv", "txt", "xlsx")
) -> TableCase:
    """A table for one kind: some of its columns under their names or aliases, a geometry scheme,
    junk columns, maybe a duplicate header, and rows that are ragged, blank or full of trouble."""
    kind = draw(st.sampled_from(TABLE_KINDS))
    fmt = draw(st.sampled_from(formats))
    k = get_kind(kind)
    columns: list[tuple[str, st.SearchStrategy[Any] | str]] = []
    for f in k.fields:
        keep = draw(st.integers(0, 9)) < (9 if f.required else 6)
        if keep:
            columns.append((_column_name(draw, f.name, f.aliases), FIELD_CELLS.get(f.name, CELL)))
    scheme = draw(st.sampled_from(list(GEOMETRY_SCHEMES)))
    names = draw(st.sampled_from(GEOMETRY_SCHEMES[scheme]))
    if scheme == "wkt":
        columns.append((names[0], WKT_CELL))
    elif names:
        columns.append((names[0], "pair0"))
        columns.append((names[1], "pair1"))
    for junk in draw(st.lists(st.sampled_from(JUNK_HEADERS), max_size=2, unique=True)):
        columns.append((junk, CELL))
    seen: set[str] = set()
    unique = []
    for name, strategy in columns:
        if name.strip() not in seen:
            seen.add(name.strip())
            unique.append((name, strategy))
    columns = draw(st.permutations(unique))
    while len(columns) < 2:
        columns.append((f"pad{len(columns)}", CELL))
    if draw(st.integers(0, 19)) == 0:  # a repeated column name
        columns.append(draw(st.sampled_from(columns)))
    header = [name for name, _ in columns]
    records: list[list[Any]] = []
    for _ in range(draw(st.integers(0, 8))):
        pair = draw(coordinate_pair())
        row: list[Any] = []
        for _, strategy in columns:
            if strategy == "pair0":
                row.append(pair[0])
            elif strategy == "pair1":
                row.append(pair[1])
            else:
                row.append(draw(strategy))
        shape = draw(
            st.sampled_from(["ok"] * 6 + ["short", "long", "empty_list", "empty_cells", "spaces"])
        )
        if shape == "short":
            row = row[: draw(st.integers(0, len(row) - 1))]
        elif shape == "long":
            row = row + draw(st.lists(CELL, min_size=1, max_size=3))
        elif shape == "empty_list":
            row = []
        elif shape == "empty_cells":
            row = [""] * len(row)
        elif shape == "spaces":
            row = [draw(st.sampled_from([" ", "\t", "  ", "\u00a0"])) for _ in row]
        if fmt == "xlsx" and draw(
            st.booleans()
        ):  # typed cells: numbers and dates as Excel holds them
            row = [
                draw(
                    st.one_of(
                        st.integers(-(2**53), 2**53),
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.datetimes(min_value=datetime(1900, 3, 1)),
                        st.none(),
                    )
                )
                if draw(st.booleans())
                else c
                for c in row
            ]
        records.append(row)
    geocoding = kind == "incidents" and fmt != "xlsx" and draw(st.booleans())
    return TableCase(
        kind,
        fmt,
        header,
        records,
        newline=draw(st.sampled_from(["\r\n", "\n"])),
        bom=draw(st.booleans()),
        crs=draw(CRS_ARG),
        repair=draw(st.booleans()),
        geocode=geocoding,
        chunk_rows=draw(st.sampled_from([None, None, 1, 2, 3])),
    )


# -- writing the files -----------------------------------------------------------------------------
def _xlsx_text(value: str) -> str:
    """Text openpyxl can store: no XML-illegal control characters, at most 32,767 characters."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:32_767]


def write_table(case: TableCase, folder: Path) -> tuple[Path, tuple[int, int]]:
    """The file on disk, and how many records a reader must find: (at least, at most)."""
    if case.fmt == "xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append([_xlsx_text(h) for h in case.header])
        last = 0
        for i, row in enumerate(case.records, start=1):
            cells = [_xlsx_text(c) if isinstance(c, str) else c for c in row]
            ws.append(cells)
            if any(
                c is not None and not (isinstance(c, str) and (c == "" or c.startswith("=")))
                for c in cells
            ):
                last = i  # a formula may read back empty: only plain values make a row certain
        path = folder / "table.xlsx"
        wb.save(path)
        return path, (last, len(case.records))
    delimiter = {"csv": ",", "tsv": "\t", "txt": ";"}[case.fmt]

    def cell(value: Any) -> str:  # RFC 4180: quote a cell holding the delimiter, a quote, CR or LF
        text = str(value)
        if any(ch in text for ch in (delimiter, '"', "\r", "\n")):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [delimiter.join(cell(c) for c in row) for row in [case.header, *case.records]]
    path = folder / f"table.{case.fmt}"
    text = ("\ufeff" if case.bom else "") + "".join(line + case.newline for line in lines)
    path.write_bytes(text.encode("utf-8"))
    return path, (len(case.records), len(case.records))


@dataclass
class VectorCase:
    """A vector file to write: features' properties and geometries, and the CRS it claims."""

    kind: str
    fmt: str  # geojson | gpkg | shpzip
    columns: list[str]
    properties: list[dict[str, Any]]
    geometries: list[Any]
    epsg: int | None
    crs: str | None = None
    repair: bool = False
    raw_numbers: bool = False  # GeoJSON with NaN / Infinity / 1e400 tokens


VECTOR_HEADERS = [
    "name",
    "notes",
    "extra",
    "É",
    "😀",
    "reason",
    "feature",
    "wkt",
    "wkt_crs",
    "source_row",
    "Block ID",
]
PROPERTY = st.one_of(TEXT, NUMBER_TEXT, DATE_TEXT, st.none())
JSON_PROPERTY = st.one_of(
    PROPERTY,
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def vector_cases(
    draw: st.DrawFn, formats: tuple[str, ...] = ("geojson", "gpkg", "shpzip")
) -> VectorCase:
    kind = draw(st.sampled_from(TABLE_KINDS))
    fmt = draw(st.sampled_from(formats))
    k = get_kind(kind)
    names = [
        _column_name(draw, f.name, f.aliases).strip()
        for f in k.fields
        if draw(st.integers(0, 9)) < 7
    ]
    names += draw(st.lists(st.sampled_from(VECTOR_HEADERS), max_size=2))
    folded: set[str] = set()  # GPKG and .dbf field names ignore case
    columns = [n for n in names if n and not (n.lower() in folded or folded.add(n.lower()))]
    n = draw(st.integers(0, 8))
    value = JSON_PROPERTY if fmt == "geojson" else PROPERTY
    properties = []
    for _ in range(n):
        props = {}
        for c in columns:
            fname = next((f.name for f in k.fields if c in (f.name, *f.aliases)), "")
            props[c] = draw(st.one_of(FIELD_CELLS.get(fname, value), value))
        properties.append(props)
    if fmt == "shpzip":  # one geometry family per shapefile
        shapes = draw(
            st.sampled_from(
                [
                    ("square", "multi", "hole", "empty_polygon", "none"),
                    ("line", "none"),
                    ("point", "none"),
                ]
            )
        )
        geoms = draw(st.lists(geometries(shapes, finite=True), min_size=n, max_size=n))
    else:
        shapes = draw(
            st.sampled_from([_family(kind) + ("bowtie", "empty_polygon", "none"), SHAPES])
        )
        geoms = draw(st.lists(geometries(shapes), min_size=n, max_size=n))
    epsg = draw(st.sampled_from([27700, 27700, 4326, 4326, 3857, 32630, None]))
    return VectorCase(
        kind,
        fmt,
        columns,
        properties,
        geoms,
        epsg,
        crs=draw(CRS_ARG),
        repair=draw(st.booleans()),
        raw_numbers=draw(st.booleans()),
    )


def _geojson_geometry(g: Any) -> Any:
    if g is None:
        return None
    return (
        json.loads(shapely.to_geojson(g))
        if not shapely.is_empty(g)
        else {"type": g.geom_type, "coordinates": []}
    )


def write_vector(case: VectorCase, folder: Path) -> tuple[Path, tuple[int, int]]:
    n = len(case.properties)
    if case.fmt == "geojson":
        doc: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": props, "geometry": _geojson_geometry(g)}
                for props, g in zip(case.properties, case.geometries, strict=True)
            ],
        }
        if case.epsg is not None:
            doc["crs"] = {
                "type": "name",
                "properties": {"name": f"urn:ogc:def:crs:EPSG::{case.epsg}"},
            }
        text = json.dumps(doc, ensure_ascii=False, allow_nan=True, default=str)
        if case.raw_numbers:
            text = text.replace("Infinity", "1e400")
        path = folder / "features.geojson"
        path.write_text(text, encoding="utf-8")
        return path, (n, n)
    data = {
        c: [None if p.get(c) is None else _no_nul(str(p[c])) for p in case.properties]
        for c in case.columns
    }
    frame = gpd.GeoDataFrame(
        data,
        geometry=gpd.GeoSeries(list(case.geometries), dtype=object),
        crs=f"EPSG:{case.epsg}" if case.epsg else None,
    )
    with (
        warnings.catch_warnings()
    ):  # GDAL's notes on cut field names and text are about our fixture
        warnings.simplefilter("ignore")
        if case.fmt == "gpkg":
            path = folder / "features.gpkg"
            pyogrio.write_dataframe(
                frame, path, driver="GPKG", layer="features", geometry_type="Unknown"
            )
            return path, (n, n)
        for c in case.columns:
            frame[c] = frame[c].map(
                lambda v: v[:80] if isinstance(v, str) else v
            )  # a .dbf holds 254 bytes
        shp = folder / "shp" / "features.shp"
        shp.parent.mkdir()
        pyogrio.write_dataframe(
            frame, shp, driver="ESRI Shapefile", promote_to_multi=True, encoding="UTF-8"
        )
    path = folder / "features.zip"
    with zipfile.ZipFile(path, "w") as z:
        for part in shp.parent.iterdir():
            z.write(part, part.name)
    return path, (n, n)


@dataclass
class KmlCase:
    """A hand-written KML: placemarks (some in folders) with names, descriptions and
    ExtendedData."""

    kind: str
    placemarks: list[tuple[str, str, dict[str, str], str]]  # name, description, data, geometry XML
    folders: list[int]  # placemark i goes in folder folders[i] (0: the document itself)
    malformed: bool = False


def _xml_clean(text: str) -> str:
    """Only the characters XML 1.0 allows."""
    return "".join(
        ch for ch in text if ch in "\t\n\r" or (ord(ch) >= 32 and ch not in "\ufffe\uffff")
    )


def _xml_text(text: str, raw: bool = False) -> str:
    """Text for an element: escaped, or (``raw``) exactly as given, to make a malformed file."""
    return text if raw else escape(_xml_clean(text))


@st.composite
def kml_geometry(draw: st.DrawFn) -> str:
    """KML geometry as text: lon,lat pairs of any geometry, or junk where coordinates should be."""
    g = draw(geometries())
    style = draw(
        st.sampled_from(["shape"] * 5 + ["empty_point", "no_coordinates", "junk", "none", "mixed"])
    )
    if style == "empty_point":
        return "<Point/>"
    if style == "mixed":
        return (
            "<MultiGeometry><Point><coordinates>-0.0945,51.4935</coordinates></Point><LineString><coordinates>"
            "1,1</coordinates></LineString><Polygon/></MultiGeometry>"
        )
    if style == "no_coordinates":
        return (
            "<Polygon><outerBoundaryIs><LinearRing><coordinates></coordinates></LinearRing></outerBoundaryIs>"
            "</Polygon>"
        )
    if style == "junk":
        return f"<Point><coordinates>{escape(draw(TEXT))}</coordinates></Point>"
    if style == "none" or g is None or shapely.is_empty(g):
        return ""

    def coords(seq: Any) -> str:
        return " ".join(",".join(repr(float(v)) for v in c) for c in seq)

    def one(part: Any) -> str:
        if part.geom_type == "Point":
            return f"<Point><coordinates>{coords(part.coords)}</coordinates></Point>"
        if part.geom_type == "LineString":
            return f"<LineString><coordinates>{coords(part.coords)}</coordinates></LineString>"
        if part.geom_type == "Polygon":
            holes = "".join(
                f"<innerBoundaryIs><LinearRing><coordinates>{coords(r.coords)}</coordinates>"
                "</LinearRing></innerBoundaryIs>"
                for r in part.interiors
            )
            return (
                f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords(part.exterior.coords)}"
                f"</coordinates></LinearRing></outerBoundaryIs>{holes}</Polygon>"
            )
        parts = "".join(one(p) for p in shapely.get_parts(part) if not p.is_empty)
        return f"<MultiGeometry>{parts}</MultiGeometry>"

    return one(g)


@st.composite
def kml_cases(draw: st.DrawFn) -> KmlCase:
    kind = draw(st.sampled_from(TABLE_KINDS))
    k = get_kind(kind)
    n = draw(st.integers(0, 6))
    placemarks = []
    for _ in range(n):
        data = {}
        for f in k.fields:
            if draw(st.integers(0, 9)) < 7:
                data[_column_name(draw, f.name, f.aliases).strip() or f.name] = draw(
                    FIELD_CELLS.get(f.name, CELL)
                )
        placemarks.append((draw(TEXT), draw(TEXT), data, draw(kml_geometry())))
    folders = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    return KmlCase(kind, placemarks, folders, malformed=draw(st.integers(0, 9)) == 0)


def write_kml(case: KmlCase, folder: Path) -> tuple[Path, tuple[int, int] | None]:
    def placemark(i: int) -> str:
        name, description, data, geometry = case.placemarks[i]
        raw = case.malformed and i == 0
        extended = "".join(
            f"<Data name={quoteattr(_xml_clean(k))}><value>{_xml_text(v, raw)}</value></Data>"
            for k, v in data.items()
        )
        return (
            f"<Placemark><name>{_xml_text(name, raw)}</name>"
            f"<description>{_xml_text(description)}</description>"
            f"<ExtendedData>{extended}</ExtendedData>{geometry}</Placemark>"
        )

    body = "".join(placemark(i) for i, f in enumerate(case.folders) if f == 0)
    for number in (1, 2):
        inside = "".join(placemark(i) for i, f in enumerate(case.folders) if f == number)
        if inside:
            body += f"<Folder><name>folder {number}</name>{inside}</Folder>"
    text = (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>fuzz</name>{body}</Document></kml>"
    )
    path = folder / "features.kml"
    path.write_text(text, encoding="utf-8")
    n = len(case.placemarks)
    return path, None if case.malformed else (n, n)


# -- the contract ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One empty workspace, copied for every case: creating one takes 0.3 s, copying a few ms."""
    path = tmp_path_factory.mktemp("fuzz") / "template.gpkg"
    GeoPackageStore.create(path)
    return path


@dataclass
class Snapshot:
    """What an import may change: the kind's features and the review queue."""

    count: int
    review: int


def _review_rows(path: Path) -> list[tuple[int, str | None]]:
    with closing(sqlite3.connect(path)) as conn:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'closuremap_review'"
        ).fetchone():
            return []
        return [
            (int(r), f)
            for r, f in conn.execute("SELECT source_row, feature_id FROM closuremap_review")
        ]


def _snapshot(store: GeoPackageStore, kind: str) -> Snapshot:
    return Snapshot(store.count(kind), len(_review_rows(store.path)))


def _integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def run_import(
    store: GeoPackageStore, kind: str, path: Path, **kw: Any
) -> ImportResult | ClosuremapError:
    """The import, with a ClosuremapError returned (a refusal is an answer) and anything else
    counted as a crash and re-raised."""
    STATS["cases"] += 1
    try:
        return import_file(store, kind, path, user="fuzz", **kw)
    except ClosuremapError as exc:
        return exc
    except Exception as exc:
        _crash(exc)
        raise


def _n_rejected(result: ImportResult) -> int:
    """Rejections over the whole file (a streamed import keeps a count beside the rows it shows)."""
    return int(getattr(result, "n_rejected", len(result.rejected)))


def check_import(
    store: GeoPackageStore,
    kind: str,
    path: Path,
    expected: tuple[int, int] | None,
    *,
    table: TableCase | None = None,
    **kw: Any,
) -> ImportResult | None:
    """Import ``path`` into an empty workspace and check the contract: refused whole with a
    sentence, or every record read stored or rejected with a reason, exactly once, with the rejects
    file and the review queue saying the same."""
    before = _snapshot(store, kind)
    assert before.count == 0, "each case starts from an empty workspace"
    rejects = path.parent / "rejects" / "out.rejects.csv"
    outcome = run_import(store, kind, path, rejects_path=rejects, **kw)
    if expected is not None:
        STATS["rows_written"] += expected[1]
    if isinstance(outcome, ClosuremapError):
        STATS["imports_refused"] += 1
        REFUSALS[type(outcome).__name__] += 1
        assert str(outcome).strip(), f"{type(outcome).__name__} without a message"
        reopened = GeoPackageStore(store.path)  # the workspace still opens
        after = _snapshot(reopened, kind)
        assert (after.count, after.review) == (before.count, before.review), (
            "a refused import changed the workspace"
        )
        assert _integrity(store.path) == "ok"
        return None
    result = outcome
    STATS["imports_ok"] += 1
    STATS["rows_read"] += result.read
    problems: list[str] = []
    n_rejected = _n_rejected(result)
    rejected = result.rejected
    reject_rows = [int(r) for r in rejected.iloc[:, 0]] if len(rejected) else []
    reasons = [str(r) for r in rejected["reason"]] if len(rejected) else []
    stored = store.read(kind)  # the workspace was empty: everything in it came from this file
    stored_rows = [int(r) for r in stored[SOURCE_ROW]]
    if len(rejected) != n_rejected:
        problems.append(
            f"{n_rejected} rejected but {len(rejected)} shown (a file this small shows all)"
        )
    if result.read != result.imported + n_rejected:
        problems.append(f"read {result.read} != imported {result.imported} + rejected {n_rejected}")
    if len(stored) != result.imported:
        problems.append(f"the store holds {len(stored)} features for {result.imported} imported")
    if len(result.accepted) and sorted(int(r) for r in result.accepted[SOURCE_ROW]) != sorted(
        stored_rows
    ):
        problems.append("the stored features are not the accepted records")
    seen = Counter(stored_rows + reject_rows)
    everyone = set(range(1, result.read + 1))
    missing = everyone - set(seen)
    unaccounted = len(missing) + abs(len(stored) - result.imported)
    if expected is not None and not expected[0] <= result.read <= expected[1]:
        problems.append(
            f"read {result.read} records of a file holding {expected[0]}..{expected[1]}"
        )
        unaccounted += max(0, expected[0] - result.read)
    if missing:
        problems.append(f"records neither stored nor rejected: {sorted(missing)[:10]}")
    twice = sorted(r for r, c in seen.items() if c > 1 or r not in everyone)
    if twice:
        problems.append(f"records stored and rejected, twice, or beyond those read: {twice[:10]}")
    if any(not r.strip() for r in reasons):
        problems.append("a rejected record without a reason")

    # the review queue: stored rows placed with low confidence (by feature id) and rows not placed
    # (rejected "not placed: ..."), which wait there instead of in the rejects file
    not_placed = [
        r for r, why in zip(reject_rows, reasons, strict=True) if why.startswith("not placed")
    ]
    queue = _review_rows(store.path)
    waiting = [r for r, fid in queue if fid is None]
    if len(queue) != result.queued:
        problems.append(f"queued says {result.queued}, the review table holds {len(queue)}")
    if not {fid for _, fid in queue if fid is not None} <= set(stored["feature_id"]):
        problems.append("the review queue points at features that were not stored")
    if sorted(waiting) != sorted(not_placed):
        problems.append(
            f"rows not placed {sorted(not_placed)[:10]} but the queue holds {sorted(waiting)[:10]}"
        )
        unaccounted += len(set(not_placed) - set(waiting))
    in_file = sorted(
        r for r, why in zip(reject_rows, reasons, strict=True) if not why.startswith("not placed")
    )
    if in_file:
        if result.rejects_path is None or not Path(result.rejects_path).exists():
            problems.append(f"{len(in_file)} rejections but no rejects file")
            unaccounted += len(in_file)
        else:
            with open(result.rejects_path, newline="", encoding="utf-8-sig") as fh:
                lines = list(csv.reader(fh))
            numbers = sorted(int(line[0]) for line in lines[1:] if line and line[0].isdigit())
            if numbers != in_file:
                problems.append(
                    f"the rejects file lists rows {numbers[:10]} for rejections {in_file[:10]}"
                )
                unaccounted += len(set(in_file) - set(numbers))
    elif result.rejects_path is not None:
        problems.append("a rejects file written with nothing to put in it")

    if table is not None and table.fmt != "xlsx":
        problems += _check_table_rows(table, result, stored, reject_rows, reasons)
    if _integrity(store.path) != "ok":
        problems.append("workspace integrity check failed")
    STATS["rows_unaccounted"] += unaccounted
    assert not problems, problems
    return result


def _check_table_rows(
    case: TableCase,
    result: ImportResult,
    stored: gpd.GeoDataFrame,
    reject_rows: list[int],
    reasons: list[str],
) -> list[str]:
    """Per-line checks a text table allows: blank lines rejected as such, ragged lines never
    stored, and each stored feature carrying its own line's values (no row shifted)."""
    problems = []
    width = len(case.header)
    why = dict(zip(reject_rows, reasons, strict=True))
    stored_rows = {int(r) for r in stored[SOURCE_ROW]}
    for i, row in enumerate(case.records, start=1):
        cells = [str(c) for c in row]
        blank = not any(c.strip() for c in cells)
        if blank and why.get(i) != "blank row":
            problems.append(f"blank line {i + 1}: {why.get(i, 'stored')!r}, expected 'blank row'")
        if not blank and len(cells) != width and i in stored_rows:
            problems.append(f"line {i + 1} has {len(cells)} fields for {width} and was stored")
    for name in ("block_id", "reference", "description", "notes"):
        column = result.mapping.get(name)
        header = [h.strip() for h in case.header]  # the reader strips column names
        if column is None or column not in header:
            continue
        at = header.index(column)
        for row_number, value in zip(stored[SOURCE_ROW], stored[name], strict=True):
            cell = str(case.records[int(row_number) - 1][at]).strip()
            want = None if cell.lower() in ("", "nan", "none", "null", "nat", "<na>") else cell
            if (None if pd.isna(value) else value) != want:
                problems.append(
                    f"line {int(row_number) + 1}: {name} stored {value!r}, the line says {want!r}"
                )
        break
    return problems


@pytest.fixture
def workspace(template: Path) -> Iterator[Callable[[], tuple[GeoPackageStore, Path]]]:
    """A factory of fresh workspaces in throwaway folders (one per hypothesis example)."""
    made: list[Path] = []

    def fresh() -> tuple[GeoPackageStore, Path]:
        folder = Path(tempfile.mkdtemp(prefix="fuzz-", dir=template.parent))
        made.append(folder)
        shutil.copy(template, folder / "ws.gpkg")
        return GeoPackageStore(folder / "ws.gpkg"), folder

    yield fresh
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def _recycle(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# -- the tests -------------------------------------------------------------------------------------
# Failures the fuzzer found, kept as explicit examples so they fail at once, every run, until fixed.
UTM_ORIGIN_BLOCK = TableCase(
    "premises",
    "csv",
    ["block_id", "name", "easting", "northing"],
    [["B1", "Perronet House", "0", "0"]],
    crs="EPSG:32630",
)  # make_valid crash
BLANK_LINE_GEOCODED = TableCase(
    "incidents",
    "csv",
    ["reference", "location"],  # queued, not rejected as 'blank row'
    [["CAD1", "Flat 1, Perronet House"], ["", ""]],
    geocode=True,
)

SQUARE = "POLYGON ((531700 179000, 531710 179000, 531710 179010, 531700 179010, 531700 179000))"
ROW_COLUMN_REJECTED = TableCase(
    "communal_areas",
    "csv",
    ["block_id", "area_type", "wkt", "row"],  # rejects file
    [["PER", "stairwell", SQUARE, "A"], ["PER", "bogus", SQUARE, "B"]],
)  # loses row 2
ROW_COLUMN_NOT_PLACED = TableCase(
    "incidents",
    "csv",
    ["reference", "location", "row"],  # review queue: int("see
    [
        ["CAD1", "Flat 1, Perronet House", "1"],  # notes") ValueError
        ["CAD2", "somewhere unknown", "see notes"],
    ],
    geocode=True,
)


@FUZZ
@example(case=UTM_ORIGIN_BLOCK)
@example(case=BLANK_LINE_GEOCODED)
@example(case=ROW_COLUMN_REJECTED)
@example(case=ROW_COLUMN_NOT_PLACED)
@given(case=table_cases())
def test_table_files_import_whole_or_are_refused(workspace: Any, case: TableCase) -> None:
    """CSV, TSV, semicolon text and XLSX: ragged rows, blank lines, formula text, numbers out of
    range, odd dates, swapped or foreign coordinates, WKT junk; incidents also through the
    geocoder."""
    store, folder = workspace()
    path, expected = write_table(case, folder)
    extra: dict[str, Any] = {"gazetteer": GAZETTEER, "postcodes": POSTCODES} if case.geocode else {}
    if case.chunk_rows and "chunk_rows" in inspect.signature(import_file).parameters:
        extra["chunk_rows"] = case.chunk_rows
    check_import(
        store,
        case.kind,
        path,
        expected,
        table=case,
        crs=case.crs,
        repair_geometry=case.repair,
        **extra,
    )
    _recycle(folder)


@FUZZ
@example(
    case=VectorCase(
        "incidents",
        "geojson",
        ["reference"],
        [{"reference": "CAD1"}],
        [shapely.Point(E0, N0)],
        3857,
    )
)  # BNG coordinates labelled Web Mercator: make_valid crash
@example(
    case=VectorCase(
        "premises",
        "geojson",
        ["block_id", "name", "feature"],  # rejects file says feature 29,
        [{"block_id": "B1", "name": "x", "feature": "29"}],
        [shapely.Point(E0, N0)],
        27700,
    )
)  # not 1
@given(case=vector_cases())
def test_vector_files_import_whole_or_are_refused(workspace: Any, case: VectorCase) -> None:
    """GeoJSON (hand-written, with NaN/1e400 tokens and nested properties), GeoPackage and zipped
    Shapefile: invalid, empty, mixed and 3D geometries, wrong or missing CRS, awkward attributes."""
    store, folder = workspace()
    path, expected = write_vector(case, folder)
    check_import(store, case.kind, path, expected, crs=case.crs, repair_geometry=case.repair)
    _recycle(folder)


@FUZZ
@example(case=KmlCase("communal_areas", [], []))  # a KML without placemarks: IndexError
@given(case=kml_cases())
def test_kml_files_import_whole_or_are_refused(workspace: Any, case: KmlCase) -> None:
    """KML as people hand-write it: folders, empty points, junk coordinates, markup in the text."""
    store, folder = workspace()
    path, expected = write_kml(case, folder)
    check_import(store, case.kind, path, expected)
    _recycle(folder)


JUNK_TOKENS = list(',;\t"\r\n \x00ab1.-=$x') + [
    "wkt",
    "easting",
    "northing",
    "POINT(531700 179000)",
    "531700",
    "179000",
    "\ufeff",
    "block_id",
    "<kml>",
    "{",
    "}",
    '"type":',
]
JUNK_HEADS = [
    "",
    "block_id,area_type,wkt\r\n",
    "reference,easting,northing\n",
    "block_id,name,x,y\n",
    "location\n",
    "block_id;name;lon;lat\r\n",
]
JUNK_SUFFIXES = [
    ".csv",
    ".tsv",
    ".txt",
    ".xlsx",
    ".geojson",
    ".json",
    ".gpkg",
    ".zip",
    ".kml",
    ".shp",
    ".fgb",
    ".geojsonl",
    ".dat",
    "",
]


@FUZZ
@given(
    kind=st.sampled_from(TABLE_KINDS),
    suffix=st.sampled_from(JUNK_SUFFIXES),
    content=st.one_of(
        st.binary(max_size=300),
        st.tuples(
            st.sampled_from(JUNK_HEADS), st.lists(st.sampled_from(JUNK_TOKENS), max_size=60)
        ).map(lambda t: (t[0] + "".join(t[1])).encode("utf-8")),
    ),
)
def test_any_bytes_are_refused_or_accounted_for(
    workspace: Any, kind: str, suffix: str, content: bytes
) -> None:
    """Whatever the bytes and whatever the extension, the answer is a sentence or an accounted
    import."""
    store, folder = workspace()
    path = folder / f"junk{suffix}"
    path.write_bytes(content)
    check_import(store, kind, path, None)
    _recycle(folder)


# -- the geocoder ----------------------------------------------------------------------------------
LOCATION_WORDS = [
    "Flat",
    "flt",
    "Apt",
    "12",
    "21",
    "2",
    "3a",
    "Perronet",
    "House",
    "Hse",
    "Hayles",
    "Buildings",
    "Bldgs",
    "St",
    "Saint",
    "George's",
    "Georges",
    "Newman",
    "Prospect",
    "Laurie",
    "Wardroper",
    "SE1 6FY",
    "se16fy",
    "SE11 4TB",
    "ZZ9 9ZZ",
    "TQ 318 791",
    "TQ3179",
    "TQ",
    "51.4952, -0.1021",
    "-0.1021 51.4952",
    "E 531700 N 179000",
    "531700 179000",
    "o/s",
    "stairwell",
    "landing",
    "see notes",
    "nr",
    "rear of",
    ",",
    "/",
    "-",
    "&",
    "😀",
    "$",
    "=",
    "Road",
    "Row",
    "Garden",
    "Court",
    "Princess",
]
LOCATION_TEXT = st.one_of(
    st.lists(st.sampled_from(LOCATION_WORDS), max_size=8).flatmap(
        lambda words: st.lists(
            st.sampled_from([" ", ", ", "  ", "\n", "\t", ""]),
            min_size=len(words),
            max_size=len(words),
        ).map(lambda seps: "".join(w + s for w, s in zip(words, seps, strict=True)))
    ),
    TEXT,
    st.none(),
    st.just(math.nan),
    st.integers(),
    st.floats(),
)
COORDINATE_CELL = st.one_of(
    st.none(),
    st.floats(),
    NUMBER_TEXT,
    TEXT,
    base_xy().map(lambda t: t[1]),
    base_xy().map(lambda t: t[2]),
)


@st.composite
def geocode_tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    data: dict[str, list[Any]] = {"location": draw(st.lists(LOCATION_TEXT, min_size=n, max_size=n))}
    for a, b in draw(
        st.lists(
            st.sampled_from(
                [("easting", "northing"), ("lat", "lon"), ("Latitude", "Longitude"), ("x", "y")]
            ),
            max_size=2,
            unique=True,
        )
    ):
        data[a] = draw(st.lists(COORDINATE_CELL, min_size=n, max_size=n))
        data[b] = draw(st.lists(COORDINATE_CELL, min_size=n, max_size=n))
    others = st.lists(
        st.sampled_from(["match_method", "reason", "uprn", "notes"]), max_size=2, unique=True
    )
    for extra in draw(others):
        data[extra] = draw(st.lists(TEXT, min_size=n, max_size=n))
    frame = pd.DataFrame(data)
    if draw(st.booleans()):
        frame.index = draw(
            st.lists(st.integers(-5, 50), min_size=n, max_size=n)
        )  # not 0..n-1, maybe repeated
    return frame


@FUZZ
@example(
    rows=pd.DataFrame({"location": [""], "easting": [51.5], "northing": [531818.0]}),
    use_index=True,
    with_postcodes=False,
    threshold=85.0,
)  # placed at a BNG point off the OSTN15 grid: lat/lon NaN
@given(
    rows=geocode_tables(),
    use_index=st.booleans(),
    with_postcodes=st.booleans(),
    threshold=st.sampled_from([85.0, 0.0, 100.0, 50.5]),
)
def test_geocoder_answers_every_row_once_in_order(
    rows: pd.DataFrame, use_index: bool, with_postcodes: bool, threshold: float
) -> None:
    """Any location text, coordinates of any type and sense: never an exception, one answer per
    row on the same index, a method from the documented set, a score from 0 to 100, placed rows
    in GB."""
    STATS["cases"] += 1
    original = rows.copy()
    try:
        out = geocode(
            rows,
            GAZETTEER_INDEX if use_index else GAZETTEER,
            POSTCODES if with_postcodes else None,
            threshold=threshold,
        )
    except Exception as exc:
        _crash(exc)
        raise
    STATS["geocoded_rows"] += len(rows)
    STATS["rows_unaccounted"] += abs(len(out) - len(rows))
    assert len(out) == len(rows) and list(out.index) == list(rows.index)
    pd.testing.assert_frame_equal(rows, original)  # the input is untouched
    kept = [
        c
        for c in rows.columns
        if c
        not in (
            "easting",
            "northing",
            "lat",
            "lon",
            "match_method",
            "match_score",
            "matched_address",
            "uprn",
            "reason",
            "needs_review",
        )
    ]
    pd.testing.assert_frame_equal(out[kept], rows[kept])
    method = out["match_method"].tolist()
    assert set(method) <= set(MATCH_METHODS), set(method) - set(MATCH_METHODS)
    score = out["match_score"].to_numpy(dtype="float64")
    assert np.isfinite(score).all() and (score >= 0).all() and (score <= 100).all(), score
    placed = out["match_method"].ne("none").to_numpy()
    e, n = out["easting"].to_numpy(dtype="float64"), out["northing"].to_numpy(dtype="float64")
    assert np.isfinite(e[placed]).all() and np.isfinite(n[placed]).all()
    assert in_bng_range(e[placed], n[placed]).all(), list(zip(e[placed], n[placed], strict=True))
    lat = out["lat"].to_numpy(dtype="float64")
    assert np.isfinite(lat[placed]).all(), (
        f"placed without latitude/longitude: {list(zip(e[placed], n[placed], strict=True))}"
    )
    assert not np.isfinite(e[~placed]).any(), "a row not placed has coordinates"
    assert all(str(r).strip() for r in out["reason"][~placed]), "a row not placed without a reason"
    review = out["needs_review"].to_numpy(
        dtype=bool
    )  # decided on the score before it is rounded to 0.1
    assert not (review & ~placed).any()
    assert (
        review[placed & (score < threshold - 0.05)].all()
        and not review[score >= threshold + 0.05].any()
    )
    uprn = out["uprn"].to_numpy(dtype=object)
    assert all(
        method[i] == "address"
        for i in range(len(out))
        if not pd.isna(uprn[i]) and uprn[i] is not None
    )


# -- the CSV writer --------------------------------------------------------------------------------
def unneutralise(cell: str) -> str:
    """Undo csvio's formula guard: a ``'`` put before text that starts like a formula."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_START) and not _is_number(cell[1:]):
        return cell[1:]
    return cell


CSV_CELL = st.one_of(
    st.text(max_size=20),
    TEXT,
    NUMBER_TEXT,
    st.none(),
    st.integers(),
    st.floats(),
    st.sampled_from(["'", "'=x", "''", "'-1", "\r", "\r\n", '"', ",", "\x00"]),
)


@FUZZ
@given(
    header=st.lists(st.one_of(st.text(max_size=10), TEXT), min_size=1, max_size=5).flatmap(
        lambda h: st.tuples(
            st.just(h), st.lists(st.lists(CSV_CELL, min_size=len(h), max_size=len(h)), max_size=6)
        )
    )
)
def test_csv_writer_round_trips_any_cells(header: tuple[list[str], list[list[Any]]]) -> None:
    """Whatever the cells (CR, LF, quotes, NUL, formula text, numbers), Python's csv module reads
    back exactly what csvio says it wrote, and undoing the formula guard gives the text back."""
    STATS["cases"] += 1
    names, rows = header
    frame = (
        pd.DataFrame(rows, columns=names, dtype=object)
        if rows
        else pd.DataFrame(columns=names, dtype=object)
    )
    try:
        data = csv_bytes(frame)
    except Exception as exc:
        _crash(exc)
        raise
    STATS["csv_cells"] += len(names) * (len(rows) + 1)
    text = data.decode("utf-8")
    back = list(csv.reader(io.StringIO(text, newline="")))
    assert back == [[neutralise(c) for c in names]] + [[neutralise(v) for v in row] for row in rows]
    assert text.endswith("\r\n") and text.count("\r\n") >= len(rows) + 1
    for read, given_cell in zip(
        (c for r in back for c in r), (c for r in [names, *rows] for c in r), strict=True
    ):
        assert not read.startswith(FORMULA_START) or _is_number(read), f"live formula {read!r}"
        if isinstance(given_cell, str) and not given_cell.startswith("'"):
            assert unneutralise(read) == given_cell
    target = Path(tempfile.mkdtemp(prefix="csv-")) / "out.csv"
    try:
        write_csv(frame, target)
        assert target.read_bytes() == data
    finally:
        shutil.rmtree(target.parent, ignore_errors=True)
