"""Every page and every command as every role.

One Streamlit server, started with a user file holding one user per role; each role signs in
through the form in Debian's Chromium and opens every page its navigation offers (each must load
without an error) and tries the URL of every page it is not given (it must not be shown). A ward
member's whole session is checked on what the server sends, not on what is displayed: every
websocket frame is searched for incident descriptions, locations, references and exact
coordinates from the workspace; the same search over an analyst's session finds them, so the check
can fail. Then every command of the ``closuremap`` CLI runs as every role in a subprocess: a
command the role may run exits 0 or with an error that is not about access; one it may not exits 2
with a sentence naming the role.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import shapely

from closuremap.cli import build_parser
from closuremap.geo.crs import bng_to_lonlat
from closuremap.layers.access import ROLES, may, role_words
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.users import User, add_user, hash_password
from tests.conftest import ROOT, free_port, require
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, LOCAL, MAP_FRAME

PASSWORDS = {role: f"pw-{role}-2026!" for role in ROLES}
NAMES = {
    "analyst": "DC Ana Lyst 2101",
    "supervisor": "Insp Sue Pervisor 2202",
    "partner": "Pat Partner (Housing)",
    "ward_member": "Cllr Ward Member",
}
#: Each page's title in the navigation and a text the page shows once it has loaded.
PAGES = {
    "Map": "Incidents",
    "Draw and edit": "Draw",
    "Closure orders": "Build the scope from blocks",
    "Documents": "Consultation letters",
    "Ward briefing": "Legal basis in plain words",
    "Evaluation": "Evaluation: before and after",
    "Layers: import & export": "Import a file",
    "Geocoding review": "Geocoding review",
    "About the data": "About",
}
#: The URL path of each page (Streamlit's, from the script's name).
PATHS = {
    "Map": "map",
    "Draw and edit": "draw",
    "Closure orders": "orders",
    "Documents": "documents",
    "Ward briefing": "briefing",
    "Evaluation": "evaluation",
    "Layers: import & export": "layers",
    "Geocoding review": "review",
    "About the data": "about",
}
EXPECTED_PAGES = {
    "analyst": set(PAGES) - set(),
    "supervisor": set(PAGES),
    "partner": set(PAGES) - {"Draw and edit", "Geocoding review"},
    "ward_member": {"Ward briefing"},
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def users_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("roles") / "users.toml"
    for role in ROLES:
        add_user(path, User(NAMES[role], role, hash_password(PASSWORDS[role])))
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, sample_path: Path) -> Path:
    path = tmp_path_factory.mktemp("roles-ws") / "sample.gpkg"
    shutil.copy(sample_path, path)
    return path


@pytest.fixture(scope="module")
def server(workspace: Path, users_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "CLOSUREMAP_WORKSPACE": str(workspace),
        "CLOSUREMAP_USERS": str(users_path),
    }
    env.pop("CLOSUREMAP_USER", None)  # signed in, a name cannot come from elsewhere
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
            "--server.headless",
            "true",
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
    yield url
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    for role in ROLES:  # the server's log never holds a password
        assert PASSWORDS[role] not in (out or "")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(Path(CHROMIUM).exists(), "Debian chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Session:
    """One browser context: its page, the requests that tried to leave, every websocket frame the
    server sent."""

    def __init__(self, browser: object) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        self.left: list[str] = []
        self.frames: list[bytes] = []

        def only_localhost(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if url.startswith(LOCAL):
                route.continue_()  # type: ignore[attr-defined]
            else:
                self.left.append(url)
                route.abort()  # type: ignore[attr-defined]

        self.context.route("**/*", only_localhost)
        self.page = self.context.new_page()
        self.page.on("websocket", self._watch)

    def _watch(self, ws: object) -> None:
        def keep(payload: str | bytes) -> None:
            self.frames.append(payload.encode() if isinstance(payload, str) else bytes(payload))

        ws.on("framereceived", keep)  # type: ignore[attr-defined]

    def received(self) -> bytes:
        return b"\n".join(self.frames)

    def close(self) -> None:
        self.context.close()


def dismiss_dialogs(pg: object) -> None:
    """Close Streamlit's 'page not found' dialog (a URL of a page this session is not given)."""
    dialog = pg.locator("[role='dialog']")  # type: ignore[attr-defined]
    for _ in range(3):
        if not dialog.count():
            return
        pg.keyboard.press("Escape")  # type: ignore[attr-defined]
        pg.wait_for_timeout(500)  # type: ignore[attr-defined]


def sign_in(session: Session, url: str, role: str, password: str | None = None) -> None:
    pg = session.page
    pg.goto(url)
    pg.get_by_role("textbox", name="Name").wait_for(timeout=60_000)
    pg.wait_for_timeout(1000)
    dismiss_dialogs(pg)
    pg.get_by_role("textbox", name="Name").fill(NAMES[role])
    pg.locator("input[type='password']").fill(password or PASSWORDS[role])
    pg.get_by_role("button", name="Sign in").click()


def nav_titles(pg: object) -> set[str]:
    links = pg.locator("[data-testid='stSidebarNav'] a")  # type: ignore[attr-defined]
    return {links.nth(i).inner_text().strip() for i in range(links.count())}


def wait_loaded(pg: object, title: str) -> None:
    pg.get_by_text(PAGES[title], exact=False).first.wait_for(timeout=90_000)  # type: ignore[attr-defined]
    if title in ("Map", "Ward briefing"):  # the map is the page's slow part: it must arrive too
        pg.locator(MAP_FRAME).first.wait_for(state="attached", timeout=90_000)  # type: ignore[attr-defined]
    pg.wait_for_timeout(1500)  # the page's run finishes: late errors show too
    pg.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=120_000)  # type: ignore[attr-defined]
    exceptions = pg.locator("[data-testid='stException']")  # type: ignore[attr-defined]
    assert exceptions.count() == 0, f"{title}: {exceptions.first.inner_text()}"
    errors = pg.locator("[data-testid='stAlertContentError']")  # type: ignore[attr-defined]
    assert errors.count() == 0, f"{title}: {errors.first.inner_text()}"


#: The layers a ward member's briefing map draws: their vertices are public.
PUBLIC_KINDS = ("basemap", "open_space", "premises", "orders", "communal_areas", "access_routes")


class Personal:
    """Distinctive personal data of the workspace's incidents: whole descriptions and location
    texts, references, and their exact points (longitude and latitude)."""

    def __init__(self, workspace: Path) -> None:
        incidents = GeoPackageStore(workspace).read("incidents")
        texts = incidents["description"].dropna().astype(str)
        places = incidents["location_text"].dropna().astype(str)
        refs = incidents["reference"].dropna().astype(str)
        self.strings = {
            "description": [t.encode() for t in texts[texts.str.len() > 25].unique()],
            "location_text": [t.encode() for t in places[places.str.contains(",")].unique()],
            "reference": [r.encode() for r in refs.unique()],
        }
        # an incident placed on a street's node, a block's corner or its label is at a point every
        # map shows: only the points that are the incident's own say where it was
        store = GeoPackageStore(workspace)
        blocks = store.read("premises").geometry
        public = [store.read(k).geometry.values for k in PUBLIC_KINDS]
        public += [blocks.representative_point().values, blocks.centroid.values]
        corners = shapely.STRtree(
            shapely.points(np.vstack([shapely.get_coordinates(g) for g in public]))
        )
        own = incidents[
            [
                not corners.query(g, predicate="dwithin", distance=0.5).size
                for g in incidents.geometry
            ]
        ]
        lon, lat = bng_to_lonlat(own.geometry.x.to_numpy(), own.geometry.y.to_numpy())
        self.points = list(zip(lon.tolist(), lat.tolist(), strict=True))

    def found(self, received: bytes) -> dict[str, int]:
        """How many of each kind occur in what the server sent; ``coordinates``: how many
        incidents' exact points (to 0.2 m) can be read from it."""
        hits = {
            kind: sum(1 for s in values if s in received) for kind, values in self.strings.items()
        }
        sent = sent_points(received)
        hits["coordinates"] = sum(
            1
            for lon, lat in self.points
            if any(
                (round(lon * 1e5) + dx, round(lat * 1e5) + dy) in sent
                for dx in (-1, 0, 1)
                for dy in (-1, 0, 1)
            )
            and _close(sent, lon, lat)
        )
        return hits


PAIR = re.compile(rb"(-?\d{1,3}\.\d{4,})\s*,\s*(-?\d{1,3}\.\d{4,})")
COMPACT = re.compile(
    rb'scale\\?":(\d+),\\?"lat0\\?":(-?\d+),\\?"lon0\\?":(-?\d+),'
    rb'\\?"lat\\?":\[([-\d,]*)\],\\?"lon\\?":\[([-\d,]*)\]'
)


def sent_points(received: bytes) -> dict[tuple[int, int], list[tuple[float, float]]]:
    """Every (lon, lat) the frames carry, as decimal pairs in either order (GeoJSON, Leaflet) or
    as the incident layer's compact integers, keyed by their 1e-5 degree cell."""
    points: list[tuple[float, float]] = []
    for a, b in PAIR.findall(received):
        x, y = float(a), float(b)
        points += [(x, y), (y, x)]
    for scale, lat0, lon0, lats, lons in COMPACT.findall(received):
        k, la0, lo0 = int(scale), int(lat0), int(lon0)
        dlat = json.loads(b"[" + lats + b"]")
        dlon = json.loads(b"[" + lons + b"]")
        points += [((lo0 + o) / k, (la0 + a) / k) for a, o in zip(dlat, dlon, strict=False)]
    cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for lon, lat in points:
        cells.setdefault((round(lon * 1e5), round(lat * 1e5)), []).append((lon, lat))
    return cells


def _close(sent: dict[tuple[int, int], list[tuple[float, float]]], lon: float, lat: float) -> bool:
    """Whether a sent point lies within 3e-6 degrees (about 0.2 m) of (lon, lat)."""
    cx, cy = round(lon * 1e5), round(lat * 1e5)
    return any(
        abs(x - lon) < 3e-6 and abs(y - lat) < 3e-6
        for dx in (-1, 0, 1)
        for dy in (-1, 0, 1)
        for x, y in sent.get((cx + dx, cy + dy), [])
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_page_as_every_role(role: str, server: str, browser: object, workspace: Path) -> None:
    session = Session(browser)
    try:
        sign_in(session, server, role)
        pg = session.page
        pg.get_by_text(f"Signed in as {NAMES[role]}").wait_for(timeout=60_000)
        first = min(EXPECTED_PAGES[role], key=list(PAGES).index)
        wait_loaded(pg, first)  # the default page: the first the role is given
        offered = nav_titles(pg) or {first}  # one page: Streamlit shows no navigation
        assert offered == EXPECTED_PAGES[role]
        assert offered == {t for t in PAGES if _page_allowed(role, t)}
        for title in sorted(offered, key=list(PAGES).index):
            if len(offered) > 1:
                pg.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
            wait_loaded(pg, title)
        assert session.left == [], f"requests left localhost: {session.left}"
        hits = Personal(workspace).found(session.received())
        if may(role, "read_incident_text"):
            # the same check over a session that may see them finds them: it can fail
            assert all(hits.values()), hits
        elif may(role, "read_exact_points"):
            assert hits["description"] == hits["reference"] == hits["location_text"] == 0, hits
            assert hits["coordinates"], hits  # a partner's map has the points, not the text
        else:
            assert hits == dict.fromkeys(hits, 0), hits
    finally:
        session.close()


def _page_allowed(role: str, title: str) -> bool:
    from closuremap.app_pages.common import PAGES as APP_PAGES

    actions = next(a for _, t, a in APP_PAGES if t == title)
    return any(may(role, a) for a in actions)


@pytest.mark.parametrize("role", ["partner", "ward_member"])
def test_a_page_not_given_is_not_shown_by_its_url(role: str, server: str, browser: object) -> None:
    """Typing the address of a page the role is not given shows the role's first page instead
    (Streamlit says the page is not found); the refused page's own title never appears."""
    # (the refused page's own title, its address): the map page's title is the estate's name
    title, path = {"partner": ("Draw and edit", "draw"), "ward_member": ("Sample estate", "map")}[
        role
    ]
    first = min(EXPECTED_PAGES[role], key=list(PAGES).index)
    session = Session(browser)
    try:
        pg = session.page
        sign_in(session, f"{server}/{path}", role)
        pg.get_by_text(f"Signed in as {NAMES[role]}").wait_for(timeout=60_000)
        dismiss_dialogs(pg)
        wait_loaded(pg, first)
        titles = [h.inner_text() for h in pg.locator("h1").all()]
        assert not any(t.startswith(title) for t in titles), titles
        if role == "ward_member":  # the one map on the page is the briefing's blocks
            assert any(t.startswith("Ward member briefing") for t in titles), titles
    finally:
        session.close()


def test_a_wrong_password_and_an_unknown_name_say_the_same(server: str, browser: object) -> None:
    said = []
    for name, password in (("analyst", "not the password"), ("nobody", PASSWORDS["analyst"])):
        session = Session(browser)
        try:
            pg = session.page
            pg.goto(server)
            pg.get_by_role("textbox", name="Name").wait_for(timeout=60_000)
            pg.get_by_role("textbox", name="Name").fill(NAMES.get(name, "Nobody Known"))
            pg.locator("input[type='password']").fill(password)
            pg.get_by_role("button", name="Sign in").click()
            alert = pg.locator("[data-testid='stAlertContentError']")
            alert.wait_for(timeout=30_000)
            said.append(alert.inner_text())
            assert pg.get_by_text("Signed in as").count() == 0
        finally:
            session.close()
    assert said[0] == said[1]


# -- the command line ---------------------------------------------------------------------------

#: Each command: its arguments ({ws} the workspace, {tmp} a scratch folder) and the actions the
#: role needs for it to run (none: it reads no workspace). The commands only an analyst or a
#: supervisor may run, which make the court documents, name an order that is not there: they are
#: refused (or not) when the workspace is opened, before the order is looked up, and an allowed
#: role's run ends at once on the missing order instead of drawing every document.
COMMANDS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "init": (["{tmp}/new.gpkg"], ("settings",)),
    "import": (["{ws}", "premises", "{tmp}/missing.geojson"], ("import",)),
    "geocode": (["{tmp}/in.csv", "--gazetteer", "{tmp}/g.csv", "--out", "{tmp}/o.csv"], ()),
    "export": (["{ws}", "incidents", "--out", "{tmp}/inc.csv"], ("read", "read_exact_points")),
    "layers": (["{ws}"], ("read", "read_exact_points")),
    "imports": (["{ws}"], ("import",)),
    "rejects": (["{ws}", "--import", "1", "--out", "{tmp}/rej.csv"], ("import",)),
    "audit": (["{ws}", "--verify"], ("history",)),
    "copy": (["{ws}", "{tmp}/copy.gpkg"], ("read_incident_text",)),
    "check-scope": (["{ws}", "--order", "ORD-001"], ("read", "read_exact_points")),
    "timeline": (["--notice-issued", "2024-05-01 10:00"], ()),
    "exhibit": (
        ["{ws}", "--order", "ORD-NONE", "--exhibit-ref", "AB/1", "--out", "{tmp}/e.pdf"],
        ("documents",),
    ),
    "briefing": (["{ws}", "--out", "{tmp}/b.pdf"], ("briefing",)),
    "letters": (
        [
            "{ws}",
            "--order",
            "ORD-001",
            "--out",
            "{tmp}/l.pdf",
            "--contact",
            "c",
            "--signatory",
            "s",
        ],
        ("letters",),
    ),
    "service-pack": (["{ws}", "--order", "ORD-NONE", "--out", "{tmp}/s.pdf"], ("documents",)),
    "notice": (
        ["{ws}", "--order", "ORD-NONE", "--out", "{tmp}/n.pdf", "--exhibit-ref", "AB/1"],
        ("documents",),
    ),
    "application": (
        ["{ws}", "--order", "ORD-NONE", "--out", "{tmp}/a.pdf", "--exhibit-ref", "AB/1"],
        ("documents",),
    ),
    "draft-order": (
        ["{ws}", "--order", "ORD-NONE", "--out", "{tmp}/d.pdf", "--exhibit-ref", "AB/1"],
        ("documents",),
    ),
    "extension": (
        ["{ws}", "--order", "ORD-NONE", "--out", "{tmp}/x.pdf", "--exhibit-ref", "AB/1"],
        ("documents",),
    ),
    "discharge": (
        ["{ws}", "--order", "ORD-NONE", "--out", "{tmp}/dc.pdf", "--exhibit-ref", "AB/1"],
        ("documents",),
    ),
    "certificate": (
        ["{ws}", "--order", "ORD-NONE", "--out", "{tmp}/c.pdf", "--exhibit-ref", "AB/1"],
        ("documents",),
    ),
    "bundle": (
        ["{ws}", "--order", "ORD-NONE", "--out", "{tmp}/bu.pdf", "--exhibit-ref", "AB/1"],
        ("documents",),
    ),
    "record-service": (
        ["{ws}", "--order", "ORD-001", "--csv", "{tmp}/served.csv"],
        ("record_service",),
    ),
    "evaluate": (["{ws}", "--order", "ORD-001"], ("evaluation",)),
    "summarise": (
        ["{ws}", "--areas", "premises", "--out", "{tmp}/sum.csv"],
        ("read", "read_exact_points"),
    ),
    "summarize": (
        ["{ws}", "--areas", "premises", "--out", "{tmp}/sum.csv"],
        ("read", "read_exact_points"),
    ),
    "check-breaches": (["{ws}", "--order", "ORD-001"], ("read", "read_exact_points")),
    "kinds": ([], ()),
    "users": (["list", "{users}"], ()),
    "grant": (["{ws}", "somebody", "--role", "partner"], ()),  # PostGIS only: its own refusal
    "revoke": (["{ws}", "somebody"], ()),
}
NOT_RUN = {"serve"}  # starts a server that does not return


def test_the_matrix_names_every_command() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(sub.choices) - NOT_RUN == set(COMMANDS)  # a new command needs its row here


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("role", ROLES)
def test_every_command_as_every_role(
    role: str, command: str, workspace: Path, users_path: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws.gpkg"
    shutil.copy(workspace, ws)  # each run its own copy: a refused write must leave it alone
    template, actions = COMMANDS[command]
    argv = [a.format(ws=ws, tmp=tmp_path, users=users_path) for a in template]
    env = {
        **os.environ,
        "CLOSUREMAP_USERS": str(users_path),
        "CLOSUREMAP_USER": NAMES[role],
        "CLOSUREMAP_WORKSPACE": str(ws),
    }
    done = subprocess.run(
        [sys.executable, "-m", "closuremap.cli", command, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    refusal = f"a {role_words(role)} may not"
    if all(may(role, a) for a in actions):
        assert done.returncode == 0 or refusal not in done.stderr, done.stderr
        assert done.returncode in (0, 2, 3), done.stderr
    else:
        assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
        last = done.stderr.strip().splitlines()[-1]  # after any progress lines: one sentence
        assert last.startswith("closuremap: error: ") and refusal in last, done.stderr


def test_a_user_not_in_the_file_is_refused(
    workspace: Path, users_path: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "CLOSUREMAP_USERS": str(users_path), "CLOSUREMAP_USER": "Someone Else"}
    done = subprocess.run(
        [sys.executable, "-m", "closuremap.cli", "layers", str(workspace)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2 and "'Someone Else' is not a user in" in done.stderr
