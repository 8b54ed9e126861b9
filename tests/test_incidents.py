"""Incidents: standard categories, filters, counts per area, breaches, hot spots."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from closuremap.geo.breach import check_breach, periods
from closuremap.geo.categories import STANDARD, standard_category
from closuremap.geo.crs import BNG
from closuremap.geo.hotspots import HotspotError, HotspotParams, grid, hotspots
from closuremap.geo.incidents import counts_in, filter_incidents, incident_dates
from closuremap.geo.timeline import timeline
from closuremap.layers.importer import import_file
from closuremap.layers.store import GeoPackageStore
from tests.conftest import DATA
from tests.test_cli import run


@pytest.mark.parametrize(
    "text, code",
    [
        ("ASB - Personal", "asb_personal"),
        ("ASB - Nuisance", "asb_nuisance"),
        ("Anti-social behaviour", "asb_nuisance"),
        ("ASB - Environmental", "asb_environmental"),
        ("Public order", "public_order"),
        ("Drugs", "drugs"),
        ("Possession of weapons", "weapons"),
        ("Violence and sexual offences", "violence"),
        ("Burglary", "burglary"),
        ("Criminal damage and arson", "criminal_damage"),
        ("Bicycle theft", "other"),
        (None, "other"),
    ],
)
def test_standard_categories(text: str, code: str) -> None:
    assert standard_category(text) == code and code in STANDARD


def test_police_uk_rows_are_marked_street_precision_with_the_original_kept(
    store: GeoPackageStore,
) -> None:
    import_file(
        store,
        "incidents",
        DATA / "crime" / "police_uk_southwark_estate_2024-01_to_2024-06.csv",
        user="t",
    )
    frame = store.read("incidents")
    assert set(frame["source"]) == {"police.uk"} and set(frame["precision"]) == {"street"}
    assert set(frame["category_original"]) >= {"Burglary"} and set(frame["category"]) <= set(
        STANDARD
    )


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "occurred_at": [
                "2024-01-15T10:00:00",
                "2024-02",
                "2024-03-31T23:59:00",
                None,
                "2024-04-01",
            ],
            "category": ["drugs", "asb_nuisance", "drugs", "violence", "drugs"],
            "source": ["cad", "police.uk", "cad", "cad", "housing"],
            "precision": ["exact", "street", "exact", "exact", None],
        },
        geometry=shapely.points(np.arange(5) + 531700.0, np.full(5, 179000.0)),
        crs=BNG,
    )


def test_incident_dates_take_month_only_as_the_first() -> None:
    d = incident_dates(_frame())
    assert d.iloc[1] == pd.Timestamp("2024-02-01") and pd.isna(d.iloc[3])


def test_date_window_is_inclusive_at_both_ends() -> None:
    f = filter_incidents(_frame(), start=date(2024, 2, 1), end=date(2024, 3, 31))
    assert f["occurred_at"].tolist() == ["2024-02", "2024-03-31T23:59:00"]


def test_category_source_precision_filters() -> None:
    f = _frame()
    assert len(filter_incidents(f, categories=["drugs"])) == 3
    assert len(filter_incidents(f, sources=["cad"])) == 3
    assert len(filter_incidents(f, precisions=["(none)"])) == 1
    assert len(filter_incidents(f, categories=[])) == 0


def test_counts_in_areas() -> None:
    areas = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[
            shapely.box(531699.5, 178999, 531701.5, 179001),
            shapely.box(531800, 179000, 531801, 179001),
        ],
        crs=BNG,
    )
    assert counts_in(areas, _frame()).tolist() == [2, 0]
    assert counts_in(areas, _frame(), reach_m=1.0).tolist() == [3, 0]


class TestBreaches:
    scope = shapely.box(531700, 179000, 531720, 179020)
    t = timeline(
        notice_issued=pd.Timestamp("2024-06-28T09:00").to_pydatetime(),
        notice_served=pd.Timestamp("2024-06-28T11:30").to_pydatetime(),
        notice_hours=48,
        authorised_by="Superintendent",
        order_made=date(2024, 6, 30),
        order_months=3,
    )
    spans = periods(
        t,
        pd.Timestamp("2024-06-28T09:00").to_pydatetime(),
        pd.Timestamp("2024-06-30").to_pydatetime(),
    )

    def test_in_scope_and_in_force(self) -> None:
        r = check_breach(
            shapely.Point(531710, 179010), "2024-08-14T23:10:00", self.scope, self.spans
        )
        assert r.ok and r.in_force == "order"

    def test_during_the_notice(self) -> None:
        r = check_breach(
            shapely.Point(531710, 179010), "2024-06-29T12:00:00", self.scope, self.spans
        )
        assert r.ok and r.in_force == "notice"

    def test_scope_tolerance_boundary(self) -> None:
        inside = check_breach(
            shapely.Point(531720.9, 179010), "2024-08-14T23:10:00", self.scope, self.spans
        )
        outside = check_breach(
            shapely.Point(531721.1, 179010), "2024-08-14T23:10:00", self.scope, self.spans
        )
        assert inside.ok and not outside.ok and "outside the order's scope" in outside.flags[0]

    def test_order_expiry_boundary(self) -> None:
        last = check_breach(
            shapely.Point(531710, 179010), "2024-09-30T23:59:00", self.scope, self.spans
        )
        after = check_breach(
            shapely.Point(531710, 179010), "2024-10-01T00:00:00", self.scope, self.spans
        )
        assert last.ok and not after.ok and "neither the notice nor the order" in after.flags[0]

    def test_month_only_time_cannot_be_judged(self) -> None:
        r = check_breach(shapely.Point(531710, 179010), "2024-08", self.scope, self.spans)
        assert not r.ok and "not exact enough" in r.flags[0]


def test_check_breaches_command_on_the_sample(sample_path: Path) -> None:
    done = run("check-breaches", sample_path, "--json")
    data = json.loads(done.stdout)
    flags = {b["occurred_at"]: b["flags"] for b in data["breaches"]}
    assert data["flagged"] == 2
    assert flags["2024-08-14T23:10:00"] == ""
    assert "outside the order's scope" in flags["2024-09-02T21:40:00"]
    assert "neither the notice nor the order was in force" in flags["2024-11-20T22:05:00"]


class TestHotspots:
    def _cluster(self) -> gpd.GeoSeries:
        rng = np.random.default_rng(3)
        hot = rng.normal([531750, 179050], 6, size=(200, 2))
        background = rng.uniform([531500, 178800], [532000, 179300], size=(100, 2))
        xy = np.vstack([hot, background])
        return gpd.GeoSeries(shapely.points(xy[:, 0], xy[:, 1]), crs=BNG)

    def test_grid_counts_every_point_once(self) -> None:
        pts = self._cluster()
        cells = grid(pts, 25.0)
        assert cells["count"].sum() == len(pts)
        assert np.allclose(cells.area, 625.0)

    def test_the_cluster_is_a_hot_spot_and_density_peaks_there(self) -> None:
        cells = hotspots(
            self._cluster(), HotspotParams(cell_m=25, bandwidth_m=50, permutations=199)
        )
        at = cells[cells.contains(shapely.Point(531751, 179051))].iloc[0]
        assert at["hotspot"] == "hot 99%" and at["z"] > 3
        assert at["density_per_ha"] == pytest.approx(cells["density_per_ha"].max(), rel=0.25)
        far = cells[cells.contains(shapely.Point(531989, 178811))].iloc[0]
        assert not far["hotspot"].startswith("hot")
        assert "bandwidth 50 m" in cells.attrs["params"]

    def test_too_few(self) -> None:
        with pytest.raises(HotspotError, match="too few"):
            hotspots(gpd.GeoSeries(shapely.points([531700] * 3, [179000] * 3), crs=BNG))


def test_hotspot_minimum_is_ten_incidents() -> None:
    rng = np.random.default_rng(5)
    xy = rng.uniform([531700, 179000], [531800, 179100], size=(10, 2))
    ten = gpd.GeoSeries(shapely.points(xy[:, 0], xy[:, 1]), crs=BNG)
    assert len(hotspots(ten, HotspotParams(permutations=99))) > 0  # just inside
    with pytest.raises(HotspotError, match="9 incidents are too few"):
        hotspots(ten.iloc[:9], HotspotParams(permutations=99))  # just outside
