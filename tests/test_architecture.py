"""The layering rules hold because a test says so."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI = {"streamlit", "folium", "streamlit_folium", "branca"}


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
