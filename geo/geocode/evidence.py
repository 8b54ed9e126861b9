"""What one location text offers before the address match: coordinates, a grid reference, a
postcode, and the parsed address.

Each distinct text is read once (:func:`scan_text`); the most exact evidence found ends the
reading, so a text holding coordinates is never fuzzy-matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..crs import lonlat_to_bng
from ..gridref import find_gridrefs
from .coordinates import en_in_text, latlon_in_text
from .index import GazetteerIndex
from .parser import EMPTY, Normaliser, ParsedAddress
from .scores import (
    COORDINATE_SCORE,
    GRIDREF_SCORE,
    TEXT_COORDINATE_MARGIN_M,
    TEXT_COORDINATE_SCORE,
)
from .text import without_postcode

# What may surround a short grid reference for it to count as the whole location.
_GRID_LABELS = re.compile(
    r"\b(?:os|osgb|osgr|ngr|grid|gridref|ref|reference|gr|national|at|loc|location)\b"
)


@dataclass
class TextEvidence:
    """What one distinct location text offers, and (once settled) where it places its rows."""

    method: str = "none"
    easting: float = float("nan")
    northing: float = float("nan")
    lat: float = float("nan")
    lon: float = float("nan")
    score: float = 0.0
    matched: str | None = None
    notes: list[str] = field(default_factory=list)
    parsed: ParsedAddress = EMPTY
    postcode: str | None = None
    uprn: Any = None


def scan_text(text: str, parser: Normaliser) -> TextEvidence:
    """Coordinates in the text, else a grid reference, else its postcode and parsed address."""
    ev = TextEvidence()
    if any(map(str.isdigit, text)) and (
        _coordinates_in_text(text, ev) or _gridref_in_text(text, ev)
    ):
        return ev
    body, ev.postcode = without_postcode(text)
    ev.parsed = parser.parse(body)
    return ev


def _coordinates_in_text(text: str, ev: TextEvidence) -> bool:
    """Fill ``ev`` from a latitude/longitude or easting/northing pair in the text, if one is in
    Great Britain; notes say why any other pair was ignored."""
    for finder in (latlon_in_text, en_in_text):
        hit = finder(text)
        if isinstance(hit, str):
            ev.notes.append(hit)
            continue
        if hit is None:
            continue
        if finder is latlon_in_text:
            e, n = lonlat_to_bng([hit[1]], [hit[0]])
            if not (np.isfinite(e[0]) and np.isfinite(n[0])):
                ev.notes.append(f"{hit[2]}: off the OSTN15 grid, outside Great Britain; ignored")
                continue
            ev.lat, ev.lon = hit[0], hit[1]
            ev.easting, ev.northing = float(e[0]), float(n[0])
        else:
            ev.easting, ev.northing = hit[0], hit[1]
        ev.method, ev.score = "coordinates", COORDINATE_SCORE
        ev.notes.append(hit[2])
        return True
    return False


def _gridref_in_text(text: str, ev: TextEvidence) -> bool:
    """Fill ``ev`` from an OS grid reference in the text, at the centre of its square. A short one
    ("NO 12", "SE11") counts only when it is the whole location, or it would eat addresses."""
    for found in find_gridrefs(text):
        digits = sum(ch.isdigit() for ch in found.text)
        rest = (text[: found.start] + " " + text[found.end :]).lower()
        whole = not re.sub(r"[^a-z0-9]", "", _GRID_LABELS.sub(" ", rest))
        if digits < 6 and not whole:
            continue
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
        return True
    return False


def doubt_text_coordinates(evidence: list[TextEvidence], index: GazetteerIndex) -> None:
    """Coordinates read from free text: kept only inside the gazetteer's area (plus a margin),
    and then scored below the review threshold, since any two numbers in a note can look like a
    place."""
    ok = np.isfinite(index.easting) & np.isfinite(index.northing)
    box = None
    if ok.any():
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
                f"E {ev.easting:.0f} N {ev.northing:.0f} is more than "
                f"{TEXT_COORDINATE_MARGIN_M:.0f} m outside the gazetteer's area; not taken as "
                "the place"
            )
            ev.method, ev.score = "none", 0.0
            ev.easting = ev.northing = ev.lat = ev.lon = float("nan")
            continue
        ev.score = TEXT_COORDINATE_SCORE
        ev.notes.append("coordinates found in free text: check them")
