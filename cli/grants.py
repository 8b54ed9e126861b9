"""The access commands: ``grant`` and ``revoke`` a PostGIS login's closuremap role and a partner's
operations (the database's own roles, grants and row-level security: layers/pg_access.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import psycopg

from closuremap.cli.shared import acting_user, emit
from closuremap.geo.errors import WorkspaceError
from closuremap.layers.locations import is_url
from closuremap.layers.pg_access import (
    ACCESS_KIND,
    LoginAccess,
    access_of,
    audit_change,
    grant_login,
    revoke_login,
)
from closuremap.layers.pg_store import PostGISStore


def _postgis(location: str) -> str:
    if not is_url(location):
        raise WorkspaceError(
            f"{location}: roles and grants are for a PostGIS workspace (postgresql://…); a "
            "GeoPackage is one person's file: whoever can open it can read all of it"
        )
    return location


def _said(access: LoginAccess) -> str:
    if access.role is None:
        return f"{access.login} now has no closuremap role in this workspace"
    text = f"{access.login} is a{'n' if access.role[0] in 'aeiou' else ''} {access.role}"
    if access.role == "partner":
        ops = ", ".join(access.operations)
        text += (
            f"; it sees the orders of: {ops}"
            if ops
            else "; it has no operation yet, so it sees no order (grant it with --operation)"
        )
    return text


def _emit(args: argparse.Namespace, location: str, access: LoginAccess) -> None:
    emit(
        {
            "workspace": location,
            "login": access.login,
            "role": access.role,
            "operations": list(access.operations),
        },
        args.json,
        _said(access),
    )


def _recorded(
    args: argparse.Namespace, change: Callable[[psycopg.Connection[Any]], LoginAccess]
) -> int:
    """Make the change and its audit entry in one transaction, under the workspace's write lock:
    who may see what is a change like any other, with a name behind it."""
    who = acting_user(args)
    url = _postgis(args.workspace)
    store = PostGISStore(url)
    with store.transaction() as tx:
        before = access_of(tx.conn, args.login)
        after = change(tx.conn)
        entry = audit_change(before, after)
        if entry is not None:
            action, was, now = entry
            tx.record(
                user=who,
                kind=ACCESS_KIND,
                feature_id=args.login,
                action=action,
                before=was,
                after=now,
            )
    _emit(args, store.location, after)
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    """Make the login a member of the role's group (its only closuremap role) and add operations."""
    return _recorded(args, lambda conn: grant_login(conn, args.login, args.role, args.operation))


def cmd_revoke(args: argparse.Namespace) -> int:
    """Take the login's role (or some of its operations) away; the login itself stays."""
    return _recorded(args, lambda conn: revoke_login(conn, args.login, args.operation))
