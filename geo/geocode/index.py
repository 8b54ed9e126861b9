"""A gazetteer prepared for matching: its addresses grouped into containers (buildings, streets).

Matching compares a location with each *container* ("Perronet House") rather than with every flat,
then looks the flat up inside the container it matched: 10,000 flats in 250 blocks cost a 250-wide
fuzzy match, and "Flat 12" can never be taken for "Flat 21" by a fuzzy score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .parser import Normaliser, ParsedAddress
from .scores import DROPPED_WORD_PENALTY
from .tables import check_gazetteer
from .text import NUMBER, raw_tokens, without_postcode

T = TypeVar("T")

#: Shorter forms of many names by rank: (owners, forms, penalties), see :func:`form_levels`.
FormLevels = list[tuple[NDArray[np.int64], list[str], NDArray[np.float32]]]


@dataclass
class GazetteerIndex:
    """A gazetteer prepared for matching: its containers (buildings, streets) and their units.

    Build it once with :meth:`from_frame` and pass it to :func:`geocode` as often as you like (a
    page can cache it); passing the DataFrame builds it on every call.
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
    #: Shorter forms of the names (:func:`name_forms`), by rank: (containers, forms, penalties).
    alias_levels: FormLevels = field(default_factory=list)

    @classmethod
    def from_frame(cls, gazetteer: pd.DataFrame) -> GazetteerIndex:
        """Parse every address once. Rows without usable coordinates, or whose address names
        neither a building nor a street, cannot be matched; their positions are kept in
        ``unparsed``."""
        frame = check_gazetteer(gazetteer)
        addresses = frame["address"].fillna("").astype(str).to_numpy(dtype=object)
        east = frame["easting"].to_numpy(dtype="float64")
        north = frame["northing"].to_numpy(dtype="float64")
        vocab = frozenset(t for a in addresses for t in raw_tokens(a))
        groups = _Containers.of(addresses, east, north, Normaliser(vocab)).longest_first()
        return cls(
            cores=groups.cores,
            kinds=groups.kinds,
            contexts=groups.contexts,
            display=groups.display,
            centroid_e=np.array([east[m].mean() for m in groups.members], dtype="float64"),
            centroid_n=np.array([north[m].mean() for m in groups.members], dtype="float64"),
            size=np.array([len(m) for m in groups.members], dtype="int64"),
            postcode=[c.most_common(1)[0][0] if c else None for c in groups.postcodes],
            units=groups.units,
            uprn=frame["uprn"].to_numpy(),
            address=addresses,
            easting=east,
            northing=north,
            vocab=vocab,
            unparsed=groups.unparsed,
            on_street=_by_street(groups.contexts),
            alias_levels=form_levels(groups.cores, anywhere=False),
        )


@dataclass
class _Containers:
    """The gazetteer's addresses grouped by container while the index is built."""

    cores: list[str] = field(default_factory=list)
    kinds: list[str | None] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    display: list[str] = field(default_factory=list)
    members: list[list[int]] = field(default_factory=list)
    postcodes: list[Counter[str]] = field(default_factory=list)
    units: dict[tuple[int, str], int] = field(default_factory=dict)
    unparsed: list[int] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        addresses: NDArray[np.object_],
        east: NDArray[np.float64],
        north: NDArray[np.float64],
        parser: Normaliser,
    ) -> _Containers:
        """Every address parsed and filed under its container; a flat's first row is its row."""
        groups = cls()
        key_of: dict[tuple[str, str | None, str], int] = {}
        for i, text in enumerate(addresses):
            body, postcode = without_postcode(text)
            parsed = parser.parse(body)
            if not parsed.core or not (np.isfinite(east[i]) and np.isfinite(north[i])):
                groups.unparsed.append(i)
                continue
            key = (parsed.core, parsed.kind, parsed.context)
            cid = key_of.get(key)
            if cid is None:
                cid = key_of[key] = groups._new(parsed, _display_name(body, parsed, parser))
            groups.members[cid].append(i)
            if postcode:
                groups.postcodes[cid][postcode] += 1
            if parsed.unit is not None:
                groups.units.setdefault((cid, parsed.unit), i)
        return groups

    def _new(self, parsed: ParsedAddress, display: str) -> int:
        self.cores.append(parsed.core)
        self.kinds.append(parsed.kind)
        self.contexts.append(parsed.context)
        self.display.append(display)
        self.members.append([])
        self.postcodes.append(Counter())
        return len(self.cores) - 1

    def longest_first(self) -> _Containers:
        """The containers renumbered, longest names first: the r-th shorter forms then belong to a
        prefix of the containers, and merging their scores is an in-place maximum on a slice (see
        :func:`~closuremap.geo.geocode.fuzzy.name_similarity`)."""
        order = sorted(range(len(self.cores)), key=lambda c: -len(self.cores[c].split()))
        new_id = {old: new for new, old in enumerate(order)}
        return _Containers(
            cores=_reorder(self.cores, order),
            kinds=_reorder(self.kinds, order),
            contexts=_reorder(self.contexts, order),
            display=_reorder(self.display, order),
            members=_reorder(self.members, order),
            postcodes=_reorder(self.postcodes, order),
            units={(new_id[cid], unit): row for (cid, unit), row in self.units.items()},
            unparsed=self.unparsed,
        )


def _reorder(seq: list[T], order: list[int]) -> list[T]:
    return [seq[i] for i in order]


def _by_street(contexts: list[str]) -> dict[str, list[int]]:
    """Containers per street, to tell a caller which buildings stand on a street they named."""
    found: dict[str, list[int]] = {}
    for cid, street in enumerate(contexts):
        if street:
            found.setdefault(street, []).append(cid)
    return found


def _display_name(address: str, parsed: ParsedAddress, parser: Normaliser) -> str:
    """The container's name as the gazetteer writes it ("St Georges Buildings"), for
    matched_address."""
    want = set(parsed.core.split()) | ({parsed.kind} if parsed.kind else set())
    for segment in address.split(","):
        toks = set(parser.tokens(segment))
        if want <= toks:
            words = segment.split()
            # drop a leading "Flat 12" / house number so only the name is left
            while words and (
                parser.tokens(words[0]) in (["flat"], ["no"]) or NUMBER.match(words[0].lower())
            ):
                words = words[1:]
            if words:
                return " ".join(words)
    return " ".join(w.capitalize() for w in (parsed.core + " " + (parsed.kind or "")).split())


def name_forms(core: str, anywhere: bool) -> list[tuple[str, int]]:
    """A name and its shorter forms, each with the number of words it leaves out.

    Shorter forms keep the *end* of the name, next to the type word ("saint georges" ->
    "georges"; "youths perronet" -> "perronet"), never drop it: "falcon linnet" must not become
    "falcon", or "Falcon Buildings" would swallow "Falcon Linnet Buildings". A name with no type
    word after it (``anywhere``) may sit anywhere in the text, so any run of up to three of its
    words is a form.

    >>> name_forms("saint georges", anywhere=False)
    [('saint georges', 0), ('georges', 1)]
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


def form_levels(names: Sequence[str], anywhere: bool | Sequence[bool]) -> FormLevels:
    """The shorter forms of many names, by rank: level r holds every name's r-th shorter form, so
    each name appears at most once a level and the scores merge back with plain fancy indexing."""
    flags = [anywhere] * len(names) if isinstance(anywhere, bool) else list(anywhere)
    levels: list[tuple[list[int], list[str], list[float]]] = []
    for owner, (name, flag) in enumerate(zip(names, flags, strict=True)):
        for rank, (form, dropped) in enumerate(name_forms(name, flag)[1:]):
            if rank == len(levels):
                levels.append(([], [], []))
            levels[rank][0].append(owner)
            levels[rank][1].append(form)
            levels[rank][2].append(DROPPED_WORD_PENALTY * dropped)
    return [(np.asarray(o, np.int64), t, np.asarray(p, np.float32)) for o, t, p in levels]
