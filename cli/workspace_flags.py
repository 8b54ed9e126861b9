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
        "workspace (an export brought back) update it; others are added. A file with a version "
        "column (every `closuremap export` has one) updates only the features nobody changed "
        "since: a row on top of someone else's change, or for a feature deleted since, is "
        "refused into the rejects file with who changed what, the other rows are applied. A "
        "file without a version column (or a row with an empty version) updates as it is",
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
    p = sub.add_parser(
        "export",
        help="export a layer; the format comes from the extension",
        description="Export a layer; the format comes from the extension. Each feature's version "
        "is in a 'version' column: edit the file and bring it back with `closuremap import "
        "--update`, and a feature someone changed since the export is refused (its row kept in "
        "the rejects file, naming who changed what), not overwritten.",
    )
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


def add_audit(sub: Subparsers) -> None:
    p = sub.add_parser(
        "audit",
        help="list the audit trail (who changed what, when) and verify its hash chain",
        description="List the workspace's audit trail, oldest first, and with --verify check its "
        "SHA-256 chain. Exit codes: 0 listed (and intact); 2 a problem with the command; "
        "3 the chain is broken (the first broken entry is named).",
    )
    p.add_argument("workspace")
    p.add_argument(
        "--order",
        help="list only the entries about this order (its saves, objections and records); "
        "--verify still walks the whole chain",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="check every entry follows from the one before; exit 3 naming the first that does not",
    )
    user_flag(p)  # who is reading: the role decides what of the trail is shown
    output_flags(p)
    run(p, "audit", "cmd_audit")


def add_copy(sub: Subparsers) -> None:
    p = sub.add_parser(
        "copy",
        help="copy a whole workspace to a new one: GeoPackage or PostGIS, either way",
        description="Copy every layer, order, setting, record, floor plan, the import log and the "
        "audit trail (ids and hashes as they are) into a new workspace, then check the copy: the "
        "same rows per table, and the audit chain verifies. The destination must be new: a .gpkg "
        "path that does not exist, or a postgresql:// URL of a database with no workspace in it "
        "(password in ~/.pgpass, never in the URL). Exit codes: 0 copied and checked; 2 refused "
        "or failed; 3 copied, but the source's audit chain was already broken.",
    )
    p.add_argument("source", help="the workspace to copy: a .gpkg path or a postgresql:// URL")
    p.add_argument(
        "destination", help="a new .gpkg path, or the postgresql:// URL of an empty database"
    )
    output_flags(p)
    run(p, "copy", "cmd_copy")


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
