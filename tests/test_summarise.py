"""Incidents per area (`closuremap summarise`): counts cell for cell against geopandas sjoin +
groupby with the boundary rule applied in plain pandas, on a grid with points on its edges and
corners, overlapping areas and a hole; the same counts from WGS84 files as from BNG ones; the date
window; real police.uk rows in real ONS LSOAs (data/boundaries, tests/data/crime: OGL v3.0); the
command line in its file and workspace forms; and the mistakes a user can make, each one line,
exit 2."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely
from convertbng.cutil import convert_bng

import closuremap.geo.summarise as gs
from closuremap.cli import main
from closuremap.geo.area_ids import guess_id_columns
from closuremap.geo.categories import STANDARD
from closuremap.geo.crs import BNG, bng_to_lonlat, geometries_to_lonlat
from closuremap.geo.summarise import BOUNDARY_RULE, summarise
from closuremap.geo.summarise_window import SummariseError, window_mask
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.summarise import summarise_to_csv
from tests.conftest import DATA, TEST_DATA
from tests.test_cli import run

E0, N0 = 530000.0, 180000.0
CELL = 100.0
CATS = ["burglary", "drugs", "violence", "asb_nuisance"]


def grid_areas(seed: int = 7) -> gpd.GeoDataFrame:
    """A 10 x 10 grid of 100 m squares in a shuffled order (so "first in the areas' order" is not
    "lowest easting"), two squares overlapping the grid, and a square with a hole whose island is
    another area."""
    rng = np.random.default_rng(seed)
    cells = [(i, j) for i in range(10) for j in range(10)]
    order = rng.permutation(len(cells))
    geoms = [
        shapely.box(E0 + i * CELL, N0 + j * CELL, E0 + (i + 1) * CELL, N0 + (j + 1) * CELL)
        for i, j in (cells[k] for k in order)
    ]
    codes = [f"G{cells[k][0]}{cells[k][1]}" for k in order]
    geoms += [
        shapely.box(E0 + 150, N0 + 150, E0 + 420, N0 + 380),
        shapely.box(E0 + 600, N0 + 50, E0 + 950, N0 + 250),
    ]
    codes += ["OVER1", "OVER2"]
    outer, inner = (
        shapely.box(E0 + 1100, N0, E0 + 1300, N0 + 200),
        shapely.box(E0 + 1150, N0 + 50, E0 + 1250, N0 + 150),
    )
    geoms += [outer.difference(inner), inner]
    codes += ["DONUT", "ISLAND"]
    return gpd.GeoDataFrame(
        {"code": codes, "name": [f"Area {c}" for c in codes]}, geometry=geoms, crs=BNG
    )


def grid_points(n_random: int = 3000, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Random points over and around the grid, and points exactly on its edges and corners, on the
    overlapping squares' edges and on the hole's edge (coordinates exact in binary)."""
    rng = np.random.default_rng(seed)
    xy = [
        np.column_stack(
            [E0 - 50 + rng.random(n_random) * 1400, N0 - 50 + rng.random(n_random) * 1100]
        )
    ]
    k = 300
    xy.append(
        np.column_stack([E0 + CELL * rng.integers(0, 11, k), N0 + rng.integers(0, 2000, k) * 0.5])
    )  # verticals
    xy.append(
        np.column_stack([E0 + rng.integers(0, 2000, k) * 0.5, N0 + CELL * rng.integers(0, 11, k)])
    )  # horizontals
    xy.append(
        np.column_stack(
            [E0 + CELL * rng.integers(0, 11, 120), N0 + CELL * rng.integers(0, 11, 120)]
        )
    )  # corners
    xy.append(
        np.column_stack([np.full(60, E0 + 150), N0 + 150 + rng.integers(0, 460, 60) * 0.5])
    )  # OVER1's edge
    xy.append(
        np.column_stack([E0 + 1150 + rng.integers(0, 200, 60) * 0.5, np.full(60, N0 + 50)])
    )  # the hole's edge
    pts = np.vstack(xy)
    cats = rng.choice(CATS, len(pts))
    return shapely.points(pts), cats


def expected_by_sjoin(
    points: np.ndarray, cats: np.ndarray, areas: gpd.GeoDataFrame
) -> tuple[pd.DataFrame, int]:
    """The same counts from geopandas: sjoin 'within' for points inside areas (each counted in every
    area it is inside), sjoin 'intersects' for the rest, each given to the first area it touches in
    the areas' order (the documented rule, in plain pandas)."""
    frame = gpd.GeoDataFrame({"category": cats}, geometry=list(points), crs=BNG)
    areas = areas.reset_index(drop=True)
    within = gpd.sjoin(frame, areas, predicate="within")[["index_right"]]
    touching = gpd.sjoin(frame, areas, predicate="intersects")[["index_right"]]
    edge_only = touching[~touching.index.isin(within.index)]
    first = edge_only.groupby(level=0)["index_right"].min().to_frame()
    hits = pd.concat([within, first])
    hits["category"] = frame.loc[hits.index, "category"].to_numpy()
    table = (
        hits.groupby(["index_right", "category"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=range(len(areas)), columns=sorted(set(cats)), fill_value=0)
    )
    table.insert(0, "total", table.sum(axis=1))
    return table.reset_index(drop=True), len(frame) - hits.index.nunique()


@pytest.mark.parametrize("prepared_areas", [False, True], ids=["index-areas", "index-points"])
def test_counts_equal_sjoin_groupby_with_the_boundary_rule(
    prepared_areas: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if prepared_areas:  # both ways of querying the index give the same pairs
        monkeypatch.setattr(gs, "PREPARED_AREAS_FROM_VERTICES", 0)
    areas = grid_areas()
    points, cats = grid_points()
    result = summarise(points, areas, ["code", "name"], categories=cats)
    expected, outside = expected_by_sjoin(points, cats, areas)
    assert list(result.table.columns) == ["code", "name", "total", *sorted(CATS)]
    assert list(result.table["code"]) == list(
        areas["code"]
    )  # one row per area, in the areas' order
    pd.testing.assert_frame_equal(
        result.table[["total", *sorted(CATS)]], expected, check_dtype=False, check_names=False
    )
    assert result.outside == outside > 0
    assert result.counted + result.outside == result.incidents == len(points)
    # the data exercise every rule: shared edges and corners, overlaps, the hole's edge
    assert result.on_shared_boundary > 300 and result.in_several > 100
    touching = gpd.sjoin(
        gpd.GeoDataFrame(geometry=list(points), crs=BNG), areas, predicate="intersects"
    )
    assert len(touching) > result.table["total"].sum()  # a naive intersects join would double count
    assert result.table["total"].sum() == result.counted + sum(
        n - 1
        for n in gpd.sjoin(
            gpd.GeoDataFrame(geometry=list(points), crs=BNG), areas, predicate="within"
        ).index.value_counts()
        if n > 1
    )


def test_an_edge_point_goes_to_the_first_area_in_the_files_order() -> None:
    a, b = shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)
    over = shapely.box(5, 0, 15, 10)
    pts = shapely.points(
        [[5, 5], [10, 5], [10, 10], [30, 5]]
    )  # inside A, A|B edge, A|B corner, outside
    for geoms, ids, want in (([a, b], ["A", "B"], [3, 0]), ([b, a], ["B", "A"], [2, 1])):
        areas = gpd.GeoDataFrame({"id": ids}, geometry=geoms, crs=BNG)
        s = summarise(pts, areas, ["id"])
        assert s.table["total"].tolist() == want and s.outside == 1 and s.on_shared_boundary == 2
    # inside B and on A's edge: counted in B only; inside A and the overlap square: counted in both
    areas = gpd.GeoDataFrame({"id": ["A", "B", "O"]}, geometry=[a, b, over], crs=BNG)
    s = summarise(shapely.points([[10, 5], [7, 5], [12, 5]]), areas, ["id"])
    assert s.table["total"].tolist() == [1, 1, 3] and s.in_several == 2 and s.counted == 3
    assert "first area it touches in the areas' file order" in BOUNDARY_RULE


def test_no_points_and_points_without_a_location() -> None:
    areas = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(0, 0, 10, 10)], crs=BNG)
    s = summarise(
        np.array([], dtype=object), areas, ["id"], categories=[], category_columns=["drugs"]
    )
    assert s.table.to_dict("list") == {"id": ["A"], "total": [0], "drugs": [0]} and s.counted == 0
    s = summarise(np.array([shapely.Point(5, 5), None], dtype=object), areas, ["id"])
    assert (s.unplaced, s.counted, s.outside) == (1, 1, 0)
    with pytest.raises(SummariseError, match="must be points"):
        summarise(np.array([shapely.box(1, 1, 2, 2)], dtype=object), areas, ["id"])
    with pytest.raises(SummariseError, match="clash"):
        summarise(np.array([], dtype=object), areas.assign(total=1), ["total"])


def test_id_columns_are_guessed_from_real_boundary_files() -> None:
    wards = ["FID", "WD24CD", "WD24NM", "WD24NMW", "BNG_E", "LAD22CD", "GlobalID"]
    assert guess_id_columns(wards) == ["WD24CD", "WD24NM"]
    assert guess_id_columns(["LSOA21CD", "LSOA21NM", "MSOA21CD", "MSOA21NM"]) == [
        "LSOA21CD",
        "LSOA21NM",
    ]
    assert guess_id_columns(["ONSWardCode", "WardName"]) == ["ONSWardCode", "WardName"]
    assert guess_id_columns(["beat_id", "sector"]) == ["beat_id"]
    assert guess_id_columns(["OBJECTID", "Shape_Area", "Beat"]) == ["Beat"]
    assert guess_id_columns(["OBJECTID", "Shape_Area", "colour"]) == []


# -- files in any CRS ------------------------------------------------------------------------------
def away_from_edges(points: np.ndarray, areas: gpd.GeoDataFrame, metres: float = 1.0) -> np.ndarray:
    edges = shapely.union_all(shapely.boundary(areas.geometry.values))
    return points[~shapely.dwithin(edges, points, metres)]


def write_pair(
    tmp_path: Path, areas: gpd.GeoDataFrame, points: np.ndarray, cats: np.ndarray, months: list[str]
) -> dict[str, Path]:
    """The same areas and incidents as WGS84 GeoJSON + lon/lat CSV, and BNG GeoPackage + E/N CSV."""
    lon, lat = bng_to_lonlat(shapely.get_x(points), shapely.get_y(points))
    common = {"Crime type": cats, "Month": months}
    paths = {
        "areas_wgs84": tmp_path / "areas.geojson",
        "areas_bng": tmp_path / "areas.gpkg",
        "incidents_wgs84": tmp_path / "incidents_lonlat.csv",
        "incidents_bng": tmp_path / "incidents_en.csv",
    }
    gpd.GeoDataFrame(
        areas.drop(columns="geometry"),
        geometry=list(geometries_to_lonlat(areas.geometry.values)),
        crs="EPSG:4326",
    ).to_file(paths["areas_wgs84"])
    areas.to_file(paths["areas_bng"])
    pd.DataFrame({"Longitude": lon, "Latitude": lat, **common}).to_csv(
        paths["incidents_wgs84"], index=False
    )
    pd.DataFrame(
        {"Easting": shapely.get_x(points), "Northing": shapely.get_y(points), **common}
    ).to_csv(paths["incidents_bng"], index=False)
    return paths


def test_wgs84_files_give_the_same_counts_as_bng_files(tmp_path: Path) -> None:
    areas = grid_areas()
    raw, _ = grid_points(2000)
    points = away_from_edges(
        raw, areas
    )  # a round trip through degrees moves a point by under a millimetre
    rng = np.random.default_rng(3)
    cats = rng.choice(
        ["Burglary", "Drugs", "Violence and sexual offences", "Anti-social behaviour"], len(points)
    )
    paths = write_pair(tmp_path, areas, points, cats, ["2024-04"] * len(points))
    lonlat = summarise_to_csv(
        tmp_path / "a.csv", areas=paths["areas_wgs84"], incidents=paths["incidents_wgs84"]
    )
    bng = summarise_to_csv(
        tmp_path / "b.csv", areas=paths["areas_bng"], incidents=paths["incidents_bng"]
    )
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (
        lonlat.summary.counted == bng.summary.counted
        and lonlat.summary.outside == bng.summary.outside
    )
    assert lonlat.summary.id_columns == ("code", "name") and lonlat.id_columns_guessed
    assert list(lonlat.summary.table.columns) == ["code", "name", "total", *sorted(STANDARD)]
    assert lonlat.category_map == {
        "Anti-social behaviour": "asb_nuisance",
        "Burglary": "burglary",
        "Drugs": "drugs",
        "Violence and sexual offences": "violence",
    }
    # and both equal the pure count on the original BNG points, standard categories
    direct = summarise(
        points, areas, ["code", "name"], categories=pd.Series(cats).map(lonlat.category_map)
    )
    for column in ["total", "burglary", "drugs", "violence", "asb_nuisance"]:
        assert lonlat.summary.table[column].tolist() == direct.table[column].tolist()


# -- the date window -------------------------------------------------------------------------------
def test_window_days_inclusive_months_whole_undated_counted() -> None:
    dates = [
        "2024-03-31T23:59:00",
        "2024-04-01",
        "2024-04-30T23:59:59",
        "2024-05-01T00:00:00",
        "2024-04",
        "2024-03",
        "2024-05",
        None,
        "",
        "soon",
        "2024-04-15+01:00",
    ]
    mask, why = window_mask(dates, date(2024, 4, 1), date(2024, 4, 30))
    assert mask.tolist() == [
        False,
        True,
        True,
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    assert why == {"out_of_window": 4, "undated": 3, "month_straddling": 0}
    mask, why = window_mask(dates, date(2024, 4, 10), None)
    assert why["month_straddling"] == 1 and mask[4] == False  # noqa: E712 - April is only partly after the 10th
    with pytest.raises(SummariseError, match="after --to"):
        window_mask(dates, date(2024, 5, 1), date(2024, 4, 1))
    timestamps = pd.Series(pd.to_datetime(["2024-04-30 23:00", "2024-05-01 00:00"]))
    assert window_mask(timestamps, None, date(2024, 4, 30))[0].tolist() == [True, False]


def test_window_in_the_counts_and_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    areas = gpd.GeoDataFrame(
        {"beat": ["B1", "B2"]},
        geometry=[
            shapely.box(E0, N0, E0 + 100, N0 + 100),
            shapely.box(E0 + 100, N0, E0 + 200, N0 + 100),
        ],
        crs=BNG,
    )
    pts = shapely.points(
        [[E0 + 50, N0 + 50]] * 4 + [[E0 + 150, N0 + 50]] * 3 + [[E0 + 500, N0 + 50]] * 2
    )
    when = [
        "01/04/2024 09:00",
        "30/04/2024 23:30",
        "31/03/2024 23:59",
        "",
        "15/04/2024 12:00",
        "2024-04-02",
        "01/05/2024 00:00",
        "10/04/2024 10:00",
        "not a date",
    ]
    iso = [
        "2024-04-01T09:00",
        "2024-04-30T23:30",
        "2024-03-31T23:59",
        None,
        "2024-04-15T12:00",
        "2024-04-02",
        "2024-05-01T00:00",
        "2024-04-10T10:00",
        None,
    ]
    s = summarise(
        pts, areas, ["beat"], occurred_at=iso, date_from=date(2024, 4, 1), date_to=date(2024, 4, 30)
    )
    assert s.table["total"].tolist() == [2, 2] and s.outside == 1 and s.in_window == 5
    assert s.incidents == s.in_window + s.out_of_window + s.undated + s.month_straddling == 9
    # the same through files and the command line, dates as a force's CAD export writes them
    areas.to_file(tmp_path / "beats.gpkg")
    pd.DataFrame(
        {
            "easting": shapely.get_x(pts),
            "northing": shapely.get_y(pts),
            "Date": when,
            "incident_type": "ASB - Nuisance",
        }
    ).to_csv(tmp_path / "cad.csv", index=False)
    code = main(
        [
            "summarise",
            "--incidents",
            str(tmp_path / "cad.csv"),
            "--areas",
            str(tmp_path / "beats.gpkg"),
            "--out",
            str(tmp_path / "out.csv"),
            "--from",
            "2024-04-01",
            "--to",
            "2024-04-30",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert (data["counted"], data["outside"], data["out_of_window"], data["undated"]) == (
        4,
        1,
        2,
        2,
    )
    assert data["window"] == {"from": "2024-04-01", "to": "2024-04-30"}
    assert data["id_columns"] == ["beat"] and any("date window" in n for n in data["notes"])
    assert pd.read_csv(tmp_path / "out.csv")["asb_nuisance"].tolist() == [2, 2]


# -- real data: police.uk rows in ONS LSOAs, through the command line ------------------------------
BURGLARY = TEST_DATA / "crime" / "met_street_burglary_southwark_2024-01_to_2024-06.csv"
LSOAS = DATA / "boundaries" / "southwark_lsoa_2021_bgc20m.gpkg"


def test_cli_on_real_police_uk_rows_and_lsoas(tmp_path: Path) -> None:
    out = tmp_path / "per_lsoa.csv"
    done = run(
        "summarise",
        "--incidents",
        BURGLARY,
        "--areas",
        LSOAS,
        "--out",
        out,
        "--json",
        "--from",
        "2024-02-01",
        "--to",
        "2024-05-31",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # exactly one JSON document
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header == data["columns"] == ["LSOA21CD", "LSOA21NM", "total", *sorted(STANDARD)]
    assert len(body) == data["areas"] == 173
    assert data["boundary_rule"] == BOUNDARY_RULE and data["out"] == str(out)
    # independently: the police.uk rows of February to May, OSTN15 to BNG, sjoin + groupby
    src = pd.read_csv(BURGLARY)
    src = src[src["Month"].between("2024-02", "2024-05") & src["Longitude"].notna()]
    e, n = convert_bng(src["Longitude"].to_numpy(), src["Latitude"].to_numpy())
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(e, n), crs=BNG)
    lsoas = gpd.read_file(LSOAS)
    joined = gpd.sjoin(pts, lsoas, predicate="intersects")
    assert not joined.index.duplicated().any()  # no point on an edge here: the rule is not needed
    expected = joined.groupby("LSOA21CD").size().reindex(lsoas["LSOA21CD"], fill_value=0)
    assert [int(r[2]) for r in body] == expected.tolist()
    assert [r[0] for r in body] == lsoas["LSOA21CD"].tolist()
    assert data["counted"] == len(joined) and data["outside"] == len(src) - len(joined)
    assert data["incidents"] == len(pd.read_csv(BURGLARY).dropna(subset=["Longitude"]))
    assert sum(int(r[header.index("burglary")]) for r in body) == data["counted"]
    assert data["category_map"] == {"Burglary": "burglary"}
    # police.uk's own LSOA for each row (from the true location, not the snap point) mostly agrees
    theirs = src["LSOA code"].value_counts().reindex(lsoas["LSOA21CD"], fill_value=0)
    assert np.minimum(theirs.to_numpy(), expected.to_numpy()).sum() >= 0.9 * len(src)


def test_text_output_says_the_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wards = DATA / "boundaries" / "wards_2024_barnet_southwark.geojson"
    assert (
        main(
            [
                "summarise",
                "--incidents",
                str(BURGLARY),
                "--areas",
                str(wards),
                "--out",
                str(tmp_path / "w.csv"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "47 areas" in text and "boundary rule:" in text and "overlap rule:" in text
    assert "area ids: WD24CD, WD24NM" in text  # said which columns were used


# -- mistakes --------------------------------------------------------------------------------------
def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    areas = grid_areas().iloc[:3]
    with_point = gpd.GeoDataFrame(
        {"code": ["A", "B"]}, geometry=[areas.geometry.iloc[0], shapely.Point(E0, N0)], crs=BNG
    )
    with_point.to_file(tmp_path / "mixed.geojson")
    areas.to_file(tmp_path / "areas.gpkg")
    pd.DataFrame({"Crime type": ["Drugs"], "Street": ["High St"]}).to_csv(
        tmp_path / "nocoords.csv", index=False
    )
    pd.DataFrame({"easting": [E0 + 5], "northing": [N0 + 5]}).to_csv(
        tmp_path / "inc.csv", index=False
    )
    base = ["summarise", "--out", str(tmp_path / "o.csv")]
    inc, good = (
        ["--incidents", str(tmp_path / "inc.csv")],
        ["--areas", str(tmp_path / "areas.gpkg")],
    )
    return {
        "point in areas": (
            base + inc + ["--areas", str(tmp_path / "mixed.geojson")],
            "feature 2 (code B) is a Point, not a polygon",
        ),
        "missing id column": (
            base + inc + good + ["--id-column", "LSOA21CD"],
            "no column 'LSOA21CD' for --id-column; the columns are code, name",
        ),
        "no coordinates": (
            base + good + ["--incidents", str(tmp_path / "nocoords.csv")],
            "no coordinate columns found",
        ),
        "bad date": (
            base + inc + good + ["--from", "1/4/2024"],
            "--from '1/4/2024' is not a date: use YYYY-MM-DD",
        ),
        "no dates for a window": (base + inc + good + ["--to", "2024-04-30"], "no date column"),
        "kind without workspace": (base + inc + ["--areas", "blocks"], "names a workspace layer"),
        "no incidents": (base + good, "give the incidents"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "point in areas",
        "missing id column",
        "no coordinates",
        "bad date",
        "no dates for a window",
        "kind without workspace",
        "no incidents",
    ],
)
def test_mistakes_are_one_line_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, words = _bad_inputs(tmp_path)[case]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("[")]  # progress lines aside
    assert len(lines) == 1 and lines[0].startswith("closuremap: error: ") and words in lines[0], err
    assert not (tmp_path / "o.csv").exists()


def test_a_mistake_through_the_real_command_has_no_traceback(tmp_path: Path) -> None:
    argv, words = _bad_inputs(tmp_path)["point in areas"]
    done = run(*argv[0:], "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert (
        "Traceback" not in done.stderr
        and done.stderr.strip().count("\n") == 0
        and words in done.stderr
    )


# -- the workspace form ----------------------------------------------------------------------------
def test_workspace_incidents_per_block(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    out = tmp_path / "blocks.csv"
    done = run("summarise", sample_store.path, "--areas", "blocks", "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    blocks, incidents = sample_store.read("premises"), sample_store.read("incidents")
    expected, outside = expected_by_sjoin(
        incidents.geometry.values, incidents["category"].to_numpy(), blocks
    )
    table = pd.read_csv(out, dtype={"block_id": str})
    assert table["block_id"].tolist() == blocks["block_id"].tolist() and "name" in table
    assert table["total"].tolist() == expected["total"].tolist() and sum(table["total"]) > 0
    for category in expected.columns.drop("total"):
        assert table[category].tolist() == expected[category].tolist()
    assert data["incidents"] == len(incidents) and data["outside"] == outside
    assert data["areas_source"].endswith("(premises)") and data["id_columns"] == [
        "block_id",
        "name",
    ]
    # the workspace's incidents counted in a file's areas: the LSOAs round the estate
    done = run(
        "summarise",
        sample_store.path,
        "--areas",
        LSOAS,
        "--out",
        tmp_path / "l.csv",
        "--json",
        "--id-column",
        "LSOA21CD",
    )
    data = json.loads(done.stdout)
    assert data["counted"] + data["outside"] == len(incidents) and data["counted"] > 0
    assert pd.read_csv(tmp_path / "l.csv").columns[:2].tolist() == ["LSOA21CD", "total"]


def test_areas_without_ids_are_numbered_and_invalid_ones_reported(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(E0, N0), (E0 + 10, N0 + 10), (E0 + 10, N0), (E0, N0 + 10)])
    gpd.GeoDataFrame(
        {"colour": ["red", "blue"]},
        geometry=[shapely.box(E0 + 20, N0, E0 + 30, N0 + 10), bowtie],
        crs=BNG,
    ).to_file(tmp_path / "areas.gpkg")
    pd.DataFrame(
        {"easting": [E0 + 25, E0 + 25, E0 + 2], "northing": [N0 + 5, N0 + 6, N0 + 5]}
    ).to_csv(tmp_path / "inc.csv", index=False)
    done = summarise_to_csv(
        tmp_path / "o.csv", areas=tmp_path / "areas.gpkg", incidents=tmp_path / "inc.csv"
    )
    assert done.summary.table.to_dict("list") == {"area": [1, 2], "total": [2, 1]}
    notes = " ".join(done.as_dict()["notes"])
    assert "numbered in the 'area' column" in notes and "colour" in notes
    assert "1 area(s) are not valid polygons (e.g. feature 2: Self-intersection" in notes
    assert "no category column" in notes


# -- a CSV streamed in chunks ----------------------------------------------------------------------
def _cad_export(tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    """A CAD-style export over the grid: points on shared edges and corners, rows without
    coordinates, a row that is not a number, a blank row, dates in three forms (some outside the
    window, some unreadable); and the same incidents as WGS84 with some lat/lon pairs swapped."""
    areas = grid_areas()
    points, cats = grid_points(1500)
    n = len(points)
    rng = np.random.default_rng(5)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D")
    when = np.array(days.strftime("%d/%m/%Y 10:30"), dtype=object)
    when[::7] = np.array(days.strftime("%Y-%m-%d"))[::7]
    when[::23] = "soon"
    east = shapely.get_x(points).astype(str).astype(object)
    north = shapely.get_y(points).astype(str).astype(object)
    east[3::40], north[3::40] = "", ""  # no coordinates
    east[11::97] = "unknown"  # not a number
    table = pd.DataFrame(
        {
            "Ref": [f"C{i}" for i in range(n)],
            "Date/Time": when,
            "Easting": east,
            "Northing": north,
            "Incident Type": cats,
        }
    )
    table.loc[5, :] = ""  # a blank row
    table.to_csv(tmp_path / "cad.csv", index=False)
    lon, lat = bng_to_lonlat(shapely.get_x(points), shapely.get_y(points))
    lon_text, lat_text = lon.astype(str).astype(object), lat.astype(str).astype(object)
    lon_text[::29], lat_text[::29] = lat_text[::29].copy(), lon_text[::29].copy()  # swapped
    table.assign(Easting=lon_text, Northing=lat_text).rename(
        columns={"Easting": "Longitude", "Northing": "Latitude"}
    ).to_csv(tmp_path / "cad_lonlat.csv", index=False)
    areas.to_file(tmp_path / "grid.gpkg")
    return tmp_path / "cad.csv", tmp_path / "grid.gpkg", table


def _run_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, incidents: Path, areas: Path, **window: date
) -> tuple[dict[str, object], dict[str, object], int]:
    """The summary streamed in chunks of 50 rows and read whole (the importer's reader, as before
    streaming), with how many chunks the streamed one counted."""
    import closuremap.layers.summarise as ls

    monkeypatch.setenv("CLOSUREMAP_CHUNK_ROWS", "50")
    added: list[int] = []
    real_add = gs.AreaCounter.add

    def counting_add(self: gs.AreaCounter, points: object, **kw: object) -> None:
        added.append(len(np.asarray(points)))
        real_add(self, points, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(gs.AreaCounter, "add", counting_add)
    streamed = ls.summarise_to_csv(tmp_path / "s.csv", areas=areas, incidents=incidents, **window)
    chunks = len(added)
    monkeypatch.setattr(ls, "plan_csv", lambda path: None)
    whole = ls.summarise_to_csv(tmp_path / "w.csv", areas=areas, incidents=incidents, **window)
    assert (tmp_path / "s.csv").read_bytes() == (tmp_path / "w.csv").read_bytes()
    drop = {"out"}
    s, w = streamed.as_dict(), whole.as_dict()
    return (
        {k: v for k, v in s.items() if k not in drop},
        {k: v for k, v in w.items() if k not in drop},
        chunks,
    )


def test_a_csv_streamed_in_chunks_counts_as_sjoin_groupby(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incidents, areas, table = _cad_export(tmp_path)
    window = {"date_from": date(2024, 3, 1), "date_to": date(2024, 8, 31)}
    streamed, whole, chunks = _run_both(monkeypatch, tmp_path, incidents, areas, **window)
    assert chunks == -(-len(table) // 50) > 10  # every chunk of 50 rows counted on its own
    assert streamed == whole  # every key, every note, the left-out rows' count and reason
    # independently: pandas reads the file, drops what cannot be placed or dated, sjoin counts
    raw = pd.read_csv(incidents, dtype=str, keep_default_na=False)
    e = pd.to_numeric(raw["Easting"], errors="coerce")
    n = pd.to_numeric(raw["Northing"], errors="coerce")
    placed = e.notna() & n.notna()
    day = pd.to_datetime(raw["Date/Time"], format="%d/%m/%Y %H:%M", errors="coerce").fillna(
        pd.to_datetime(raw["Date/Time"], format="%Y-%m-%d", errors="coerce")
    )
    inside = placed & day.between("2024-03-01", "2024-08-31 23:59")
    points = shapely.points(e[inside], n[inside])
    expected, outside = expected_by_sjoin(
        points, raw["Incident Type"][inside].to_numpy(), gpd.read_file(areas)
    )
    result = pd.read_csv(tmp_path / "s.csv")
    for column in expected.columns:
        assert result[column].tolist() == expected[column].tolist(), column
    assert streamed["outside"] == outside and streamed["counted"] == inside.sum() - outside
    assert streamed["incidents"] == placed.sum() and streamed["in_window"] == inside.sum()
    assert streamed["undated"] == (placed & day.isna()).sum() > 0
    assert streamed["on_shared_boundary"] > 100 and streamed["in_several_areas"] > 10
    notes = " ".join(streamed["notes"])  # type: ignore[arg-type]
    assert (
        f"{(~placed).sum()} of {len(raw)} rows of cad.csv left out (e.g. row 4: no coordinates"
        in notes
    )


def test_swapped_pairs_blank_rows_and_ragged_rows_are_told_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incidents, areas, table = _cad_export(tmp_path)
    lonlat = tmp_path / "cad_lonlat.csv"
    streamed, whole, chunks = _run_both(monkeypatch, tmp_path, lonlat, areas)
    assert streamed == whole and chunks > 10
    notes = " ".join(streamed["notes"])  # type: ignore[arg-type]
    assert "(e.g. row 1: latitude and longitude look swapped" in notes
    swapped = len(range(0, len(table), 29))
    assert streamed["incidents"] == len(table) - swapped  # exactly the swapped pairs left out
    # independently: pandas reads it, the swapped pairs dropped, OSTN15 to BNG, sjoin counts
    raw = pd.read_csv(lonlat, dtype={"Incident Type": str}, keep_default_na=False)
    kept = raw[raw["Longitude"].abs() < 10]
    e, n = convert_bng(kept["Longitude"].to_numpy(), kept["Latitude"].to_numpy())
    expected, outside = expected_by_sjoin(
        shapely.points(e, n),
        kept["Incident Type"].map(streamed["category_map"]).to_numpy(),  # "" is "other"
        gpd.read_file(areas),
    )
    result = pd.read_csv(tmp_path / "s.csv")
    for column in expected.columns:
        assert result[column].tolist() == expected[column].tolist(), column
    assert streamed["outside"] == outside
    # a blank row first, then a row with too few fields: the whole-file reader explains it
    text = incidents.read_text().splitlines()
    (tmp_path / "blank.csv").write_text("\n".join([text[0], ",,,,", *text[1:]]) + "\n")
    streamed, whole, _ = _run_both(monkeypatch, tmp_path, tmp_path / "blank.csv", areas)
    assert streamed == whole and "(e.g. row 1: blank row)" in " ".join(streamed["notes"])  # type: ignore[arg-type]
    (tmp_path / "ragged.csv").write_text("\n".join([*text[:3], "C9,1", *text[3:]]) + "\n")
    streamed, whole, chunks = _run_both(monkeypatch, tmp_path, tmp_path / "ragged.csv", areas)
    assert streamed == whole and chunks == 1  # read whole, as the importer reads it
    assert "(e.g. row 3: has 2 fields where the header has 5; no coordinates" in " ".join(
        streamed["notes"]
    )  # type: ignore[arg-type]


def test_dates_read_in_chunks_as_the_importer_reads_them() -> None:
    import pyarrow as pa

    from closuremap.layers.coercion import iso_dates
    from closuremap.layers.summarise_dates import DateWindow

    cells = [
        "07/04/2024 10:05",
        "31/02/2024 10:00",
        "7/4/2024 9:05",
        "01/04/24 10:00",
        " 30/04/2024 23:59 ",
        "2024-04-15T10:00+01:00",
        "2024-04",
        "2024-03",
        "",
        "NULL",
        "soon",
        "01 Apr 2024",
        "15/04/2024 10:00Z",
        "2024-13-45",
        "01/05/2024 00:00",
    ]
    for window in ((date(2024, 4, 1), date(2024, 4, 30)), (date(2024, 4, 10), None)):
        mask, why = window_mask(iso_dates(pd.Series(cells, dtype=object)), *window)
        assert mask.any() and why["undated"] and why["out_of_window"]  # the cells test something
        whole = DateWindow(*window)(pa.array(cells))
        assert whole[0].tolist() == mask.tolist() and whole[1] == why
        # in two chunks: the first non-ISO date of the file still decides the forms' order
        chunked = DateWindow(*window)
        halves = [chunked(pa.array(cells[:6])), chunked(pa.array(cells[6:]))]
        assert np.concatenate([h[0] for h in halves]).tolist() == mask.tolist()
        assert {k: halves[0][1][k] + halves[1][1][k] for k in why} == why


def test_the_summarise_command_loads_neither_matplotlib_nor_the_order_checks() -> None:
    # counting a million calls should not wait for what only `evaluate` and `check-scope` use;
    # test_letters shows the same check seeing matplotlib when a command does load it
    from tests.test_letters import _heavy_modules_loaded_by

    argv = ["summarise", "--incidents", "c.csv", "--areas", "a.geojson", "--out", "o.csv"]
    assert _heavy_modules_loaded_by(argv) == []
