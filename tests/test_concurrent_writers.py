"""No lost edits under real concurrency: two writer processes edit the same order and the same
features at the same time, many rounds, on each backend.

Each round a writer reads a version, then the value, appends its own token to a text field (the
order through :func:`layers.orders.save_order`, the app's path; features through
``store.update``, with the geometry nudged) and saves with ``expected_version``. A refused save
(:class:`StaleEditError`) is retried from a fresh read; a busy workspace (the wait for the other's
write lock running out) is a refusal of another kind, retried too and counted apart. Afterwards
the audit trail must hold every accepted save exactly once, each based on the version just before
it, no refused attempt anywhere, the final values the sum of the accepted ones, and the hash chain
must verify.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.layers import audit_chain
from closuremap.layers.orders import save_order
from closuremap.layers.store import GeoPackageStore, WorkspaceStore

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 40
WRITERS = ("A", "B")
#: Each writer nudges a feature's geometry one metre per accepted save, in its own direction, so
#: the final shape is the start moved by how many saves of each were accepted.
NUDGE = {"A": (1.0, 0.0), "B": (0.0, 1.0)}
E0, N0 = 531700.0, 179000.0

WRITER = """
import json, random, sys, time

import shapely

from closuremap.geo.errors import StaleEditError, WorkspaceError
from closuremap.layers.model import text_or_none
from closuremap.layers.orders import save_order
from closuremap.layers.store import open_workspace

location, name, rounds, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
order_fid, feature_ids = sys.argv[5], sys.argv[6].split(",")
dx, dy = float(sys.argv[7]), float(sys.argv[8])
store = open_workspace(location)
rng = random.Random(seed)
attempts = []


def row(kind, fid):
    frame = store.read(kind)
    return frame[frame["feature_id"] == fid].iloc[0]


def edit_order(token):
    version = store.version("orders", order_fid)  # what the editor loaded: version, then values
    notes = text_or_none(row("orders", order_fid)["notes"]) or ""
    time.sleep(rng.random() * 0.004)  # the officer types
    save_order(
        store,
        user=f"PC {name}",
        feature_id=order_fid,
        changes={"notes": (notes + " " + token).strip()},
        note="concurrent writer",
        expected_version=version,
    )
    return version


def edit_feature(fid, token):
    version = store.version("communal_areas", fid)
    saved = row("communal_areas", fid)
    time.sleep(rng.random() * 0.004)
    store.update(
        "communal_areas",
        fid,
        user=f"PC {name}",
        geometry=shapely.affinity.translate(saved.geometry, dx, dy),
        attributes={"notes": ((text_or_none(saved["notes"]) or "") + " " + token).strip()},
        note="concurrent writer",
        expected_version=version,
    )
    return version


print("ready", flush=True)
sys.stdin.readline()  # both start together
for i in range(rounds):
    fid = feature_ids[i % len(feature_ids)]  # both writers edit the same feature each round
    for target, edit in (("order", edit_order), (fid, lambda t: edit_feature(fid, t))):
        for n in range(1, 1000):
            token = f"{name}{i}.{n}"
            version = None
            try:
                version = edit(token)
            except StaleEditError as exc:
                outcome, why = "stale", str(exc)
            except WorkspaceError as exc:
                if "busy" not in str(exc):
                    raise
                outcome, why = "busy", str(exc)
            else:
                outcome, why = "ok", ""
            attempts.append(
                {"target": target, "token": token, "version": version, "outcome": outcome,
                 "why": why}
            )
            if outcome == "ok":
                break
        else:
            raise SystemExit(f"{name}: round {i} never saved {target}")
print(json.dumps(attempts), flush=True)
"""


def created(location: str) -> WorkspaceStore:
    """A new, empty workspace at ``any_location`` (a .gpkg path or an empty PostGIS database)."""
    if location.startswith("postgresql://"):
        from closuremap.layers.pg_store import PostGISStore

        return PostGISStore.create(location)
    return GeoPackageStore.create(location)


def _setup(store: WorkspaceStore) -> tuple[str, list[str]]:
    """One order and two communal areas, as the writers will find them."""
    order_fid = save_order(
        store,
        user="PC Setup",
        feature_id=None,
        changes={"order_id": "ORD-RACE", "name": "Race House", "notes": ""},
        scope=shapely.box(E0, N0, E0 + 40, N0 + 30),
    )
    areas = gpd.GeoDataFrame(
        {
            "block_id": ["R1", "R1"],
            "area_type": ["stairwell", "landing"],
            "name": ["Stair", "Landing"],
            "notes": [None, None],
        },
        geometry=[shapely.box(E0, N0, E0 + 5, N0 + 5), shapely.box(E0 + 10, N0, E0 + 15, N0 + 5)],
        crs=BNG,
    )
    feature_ids = store.add("communal_areas", areas, user="PC Setup", audit_each=True)
    return order_fid, feature_ids


def _run_writers(
    location: str, order_fid: str, feature_ids: list[str], busy_seconds: str | None
) -> list[dict[str, Any]]:
    """Both writers started, released together, and their attempts collected; ``busy_seconds``
    is how long each waits for the other's write (CLOSUREMAP_BUSY_SECONDS; None: the default)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if busy_seconds is not None:
        env["CLOSUREMAP_BUSY_SECONDS"] = busy_seconds
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                location,
                name,
                str(ROUNDS),
                str(seed),
                order_fid,
                ",".join(feature_ids),
                *map(str, NUDGE[name]),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed, name in enumerate(WRITERS)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    attempts: list[dict[str, Any]] = []
    for name, proc in zip(WRITERS, procs, strict=True):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"writer {name} failed:\n{err[-3000:]}"
        for attempt in json.loads(out.strip().splitlines()[-1]):
            attempts.append({**attempt, "writer": name})
    return attempts


def _updates(history: pd.DataFrame, kind: str, fid: str) -> pd.DataFrame:
    """One object's audit entries, oldest first."""
    mine = history[(history["kind"] == kind) & (history["feature_id"] == fid)]
    return mine.sort_values("id").reset_index(drop=True)


def _notes(entry: object) -> str:
    """The notes an audit entry's state (before or after) holds."""
    if not isinstance(entry, str):
        return ""
    return json.loads(entry)["properties"].get("notes") or ""


def _check_object(
    history: pd.DataFrame, kind: str, fid: str, attempts: list[dict[str, Any]], target: str
) -> list[str]:
    """Every accepted save of one object is in its trail once, in order, each based on the version
    just before it; nothing refused is. Returns the accepted tokens in the trail's order."""
    mine = [a for a in attempts if a["target"] == target]
    accepted = {a["token"]: a for a in mine if a["outcome"] == "ok"}
    refused = {a["token"] for a in mine if a["outcome"] != "ok"}
    entries = _updates(history, kind, fid)
    assert entries.loc[0, "action"] == "add" and (entries.loc[1:, "action"] == "update").all()
    tokens: list[str] = []
    for k in range(1, len(entries)):
        before, after = _notes(entries.loc[k, "before"]), _notes(entries.loc[k, "after"])
        # the stored value each save found is the one the save before it left: nothing in between
        assert before == _notes(entries.loc[k - 1, "after"]), f"{target}: entry {k} skips a state"
        # and the save appended to exactly that: it was based on the current value, none lost
        assert after.startswith(before) and after[len(before) :].strip(), f"{target}: {after!r}"
        token = after[len(before) :].strip()
        assert token in accepted, f"{target}: {token} is in the trail but was not accepted"
        # the version the writer loaded is the entry just before its save
        assert accepted[token]["version"] == int(entries.loc[k - 1, "id"]), token
        tokens.append(token)
    assert sorted(tokens) == sorted(accepted), f"{target}: accepted saves missing from the trail"
    assert len(set(tokens)) == len(tokens), f"{target}: a save recorded twice"
    assert not refused & set(" ".join(tokens).split()), f"{target}: a refused save was written"
    versions = [accepted[t]["version"] for t in tokens]
    assert len(set(versions)) == len(versions), f"{target}: two saves on the same version"
    return tokens


@pytest.mark.parametrize(
    "busy_seconds",
    [None, "0.005"],
    ids=["waiting", "impatient"],  # impatient: most writes find the other's lock, and give up
)
def test_two_writer_processes_lose_no_edit(any_location: str, busy_seconds: str | None) -> None:
    store = created(any_location)
    order_fid, feature_ids = _setup(store)
    attempts = _run_writers(any_location, order_fid, feature_ids, busy_seconds)

    outcomes = Counter(a["outcome"] for a in attempts)
    assert outcomes["ok"] == 2 * ROUNDS * len(WRITERS)  # every round of each writer saved twice
    if busy_seconds is None:
        assert outcomes["stale"] > 0, "the writers never met: nothing was tested"
    else:
        assert outcomes["busy"] > 0, "no write found the workspace busy: nothing was tested"
    for a in attempts:
        if a["outcome"] == "stale":  # says who changed what since
            assert "changed after you opened it" in a["why"] and "PC " in a["why"], a["why"]
        if a["outcome"] == "busy":  # and a busy workspace says nothing was changed
            assert "nothing was changed" in a["why"], a["why"]

    history = store.history()
    tokens = _check_object(history, "orders", order_fid, attempts, "order")
    order = store.read("orders").set_index("feature_id").loc[order_fid]
    assert order["notes"] == " ".join(tokens)  # the final value holds every accepted save
    assert len(tokens) == ROUNDS * len(WRITERS)

    areas = store.read("communal_areas").set_index("feature_id")
    for i, fid in enumerate(feature_ids):
        tokens = _check_object(history, "communal_areas", fid, attempts, fid)
        assert areas.loc[fid, "notes"] == " ".join(tokens)
        moves = Counter(t[0] for t in tokens)  # the writer's name starts its token
        start = shapely.box(E0 + 10 * i, N0, E0 + 10 * i + 5, N0 + 5)
        dx = sum(NUDGE[w][0] * n for w, n in moves.items())
        dy = sum(NUDGE[w][1] * n for w, n in moves.items())
        expected = shapely.MultiPolygon([shapely.affinity.translate(start, dx, dy)])
        assert areas.loc[fid].geometry.normalize().equals_exact(expected.normalize(), 1e-6)

    report = audit_chain.verify(history.sort_values("id").to_dict("records"))
    assert report.ok, f"audit chain broken at {report.broken_id}: {report.reason}"
    assert report.entries == len(history)
