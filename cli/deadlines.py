"""The timeline command: the deadlines of a notice and an order, and the rules their dates break.

A module of its own because it needs nothing but geo.timeline: it answers at once.
"""

from __future__ import annotations

import argparse

from closuremap.cli.shared import emit
from closuremap.geo.dates import parse_date, parse_datetime
from closuremap.geo.timeline import TimelineError, timeline


def cmd_timeline(args: argparse.Namespace) -> int:
    if (args.order_made is None) != (args.order_months is None):
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
    emit(data, args.json, "\n".join(text) or "nothing to report")
    return 0
