"""The tamper-evident audit trail: the hash chain itself, every store write appending a chained
entry, an old workspace chained when opened, ``closuremap audit`` naming an entry edited behind the
app's back, and the exhibit pointing into the chain."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import geopandas as gpd
from shapely.geometry import Point, box

from closuremap.geo.crs import BNG
from closuremap.geo.errors import WorkspaceError
from closuremap.layers import audit_chain
from closuremap.layers.audit import describe_entry
from closuremap.layers.audit_chain import GENESIS, HASHED_FIELDS, entry_hash, verify
from closuremap.layers.store import GeoPackageStore
from closuremap.reports.exhibit import render_exhibit
from closuremap.reports.exhibit_data import ExhibitOptions
from closuremap.reports.inputs import exhibit_input
from tests.conftest import require

EXE = shutil.which("closuremap", path=str(Path(sys.executable).parent))
ORDER = "ORD-001"  # the sample's order
EXIT_CHAIN_BROKEN = 3


def run(*args: object) -> subprocess.CompletedProcess:
    assert EXE, "the closuremap console script is not installed (pip install -e .)"
    return subprocess.run(
        [EXE, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CLOSUREMAP_USER": "PC Ann (1)"},
    )


def chain(store: GeoPackageStore) -> list[dict[str, Any]]:
    """The store's audit trail oldest first, as verify takes it."""
    return store.history().iloc[::-1].to_dict("records")


def raw_chain(path: Path) -> list[dict[str, Any]]:
    """The audit rows as SQLite holds them, oldest first (no pandas in between)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM closuremap_audit ORDER BY id")]


def sql(path: Path, statement: str, params: tuple[Any, ...] = ()) -> None:
    """A write behind the app's back."""
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(statement, params)


# -- the chain, as values ----------------------------------------------------------------------
def _entries(n: int = 5) -> list[dict[str, Any]]:
    """A well-formed chain of ``n`` entries."""
    out, prev = [], GENESIS
    for i in range(1, n + 1):
        entry = {
            "id": i,
            "at": f"2024-06-28T09:00:0{i}+00:00",
            "user": f"PC {i}",
            "kind": "orders",
            "feature_id": f"f{i}",
            "action": "update",
            "before": json.dumps({"properties": {"name": f"v{i - 1}"}, "wkt": None}),
            "after": json.dumps({"properties": {"name": f"v{i}"}, "wkt": None}),
            "note": f"note {i}",
        }
        entry["prev_hash"] = prev
        entry["hash"] = prev = entry_hash(prev, entry)
        out.append(entry)
    return out


def test_entry_hash_is_stable_across_versions_and_key_order() -> None:
    entry = {
        "id": 1,
        "at": "2024-06-28T09:00:00+00:00",
        "user": "PC Ann Smith (4321)",
        "kind": "orders",
        "feature_id": "abc",
        "action": "update",
        "before": '{"properties": {"name": "Old"}, "wkt": null}',
        "after": '{"properties": {"name": "Nëw"}, "wkt": null}',
        "note": None,
    }
    text = (
        '[1,"2024-06-28T09:00:00+00:00","PC Ann Smith (4321)","orders","abc","update",'
        '"{\\"properties\\": {\\"name\\": \\"Old\\"}, \\"wkt\\": null}",'
        '"{\\"properties\\": {\\"name\\": \\"Nëw\\"}, \\"wkt\\": null}",null]'
    )
    assert audit_chain.entry_text(entry) == text
    expected = hashlib.sha256((GENESIS + "\n" + text).encode()).hexdigest()
    # written down once: a change to the text format breaks every chain already written
    assert expected == "3933487cab5b959e4184fd09476a50398cd9db10002b81267054cd94bf5061c9"
    assert entry_hash(GENESIS, entry) == expected
    assert entry_hash(GENESIS, dict(reversed(entry.items()))) == expected
    # what is not hashed (the stored hashes themselves) does not change it
    assert entry_hash(GENESIS, {**entry, "prev_hash": "x", "hash": "y"}) == expected
    assert entry_hash("1" * 64, entry) != expected


def test_nan_and_none_and_numpy_numbers_hash_the_same() -> None:
    """What pandas reads back (NaN for NULL, NumPy ints) hashes as what SQLite stored."""
    entry = _entries(1)[0]
    import numpy as np

    as_read = {**entry, "id": np.int64(1), "feature_id": float("nan"), "note": None}
    stored = {**entry, "id": 1, "feature_id": None, "note": float("nan")}
    assert entry_hash(GENESIS, as_read) == entry_hash(GENESIS, stored)
    assert entry_hash(GENESIS, {**entry, "id": 1.0}) == entry_hash(GENESIS, entry)


def test_an_intact_chain_verifies() -> None:
    entries = _entries()
    report = verify(entries)
    assert report.ok and report.entries == 5 and report.head == entries[-1]["hash"]
    assert verify([]).ok and verify([]).head == GENESIS


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_verify_names_an_entry_whose_field_was_edited(field: str) -> None:
    entries = _entries()
    value = entries[2][field]
    entries[2][field] = 99 if field == "id" else (f"{value}!" if value else "edited")
    report = verify(entries)
    assert not report.ok
    # an edited id shows as an entry out of its place: the edited one or the one after it
    assert report.broken_id in ((3, 99, 4) if field == "id" else (3,)), report
    assert report.reason


def test_verify_names_the_entry_after_a_deleted_one() -> None:
    entries = _entries()
    del entries[2]
    report = verify(entries)
    assert report.broken_id == 4 and "3–3 are missing" in report.reason


def test_verify_names_reordered_entries() -> None:
    entries = _entries()
    entries[1], entries[2] = entries[2], entries[1]
    report = verify(entries)
    assert report.broken_id == 3 and not report.ok


def test_verify_names_a_wrong_previous_hash() -> None:
    entries = _entries()
    entries[3]["prev_hash"] = "f" * 64
    report = verify(entries)
    assert report.broken_id == 4 and "does not follow entry 3" in report.reason


def test_verify_names_a_rehashed_entry_whose_successor_no_longer_follows() -> None:
    """Editing a row and recomputing its own hash only moves the break to the next entry."""
    entries = _entries()
    entries[1]["user"] = "someone else"
    entries[1]["hash"] = entry_hash(entries[1]["prev_hash"], entries[1])
    assert verify(entries).broken_id == 3


def test_describe_entry_says_settings_records_and_bulk_adds() -> None:
    assert describe_entry(
        {"kind": "settings", "action": "add", "before": None, "after": '{"value": "Met"}'}
    ) == ("setting made: 'Met'")
    assert (
        describe_entry(
            {
                "kind": "settings",
                "action": "update",
                "before": '{"value": "Met"}',
                "after": '{"value": "Council"}',
            }
        )
        == "setting changed: 'Met' → 'Council'"
    )
    assert describe_entry(
        {"kind": "premises", "action": "add", "before": None, "after": '{"count": 7}'}
    ) == ("7 features added")
    record = {"kind": "case_records", "action": "add", "after": '{"id": 2, "what": "service"}'}
    assert describe_entry(record) == "service record added (#2)"


# -- the store appends a chained entry for every change ----------------------------------------
def _square(x: float = 530000, name: str = "Block A") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"block_id": [name[-1]], "name": [name]}, geometry=[box(x, 180000, x + 10, 180010)], crs=BNG
    )


def test_every_kind_of_change_appends_one_chained_entry(store: GeoPackageStore) -> None:
    who = "PC Ann (1)"
    steps: list[tuple[str, str, Any]] = []

    def step(kind: str, action: str, fn: Any) -> None:
        before = len(store.history())
        fn()
        after = store.history()
        assert len(after) == before + 1, (kind, action)
        newest = after.iloc[0]
        assert (newest["kind"], newest["action"], newest["user"]) == (kind, action, who)
        steps.append((kind, action, newest["hash"]))

    ids: list[str] = []
    step("premises", "add", lambda: ids.extend(store.add("premises", _square(), user=who)))
    step(
        "premises",
        "update",
        lambda: store.update("premises", ids[0], user=who, attributes={"name": "Block B"}),
    )
    step("premises", "delete", lambda: store.delete("premises", ids, user=who))
    step("settings", "add", lambda: store.set_meta("applicant", "Met", user=who))
    step("settings", "update", lambda: store.set_meta("applicant", "Council", user=who))
    step(
        "objections",
        "add",
        lambda: store.add_objection(
            ORDER, who="Flat 3", summary="too wide", received_on="2024-06-01", recorded_by=who
        ),
    )
    step(
        "case_records",
        "add",
        lambda: store.add_case_record(ORDER, "service", {"entrance": "E1"}, recorded_by=who),
    )
    report = verify(chain(store))
    assert report.ok and report.entries == len(steps) and report.head == steps[-1][2]
    history = store.history()
    assert list(history.columns) == [*HASHED_FIELDS, "prev_hash", "hash"]
    assert list(history["prev_hash"].iloc[:-1]) == list(history["hash"].iloc[1:])
    assert history["prev_hash"].iloc[-1] == GENESIS
    setting = history[history["kind"] == "settings"].iloc[0]  # newest first: the update
    assert setting["feature_id"] == "applicant"
    assert json.loads(setting["before"]) == {"value": "Met"}
    assert json.loads(setting["after"]) == {"value": "Council"}
    objection = json.loads(history[history["kind"] == "objections"].iloc[0]["after"])
    assert objection["who"] == "Flat 3" and objection["order_id"] == ORDER
    assert history[history["kind"] == "objections"].iloc[0]["feature_id"] == ORDER


def test_a_setting_saved_unchanged_records_nothing(store: GeoPackageStore) -> None:
    store.set_meta("applicant", "Met", user="PC Ann (1)")
    n = len(store.history())
    store.set_meta("applicant", "Met", user="PC Ann (1)")
    assert len(store.history()) == n
    assert store.get_meta("applicant") == "Met"


def test_a_change_without_a_name_is_refused_and_leaves_nothing(store: GeoPackageStore) -> None:
    with pytest.raises(WorkspaceError, match="say who"):
        store.set_meta("applicant", "Met", user=" ")
    assert store.get_meta("applicant") is None and store.history().empty
    with pytest.raises(TypeError):
        store.set_meta("applicant", "Met")  # type: ignore[call-arg]


def test_order_scopes_are_audited_one_entry_each_in_one_transaction(
    store: GeoPackageStore,
) -> None:
    orders = gpd.GeoDataFrame(
        {"order_id": ["A", "B", "C"], "name": ["a", "b", "c"]},
        geometry=[box(530000 + 20 * i, 180000, 530010 + 20 * i, 180010) for i in range(3)],
        crs=BNG,
    )
    with store.transaction() as tx:
        tx.set_meta("applicant", "Met", user="PC Ann (1)")
        ids = tx.add("orders", orders, user="PC Ann (1)")
        tx.add("incidents", _points(50), user="PC Ann (1)")  # a bulk add: one entry
    history = store.history().iloc[::-1]
    assert list(history["kind"]) == ["settings", "orders", "orders", "orders", "incidents"]
    assert list(history["id"]) == [1, 2, 3, 4, 5]
    assert list(history["feature_id"].iloc[1:4]) == ids
    assert verify(history.to_dict("records")).ok


def _points(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"category": ["asb"] * n},
        geometry=[Point(530000 + i, 180000) for i in range(n)],
        crs=BNG,
    )


def test_a_rolled_back_transaction_leaves_the_chain_as_it_was(store: GeoPackageStore) -> None:
    store.set_meta("applicant", "Met", user="PC Ann (1)")
    head = store.history().iloc[0]["hash"]
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.set_meta("applicant", "Council", user="PC Ann (1)")
        raise RuntimeError("crash in the middle")
    store.set_meta("applicant", "Council", user="PC Ann (1)")
    history = store.history()
    assert list(history["id"]) == [2, 1] and history.iloc[0]["prev_hash"] == head
    assert verify(chain(store)).ok


def test_the_sample_build_and_edits_after_it_verify(sample_store: GeoPackageStore) -> None:
    assert verify(chain(sample_store)).ok
    # the bulk imports stay one entry each: the trail is not a copy of the data
    assert (sample_store.history(kind="premises")["action"] == "add").sum() == 1
    fid = sample_store.read("communal_areas")["feature_id"].iloc[0]
    version = sample_store.version("communal_areas", fid)
    sample_store.update(
        "communal_areas",
        fid,
        user="PC Ann (1)",
        attributes={"name": "Stair 9"},
        expected_version=version,
    )
    sample_store.delete("communal_areas", [fid], user="PC Bob (2)")
    order = sample_store.read("orders").iloc[0]
    sample_store.update("orders", order["feature_id"], user="PC Ann (1)", note="scope moved")
    report = verify(chain(sample_store))
    assert report.ok and report.head == sample_store.history().iloc[0]["hash"]
    assert verify(raw_chain(Path(sample_store.location))).ok  # as stored, not only as read


# -- a workspace made before the chain ---------------------------------------------------------
def _unchained(path: Path) -> Path:
    """A workspace whose audit table is the old one: no prev_hash, no hash."""
    store = GeoPackageStore.create(path)
    store.add("premises", _square(), user="PC Ann (1)")
    ids = store.add("orders", _order(), user="PC Ann (1)")
    store.update("orders", ids[0], user="PC Bob (2)", attributes={"name": "renamed"})
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("ALTER TABLE closuremap_audit DROP COLUMN hash")
        conn.execute("ALTER TABLE closuremap_audit DROP COLUMN prev_hash")
    return path


def _order() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"order_id": [ORDER], "name": ["Block A stairs"]},
        geometry=[box(530000, 180000, 530010, 180010)],
        crs=BNG,
    )


def test_an_old_workspace_is_chained_once_when_opened(tmp_path: Path) -> None:
    path = _unchained(tmp_path / "old.gpkg")
    assert "hash" not in raw_chain(path)[0]
    store = GeoPackageStore(path)
    rows = raw_chain(path)
    assert [r["id"] for r in rows] == [1, 2, 3] and all(r["hash"] for r in rows)
    assert verify(rows).ok and verify(chain(store)).ok
    GeoPackageStore(path)  # opening again changes nothing
    assert raw_chain(path) == rows
    store.set_meta("applicant", "Met", user="PC Ann (1)")  # and the chain goes on from there
    after = raw_chain(path)
    assert after[-1]["prev_hash"] == rows[-1]["hash"] and verify(after).ok


@contextlib.contextmanager
def _held(path: Path) -> Iterator[None]:
    """Another process's write in progress: the workspace is busy."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_busy_old_workspace_still_opens_and_its_next_write_chains_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _unchained(tmp_path / "old.gpkg")
    monkeypatch.setenv("CLOSUREMAP_BUSY_SECONDS", "0")
    with _held(path):
        store = GeoPackageStore(path)  # cannot chain now: opens all the same
        history = store.history()
        assert len(history) == 3 and history["hash"].isna().all()
    assert "hash" not in raw_chain(path)[0]
    store.set_meta("applicant", "Met", user="PC Ann (1)")
    rows = raw_chain(path)
    assert len(rows) == 4 and verify(rows).ok


# -- closuremap audit --------------------------------------------------------------------------
def test_audit_verify_names_a_row_edited_behind_the_apps_back(
    sample_store: GeoPackageStore,
) -> None:
    path = Path(sample_store.location)
    intact = run("audit", path, "--verify")
    assert intact.returncode == 0, intact.stderr
    assert "verified: the chain is intact" in intact.stdout
    sql(path, "UPDATE closuremap_audit SET user = 'someone else' WHERE id = 7")
    done = run("audit", path, "--verify")
    assert done.returncode == EXIT_CHAIN_BROKEN, (done.stdout, done.stderr)
    assert "BROKEN at entry 7: entry 7 was changed after it was written" in done.stdout
    data = json.loads(run("audit", path, "--verify", "--json").stdout)
    assert data["verified"] is False and data["first_broken"]["id"] == 7
    assert "changed after it was written" in data["first_broken"]["reason"]
    listed = run("audit", path)  # listing alone does not judge
    assert listed.returncode == 0 and "#7 " in listed.stdout


def test_audit_verify_names_the_entry_after_a_deleted_one(sample_store: GeoPackageStore) -> None:
    path = Path(sample_store.location)
    sql(path, "DELETE FROM closuremap_audit WHERE id = 5")
    done = run("audit", path, "--verify", "--json")
    assert done.returncode == EXIT_CHAIN_BROKEN
    broken = json.loads(done.stdout)["first_broken"]
    assert broken["id"] == 6 and "missing" in broken["reason"]


def test_audit_json_is_one_document_of_the_whole_chain(sample_store: GeoPackageStore) -> None:
    path = Path(sample_store.location)
    done = run("audit", path, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"workspace", "entries", "verified", "head", "first_broken"} <= set(data)
    assert data["verified"] is None and data["first_broken"] is None  # not asked to verify
    entries = data["entries"]
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)  # oldest first
    assert {"id", "at", "user", "action", "kind", "feature_id", "description", "hash"} <= set(
        entries[0]
    )
    assert data["head"] == entries[-1]["hash"] == sample_store.history().iloc[0]["hash"]
    assert verify(entries).ok  # the document carries what is hashed: anyone can re-check it
    assert entries[0]["kind"] == "settings" and entries[0]["description"].startswith("setting")


def test_audit_order_lists_its_entries_but_verifies_the_whole_chain(
    sample_store: GeoPackageStore,
) -> None:
    path = Path(sample_store.location)
    who = "PC Ann (1)"
    order = sample_store.read("orders").set_index("order_id").loc[ORDER]
    sample_store.update("orders", order["feature_id"], user=who, attributes={"notes": "moved"})
    sample_store.add_objection(
        ORDER, who="Flat 3", summary="too wide", received_on="2024-06-01", recorded_by=who
    )
    sample_store.add_case_record(ORDER, "letters", {"count": 12}, recorded_by=who)
    sample_store.add_objection(
        "ORD-OTHER", who="Flat 4", summary="x", received_on="2024-06-01", recorded_by=who
    )
    sample_store.set_meta("applicant", "Council", user=who)
    data = json.loads(run("audit", path, "--order", ORDER, "--verify", "--json").stdout)
    about = [(e["kind"], e["action"]) for e in data["entries"]]
    assert about == [
        ("orders", "add"),
        ("orders", "update"),
        ("objections", "add"),
        ("case_records", "add"),
    ]
    assert data["verified"] is True
    assert data["head"] == sample_store.history().iloc[0]["hash"]  # the whole chain's head
    # an entry about something else, broken: the order's listing still says so
    sql(path, 'UPDATE closuremap_audit SET after = \'{"value": "x"}\' WHERE id = 1')
    done = run("audit", path, "--order", ORDER, "--verify")
    assert done.returncode == EXIT_CHAIN_BROKEN
    assert "BROKEN at entry 1" in done.stdout and "whole chain" in done.stdout
    unknown = run("audit", path, "--order", "NOPE")
    assert unknown.returncode == 2 and "no order 'NOPE'" in unknown.stderr


# -- the exhibit points into the chain ---------------------------------------------------------
def _pdftext(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _keywords(pdf: Path) -> str:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return next(line for line in info.stdout.splitlines() if line.startswith("Keywords:"))


def test_the_exhibit_prints_its_audit_entry_and_the_chain_head(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    require(shutil.which("pdftotext") is not None, "poppler-utils (pdftotext, pdfinfo)")
    order = sample_store.read("orders").set_index("order_id").loc[ORDER]
    sample_store.update("orders", order["feature_id"], user="PC Ann (1)", note="scope checked")
    saved = sample_store.history(kind="orders", feature_id=order["feature_id"]).iloc[0]
    sample_store.set_meta("applicant", "Council", user="PC Ann (1)")  # the head moves on
    head = sample_store.history().iloc[0]
    assert head["id"] > saved["id"]
    opts = ExhibitOptions("AB/1", "PC Ann (1)", date(2024, 7, 1))
    result = render_exhibit(exhibit_input(sample_store, ORDER), opts, tmp_path / "ex.pdf")
    assert result.audit is not None
    assert (result.audit.entry_id, result.audit.head_hash) == (saved["id"], head["hash"])
    pdf = result.path
    text = " ".join(_pdftext(pdf).split())
    assert f"Audit entry #{saved['id']} {saved['hash'][:12]}" in text
    assert f"Chain head #{head['id']} {head['hash'][:12]}" in text
    keywords = _keywords(pdf)
    assert f"audit-entry:{saved['id']}:{saved['hash']}" in keywords
    assert f"audit-head:{head['id']}:{head['hash']}" in keywords


def test_the_exhibit_command_says_where_it_points_into_the_chain(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    """`exhibit --json` gives the pointer; `audit --order` lists that entry with that hash."""
    order = sample_store.read("orders").set_index("order_id").loc[ORDER]
    sample_store.update(
        "orders",
        order["feature_id"],
        user="PC Ann (1)",
        attributes={"notes": "stairs B and C only"},
        note="scope checked",
    )
    out = tmp_path / "ex.pdf"
    made = run(
        "exhibit",
        sample_store.location,
        "--order",
        ORDER,
        "--exhibit-ref",
        "AB/1",
        "--out",
        out,
        "--json",
        "--user",
        "PC Ann (1)",
    )
    assert made.returncode == 0, made.stderr
    pointer = json.loads(made.stdout)["audit"]
    listed = run("audit", sample_store.location, "--order", ORDER, "--json")
    entries = {e["id"]: e for e in json.loads(listed.stdout)["entries"]}
    assert entries[pointer["entry_id"]]["hash"] == pointer["entry_hash"]
    assert entries[pointer["entry_id"]]["note"] == "scope checked"
    assert pointer["head_hash"] == sample_store.history().iloc[0]["hash"]


def test_an_exhibit_from_files_has_no_audit_pointer(tmp_path: Path) -> None:
    from closuremap.reports.exhibit_data import ExhibitInput

    premises = _square()
    data = ExhibitInput(title="From files", scope=premises.geometry.iloc[0], premises=premises)
    opts = ExhibitOptions("AB/1", "PC Ann (1)", date(2024, 7, 1))
    pdf = render_exhibit(data, opts, tmp_path / "ex.pdf").path
    assert "Audit entry" not in _pdftext(pdf) and "audit-entry" not in _keywords(pdf)


def test_history_frames_read_back_verify(sample_store: GeoPackageStore) -> None:
    """The frame history() gives (NaN for NULL feature ids) verifies as the rows stored."""
    history = sample_store.history()
    assert history["feature_id"].isna().any()
    assert isinstance(history, pd.DataFrame) and verify(chain(sample_store)).ok


# -- the app's settings, saved by a named user ------------------------------------------------
def test_settings_saved_on_the_documents_page_are_audited_with_the_users_name(
    sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", "PS Bea Example (7012)")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/documents.py").run()
    assert not at.exception
    at.text_input(key="settings_applicant").set_value("Southwark Council")
    at.button(key="save_settings").click().run()
    assert not at.exception
    entry = sample_store.history(kind="settings", feature_id="applicant").iloc[0]
    assert entry["user"] == "PS Bea Example (7012)" and entry["action"] == "update"
    assert json.loads(entry["before"]) == {"value": "Metropolitan Police Service"}
    assert json.loads(entry["after"]) == {"value": "Southwark Council"}
    assert verify(chain(sample_store)).ok
