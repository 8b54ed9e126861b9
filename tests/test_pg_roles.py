"""The closuremap roles on a real PostGIS server, tried with each login's own SQL connection: what a
partner's psql or QGIS can and cannot read or change, not what the app chooses to show.

Every login here is made the way a borough's DBA makes one (a password, kept in ``.pgpass``) and
given its role with :func:`grant_login`; roles are cluster-wide, so each test's logins have names
of their own.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg
import pytest

import geopandas as gpd
import shapely

from closuremap.cli import main
from closuremap.geo.aggregate import counts_by_block, counts_by_month
from closuremap.geo.crs import BNG
from closuremap.layers import pg_access, pg_schema
from closuremap.layers.access import DB_ROLES, INCIDENT_TEXT, ROLES
from closuremap.layers.pg_access import (
    GrantError,
    access_of,
    grant_login,
    install_roles,
    revoke_login,
)
from closuremap.layers.pg_store import PostGISStore
from tests.pgserver import PgServer

Denied = psycopg.errors.InsufficientPrivilege

E0, N0 = 531750.0, 179100.0
BLOCKS = {  # block_id -> footprint (a 20 m square), far enough apart that reach never overlaps
    "PER": shapely.box(E0, N0, E0 + 20, N0 + 20),
    "HAL": shapely.box(E0 + 100, N0, E0 + 120, N0 + 20),
}
#: (feature_id, occurred_at, category, description, where): 'where' is a point.
INCIDENTS = [
    ("i1", "2024-01-05T22:10:00", "drugs", "man seen dealing by door 3", (E0 + 5, N0 + 5)),
    ("i2", "2024-01-20T01:00:00", "asb", "shouting on landing, Mr X", (E0 + 25, N0 + 10)),
    ("i3", "2024-02-02T12:00:00", "asb", "graffiti", (E0 + 110, N0 + 10)),
    ("i4", "2024-03-15", "drugs", "needles in stairwell", (E0 + 60, N0 + 60)),  # near no block
    ("i5", "unknown", "other", "no date", (E0 + 105, N0 + 25)),
]
ORDERS = [("ORD-A1", "Op Alder"), ("ORD-A2", "Op Alder"), ("ORD-B1", "Op Birch"), ("ORD-N", None)]


def _name(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def make_workspace(url: str) -> None:
    """A new PostGIS workspace, as `closuremap init URL` makes it: the roles come with it."""
    PostGISStore.create(url)


def fill(url: str) -> None:
    """A little of everything, written by the owner (who is not subject to the policies)."""
    with psycopg.connect(url) as conn:
        for block_id, shape in BLOCKS.items():
            conn.execute(
                "INSERT INTO premises (feature_id, block_id, name, address, geom) "
                "VALUES (%s, %s, %s, %s, ST_Multi(ST_GeomFromText(%s, 27700)))",
                (f"p-{block_id}", block_id, f"{block_id} House", "1 High St", shape.wkt),
            )
        for fid, at, category, text, (x, y) in INCIDENTS:
            conn.execute(
                "INSERT INTO incidents (feature_id, occurred_at, category, description, "
                "location_text, reference, geom) VALUES (%s, %s, %s, %s, %s, %s, "
                "ST_SetSRID(ST_MakePoint(%s, %s), 27700))",
                (fid, at, category, text, "outside flat 12", f"CAD-{fid}", x, y),
            )
        for order_id, operation in ORDERS:
            conn.execute(
                "INSERT INTO orders (feature_id, order_id, name, operation, status, geom) "
                "VALUES (%s, %s, %s, %s, 'draft', ST_Multi(ST_GeomFromText(%s, 27700)))",
                (f"o-{order_id}", order_id, f"{order_id} closure", operation, BLOCKS["PER"].wkt),
            )
            conn.execute(
                "INSERT INTO breaches (feature_id, order_id, occurred_at, description, geom) "
                "VALUES (%s, %s, '2024-04-01', 'entered the stairwell', "
                "ST_SetSRID(ST_MakePoint(%s, %s), 27700))",
                (f"b-{order_id}", order_id, E0 + 2, N0 + 2),
            )
            conn.execute(
                "INSERT INTO closuremap_objections (order_id, received_on, who, summary, "
                "recorded_by, recorded_at) VALUES (%s, '2024-04-02', 'Ms Resident', 'objects', "
                "'PC Owner', '2024-04-02T10:00:00')",
                (order_id,),
            )
        conn.execute(
            'INSERT INTO closuremap_audit (id, at, "user", kind, feature_id, action, before, '
            "after, prev_hash, hash) VALUES (1, '2024-01-01T00:00:00', 'PC Owner', 'incidents', "
            "'i1', 'add', NULL, '{\"description\": \"man seen dealing\"}', 'g', 'h1')"
        )


@dataclass
class Workspace:
    server: PgServer
    url: str

    def login(self, role: str | None, operations: tuple[str, ...] = ()) -> str:
        """A new login (password in .pgpass) with ``role`` (None: a login with no role)."""
        name = _name(role or "nobody")
        self.server.add_login(name, secrets.token_hex(12))
        if role is not None:
            with psycopg.connect(self.url) as conn:
                grant_login(conn, name, role, operations)
        return name

    def connect(self, login: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.server.url_as(self.url, login), autocommit=True)


@pytest.fixture
def ws(pg_server: PgServer, pg_database: str) -> Workspace:
    make_workspace(pg_database)
    fill(pg_database)
    return Workspace(pg_server, pg_database)


def rows(conn: psycopg.Connection[Any], query: str, *params: object) -> list[tuple[Any, ...]]:
    return conn.execute(query, params or None).fetchall()


def denied(conn: psycopg.Connection[Any], query: str, *params: object) -> bool:
    """Whether the server refuses ``query`` for lack of a privilege (and only for that)."""
    try:
        conn.execute(query, params or None)
    except Denied:
        return True
    return False


# -- incident text ------------------------------------------------------------------------------


def test_partner_cannot_select_incident_text_but_can_see_where_and_what(ws: Workspace) -> None:
    partner = ws.login("partner", ("Op Alder",))
    with ws.connect(partner) as conn:
        for column in INCIDENT_TEXT["incidents"]:
            assert denied(conn, f'SELECT "{column}" FROM incidents'), column
        for column in INCIDENT_TEXT["breaches"]:
            assert denied(conn, f'SELECT "{column}" FROM breaches'), column
        assert denied(conn, "SELECT * FROM incidents")
        assert denied(conn, "SELECT * FROM breaches")
        assert denied(conn, "SELECT count(*) FROM incidents WHERE description LIKE '%dealing%'")
        got = rows(
            conn,
            "SELECT fid, feature_id, category, occurred_at, ST_X(geom) FROM incidents "
            "ORDER BY feature_id",
        )
        assert [r[1] for r in got] == [i[0] for i in INCIDENTS]
        assert [r[2] for r in got] == [i[2] for i in INCIDENTS]
        assert rows(conn, "SELECT count(*) FROM premises") == [(2,)]
        # nor may it change what it reads
        assert denied(conn, "UPDATE incidents SET category = 'x'")
        assert denied(conn, "DELETE FROM premises")
        assert denied(
            conn, "INSERT INTO premises (feature_id, block_id, name) VALUES ('z', 'Z', 'Z')"
        )


def test_staff_read_and_write_everything_but_the_audit(ws: Workspace) -> None:
    for role in ("analyst", "supervisor"):
        login = ws.login(role)
        with ws.connect(login) as conn:
            assert len(rows(conn, "SELECT * FROM incidents")) == len(INCIDENTS)
            assert rows(conn, "SELECT description FROM incidents WHERE feature_id = 'i3'") == [
                ("graffiti",)
            ]
            assert len(rows(conn, "SELECT * FROM orders")) == len(ORDERS), role
            conn.execute("UPDATE orders SET status = 'notice_issued' WHERE order_id = 'ORD-N'")
            conn.execute(
                "INSERT INTO closuremap_case_log (order_id, what, record, recorded_by, "
                "recorded_at) VALUES ('ORD-B1', 'service', '{}', %s, '2024-05-01')",
                (login,),
            )
            conn.execute("UPDATE closuremap_writes SET n = n + 1")
            conn.execute(
                "INSERT INTO closuremap_meta (key, value) VALUES (%s, 'x')", (f"k-{login}",)
            )


def test_a_login_without_a_role_reads_nothing(ws: Workspace) -> None:
    nobody = ws.login(None)
    with ws.connect(nobody) as conn:
        for table in ("premises", "incidents", "orders", "closuremap_meta", "closuremap_audit"):
            assert denied(conn, f"SELECT count(*) FROM {table}"), table
        for view in pg_access.VIEWS:
            assert denied(conn, f"SELECT count(*) FROM {view}"), view


# -- the audit ----------------------------------------------------------------------------------


def test_nobody_but_the_owner_may_change_or_delete_audit_entries(ws: Workspace) -> None:
    for i, role in enumerate(ROLES, start=2):
        login = ws.login(role, ("Op Alder",) if role == "partner" else ())
        with ws.connect(login) as conn:
            assert denied(conn, "UPDATE closuremap_audit SET note = 'x' WHERE id = 1"), role
            assert denied(conn, "UPDATE closuremap_audit SET hash = 'forged'"), role
            assert denied(conn, "DELETE FROM closuremap_audit WHERE id = 1"), role
            assert denied(conn, "TRUNCATE closuremap_audit"), role
            with pytest.raises(Denied), conn.transaction():  # so the chain's lock is advisory
                conn.execute("LOCK TABLE closuremap_audit IN SHARE ROW EXCLUSIVE MODE")
            if role == "ward_member":
                assert denied(conn, "SELECT id FROM closuremap_audit")
                continue
            # the writers append (the chain's head read by id and hash, under an advisory lock)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (pg_schema.WRITE_LOCK,))
                head = rows(conn, "SELECT id, hash FROM closuremap_audit ORDER BY id DESC LIMIT 1")
                conn.execute(
                    'INSERT INTO closuremap_audit (id, at, "user", kind, feature_id, action, '
                    "after, prev_hash, hash) VALUES (%s, '2024-05-01', %s, 'objections', "
                    "'ORD-A1', 'add', '{}', %s, %s)",
                    (head[0][0] + 1, login, head[0][1], f"h{i}"),
                )
    with psycopg.connect(ws.url) as owner:  # the owner can: the tampering --verify detects
        owner.execute("UPDATE closuremap_audit SET note = 'edited' WHERE id = 1")
        assert rows(owner, "SELECT count(*) FROM closuremap_audit") == [(4,)]


def test_partner_reads_the_audit_without_incident_text(ws: Workspace) -> None:
    with psycopg.connect(ws.url) as owner:
        owner.execute(
            'INSERT INTO closuremap_audit (id, at, "user", kind, feature_id, action, before, '
            "after, prev_hash, hash) VALUES (2, '2024-01-02', 'PC Owner', 'orders', 'o-ORD-A1', "
            "'update', '{\"status\": \"draft\"}', '{\"status\": \"heard\"}', 'h1', 'h2')"
        )
    partner = ws.login("partner", ("Op Alder",))
    with ws.connect(partner) as conn:
        assert rows(conn, 'SELECT id, "user", kind, feature_id, action FROM closuremap_audit') == [
            (1, "PC Owner", "incidents", "i1", "add"),
            (2, "PC Owner", "orders", "o-ORD-A1", "update"),
        ]
        assert denied(conn, "SELECT after FROM closuremap_audit")
        assert denied(conn, "SELECT before FROM closuremap_audit")
        assert denied(conn, "SELECT * FROM closuremap_audit")
        # the app's history for a partner: an order's change in full, an incident's without text
        assert rows(conn, f"SELECT id, before, after FROM {pg_access.AUDIT_VIEW} ORDER BY id") == [
            (1, None, None),
            (2, '{"status": "draft"}', '{"status": "heard"}'),
        ]
    member = ws.login("ward_member")
    with ws.connect(member) as conn:
        assert denied(conn, f"SELECT id FROM {pg_access.AUDIT_VIEW}")


# -- row-level security on orders ---------------------------------------------------------------


def test_partner_sees_only_its_operations_orders_and_their_records(ws: Workspace) -> None:
    alder = ws.login("partner", ("Op Alder",))
    both = ws.login("partner", ("Op Alder", "Op Birch"))
    analyst = ws.login("analyst")

    def order_ids(login: str, table: str = "orders") -> list[str]:
        with ws.connect(login) as conn:
            return [r[0] for r in rows(conn, f"SELECT order_id FROM {table} ORDER BY order_id")]

    assert order_ids(alder) == ["ORD-A1", "ORD-A2"]
    assert order_ids(both) == ["ORD-A1", "ORD-A2", "ORD-B1"]
    assert order_ids(analyst) == ["ORD-A1", "ORD-A2", "ORD-B1", "ORD-N"]
    for table in ("breaches", "closuremap_objections"):
        assert order_ids(alder, table) == ["ORD-A1", "ORD-A2"], table
        assert order_ids(analyst, table) == ["ORD-A1", "ORD-A2", "ORD-B1", "ORD-N"], table
    with ws.connect(alder) as conn:
        # it sees its own operations only, not who else has which
        assert rows(conn, "SELECT login, operation FROM closuremap_partner_operations") == [
            (alder, "Op Alder")
        ]
        # it records objections on its own orders only
        insert = (
            "INSERT INTO closuremap_objections (order_id, received_on, who, summary, "
            "recorded_by, recorded_at) VALUES (%s, '2024-05-01', 'Mr Y', 'no', %s, '2024-05-01')"
        )
        conn.execute(insert, ("ORD-A1", alder))
        with pytest.raises(Denied, match="row-level security"):
            conn.execute(insert, ("ORD-B1", alder))
        # and changes no order, not even its own, nor its operations
        assert denied(conn, "UPDATE orders SET operation = 'Op Birch'")
        assert denied(
            conn,
            "INSERT INTO closuremap_partner_operations VALUES (%s, 'Op Birch')",
            alder,
        )
    # an order moved to another operation leaves the partner's view
    with psycopg.connect(ws.url) as owner:
        owner.execute("UPDATE orders SET operation = 'Op Birch' WHERE order_id = 'ORD-A2'")
    assert order_ids(alder) == ["ORD-A1"]
    # operations taken away, one and then all
    with psycopg.connect(ws.url) as owner:
        assert revoke_login(owner, both, ["Op Birch"]).operations == ("Op Alder",)
    assert order_ids(both) == ["ORD-A1"]
    with psycopg.connect(ws.url) as owner:
        gone = revoke_login(owner, both)
    assert gone.role is None and gone.operations == ()
    with ws.connect(both) as conn:
        assert denied(conn, "SELECT order_id FROM orders")


def test_changing_a_logins_role_replaces_the_old_one(ws: Workspace) -> None:
    login = ws.login("partner", ("Op Alder",))
    with psycopg.connect(ws.url) as owner:
        now = grant_login(owner, login, "analyst")
    assert now.role == "analyst" and now.operations == ()
    with ws.connect(login) as conn:
        assert len(rows(conn, "SELECT order_id FROM orders")) == len(ORDERS)
        assert rows(
            conn, "SELECT pg_has_role(current_user, %s, 'MEMBER')", DB_ROLES["partner"]
        ) == [(False,)]


# -- the ward member ----------------------------------------------------------------------------


def test_ward_member_reads_the_briefing_counts_and_nothing_else(ws: Workspace) -> None:
    member = ws.login("ward_member")
    with ws.connect(member) as conn:
        for table in (*pg_access.KINDS, "closuremap_objections", "closuremap_meta"):
            assert denied(conn, f'SELECT count(*) FROM "{table}"'), table
        counts = pd.DataFrame(
            rows(conn, "SELECT block_id, month, incidents FROM closuremap_briefing_counts"),
            columns=["block_id", "month", "incidents"],
        )
        assert [
            c.name for c in conn.execute("SELECT * FROM closuremap_briefing_counts").description
        ] == [
            "block_id",
            "month",
            "incidents",
        ]
        blocks = rows(conn, "SELECT block_id, name FROM closuremap_briefing_blocks ORDER BY 1")
        orders = rows(conn, "SELECT order_id, status FROM closuremap_briefing_orders ORDER BY 1")
    assert blocks == [("HAL", "HAL House"), ("PER", "PER House")]
    assert [o[0] for o in orders] == [o[0] for o in ORDERS]
    # the same counts the briefing makes from the layers themselves (geo.aggregate)
    incidents = gpd.GeoDataFrame(
        {"occurred_at": [i[1] for i in INCIDENTS]},
        geometry=[shapely.Point(i[4]) for i in INCIDENTS],
        crs=BNG,
    )
    premises = gpd.GeoDataFrame(
        {"block_id": list(BLOCKS), "name": [f"{b} House" for b in BLOCKS]},
        geometry=list(BLOCKS.values()),
        crs=BNG,
    )
    per_block = counts.dropna(subset=["block_id"]).groupby("block_id")["incidents"].sum()
    expected = counts_by_block(incidents, premises).set_index("block_id")["incidents"]
    assert per_block.reindex(expected.index, fill_value=0).tolist() == expected.tolist()
    per_month = counts.dropna(subset=["month"]).groupby("month")["incidents"].sum()
    expected_months = counts_by_month(incidents)
    assert per_month.reindex(expected_months.index, fill_value=0).tolist() == (
        expected_months.tolist()
    )
    assert counts["incidents"].sum() == len(INCIDENTS)


def test_ward_member_views_carry_no_text_or_points(ws: Workspace) -> None:
    with psycopg.connect(ws.url) as conn:
        for view in pg_access.BRIEFING_VIEWS:
            columns = [c.name for c in conn.execute(f"SELECT * FROM {view} LIMIT 0").description]
            for texts in INCIDENT_TEXT.values():
                assert not set(texts) & set(columns), view
            assert not {"address", "facts", "who", "uprn", "postcode"} & set(columns), view
        types = rows(
            conn,
            "SELECT DISTINCT GeometryType(geom) FROM closuremap_briefing_blocks "
            "UNION SELECT DISTINCT GeometryType(geom) FROM closuremap_briefing_orders",
        )
        assert {t[0] for t in types} == {"MULTIPOLYGON"}


# -- installing ---------------------------------------------------------------------------------


def test_installing_the_roles_again_is_harmless_and_follows_new_columns(ws: Workspace) -> None:
    partner = ws.login("partner", ("Op Alder",))
    with psycopg.connect(ws.url) as conn:
        install_roles(conn)
        install_roles(conn)
        # a migration adds a column: installed again, the partner may read it
        conn.execute("ALTER TABLE incidents ADD COLUMN ward text")
        install_roles(conn)
        assert access_of(conn, partner).operations == ("Op Alder",)
    with ws.connect(partner) as conn:
        assert denied(conn, "SELECT description FROM incidents")
        assert len(rows(conn, "SELECT ward, category FROM incidents")) == len(INCIDENTS)
        assert [r[0] for r in rows(conn, "SELECT order_id FROM orders ORDER BY 1")] == [
            "ORD-A1",
            "ORD-A2",
        ]


def test_a_column_added_to_the_rules_is_withheld_when_installed_again(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = ws.login("partner", ("Op Alder",))
    with ws.connect(partner) as conn:
        assert rows(conn, "SELECT count(source) FROM incidents") == [(0,)]
    rules = {**INCIDENT_TEXT, "incidents": (*INCIDENT_TEXT["incidents"], "source")}
    monkeypatch.setattr(pg_access, "INCIDENT_TEXT", rules)
    with psycopg.connect(ws.url) as conn:
        install_roles(conn)
    with ws.connect(partner) as conn:
        assert denied(conn, "SELECT source FROM incidents")


def test_two_databases_in_one_cluster_both_install_the_roles(pg_server: PgServer) -> None:
    first, second = pg_server.new_database(), pg_server.new_database()
    make_workspace(first)
    make_workspace(second)
    fill(first)
    fill(second)
    partner = _name("partner")
    pg_server.add_login(partner, secrets.token_hex(12))
    with psycopg.connect(first) as conn:
        grant_login(conn, partner, "partner", ["Op Alder"])
    with psycopg.connect(second) as conn:
        grant_login(conn, partner, "partner", ["Op Birch"])
    # membership is the cluster's; the operations are each workspace's own
    for url, expected in ((first, ["ORD-A1", "ORD-A2"]), (second, ["ORD-B1"])):
        with psycopg.connect(pg_server.url_as(url, partner)) as conn:
            assert [r[0] for r in rows(conn, "SELECT order_id FROM orders ORDER BY 1")] == expected
            assert denied(conn, "SELECT description FROM incidents")


def test_a_workspace_making_the_roles_while_another_does_succeeds(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Roles are the cluster's: while one database's install has made them but not committed, a
    second database's install waits for it and then finds them made, and goes on."""
    first, second = pg_server.new_database(), pg_server.new_database()
    make_workspace(first)
    make_workspace(second)
    tag = secrets.token_hex(3)
    monkeypatch.setattr(pg_access, "DB_ROLES", {r: f"closuremap_{r}_{tag}" for r in ROLES})
    errors: list[BaseException] = []
    with psycopg.connect(first) as one, psycopg.connect(second) as two:
        one.execute("SELECT 1")  # one transaction, held open across the install
        install_roles(one)
        waiting_pid = two.info.backend_pid

        def install() -> None:
            try:
                install_roles(two)
                two.commit()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        thread = threading.Thread(target=install)
        thread.start()
        for _ in range(200):  # until the second install waits on the first's new role
            state = rows(
                one, "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", waiting_pid
            )
            if state and state[0][0] == "Lock":
                break
            time.sleep(0.05)
        assert state == [("Lock",)], "the second install never waited for the first"
        one.commit()
        thread.join(timeout=60)
    assert not errors, errors
    with psycopg.connect(second) as conn:
        made = rows(
            conn,
            "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s) ORDER BY 1",
            list(pg_access.DB_ROLES.values()),
        )
        assert made == sorted((name, False) for name in pg_access.DB_ROLES.values())
        granted = rows(
            conn,
            "SELECT has_table_privilege(%s, 'orders', 'SELECT'), "
            "has_column_privilege(%s, 'incidents', 'description', 'SELECT')",
            pg_access.DB_ROLES["partner"],
            pg_access.DB_ROLES["partner"],
        )
        assert granted == [(True, False)]


# -- granting -----------------------------------------------------------------------------------


def test_grant_refuses_what_it_cannot_do_and_says_how(ws: Workspace) -> None:
    with psycopg.connect(ws.url) as conn:
        with pytest.raises(GrantError, match="createuser --pwprompt"):
            grant_login(conn, "no_such_login_here", "partner", ["Op Alder"])
        login = ws.login(None)
        with pytest.raises(GrantError, match="the roles are: analyst"):
            grant_login(conn, login, "admin")
        with pytest.raises(GrantError, match="--operation"):
            grant_login(conn, login, "analyst", ["Op Alder"])
        with pytest.raises(GrantError, match="group role"):
            grant_login(conn, DB_ROLES["partner"], "analyst")
        grant_login(conn, login, "partner", ["Op Alder"])
        with pytest.raises(GrantError, match="has: Op Alder"):
            revoke_login(conn, login, ["Op Birch"])
    # an analyst may not hand out roles
    analyst = ws.login("analyst")
    other = ws.login(None)
    with ws.connect(analyst) as conn, pytest.raises(GrantError, match="CREATEROLE"):
        grant_login(conn, other, "supervisor")


def test_grant_and_revoke_from_the_command_line(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    login = ws.login(None)
    grant = ["grant", ws.url, login, "--role", "partner", "--operation", "Op Birch"]
    code = main([*grant, "--user", "DBA Jane", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out) == {
        "workspace": ws.url,
        "login": login,
        "role": "partner",
        "operations": ["Op Birch"],
    }
    with ws.connect(login) as conn:
        assert [r[0] for r in rows(conn, "SELECT order_id FROM orders")] == ["ORD-B1"]
    assert main([*grant, "--user", "DBA Jane"]) == 0  # the same again: no change, no entry
    assert "it sees the orders of: Op Birch" in capsys.readouterr().out
    assert main(["revoke", ws.url, login, "--user", "DBA Jane"]) == 0
    assert "no closuremap role" in capsys.readouterr().out
    with ws.connect(login) as conn:
        assert denied(conn, "SELECT order_id FROM orders")
    # each change of who may see what is in the audit trail, chained like any other
    with psycopg.connect(ws.url) as owner:
        entries = rows(
            owner,
            'SELECT "user", action, before, after FROM closuremap_audit WHERE kind = %s '
            "AND feature_id = %s ORDER BY id",
            pg_access.ACCESS_KIND,
            login,
        )
    assert [(e[0], e[1]) for e in entries] == [("DBA Jane", "add"), ("DBA Jane", "delete")]
    assert json.loads(entries[0][3])["operations"] == ["Op Birch"] and entries[1][3] is None
    assert PostGISStore(ws.url).history(kind=pg_access.ACCESS_KIND)["feature_id"].tolist() == [
        login,
        login,
    ]
    assert main(["grant", ws.url, "nobody_at_all", "--role", "analyst", "--user", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "createuser --pwprompt nobody_at_all" in err[0]


def test_grant_on_a_geopackage_is_a_user_error(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grant", str(tmp_path / "ws.gpkg"), "someone", "--role", "partner"]) == 2
    assert "PostGIS" in capsys.readouterr().err


def test_pg_schema_and_pg_access_name_the_same_tables() -> None:
    from closuremap.layers import floorplans

    assert pg_access.WRITES_TABLE == pg_schema.WRITES_TABLE
    assert pg_access.FLOORPLANS_TABLE == floorplans.TABLE == pg_schema.FLOORPLANS_TABLE
    assert pg_access.OPERATIONS_TABLE.startswith(pg_access.SIDE_TABLE_PREFIX)
    assert all(t.startswith(pg_access.SIDE_TABLE_PREFIX) for t in pg_schema.SIDE_TABLES)
