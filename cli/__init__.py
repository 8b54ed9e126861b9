"""The shell entry: ``closuremap …``. Parses arguments and calls geo/ and layers/; no logic here.

Errors the user can fix print one line on stderr and exit 2; ``--json`` output is exactly one JSON
document on stdout; progress goes to stderr so it never mixes with the output.

Laid out by task: ``*_flags.py`` declare each command's flags (one ``add_<command>`` function
each, registered from :data:`COMMANDS` in the order ``--help`` lists them); ``workspace.py``,
``listing.py``, ``checks.py``, ``deadlines.py``, ``documents.py``, ``letters.py``,
``summarise.py``, ``audit.py`` and ``copy.py`` hold the bodies, each imported only when one of
its commands runs (options.py says why); :func:`main` below is the one place an error becomes a
sentence, naming the flag it is about.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence

from closuremap.cli import (
    checks_flags,
    documents_flags,
    grants_flags,
    users_flags,
    workspace_flags,
)
from closuremap.cli.options import Subparsers
from closuremap.geo.errors import ClosuremapError

EXIT_USER_ERROR = 2
DESCRIPTION = __doc__.splitlines()[0]

COMMANDS: tuple[Callable[[Subparsers], None], ...] = (
    workspace_flags.add_init,
    workspace_flags.add_import,
    workspace_flags.add_geocode,
    workspace_flags.add_export,
    workspace_flags.add_listings,
    workspace_flags.add_rejects,
    workspace_flags.add_audit,
    workspace_flags.add_copy,
    checks_flags.add_check_scope,
    checks_flags.add_timeline,
    documents_flags.add_exhibit,
    documents_flags.add_briefing,
    documents_flags.add_letters,
    documents_flags.add_service_pack,
    documents_flags.add_legal_documents,
    documents_flags.add_bundle,
    documents_flags.add_record_service,
    checks_flags.add_evaluate,
    checks_flags.add_summarise,
    checks_flags.add_check_breaches,
    workspace_flags.add_serve,
    workspace_flags.add_kinds,
    users_flags.add_users,
    grants_flags.add_grant,
    grants_flags.add_revoke,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``closuremap`` parser, one subcommand per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="closuremap", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


NAMES_A_FLAG = re.compile(r"(?<![\w-])--[a-z]")


def typed_values(argv: Sequence[str], args: argparse.Namespace) -> list[tuple[str, str]]:
    """The (flag, value) pairs the user typed, ``--crs X`` or ``--crs=X``; on/off flags left out."""
    pairs = []
    for i, token in enumerate(argv):
        if not token.startswith("--"):
            continue
        flag, equals, value = token.partition("=")
        if not equals:
            if i + 1 == len(argv) or argv[i + 1].startswith("--"):
                continue
            value = argv[i + 1]
        if not isinstance(getattr(args, flag[2:].replace("-", "_"), None), bool):
            pairs.append((flag, value))
    return pairs


def naming_the_flag(
    message: str, argv: Sequence[str], args: argparse.Namespace, filename: object = None
) -> str:
    """The message, led by the flag whose value it is about (``--crs: 'EPSG:1' is not …``) when the
    message quotes that value, starts with it or is about that file, and names no flag itself."""
    if NAMES_A_FLAG.search(message):
        return message
    for flag, value in typed_values(argv, args):
        if f"'{value}'" in message or message.startswith(f"{value}:") or value == filename:
            return f"{flag}: {message}"
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a problem the user can fix is one line on stderr and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ClosuremapError as exc:
        message, filename = str(exc), None
    except PermissionError as exc:
        message = f"permission denied: {exc.filename}; choose a folder you can write to"
        filename = exc.filename
    except FileNotFoundError as exc:
        message, filename = f"{exc.filename}: no such file or folder", exc.filename
    except OSError as exc:  # a folder where a file should be, a full disk, …: the system's words
        # a rename names its target second: the user's file, not our temporary one
        filename = exc.filename2 or exc.filename
        message = f"{filename}: {exc.strerror}" if filename else str(exc)
    print(f"closuremap: error: {naming_the_flag(message, argv, args, filename)}", file=sys.stderr)
    return EXIT_USER_ERROR
