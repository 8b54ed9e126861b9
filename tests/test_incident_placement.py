"""Incident imports into a workspace that has addresses: each row placed from what it carries,
only rows without coordinates reach the geocoder, and the review queue is the one home of unplaced
rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import shapely

from closuremap.geo.crs import bng_to_lonlat
from closuremap.geo.errors import WorkspaceError
from closuremap.layers.importer import import_file
from closuremap.layers.incident_import import workspace_gazetteer
from closuremap.layers.review import candidates, open_items, resolve
from closuremap.layers.store import GeoPackageStore
from tests.conftest import ROOT

E, N = 531790.5, 179105.2  # on the sample estate


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("header", "cells"),
    [
        ("x,y", f"{E},{N}"),
        ("bng_easting,bng_northing", f"{E},{N}"),
        ("BNG Easting,BNG Northing", f"{E},{N}"),
        ("wkt", f'"POINT ({E} {N})"'),
        ("easting,northing", f"{E},{N}"),
    ],
)
def test_rows_with_coordinates_keep_them_and_only_the_others_are_geocoded(
    sample_store: GeoPackageStore, tmp_path: Path, header: str, cells: str
) -> None:
    blanks = ",".join("" for _ in header.split(","))
    src = _write(
        tmp_path,
        "cad.csv",
        f"ref,when,what,{header},location\n"
        f"K1,01/03/2024 22:10,Drugs,{cells},\n"
        f"K2,02/03/2024 22:10,Drugs,{blanks},Flat 12 Perronet House\n"
        f"K3,03/03/2024 22:10,Drugs,{blanks},see notes\n",
    )
    before = sample_store.count("incidents")
    rejects = tmp_path / "rej.csv"
    result = import_file(sample_store, "incidents", src, user="t", rejects_path=rejects)
    assert (result.read, result.imported, len(result.rejected)) == (3, 2, 1)
    stored = sample_store.read("incidents").iloc[before:].set_index("reference")
    assert stored.geometry["K1"].distance(shapely.Point(E, N)) < 0.001
    assert stored.loc["K1", "precision"] == "exact"
    flat12 = sample_store.read("addresses").set_index("address")
    flat12 = flat12[flat12.index.str.startswith("Flat 12, Perronet House")].geometry.iloc[0]
    assert (
        stored.geometry["K2"].distance(flat12) < 0.01 and stored.loc["K2", "precision"] == "address"
    )
    assert any("1 placed by the offline geocoder, 1 not placed" in n for n in result.notes)
    # the unplaced row waits in the review queue, and only there
    assert "see notes" in set(open_items(sample_store)["location"])
    assert result.queued == 1 and not rejects.exists()


def test_a_latitude_longitude_file_says_so_and_its_rejects_keep_the_original_values(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    lon, lat = bng_to_lonlat([E], [N])
    src = _write(
        tmp_path,
        "ll.csv",
        "ref,when,what,latitude,longitude,location\n"
        f"L1,01/03/2024 22:10,Drugs,{lat[0]:.6f},{lon[0]:.6f},\n"
        "L2,01/03/2024 22:10,Drugs,abc,-0.1,\n",
    )
    rejects = tmp_path / "rej.csv"
    result = import_file(sample_store, "incidents", src, user="t", rejects_path=rejects)
    assert result.imported == 1
    assert any("'longitude'/'latitude' are WGS84" in n for n in result.notes)
    assert not any("easting" in n for n in result.notes)
    back = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert back.loc[0, "latitude"] == "abc" and back.loc[0, "longitude"] == "-0.1"


def test_the_review_queue_lists_low_confidence_matches_before_unplaced_rows(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    src = _write(
        tmp_path,
        "cad.csv",
        'ref,when,what,location\nU1,10/02/2025 02:00,Drugs,"see notes"\n'
        'P1,10/02/2025 03:00,Drugs,"Flat 12 Pernt Hse"\n',
    )
    import_file(sample_store, "incidents", src, user="t", rejects_path=tmp_path / "r.csv")
    items = open_items(sample_store)
    assert items["location"].tolist() == ["Flat 12 Pernt Hse", "see notes"]
    unplaced = items.iloc[1]
    with pytest.raises(WorkspaceError, match="never placed"):
        resolve(sample_store, int(unplaced["id"]), user="rev")
    # placed from the map: the date is read as an import reads it, so date filters keep the incident
    resolve(sample_store, int(unplaced["id"]), user="rev", how="map", point=shapely.Point(E, N))
    placed = sample_store.read("incidents").set_index("reference").loc["U1"]
    assert (
        placed["occurred_at"] == "2025-02-10T02:00:00" and placed["precision"] == "map (reviewed)"
    )


def test_address_suggestions_keep_the_flat_number_and_rank_the_block_by_name(
    sample_store: GeoPackageStore,
) -> None:
    options = candidates("Flat 9 Hales Buildings", workspace_gazetteer(sample_store))
    assert options["address"].iloc[0].startswith("Flat 9, Hayles Buildings")
    assert all(a.startswith("Flat 9,") for a in options["address"])
    assert (
        options["score"].iloc[0] > options["score"].iloc[1] + 20
    )  # other blocks are not "as good"


def test_review_page_offers_no_accept_for_an_unplaced_row_and_keeps_clicks_per_row(
    sample_store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _write(
        tmp_path,
        "cad.csv",
        'ref,when,what,location\nU1,10/02/2025 02:00,Drugs,"see notes"\n'
        'P1,10/02/2025 03:00,Drugs,"Flat 12 Pernt Hse"\n',
    )
    import_file(sample_store, "incidents", src, user="t", rejects_path=tmp_path / "r.csv")
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Rev (9)")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/review.py").run()
    items = open_items(sample_store)
    placed_id, unplaced_id = int(items["id"].iloc[0]), int(items["id"].iloc[1])
    assert at.selectbox(key="review_item").value == placed_id
    assert any(b.key == f"review_accept_{placed_id}" for b in at.button)
    at.session_state[f"review_click_{placed_id}"] = {"lat": 51.4966, "lng": -0.1034}
    at.selectbox(key="review_item").set_value(unplaced_id).run()
    assert not at.exception
    assert not any(b.key and b.key.startswith("review_accept") for b in at.button)
    assert any("was not placed" in i.value for i in at.info)
    assert not any(
        b.key == f"review_place_click_{unplaced_id}" for b in at.button
    )  # no carried-over click
    assert not any("Clicked E" in c.value for c in at.caption)


def test_a_row_placed_by_the_import_is_never_queued_twice(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    src = _write(
        tmp_path, "cad.csv", 'ref,when,what,location\nU1,10/02/2025 02:00,Drugs,"see notes"\n'
    )
    first = import_file(sample_store, "incidents", src, user="t", rejects_path=tmp_path / "r1.csv")
    assert first.queued == 1 and first.rejects_path is None
    assert json.loads(open_items(sample_store)["row_json"].iloc[0])["ref"] == "U1"
