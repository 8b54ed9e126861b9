"""Ordnance Survey National Grid references ("TQ 30916 78533") to and from BNG metres.

Officers and surveyors quote grid references off paper maps and the OS apps, so a location column
may hold one instead of an address. A reference names a *square*, not a point: ``TQ37`` is a 10 km
square, ``TQ 30916 78533`` a 1 m square. We place it at the centre of that square and carry the
square's size, so a caller can tell a stairwell from a district.

The lettering (OS, "A guide to coordinate systems in Great Britain", section 9): 25 letters, ``I``
unused, laid out 5 x 5 from the top-left (A B C D E / F G H J K / ... / V W X Y Z). The first
letter picks a 500 km square with ``S`` at the false origin (0, 0); the second picks a 100 km
square inside it the same way. So ``SV`` is E 0 N 0, ``TQ`` is E 500000 N 100000, ``NT`` is
E 300000 N 600000 and ``HU`` is E 400000 N 1100000. Only the 91 squares that fall inside the grid
(E 0-700 km, N 0-1300 km) are accepted: ``TZ`` or ``AA`` are well-formed but not in Great Britain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ClosuremapError

#: The 25 grid letters: the alphabet without I.
GRID_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
#: Extent of the National Grid's lettered squares, metres (east, north), exclusive upper bounds.
GRID_EXTENT_EN = (700_000, 1_300_000)
#: Side of the square named by a reference with this many digits (both halves together).
SQUARE_SIZE_M = {0: 100_000.0, 2: 10_000.0, 4: 1_000.0, 6: 100.0, 8: 10.0, 10: 1.0}

# Letters, optional space, then either two space-separated halves or one run of digits.
_WHOLE = re.compile(r"^\s*([A-Za-z]{2})\s*(?:(\d{1,5})\s+(\d{1,5})|(\d{0,10}))\s*$")
# The same inside free text: no letter/digit glued on either side.
_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2})[ \t]*"  # two letters not glued to a word, optional space
    r"(?:(\d{1,5})[ \t]+(\d{1,5})|(\d{2,10}))"  # two halves, or one run of digits
    r"(?![A-Za-z0-9]|\.\d)"  # nothing glued after (and not a decimal number)
)


class GridRefError(ClosuremapError):
    """A grid reference that cannot be read: bad letters, odd digits, or outside the grid."""


@dataclass(frozen=True)
class GridRef:
    """A grid reference read as the centre of the square it names (BNG metres)."""

    letters: str
    digits: int
    easting: float
    northing: float
    size_m: float

    @property
    def sw_easting(self) -> float:
        """Easting of the square's south-west corner (what the digits literally say)."""
        return self.easting - self.size_m / 2

    @property
    def sw_northing(self) -> float:
        """Northing of the square's south-west corner."""
        return self.northing - self.size_m / 2

    def __str__(self) -> str:
        """The reference in OS's spaced form, e.g. ``TQ 30916 78533``."""
        return to_gridref(self.sw_easting, self.sw_northing, self.digits)


def square_origin(letters: str) -> tuple[int, int]:
    """A 100 km square's south-west corner (easting, northing) in metres: ``TQ`` (500000, 100000).

    Raises :class:`GridRefError` for letters outside the OS scheme (including ``I``) or squares off
    the grid of Great Britain.
    """
    up = letters.strip().upper()
    if len(up) != 2 or not up.isalpha():
        raise GridRefError(
            f"'{letters}' is not a pair of grid letters; a grid reference starts with two letters "
            "such as TQ"
        )
    if "I" in up:
        raise GridRefError(
            f"grid letters '{up}' contain I, which the National Grid does not use (did you mean J "
            "or H?)"
        )
    first, second = GRID_LETTERS.index(up[0]), GRID_LETTERS.index(up[1])
    east = (first % 5 - 2) * 500_000 + (second % 5) * 100_000
    north = (3 - first // 5) * 500_000 + (4 - second // 5) * 100_000
    if not (0 <= east < GRID_EXTENT_EN[0] and 0 <= north < GRID_EXTENT_EN[1]):
        raise GridRefError(
            f"grid letters '{up}' name a square outside Great Britain's National Grid (only "
            "squares such as SV, SU, TQ, NT or HU, between E 0-700 km and N 0-1300 km, exist)"
        )
    return east, north


def _from_parts(letters: str, east_digits: str, north_digits: str, text: str) -> GridRef:
    if len(east_digits) != len(north_digits):
        raise GridRefError(
            f"grid reference '{text.strip()}' has {len(east_digits)} easting and "
            f"{len(north_digits)} northing digits; both halves need the same number (e.g. TQ 309 "
            "785)"
        )
    half = len(east_digits)
    if half > 5:
        raise GridRefError(
            f"grid reference '{text.strip()}' has more than 10 digits; 10 digits is already 1 m"
        )
    east0, north0 = square_origin(letters)
    size = SQUARE_SIZE_M[2 * half]
    scale = 10 ** (5 - half)
    east = east0 + (int(east_digits) * scale if half else 0) + size / 2
    north = north0 + (int(north_digits) * scale if half else 0) + size / 2
    return GridRef(letters.upper(), 2 * half, float(east), float(north), size)


def parse_gridref(text: str) -> GridRef:
    """A whole string read as a grid reference: ``TQ 30916 78533``, ``TQ3091678533``, ``TQ37``,
    ``tq 309 785``.

    0 to 10 digits (an even number when run together; equal halves when spaced). The point is the
    centre of the referenced square.

    >>> g = parse_gridref("TQ 30916 78533")
    >>> (g.easting, g.northing, g.size_m)
    (530916.5, 178533.5, 1.0)
    >>> parse_gridref("TQ37").easting
    535000.0
    """
    m = _WHOLE.match(text)
    if not m:
        raise GridRefError(
            f"'{text.strip()}' is not a grid reference; write two letters and an even number of "
            "digits, e.g. TQ 30916 78533 or TQ3178"
        )
    letters, east, north, run = m.groups()
    if run is not None:
        if len(run) % 2:
            raise GridRefError(
                f"grid reference '{text.strip()}' has an odd number of digits ({len(run)}); "
                "the easting and northing halves must be the same length"
            )
        east, north = run[: len(run) // 2], run[len(run) // 2 :]
    return _from_parts(letters, east, north, text)


@dataclass(frozen=True)
class GridRefInText:
    """A grid-reference-shaped piece of free text: what it said, where, and what it reads as."""

    text: str
    start: int
    end: int
    gridref: GridRef | None
    error: str | None


def find_gridrefs(text: str) -> list[GridRefInText]:
    """Every piece of ``text`` shaped like a grid reference (2-10 digits), read or with the reason
    it fails.

    Shape only: "NO 12" or "SE11" fit it too, so the caller decides which to trust (the geocoder
    trusts 6+ digits anywhere, shorter ones only when they are the whole location).
    """
    found: list[GridRefInText] = []
    for m in _IN_TEXT.finditer(text):
        letters, east, north, run = m.groups()
        if run is not None:
            if len(run) % 2:
                found.append(
                    GridRefInText(
                        m.group(0),
                        m.start(),
                        m.end(),
                        None,
                        f"'{m.group(0)}' has an odd number of digits for a grid reference",
                    )
                )
                continue
            east, north = run[: len(run) // 2], run[len(run) // 2 :]
        try:
            ref = _from_parts(letters, east, north, m.group(0))
        except GridRefError as exc:
            found.append(GridRefInText(m.group(0), m.start(), m.end(), None, str(exc)))
        else:
            found.append(GridRefInText(m.group(0), m.start(), m.end(), ref, None))
    return found


def to_gridref(easting: float, northing: float, digits: int = 10) -> str:
    """The grid reference of the square (``digits`` digits) containing a BNG point, spaced as OS do.

    Coordinates are truncated, not rounded, as OS do: the reference names the square the point is
    in.

    >>> to_gridref(530916.7, 178533.2)
    'TQ 30916 78533'
    >>> to_gridref(530916.7, 178533.2, 4)
    'TQ 30 78'
    """
    if digits not in SQUARE_SIZE_M:
        raise GridRefError(f"a grid reference has 0, 2, 4, 6, 8 or 10 digits, not {digits}")
    if not (0 <= easting < GRID_EXTENT_EN[0] and 0 <= northing < GRID_EXTENT_EN[1]):
        raise GridRefError(f"point E {easting:.0f} N {northing:.0f} is outside the National Grid")
    e100, n100 = int(easting // 100_000), int(northing // 100_000)
    first = (3 - n100 // 5) * 5 + (e100 // 5 + 2)
    second = (4 - n100 % 5) * 5 + e100 % 5
    letters = GRID_LETTERS[first] + GRID_LETTERS[second]
    half = digits // 2
    if not half:
        return letters
    scale = 10 ** (5 - half)
    east = int((easting % 100_000) // scale)
    north = int((northing % 100_000) // scale)
    return f"{letters} {east:0{half}d} {north:0{half}d}"
