"""Settling each location text: its address match, else its postcode, else the reason it has
none.

All the texts' parsed addresses (and their street fallbacks) go to the fuzzy match in one batch;
each text then takes the first of its queries that matched well enough.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..crs import in_bng_range
from .evidence import TextEvidence, doubt_text_coordinates, scan_text
from .fuzzy import Matches, match_containers
from .index import GazetteerIndex
from .parser import Normaliser, ParsedAddress
from .scores import AMBIGUOUS_SCORE_CAP, BUILDING_ONLY_FACTOR, NEAR_MISS_SCORE, POSTCODE_SCORE
from .tables import postcode_lookup
from .vocabulary import STREET_TYPES

QueryKey = tuple[str, str | None, str]


def read_texts(
    texts: Sequence[object],
    index: GazetteerIndex,
    postcodes: pd.DataFrame | None,
    min_score: float,
    workers: int,
) -> list[TextEvidence]:
    """The evidence of each distinct location text, settled: placed by coordinates, grid
    reference, address or postcode, or unplaced with the reason."""
    parser = Normaliser(index.vocab)
    evidence = [scan_text(str(t), parser) for t in texts]
    doubt_text_coordinates(evidence, index)
    queries, query_id = _distinct_queries(evidence)
    matches = match_containers(index, queries, workers, explain_below=min_score)
    wanted = {ev.postcode for ev in evidence if ev.postcode and ev.method == "none"}
    pc_table = postcode_lookup(postcodes, wanted)
    for text, ev in zip(texts, evidence, strict=True):
        if ev.method != "none":
            continue
        why = _try_addresses(ev, query_id, matches, index, min_score)
        if ev.method == "address":
            continue
        if ev.postcode:
            why = _try_postcode(ev, pc_table.get(ev.postcode), postcodes is not None, why)
            if ev.method == "postcode":
                continue
        if why:
            ev.notes.append(why)
        elif not ev.notes:
            ev.notes.append(
                "nothing to geocode: the location is empty"
                if not str(text).strip()
                else "no coordinates, grid reference, address or postcode found"
            )
    return evidence


def _distinct_queries(
    evidence: list[TextEvidence],
) -> tuple[list[ParsedAddress], dict[QueryKey, int]]:
    """The distinct parsed addresses (and street fallbacks) of the texts not yet placed."""
    query_id: dict[QueryKey, int] = {}
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
    return queries, query_id


def _try_addresses(
    ev: TextEvidence,
    query_id: dict[QueryKey, int],
    matches: Matches,
    index: GazetteerIndex,
    min_score: float,
) -> str | None:
    """Place ``ev`` by the first of its queries that matched; else the first query's reason."""
    why: str | None = None
    q: ParsedAddress | None = ev.parsed
    while q is not None:
        if q.core:
            m_idx = query_id[(q.core, q.kind, q.context)]
            placed, reason = resolve_address(ev, m_idx, matches, index, q, min_score)
            if placed:
                return why
            why = why or reason
        q = q.fallback
    return why


def _try_postcode(
    ev: TextEvidence, hit: tuple[float, float, str] | None, have_file: bool, why: str | None
) -> str | None:
    """Place ``ev`` at its postcode's centroid; else the reason the postcode did not help."""
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
        return None
    if hit is not None:
        return f"postcode {ev.postcode} has no coordinates in the postcode file"
    if not have_file:
        return f"postcode {ev.postcode} found but no postcode file was given"
    return f"postcode {ev.postcode} is not in the postcode file"


def _asked(query: ParsedAddress) -> str:
    return f"{query.core} {query.kind or ''}".strip()


def resolve_address(
    ev: TextEvidence,
    m_idx: int,
    matches: Matches,
    index: GazetteerIndex,
    query: ParsedAddress,
    min_score: float,
) -> tuple[bool, str | None]:
    """Fill ``ev`` from the match of one query; (placed?, reason it was not)."""
    cid = int(matches.container[m_idx])
    score = float(matches.score[m_idx])
    if cid < 0 or score < min_score:
        return False, _why_unmatched(m_idx, matches, index, query, min_score)
    name = index.display[cid]
    ambiguous = bool(matches.ambiguous[m_idx])
    ev.method = "address"
    notes = [_place_in_container(ev, cid, score, query, index)]
    if ambiguous:
        other = index.display[int(matches.runner_up[m_idx])]
        notes.append(
            f"ambiguous: '{_asked(query)}' fits {name} and {other} equally; took {name}, check it"
        )
        ev.score = min(ev.score, AMBIGUOUS_SCORE_CAP)
    if ev.postcode and index.postcode[cid] and ev.postcode != index.postcode[cid]:
        notes.append(
            f"the text's postcode {ev.postcode} differs from {name}'s {index.postcode[cid]}"
        )
    ev.notes.extend(notes)
    return True, None


def _place_in_container(
    ev: TextEvidence, cid: int, score: float, query: ParsedAddress, index: GazetteerIndex
) -> str:
    """Place ``ev`` at its flat in the matched container, else at the container's centre; the
    note says which."""
    name = index.display[cid]
    unit = query.unit
    row = index.units.get((cid, unit)) if unit is not None else None
    if row is not None:
        ev.easting, ev.northing = float(index.easting[row]), float(index.northing[row])
        ev.matched = str(index.address[row])
        ev.score = score
        ev.uprn = index.uprn[row]
        what = "flat" if index.kinds[cid] not in STREET_TYPES else "number"
        return f"address: {what} {unit} of {name} (name score {score:.0f})"
    ev.easting, ev.northing = float(index.centroid_e[cid]), float(index.centroid_n[cid])
    ev.matched = name
    ev.uprn = None
    if unit is not None:
        ev.score = min(BUILDING_ONLY_FACTOR * score, AMBIGUOUS_SCORE_CAP)
        what = "flat" if query.scope != "street" else "number"
        return (
            f"no {what} {unit} in {name} in the gazetteer; placed at the centre of its "
            f"{index.size[cid]} addresses"
        )
    ev.score = BUILDING_ONLY_FACTOR * score
    return (
        f"building only: {name}, centre of its {index.size[cid]} addresses "
        f"(name score {score:.0f}, x{BUILDING_ONLY_FACTOR:g} for naming no flat)"
    )


def _why_unmatched(
    m_idx: int, matches: Matches, index: GazetteerIndex, query: ParsedAddress, min_score: float
) -> str:
    """Why a query has no match good enough: a street without numbers, a building of another
    type, a best match below ``min_score``, or nothing like it at all."""
    cid = int(matches.container[m_idx])
    score = float(matches.score[m_idx])
    alt = int(matches.unmasked[m_idx])
    asked = _asked(query)
    if query.scope == "street":
        on_it = index.on_street.get(asked, [])
        if on_it:
            names = ", ".join(index.display[c] for c in on_it[:4])
            return (
                f"'{asked}' is a street with no numbered addresses in the gazetteer; name the "
                f"building ({names}{', ...' if len(on_it) > 4 else ''})"
            )
        return f"no gazetteer address on a street like '{asked}'"
    if (
        query.kind
        and alt >= 0
        and matches.unmasked_score[m_idx] >= NEAR_MISS_SCORE
        and index.kinds[alt] != query.kind
    ):
        return (
            f"no {query.kind} called '{query.core}' in the gazetteer; {index.display[alt]} has "
            "a similar name but a different building type, which must match exactly"
        )
    if cid >= 0:
        return (
            f"best address match for '{asked}' is {index.display[cid]} with score {score:.0f}, "
            f"below {min_score:g}"
        )
    return f"no gazetteer building or street resembles '{asked}'"
