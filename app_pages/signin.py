"""Sign-in: who is using the app, and as which role.

Three modes, chosen by how the app is deployed:

- **identity provider** (OpenID Connect through Streamlit's ``st.login``) when ``.streamlit/
  secrets.toml`` has an ``[auth]`` section; the role comes from the user file entry whose
  ``email`` is the signed-in address, else from the claim named by ``CLOSUREMAP_ROLE_CLAIM``
  (e.g. ``roles`` or ``groups``) holding a role name or its database role (``closuremap_partner``);
- **local user file** (``CLOSUREMAP_USERS``): a name and password form, checked against argon2id
  hashes (:mod:`closuremap.layers.users`);
- **single-user**, without either: the name asked once per session, with an analyst's and a
  supervisor's rights, and a notice on every page saying so.

A session that has been idle for ``CLOSUREMAP_SESSION_MINUTES`` (default 480) is signed out with a
message. The signed-in name is what every change records; it cannot be typed over.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from closuremap.layers.access import DB_ROLES, ROLES, role_words
from closuremap.layers.users import (
    SIGN_IN_FAILED,
    UsersFileError,
    load_users,
    session_expired,
    session_minutes,
    user_by_email,
    users_file,
    verify,
)

SESSION_KEY = "signed_in"
EXPIRED_KEY = "signed_out_because"
ROLE_CLAIM_ENV = "CLOSUREMAP_ROLE_CLAIM"
#: The role of single-user mode: one officer with every right (an analyst's and a supervisor's).
SINGLE_USER_ROLE = "supervisor"


@dataclass(frozen=True)
class Identity:
    """Who is signed in: the name every change records, the role, a partner's operation."""

    name: str
    role: str
    operation: str | None = None
    mode: str = "local"  # "local", "oidc" or "single"


def _now() -> datetime:
    return datetime.now(UTC)


def auth_mode() -> str:
    """'oidc' with an ``[auth]`` section in the secrets, 'local' with a user file, else
    'single'."""
    try:
        if "auth" in st.secrets:
            return "oidc"
    except Exception:  # noqa: BLE001 - no secrets file at all: Streamlit raises its own error
        pass
    return "local" if users_file() is not None else "single"


def role_from_claims(claims: Any, claim: str | None) -> str | None:
    """The role a provider's claim gives: a role name or its database role, in a string or a
    list; None when the claim is not configured or holds none of ours.

    >>> role_from_claims({"groups": ["staff", "closuremap_partner"]}, "groups")
    'partner'
    """
    if not claim:
        return None
    value = claims.get(claim) if hasattr(claims, "get") else None
    values: Sequence[Any] = value if isinstance(value, list | tuple) else [value]
    by_db = {db: role for role, db in DB_ROLES.items()}
    for v in values:
        text = str(v or "").strip()
        if text in ROLES:
            return text
        if text in by_db:
            return by_db[text]
    return None


def _oidc_identity() -> Identity | None:
    """The identity from ``st.user`` once the provider has signed the user in."""
    if not st.user.is_logged_in:
        return None
    email = str(st.user.get("email") or "")
    entry = None
    path = users_file()
    # an address the provider says is unverified never takes on a user-file entry's role
    if path is not None and email and st.user.get("email_verified") is not False:
        entry = user_by_email(load_users(path), email)
    role = entry.role if entry else role_from_claims(st.user, os.environ.get(ROLE_CLAIM_ENV))
    if role is None:
        st.error(
            f"Signed in as {email or st.user.get('name')}, but no closuremap role is set for you: "
            "ask an administrator to add your email to the user file with a role."
        )
        if st.button("Sign out", key="signin_oidc_out"):
            st.logout()
        st.stop()
    name = entry.name if entry else str(st.user.get("name") or email)
    return Identity(name, role, entry.operation or None if entry else None, "oidc")


def current_identity(now: Callable[[], datetime] = _now) -> Identity | None:
    """Who is signed in, or None; an idle session past its time is signed out here (with the
    reason kept for the sign-in page). Each call counts as activity."""
    mode = auth_mode()
    if mode == "single":
        return None
    session = st.session_state.get(SESSION_KEY)
    if mode == "oidc" and session is None:
        found = _oidc_identity()
        if found is not None:
            session = {"identity": found, "last_seen": now()}
            st.session_state[SESSION_KEY] = session
    if session is None:
        return None
    if session_expired(session["last_seen"], now(), session_minutes()):
        sign_out(f"You were signed out after {session_minutes()} minutes without activity.")
        return None
    session["last_seen"] = now()
    identity: Identity = session["identity"]
    return identity


def sign_out(reason: str | None = None) -> None:
    """End the session (and the provider's cookie in OIDC mode)."""
    st.session_state.pop(SESSION_KEY, None)
    for key in list(st.session_state):
        if key != EXPIRED_KEY:
            del st.session_state[key]  # nothing of the last user's work stays in the session
    if reason:
        st.session_state[EXPIRED_KEY] = reason
    if auth_mode() == "oidc" and st.user.is_logged_in:
        # st.logout() only queues the browser's trip to /auth/logout (which drops the identity
        # cookie); a rerun started before that message is sent clears the queue and loses it, and
        # the next page load signs the user straight back in. So the run stops here instead.
        st.logout()
        st.stop()


def sign_in_page() -> None:
    """The only page before sign-in: the provider's button, or the name and password form."""
    st.title("Sign in to closuremap")
    reason = st.session_state.pop(EXPIRED_KEY, None)
    if reason:
        st.info(reason)
    if auth_mode() == "oidc":
        st.write("Sign in with your organisation's account.")
        if st.button("Sign in", type="primary", key="signin_oidc"):
            st.login()
        return
    path = users_file()
    with st.form("signin_form", clear_on_submit=True):
        name = st.text_input("Name", key="signin_name")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        user = verify(load_users(path), name, password) if path is not None else None
    except UsersFileError as exc:
        st.error(str(exc))
        return
    if user is None:
        st.error(SIGN_IN_FAILED)
        return
    st.session_state[SESSION_KEY] = {
        "identity": Identity(user.name, user.role, user.operation or None, "local"),
        "last_seen": _now(),
    }
    st.rerun()


def signed_in_sidebar(identity: Identity) -> None:
    """Who is signed in, as what, and the way out."""
    with st.sidebar:
        st.markdown(f"Signed in as **{identity.name}** ({role_words(identity.role)})")
        if st.button("Sign out", key="signout"):
            sign_out("You signed out.")
            st.rerun()
        st.caption(
            "Every save, import and document records this name. Sessions end after "
            f"{session_minutes()} minutes without activity."
        )
