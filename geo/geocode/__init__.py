"""Offline geocoding of incident locations to British National Grid, for the review queue and the
map.

CAD and housing exports describe where something happened in whatever way the call-taker typed
it: coordinates (sometimes with latitude and longitude swapped), an OS grid reference, "Flt 12
Perronet Hse", "stairwell of St Georges Bldgs", a postcode, or "see notes". :func:`geocode` places
each row by the most exact evidence it holds, in this order, and says which it used and why:

1. ``coordinates``: easting/northing or latitude/longitude columns, or a pair written in the text
   ("51.4952, -0.1021", "E 531700 N 179000"). Swapped latitude/longitude is fixed and said so;
   anything outside Great Britain is rejected with the reason (and the row falls through).
2. ``grid_ref``: an OS grid reference in the text, at the centre of the square it names.
3. ``address``: fuzzy match against the gazetteer. Flat numbers and building-type words
   (House, Court, Buildings...) must agree exactly - "Flat 12" is never "Flat 21", "Heron House"
   is never "Heron Court" - while the building's name may be misspelt, abbreviated or reordered. A
   location that names a building but no flat ("o/s Perronet House") is placed at the centre of
   that building's flats, with an empty UPRN.
4. ``postcode``: the Code-Point Open centroid of a full postcode in the text.
5. ``none``, with the reason.

Nothing here touches the network or the UI. One module per step:

- :mod:`.vocabulary`  the words: building and street types, abbreviations, noise
- :mod:`.text`        words and postcodes cut out of a text
- :mod:`.parser`      a location read as flat, building (or street) and street
- :mod:`.tables`      the gazetteer and Code-Point Open tables, read and checked
- :mod:`.index`       the gazetteer grouped into buildings and streets for matching
- :mod:`.fuzzy`       the batched fuzzy match against those containers
- :mod:`.coordinates` coordinates in columns or written in the text
- :mod:`.evidence`    what one location text offers before the match
- :mod:`.resolve`     each text settled: address, else postcode, else why not
- :mod:`.placements`  the answer columns
- :mod:`.scores`      how sure each method is
- :mod:`.geocoder`    :func:`geocode`, which runs the steps in order
"""

from __future__ import annotations

from .geocoder import LOCATION_COLUMN_NAMES, geocode
from .index import GazetteerIndex
from .parser import ParsedAddress, normalise_address, parse_address
from .placements import MATCH_METHODS, OUTPUT_COLUMNS
from .scores import (
    AMBIGUOUS_SCORE_CAP,
    BUILDING_ONLY_FACTOR,
    COORDINATE_SCORE,
    GRIDREF_SCORE,
    NEAR_MISS_SCORE,
    POSTCODE_SCORE,
    TEXT_COORDINATE_MARGIN_M,
    TEXT_COORDINATE_SCORE,
)
from .tables import (
    GAZETTEER_COLUMNS,
    POSTCODE_COLUMNS,
    GeocodeError,
    check_gazetteer,
    check_postcodes,
    load_gazetteer,
    load_postcodes,
)
from .text import find_postcode, normalise_postcode

__all__ = [
    "AMBIGUOUS_SCORE_CAP",
    "BUILDING_ONLY_FACTOR",
    "COORDINATE_SCORE",
    "GAZETTEER_COLUMNS",
    "GRIDREF_SCORE",
    "LOCATION_COLUMN_NAMES",
    "MATCH_METHODS",
    "NEAR_MISS_SCORE",
    "OUTPUT_COLUMNS",
    "POSTCODE_COLUMNS",
    "POSTCODE_SCORE",
    "TEXT_COORDINATE_MARGIN_M",
    "TEXT_COORDINATE_SCORE",
    "GazetteerIndex",
    "GeocodeError",
    "ParsedAddress",
    "check_gazetteer",
    "check_postcodes",
    "find_postcode",
    "geocode",
    "load_gazetteer",
    "load_postcodes",
    "normalise_address",
    "normalise_postcode",
    "parse_address",
]
