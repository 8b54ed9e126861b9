"""The flags of the access commands (bodies in grants.py): which closuremap role a PostGIS login
has, and a partner's operations."""

from __future__ import annotations

import argparse

from closuremap.cli.options import Subparsers, output_flags, run, user_flag

ROLE_CHOICES = ("analyst", "supervisor", "partner", "ward_member")  # layers/access.py ROLES


def _operations(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--operation", action="append", default=[], metavar="OPERATION", help=text)


def add_grant(sub: Subparsers) -> None:
    p = sub.add_parser(
        "grant",
        help="give a PostGIS login a closuremap role (and a partner its operations)",
        description="The login must exist: the database administrator makes it (createuser "
        "--pwprompt NAME, or CREATE ROLE NAME LOGIN in psql) so its password never passes "
        "through closuremap. Run as the workspace's owner.",
    )
    p.add_argument("workspace", help="the workspace's postgresql:// URL")
    p.add_argument("login", help="the PostgreSQL login (a person or a partner's account)")
    p.add_argument("--role", required=True, choices=ROLE_CHOICES)
    _operations(p, "a partner: an operation whose orders it sees (repeatable; added to its own)")
    user_flag(p)
    output_flags(p)
    run(p, "grants", "cmd_grant")


def add_revoke(sub: Subparsers) -> None:
    p = sub.add_parser(
        "revoke",
        help="take a PostGIS login's closuremap role away (or only some of a partner's operations)",
    )
    p.add_argument("workspace", help="the workspace's postgresql:// URL")
    p.add_argument("login")
    _operations(p, "take only this operation away (repeatable); without it, the role and all")
    user_flag(p)
    output_flags(p)
    run(p, "grants", "cmd_revoke")
