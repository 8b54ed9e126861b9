"""GeoPackage geometry blobs (OGC 12-128r18 §2.1.3): a small header, an envelope, then WKB.

We write features through sqlite3 ourselves so a whole import or edit is one transaction; GDAL
created the tables, their R-tree and its triggers. The triggers call ``ST_IsEmpty`` and
``ST_MinX`` etc., which :func:`register_functions` provides on our connection.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

import shapely

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode(geoms: Iterable[shapely.Geometry | None], srs_id: int) -> list[bytes | None]:
    """GeoPackage blobs (little-endian, XY envelope) for the geometries."""
    arr = np.asarray(list(geoms), dtype=object)
    wkbs = shapely.to_wkb(arr, byte_order=1, output_dimension=2)
    bounds = shapely.bounds(arr).tolist()
    empty = shapely.is_empty(arr).tolist()
    out: list[bytes | None] = []
    srs = struct.pack("<i", srs_id)
    for g, wkb, is_empty, (minx, miny, maxx, maxy) in zip(arr, wkbs, empty, bounds, strict=True):
        if g is None:
            out.append(None)
        elif is_empty:
            out.append(b"GP\x00\x11" + srs + wkb)  # empty flag, no envelope
        else:
            out.append(b"GP\x00\x03" + srs + struct.pack("<4d", minx, maxx, miny, maxy) + wkb)
    return out


def _wkb_offset(blob: bytes) -> int:
    flags = blob[3]
    return 8 + _ENVELOPE_BYTES[(flags >> 1) & 0x07]


def decode(blobs: Iterable[bytes | None]) -> NDArray[np.object_]:
    """Shapely geometries from GeoPackage blobs (None stays None)."""
    wkbs = [None if b is None else bytes(b[_wkb_offset(b) :]) for b in blobs]
    return shapely.from_wkb(np.asarray(wkbs, dtype=object))


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP" or blob[3] & 0x10:
        return None
    if (blob[3] >> 1) & 0x07:
        minx, maxx, miny, maxy = struct.unpack_from("<4d" if blob[3] & 1 else ">4d", blob, 8)
        return minx, maxx, miny, maxy
    g = shapely.from_wkb(bytes(blob[_wkb_offset(blob) :]))
    minx, miny, maxx, maxy = g.bounds
    return minx, maxx, miny, maxy


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions GDAL's R-tree triggers call, so our inserts keep the index current."""
    conn.create_function(
        "ST_IsEmpty", 1, lambda b: 1 if _envelope(b) is None else 0, deterministic=True
    )
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(
            name,
            1,
            lambda b, i=i: None if (e := _envelope(b)) is None else e[i],
            deterministic=True,
        )
