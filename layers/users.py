"""The local user file of a standalone install: who may sign in, with which role.

One entry per person: ``name`` (what the audit trail records), ``role`` (one of
:data:`closuremap.layers.access.ROLES`), an argon2id ``hash`` of the password (argon2-cffi, its
default parameters), and optionally ``email`` (matched when the app signs in through the force's
identity provider) and ``operation`` (a partner sees only that operation's orders). The file is
TOML (``[[users]]`` tables) or JSON (``{"users": [...]}``) by its extension; the path is in
``CLOSUREMAP_USERS``. A password is never stored, printed or logged; only its hash is kept.

Sessions expire after ``CLOSUREMAP_SESSION_MINUTES`` minutes without activity (default
:data:`DEFAULT_SESSION_MINUTES`); :func:`session_expired` takes the clock as a value.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from closuremap.geo.errors import WorkspaceError

from .access import ROLES

USERS_ENV = "CLOSUREMAP_USERS"
SESSION_ENV = "CLOSUREMAP_SESSION_MINUTES"
DEFAULT_SESSION_MINUTES = 480  # a working shift
#: What a failed sign-in says, whether the name or the password was wrong: the form must not tell
#: an attacker which names exist.
SIGN_IN_FAILED = "That name and password do not match a user of this install."

_HASHER = PasswordHasher()  # argon2id, argon2-cffi's RFC 9106 low-memory defaults


class UsersFileError(WorkspaceError):
    """A user file that cannot be read or written, or a user or role that is not in it."""


@dataclass(frozen=True)
class User:
    """One person who may sign in."""

    name: str
    role: str
    hash: str = ""
    email: str = ""
    operation: str = ""

    def record(self) -> dict[str, str]:
        """The entry as the file keeps it (empty optional fields left out)."""
        out = {"name": self.name, "role": self.role, "hash": self.hash}
        out.update({k: v for k, v in (("email", self.email), ("operation", self.operation)) if v})
        return out


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, salted: what the file keeps instead of the password."""
    if len(password) < 8:
        raise UsersFileError("a password needs at least 8 characters")
    return _HASHER.hash(password)


def check_role(role: str) -> str:
    """``role`` if it is one of ours, else an error listing the roles."""
    if role not in ROLES:
        raise UsersFileError(f"role '{role}' is not one of: {', '.join(ROLES)}")
    return role


def users_file() -> Path | None:
    """The user file named by ``CLOSUREMAP_USERS``, or None (single-user mode)."""
    value = os.environ.get(USERS_ENV, "").strip()
    return Path(value) if value else None


def session_minutes() -> int:
    """Minutes idle before a signed-in session ends (``CLOSUREMAP_SESSION_MINUTES``)."""
    value = os.environ.get(SESSION_ENV, "").strip()
    try:
        minutes = int(value) if value else DEFAULT_SESSION_MINUTES
    except ValueError:
        raise UsersFileError(f"{SESSION_ENV} '{value}' is not a whole number of minutes") from None
    if minutes < 1:
        raise UsersFileError(f"{SESSION_ENV} must be at least 1 minute")
    return minutes


def session_expired(last_seen: datetime, now: datetime, minutes: int) -> bool:
    """Whether a session last active at ``last_seen`` has ended by ``now``."""
    return now - last_seen > timedelta(minutes=minutes)


def load_users(path: Path) -> list[User]:
    """Every user in the file (an empty list for a file not made yet)."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise UsersFileError(f"{path}: not a user file I can read ({exc})") from None
    entries = data.get("users", []) if isinstance(data, dict) else []
    users = []
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
            raise UsersFileError(f"{path}: user {i} has no name")
        users.append(
            User(
                name=str(entry["name"]).strip(),
                role=check_role(str(entry.get("role", ""))),
                hash=str(entry.get("hash", "")),
                email=str(entry.get("email", "")).strip(),
                operation=str(entry.get("operation", "")).strip(),
            )
        )
    return users


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string with ASCII escapes is a TOML basic string


def save_users(path: Path, users: Iterable[User]) -> None:
    """Write the file whole (a temporary file renamed over it), readable only by its owner."""
    records = [u.record() for u in users]
    if path.suffix.lower() == ".json":
        text = json.dumps({"users": records}, indent=2) + "\n"
    else:
        text = "# closuremap users: manage with `closuremap users add|remove|set-role|list`\n"
        for r in records:
            text += "\n[[users]]\n" + "".join(f"{k} = {_toml_string(v)}\n" for k, v in r.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def find_user(users: Iterable[User], name: str) -> User | None:
    """The user called ``name`` (case and surrounding spaces ignored), or None."""
    key = name.strip().casefold()
    return next((u for u in users if u.name.casefold() == key), None)


def user_by_email(users: Iterable[User], email: str) -> User | None:
    """The user whose ``email`` is ``email`` (case ignored), or None."""
    key = email.strip().casefold()
    return next((u for u in users if key and u.email.casefold() == key), None)


def verify(users: Iterable[User], name: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None, the same for an unknown name and a wrong
    password (an unknown name still costs one hash, so timing does not tell them apart)."""
    user = find_user(users, name)
    try:
        if user is None or not user.hash:
            _HASHER.verify(_DUMMY, password + "x")
            return None
        _HASHER.verify(user.hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return user


_DUMMY = _HASHER.hash("not a password of anyone")


def add_user(path: Path, user: User) -> None:
    """Add a user; a name already in the file is refused."""
    users = load_users(path)
    if find_user(users, user.name):
        raise UsersFileError(f"{user.name} is already in {path}; use `users set-role` or remove")
    check_role(user.role)
    save_users(path, [*users, user])


def remove_user(path: Path, name: str) -> None:
    """Take a user out of the file."""
    users = load_users(path)
    if find_user(users, name) is None:
        raise UsersFileError(f"no user '{name}' in {path}")
    save_users(path, [u for u in users if u.name.casefold() != name.strip().casefold()])


def set_role(path: Path, name: str, role: str) -> None:
    """Change a user's role."""
    users = load_users(path)
    user = find_user(users, name)
    if user is None:
        raise UsersFileError(f"no user '{name}' in {path}")
    check_role(role)
    save_users(
        path,
        [User(u.name, role, u.hash, u.email, u.operation) if u is user else u for u in users],
    )
