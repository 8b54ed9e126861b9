"""Build tests/data/geocode_labelled.csv: messy incident locations whose right answer is known.

How it was made
---------------
Run from the repository root:  ``.venv/bin/python tests/data/make_geocode_labelled.py``

Deterministic (``random.Random(SEED)``, no clock, no network). Inputs: the sample gazetteer
``data/synthetic/addresses.csv`` (synthetic flats with fake UPRNs) and the Code-Point Open extract
``data/postcodes/codepoint_open_2025-10_southwark_estate_1km.csv``. If either file changes, rerun
this script; ``tests/test_geocode.py`` fails (and says so) when the CSV no longer matches a fresh
build.

Every string is built from a known gazetteer row, building, point or postcode, so its answer is
known by construction:

==================  ==========================================================================
kind                what the location says -> expected answer
==================  ==========================================================================
flat_exact          the gazetteer address, re-cased/trimmed -> that flat's UPRN
flat_confusable     flats a digit apart (12/21/2/1/112/120) in the same building -> the exact UPRN
flat_typo           one typo in the building name (and sometimes in its type word, "Hosue", or
                    in the street) -> the UPRN
flat_abbrev         Flt/Fl/No./#, Hse/Bldgs, St/Rd, St Georges as saint -> the UPRN
flat_reorder        "Perronet House Flat 12", "12 Perronet House", "Perronet Hse, 12" -> the UPRN
flat_noise          "o/s", "landing outside", "nr", trailing postcode, upper case -> the UPRN
building_only       "stairwell of X", "o/s X", "Landings B, X" (no flat) -> the building's centroid
                    (mean of its gazetteer points), no UPRN
gridref             OS grid references of known points, 2..10 digits, spaced or not -> centre of
                    the square (letters from this file's own table, not from geo/gridref.py)
latlon_text         "lat, lon" of a known point (OSTN15 via geo.crs, 6 decimals) -> that point
latlon_swapped      "lon, lat" of a known point -> that point
en_text             "531700 179000", "E 531700 N 179000" of a known point -> that point
postcode_only       a postcode of the Code-Point file, in any spacing/case -> its centroid
junk                "unknown", "n/a", "see notes", random words, postcodes not in the file,
                    coordinates outside GB, bad grid letters, a right name with the wrong building
                    type ("Perronet Court") -> none
==================  ==========================================================================

Columns: case_id, location, expected_method, expected_uprn, expected_easting, expected_northing,
tolerance_m (how far from the expected point is still right: 0.01 for a flat, 5 for a building
centroid, 1 for coordinates, half the square for a grid reference), kind.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pandas as pd

# OSTN15: the only WGS84 <-> BNG path in the project
from closuremap.geo.crs import bng_to_lonlat

ROOT = Path(__file__).resolve().parents[2]

ADDRESSES = ROOT / "data" / "synthetic" / "addresses.csv"
POSTCODES = ROOT / "data" / "postcodes" / "codepoint_open_2025-10_southwark_estate_1km.csv"
OUT = Path(__file__).resolve().parent / "geocode_labelled.csv"
SEED = 20251126
COLUMNS = [
    "case_id",
    "location",
    "expected_method",
    "expected_uprn",
    "expected_easting",
    "expected_northing",
    "tolerance_m",
    "kind",
]

# OS National Grid lettering, written out as the OS diagram draws it (rows north to south), so the
# labelled grid references do not depend on the arithmetic in geo/gridref.py.
FIRST_LETTER_ORIGIN_100KM = {
    "S": (0, 0),
    "T": (5, 0),
    "N": (0, 5),
    "O": (5, 5),
    "H": (0, 10),
    "J": (5, 10),
}
SECOND_LETTER_ROWS = ["ABCDE", "FGHJK", "LMNOP", "QRSTU", "VWXYZ"]  # top row is the northernmost

ABBREV_TYPE = {
    "House": ["Hse", "Ho", "hse", "HSE"],
    "Buildings": ["Bldgs", "Bldg", "bldgs", "Buildings", "BLDGS"],
}
TYPE_TYPOS = {
    "House": ["Huose", "Hosue", "Hous", "Housee", "Hiuse"],
    "Buildings": ["Buidlings", "Bulidings", "Buildngs", "Biuldings", "Buildigns"],
}
ABBREV_STREET = {"Street": ["St", "St.", "st"], "Road": ["Rd", "Rd.", "rd"], "Row": ["Row"]}
BUILDING_NOISE = [
    "stairwell of {b}",
    "o/s {b}",
    "O/S {b}",
    "Landings B, {b}",
    "landing, {b}",
    "Stairwell A, {b}",
    "Deck access corridor, {b}",
    "nr {b}",
    "near {b}",
    "bin store {b}",
    "O/S Bin store door, {b}",
    "3rd floor landing {b}",
    "{b} stairwell",
    "Entrance lobby A, {b}",
    "outside main door of {b}",
    "{b} - communal landing",
    "rear of {b}",
    "{b}, lift lobby",
    "Stairwell 2, {b}",
    "jct o/s {b}",
]
JUNK_WORDS = [
    "purple",
    "elephant",
    "bicycle",
    "kitchen",
    "window",
    "orange",
    "guitar",
    "football",
    "laptop",
    "umbrella",
    "thunder",
    "pencil",
    "blanket",
    "tiger",
    "rocket",
    "marble",
    "cabbage",
    "violin",
    "saddle",
    "lantern",
    "meadow",
    "biscuit",
    "trumpet",
    "garlic",
    "feather",
]
JUNK_FIXED = [
    "unknown",
    "Unknown",
    "UNKNOWN",
    "n/a",
    "N/A",
    "see notes",
    "See notes",
    "SEE NOTES",
    "tbc",
    "TBC",
    "various",
    "no fixed abode",
    "not known",
    "not given",
    "location withheld",
    "nan",
    "-",
    "?",
    "",
    "refer to report",
    "details on call log",
    "anon caller, no location",
]
FAR_POSTCODES = [
    "EH1 1YZ",
    "M1 1AE",
    "CF10 1EP",
    "BT1 5GS",
    "G2 1DY",
    "LS1 4DY",
    "B1 1BB",
    "BS1 4DJ",
    "NE1 7RU",
    "AB10 1AB",
    "PL1 2AA",
    "IV1 1AA",
    "SW1A 1AA",
    "E14 5AB",
    "N1 9GU",
]
OUTSIDE_GB = [
    "40.7128, -74.0060",
    "48.8566, 2.3522",
    "-33.8688, 151.2093",
    "0.000000, 0.000000",
    "35.6762, 139.6503",
    "64.1466, -21.9426",
    "E 931700 N 179000",
    "52.5200, 13.4050",
]
BAD_GRID = [
    "IQ 31700 79000",
    "TZ 12345 67890",
    "AA 123 456",
    "ZZ 1234 5678",
    "TI 309 785",
    "IT 30916 78533",
]


def grid_letters(easting: float, northing: float) -> str:
    """The two letters of the 100 km square holding a point, from the lettering tables above."""
    e100, n100 = int(easting // 100_000), int(northing // 100_000)
    first = next(
        k
        for k, (e0, n0) in FIRST_LETTER_ORIGIN_100KM.items()
        if e0 <= e100 < e0 + 5 and n0 <= n100 < n0 + 5
    )
    e0, n0 = FIRST_LETTER_ORIGIN_100KM[first]
    second = SECOND_LETTER_ROWS[4 - (n100 - n0)][e100 - e0]
    return first + second


def grid_ref(easting: float, northing: float, digits: int) -> tuple[str, str, float, float, float]:
    """(letters, digit-string pair joined by a space, centre easting, centre northing, square
    size)."""
    half = digits // 2
    size = 10.0 ** (5 - half)
    east_in = int((easting % 100_000) // size)
    north_in = int((northing % 100_000) // size)
    sw_e = (easting // 100_000) * 100_000 + east_in * size
    sw_n = (northing // 100_000) * 100_000 + north_in * size
    return (
        grid_letters(easting, northing),
        f"{east_in:0{half}d} {north_in:0{half}d}",
        sw_e + size / 2,
        sw_n + size / 2,
        size,
    )


def typo(word: str, rng: random.Random) -> str:
    """One slip of the keyboard inside a word, keeping its first letter (as people usually do)."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(["delete", "swap", "double", "substitute"])
    if op == "delete":
        return word[:i] + word[i + 1 :]
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    neighbours = {
        "a": "s",
        "e": "r",
        "i": "o",
        "o": "i",
        "r": "t",
        "n": "m",
        "m": "n",
        "t": "r",
        "s": "a",
        "l": "k",
        "u": "y",
        "p": "o",
        "d": "s",
        "h": "j",
        "y": "u",
        "w": "e",
        "g": "h",
        "c": "v",
    }
    return word[:i] + neighbours.get(word[i], "e") + word[i + 1 :]


def build(addresses: pd.DataFrame, postcodes: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """The labelled table (deterministic for given inputs and seed)."""
    rng = random.Random(seed)
    gaz = addresses.copy()
    parts = gaz["address"].str.split(",", expand=True)
    gaz["building"] = parts[1].str.strip()
    gaz["street"] = parts[2].str.strip()
    blocks = {b: g for b, g in gaz.groupby("building", sort=True)}
    centroid = {b: (g["easting"].mean(), g["northing"].mean()) for b, g in blocks.items()}
    rows: list[dict[str, object]] = []

    def add(
        kind: str,
        location: str,
        method: str,
        uprn: object = "",
        e: float = np.nan,
        n: float = np.nan,
        tol: float = np.nan,
    ) -> None:
        rows.append(
            {
                "location": location,
                "expected_method": method,
                "expected_uprn": uprn,
                "expected_easting": e,
                "expected_northing": n,
                "tolerance_m": tol,
                "kind": kind,
            }
        )

    def flat_row(kind: str, location: str, r: pd.Series) -> None:
        add(
            kind,
            location,
            "address",
            int(r["uprn"]),
            float(r["easting"]),
            float(r["northing"]),
            0.01,
        )

    def pick() -> pd.Series:
        return gaz.iloc[rng.randrange(len(gaz))]

    def split_building(b: str) -> tuple[str, str]:
        name, kind = b.rsplit(" ", 1)
        return name, kind

    # flat_exact
    for _ in range(180):
        r = pick()
        text = r["address"]
        text = rng.choice(
            [
                text,
                text.upper(),
                text.lower(),
                ", ".join(text.split(", ")[:2]),
                ", ".join(text.split(", ")[:3]),
                "  " + text + " ",
            ]
        )
        flat_row("flat_exact", text, r)

    # flat_confusable: every flat whose number shares digits with another flat in the same building
    confusable = []
    for b, g in blocks.items():
        flats = set(g["flat"].astype(int))
        for f in sorted(flats):
            s = str(f)
            twins = (
                {int(s[::-1])}
                | {int(s[:k] + s[k + 1 :]) for k in range(len(s)) if len(s) > 1}
                | {f * 10, f + 100}
            )
            twins = {t for t in twins if t != f and t in flats}
            if twins:
                confusable.append((b, f))
    for b, f in rng.sample(confusable, min(320, len(confusable))):
        r = blocks[b][blocks[b]["flat"] == f].iloc[0]
        name, kind = split_building(b)
        fmt = rng.choice(
            [
                "Flat {f}, {b}",
                "Flat {f} {b}",
                "flat {f} {name} {k}",
                "FLAT {f} {B}",
                "{f} {b}",
                "Flt {f}, {b}, {s}",
            ]
        )
        flat_row(
            "flat_confusable",
            fmt.format(f=f, b=b, name=name, k=kind.lower(), B=b.upper(), s=r["street"]),
            r,
        )

    # flat_typo
    for _ in range(360):
        r = pick()
        name, kind = split_building(r["building"])
        words = name.split()
        k = max(range(len(words)), key=lambda j: len(words[j]))  # the distinctive word
        words[k] = typo(words[k], rng)
        if rng.random() < 0.25:
            kind = rng.choice(TYPE_TYPOS[kind])
        street = r["street"]
        if rng.random() < 0.3:
            sw = street.split()
            sw[0] = typo(sw[0], rng)
            street = " ".join(sw)
        fmt = rng.choice(
            [
                "Flat {f}, {n} {k}",
                "Flat {f} {n} {k}, {s}",
                "flat {f} {n} {k}",
                "{n} {k} flat {f}",
                "Flat {f}, {n} {k}, {s}, {pc}",
            ]
        )
        flat_row(
            "flat_typo",
            fmt.format(f=r["flat"], n=" ".join(words), k=kind, s=street, pc=r["postcode"]),
            r,
        )

    # flat_abbrev
    for _ in range(300):
        r = pick()
        name, kind = split_building(r["building"])
        name = name.replace("St ", rng.choice(["St ", "St. ", "Saint ", "st "]))
        street = r["street"].replace(
            "St George's", rng.choice(["St George's", "St Georges", "St. George's"])
        )
        for full, short in ABBREV_STREET.items():
            if street.endswith(" " + full):
                street = street[: -len(full)] + rng.choice(short)
        marker = rng.choice(
            ["Flt {f}", "Fl {f}", "No. {f}", "#{f}", "flat{f}", "FLT {f}", "Flat {f}", "Apt {f}"]
        )
        text = rng.choice(["{m}, {n} {k}, {s}", "{m} {n} {k}", "{m} {n} {k} {s}"]).format(
            m=marker.format(f=r["flat"]), n=name, k=rng.choice(ABBREV_TYPE[kind]), s=street
        )
        flat_row("flat_abbrev", text, r)

    # flat_reorder
    for _ in range(240):
        r = pick()
        b = r["building"]
        name, kind = split_building(b)
        fmt = rng.choice(
            [
                "{b} Flat {f}",
                "{b}, Flat {f}",
                "{b}, {f}",
                "{f} {b}",
                "{b} flat {f}, {s}",
                "{s}, {b}, Flat {f}",
                "{n} {ab} flt {f}",
                "{b} {f}",
            ]
        )
        text = fmt.format(b=b, f=r["flat"], s=r["street"], n=name, ab=rng.choice(ABBREV_TYPE[kind]))
        flat_row("flat_reorder", text, r)

    # flat_noise
    for _ in range(240):
        r = pick()
        b = r["building"]
        fmt = rng.choice(
            [
                "o/s Flat {f}, {b}",
                "landing outside Flat {f}, {b}",
                "nr flat {f} {b}",
                "FLAT {f} {B} - STAIRWELL B",
                "door of flat {f} {b} {pc}",
                "O/S FLT {f} {B} {PC}",
                "outside flat {f}, 2nd floor, {b}",
                "Flat {f} {b} (communal landing)",
                "stairwell by flat {f}, {b}, {s}",
                "youths o/s flat {f} {b}",
            ]
        )
        text = fmt.format(
            f=r["flat"],
            b=b,
            B=b.upper(),
            pc=r["postcode"],
            PC=r["postcode"].replace(" ", ""),
            s=r["street"],
        )
        flat_row("flat_noise", text, r)

    # building_only
    for _ in range(300):
        b = rng.choice(sorted(blocks))
        name, kind = split_building(b)
        shown = rng.choice(
            [
                b,
                b,
                b.upper(),
                b.lower(),
                f"{name} {rng.choice(ABBREV_TYPE[kind])}",
                f"{typo(max(name.split(), key=len), rng) if len(name.split()) == 1 else name}"
                f" {kind}",
            ]
        )
        text = rng.choice(BUILDING_NOISE).format(b=shown)
        add("building_only", text, "address", "", centroid[b][0], centroid[b][1], 5.0)

    # gridref: 6-10 digits anywhere; 2-4 digits only standing alone or labelled as a grid reference
    for _ in range(200):
        r = pick()
        digits = rng.choice([10, 10, 8, 8, 6, 6, 4, 2])
        letters, pair, ce, cn, size = grid_ref(float(r["easting"]), float(r["northing"]), digits)
        joined = pair.replace(" ", "")
        ref = rng.choice(
            [
                f"{letters} {pair}",
                f"{letters}{joined}",
                f"{letters} {joined}",
                f"{letters.lower()} {pair}",
            ]
        )
        if digits >= 6:
            text = rng.choice(
                ["{g}", "{g}", "grid ref {g}", "youths gathering at {g}", "NGR {g}", "OS grid {g}"]
            )
        else:
            text = rng.choice(["{g}", "grid ref {g}", "NGR: {g}"])
        add("gridref", text.format(g=ref), "grid_ref", "", ce, cn, size / 2)

    # coordinates written in the text
    sample_pts = [pick() for _ in range(240)]
    lon, lat = bng_to_lonlat(
        [float(p["easting"]) for p in sample_pts], [float(p["northing"]) for p in sample_pts]
    )
    for k, p in enumerate(sample_pts):
        la, lo = round(float(lat[k]), 6), round(float(lon[k]), 6)
        e, n = float(p["easting"]), float(p["northing"])
        if k < 80:
            text = rng.choice(
                ["{la}, {lo}", "{la},{lo}", "{la} {lo}", "lat/lon {la}, {lo}", "GPS {la}, {lo}"]
            )
            add(
                "latlon_text",
                text.format(la=f"{la:.6f}", lo=f"{lo:.6f}"),
                "coordinates",
                "",
                e,
                n,
                1.0,
            )
        elif k < 160:
            text = rng.choice(["{lo}, {la}", "{lo},{la}", "{lo} {la}"])
            add(
                "latlon_swapped",
                text.format(la=f"{la:.6f}", lo=f"{lo:.6f}"),
                "coordinates",
                "",
                e,
                n,
                1.0,
            )
        else:
            e1, n1 = round(e, 1), round(n, 1)
            text = rng.choice(
                [
                    "{e:.0f} {n:.0f}",
                    "E {e:.0f} N {n:.0f}",
                    "{e:.1f}, {n:.1f}",
                    "E: {e:.1f} N: {n:.1f}",
                    "Easting {e:.0f} Northing {n:.0f}",
                    "E{e:.0f} N{n:.0f}",
                ]
            )
            shown = text.format(e=e1, n=n1)
            # what the text says is the answer (whole metres when written as whole metres)
            se, sn = (float(x) for x in re.findall(r"\d+(?:\.\d+)?", shown))
            add("en_text", shown, "coordinates", "", se, sn, 1.0)

    # postcode_only
    usable = postcodes[
        (postcodes["Positional_quality_indicator"] != 90) & (postcodes["Eastings"] > 0)
    ]
    for _ in range(160):
        p = usable.iloc[rng.randrange(len(usable))]
        pc = str(p["Postcode"])
        shown = rng.choice(
            [
                pc,
                pc.lower(),
                pc.replace(" ", ""),
                pc.lower().replace(" ", ""),
                f"near {pc}",
                f"o/s shop, {pc}",
                f"London {pc}",
                f"{pc} (caller's postcode)",
            ]
        )
        add(
            "postcode_only", shown, "postcode", "", float(p["Eastings"]), float(p["Northings"]), 0.5
        )

    # junk
    for text in JUNK_FIXED + FAR_POSTCODES + OUTSIDE_GB + BAD_GRID:
        add("junk", text, "none")
    for _ in range(140):
        add("junk", " ".join(rng.sample(JUNK_WORDS, rng.choice([1, 2, 3]))), "none")
    for b in sorted(blocks):
        name, kind = split_building(b)
        for other in ("Court", "Tower", "Mansions", "Lodge"):
            add(
                "junk",
                rng.choice(["{n} {o}", "Flat 3, {n} {o}", "stairwell of {n} {o}"]).format(
                    n=name, o=other
                ),
                "none",
            )

    table = pd.DataFrame(rows)
    table.insert(0, "case_id", [f"G{i:05d}" for i in range(len(table))])
    return table[COLUMNS]


def main() -> None:
    addresses = pd.read_csv(ADDRESSES)
    postcodes = pd.read_csv(POSTCODES)
    table = build(addresses, postcodes)
    table.to_csv(OUT, index=False, float_format="%.3f")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(table)} rows, {OUT.stat().st_size / 1024:.0f} KB")
    print(table["kind"].value_counts().to_string())


if __name__ == "__main__":
    main()
