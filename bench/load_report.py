"""The load test's figures (bench/load_test.py): per task count, errors, median, p95 and max of
the error-free tasks, the steps of each task, the server's memory and where the CPU went, as a dict
(written as JSON) and as the table ``make load`` prints.
"""

from __future__ import annotations

import os
import re
import statistics
from pathlib import Path
from typing import Any

from load_server import Server
from load_session import Record
from load_tasks import KINDS


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _p95(values: list[float]) -> float | None:
    """The 95th percentile (linear between the order statistics, as numpy's default)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _figures(records: list[Record]) -> dict[str, Any]:
    ok = [r.seconds for r in records if r.error is None]
    return {
        "count": len(records),
        "errors": sum(r.error is not None for r in records),
        "median_s": _r(statistics.median(ok)) if ok else None,
        "p95_s": _r(_p95(ok)),
        "max_s": _r(max(ok)) if ok else None,
    }


def server_log_errors(log: Path, span: tuple[int, int]) -> list[str]:
    """Tracebacks and error records the server logged while the sessions ran."""
    with open(log, "rb") as f:
        f.seek(span[0])
        lines = f.read(span[1] - span[0]).decode("utf-8", "replace").splitlines()
    record = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}")  # a new log record begins
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if record.match(line) or current is None:
            current = None
            if "Traceback (most recent call last)" in line or re.search(
                r"\b(ERROR|CRITICAL)\b", line
            ):
                current = [line]
                found.append(current)
        elif len(current) < 60:
            current.append(line)
    return ["\n".join(block).strip()[-2000:] for block in found]


def summarise(
    raw: dict[str, Any], sessions: int, seconds: float, server: Server, server_errors: list[str]
) -> dict[str, Any]:
    """The run's figures, as written to the JSON: ``raw`` is what the sessions recorded."""
    records: list[Record] = raw["records"]
    tasks = {kind: _figures([r for r in records if r.kind == kind]) for kind in KINDS}
    steps: dict[str, Any] = {}
    for r in records:
        for name, secs in r.steps.items():
            if r.error is None:
                steps.setdefault(f"{r.kind}: {name}", []).append(secs)
    total = _figures(records)
    total["errors"] += len(server_errors) + (raw["warmup_error"] is not None)
    (machine0, client0, server0), (machine1, client1, server1) = raw["cpu"]
    capacity = machine1[1] - machine0[1]  # CPU seconds the machine had during the sessions
    busy, client, served = machine1[0] - machine0[0], client1 - client0, server1 - server0
    cpu = {
        "capacity_s": round(capacity, 1),
        "busy_s": round(busy, 1),
        "server_s": round(served, 1),
        "browser_s": round(client, 1),
        "other_processes_s": round(max(busy - served - client, 0.0), 1),
        "server_s_per_task": round(served / len(records), 2) if records else None,
    }
    peak = server.rss_peak()
    if peak is None and raw["rss_samples"]:
        peak = max(raw["rss_samples"])
    return {
        "sessions": sessions,
        "seconds": seconds,
        "wall_s": round(raw["wall_s"], 2),
        "warmup_s": round(raw["warmup_s"], 2),
        "cpus": os.cpu_count(),
        "loadavg_1min": {
            "start": round(raw["loadavg_1min"][0], 2),
            "end": round(raw["loadavg_1min"][1], 2),
        },
        "tasks": tasks,
        "steps": {
            name: {"count": len(v), "median_s": _r(statistics.median(v)), "p95_s": _r(_p95(v))}
            for name, v in sorted(steps.items())
        },
        "server_errors": len(server_errors),
        "total": total,
        "cpu_during_sessions": cpu,
        "throughput_tasks_per_s": round(len(records) / raw["wall_s"], 3) if raw["wall_s"] else None,
        "server": {
            "rss_peak_mb": round(peak / 2**20, 1) if peak else None,
            "rss_end_mb": round(raw["rss_samples"][-1] / 2**20, 1) if raw["rss_samples"] else None,
            "cpu_s": round(server.cpu_seconds() - server.cpu0, 1),
        },
        "errors": [
            {
                "session": r.session,
                "kind": r.kind,
                "at_s": round(r.at, 2),
                "seconds": round(r.seconds, 2),
                "error": r.error,
            }
            for r in records
            if r.error is not None
        ]
        + [{"session": None, "kind": "server", "error": e} for e in server_errors]
        + [{"session": None, "kind": "warm-up", "error": raw["warmup_error"]}]
        * bool(raw["warmup_error"]),
    }


def table(result: dict[str, Any]) -> str:
    """The figures as the text table ``make load`` prints, with the first 20 errors."""

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    load, server = result["loadavg_1min"], result["server"]
    lines = [
        f"{result['sessions']} sessions for {result['seconds']:g} s "
        f"(wall {result['wall_s']:.1f} s, {result['cpus']} CPUs, "
        f"load average {load['start']:.1f} at the start, {load['end']:.1f} at the end)",
        f"server: RSS peak {server['rss_peak_mb']} MB, CPU {server['cpu_s']} s; "
        "times are of the error-free tasks",
        "CPU while the sessions ran: {busy_s} s used of {capacity_s} s: server {server_s} s, "
        "browser (Chromium, Playwright, this script) {browser_s} s, "
        "other processes {other_processes_s} s; "
        "server CPU per task {server_s_per_task} s".format(**result["cpu_during_sessions"]),
        f"{'task':<24}{'count':>7}{'errors':>8}{'median s':>10}{'p95 s':>9}{'max s':>9}",
    ]
    rows = [(k, v) for k, v in result["tasks"].items()]
    for kind, f in rows:
        lines.append(
            f"{kind:<24}{f['count']:>7}{f['errors']:>8}{fmt(f['median_s']):>10}{fmt(f['p95_s']):>9}"
            f"{fmt(f['max_s']):>9}"
        )
    if result["server_errors"]:
        lines.append(f"{'server log':<24}{'':>7}{result['server_errors']:>8}")
    t = result["total"]
    lines.append(
        f"{'total':<24}{t['count']:>7}{t['errors']:>8}{fmt(t['median_s']):>10}{fmt(t['p95_s']):>9}"
        f"{fmt(t['max_s']):>9}"
    )
    if result["steps"]:
        lines.append("steps of the error-free tasks:")
        for name, f in result["steps"].items():
            lines.append(
                f"  {name:<22}{f['count']:>7}{'':>8}{fmt(f['median_s']):>10}{fmt(f['p95_s']):>9}"
            )
    for e in result["errors"][:20]:
        where = (
            f"session {e['session']} {e['kind']} at {e['at_s']} s"
            if e["session"] is not None
            else e["kind"]
        )
        lines.append(f"ERROR {where}: {e['error'][:400]}")
    if len(result["errors"]) > 20:
        lines.append(f"... and {len(result['errors']) - 20} more errors (see the JSON)")
    return "\n".join(lines)
