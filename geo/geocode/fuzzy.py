"""The fuzzy match of parsed locations against the gazetteer's containers, in batches.

Scoring is vectorised (``rapidfuzz.process.cdist`` over de-duplicated, normalised names, in chunks
of at most :data:`CHUNK_CELLS` cells), so 100k rows cost less than one raw cdist of them against
the gazetteer (``bench/bench_geocode.py``). Type words must agree: a House is never a Court.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from .index import GazetteerIndex, form_levels
from .parser import ParsedAddress

#: Cells (queries x containers) of one chunk of the fuzzy match: ~3 float32 matrices of this size.
CHUNK_CELLS = 16_000_000


@dataclass
class Matches:
    """The best container of each query, and what the reason needs to explain a miss."""

    container: NDArray[np.int64]  # -1: no candidate
    score: NDArray[np.float64]  # name score of that container (0-100)
    ambiguous: NDArray[np.bool_]
    runner_up: NDArray[np.int64]  # the other tied container when ambiguous
    unmasked: NDArray[np.int64]  # best container ignoring the type word (for the reason)
    unmasked_score: NDArray[np.float64]

    @classmethod
    def empty(cls, n: int) -> Matches:
        return cls(
            np.full(n, -1, dtype=np.int64),
            np.zeros(n),
            np.zeros(n, dtype=bool),
            np.full(n, -1, dtype=np.int64),
            np.full(n, -1, dtype=np.int64),
            np.zeros(n),
        )


def name_similarity(
    queries: Sequence[ParsedAddress], index: GazetteerIndex, workers: int
) -> NDArray[np.float32]:
    """Name score (0-100), queries x containers: similarity of the names (as typed or
    word-sorted), or of a shorter form of either one (never both) less DROPPED_WORD_PENALTY per
    word left out, whichever is best.

    Token-sort forgives word order and costs about what plain ``ratio`` costs in ``cdist``; the
    shorter forms give it token-set's tolerance of missing or extra words without token-set's
    40-fold cost or its blind spot (it scores any subset 100).
    """
    cores = [q.core for q in queries]
    sim = process.cdist(
        cores, index.cores, scorer=fuzz.token_sort_ratio, dtype=np.float32, workers=workers
    )
    # as typed too: sorting words misaligns a name whose typo changes the order ("hrdy", "hardy")
    np.maximum(
        sim,
        process.cdist(cores, index.cores, scorer=fuzz.ratio, dtype=np.float32, workers=workers),
        out=sim,
    )
    q_words = np.array([len(c.split()) for c in cores], np.int64)
    c_words = np.array([len(c.split()) for c in index.cores], np.int64)  # longest first
    _merge_gazetteer_forms(sim, cores, q_words, c_words, index, workers)
    _merge_query_forms(sim, queries, q_words, c_words, index, workers)
    np.maximum(sim, 0, out=sim)
    return sim


def _merge_gazetteer_forms(
    sim: NDArray[np.float32],
    cores: list[str],
    q_words: NDArray[np.int64],
    c_words: NDArray[np.int64],
    index: GazetteerIndex,
    workers: int,
) -> None:
    """Raise ``sim`` where a shorter gazetteer name ("georges" for "saint georges") fits better;
    it only helps a query of fewer words."""
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


def _merge_query_forms(
    sim: NDArray[np.float32],
    queries: Sequence[ParsedAddress],
    q_words: NDArray[np.int64],
    c_words: NDArray[np.int64],
    index: GazetteerIndex,
    workers: int,
) -> None:
    """Raise ``sim`` where a shorter query ("perronet" for "youths perronet") fits better; it
    only helps against a name of fewer words. Done per query length, so no answer depends on the
    batch."""
    cores = [q.core for q in queries]
    for owners, forms, penalty in form_levels(cores, [q.kind is None for q in queries]):
        for words in np.unique(q_words[owners]):
            # the names with fewer words
            first = int(np.searchsorted(-c_words, -words, side="right"))
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


@dataclass
class _TieKeys:
    """Type words and streets as codes, to mask other types and break exact ties by street."""

    c_kind: NDArray[np.int64]
    q_kind: NDArray[np.int64]
    c_street: NDArray[np.int64]
    q_street: NDArray[np.int64]
    street_sim: NDArray[np.float32]  # street x street similarity; last row/column = none

    @classmethod
    def of(cls, index: GazetteerIndex, queries: Sequence[ParsedAddress], workers: int) -> _TieKeys:
        kinds = sorted({k for k in index.kinds if k is not None})
        kind_code = {k: i for i, k in enumerate(kinds)}
        c_kind = [kind_code[k] if k is not None else -3 for k in index.kinds]
        q_kind = [-1 if q.kind is None else kind_code.get(q.kind, -2) for q in queries]
        # few distinct streets: one small matrix
        streets = sorted(
            {c for c in index.contexts if c} | {q.context for q in queries if q.context}
        )
        street_code = {c: i for i, c in enumerate(streets)}
        street_sim = np.zeros((len(streets) + 1, len(streets) + 1), np.float32)
        if streets:
            street_sim[:-1, :-1] = process.cdist(
                streets, streets, scorer=fuzz.ratio, dtype=np.float32, workers=workers
            )
        return cls(
            np.array(c_kind, dtype=np.int64),
            np.array(q_kind, dtype=np.int64),
            np.array([street_code.get(c, -1) for c in index.contexts], dtype=np.int64),
            np.array([street_code.get(q.context, -1) for q in queries], dtype=np.int64),
            street_sim,
        )


def match_containers(
    index: GazetteerIndex, queries: Sequence[ParsedAddress], workers: int
) -> Matches:
    """Best container per query: name score (:func:`name_similarity`) among containers with the
    same type word; an exact tie goes to the container on the street the query names, then to the
    closest plain spelling; a tie that survives is ambiguous. One chunk of queries at a time, so
    memory stays near CHUNK_CELLS cells (three float32 matrices of that size at most)."""
    nq, nc = len(queries), len(index.cores)
    out = Matches.empty(nq)
    if nq == 0 or nc == 0:
        return out
    keys = _TieKeys.of(index, queries, workers)
    step = max(1, CHUNK_CELLS // nc)
    for lo in range(0, nq, step):
        _match_chunk(index, queries, slice(lo, min(nq, lo + step)), keys, out, workers)
    return out


def _match_chunk(
    index: GazetteerIndex,
    queries: Sequence[ParsedAddress],
    chunk: slice,
    keys: _TieKeys,
    out: Matches,
    workers: int,
) -> None:
    """Fill ``out`` for the queries of one chunk."""
    sim = name_similarity(queries[chunk], index, workers)
    rows = np.arange(len(sim))
    raw_best = sim.argmax(axis=1)
    out.unmasked[chunk] = raw_best
    out.unmasked_score[chunk] = sim[rows, raw_best]
    qk = keys.q_kind[chunk, None]
    if (qk != -1).any():  # a type word in the query: only containers of that type
        sim *= (qk == -1) | (qk == keys.c_kind[None, :])
    best = sim.argmax(axis=1)
    top = sim[rows, best]
    sim[rows, best] = -1.0
    tied = np.flatnonzero((sim.max(axis=1) == top) & (top > 0))
    sim[rows, best] = top
    if len(tied):
        _break_ties(index, queries, int(chunk.start), sim, top, best, tied, keys, out, workers)
    has = top > 0
    out.container[chunk] = np.where(has, best, -1)
    out.score[chunk] = np.where(has, top, 0.0)


def _break_ties(
    index: GazetteerIndex,
    queries: Sequence[ParsedAddress],
    lo: int,
    sim: NDArray[np.float32],
    top: NDArray[np.float32],
    best: NDArray[np.int64],
    tied: NDArray[np.int64],
    keys: _TieKeys,
    out: Matches,
    workers: int,
) -> None:
    """Among containers tied on the name score: street agreement first (x1000), then plain
    spelling. ``best`` is updated in place; a tie that survives both is marked ambiguous."""
    cand = sim[tied] == top[tied, None]
    plain = process.cdist(
        [queries[lo + int(r)].core for r in tied],
        index.cores,
        scorer=fuzz.ratio,
        dtype=np.float32,
        workers=workers,
    )
    street = keys.street_sim[keys.q_street[lo + tied]][:, keys.c_street]
    key = np.where(cand, street * 1000.0 + plain, -1.0)  # -1 off the tied candidates
    pick = key.argmax(axis=1)
    best[tied] = pick
    n_top = (key == key[np.arange(len(tied)), pick][:, None]).sum(axis=1)
    for k in np.flatnonzero(n_top > 1):
        others = np.flatnonzero(key[k] == key[k, pick[k]])
        out.ambiguous[lo + tied[k]] = True
        out.runner_up[lo + tied[k]] = int(next(o for o in others if o != pick[k]))
