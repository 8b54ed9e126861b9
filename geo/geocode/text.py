"""Location text cut into words, and the postcodes in it: the first step of reading any location."""

from __future__ import annotations

import re
import unicodedata

#: A house or flat number as written: "12", "12a".
NUMBER = re.compile(r"^\d+[a-z]?$")
#: "1st", "2nd", "3rd", "4th": floors, never flats.
ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$")
_APOS = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^a-z0-9,]+")
_GLUED_MARKER = re.compile(r"\b(flat|flt|apt|unit|no|fl)(?=\d)")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2}\d[A-Za-z\d]?)[ \t]*(\d[A-Za-z]{2})(?![A-Za-z0-9])"
)


def normalise_postcode(text: str) -> str | None:
    """``"se16fy"`` -> ``"SE1 6FY"``: upper case, one space before the inward code; None if it is
    not a postcode.

    >>> normalise_postcode("se16fy"), normalise_postcode("SE1")
    ('SE1 6FY', None)
    """
    compact = re.sub(r"\s+", "", str(text)).upper()
    m = re.fullmatch(r"([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})", compact)
    return f"{m.group(1)} {m.group(2)}" if m else None


def find_postcode(text: str) -> tuple[str, int, int] | None:
    """The first full UK postcode in free text, normalised, with its span; None if there is none."""
    m = _POSTCODE.search(text)
    if not m:
        return None
    return f"{m.group(1).upper()} {m.group(2).upper()}", m.start(), m.end()


def without_postcode(text: str) -> tuple[str, str | None]:
    """The text with its first postcode replaced by a comma (so it splits what it stood between),
    and that postcode; the text unchanged and None when it has none."""
    found = find_postcode(text)
    if not found:
        return text, None
    return text[: found[1]] + " , " + text[found[2] :], found[0]


def fold_accents(text: str) -> str:
    """Accents off ("Brontë" -> "Bronte"), so a keyboard without them still matches."""
    if text.isascii():
        return text
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def raw_tokens(text: str) -> list[str]:
    """Lower-case words and commas, before abbreviations and typos are dealt with.

    >>> raw_tokens("O/S Flt12, Brontë Hse #3")
    ['outside', 'flt', '12', ',', 'bronte', 'hse', 'no', '3']
    """
    t = fold_accents(text).lower()
    t = t.replace("o/s", " outside ").replace("&", " and ").replace("#", " no ")
    t = _APOS.sub("", t)
    t = _GLUED_MARKER.sub(r"\1 ", t)
    t = _NON_WORD.sub(" ", t.replace(",", " , "))
    return t.split()


def unit_id(token: str) -> str:
    """Flat ids compare as written, without leading zeros: "012" is flat 12, "12a" stays "12a"."""
    digits = token.rstrip("abcdefghijklmnopqrstuvwxyz")
    return (str(int(digits)) + token[len(digits) :]) if digits else token
