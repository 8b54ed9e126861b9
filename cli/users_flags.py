"""The flags of ``closuremap users``: the local user file of a standalone install (body in
users.py). A password is read from a prompt or from stdin, never from a flag: a flag's value lands
in the shell's history and in the process list."""

from __future__ import annotations

from closuremap.cli.options import Subparsers, output_flags, run

ROLE_CHOICES = ("analyst", "supervisor", "partner", "ward_member")  # layers.access.ROLES


def add_users(sub: Subparsers) -> None:
    p = sub.add_parser(
        "users",
        help="manage the local user file (CLOSUREMAP_USERS): add, list, remove, set-role",
        description="Who may sign in to the app, and as which role. The file is TOML, or JSON by "
        "its extension; passwords are kept only as argon2id hashes.",
    )
    run(p, "users", "cmd_users")  # one body: it turns to the action's own function
    own = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    a = own.add_parser("add", help="add a user; the password is asked for (or read from stdin)")
    a.add_argument("file", help="the user file (.toml or .json; made if missing)")
    a.add_argument("name", help="the name the audit trail records, e.g. 'PC Ann Smith 4321'")
    a.add_argument("--role", required=True, choices=ROLE_CHOICES)
    a.add_argument("--email", help="matched when signing in through the identity provider")
    a.add_argument("--operation", help="a partner's operation: they see only its orders")
    a.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of a prompt",
    )
    output_flags(a)

    ls = own.add_parser("list", help="the users and their roles (never a hash)")
    ls.add_argument("file")
    output_flags(ls)

    rm = own.add_parser("remove", help="take a user out of the file")
    rm.add_argument("file")
    rm.add_argument("name")
    output_flags(rm)

    sr = own.add_parser("set-role", help="change a user's role")
    sr.add_argument("file")
    sr.add_argument("name")
    sr.add_argument("role", choices=ROLE_CHOICES)
    output_flags(sr)
