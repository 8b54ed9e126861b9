"""The flags several commands share, and how a command names its body without importing it.

The flags live apart from the bodies (workspace.py, checks.py, documents.py) so that
``closuremap --help`` and a light command such as ``kinds`` do not load geopandas, reportlab or
matplotlib: a body's module, with every import at its top, is imported only when its command runs.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol

Subparsers = Any  # what add_subparsers returns: argparse does not name its type publicly


class Command(Protocol):
    """A command's body: the parsed arguments in, the exit code out."""

    def __call__(self, args: argparse.Namespace) -> int: ...


@dataclass(frozen=True)
class Body:
    """The body of a command, ``closuremap.cli.<module>.<name>``, imported when it first runs."""

    module: str
    name: str

    def resolve(self) -> Command:
        """The body itself (importing its module: this is where the heavy libraries load)."""
        command: Command = getattr(import_module(f"closuremap.cli.{self.module}"), self.name)
        return command

    def __call__(self, args: argparse.Namespace) -> int:
        return self.resolve()(args)


def run(p: argparse.ArgumentParser, module: str, name: str, **defaults: object) -> None:
    """Make ``p`` run ``closuremap.cli.<module>.<name>`` (with any other defaults given)."""
    p.set_defaults(func=Body(module, name), **defaults)


def text_flags(p: argparse.ArgumentParser, *flags: tuple[str, str]) -> None:
    """Optional flags that each take one text value: (flag, help) pairs, in the order of --help."""
    for flag, text in flags:
        p.add_argument(flag, help=text)


def output_flags(p: argparse.ArgumentParser) -> None:
    """--json and --quiet: every command but serve."""
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def user_flag(p: argparse.ArgumentParser) -> None:
    """--user: the commands that change the workspace or make a document."""
    p.add_argument(
        "--user",
        help="who is acting, recorded in the audit trail and on documents "
        "(default CLOSUREMAP_USER, else your login name)",
    )


def layer_files(p: argparse.ArgumentParser) -> None:
    """A workspace and --order, or files (any supported format and CRS): check-scope and exhibit."""
    p.add_argument(
        "workspace",
        nargs="?",
        help="a workspace .gpkg (with --order), or none with --scope files",
    )
    text_flags(
        p,
        ("--order", "the order_id of an order in the workspace"),
        ("--scope", "the scope: a file of one or more polygons"),
        ("--premises", "block footprints"),
        ("--communal", "communal areas (with block_id)"),
        ("--routes", "access routes (those with a block_id count as premises)"),
        ("--open-space", "mapped open space"),
        ("--incidents", "incident points"),
        ("--entrances", "entrances (with block_id)"),
    )


def case_options(p: argparse.ArgumentParser) -> None:
    """A workspace, an order, who prepares the document and its exhibit reference."""
    p.add_argument("workspace")
    p.add_argument("--order", required=True)
    p.add_argument("--out", required=True, help="the PDF to write")
    text_flags(
        p,
        (
            "--exhibit-ref",
            "e.g. AB/1 (default: the reference saved for the order on the Documents page)",
        ),
        ("--date", "date the documents are prepared, YYYY-MM-DD (default today)"),
    )
    user_flag(p)
    output_flags(p)


def workspace_and_order(p: argparse.ArgumentParser, *, every: str | None = None) -> None:
    """A workspace and --order, the order the command is about; with ``every``, --order may be left
    out and ``every`` is its help (what the command does then)."""
    p.add_argument("workspace")
    p.add_argument("--order", required=every is None, help=every)
