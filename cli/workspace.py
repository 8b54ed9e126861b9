"""The commands that fill a workspace or take data out: init, serve, import, geocode, export."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from closuremap.cli.shared import Progress, emit, open_store, require_role
from closuremap.geo.errors import SchemaError
from closuremap.geo.geocode import geocode, load_gazetteer, load_postcodes
from closuremap.layers.csvio import write_csv
from closuremap.layers.exporter import FORMATS, export_files, export_layer, shapefile_losses
from closuremap.layers.importer import import_file, read_rows
from closuremap.layers.locations import is_url
from closuremap.layers.model import get_kind
from closuremap.layers.sample import build_sample_workspace
from closuremap.layers.store import GeoPackageStore, open_workspace

if TYPE_CHECKING:
    from closuremap.layers.pg_store import PostGISStore

# The app's settings from .streamlit/config.toml, which Streamlit reads only from the working
# folder: given as flags, the app behaves the same from a wheel as from the repository.
STREAMLIT_FLAGS = (
    "--server.headless=true",
    "--server.enableStaticServing=true",  # Leaflet and its plugins from static/: offline first
    "--browser.gatherUsageStats=false",
    "--browser.serverAddress=localhost",
    "--client.toolbarMode=minimal",
    "--theme.base=light",
)
APP = Path(__file__).resolve().parent.parent / "app.py"


def cmd_init(args: argparse.Namespace) -> int:
    who = require_role(args, "settings")  # before the file exists: a refusal leaves nothing
    progress = Progress(args.quiet or args.json)
    store: GeoPackageStore | PostGISStore
    if is_url(args.workspace):  # a PostGIS database: the schema made in it
        from closuremap.layers.pg_store import PostGISStore  # psycopg only when it is needed

        store = PostGISStore.create(args.workspace, overwrite=args.force)
        if args.sample:
            _sample_into(store, progress)
    elif args.sample:
        store = build_sample_workspace(args.workspace, overwrite=args.force, progress=progress)
    else:
        store = GeoPackageStore.create(args.workspace, overwrite=args.force)
    store.set_meta("created_by", who, user=who)
    emit(
        {"workspace": store.location, "sample": bool(args.sample)},
        args.json,
        f"created workspace {store.location}" + (" with the sample estate" if args.sample else ""),
    )
    return 0


def _sample_into(store: PostGISStore, progress: Progress) -> None:
    """The sample estate built as a GeoPackage (through the importer, as users import) and
    copied table by table into the new PostGIS workspace, ids, audit and all."""
    with tempfile.TemporaryDirectory() as tmp:
        sample = build_sample_workspace(Path(tmp) / "sample.gpkg", progress=progress)
        for name in sample.table_names():
            progress(0.99, f"copying {name}")
            store.load_table(name, *sample.dump_table(name))


def cmd_serve(args: argparse.Namespace) -> int:
    if is_url(args.workspace):  # checked now, so a bad URL is one line here, not in a page
        open_workspace(args.workspace)
        location = args.workspace
    else:
        workspace = Path(args.workspace)
        if not workspace.exists():
            build_sample_workspace(workspace, progress=Progress(False))
        location = str(workspace.resolve())
    env = {**os.environ, "CLOSUREMAP_WORKSPACE": location}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        f"--server.port={args.port}",
        *STREAMLIT_FLAGS,
    ]
    # the operator's secrets (the [auth] section for st.login) where they run `closuremap serve`
    # or in their home: Streamlit would otherwise look only beside app.py after the chdir below
    command += [
        f"--secrets.files={p}"
        for p in (
            Path.home() / ".streamlit" / "secrets.toml",
            Path.cwd() / ".streamlit" / "secrets.toml",
        )
        if p.exists()
    ]
    # Streamlit takes this process's place, so stopping `closuremap serve` stops the server.
    os.chdir(APP.parent)
    os.execve(sys.executable, command, env)


def column_mapping(pairs: list[str] | None) -> dict[str, str | None] | None:
    """--map field=column (repeatable); --map field= unmaps a field."""
    if not pairs:
        return None
    out: dict[str, str | None] = {}
    for pair in pairs:
        if "=" not in pair:
            raise SchemaError(
                f"--map takes FIELD=COLUMN (e.g. --map occurred_at=\"Date of call\"), not '{pair}'"
            )
        field_name, column = pair.split("=", 1)
        out[field_name.strip()] = column.strip() or None
    return out


def cmd_import(args: argparse.Namespace) -> int:
    get_kind(args.kind)
    store = open_store(args, "import")
    result = import_file(
        store,
        args.kind,
        args.file,
        user=store.user or "",
        rejects_path=args.rejects,
        layer=args.layer,
        crs=args.crs,
        repair_geometry=args.repair,
        progress=Progress(args.quiet or args.json),
        gazetteer=load_gazetteer(args.gazetteer) if args.gazetteer else None,
        postcodes=load_postcodes(args.postcodes) if args.postcodes else None,
        location_column=args.location_column,
        threshold=args.threshold,
        mapping=column_mapping(args.map),
        update_existing=args.update,
    )
    summary = result.summary()
    lines = [
        f"{args.file}: read {result.read}, imported {result.imported}, rejected {result.n_rejected}"
        + (f" ({result.updated} updated in place)" if result.updated else "")
    ]
    lines += [f"  note: {n}" for n in result.notes]
    if result.n_rejected:
        if result.rejects_path:
            lines.append(f"  rejected rows written to {result.rejects_path}")
        for reason, count in list(summary["reasons"].items())[:8]:
            lines.append(f"  {count} x {reason}")
        unit = "row" if "row" in result.rejected.columns else "feature"
        first = result.rejected.iloc[0]
        lines.append(f"  e.g. {unit} {first[unit]}: {first['reason']}")
    emit(summary, args.json, "\n".join(lines))
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    progress = Progress(args.quiet or args.json)
    progress(0.0, f"reading {Path(args.input).name}")
    rows = read_rows(args.input)
    gazetteer = load_gazetteer(args.gazetteer)
    postcodes = load_postcodes(args.postcodes) if args.postcodes else None
    progress(0.3, f"geocoding {len(rows)} rows against {len(gazetteer)} addresses")
    coded = geocode(
        rows, gazetteer, postcodes, location_column=args.location_column, threshold=args.threshold
    )
    write_csv(coded, args.out)
    unplaced = coded[coded["match_method"] == "none"]
    rejects = None
    if len(unplaced):
        rejects = Path(args.rejects) if args.rejects else Path(args.out).with_suffix(".rejects.csv")
        write_csv(unplaced, rejects)
    counts = coded["match_method"].value_counts().to_dict()
    review = int(coded["needs_review"].astype(bool).sum())
    data = {
        "input": str(args.input),
        "out": str(args.out),
        "rows": len(coded),
        "by_method": counts,
        "needs_review": review,
        "unplaced": len(unplaced),
        "rejects_file": str(rejects) if rejects else None,
    }
    progress(1.0, "done")
    text = (
        f"{len(coded)} rows: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f"; {review} to review"
        + (f"; unplaced rows in {rejects}" if rejects else "")
    )
    emit(data, args.json, text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    get_kind(args.kind)
    store = open_store(args, "read")
    count = export_layer(store, args.kind, args.out, crs=args.crs)
    driver, default_crs = FORMATS[Path(args.out).suffix.lower()]
    files = [str(f) for f in export_files(store.read(args.kind), args.out)]
    data = {
        "kind": args.kind,
        "file": str(args.out),
        "count": count,
        "format": driver,
        "crs": args.crs or default_crs,
        "files": files,
    }
    if driver == "ESRI Shapefile":
        data["notes"] = shapefile_losses(store.read(args.kind))
        for note in data["notes"]:
            print(f"closuremap: note: {note}", file=sys.stderr)
    if len(files) > 1 and driver == "ESRI Shapefile":
        print(
            f"closuremap: note: a shapefile holds one kind of geometry; {args.kind} is written as "
            f"{', '.join(Path(f).name for f in files)}",
            file=sys.stderr,
        )
    emit(data, args.json, f"wrote {count} {args.kind} to {args.out} ({driver}, {data['crs']})")
    return 0
