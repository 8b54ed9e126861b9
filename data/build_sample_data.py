"""Make the SYNTHETIC parts of the sample estate in data/synthetic/ (run from the repo root).

    .venv/bin/python data/build_sample_data.py

Deterministic (seeded): running it again writes the same files. The blocks are real OSM
footprints (layers.sample.sample_premises); everything written here is invented around them,
because no open data has communal areas, entrances, flat-level addresses or CAD incidents.
"""

from __future__ import annotations

import math
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

import geopandas as gpd
import shapely
from shapely import affinity

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from closuremap.geo.crs import BNG, bng_to_lonlat  # noqa: E402
from closuremap.geo.permitted_access import PermittedClass, default_classes, to_json  # noqa: E402
from closuremap.layers.sample import (
    DATA_DIR,
    SYNTHETIC_DIR,
    _osm,
    sample_open_space,
    sample_premises,
)  # noqa: E402

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


def main() -> None:
    premises = sample_premises()
    streets = _osm("elephant_and_castle_streets.geojson")
    walk = streets[
        streets["highway"].isin(
            ["footway", "path", "pedestrian", "steps", "service", "residential"]
        )
    ]
    postcodes = pd.read_csv(
        DATA_DIR / "postcodes" / "codepoint_open_2025-10_southwark_estate_1km.csv"
    )
    open_space = sample_open_space()

    communal, entrances, routes, addresses = [], [], [], []
    uprn = 990000000001  # 99… : synthetic, not real UPRNs
    for b in premises.itertuples():
        fp = b.geometry
        inner = fp.buffer(-0.3, join_style="mitre")
        centre, ang, length, width = axis(fp)
        half = length / 2
        stair_ends = [-0.35 * length, 0.35 * length] if length > 40 else [-0.25 * length]
        for s_i, along in enumerate(stair_ends):
            letter = "AB"[s_i]
            stair = inside(rect(centre, ang, along, 4.0, min(6.0, width * 0.6)), inner)
            communal.append(
                dict(
                    block_id=b.block_id,
                    area_type="stairwell",
                    floor_from=0,
                    floor_to=b.floors - 1,
                    name=f"Stairwell {letter}",
                    notes="synthetic",
                    geometry=stair,
                )
            )
            landing = inside(
                rect(centre, ang, along + (3.5 if along < 0 else -3.5), 3.0, min(6.0, width * 0.6)),
                inner,
            )
            communal.append(
                dict(
                    block_id=b.block_id,
                    area_type="landing",
                    floor_from=1,
                    floor_to=b.floors - 1,
                    name=f"Landings {letter}",
                    notes="synthetic",
                    geometry=landing,
                )
            )
            lobby = inside(
                rect(centre, ang, along + (3.5 if along < 0 else -3.5), 3.0, min(6.0, width * 0.6)),
                inner,
            )
            communal.append(
                dict(
                    block_id=b.block_id,
                    area_type="lobby",
                    floor_from=0,
                    floor_to=0,
                    name=f"Entrance lobby {letter}",
                    notes="synthetic",
                    geometry=lobby,
                )
            )
            # the main door: the point of the wall nearest the stairwell
            door = shapely.ops.nearest_points(fp.exterior, stair.centroid)[0]
            entrances.append(
                dict(
                    block_id=b.block_id,
                    entrance_type="door",
                    name=f"Main door {letter}",
                    notes="synthetic",
                    geometry=door,
                )
            )
            # a 2 m shared route from the door to the nearest footway
            near = walk.distance(door).idxmin()
            target = shapely.ops.nearest_points(walk.loc[near, "geometry"], door)[0]
            if door.distance(target) > 1.0:
                line = shapely.LineString([door, target])
                routes.append(
                    dict(
                        block_id=b.block_id,
                        name=f"Path to main door {letter}",
                        width_m=2.0,
                        notes="synthetic",
                        geometry=line.buffer(1.0, cap_style="flat"),
                    )
                )
        corridor_len = max(4.0, length * 0.7 - 8)
        corridor = inside(rect(centre, ang, 0, corridor_len, 1.6), inner)
        communal.append(
            dict(
                block_id=b.block_id,
                area_type="corridor",
                floor_from=1,
                floor_to=b.floors - 1,
                name="Deck access corridor",
                notes="synthetic",
                geometry=corridor,
            )
        )
        bins = inside(rect(centre, ang, half - 3.0, 3.0, 3.0, across=width / 2 - 2.0), inner)
        communal.append(
            dict(
                block_id=b.block_id,
                area_type="bin_store",
                floor_from=0,
                floor_to=0,
                name="Bin store",
                notes="synthetic",
                geometry=bins,
            )
        )
        rear = shapely.ops.nearest_points(fp.exterior, bins.centroid)[0]
        entrances.append(
            dict(
                block_id=b.block_id,
                entrance_type="service",
                name="Bin store door",
                notes="synthetic",
                geometry=rear,
            )
        )

        # flats: about one per 37 m² of footprint on each floor above the ground
        per_floor = max(2, min(20, round(fp.area / 37)))
        d2 = (postcodes["Eastings"] - fp.centroid.x) ** 2 + (
            postcodes["Northings"] - fp.centroid.y
        ) ** 2
        postcode = postcodes.loc[d2.idxmin(), "Postcode"]
        spot = fp.representative_point()
        flat_no = 0
        for floor in range(0 if b.floors <= 3 else 1, b.floors):
            for _ in range(per_floor):
                flat_no += 1
                pt = shapely.Point(spot.x + RNG.uniform(-1.5, 1.5), spot.y + RNG.uniform(-1.5, 1.5))
                if not fp.contains(pt):
                    pt = spot
                addresses.append(
                    dict(
                        uprn=str(uprn),
                        address=f"Flat {flat_no}, {b.address}, {postcode}",
                        block_id=b.block_id,
                        postcode=postcode,
                        flat=str(flat_no),
                        floor=floor,
                        easting=round(pt.x, 2),
                        northing=round(pt.y, 2),
                    )
                )
                uprn += 1

    communal_g = gpd.GeoDataFrame(communal, crs=BNG)
    entrances_g = gpd.GeoDataFrame(entrances, crs=BNG)
    routes_g = gpd.GeoDataFrame(routes, crs=BNG)
    addresses_t = pd.DataFrame(addresses)

    # CAD-style incidents through 2024; ASB in the communal parts of PER, NEW and HAY falls after
    # orders made on 1 July 2024, so a before/after evaluation has something to find.
    categories = [
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
    cat_names = [c for c, _ in categories]
    cat_weights = [w for _, w in categories]
    phrases = {
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
    treated = {"PER", "NEW", "HAY"}
    order_day = datetime(2024, 7, 1)
    incidents = []
    start = datetime(2024, 1, 1)
    ref = 1000
    street_lines = streets[
        streets["highway"].isin(["primary", "trunk", "residential", "unclassified"])
    ]
    while len(incidents) < 1200:
        when = start + timedelta(minutes=RNG.randrange(0, 366 * 24 * 60))
        roll = RNG.random()
        if roll < 0.5:
            area = communal_g.iloc[RNG.randrange(len(communal_g))]
            if area.block_id in treated and when >= order_day and RNG.random() < 0.6:
                continue  # the orders work: most of this harm does not happen
            g = area.geometry
            minx, miny, maxx, maxy = g.bounds
            for _ in range(50):
                pt = shapely.Point(RNG.uniform(minx, maxx), RNG.uniform(miny, maxy))
                if g.contains(pt):
                    break
            block = premises.set_index("block_id").loc[area.block_id, "name"]
            place = f"{area['name'].lower()} of {block}"
            location = f"{area['name']}, {block}"
        elif roll < 0.65:
            door = entrances_g.iloc[RNG.randrange(len(entrances_g))]
            pt = shapely.Point(
                door.geometry.x + RNG.uniform(-2, 2), door.geometry.y + RNG.uniform(-2, 2)
            )
            block = premises.set_index("block_id").loc[door.block_id, "name"]
            place = f"the {door['name'].lower()} of {block}"
            location = f"O/S {door['name']}, {block}"
        elif roll < 0.8:
            space = open_space.iloc[RNG.randrange(len(open_space))]
            pt = space.geometry.representative_point()
            pt = shapely.Point(pt.x + RNG.uniform(-3, 3), pt.y + RNG.uniform(-3, 3))
            place = f"the {space.open_space_type}"
            location = f"{space['name'] if isinstance(space['name'], str) else space.open_space_type} (open space)"
        else:
            line = street_lines.iloc[RNG.randrange(len(street_lines))]
            pt = line.geometry.interpolate(RNG.random(), normalized=True)
            place = f"{line['name'] or 'the road'}"
            location = f"{line['name'] or 'Unnamed road'}"
        cat = RNG.choices(cat_names, cat_weights)[0]
        flat = addresses_t.iloc[RNG.randrange(len(addresses_t))]
        text = RNG.choice(phrases[cat]).format(place=place, flat=f"Flat {flat.flat}")
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
    incidents_t = pd.DataFrame(incidents).sort_values(
        "created", key=lambda s: pd.to_datetime(s, dayfirst=True)
    )

    # one draft order: the communal parts and routes of Perronet House
    per_parts = list(communal_g[communal_g.block_id == "PER"].geometry) + list(
        routes_g[routes_g.block_id == "PER"].geometry
    )
    orders = gpd.GeoDataFrame(
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
                    "Since January 2024 residents of Perronet House have reported groups gathering in the "
                    "stairwells and landings at night, drug use, and damage to the entrance doors. CAD "
                    "records show repeated calls about the block's communal parts (synthetic sample)."
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
    stair = communal_g[communal_g.block_id == "PER"].geometry.iloc[0].centroid
    road = shapely.Point(stair.x + 60, stair.y + 40)  # on the street outside, not in the scope
    breaches = pd.DataFrame(
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

    SYNTHETIC_DIR.mkdir(exist_ok=True)
    for frame, name in (
        (communal_g, "communal_areas"),
        (entrances_g, "entrances"),
        (routes_g, "access_routes"),
        (orders, "orders"),
    ):
        out = SYNTHETIC_DIR / f"{name}.geojson"
        out.unlink(missing_ok=True)
        frame.to_file(out, driver="GeoJSON", COORDINATE_PRECISION=2)
    addresses_t.to_csv(SYNTHETIC_DIR / "addresses.csv", index=False)
    incidents_t.to_csv(SYNTHETIC_DIR / "incidents_cad.csv", index=False)
    breaches.to_csv(SYNTHETIC_DIR / "breaches.csv", index=False)
    lon, lat = bng_to_lonlat(addresses_t["easting"], addresses_t["northing"])
    print(
        f"communal areas {len(communal_g)}, entrances {len(entrances_g)}, routes {len(routes_g)}, "
        f"addresses {len(addresses_t)}, incidents {len(incidents_t)}, lat range {lat.min():.5f}-{lat.max():.5f}"
    )


if __name__ == "__main__":
    main()
