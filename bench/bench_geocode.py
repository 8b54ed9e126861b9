"""Benchmark: geo.geocode.geocode on 100k messy rows against a 10k-flat gazetteer, as a ratio
against raw rapidfuzz doing the core of the same work in the same run.

    ours   geocode(rows, gazetteer, postcodes): parse, dedupe, match, flat lookup, output frame
    raw    rapidfuzz.process.cdist(queries, choices, scorer=fuzz.ratio, workers=-1) on the same
           normalised strings (geo.geocode.normalise_address of every row and every gazetteer
           address), then the argmax per row: the "vectorised cdist" baseline of stack-notes.md.
           100k x 10k does not fit as one float32 matrix (4 GB), so it runs in chunks of
           RAW_CHUNK rows with dtype=uint8 (1 byte a cell), keeping only each row's best.

Two scenarios, synthetic and seeded:

    blocks     the 7 real sample block names plus generated ones (some sharing a name with a
               different building type: "Heron House" and "Heron Court") on generated streets,
               10,000 flats in ~250 blocks; 100,000 rows drawn from them with flats a digit apart,
               typos, abbreviations, reordering, noise words, building-only mentions, grid
               references, coordinates, postcodes and junk.
    worst      10,000 buildings of one flat each with two-word names, 100,000 flat mentions with
               typos: nothing de-duplicates to a building, so the fuzzy match is 10k wide before
               the type-word block (a "Tower" is scored only against the ~1,700 Towers) and half
               the names tie with their reordering ("Falcon Heron Tower", "Heron Falcon Tower").

Both also report top-1 accuracy on the rows that name a flat, so speed is not bought with answers.
Both sides use every core (``geocode``'s default ``workers=-1``, and ``workers=-1`` in the raw
cdist); the ratio leaves out the index build on our side and the normalising on the raw side,
and the second ratio puts both back.
Run: ``.venv/bin/python bench/bench_geocode.py`` (1.5-2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from closuremap.geo.geocode import GazetteerIndex, geocode, load_postcodes, normalise_address
from closuremap.geo.gridref import to_gridref

ROOT = Path(__file__).resolve().parent.parent
ROWS = 100_000
FLATS = 10_000
RAW_CHUNK = 5_000
REPEAT = 3
SEED = 7

REAL = [
    "Perronet House",
    "Newman House",
    "Hayles Buildings",
    "Prospect House",
    "Laurie House",
    "St Georges Buildings",
    "Wardroper House",
]
NAMES = [
    "Heron",
    "Falcon",
    "Kestrel",
    "Osprey",
    "Merlin",
    "Swallow",
    "Raven",
    "Linnet",
    "Curlew",
    "Plover",
    "Oak",
    "Ash",
    "Rowan",
    "Hazel",
    "Willow",
    "Alder",
    "Cedar",
    "Larch",
    "Maple",
    "Elm",
    "Juniper",
    "Beacon",
    "Harbour",
    "Meridian",
    "Chaucer",
    "Milton",
    "Shelley",
    "Keats",
    "Byron",
    "Tennyson",
    "Blake",
    "Hardy",
    "Brontë",
    "Austen",
    "Dickens",
    "Ruskin",
    "Morris",
    "Wren",
    "Hawksmoor",
    "Soane",
    "Nash",
    "Barry",
    "Pugin",
    "Lutyens",
    "Fleming",
    "Faraday",
    "Newton",
    "Darwin",
    "Kelvin",
    "Brunel",
    "Telford",
]
TYPES = ["House", "Court", "Buildings", "Tower", "Mansions", "Lodge"]
STREETS = [
    "Gaywood Street",
    "Princess Street",
    "Garden Row",
    "Elliott's Row",
    "St George's Road",
    "Brook Drive",
    "Oswin Street",
    "Hayles Street",
    "Lamlash Street",
    "Borough Road",
    "Rockingham Street",
    "Meadow Row",
    "Harper Road",
    "Falmouth Road",
    "Library Street",
    "Webber Street",
    "Keyworth Street",
    "Dantzic Street",
]


def make_gazetteer(rng: random.Random) -> pd.DataFrame:
    """10,000 flats: the real blocks first, then generated names, 20-60 flats each, until the
    count is reached."""
    names = list(REAL)
    seen = set(REAL)
    rows: list[dict[str, object]] = []
    uprn = 880_000_000_000
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    while len(rows) < FLATS:
        if names:
            block = names.pop(0)
        else:
            words = [rng.choice(NAMES) for _ in range(2 if rng.random() < 0.15 else 1)]
            block = f"{' '.join(words)} {rng.choice(TYPES)}"
            if block in seen:
                continue
            seen.add(block)
        street = rng.choice(STREETS)
        postcode = f"SE1 {rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"
        cx, cy = 531000 + rng.uniform(0, 1500), 178500 + rng.uniform(0, 1500)
        for flat in range(1, rng.randint(20, 60) + 1):
            if len(rows) >= FLATS:
                break
            uprn += 1
            rows.append(
                {
                    "uprn": uprn,
                    "block": block,
                    "street": street,
                    "postcode": postcode,
                    "flat": flat,
                    "easting": round(cx + rng.uniform(-15, 15), 2),
                    "northing": round(cy + rng.uniform(-15, 15), 2),
                }
            )
    frame = pd.DataFrame(rows)
    frame["address"] = (
        "Flat "
        + frame["flat"].astype(str)
        + ", "
        + frame["block"]
        + ", "
        + frame["street"]
        + ", London, "
        + frame["postcode"]
    )
    return frame[["uprn", "address", "easting", "northing", "block", "flat", "street", "postcode"]]


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return rng.choice(
        [
            word[:i] + word[i + 1 :],
            word[:i] + word[i + 1] + word[i] + word[i + 2 :],
            word[:i] + word[i] + word[i:],
        ]
    )


def make_rows(gaz: pd.DataFrame, postcodes: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """100,000 messy locations drawn from the gazetteer (most distinct: typos make them so)."""
    recs = gaz.to_dict("records")
    pcs = postcodes["Postcode"].tolist()
    out = []
    for i in range(ROWS):
        r = recs[rng.randrange(len(recs))]
        name, kind = r["block"].rsplit(" ", 1)
        u = rng.random()
        expected = None
        if u < 0.55:
            expected = r["uprn"]
            if rng.random() < 0.5:
                words = name.split()
                words[-1] = typo(words[-1], rng)
                name = " ".join(words)
            k = (
                {"House": "Hse", "Buildings": "Bldgs", "Court": "Ct"}.get(kind, kind)
                if rng.random() < 0.3
                else kind
            )
            text = rng.choice(
                [
                    "Flat {f}, {n} {k}, {s}",
                    "Flt {f} {n} {k}",
                    "{n} {k} flat {f}",
                    "{f} {n} {k}",
                    "o/s flat {f} {n} {k} {pc}",
                    "FLAT {f} {N} {K}",
                ]
            ).format(
                f=r["flat"],
                n=name,
                k=k,
                s=r["street"],
                pc=r["postcode"],
                N=name.upper(),
                K=k.upper(),
            )
        elif u < 0.75:
            text = rng.choice(
                ["stairwell of {b}", "o/s {b}", "Landings B, {b}", "nr {b} bin store"]
            ).format(b=r["block"])
        elif u < 0.82:
            text = to_gridref(r["easting"], r["northing"], rng.choice([10, 8, 6]))
        elif u < 0.87:
            text = f"E {r['easting']:.0f} N {r['northing']:.0f}"
        elif u < 0.93:
            text = rng.choice(pcs)
        else:
            text = rng.choice(
                [
                    "unknown",
                    "n/a",
                    "see notes",
                    "purple elephant",
                    "no fixed abode",
                    f"call ref {i}",
                ]
            )
        out.append({"incident_ref": f"CAD{i:06d}", "location": text, "expected_uprn": expected})
    return pd.DataFrame(out)


def make_distinct(rng: random.Random) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The worst case for the building-level match: 10,000 buildings of one flat each, every name
    two words ("Falcon Heron Tower"), so nothing de-duplicates and every name has a shorter
    form."""
    combos = [f"{x} {y} {t}" for x in NAMES for y in NAMES if x != y for t in TYPES]
    rng.shuffle(combos)
    combos = combos[:FLATS]
    gaz = pd.DataFrame(
        {
            "uprn": np.arange(FLATS, dtype=np.int64) + 770_000_000_000,
            "address": [f"Flat 1, {c}, Gaywood Street, London" for c in combos],
            "easting": [531000 + rng.uniform(0, 1500) for _ in combos],
            "northing": [178500 + rng.uniform(0, 1500) for _ in combos],
        }
    )
    locs, want = [], []
    for _ in range(ROWS):
        k = rng.randrange(FLATS)
        words = combos[k].split()
        if rng.random() < 0.5:
            words[1] = typo(words[1], rng)
        locs.append(rng.choice(["Flat 1, {}", "flt 1 {}", "o/s flat 1 {}"]).format(" ".join(words)))
        want.append(gaz["uprn"].iloc[k])
    return gaz, pd.DataFrame({"location": locs, "expected_uprn": want})


def timed(fn: object, repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` runs (the machine is shared) and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def raw_cdist(rows: pd.DataFrame, gaz: pd.DataFrame) -> tuple[float, float, NDArray]:
    """The baseline: normalise both sides, then chunked cdist ratio (uint8) and the best per row."""
    t = time.perf_counter()
    queries = [normalise_address(s) for s in rows["location"]]
    choices = [normalise_address(s) for s in gaz["address"]]
    t_norm = time.perf_counter() - t
    t = time.perf_counter()
    best = np.empty(len(queries), dtype=np.int64)
    for lo in range(0, len(queries), RAW_CHUNK):
        scores = process.cdist(
            queries[lo : lo + RAW_CHUNK], choices, scorer=fuzz.ratio, dtype=np.uint8, workers=-1
        )
        best[lo : lo + RAW_CHUNK] = scores.argmax(axis=1)
    return time.perf_counter() - t, t_norm, best


def report(
    name: str,
    rows: pd.DataFrame,
    gaz: pd.DataFrame,
    result: pd.DataFrame,
    t_ours: float,
    t_index: float,
    t_raw: float,
    t_norm: float,
    best: NDArray,
) -> dict[str, float]:
    flat_rows = rows["expected_uprn"].notna().to_numpy()
    want = rows["expected_uprn"].to_numpy()[flat_rows].astype("int64")
    ours_ok = (result["uprn"].to_numpy()[flat_rows] == want).mean()
    raw_ok = (gaz["uprn"].to_numpy()[best[flat_rows]] == want).mean()
    print(
        f"\n{name}: {len(rows):,} rows ({rows['location'].nunique():,} distinct) "
        f"x {len(gaz):,} flats"
    )
    print(
        f"  methods: {result['match_method'].value_counts().to_dict()}; needs_review "
        f"{int(result['needs_review'].sum()):,}"
    )
    print(
        f"  ours  geocode(...)                                   {t_ours:6.2f} s  "
        f"(+ index build {t_index:.2f} s)"
    )
    print(
        f"  raw   cdist ratio {len(rows):,} x {len(gaz):,}, {RAW_CHUNK:,}-row chunks, uint8  "
        f"{t_raw:6.2f} s  (+ normalising both sides {t_norm:.2f} s)"
    )
    print(
        f"  ratio ours / raw cdist: {t_ours / t_raw:.2f};  with index build / with normalising: "
        f"{(t_ours + t_index) / (t_raw + t_norm):.2f}"
    )
    print(
        f"  top-1 right UPRN on the {flat_rows.sum():,} rows naming a flat: ours {ours_ok:.2%}, "
        f"raw cdist argmax {raw_ok:.2%}"
    )
    return {
        "ours_s": t_ours,
        "ours_index_s": t_index,
        "raw_s": t_raw,
        "raw_normalise_s": t_norm,
        "ours_top1": float(ours_ok),
        "raw_top1": float(raw_ok),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write both scenarios' figures to this file")
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    postcodes = load_postcodes(
        ROOT / "data" / "postcodes" / "codepoint_open_2025-10_southwark_estate_1km.csv"
    )
    print(
        f"{os.cpu_count()} cores; medians of {REPEAT} runs for the blocks scenario, "
        "1 run for the worst case"
    )

    gaz = make_gazetteer(rng)
    rows = make_rows(gaz, postcodes, rng)
    t_index, index = timed(lambda: GazetteerIndex.from_frame(gaz), REPEAT)
    t_ours, result = timed(
        lambda: geocode(rows, index, postcodes, location_column="location"), REPEAT
    )
    assert (
        len(result) == len(rows)
        and (result["incident_ref"].to_numpy() == rows["incident_ref"].to_numpy()).all()
    )
    t_raw, (_, t_norm, best) = timed(lambda: raw_cdist(rows, gaz), REPEAT)
    typical = report(
        f"blocks of flats ({gaz['block'].nunique()} blocks)",
        rows,
        gaz,
        result,
        t_ours,
        t_index,
        t_raw,
        t_norm,
        best,
    )

    gaz2, rows2 = make_distinct(rng)
    t_index2, index2 = timed(lambda: GazetteerIndex.from_frame(gaz2), 1)
    t_ours2, result2 = timed(lambda: geocode(rows2, index2, location_column="location"), 1)
    t_raw2, (_, t_norm2, best2) = timed(lambda: raw_cdist(rows2, gaz2), 1)
    worst = report(
        "worst case (10,000 one-flat buildings, two-word names)",
        rows2,
        gaz2,
        result2,
        t_ours2,
        t_index2,
        t_raw2,
        t_norm2,
        best2,
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"typical": typical, "worst": worst}, indent=2))


if __name__ == "__main__":
    main()
