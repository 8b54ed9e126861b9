"""The flags of the workspace commands (bodies in workspace.py)."""

from __future__ import annotations

import argparse

from closuremap.cli.options import Subparsers, output_flags, run, text_flags, user_flag

THRESHOLD_DEFAULT = 85


def add_init(sub: Subparsers) -> None:
    p = sub.add_parser("init", help="create a workspace (a .gpkg file)")
    p.add_argument("workspace")
    p.add_argument("--sample", action="store_true", help="fill it with the bundled sample estate")
    p.add_argument("--force", action="store_true", help="replace the file if it exists")
    user_flag(p)
    output_flags(p)
    run(p, "workspace", "cmd_init")


def _threshold(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--threshold", type=float, default=THRESHOLD_DEFAULT, help=text)


def add_import(sub: Subparsers) -> None:
    p = sub.add_parser("import", help="import a file into a layer; prints counts imported/rejected")
    p.add_argument("workspace")
    p.add_argument("kind")
    p.add_argument("file")
    text_flags(
        p,
        ("--rejects", "where to write rejected rows (CSV); default beside the workspace"),
        ("--layer", "the layer to read, for files with several"),
        ("--crs", "the file's coordinate system when it has none or a wrong one, e.g. EPSG:27700"),
    )
    p.add_argument(
        "--repair", action="store_true", help="repair invalid geometries instead of rejecting them"
    )
    p.add_argument(
        "--update",
        action="store_true",
        help="records with the feature_id of a feature already in the "
        "workspace (an export brought back) update it; others are added",
    )
    user_flag(p)
    text_flags(
        p,
        (
            "--gazetteer",
            "incidents: address list CSV (uprn, address, easting, northing); "
            "default the workspace's addresses",
        ),
        ("--postcodes", "incidents: postcode centroids (Code-Point Open CSV)"),
        ("--location-column", "incidents: the column with the location text"),
    )
    _threshold(p, "incidents: matches scoring below this go to review")
    p.add_argument(
        "--map",
        action="append",
        metavar="FIELD=COLUMN",
        help="use COLUMN for FIELD (repeat); remembered for later files with the same columns",
    )
    output_flags(p)
    run(p, "workspace", "cmd_import")


def add_geocode(sub: Subparsers) -> None:
    p = sub.add_parser(
        "geocode", help="place incident rows offline: coordinates, grid refs, addresses, postcodes"
    )
    p.add_argument("input", help="a CSV, TSV or XLSX of incidents")
    p.add_argument(
        "--gazetteer", required=True, help="CSV with uprn, address, easting, northing (BNG)"
    )
    p.add_argument("--postcodes", help="postcode centroids, Code-Point Open CSV")
    p.add_argument(
        "--out", required=True, help="every input row, in order, with the placement columns added"
    )
    text_flags(
        p,
        ("--rejects", "rows that could not be placed, with a reason (default beside --out)"),
        ("--location-column", "the column with the location text"),
    )
    _threshold(p, "matches scoring below this are marked for review")
    output_flags(p)
    run(p, "workspace", "cmd_geocode")


def add_export(sub: Subparsers) -> None:
    p = sub.add_parser("export", help="export a layer; the format comes from the extension")
    p.add_argument("workspace")
    p.add_argument("kind")
    p.add_argument("--out", required=True, help=".geojson .gpkg .shp .zip .kml .fgb or .csv")
    p.add_argument("--crs", help="coordinate system for formats that allow a choice (default BNG)")
    output_flags(p)
    run(p, "workspace", "cmd_export")


def add_listings(sub: Subparsers) -> None:
    """layers and imports: a workspace in, a listing of it out."""
    for name, text in (
        ("layers", "the workspace's layers: kinds, counts, bounds"),
        ("imports", "the import log: who imported which file when, and what became of its rows"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("workspace")
        output_flags(p)
        run(p, "listing", f"cmd_{name}")


def add_rejects(sub: Subparsers) -> None:
    p = sub.add_parser(
        "rejects", help="an import's rejected rows again, from the workspace's log, as CSV"
    )
    p.add_argument("workspace")
    p.add_argument(
        "--import", dest="import_id", type=int, required=True, help="the import's number (imports)"
    )
    p.add_argument("--out", required=True)
    output_flags(p)
    run(p, "listing", "cmd_rejects")


def add_serve(sub: Subparsers) -> None:
    p = sub.add_parser(
        "serve", help="run the app on a workspace (what `make run` does, from any install)"
    )
    p.add_argument(
        "workspace", help="the workspace .gpkg to open (created with the sample estate if missing)"
    )
    p.add_argument("--port", type=int, default=8501)
    run(p, "workspace", "cmd_serve")


def add_kinds(sub: Subparsers) -> None:
    p = sub.add_parser("kinds", help="the layer kinds and their fields")
    output_flags(p)
    run(p, "listing", "cmd_kinds")
