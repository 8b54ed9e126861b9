"""Benchmark: the Map page's HTML opened in Chromium, against folium's FastMarkerCluster, and the
Map page's rerun after a date-filter change (figures go in the closing note, not in tests).

    open    100k synthetic calls imported into a workspace; the page's HTML built as
            ``ops.py webmap-ours`` builds it, and the raw ``ops.py webmap-raw`` FastMarkerCluster
            page; each opened in Debian Chromium (Playwright) from a local HTTP server that also
            serves the vendored Leaflet (the raw page's CDN links are pointed at the same files).
            Timed from navigation start to *interactive*: the Leaflet map exists, its script has
            run (every layer added), markers or cluster icons are in the DOM, and a two-level
            zoom-in by ``map.setZoom`` has fired ``zoomend`` and a frame has been drawn after it.
    1M      the same for a million calls (ours only: the raw page is 40 MB of points).
    rerun   the Map page in Streamlit's AppTest on the 100k workspace: the first run, a rerun
            after a date-window change, and a rerun with the same filter (cached by content).

Run: ``.venv/bin/python bench/bench_map_browser.py [--sizes 100000,1000000] [--profile]``.
Importing this module runs nothing; ``bench_map_browser(tmp)`` returns rows for ``make bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from run import CLI, OPS, PY, ROOT, Row, run_measured  # noqa: E402  (bench/ is a script folder)

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
STATIC_DIR = ROOT / "static"
TARGET_S = 3.0
RERUN_TARGET_S = 1.0
ZOOM_IN = 2

#: folium's CDN files -> the vendored copies the app serves (the raw page is pointed at them so both
#: sides load the same Leaflet from the same server; assets with no copy are dropped, as ours are).
RAW_ASSETS = {
    "leaflet.js": "vendor/leaflet/leaflet.js",
    "jquery-3.7.1.min.js": "vendor/jquery/jquery.min.js",
    "bootstrap.bundle.min.js": "vendor/bootstrap/bootstrap.bundle.min.js",
    "leaflet.awesome-markers.js": "vendor/awesome-markers/leaflet.awesome-markers.min.js",
    "leaflet.markercluster.js": "vendor/markercluster/leaflet.markercluster.js",
    "leaflet.css": "vendor/leaflet/leaflet.css",
    "bootstrap.min.css": "vendor/bootstrap/bootstrap.min.css",
    "all.min.css": "vendor/fontawesome/css/all.min.css",
    "leaflet.awesome-markers.css": "vendor/awesome-markers/leaflet.awesome-markers.css",
    "MarkerCluster.css": "vendor/markercluster/MarkerCluster.css",
    "MarkerCluster.Default.css": "vendor/markercluster/MarkerCluster.Default.css",
}

#: Runs in the page before its own scripts: on every frame, look for the map; once it is there with
#: something drawn, zoom in and note when the zoom has ended and a frame has followed. Polling on
#: animation frames means the check itself waits for the main thread, as a user's click would.
_PROBE_JS = """
(() => {
  const probe = window.__cmProbe = {};
  function findMap() {
    if (!window.L || !L.Map) { return null; }
    for (const k of Object.keys(window)) {
      if (k.startsWith('map_') && window[k] instanceof L.Map) { return window[k]; }
    }
    return null;
  }
  function drawn() {
    return document.querySelectorAll(
      '.leaflet-marker-pane > *, .leaflet-overlay-pane path, .leaflet-overlay-pane canvas'
    ).length;
  }
  function tick() {
    const m = findMap();
    const n = m && document.readyState !== 'loading' && !m._animatingZoom ? drawn() : 0;
    if (!n) { requestAnimationFrame(tick); return; }
    probe.ready_ms = performance.now();
    probe.drawn = n;
    probe.zoom_from = m.getZoom();
    const target = probe.zoom_from + __ZOOM_IN__;
    function ended() {
      if (m.getZoom() !== target) { m.once('zoomend', ended); return; }
      requestAnimationFrame(() => setTimeout(() => {
        probe.interactive_ms = performance.now();
        probe.zoom_to = m.getZoom();
        probe.drawn_after = drawn();
        const nav = performance.getEntriesByType('navigation')[0];
        probe.response_end_ms = nav.responseEnd;
        probe.dom_interactive_ms = nav.domInteractive;
        probe.heap_mb = performance.memory ? performance.memory.usedJSHeapSize / 1e6 : 0;
      }, 0));
    }
    m.once('zoomend', ended);
    m.setZoom(target);
  }
  requestAnimationFrame(tick);
})();
""".replace("__ZOOM_IN__", str(ZOOM_IN))


class _Handler(http.server.SimpleHTTPRequestHandler):
    """The pages from the bench folder, ``/app/static/…`` from the app's static/ (as Streamlit
    serves it)."""

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/app/static/"):
            return str(STATIC_DIR / clean.removeprefix("/app/static/"))
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """A local HTTP server for ``folder`` (and the vendored assets) in a thread: its base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def localise_raw(page: Path) -> None:
    """Point the raw folium page's CDN links at the vendored files (dropping the ones with no
    copy), and give its map folium's usual ``maxZoom`` of 18: as ``ops.py webmap-raw`` builds it
    (``tiles=None``) the page does not open at all ("Map has no maxZoom specified")."""

    def local(match: re.Match[str]) -> str:
        attr, url = match.group(1), match.group(2)
        path = RAW_ASSETS.get(url.rsplit("/", 1)[-1])
        return f'{attr}="/app/static/{path}"' if path else f'{attr}="data:,"'

    text = re.sub(r'(src|href)="(https?://[^"]+)"', local, page.read_text())
    if '"maxZoom"' not in text[: text.index("L.map(") + 400]:
        text = re.sub(r'(L\.map\([^)]*?"zoom": \d+,)', r'\1 "maxZoom": 18,', text, count=1)
    page.write_text(text)


def prepare(tmp: Path, n: int) -> Path:
    """``tmp/ws{n}.gpkg`` with ``n`` synthetic calls imported (reused if ``make bench`` made it)."""
    calls, ws = tmp / f"calls{n}.csv", tmp / f"ws{n}.gpkg"
    if not calls.exists():
        subprocess.run([PY, OPS, "make-calls", str(calls), str(n)], check=True, cwd=ROOT)
    if not ws.exists():
        subprocess.run([CLI, "init", str(ws), "--quiet"], check=True, cwd=ROOT)
        subprocess.run(
            [CLI, "import", str(ws), "incidents", str(calls), "--user", "bench", "--quiet"],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
    return ws


def open_page(browser: Any, url: str, timeout_s: float = 120.0) -> dict[str, float]:
    """Open ``url`` in a fresh context (no cache), with every request off this machine refused;
    the probe's marks, in ms from navigation start."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    refused: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "data:", "about:", "blob:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    try:
        context.route("**/*", only_local)
        context.add_init_script(_PROBE_JS)
        page = context.new_page()
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        page.wait_for_function(
            "() => window.__cmProbe && window.__cmProbe.interactive_ms",
            timeout=timeout_s * 1000,
            polling=100,
        )
        marks = dict(page.evaluate("() => window.__cmProbe"))
    finally:
        context.close()
    marks["refused"] = len(refused)
    return marks


def profile_page(browser: Any, url: str, out: Path, top: int = 15) -> list[tuple[str, float]]:
    """A CPU profile of opening ``url`` (Chromium's own profiler, via CDP) saved to ``out``; the
    functions that took the most time themselves, in ms."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_init_script(_PROBE_JS)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
        cdp.send("Profiler.start")
        page.goto(url, wait_until="commit")
        page.wait_for_function(
            "() => window.__cmProbe && window.__cmProbe.interactive_ms", timeout=120_000
        )
        profile = cdp.send("Profiler.stop")["profile"]
    finally:
        context.close()
    out.write_text(json.dumps(profile))
    return _self_times(profile)[:top]


def _self_times(profile: dict[str, Any]) -> list[tuple[str, float]]:
    nodes = {node["id"]: node for node in profile["nodes"]}
    deltas = profile.get("timeDeltas", [])
    self_ms: dict[str, float] = {}
    for sample, delta in zip(profile.get("samples", [])[1:], deltas[1:], strict=False):
        frame = nodes[sample]["callFrame"]
        name = (
            f"{frame['functionName'] or '(anonymous)'} "
            f"{frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber']}"
        )
        self_ms[name] = self_ms.get(name, 0.0) + delta / 1000
    return sorted(self_ms.items(), key=lambda kv: -kv[1])


def _launch() -> tuple[Any, Any]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    return playwright, playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def time_open(
    tmp: Path, n: int, *, raw: bool = True, repeat: int = 2
) -> tuple[list[dict[str, float]], list[dict[str, float]], dict[str, float]]:
    """Build both pages for ``n`` calls (whole processes, as ``make bench`` does) and open each
    ``repeat`` times, alternating: the probe marks of ours and of raw, and the build figures."""
    ws = prepare(tmp, n)
    pages = tmp / f"pages{n}"
    pages.mkdir(exist_ok=True)
    build_s, build_mb, _ = run_measured(PY, OPS, "webmap-ours", str(ws), str(pages / "ours.html"))
    built = {"ours_build_s": build_s, "ours_build_mb": build_mb}
    built["ours_html_mb"] = (pages / "ours.html").stat().st_size / 1e6
    if raw:
        raw_s, raw_mb, _ = run_measured(
            PY, OPS, "webmap-raw", str(tmp / f"calls{n}.csv"), str(pages / "raw.html")
        )
        localise_raw(pages / "raw.html")
        built |= {"raw_build_s": raw_s, "raw_build_mb": raw_mb}
        built["raw_html_mb"] = (pages / "raw.html").stat().st_size / 1e6
    ours_marks: list[dict[str, float]] = []
    raw_marks: list[dict[str, float]] = []
    playwright, browser = _launch()
    try:
        with serve(pages) as base:
            for _ in range(repeat):
                ours_marks.append(open_page(browser, f"{base}/ours.html"))
                if raw:
                    raw_marks.append(open_page(browser, f"{base}/raw.html"))
    finally:
        browser.close()
        playwright.stop()
    return ours_marks, raw_marks, built


def _median_s(marks: list[dict[str, float]], key: str = "interactive_ms") -> float:
    return statistics.median(m[key] for m in marks) / 1000


def _open_rows(tmp: Path, sizes: tuple[int, ...]) -> list[Row]:
    rows = []
    for n in sizes:
        with_raw = n <= 100_000
        ours, raw, built = time_open(tmp, n, raw=with_raw, repeat=2 if with_raw else 1)
        times = "/".join(f"{m['interactive_ms'] / 1000:.2f}" for m in ours)
        extra = (
            f"ours {times} s (HTML {built['ours_html_mb']:.1f} MB, built in "
            f"{built['ours_build_s']:.1f} s; markers drawn {int(ours[-1]['drawn'])}, zoom "
            f"{ours[-1]['zoom_from']}->{ours[-1]['zoom_to']})"
        )
        if raw:
            raw_times = "/".join(f"{m['interactive_ms'] / 1000:.2f}" for m in raw)
            extra += f"; raw {raw_times} s (HTML {built['raw_html_mb']:.1f} MB)"
        rows.append(
            Row(
                f"web map {n:,} incidents, interactive in Chromium",
                _median_s(ours),
                _median_s(raw) if raw else None,
                statistics.median(m["heap_mb"] for m in ours),
                statistics.median(m["heap_mb"] for m in raw) if raw else None,
                f"interactive <= {TARGET_S:.0f} s" if n <= 100_000 else "must open",
                extra + "; peak column: JS heap",
                ok=_median_s(ours) <= TARGET_S if n <= 100_000 else True,
            )
        )
    return rows


def time_rerun(tmp: Path, n: int = 100_000, repeat: int = 2) -> dict[str, list[float]]:
    """The Map page in AppTest on ``n`` calls, in its own process (a clean Streamlit cache): the
    first run, a rerun after a date-window change, a rerun with that filter kept, and a return to
    the first window; seconds each."""
    ws = prepare(tmp, n)
    script = BENCH / "bench_map_browser.py"
    env = {**os.environ, "CLOSUREMAP_WORKSPACE": str(ws), "CLOSUREMAP_USER": "bench"}
    out = subprocess.run(
        [PY, str(script), "--rerun-child", str(repeat)],
        check=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _rerun_child(repeat: int) -> None:
    """In a child process: drive the Map page with AppTest and print the times as JSON."""
    from streamlit.testing.v1 import AppTest

    steps = ("first", "new_window", "same", "back")
    times: dict[str, list[float]] = {k: [] for k in steps} | {f"{k}_cpu": [] for k in steps}
    for round_ in range(repeat):
        at = AppTest.from_file(str(ROOT / "app_pages" / "map.py"), default_timeout=300)
        lo = hi = None
        for name in steps:
            started, cpu = time.perf_counter(), time.process_time()
            if name == "first":
                at.run()
            else:
                assert lo is not None and hi is not None
                # each round its own windows: a later round must not find the first's in the cache
                mid = lo + (hi - lo) * (round_ + 1) / (repeat + 1)
                window = (lo, hi) if name == "back" else (lo, mid)
                at.slider(key="incident_dates").set_value(window).run()
            times[name].append(time.perf_counter() - started)
            times[f"{name}_cpu"].append(time.process_time() - cpu)
            if at.exception:
                raise SystemExit(str(at.exception))
            if name == "first":
                lo, hi = at.slider(key="incident_dates").value
    print(json.dumps(times))


def _rerun_rows(tmp: Path) -> list[Row]:
    times = time_rerun(tmp)
    new = statistics.median(times["new_window"])
    return [
        Row(
            "Map page, 100,000 incidents: date-filter rerun (AppTest)",
            new,
            None,
            0.0,
            None,
            f"rerun <= {RERUN_TARGET_S:.0f} s",
            "; ".join(
                f"{label} {'/'.join(f'{t:.2f}' for t in times[k])} s "
                f"(CPU {'/'.join(f'{t:.2f}' for t in times[k + '_cpu'])})"
                for k, label in (
                    ("first", "first run"),
                    ("new_window", "new window"),
                    ("same", "same window again"),
                    ("back", "back to the whole year"),
                )
            ),
            ok=new <= RERUN_TARGET_S,
        )
    ]


def bench_map_browser(
    tmp: Path, sizes: tuple[int, ...] = (100_000, 1_000_000), rerun: bool = True
) -> list[Row]:
    """Rows for ``make bench``: each size opened in Chromium (ours against raw FastMarkerCluster
    at 100k; ours alone at 1M), and the Map page's date-filter rerun at 100k."""
    rows = _open_rows(tmp, sizes)
    if rerun:
        rows += _rerun_rows(tmp)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--tmp", help="a folder to keep (and reuse) the data and pages in")
    parser.add_argument("--no-rerun", action="store_true")
    parser.add_argument("--profile", action="store_true", help="CPU profile of opening ours")
    parser.add_argument("--rerun-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rerun_child:
        _rerun_child(args.rerun_child)
        return
    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="closuremap-map-"))
    tmp.mkdir(parents=True, exist_ok=True)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s)
    if args.profile:
        _print_profile(tmp, sizes[0])
        return
    for row in bench_map_browser(tmp, sizes, rerun=not args.no_rerun):
        ratio = f"{row.ratio:.2f}" if row.ratio else "-"
        raw = "-" if row.raw_s is None else f"{row.raw_s:.2f} s"
        verdict = {True: "met", False: "MISSED", None: ""}[row.met()]
        print(f"{row.work}: ours {row.ours_s:.2f} s; raw {raw}; ratio {ratio}; {row.target}: ")
        print(f"    {verdict}; {row.extra}")


def _print_profile(tmp: Path, n: int) -> None:
    pages = tmp / f"pages{n}"
    if not (pages / "ours.html").exists():
        time_open(tmp, n, raw=False, repeat=1)
    playwright, browser = _launch()
    try:
        with serve(pages) as base:
            top = profile_page(browser, f"{base}/ours.html", tmp / f"ours{n}.cpuprofile")
    finally:
        browser.close()
        playwright.stop()
    for name, ms in top:
        print(f"{ms:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
