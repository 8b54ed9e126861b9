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
    """GeoPackage blobs (little-endian, XY envelope) for the geometries.

    Headers and envelopes are laid out by NumPy for the whole array and only joined to each WKB
    in Python: a million points in well under a second."""
    arr = _object_array(geoms)
    missing = shapely.is_missing(arr)
    if _all_points(arr, missing):
        return _encode_points(arr, missing, srs_id)
    wkbs = shapely.to_wkb(arr, byte_order=1, output_dimension=2).tolist()
    empty = (shapely.is_empty(arr) & ~missing).tolist()
    head = np.zeros(len(arr), dtype=_HEADER)
    head["magic"] = b"GP\x00\x03"
    head["srs"] = srs_id
    head["envelope"] = shapely.bounds(arr)[:, [0, 2, 1, 3]]  # minx, maxx, miny, maxy
    size = _HEADER.itemsize
    heads = head.tobytes()
    empty_head = b"GP\x00\x11" + struct.pack("<i", srs_id)  # empty flag, no envelope
    return [
        None
        if wkb is None
        else (empty_head + wkb if is_empty else heads[i * size : (i + 1) * size] + wkb)
        for i, (wkb, is_empty) in enumerate(zip(wkbs, empty, strict=True))
    ]


_HEADER = np.dtype([("magic", "S4"), ("srs", "<i4"), ("envelope", "<f8", (4,))])
#: A point's whole blob: the header, then its WKB (little-endian, type 1, x, y), 61 bytes.
_POINT = np.dtype(
    [
        ("magic", "S4"),
        ("srs", "<i4"),
        ("envelope", "<f8", (4,)),
        ("order", "u1"),
        ("type", "<u4"),
        ("xy", "<f8", (2,)),
    ]
)


def _all_points(arr: NDArray[np.object_], missing: NDArray[np.bool_]) -> bool:
    """Whether every geometry present is a non-empty point (an incident layer's usual batch)."""
    present = arr[~missing]
    return bool(len(present)) and bool(
        (shapely.get_type_id(present) == shapely.GeometryType.POINT).all()
        and not shapely.is_empty(present).any()
    )


def _encode_points(
    arr: NDArray[np.object_], missing: NDArray[np.bool_], srs_id: int
) -> list[bytes | None]:
    """Points' blobs written by NumPy in one buffer and cut into rows: no WKB writer per point."""
    xy = shapely.get_coordinates(arr)  # one row per point present, in order
    rec = np.zeros(int((~missing).sum()), dtype=_POINT)
    rec["magic"] = b"GP\x00\x03"
    rec["srs"] = srs_id
    rec["envelope"] = xy[:, [0, 0, 1, 1]]  # minx, maxx, miny, maxy
    rec["order"] = 1
    rec["type"] = 1
    rec["xy"] = xy
    # a raw (void) view hands each record over as bytes, trailing zero bytes kept
    blobs: list[bytes] = np.frombuffer(rec.tobytes(), dtype=f"V{_POINT.itemsize}").tolist()
    if not missing.any():
        out: list[bytes | None] = list(blobs)
        return out
    out = [None] * len(arr)
    for i, blob in zip(np.flatnonzero(~missing).tolist(), blobs, strict=True):
        out[i] = blob
    return out


def _object_array(geoms: Iterable[shapely.Geometry | None]) -> NDArray[np.object_]:
    """Geometries as a NumPy object array, without a Python loop for an array or a GeoSeries."""
    if isinstance(geoms, np.ndarray):
        return geoms.astype(object, copy=False)
    if hasattr(geoms, "__array__"):  # a GeometryArray or GeoSeries hands over its array
        return np.asarray(geoms, dtype=object)
    return np.asarray(list(geoms), dtype=object)


def wkb_offset(blob: bytes) -> int:
    flags = blob[3]
    return 8 + _ENVELOPE_BYTES[(flags >> 1) & 0x07]


def decode(blobs: Iterable[bytes | None]) -> NDArray[np.object_]:
    """Shapely geometries from GeoPackage blobs (None stays None)."""
    wkbs = [None if b is None else bytes(b[wkb_offset(b) :]) for b in blobs]
    return shapely.from_wkb(np.asarray(wkbs, dtype=object))


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP" or blob[3] & 0x10:
        return None
    if (blob[3] >> 1) & 0x07:
        minx, maxx, miny, maxy = struct.unpack_from("<4d" if blob[3] & 1 else ">4d", blob, 8)
        return minx, maxx, miny, maxy
    g = shapely.from_wkb(bytes(blob[wkb_offset(blob) :]))
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
