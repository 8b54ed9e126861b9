"""Floor-plan images stored with the workspace and drawn on the map as a see-through guide.

An image (PNG, JPG, or a page of a PDF) is placed by an affine transform from its pixels to BNG,
fixed by three control points. For the web map it is warped into a raster aligned with Web
Mercator, which is what Leaflet's image overlay stretches linearly, so the plan lands where the
control points say (the BNG grid is turned about 1.5° from Mercator north in London: an image
aligned to BNG would be metres out at its edges).

Plans are a side table of the workspace, on either backend (a GeoPackage file or a PostGIS
database: the functions take the store, or its location; a store opened for a role is asked
whether the role may before anything is read or written): the SQL runs through
:class:`.side_sql.SideSQL`. Saving a plan or moving its control points is an audit entry (kind
``floor_plans``, the plan's id, the placement before and after with the image's SHA-256, not its
bytes), written in the same transaction as the change.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from pyproj import Transformer

from closuremap.geo.crs import bng_to_lonlat
from closuremap.geo.errors import InputFileError, WorkspaceError
from closuremap.geo.georef import Affine, affine_from_points, apply, invert

from .access import AccessDenied, RoleStore
from .side_sql import SideSQL, reading
from .store import WorkspaceStore, open_workspace

TABLE = "closuremap_floorplans"
AUDIT_KIND = "floor_plans"
MAX_SIDE_PX = 1600
_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
_FROM_MERCATOR = Transformer.from_crs(3857, 4326, always_xy=True)


@dataclass
class FloorPlan:
    id: int
    block_id: str
    floor: int | None
    name: str
    png: bytes
    width: int
    height: int
    control_points: list[tuple[tuple[float, float], tuple[float, float]]]
    opacity: float = 0.5

    @property
    def affine(self) -> Affine:
        return affine_from_points(
            [p for p, _ in self.control_points], [g for _, g in self.control_points]
        )


def read_image(path: str | Path, page: int = 1) -> bytes:
    """PNG bytes of an image file, or of one page of a PDF (rendered with poppler's pdftoppm)."""
    p = Path(path)
    if p.suffix.lower() == ".pdf":
        if shutil.which("pdftoppm") is None:
            raise InputFileError(
                "reading a PDF floor plan needs poppler's pdftoppm (apt-get install poppler-utils)"
            )
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "150",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-singlefile",
                    str(p),
                    str(Path(tmp) / "page"),
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise InputFileError(
                    f"{p.name}: page {page} could not be read as a PDF "
                    f"({done.stderr.strip()[:120]})"
                )
            return (Path(tmp) / "page.png").read_bytes()
    try:
        with Image.open(p) as im:
            im.load()
            out = io.BytesIO()
            im.convert("RGBA").save(out, format="PNG")
            return out.getvalue()
    except (OSError, ValueError) as exc:
        raise InputFileError(
            f"{p.name}: not an image I can read ({exc}); use PNG, JPG or a PDF page"
        ) from None


CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "block_id TEXT NOT NULL, floor INTEGER, name TEXT, png BLOB NOT NULL, width INTEGER, "
    "height INTEGER, control_points TEXT NOT NULL, opacity REAL, created_by TEXT, "
    "created_at TEXT)"
)
ControlPoints = list[tuple[tuple[float, float], tuple[float, float]]]


def _store(workspace: str | Path | WorkspaceStore | RoleStore) -> WorkspaceStore | RoleStore:
    """The store of a workspace given as a store or as its location."""
    if isinstance(workspace, (str, Path)):
        return open_workspace(workspace)
    return workspace


def _for_writing(
    workspace: str | Path | WorkspaceStore | RoleStore, user: str
) -> WorkspaceStore | RoleStore:
    """The store to write a plan through. A store opened for a role (:class:`.access.RoleStore`)
    is asked first: the plan's rows go through a connection of this module's own, which the
    guard's checks on features and settings never see."""
    store = _store(workspace)
    if isinstance(store, RoleStore):
        store.require("edit", "place floor plans")
        if store.user and user.strip() != store.user:
            raise AccessDenied(
                f"signed in as {store.user}: a change is recorded under your own name, not '{user}'"
            )
    return store


def _for_reading(workspace: str | Path | WorkspaceStore | RoleStore) -> WorkspaceStore:
    """The store to read plans from: a role's store checked, then its workspace opened (the side
    table is read through a connection of its own)."""
    store = _store(workspace)
    if isinstance(store, RoleStore):
        store.require("read", "read the floor plans")
        return open_workspace(store.location)
    return store


def _placement(
    block_id: str,
    floor: int | None,
    name: str,
    control_points: Any,
    opacity: float | None,
    png: bytes,
) -> str:
    """A plan as its audit entry records it: where it is placed, and which image (by hash)."""
    return json.dumps(
        {
            "block_id": block_id,
            "floor": floor,
            "name": name,
            "control_points": control_points,
            "opacity": opacity,
            "image_sha256": hashlib.sha256(png).hexdigest(),
        }
    )


def save_plan(
    workspace: str | Path | WorkspaceStore | RoleStore,
    *,
    block_id: str,
    floor: int | None,
    name: str,
    png: bytes,
    control_points: list[tuple[tuple[float, float], tuple[float, float]]],
    user: str,
    opacity: float = 0.5,
) -> int:
    """Store a placed plan in the workspace; returns its id."""
    affine_from_points(
        [p for p, _ in control_points], [g for _, g in control_points]
    )  # refuse a bad placement
    with Image.open(io.BytesIO(png)) as im:
        width, height = im.size
    with _for_writing(workspace, user).transaction() as tx:
        side = SideSQL(tx.conn)
        side.ensure(CREATE_TABLE)
        plan_id = side.insert(
            f"INSERT INTO {TABLE} (block_id, floor, name, png, width, height, control_points, "
            "opacity, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                block_id,
                floor,
                name,
                png,
                width,
                height,
                json.dumps(control_points),
                opacity,
                user,
                datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
        tx.record(
            user=user,
            kind=AUDIT_KIND,
            feature_id=str(plan_id),
            action="add",
            before=None,
            after=_placement(block_id, floor, name, control_points, opacity, png),
        )
        return plan_id


def update_placement(
    workspace: str | Path | WorkspaceStore | RoleStore,
    plan_id: int,
    control_points: ControlPoints,
    *,
    user: str,
) -> None:
    """Move a plan by new control points; the change is an audit entry naming ``user``."""
    affine_from_points([p for p, _ in control_points], [g for _, g in control_points])
    with _for_writing(workspace, user).transaction() as tx:
        side = SideSQL(tx.conn)
        side.ensure(CREATE_TABLE)
        row = side.execute(
            f"SELECT block_id, floor, name, control_points, opacity, png FROM {TABLE} WHERE id = ?",
            (plan_id,),
        ).fetchone()
        if row is None:
            raise WorkspaceError(f"no floor plan #{plan_id}")
        block_id, floor, name, before_points, opacity, png = row
        side.execute(
            f"UPDATE {TABLE} SET control_points = ? WHERE id = ?",
            (json.dumps(control_points), plan_id),
        )
        tx.record(
            user=user,
            kind=AUDIT_KIND,
            feature_id=str(plan_id),
            action="update",
            before=_placement(block_id, floor, name, json.loads(before_points), opacity, png),
            after=_placement(
                block_id, floor, name, json.loads(json.dumps(control_points)), opacity, png
            ),
        )


def plans(
    workspace: str | Path | WorkspaceStore | RoleStore, block_id: str | None = None
) -> list[FloorPlan]:
    """The workspace's floor plans (of one block, if given), oldest first."""
    with reading(_for_reading(workspace)) as side:
        side.ensure(CREATE_TABLE)
        side.commit()
        sql = (
            "SELECT id, block_id, floor, name, png, width, height, control_points, opacity "
            f"FROM {TABLE}"
        )
        rows = side.execute(
            sql + (" WHERE block_id = ?" if block_id else "") + " ORDER BY id",
            (block_id,) if block_id else (),
        ).fetchall()
    return [
        FloorPlan(
            r[0],
            r[1],
            r[2],
            r[3],
            bytes(r[4]),
            r[5],
            r[6],
            [tuple(map(tuple, cp)) for cp in json.loads(r[7])],
            r[8] or 0.5,
        )
        for r in rows
    ]


def warp_for_web(plan: FloorPlan) -> tuple[str, list[list[float]]]:
    """The plan as a PNG data URL warped to Web Mercator, with its bounds
    [[south, west], [north, east]]."""
    to_bng = plan.affine
    corners_px = np.array(
        [[0, 0], [plan.width, 0], [plan.width, plan.height], [0, plan.height]], dtype=float
    )
    corners_en = apply(to_bng, corners_px)
    lon, lat = bng_to_lonlat(corners_en[:, 0], corners_en[:, 1])
    mx, my = _TO_MERCATOR.transform(lon, lat)
    # pixels -> Mercator by the same three control points, carried through OSTN15 and the projection
    src = [p for p, _ in plan.control_points]
    ground = np.array([g for _, g in plan.control_points], dtype=float)
    glon, glat = bng_to_lonlat(ground[:, 0], ground[:, 1])
    gmx, gmy = _TO_MERCATOR.transform(glon, glat)
    to_merc = affine_from_points(src, list(zip(gmx, gmy, strict=True)))
    minx, maxx, miny, maxy = min(mx), max(mx), min(my), max(my)
    scale = max(maxx - minx, maxy - miny) / MAX_SIDE_PX
    out_w, out_h = max(int((maxx - minx) / scale), 1), max(int((maxy - miny) / scale), 1)
    # output pixel (i, j) -> Mercator (minx + i*s, maxy - j*s) -> image pixel by the inverse
    # transform
    a, b, c, d, e, f = invert(to_merc)
    coeffs = (
        a * scale,
        -b * scale,
        a * minx + b * maxy + c,
        d * scale,
        -e * scale,
        d * minx + e * maxy + f,
    )
    with Image.open(io.BytesIO(plan.png)) as im:
        warped = im.convert("RGBA").transform(
            (out_w, out_h), Image.AFFINE, coeffs, resample=Image.BILINEAR, fillcolor=(0, 0, 0, 0)
        )
    buf = io.BytesIO()
    warped.save(buf, format="PNG")
    (west, east), (south, north) = _FROM_MERCATOR.transform([minx, maxx], [miny, maxy])
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return url, [[south, west], [north, east]]
