"""The layering rules hold because a test says so."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI = {"streamlit", "folium", "streamlit_folium", "branca"}
# The folders and module installed as closuremap.geo, closuremap.layers, ... (pyproject.toml).
# Imported bare, they resolve only when the repository is on sys.path (pytest puts it there, and
# so does running from the checkout), so a bare import passes here and breaks in the wheel.
BARE = {"geo", "layers", "reports", "cli", "app_pages", "app"}
# Calls whose first argument names a module or an object by its dotted path.
BY_NAME = {"patch", "setattr", "delattr", "import_module", "__import__"}
SKIP = {".venv", "build", ".git", "closuremap.egg-info", "node_modules"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "geo").rglob("*.py")), ids=lambda p: p.name)
def test_geo_never_imports_ui(path: Path) -> None:
    assert not (_imports(path) & UI), (
        f"{path} imports {_imports(path) & UI}: geo/ must stay UI-free"
    )


@pytest.mark.parametrize("path", sorted((ROOT / "layers").rglob("*.py")), ids=lambda p: p.name)
def test_layers_never_import_streamlit(path: Path) -> None:
    assert "streamlit" not in _imports(path), (
        f"{path}: layers/ renders with folium, never streamlit"
    )


def test_the_check_would_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import folium\nfrom streamlit import session_state\n")
    assert _imports(bad) & UI == {"folium", "streamlit"}


def _sources() -> list[Path]:
    """Every Python file of the repository: the app, its packages, tests, bench/, data scripts."""
    return sorted(
        p
        for p in ROOT.rglob("*.py")
        if not SKIP & set(p.relative_to(ROOT).parts) and not p.name.startswith(".")
    )


def bare_imports(path: Path, code_in_strings: bool = True) -> list[str]:
    """Where ``path`` reaches our code by a bare top-level name instead of ``closuremap.*`` or a
    relative import: import statements, code in strings (``python -c "from cli import main"``),
    and dotted names handed to patch/setattr/import_module. Each as ``line: what``."""
    found: list[str] = []

    def check(tree: ast.AST, line: int | None = None) -> None:
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                first = node.args[0]
                if called in BY_NAME and isinstance(first, ast.Constant):
                    names = [first.value] if isinstance(first.value, str) else []
            elif (
                code_in_strings
                and isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "import" in node.value
            ):
                try:
                    code = ast.parse(node.value)
                except SyntaxError:
                    continue  # prose, not code
                check(code, node.lineno if line is None else line)
            for name in names:
                if name.split(".")[0] in BARE:
                    at = line if line is not None else getattr(node, "lineno", 0)
                    found.append(f"{at}: {name}")

    check(ast.parse(path.read_text(), filename=str(path)))
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_our_code_is_imported_as_closuremap(path: Path) -> None:
    """Bare ``geo``/``layers``/``reports``/``cli``/``app_pages`` pass only while the checkout is
    on sys.path: the installed wheel has ``closuremap.*`` alone. (This file's strings hold the
    wrong imports the check must catch, so only its own imports are checked.)"""
    found = bare_imports(path, code_in_strings=path != Path(__file__).resolve())
    assert found == [], (
        f"{path.relative_to(ROOT)} reaches our code by a bare name (use closuremap.*, or a "
        f"relative import within geo/, layers/ or reports/): {found}"
    )


def test_the_bare_import_check_would_catch_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import geo.crs\n"
        "from layers.store import GeoPackageStore\n"
        "from closuremap.reports import letters\n"  # fine
        "from .crs import to_bng\n"  # fine: relative
        "import geopandas\n"  # fine: not ours, though it starts with geo
        "def f(monkeypatch):\n"
        "    monkeypatch.setattr('cli.main', print)\n"
        "    run([sys.executable, '-c', 'import sys; from cli import main; sys.exit(main())'])\n"
    )
    assert bare_imports(bad) == ["1: geo.crs", "2: layers.store", "7: cli.main", "8: cli"]
    assert len(_sources()) > 100 and ROOT / "app.py" in _sources()
