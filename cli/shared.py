"""What the command bodies share: who is acting and as which role, the workspace opened for them,
progress on stderr, the one output document.

Every command that reads or writes a workspace opens it through :func:`open_store`, which wraps it
in the role guard (:class:`closuremap.layers.access.RoleStore`). The acting role is:

- with ``CLOSUREMAP_USERS`` set (the app's user file), the role the file gives the acting user
  (``--user``, else ``CLOSUREMAP_USER``, else the login name), who must be in it;
- on a PostGIS workspace whose store says its login's role (``login_role()``), that role and
  (a partner's) the login's operations, overriding the users file: the database holds a direct
  SQL client to the same rules, so the guard keeps to what the database allows. The workspace's
  owner (or a superuser) has no closuremap role (``login_role()`` is None): the users file, or
  single-user mode, says the role. A login in no closuremap role is refused by the store;
- otherwise single-user mode, with an analyst's and a supervisor's rights, as before sign-in
  existed.

On a GeoPackage whoever can write the file can change anything in it: the roles on the command
line keep a partner's or ward member's work within their role; a PostGIS server with database
roles is what holds a hostile user to them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from closuremap.geo.dates import parse_date
from closuremap.geo.errors import SchemaError
from closuremap.layers.access import AccessDenied, RoleStore, require
from closuremap.layers.store import WorkspaceStore, open_workspace
from closuremap.layers.users import find_user, load_users, users_file

#: The role of a command run without a user file or database roles: one officer, every right.
SINGLE_USER_ROLE = "supervisor"


def acting_user(args: argparse.Namespace) -> str:
    """``--user``, else ``CLOSUREMAP_USER``, else the login name: every change and document records
    who made it, so a blank name is an error, not an anonymous change."""
    if getattr(args, "user", None):
        return str(args.user)
    try:
        name = os.environ.get("CLOSUREMAP_USER") or getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        name = ""
    if not name.strip():
        raise SchemaError(
            "say who is acting: --user 'PC Ann Smith 4321' or set CLOSUREMAP_USER; every change "
            "and document records a name"
        )
    return name.strip()


def acting_role(
    args: argparse.Namespace, store: WorkspaceStore | None = None
) -> tuple[str, str, str | tuple[str, ...] | None]:
    """Who is acting, as which role, for which operation (a partner's): see the module's words."""
    name = acting_user(args)
    login_role = getattr(store, "login_role", None)
    role = login_role() if callable(login_role) else None
    if role is not None:
        operations = getattr(store, "login_operations", None)
        ops = tuple(operations()) if callable(operations) else ()
    path = users_file()
    if path is not None:
        user = find_user(load_users(path), name)
        if user is None:
            raise AccessDenied(
                f"'{name}' is not a user in {path} (CLOSUREMAP_USERS): give your name as the file "
                "has it with --user or CLOSUREMAP_USER, or ask an administrator to add you with "
                "`closuremap users add`"
            )
        if role is not None:
            return user.name, role, ops or None
        return user.name, user.role, user.operation or None
    if role is not None:
        return name, role, ops or None
    return name, SINGLE_USER_ROLE, None


def open_store(args: argparse.Namespace, action: str = "read") -> RoleStore:
    """``args.workspace`` opened for the acting user in their role, refused at once if the role
    may not take ``action`` (the command's purpose); the guard refuses anything else beyond it."""
    store = open_workspace(args.workspace)
    user, role, operation = acting_role(args, store)
    guarded = RoleStore(store, role=role, user=user, operation=operation)
    guarded.require(action)
    return guarded


def require_role(args: argparse.Namespace, action: str) -> str:
    """Refuse ``action`` unless the acting role may take it, before any file is made; the acting
    user's name."""
    user, role, _ = acting_role(args)
    require(role, action)
    return user


class Progress:
    """Progress lines on stderr, one per stage: logs stay readable, stdout stays the output."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = ""

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet or message == self.last:
            return
        self.last = message
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def emit(data: dict[str, Any], as_json: bool, text: str) -> None:
    """The command's one output: ``data`` as one JSON document with ``--json``, else ``text``."""
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(text)


def optional_path(value: str | None) -> Path | None:
    """An optional file flag as a path (None when not given)."""
    return Path(value) if value else None


def layer_file_paths(args: argparse.Namespace) -> dict[str, Path | None]:
    """The files of the layer flags check-scope and exhibit share (options.layer_files), by the
    names FileInputs and exhibit_input_from_files give them."""
    return {
        "scope": Path(args.scope),
        "premises": Path(args.premises),
        "communal": optional_path(args.communal),
        "routes": optional_path(args.routes),
        "open_space": optional_path(args.open_space),
        "incidents": optional_path(args.incidents),
        "entrances": optional_path(args.entrances),
    }


def document_date(args: argparse.Namespace) -> date:
    """The date a document carries: ``--date`` where the command has it and it was given, else
    today."""
    return parse_date(args.date, "--date") if getattr(args, "date", None) else date.today()
