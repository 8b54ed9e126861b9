"""The four closuremap roles as PostgreSQL roles, grants and row-level security, so a partner's own
SQL client (psql, QGIS, a spreadsheet's ODBC link) is held to the same rules as the app.

- Each role is a ``NOLOGIN`` group (:data:`closuremap.layers.access.DB_ROLES`); a person's login
  is a member of one. Roles are cluster-wide: :func:`install_roles` creates the groups only when
  missing, and tolerates another database of the cluster (or a concurrent session) making them
  first.
- Grants are made per table from :mod:`closuremap.layers.access`, never kept in step by hand:
  analysts and supervisors read and write the layers and side tables; the audit table takes
  ``INSERT`` only (nobody but the owner may ``UPDATE``, ``DELETE`` or ``TRUNCATE`` an entry, so a
  tampered entry is the owner's doing and ``closuremap audit --verify`` names it). A partner reads
  the layers, but on incidents and breaches only the columns outside ``INCIDENT_TEXT`` (so
  ``SELECT description FROM incidents`` and ``SELECT *`` are refused), records objections and case
  notes, and reads the audit table without its before/after columns, or whole through
  :data:`AUDIT_VIEW`, where only incidents' and breaches' before/after are left out (as the app's
  guard shows a partner the history). Writers append to the chain under an advisory lock (``LOCK
  TABLE`` would need ``UPDATE``). A ward member reads only the ``closuremap_briefing_*`` views:
  counts per block and month, block footprints, the orders' outline and status, the context
  layers; no points, no text, no people.
- A partner sees only the orders of its operations (row-level security on ``orders`` keyed on the
  order's ``operation`` and :data:`OPERATIONS_TABLE`), and only the breaches, objections and case
  records of those orders. The owner is not subject to the policies (no ``FORCE``).

Re-running :func:`install_roles` converges: every closuremap role's privileges on our tables are
revoked and made again in one transaction, so a column added by a migration, or a column added to
``INCIDENT_TEXT``, is granted or withheld as the rules now say. A login is made by the database
administrator (its password never passes through closuremap); :func:`grant_login` makes it a member
of one role and records its operations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from closuremap.geo.aggregate import BLOCK_REACH_M
from closuremap.geo.errors import WorkspaceError

from .access import DB_ROLES, INCIDENT_TEXT, ROLES
from .model import KINDS
from .schema import AUDIT_TABLE, CASE_LOG_TABLE, META_TABLE, OBJECTIONS_TABLE

#: Which partner login sees which operation's orders (written by the owner: ``closuremap grant``).
OPERATIONS_TABLE = "closuremap_partner_operations"
FLOORPLANS_TABLE = "closuremap_floorplans"  # layers/floorplans.py's (not imported: PIL, pyproj)
#: layers/pg_schema.py's write counter (not imported: pg_schema installs the roles from here). Any
#: write bumps it, a partner's objection too.
WRITES_TABLE = "closuremap_writes"
#: Every table closuremap keeps besides the layers starts so; staff get those found in the schema.
SIDE_TABLE_PREFIX = "closuremap_"
#: The audit columns a partner may not read: an incident's before/after carries its text.
AUDIT_CONTENT = ("before", "after")
#: The side tables a partner writes to (RLS limits them to its operations' orders).
PARTNER_RECORDS = (OBJECTIONS_TABLE, CASE_LOG_TABLE)
#: The tables whose rows belong to an order (``order_id``): a partner sees its operations' only.
BY_ORDER = ("breaches", OBJECTIONS_TABLE, CASE_LOG_TABLE)
STAFF = ("analyst", "supervisor")
WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
POLICY_PREFIX = "closuremap_"

#: What a ward member's briefing reads (reports/briefing.py), as views over the layers: the counts
#: per block (an incident within :data:`BLOCK_REACH_M` of a footprint counts for the nearest, as
#: geo.aggregate.counts_by_block does; at none: block_id NULL) and per calendar month (``YYYY-MM``,
#: NULL when the date is unknown), so both tables and the total can be made from it and suppressed
#: by the briefing; the blocks, the orders' outline and status (not their facts or notes) and the
#: context layers. Nothing else of an incident leaves the database. Every role may read them. The
#: layers' ``fid`` (a row number) comes along, so a ward member's login lists them in the order
#: everyone else's does.
BRIEFING_VIEWS: dict[str, tuple[tuple[str, ...], str]] = {
    "closuremap_briefing_counts": (
        ("incidents", "premises"),
        "SELECT b.block_id, CASE WHEN left(i.occurred_at::text, 7) ~ '^[0-9]{{4}}-[0-9]{{2}}$' "
        "THEN left(i.occurred_at::text, 7) END AS month, count(*)::integer AS incidents "
        "FROM {schema}.incidents AS i LEFT JOIN LATERAL "
        "(SELECT p.block_id FROM {schema}.premises AS p "
        "WHERE i.geom IS NOT NULL AND ST_DWithin(p.geom, i.geom, {reach}) "
        "ORDER BY p.geom OPERATOR({postgis}.<->) i.geom, p.block_id LIMIT 1) AS b ON true "
        "GROUP BY 1, 2",
    ),
    "closuremap_briefing_blocks": (
        ("premises",),
        "SELECT fid, block_id, name, geom FROM {schema}.premises",
    ),
    "closuremap_briefing_orders": (
        ("orders",),
        "SELECT fid, order_id, name, status, block_ids, order_made_on, evidence_from, evidence_to, "
        "notice_issued_at, geom FROM {schema}.orders",
    ),
    # the day (no time) and block of each incident, counted: what the app's guard gives a ward
    # member (layers.access.generalise_to_blocks), so a ward member's own login makes the same
    # briefing, evidence window and all
    "closuremap_briefing_days": (
        ("incidents", "premises"),
        "SELECT b.block_id, left(i.occurred_at::text, 10) AS day, count(*)::integer AS incidents "
        "FROM {schema}.incidents AS i LEFT JOIN LATERAL "
        "(SELECT p.block_id FROM {schema}.premises AS p "
        "WHERE i.geom IS NOT NULL AND ST_DWithin(p.geom, i.geom, {reach}) "
        "ORDER BY p.geom OPERATOR({postgis}.<->) i.geom, p.block_id LIMIT 1) AS b ON true "
        "GROUP BY 1, 2",
    ),
    "closuremap_briefing_open_space": (
        ("open_space",),
        "SELECT fid, name, open_space_type, geom FROM {schema}.open_space",
    ),
    # the settings a briefing prints (the workspace's name, the partners, the data attributions)
    "closuremap_briefing_settings": (
        (META_TABLE,),
        "SELECT key, value FROM {schema}." + META_TABLE + " WHERE key = ANY("
        "ARRAY['name', 'partners', 'attribution', 'attribution_short'])",
    ),
    "closuremap_briefing_basemap": (
        ("basemap",),
        "SELECT fid, feature_class, name, geom FROM {schema}.basemap",
    ),
}
#: The audit trail as a partner reads it (the app's guard does the same): every entry, with the
#: before and after of incidents and breaches left out. Staff may read it too.
AUDIT_VIEW = "closuremap_audit_redacted"
_AUDIT_VIEW_SQL = (
    'SELECT id, at, "user", kind, feature_id, action, '
    "CASE WHEN kind = ANY({text_kinds}) THEN NULL ELSE before END AS before, "
    "CASE WHEN kind = ANY({text_kinds}) THEN NULL ELSE after END AS after, "
    "note, prev_hash, hash FROM {schema}.{audit}"
)
#: Every view: name -> (the tables it needs, its SQL, the roles that read it).
VIEWS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    **{name: (sources, text, ROLES) for name, (sources, text) in BRIEFING_VIEWS.items()},
    AUDIT_VIEW: ((AUDIT_TABLE,), _AUDIT_VIEW_SQL, (*STAFF, "partner")),
}


#: A function any closuremap role may call that recomputes each audit entry's hash inside the
#: database (as :func:`closuremap.layers.audit_chain.entry_hash` does: SHA-256 of the previous
#: hash, a newline and the entry as compact JSON), running with its owner's rights: a partner,
#: who may not read incidents' before and after, can still verify the whole chain, and learns
#: only ids and hashes.
AUDIT_HASHES = "closuremap_audit_hashes"
_AUDIT_HASHES_SQL = (
    "CREATE OR REPLACE FUNCTION {schema}.{function}() "
    "RETURNS TABLE (id bigint, prev_hash text, hash text, recomputed text) "
    "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$ "
    "SELECT a.id, a.prev_hash, a.hash, encode(sha256(convert_to(coalesce(a.prev_hash, '') "
    "|| E'\\n[' || concat_ws(',', {fields}) || ']', 'UTF8')), 'hex') "
    "FROM {schema}.{audit} AS a ORDER BY a.id $body$"
)


class GrantError(WorkspaceError):
    """A role or login that cannot be set up as asked: the message says who can do it, or how."""


@dataclass(frozen=True)
class LoginAccess:
    """What a login may do in one workspace: its closuremap role and (a partner's) operations."""

    login: str
    role: str | None
    operations: tuple[str, ...] = ()


#: The audit kind a change of a login's role or operations is recorded under.
ACCESS_KIND = "access"


def audit_change(
    before: LoginAccess, after: LoginAccess
) -> tuple[str, str | None, str | None] | None:
    """A change of a login's access as an audit entry's (action, before, after), the JSON of its
    role and operations (None where it had no role); None when nothing changed.

    >>> audit_change(LoginAccess("ann", None), LoginAccess("ann", "partner", ("Op A",)))
    ('add', None, '{"login": "ann", "role": "partner", "operations": ["Op A"]}')
    """
    if before == after:
        return None

    def text(access: LoginAccess) -> str | None:
        if access.role is None and not access.operations:
            return None
        return json.dumps(
            {"login": access.login, "role": access.role, "operations": list(access.operations)}
        )

    was, now = text(before), text(after)
    action = "add" if was is None else "delete" if now is None else "update"
    return action, was, now


def login_hint(login: str) -> str:
    """How the database administrator makes a login, the password typed at a prompt (never on a
    command line, where the shell's history and the server's log would keep it)."""
    return (
        f"the login '{login}' does not exist on this server: the database administrator makes it "
        f'first, with createuser --pwprompt {login} (or in psql: CREATE ROLE "{login}" LOGIN; '
        f"then \\password {login}), then grants it again"
    )


# -- installing ---------------------------------------------------------------------------------


def install_roles(conn: psycopg.Connection[Any], schema: str | None = None) -> None:
    """Make the four group roles (if missing), :data:`OPERATIONS_TABLE`, the briefing views, the
    grants and the row-level security of the workspace in ``schema`` (default: the connection's
    current schema). Idempotent; run by the workspace's owner when it creates or migrates the
    schema (grants on a table need its owner), after the tables exist."""
    with conn.transaction():
        schema = schema or _current_schema(conn)
        _create_groups(conn)
        _create_operations_table(conn, schema)
        tables = _tables(conn, schema)
        _create_views(conn, schema, tables)
        tables = _tables(conn, schema)
        _revoke_all(conn, schema, tables)
        _grant(conn, schema, tables)
        _policies(conn, schema, tables)
        if tables.get(AUDIT_TABLE) == "r":
            _audit_hashes(conn, schema)


def _audit_hashes(conn: psycopg.Connection[Any], schema: str) -> None:
    from .audit_chain import HASHED_FIELDS

    fields = sql.SQL(", ").join(
        [
            sql.SQL("coalesce(to_json(a.{})::text, 'null')").format(sql.Identifier(f))
            for f in HASHED_FIELDS
        ]
    )
    function = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(AUDIT_HASHES))
    conn.execute(
        sql.SQL(_AUDIT_HASHES_SQL).format(
            schema=sql.Identifier(schema),
            function=sql.Identifier(AUDIT_HASHES),
            fields=fields,
            audit=sql.Identifier(AUDIT_TABLE),
        )
    )
    conn.execute(sql.SQL("REVOKE ALL ON FUNCTION {}() FROM PUBLIC").format(function))
    conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION {}() TO {}").format(function, _all_groups()))


def _current_schema(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    if row is None or row[0] is None:
        raise WorkspaceError("the connection has no current schema: set search_path")
    return str(row[0])


def _create_groups(conn: psycopg.Connection[Any]) -> None:
    have = {
        r[0]
        for r in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(DB_ROLES.values()),)
        )
    }
    for role in ROLES:
        name = DB_ROLES[role]
        if name in have:
            continue
        # another database of the cluster, or a concurrent session, may make it first
        body = sql.SQL(
            "BEGIN CREATE ROLE {} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END"
        ).format(sql.Identifier(name))
        try:
            with conn.transaction():
                conn.execute(sql.SQL("DO {}").format(sql.Literal(body.as_string(conn))))
        except psycopg.errors.InsufficientPrivilege:
            raise GrantError(
                "the closuremap roles are not on this server and your login may not create "
                "roles: a database administrator runs, once per server, "
                + "; ".join(f"CREATE ROLE {DB_ROLES[r]} NOLOGIN" for r in ROLES)
                + " (or gives the workspace's owner CREATEROLE), then open it again"
            ) from None


def _create_operations_table(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} (login TEXT NOT NULL, operation TEXT NOT NULL, "
            "PRIMARY KEY (login, operation))"
        ).format(sql.Identifier(schema), sql.Identifier(OPERATIONS_TABLE))
    )


def _tables(conn: psycopg.Connection[Any], schema: str) -> dict[str, str]:
    """Our tables and views in ``schema``: name -> relkind (``r``/``p`` table, ``v`` view)."""
    rows = conn.execute(
        "SELECT c.relname, c.relkind FROM pg_class AS c JOIN pg_namespace AS n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v') "
        "AND (c.relname = ANY(%s) OR left(c.relname, %s) = %s)",
        (schema, list(KINDS), len(SIDE_TABLE_PREFIX), SIDE_TABLE_PREFIX),
    ).fetchall()
    return {str(name): "v" if kind == "v" else "r" for name, kind in rows}


def _postgis_schema(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension AS e JOIN pg_namespace AS n "
        "ON n.oid = e.extnamespace WHERE e.extname = 'postgis'"
    ).fetchone()
    if row is None:
        raise WorkspaceError("the database has no PostGIS: CREATE EXTENSION postgis, then again")
    return str(row[0])


def _create_views(conn: psycopg.Connection[Any], schema: str, tables: dict[str, str]) -> None:
    postgis = _postgis_schema(conn)
    for view, (sources, text, _) in VIEWS.items():
        if not all(tables.get(s) == "r" for s in sources):
            continue
        conn.execute(
            sql.SQL("DROP VIEW IF EXISTS {}.{}").format(
                sql.Identifier(schema), sql.Identifier(view)
            )
        )
        query = sql.SQL(text).format(
            schema=sql.Identifier(schema),
            postgis=sql.Identifier(postgis),
            reach=sql.Literal(float(BLOCK_REACH_M)),
            text_kinds=sql.SQL("ARRAY[{}]::text[]").format(
                sql.SQL(", ").join([sql.Literal(k) for k in INCIDENT_TEXT])
            ),
            audit=sql.Identifier(AUDIT_TABLE),
        )
        conn.execute(
            sql.SQL("CREATE VIEW {}.{} WITH (security_barrier) AS {}").format(
                sql.Identifier(schema), sql.Identifier(view), query
            )
        )


def _all_groups() -> sql.Composed:
    return sql.SQL(", ").join([sql.Identifier(DB_ROLES[r]) for r in ROLES])


def _revoke_all(conn: psycopg.Connection[Any], schema: str, tables: dict[str, str]) -> None:
    for name in tables:
        conn.execute(
            sql.SQL("REVOKE ALL ON TABLE {}.{} FROM PUBLIC, {}").format(
                sql.Identifier(schema), sql.Identifier(name), _all_groups()
            )
        )


def _columns(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid "
        "JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = %s "
        "AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (schema, table),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _sequences(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    """The sequences feeding the table's serial or identity columns (an INSERT draws on them)."""
    rows = conn.execute(
        "SELECT s.relname FROM pg_class AS s JOIN pg_depend AS d ON d.objid = s.oid "
        "AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
        "JOIN pg_class AS t ON t.oid = d.refobjid JOIN pg_namespace AS n "
        "ON n.oid = t.relnamespace WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') "
        "AND n.nspname = %s AND t.relname = %s",
        (schema, table),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _privileges(
    conn: psycopg.Connection[Any], schema: str, tables: dict[str, str]
) -> list[tuple[str, str, tuple[str, ...], Sequence[str] | None]]:
    """(role, table, privileges, columns or None for the whole table): the rules as grants."""
    out: list[tuple[str, str, tuple[str, ...], Sequence[str] | None]] = []
    for name, relkind in tables.items():
        if relkind == "v":
            continue
        if name == AUDIT_TABLE:
            staff: tuple[str, ...] = ("SELECT", "INSERT")
        elif name == OPERATIONS_TABLE:
            staff = ("SELECT",)
        else:
            staff = WRITE
        for role in STAFF:
            out.append((role, name, staff, None))
        if name in INCIDENT_TEXT:
            hidden = set(INCIDENT_TEXT[name])
            cols = [c for c in _columns(conn, schema, name) if c not in hidden]
            out.append(("partner", name, ("SELECT",), cols))
        elif name in KINDS or name in (META_TABLE, FLOORPLANS_TABLE, OPERATIONS_TABLE):
            out.append(("partner", name, ("SELECT",), None))
        elif name in PARTNER_RECORDS:
            out.append(("partner", name, ("SELECT", "INSERT"), None))
        elif name == WRITES_TABLE:
            out.append(("partner", name, ("SELECT", "UPDATE"), None))
        elif name == AUDIT_TABLE:
            cols = [c for c in _columns(conn, schema, name) if c not in AUDIT_CONTENT]
            out.append(("partner", name, ("SELECT",), cols))
            out.append(("partner", name, ("INSERT",), None))
    for view, (_, _, readers) in VIEWS.items():
        if tables.get(view) == "v":
            out.extend((role, view, ("SELECT",), None) for role in readers)
    return out


def _grant(conn: psycopg.Connection[Any], schema: str, tables: dict[str, str]) -> None:
    conn.execute(
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), _all_groups())
    )
    writers: dict[str, set[str]] = {}
    for role, table, privileges, columns in _privileges(conn, schema, tables):
        target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        if columns is None:
            what = sql.SQL(", ").join([sql.SQL(p) for p in privileges])
        else:
            cols = sql.SQL(", ").join([sql.Identifier(c) for c in columns])
            what = sql.SQL(", ").join(
                [sql.SQL("{} ({})").format(sql.SQL(p), cols) for p in privileges]
            )
        conn.execute(
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                what, target, sql.Identifier(DB_ROLES[role])
            )
        )
        if "INSERT" in privileges:
            writers.setdefault(table, set()).add(role)
    for table, roles in writers.items():
        for seq in _sequences(conn, schema, table):
            conn.execute(
                sql.SQL("GRANT USAGE ON SEQUENCE {}.{} TO {}").format(
                    sql.Identifier(schema),
                    sql.Identifier(seq),
                    sql.SQL(", ").join([sql.Identifier(DB_ROLES[r]) for r in sorted(roles)]),
                )
            )


def _policy(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str,
    name: str,
    command: str,
    roles: Iterable[str],
    using: str | None,
    check: str | None,
) -> None:
    target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    policy = sql.Identifier(POLICY_PREFIX + name)
    conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, target))
    parts = [
        sql.SQL("CREATE POLICY {} ON {} AS PERMISSIVE FOR {} TO {}").format(
            policy,
            target,
            sql.SQL(command),
            sql.SQL(", ").join([sql.Identifier(DB_ROLES[r]) for r in roles]),
        )
    ]
    ops = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(OPERATIONS_TABLE))
    orders = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier("orders"))
    for word, expr in (("USING", using), ("WITH CHECK", check)):
        if expr is not None:
            parts.append(
                sql.SQL(word + " ({})").format(sql.SQL(expr).format(ops=ops, orders=orders))
            )
    conn.execute(sql.SQL(" ").join(parts))


def _policies(conn: psycopg.Connection[Any], schema: str, tables: dict[str, str]) -> None:
    """Row-level security: staff see and write every row; a partner its operations' rows."""
    mine = "operation IN (SELECT o.operation FROM {ops} AS o)"
    of_mine = "order_id IN (SELECT v.order_id FROM {orders} AS v)"
    rules: dict[str, list[tuple[str, str, tuple[str, ...], str | None, str | None]]] = {
        OPERATIONS_TABLE: [
            ("staff", "SELECT", STAFF, "true", None),
            ("own", "SELECT", ("partner",), "login IN (session_user, current_user)", None),
        ],
        "orders": [
            ("staff", "ALL", STAFF, "true", "true"),
            ("partner", "SELECT", ("partner",), mine, None),
        ],
    }
    for table in BY_ORDER:
        rules[table] = [
            ("staff", "ALL", STAFF, "true", "true"),
            ("partner", "SELECT", ("partner",), of_mine, None),
        ]
        if table in PARTNER_RECORDS:
            rules[table].append(("partner_add", "INSERT", ("partner",), None, of_mine))
    for table, policies in rules.items():
        if tables.get(table) != "r":
            continue
        if table == "orders" and "operation" not in _columns(conn, schema, table):
            raise WorkspaceError(
                "the orders table has no operation column: open the workspace with this "
                "closuremap so it is migrated, then install the roles again"
            )
        for name, command, roles, using, check in policies:
            _policy(conn, schema, table, name, command, roles, using, check)
        conn.execute(
            sql.SQL("ALTER TABLE {}.{} ENABLE ROW LEVEL SECURITY").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )


# -- logins -------------------------------------------------------------------------------------


def _login_exists(conn: psycopg.Connection[Any], login: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone() is not None
    )


def _check_login(conn: psycopg.Connection[Any], login: str) -> None:
    if login in DB_ROLES.values():
        raise GrantError(f"'{login}' is a closuremap group role, not a person's login")
    if not _login_exists(conn, login):
        raise GrantError(login_hint(login))


def _check_installed(conn: psycopg.Connection[Any], schema: str) -> None:
    have = {
        r[0]
        for r in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(DB_ROLES.values()),)
        )
    }
    if len(have) < len(ROLES) or OPERATIONS_TABLE not in _tables(conn, schema):
        raise GrantError(
            "the closuremap roles are not installed in this workspace: create it with "
            "`closuremap init URL` (or open it once with this closuremap, as its owner)"
        )


def access_of(conn: psycopg.Connection[Any], login: str, schema: str | None = None) -> LoginAccess:
    """The closuremap role ``login`` is a member of (None if none) and its operations here."""
    schema = schema or _current_schema(conn)
    roles = [
        str(r[0])
        for r in conn.execute(
            "SELECT g.rolname FROM pg_auth_members AS m JOIN pg_roles AS g ON g.oid = m.roleid "
            "JOIN pg_roles AS u ON u.oid = m.member WHERE u.rolname = %s AND g.rolname = ANY(%s)",
            (login, list(DB_ROLES.values())),
        )
    ]
    role = next((r for r in ROLES if DB_ROLES[r] in roles), None)
    ops = conn.execute(
        sql.SQL("SELECT operation FROM {}.{} WHERE login = %s ORDER BY operation").format(
            sql.Identifier(schema), sql.Identifier(OPERATIONS_TABLE)
        ),
        (login,),
    ).fetchall()
    return LoginAccess(login, role, tuple(str(r[0]) for r in ops))


def grant_login(
    conn: psycopg.Connection[Any],
    login: str,
    role: str,
    operations: Iterable[str] = (),
    schema: str | None = None,
) -> LoginAccess:
    """Make ``login`` a member of ``role``'s group (and of no other closuremap group) and, for a
    partner, add ``operations`` to those whose orders it sees. The login must exist (the database
    administrator makes it: :func:`login_hint`). Run by the workspace's owner, or by a login with
    ``CREATEROLE``. Role membership is cluster-wide; operations belong to this workspace."""
    ops = tuple(dict.fromkeys(o.strip() for o in operations))
    if role not in ROLES:
        raise GrantError(f"unknown role '{role}'; the roles are: {', '.join(ROLES)}")
    if any(not o for o in ops):
        raise GrantError("an operation cannot be blank: --operation 'Op Perronet'")
    if ops and role != "partner":
        raise GrantError(
            f"--operation limits a partner's orders; a{'n' if role[0] in 'aeiou' else ''} "
            f"{role} sees every order it may see, so grant it without --operation"
        )
    with conn.transaction():
        schema = schema or _current_schema(conn)
        _check_login(conn, login)
        _check_installed(conn, schema)
        try:
            for other in ROLES:
                if other != role:
                    _revoke_membership(conn, other, login)
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(DB_ROLES[role]), sql.Identifier(login)
                )
            )
            target = sql.SQL("{}.{}").format(
                sql.Identifier(schema), sql.Identifier(OPERATIONS_TABLE)
            )
            if role != "partner":
                conn.execute(sql.SQL("DELETE FROM {} WHERE login = %s").format(target), (login,))
            for op in ops:
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {} (login, operation) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                    ).format(target),
                    (login, op),
                )
        except psycopg.errors.InsufficientPrivilege:
            raise _not_allowed() from None
        return access_of(conn, login, schema)


def revoke_login(
    conn: psycopg.Connection[Any],
    login: str,
    operations: Iterable[str] = (),
    schema: str | None = None,
) -> LoginAccess:
    """Take ``operations`` away from a partner login; with none given, take every closuremap role
    and operation away from ``login`` (the login itself stays: it is the administrator's)."""
    ops = tuple(dict.fromkeys(o.strip() for o in operations))
    with conn.transaction():
        schema = schema or _current_schema(conn)
        _check_login(conn, login)
        _check_installed(conn, schema)
        target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(OPERATIONS_TABLE))
        try:
            if ops:
                have = set(access_of(conn, login, schema).operations)
                missing = [o for o in ops if o not in have]
                if missing:
                    raise GrantError(
                        f"'{login}' does not have the operation(s) {', '.join(missing)}; it has: "
                        f"{', '.join(sorted(have)) or 'none'}"
                    )
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE login = %s AND operation = ANY(%s)").format(
                        target
                    ),
                    (login, list(ops)),
                )
            else:
                for role in ROLES:
                    _revoke_membership(conn, role, login)
                conn.execute(sql.SQL("DELETE FROM {} WHERE login = %s").format(target), (login,))
        except psycopg.errors.InsufficientPrivilege:
            raise _not_allowed() from None
        return access_of(conn, login, schema)


def _revoke_membership(conn: psycopg.Connection[Any], role: str, login: str) -> None:
    member = conn.execute(
        "SELECT pg_has_role(%s, %s, 'MEMBER') AND EXISTS (SELECT 1 FROM pg_auth_members AS m "
        "JOIN pg_roles AS g ON g.oid = m.roleid JOIN pg_roles AS u ON u.oid = m.member "
        "WHERE g.rolname = %s AND u.rolname = %s)",
        (login, DB_ROLES[role], DB_ROLES[role], login),
    ).fetchone()
    if member and member[0]:
        conn.execute(
            sql.SQL("REVOKE {} FROM {}").format(
                sql.Identifier(DB_ROLES[role]), sql.Identifier(login)
            )
        )


def _not_allowed() -> GrantError:
    return GrantError(
        "your login may not grant closuremap roles: connect as the workspace's owner or a login "
        "with CREATEROLE (in PostgreSQL 16+, one with ADMIN OPTION on the closuremap roles)"
    )
