"""Make the SYNTHETIC parts of the sample estate in data/synthetic/ (run from the repo root).

    .venv/bin/python data/build_sample_data.py

Deterministic (seeded): running it again writes the same files. The blocks are real OSM
footprints (layers.sample.sample_premises); everything written here is invented around them,
because no open data has communal areas, entrances, flat-level addresses or CAD incidents.
One random stream (``RNG``) feeds every step in a fixed order, so a step must not draw from it
out of turn: the files would all change.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

import geopandas as gpd
import shapely
import shapely.ops
from shapely import affinity

from closuremap.geo.crs import BNG, WGS84, bng_to_lonlat, geometries_to_bng
from closuremap.geo.permitted_access import PermittedClass, default_classes, to_json
from closuremap.layers.sample import (
    DATA_DIR,
    OSM_DIR,
    SYNTHETIC_DIR,
    sample_open_space,
    sample_premises,
)

Row = dict[str, Any]

RNG = random.Random(20240101)


def axis(poly: shapely.Polygon) -> tuple[shapely.Point, float, float, float]:
    """Centre, angle (deg) of the long side, length and width of the footprint's rotated box."""
    box = shapely.minimum_rotated_rectangle(poly)
    xs, ys = box.exterior.coords.xy
    sides = [(xs[i + 1] - xs[i], ys[i + 1] - ys[i]) for i in range(2)]
    lengths = [math.hypot(*s) for s in sides]
    long_i = int(lengths[1] > lengths[0])
    angle = math.degrees(math.atan2(sides[long_i][1], sides[long_i][0]))
    return box.centroid, angle, lengths[long_i], lengths[1 - long_i]


def rect(
    centre: shapely.Point,
    angle: float,
    along: float,
    length: float,
    width: float,
    across: float = 0.0,
) -> shapely.Polygon:
    """A length x width rectangle on the block's axis, ``along`` metres from the centre."""
    r = shapely.box(-length / 2, -width / 2, length / 2, width / 2)
    r = affinity.translate(r, along, across)
    r = affinity.rotate(r, angle, origin=(0, 0))
    return affinity.translate(r, centre.x, centre.y)


def inside(shape: shapely.Geometry, inner: shapely.Geometry) -> shapely.Geometry:
    """The shape, slid across the block if need be, cut to the block's inner face."""
    best = None
    for dx in (0, 3, -3, 6, -6, 9, -9, 12, -12):
        for dy in (0, 3, -3, 6, -6, 9, -9):
            moved = affinity.translate(shape, dx, dy)
            part = moved.intersection(inner)
            if part.geom_type == "MultiPolygon":
                part = max(part.geoms, key=lambda g: g.area)
            if part.geom_type == "Polygon" and (best is None or part.area > best.area + 1e-6):
                best = part
            if best is not None and best.area >= 0.95 * shape.area:
                return shapely.set_precision(best, 0.01)
    return shapely.set_precision(best, 0.01)


# -- the blocks: communal parts, doors, routes to the street, flats --------------------------------


def osm_streets() -> gpd.GeoDataFrame:
    """The OSM streets round the estate, in BNG (OSTN15)."""
    frame = gpd.read_file(OSM_DIR / "elephant_and_castle_streets.geojson")
    return frame.set_geometry(
        gpd.GeoSeries(geometries_to_bng(frame.geometry.values, WGS84), crs=BNG)
    )


def stair_core(
    b: Any, letter: str, along: float, walk: gpd.GeoDataFrame
) -> tuple[list[Row], Row, Row | None]:
    """One stair core of a block: its stairwell, landings and lobby, its main door, and a 2 m
    shared route from the door to the nearest footway (none when the door is on it)."""
    fp = b.geometry
    inner = fp.buffer(-0.3, join_style="mitre")
    centre, ang, _, width = axis(fp)
    stair = inside(rect(centre, ang, along, 4.0, min(6.0, width * 0.6)), inner)
    beside = along + (3.5 if along < 0 else -3.5)
    landing = inside(rect(centre, ang, beside, 3.0, min(6.0, width * 0.6)), inner)
    lobby = inside(rect(centre, ang, beside, 3.0, min(6.0, width * 0.6)), inner)
    floors = b.floors - 1
    parts = [
        communal_row(b, "stairwell", 0, floors, f"Stairwell {letter}", stair),
        communal_row(b, "landing", 1, floors, f"Landings {letter}", landing),
        communal_row(b, "lobby", 0, 0, f"Entrance lobby {letter}", lobby),
    ]
    # the main door: the point of the wall nearest the stairwell
    door = shapely.ops.nearest_points(fp.exterior, stair.centroid)[0]
    entrance = entrance_row(b, "door", f"Main door {letter}", door)
    near = walk.distance(door).idxmin()
    target = shapely.ops.nearest_points(walk.loc[near, "geometry"], door)[0]
    route = None
    if door.distance(target) > 1.0:
        line = shapely.LineString([door, target])
        route = dict(
            block_id=b.block_id,
            name=f"Path to main door {letter}",
            width_m=2.0,
            notes="synthetic",
            geometry=line.buffer(1.0, cap_style="flat"),
        )
    return parts, entrance, route


def communal_row(
    b: Any, area_type: str, floor_from: int, floor_to: int, name: str, geometry: shapely.Geometry
) -> Row:
    """One communal area of block ``b``."""
    return dict(
        block_id=b.block_id,
        area_type=area_type,
        floor_from=floor_from,
        floor_to=floor_to,
        name=name,
        notes="synthetic",
        geometry=geometry,
    )


def entrance_row(b: Any, entrance_type: str, name: str, geometry: shapely.Point) -> Row:
    """One entrance of block ``b``."""
    return dict(
        block_id=b.block_id,
        entrance_type=entrance_type,
        name=name,
        notes="synthetic",
        geometry=geometry,
    )


def flats(b: Any, postcodes: pd.DataFrame, uprns: Iterator[int]) -> list[Row]:
    """The block's flats as addresses: about one per 37 m² of footprint on each floor above the
    ground (from the ground on blocks of three floors or fewer), the nearest postcode, and a
    point jittered round the footprint's representative point."""
    fp = b.geometry
    per_floor = max(2, min(20, round(fp.area / 37)))
    d2 = (postcodes["Eastings"] - fp.centroid.x) ** 2 + (
        postcodes["Northings"] - fp.centroid.y
    ) ** 2
    postcode = postcodes.loc[d2.idxmin(), "Postcode"]
    spot = fp.representative_point()
    rows, flat_no = [], 0
    for floor in range(0 if b.floors <= 3 else 1, b.floors):
        for _ in range(per_floor):
            flat_no += 1
            pt = shapely.Point(spot.x + RNG.uniform(-1.5, 1.5), spot.y + RNG.uniform(-1.5, 1.5))
            if not fp.contains(pt):
                pt = spot
            rows.append(
                dict(
                    uprn=str(next(uprns)),
                    address=f"Flat {flat_no}, {b.address}, {postcode}",
                    block_id=b.block_id,
                    postcode=postcode,
                    flat=str(flat_no),
                    floor=floor,
                    easting=round(pt.x, 2),
                    northing=round(pt.y, 2),
                )
            )
    return rows


def block_features(
    premises: gpd.GeoDataFrame, walk: gpd.GeoDataFrame, postcodes: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Communal areas, entrances, access routes and flat addresses of every block: one or two
    stair cores (two on blocks over 40 m long), a deck access corridor, a bin store and its door."""
    communal: list[Row] = []
    entrances: list[Row] = []
    routes: list[Row] = []
    addresses: list[Row] = []
    uprns = itertools.count(990000000001)  # 99… : synthetic, not real UPRNs
    for b in premises.itertuples():
        fp = b.geometry
        inner = fp.buffer(-0.3, join_style="mitre")
        centre, ang, length, width = axis(fp)
        stair_ends = [-0.35 * length, 0.35 * length] if length > 40 else [-0.25 * length]
        for s_i, along in enumerate(stair_ends):
            parts, entrance, route = stair_core(b, "AB"[s_i], along, walk)
            communal += parts
            entrances.append(entrance)
            routes += [route] if route is not None else []
        corridor = inside(rect(centre, ang, 0, max(4.0, length * 0.7 - 8), 1.6), inner)
        communal.append(
            communal_row(b, "corridor", 1, b.floors - 1, "Deck access corridor", corridor)
        )
        bins = inside(rect(centre, ang, length / 2 - 3.0, 3.0, 3.0, across=width / 2 - 2.0), inner)
        communal.append(communal_row(b, "bin_store", 0, 0, "Bin store", bins))
        rear = shapely.ops.nearest_points(fp.exterior, bins.centroid)[0]
        entrances.append(entrance_row(b, "service", "Bin store door", rear))
        addresses += flats(b, postcodes, uprns)
    return (
        gpd.GeoDataFrame(communal, crs=BNG),
        gpd.GeoDataFrame(entrances, crs=BNG),
        gpd.GeoDataFrame(routes, crs=BNG),
        pd.DataFrame(addresses),
    )


# -- the incidents ---------------------------------------------------------------------------------

#: CAD categories and their weights in the draw.
CATEGORIES = [
    ("ASB - Nuisance", 40),
    ("ASB - Personal", 12),
    ("ASB - Environmental", 8),
    ("Drugs", 14),
    ("Public order", 6),
    ("Criminal damage", 6),
    ("Violence", 5),
    ("Burglary", 3),
    ("Weapons", 2),
    ("Other", 4),
]
#: What a call handler writes for each category; {place} and {flat} are filled in.
PHRASES = {
    "ASB - Nuisance": [
        "Group of youths congregating in {place}, loud music",
        "Males smoking cannabis in {place}",
        "Rough sleeper & belongings blocking {place}",
        "Youths kicking door to {place}",
    ],
    "ASB - Personal": [
        "Resident of {flat} reports intimidation in {place}",
        "Caller verbally abused in {place}",
    ],
    "ASB - Environmental": [
        "Graffiti in {place}",
        "Fly-tipping beside {place}",
        "Urine in {place}",
    ],
    "Drugs": [
        "Suspected drug dealing in {place}",
        "Needles found in {place}",
        'Drug litter ("nos" canisters) in {place}',
    ],
    "Public order": ["Fight reported in {place}", "Shouting & threats in {place}"],
    "Criminal damage": ["Door entry panel smashed at {place}", "Window broken in {place}"],
    "Violence": ["Assault reported in {place}"],
    "Burglary": ["Attempted break-in at {flat}"],
    "Weapons": ["Male seen with knife in {place}"],
    "Other": ["Concern for welfare in {place}"],
}
TREATED = {"PER", "NEW", "HAY"}  # blocks whose orders were made on ORDER_DAY
ORDER_DAY = datetime(2024, 7, 1)


def incident_place(
    when: datetime,
    premises: gpd.GeoDataFrame,
    communal: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    open_space: gpd.GeoDataFrame,
    street_lines: gpd.GeoDataFrame,
) -> tuple[shapely.Point, str, str] | None:
    """Where one incident happened: (point, the place in the description, the location field).
    Half in communal areas, then doors, open space and streets; None for ASB in a treated block's
    communal parts after its order, which mostly does not happen (the orders work)."""
    roll = RNG.random()
    names = premises.set_index("block_id")["name"]
    if roll < 0.5:
        area = communal.iloc[RNG.randrange(len(communal))]
        if area.block_id in TREATED and when >= ORDER_DAY and RNG.random() < 0.6:
            return None
        g = area.geometry
        minx, miny, maxx, maxy = g.bounds
        for _ in range(50):
            pt = shapely.Point(RNG.uniform(minx, maxx), RNG.uniform(miny, maxy))
            if g.contains(pt):
                break
        block = names.loc[area.block_id]
        return pt, f"{area['name'].lower()} of {block}", f"{area['name']}, {block}"
    if roll < 0.65:
        door = entrances.iloc[RNG.randrange(len(entrances))]
        pt = shapely.Point(
            door.geometry.x + RNG.uniform(-2, 2), door.geometry.y + RNG.uniform(-2, 2)
        )
        block = names.loc[door.block_id]
        return pt, f"the {door['name'].lower()} of {block}", f"O/S {door['name']}, {block}"
    if roll < 0.8:
        space = open_space.iloc[RNG.randrange(len(open_space))]
        pt = space.geometry.representative_point()
        pt = shapely.Point(pt.x + RNG.uniform(-3, 3), pt.y + RNG.uniform(-3, 3))
        name = space["name"] if isinstance(space["name"], str) else space.open_space_type
        return pt, f"the {space.open_space_type}", f"{name} (open space)"
    line = street_lines.iloc[RNG.randrange(len(street_lines))]
    pt = line.geometry.interpolate(RNG.random(), normalized=True)
    return pt, f"{line['name'] or 'the road'}", f"{line['name'] or 'Unnamed road'}"


def make_incidents(
    premises: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    open_space: gpd.GeoDataFrame,
    communal: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    addresses: pd.DataFrame,
) -> pd.DataFrame:
    """1,200 CAD-style incidents through 2024, oldest first; ASB in the communal parts of PER,
    NEW and HAY falls after orders made on 1 July 2024, so a before/after evaluation has
    something to find."""
    cat_names = [c for c, _ in CATEGORIES]
    cat_weights = [w for _, w in CATEGORIES]
    start = datetime(2024, 1, 1)
    street_lines = streets[
        streets["highway"].isin(["primary", "trunk", "residential", "unclassified"])
    ]
    incidents: list[Row] = []
    ref = 1000
    while len(incidents) < 1200:
        when = start + timedelta(minutes=RNG.randrange(0, 366 * 24 * 60))
        where = incident_place(when, premises, communal, entrances, open_space, street_lines)
        if where is None:
            continue
        pt, place, location = where
        cat = RNG.choices(cat_names, cat_weights)[0]
        flat = addresses.iloc[RNG.randrange(len(addresses))]
        text = RNG.choice(PHRASES[cat]).format(place=place, flat=f"Flat {flat.flat}")
        ref += 1
        incidents.append(
            dict(
                incident_ref=f"CAD{when:%y%m%d}-{ref}",
                created=when.strftime("%d/%m/%Y %H:%M"),
                category=cat,
                source=RNG.choice(["cad", "cad", "cad", "housing", "crime"]),
                location=location,
                easting=round(pt.x, 1),
                northing=round(pt.y, 1),
                description=text,
            )
        )
    return pd.DataFrame(incidents).sort_values(
        "created", key=lambda s: pd.to_datetime(s, dayfirst=True)
    )


# -- the order and its breaches --------------------------------------------------------------------


def make_order(communal: gpd.GeoDataFrame, routes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One order made: the communal parts and routes of Perronet House."""
    per_parts = list(communal[communal.block_id == "PER"].geometry) + list(
        routes[routes.block_id == "PER"].geometry
    )
    return gpd.GeoDataFrame(
        [
            dict(
                order_id="ORD-001",
                name="Perronet House communal areas",
                status="order_made",
                block_ids="PER",
                authorised_by="Superintendent",
                notice_issued_at="2024-06-28T09:00:00",
                notice_served_at="2024-06-28T11:30:00",
                notice_hours=48,
                hearing_at="2024-06-30T10:00:00",
                order_made_on="2024-06-30",
                order_months=3,
                court="Camberwell Green Magistrates' Court (synthetic)",
                case_reference="SYN-2024-001",
                court_address="15 D'Eynsford Road, London SE5 7UP",
                applicant="Metropolitan Police Service",
                grounds="a;b",
                facts=(
                    "Since January 2024 residents of Perronet House have reported groups "
                    "gathering in the stairwells and landings at night, drug use, and damage to "
                    "the entrance doors. CAD records show repeated calls about the block's "
                    "communal parts (synthetic sample)."
                ),
                permitted_access=to_json(
                    [PermittedClass("residents", detail="Perronet House"), *default_classes()[1:]]
                ),
                notes="synthetic",
                geometry=shapely.union_all(per_parts),
            )
        ],
        crs=BNG,
    )


def make_breaches(communal: gpd.GeoDataFrame) -> pd.DataFrame:
    """Three breaches of ORD-001: one inside the scope, one on the street outside it, one after
    the order expired."""
    stair = communal[communal.block_id == "PER"].geometry.iloc[0].centroid
    road = shapely.Point(stair.x + 60, stair.y + 40)  # on the street outside, not in the scope
    return pd.DataFrame(
        [
            dict(
                order_id="ORD-001",
                occurred_at="14/08/2024 23:10",
                description="Two males found in stairwell A",
                outcome="Arrested",
                easting=round(stair.x, 1),
                northing=round(stair.y, 1),
            ),
            dict(
                order_id="ORD-001",
                occurred_at="02/09/2024 21:40",
                description="Male stopped in the street outside",
                outcome="Advice given",
                easting=round(road.x, 1),
                northing=round(road.y, 1),
            ),
            dict(
                order_id="ORD-001",
                occurred_at="20/11/2024 22:05",
                description="Youths in stairwell A after expiry",
                outcome="No further action",
                easting=round(stair.x + 0.5, 1),
                northing=round(stair.y, 1),
            ),
        ]
    )


# -- the files -------------------------------------------------------------------------------------


def write_files(layers: dict[str, gpd.GeoDataFrame], tables: dict[str, pd.DataFrame]) -> None:
    """The GeoJSON layers (2 decimal places: centimetres) and the CSV tables in SYNTHETIC_DIR."""
    SYNTHETIC_DIR.mkdir(exist_ok=True)
    for name, frame in layers.items():
        out = SYNTHETIC_DIR / f"{name}.geojson"
        out.unlink(missing_ok=True)
        frame.to_file(out, driver="GeoJSON", COORDINATE_PRECISION=2)
    for name, table in tables.items():
        table.to_csv(SYNTHETIC_DIR / f"{name}.csv", index=False)


def main() -> None:
    premises = sample_premises()
    streets = osm_streets()
    walk = streets[
        streets["highway"].isin(
            ["footway", "path", "pedestrian", "steps", "service", "residential"]
        )
    ]
    postcodes = pd.read_csv(
        DATA_DIR / "postcodes" / "codepoint_open_2025-10_southwark_estate_1km.csv"
    )
    open_space = sample_open_space()
    communal, entrances, routes, addresses = block_features(premises, walk, postcodes)
    incidents = make_incidents(premises, streets, open_space, communal, entrances, addresses)
    write_files(
        {
            "communal_areas": communal,
            "entrances": entrances,
            "access_routes": routes,
            "orders": make_order(communal, routes),
        },
        {
            "addresses": addresses,
            "incidents_cad": incidents,
            "breaches": make_breaches(communal),
        },
    )
    lon, lat = bng_to_lonlat(addresses["easting"], addresses["northing"])
    print(
        f"communal areas {len(communal)}, entrances {len(entrances)}, routes {len(routes)}, "
        f"addresses {len(addresses)}, incidents {len(incidents)}, "
        f"lat range {lat.min():.5f}-{lat.max():.5f}"
    )


if __name__ == "__main__":
    main()
