"""Every real police.uk file in tests/data/crime imports with counts that add up (copied unchanged
from shared/data/real/crime; see its README for sources and licences: OGL v3.0)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from closuremap.layers.importer import import_file
from closuremap.layers.store import GeoPackageStore
from tests.conftest import TEST_DATA

CRIME = TEST_DATA / "crime"
FILES = sorted(CRIME.glob("*.csv"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_all_seven_files_are_here() -> None:
    assert len(FILES) == 7


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_counts_add_up(store: GeoPackageStore, tmp_path: Path, path: Path) -> None:
    rows = _rows(path)
    result = import_file(store, "incidents", path, user="t", rejects_path=tmp_path / "rej.csv")
    assert result.read == len(rows)
    assert (
        result.read
        == result.imported + len(result.rejected)
        == store.count("incidents") + len(result.rejected)
    )
    frame = store.read("incidents")
    assert set(frame["source"]) <= {"police.uk"} and set(frame["precision"]) <= {"street"}
    if "Longitude" in rows[0]:
        no_location = sum(1 for r in rows if not r["Longitude"].strip())
        assert (
            len(result.rejected) == no_location
        )  # police.uk's "No location" rows, each kept with its reason
        if no_location:
            assert set(result.rejected["reason"]) == {"no coordinates in 'Longitude'/'Latitude'"}


def test_the_api_format_has_its_location_dict_read(store: GeoPackageStore) -> None:
    path = CRIME / "police_api_street_crimes_barnet_area_2024-04_raw.csv"
    result = import_file(store, "incidents", path, user="t")
    assert result.imported == 5537 and not len(result.rejected)
    frame = store.read("incidents")
    # the street names came out of the dict: "On or near …", or a BTP station name
    assert (
        frame["location_text"].str.startswith("On or near")
        | frame["location_text"].str.contains("station", case=False)
    ).all()
    assert (frame["category_original"] == "anti-social-behaviour").sum() == 1271
    assert (frame["category"] == "asb_nuisance").sum() >= 1271
    # around Barnet (the API polygon reaches into its neighbours): every point lands there, in m
    minx, miny, maxx, maxy = frame.total_bounds
    assert minx > 515_000 and maxx < 535_000 and miny > 183_000 and maxy < 201_000
