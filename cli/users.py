"""``closuremap users …``: the local user file (flags in users_flags.py)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from closuremap.cli.shared import emit
from closuremap.layers.users import (
    User,
    UsersFileError,
    add_user,
    hash_password,
    load_users,
    remove_user,
    set_role,
)


def _password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a prompt that does not echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise UsersFileError("the two passwords differ; nothing was changed")
    if not password:
        raise UsersFileError("no password given; nothing was changed")
    return password


def cmd_users_add(args: argparse.Namespace) -> int:
    path = Path(args.file)
    user = User(
        name=args.name.strip(),
        role=args.role,
        hash=hash_password(_password(args.password_stdin)),
        email=(args.email or "").strip(),
        operation=(args.operation or "").strip(),
    )
    add_user(path, user)
    emit({"added": user.name, "role": user.role}, args.json, f"added {user.name} ({user.role})")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    users = load_users(Path(args.file))
    rows = [
        {"name": u.name, "role": u.role, "email": u.email, "operation": u.operation} for u in users
    ]
    text = (
        "\n".join(f"{u.name}\t{u.role}" + (f"\t{u.email}" if u.email else "") for u in users)
        or "no users"
    )
    emit({"users": rows}, args.json, text)
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    remove_user(Path(args.file), args.name)
    emit({"removed": args.name}, args.json, f"removed {args.name}")
    return 0


def cmd_users_set_role(args: argparse.Namespace) -> int:
    set_role(Path(args.file), args.name, args.role)
    emit({"name": args.name, "role": args.role}, args.json, f"{args.name} is now {args.role}")
    return 0


ACTIONS = {
    "add": cmd_users_add,
    "list": cmd_users_list,
    "remove": cmd_users_remove,
    "set-role": cmd_users_set_role,
}


def cmd_users(args: argparse.Namespace) -> int:
    """``closuremap users ACTION``: the action's body."""
    return ACTIONS[args.users_command](args)
