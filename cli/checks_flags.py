"""The flags of the checking and counting commands (bodies in checks.py)."""

from __future__ import annotations

import argparse

from closuremap.cli.options import (
    Subparsers,
    layer_files,
    output_flags,
    run,
    text_flags,
    workspace_and_order,
)


def add_check_scope(sub: Subparsers) -> None:
    p = sub.add_parser(
        "check-scope", help="how much of a scope is defined premises, open space, other"
    )
    layer_files(p)
    text_flags(
        p,
        ("--highways", "street lines, to flag a scope crossing a highway"),
        ("--boroughs", "borough polygons, to flag a scope crossing a boundary"),
        ("--other-orders", "other orders' scopes, to flag overlaps"),
    )
    p.add_argument(
        "--tolerance-m2",
        type=float,
        help="area within which the verdict ignores a part (default max(1 m², 1%% of the scope))",
    )
    output_flags(p)
    run(p, "checks", "cmd_check_scope")


def add_timeline(sub: Subparsers) -> None:
    p = sub.add_parser("timeline", help="deadlines of a notice and order, and the rules they break")
    p.add_argument("--notice-issued", required=True, help="YYYY-MM-DDTHH:MM")
    p.add_argument("--notice-served", help="YYYY-MM-DDTHH:MM")
    p.add_argument("--notice-hours", type=int, default=24, help="24 (default) or 48")
    p.add_argument(
        "--notice-extension-hours",
        type=int,
        default=0,
        help="hours a 24-hour notice was extended by (s.77(4))",
    )
    text_flags(
        p,
        ("--authorised-by", "rank or authority, e.g. Superintendent"),
        (
            "--extension-authorised-by",
            "who authorised the notice's extension (default: the issuer)",
        ),
        ("--hearing", "when the application was heard, YYYY-MM-DDTHH:MM"),
        ("--order-made", "YYYY-MM-DD"),
    )
    p.add_argument("--order-months", type=int, help="length of the order in months")
    p.add_argument(
        "--extension-months",
        type=int,
        action="append",
        help="an extension in months (repeat for each)",
    )
    output_flags(p)
    run(p, "deadlines", "cmd_timeline")


def add_check_breaches(sub: Subparsers) -> None:
    p = sub.add_parser(
        "check-breaches", help="check recorded breaches against their order's scope and dates"
    )
    workspace_and_order(p, every="one order (default: all)")
    output_flags(p)
    run(p, "checks", "cmd_check_breaches")


def _evaluation_areas(p: argparse.ArgumentParser) -> None:
    """Where to count: the target, its buffer ring and the control (evaluate)."""
    p.add_argument(
        "--target-area",
        choices=["scope", "blocks"],
        default="scope",
        help="the orders' scopes (default) or their scopes and whole blocks",
    )
    text_flags(
        p,
        (
            "--incidents",
            "incident points (CSV with coordinates, police.uk street CSV, GeoJSON, ...)",
        ),
        ("--target", "the target area: a polygon file"),
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--buffer-m", type=float, help="buffer ring width in metres (default 200)")
    group.add_argument(
        "--buffer", help="the buffer: a polygon file (the target is taken out of it)"
    )
    p.add_argument(
        "--control", help="the control: a polygon file (target and buffer are taken out of it)"
    )
    p.add_argument(
        "--control-boundary",
        choices=["wards", "lsoas", "boroughs"],
        default="wards",
        help="with a workspace and no --control: the bundled boundary holding the "
        "target (default wards)",
    )
    p.add_argument("--control-name", help="that boundary's name or code instead")


def _evaluation_windows(p: argparse.ArgumentParser) -> None:
    """When to count: the before and after windows (evaluate)."""
    text_flags(
        p,
        (
            "--start",
            "first day of the after window, YYYY-MM or YYYY-MM-DD (default: the order's date)",
        ),
        ("--end", "last day of the after window, YYYY-MM (its last day) or YYYY-MM-DD"),
    )
    p.add_argument("--before-months", type=int, help="before window length (default: as after)")
    p.add_argument(
        "--after-months", type=int, help="after window length (default: the order's months, else 3)"
    )
    p.add_argument(
        "--year-earlier",
        action="store_true",
        help="before = the same dates a year earlier (seasonality)",
    )


def add_evaluate(sub: Subparsers) -> None:
    p = sub.add_parser(
        "evaluate", help="before/after evaluation with displacement (WDQ, TNE) for orders or files"
    )
    p.add_argument(
        "workspace",
        nargs="?",
        help="a workspace .gpkg (with --order), or none with --incidents files",
    )
    p.add_argument("--order", action="append", help="an order_id (repeat for a set of orders)")
    p.add_argument("--all-orders", action="store_true", help="the whole operation: every order")
    _evaluation_areas(p)
    _evaluation_windows(p)
    text_flags(
        p,
        (
            "--category-column",
            "the incidents' category column (default: found by name, e.g. 'Crime type')",
        ),
        ("--csv", "also write the results table here"),
        ("--png", "also write the monthly chart here"),
    )
    output_flags(p)
    run(p, "checks", "cmd_evaluate")


def add_summarise(sub: Subparsers) -> None:
    p = sub.add_parser(
        "summarise",
        aliases=["summarize"],
        help="incidents counted per area (wards, LSOAs, beats): one CSV row per area",
    )
    p.add_argument(
        "workspace",
        nargs="?",
        help="a workspace .gpkg: its incidents are counted (unless --incidents), "
        "and --areas may name one of its polygon layers",
    )
    p.add_argument(
        "--incidents",
        help="incident points: CSV/TSV/XLSX with coordinates (police.uk street CSV), "
        "GeoJSON, GeoPackage, shapefile, KML; any CRS",
    )
    p.add_argument(
        "--areas",
        required=True,
        help="the areas: a polygon file in any supported format and CRS, or "
        "with a workspace one of its layers: blocks, communal_areas, "
        "open_space, orders",
    )
    p.add_argument(
        "--out",
        required=True,
        help="the CSV to write: one row per area with its ids, total and one column per category",
    )
    p.add_argument(
        "--id-column",
        dest="id_columns",
        action="append",
        metavar="NAME",
        help="an areas column naming each area (repeat; default: guessed, e.g. LSOA21CD and "
        "LSOA21NM)",
    )
    for flag, dest, when in (("--from", "date_from", "after"), ("--to", "date_to", "before")):
        p.add_argument(
            flag,
            dest=dest,
            metavar="DATE",
            help=f"count incidents on or {when} this day, YYYY-MM-DD",
        )
    text_flags(
        p,
        ("--areas-layer", "the layer to read, for an areas file with several"),
        ("--incidents-layer", "the layer to read, for an incidents file with several"),
    )
    output_flags(p)
    run(p, "summarise", "cmd_summarise")
