"""Floor-plan guides: three control points place the image exactly; it is stored with the workspace
and drawn on the drawing map where the points say."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import shapely

from closuremap.geo.crs import bng_to_lonlat
from closuremap.geo.georef import GeorefError, affine_from_points, apply, fit_to_outline, invert
from closuremap.layers import floorplans
from closuremap.layers.drawmap import build_draw_map
from closuremap.layers.model import KINDS
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.webmap import map_summary
from tests.conftest import require


def _plan_png(w: int = 400, h: int = 200) -> bytes:
    im = Image.new("RGBA", (w, h), (255, 255, 255, 255))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, w - 1, h - 1], outline=(0, 0, 0, 255), width=4)
    d.rectangle([0, 0, 19, 19], fill=(255, 0, 0, 255))  # a red mark at the top-left corner
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def test_three_points_map_exactly_and_a_fourth_follows() -> None:
    src = [(0, 0), (400, 0), (0, 200)]
    dst = [(531700, 179100), (531740, 179100), (531700, 179080)]  # 0.1 m a pixel, rows downwards
    a = affine_from_points(src, dst)
    assert np.allclose(apply(a, np.array(src, dtype=float)), dst)
    assert np.allclose(apply(a, np.array([[400, 200]], dtype=float)), [[531740, 179080]])
    assert np.allclose(apply(invert(a), np.array(dst, dtype=float)), src)


def test_points_on_one_line_are_refused() -> None:
    with pytest.raises(GeorefError, match="one line"):
        affine_from_points([(0, 0), (1, 1), (2, 2)], [(0, 0), (1, 1), (2, 2)])


def test_fit_to_a_block_covers_its_rotated_box(sample_store: GeoPackageStore) -> None:
    block = sample_store.read("premises").set_index("block_id").geometry["PRO"]
    points = fit_to_outline(400, 200, block)
    a = affine_from_points([p for p, _ in points], [g for _, g in points])
    corners = apply(a, np.array([[0, 0], [400, 0], [400, 200], [0, 200]], dtype=float))
    placed = shapely.Polygon(corners)
    assert placed.area == pytest.approx(shapely.minimum_rotated_rectangle(block).area, rel=1e-6)
    assert placed.buffer(0.01).contains(block)


def test_stored_and_drawn_where_the_points_say(sample_store: GeoPackageStore) -> None:
    dst = [(531800, 179150), (531840, 179150), (531800, 179130)]
    pid = floorplans.save_plan(
        sample_store.location,
        block_id="PER",
        floor=1,
        name="<b>Level 1</b>.png",
        png=_plan_png(),
        control_points=list(zip([(0, 0), (400, 0), (0, 200)], dst, strict=True)),
        user="ann",
    )
    plan = floorplans.plans(sample_store.location, "PER")[0]
    assert plan.id == pid and (plan.width, plan.height) == (400, 200)
    url, bounds = floorplans.warp_for_web(plan)
    (south, west), (north, east) = bounds
    # the four corners in WGS84 (the BNG grid is turned ~1.5° here, so the box is their extent)
    lon, lat = bng_to_lonlat([531800, 531840, 531840, 531800], [179150, 179150, 179130, 179130])
    assert west == pytest.approx(lon.min(), abs=1e-7) and east == pytest.approx(lon.max(), abs=1e-7)
    assert south == pytest.approx(lat.min(), abs=1e-7) and north == pytest.approx(
        lat.max(), abs=1e-7
    )
    # the red mark ends up in the north-west corner of the warped image
    import base64

    warped = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA")
    px = np.asarray(warped)
    red = (px[..., 0] > 200) & (px[..., 1] < 60) & (px[..., 3] > 200)
    ys, xs = np.nonzero(red)
    assert xs.max() < warped.width * 0.1 and ys.max() < warped.height * 0.2
    frames = {k: sample_store.read(k) for k in KINDS}
    html_text = map_summary(
        build_draw_map(frames, "communal_areas", guides=[(plan.name, url, bounds, 0.5)])
    )["html"]
    assert (
        "L.imageOverlay" in html_text
        and "Level 1" in html_text
        and "<b>Level 1</b>" not in html_text
    )


def test_a_pdf_page_is_read(tmp_path: Path) -> None:
    require(shutil.which("pdftoppm") is not None, "poppler-utils (pdftoppm)")
    pdf = tmp_path / "plan.pdf"
    Image.open(io.BytesIO(_plan_png())).convert("RGB").save(pdf, format="PDF")
    png = floorplans.read_image(pdf, 1)
    assert Image.open(io.BytesIO(png)).width > 100


def test_not_an_image(tmp_path: Path) -> None:
    bad = tmp_path / "plan.png"
    bad.write_text("not an image")
    with pytest.raises(floorplans.InputFileError, match="not an image"):
        floorplans.read_image(bad)
