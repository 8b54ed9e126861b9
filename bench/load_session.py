"""One browser session of the load test (bench/load_test.py): what the workspace should show, the
timing and error checks around each task, and the waits the tasks share.

An error is a timeout or any other exception, a Streamlit exception box or an error alert
(``st.error``) on the page after the task, or a console error (or uncaught page error) in the
browser during it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

import pyogrio

from closuremap.geo.incidents import incident_dates

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
APP_RUNNING = "[data-testid='stApp'][data-test-script-state='running']"
STATUS = "[data-testid='stStatusWidget']"  # "Running…" (and "Connecting") in the top corner
PAGE_ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"

# -- what the pages should show --------------------------------------------------------------------


@dataclass
class Expect:
    """What the workspace holds, to know when a page shows the right thing."""

    dates: list[date | None]  # each incident's date, as the map page reads it
    total: int
    orders: list[str]
    blocks: list[tuple[str, str]]  # (block_id, name)

    @classmethod
    def of(cls, workspace: Path) -> Expect:
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


# -- one browser session ---------------------------------------------------------------------------


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
        """Run one task, record its time and its error (if any); whether it went without one."""
        seen = len(self.console)
        self.steps = {}
        start = time.perf_counter()
        error = None
        try:
            # each wait has its own timeout too; this one bounds the whole task
            async with asyncio.timeout(3 * self.timeout_ms / 1000):
                await body()
        except Exception as exc:  # noqa: BLE001 - the harness's edge: every failure is counted
            first = (str(exc).strip().splitlines() or [""])[0]
            first = first or f"the task took over {3 * self.timeout_ms / 1000:g} s"
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
        except PlaywrightError as exc:
            return f"{type(exc).__name__} while looking for error boxes: {exc}"
        return None

    def connected(self) -> bool:
        return self.browser is None or self.browser.is_connected()

    def step(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.steps[name] = self.steps.get(name, 0.0) + now - since
        return now

    # ---- the waits the tasks share ----
    async def idle(self) -> None:
        """The script has stopped running and the status widget is gone (wait for a change you
        caused first: this alone races with the rerun's start)."""
        await self.page.locator(APP_IDLE).wait_for(state="attached", timeout=self.timeout_ms)
        await self.page.locator(STATUS).wait_for(state="hidden", timeout=self.timeout_ms)

    async def settle(self) -> None:
        """After a change that shows nothing new until the rerun: its start (if seen), then its
        end."""
        # no start seen in 2 s: the rerun was over before it was seen, or has not yet begun
        with contextlib.suppress(PlaywrightTimeoutError):
            await self.page.locator(APP_RUNNING).wait_for(state="attached", timeout=2000)
        await self.idle()

    async def slider(self) -> tuple[Any, Any]:
        inputs = (
            self.page.locator("[data-testid='stSlider']")
            .filter(has_text="Dates")
            .locator("input[type=range]")
        )
        return inputs.nth(0), inputs.nth(1)

    async def window(self) -> tuple[date, date]:
        lo, hi = await self.slider()
        return (
            date.fromisoformat(await lo.get_attribute("aria-valuetext", timeout=self.timeout_ms)),
            date.fromisoformat(await hi.get_attribute("aria-valuetext", timeout=self.timeout_ms)),
        )

    async def map_drawn(self) -> None:
        """The map page is drawn for the slider's window: the caption, and one map with that
        many incidents."""
        page, t = self.page, time.perf_counter()
        await page.get_by_text(re.compile(r"^\d+ of \d+ incidents shown$")).wait_for(
            timeout=self.timeout_ms
        )
        start, end = await self.window()
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

    async def recover(self) -> None:
        """After an error: a fresh page load (not timed), so the next task starts from a known
        page."""
        try:
            await self.page.goto(self.base, timeout=self.timeout_ms)
            await self.map_drawn()
        except (PlaywrightError, ValueError, TypeError):  # the next task will fail and say so
            if not self.connected():
                raise BrowserGone("the browser went away") from None
