"""The real thing: the app served by Streamlit, opened in Debian's Chromium with the network cut
to everything but localhost. The map must draw, and no request may leave the machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from closuremap.layers.store import GeoPackageStore
from tests.conftest import ROOT, free_port, require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL = (
    "http://localhost",
    "http://127.0.0.1",
    "ws://localhost",
    "ws://127.0.0.1",
    "data:",
    "blob:",
    "about:",
)
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
BROWSER_USER = "PC Brow Ser (1001)"

pytestmark = pytest.mark.browser


SERVED: dict[str, Path] = {}


def server_workspace(url: str) -> Path:
    """The workspace file the server at ``url`` opened."""
    return SERVED[url]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sample_path: Path) -> Iterator[str]:
    workspace = tmp_path_factory.mktemp("browser") / "sample.gpkg"
    shutil.copy(sample_path, workspace)
    port = free_port()
    env = {**os.environ, "CLOSUREMAP_WORKSPACE": str(workspace), "CLOSUREMAP_USER": BROWSER_USER}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://localhost:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"streamlit did not start: {proc.stdout.read() if proc.stdout else ''}")
    SERVED[url] = workspace
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(Path(CHROMIUM).exists(), "Debian chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[tuple[object, list[str]]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    left: list[str] = []

    def only_localhost(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(LOCAL):
            route.continue_()  # type: ignore[attr-defined]
        else:
            left.append(url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", only_localhost)
    pg = context.new_page()
    yield pg, left
    context.close()


def screenshot_dir(tmp_path: Path) -> Path:
    target = Path(os.environ.get("CLOSUREMAP_SCREENSHOTS", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_map_page_draws_every_layer_offline(server: str, page: tuple, tmp_path: Path) -> None:
    pg, left = page
    pg.goto(server)
    pg.wait_for_selector(MAP_FRAME, timeout=60_000)
    frame = pg.frame_locator(MAP_FRAME)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    paths = frame.locator("path.leaflet-interactive").count()
    # basemap + open space + blocks + routes + communal areas + order + entrances + incidents,
    # as SVG
    assert paths > 500
    assert frame.locator(".leaflet-control-scale").count() == 1
    assert frame.locator(".leaflet-control-measure").count() == 1
    control = frame.locator(".leaflet-control-layers")
    assert "leaflet-control-layers-expanded" not in (
        control.get_attribute("class") or ""
    )  # folded by default
    control.hover()  # the layer list opens on demand
    assert "Blocks (premises) (7)" in control.inner_text()
    assert (
        frame.locator(".cm-legend").count() == 1
        and "Blocks (premises)" in frame.locator(".cm-legend").inner_text()
    )
    assert (
        frame.locator(".cm-block-label", has_text="Perronet House").count() == 1
    )  # blocks are labelled
    wheel = frame.locator(".leaflet-container").first.evaluate(
        "() => window.map.options.wheelPxPerZoomLevel"
    )
    assert wheel == 120
    # a point measured with the measure tool is given as a grid reference too (TQ 3000 8000: OS's
    # own reference point E 530000 N 180000, within the Helmert shift's few metres)
    leaflet = next(f for f in pg.frames if "streamlit_folium" in f.url)
    readout = leaflet.evaluate("""() => {
        L.popup().setLatLng([51.503992, -0.128329])
            .setContent('<p>51&deg; N <span class="coorddivider">/</span> 0&deg; W</p>')
            .openOn(window.map);
        const p = document.querySelector('.cm-gridref');
        return p ? p.textContent : '';
    }""")
    assert readout.startswith("Grid ref ≈ TQ 3000 8000") or readout.startswith(
        "Grid ref ≈ TQ 2999 7999"
    ), readout
    leaflet.evaluate("() => window.map.closePopup()")
    assert (
        "OpenStreetMap contributors" in frame.locator(".leaflet-control-attribution").inner_text()
    )
    pg.wait_for_timeout(500)
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "map.png"), full_page=True)
    assert left == [], f"requests left localhost: {left}"


def test_a_popup_shows_a_blocks_details(server: str, page: tuple) -> None:
    pg, left = page
    pg.goto(server)
    frame = pg.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-control-layers").wait_for(timeout=60_000)
    frame.locator(".leaflet-control-layers").hover()
    # hide the busy layers so the click lands on a block
    for name in (
        "Incidents",
        "Communal areas",
        "Access routes",
        "Closure orders",
        "Entrances",
        "Breaches",
    ):
        frame.locator(".leaflet-control-layers label", has_text=name).locator("input").uncheck()
    blocks = frame.locator("path.leaflet-interactive[stroke='#1f3a93']")
    blocks.first.click(force=True)
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert "Blocks (premises)" in text and "block_id" in text and "area_m2" in text
    assert left == []


def test_layers_page_shows_counts(server: str, page: tuple, tmp_path: Path) -> None:
    pg, left = page
    pg.goto(f"{server}/layers")
    pg.get_by_text("Import a file").wait_for(timeout=60_000)
    pg.wait_for_timeout(500)
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "layers.png"), full_page=True)
    assert left == []


def test_scope_from_two_blocks_gets_a_verdict(server: str, page: tuple, tmp_path: Path) -> None:
    pg, left = page
    pg.goto(f"{server}/orders")
    pg.get_by_text("Build the scope from blocks").wait_for(timeout=60_000)
    blocks = pg.locator("div[data-testid='stMultiSelect']").filter(has_text="Whole blocks")
    for name in ("Laurie House", "Wardroper House"):
        blocks.locator("input").click()
        pg.keyboard.type(name)
        pg.keyboard.press("Enter")
        pg.keyboard.press("Escape")
    pg.get_by_role("button", name="Check scope").click()
    verdict = pg.get_by_text("Verdict: premises")
    verdict.wait_for(timeout=30_000)
    on_premises = pg.locator("[data-testid='stMetric']").filter(has_text="On premises")
    assert "100.0%" in on_premises.inner_text()
    pg.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=30_000)
    pg.wait_for_timeout(1500)
    pg.get_by_role("button", name="Check scope").scroll_into_view_if_needed()
    pg.mouse.wheel(0, 250)
    pg.wait_for_timeout(500)
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "orders.png"))
    assert left == []


def _map(pg):  # noqa: ANN001, ANN202 - the map's frame once a rerun has replaced the old one
    pg.wait_for_function(
        "document.querySelectorAll('iframe[title=\"streamlit_folium.st_folium\"]').length == 1",
        timeout=30_000,
    )
    return pg.locator(MAP_FRAME).last.content_frame


def _incident_count(frame) -> int:  # noqa: ANN001 - a Playwright FrameLocator
    label = frame.locator(".leaflet-control-layers label", has_text="Incidents (").text_content()
    return int(label.split("Incidents (")[1].split(")")[0])


def test_incident_filters_change_what_the_map_draws(
    server: str, page: tuple, tmp_path: Path
) -> None:
    pg, left = page
    pg.goto(server)
    frame = _map(pg)
    frame.locator(".leaflet-control-layers").wait_for(timeout=60_000)
    total = _incident_count(frame)
    assert total == 1348
    markers_before = frame.locator("path.leaflet-interactive[stroke='#8a0000']").count()
    assert markers_before == total  # drawn one by one below the clustering threshold
    # keep only police.uk rows: the source filter
    sources = pg.locator("div[data-testid='stMultiSelect']").filter(has_text="Source")
    for name in ("cad", "crime", "housing"):
        sources.get_by_role("button", name=f"Remove {name}").click()
        pg.wait_for_timeout(300)
    pg.get_by_text("148 of 1348 incidents shown").wait_for(timeout=30_000)
    frame = _map(pg)
    frame.locator(".leaflet-control-layers label", has_text="Incidents (148)").wait_for(
        state="attached", timeout=30_000
    )
    assert frame.locator("path.leaflet-interactive[stroke='#8a0000']").count() == 148
    # heat map mode draws a canvas instead of markers
    pg.get_by_text("heat", exact=True).click()
    frame = _map(pg)
    frame.locator("canvas.leaflet-heatmap-layer").wait_for(timeout=30_000)
    pg.wait_for_timeout(800)
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "incidents.png"))
    assert left == []


def _leaflet_frame(pg):  # noqa: ANN001, ANN202 - the map's own frame, to run Leaflet calls in it
    _map(pg).locator(".leaflet-control-layers").wait_for(timeout=60_000)
    return next(f for f in pg.frames if "streamlit_folium" in f.url)


def _click_lonlat(
    pg, frame, box: dict, lon: float, lat: float, *, down_only: bool = False
) -> tuple[float, float]:  # noqa: ANN001
    p = frame.evaluate(
        f"(() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lon}]); "
        f"return [p.x, p.y]; }})()"
    )
    x, y = box["x"] + p[0], box["y"] + p[1]
    if not down_only:
        pg.mouse.click(x, y)
        pg.wait_for_timeout(250)
    return x, y


def _draw_rectangle_as_polygon(pg, frame, box, corners_bng) -> None:  # noqa: ANN001
    from closuremap.geo.crs import bng_to_lonlat

    lons, lats = bng_to_lonlat([c[0] for c in corners_bng], [c[1] for c in corners_bng])
    _map(pg).locator(".leaflet-draw-draw-polygon").click()
    pg.wait_for_timeout(300)
    for lon, lat in zip(lons, lats, strict=True):
        _click_lonlat(pg, frame, box, lon, lat)
    _click_lonlat(pg, frame, box, lons[0], lats[0])  # close it on the first vertex


def _zoom_to(pg, frame, lon: float, lat: float) -> dict:  # noqa: ANN001
    """Zoom the map right in on a point and bring it to the top of the window: its box on the
    page."""
    frame.evaluate(f"window.map.setView([{lat}, {lon}], 21, {{animate: false}})")
    pg.wait_for_timeout(800)
    pg.locator(MAP_FRAME).evaluate("e => e.scrollIntoView({block: 'start'})")
    pg.wait_for_timeout(300)
    return pg.locator(MAP_FRAME).bounding_box()


def _ring(geom) -> list:  # noqa: ANN001 - the outline of a one-part (multi)polygon
    part = geom.geoms[0] if geom.geom_type == "MultiPolygon" else geom
    return list(part.exterior.coords)


def _free_spot(store: GeoPackageStore, block_id: str, w: float, h: float):  # noqa: ANN202
    """A w x h rectangle inside the block that touches no communal area, with room east of it."""
    import shapely

    block = store.read("premises").set_index("block_id").geometry[block_id].buffer(-1.0)
    taken = shapely.union_all(store.read("communal_areas").geometry.values).buffer(2.0)
    minx, miny, maxx, maxy = block.bounds
    for x in range(int(minx), int(maxx)):
        for y in range(int(miny), int(maxy)):
            both = shapely.box(x, y, x + 2 * w, y + h)
            if block.contains(both) and not both.intersects(taken):
                return x, y
    raise AssertionError("no free spot in the block")


def test_draw_save_reload_edit_and_snap(
    server: str, page: tuple, sample_path: Path, tmp_path: Path
) -> None:
    import shapely

    pg, left = page
    store = GeoPackageStore(Path(server_workspace(server)))
    x0, y0 = _free_spot(store, "PER", 3.0, 4.0)
    pg.goto(f"{server}/draw")
    frame = _leaflet_frame(pg)
    from closuremap.geo.crs import bng_to_lonlat

    lon, lat = bng_to_lonlat([x0 + 3.0], [y0 + 2.0])
    box = _zoom_to(pg, frame, lon[0], lat[0])
    first = [(x0, y0), (x0 + 3, y0), (x0 + 3, y0 + 4), (x0, y0 + 4)]
    _draw_rectangle_as_polygon(pg, frame, box, first)
    pg.get_by_text("New shape", exact=True).wait_for(timeout=30_000)
    pg.get_by_role("textbox", name="Name", exact=True).fill("Test stairwell")
    pg.get_by_role("button", name="Save the new shape").click()
    pg.get_by_text("saved Test stairwell").wait_for(timeout=30_000)
    stored = store.read("communal_areas").set_index("name").geometry["Test stairwell"]
    assert stored.area == pytest.approx(12.0, abs=1.0)
    # the map opens again where the shape was saved, not on the whole estate
    frame = _leaflet_frame(pg)
    centre = frame.evaluate(
        "(() => { const c = window.map.getCenter(); "
        "return [c.lng, c.lat, window.map.getZoom()]; })()"
    )
    from closuremap.geo.crs import lonlat_to_bng

    ce, cn = lonlat_to_bng([centre[0]], [centre[1]])
    assert (
        stored.centroid.distance(__import__("shapely").Point(ce[0], cn[0])) < 15 and centre[2] >= 18
    )
    assert (
        stored.difference(store.read("premises").set_index("block_id").geometry["PER"]).area < 0.01
    )
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "draw-before-edit.png"))

    # it is there after a reload; chosen for editing, it alone is editable, with its stable id
    fid = store.read("communal_areas").set_index("name")["feature_id"]["Test stairwell"]
    pg.reload()
    _leaflet_frame(pg)
    _pick(pg, "Feature to edit on the map", f"Test stairwell ({fid[:8]})")
    labels: list = []
    for _ in range(60):  # the page reruns and redraws the map with the chosen feature editable
        try:
            frame = _leaflet_frame(pg)
            labels = frame.evaluate(
                "window.drawnItems.toGeoJSON().features.map(f => f.properties.label)"
            )
        except Exception:  # noqa: BLE001 - the old frame went away mid-call: look again
            labels = []
        if labels:
            break
        pg.wait_for_timeout(500)
    assert labels == ["Test stairwell"]

    # edit one vertex: drag the north-west corner 1 m west
    box = _zoom_to(pg, frame, lon[0], lat[0])
    _map(pg).locator(".leaflet-draw-edit-edit").click()
    pg.wait_for_timeout(400)
    handles = _map(pg).locator(".leaflet-editing-icon").count()
    assert (
        0 < handles <= 2 * (len(_ring(stored)) - 1)
    )  # the chosen shape's vertices and midpoints only
    nw = min(_ring(stored), key=lambda c: c[0] - c[1])  # west-most, north-most corner
    nw_lon, nw_lat = bng_to_lonlat([nw[0]], [nw[1]])
    west_lon, _ = bng_to_lonlat([nw[0] - 1.0], [nw[1]])
    sx, sy = _click_lonlat(pg, frame, box, nw_lon[0], nw_lat[0], down_only=True)
    tx, ty = _click_lonlat(pg, frame, box, west_lon[0], nw_lat[0], down_only=True)
    pg.mouse.move(sx, sy)
    pg.mouse.down()
    pg.mouse.move((sx + tx) / 2, sy, steps=5)
    pg.mouse.move(tx, ty, steps=5)
    pg.mouse.up()
    pg.wait_for_timeout(300)
    _map(pg).locator(".leaflet-draw-actions a", has_text="Save").first.click()
    pg.get_by_role("button", name="Save the edited outlines").click()
    pg.get_by_text("saved Test stairwell").wait_for(timeout=30_000)
    edited = store.read("communal_areas").set_index("feature_id").geometry[fid]
    assert edited.area == pytest.approx(stored.area + 0.5 * 1.0 * 4.0, abs=0.8)  # a trapezoid now
    assert not edited.equals(stored)
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "draw-after-edit.png"))

    # a second stairwell drawn against the first's east wall snaps to it: a shared edge, no overlap
    east = sorted(_ring(edited)[:-1], key=lambda c: -c[0])[:2]
    (ex1, ey1), (ex2, ey2) = sorted(east, key=lambda c: c[1])
    second = [(ex1 + 0.1, ey1 + 0.05), (ex1 + 3, ey1), (ex2 + 3, ey2), (ex2 + 0.1, ey2 - 0.05)]
    frame = _leaflet_frame(pg)
    box = _zoom_to(pg, frame, lon[0], lat[0])
    _draw_rectangle_as_polygon(pg, frame, box, second)
    pg.get_by_text("New shape", exact=True).wait_for(timeout=30_000)
    pg.get_by_role("textbox", name="Name", exact=True).fill("Test landing")
    pg.get_by_role("button", name="Save the new shape").click()
    pg.get_by_text("saved Test landing").wait_for(timeout=30_000)
    areas = store.read("communal_areas").set_index("name").geometry
    a, b = areas["Test stairwell"], areas["Test landing"]
    shared = shapely.line_merge(a.boundary.intersection(b.boundary))
    wall = shapely.LineString([(ex1, ey1), (ex2, ey2)]).length
    assert shared.geom_type == "LineString" and shared.length == pytest.approx(wall, abs=1e-6)
    assert a.intersection(b).area < 1e-6
    assert left == []


def _pick(pg, label: str, option: str) -> None:  # noqa: ANN001
    box = pg.locator("div[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    pg.keyboard.type(option)  # long lists are virtual: filter to the option first
    pg.get_by_role("option", name=option, exact=True).click()
    pg.wait_for_timeout(500)


def test_switching_orders_after_a_check_and_resaving_one_field(
    server: str, page: tuple, tmp_path: Path
) -> None:
    pg, left = page
    store = GeoPackageStore(Path(server_workspace(server)))
    before = store.read("orders").set_index("order_id").loc["ORD-001"]
    pg.goto(f"{server}/orders")
    pg.get_by_text("Build the scope from blocks").wait_for(timeout=60_000)
    blocks = pg.locator("div[data-testid='stMultiSelect']").filter(has_text="Whole blocks")
    blocks.locator("input").click()
    pg.keyboard.type("Laurie House")
    pg.keyboard.press("Enter")
    pg.keyboard.press("Escape")
    pg.get_by_role("button", name="Check scope").click()
    pg.get_by_text("Verdict: premises", exact=True).wait_for(timeout=30_000)

    _pick(pg, "Order", "ORD-001")
    pg.get_by_text("Verdict: premises (the saved scope)").wait_for(timeout=30_000)
    from playwright.sync_api import expect

    # the record's widgets are the chosen order's, with its saved values (waits for the rerun to
    # land)
    pg.get_by_text("History of ORD-001").wait_for(timeout=30_000)  # the last thing the page draws
    expect(pg.get_by_label("Name", exact=True)).to_have_count(
        1, timeout=30_000
    )  # stale widgets gone
    expect(pg.get_by_label("Name", exact=True)).to_have_value(
        "Perronet House communal areas", timeout=30_000
    )
    expect(pg.get_by_role("textbox", name="Order reference")).to_have_value("ORD-001")
    case = pg.get_by_role("textbox", name="Case reference")
    expect(case).to_have_value("SYN-2024-001")
    case.fill("SYN-2024-001-B")
    case.press("Enter")
    pg.get_by_text("Changed since the last save: case_reference").wait_for(timeout=30_000)
    pg.get_by_role("button", name="Save order").click()
    pg.get_by_text("saved ORD-001 (case_reference)").wait_for(timeout=30_000)
    after = store.read("orders").set_index("order_id").loc["ORD-001"]
    assert after["case_reference"] == "SYN-2024-001-B"
    assert after["block_ids"] == before["block_ids"] == "PER"
    assert after.geometry.symmetric_difference(before.geometry).area < 1e-6
    assert store.history(kind="orders").iloc[0]["user"] == BROWSER_USER
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "orders-record.png"), full_page=True)
    assert left == []


def test_documents_are_all_offered_and_taking_one_keeps_the_others(
    server: str, page: tuple, tmp_path: Path
) -> None:
    pg, left = page
    pg.goto(f"{server}/documents")
    pg.get_by_role("button", name="Make every document").wait_for(timeout=60_000)
    pg.get_by_role("button", name="Make every document").click()
    pg.get_by_text("Made for ORD-001").wait_for(timeout=180_000)
    pg.get_by_text("Objections and views").wait_for(timeout=30_000)
    pg.wait_for_timeout(1000)  # the rerun has drawn every button
    buttons = pg.locator("[data-testid='stDownloadButton']")
    count = buttons.count()
    assert (
        count >= 10
    )  # the zip, the legal documents (PDF and Word), exhibit, pack, briefing, bundle
    with pg.expect_download() as got:
        buttons.filter(has_text="Closure notice (PDF").first.click()
    assert got.value.suggested_filename == "notice-ORD-001.pdf"
    pg.wait_for_timeout(1500)
    assert pg.locator("[data-testid='stDownloadButton']").count() == count
    with pg.expect_download() as got:
        pg.locator("[data-testid='stDownloadButton']").filter(has_text="Court bundle").first.click()
    assert got.value.suggested_filename == "court-bundle-ORD-001.pdf"
    assert pg.locator("[data-testid='stDownloadButton']").count() == count
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "documents.png"), full_page=True)
    assert left == []


def test_evaluation_page_shows_the_chart_and_the_wdq(
    server: str, page: tuple, tmp_path: Path
) -> None:
    from closuremap.layers.evaluation import evaluate_order

    pg, left = page
    pg.goto(f"{server}/evaluation")
    chart = pg.locator("[data-testid='stImage'] img")
    chart.wait_for(timeout=60_000)
    assert (
        pg.evaluate("(img) => img.naturalWidth", chart.element_handle()) > 500
    )  # the PNG loaded and drew
    wdq = pg.locator("[data-testid='stMetric']").filter(has_text="WDQ")
    expected = evaluate_order(GeoPackageStore(server_workspace(server)), "ORD-001").wdq
    assert expected is not None
    wdq.get_by_text(f"{expected:+.3f}").wait_for(timeout=30_000)
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "evaluation.png"), full_page=True)
    assert left == []


def test_review_queue_lists_low_confidence_first_and_keeps_each_rows_own_state(
    server: str, page: tuple, tmp_path: Path
) -> None:
    from closuremap.layers.importer import import_file
    from closuremap.layers.review import open_items

    pg, left = page
    store = GeoPackageStore(Path(server_workspace(server)))
    src = tmp_path / "cad.csv"
    src.write_text(
        'ref,when,what,location\nRU1,10/02/2025 02:00,Drugs,"caller refused address"\n'
        'RP1,10/02/2025 03:00,Drugs,"Flat 12 Pernt Hse"\n'
    )
    import_file(store, "incidents", src, user="t", rejects_path=tmp_path / "r.csv")
    items = open_items(store)
    placed = items[items["feature_id"].notna()]
    unplaced = items[items["feature_id"].isna() & (items["location"] == "caller refused address")]
    pg.goto(f"{server}/review")
    pg.get_by_text("Geocoding review").first.wait_for(timeout=60_000)
    from playwright.sync_api import expect

    row_box = pg.locator("div[data-testid='stSelectbox']").filter(has_text="Row").first
    expect(row_box.locator("input")).to_have_value(
        f"#{int(placed['id'].iloc[0])}: Flat 12 Pernt Hse", timeout=30_000
    )  # low confidence first
    assert pg.get_by_role("button", name="Accept the match").count() == 1
    row_box.click()
    pg.get_by_role("option", name=f"#{int(unplaced['id'].iloc[0])}: caller refused address").click()
    pg.get_by_text("This row was not placed").wait_for(timeout=30_000)
    assert pg.get_by_role("button", name="Accept the match").count() == 0
    assert pg.get_by_role("button", name="Place it here").count() == 0  # no click carried over
    assert pg.get_by_text("Traceback").count() == 0
    pg.screenshot(path=str(screenshot_dir(tmp_path) / "review.png"))
    assert left == []
