"""The wheel, installed into a fresh virtual environment, runs on its own: the sample estate and the
app come from the installed package, never from this checkout.

Building the venv installs every dependency from the package index (about two minutes), so the
whole module shares one venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, require
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, MAP_FRAME


def _tracked_copy(dest: Path) -> Path:
    """The files git would check out (tracked or new, never ignored): what a clean clone holds."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(shutil.which("git") is not None, "git")
    source = _tracked_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."],
        cwd=source,
        check=True,
    )
    (built,) = out.glob("closuremap-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    subprocess.run([str(home / "bin" / "pip"), "install", "--quiet", str(wheel)], check=True)
    return home / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> dict[str, str]:
    """An environment that cannot see this checkout: no PYTHONPATH, cwd outside the repository."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CLOSUREMAP_WORKSPACE")}
    env["CLOSUREMAP_USER"] = "PC Whee Ler (2002)"
    return env


def test_the_wheel_ships_code_under_one_name_with_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("closuremap-")}
    assert tops == {"closuremap"}, f"the wheel installs top-level names {tops}"
    for needed in (
        "closuremap/app.py",
        "closuremap/cli/__init__.py",
        "closuremap/geo/scope.py",
        "closuremap/app_pages/map.py",
        "closuremap/data/README.md",
        "closuremap/data/synthetic/orders.geojson",
        "closuremap/static/vendor/leaflet/leaflet.js",
    ):
        assert needed in names, f"{needed} is missing from the wheel"


def test_the_installed_package_builds_the_sample(
    venv: Path, tmp_path: Path, elsewhere: dict[str, str]
) -> None:
    where = subprocess.run(
        [str(venv / "python"), "-c", "import closuremap.geo as g; print(g.__file__)"],
        cwd=tmp_path,
        env=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv.parent), where.stdout
    assert not Path(where.stdout.strip()).is_relative_to(ROOT)

    made = subprocess.run(
        [str(venv / "closuremap"), "init", "estate.gpkg", "--sample", "--json"],
        cwd=tmp_path,
        env=elsewhere,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    layers = subprocess.run(
        [str(venv / "closuremap"), "layers", "estate.gpkg", "--json"],
        cwd=tmp_path,
        env=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    counts = {row["kind"]: row["count"] for row in json.loads(layers.stdout)["layers"]}
    assert counts["premises"] > 0 and counts["orders"] > 0 and counts["incidents"] > 0, counts


@pytest.fixture
def served(venv: Path, tmp_path: Path, elsewhere: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(venv / "closuremap"), "serve", "estate.gpkg", "--port", str(port)],
        cwd=tmp_path,
        env=elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://localhost:{port}"
    deadline = time.time() + 120  # the sample estate is built first
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"closuremap serve did not start: {proc.stdout.read() if proc.stdout else ''}")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_the_installed_app_serves_the_sample_offline(served: str) -> None:
    with urllib.request.urlopen(f"{served}/app/static/vendor/leaflet/leaflet.js", timeout=10) as r:
        assert r.status == 200 and len(r.read()) > 10_000  # Leaflet from the package, not a CDN

    require(Path(CHROMIUM).exists(), "Debian chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on(
            "request",
            lambda req: (
                None
                if req.url.startswith(
                    ("http://localhost", "ws://localhost", "data:", "blob:", "about:")
                )
                else outside.append(req.url)
            ),
        )
        page.goto(served, wait_until="domcontentloaded")
        page.wait_for_selector(MAP_FRAME, timeout=90_000)
        frame = page.frame_locator(MAP_FRAME)
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        browser.close()
    assert not outside, f"the installed app reached off the machine: {outside[:5]}"
