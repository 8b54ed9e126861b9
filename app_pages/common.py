"""What every page shares: which workspace is open, cached reads, the error box."""

from __future__ import annotations

import json
import os
from pathlib import Path

import streamlit as st

import geopandas as gpd

from closuremap.layers.model import KINDS
from closuremap.layers.sample import build_sample_workspace
from closuremap.layers.store import GeoPackageStore, open_workspace

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


def workspace_version(store: GeoPackageStore) -> float:
    """Changes whenever the workspace file is written: the key of every cached read."""
    return store.path.stat().st_mtime_ns


@st.cache_data(show_spinner="Reading layers…", max_entries=4)
def _read_all(location: str, version: float) -> dict[str, gpd.GeoDataFrame]:
    store = open_workspace(location)
    return {kind: store.read(kind) for kind in KINDS}


def read_layers(store: GeoPackageStore) -> dict[str, gpd.GeoDataFrame]:
    """Every layer, cached until the workspace file changes."""
    return _read_all(store.location, workspace_version(store))


def workspace_or_stop() -> tuple[GeoPackageStore, dict[str, gpd.GeoDataFrame]]:
    """The open workspace and its layers, or the error shown and the page stopped: the one place
    pages turn a ClosuremapError into a sentence."""
    from closuremap.geo.errors import ClosuremapError

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


IDENTITY_KEY = "acting_user"


def identity_sidebar() -> None:
    """Ask who is acting, once per browser session: the name every save, import and document
    records. ``CLOSUREMAP_USER`` fills it in for a one-officer install."""
    env = os.environ.get("CLOSUREMAP_USER", "").strip()
    if not st.session_state.get(IDENTITY_KEY) and env:
        st.session_state[IDENTITY_KEY] = env
    with st.sidebar:
        who = st.session_state.get(IDENTITY_KEY)
        if who:
            st.markdown(f"Acting as **{who}**")
            if st.button("Change who is acting", key="identity_change"):
                del st.session_state[IDENTITY_KEY]
                st.rerun()
        else:
            st.markdown("**Who is acting?** Every change is recorded with your name.")
            name = st.text_input("Your name", key="identity_name")
            number = st.text_input("Collar or staff number", key="identity_number")
            if st.button("Use this name", key="identity_set"):
                if name.strip():
                    st.session_state[IDENTITY_KEY] = (
                        f"{name.strip()} ({number.strip()})" if number.strip() else name.strip()
                    )
                    st.rerun()
                else:
                    st.error("Type your name first.")
        st.caption(
            "Single-user mode: no sign-in. The name above is what the audit trail, the version "
            "history and every document's 'Prepared by' record."
        )


def acting_user() -> str | None:
    """The name given in the sidebar, or None."""
    return st.session_state.get(IDENTITY_KEY) or None


def require_user() -> str | None:
    """The acting user, or an error on the page saying where to give a name (and None): nothing is
    saved, imported or made without a name."""
    who = acting_user()
    if not who:
        st.error(
            "Give your name in the sidebar first: every save, import and document is recorded with "
            "who made it."
        )
    return who
