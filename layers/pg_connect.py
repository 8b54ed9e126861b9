"""Connections to a PostGIS workspace: from a ``postgresql://`` URL plus libpq's own settings
(``PG*`` environment variables, ``~/.pgpass`` or ``PGPASSFILE``), and never a password shown.

A password belongs in ``.pgpass`` (or ``PGPASSWORD``), where libpq finds it; one written into the
URL works too, but the URL a user sees (``store.location``, messages, logs) is always masked
(:func:`masked`), and what psycopg says when a connection fails is put into our own words, with
any password scrubbed out, so it cannot leak through an error either. A masked location opened
again in the same process (a page re-opening ``store.location``) finds the URL it was made from
(:func:`unmasked`): the password stays in this process's memory, never in text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg

from closuremap.geo.errors import WorkspaceError

from .locations import database_name, masked, scrub

#: How long to wait for a server that does not answer (seconds) before saying so.
CONNECT_TIMEOUT_S = 10


def reworded(exc: psycopg.Error, url: str) -> WorkspaceError:
    """A failed connection in the user's terms: what is wrong with the workspace and how to fix
    it, never psycopg's text with a password or a URL in it."""
    shown = masked(url)
    text = str(exc)
    low = text.lower()
    db = database_name(url)
    if "does not exist" in low and "database" in low:
        return WorkspaceError(
            f"the database '{db}' does not exist on the server of {shown}; create it "
            f"(createdb {db}) with PostGIS, then run `closuremap init {shown}`"
        )
    if "password authentication failed" in low or "no password supplied" in low:
        return WorkspaceError(
            f"the server refused the login of {shown}: put the password in ~/.pgpass "
            "(host:port:database:user:password, mode 600) or PGPASSWORD, not on the command line"
        )
    if "role" in low and "does not exist" in low:
        return WorkspaceError(f"the server has no login named in {shown}; ask its administrator")
    if any(
        s in low
        for s in (
            "connection refused",
            "could not connect",
            "timeout expired",
            "could not translate host name",
            "name or service not known",
            "no route to host",
            "network is unreachable",
            "connection failed",
        )
    ):
        return WorkspaceError(
            f"cannot reach the PostgreSQL server of {shown}: is it running, and are the host "
            "and port right?"
        )
    if "invalid" in low and ("dsn" in low or "uri" in low or "conninfo" in low):
        return WorkspaceError(
            f"{shown} is not a usable PostgreSQL URL: write postgresql://USER@HOST:PORT/DATABASE"
        )
    first = scrub(text.strip().splitlines()[0] if text.strip() else type(exc).__name__, url)
    return WorkspaceError(f"could not use the workspace {shown}: {first}")


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A connection to ``url`` (password from the URL, ``PGPASSWORD`` or ``.pgpass``), or a
    :class:`WorkspaceError` saying what is wrong. It commits each statement unless inside
    ``conn.transaction()``: every write here is such a block, so nothing waits in an implicit
    transaction that closing the connection would silently roll back."""
    try:
        urlsplit(url).port  # noqa: B018 - a bad port raises here, before libpq sees it
    except ValueError:
        raise WorkspaceError(
            f"{masked(url)} is not a usable PostgreSQL URL: write "
            "postgresql://USER@HOST:PORT/DATABASE"
        ) from None
    try:
        return psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="closuremap",
        )
    except psycopg.Error as exc:
        raise reworded(exc, url) from None


@contextmanager
def connection(url: str, *, autocommit: bool = True) -> Iterator[psycopg.Connection]:
    """A connection for one piece of work, closed after; a database error in it reworded."""
    conn = connect(url, autocommit=autocommit)
    try:
        yield conn
    except psycopg.errors.InsufficientPrivilege as exc:
        raise WorkspaceError(
            f"your login may not do this in {masked(url)}: "
            f"{scrub(str(exc).splitlines()[0], url)}; ask the workspace's administrator"
        ) from None
    except psycopg.OperationalError as exc:
        raise reworded(exc, url) from None
    finally:
        conn.close()
