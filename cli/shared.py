"""What the command bodies share: who is acting, progress on stderr, the one output document."""

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
