"""What every page shares: who is signed in and as which role, the workspace opened for them,
cached reads, the error box, downloads.

Every page opens the workspace through :func:`open_current`, which wraps it in the role guard
(:class:`closuremap.layers.access.RoleStore`): a page can hide a button, but what stops a partner's
or a ward member's session from reading or writing beyond the role is the guard."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

import geopandas as gpd

from closuremap.app_pages.signin import (
    SINGLE_USER_ROLE,
    Identity,
    current_identity,
    signed_in_sidebar,
)
from closuremap.geo.errors import ClosuremapError
from closuremap.layers.access import RoleStore, may, open_for, role_words
from closuremap.layers.documents import workspace_attribution
from closuremap.layers.model import KINDS
from closuremap.layers.sample import build_sample_workspace
from closuremap.layers.store import GeoPackageStore

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKSPACE = ROOT / "workspace" / "sample.gpkg"


def workspace_location() -> str:
    """``CLOSUREMAP_WORKSPACE`` (a .gpkg path or a postgresql:// URL) if set, else the sample
    workspace (built on first use)."""
    return os.environ.get("CLOSUREMAP_WORKSPACE") or str(DEFAULT_WORKSPACE)


#: The pages, in the order the navigation lists them, each with the actions that let a role see
#: it (any one of them). A ward member's app is the briefing alone.
PAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("app_pages/map.py", "Map", ("read_exact_points",)),
    ("app_pages/draw.py", "Draw and edit", ("edit",)),
    ("app_pages/orders.py", "Closure orders", ("read_exact_points",)),
    ("app_pages/documents.py", "Documents", ("documents", "letters", "comment", "record_service")),
    ("app_pages/briefing.py", "Ward briefing", ("briefing",)),
    ("app_pages/evaluation.py", "Evaluation", ("evaluation",)),
    ("app_pages/layers.py", "Layers: import & export", ("read_exact_points",)),
    ("app_pages/review.py", "Geocoding review", ("geocode",)),
    ("app_pages/about.py", "About the data", ("read_exact_points",)),
)


def pages_for(role: str) -> list[tuple[str, str]]:
    """The (script, title) of every page ``role`` may open."""
    return [(path, title) for path, title, actions in PAGES if any(may(role, a) for a in actions)]


def identity() -> Identity | None:
    """The signed-in user (None in single-user mode, or before sign-in)."""
    found = st.session_state.get("_identity_this_run")
    return found if isinstance(found, Identity) else None


def start_session() -> Identity | None:
    """Run once per page run by app.py: the signed-in identity (expiry checked), kept for the
    run's other calls; None in single-user mode and before sign-in."""
    found = current_identity()
    st.session_state["_identity_this_run"] = found
    return found


def current_role() -> str:
    """The role this session acts as: the signed-in one, or single-user mode's."""
    who = identity()
    return who.role if who else SINGLE_USER_ROLE


def role_may(action: str) -> bool:
    """Whether this session's role may take ``action``: to hide what it cannot do (the guard
    refuses it anyway)."""
    return may(current_role(), action)


def _operation() -> str | None:
    who = identity()
    return who.operation if who else None


def open_current() -> RoleStore:
    """The workspace opened for this session's user and role."""
    location = workspace_location()
    if Path(location).resolve() == DEFAULT_WORKSPACE.resolve() and not DEFAULT_WORKSPACE.exists():
        bar = st.progress(0.0, text="Building the sample workspace…")
        build_sample_workspace(
            DEFAULT_WORKSPACE, progress=lambda f, m: bar.progress(min(f, 1.0), text=m)
        )
        bar.empty()
    return open_for(location, role=current_role(), user=acting_user(), operation=_operation())


def workspace_version(store: GeoPackageStore | RoleStore) -> str:
    """Changes whenever the workspace is written, by anyone: the key of every cached read. SQLite's
    change counter is in it, so two writes within the file clock's tick still differ."""
    return store.content_version()


@st.cache_data(show_spinner="Reading layers…", max_entries=4)
def _read_all(
    location: str, version: str, role: str, operation: str | None
) -> dict[str, gpd.GeoDataFrame]:
    store = open_for(location, role=role, user=None, operation=operation)
    return {kind: store.read(kind) for kind in KINDS}


def read_layers(store: RoleStore) -> dict[str, gpd.GeoDataFrame]:
    """Every layer the role may read, cached until the workspace changes (and per role: the
    version has the role in it)."""
    return _read_all(store.location, workspace_version(store), store.role, store.operation)


@dataclass
class Outcome:
    """What became of a block run under :func:`reporting_errors`: the error shown, if any."""

    error: ClosuremapError | None = None

    @property
    def ok(self) -> bool:
        """True when the block ran to its end."""
        return self.error is None


def sentence(
    error: ClosuremapError, field: str | None = None, values: Mapping[str, object] | None = None
) -> str:
    """The error as the page says it, led by the field it is about: ``field``, else the field of
    ``values`` (label: what the user gave) whose value the message quotes; not when the message
    names that field already."""
    message = str(error)
    if field is None:
        field = next(
            (label for label, value in (values or {}).items() if value and f"'{value}'" in message),
            None,
        )
    if field is None or field.lower() in message.lower():
        return message
    return f"{field}: {message}"


@contextmanager
def reporting_errors(
    field: str | None = None,
    *,
    values: Mapping[str, object] | None = None,
    stop: bool = False,
    warn: bool = False,
) -> Iterator[Outcome]:
    """Run the block; a ClosuremapError raised in it is shown as one sentence naming the field
    (see :func:`sentence`), and the page goes on, or stops with ``stop``; ``warn`` shows it as a
    warning, for an optional extra that could not be drawn. The one place pages turn an error into
    words: any other exception is a bug and shows as one."""
    outcome = Outcome()
    try:
        yield outcome
    except ClosuremapError as exc:
        outcome.error = exc
        (st.warning if warn else st.error)(sentence(exc, field, values))
        if stop:
            st.stop()
            raise  # st.stop() ends a page run; outside one, the error goes on up


def workspace_or_stop() -> tuple[RoleStore, dict[str, gpd.GeoDataFrame]]:
    """The open workspace and its layers, or the error shown and the page stopped."""
    with reporting_errors(stop=True):
        store = open_current()
        return store, dict(read_layers(store))
    raise AssertionError("reporting_errors(stop=True) lets no error through")


def offer_download(
    label: str, data: bytes, file_name: str, mime: str, key: str, *, primary: bool = False
) -> None:
    """A download button that does not rerun the page: taking one file leaves the rest on offer."""
    st.download_button(
        label,
        data,
        file_name=file_name,
        mime=mime,
        on_click="ignore",
        key=key,
        type="primary" if primary else "secondary",
    )


def attribution(store: GeoPackageStore, *, short: bool = False) -> list[str]:
    """The workspace's data attributions (short: the forms that fit the map's corner)."""
    return workspace_attribution(store, short=short)


IDENTITY_KEY = "acting_user"


def identity_sidebar() -> None:
    """Who is acting: the signed-in user, or in single-user mode the name asked once per browser
    session (``CLOSUREMAP_USER`` fills it in for a one-officer install). The name every save,
    import and document records."""
    signed_in = identity()
    if signed_in is not None:
        signed_in_sidebar(signed_in)
        return
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
            "history and every document's 'Prepared by' record, and it acts with an analyst's "
            f"and a {role_words(SINGLE_USER_ROLE)}'s rights. A shared install signs users in "
            "(CLOSUREMAP_USERS or the force's identity provider)."
        )


def acting_user() -> str | None:
    """The signed-in name, else the name given in the sidebar, else None."""
    signed_in = identity()
    if signed_in is not None:
        return signed_in.name
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
