"""The fuzzy match blocked by type word (geo/geocode/fuzzy.py) against the plain dense match it
replaced: every query scored against every container, other types masked to zero, exact ties
broken by street then plain spelling over the whole row. The two must agree on every query:
blocking is a speed-up, never a different answer."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

import closuremap.geo.geocode.fuzzy as fuzzy_module
from closuremap.geo.geocode import GazetteerIndex, geocode, parse_address
from closuremap.geo.geocode.fuzzy import Matches, match_containers, name_similarity, sorted_words
from closuremap.geo.geocode.parser import ParsedAddress

NAMES = ["heron", "falcon", "kestrel", "osprey", "merlin", "raven", "linnet", "curlew", "oak"]
TYPES = ["House", "Court", "Tower", "Lodge"]
STREETS = ["Mill Lane", "Kiln Road", "Brook Drive", ""]


def _gazetteer(rng: random.Random) -> pd.DataFrame:
    """One-flat buildings whose names are reorderings of each other ("Heron Falcon House" and
    "Falcon Heron House"), shared across types and streets, plus one- and three-word names: the
    shapes that tie."""
    seen: set[tuple[str, str, str]] = set()
    rows: list[str] = []
    while len(rows) < 160:
        n = rng.choice([1, 2, 2, 2, 3])
        name = " ".join(rng.sample(NAMES, n)).title()
        kind, street = rng.choice(TYPES), rng.choice(STREETS)
        if (name, kind, street) in seen:
            continue
        seen.add((name, kind, street))
        tail = f", {street}" if street else ""
        rows.append(f"Flat 1, {name} {kind}{tail}")
    return pd.DataFrame(
        {
            "uprn": np.arange(len(rows)) + 1,
            "address": rows,
            "easting": [530000.0 + i for i in range(len(rows))],
            "northing": [180000.0] * len(rows),
        }
    )


def _queries(rng: random.Random, gaz: pd.DataFrame) -> list[ParsedAddress]:
    """Exact names, reordered names, typos, dropped type words, unknown types, streets."""
    out = []
    for text in gaz["address"]:
        name = text.split(", ")[1]
        words = name.split()
        r = rng.random()
        if r < 0.25:
            words[0] = words[0][:-1] if len(words[0]) > 4 else words[0]
        elif r < 0.45:
            words[:-1] = list(reversed(words[:-1]))
        elif r < 0.6:
            words = words[:-1]  # no type word
        elif r < 0.7:
            words[-1] = "Mansions"  # a type the gazetteer does not have
        street = rng.choice(STREETS)
        out.append(parse_address(f"Flat 1 {' '.join(words)}" + (f", {street}" if street else "")))
    return [q for q in out if q.core]


def _dense(index: GazetteerIndex, queries: list[ParsedAddress]) -> Matches:
    """The match as it was before blocking: one dense queries x containers matrix."""
    keys = fuzzy_module._TieKeys.of(index, queries, 1)
    sim = name_similarity(queries, index, 1)
    out = Matches.empty(len(queries))
    rows = np.arange(len(sim))
    out.unmasked[:] = sim.argmax(axis=1)
    out.unmasked_score[:] = sim[rows, out.unmasked]
    qk = keys.q_kind[:, None]
    sim *= (qk == -1) | (qk == keys.c_kind[None, :])
    best = sim.argmax(axis=1)
    top = sim[rows, best]
    for r in np.flatnonzero(top > 0):
        cand = np.flatnonzero(sim[r] == top[r])
        plain = process.cdist([queries[r].core], index.cores, scorer=fuzz.ratio, dtype=np.float32)
        street = keys.street_sim[keys.q_street[r]][keys.c_street]
        key = np.full(len(index.cores), -1.0, np.float32)
        key[cand] = (street * np.float32(1000.0) + plain[0])[cand]
        on_top = np.flatnonzero(key == key.max())
        best[r] = on_top[0]
        if len(on_top) > 1:
            out.ambiguous[r], out.runner_up[r] = True, on_top[1]
    out.container[:] = np.where(top > 0, best, -1)
    out.score[:] = np.where(top > 0, top, 0.0)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("cells", [fuzzy_module.CHUNK_CELLS, 300])
def test_blocking_by_type_gives_the_dense_answers(
    monkeypatch: pytest.MonkeyPatch, seed: int, cells: int
) -> None:
    rng = random.Random(seed)
    gaz = _gazetteer(rng)
    index = GazetteerIndex.from_frame(gaz)
    queries = _queries(rng, gaz)
    want = _dense(index, queries)
    assert want.ambiguous.any() and (want.container < 0).any()  # the set has ties and misses
    monkeypatch.setattr(fuzzy_module, "CHUNK_CELLS", cells)
    got = match_containers(index, queries, 1)
    for field in ("container", "score", "ambiguous", "runner_up", "unmasked", "unmasked_score"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)


def test_the_best_of_any_type_is_scored_only_for_misses() -> None:
    rng = random.Random(4)
    gaz = _gazetteer(rng)
    index = GazetteerIndex.from_frame(gaz)
    queries = _queries(rng, gaz)
    want = _dense(index, queries)
    got = match_containers(index, queries, 1, explain_below=70)
    typed = np.array([q.kind is not None for q in queries])
    miss = (got.container < 0) | (got.score < 70)
    explained = ~typed | miss
    np.testing.assert_array_equal(got.unmasked[explained], want.unmasked[explained])
    assert (got.unmasked[typed & ~miss] == -1).all()
    np.testing.assert_array_equal(got.container, want.container)


def test_a_near_miss_of_another_type_is_still_named_among_many_buildings() -> None:
    # the reason for a miss needs the best name of any type, which blocking no longer scores
    names = [f"Flat 1, {a.title()} {b.title()} House" for a in NAMES for b in NAMES if a != b]
    gaz = pd.DataFrame(
        {
            "uprn": np.arange(len(names)) + 1,
            "address": names,
            "easting": 530000.0 + np.arange(len(names)),
            "northing": 180000.0,
        }
    )
    got = geocode(pd.DataFrame({"location": ["Flat 1 Heron Falcon Court"]}), gaz)
    assert got["match_method"].iloc[0] == "none"
    assert "different building type" in got["reason"].iloc[0]
    assert "Heron Falcon House" in got["reason"].iloc[0]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=9), max_size=5),
    st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=9), max_size=5),
)
def test_ratio_of_sorted_words_is_token_sort(a: list[str], b: list[str]) -> None:
    # name_similarity scores word-sorted names with plain ratio because rapidfuzz's cdist
    # re-sorts every pair under token_sort_ratio; the two must give the same number
    x, y = " ".join(a), " ".join(b)
    assert fuzz.ratio(sorted_words(x), sorted_words(y)) == fuzz.token_sort_ratio(x, y)
