"""Offline geocoding of incident locations to British National Grid, for the review queue and the map.

CAD and housing exports describe where something happened in whatever way the call-taker typed it:
coordinates (sometimes with latitude and longitude swapped), an OS grid reference, "Flt 12 Perronet
Hse", "stairwell of St Georges Bldgs", a postcode, or "see notes". :func:`geocode` places each row
by the most exact evidence it holds, in this order, and says which it used and why:

1. ``coordinates``: easting/northing or latitude/longitude columns, or a pair written in the text
   ("51.4952, -0.1021", "E 531700 N 179000"). Swapped latitude/longitude is fixed and said so;
   anything outside Great Britain is rejected with the reason (and the row falls through).
2. ``grid_ref``: an OS grid reference in the text, at the centre of the square it names.
3. ``address``: fuzzy match against the gazetteer. Flat numbers and building-type words
   (House, Court, Buildings...) must agree exactly - "Flat 12" is never "Flat 21", "Heron House" is
   never "Heron Court" - while the building's name may be misspelt, abbreviated or reordered. A
   location that names a building but no flat ("o/s Perronet House") is placed at the centre of
   that building's flats, with an empty UPRN.
4. ``postcode``: the Code-Point Open centroid of a full postcode in the text.
5. ``none``, with the reason.

Nothing here touches the network or the UI. Fuzzy scoring is vectorised (``rapidfuzz.process.cdist``
over de-duplicated, normalised strings, in chunks, against the gazetteer's buildings rather than its
every flat), so 100k rows cost less than one raw cdist of them against the gazetteer
(``bench/bench_geocode.py``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from .columns import (
    EASTING_NAMES,
    LAT_NAMES,
    LON_NAMES,
    NORTHING_NAMES,
    X_NAMES,
    Y_NAMES,
    find_column,
)
from .crs import bng_to_lonlat, in_bng_range, in_lonlat_range, lonlat_to_bng
from .errors import ClosuremapError, InputFileError
from .gridref import find_gridrefs

__all__ = [
    "GeocodeError",
    "GazetteerIndex",
    "ParsedAddress",
    "MATCH_METHODS",
    "OUTPUT_COLUMNS",
    "geocode",
    "load_gazetteer",
    "load_postcodes",
    "normalise_address",
    "normalise_postcode",
    "parse_address",
    "find_postcode",
]


class GeocodeError(ClosuremapError):
    """Input the geocoder cannot work with: no location column, or a gazetteer/postcode file without
    the columns it needs. The message names the columns found and the fix."""


#: Values of ``match_method``, most exact first.
MATCH_METHODS = ("coordinates", "grid_ref", "address", "postcode", "none")
#: Columns :func:`geocode` adds (or replaces) on its copy of the input.
OUTPUT_COLUMNS = (
    "easting",
    "northing",
    "lat",
    "lon",
    "match_method",
    "match_score",
    "matched_address",
    "uprn",
    "reason",
    "needs_review",
)

GAZETTEER_COLUMNS = ("uprn", "address", "easting", "northing")
POSTCODE_COLUMNS = ("Postcode", "Eastings", "Northings")
#: Column order of a headerless Code-Point Open data file (OS's Code-Point Open user guide).
CODEPOINT_HEADER = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
)

#: Names (lower case, letters and digits only) taken for the location text, best first.
LOCATION_COLUMN_NAMES = (
    "location",
    "locationtext",
    "locationdescription",
    "incidentlocation",
    "address",
    "addresstext",
    "fulladdress",
    "locationaddress",
    "incidentaddress",
    "place",
    "loc",
)
# Coordinate columns: the importer's names (geo.columns), x/y read like easting/northing (the checks
# below tell metres from degrees and fix swaps).
_EASTING_NAMES = EASTING_NAMES + X_NAMES
_NORTHING_NAMES = NORTHING_NAMES + Y_NAMES
_LAT_NAMES = LAT_NAMES
_LON_NAMES = LON_NAMES

#: Score given per method where no fuzzy score applies. A postcode centroid is a street, not a door:
#: it is returned but stays in the review queue at the default threshold.
COORDINATE_SCORE = 100.0
#: Coordinates found in free text ("CAD 240512 / 181234 youths ...") may be any two numbers: they are
#: taken only inside the gazetteer's area (plus this margin) and always go to review.
TEXT_COORDINATE_MARGIN_M = 2_000.0
TEXT_COORDINATE_SCORE = 80.0
POSTCODE_SCORE = 60.0
#: Grid references: score by the size of the square they name (1 m .. 100 km).
GRIDREF_SCORE = {
    1.0: 100.0,
    10.0: 100.0,
    100.0: 90.0,
    1_000.0: 70.0,
    10_000.0: 50.0,
    100_000.0: 20.0,
}
#: A building named without a flat is a less exact answer than a flat: its score is scaled by this.
BUILDING_ONLY_FACTOR = 0.9
#: A name this close to a building of another type is mentioned in the reason (never matched).
NEAR_MISS_SCORE = 80.0
#: An ambiguous name (two buildings tie) or a flat missing from its building never passes a threshold.
AMBIGUOUS_SCORE_CAP = 50.0

# --- vocabulary ---------------------------------------------------------------------------------

#: Words that end a building's name and must match exactly.
BUILDING_TYPES = frozenset(
    {
        "house",
        "court",
        "buildings",
        "tower",
        "mansions",
        "lodge",
        "point",
        "heights",
        "apartments",
        "cottages",
        "chambers",
        "hall",
        "villas",
        "wharf",
        "works",
    }
)
#: Words that end a street's name; matched exactly too.
STREET_TYPES = frozenset(
    {
        "street",
        "road",
        "avenue",
        "lane",
        "row",
        "close",
        "way",
        "walk",
        "grove",
        "terrace",
        "crescent",
        "drive",
        "place",
        "square",
        "gardens",
        "hill",
        "parade",
        "mews",
        "rise",
        "green",
        "circus",
        "passage",
        "yard",
        "approach",
        "embankment",
        "park",
        "boulevard",
        "broadway",
        "vale",
        "path",
    }
)
#: Abbreviations and variants, expanded before anything else ("st" is decided by context).
ABBREVIATIONS = {
    "hse": "house",
    "hs": "house",
    "ho": "house",
    "hous": "house",
    "ct": "court",
    "crt": "court",
    "crts": "court",
    "bldgs": "buildings",
    "bldg": "buildings",
    "blds": "buildings",
    "bldngs": "buildings",
    "bdgs": "buildings",
    "building": "buildings",
    "blgs": "buildings",
    "twr": "tower",
    "towers": "tower",
    "mans": "mansions",
    "mansion": "mansions",
    "hts": "heights",
    "apts": "apartments",
    "cotts": "cottages",
    "cottage": "cottages",
    "villa": "villas",
    "houses": "house",
    "courts": "court",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "avn": "avenue",
    "ln": "lane",
    "cl": "close",
    "gdns": "gardens",
    "gdn": "gardens",
    "pl": "place",
    "sq": "square",
    "terr": "terrace",
    "ter": "terrace",
    "tce": "terrace",
    "cres": "crescent",
    "cresc": "crescent",
    "dr": "drive",
    "gr": "grove",
    "gro": "grove",
    "grv": "grove",
    "wk": "walk",
    "pde": "parade",
    "hl": "hill",
    "flt": "flat",
    "fl": "flat",
    "flats": "flat",
    "apt": "flat",
    "appt": "flat",
    "apartment": "flat",
    "unit": "flat",
    "maisonette": "flat",
    "falt": "flat",
    "flta": "flat",
    "num": "no",
    "number": "no",
    "nos": "no",
    "nbr": "no",
    "os": "outside",
    "opp": "opposite",
    "nr": "near",
    "jct": "junction",
    "junc": "junction",
    "jnc": "junction",
    "jn": "junction",
    "btwn": "between",
    "btw": "between",
    "adj": "adjacent",
    "stairwells": "stairwell",
    "landings": "landing",
    "lobbies": "lobby",
    "corridors": "corridor",
}
#: Names after which "St" means Saint even mid-address ("Gaywood St" is a street, "St Georges" a saint).
SAINT_NAMES = frozenset(
    {
        "george",
        "georges",
        "john",
        "johns",
        "mary",
        "marys",
        "james",
        "jamess",
        "paul",
        "pauls",
        "peter",
        "peters",
        "andrew",
        "andrews",
        "david",
        "davids",
        "patrick",
        "patricks",
        "thomas",
        "thomass",
        "margaret",
        "margarets",
        "leonard",
        "leonards",
        "alban",
        "albans",
        "helen",
        "helens",
        "michael",
        "michaels",
        "luke",
        "lukes",
        "mark",
        "marks",
        "matthew",
        "matthews",
        "anne",
        "annes",
        "agnes",
        "giles",
        "martin",
        "martins",
        "stephen",
        "stephens",
        "jude",
        "judes",
        "katharine",
        "katharines",
        "catherine",
        "catherines",
        "bride",
        "brides",
        "clement",
        "clements",
        "barnabas",
        "saviour",
        "saviours",
        "olave",
        "olaves",
        "botolph",
        "botolphs",
        "dunstan",
        "dunstans",
        "pancras",
        "gabriel",
        "gabriels",
        "lawrence",
        "lawrences",
        "nicholas",
        "bartholomew",
        "bartholomews",
    }
)
#: Location nouns around a building ("stairwell", "bin store"). Ignored for matching, but one of them
#: directly before a type word is the name ("Gate House").
SOFT_NOISE = frozenset(
    {
        "stairwell",
        "stairway",
        "stairs",
        "staircase",
        "stair",
        "steps",
        "landing",
        "lobby",
        "entrance",
        "entry",
        "foyer",
        "corridor",
        "hallway",
        "walkway",
        "balcony",
        "deck",
        "access",
        "lift",
        "lifts",
        "bin",
        "bins",
        "chute",
        "cupboard",
        "door",
        "doors",
        "doorway",
        "gate",
        "gates",
        "communal",
        "area",
        "areas",
        "garage",
        "garages",
        "roof",
        "basement",
        "ground",
        "floor",
        "floors",
        "level",
        "storey",
        "block",
        "estate",
        "store",
        "main",
        "rear",
        "back",
        "front",
        "side",
        "top",
        "bottom",
        "window",
        "windows",
        "car",
        "shed",
        "passageway",
        "ramp",
        "meter",
        "cupboards",
        "playground",
        "courtyard",
        "alley",
        "alleyway",
        "forecourt",
        "podium",
        "bridge",
        "underpass",
        "tunnel",
    }
)
#: Words that never name a place here: prepositions, filler, and the "no location" phrases.
HARD_NOISE = frozenset(
    {
        "outside",
        "near",
        "opposite",
        "junction",
        "between",
        "by",
        "at",
        "of",
        "in",
        "on",
        "the",
        "and",
        "to",
        "from",
        "for",
        "with",
        "behind",
        "adjacent",
        "next",
        "corner",
        "beside",
        "inside",
        "within",
        "around",
        "off",
        "into",
        "nearby",
        "close",
        "vicinity",
        "approx",
        "approximately",
        "london",
        "uk",
        "england",
        "unknown",
        "unk",
        "notes",
        "note",
        "see",
        "tbc",
        "tba",
        "na",
        "nan",
        "none",
        "nil",
        "various",
        "not",
        "known",
        "given",
        "location",
        "locations",
        "address",
        "withheld",
        "nfa",
        "fixed",
        "abode",
        "open",
        "space",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "upper",
        "lower",
        "a",
        "an",
        "flat",
        "no",
        "details",
        "refer",
        "report",
        "reported",
        "per",
        "caller",
        "call",
        "info",
        "information",
        "unspecified",
        "unclear",
        "anonymous",
        "anon",
        "multiple",
        "somewhere",
    }
)
#: Nouns that may be followed by their own number or letter ("stairwell 2", "landing B", "floor 3").
NUMBERED_NOISE = frozenset(
    {
        "stairwell",
        "stairway",
        "stairs",
        "staircase",
        "stair",
        "landing",
        "lobby",
        "block",
        "floor",
        "level",
        "lift",
        "entrance",
        "storey",
        "deck",
        "door",
        "core",
        "bin",
        "store",
        "gate",
        "garage",
    }
)
_KEYWORDS = (
    BUILDING_TYPES
    | STREET_TYPES
    | SOFT_NOISE
    | HARD_NOISE
    | SAINT_NAMES
    | frozenset(ABBREVIATIONS)
    | frozenset(ABBREVIATIONS.values())
    | {"st", "saint"}
)
# Misspellings of these are corrected (OSA distance 1, or 2 for long words) when unambiguous.
_CORRECTABLE = sorted(
    w for w in (BUILDING_TYPES | STREET_TYPES | SOFT_NOISE | HARD_NOISE) if len(w) >= 5
)
# "close" is both a street type and a preposition; as a street type it wins when it ends a street name.
_HARD_ONLY = HARD_NOISE - STREET_TYPES

_NUMBER = re.compile(r"^\d+[a-z]?$")
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$")
_APOS = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^a-z0-9,]+")
_GLUED_MARKER = re.compile(r"\b(flat|flt|apt|unit|no|fl)(?=\d)")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2}\d[A-Za-z\d]?)[ \t]*(\d[A-Za-z]{2})(?![A-Za-z0-9])"
)
_LATLON_TEXT = re.compile(
    r"(?<![\w.])([-+]?\d{1,3}\.\d{3,})[ \t]*°?[ \t]*([NSEWnsew])?[ \t]*[,;/ \t][ \t]*"
    r"([-+]?\d{1,3}\.\d{3,})[ \t]*°?[ \t]*([NSEWnsew])?(?![\w.])"
)
_EN_TEXT = re.compile(
    r"(?<![\w.])(?:(e|east|easting|x)[ \t]*[:=]?[ \t]*)?(\d{5,6}(?:\.\d+)?)[ \t]*m?[ \t]*[,;/ \t][ \t]*"
    r"(?:(n|north|northing|y)[ \t]*[:=]?[ \t]*)?(\d{5,7}(?:\.\d+)?)[ \t]*m?(?![\w.])",
    re.IGNORECASE,
)
_NE_TEXT = re.compile(
    r"(?<![\w.])(?:n|north|northing)[ \t]*[:=]?[ \t]*(\d{5,7}(?:\.\d+)?)[ \t]*m?[ \t]*[,;/ \t][ \t]*"
    r"(?:e|east|easting)[ \t]*[:=]?[ \t]*(\d{5,6}(?:\.\d+)?)[ \t]*m?(?![\w.])",
    re.IGNORECASE,
)
# What may surround a short grid reference for it to count as the whole location.
_GRID_LABELS = re.compile(
    r"\b(?:os|osgb|osgr|ngr|grid|gridref|ref|reference|gr|national|at|loc|location)\b"
)


# --- small public helpers -----------------------------------------------------------------------


def normalise_postcode(text: str) -> str | None:
    """``"se16fy"`` -> ``"SE1 6FY"``: upper case, one space before the inward code; None if not a postcode."""
    compact = re.sub(r"\s+", "", str(text)).upper()
    m = re.fullmatch(r"([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})", compact)
    return f"{m.group(1)} {m.group(2)}" if m else None


def find_postcode(text: str) -> tuple[str, int, int] | None:
    """The first full UK postcode in free text, normalised, with its span; None if there is none."""
    m = _POSTCODE.search(text)
    if not m:
        return None
    return f"{m.group(1).upper()} {m.group(2).upper()}", m.start(), m.end()


def _fold(text: str) -> str:
    """Accents off ("Brontë" -> "Bronte"), so a keyboard without them still matches."""
    if text.isascii():
        return text
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def _raw_tokens(text: str) -> list[str]:
    t = _fold(text).lower()
    t = t.replace("o/s", " outside ").replace("&", " and ").replace("#", " no ")
    t = _APOS.sub("", t)
    t = _GLUED_MARKER.sub(r"\1 ", t)
    t = _NON_WORD.sub(" ", t.replace(",", " , "))
    return t.split()


@dataclass(frozen=True)
class ParsedAddress:
    """What an address or location says, normalised: the unit and the container it is in.

    ``core`` is the distinctive part of the container's name ("perronet", "saint georges"); ``kind`` is
    its exact type word ("house", "buildings", "road") or None when the text gave none; ``context`` is
    the street when the container is a building (used only to break ties); ``unit`` is the flat (or,
    on a street, the house number) that must agree exactly.
    """

    core: str
    kind: str | None
    context: str
    unit: str | None
    flat: str | None
    house: str | None
    scope: str  # "building", "street", "bare" or "" (nothing to match)
    fallback: ParsedAddress | None = None


_EMPTY = ParsedAddress("", None, "", None, None, None, "")


def _unit_id(token: str) -> str:
    """Flat ids compare as written, without leading zeros: "012" is flat 12, "12a" stays "12a"."""
    digits = token.rstrip("abcdefghijklmnopqrstuvwxyz")
    return (str(int(digits)) + token[len(digits) :]) if digits else token


class _Normaliser:
    """Tokenises and parses locations; corrects typos of keywords, never of gazetteer words."""

    def __init__(self, protected: frozenset[str] = frozenset()) -> None:
        self.protected = protected
        self._fix: dict[str, str] = {}

    def _correct(self, token: str) -> str:
        fixed = self._fix.get(token)
        if fixed is None:
            fixed = token
            if len(token) >= 5 and token.isalpha() and token not in self.protected:
                max_d = 2 if len(token) >= 8 else 1
                hits = process.extract(
                    token, _CORRECTABLE, scorer=OSA.distance, limit=2, score_cutoff=max_d
                )
                if hits and (len(hits) == 1 or hits[0][1] < hits[1][1]):
                    hit = hits[0][0]
                    # "garden"/"gardens", "tower"/"towers": a real word, not a slip of the keyboard
                    if hit.rstrip("s") != token.rstrip("s"):
                        fixed = hit
            self._fix[token] = fixed
        return fixed

    def tokens(self, text: str) -> list[str]:
        """Lower case, abbreviations expanded, keyword typos fixed, "St" resolved; commas kept as ",".

        >>> _Normaliser().tokens("Flt 12, St George's Bldgs, Princess St")
        ['flat', '12', ',', 'saint', 'georges', 'buildings', ',', 'princess', 'street']
        """
        out: list[str] = []
        for tok in _raw_tokens(text):
            if tok in _KEYWORDS or tok in self.protected:
                out.append(ABBREVIATIONS.get(tok, tok))
            else:
                out.append(self._correct(tok))
        for i, tok in enumerate(out):
            if tok != "st":
                continue
            nxt = out[i + 1] if i + 1 < len(out) else None
            prv = out[i - 1] if i > 0 else None
            if nxt in SAINT_NAMES:
                out[i] = "saint"
            elif (
                prv is not None
                and prv.isalpha()
                and prv not in HARD_NOISE
                and prv not in SOFT_NOISE
                and prv not in BUILDING_TYPES
                and prv not in STREET_TYPES
            ):
                out[i] = "street"
            else:
                out[i] = "saint"
        return out

    def parse(self, text: str) -> ParsedAddress:
        """Split a location into flat, building (or street) and context; see :func:`parse_address`."""
        toks = self.tokens(text)
        n = len(toks)
        used = [False] * n
        flat: str | None = None
        for i, tok in enumerate(toks):
            nxt = toks[i + 1] if i + 1 < n else ""
            if used[i]:
                continue
            if tok in ("flat", "no") and (
                _NUMBER.match(nxt) or (tok == "flat" and len(nxt) == 1 and nxt.isalpha())
            ):
                if flat is None:
                    flat = _unit_id(nxt)
                used[i] = used[i + 1] = True
            elif tok in NUMBERED_NOISE and (
                _NUMBER.match(nxt) or (len(nxt) == 1 and nxt.isalpha())
            ):
                used[i] = used[i + 1] = True  # "stairwell 2", "landing b": not a flat
            elif tok == "car" and nxt == "park":
                used[i] = used[i + 1] = True
            elif _ORDINAL.match(tok):
                used[i] = True

        def cls(i: int) -> str:
            tok = toks[i]
            if tok == ",":
                return "sep"
            if _NUMBER.match(tok):
                return "num"
            if tok in BUILDING_TYPES:
                return "btype"
            if tok in STREET_TYPES:
                return "stype"
            if tok in SOFT_NOISE:
                return "soft"
            if tok in _HARD_ONLY or len(tok) == 1 or not tok.isalpha():
                return "hard"
            return "name"

        kinds = [cls(i) for i in range(n)]

        def prev_index(i: int) -> int:
            """The nearest token before i, skipping commas; -1 if none."""
            j = i - 1
            while j >= 0 and kinds[j] == "sep":
                j -= 1
            return j

        def next_index(i: int) -> int:
            j = i + 1
            while j < n and kinds[j] == "sep":
                j += 1
            return j if j < n else -1

        # building: a type word and the name words before it (a street type may end the name: "Park House")
        building: tuple[str, str, int, int] | None = None
        for j in range(n):
            if used[j] or kinds[j] != "btype":
                continue
            run: list[int] = []
            k = j - 1
            while k >= 0 and not used[k] and len(run) < 4:
                if kinds[k] == "name" or (kinds[k] == "stype" and not run):
                    run.append(k)
                    k -= 1
                    continue
                break
            if not run and k >= 0 and not used[k] and kinds[k] == "soft":
                run = [k]  # "Gate House": a location noun is the name
            if run:
                start = min(run)
                building = (" ".join(toks[x] for x in sorted(run)), toks[j], start, j)
                for x in run + [j]:
                    used[x] = True
                break

        # street: a street type and the name words before it, with its house number if any
        street: tuple[str, str] | None = None
        house: str | None = None
        for j in range(n):
            if used[j] or kinds[j] != "stype":
                continue
            run = []
            k = j - 1
            while k >= 0 and not used[k] and kinds[k] == "name" and len(run) < 4:
                run.append(k)
                k -= 1
            if run:
                street = (" ".join(toks[x] for x in sorted(run)), toks[j])
                for x in run + [j]:
                    used[x] = True
                k = prev_index(k + 1) if k >= 0 and kinds[k] == "sep" else k  # "12, example street"
                if k >= 0 and not used[k] and kinds[k] == "num":
                    house = _unit_id(toks[k])
                    used[k] = True
                break

        context = f"{street[0]} {street[1]}" if street else ""
        if building is not None:
            core, kind, start, end = building
            if flat is None:
                for k in (prev_index(start), next_index(end)):
                    if k >= 0 and not used[k] and kinds[k] == "num":
                        flat = _unit_id(toks[k])
                        used[k] = True
                        break
            return ParsedAddress(core, kind, context, flat, flat, house, "building")

        names = [i for i in range(n) if not used[i] and kinds[i] == "name"]
        street_parse = None
        if street is not None:
            unit = f"{house}/{flat}" if house and flat else (house or flat)
            street_parse = ParsedAddress(street[0], street[1], "", unit, flat, house, "street")
            if flat is not None and house is None and not names and len(street[0].split()) >= 2:
                # "flat 7 the example institute some road": a flat is in a building, and a building may
                # have no type word; the words before the street type may be that building and the
                # street. Try them as a building first (its name may be any run of them), the street after.
                return ParsedAddress(
                    street[0], None, context, flat, flat, None, "bare", fallback=street_parse
                )
        if names:
            if flat is None:
                nums = [i for i in range(n) if not used[i] and kinds[i] == "num"]
                if len(nums) == 1:
                    flat = _unit_id(toks[nums[0]])
            return ParsedAddress(
                " ".join(toks[i] for i in names),
                None,
                context,
                flat,
                flat,
                house,
                "bare",
                fallback=street_parse,
            )
        return (
            street_parse
            if street_parse is not None
            else ParsedAddress("", None, "", flat, flat, house, "")
        )


_DEFAULT_NORMALISER = _Normaliser()


def normalise_address(text: str) -> str:
    """One address or location as matching sees it: lower case, no punctuation, abbreviations expanded.

    >>> normalise_address("Flt 12, Perronet Hse, Princess St, SE1 6FY")
    'flat 12 perronet house princess street se1 6fy'
    """
    return " ".join(t for t in _DEFAULT_NORMALISER.tokens(str(text)) if t != ",")


def parse_address(text: str) -> ParsedAddress:
    """Flat, building and street of a location, ignoring noise ("stairwell", "o/s") and postcodes.

    >>> p = parse_address("stairwell B, o/s Flat 12 Perronet Hse")
    >>> (p.core, p.kind, p.flat)
    ('perronet', 'house', '12')
    """
    found = find_postcode(text)
    if found:
        text = text[: found[1]] + " , " + text[found[2] :]
    return _DEFAULT_NORMALISER.parse(text)


# --- loading ------------------------------------------------------------------------------------


def _read_csv(path: str | Path, what: str, **kwargs: Any) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{what} file {p} does not exist")
    try:
        return pd.read_csv(p, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{what} file {p} cannot be read as CSV: {exc}") from exc


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str, where: str) -> pd.DataFrame:
    """The frame with ``columns`` under their canonical names (matched case-insensitively), or an error."""
    lower = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in columns if c.lower() not in lower]
    if missing:
        raise GeocodeError(
            f"{what} {where} lacks column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, frame.columns)) or 'none'}. "
            f"A {what} needs {', '.join(columns)}: rename the columns in the file"
        )
    return frame.rename(columns={lower[c.lower()]: c for c in columns if lower[c.lower()] != c})


def check_gazetteer(gazetteer: pd.DataFrame, where: str = "") -> pd.DataFrame:
    """A copy of the gazetteer with ``uprn, address, easting, northing`` present and coordinates numeric."""
    frame = _require(gazetteer, GAZETTEER_COLUMNS, "gazetteer", where or "(DataFrame)").copy()
    for col in ("easting", "northing"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def load_gazetteer(path: str | Path) -> pd.DataFrame:
    """Read an address gazetteer CSV (``uprn, address, easting, northing`` in BNG; other columns kept).

    UPRNs are read as text so leading zeros and 12-digit values survive. Raises
    :class:`GeocodeError` naming the missing columns, :class:`InputFileError` if it cannot be read.
    """
    frame = _read_csv(path, "gazetteer", dtype={"uprn": str, "UPRN": str})
    return check_gazetteer(frame, str(path))


def check_postcodes(postcodes: pd.DataFrame, where: str = "") -> pd.DataFrame:
    """A copy of a Code-Point Open table with ``Postcode, Eastings, Northings`` present and numeric."""
    frame = _require(postcodes, POSTCODE_COLUMNS, "postcode table", where or "(DataFrame)").copy()
    for col in ("Eastings", "Northings"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def load_postcodes(path: str | Path) -> pd.DataFrame:
    """Read a Code-Point Open CSV, with its header row or without one (OS ships the data headerless).

    Raises :class:`GeocodeError` naming the missing columns, :class:`InputFileError` if unreadable.
    """
    frame = _read_csv(path, "postcode", dtype=str)
    if len(frame.columns) >= 4 and normalise_postcode(str(frame.columns[0])) is not None:
        # headerless Code-Point Open: the first row was taken as the header
        frame = _read_csv(path, "postcode", dtype=str, header=None)
        frame.columns = list(CODEPOINT_HEADER[: len(frame.columns)]) + [
            f"column_{i}" for i in range(len(CODEPOINT_HEADER), len(frame.columns))
        ]
    return check_postcodes(frame, str(path))


# --- the gazetteer index ------------------------------------------------------------------------


@dataclass
class GazetteerIndex:
    """A gazetteer prepared for matching: its containers (buildings, streets) and their units.

    Build it once with :meth:`from_frame` and pass it to :func:`geocode` as often as you like (a page
    can cache it); passing the DataFrame builds it on every call.
    """

    cores: list[str]
    kinds: list[str | None]
    contexts: list[str]
    display: list[str]
    centroid_e: NDArray[np.float64]
    centroid_n: NDArray[np.float64]
    size: NDArray[np.int64]
    postcode: list[str | None]
    units: dict[tuple[int, str], int]
    uprn: NDArray[Any]
    address: NDArray[np.object_]
    easting: NDArray[np.float64]
    northing: NDArray[np.float64]
    vocab: frozenset[str]
    unparsed: list[int] = field(default_factory=list)
    on_street: dict[str, list[int]] = field(default_factory=dict)
    #: Shorter forms of the names (:func:`_name_forms`), by rank: (containers, forms, penalties).
    alias_levels: list[tuple[NDArray[np.int64], list[str], NDArray[np.float32]]] = field(
        default_factory=list
    )

    @classmethod
    def from_frame(cls, gazetteer: pd.DataFrame) -> GazetteerIndex:
        """Parse every address once. Rows without usable coordinates, or whose address names neither a
        building nor a street, cannot be matched; their positions are kept in ``unparsed``."""
        frame = check_gazetteer(gazetteer)
        addresses = frame["address"].fillna("").astype(str).to_numpy(dtype=object)
        east = frame["easting"].to_numpy(dtype="float64")
        north = frame["northing"].to_numpy(dtype="float64")
        uprn = frame["uprn"].to_numpy()
        vocab = frozenset(t for a in addresses for t in _raw_tokens(a))
        parser = _Normaliser(vocab)
        key_of: dict[tuple[str, str | None, str], int] = {}
        cores: list[str] = []
        kinds: list[str | None] = []
        contexts: list[str] = []
        display: list[str] = []
        members: list[list[int]] = []
        postcodes: list[Counter[str]] = []
        units: dict[tuple[int, str], int] = {}
        unparsed: list[int] = []
        for i, text in enumerate(addresses):
            found = find_postcode(text)
            body = text[: found[1]] + " , " + text[found[2] :] if found else text
            parsed = parser.parse(body)
            if not parsed.core or not (np.isfinite(east[i]) and np.isfinite(north[i])):
                unparsed.append(i)
                continue
            key = (parsed.core, parsed.kind, parsed.context)
            cid = key_of.get(key)
            if cid is None:
                cid = key_of[key] = len(cores)
                cores.append(parsed.core)
                kinds.append(parsed.kind)
                contexts.append(parsed.context)
                display.append(_display_name(body, parsed, parser))
                members.append([])
                postcodes.append(Counter())
            members[cid].append(i)
            if found:
                postcodes[cid][found[0]] += 1
            if parsed.unit is not None:
                units.setdefault((cid, parsed.unit), i)
        # longest names first: the r-th shorter forms then belong to a prefix of the containers, and
        # merging their scores is an in-place maximum on a slice (see _name_similarity)
        order = sorted(range(len(cores)), key=lambda c: -len(cores[c].split()))
        new_id = {old: new for new, old in enumerate(order)}
        cores, kinds, contexts, display, members, postcodes = (
            [seq[c] for c in order] for seq in (cores, kinds, contexts, display, members, postcodes)
        )
        units = {(new_id[cid], unit): row for (cid, unit), row in units.items()}
        return cls(
            cores=cores,
            kinds=kinds,
            contexts=contexts,
            display=display,
            centroid_e=np.array([east[m].mean() for m in members], dtype="float64"),
            centroid_n=np.array([north[m].mean() for m in members], dtype="float64"),
            size=np.array([len(m) for m in members], dtype="int64"),
            postcode=[c.most_common(1)[0][0] if c else None for c in postcodes],
            units=units,
            uprn=uprn,
            address=addresses,
            easting=east,
            northing=north,
            vocab=vocab,
            unparsed=unparsed,
            on_street=_by_street(contexts),
            alias_levels=_form_levels(cores, anywhere=False),
        )


def _by_street(contexts: list[str]) -> dict[str, list[int]]:
    """Containers per street, to tell a caller which buildings stand on a street they named."""
    found: dict[str, list[int]] = {}
    for cid, street in enumerate(contexts):
        if street:
            found.setdefault(street, []).append(cid)
    return found


def _display_name(address: str, parsed: ParsedAddress, parser: _Normaliser) -> str:
    """The container's name as the gazetteer writes it ("St Georges Buildings"), for matched_address."""
    want = set(parsed.core.split()) | ({parsed.kind} if parsed.kind else set())
    for segment in address.split(","):
        toks = set(parser.tokens(segment))
        if want <= toks:
            words = segment.split()
            # drop a leading "Flat 12" / house number so only the name is left
            while words and (
                parser.tokens(words[0]) in (["flat"], ["no"]) or _NUMBER.match(words[0].lower())
            ):
                words = words[1:]
            if words:
                return " ".join(words)
    return " ".join(w.capitalize() for w in (parsed.core + " " + (parsed.kind or "")).split())


# --- the fuzzy match ----------------------------------------------------------------------------

#: Cells (queries x containers) of one chunk of the fuzzy match: ~3 float32 matrices of this size.
CHUNK_CELLS = 16_000_000


@dataclass
class _Matches:
    container: NDArray[np.int64]  # -1: no candidate
    score: NDArray[np.float64]  # name score of that container (0-100)
    ambiguous: NDArray[np.bool_]
    runner_up: NDArray[np.int64]  # the other tied container when ambiguous
    unmasked: NDArray[np.int64]  # best container ignoring the type word (for the reason)
    unmasked_score: NDArray[np.float64]


#: Points off a name score for each word a match leaves out ("youths perronet" ~ "perronet" scores 95).
DROPPED_WORD_PENALTY = 5.0


def _name_forms(core: str, anywhere: bool) -> list[tuple[str, int]]:
    """A name and its shorter forms, each with the number of words it leaves out.

    Shorter forms keep the *end* of the name, next to the type word ("saint georges" -> "georges";
    "youths perronet" -> "perronet"), never drop it: "falcon linnet" must not become "falcon", or
    "Falcon Buildings" would swallow "Falcon Linnet Buildings". A name with no type word after it
    (``anywhere``) may sit anywhere in the text, so any run of up to three of its words is a form.
    """
    words = core.split()[:8]
    n = len(words)
    forms = [(" ".join(words), 0)]
    if n <= 1:
        return forms
    if anywhere:
        spans = [
            (i, j) for i in range(n) for j in range(i + 1, min(n, i + 3) + 1) if (i, j) != (0, n)
        ]
    else:
        spans = [(i, n) for i in range(1, n)]
    forms += [
        (" ".join(words[i:j]), n - (j - i)) for i, j in spans if len("".join(words[i:j])) >= 3
    ]
    return forms


def _form_levels(
    names: Sequence[str], anywhere: bool | Sequence[bool]
) -> list[tuple[NDArray[np.int64], list[str], NDArray[np.float32]]]:
    """The shorter forms of many names, by rank: level r holds every name's r-th shorter form, so
    each name appears at most once a level and the scores merge back with plain fancy indexing."""
    flags = [anywhere] * len(names) if isinstance(anywhere, bool) else list(anywhere)
    levels: list[tuple[list[int], list[str], list[float]]] = []
    for owner, (name, flag) in enumerate(zip(names, flags)):
        for rank, (form, dropped) in enumerate(_name_forms(name, flag)[1:]):
            if rank == len(levels):
                levels.append(([], [], []))
            levels[rank][0].append(owner)
            levels[rank][1].append(form)
            levels[rank][2].append(DROPPED_WORD_PENALTY * dropped)
    return [(np.asarray(o, np.int64), t, np.asarray(p, np.float32)) for o, t, p in levels]


def _name_similarity(
    queries: Sequence[ParsedAddress], index: GazetteerIndex, workers: int
) -> NDArray[np.float32]:
    """Name score (0-100), queries x containers: similarity of the names (as typed or word-sorted), or
    of a shorter form of either one (never both) less DROPPED_WORD_PENALTY per word left out,
    whichever is best.

    Token-sort forgives word order and costs about what plain ``ratio`` costs in ``cdist``; the
    shorter forms give it token-set's tolerance of missing or extra words without token-set's
    40-fold cost or its blind spot (it scores any subset 100).
    """
    cores = [q.core for q in queries]
    sim = process.cdist(
        cores, index.cores, scorer=fuzz.token_sort_ratio, dtype=np.float32, workers=workers
    )
    # as typed too: sorting words misaligns a name whose typo changes the order ("hrdy" for "hardy")
    np.maximum(
        sim,
        process.cdist(cores, index.cores, scorer=fuzz.ratio, dtype=np.float32, workers=workers),
        out=sim,
    )
    q_words = np.array([len(c.split()) for c in cores], np.int64)
    c_words = np.array([len(c.split()) for c in index.cores], np.int64)  # longest first
    # a shorter gazetteer name ("georges" for "saint georges") only helps a query of fewer words
    for owners, forms, penalty in index.alias_levels:
        rows = np.flatnonzero(q_words < c_words[owners].max())
        if not len(rows):
            continue
        extra = process.cdist(
            [cores[r] for r in rows],
            forms,
            scorer=fuzz.token_sort_ratio,
            dtype=np.float32,
            workers=workers,
        )
        extra -= penalty[None, :]
        if owners[-1] == len(owners) - 1:  # the usual prefix (containers are longest-name first)
            sim[rows, : len(owners)] = np.maximum(sim[rows, : len(owners)], extra)
        else:
            sim[np.ix_(rows, owners)] = np.maximum(sim[np.ix_(rows, owners)], extra)
    # a shorter query ("perronet" for "youths perronet") only helps against a name of fewer words
    for owners, forms, penalty in _form_levels(cores, [q.kind is None for q in queries]):
        for words in np.unique(
            q_words[owners]
        ):  # per query length, so no answer depends on the batch
            first = int(
                np.searchsorted(-c_words, -words, side="right")
            )  # the names with fewer words
            if first >= len(c_words):
                continue
            pick = np.flatnonzero(q_words[owners] == words)
            extra = process.cdist(
                [forms[k] for k in pick],
                index.cores[first:],
                scorer=fuzz.token_sort_ratio,
                dtype=np.float32,
                workers=workers,
            )
            extra -= penalty[pick, None]
            rows = owners[pick]
            sim[rows, first:] = np.maximum(sim[rows, first:], extra)
    np.maximum(sim, 0, out=sim)
    return sim


def _match_containers(
    index: GazetteerIndex, queries: Sequence[ParsedAddress], workers: int
) -> _Matches:
    """Best container per query: name score (:func:`_name_similarity`) among containers with the same
    type word; an exact tie goes to the container on the street the query names, then to the closest
    plain spelling; a tie that survives is ambiguous. One chunk of queries at a time, so memory stays
    near CHUNK_CELLS cells (three float32 matrices of that size at most)."""
    nq, nc = len(queries), len(index.cores)
    out = _Matches(
        np.full(nq, -1, dtype=np.int64),
        np.zeros(nq),
        np.zeros(nq, dtype=bool),
        np.full(nq, -1, dtype=np.int64),
        np.full(nq, -1, dtype=np.int64),
        np.zeros(nq),
    )
    if nq == 0 or nc == 0:
        return out
    kind_code = {k: i for i, k in enumerate(sorted({k for k in index.kinds if k is not None}))}
    c_kind = np.array([kind_code[k] if k is not None else -3 for k in index.kinds], dtype=np.int64)
    q_kind = np.array(
        [-1 if q.kind is None else kind_code.get(q.kind, -2) for q in queries], dtype=np.int64
    )
    # street similarity for tie-breaks: few distinct streets, one small matrix; last row/column = none
    streets = sorted({c for c in index.contexts if c} | {q.context for q in queries if q.context})
    street_code = {c: i for i, c in enumerate(streets)}
    c_street = np.array([street_code.get(c, -1) for c in index.contexts], dtype=np.int64)
    q_street = np.array([street_code.get(q.context, -1) for q in queries], dtype=np.int64)
    street_sim = np.zeros((len(streets) + 1, len(streets) + 1), np.float32)
    if streets:
        street_sim[:-1, :-1] = process.cdist(
            streets, streets, scorer=fuzz.ratio, dtype=np.float32, workers=workers
        )
    step = max(1, CHUNK_CELLS // nc)
    for lo in range(0, nq, step):
        hi = min(nq, lo + step)
        rows = np.arange(hi - lo)
        sim = _name_similarity(queries[lo:hi], index, workers)
        raw_best = sim.argmax(axis=1)
        out.unmasked[lo:hi] = raw_best
        out.unmasked_score[lo:hi] = sim[rows, raw_best]
        qk = q_kind[lo:hi, None]
        if (qk != -1).any():  # a type word in the query: only containers of that type
            sim *= (qk == -1) | (qk == c_kind[None, :])
        best = sim.argmax(axis=1)
        top = sim[rows, best]
        sim[rows, best] = -1.0
        tied = np.flatnonzero((sim.max(axis=1) == top) & (top > 0))
        sim[rows, best] = top
        if len(tied):
            cand = sim[tied] == top[tied, None]
            plain = process.cdist(
                [queries[lo + r].core for r in tied],
                index.cores,
                scorer=fuzz.ratio,
                dtype=np.float32,
                workers=workers,
            )
            # street agreement first (x1000), then spelling; -1 off the tied candidates
            key = np.where(
                cand, street_sim[q_street[lo + tied]][:, c_street] * 1000.0 + plain, -1.0
            )
            pick = key.argmax(axis=1)
            best[tied] = pick
            n_top = (key == key[np.arange(len(tied)), pick][:, None]).sum(axis=1)
            for k in np.flatnonzero(n_top > 1):
                others = np.flatnonzero(key[k] == key[k, pick[k]])
                out.ambiguous[lo + tied[k]] = True
                out.runner_up[lo + tied[k]] = int(next(o for o in others if o != pick[k]))
        has = top > 0
        out.container[lo:hi] = np.where(has, best, -1)
        out.score[lo:hi] = np.where(has, top, 0.0)
    return out


# --- coordinates ----------------------------------------------------------------------------------


def _latlon_in_text(text: str) -> tuple[float, float, str] | None | str:
    """(lat, lon, note) of a decimal-degree pair in the text; a reason string if it is outside GB."""
    m = _LATLON_TEXT.search(text)
    if not m:
        return None
    a, ha, b, hb = (
        float(m.group(1)),
        (m.group(2) or "").upper(),
        float(m.group(3)),
        (m.group(4) or "").upper(),
    )
    if ha in ("S", "W"):
        a = -abs(a)
    if hb in ("S", "W"):
        b = -abs(b)
    if ha in ("E", "W") or hb in ("N", "S"):
        a, b = b, a  # the letters say it is longitude first
        order = "longitude, latitude (by the N/E/W letters)"
    else:
        order = "latitude, longitude"
    if in_lonlat_range(np.array([b]), np.array([a]))[0]:
        return a, b, f"coordinates '{m.group(0).strip()}' in the text, read as {order}"
    if in_lonlat_range(np.array([a]), np.array([b]))[0]:
        return (
            b,
            a,
            (
                f"coordinates '{m.group(0).strip()}' in the text look swapped "
                "(longitude first); read as latitude, longitude"
            ),
        )
    return f"coordinates '{m.group(0).strip()}' in the text are outside Great Britain; ignored"


def _en_in_text(text: str) -> tuple[float, float, str] | None | str:
    """(easting, northing, note) of a BNG pair in the text; a reason string if it is outside GB."""
    m = _NE_TEXT.search(text)
    if m:
        e, n = float(m.group(2)), float(m.group(1))
    else:
        m = _EN_TEXT.search(text)
        if not m:
            return None
        labelled = bool(m.group(1) or m.group(3))
        if not labelled and len(m.group(2).split(".")[0]) < 6:
            return (
                None  # two bare 5-digit numbers are more likely anything else than a grid position
            )
        e, n = float(m.group(2)), float(m.group(4))
    if in_bng_range(np.array([e]), np.array([n]))[0]:
        return e, n, f"easting/northing '{m.group(0).strip()}' in the text"
    return f"easting/northing '{m.group(0).strip()}' in the text is outside Great Britain; ignored"


def _find_column(rows: pd.DataFrame, names: Sequence[str]) -> Any:
    """The caller's own label of the first column whose name, as letters and digits, is in ``names``
    (compared both squeezed, 'locationtext', and folded, 'location_text')."""
    canon = {re.sub(r"[^a-z0-9]", "", str(c).lower()): c for c in rows.columns}
    for name in names:
        if name in canon:
            return canon[name]
    return find_column(rows.columns, names)


def _location_column(rows: pd.DataFrame, location_column: str | None, has_coordinates: bool) -> Any:
    """The column holding the location text: the one named, else the first that looks like one."""
    if location_column is not None:
        if location_column not in rows.columns:
            raise GeocodeError(
                f"location column '{location_column}' is not in the table; its columns are "
                f"{', '.join(map(str, rows.columns))}"
            )
        return location_column
    found = _find_column(rows, LOCATION_COLUMN_NAMES)
    if found is None:
        for c in rows.columns:
            canon = re.sub(r"[^a-z0-9]", "", str(c).lower())
            if ("location" in canon or "address" in canon) and not pd.api.types.is_numeric_dtype(
                rows[c]
            ):
                found = c
                break
    if found is None and not has_coordinates:
        raise GeocodeError(
            "cannot tell which column holds the location: none is called location, location_text, "
            "location_description or address, and there are no easting/northing or latitude/longitude "
            f"columns. The columns are: {', '.join(map(str, rows.columns)) or '(none)'}. "
            "Say which column it is: --location-column NAME on the command line, or the location_text "
            "field of the column mapping on the Layers page"
        )
    return found


@dataclass
class _Out:
    """The result columns, filled method by method."""

    n: int
    easting: NDArray[np.float64] = field(init=False)
    northing: NDArray[np.float64] = field(init=False)
    lat: NDArray[np.float64] = field(init=False)
    lon: NDArray[np.float64] = field(init=False)
    method: NDArray[np.object_] = field(init=False)
    score: NDArray[np.float64] = field(init=False)
    matched: NDArray[np.object_] = field(init=False)
    uprn: NDArray[np.object_] = field(init=False)
    reason: list[list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.easting = np.full(self.n, np.nan)
        self.northing = np.full(self.n, np.nan)
        self.lat = np.full(self.n, np.nan)
        self.lon = np.full(self.n, np.nan)
        self.method = np.full(self.n, "none", dtype=object)
        self.score = np.zeros(self.n)
        self.matched = np.full(self.n, None, dtype=object)
        self.uprn = np.full(self.n, None, dtype=object)
        self.reason = [[] for _ in range(self.n)]


def _on_grid(e: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Eastings/northings inside the OSTN15 grid: the National Grid's rectangle also holds open sea
    (and a latitude typed as an easting), where no conversion, and no incident, exists."""
    inside = np.isfinite(e) & np.isfinite(n) & in_bng_range(e, n)
    if inside.any():
        lon, lat = bng_to_lonlat(e[inside], n[inside])
        inside[inside] = np.isfinite(lon) & np.isfinite(lat)
    return inside


def _from_columns(rows: pd.DataFrame, out: _Out) -> NDArray[np.bool_]:
    """Place rows by their coordinate columns (vectorised). Returns which rows were placed."""
    done = np.zeros(out.n, dtype=bool)
    e_col, n_col = _find_column(rows, _EASTING_NAMES), _find_column(rows, _NORTHING_NAMES)
    lat_col, lon_col = _find_column(rows, _LAT_NAMES), _find_column(rows, _LON_NAMES)
    if e_col and n_col:
        e = pd.to_numeric(rows[e_col], errors="coerce").to_numpy(dtype="float64")
        n = pd.to_numeric(rows[n_col], errors="coerce").to_numpy(dtype="float64")
        given = np.isfinite(e) & np.isfinite(n)
        ok = given & _on_grid(e, n)
        out.easting[ok], out.northing[ok] = e[ok], n[ok]
        out.method[ok], out.score[ok] = "coordinates", COORDINATE_SCORE
        for i in np.flatnonzero(ok):
            out.reason[i].append(f"from the {e_col}/{n_col} columns")
        swapped = given & ~ok & _on_grid(n, e)
        degrees = given & ~ok & ~swapped & (in_lonlat_range(e, n) | in_lonlat_range(n, e))
        for i in np.flatnonzero(swapped):
            out.easting[i], out.northing[i] = n[i], e[i]
            out.method[i], out.score[i] = "coordinates", COORDINATE_SCORE
            out.reason[i].append(
                f"{e_col} {e[i]:g} and {n_col} {n[i]:g} were swapped (no GB point has "
                f"that easting); read as E {n[i]:g} N {e[i]:g}"
            )
        if degrees.any():
            lon = np.where(in_lonlat_range(e, n), e, n)[degrees]
            lat = np.where(in_lonlat_range(e, n), n, e)[degrees]
            ge, gn = lonlat_to_bng(lon, lat)
            for k, i in enumerate(np.flatnonzero(degrees)):
                if np.isfinite(ge[k]) and in_bng_range(ge[k : k + 1], gn[k : k + 1])[0]:
                    out.easting[i], out.northing[i] = ge[k], gn[k]
                    out.lat[i], out.lon[i] = lat[k], lon[k]
                    out.method[i], out.score[i] = "coordinates", COORDINATE_SCORE
                    out.reason[i].append(
                        f"{e_col}/{n_col} hold degrees ({e[i]:g}, {n[i]:g}), not metres; "
                        f"read as latitude {lat[k]:g}, longitude {lon[k]:g}"
                    )
        bad = given & (out.method == "none")
        for i in np.flatnonzero(bad):
            out.reason[i].append(
                f"{e_col}/{n_col} E {e[i]:g} N {n[i]:g} is outside Great Britain; ignored"
            )
        done |= out.method == "coordinates"
    if lat_col and lon_col:
        lat = pd.to_numeric(rows[lat_col], errors="coerce").to_numpy(dtype="float64")
        lon = pd.to_numeric(rows[lon_col], errors="coerce").to_numpy(dtype="float64")
        todo = ~done & np.isfinite(lat) & np.isfinite(lon)
        straight = todo & in_lonlat_range(lon, lat)
        swapped = todo & ~straight & in_lonlat_range(lat, lon)
        use_lat = np.where(swapped, lon, lat)
        use_lon = np.where(swapped, lat, lon)
        cand = straight | swapped
        if cand.any():
            ge, gn = lonlat_to_bng(use_lon[cand], use_lat[cand])
            e_all = np.full(out.n, np.nan)
            n_all = np.full(out.n, np.nan)
            e_all[cand], n_all[cand] = ge, gn
            placed = cand & np.isfinite(e_all) & np.isfinite(n_all)
            placed[placed] = in_bng_range(e_all[placed], n_all[placed])
            out.easting[placed], out.northing[placed] = e_all[placed], n_all[placed]
            out.lat[placed], out.lon[placed] = use_lat[placed], use_lon[placed]
            out.method[placed], out.score[placed] = "coordinates", COORDINATE_SCORE
            for i in np.flatnonzero(placed):
                if swapped[i]:
                    out.reason[i].append(
                        f"{lat_col} {lat[i]:g} and {lon_col} {lon[i]:g} were swapped; read as latitude "
                        f"{use_lat[i]:g}, longitude {use_lon[i]:g}"
                    )
                else:
                    out.reason[i].append(f"from the {lat_col}/{lon_col} columns")
            done |= placed
        for i in np.flatnonzero(todo & ~done):
            out.reason[i].append(
                f"{lat_col}/{lon_col} {lat[i]:g}, {lon[i]:g} is outside Great Britain; ignored"
            )
    return done


# --- per-text evidence ----------------------------------------------------------------------------


@dataclass
class _TextEvidence:
    """What one distinct location text offers, before the (batched) address match."""

    method: str = "none"
    easting: float = float("nan")
    northing: float = float("nan")
    lat: float = float("nan")
    lon: float = float("nan")
    score: float = 0.0
    matched: str | None = None
    notes: list[str] = field(default_factory=list)
    parsed: ParsedAddress = _EMPTY
    postcode: str | None = None
    uprn: Any = None


def _scan_text(text: str, parser: _Normaliser) -> _TextEvidence:
    ev = _TextEvidence()
    if any(ch.isdigit() for ch in text):
        for finder in (_latlon_in_text, _en_in_text):
            hit = finder(text)
            if isinstance(hit, str):
                ev.notes.append(hit)
            elif hit is not None:
                ev.method, ev.score, ev.notes = "coordinates", COORDINATE_SCORE, ev.notes + [hit[2]]
                if finder is _latlon_in_text:
                    ev.lat, ev.lon = hit[0], hit[1]
                    e, n = lonlat_to_bng([hit[1]], [hit[0]])
                    if not (np.isfinite(e[0]) and np.isfinite(n[0])):
                        ev.method, ev.score = "none", 0.0
                        ev.notes[-1] = (
                            f"{hit[2]}: off the OSTN15 grid, outside Great Britain; ignored"
                        )
                        continue
                    ev.easting, ev.northing = float(e[0]), float(n[0])
                else:
                    ev.easting, ev.northing = hit[0], hit[1]
                return ev
        for found in find_gridrefs(text):
            digits = sum(ch.isdigit() for ch in found.text)
            rest = (text[: found.start] + " " + text[found.end :]).lower()
            whole = not re.sub(r"[^a-z0-9]", "", _GRID_LABELS.sub(" ", rest))
            if digits < 6 and not whole:
                continue  # "NO 12", "SE11" inside an address are not grid references
            if found.gridref is None:
                ev.notes.append(
                    f"'{found.text}' looks like a grid reference but cannot be used: {found.error}"
                )
                continue
            g = found.gridref
            ev.method, ev.score = "grid_ref", GRIDREF_SCORE[g.size_m]
            ev.easting, ev.northing, ev.matched = g.easting, g.northing, str(g)
            ev.notes.append(
                f"grid reference {g}: centre of its {g.size_m:g} m square (±{g.size_m / 2:g} m)"
            )
            return ev
    pc = find_postcode(text)
    body = text
    if pc:
        ev.postcode = pc[0]
        body = text[: pc[1]] + " , " + text[pc[2] :]
    ev.parsed = parser.parse(body)
    return ev


def _postcode_lookup(
    postcodes: pd.DataFrame | None, wanted: set[str]
) -> dict[str, tuple[float, float, str]]:
    """Centroid and positional quality of each wanted postcode found in a Code-Point table.

    Vectorised and filtered first: the full Code-Point Open for Great Britain is 1.7M rows.
    """
    if postcodes is None:
        return {}
    frame = _require(postcodes, POSTCODE_COLUMNS, "postcode table", "(DataFrame)")
    if not wanted or frame.empty:
        return {}
    compact = frame["Postcode"].astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    normal = compact.str[:-3] + " " + compact.str[-3:]
    keep = normal.isin(wanted).to_numpy()
    pqi_col = next(
        (c for c in frame.columns if str(c).lower() == "positional_quality_indicator"), None
    )
    sub = frame.loc[keep]
    east = pd.to_numeric(sub["Eastings"], errors="coerce").to_numpy(dtype="float64")
    north = pd.to_numeric(sub["Northings"], errors="coerce").to_numpy(dtype="float64")
    pqi = sub[pqi_col].astype(str).to_numpy() if pqi_col else [""] * len(sub)
    return {code: (e, n, str(q)) for code, e, n, q in zip(normal[keep], east, north, pqi)}


def _resolve_address(
    ev: _TextEvidence,
    m_idx: int,
    matches: _Matches,
    index: GazetteerIndex,
    query: ParsedAddress,
    min_score: float,
) -> tuple[bool, str | None]:
    """Fill ``ev`` from the match of one query; (placed?, reason it was not)."""
    cid = int(matches.container[m_idx])
    score = float(matches.score[m_idx])
    asked = f"{query.core} {query.kind or ''}".strip()
    if cid < 0 or score < min_score:
        alt = int(matches.unmasked[m_idx])
        if query.scope == "street":
            on_it = index.on_street.get(asked, [])
            if on_it:
                names = ", ".join(index.display[c] for c in on_it[:4])
                return False, (
                    f"'{asked}' is a street with no numbered addresses in the gazetteer; name the "
                    f"building ({names}{', ...' if len(on_it) > 4 else ''})"
                )
            return False, f"no gazetteer address on a street like '{asked}'"
        if (
            query.kind
            and alt >= 0
            and matches.unmasked_score[m_idx] >= NEAR_MISS_SCORE
            and index.kinds[alt] != query.kind
        ):
            return False, (
                f"no {query.kind} called '{query.core}' in the gazetteer; {index.display[alt]} has a "
                "similar name but a different building type, which must match exactly"
            )
        if cid >= 0:
            return False, (
                f"best address match for '{asked}' is {index.display[cid]} with score {score:.0f}, "
                f"below {min_score:g}"
            )
        return False, f"no gazetteer building or street resembles '{asked}'"
    name = index.display[cid]
    notes: list[str] = []
    if matches.ambiguous[m_idx]:
        other = index.display[int(matches.runner_up[m_idx])]
        notes.append(f"ambiguous: '{asked}' fits {name} and {other} equally; took {name}, check it")
    unit = query.unit
    row = index.units.get((cid, unit)) if unit is not None else None
    ev.method = "address"
    if row is not None:
        ev.easting, ev.northing = float(index.easting[row]), float(index.northing[row])
        ev.matched = str(index.address[row])
        ev.score = score
        ev.uprn = index.uprn[row]
        notes.insert(
            0,
            f"address: {'flat' if index.kinds[cid] not in STREET_TYPES else 'number'} {unit} of {name} "
            f"(name score {score:.0f})",
        )
    else:
        ev.easting, ev.northing = float(index.centroid_e[cid]), float(index.centroid_n[cid])
        ev.matched = name
        ev.uprn = None
        if unit is not None:
            ev.score = min(BUILDING_ONLY_FACTOR * score, AMBIGUOUS_SCORE_CAP)
            notes.insert(
                0,
                f"no {'flat' if query.scope != 'street' else 'number'} {unit} in {name} in the "
                f"gazetteer; placed at the centre of its {index.size[cid]} addresses",
            )
        else:
            ev.score = BUILDING_ONLY_FACTOR * score
            notes.insert(
                0,
                f"building only: {name}, centre of its {index.size[cid]} addresses "
                f"(name score {score:.0f}, x{BUILDING_ONLY_FACTOR:g} for naming no flat)",
            )
    if matches.ambiguous[m_idx]:
        ev.score = min(ev.score, AMBIGUOUS_SCORE_CAP)
    if ev.postcode and index.postcode[cid] and ev.postcode != index.postcode[cid]:
        notes.append(
            f"the text's postcode {ev.postcode} differs from {name}'s {index.postcode[cid]}"
        )
    ev.notes.extend(notes)
    return True, None


def _doubt_text_coordinates(evidence: list[_TextEvidence], index: GazetteerIndex) -> None:
    """Coordinates read from free text: kept only inside the gazetteer's area (plus a margin), and
    then scored below the review threshold, since any two numbers in a note can look like a place."""
    ok = np.isfinite(index.easting) & np.isfinite(index.northing)
    if not ok.any():
        box = None
    else:
        m = TEXT_COORDINATE_MARGIN_M
        box = (
            index.easting[ok].min() - m,
            index.northing[ok].min() - m,
            index.easting[ok].max() + m,
            index.northing[ok].max() + m,
        )
    for ev in evidence:
        if ev.method != "coordinates":
            continue
        if box is not None and not (
            box[0] <= ev.easting <= box[2] and box[1] <= ev.northing <= box[3]
        ):
            ev.notes.append(
                f"E {ev.easting:.0f} N {ev.northing:.0f} is more than {TEXT_COORDINATE_MARGIN_M:.0f} m "
                "outside the gazetteer's area; not taken as the place"
            )
            ev.method, ev.score = "none", 0.0
            ev.easting = ev.northing = ev.lat = ev.lon = float("nan")
            continue
        ev.score = TEXT_COORDINATE_SCORE
        ev.notes.append("coordinates found in free text: check them")


def geocode(
    rows: pd.DataFrame,
    gazetteer: pd.DataFrame | GazetteerIndex,
    postcodes: pd.DataFrame | None = None,
    *,
    location_column: str | None = None,
    threshold: float = 85,
    min_score: float = 70,
    workers: int = -1,
) -> pd.DataFrame:
    """Place every incident row in BNG, saying how and how sure: a new DataFrame, input untouched.

    Every input row comes back once, in order, on the same index, with ``easting, northing`` (BNG m),
    ``lat, lon`` (WGS84), ``match_method`` (coordinates | grid_ref | address | postcode | none),
    ``match_score`` (0-100), ``matched_address``, ``uprn`` (empty unless a flat/house matched),
    ``reason`` (what was used, corrected or missing) and ``needs_review`` (placed but scored below
    ``threshold``). Columns of those names already in ``rows`` are replaced in the copy.

    Parameters
    ----------
    rows
        Incidents. Coordinates are read from easting/northing or lat/lon (latitude/longitude,
        lng/long) columns; the text from ``location_column`` or the first of location, location_text,
        location_description, address...
    gazetteer
        ``uprn, address, easting, northing`` (BNG), or a :class:`GazetteerIndex` built from one.
    postcodes
        Code-Point Open rows (``Postcode, Eastings, Northings``) for the postcode fallback.
    threshold
        Scores below it are returned (the review queue lists them) with ``needs_review`` set.
    min_score
        Address name scores below it are not matches at all (the row falls to postcode or none).
    workers
        Threads for rapidfuzz (-1: all cores).

    Raises
    ------
    GeocodeError
        No location column can be found and there are no coordinate columns, or the gazetteer or
        postcode table lacks a required column.
    """
    if not isinstance(rows, pd.DataFrame):
        raise GeocodeError(
            f"geocode needs a table of rows (a pandas DataFrame), not {type(rows).__name__}"
        )
    index = (
        gazetteer if isinstance(gazetteer, GazetteerIndex) else GazetteerIndex.from_frame(gazetteer)
    )
    if postcodes is not None:
        _require(postcodes, POSTCODE_COLUMNS, "postcode table", "(DataFrame)")
    has_coords = bool(
        (_find_column(rows, _EASTING_NAMES) and _find_column(rows, _NORTHING_NAMES))
        or (_find_column(rows, _LAT_NAMES) and _find_column(rows, _LON_NAMES))
    )
    loc_col = _location_column(rows, location_column, has_coords)
    n = len(rows)
    out = _Out(n)
    done = _from_columns(rows, out)

    if loc_col is not None:
        raw = rows[loc_col].to_numpy(dtype=object)
        texts = np.array(
            [
                ""
                if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA)
                else str(v)
                for v in raw
            ],
            dtype=object,
        )
    else:
        texts = np.full(n, "", dtype=object)
    todo = np.flatnonzero(~done)
    codes, uniques = pd.factorize(pd.Series(texts[todo], dtype=object))
    parser = _Normaliser(index.vocab)
    evidence = [_scan_text(t, parser) for t in uniques]
    _doubt_text_coordinates(evidence, index)

    # one batched fuzzy match over the distinct parsed queries (and their street fallbacks)
    query_id: dict[tuple[str, str | None, str], int] = {}
    queries: list[ParsedAddress] = []
    for ev in evidence:
        q: ParsedAddress | None = ev.parsed
        while q is not None and ev.method == "none":
            if q.core:
                key = (q.core, q.kind, q.context)
                if key not in query_id:
                    query_id[key] = len(queries)
                    queries.append(q)
            q = q.fallback
    matches = _match_containers(index, queries, workers)
    pc_table = _postcode_lookup(
        postcodes, {ev.postcode for ev in evidence if ev.postcode and ev.method == "none"}
    )

    for text, ev in zip(uniques, evidence):
        if ev.method != "none":
            continue
        q = ev.parsed
        why: str | None = None
        while q is not None:
            if q.core:
                m_idx = query_id[(q.core, q.kind, q.context)]
                placed, reason = _resolve_address(ev, m_idx, matches, index, q, min_score)
                if placed:
                    break
                why = why or reason
            q = q.fallback
        if ev.method == "address":
            continue
        if ev.postcode:
            hit = pc_table.get(ev.postcode)
            if (
                hit is not None
                and np.isfinite(hit[0])
                and np.isfinite(hit[1])
                and in_bng_range(np.array([hit[0]]), np.array([hit[1]]))[0]
            ):
                ev.method, ev.score, ev.matched = "postcode", POSTCODE_SCORE, ev.postcode
                ev.easting, ev.northing = hit[0], hit[1]
                ev.notes.append(
                    f"postcode {ev.postcode} centroid (Code-Point Open, positional quality "
                    f"{hit[2] or '?'})" + (f"; no address match ({why})" if why else "")
                )
                continue
            if hit is not None:
                why = f"postcode {ev.postcode} has no coordinates in the postcode file"
            elif postcodes is None:
                why = f"postcode {ev.postcode} found but no postcode file was given"
            else:
                why = f"postcode {ev.postcode} is not in the postcode file"
        if why:
            ev.notes.append(why)
        elif not ev.notes:
            ev.notes.append(
                "nothing to geocode: the location is empty"
                if not str(text).strip()
                else "no coordinates, grid reference, address or postcode found"
            )

    # broadcast the distinct texts back to their rows
    ev_method = np.array([ev.method for ev in evidence], dtype=object)
    ev_e = np.array([ev.easting for ev in evidence], dtype="float64")
    ev_n = np.array([ev.northing for ev in evidence], dtype="float64")
    ev_lat = np.array([ev.lat for ev in evidence], dtype="float64")
    ev_lon = np.array([ev.lon for ev in evidence], dtype="float64")
    ev_score = np.array([ev.score for ev in evidence], dtype="float64")
    ev_matched = np.array([ev.matched for ev in evidence], dtype=object)
    ev_uprn = np.empty(len(evidence), dtype=object)
    ev_uprn[:] = [ev.uprn for ev in evidence]
    ev_reason = ["; ".join(ev.notes) for ev in evidence]
    if len(evidence):
        out.method[todo] = ev_method[codes]
        out.easting[todo], out.northing[todo] = ev_e[codes], ev_n[codes]
        out.lat[todo], out.lon[todo] = ev_lat[codes], ev_lon[codes]
        out.score[todo] = ev_score[codes]
        out.matched[todo] = ev_matched[codes]
        out.uprn[todo] = ev_uprn[codes]
        for i, c in zip(todo, codes):
            if ev_reason[c]:
                out.reason[i].append(ev_reason[c])

    # latitude/longitude of everything placed in BNG without them
    need = np.isfinite(out.easting) & ~np.isfinite(out.lat)
    if need.any():
        lon, lat = bng_to_lonlat(out.easting[need], out.northing[need])
        out.lon[need], out.lat[need] = lon, lat
    off_grid = (out.method != "none") & ~(np.isfinite(out.lat) & np.isfinite(out.lon))
    for i in np.flatnonzero(
        off_grid
    ):  # a grid reference or text coordinates out at sea: not a place
        out.reason[i].append(
            f"E {out.easting[i]:.0f} N {out.northing[i]:.0f} is off the OSTN15 grid (at sea, not "
            "in Great Britain); not placed"
        )
        out.method[i], out.score[i] = "none", 0.0
        out.easting[i] = out.northing[i] = out.lat[i] = out.lon[i] = np.nan
        out.matched[i], out.uprn[i] = None, None

    placed = out.method != "none"
    review = placed & (out.score < threshold)
    reasons = []
    for i in range(n):
        parts = out.reason[i]
        if review[i]:
            parts = parts + [f"score {out.score[i]:.0f} below threshold {threshold:g}: review"]
        reasons.append("; ".join(parts))

    result = rows.copy()
    result["easting"] = out.easting
    result["northing"] = out.northing
    result["lat"] = out.lat
    result["lon"] = out.lon
    result["match_method"] = out.method
    result["match_score"] = np.round(out.score, 1)
    result["matched_address"] = out.matched
    result["uprn"] = _uprn_column(out.uprn, index.uprn)
    result["reason"] = reasons
    result["needs_review"] = review
    return result


def _uprn_column(
    values: NDArray[np.object_], source: NDArray[Any]
) -> pd.Series | NDArray[np.object_]:
    """UPRNs in the gazetteer's own type, nullable: integers stay integers (Int64) with <NA> for none."""
    if np.issubdtype(np.asarray(source).dtype, np.integer):
        return pd.array([None if v is None else int(v) for v in values], dtype="Int64")
    return values
