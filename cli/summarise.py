"""The summarise command: incidents counted per area, kept apart from the other checks so that
counting a million calls loads neither matplotlib nor the order checks."""

from __future__ import annotations

import argparse

from closuremap.cli.shared import Progress, emit, open_store
from closuremap.geo.summarise_window import parse_day
from closuremap.layers.summarise import summarise_to_csv


def cmd_summarise(args: argparse.Namespace) -> int:
    run = summarise_to_csv(
        args.out,
        areas=args.areas,
        incidents=args.incidents,
        store=open_store(args, "read") if args.workspace else None,
        id_columns=args.id_columns,
        date_from=parse_day(args.date_from, "--from") if args.date_from else None,
        date_to=parse_day(args.date_to, "--to") if args.date_to else None,
        areas_layer=args.areas_layer,
        incidents_layer=args.incidents_layer,
        progress=Progress(args.quiet or args.json),
    )
    data = run.as_dict()
    window = f" ({data['in_window']} in the date window)" if data["window"] else ""
    text = [
        f"wrote {data['out']}: {data['areas']} areas; {data['incidents']} incidents{window}, "
        f"{data['counted']} counted, {data['outside']} outside every area",
        f"  columns: {', '.join(data['columns'])}",
        f"  boundary rule: {data['boundary_rule']}",
        f"  overlap rule: {data['overlap_rule']}",
    ]
    text += [f"  note: {n}" for n in data["notes"]]
    emit(data, args.json, "\n".join(text))
    return 0
