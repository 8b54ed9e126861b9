"""How sure each way of placing a row is, as a score from 0 to 100.

A row scoring below the review threshold (85 by default) is still placed, but waits on the
Geocoding review page. These numbers decide what an officer has to check by hand.
"""

from __future__ import annotations

#: Score given per method where no fuzzy score applies. A postcode centroid is a street, not a door:
#: it is returned but stays in the review queue at the default threshold.
COORDINATE_SCORE = 100.0
#: Coordinates found in free text ("CAD 240512 / 181234 youths ...") may be any two numbers: they
#: are taken only inside the gazetteer's area (plus this margin) and always go to review.
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
#: An ambiguous name (two buildings tie) or a flat missing from its building never passes a
#: threshold.
AMBIGUOUS_SCORE_CAP = 50.0
#: Points off a name score for each word a match leaves out ("youths perronet" ~ "perronet" scores
#: 95).
DROPPED_WORD_PENALTY = 5.0
