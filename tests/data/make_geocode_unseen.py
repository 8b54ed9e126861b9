"""A second labelled set for the geocoder, on a street layout it was not written against.

How it is made
--------------
Deterministic (``random.Random(SEED)``, no clock, no network), built in memory by the tests
(``tests/test_geocode_unseen.py``); run this file to write both tables as CSV for a look:
``.venv/bin/python tests/data/make_geocode_unseen.py OUT_DIR``.

The gazetteer is invented here: streets and buildings of an imaginary estate around E 540000
N 185000 (none of the sample estate's names), numbered houses on the streets and flats in buildings
whose names carry a type word (Mansions, Buildings, Lodge, Tower, Court, Wharf) or none at all
(The Example Institute, Arcadia, The Foundry, Meridian). The locations are written the ways CAD
operators write them, each built from a known row, so its answer is known by construction:

======================  ========================================================================
shape                   what the location says -> expected answer
======================  ========================================================================
street_number           "12, example street, london", "12 Example St",
                        "no. 12 example street e8 1aa", "O/S 12 EXAMPLE STREET" -> the house's UPRN
flat_no_type_word       "flat 7 the example institute some road", "flat 7, arcadia", "7 meridian",
                        "Flt 7 The Foundry, Quarry Lane" -> the flat's UPRN
flat_type_word          "flat 7 marlow mansions some road", "Flt 7 Cedar Tower, Orchard Way",
                        "7 kestrel lodge" -> the flat's UPRN
text_coordinates_in     "youths at 540123 185046" inside the gazetteer's area -> that point, for
                        review
text_coordinates_out    "CAD 240512 / 181234 youths in stairwell" (a reference, not a place) -> none
junk                    "see notes", "n/a", "flat 7" alone, a street the gazetteer lacks -> none
======================  ========================================================================
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pandas as pd

SEED = 20261129
E0, N0 = 540_000.0, 185_000.0

STREETS = (
    ("Example Street", "E8 1AA"),
    ("Some Road", "E8 2BB"),
    ("Alder Grove", "E8 3CC"),
    ("Quarry Lane", "E8 4DD"),
    ("Orchard Way", "E8 5EE"),
    ("Hollybush Place", "E8 6FF"),
    ("Tanner Terrace", "E8 7GG"),
    ("Wickham Avenue", "E8 8HH"),
)
BUILDINGS = (
    ("The Example Institute", "Some Road"),
    ("Arcadia", "Alder Grove"),
    ("The Foundry", "Quarry Lane"),
    ("Meridian", "Orchard Way"),
    ("Marlow Mansions", "Some Road"),
    ("Hollis Buildings", "Tanner Terrace"),
    ("Kestrel Lodge", "Example Street"),
    ("Cedar Tower", "Orchard Way"),
    ("Bramley Court", "Wickham Avenue"),
    ("Lantern Wharf", "Quarry Lane"),
)
TYPE_WORDS = ("Mansions", "Buildings", "Lodge", "Tower", "Court", "Wharf")
HOUSES_PER_STREET = 40
FLATS_PER_BUILDING = 30
ABBREV = {
    "Street": "St",
    "Road": "Rd",
    "Avenue": "Ave",
    "Terrace": "Terr",
    "Place": "Pl",
    "Lane": "Ln",
}
JUNK = (
    "see notes",
    "n/a",
    "unknown",
    "flat 7",
    "12 Nowhere Street",
    "caller refused address",
    "various",
    "tbc",
    "youths again",
    "no further details",
)


def gazetteer() -> pd.DataFrame:
    """The imaginary estate: houses on its streets, flats in its buildings, each at its own
    point."""
    rows, uprn = [], 880_000_000_001
    postcode = dict(STREETS)
    for s, (street, pc) in enumerate(STREETS):
        for h in range(1, HOUSES_PER_STREET + 1):
            rows.append(
                {
                    "uprn": str(uprn),
                    "address": f"{h} {street}, London, {pc}",
                    "easting": E0 + 150.0 * s + 3.5 * h,
                    "northing": N0 + 60.0 * (h % 2) + s * 11.0,
                }
            )
            uprn += 1
    for b, (building, street) in enumerate(BUILDINGS):
        for f in range(1, FLATS_PER_BUILDING + 1):
            rows.append(
                {
                    "uprn": str(uprn),
                    "address": f"Flat {f}, {building}, {street}, London, {postcode[street]}",
                    "easting": E0 + 40.0 * b + 0.7 * f,
                    "northing": N0 + 500.0 + 0.5 * f,
                }
            )
            uprn += 1
    return pd.DataFrame(rows)


def _abbrev(street: str) -> str:
    name, kind = street.rsplit(" ", 1)
    return f"{name} {ABBREV.get(kind, kind)}"


def _street_number(rng: random.Random, gaz: pd.DataFrame) -> list[dict[str, object]]:
    out = []
    postcode = dict(STREETS)
    for street, _ in STREETS:
        for h in rng.sample(range(1, HOUSES_PER_STREET + 1), 12):
            row = gaz[gaz["address"] == f"{h} {street}, London, {postcode[street]}"].iloc[0]
            for text in (
                f"{h}, {street.lower()}, london",
                f"{h} {_abbrev(street)}",
                f"no. {h} {street.lower()} {postcode[street].lower()}",
                f"O/S {h} {street.upper()}",
            ):
                out.append({"location": text, "shape": "street_number", "uprn": row["uprn"]})
    return out


def _flats(rng: random.Random, gaz: pd.DataFrame) -> list[dict[str, object]]:
    out = []
    for building, street in BUILDINGS:
        shape = "flat_type_word" if building.split()[-1] in TYPE_WORDS else "flat_no_type_word"
        bare = building.removeprefix("The ")
        for f in rng.sample(range(1, FLATS_PER_BUILDING + 1), 10):
            row = gaz[gaz["address"].str.startswith(f"Flat {f}, {building},")].iloc[0]
            for text in (
                f"flat {f} {building.lower()} {street.lower()}",
                f"flat {f}, {bare.lower()}",
                f"{f} {bare.lower()}",
                f"Flt {f} {building}, {street}",
                f"FLAT {f} {bare.upper()} {_abbrev(street).upper()}",
            ):
                out.append({"location": text, "shape": shape, "uprn": row["uprn"]})
    return out


def _coordinates(rng: random.Random) -> list[dict[str, object]]:
    out = []
    for _ in range(40):
        e, n = round(E0 + rng.uniform(0, 1000)), round(N0 + rng.uniform(0, 500))
        out.append(
            {
                "location": rng.choice(
                    ["youths at {} {}", "E {} N {} stairwell", "grid {} {} - drugs"]
                ).format(e, n),
                "shape": "text_coordinates_in",
                "expected_easting": float(e),
                "expected_northing": float(n),
            }
        )
    for _ in range(40):
        e, n = (
            rng.randint(200_000, 260_000),
            rng.randint(150_000, 200_000),
        )  # Wales: far from this estate
        out.append(
            {
                "location": rng.choice(
                    [
                        "CAD {} / {} youths in stairwell",
                        "ref {} {} call back",
                        "log {}/{} see notes",
                    ]
                ).format(e, n),
                "shape": "text_coordinates_out",
            }
        )
    return out


def build() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(gazetteer, labelled locations) with columns location, shape, uprn, expected_easting and
    expected_northing (named so that the geocoder does not read them as the rows' coordinates)."""
    rng = random.Random(SEED)
    gaz = gazetteer()
    rows = _street_number(rng, gaz) + _flats(rng, gaz) + _coordinates(rng)
    rows += [{"location": j, "shape": "junk"} for j in JUNK]
    return gaz, pd.DataFrame(
        rows, columns=["location", "shape", "uprn", "expected_easting", "expected_northing"]
    )


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    folder.mkdir(parents=True, exist_ok=True)
    g, lab = build()
    g.to_csv(folder / "unseen_gazetteer.csv", index=False)
    lab.to_csv(folder / "unseen_labelled.csv", index=False)
    print(f"{len(g)} addresses, {len(lab)} locations in {folder}")
