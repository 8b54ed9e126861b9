"""Small faults found where features meet, each pinned by a test that failed before its fix."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.scope import check_scope
from closuremap.geo.timeline import timeline
from closuremap.layers.importer import file_columns
from closuremap.layers.store import GeoPackageStore
from tests.test_cli import run


def test_a_notice_of_unusual_length_is_not_accepted_silently() -> None:
    t = timeline(
        notice_issued=datetime(2025, 3, 1, 9, 0), notice_hours=36, authorised_by="Superintendent"
    )
    assert any("36 hours" in n and "s.77" in n for n in t.notes)
    plain = timeline(
        notice_issued=datetime(2025, 3, 1, 9, 0), notice_hours=24, authorised_by="Inspector"
    )
    assert not any("hours:" in n for n in plain.notes)


def test_timeline_command_says_so_for_36_hours(tmp_path: Path) -> None:
    done = run(
        "timeline",
        "--notice-issued",
        "2025-03-01T09:00",
        "--notice-hours",
        "36",
        "--authorised-by",
        "Superintendent",
    )
    assert done.returncode == 0 and "36 hours" in done.stdout


def test_store_add_takes_dates_and_times_like_update(store: GeoPackageStore) -> None:
    frame = gpd.GeoDataFrame(
        {
            "order_id": ["B1"],
            "occurred_at": [pd.Timestamp("2025-02-10 02:00")],
            "description": ["x"],
        },
        geometry=[shapely.Point(531790, 179105)],
        crs=BNG,
    )
    fid = store.add("breaches", frame, user="t")[0]
    assert (
        store.read("breaches").set_index("feature_id").loc[fid, "occurred_at"]
        == "2025-02-10T02:00:00"
    )
    dates = gpd.GeoDataFrame(
        {"order_id": ["O1"], "name": ["n"], "order_made_on": [date(2025, 3, 1)]},
        geometry=[shapely.box(0, 0, 10, 10)],
        crs=BNG,
    )
    fid = store.add("orders", dates, user="t")[0]
    assert store.read("orders").set_index("feature_id").loc[fid, "order_made_on"] == "2025-03-01"


def test_a_scope_on_an_unmapped_road_is_not_called_open_space() -> None:
    block = gpd.GeoDataFrame(
        {"block_id": ["B"], "name": ["Block"]}, geometry=[shapely.box(0, 0, 20, 20)], crs=BNG
    )
    park = gpd.GeoDataFrame({"name": ["Park"]}, geometry=[shapely.box(100, 100, 200, 200)], crs=BNG)
    road = shapely.box(40, 0, 60, 100)
    result = check_scope(road, premises=block, open_space=park)
    assert result.as_dict()["open_space_area_m2"] == 0
    assert result.verdict == "not_premises"
    assert (
        check_scope(shapely.box(120, 120, 150, 150), premises=block, open_space=park).verdict
        == "open_space"
    )


def test_service_pack_for_an_order_without_blocks_is_a_sentence(
    sample_path: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws.gpkg"
    ws.write_bytes(sample_path.read_bytes())
    store = GeoPackageStore(ws)
    far = gpd.GeoDataFrame(
        {"order_id": ["FAR"], "name": ["Nowhere"]},
        geometry=[shapely.box(500000, 150000, 500010, 150010)],
        crs=BNG,
    )
    store.add("orders", far, user="t")
    done = run("service-pack", ws, "--order", "FAR", "--out", tmp_path / "p.pdf")
    assert (
        done.returncode == 2 and "covers no block" in done.stderr and "Traceback" not in done.stderr
    )


def test_the_mapping_panel_shows_the_coordinate_columns_the_reader_uses(tmp_path: Path) -> None:
    src = tmp_path / "ll.csv"
    src.write_text("ref,when,Latitude,Longitude\nA,2025-01-01,51.49,-0.10\n")
    _, auto = file_columns(src, "incidents")
    assert auto["latitude"] == "Latitude" and auto["longitude"] == "Longitude"
    assert "easting" not in auto


def test_a_busy_workspace_is_a_sentence_after_a_bounded_wait(
    sample_path: Path, tmp_path: Path, monkeypatch
) -> None:  # noqa: ANN001
    import sqlite3
    import time

    import pytest

    from closuremap.geo.errors import WorkspaceError

    ws = tmp_path / "busy.gpkg"
    ws.write_bytes(sample_path.read_bytes())
    writer = sqlite3.connect(ws, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # as an import holds it while storing
    try:
        monkeypatch.setenv("CLOSUREMAP_BUSY_SECONDS", "0.5")
        started = time.perf_counter()
        with pytest.raises(
            WorkspaceError, match="is busy .* try again in a moment|Try again in a moment"
        ):
            GeoPackageStore(ws)
        assert time.perf_counter() - started < 5
        done = run("layers", ws)  # inherits CLOSUREMAP_BUSY_SECONDS
        assert done.returncode == 2 and "busy" in done.stderr and "Traceback" not in done.stderr
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert GeoPackageStore(ws).count("premises") == 7  # free again, nothing lost


def test_numbers_out_of_range_are_a_reason_per_row_not_a_crash(
    store: GeoPackageStore, tmp_path: Path
) -> None:
    from closuremap.layers.importer import import_file

    good = "POLYGON ((531700 179000, 531705 179000, 531705 179005, 531700 179000))"
    src = tmp_path / "areas.csv"
    rows = ["block_id,area_type,floor_from,floor_to,wkt"]
    for floor in ["1", "1e19", "1e20", "inf", "-1e400", "1e400", "3"]:
        rows.append(f'B1,stairwell,{floor},5,"{good}"')
    src.write_text("\n".join(rows) + "\n")
    result = import_file(store, "communal_areas", src, user="t", rejects_path=tmp_path / "r.csv")
    assert result.read == 7 and result.imported == 2 and len(result.rejected) == 5
    assert all("floor_from" in r for r in result.rejected["reason"])
    assert any("outside -10 to 200" in r for r in result.rejected["reason"])


def test_the_attribute_form_refuses_inf_and_1e400_with_a_sentence(
    sample_store: GeoPackageStore,
) -> None:
    import pytest

    from closuremap.geo.errors import WorkspaceError
    from closuremap.layers.editing import typed_attributes

    assert typed_attributes("communal_areas", {"floor_from": "2", "name": "Stair"}) == {
        "floor_from": 2,
        "name": "Stair",
    }
    for bad in ("inf", "1e400", "1e19", "two"):
        with pytest.raises(WorkspaceError, match="floor_from"):
            typed_attributes("communal_areas", {"floor_from": bad})
