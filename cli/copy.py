"""The ``copy`` command: a whole workspace into a new one, GeoPackage or PostGIS either way.

The copying and its checks are :func:`closuremap.layers.copy.copy_workspace`'s; here the report is
printed. Locations are shown with any password masked: a URL's password belongs in ``~/.pgpass``.

Exit codes: 0 copied and checked; 2 refused or failed (nothing left at a GeoPackage destination);
:data:`EXIT_CHAIN_BROKEN` (3) copied faithfully, but the audit chain was already broken in the
source, so it is broken in the copy too (the first broken entry is named).
"""

from __future__ import annotations

import argparse
import sys

from closuremap.cli.shared import Progress, emit, require_role
from closuremap.layers.copy import copy_workspace

#: As ``closuremap audit --verify``: the chain does not verify.
EXIT_CHAIN_BROKEN = 3


def cmd_copy(args: argparse.Namespace) -> int:
    require_role(args, "read_incident_text")  # a whole copy holds every incident's text
    report = copy_workspace(
        args.source, args.destination, progress=Progress(args.quiet or args.json)
    )
    chain = report.audit
    data = {
        "source": report.source,
        "destination": report.destination,
        "tables": report.tables,
        "audit_verified": report.audit_verified,
        "audit_entries": chain.entries,
        "audit_head": chain.head,
        "audit_first_broken": None if chain.ok else {"id": chain.broken_id, "reason": chain.reason},
    }
    rows = sum(report.tables.values())
    width = max((len(n) for n in report.tables), default=0)
    text = [f"copied {report.source} to {report.destination}: {len(report.tables)} tables, "]
    text[0] += f"{rows:,} rows"
    text += [f"  {name:<{width}}  {n:>9,}" for name, n in report.tables.items()]
    if chain.ok:
        text.append(f"audit chain verified on the copy: {chain.entries} entries, head {chain.head}")
    else:
        text.append(
            f"audit chain BROKEN at entry {chain.broken_id}, in the source as in the copy: "
            f"{chain.reason}"
        )
    emit(data, args.json, "\n".join(text))
    if not chain.ok:
        print(
            f"closuremap: the source's audit chain is broken at entry {chain.broken_id}; the "
            "copy keeps it as it is",
            file=sys.stderr,
        )
        return EXIT_CHAIN_BROKEN
    return 0
