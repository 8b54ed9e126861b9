"""The fuzzy match of parsed locations against the gazetteer's containers, in batches.

Scoring is vectorised (``rapidfuzz.process.cdist`` over de-duplicated, normalised names, in chunks
of at most :data:`CHUNK_CELLS` cells), so 100k rows cost less than one raw cdist of them against
the gazetteer (``bench/bench_geocode.py``). Type words must agree: a House is never a Court, so a
query that names a type is scored only against the containers of that type (the block), which is
what keeps 10,000 one-flat buildings from costing a 10,000-wide match per query. The best match
regardless of type, which only the reason for a miss needs, is scored only for the misses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from .index import FormLevels, GazetteerIndex, form_levels
from .parser import ParsedAddress
from .scores import DROPPED_WORD_PENALTY

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


def sorted_words(name: str) -> str:
    """The name with its words in order: ``ratio`` of two such strings is exactly rapidfuzz's
    ``token_sort_ratio`` of the names, at half its cost in ``cdist`` (which re-sorts the words of
    every pair)."""
    return " ".join(sorted(name.split()))


@dataclass
class Columns:
    """Some of the index's containers, in index order (so still longest name first), with the
    shorter forms of their names; a query's score against one of them does not depend on which
    others are in the set."""

    ids: NDArray[np.int64]
    cores: list[str]
    sorted_cores: list[str]  # :func:`sorted_words` of each name
    words: NDArray[np.int64]  # words in each name, non-increasing
    alias_levels: FormLevels  # owners as positions in ``ids``; forms word-sorted
    level_words: list[int]  # most words of any owner of each level in the whole index

    @classmethod
    def whole(cls, index: GazetteerIndex) -> Columns:
        """Every container of the index."""
        words = np.array([len(c.split()) for c in index.cores], np.int64)
        return cls(
            np.arange(len(index.cores), dtype=np.int64),
            list(index.cores),
            [sorted_words(c) for c in index.cores],
            words,
            [(o, [sorted_words(f) for f in forms], p) for o, forms, p in index.alias_levels],
            [int(words[owners].max()) for owners, _, _ in index.alias_levels],
        )

    def subset(self, ids: NDArray[np.int64]) -> Columns:
        """The containers ``ids`` (ascending positions in this set) and their shorter forms."""
        pos = np.full(len(self.ids), -1, np.int64)
        pos[ids] = np.arange(len(ids))
        levels: FormLevels = []
        for owners, forms, penalty in self.alias_levels:
            keep = np.flatnonzero(pos[owners] >= 0)
            levels.append((pos[owners[keep]], [forms[k] for k in keep], penalty[keep]))
        return Columns(
            self.ids[ids],
            [self.cores[i] for i in ids],
            [self.sorted_cores[i] for i in ids],
            self.words[ids],
            levels,
            self.level_words,
        )


def name_similarity(
    queries: Sequence[ParsedAddress],
    index: GazetteerIndex,
    workers: int,
    columns: Columns | None = None,
) -> NDArray[np.float32]:
    """Name score (0-100), queries x containers (``columns``, default all): similarity of the
    names (as typed or word-sorted), or of a shorter form of either one (never both) less
    DROPPED_WORD_PENALTY per word left out, whichever is best.

    Token-sort (``ratio`` of the word-sorted names, :func:`sorted_words`) forgives word order;
    the shorter forms give it token-set's tolerance of missing or extra words without token-set's
    40-fold cost or its blind spot (it scores any subset 100).
    """
    cols = Columns.whole(index) if columns is None else columns
    cores = [q.core for q in queries]
    sorted_q = [sorted_words(c) for c in cores]
    sim = process.cdist(
        sorted_q, cols.sorted_cores, scorer=fuzz.ratio, dtype=np.float32, workers=workers
    )
    # as typed too: sorting words misaligns a name whose typo changes the order ("hrdy", "hardy")
    np.maximum(
        sim,
        process.cdist(cores, cols.cores, scorer=fuzz.ratio, dtype=np.float32, workers=workers),
        out=sim,
    )
    q_words = np.array([len(c.split()) for c in cores], np.int64)
    _merge_gazetteer_forms(sim, sorted_q, q_words, cols, workers)
    _merge_query_forms(sim, queries, q_words, cols, workers)
    np.maximum(sim, 0, out=sim)
    return sim


def _merge_gazetteer_forms(
    sim: NDArray[np.float32],
    sorted_q: list[str],
    q_words: NDArray[np.int64],
    cols: Columns,
    workers: int,
) -> None:
    """Raise ``sim`` where a shorter gazetteer name ("georges" for "saint georges") fits better;
    it only helps a query of fewer words."""
    for (owners, forms, penalty), most in zip(cols.alias_levels, cols.level_words, strict=True):
        rows = np.flatnonzero(q_words < most)
        if not len(rows) or not len(owners):
            continue
        extra = process.cdist(
            [sorted_q[r] for r in rows],
            forms,
            scorer=fuzz.ratio,
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
    cols: Columns,
    workers: int,
) -> None:
    """Raise ``sim`` where a shorter query ("perronet" for "youths perronet") fits better; it
    only helps against a name of fewer words. Done per query length, so no answer depends on the
    batch."""
    cores = [q.core for q in queries]
    c_words = cols.words
    for owners, forms, penalty in form_levels(cores, [q.kind is None for q in queries]):
        for words in np.unique(q_words[owners]):
            # the names with fewer words
            first = int(np.searchsorted(-c_words, -words, side="right"))
            if first >= len(c_words):
                continue
            pick = np.flatnonzero(q_words[owners] == words)
            extra = process.cdist(
                [sorted_words(forms[k]) for k in pick],
                cols.sorted_cores[first:],
                scorer=fuzz.ratio,
                dtype=np.float32,
                workers=workers,
            )
            extra -= penalty[pick, None]
            rows = owners[pick]
            sim[rows, first:] = np.maximum(sim[rows, first:], extra)


@dataclass
class _TieKeys:
    """Type words and streets as codes, to block by type and break exact ties by street."""

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
    index: GazetteerIndex,
    queries: Sequence[ParsedAddress],
    workers: int,
    explain_below: float = math.inf,
) -> Matches:
    """Best container per query: name score (:func:`name_similarity`) among containers with the
    same type word; an exact tie goes to the container on the street the query names, then to the
    closest plain spelling; a tie that survives is ambiguous.

    A query whose words are exactly a container's needs no fuzzy score (:func:`_exact_names`).
    The others are blocked by their type word: one that names a type is scored against the
    containers of that type only (the others could never be its match). The best container of any
    type (``unmasked``, for the reason of a near miss) is scored only for queries that name a type
    and found no match scoring ``explain_below`` or more. Chunks of queries keep memory near
    CHUNK_CELLS cells (three float32 matrices of that size at most)."""
    nq, nc = len(queries), len(index.cores)
    out = Matches.empty(nq)
    if nq == 0 or nc == 0:
        return out
    keys = _TieKeys.of(index, queries, workers)
    whole = Columns.whole(index)
    settled = _exact_names(index, whole, queries, keys, out)
    for code in np.unique(keys.q_kind):
        q_rows = np.flatnonzero((keys.q_kind == code) & ~settled)
        cols = whole if code == -1 else whole.subset(np.flatnonzero(keys.c_kind == code))
        if not len(cols.ids):
            continue
        for chunk in _chunks(q_rows, len(cols.ids)):
            _match_chunk(index, queries, chunk, cols, keys, out, workers, code == -1)
    explain = np.flatnonzero(
        (keys.q_kind != -1) & ((out.container < 0) | (out.score < explain_below))
    )
    for chunk in _chunks(explain, nc):
        sim = name_similarity([queries[i] for i in chunk], index, workers, whole)
        raw_best = sim.argmax(axis=1)
        out.unmasked[chunk] = raw_best
        out.unmasked_score[chunk] = sim[np.arange(len(sim)), raw_best]
    return out


def _exact_names(
    index: GazetteerIndex,
    whole: Columns,
    queries: Sequence[ParsedAddress],
    keys: _TieKeys,
    out: Matches,
) -> NDArray[np.bool_]:
    """Settle the queries whose words are exactly those of containers of their type ("heron
    falcon" for "Falcon Heron Tower"), in any order; which queries were settled.

    Such a query scores 100 against exactly those containers (token-sort is 100 only for the same
    words, and a shorter form always loses DROPPED_WORD_PENALTY), and less against every other,
    so the fuzzy matrix could only confirm it: the ties among them are broken as any tie is."""
    settled = np.zeros(len(queries), dtype=bool)
    if DROPPED_WORD_PENALTY <= 0:  # a shorter form could then score 100 too
        return settled
    by_words: dict[str, list[int]] = {}
    for cid, words in enumerate(whole.sorted_cores):
        by_words.setdefault(words, []).append(cid)
    q_ids, hits = [], []
    for qi, q in enumerate(queries):
        code = int(keys.q_kind[qi])
        hit = by_words.get(sorted_words(q.core), [])
        if code != -1:
            hit = [c for c in hit if keys.c_kind[c] == code]
        if hit:
            q_ids.append(qi)
            hits.append(hit)
    if not q_ids:
        return settled
    ids = np.array(q_ids, dtype=np.int64)
    row = np.repeat(np.arange(len(ids)), [len(h) for h in hits])
    col = np.array([c for h in hits for c in h], dtype=np.int64)  # ascending within a query
    out.container[ids] = _break_ties(queries, ids, row, col, index, keys, out)
    out.score[ids] = 100.0
    kindless = np.flatnonzero(keys.q_kind[ids] == -1)  # their best of any type is this one
    out.unmasked[ids[kindless]] = [hits[k][0] for k in kindless]
    out.unmasked_score[ids[kindless]] = 100.0
    settled[ids] = True
    return settled


def _chunks(rows: NDArray[np.int64], width: int) -> list[NDArray[np.int64]]:
    """``rows`` cut so that each piece times ``width`` stays within CHUNK_CELLS."""
    step = max(1, CHUNK_CELLS // max(1, width))
    return [rows[lo : lo + step] for lo in range(0, len(rows), step)]


def _match_chunk(
    index: GazetteerIndex,
    queries: Sequence[ParsedAddress],
    chunk: NDArray[np.int64],
    cols: Columns,
    keys: _TieKeys,
    out: Matches,
    workers: int,
    all_kinds: bool,
) -> None:
    """Fill ``out`` for the queries ``chunk`` against the containers ``cols`` (their block); the
    best regardless of type too when ``cols`` holds every type."""
    sim = name_similarity([queries[i] for i in chunk], index, workers, cols)
    rows = np.arange(len(sim))
    best = sim.argmax(axis=1)
    top = sim[rows, best]
    if all_kinds:
        out.unmasked[chunk] = cols.ids[best]
        out.unmasked_score[chunk] = top
    sim[rows, best] = -1.0
    tied = np.flatnonzero((sim.max(axis=1) == top) & (top > 0))
    sim[rows, best] = top
    chosen = cols.ids[best]
    if len(tied):
        row, col = np.nonzero(sim[tied] == top[tied, None])  # row-major: columns ascend
        chosen[tied] = _break_ties(queries, chunk[tied], row, cols.ids[col], index, keys, out)
    has = top > 0
    out.container[chunk] = np.where(has, chosen, -1)
    out.score[chunk] = np.where(has, top, 0.0)


def _break_ties(
    queries: Sequence[ParsedAddress],
    q_ids: NDArray[np.int64],
    row: NDArray[np.int64],
    col: NDArray[np.int64],
    index: GazetteerIndex,
    keys: _TieKeys,
    out: Matches,
) -> NDArray[np.int64]:
    """The container chosen for each query ``q_ids[k]`` among its tied candidates (the pairs
    ``row == k``, containers ``col`` ascending): street agreement first (x1000), then plain
    spelling, then the first in index order; a tie that survives both is marked ambiguous in
    ``out``. Only the tied pairs are scored (a handful per query)."""
    pair_q = q_ids[row]
    plain = np.array(
        [fuzz.ratio(queries[q].core, index.cores[c]) for q, c in zip(pair_q, col, strict=True)],
        dtype=np.float32,
    )
    key = keys.street_sim[keys.q_street[pair_q], keys.c_street[col]] * np.float32(1000.0) + plain
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])  # every query has pairs
    on_top = np.flatnonzero(key == np.maximum.reduceat(key, starts)[row])
    first = np.flatnonzero(np.r_[True, row[on_top][1:] != row[on_top][:-1]])
    n_top = np.diff(np.r_[first, len(on_top)])
    for k in np.flatnonzero(n_top > 1):
        out.ambiguous[q_ids[k]] = True
        out.runner_up[q_ids[k]] = int(col[on_top[first[k] + 1]])
    return col[on_top[first]]
