"""The body of ``closuremap letters``: consultation letters to every address in an order's blocks.

Its own module, not :mod:`.documents`, because a body's module is imported whole when its command
runs (options.py): the other documents bring matplotlib, the exhibit and the court bundle, which
cost more to import than drawing a few hundred letters. ``tests/test_letters.py`` checks
that this module still loads none of them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from closuremap.cli.shared import document_date, emit, open_store
from closuremap.layers.csvio import write_csv
from closuremap.layers.documents import log_letters
from closuremap.reports.letter_inputs import letter_fields
from closuremap.reports.letters import DEFAULT_TEMPLATE, render_letters


def cmd_letters(args: argparse.Namespace) -> int:
    day = document_date(args)  # refused before any file is written
    store = open_store(args, "letters")
    who = store.user or ""
    template = (
        Path(args.template).read_text()
        if args.template
        else (store.get_meta("letter_template") or DEFAULT_TEMPLATE)
    )
    recipients, fields = letter_fields(
        store,
        args.order,
        today=day,
        contact=args.contact,
        signatory=args.signatory,
    )
    started = time.perf_counter()
    run = render_letters(
        recipients, fields, args.out, template=template, letterhead=args.letterhead or ""
    )
    seconds = time.perf_counter() - started
    csv_path = (
        Path(args.recipients) if args.recipients else Path(args.out).with_suffix(".recipients.csv")
    )
    write_csv(recipients, csv_path)
    log_letters(store, args.order, count=run.pages, made_on=day, user=who)
    emit(
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
