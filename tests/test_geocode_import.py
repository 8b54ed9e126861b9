"""Geocoding where users meet it: `closuremap geocode` and incident imports without coordinates."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from closuremap.layers.importer import import_file
from closuremap.layers.store import GeoPackageStore
from tests.conftest import DATA
from tests.test_cli import run

MESSY = """ref,when,what,location
C1,01/03/2024 22:10,ASB - Nuisance,"o/s Flat 12 Perronet Hse stairwell"
C2,02/03/2024 23:40,Drugs,"flt 21, perronet house"
C3,03/03/2024 01:15,ASB - Personal,"TQ 31870 79120"
C4,04/03/2024 02:00,Criminal damage,"see notes"
C5,05/03/2024 03:30,Violence,"51.4950, -0.1020"
C6,06/03/2024 04:45,ASB - Nuisance,"-0.1021, 51.4951"
"""


def test_an_incident_file_with_only_location_text_is_placed(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    src = tmp_path / "cad.csv"
    src.write_text(MESSY)
    rejects = tmp_path / "rej.csv"
    before = sample_store.count("incidents")
    result = import_file(sample_store, "incidents", src, user="t", rejects_path=rejects)
    assert result.read == 6 and result.imported == 5 and len(result.rejected) == 1
    assert (
        "not placed" in result.rejected["reason"].iloc[0] and result.rejected["ref"].iloc[0] == "C4"
    )
    stored = sample_store.read("incidents").iloc[before:].set_index("reference")
    addresses = sample_store.read("addresses").set_index("address")
    flat12 = next(a for a in addresses.index if a.startswith("Flat 12, Perronet House"))
    flat21 = next(a for a in addresses.index if a.startswith("Flat 21, Perronet House"))
    assert stored.geometry["C1"].distance(addresses.geometry[flat12]) < 0.01
    assert stored.geometry["C2"].distance(addresses.geometry[flat21]) < 0.01
    assert (
        stored.loc["C1", "precision"] == "address" and stored.loc["C3", "precision"] == "grid_ref"
    )
    assert (
        stored.loc["C5", "precision"] == "exact" and stored.loc["C6", "precision"] == "exact"
    )  # swap fixed
    attrs = json.loads(stored.loc["C1", "source_attrs"])
    assert (
        attrs["geocode_uprn"] == str(addresses.loc[flat12, "uprn"])
        and float(attrs["geocode_match_score"]) >= 85
    )
    assert stored.loc["C1", "occurred_at"] == "2024-03-01T22:10:00"


def test_geocode_command_keeps_every_row_in_order(tmp_path: Path) -> None:
    src = tmp_path / "cad.csv"
    src.write_text(MESSY)
    out, rej = tmp_path / "out.csv", tmp_path / "rej.csv"
    done = run(
        "geocode",
        src,
        "--gazetteer",
        DATA / "synthetic" / "addresses.csv",
        "--postcodes",
        DATA / "postcodes" / "codepoint_open_2025-10_southwark_estate_1km.csv",
        "--out",
        out,
        "--rejects",
        rej,
        "--location-column",
        "location",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["ref"].tolist() == ["C1", "C2", "C3", "C4", "C5", "C6"]
    for column in (
        "easting",
        "northing",
        "lat",
        "lon",
        "match_method",
        "match_score",
        "matched_address",
        "uprn",
    ):
        assert column in table.columns
    assert table["match_method"].tolist() == [
        "address",
        "address",
        "grid_ref",
        "none",
        "coordinates",
        "coordinates",
    ]
    rejected = pd.read_csv(rej, dtype=str, keep_default_na=False)
    assert rejected["ref"].tolist() == ["C4"] and rejected["reason"].iloc[0]
    assert data["rows"] == 6 and data["unplaced"] == 1


def test_geocode_command_errors(tmp_path: Path) -> None:
    done = run(
        "geocode",
        tmp_path / "missing.csv",
        "--gazetteer",
        DATA / "synthetic" / "addresses.csv",
        "--out",
        tmp_path / "o.csv",
    )
    assert done.returncode == 2 and "no such file" in done.stderr and "Traceback" not in done.stderr
    bad_gaz = tmp_path / "gaz.csv"
    bad_gaz.write_text("id,text\n1,x\n")
    src = tmp_path / "cad.csv"
    src.write_text(MESSY)
    done = run("geocode", src, "--gazetteer", bad_gaz, "--out", tmp_path / "o.csv")
    assert done.returncode == 2 and "uprn" in done.stderr


def test_review_queue_keeps_unplaced_and_low_confidence_rows(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    import shapely

    from closuremap.layers.importer import workspace_gazetteer
    from closuremap.layers.review import candidates, open_items, resolve

    src = tmp_path / "cad.csv"
    src.write_text(MESSY + 'C7,07/03/2024 05:00,Drugs,"Flat 12 Peronet Hous"\n')
    result = import_file(
        sample_store, "incidents", src, user="t", rejects_path=tmp_path / "rej.csv"
    )
    items = open_items(sample_store)
    assert "C4" in " ".join(items["row_json"]) and "see notes" in set(items["location"])
    unplaced = items[items["feature_id"].isna()].iloc[0]
    options = candidates("Flat 12 Perronet House", workspace_gazetteer(sample_store))
    assert options["address"].iloc[0].startswith("Flat 12, Perronet House")
    before = sample_store.count("incidents")
    resolve(
        sample_store,
        int(unplaced["id"]),
        user="rev",
        how="address",
        point=shapely.Point(options["easting"].iloc[0], options["northing"].iloc[0]),
    )
    assert sample_store.count("incidents") == before + 1
    placed = sample_store.read("incidents").iloc[-1]
    assert placed["precision"] == "address (reviewed)" and placed["reference"] == "C4"
    assert int(unplaced["id"]) not in set(open_items(sample_store)["id"])
    assert result.read == 7
