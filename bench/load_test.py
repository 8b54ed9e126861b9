"""Load test (issue 12): N concurrent browser sessions against one app server for a fixed time.

One ``streamlit run app.py`` serves a fresh sample workspace (``closuremap init --sample`` in a
temporary directory); one Debian Chromium runs N browser contexts (N sessions, each holding its own
Streamlit session) through Playwright's async API. The sessions start spread over ``--ramp`` seconds
after a warm-up page load (not counted: the server's first run imports everything). Each session
opens the app once, then loops over the tasks until the time is up (half of them start with the
filter, half with the scope check):

    open     load the app's URL; done when the map page is drawn (below)
    filter   move the start of the map page's date slider one step (one key press: one change, one
             rerun); done when the caption and the map's incident layer both show the count expected
             for the new window (computed here from the workspace), the script has stopped running
             and the "Running…" status widget is gone
    scope    "Closure orders" in the sidebar, choose an order, wait for its saved scope's verdict,
             open the scope builder, pick a whole block and press "Check scope"; done at the checked
             verdict ("Verdict: …" and "This checked scope replaces the saved one…")
    map      "Map" in the sidebar; done when the map is drawn: the caption, exactly one map iframe
             whose Leaflet container is visible and whose layer list has the expected incident count

Each task is timed from its first action to the awaited element. An error is a timeout or any other
exception, a Streamlit exception box or an error alert (``st.error``) on the page after the task, or a
console error (or uncaught page error) in the browser during it. Tracebacks in the server's log while
the sessions ran count as errors too. A task begun before the time is up runs to its end, and a short
run goes on until every kind of task has run once.

    .venv/bin/python bench/load_test.py [--sessions 10] [--seconds 60] [--out /tmp/closuremap-load.json]

Prints a table (task, count, errors, median, p95, max; times are of the error-free tasks, with the
steps of each task below), the server's peak RSS (VmHWM) and where the machine's CPU went while the
sessions ran (server, browser, other processes: on a small machine the browser is most of the load),
writes the same figures as JSON, and exits 1 when there was any error. ``make load`` runs it;
``tests/test_load.py`` runs ``run()`` at a small size.

The server runs with ``--server.fileWatcherType none``: a served app does not reload modules when
files under it change (and the figures are not disturbed by a file watcher). Ctrl-C or SIGTERM stops
the run, the server and the browser, and removes the temporary files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
USER = "PC Load Test (0012)"
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
APP_RUNNING = "[data-testid='stApp'][data-test-script-state='running']"
STATUS = "[data-testid='stStatusWidget']"  # "Running…" (and "Connecting") in the top corner
PAGE_ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"
KINDS = ("open", "map", "filter", "scope")  # the table's rows, in order
LOOP = ("filter", "scope", "map")  # what each session repeats after opening the app
DEFAULT_OUT = Path(tempfile.gettempdir()) / "closuremap-load.json"


# -- the server ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_workspace(target: Path, source: Path | None = None) -> Path:
    """A fresh sample workspace at ``target``: a copy of ``source``, or built by ``closuremap init``."""
    if source is not None:
        shutil.copy(source, target)
        return target
    script = Path(sys.executable).parent / "closuremap"
    cmd = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())"]
    )
    subprocess.run(
        [*cmd, "init", str(target), "--sample"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return target


class Server:
    """One ``streamlit run app.py`` on a free port, in its own process group, logging to a file."""

    def __init__(self, workspace: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "CLOSUREMAP_WORKSPACE": str(workspace), "CLOSUREMAP_USER": USER}
        self._out = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.cpu0 = 0.0

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        self.cpu0 = self.cpu_seconds()
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(
            f"streamlit did not answer in {timeout:.0f} s:\n{self.log.read_text()[-3000:]}"
        )

    def _status(self, key: str) -> int | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024  # kB
        except OSError:
            return None
        return None

    def rss_peak(self) -> int | None:
        """The server's peak resident memory in bytes: the kernel's high-water mark (VmHWM)."""
        return self._status("VmHWM")

    def rss_now(self) -> int | None:
        return self._status("VmRSS")

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (OSError, IndexError, ValueError):
            return float("nan")

    def log_size(self) -> int:
        self._out.flush()
        return self.log.stat().st_size if self.log.exists() else 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._out.close()


# -- where the CPU went -------------------------------------------------------------------------------------


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan"), float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def _tree_cpu(root: int, skip: int) -> float:
    """CPU seconds of ``root`` and every live process under it (with their reaped children) but the
    ``skip`` process: this script, Playwright's driver and Chromium, not the server."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (
            sum(int(x) for x in fields[11:15]) / tick
        )  # utime stime cutime cstime
    total = 0.0
    for pid in cpu:
        p = pid
        while p and p != root and p != skip and p in parents:
            p = parents[p]
        if p == root:
            total += cpu[pid]
    return total


# -- what the pages should show -------------------------------------------------------------------------


@dataclass
class Expect:
    """What the workspace holds, to know when a page shows the right thing."""

    dates: list[date | None]  # each incident's date, as the map page reads it
    total: int
    orders: list[str]
    blocks: list[tuple[str, str]]  # (block_id, name)

    @classmethod
    def of(cls, workspace: Path) -> Expect:
        import pyogrio

        from closuremap.geo.incidents import incident_dates

        incidents = pyogrio.read_dataframe(workspace, layer="incidents", read_geometry=False)
        dates = [
            None if d is None or d != d else d.date() for d in incident_dates(incidents)
        ]  # NaT != NaT
        orders = pyogrio.read_dataframe(workspace, layer="orders", read_geometry=False)
        premises = pyogrio.read_dataframe(workspace, layer="premises", read_geometry=False)
        return cls(
            dates=dates,
            total=len(incidents),
            orders=sorted(orders["order_id"].astype(str)),
            blocks=list(
                zip(premises["block_id"].astype(str), premises["name"].astype(str), strict=True)
            ),
        )

    def shown(self, start: date, end: date) -> int:
        """How many incidents the map page shows for the date window (filter_incidents' rule)."""
        return sum(1 for d in self.dates if d is not None and start <= d <= end)


# -- one browser session --------------------------------------------------------------------------------


@dataclass
class Record:
    session: int
    kind: str
    at: float  # seconds since the start of the run
    seconds: float
    error: str | None = None
    steps: dict[str, float] = field(default_factory=dict)


class BrowserGone(Exception):
    """The browser or its driver went away: the session stops."""


class Session:
    def __init__(
        self,
        index: int,
        page: Any,
        base: str,
        expect: Expect,
        timeout_ms: int,
        t0: float,
        records: list[Record],
    ) -> None:
        self.index, self.page, self.base, self.expect = index, page, base, expect
        self.timeout_ms, self.t0, self.records = timeout_ms, t0, records
        self.browser = page.context.browser
        self.console: list[str] = []
        self.rng = random.Random(index)
        self.steps: dict[str, float] = {}
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console.append(f"page error: {exc}"))
        page.on("crash", lambda _: self.console.append("page crashed"))

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            self.console.append(
                f"console error: {msg.text[:300]}" + (f" ({where[:120]})" if where else "")
            )

    # ---- the task wrapper: time it, then look for anything that went wrong ----
    async def run_task(self, kind: str, body: Callable[[], Awaitable[None]]) -> bool:
        seen = len(self.console)
        self.steps = {}
        start = time.perf_counter()
        error = None
        try:
            async with asyncio.timeout(
                3 * self.timeout_ms / 1000
            ):  # each wait has its own timeout too
                await body()
        except Exception as exc:  # noqa: BLE001 - every failure is a counted error
            first = (str(exc).strip().splitlines() or [""])[
                0
            ] or f"the task took over {3 * self.timeout_ms / 1000:g} s"
            error = f"{type(exc).__name__}: {first[:300]}"
        seconds = time.perf_counter() - start
        if error is not None and not self.connected():
            self.records.append(
                Record(
                    self.index, kind, start - self.t0, seconds, f"the browser went away: {error}"
                )
            )
            raise BrowserGone(error)
        if error is None:
            error = await self._page_errors()
        if error is None and len(self.console) > seen:
            error = "; ".join(self.console[seen : seen + 3])
        self.records.append(
            Record(self.index, kind, start - self.t0, seconds, error, dict(self.steps))
        )
        return error is None

    async def _page_errors(self) -> str | None:
        try:
            boxes = self.page.locator(PAGE_ERRORS)
            if await boxes.count():
                texts = [t.strip()[:300] for t in await boxes.all_inner_texts()]
                return "error on the page: " + " | ".join(texts)
        except Exception as exc:  # noqa: BLE001
            return f"{type(exc).__name__} while looking for error boxes: {exc}"
        return None

    def connected(self) -> bool:
        return self.browser is None or self.browser.is_connected()

    def step(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.steps[name] = self.steps.get(name, 0.0) + now - since
        return now

    # ---- helpers ----
    async def idle(self) -> None:
        """The script has stopped running and the status widget is gone (wait for a change you
        caused first: this alone races with the rerun's start)."""
        await self.page.locator(APP_IDLE).wait_for(state="attached", timeout=self.timeout_ms)
        await self.page.locator(STATUS).wait_for(state="hidden", timeout=self.timeout_ms)

    async def settle(self) -> None:
        """After a change that shows nothing new until the rerun: its start (if seen), then its end."""
        try:
            await self.page.locator(APP_RUNNING).wait_for(state="attached", timeout=2000)
        except Exception:  # noqa: BLE001 - the rerun was over before it was seen, or not yet begun
            pass
        await self.idle()

    async def _slider(self) -> tuple[Any, Any]:
        inputs = (
            self.page.locator("[data-testid='stSlider']")
            .filter(has_text="Dates")
            .locator("input[type=range]")
        )
        return inputs.nth(0), inputs.nth(1)

    async def _window(self) -> tuple[date, date]:
        lo, hi = await self._slider()
        return (
            date.fromisoformat(await lo.get_attribute("aria-valuetext", timeout=self.timeout_ms)),
            date.fromisoformat(await hi.get_attribute("aria-valuetext", timeout=self.timeout_ms)),
        )

    async def map_drawn(self) -> None:
        """The map page is drawn for the slider's window: caption, one map with that many incidents."""
        page, t = self.page, time.perf_counter()
        await page.get_by_text(re.compile(r"^\d+ of \d+ incidents shown$")).wait_for(
            timeout=self.timeout_ms
        )
        start, end = await self._window()
        n = self.expect.shown(start, end)
        await page.get_by_text(f"{n} of {self.expect.total} incidents shown", exact=True).wait_for(
            timeout=self.timeout_ms
        )
        t = self.step("caption", t)
        await page.wait_for_function(
            f"document.querySelectorAll('{MAP_FRAME}').length == 1",
            polling=200,
            timeout=self.timeout_ms,
        )  # not every frame: cheaper
        frame = page.frame_locator(MAP_FRAME).last
        t = self.step("map frame", t)
        await frame.locator(".leaflet-control-layers label", has_text=f"Incidents ({n})").wait_for(
            state="attached", timeout=self.timeout_ms
        )
        await frame.locator(".leaflet-container").first.wait_for(
            state="visible", timeout=self.timeout_ms
        )
        t = self.step("map drawn", t)
        await self.idle()
        self.step("script done", t)
        # the rerun that drew the map may have been followed by another: the caption is still right
        await page.get_by_text(f"{n} of {self.expect.total} incidents shown", exact=True).wait_for(
            timeout=self.timeout_ms
        )

    async def nav(self, title: str) -> None:
        await (
            self.page.locator("[data-testid='stSidebarNav']")
            .get_by_role("link", name=title, exact=True)
            .click(timeout=self.timeout_ms)
        )

    # ---- the tasks ----
    async def open_app(self) -> None:
        t = time.perf_counter()
        await self.page.goto(self.base, timeout=self.timeout_ms)
        self.step("page loaded", t)
        await self.map_drawn()

    async def show_map(self) -> None:
        await self.nav("Map")
        await self.page.wait_for_url(
            re.compile(r"^[^?#]*://[^/]+/?(\?.*)?$"), timeout=self.timeout_ms
        )
        await self.map_drawn()

    async def _moved_from(self, before: date) -> date:
        """The slider's start once the key press has moved it off ``before``."""
        for _ in range(50):
            after, _ = await self._window()
            if after != before:
                return after
            await asyncio.sleep(0.1)
        raise AssertionError(f"the date slider did not move from {before}")

    async def filter_dates(self) -> None:
        page = self.page
        lo, _ = await self._slider()
        before, end = await self._window()
        count = self.expect.shown(before, end)
        await lo.focus(timeout=self.timeout_ms)
        # one key, one change, one rerun (as a drag and release with the mouse): a tenth of the year
        # on, or a day on; narrowed to under two months, back to the first day
        await page.keyboard.press(
            "Home" if (end - before).days < 60 else self.rng.choice(("PageUp", "ArrowRight"))
        )
        after = await self._moved_from(before)
        # a new window with the same count could not be told from the old one: a day on until it differs
        for _ in range(10):
            if self.expect.shown(after, end) != count or (end - after).days < 2:
                break
            await page.keyboard.press("ArrowRight")
            after = await self._moved_from(after)
        if self.expect.shown(after, end) == count:
            raise AssertionError(f"no window from {before} on shows other than {count} incidents")
        await self.map_drawn()

    async def check_scope(self) -> None:
        page, t = self.page, time.perf_counter()
        await self.nav("Closure orders")
        await page.get_by_text("Build the scope from blocks").wait_for(timeout=self.timeout_ms)
        await self.idle()
        t = self.step("orders page", t)
        order = self.rng.choice(self.expect.orders)
        box = page.locator("div[data-testid='stSelectbox']").filter(has_text="Order").first
        if await box.locator("input").input_value(timeout=self.timeout_ms) != order:
            await box.click(timeout=self.timeout_ms)
            await page.keyboard.type(order)  # long lists are virtual: filter to the option first
            await page.get_by_role("option", name=order, exact=True).click(timeout=self.timeout_ms)
        await page.get_by_text(re.compile(r"^Verdict: \w+ \(the saved scope\)$")).wait_for(
            timeout=self.timeout_ms
        )
        await page.get_by_text(f"History of {order}").wait_for(
            timeout=self.timeout_ms
        )  # the page's last element
        await self.idle()
        t = self.step("choose order", t)
        builder = page.locator("[data-testid='stExpander']").filter(
            has_text="Build the scope from blocks"
        )
        if await builder.locator("details").get_attribute("open", timeout=self.timeout_ms) is None:
            await builder.locator("summary").click(timeout=self.timeout_ms)
        block_id, name = self.rng.choice(self.expect.blocks)
        blocks = page.locator("div[data-testid='stMultiSelect']").filter(has_text="Whole blocks")
        await blocks.locator("input").click(timeout=self.timeout_ms)
        await page.keyboard.type(name)
        await page.keyboard.press("Enter")
        await page.keyboard.press("Escape")
        await blocks.get_by_text(f"{name} ({block_id})").wait_for(timeout=self.timeout_ms)
        await self.settle()
        t = self.step("pick block", t)
        await page.get_by_role("button", name="Check scope").click(timeout=self.timeout_ms)
        await page.get_by_text("This checked scope replaces the saved one").wait_for(
            timeout=self.timeout_ms
        )
        await page.get_by_text(re.compile(r"^Verdict: \w+$")).wait_for(timeout=self.timeout_ms)
        await self.idle()
        self.step("check", t)

    async def recover(self) -> None:
        """After an error: a fresh page load (not timed), so the next task starts from a known page."""
        try:
            await self.page.goto(self.base, timeout=self.timeout_ms)
            await self.map_drawn()
        except Exception:  # noqa: BLE001 - the next task will fail and say so
            if not self.connected():
                raise BrowserGone("the browser went away") from None


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


async def _session(index: int, browser: Any, plan: Plan) -> None:
    await asyncio.sleep(plan.ramp_s * index / max(plan.sessions, 1))  # a staggered start
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
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
        tasks = {"map": s.show_map, "filter": s.filter_dates, "scope": s.check_scope}
        ok = await s.run_task("open", s.open_app)
        i = index % 2  # half the sessions start with the filter, half with the orders page
        while (
            time.monotonic() < plan.deadline or not plan.covered()
        ) and time.monotonic() < plan.hard_stop:
            if not ok:
                await (
                    s.recover()
                )  # on the map page again: on with the next task, but not to the map
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


async def _drive(plan: Plan, server: Server, warmup: bool) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    def quiet_driver_loss(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # on Ctrl-C the driver dies with the terminal's process group: its last futures need no report
        if "Connection closed while reading from the driver" not in str(
            context.get("exception", "")
        ):
            loop.default_exception_handler(context)

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(quiet_driver_loss)
    main = asyncio.current_task()
    if main is not None and threading.current_thread() is threading.main_thread():
        loop.add_signal_handler(signal.SIGTERM, main.cancel)  # SIGTERM stops the run as Ctrl-C does
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            warm = time.perf_counter()
            warmup_error = None
            if warmup:  # not timed: the server's first run imports every module
                context = await browser.new_context(viewport={"width": 1400, "height": 1000})
                try:
                    await Session(
                        -1,
                        await context.new_page(),
                        plan.base,
                        plan.expect,
                        plan.timeout_ms,
                        warm,
                        [],
                    ).open_app()
                except Exception as exc:  # noqa: BLE001 - an error like any other; the sessions still run
                    warmup_error = (
                        f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:300]}"
                    )
                finally:
                    await context.close()
            warmed = time.perf_counter() - warm

            log_from = server.log_size()
            rss_samples: list[int] = []
            load = [os.getloadavg()[0]]
            cpu_from = (
                _machine_cpu(),
                _tree_cpu(os.getpid(), server.proc.pid),
                server.cpu_seconds(),
            )
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
                await asyncio.gather(*(_session(i, browser, plan) for i in range(plan.sessions)))
            finally:
                sampler.cancel()
            wall = time.perf_counter() - plan.t0
            load.append(os.getloadavg()[0])
            cpu_to = (_machine_cpu(), _tree_cpu(os.getpid(), server.proc.pid), server.cpu_seconds())
            log_to = server.log_size()
        finally:
            await browser.close()
    return {
        "records": plan.records,
        "warmup_s": warmed,
        "wall_s": wall,
        "log_span": (log_from, log_to),
        "rss_samples": rss_samples,
        "loadavg_1min": load,
        "cpu": (cpu_from, cpu_to),
        "warmup_error": warmup_error,
    }


# -- figures ------------------------------------------------------------------------------------------------


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


def _server_errors(log: Path, span: tuple[int, int]) -> list[str]:
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
    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    lines = [
        f"{result['sessions']} sessions for {result['seconds']:g} s (wall {result['wall_s']:.1f} s, "
        f"{result['cpus']} CPUs, load average {result['loadavg_1min']['start']:.1f} at the start, "
        f"{result['loadavg_1min']['end']:.1f} at the end)",
        f"server: RSS peak {result['server']['rss_peak_mb']} MB, CPU {result['server']['cpu_s']} s; "
        f"times are of the error-free tasks",
        "CPU while the sessions ran: {busy_s} s used of {capacity_s} s: server {server_s} s, browser "
        "(Chromium, Playwright, this script) {browser_s} s, other processes {other_processes_s} s; "
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


# -- entry points ---------------------------------------------------------------------------------------------


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
            raw = asyncio.run(_drive(plan, server, warmup))
        finally:
            if on_term is not None:
                signal.signal(
                    signal.SIGTERM, on_term
                )  # the loop's own handler is gone with the loop
        result = summarise(
            raw, sessions, seconds, server, _server_errors(server.log, raw["log_span"])
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
