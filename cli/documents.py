"""The document commands: exhibit, briefing, service-pack, the legal documents of a case
(notice, application, draft-order, extension, discharge, certificate), bundle, record-service.

``letters`` has its own module (letters.py), so that making letters does not import these."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from closuremap.cli.shared import acting_user, document_date, emit, layer_file_paths, open_store
from closuremap.geo.clock import LONDON
from closuremap.geo.dates import parse_date
from closuremap.geo.errors import SchemaError, WorkspaceError
from closuremap.layers.documents import order_blocks, record_service
from closuremap.layers.importer import read_rows
from closuremap.layers.orders import evidence_window, order_row, order_version
from closuremap.layers.store import WorkspaceStore
from closuremap.reports.briefing import render_briefing
from closuremap.reports.case import CaseFile
from closuremap.reports.casefile import DOCUMENT_TITLES, case_file, make_bundle, make_documents
from closuremap.reports.exhibit import render_exhibit
from closuremap.reports.exhibit_data import ExhibitInput, ExhibitOptions
from closuremap.reports.inputs import briefing_input, exhibit_input, exhibit_input_from_files
from closuremap.reports.legal import DOCUMENTS
from closuremap.reports.service_pack import render_service_pack


def _exhibit_data(args: argparse.Namespace) -> tuple[ExhibitInput, int | None, list[str]]:
    """The exhibit's input, its version and notes: from the workspace's order (whose evidence
    window fills in --evidence-from/--evidence-to when neither is given) or from files."""
    if not args.workspace:
        if not (args.scope and args.premises and args.title):
            raise SchemaError(
                "give a workspace and --order ID, or files: --scope FILE --premises FILE "
                "--title TEXT"
            )
        data, notes = exhibit_input_from_files(
            title=args.title,
            **layer_file_paths(args),  # type: ignore[arg-type]  # scope and premises are given
            attribution=args.attribution or [],
        )
        return data, args.version, notes
    if not args.order:
        raise SchemaError(
            "with a workspace, name the order: closuremap exhibit WS.gpkg --order ID ..."
        )
    store = open_store(args, "documents")
    data = exhibit_input(store, args.order)
    notes = []
    if not (args.evidence_from or args.evidence_to):  # the order's own evidence window
        window = evidence_window(order_row(store, args.order), document_date(args))
        args.evidence_from, args.evidence_to = (d.isoformat() for d in window)
        notes.append(f"evidence window {window[0]} to {window[1]} (the order's)")
    return data, args.version or order_version(store, args.order), notes


def cmd_exhibit(args: argparse.Namespace) -> int:
    data, version, notes = _exhibit_data(args)
    opts = ExhibitOptions(
        exhibit_ref=args.exhibit_ref,
        prepared_by=args.prepared_by or acting_user(args),
        prepared_on=document_date(args),
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
    result = render_exhibit(data, opts, args.out)
    out = {
        "file": str(result.path),
        "pages": result.pages,
        "scale": result.scale,
        "paper": opts.paper,
        "orientation": opts.orientation,
        "scale_statement": result.scale_statement,
        "scope_sha256": result.scope_sha256,
        "version": opts.version,
        "audit": None
        if result.audit is None
        else {
            "entry_id": result.audit.entry_id,
            "entry_hash": result.audit.entry_hash,
            "head_id": result.audit.head_id,
            "head_hash": result.audit.head_hash,
        },
        "notes": notes + result.notes,
    }
    emit(
        out,
        args.json,
        f"wrote {result.path}: {result.pages} pages, {result.scale_statement}, "
        f"scope SHA-256 {result.scope_sha256[:16]}…",
    )
    for note in result.notes if not args.json else []:
        print(note, file=sys.stderr)
    return 0


def cmd_briefing(args: argparse.Namespace) -> int:
    store = open_store(args, "briefing")
    path = render_briefing(
        briefing_input(store, args.order),
        args.out,
        prepared_on=document_date(args),
        minimum=args.min_count,
    )
    emit({"file": str(path), "min_count": args.min_count}, args.json, f"wrote {path}")
    return 0


def cmd_service_pack(args: argparse.Namespace) -> int:
    store = open_store(args, "documents")
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
        prepared_on=document_date(args),
        csv_out=csv_path,
    )
    emit(
        {"file": str(pack.pdf), "csv": str(csv_path), "entrances": len(pack.checklist)},
        args.json,
        f"wrote {pack.pdf} and {csv_path}: {len(pack.checklist)} entrances",
    )
    return 0


def _case(args: argparse.Namespace) -> tuple[WorkspaceStore, CaseFile]:
    """The order's case file, prepared by ``--user`` under ``--exhibit-ref`` (or the reference the
    Documents page saved for the order)."""
    store = open_store(args, "documents")
    ref = args.exhibit_ref or store.get_meta(f"exhibit_ref:{args.order}")
    if not ref:
        raise SchemaError(
            "give the exhibit reference every page carries: --exhibit-ref, e.g. AB/1 (no "
            f"reference is saved for {args.order} yet)"
        )
    return store, case_file(
        store,
        args.order,
        exhibit_ref=ref,
        prepared_by=store.user or acting_user(args),
        today=document_date(args),
    )


def cmd_document(args: argparse.Namespace) -> int:
    _, case = _case(args)
    out = Path(args.out)
    docs = make_documents(case, out.parent, names=[args.document], docx=False)
    if args.document in docs.not_made:
        raise WorkspaceError(docs.not_made[args.document])
    made = docs.made[args.document]
    made.path.replace(out)
    docx = None
    if args.docx:
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
    emit(data, args.json, f"wrote {out}: {title}, {made.pages} pages, SHA-256 {made.sha256[:16]}…")
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
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
        f"wrote {result.path}: {result.pages} pages, {len(result.parts)} parts, "
        f"SHA-256 {result.sha256[:16]}…"
    ]
    text += [f"  p.{p.first_page:>3}  {p.title} ({p.pages} pages)" for p in result.parts] + notes
    emit(data, args.json, "\n".join(text))
    return 0


def cmd_record_service(args: argparse.Namespace) -> int:
    store = open_store(args, "record_service")
    count, rejected = record_service(store, args.order, read_rows(args.csv), user=store.user or "")
    data = {
        "recorded": count,
        "rejected": json.loads(rejected.to_json(orient="records")) if len(rejected) else [],
    }
    emit(
        data,
        args.json,
        f"recorded {count} entrance(s) served"
        + "".join(f"\n  not recorded: {r}" for r in rejected.get("reason", [])),
    )
    return 0
