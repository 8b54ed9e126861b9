"""The bundled sample estate: real OpenStreetMap blocks around St George's Circus, Southwark, with
synthetic communal areas, entrances, addresses and incidents (see data/README.md).

``build_sample_workspace`` fills a new workspace through the same import path users take, so
the sample exercises the importer on every start.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG, WGS84, geometries_to_bng

from .importer import import_file
from .store import GeoPackageStore

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
OSM_DIR = DATA_DIR / "osm"
SYNTHETIC_DIR = DATA_DIR / "synthetic"
SAMPLE_USER = "closuremap sample"
#: National advice services, so the sample's notice is complete; a real install lists its area's own
#: (Documents page, "Area settings").
SAMPLE_ADVICE = [
    {"name": "Shelter housing advice helpline", "detail": "0808 800 4444", "kind": "housing"},
    {"name": "Citizens Advice Adviceline (England)", "detail": "0800 144 8848", "kind": "housing"},
    {"name": "Civil Legal Advice", "detail": "0345 345 4345", "kind": "legal"},
]

#: The residential blocks of the sample: (block_id, OSM name, floors, where the floor count came
#: from).
BLOCKS: tuple[tuple[str, str, int, str], ...] = (
    ("PER", "Perronet House", 6, "assumed"),
    ("NEW", "Newman House", 5, "assumed"),
    ("HAY", "Hayles Buildings", 5, "assumed"),
    ("PRO", "Prospect House", 11, "OSM building:levels"),
    ("LAU", "Laurie House", 4, "assumed"),
    ("SGB", "St Georges Buildings", 6, "OSM building:levels"),
    ("WAR", "Wardroper House", 3, "OSM building:levels"),
)

ATTRIBUTION = (
    "© OpenStreetMap contributors, ODbL (openstreetmap.org/copyright)",
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(police.uk)",
    "Contains OS data © Crown copyright and database right 2025; Royal Mail data © Royal Mail "
    "copyright and database right 2025; National Statistics data © Crown copyright and "
    "database right 2025 (Code-Point Open)",
    "Communal areas, entrances, routes, addresses, CAD incidents and orders are SYNTHETIC "
    "(closuremap sample)",
)


#: The same, short enough for the map's attribution control.
ATTRIBUTION_SHORT = (
    "© OpenStreetMap contributors (ODbL)",
    "police.uk (OGL v3.0)",
    "OS Code-Point Open © Crown copyright 2025",
    "synthetic communal areas, addresses, incidents",
)


def _osm(name: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(OSM_DIR / name)
    return frame.set_geometry(
        gpd.GeoSeries(geometries_to_bng(frame.geometry.values, WGS84), crs=BNG)
    )


def sample_premises() -> gpd.GeoDataFrame:
    """The sample blocks from OSM footprints (parts of one building merged), in BNG."""
    buildings = _osm("elephant_and_castle_buildings.geojson")
    streets = _osm("elephant_and_castle_streets.geojson")
    named = streets[
        streets["name"].notna()
        & streets["highway"].isin(
            ["primary", "secondary", "tertiary", "residential", "unclassified", "trunk"]
        )
    ]
    rows = []
    for block_id, name, floors, floors_from in BLOCKS:
        parts = buildings[buildings["name"] == name]
        footprint = shapely.union_all(parts.geometry.values)
        street = parts["addr_street"].dropna()
        if street.empty:
            nearest = named.distance(footprint).idxmin()
            street_name = named.loc[nearest, "name"]
        else:
            street_name = street.iloc[0]
        rows.append(
            {
                "block_id": block_id,
                "name": name,
                "address": f"{name}, {street_name}, London",
                "floors": floors,
                "premises_type": "flats",
                "notes": (
                    f"OSM way(s) {', '.join(str(i) for i in parts['osm_id'])}; floors {floors_from}"
                ),
                "geometry": footprint,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)


def sample_open_space() -> gpd.GeoDataFrame:
    spaces = _osm("elephant_and_castle_open_space.geojson")
    kind = spaces["leisure"].fillna(spaces["landuse"]).fillna("open space")
    return gpd.GeoDataFrame(
        {
            "name": spaces["name"],
            "open_space_type": kind,
            "notes": "OSM " + spaces["osm_type"].astype(str) + " " + spaces["osm_id"].astype(str),
        },
        geometry=spaces.geometry,
        crs=BNG,
    )


def sample_basemap(exclude: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Streets, paths, barriers and the other buildings: the map's background without tiles."""
    streets = _osm("elephant_and_castle_streets.geojson")
    buildings = _osm("elephant_and_castle_buildings.geojson")
    barriers = _osm("elephant_and_castle_barriers.geojson")
    blocks = set(exclude["name"])
    other = buildings[~buildings["name"].isin(blocks)]
    parts = [
        gpd.GeoDataFrame(
            {"feature_class": "street:" + streets["highway"].astype(str), "name": streets["name"]},
            geometry=streets.geometry,
            crs=BNG,
        ),
        gpd.GeoDataFrame(
            {"feature_class": "building", "name": other["name"]}, geometry=other.geometry, crs=BNG
        ),
        gpd.GeoDataFrame(
            {"feature_class": "barrier:" + barriers["barrier"].astype(str)},
            geometry=barriers.geometry,
            crs=BNG,
        ),
    ]
    return pd.concat(parts, ignore_index=True)  # type: ignore[return-value]


#: Synthetic and real files imported into the sample workspace, in order: (kind, path).
SAMPLE_IMPORTS: tuple[tuple[str, Path], ...] = (
    ("communal_areas", SYNTHETIC_DIR / "communal_areas.geojson"),
    ("access_routes", SYNTHETIC_DIR / "access_routes.geojson"),
    ("entrances", SYNTHETIC_DIR / "entrances.geojson"),
    ("addresses", SYNTHETIC_DIR / "addresses.csv"),
    ("incidents", SYNTHETIC_DIR / "incidents_cad.csv"),
    ("incidents", DATA_DIR / "crime" / "police_uk_southwark_estate_2024-01_to_2024-06.csv"),
    ("orders", SYNTHETIC_DIR / "orders.geojson"),
    ("breaches", SYNTHETIC_DIR / "breaches.csv"),
)


def build_sample_workspace(
    path: str | Path,
    *,
    overwrite: bool = False,
    progress: Callable[[float, str], None] | None = None,
) -> GeoPackageStore:
    """A new workspace holding the sample estate."""
    say = progress or (lambda f, m: None)
    store = GeoPackageStore.create(
        path, name="Sample estate: St George's Circus, Southwark", overwrite=overwrite
    )
    store.set_meta("attribution", json.dumps(ATTRIBUTION), user=SAMPLE_USER)
    store.set_meta("attribution_short", json.dumps(ATTRIBUTION_SHORT), user=SAMPLE_USER)
    store.set_meta("applicant", "Metropolitan Police Service", user=SAMPLE_USER)
    store.set_meta("advice_contacts", json.dumps(SAMPLE_ADVICE), user=SAMPLE_USER)
    say(0.05, "blocks from OpenStreetMap")
    premises = sample_premises()
    store.add("premises", premises, user=SAMPLE_USER, note="sample: OSM building footprints")
    store.add("open_space", sample_open_space(), user=SAMPLE_USER, note="sample: OSM open space")
    say(0.15, "basemap from OpenStreetMap")
    store.add(
        "basemap",
        sample_basemap(premises),
        user=SAMPLE_USER,
        note="sample: OSM streets and buildings",
    )
    for i, (kind, file) in enumerate(SAMPLE_IMPORTS):
        say(0.2 + 0.8 * i / len(SAMPLE_IMPORTS), f"importing {file.name}")
        result = import_file(store, kind, file, user=SAMPLE_USER, rejects_path=None)
        if len(result.rejected):
            raise RuntimeError(
                f"sample file {file} has rejected rows: {result.rejected['reason'].tolist()[:3]}"
            )
    say(1.0, "sample ready")
    return store
