"""The shell entry: ``closuremap …``. Parses arguments and calls geo/ and layers/; no logic here.

Errors the user can fix print one line on stderr and exit 2; ``--json`` output is exactly one JSON
document on stdout; progress goes to stderr so it never mixes with the output.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from closuremap.geo.crs import bng_to_lonlat
from closuremap.geo.errors import ClosuremapError
from closuremap.layers.csvio import write_csv

EXIT_USER_ERROR = 2


def _user(args: argparse.Namespace) -> str:
    if getattr(args, "user", None):
        return str(args.user)
    try:
        name = os.environ.get("CLOSUREMAP_USER") or getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        name = ""
    if not name.strip():
        from closuremap.geo.errors import SchemaError

        raise SchemaError(
            "say who is acting: --user 'PC Ann Smith 4321' or set CLOSUREMAP_USER; every change and "
            "document records a name"
        )
    return name.strip()


class _Progress:
    """Progress lines on stderr: one per stage, so logs stay readable."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = ""

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet or message == self.last:
            return
        self.last = message
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def _emit(data: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(text)


def cmd_init(args: argparse.Namespace) -> int:
    from closuremap.layers.sample import build_sample_workspace
    from closuremap.layers.store import GeoPackageStore

    progress = _Progress(args.quiet or args.json)
    if args.sample:
        store = build_sample_workspace(args.workspace, overwrite=args.force, progress=progress)
    else:
        store = GeoPackageStore.create(args.workspace, overwrite=args.force)
    store.set_meta("created_by", _user(args))
    _emit(
        {"workspace": store.location, "sample": bool(args.sample)},
        args.json,
        f"created workspace {store.location}" + (" with the sample estate" if args.sample else ""),
    )
    return 0


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


def cmd_serve(args: argparse.Namespace) -> int:
    from closuremap.layers.sample import build_sample_workspace

    workspace = Path(args.workspace)
    if not workspace.exists():
        build_sample_workspace(workspace, progress=_Progress(False))
    app = Path(__file__).resolve().parent / "app.py"
    env = {**os.environ, "CLOSUREMAP_WORKSPACE": str(workspace.resolve())}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        f"--server.port={args.port}",
        *STREAMLIT_FLAGS,
    ]
    return subprocess.call(command, env=env, cwd=app.parent)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _mapping(pairs: list[str] | None) -> dict[str, str | None] | None:
    """--map field=column (repeatable); --map field= unmaps a field."""
    from closuremap.geo.errors import SchemaError

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
    from closuremap.layers.importer import import_file
    from closuremap.layers.model import get_kind
    from closuremap.layers.store import open_workspace

    get_kind(args.kind)
    store = open_workspace(args.workspace)
    from closuremap.geo.geocode import load_gazetteer, load_postcodes

    result = import_file(
        store,
        args.kind,
        args.file,
        user=_user(args),
        rejects_path=args.rejects,
        layer=args.layer,
        crs=args.crs,
        repair_geometry=args.repair,
        progress=_Progress(args.quiet or args.json),
        gazetteer=load_gazetteer(args.gazetteer) if args.gazetteer else None,
        postcodes=load_postcodes(args.postcodes) if args.postcodes else None,
        location_column=args.location_column,
        threshold=args.threshold,
        mapping=_mapping(args.map),
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
    _emit(summary, args.json, "\n".join(lines))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from closuremap.layers.exporter import FORMATS, export_files, export_layer, shapefile_losses
    from closuremap.layers.model import get_kind
    from closuremap.layers.store import open_workspace

    get_kind(args.kind)
    store = open_workspace(args.workspace)
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
    _emit(data, args.json, f"wrote {count} {args.kind} to {args.out} ({driver}, {data['crs']})")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    from closuremap.layers.model import KINDS
    from closuremap.layers.store import open_workspace

    store = open_workspace(args.workspace)
    rows = []
    for kind in KINDS.values():
        b = store.bounds(kind.name)
        entry: dict[str, Any] = {
            "kind": kind.name,
            "title": kind.title,
            "geometry_type": kind.storage_geometry_type,
            "count": store.count(kind.name),
            "bounds": None if b is None else [round(v, 1) for v in b],
            "bounds_lonlat": None,
        }
        if b is not None:
            lon, lat = bng_to_lonlat([b[0], b[2]], [b[1], b[3]])
            entry["bounds_lonlat"] = [
                round(float(lon[0]), 6),
                round(float(lat[0]), 6),
                round(float(lon[1]), 6),
                round(float(lat[1]), 6),
            ]
        rows.append(entry)
    data = {
        "workspace": store.location,
        "name": store.get_meta("name"),
        "crs": "EPSG:27700",
        "layers": rows,
    }
    width = max(len(r["kind"]) for r in rows)
    text = [f"{store.location} ({data['name']}), EPSG:27700"]
    for r in rows:
        extent = (
            "empty"
            if r["bounds"] is None
            else "E {0:.0f}-{2:.0f}, N {1:.0f}-{3:.0f}".format(*r["bounds"])
        )
        text.append(f"  {r['kind']:<{width}}  {r['count']:>7}  {extent}")
    _emit(data, args.json, "\n".join(text))
    return 0


def cmd_imports(args: argparse.Namespace) -> int:
    from closuremap.layers.store import open_workspace

    log = open_workspace(args.workspace).imports()
    records = json.loads(log.to_json(orient="records"))  # NULL as null, numbers as numbers
    text = [
        f"#{r['id']} {r['at']} {r['user']}: {r['kind']} from {r['file']}: read {r['read']}, added {r['added']}, "
        f"updated {r['updated']}, rejected {r['rejected']}, queued {r['queued']}"
        for r in records
    ]
    _emit(
        {"workspace": args.workspace, "imports": records},
        args.json,
        "\n".join(text) or "no imports yet",
    )
    return 0


def cmd_rejects(args: argparse.Namespace) -> int:
    from closuremap.layers.store import open_workspace

    store = open_workspace(args.workspace)
    path = store.write_rejects(args.import_id, Path(args.out))
    with open(
        path, encoding="utf-8", newline=""
    ) as f:  # records, not lines: a cell may hold a line break
        rows = sum(1 for _ in csv.reader(f)) - 1
    _emit(
        {"import_id": args.import_id, "file": str(path), "rows": rows},
        args.json,
        f"import #{args.import_id}: {rows} rejected row(s) written to {path}",
    )
    return 0


def cmd_kinds(args: argparse.Namespace) -> int:
    from closuremap.layers.model import KINDS

    data = {
        "kinds": [
            {
                "kind": k.name,
                "title": k.title,
                "geometry_types": list(k.geometry_types),
                "description": k.description,
                "fields": [
                    {
                        "name": f.name,
                        "type": f.kind,
                        "required": f.required,
                        "choices": list(f.choices),
                        "aliases": list(f.aliases),
                    }
                    for f in k.fields
                ],
            }
            for k in KINDS.values()
        ]
    }
    text = []
    for k in data["kinds"]:
        fields = ", ".join(f["name"] + ("*" if f["required"] else "") for f in k["fields"])
        text.append(f"{k['kind']} ({'/'.join(k['geometry_types'])}): {fields}")
    _emit(data, args.json, "\n".join(text) + "\n(* required)")
    return 0


def _check_text(result: dict[str, Any], notes: list[str]) -> str:
    lines = [
        f"verdict: {result['verdict']}",
        f"scope {result['scope_area_m2']:.1f} m²: premises {result['premises_area_m2']:.1f} m² "
        f"({result['premises_fraction']:.1%}), open space {result['open_space_area_m2']:.1f} m² "
        f"({result['open_space_fraction']:.1%}), other {result['other_area_m2']:.1f} m² ({result['other_fraction']:.1%})"
        f"; tolerance {result['tolerance_m2']:.1f} m²",
    ]
    for part in result["parts"]:
        lines.append(
            f"  on {part['name'] or part['block_id']} ({part['block_id']}): {part['area_m2']:.1f} m²"
        )
    if "incidents_total" in result:
        lines.append(
            f"incidents: {result['incidents_inside']} of {result['incidents_total']} inside "
            f"({result['rate_inside_per_ha']} per ha) vs {result['incidents_ring']} in the "
            f"{result['ring_m']:.0f} m ring ({result['rate_ring_per_ha']} per ha)"
        )
    for f in result["findings"]:
        lines.append(f"  [{f['severity']}] {f['code']}: {f['message']}")
    lines += [f"  note: {n}" for n in notes]
    return "\n".join(lines)


def cmd_check_scope(args: argparse.Namespace) -> int:
    from closuremap.geo.errors import SchemaError
    from closuremap.layers.orders import FileInputs, check_files, check_order
    from closuremap.layers.store import open_workspace

    notes: list[str] = []
    if args.workspace:
        if not args.order:
            raise SchemaError(
                "with a workspace, name the order: closuremap check-scope WS.gpkg --order ID"
            )
        check = check_order(
            open_workspace(args.workspace), args.order, tolerance_m2=args.tolerance_m2
        )
    else:
        if not (args.scope and args.premises):
            raise SchemaError(
                "give a workspace and --order ID, or files: --scope FILE --premises FILE [...]"
            )
        check, notes = check_files(
            FileInputs(
                scope=Path(args.scope),
                premises=Path(args.premises),
                communal=_path(args.communal),
                routes=_path(args.routes),
                open_space=_path(args.open_space),
                incidents=_path(args.incidents),
                entrances=_path(args.entrances),
                highways=_path(args.highways),
                boroughs=_path(args.boroughs),
                other_orders=_path(args.other_orders),
            ),
            tolerance_m2=args.tolerance_m2,
        )
    result = check.as_dict()
    result["notes"] = notes
    _emit(result, args.json, _check_text(result, notes))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from closuremap.geo.timeline import parse_date, parse_datetime, timeline

    if (args.order_made is None) != (args.order_months is None):
        from closuremap.geo.timeline import TimelineError

        raise TimelineError("give --order-made and --order-months together")
    t = timeline(
        notice_issued=parse_datetime(args.notice_issued, "--notice-issued"),
        notice_served=parse_datetime(args.notice_served, "--notice-served")
        if args.notice_served
        else None,
        notice_hours=args.notice_hours,
        authorised_by=args.authorised_by,
        notice_extension_hours=args.notice_extension_hours,
        extension_authorised_by=args.extension_authorised_by,
        hearing_at=parse_datetime(args.hearing, "--hearing") if args.hearing else None,
        order_made=parse_date(args.order_made, "--order-made") if args.order_made else None,
        order_months=args.order_months,
        extension_months=args.extension_months or [],
    )
    data = t.as_dict()
    text = [
        f"{k.replace('_', ' ')}: {v}"
        for k, v in data.items()
        if k not in ("violations", "notes") and v
    ]
    text += [f"VIOLATION {v['rule']} ({v['section']}): {v['message']}" for v in data["violations"]]
    text += [f"note: {n}" for n in data["notes"]]
    _emit(data, args.json, "\n".join(text) or "nothing to report")
    return 0


def cmd_exhibit(args: argparse.Namespace) -> int:
    from datetime import date

    from closuremap.geo.errors import SchemaError
    from closuremap.layers.orders import exhibit_input, exhibit_input_from_files, order_version
    from closuremap.layers.store import open_workspace
    from closuremap.reports.exhibit import ExhibitOptions, render_exhibit
    from closuremap.reports.mapsheet import SheetError

    notes: list[str] = []
    version = args.version
    if args.workspace:
        if not args.order:
            raise SchemaError(
                "with a workspace, name the order: closuremap exhibit WS.gpkg --order ID ..."
            )
        store = open_workspace(args.workspace)
        data = exhibit_input(store, args.order)
        version = version or order_version(store, args.order)
        if not (args.evidence_from or args.evidence_to):  # the order's own evidence window
            from closuremap.layers.orders import evidence_window, order_row

            window = evidence_window(order_row(store, args.order), _today(args))
            args.evidence_from, args.evidence_to = (d.isoformat() for d in window)
            notes.append(f"evidence window {window[0]} to {window[1]} (the order's)")
    else:
        if not (args.scope and args.premises and args.title):
            raise SchemaError(
                "give a workspace and --order ID, or files: --scope FILE --premises FILE --title TEXT"
            )
        data, notes = exhibit_input_from_files(
            title=args.title,
            scope=Path(args.scope),
            premises=Path(args.premises),
            communal=_path(args.communal),
            incidents=_path(args.incidents),
            routes=_path(args.routes),
            entrances=_path(args.entrances),
            open_space=_path(args.open_space),
            attribution=args.attribution or [],
        )
    from closuremap.geo.timeline import parse_date

    opts = ExhibitOptions(
        exhibit_ref=args.exhibit_ref,
        prepared_by=args.prepared_by or _user(args),
        prepared_on=parse_date(args.date, "--date") if args.date else date.today(),
        version=version or 1,
        paper=args.paper,
        orientation=args.orientation,
        scale=args.scale,
        atlas=args.atlas,
        evidence_from=parse_date(args.evidence_from, "--evidence-from")
        if args.evidence_from
        else None,
        evidence_to=parse_date(args.evidence_to, "--evidence-to") if args.evidence_to else None,
    )
    try:
        result = render_exhibit(data, opts, args.out)
    except SheetError as exc:
        raise SchemaError(str(exc)) from None
    out = {
        "file": str(result.path),
        "pages": result.pages,
        "scale": result.scale,
        "paper": opts.paper,
        "orientation": opts.orientation,
        "scale_statement": result.scale_statement,
        "scope_sha256": result.scope_sha256,
        "version": opts.version,
        "notes": notes + result.notes,
    }
    _emit(
        out,
        args.json,
        f"wrote {result.path}: {result.pages} pages, {result.scale_statement}, "
        f"scope SHA-256 {result.scope_sha256[:16]}…",
    )
    for note in result.notes if not args.json else []:
        print(note, file=sys.stderr)
    return 0


def _today(args: argparse.Namespace) -> Any:
    from datetime import date

    from closuremap.geo.timeline import parse_date

    return parse_date(args.date, "--date") if getattr(args, "date", None) else date.today()


def cmd_briefing(args: argparse.Namespace) -> int:
    from closuremap.layers.documents import briefing_input
    from closuremap.layers.store import open_workspace
    from closuremap.reports.briefing import render_briefing

    store = open_workspace(args.workspace)
    path = render_briefing(
        briefing_input(store, args.order),
        args.out,
        prepared_on=_today(args),
        minimum=args.min_count,
    )
    _emit({"file": str(path), "min_count": args.min_count}, args.json, f"wrote {path}")
    return 0


def cmd_letters(args: argparse.Namespace) -> int:
    import time

    from closuremap.layers.documents import letter_fields
    from closuremap.layers.store import open_workspace
    from closuremap.reports.letters import DEFAULT_TEMPLATE, TemplateError, render_letters

    store = open_workspace(args.workspace)
    template = (
        Path(args.template).read_text()
        if args.template
        else (store.get_meta("letter_template") or DEFAULT_TEMPLATE)
    )
    recipients, fields = letter_fields(
        store, args.order, today=_today(args), contact=args.contact, signatory=args.signatory
    )
    started = time.perf_counter()
    try:
        run = render_letters(
            recipients, fields, args.out, template=template, letterhead=args.letterhead or ""
        )
    except TemplateError as exc:
        from closuremap.geo.errors import SchemaError

        raise SchemaError(str(exc)) from None
    seconds = time.perf_counter() - started
    csv_path = (
        Path(args.recipients) if args.recipients else Path(args.out).with_suffix(".recipients.csv")
    )
    write_csv(recipients, csv_path)
    from closuremap.layers.documents import log_letters

    log_letters(store, args.order, count=run.pages, made_on=_today(args), user=_user(args))
    _emit(
        {
            "file": str(run.path),
            "letters": run.pages,
            "recipients_file": str(csv_path),
            "seconds": round(seconds, 3),
        },
        args.json,
        f"wrote {run.pages} letters to {run.path} in {seconds:.2f} s; recipients in {csv_path}",
    )
    return 0


def cmd_service_pack(args: argparse.Namespace) -> int:
    from closuremap.layers.documents import order_blocks
    from closuremap.layers.orders import order_row
    from closuremap.layers.store import open_workspace
    from closuremap.reports.service_pack import render_service_pack

    store = open_workspace(args.workspace)
    row = order_row(store, args.order)
    blocks = order_blocks(store, args.order)
    entrances = store.read("entrances")
    entrances = entrances[entrances["block_id"].isin(blocks["block_id"])]
    csv_path = Path(args.csv) if args.csv else Path(args.out).with_suffix(".csv")
    pack = render_service_pack(
        title=str(row["name"]),
        scope=row.geometry,
        premises=blocks,
        entrances=entrances,
        basemap=store.read("basemap"),
        out=args.out,
        prepared_on=_today(args),
        csv_out=csv_path,
    )
    _emit(
        {"file": str(pack.pdf), "csv": str(csv_path), "entrances": len(pack.checklist)},
        args.json,
        f"wrote {pack.pdf} and {csv_path}: {len(pack.checklist)} entrances",
    )
    return 0


def cmd_check_breaches(args: argparse.Namespace) -> int:
    from closuremap.layers.orders import check_breaches
    from closuremap.layers.store import open_workspace

    table = check_breaches(open_workspace(args.workspace), args.order)
    records = json.loads(table.to_json(orient="records"))
    flagged = sum(1 for r in records if r["flags"])
    text = [f"{len(records)} breaches, {flagged} flagged"]
    text += [
        f"  {r['order_id']} {r['occurred_at']}: {r['flags'] or 'in scope, in force (' + str(r['in_force']) + ')'}"
        for r in records
    ]
    _emit({"breaches": records, "flagged": flagged}, args.json, "\n".join(text))
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    from closuremap.geo.geocode import geocode, load_gazetteer, load_postcodes
    from closuremap.layers.importer import read_rows

    progress = _Progress(args.quiet or args.json)
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
    _emit(data, args.json, text)
    return 0


def _case(args: argparse.Namespace) -> Any:
    """The order's case file, prepared by ``--user`` under ``--exhibit-ref`` (or the reference the
    Documents page saved for the order)."""
    from closuremap.geo.errors import SchemaError
    from closuremap.layers.store import open_workspace
    from closuremap.reports.casefile import case_file

    store = open_workspace(args.workspace)
    ref = args.exhibit_ref or store.get_meta(f"exhibit_ref:{args.order}")
    if not ref:
        raise SchemaError(
            f"give the exhibit reference every page carries: --exhibit-ref, e.g. AB/1 (no reference "
            f"is saved for {args.order} yet)"
        )
    return store, case_file(
        store, args.order, exhibit_ref=ref, prepared_by=_user(args), today=_today(args)
    )


def cmd_document(args: argparse.Namespace) -> int:
    from closuremap.reports.casefile import DOCUMENT_TITLES, make_documents

    _, case = _case(args)
    out = Path(args.out)
    docs = make_documents(case, out.parent, names=[args.document], docx=False)
    if args.document in docs.not_made:
        from closuremap.geo.errors import WorkspaceError

        raise WorkspaceError(docs.not_made[args.document])
    made = docs.made[args.document]
    made.path.replace(out)
    docx = None
    if args.docx:
        from closuremap.reports.legal import DOCUMENTS

        docx = Path(args.docx)
        DOCUMENTS[args.document](case, out.with_suffix(".tmp.pdf"), docx_out=docx).path.unlink()
    title = DOCUMENT_TITLES[args.document]
    data = {
        "file": str(out),
        "pages": made.pages,
        "sha256": made.sha256,
        "parts": [{"title": title, "first_page": 1, "pages": made.pages, "sha256": made.sha256}],
        "docx": str(docx) if docx else None,
        "exhibit_ref": case.exhibit_ref,
        "version": case.version,
        "prepared_by": case.prepared_by,
    }
    _emit(data, args.json, f"wrote {out}: {title}, {made.pages} pages, SHA-256 {made.sha256[:16]}…")
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from datetime import datetime

    from closuremap.geo.timeline import LONDON
    from closuremap.reports.casefile import make_bundle

    store, case = _case(args)
    result, notes = make_bundle(
        store,
        case,
        args.out,
        generated_at=datetime.now(LONDON).replace(tzinfo=None, microsecond=0),
        docx_dir=args.docx_dir,
    )
    data = {
        **result.as_dict(),
        "notes": notes,
        "exhibit_ref": case.exhibit_ref,
        "version": case.version,
        "prepared_by": case.prepared_by,
        "evidence_window": [case.evidence_from.isoformat(), case.evidence_to.isoformat()],
    }
    text = [
        f"wrote {result.path}: {result.pages} pages, {len(result.parts)} parts, SHA-256 {result.sha256[:16]}…"
    ]
    text += [f"  p.{p.first_page:>3}  {p.title} ({p.pages} pages)" for p in result.parts] + notes
    _emit(data, args.json, "\n".join(text))
    return 0


def cmd_record_service(args: argparse.Namespace) -> int:
    from closuremap.layers.documents import record_service
    from closuremap.layers.importer import read_rows
    from closuremap.layers.store import open_workspace

    store = open_workspace(args.workspace)
    count, rejected = record_service(store, args.order, read_rows(args.csv), user=_user(args))
    data = {
        "recorded": count,
        "rejected": json.loads(rejected.to_json(orient="records")) if len(rejected) else [],
    }
    _emit(
        data,
        args.json,
        f"recorded {count} entrance(s) served"
        + "".join(f"\n  not recorded: {r}" for r in rejected.get("reason", [])),
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from closuremap.geo.errors import SchemaError
    from closuremap.geo.evaluation import DEFAULT_BUFFER_M, parse_month_or_date
    from closuremap.layers.evaluation import evaluate_files, evaluate_orders
    from closuremap.layers.store import open_workspace

    start = parse_month_or_date(args.start, "--start") if args.start else None
    end = parse_month_or_date(args.end, "--end", end=True) if args.end else None
    buffer_m = args.buffer_m if args.buffer_m is not None or args.buffer else DEFAULT_BUFFER_M
    common = {
        "buffer_m": None if args.buffer else buffer_m,
        "buffer": _path(args.buffer),
        "end": end,
        "before_months": args.before_months,
        "after_months": args.after_months,
        "year_earlier": args.year_earlier,
    }
    if args.workspace:
        if not (args.order or args.all_orders):
            raise SchemaError(
                "with a workspace, name the order: closuremap evaluate WS.gpkg --order ID "
                "(or --all-orders)"
            )
        result = evaluate_orders(
            open_workspace(args.workspace),
            None if args.all_orders else args.order,
            target=args.target_area,
            control=_path(args.control),
            control_boundary=args.control_boundary,
            control_name=args.control_name,
            start=start,
            **common,
        )
    else:
        if not (args.incidents and args.target and args.control and start):
            raise SchemaError(
                "give a workspace and --order ID, or files: --incidents F --target F --control F "
                "--start YYYY-MM[-DD] (and --buffer-m N or --buffer F)"
            )
        result = evaluate_files(
            incidents=Path(args.incidents),
            target=Path(args.target),
            control=Path(args.control),
            start=start,
            category_column=args.category_column,
            **common,
        )
    data = result.as_dict()
    if args.csv or args.png:
        from closuremap.reports.evaluation import chart_png, results_csv

        if args.csv:
            Path(args.csv).write_bytes(results_csv(result))
        if args.png:
            Path(args.png).write_bytes(chart_png(result))
    text = [data["reading"]["summary"], data["reading"]["significance"]] + [
        f"warning: {w}" for w in data["warnings"]
    ]
    _emit(data, args.json, "\n".join(text))
    return 0


def cmd_summarise(args: argparse.Namespace) -> int:
    from closuremap.geo.summarise import parse_day
    from closuremap.layers.store import open_workspace
    from closuremap.layers.summarise import summarise_to_csv

    run = summarise_to_csv(
        args.out,
        areas=args.areas,
        incidents=args.incidents,
        store=open_workspace(args.workspace) if args.workspace else None,
        id_columns=args.id_columns,
        date_from=parse_day(args.date_from, "--from") if args.date_from else None,
        date_to=parse_day(args.date_to, "--to") if args.date_to else None,
        areas_layer=args.areas_layer,
        incidents_layer=args.incidents_layer,
        progress=_Progress(args.quiet or args.json),
    )
    data = run.as_dict()
    window = f" ({data['in_window']} in the date window)" if data["window"] else ""
    text = [
        f"wrote {data['out']}: {data['areas']} areas; {data['incidents']} incidents{window}, {data['counted']} "
        f"counted, {data['outside']} outside every area",
        f"  columns: {', '.join(data['columns'])}",
        f"  boundary rule: {data['boundary_rule']}",
        f"  overlap rule: {data['overlap_rule']}",
    ]
    text += [f"  note: {n}" for n in data["notes"]]
    _emit(data, args.json, "\n".join(text))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="closuremap", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def layer_files(p: argparse.ArgumentParser) -> None:
        """A workspace and --order, or files (any supported format and CRS): check-scope and exhibit."""
        p.add_argument(
            "workspace",
            nargs="?",
            help="a workspace .gpkg (with --order), or none with --scope files",
        )
        p.add_argument("--order", help="the order_id of an order in the workspace")
        p.add_argument("--scope", help="the scope: a file of one or more polygons")
        p.add_argument("--premises", help="block footprints")
        p.add_argument("--communal", help="communal areas (with block_id)")
        p.add_argument("--routes", help="access routes (those with a block_id count as premises)")
        p.add_argument("--open-space", dest="open_space", help="mapped open space")
        p.add_argument("--incidents", help="incident points")
        p.add_argument("--entrances", help="entrances (with block_id)")

    def user_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--user",
            help="who is acting, recorded in the audit trail and on documents "
            "(default CLOSUREMAP_USER, else your login name)",
        )

    def case_options(p: argparse.ArgumentParser) -> None:
        """A workspace, an order, who prepares the document and its exhibit reference."""
        p.add_argument("workspace")
        p.add_argument("--order", required=True)
        p.add_argument("--out", required=True, help="the PDF to write")
        p.add_argument(
            "--exhibit-ref",
            dest="exhibit_ref",
            help="e.g. AB/1 (default: the reference saved for the order on the Documents page)",
        )
        p.add_argument("--date", help="date the documents are prepared, YYYY-MM-DD (default today)")
        user_option(p)
        common(p)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    p = sub.add_parser("init", help="create a workspace (a .gpkg file)")
    p.add_argument("workspace")
    p.add_argument("--sample", action="store_true", help="fill it with the bundled sample estate")
    p.add_argument("--force", action="store_true", help="replace the file if it exists")
    user_option(p)
    common(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("import", help="import a file into a layer; prints counts imported/rejected")
    p.add_argument("workspace")
    p.add_argument("kind")
    p.add_argument("file")
    p.add_argument(
        "--rejects", help="where to write rejected rows (CSV); default beside the workspace"
    )
    p.add_argument("--layer", help="the layer to read, for files with several")
    p.add_argument(
        "--crs",
        help="the file's coordinate system when it has none or a wrong one, e.g. EPSG:27700",
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
    user_option(p)
    p.add_argument(
        "--gazetteer",
        help="incidents: address list CSV (uprn, address, easting, northing); "
        "default the workspace's addresses",
    )
    p.add_argument("--postcodes", help="incidents: postcode centroids (Code-Point Open CSV)")
    p.add_argument(
        "--location-column",
        dest="location_column",
        help="incidents: the column with the location text",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=85,
        help="incidents: matches scoring below this go to review",
    )
    p.add_argument(
        "--map",
        action="append",
        metavar="FIELD=COLUMN",
        help="use COLUMN for FIELD (repeat); remembered for later files with the same columns",
    )
    common(p)
    p.set_defaults(func=cmd_import)

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
    p.add_argument(
        "--rejects", help="rows that could not be placed, with a reason (default beside --out)"
    )
    p.add_argument(
        "--location-column", dest="location_column", help="the column with the location text"
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=85,
        help="matches scoring below this are marked for review",
    )
    common(p)
    p.set_defaults(func=cmd_geocode)

    p = sub.add_parser("export", help="export a layer; the format comes from the extension")
    p.add_argument("workspace")
    p.add_argument("kind")
    p.add_argument("--out", required=True, help=".geojson .gpkg .shp .zip .kml .fgb or .csv")
    p.add_argument("--crs", help="coordinate system for formats that allow a choice (default BNG)")
    common(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("layers", help="the workspace's layers: kinds, counts, bounds")
    p.add_argument("workspace")
    common(p)
    p.set_defaults(func=cmd_layers)

    p = sub.add_parser(
        "imports", help="the import log: who imported which file when, and what became of its rows"
    )
    p.add_argument("workspace")
    common(p)
    p.set_defaults(func=cmd_imports)

    p = sub.add_parser(
        "rejects", help="an import's rejected rows again, from the workspace's log, as CSV"
    )
    p.add_argument("workspace")
    p.add_argument(
        "--import", dest="import_id", type=int, required=True, help="the import's number (imports)"
    )
    p.add_argument("--out", required=True)
    common(p)
    p.set_defaults(func=cmd_rejects)

    p = sub.add_parser(
        "check-scope", help="how much of a scope is defined premises, open space, other"
    )
    layer_files(p)
    p.add_argument("--highways", help="street lines, to flag a scope crossing a highway")
    p.add_argument("--boroughs", help="borough polygons, to flag a scope crossing a boundary")
    p.add_argument(
        "--other-orders", dest="other_orders", help="other orders' scopes, to flag overlaps"
    )
    p.add_argument(
        "--tolerance-m2",
        dest="tolerance_m2",
        type=float,
        help="area within which the verdict ignores a part (default max(1 m², 1%% of the scope))",
    )
    common(p)
    p.set_defaults(func=cmd_check_scope)

    p = sub.add_parser("timeline", help="deadlines of a notice and order, and the rules they break")
    p.add_argument("--notice-issued", dest="notice_issued", required=True, help="YYYY-MM-DDTHH:MM")
    p.add_argument("--notice-served", dest="notice_served", help="YYYY-MM-DDTHH:MM")
    p.add_argument(
        "--notice-hours", dest="notice_hours", type=int, default=24, help="24 (default) or 48"
    )
    p.add_argument(
        "--notice-extension-hours",
        dest="notice_extension_hours",
        type=int,
        default=0,
        help="hours a 24-hour notice was extended by (s.77(4))",
    )
    p.add_argument(
        "--authorised-by", dest="authorised_by", help="rank or authority, e.g. Superintendent"
    )
    p.add_argument(
        "--extension-authorised-by",
        dest="extension_authorised_by",
        help="who authorised the notice's extension (default: the issuer)",
    )
    p.add_argument("--hearing", help="when the application was heard, YYYY-MM-DDTHH:MM")
    p.add_argument("--order-made", dest="order_made", help="YYYY-MM-DD")
    p.add_argument(
        "--order-months", dest="order_months", type=int, help="length of the order in months"
    )
    p.add_argument(
        "--extension-months",
        dest="extension_months",
        type=int,
        action="append",
        help="an extension in months (repeat for each)",
    )
    common(p)
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser("exhibit", help="the court map exhibit PDF of an order")
    layer_files(p)
    p.add_argument("--title", help="the order's name (files mode)")
    p.add_argument("--attribution", action="append", help="a data attribution line (repeat)")
    p.add_argument("--exhibit-ref", dest="exhibit_ref", required=True, help="e.g. AB/1")
    p.add_argument("--prepared-by", dest="prepared_by", help="default: --user")
    user_option(p)
    p.add_argument("--out", required=True, help="the PDF to write")
    p.add_argument("--paper", choices=["A4", "A3"], default="A4")
    p.add_argument("--orientation", choices=["landscape", "portrait"], default="landscape")
    p.add_argument(
        "--scale",
        type=int,
        choices=[500, 1250, 2500],
        help="default: fit, rounded to a standard scale",
    )
    p.add_argument("--atlas", action="store_true", help="add one map sheet per block")
    p.add_argument("--date", help="date on the title block (default today), YYYY-MM-DD")
    p.add_argument(
        "--version", type=int, help="version number (default: times the order was saved)"
    )
    p.add_argument(
        "--evidence-from", dest="evidence_from", help="start of the evidence window, YYYY-MM-DD"
    )
    p.add_argument(
        "--evidence-to", dest="evidence_to", help="end of the evidence window, YYYY-MM-DD"
    )
    common(p)
    p.set_defaults(func=cmd_exhibit)

    p = sub.add_parser("briefing", help="the ward-member briefing PDF (no personal data)")
    p.add_argument("workspace")
    p.add_argument("--order", help="one order (default: every order in the workspace)")
    p.add_argument("--out", required=True)
    p.add_argument(
        "--min-count", dest="min_count", type=int, default=5, help="counts below this show as <N"
    )
    p.add_argument("--date", help="date on the briefing, YYYY-MM-DD (default today)")
    common(p)
    p.set_defaults(func=cmd_briefing)

    p = sub.add_parser("letters", help="consultation letters to every address in an order's blocks")
    p.add_argument("workspace")
    p.add_argument("--order", required=True)
    p.add_argument("--out", required=True, help="the PDF of letters, one page each")
    p.add_argument("--recipients", help="CSV of recipients (default beside the PDF)")
    p.add_argument(
        "--template",
        help="a text template with $fields (default: the workspace's, or the built-in)",
    )
    p.add_argument(
        "--contact", required=True, help="whom residents contact, e.g. a team, phone and e-mail"
    )
    p.add_argument("--signatory", required=True)
    p.add_argument("--letterhead", help="a line at the top of each letter")
    p.add_argument("--date", help="date on the letters, YYYY-MM-DD (default today)")
    user_option(p)
    common(p)
    p.set_defaults(func=cmd_letters)

    p = sub.add_parser(
        "service-pack", help="the notice-service checklist of every entrance, PDF and CSV"
    )
    p.add_argument("workspace")
    p.add_argument("--order", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--csv", help="the checklist as CSV (default beside the PDF)")
    p.add_argument("--date", help="YYYY-MM-DD (default today)")
    common(p)
    p.set_defaults(func=cmd_service_pack)

    for name, document, what in (
        ("notice", "notice", "the closure notice (s.76), with every content s.76(5) requires"),
        (
            "application",
            "application",
            "the application for a closure order (s.80), with the draft order",
        ),
        (
            "draft-order",
            "draft_order",
            "the draft closure order: terms, permitted access, duration, map",
        ),
        ("extension", "extension", "the application to extend an order in force (s.82)"),
        ("discharge", "discharge", "the complaint for discharge of an order (s.83)"),
        (
            "certificate",
            "certificate_of_service",
            "the certificate of service of the notice (s.79)",
        ),
    ):
        p = sub.add_parser(name, help=f"{what}; PDF")
        case_options(p)
        p.add_argument("--docx", help="also a Word copy to edit before signing")
        p.set_defaults(func=cmd_document, document=document)

    p = sub.add_parser(
        "bundle", help="the court bundle: one paginated PDF with index, bookmarks and SHA-256s"
    )
    case_options(p)
    p.add_argument(
        "--docx-dir",
        dest="docx_dir",
        help="also Word copies of the notice, application, draft order "
        "and certificate, in this folder",
    )
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser(
        "record-service",
        help="record where and when the notice was fixed, from the filled-in "
        "service-pack checklist (CSV)",
    )
    p.add_argument("workspace")
    p.add_argument("--order", required=True)
    p.add_argument(
        "--csv",
        required=True,
        help="the checklist with time_fixed, officer and photo_ref filled in",
    )
    user_option(p)
    common(p)
    p.set_defaults(func=cmd_record_service)

    p = sub.add_parser(
        "evaluate", help="before/after evaluation with displacement (WDQ, TNE) for orders or files"
    )
    p.add_argument(
        "workspace",
        nargs="?",
        help="a workspace .gpkg (with --order), or none with --incidents files",
    )
    p.add_argument("--order", action="append", help="an order_id (repeat for a set of orders)")
    p.add_argument(
        "--all-orders",
        dest="all_orders",
        action="store_true",
        help="the whole operation: every order",
    )
    p.add_argument(
        "--target-area",
        dest="target_area",
        choices=["scope", "blocks"],
        default="scope",
        help="the orders' scopes (default) or their scopes and whole blocks",
    )
    p.add_argument(
        "--incidents",
        help="incident points (CSV with coordinates, police.uk street CSV, GeoJSON, ...)",
    )
    p.add_argument("--target", help="the target area: a polygon file")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--buffer-m", dest="buffer_m", type=float, help="buffer ring width in metres (default 200)"
    )
    group.add_argument(
        "--buffer", help="the buffer: a polygon file (the target is taken out of it)"
    )
    p.add_argument(
        "--control", help="the control: a polygon file (target and buffer are taken out of it)"
    )
    p.add_argument(
        "--control-boundary",
        dest="control_boundary",
        choices=["wards", "lsoas", "boroughs"],
        default="wards",
        help="with a workspace and no --control: the bundled boundary holding the "
        "target (default wards)",
    )
    p.add_argument(
        "--control-name", dest="control_name", help="that boundary's name or code instead"
    )
    p.add_argument(
        "--start",
        help="first day of the after window, YYYY-MM or YYYY-MM-DD (default: the order's date)",
    )
    p.add_argument(
        "--end", help="last day of the after window, YYYY-MM (its last day) or YYYY-MM-DD"
    )
    p.add_argument(
        "--before-months",
        dest="before_months",
        type=int,
        help="before window length (default: as after)",
    )
    p.add_argument(
        "--after-months",
        dest="after_months",
        type=int,
        help="after window length (default: the order's months, else 3)",
    )
    p.add_argument(
        "--year-earlier",
        dest="year_earlier",
        action="store_true",
        help="before = the same dates a year earlier (seasonality)",
    )
    p.add_argument(
        "--category-column",
        dest="category_column",
        help="the incidents' category column (default: found by name, e.g. 'Crime type')",
    )
    p.add_argument("--csv", help="also write the results table here")
    p.add_argument("--png", help="also write the monthly chart here")
    common(p)
    p.set_defaults(func=cmd_evaluate)

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
        help="an areas column naming each area (repeat; default: guessed, e.g. LSOA21CD and LSOA21NM)",
    )
    p.add_argument(
        "--from",
        dest="date_from",
        metavar="DATE",
        help="count incidents on or after this day, YYYY-MM-DD",
    )
    p.add_argument(
        "--to",
        dest="date_to",
        metavar="DATE",
        help="count incidents on or before this day, YYYY-MM-DD",
    )
    p.add_argument(
        "--areas-layer",
        dest="areas_layer",
        help="the layer to read, for an areas file with several",
    )
    p.add_argument(
        "--incidents-layer",
        dest="incidents_layer",
        help="the layer to read, for an incidents file with several",
    )
    common(p)
    p.set_defaults(func=cmd_summarise)

    p = sub.add_parser(
        "check-breaches", help="check recorded breaches against their order's scope and dates"
    )
    p.add_argument("workspace")
    p.add_argument("--order", help="one order (default: all)")
    common(p)
    p.set_defaults(func=cmd_check_breaches)

    p = sub.add_parser(
        "serve", help="run the app on a workspace (what `make run` does, from any install)"
    )
    p.add_argument(
        "workspace", help="the workspace .gpkg to open (created with the sample estate if missing)"
    )
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("kinds", help="the layer kinds and their fields")
    common(p)
    p.set_defaults(func=cmd_kinds)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ClosuremapError as exc:
        print(f"closuremap: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except PermissionError as exc:
        print(
            f"closuremap: error: permission denied: {exc.filename}; choose a folder you can write to",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    except FileNotFoundError as exc:
        print(f"closuremap: error: {exc.filename}: no such file or folder", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
