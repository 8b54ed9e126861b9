"""Load test (issue 12): N concurrent browser sessions against one app server for a fixed time.

One ``streamlit run app.py`` serves a fresh sample workspace (``closuremap init --sample`` in a
temporary directory; load_server.py); one Debian Chromium runs N browser contexts (N sessions,
each holding its own Streamlit session; load_session.py) through Playwright's async API. The
sessions start spread over ``--ramp`` seconds after a warm-up page load (not counted: the server's
first run imports everything). Each session opens the app once, then loops over the tasks
(load_tasks.py: open, filter, scope, map) until the time is up; half of them start with the
filter, half with the scope check.

Each task is timed from its first action to the awaited element. An error is a timeout or any
other exception, a Streamlit exception box or an error alert (``st.error``) on the page after the
task, or a console error (or uncaught page error) in the browser during it. Tracebacks in the
server's log while the sessions ran count as errors too. A task begun before the time is up runs
to its end, and a short run goes on until every kind of task has run once.

    .venv/bin/python bench/load_test.py [--sessions 10] [--seconds 60] [--out FILE.json]

Prints a table (load_report.py: task, count, errors, median, p95, max; times are of the error-free
tasks, with the steps of each task below), the server's peak RSS (VmHWM) and where the machine's
CPU went while the sessions ran (server, browser, other processes: on a small machine the browser
is most of the load), writes the same figures as JSON, and exits 1 when there was any error.
``make load`` runs it; ``tests/test_load.py`` runs ``run()`` at a small size.

Run it as a script (``python bench/load_test.py``): bench/ is a folder of scripts, not a package,
and its modules import each other by their plain names, which resolve because a script's own folder
is first on ``sys.path``. Ctrl-C or SIGTERM stops the run, the server and the browser, and removes
the temporary files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, async_playwright

from load_report import server_log_errors, summarise, table
from load_server import Server, build_workspace, machine_cpu, tree_cpu
from load_session import BrowserGone, Expect, Record, Session
from load_tasks import KINDS, LOOP, open_app, tasks_of

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
DEFAULT_OUT = Path(tempfile.gettempdir()) / "closuremap-load.json"


@dataclass
class Plan:
    base: str
    expect: Expect
    sessions: int
    seconds: float
    timeout_ms: int
    ramp_s: float
    t0: float = 0.0
    deadline: float = 0.0  # time.monotonic()
    hard_stop: float = 0.0
    records: list[Record] = field(default_factory=list)

    def covered(self) -> bool:
        """Every kind of task has run at least once (a short run keeps going until it has)."""
        return {r.kind for r in self.records} >= set(KINDS)


async def run_session(index: int, browser: Browser, plan: Plan) -> None:
    """One session: open the app, then the looped tasks until the time is up."""
    await asyncio.sleep(plan.ramp_s * index / max(plan.sessions, 1))  # a staggered start
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(plan.timeout_ms)
    try:
        s = Session(
            index,
            await context.new_page(),
            plan.base,
            plan.expect,
            plan.timeout_ms,
            plan.t0,
            plan.records,
        )
        tasks = tasks_of(s)
        ok = await s.run_task("open", lambda: open_app(s))
        i = index % 2  # half the sessions start with the filter, half with the orders page
        while (
            time.monotonic() < plan.deadline or not plan.covered()
        ) and time.monotonic() < plan.hard_stop:
            if not ok:
                # on the map page again: on with the next task, but not to the map
                await s.recover()
                if LOOP[i % len(LOOP)] == "map":
                    i += 1
            kind = LOOP[i % len(LOOP)]
            ok = await s.run_task(kind, tasks[kind])
            i += 1
    except BrowserGone:
        pass  # recorded as an error of the task it broke
    finally:
        if browser.is_connected():
            await context.close()


async def warm_up(browser: Browser, plan: Plan) -> str | None:
    """One untimed page load (the server's first run imports every module); its error, if any."""
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await context.new_page()
        session = Session(
            -1, page, plan.base, plan.expect, plan.timeout_ms, time.perf_counter(), []
        )
        await open_app(session)
    except Exception as exc:  # noqa: BLE001 - an error like any other; the sessions still run
        return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:300]}"
    finally:
        await context.close()
    return None


async def measure_sessions(browser: Browser, plan: Plan, server: Server) -> dict[str, Any]:
    """Run every session at once, sampling the server's memory each second; the raw figures."""
    log_from = server.log_size()
    rss_samples: list[int] = []
    load = [os.getloadavg()[0]]
    cpu_from = (machine_cpu(), tree_cpu(os.getpid(), server.proc.pid), server.cpu_seconds())
    plan.t0 = time.perf_counter()
    plan.deadline = time.monotonic() + plan.seconds
    plan.hard_stop = plan.deadline + 3 * plan.timeout_ms / 1000

    async def sample() -> None:
        while True:
            rss = server.rss_now()
            if rss:
                rss_samples.append(rss)
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    try:
        await asyncio.gather(*(run_session(i, browser, plan) for i in range(plan.sessions)))
    finally:
        sampler.cancel()
    wall = time.perf_counter() - plan.t0
    load.append(os.getloadavg()[0])
    cpu_to = (machine_cpu(), tree_cpu(os.getpid(), server.proc.pid), server.cpu_seconds())
    return {
        "records": plan.records,
        "wall_s": wall,
        "log_span": (log_from, server.log_size()),
        "rss_samples": rss_samples,
        "loadavg_1min": load,
        "cpu": (cpu_from, cpu_to),
    }


def quiet_driver_loss(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: on Ctrl-C the driver dies with the terminal's process group,
    and its last futures need no report."""
    if "Connection closed while reading from the driver" not in str(context.get("exception", "")):
        loop.default_exception_handler(context)


async def drive(plan: Plan, server: Server, warmup: bool) -> dict[str, Any]:
    """The browser's part of the run: warm-up, then the timed sessions; the raw figures."""
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(quiet_driver_loss)
    main = asyncio.current_task()
    if main is not None and threading.current_thread() is threading.main_thread():
        loop.add_signal_handler(signal.SIGTERM, main.cancel)  # SIGTERM stops the run as Ctrl-C does
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            warm = time.perf_counter()
            warmup_error = await warm_up(browser, plan) if warmup else None
            warmed = time.perf_counter() - warm
            raw = await measure_sessions(browser, plan, server)
        finally:
            await browser.close()
    return {**raw, "warmup_s": warmed, "warmup_error": warmup_error}


# -- entry points ----------------------------------------------------------------------------------


def run(
    sessions: int = 10,
    seconds: float = 60.0,
    *,
    out: Path | None = DEFAULT_OUT,
    workspace: Path | None = None,
    timeout_s: float = 120.0,
    ramp_s: float = 5.0,
    warmup: bool = True,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run the load test; the figures (also written to ``out`` as JSON). ``workspace``: a sample
    workspace to copy instead of building a fresh one."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: install Debian's chromium")
    say = (lambda *_: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    tmp = Path(tempfile.mkdtemp(prefix="closuremap-load-"))
    server = None
    try:
        say(f"workspace: {tmp / 'sample.gpkg'}")
        ws = build_workspace(tmp / "sample.gpkg", workspace)
        expect = Expect.of(ws)
        server = Server(ws, tmp / "server.log")
        server.wait_ready()
        say(f"server: {server.url} (pid {server.proc.pid}); {sessions} sessions for {seconds:g} s")
        plan = Plan(server.url, expect, sessions, seconds, int(timeout_s * 1000), ramp_s)
        on_term = (
            signal.getsignal(signal.SIGTERM)
            if threading.current_thread() is threading.main_thread()
            else None
        )
        try:
            raw = asyncio.run(drive(plan, server, warmup))
        finally:
            if on_term is not None:
                signal.signal(
                    signal.SIGTERM, on_term
                )  # the loop's own handler is gone with the loop
        result = summarise(
            raw, sessions, seconds, server, server_log_errors(server.log, raw["log_span"])
        )
        if out is not None:
            Path(out).write_text(json.dumps(result, indent=2, default=str))
            say(f"figures written to {out}")
        return result
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sessions", type=int, default=10, help="concurrent browser sessions (default 10)"
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="how long the sessions run (default 60)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"the JSON figures (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds one wait may take before it is an error (default 120)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=5.0,
        help="the sessions start spread over this many seconds (default 5)",
    )
    parser.add_argument(
        "--workspace", type=Path, help="copy this sample workspace instead of building one"
    )
    args = parser.parse_args(argv)

    def on_term(signum: int, frame: object) -> None:  # SIGTERM cleans up as Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        result = run(
            args.sessions,
            args.seconds,
            out=args.out,
            workspace=args.workspace,
            timeout_s=args.timeout,
            ramp_s=args.ramp,
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: server stopped, temporary files removed", file=sys.stderr)
        return 130
    print(table(result))
    return 1 if result["total"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
