"""Before/after evaluation with displacement: the domain reference's worked examples, the warnings,
month-only and date-time data, real police.uk rows against an independent geopandas count, the CLI
in both forms, the page (AppTest) and the chart."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import geopandas as gpd
import shapely
from convertbng.cutil import convert_bng

from closuremap.cli import main
from closuremap.geo.displacement import displacement, odds_ratio, wdq_reading
from closuremap.geo.evaluation import (
    EvaluationError,
    assign_areas,
    evaluate,
    evaluation_areas,
    make_windows,
    parse_month_or_date,
)
from closuremap.layers.coercion import iso_dates
from closuremap.layers.evaluation import boundaries, evaluate_files, evaluate_order
from closuremap.layers.store import GeoPackageStore
from closuremap.reports.evaluation import chart_png, results_csv
from tests.conftest import DATA, ROOT, TEST_DATA

# closure-powers.md §4: R 120->60, D 80->70, C 1000->950; then Da = 90 and Da = 140.
WORKED = [
    (70, 0.111, 60.0, "some diffusion"),
    (90, -0.259, 40.0, "still a net gain"),
    (140, -1.185, -10.0, "outweighs the gain"),
]


@pytest.mark.parametrize(("da", "wdq", "tne", "words"), WORKED)
def test_worked_examples_of_the_domain_reference(
    da: int, wdq: float, tne: float, words: str
) -> None:
    d = displacement(120, 60, 80, da, 1000, 950)
    assert round(d.sm, 5) == -0.05684
    assert d.wdq is not None and round(d.wdq, 3) == wdq
    assert d.tne is not None and round(d.tne, 3) == tne
    assert d.warnings == ()
    assert words in wdq_reading(d.wdq)


def test_a_success_measure_that_is_not_negative_gives_no_wdq_and_says_why() -> None:
    d = displacement(100, 100, 80, 70, 1000, 1000)  # SM = 0: the target moved with the control
    assert d.sm == 0 and d.wdq is None and d.tne is not None
    assert any("success measure is not negative" in w for w in d.warnings)
    assert displacement(100, 150, 80, 70, 1000, 1000).wdq is None  # target rose


def test_a_control_without_incidents_gives_nothing_rather_than_dividing_by_zero() -> None:
    d = displacement(10, 5, 8, 7, 0, 12)
    assert (d.sm, d.wdq, d.tne) == (None, None, None) and d.warnings


def test_odds_ratio_and_its_interval_follow_the_stated_method() -> None:
    o = odds_ratio(120, 60, 1000, 950)
    expected = (60 * 1000) / (120 * 950)
    se = math.sqrt(1 / 120 + 1 / 60 + 1 / 1000 + 1 / 950)
    assert o.value == pytest.approx(expected)
    assert (o.low, o.high) == pytest.approx(
        (expected * math.exp(-1.959964 * se), expected * math.exp(1.959964 * se))
    )
    assert not o.corrected and o.high < 1 and "unlikely" in o.reading()
    zero = odds_ratio(6, 0, 40, 38)  # a zero cell: 0.5 added to every cell
    assert zero.corrected
    assert zero.value == pytest.approx((0.5 * 40.5) / (6.5 * 38.5))
    assert "may be chance" in odds_ratio(10, 9, 100, 100).reading()


# --------------------------------------------------------------------------- small synthetic areas

TARGET = shapely.box(0, 0, 100, 100)
CONTROL = shapely.box(-1000, -1000, 1100, 1100)


def _incidents(points: list[tuple[float, float, str, str]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"occurred_at": [p[2] for p in points], "category": [p[3] for p in points]},
        geometry=[shapely.Point(p[0], p[1]) for p in points],
        crs=27700,
    )


def test_areas_are_disjoint_and_an_edge_point_counts_once_for_the_target() -> None:
    areas = evaluation_areas(TARGET, CONTROL, buffer_m=50)
    assert list(areas["area"]) == ["target", "buffer", "control"]
    assert areas.geometry.iloc[0].intersection(areas.geometry.iloc[1]).area == pytest.approx(0)
    assert areas.geometry.iloc[1].intersection(areas.geometry.iloc[2]).area == pytest.approx(0)
    assert areas["area_m2"].sum() == pytest.approx(CONTROL.area)
    pts = gpd.GeoSeries(
        [
            shapely.Point(100, 50),
            shapely.Point(150, 50),
            shapely.Point(120, 50),
            shapely.Point(500, 500),
            shapely.Point(5000, 0),
        ],
        crs=27700,
    )
    assert assign_areas(pts, areas).tolist() == ["target", "buffer", "buffer", "control", None]
    with pytest.raises(EvaluationError, match="control area lies wholly inside"):
        evaluation_areas(TARGET, shapely.box(-10, -10, 110, 110), buffer_m=50)


def test_month_only_and_datetime_dates_fall_in_their_windows() -> None:
    assert parse_month_or_date("2024-03", "--start") == date(2024, 3, 1)
    assert parse_month_or_date("2024-03-15", "--start") == date(2024, 3, 15)
    with pytest.raises(EvaluationError, match="YYYY-MM"):
        parse_month_or_date("March", "--start")
    raw = [
        "2024-01",
        "2024-02-10T09:30:00",
        "15/02/2024 23:59",
        "2024-03",
        "2024-04-01T00:00:00",
        "2024-04",
        "not a date",
    ]
    frame = _incidents([(50, 50, iso, "ASB - Nuisance") for iso in iso_dates(pd.Series(raw))])
    aligned = evaluate(
        frame,
        evaluation_areas(TARGET, CONTROL, buffer_m=50),
        make_windows(date(2024, 3, 1), after_months=2),
        min_count=1,
    )
    assert aligned.counts["target"]["before"]["total"] == 3  # Jan (month), 10 Feb, 15 Feb
    assert aligned.counts["target"]["after"]["total"] == 3  # Mar (month), 1 Apr, Apr (month)
    assert aligned.counts["target"]["after"]["asb_nuisance"] == 3
    assert any("no readable date" in w for w in aligned.warnings)
    # a window starting mid-month cannot split police.uk's March: it is left out, and said so
    split = evaluate(
        frame,
        evaluation_areas(TARGET, CONTROL, buffer_m=50),
        make_windows(date(2024, 3, 15), after_months=1),
        min_count=1,
    )
    assert (
        split.counts["target"]["after"]["total"] == 1
    )  # 1 Apr only; the April month runs past 14 Apr
    assert any("month-only" in w for w in split.warnings)


def test_small_counts_warn_and_the_suppressed_table_hides_them() -> None:
    points = [(50, 50, "2024-01-05", "burglary")] * 4 + [(50, 50, "2024-04-05", "burglary")] * 2
    points += [(120, 50, "2024-01-05", "drugs")] * 6 + [(120, 50, "2024-04-05", "drugs")] * 6
    points += [(500, 500, "2024-01-05", "other")] * 30 + [(500, 500, "2024-04-05", "other")] * 30
    result = evaluate(
        _incidents(points),
        evaluation_areas(TARGET, CONTROL, buffer_m=50),
        make_windows(date(2024, 4, 1), after_months=3),
    )
    assert any(w.startswith("small counts") and "target before 4" in w for w in result.warnings)
    table = result.suppressed_table(minimum=5)
    total_target = table[(table["category"] == "All incidents") & (table["area"] == "target")].iloc[
        0
    ]
    assert (total_target["before"], total_target["after"], total_target["change"]) == (
        "<5",
        "<5",
        "-",
    )
    total_buffer = table[(table["category"] == "All incidents") & (table["area"] == "buffer")].iloc[
        0
    ]
    assert (total_buffer["before"], total_buffer["after"], total_buffer["change"]) == (
        "6",
        "6",
        "+0%",
    )
    big = evaluate(
        _incidents(
            [(50, 50, "2024-01-05", "x")] * 40
            + [(50, 50, "2024-04-05", "x")] * 20
            + [(120, 50, "2024-01-05", "x")] * 30
            + [(120, 50, "2024-04-05", "x")] * 30
            + [(500, 500, "2024-01-05", "x")] * 50
            + [(500, 500, "2024-06-20", "x")] * 50
        ),
        evaluation_areas(TARGET, CONTROL, buffer_m=50),
        make_windows(date(2024, 4, 1), after_months=3),
    )
    assert big.warnings == [] and big.wdq is not None


# --------------------------------------------------------------------------- real police.uk rows


def _police_uk_file(tmp_path: Path) -> Path:
    """Genuine Met burglary and BTP street rows for Southwark (tests/data/README.md), one CSV."""
    frames = [
        pd.read_csv(TEST_DATA / "crime" / name, dtype=str)
        for name in (
            "met_street_burglary_southwark_2024-01_to_2024-06.csv",
            "btp_street_southwark_2024-01_to_2024-04.csv",
        )
    ]
    path = tmp_path / "southwark_police_uk.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


# our independent reading of police.uk's crime types onto the app's standard set
_CRIME_TYPES = {
    "Burglary": "burglary",
    "Violence and sexual offences": "violence",
    "Robbery": "violence",
    "Public order": "public_order",
    "Drugs": "drugs",
    "Possession of weapons": "weapons",
    "Criminal damage and arson": "criminal_damage",
}


def test_real_police_uk_counts_agree_with_an_independent_geopandas_count(tmp_path: Path) -> None:
    incidents = _police_uk_file(tmp_path)
    lsoas = gpd.read_file(DATA / "boundaries" / "southwark_lsoa_2021_bgc20m.gpkg")
    target = lsoas[lsoas["LSOA21CD"].isin(["E01003933", "E01032583"])][["geometry"]]
    target.to_file(tmp_path / "target.gpkg")
    boroughs = gpd.read_file(DATA / "boundaries" / "london_boroughs_2022_selected_bgc20m.gpkg")
    control = boroughs[boroughs["LAD22NM"] == "Southwark"][["geometry"]]
    control.to_file(tmp_path / "control.geojson", driver="GeoJSON")
    result = evaluate_files(
        incidents=incidents,
        target=tmp_path / "target.gpkg",
        control=tmp_path / "control.geojson",
        start=parse_month_or_date("2024-03", "--start"),
        buffer_m=300.0,
        after_months=2,
    )

    # the same counts by hand: OSTN15 points, areas by overlay, within by sjoin, months as text
    rows = pd.read_csv(incidents, dtype=str)
    e, n = convert_bng(
        rows["Longitude"].astype(float).tolist(), rows["Latitude"].astype(float).tolist()
    )
    points = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(e, n), crs=27700)
    t = gpd.GeoDataFrame(geometry=[target.union_all()], crs=27700)
    ring = gpd.GeoDataFrame(geometry=t.buffer(300.0), crs=27700).overlay(t, how="difference")
    rest = control.to_crs(27700).overlay(t, how="difference").overlay(ring, how="difference")
    period = points["Month"].map(
        lambda m: (
            "before"
            if m in ("2024-01", "2024-02")
            else "after"
            if m in ("2024-03", "2024-04")
            else None
        )
    )
    for name, area in (("target", t), ("buffer", ring), ("control", rest)):
        inside = gpd.sjoin(points, area[["geometry"]], predicate="within", how="inner")
        inside = inside[~inside.index.duplicated()]
        for p in ("before", "after"):
            mine = inside[period.loc[inside.index] == p]
            cell = result.counts[name][p]
            assert cell["total"] == len(mine), (name, p)
            for crime_type, code in _CRIME_TYPES.items():
                if code not in ("violence",):
                    assert cell[code] == int((mine["Crime type"] == crime_type).sum()), (
                        name,
                        p,
                        code,
                    )
            assert cell["violence"] == int(
                mine["Crime type"].isin(["Violence and sexual offences", "Robbery"]).sum()
            )
    assert (
        result.counts["target"]["before"]["total"] > 20
        and result.counts["control"]["after"]["total"] > 100
    )
    assert not any("month-only" in w for w in result.warnings)  # windows start on the 1st


# ---------------------------------------------------------------------- workspace, CLI, page, chart


def test_evaluate_order_on_the_sample_finds_the_built_in_effect(
    sample_store: GeoPackageStore,
) -> None:
    result = evaluate_order(sample_store, "ORD-001", start=date(2024, 7, 1), after_months=3)
    assert result.windows.before.start == date(2024, 4, 1)
    assert result.change_pct["target"] is not None and result.change_pct["target"] < -30
    assert result.wdq is not None and result.odds.high is not None and result.odds.high < 1
    assert [e for e, _ in result.events] == ["ORD-001 notice", "ORD-001 order"]
    assert "St George's" in result.control_name
    data = json.loads(json.dumps(result.as_dict()))
    assert data["counts"]["target"]["after"]["total"] == result.counts["target"]["after"]["total"]


def test_cli_json_keys_in_both_forms(
    sample_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = {"counts", "change_pct", "wdq", "tne", "reading", "warnings"}
    assert (
        main(
            [
                "evaluate",
                str(sample_path),
                "--order",
                "ORD-001",
                "--json",
                "--png",
                str(tmp_path / "c.png"),
            ]
        )
        == 0
    )
    ws = json.loads(capsys.readouterr().out)
    assert keys <= set(ws)
    assert set(ws["counts"]) == {"target", "buffer", "control"}
    assert set(ws["counts"]["target"]) == {"before", "after"}
    assert (
        "total" in ws["counts"]["target"]["before"]
        and "asb_nuisance" in ws["counts"]["target"]["before"]
    )
    assert ws["windows"]["after"]["start"] == "2024-06-30"  # the order's date
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    incidents = _police_uk_file(tmp_path)
    boundaries("lsoas").query("code == 'E01003933'").to_file(
        tmp_path / "t.geojson", driver="GeoJSON"
    )
    boundaries("boroughs").query("name == 'Southwark'").to_file(tmp_path / "c.gpkg")
    argv = [
        "evaluate",
        "--incidents",
        str(incidents),
        "--target",
        str(tmp_path / "t.geojson"),
        "--buffer-m",
        "250",
        "--control",
        str(tmp_path / "c.gpkg"),
        "--start",
        "2024-04",
        "--before-months",
        "3",
        "--after-months",
        "3",
        "--category-column",
        "Crime type",
        "--json",
    ]
    assert main(argv) == 0
    files = json.loads(capsys.readouterr().out)
    assert keys <= set(files)
    assert files["windows"]["before"] == {"start": "2024-01-01", "end": "2024-03-31"}
    assert files["counts"]["target"]["before"]["burglary"] > 0
    assert (
        main(["evaluate", "--incidents", str(incidents), "--start", "2024-04", "--json"]) == 2
    )  # no target


def test_csv_reads_back_and_the_chart_is_a_png(sample_store: GeoPackageStore) -> None:
    result = evaluate_order(sample_store, "ORD-001")
    result.title = "Cost $5 and $6 {\\frac"  # would break mathtext unescaped
    png = chart_png(result)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    text = results_csv(result).decode("utf-8-sig")
    assert "wdq" in text and "All incidents" in text
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    assert dict(r for r in rows if len(r) == 2)["title"] == "Cost $5 and $6 {\\frac"


def test_evaluation_page_shows_the_wdq(
    sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Ann Example (4321)")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/evaluation.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    expected = evaluate_order(sample_store, "ORD-001")
    assert metrics["WDQ"] == f"{expected.wdq:+.3f}"
    assert metrics["TNE"] == f"{expected.tne:+.1f}"
    assert len(at.get("image")) == 1
    assert [b.proto.label for b in at.get("download_button")] == ["Results (CSV)", "Chart (PNG)"]
