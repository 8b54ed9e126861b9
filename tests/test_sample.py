"""The bundled sample estate is what data/README.md says it is."""

from __future__ import annotations

import json

import pandas as pd

import shapely

from closuremap.layers.model import KINDS
from closuremap.layers.sample import BLOCKS
from closuremap.layers.store import GeoPackageStore
from tests.conftest import DATA


def test_every_kind_has_features(sample_store: GeoPackageStore) -> None:
    for kind in KINDS:
        assert sample_store.count(kind) > 0, kind


def test_blocks_are_the_real_osm_footprints(sample_store: GeoPackageStore) -> None:
    premises = sample_store.read("premises")
    assert sorted(premises["name"]) == sorted(name for _, name, _, _ in BLOCKS)
    osm = json.loads((DATA / "osm" / "elephant_and_castle_buildings.geojson").read_text())
    ids = {str(f["properties"]["osm_id"]) for f in osm["features"]}
    for note in premises["notes"]:
        assert note.startswith("OSM way(s)") and note.split(";")[0].split(" ")[-1] in ids


def test_communal_areas_lie_inside_their_blocks(sample_store: GeoPackageStore) -> None:
    blocks = sample_store.read("premises").set_index("block_id").geometry
    for area in sample_store.read("communal_areas").itertuples():
        assert area.geometry.difference(blocks[area.block_id]).area < 0.01, (
            area.block_id,
            area.name,
        )


def test_entrances_are_on_their_block_walls(sample_store: GeoPackageStore) -> None:
    blocks = sample_store.read("premises").set_index("block_id").geometry
    for door in sample_store.read("entrances").itertuples():
        assert blocks[door.block_id].boundary.distance(door.geometry) < 0.05


def test_addresses_are_in_their_blocks_with_unique_uprns(sample_store: GeoPackageStore) -> None:
    blocks = sample_store.read("premises").set_index("block_id").geometry
    addresses = sample_store.read("addresses")
    assert addresses["uprn"].is_unique and len(addresses) > 400
    assert all(blocks[a.block_id].contains(a.geometry) for a in addresses.itertuples())
    assert all(u.startswith("99") for u in addresses["uprn"])  # synthetic UPRN range


def test_police_uk_rows_are_real_and_all_imported(sample_store: GeoPackageStore) -> None:
    table = pd.read_csv(DATA / "crime" / "police_uk_southwark_estate_2024-01_to_2024-06.csv")
    incidents = sample_store.read("incidents")
    assert (
        incidents["source_file"] == "police_uk_southwark_estate_2024-01_to_2024-06.csv"
    ).sum() == len(table)


def test_attribution_is_recorded(sample_store: GeoPackageStore) -> None:
    text = " ".join(json.loads(sample_store.get_meta("attribution")))
    assert (
        "OpenStreetMap contributors" in text
        and "Open Government Licence" in text
        and "SYNTHETIC" in text
    )


def test_order_scope_is_valid(sample_store: GeoPackageStore) -> None:
    order = sample_store.read("orders").iloc[0]
    assert (
        order.geometry.is_valid
        and order.geometry.area > 50
        and shapely.get_num_geometries(order.geometry) >= 1
    )
