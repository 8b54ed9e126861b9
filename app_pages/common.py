"""What every page shares: which workspace is open, cached reads, the error box."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import streamlit as st

from layers.model import KINDS
from layers.sample import build_sample_workspace
from layers.store import GeoPackageStore, open_workspace

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKSPACE = ROOT / "workspace" / "sample.gpkg"


def workspace_path() -> Path:
    """``CLOSUREMAP_WORKSPACE`` if set, else the sample workspace (built on first use)."""
    return Path(os.environ.get("CLOSUREMAP_WORKSPACE") or DEFAULT_WORKSPACE)


def open_current() -> GeoPackageStore:
    path = workspace_path()
    if not path.exists() and path.resolve() == DEFAULT_WORKSPACE.resolve():
        bar = st.progress(0.0, text="Building the sample workspace…")
        build_sample_workspace(path, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
        bar.empty()
    return open_workspace(path)  # type: ignore[return-value]


def _version(store: GeoPackageStore) -> float:
    return store.path.stat().st_mtime_ns


@st.cache_data(show_spinner="Reading layers…", max_entries=4)
def _read_all(location: str, version: float) -> dict[str, gpd.GeoDataFrame]:
    store = open_workspace(location)
    return {kind: store.read(kind) for kind in KINDS}


def read_layers(store: GeoPackageStore) -> dict[str, gpd.GeoDataFrame]:
    """Every layer, cached until the workspace file changes."""
    return _read_all(store.location, _version(store))


def workspace_or_stop() -> tuple[GeoPackageStore, dict[str, gpd.GeoDataFrame]]:
    """The open workspace and its layers, or the error shown and the page stopped: the one place
    pages turn a ClosuremapError into a sentence."""
    from geo.errors import ClosuremapError

    try:
        store = open_current()
        return store, dict(read_layers(store))
    except ClosuremapError as exc:
        st.error(str(exc))
        st.stop()
        raise  # st.stop() raises; this line only satisfies type checkers


def attribution(store: GeoPackageStore, *, short: bool = False) -> list[str]:
    """The workspace's data attributions (short: the forms that fit the map's corner)."""
    raw = (short and store.get_meta("attribution_short")) or store.get_meta("attribution")
    return list(json.loads(raw)) if raw else []


def user_name() -> str:
    return st.session_state.get("user_name") or os.environ.get("CLOSUREMAP_USER") or "app user"
