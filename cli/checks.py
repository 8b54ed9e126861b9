"""The commands that check and count: check-scope, check-breaches, evaluate.

``summarise`` has its own module (summarise.py): counting a million calls should not wait for
matplotlib, which only ``evaluate`` draws with."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from closuremap.cli.shared import emit, layer_file_paths, open_store, optional_path
from closuremap.geo.errors import SchemaError
from closuremap.geo.evaluation import DEFAULT_BUFFER_M, EvaluationResult, parse_month_or_date
from closuremap.layers.breaches import check_breaches
from closuremap.layers.evaluation import evaluate_files, evaluate_orders
from closuremap.layers.orders import FileInputs, check_files, check_order
from closuremap.reports.evaluation import chart_png, results_csv


def check_text(result: dict[str, Any], notes: list[str]) -> str:
    """A scope check as an officer reads it: the verdict, the areas, the findings."""
    lines = [
        f"verdict: {result['verdict']}",
        f"scope {result['scope_area_m2']:.1f} m²: premises {result['premises_area_m2']:.1f} m² "
        f"({result['premises_fraction']:.1%}), open space {result['open_space_area_m2']:.1f} m² "
        f"({result['open_space_fraction']:.1%}), other {result['other_area_m2']:.1f} m² "
        f"({result['other_fraction']:.1%}); tolerance {result['tolerance_m2']:.1f} m²",
    ]
    for part in result["parts"]:
        lines.append(
            f"  on {part['name'] or part['block_id']} ({part['block_id']}): "
            f"{part['area_m2']:.1f} m²"
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


def layer_file_inputs(args: argparse.Namespace) -> FileInputs:
    """The layer files given as flags (files mode of check-scope)."""

    return FileInputs(
        **layer_file_paths(args),  # type: ignore[arg-type]  # scope and premises are given
        highways=optional_path(args.highways),
        boroughs=optional_path(args.boroughs),
        other_orders=optional_path(args.other_orders),
    )


def cmd_check_scope(args: argparse.Namespace) -> int:

    notes: list[str] = []
    if args.workspace:
        if not args.order:
            raise SchemaError(
                "with a workspace, name the order: closuremap check-scope WS.gpkg --order ID"
            )
        check = check_order(open_store(args, "read"), args.order, tolerance_m2=args.tolerance_m2)
    else:
        if not (args.scope and args.premises):
            raise SchemaError(
                "give a workspace and --order ID, or files: --scope FILE --premises FILE [...]"
            )
        check, notes = check_files(layer_file_inputs(args), tolerance_m2=args.tolerance_m2)
    result = check.as_dict()
    result["notes"] = notes
    emit(result, args.json, check_text(result, notes))
    return 0


def cmd_check_breaches(args: argparse.Namespace) -> int:

    table = check_breaches(open_store(args, "read"), args.order)
    records = json.loads(table.to_json(orient="records"))
    flagged = sum(1 for r in records if r["flags"])
    text = [f"{len(records)} breaches, {flagged} flagged"]
    text += [
        f"  {r['order_id']} {r['occurred_at']}: "
        + (r["flags"] or f"in scope, in force ({r['in_force']})")
        for r in records
    ]
    emit({"breaches": records, "flagged": flagged}, args.json, "\n".join(text))
    return 0


def _evaluate(args: argparse.Namespace) -> EvaluationResult:
    """The evaluation of the orders (workspace mode) or of the files given as flags."""

    start = parse_month_or_date(args.start, "--start") if args.start else None
    end = parse_month_or_date(args.end, "--end", end=True) if args.end else None
    buffer_m = args.buffer_m if args.buffer_m is not None or args.buffer else DEFAULT_BUFFER_M
    common = {
        "buffer_m": None if args.buffer else buffer_m,
        "buffer": optional_path(args.buffer),
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
        return evaluate_orders(
            open_store(args, "evaluation"),
            None if args.all_orders else args.order,
            target=args.target_area,
            control=optional_path(args.control),
            control_boundary=args.control_boundary,
            control_name=args.control_name,
            start=start,
            **common,
        )
    if not (args.incidents and args.target and args.control and start):
        raise SchemaError(
            "give a workspace and --order ID, or files: --incidents F --target F --control F "
            "--start YYYY-MM[-DD] (and --buffer-m N or --buffer F)"
        )
    return evaluate_files(
        incidents=Path(args.incidents),
        target=Path(args.target),
        control=Path(args.control),
        start=start,
        category_column=args.category_column,
        **common,
    )


def cmd_evaluate(args: argparse.Namespace) -> int:

    result = _evaluate(args)
    data = result.as_dict()
    if args.csv:
        Path(args.csv).write_bytes(results_csv(result))
    if args.png:
        Path(args.png).write_bytes(chart_png(result))
    text = [data["reading"]["summary"], data["reading"]["significance"]] + [
        f"warning: {w}" for w in data["warnings"]
    ]
    emit(data, args.json, "\n".join(text))
    return 0
