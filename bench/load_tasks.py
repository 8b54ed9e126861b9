"""The load test's tasks (bench/load_test.py), each a function of one browser session, timed from
its first action to the element it awaits:

    open     load the app's URL; done when the map page is drawn (Session.map_drawn)
    filter   move the start of the map page's date slider one step (one key press: one change, one
             rerun); done when the caption and the map's incident layer both show the count expected
             for the new window (computed from the workspace), the script has stopped running
             and the "Running…" status widget is gone
    scope    "Closure orders" in the sidebar, choose an order, wait for its saved scope's verdict,
             open the scope builder, pick a whole block and press "Check scope"; done at the checked
             verdict ("Verdict: …" and "This checked scope replaces the saved one…")
    map      "Map" in the sidebar; done when the map is drawn: the caption, exactly one map iframe
             whose Leaflet container is visible and whose layer list has the expected incident count
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date

from load_session import Session

KINDS = ("open", "map", "filter", "scope")  # the table's rows, in order
LOOP = ("filter", "scope", "map")  # what each session repeats after opening the app


async def open_app(session: Session) -> None:
    """The app's URL in a fresh page, until the map page is drawn."""
    t = time.perf_counter()
    await session.page.goto(session.base, timeout=session.timeout_ms)
    session.step("page loaded", t)
    await session.map_drawn()


async def show_map(session: Session) -> None:
    """ "Map" in the sidebar, until the map page is drawn."""
    await session.nav("Map")
    await session.page.wait_for_url(
        re.compile(r"^[^?#]*://[^/]+/?(\?.*)?$"), timeout=session.timeout_ms
    )
    await session.map_drawn()


async def moved_from(session: Session, before: date) -> date:
    """The slider's start once the key press has moved it off ``before``."""
    for _ in range(50):
        after, _ = await session.window()
        if after != before:
            return after
        await asyncio.sleep(0.1)
    raise AssertionError(f"the date slider did not move from {before}")


async def filter_dates(session: Session) -> None:
    """One step of the date slider's start, until the map shows the new window's count."""
    page = session.page
    lo, _ = await session.slider()
    before, end = await session.window()
    count = session.expect.shown(before, end)
    await lo.focus(timeout=session.timeout_ms)
    # one key, one change, one rerun (as a drag and release with the mouse): a tenth of the year
    # on, or a day on; narrowed to under two months, back to the first day
    await page.keyboard.press(
        "Home" if (end - before).days < 60 else session.rng.choice(("PageUp", "ArrowRight"))
    )
    after = await moved_from(session, before)
    # a new window with the same count could not be told from the old one: a day on until it differs
    for _ in range(10):
        if session.expect.shown(after, end) != count or (end - after).days < 2:
            break
        await page.keyboard.press("ArrowRight")
        after = await moved_from(session, after)
    if session.expect.shown(after, end) == count:
        raise AssertionError(f"no window from {before} on shows other than {count} incidents")
    await session.map_drawn()


async def check_scope(session: Session) -> None:
    """Choose an order, add a whole block to its scope and check it, until the verdict shows."""
    page, t = session.page, time.perf_counter()
    await session.nav("Closure orders")
    await page.get_by_text("Build the scope from blocks").wait_for(timeout=session.timeout_ms)
    await session.idle()
    t = session.step("orders page", t)
    order = session.rng.choice(session.expect.orders)
    box = page.locator("div[data-testid='stSelectbox']").filter(has_text="Order").first
    if await box.locator("input").input_value(timeout=session.timeout_ms) != order:
        await box.click(timeout=session.timeout_ms)
        await page.keyboard.type(order)  # long lists are virtual: filter to the option first
        await page.get_by_role("option", name=order, exact=True).click(timeout=session.timeout_ms)
    await page.get_by_text(re.compile(r"^Verdict: \w+ \(the saved scope\)$")).wait_for(
        timeout=session.timeout_ms
    )
    await page.get_by_text(f"History of {order}").wait_for(
        timeout=session.timeout_ms
    )  # the page's last element
    await session.idle()
    t = session.step("choose order", t)
    builder = page.locator("[data-testid='stExpander']").filter(
        has_text="Build the scope from blocks"
    )
    if await builder.locator("details").get_attribute("open", timeout=session.timeout_ms) is None:
        await builder.locator("summary").click(timeout=session.timeout_ms)
    block_id, name = session.rng.choice(session.expect.blocks)
    blocks = page.locator("div[data-testid='stMultiSelect']").filter(has_text="Whole blocks")
    await blocks.locator("input").click(timeout=session.timeout_ms)
    await page.keyboard.type(name)
    await page.keyboard.press("Enter")
    await page.keyboard.press("Escape")
    await blocks.get_by_text(f"{name} ({block_id})").wait_for(timeout=session.timeout_ms)
    await session.settle()
    t = session.step("pick block", t)
    await page.get_by_role("button", name="Check scope").click(timeout=session.timeout_ms)
    await page.get_by_text("This checked scope replaces the saved one").wait_for(
        timeout=session.timeout_ms
    )
    await page.get_by_text(re.compile(r"^Verdict: \w+$")).wait_for(timeout=session.timeout_ms)
    await session.idle()
    session.step("check", t)


def tasks_of(session: Session) -> dict[str, Callable[[], Awaitable[None]]]:
    """The looped tasks of one session, by kind, ready for ``Session.run_task``."""
    return {
        "map": lambda: show_map(session),
        "filter": lambda: filter_dates(session),
        "scope": lambda: check_scope(session),
    }
