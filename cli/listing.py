"""The commands that say what a workspace holds: layers, imports, rejects, kinds.

Kept apart from workspace.py so that listing a workspace does not load the importers.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from closuremap.cli.shared import emit, open_store
from closuremap.geo.crs import bng_to_lonlat
from closuremap.layers.model import KINDS, LayerKind
from closuremap.layers.store import WorkspaceStore


def _layer_row(store: WorkspaceStore, kind: LayerKind) -> dict[str, Any]:
    """One kind's count and extent, in BNG metres and in longitude/latitude degrees."""
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
    return entry


def cmd_layers(args: argparse.Namespace) -> int:
    store = open_store(args, "read")
    rows = [_layer_row(store, kind) for kind in KINDS.values()]
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
    emit(data, args.json, "\n".join(text))
    return 0


def cmd_imports(args: argparse.Namespace) -> int:
    log = open_store(args, "import").imports()
    records = json.loads(log.to_json(orient="records"))  # NULL as null, numbers as numbers
    text = [
        f"#{r['id']} {r['at']} {r['user']}: {r['kind']} from {r['file']}: read {r['read']}, "
        f"added {r['added']}, updated {r['updated']}, rejected {r['rejected']}, "
        f"queued {r['queued']}"
        for r in records
    ]
    emit(
        {"workspace": args.workspace, "imports": records},
        args.json,
        "\n".join(text) or "no imports yet",
    )
    return 0


def cmd_rejects(args: argparse.Namespace) -> int:
    store = open_store(args, "import")
    path = store.write_rejects(args.import_id, Path(args.out))
    # records, not lines: a cell may hold a line break
    with open(path, encoding="utf-8", newline="") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    emit(
        {"import_id": args.import_id, "file": str(path), "rows": rows},
        args.json,
        f"import #{args.import_id}: {rows} rejected row(s) written to {path}",
    )
    return 0


def cmd_kinds(args: argparse.Namespace) -> int:
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
    emit(data, args.json, "\n".join(text) + "\n(* required)")
    return 0
