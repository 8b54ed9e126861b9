"""Workspace locations as text: a GeoPackage path or a ``postgresql://`` URL, and a URL as it may be
shown (any password masked). Plain string work, so the commands that only need to tell the two
apart, or show one, do not load psycopg (over a second of start-up on a busy machine).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")
MASK = "***"
#: A masked location -> the URL it was made from, for this process only.
_OPENED: dict[str, str] = {}


def is_url(location: object) -> bool:
    """Whether a workspace location names a PostGIS database rather than a GeoPackage file."""
    return str(location).lower().startswith(SCHEMES)


def _password(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        return None if parts.password is None else unquote(parts.password)
    except ValueError:
        return None


def masked(url: str) -> str:
    """The URL as it may be shown: any password replaced by ``***``; a ``password=`` query
    parameter too."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^@/]*@", "//" + MASK + "@", url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        name = user.split(":", 1)[0]
        netloc = f"{name}:{MASK}@{host}"
    query = re.sub(r"(?i)(^|&)(password)=[^&]*", rf"\1\2={MASK}", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def remember(url: str) -> str:
    """The masked location of ``url``, remembered so :func:`unmasked` can reopen it."""
    shown = masked(url)
    _OPENED[shown] = url
    return shown


def unmasked(location: str) -> str:
    """The URL a masked location was made from in this process, else the location itself."""
    return _OPENED.get(location, location)


def database_name(url: str) -> str:
    """The database a URL names (libpq's default, the user's name, if none)."""
    try:
        return unquote(urlsplit(url).path.lstrip("/")) or "(default)"
    except ValueError:
        return "(unknown)"


def scrub(text: str, url: str) -> str:
    """``text`` with the URL's password (if any) and the URL itself replaced by masked forms."""
    out = text.replace(url, masked(url))
    secret = _password(url)
    if secret:
        out = out.replace(secret, MASK)
    return " ".join(out.split())
