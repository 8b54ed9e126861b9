"""Reading a location or an address: its flat, its building (or street) and the street it is on.

The parser works in small steps over the words of one text (:class:`Words`): take the flat
("Flat 12", "No. 3"), then the building (name words before a type word: "Perronet House"), then the
street ("Princess Street", with its house number), then whatever name is left when no type word was
given. Each step marks the words it used, so no word is read twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .text import NUMBER, ORDINAL, raw_tokens, unit_id, without_postcode
from .vocabulary import (
    ABBREVIATIONS,
    BUILDING_TYPES,
    CORRECTABLE,
    HARD_NOISE,
    HARD_ONLY,
    KEYWORDS,
    NUMBERED_NOISE,
    SAINT_NAMES,
    SOFT_NOISE,
    STREET_TYPES,
)

#: Words before a type word that can still be part of the name ("Saint Georges Buildings").
MAX_NAME_WORDS = 4


@dataclass(frozen=True)
class ParsedAddress:
    """What an address or location says, normalised: the unit and the container it is in.

    ``core`` is the distinctive part of the container's name ("perronet", "saint georges"); ``kind``
    is its exact type word ("house", "buildings", "road") or None when the text gave none;
    ``context`` is the street when the container is a building (used only to break ties); ``unit``
    is the flat (or, on a street, the house number) that must agree exactly.
    """

    core: str
    kind: str | None
    context: str
    unit: str | None
    flat: str | None
    house: str | None
    scope: str  # "building", "street", "bare" or "" (nothing to match)
    fallback: ParsedAddress | None = None


#: A location with nothing to match.
EMPTY = ParsedAddress("", None, "", None, None, None, "")


class Normaliser:
    """Tokenises and parses locations; corrects typos of keywords, never of gazetteer words.

    ``protected`` holds the words of the gazetteer's own addresses: "Heron" is never "corrected"
    to a keyword when a building is called that.
    """

    def __init__(self, protected: frozenset[str] = frozenset()) -> None:
        self.protected = protected
        self._fix: dict[str, str] = {}
        self._word: dict[str, str] = {}  # every raw token seen, as :meth:`tokens` writes it

    def _correct(self, token: str) -> str:
        fixed = self._fix.get(token)
        if fixed is None:
            fixed = token
            if len(token) >= 5 and token.isalpha() and token not in self.protected:
                max_d = 2 if len(token) >= 8 else 1
                hits = process.extract(
                    token, CORRECTABLE, scorer=OSA.distance, limit=2, score_cutoff=max_d
                )
                if hits and (len(hits) == 1 or hits[0][1] < hits[1][1]):
                    hit = hits[0][0]
                    # "garden"/"gardens", "tower"/"towers": a real word, not a slip of the keyboard
                    if hit.rstrip("s") != token.rstrip("s"):
                        fixed = hit
            self._fix[token] = fixed
        return fixed

    def _normal(self, tok: str) -> str:
        """One raw token expanded or corrected, remembered: a location repeats its words."""
        if tok in KEYWORDS or tok in self.protected:
            fixed = ABBREVIATIONS.get(tok, tok)
        else:
            fixed = self._correct(tok)
        self._word[tok] = fixed
        return fixed

    def tokens(self, text: str) -> list[str]:
        """Lower case, abbreviations expanded, keyword typos fixed, "St" resolved; commas kept.

        >>> Normaliser().tokens("Flt 12, St George's Bldgs, Princess St")
        ['flat', '12', ',', 'saint', 'georges', 'buildings', ',', 'princess', 'street']
        """
        word = self._word
        out = [word[tok] if tok in word else self._normal(tok) for tok in raw_tokens(text)]
        if "st" not in out:
            return out
        for i, tok in enumerate(out):
            if tok == "st":
                nxt = out[i + 1] if i + 1 < len(out) else None
                out[i] = _saint_or_street(out[i - 1] if i > 0 else None, nxt)
        return out

    def parse(self, text: str) -> ParsedAddress:
        """Split a location into flat, building (or street) and context; see
        :func:`parse_address`."""
        return parse_words(self.tokens(text))


def _saint_or_street(before: str | None, after: str | None) -> str:
    """Whether "St" is Saint (before a saint's name, or by default) or Street (after a name)."""
    if after in SAINT_NAMES:
        return "saint"
    if (
        before is not None
        and before.isalpha()
        and before not in HARD_NOISE
        and before not in SOFT_NOISE
        and before not in BUILDING_TYPES
        and before not in STREET_TYPES
    ):
        return "street"
    return "saint"


@lru_cache(maxsize=1 << 16)
def _word_class(word: str) -> str:
    """What a word can be in an address: sep, num, btype, stype, soft, hard (noise) or name."""
    if word == ",":
        return "sep"
    if NUMBER.match(word):
        return "num"
    if word in BUILDING_TYPES:
        return "btype"
    if word in STREET_TYPES:
        return "stype"
    if word in SOFT_NOISE:
        return "soft"
    if word in HARD_ONLY or len(word) == 1 or not word.isalpha():
        return "hard"
    return "name"


@dataclass
class Words:
    """One location's words, the class of each (:func:`_word_class`), and which a step has used."""

    words: list[str]
    kinds: list[str]
    used: list[bool]

    @classmethod
    def of(cls, words: list[str]) -> Words:
        return cls(words, [_word_class(w) for w in words], [False] * len(words))

    def free(self, i: int, kind: str) -> bool:
        """Word ``i`` exists, is still unused and is of class ``kind``."""
        return 0 <= i < len(self.words) and not self.used[i] and self.kinds[i] == kind

    def before(self, i: int) -> int:
        """The nearest word before i, skipping commas; -1 if none."""
        j = i - 1
        while j >= 0 and self.kinds[j] == "sep":
            j -= 1
        return j

    def after(self, i: int) -> int:
        """The nearest word after i, skipping commas; -1 if none."""
        j = i + 1
        while j < len(self.words) and self.kinds[j] == "sep":
            j += 1
        return j if j < len(self.words) else -1

    def take(self, indices: list[int]) -> str:
        """Mark the words used and return them in reading order, joined by spaces."""
        for i in indices:
            self.used[i] = True
        return " ".join(self.words[i] for i in sorted(indices))


def _take_flat(w: Words) -> str | None:
    """The flat ("flat 12", "no 3", "flat b"); numbered noise ("stairwell 2", "landing b", "car
    park", "3rd") is used up too, so its number is never read as a flat."""
    flat: str | None = None
    words, used = w.words, w.used
    for i, tok in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if used[i]:
            continue
        if tok in ("flat", "no") and (
            NUMBER.match(nxt) or (tok == "flat" and len(nxt) == 1 and nxt.isalpha())
        ):
            if flat is None:
                flat = unit_id(nxt)
            used[i] = used[i + 1] = True
        elif (
            tok in NUMBERED_NOISE and (NUMBER.match(nxt) or (len(nxt) == 1 and nxt.isalpha()))
        ) or (tok == "car" and nxt == "park"):
            used[i] = used[i + 1] = True
        elif tok[:1].isdigit() and ORDINAL.match(tok):
            used[i] = True
    return flat


def _take_building(w: Words) -> tuple[str, str, int, int] | None:
    """The first building: a type word and the name words before it (a street type may end the
    name: "Park House"; a location noun alone may be it: "Gate House"). (name, type, start, end)."""
    for j, kind in enumerate(w.kinds):
        if kind != "btype" or w.used[j]:
            continue
        run: list[int] = []
        k = j - 1
        while k >= 0 and not w.used[k] and len(run) < MAX_NAME_WORDS:
            if w.kinds[k] == "name" or (w.kinds[k] == "stype" and not run):
                run.append(k)
                k -= 1
                continue
            break
        if not run and w.free(k, "soft"):
            run = [k]
        if run:
            start = min(run)
            name = w.take(run)
            w.take([j])
            return name, w.words[j], start, j
    return None


def _take_street(w: Words) -> tuple[tuple[str, str] | None, str | None]:
    """The first street (a street type and the name words before it) and its house number."""
    for j, kind in enumerate(w.kinds):
        if kind != "stype" or w.used[j]:
            continue
        run: list[int] = []
        k = j - 1
        while w.free(k, "name") and len(run) < MAX_NAME_WORDS:
            run.append(k)
            k -= 1
        if not run:
            continue
        street = (w.take(run), w.words[j])
        w.take([j])
        k = w.before(k + 1) if k >= 0 and w.kinds[k] == "sep" else k  # "12, example street"
        house = None
        if w.free(k, "num"):
            house = unit_id(w.words[k])
            w.take([k])
        return street, house
    return None, None


def _number_beside(w: Words, start: int, end: int) -> str | None:
    """A bare number just before or after a building's name ("12 Perronet House"): its flat."""
    for k in (w.before(start), w.after(end)):
        if w.free(k, "num"):
            w.take([k])
            return unit_id(w.words[k])
    return None


def _without_building(
    w: Words, street: tuple[str, str] | None, house: str | None, flat: str | None
) -> ParsedAddress:
    """A location with no type word for a building: the words left are a building's name (with
    the street as its fallback), else the street, else nothing to match."""
    context = f"{street[0]} {street[1]}" if street else ""
    names = [i for i in range(len(w.words)) if w.free(i, "name")]
    street_parse = None
    if street is not None:
        unit = f"{house}/{flat}" if house and flat else (house or flat)
        street_parse = ParsedAddress(street[0], street[1], "", unit, flat, house, "street")
        if flat is not None and house is None and not names and len(street[0].split()) >= 2:
            # "flat 7 the example institute some road": a flat is in a building, and a building
            # may have no type word; the words before the street type may be that building and
            # the street. Try them as a building first (its name may be any run of them), the
            # street after.
            return ParsedAddress(
                street[0], None, context, flat, flat, None, "bare", fallback=street_parse
            )
    if names:
        if flat is None:
            nums = [i for i in range(len(w.words)) if w.free(i, "num")]
            if len(nums) == 1:
                flat = unit_id(w.words[nums[0]])
        core = " ".join(w.words[i] for i in names)
        return ParsedAddress(core, None, context, flat, flat, house, "bare", fallback=street_parse)
    if street_parse is not None:
        return street_parse
    return ParsedAddress("", None, "", flat, flat, house, "")


def parse_words(words: list[str]) -> ParsedAddress:
    """Flat, building (or street) and context of a location's normalised words.

    >>> parse_words(["flat", "12", "perronet", "house", ",", "princess", "street"]).context
    'princess street'
    """
    w = Words.of(words)
    flat = _take_flat(w)
    building = _take_building(w)
    street, house = _take_street(w)
    if building is None:
        return _without_building(w, street, house, flat)
    core, kind, start, end = building
    if flat is None:
        flat = _number_beside(w, start, end)
    context = f"{street[0]} {street[1]}" if street else ""
    return ParsedAddress(core, kind, context, flat, flat, house, "building")


_DEFAULT_NORMALISER = Normaliser()


def normalise_address(text: str) -> str:
    """One address or location as matching sees it: lower case, no punctuation, abbreviations
    expanded.

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
    return _DEFAULT_NORMALISER.parse(without_postcode(text)[0])
