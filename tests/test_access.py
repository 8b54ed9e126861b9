"""Roles enforced in the data layer: the permission table, the store guard on a real GeoPackage
workspace, the local user file (argon2id hashes) and session expiry."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
import shapely

from closuremap.cli import main
from closuremap.geo.aggregate import counts_by_block, counts_by_month
from closuremap.geo.errors import WorkspaceError
from closuremap.layers.access import (
    ACTIONS,
    INCIDENT_TEXT,
    PERMISSIONS,
    ROLES,
    AccessDenied,
    RoleStore,
    generalise_to_blocks,
    may,
    require,
)
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.users import (
    SIGN_IN_FAILED,
    User,
    UsersFileError,
    add_user,
    find_user,
    hash_password,
    load_users,
    remove_user,
    session_expired,
    session_minutes,
    set_role,
    verify,
)
from closuremap.reports.briefing import briefing_tables
from closuremap.reports.inputs import briefing_input

# -- the permission table ------------------------------------------------------------------------


def test_every_role_has_an_entry_and_only_known_actions() -> None:
    assert set(PERMISSIONS) == set(ROLES)
    for actions in PERMISSIONS.values():
        assert actions <= set(ACTIONS)


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (
            "analyst",
            {"import", "edit", "geocode", "edit_orders", "read_incident_text"},
            {"authorise"},
        ),
        ("supervisor", set(ACTIONS), set()),
        (
            "partner",
            {"read", "comment", "letters", "evaluation", "briefing", "read_exact_points"},
            {"read_incident_text", "import", "edit", "edit_orders", "authorise", "documents"},
        ),
        (
            "ward_member",
            {"briefing"},
            {"read_exact_points", "read_incident_text", "import", "letters", "comment", "edit"},
        ),
    ],
)
def test_the_table_says_what_the_issue_asks(
    role: str, allowed: set[str], refused: set[str]
) -> None:
    assert all(may(role, a) for a in allowed)
    assert not any(may(role, a) for a in refused)


def test_only_a_supervisor_authorises() -> None:
    assert [r for r in ROLES if may(r, "authorise")] == ["supervisor"]


def test_a_refusal_names_the_role_and_who_may() -> None:
    with pytest.raises(AccessDenied) as got:
        require("partner", "import")
    text = str(got.value)
    assert "a partner may not import files" in text and "analyst or supervisor" in text
    assert isinstance(got.value, WorkspaceError)  # the pages and the CLI handle it as any other


def test_an_unknown_action_is_a_bug_not_a_refusal() -> None:
    with pytest.raises(KeyError):
        may("analyst", "fly")


# -- the guard on a real workspace ---------------------------------------------------------------


def guarded(store: GeoPackageStore, role: str, user: str = "Test User") -> RoleStore:
    return RoleStore(store, role=role, user=user)


def test_a_partner_reads_incidents_without_their_text(sample_store: GeoPackageStore) -> None:
    full = sample_store.read("incidents")
    seen = guarded(sample_store, "partner").read("incidents")
    assert len(seen) == len(full)
    assert not set(INCIDENT_TEXT["incidents"]) & set(seen.columns)
    assert {"occurred_at", "category", "geometry"} <= set(seen.columns)
    breaches = guarded(sample_store, "partner").read("breaches")
    assert not set(INCIDENT_TEXT["breaches"]) & set(breaches.columns)
    # an analyst's read is the store's own
    assert list(guarded(sample_store, "analyst").read("incidents").columns) == list(full.columns)


@pytest.mark.parametrize("kind", ["incidents", "breaches", "addresses"])
def test_a_ward_member_reads_no_personal_kind(sample_store: GeoPackageStore, kind: str) -> None:
    ward = guarded(sample_store, "ward_member")
    with pytest.raises(AccessDenied, match="a ward member may not"):
        ward.read(kind)
    with pytest.raises(AccessDenied):
        ward.bounds(kind)  # an extent's edges are exact points


def test_a_ward_member_reads_orders_without_their_facts(sample_store: GeoPackageStore) -> None:
    orders = guarded(sample_store, "ward_member").read("orders")
    assert len(orders) == len(sample_store.read("orders"))
    assert "facts" not in orders.columns and "notes" not in orders.columns
    assert "status" in orders.columns


def test_a_ward_member_reads_no_objections_or_case_records(sample_store: GeoPackageStore) -> None:
    ward = guarded(sample_store, "ward_member")
    with pytest.raises(AccessDenied):
        ward.objections()
    with pytest.raises(AccessDenied):
        ward.case_records("ORD-001", "service")


def test_the_briefing_incidents_keep_the_counts_and_lose_the_points(
    sample_store: GeoPackageStore,
) -> None:
    incidents, premises = sample_store.read("incidents"), sample_store.read("premises")
    ward = guarded(sample_store, "ward_member").briefing_incidents()
    assert list(ward.columns) == ["occurred_at", "geometry"]
    pd.testing.assert_series_equal(
        counts_by_block(ward, premises)["incidents"],
        counts_by_block(incidents, premises)["incidents"],
    )
    pd.testing.assert_series_equal(counts_by_month(ward), counts_by_month(incidents))
    exact = set(zip(incidents.geometry.x.round(3), incidents.geometry.y.round(3), strict=True))
    placed = ward[ward.geometry.notna()]
    assert len(placed) > 100
    # every point left is a block's own point, and none is an incident's
    block_points = set(
        zip(
            premises.representative_point().x.round(3),
            premises.representative_point().y.round(3),
            strict=True,
        )
    )
    assert set(zip(placed.geometry.x.round(3), placed.geometry.y.round(3), strict=True)) <= (
        block_points
    )
    assert not block_points & exact


def test_an_incident_away_from_every_block_keeps_only_its_date() -> None:
    premises = gpd.GeoDataFrame(
        {"block_id": ["A"], "name": ["A"]}, geometry=[shapely.box(0, 0, 10, 10)], crs=27700
    )
    incidents = gpd.GeoDataFrame(
        {"occurred_at": ["2024-03-05T10:00:00", "2024-03-06T11:00:00"]},
        geometry=[shapely.Point(5, 5), shapely.Point(500, 500)],
        crs=27700,
    )
    out = generalise_to_blocks(incidents, premises)
    assert out["occurred_at"].tolist() == ["2024-03-05", "2024-03-06"]
    assert out.geometry.iloc[0].within(premises.geometry.iloc[0]) and out.geometry.iloc[1] is None


def test_a_ward_members_briefing_is_the_analysts(sample_store: GeoPackageStore) -> None:
    analyst = briefing_input(guarded(sample_store, "analyst"))
    ward = briefing_input(guarded(sample_store, "ward_member"))
    a, w = briefing_tables(analyst), briefing_tables(ward)
    pd.testing.assert_frame_equal(a.per_block, w.per_block)
    pd.testing.assert_frame_equal(a.per_month, w.per_month)
    assert [n for n, _ in analyst.results] == [n for n, _ in ward.results]
    for (_, ra), (_, rw) in zip(analyst.results, ward.results, strict=True):
        assert ra.counts == rw.counts  # counted on the exact points, inside the data layer
    assert "facts" not in ward.orders.columns
    assert not set(INCIDENT_TEXT["incidents"]) & set(ward.incidents.columns)


def _one_premises(store: GeoPackageStore) -> gpd.GeoDataFrame:
    return store.read("premises").iloc[:1].assign(block_id="NEW", name="New block")


@pytest.mark.parametrize("role", ["partner", "ward_member"])
def test_writes_beyond_the_role_are_refused_and_nothing_is_written(
    sample_store: GeoPackageStore, role: str
) -> None:
    store = guarded(sample_store, role)
    before = sample_store.content_version()
    fid = str(sample_store.read("premises")["feature_id"].iloc[0])
    attempts = [
        lambda: store.add("premises", _one_premises(sample_store), user="Test User"),
        lambda: store.update("premises", fid, user="Test User", attributes={"name": "X"}),
        lambda: store.delete("premises", [fid], user="Test User"),
        lambda: store.set_meta("name", "renamed", user="Test User"),
        lambda: store.transaction().__enter__(),
        lambda: store.add_case_record("ORD-001", "service", {"x": 1}, recorded_by="Test User"),
    ]
    for attempt in attempts:
        with pytest.raises(AccessDenied, match=f"a {role.replace('_', ' ')} may not"):
            attempt()
    assert sample_store.content_version() == before


def test_a_partner_logs_objections_and_letters_but_a_ward_member_does_not(
    sample_store: GeoPackageStore,
) -> None:
    partner = guarded(sample_store, "partner")
    partner.add_objection(
        "ORD-001", who="Flat 3", summary="noise", received_on="2024-05-01", recorded_by="Test User"
    )
    partner.add_case_record("ORD-001", "letters", {"count": 3}, recorded_by="Test User")
    assert len(sample_store.objections("ORD-001")) >= 1
    with pytest.raises(AccessDenied):
        guarded(sample_store, "ward_member").add_objection(
            "ORD-001", who="x", summary="y", received_on="2024-05-01", recorded_by="Test User"
        )


def test_an_analyst_edits_an_order_but_only_a_supervisor_authorises_it(
    sample_store: GeoPackageStore,
) -> None:
    orders = sample_store.read("orders")
    draft = orders.iloc[0]
    fid = str(draft["feature_id"])
    analyst, supervisor = guarded(sample_store, "analyst"), guarded(sample_store, "supervisor")
    analyst.update("orders", fid, user="Test User", attributes={"court": "Camberwell Green"})
    other = "Superintendent" if draft["authorised_by"] != "Superintendent" else "Inspector"
    with pytest.raises(AccessDenied, match="authorise"):
        analyst.update("orders", fid, user="Test User", attributes={"authorised_by": other})
    status = "extended" if draft["status"] != "extended" else "order_made"
    with pytest.raises(AccessDenied, match="only supervisor may"):
        analyst.update("orders", fid, user="Test User", attributes={"status": status})
    # re-saving the authorisation already there is not authorising anew
    analyst.update(
        "orders", fid, user="Test User", attributes={"authorised_by": draft["authorised_by"]}
    )
    supervisor.update("orders", fid, user="Test User", attributes={"authorised_by": other})
    assert sample_store.read("orders").set_index("feature_id").loc[fid, "authorised_by"] == other
    # a new order that is already authorised, and the same through a transaction
    new = (
        orders.iloc[:1]
        .drop(columns="feature_id")
        .assign(order_id="ORD-NEW", status="notice_issued")
    )
    with pytest.raises(AccessDenied):
        analyst.add("orders", new, user="Test User")
    with pytest.raises(AccessDenied), analyst.transaction() as tx:
        tx.add("orders", new, user="Test User")
    assert "ORD-NEW" not in set(sample_store.read("orders")["order_id"])
    supervisor.add("orders", new, user="Test User")
    assert "ORD-NEW" in set(sample_store.read("orders")["order_id"])


def test_a_signed_in_user_cannot_record_another_name(sample_store: GeoPackageStore) -> None:
    store = guarded(sample_store, "analyst", user="PC Ann Smith")
    fid = str(sample_store.read("premises")["feature_id"].iloc[0])
    with pytest.raises(AccessDenied, match="your own name"):
        store.update("premises", fid, user="Someone Else", attributes={"name": "X"})
    store.update("premises", fid, user="PC Ann Smith", attributes={"name": "X"})
    assert sample_store.history(kind="premises").iloc[0]["user"] == "PC Ann Smith"


def test_a_partners_history_has_no_before_and_after_of_incidents(
    sample_store: GeoPackageStore,
) -> None:
    analyst = guarded(sample_store, "analyst")
    fid = str(sample_store.read("incidents")["feature_id"].iloc[0])
    analyst.update("incidents", fid, user="Test User", attributes={"description": "SECRET TEXT"})
    full = sample_store.history(kind="incidents")
    assert "SECRET TEXT" in str(full.iloc[0]["after"])
    partner = guarded(sample_store, "partner").history()
    rows = partner[partner["kind"] == "incidents"]
    assert len(rows) and rows["after"].isna().all() and rows["before"].isna().all()
    assert "SECRET TEXT" not in partner.to_json()
    ward = guarded(sample_store, "ward_member").history()
    assert ward["after"].isna().all()
    # the redacted trail still verifies, on the whole chain inside the data layer
    if "hash" in full.columns:
        assert guarded(sample_store, "partner").verify_chain().ok


def test_each_role_has_its_own_cache_key(sample_store: GeoPackageStore) -> None:
    keys = {guarded(sample_store, r).content_version() for r in ROLES}
    assert len(keys) == len(ROLES)
    assert all(k.endswith(sample_store.content_version()) for k in keys)


def test_a_partner_of_an_operation_sees_its_orders_only(sample_store: GeoPackageStore) -> None:
    orders = sample_store.read("orders")
    if "operation" not in orders.columns:
        pytest.skip("orders have no operation field yet (issue 11, helper E)")
    fid = str(orders["feature_id"].iloc[0])
    sample_store.update("orders", fid, user="t", attributes={"operation": "Op Elm"})
    partner = RoleStore(sample_store, role="partner", user="p", operation="Op Elm")
    assert partner.read("orders")["feature_id"].astype(str).tolist() == [fid]


# -- the user file -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def users_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.toml"
    add_user(path, User("PC Ann Smith 4321", "analyst", hash_password("correct horse 1")))
    add_user(path, User("Cllr Bob", "ward_member", hash_password("battery staple 2")))
    return path


def test_the_file_keeps_argon2id_hashes_never_passwords(users_path: Path) -> None:
    text = users_path.read_text()
    assert "correct horse 1" not in text and "battery staple 2" not in text
    users = load_users(users_path)
    assert [u.hash.split("$")[1] for u in users] == ["argon2id", "argon2id"]
    assert users[0].hash != users[1].hash
    assert oct(users_path.stat().st_mode & 0o777) == "0o600"


def test_sign_in_checks_the_password(users_path: Path) -> None:
    users = load_users(users_path)
    assert verify(users, "PC Ann Smith 4321", "correct horse 1").role == "analyst"  # type: ignore[union-attr]
    assert verify(users, " pc ann smith 4321 ", "correct horse 1") is not None  # case and spaces
    assert verify(users, "PC Ann Smith 4321", "correct horse 2") is None
    assert verify(users, "Nobody", "correct horse 1") is None  # the same answer: None
    assert "name and password" in SIGN_IN_FAILED  # one message for both


def test_the_file_can_be_json(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, User("A", "partner", hash_password("password-a"), operation="Op Elm"))
    assert json.loads(path.read_text())["users"][0]["operation"] == "Op Elm"
    assert load_users(path)[0].role == "partner"


def test_user_file_mistakes_are_sentences(tmp_path: Path) -> None:
    path = tmp_path / "u.toml"
    path.write_text('[[users]]\nname = "A"\nrole = "admin"\nhash = "x"\n')
    with pytest.raises(UsersFileError, match="role 'admin' is not one of"):
        load_users(path)
    path.write_text("not = [toml")
    with pytest.raises(UsersFileError, match="not a user file"):
        load_users(path)
    with pytest.raises(UsersFileError, match="at least 8"):
        hash_password("short")


def test_remove_and_set_role(tmp_path: Path) -> None:
    path = tmp_path / "u.toml"
    add_user(path, User("A", "partner", hash_password("password-a")))
    add_user(path, User("B", "analyst", hash_password("password-b")))
    with pytest.raises(UsersFileError, match="already"):
        add_user(path, User("a", "analyst", "h"))
    set_role(path, "A", "supervisor")
    remove_user(path, "B")
    users = load_users(path)
    assert [(u.name, u.role) for u in users] == [("A", "supervisor")]
    assert verify(users, "A", "password-a") is not None  # the hash survived the rewrite


def test_sessions_expire_after_the_idle_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert not session_expired(seen, seen + timedelta(minutes=480), 480)
    assert session_expired(seen, seen + timedelta(minutes=480, seconds=1), 480)
    monkeypatch.setenv("CLOSUREMAP_SESSION_MINUTES", "15")
    assert session_minutes() == 15
    monkeypatch.setenv("CLOSUREMAP_SESSION_MINUTES", "soon")
    with pytest.raises(UsersFileError, match="whole number"):
        session_minutes()
    monkeypatch.delenv("CLOSUREMAP_SESSION_MINUTES")
    assert session_minutes() == 480


# -- the users command ---------------------------------------------------------------------------


def test_users_add_reads_the_password_from_stdin_never_a_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert (
        main(["users", "add", str(path), "Insp Carol", "--role", "supervisor", "--password-stdin"])
        == 0
    )
    assert verify(load_users(path), "Insp Carol", "a long password") is not None
    assert main(["users", "set-role", str(path), "Insp Carol", "analyst"]) == 0
    said = capsys.readouterr().out
    assert main(["users", "list", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    listed = json.loads(out)
    assert listed["users"][0]["role"] == "analyst" and "hash" not in listed["users"][0]
    assert "a long password" not in out + said
    assert main(["users", "remove", str(path), "Insp Carol"]) == 0
    assert find_user(load_users(path), "Insp Carol") is None
    with pytest.raises(SystemExit):  # there is no --password flag to put one on a command line
        main(["users", "add", str(path), "X", "--role", "analyst", "--password", "pw123456"])


def test_users_add_asks_twice_at_a_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "users.toml"
    answers = iter(["first password", "other password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "add", str(path), "A", "--role", "partner"]) == 2
    assert load_users(path) == []


# -- sign-in in the app (AppTest: the session, the form, the expiry) -------------------------------


@pytest.fixture
def signed_app(
    sample_store: GeoPackageStore, users_path: Path, monkeypatch: pytest.MonkeyPatch
) -> object:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USERS", str(users_path))
    monkeypatch.delenv("CLOSUREMAP_USER", raising=False)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def _sign_in(at: object, name: str, password: str) -> None:
    at.text_input(key="signin_name").set_value(name)  # type: ignore[attr-defined]
    at.text_input(key="signin_password").set_value(password)  # type: ignore[attr-defined]
    at.button[0].click().run()  # type: ignore[attr-defined]


def test_the_app_asks_for_a_sign_in_and_the_session_expires(signed_app: object) -> None:
    from closuremap.app_pages.signin import SESSION_KEY

    at = signed_app.run()  # type: ignore[attr-defined]
    assert not at.exception and at.title[0].value == "Sign in to closuremap"
    _sign_in(at, "PC Ann Smith 4321", "wrong password")
    assert [e.value for e in at.error] == [SIGN_IN_FAILED]
    _sign_in(at, "PC Ann Smith 4321", "correct horse 1")
    assert not at.exception
    assert any(
        "Signed in as **PC Ann Smith 4321** (analyst)" in m.value for m in at.sidebar.markdown
    )
    assert at.title[0].value.startswith("Sample estate")  # the map: an analyst's first page
    # idle past the session's time (the clock is the session's own record of the last activity)
    at.session_state[SESSION_KEY]["last_seen"] -= timedelta(minutes=481)
    at.run()
    assert at.title[0].value == "Sign in to closuremap"
    assert any("signed out after 480 minutes" in i.value for i in at.info)


def test_a_ward_members_app_is_the_briefing_alone(signed_app: object) -> None:
    at = signed_app.run()  # type: ignore[attr-defined]
    _sign_in(at, "Cllr Bob", "battery staple 2")
    assert not at.exception
    assert at.title[0].value.startswith("Ward member briefing")
    with pytest.raises(ValueError, match=r"Known pages: \['[^']*app_pages/briefing\.py'\]"):
        at.switch_page("app_pages/map.py")  # the navigation holds the briefing and nothing else


# -- side tables written through connections of their own: review queue and floor plans ----------


def _queued_item(store: GeoPackageStore, tmp_path: Path) -> int:
    """A review item: an incident row the geocoder could not place."""
    from closuremap.layers.importer import import_file
    from closuremap.layers.review import open_items

    src = tmp_path / "cad.csv"
    src.write_text('ref,when,what,location\nC4,04/03/2024 02:00,Criminal damage,"see notes"\n')
    import_file(store, "incidents", src, user="t", rejects_path=tmp_path / "r.csv")
    return int(open_items(store)["id"].iloc[0])


def _plan_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (30, 15), (200, 200, 255, 255)).save(buf, format="PNG")
    return buf.getvalue()


PLAN_POINTS = [
    ((0, 0), (531760.0, 179110.0)),
    ((30, 0), (531790.0, 179110.0)),
    ((0, 15), (531760.0, 179095.0)),
]


def test_a_partner_may_not_read_or_resolve_the_review_queue(
    any_sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    """On either backend: the queue is read and written through connections of its own."""
    sample_store = any_sample_store
    from closuremap.layers.review import open_items, resolve

    item = _queued_item(sample_store, tmp_path)
    partner = guarded(sample_store, "partner")
    before = sample_store.content_version()
    with pytest.raises(AccessDenied, match="a partner may not place incidents"):
        resolve(partner, item, user="Test User", point=shapely.Point(531800, 179100))
    with pytest.raises(AccessDenied, match="a partner may not read the geocoding review queue"):
        open_items(partner)
    assert sample_store.content_version() == before
    assert item in open_items(sample_store)["id"].tolist()  # still open, nothing placed


def test_an_analyst_resolves_the_queue_only_under_their_own_name(
    any_sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    sample_store = any_sample_store
    from closuremap.layers.review import open_items, resolve

    item = _queued_item(sample_store, tmp_path)
    analyst = guarded(sample_store, "analyst", user="PC Ann (1)")
    with pytest.raises(AccessDenied, match="under your own name"):
        resolve(analyst, item, user="PC Bea (2)", point=shapely.Point(531800, 179100))
    assert item in open_items(analyst)["id"].tolist()
    resolve(analyst, item, user="PC Ann (1)", point=shapely.Point(531800, 179100), how="map")
    assert item not in open_items(analyst)["id"].tolist()
    assert sample_store.history(kind="incidents")["user"].iloc[0] == "PC Ann (1)"


def test_a_partner_may_not_place_or_move_a_floor_plan(any_sample_store: GeoPackageStore) -> None:
    sample_store = any_sample_store
    from closuremap.layers import floorplans

    partner = guarded(sample_store, "partner")
    with pytest.raises(AccessDenied, match="a partner may not place floor plans"):
        floorplans.save_plan(
            partner,
            block_id="LAU",
            floor=0,
            name="plan.png",
            png=_plan_png(),
            control_points=PLAN_POINTS,
            user="Test User",
        )
    assert floorplans.plans(sample_store) == []
    plan_id = floorplans.save_plan(
        guarded(sample_store, "analyst"),
        block_id="LAU",
        floor=0,
        name="plan.png",
        png=_plan_png(),
        control_points=PLAN_POINTS,
        user="Test User",
    )
    moved = [(p, (g[0] + 1.0, g[1])) for p, g in PLAN_POINTS]
    with pytest.raises(AccessDenied, match="a partner may not place floor plans"):
        floorplans.update_placement(partner, plan_id, moved, user="Test User")
    with pytest.raises(AccessDenied, match="under your own name"):
        floorplans.update_placement(
            guarded(sample_store, "analyst"), plan_id, moved, user="Someone Else"
        )
    (plan,) = floorplans.plans(partner)  # a partner may still see where it lies
    assert plan.control_points == [tuple(map(tuple, cp)) for cp in PLAN_POINTS]
    assert sample_store.history(kind="floor_plans")["action"].tolist() == ["add"]
