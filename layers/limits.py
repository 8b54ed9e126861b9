"""How big a file closuremap will take, as settings: refused with a clear message before parsing.

A police laptop or a shared server must not be exhausted by one file (a 2 GB CSV, a 20,000-column
sheet, a polygon of millions of vertices). Each limit is an environment variable, so a deployment
sets it once; the defaults take a force's year of CAD calls with room to spare. Imports stream in
chunks of ``CLOSUREMAP_CHUNK_ROWS`` rows, so memory stays bounded whatever the row count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from closuremap.geo.errors import LimitError

#: setting name -> default
DEFAULTS = {
    "CLOSUREMAP_MAX_FILE_MB": 4096,
    "CLOSUREMAP_MAX_ROWS": 10_000_000,
    "CLOSUREMAP_MAX_COLUMNS": 1_000,
    "CLOSUREMAP_MAX_VERTICES": 1_000_000,
    "CLOSUREMAP_CHUNK_ROWS": 50_000,
}


def _setting(name: str) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return int(DEFAULTS[name])
    try:
        value = int(float(text))
    except ValueError:
        raise LimitError(
            f"the setting {name}={text!r} is not a number; give a whole number "
            f"(default {DEFAULTS[name]})"
        ) from None
    if value < 1:
        raise LimitError(
            f"the setting {name}={text!r} must be at least 1 (default {DEFAULTS[name]})"
        )
    return value


@dataclass(frozen=True)
class Limits:
    """The limits in force; :meth:`from_env` reads the settings."""

    file_mb: int = DEFAULTS["CLOSUREMAP_MAX_FILE_MB"]
    rows: int = DEFAULTS["CLOSUREMAP_MAX_ROWS"]
    columns: int = DEFAULTS["CLOSUREMAP_MAX_COLUMNS"]
    vertices: int = DEFAULTS["CLOSUREMAP_MAX_VERTICES"]
    chunk_rows: int = DEFAULTS["CLOSUREMAP_CHUNK_ROWS"]

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            _setting("CLOSUREMAP_MAX_FILE_MB"),
            _setting("CLOSUREMAP_MAX_ROWS"),
            _setting("CLOSUREMAP_MAX_COLUMNS"),
            _setting("CLOSUREMAP_MAX_VERTICES"),
            _setting("CLOSUREMAP_CHUNK_ROWS"),
        )

    def check_file(self, path: Path) -> None:
        """Refuse a file over the size limit before a byte of it is parsed."""
        size = path.stat().st_size
        if size > self.file_mb * 1024 * 1024:
            raise LimitError(
                f"{path}: the file is {size / 1024**2:,.0f} MB; the limit is {self.file_mb:,} MB "
                "(setting CLOSUREMAP_MAX_FILE_MB). Split it by month, or raise the limit"
            )

    def check_columns(self, path: Path, count: int) -> None:
        if count > self.columns:
            raise LimitError(
                f"{path}: the file has {count:,} columns; the limit is {self.columns:,} "
                "(setting CLOSUREMAP_MAX_COLUMNS). Keep the columns you need, or raise the limit"
            )

    def check_rows(self, path: Path, count: int) -> None:
        if count > self.rows:
            raise LimitError(
                f"{path}: the file has more than {self.rows:,} rows (setting CLOSUREMAP_MAX_ROWS); "
                "nothing was imported. Split it, or raise the limit"
            )

    def vertex_reason(self, count: int) -> str | None:
        """Why one feature is refused for its size (or None): the others are still imported."""
        if count > self.vertices:
            return (
                f"has {count:,} vertices; the limit is {self.vertices:,} per feature (setting "
                "CLOSUREMAP_MAX_VERTICES): simplify it in QGIS, or raise the limit"
            )
        return None
