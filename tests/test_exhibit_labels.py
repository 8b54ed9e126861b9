"""The exhibit's labels, margins, scale statements and atlas sheets, measured (issue 10).

Label boxes come from the renderer (each label's box with its halo, in display units, kept on the
result); the PDF itself, read with pypdf, confirms each label is drawn inside its box. The scope
edge is recomputed here from the sheet's frame, centre and scale, not taken from matplotlib.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image
from pypdf import PdfReader

import geopandas as gpd
import shapely

from closuremap.layers.store import GeoPackageStore
from closuremap.reports import mapsheet
from closuremap.reports.exhibit import ExhibitResult, render_exhibit
from closuremap.reports.exhibit_data import ExhibitInput, ExhibitOptions, block_labels
from closuremap.reports.exhibit_map import draw_map, label_specs, prepare_map
from closuremap.reports.inputs import exhibit_input
from closuremap.reports.labels import TextSizes, _Board
from closuremap.reports.mapsheet import MARGIN_MM, MM_PER_INCH, SCOPE_WIDTH_PT
from tests.conftest import require

PT_MM = MM_PER_INCH / 72


@pytest.fixture(autouse=True)
def _poppler() -> None:
    require(
        shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None,
        "poppler-utils (pdftoppm, pdftotext)",
    )


@pytest.fixture(
    params=[("A3", "landscape", 1250), ("A4", "portrait", None)], ids=["A3-1250", "A4-portrait-fit"]
)
def rendered(request: pytest.FixtureRequest, sample_store: GeoPackageStore, tmp_path: Path):
    paper, orientation, scale = request.param
    data = exhibit_input(sample_store, "ORD-001")
    opts = ExhibitOptions(
        "AB/1",
        "PC 1234 Example",
        date(2026, 11, 26),
        paper=paper,
        orientation=orientation,
        scale=scale,
        atlas=True,
    )
    return data, render_exhibit(data, opts, tmp_path / "exhibit.pdf")


def _edge_mm(result: ExhibitResult, page: int, scope) -> shapely.Geometry:  # noqa: ANN001
    """The scope boundary on the page, in mm from its bottom-left corner, from the sheet's own
    frame, centre and scale (what the title block states)."""
    rec = result.sheets[page - 1]
    x0, y0, fw, fh = result.sheet.frame
    cx, cy = rec.centre
    k = 1000 / rec.scale  # mm on paper per metre
    return shapely.transform(
        scope.boundary,
        lambda xy: np.column_stack(
            [x0 + fw / 2 + (xy[:, 0] - cx) * k, y0 + fh / 2 + (xy[:, 1] - cy) * k]
        ),
    )


def _map_sheets(result: ExhibitResult) -> list:
    return [s for s in result.sheets if s.kind in ("map", "atlas")]


def test_no_label_overlaps_another_or_the_scope_edge(rendered) -> None:
    data, result = rendered
    for rec in _map_sheets(result):
        boxes = rec.placement.boxes_mm()
        assert len(boxes) >= 5, "the sheet should name its blocks, communal areas and doors"
        shapes = [(text, shapely.box(*b)) for text, b in boxes]
        for (ta, a), (tb, b) in itertools.combinations(shapes, 2):
            assert not a.intersects(b), f"sheet {rec.page}: '{ta}' overlaps '{tb}'"
        edge = _edge_mm(result, rec.page, data.scope)
        half_line = SCOPE_WIDTH_PT / 2 * PT_MM
        x0, y0, fw, fh = result.sheet.frame
        frame = shapely.box(x0, y0, x0 + fw, y0 + fh)
        for text, box in shapes:
            assert box.distance(edge) > half_line, (
                f"sheet {rec.page}: '{text}' (halo included) covers the red edge"
            )
            assert frame.contains(box), f"sheet {rec.page}: '{text}' outside the map frame"


def test_every_required_label_is_on_the_map_or_in_the_key(rendered) -> None:
    _, result = rendered
    for rec in _map_sheets(result):
        placed = rec.placement.placed
        assert {"Perronet House", "Stairwell A", "Main door A", "Bin store door"} <= {
            p.text for p in placed
        }
        for p in placed:
            assert p.how in ("label", "leader", "key", "skipped")
            assert (
                p.how != "skipped" or p.kind == "block"
            )  # only context blocks may be left unnamed
        keyed = [p for p in placed if p.how == "key"]
        assert [p.number for p in keyed] == list(range(1, len(keyed) + 1))
        text = _page_text(result.path, rec.page)
        for p in keyed:
            assert f"{p.number} {p.text}" in " ".join(text.split()), (
                "a numbered label missing from the key"
            )


def _pdf_words(pdf: Path, page: int) -> list[tuple[str, float, float, float]]:
    """Every text run pypdf finds on a page: (text, x mm, y mm, size pt) of its baseline origin."""
    out = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            x, y = cm[4] + tm[4], cm[5] + tm[5]
            out.append((text.strip(), x * PT_MM, y * PT_MM, size))

    PdfReader(str(pdf)).pages[page - 1].extract_text(visitor_text=visit)
    return out


def test_the_pdf_draws_each_label_inside_its_box(rendered) -> None:
    _, result = rendered
    for rec in _map_sheets(result):
        words = _pdf_words(result.path, rec.page)
        for text, (bx0, by0, bx1, by1) in rec.placement.boxes_mm():
            hits = [(x, y, s) for t, x, y, s in words if t == text]
            assert hits, f"'{text}' is not in the PDF text of sheet {rec.page}"
            assert any(
                bx0 - 0.3 <= x <= bx1 and by0 - 0.3 <= y <= by1 and y + 0.7 * s * PT_MM <= by1 + 0.3
                for x, y, s in hits
            ), f"'{text}' is drawn outside the box the placement recorded"


def _page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_nothing_is_drawn_in_the_margins(rendered, tmp_path: Path) -> None:
    _, result = rendered
    dpi = 50
    for page in range(1, result.pages + 1):
        stem = tmp_path / f"m{page}"
        subprocess.run(
            [
                "pdftoppm",
                "-f",
                str(page),
                "-l",
                str(page),
                "-r",
                str(dpi),
                "-png",
                "-singlefile",
                str(result.path),
                str(stem),
            ],
            check=True,
        )
        png = image.imread(str(stem) + ".png")[..., :3]
        band = int(
            (MARGIN_MM - 0.6) / MM_PER_INCH * dpi
        )  # less one pixel for anti-aliasing of the border
        for name, strip in (
            ("left", png[:, :band]),
            ("right", png[:, -band:]),
            ("top", png[:band]),
            ("bottom", png[-band:]),
        ):
            assert strip.min() > 0.97, f"sheet {page}: something drawn in the {name} margin"


def test_only_map_sheets_state_a_scale(rendered) -> None:
    _, result = rendered
    for rec in result.sheets:
        text = _page_text(result.path, rec.page)
        if rec.kind in ("map", "atlas"):
            assert f"Scale 1:{rec.scale} at {result.sheet.paper}" in text
        else:
            assert "Scale 1:" not in text and "Not to scale" in text, rec.page


def test_the_atlas_sheet_is_zoomed_to_its_block(rendered) -> None:
    data, result = rendered
    overview, atlas = result.sheets[0], result.sheets[1]
    assert (
        atlas.kind == "atlas" and atlas.scale <= overview.scale and atlas.centre != overview.centre
    )
    if (
        result.sheet.paper == "A3"
    ):  # the block fits at 1:500 there; on A4 portrait it needs 1:1250 too
        assert atlas.scale < overview.scale
    block = data.premises.set_index("block_id").geometry["PER"]
    x0, y0, fw, fh = result.sheet.frame
    half_w, half_h = fw / 2 * atlas.scale / 1000, fh / 2 * atlas.scale / 1000
    view = shapely.box(
        atlas.centre[0] - half_w,
        atlas.centre[1] - half_h,
        atlas.centre[0] + half_w,
        atlas.centre[1] + half_h,
    )
    assert view.contains(block)
    minx, miny, maxx, maxy = block.bounds
    assert minx < atlas.centre[0] < maxx and miny < atlas.centre[1] < maxy
    assert f"Scale 1:{atlas.scale} at" in _page_text(result.path, 2)


def test_blocks_without_a_name_are_never_labelled_with_an_id() -> None:
    frame = gpd.GeoDataFrame(
        {
            "block_id": ["way/123", "456", "P3", "P4"],
            "name": [None, "456", "way/123", "Named House"],
            "address": [None, "7 Long Road", None, None],
            "addr_housenumber": [None, None, "12", None],
            "addr_street": [None, None, "Short Street", None],
        },
        geometry=[shapely.box(i * 20, 0, i * 20 + 10, 10) for i in range(4)],
        crs=27700,
    )
    assert block_labels(frame).tolist() == [
        "Block 1",
        "7 Long Road",
        "12 Short Street",
        "Named House",
    ]


def test_an_unnamed_osm_block_prints_its_address_or_number(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    data = exhibit_input(sample_store, "ORD-001")
    per = data.premises["block_id"] == "PER"
    data.premises.loc[per, "name"] = "way/24420022"
    data.premises.loc[per, "address"] = None
    result = render_exhibit(
        data,
        ExhibitOptions("AB/9", "PC", date(2026, 11, 26), paper="A3", atlas=True),
        tmp_path / "osm.pdf",
    )
    n = list(data.premises.index).index(data.premises.index[per][0]) + 1
    for page in range(1, result.pages + 1):
        text = _page_text(result.path, page)
        assert "way/24420022" not in text and "24420022" not in text
    assert f"Block {n}" in _page_text(result.path, 1)


def _row_of_blocks(n: int = 10, pitch_m: float = 100.0) -> ExhibitInput:
    """``n`` blocks in a row ``pitch_m`` apart, each with a door and a stairwell; the scope is the
    first block's stairwell."""
    blocks = [shapely.box(i * pitch_m, 0, i * pitch_m + 30, 12) for i in range(n)]
    ids = [f"B{i}" for i in range(n)]
    stairs = [shapely.box(i * pitch_m + 3, 1, i * pitch_m + 6, 6) for i in range(n)]
    return ExhibitInput(
        title="Row",
        scope=stairs[0],
        premises=gpd.GeoDataFrame(
            {"block_id": ids, "name": [f"House {i}" for i in range(n)]}, geometry=blocks, crs=27700
        ),
        communal_areas=gpd.GeoDataFrame(
            {
                "block_id": ids,
                "area_type": "stairwell",
                "name": "Stairwell A",
                "floor_from": 0,
                "floor_to": 4,
            },
            geometry=stairs,
            crs=27700,
        ),
        entrances=gpd.GeoDataFrame(
            {"block_id": ids, "name": "Main door"},
            geometry=[shapely.Point(i * pitch_m + 4.5, 0) for i in range(n)],
            crs=27700,
        ),
    )


def _drawn(ax, zorder: float) -> int:  # noqa: ANN001
    """How many features the collections at ``zorder`` draw (paths, or points of a scatter)."""
    count = 0
    for c in ax.collections:
        if c.get_zorder() == zorder:
            count += len(c.get_offsets()) if len(c.get_offsets()) > 1 else len(c.get_paths())
    return count


def test_a_sheet_draws_only_the_features_in_its_view() -> None:
    data = _row_of_blocks()
    sh = mapsheet.sheet("A4", "landscape")
    prepared = prepare_map(data)
    fig = mapsheet.new_figure(sh)
    try:
        # 1:500 on A4: the frame shows ~100 m across, centred on the first block
        draw_map(fig, sh, data, (15.0, 6.0), 500, with_labels=False, prepared=prepared)
        ax = fig.axes[0]
        assert ax.get_xlim()[1] < 95  # the view (and its bleed) holds the first block only
        assert _drawn(ax, 3) == 1, "blocks outside the view were drawn"
        assert _drawn(ax, 5) == 1, "communal areas outside the view were drawn"
        assert _drawn(ax, 9) == 1, "doors outside the view were drawn"
        (premises,) = [c for c in ax.collections if c.get_zorder() == 3]
        drawn = premises.get_paths()[0].get_extents()
        assert (drawn.x0, drawn.x1) == (0.0, 30.0)
    finally:
        mapsheet.close(fig)
    fig = mapsheet.new_figure(sh)
    try:  # the same prepared layers on a sheet that shows the whole row draw every block
        draw_map(fig, sh, data, (470.0, 6.0), 5000, with_labels=False, prepared=prepared)
        assert _drawn(fig.axes[0], 3) == 10 and _drawn(fig.axes[0], 9) == 10
    finally:
        mapsheet.close(fig)


def test_a_sheet_draws_a_feature_just_outside_its_frame_whose_symbol_reaches_in() -> None:
    data = _row_of_blocks(n=2, pitch_m=100.0)
    sh = mapsheet.sheet("A4", "landscape")
    half_w = sh.frame[2] / 2 * 500 / 1000  # metres from the centre to the frame's edge
    # the second block's door 0.5 m (1 mm on paper at 1:500) beyond the right edge of the frame
    centre = (104.5 - half_w - 0.5, 6.0)
    fig = mapsheet.new_figure(sh)
    try:
        draw_map(fig, sh, data, centre, 500, with_labels=False)
        assert _drawn(fig.axes[0], 9) == 2  # its symbol (2.3 pt across) shows at the edge
    finally:
        mapsheet.close(fig)


def test_the_label_board_finds_the_same_overlaps_as_testing_every_shape() -> None:
    rng = np.random.default_rng(7)
    fig = mapsheet.new_figure(mapsheet.sheet("A4", "landscape"))
    try:
        ax = fig.add_axes((0, 0, 1, 1))
        board = _Board(ax, shapely.GeometryCollection(), clear_px=1.0)
        taken = [
            shapely.box(x, y, x + w, y + h)
            for x, y, w, h in rng.uniform((0, 0, 1, 1), (800, 500, 60, 20), size=(300, 4))
        ]
        taken += [
            shapely.LineString([(x, y), (x + dx, y + dy)]).buffer(0.5)
            for x, y, dx, dy in rng.uniform((0, 0, -40, -40), (800, 500, 40, 40), size=(50, 4))
        ]
        board.take(taken)
        for x, y, w, h in rng.uniform((0, 0, 1, 1), (800, 500, 60, 20), size=(400, 4)):
            box = shapely.box(x, y, x + w, y + h)
            assert board.touches_taken(box) == any(box.intersects(t) for t in taken)
        lone = _Board(ax, shapely.GeometryCollection(), clear_px=1.0)
        lone.take([shapely.box(10, 10, 20, 20)])
        assert lone.touches_taken(shapely.box(20, 12, 30, 18))  # touching counts as taken
        assert lone.touches_taken(shapely.box(0, 20, 10, 30))  # corner to corner too
        assert not lone.touches_taken(shapely.box(20.01, 12, 30, 18))
    finally:
        mapsheet.close(fig)


def test_free_boxes_agrees_with_testing_each_box_against_frame_edge_and_every_shape() -> None:
    rng = np.random.default_rng(11)
    fig = mapsheet.new_figure(mapsheet.sheet("A4", "landscape"))
    try:
        ax = fig.add_axes((0, 0, 1, 1))
        edge = shapely.LineString(rng.uniform((0, 0), (800, 500), size=(6, 2)))
        board = _Board(ax, edge, clear_px=1.5)
        taken = [
            shapely.box(x, y, x + w, y + h)
            for x, y, w, h in rng.uniform((0, 0, 1, 1), (800, 500, 60, 20), size=(60, 4))
        ]
        taken += [
            shapely.LineString([(x, y), (x + dx, y + dy)]).buffer(0.5)
            for x, y, dx, dy in rng.uniform((0, 0, -80, -80), (800, 500, 80, 80), size=(30, 4))
        ]
        board.take(taken)
        x, y = rng.uniform((-20, -20), (820, 520), size=(500, 2)).T
        w, h = rng.uniform((2, 2), (40, 12), size=(500, 2)).T
        bounds = np.column_stack([x, y, x + w, y + h])
        expected = [
            i
            for i, b in enumerate(bounds)
            if board.frame.contains(shapely.box(*b))
            and not board.edge.intersects(shapely.box(*b))
            and not board.touches_taken(shapely.box(*b))
        ]
        assert 20 < len(expected) < 480  # some of each
        assert board.free_boxes(bounds).tolist() == expected
        lone = _Board(ax, shapely.GeometryCollection(), clear_px=1.0)
        fx0, fy0, fx1, _ = lone.frame.bounds
        touching = np.array([[fx1 - 30, fy0, fx1, fy0 + 10]])  # on the frame's own edges
        assert lone.free_boxes(touching).tolist() == [0]
        lone.take([shapely.box(fx1 - 60, fy0 + 10, fx1 - 20, fy0 + 20)])  # touching is taken
        assert lone.free_boxes(touching).tolist() == []
    finally:
        mapsheet.close(fig)


def test_text_sizes_are_measured_once_and_match_a_fresh_measurement() -> None:
    fig = mapsheet.new_figure(mapsheet.sheet("A4", "landscape"))
    try:
        ax = fig.add_axes((0, 0, 1, 1))
        sizes = TextSizes()
        first = sizes(ax, "Stairwell A", "communal")
        assert sizes(ax, "Stairwell A", "communal") == first
        assert TextSizes()(ax, "Stairwell A", "communal") == first
        assert sizes(ax, "Stairwell A", "block")[0] > first[0]  # bigger, bold type
        assert len(ax.texts) == 0  # the measuring text is removed
    finally:
        mapsheet.close(fig)


def test_an_atlas_exhibit_names_the_same_on_every_sheet_with_shared_preparation(
    tmp_path: Path,
) -> None:
    data = _row_of_blocks(n=3, pitch_m=60.0)
    data.scope = shapely.union_all(data.communal_areas.geometry.values)
    result = render_exhibit(
        data,
        ExhibitOptions("AB/3", "PC", date(2026, 11, 26), paper="A4", scale=1250, atlas=True),
        tmp_path / "row.pdf",
    )
    assert result.pages == 1 + 3 + 2
    for rec in _map_sheets(result):
        shown = {p.text for p in rec.placement.placed}
        assert "Stairwell A" in shown and "Main door" in shown
    fresh = label_specs(data, shapely.box(-50, -50, 250, 60))
    shared = label_specs(data, shapely.box(-50, -50, 250, 60), prepare_map(data))
    assert [(s.text, s.anchor, s.kind, s.required) for s in fresh] == [
        (s.text, s.anchor, s.kind, s.required) for s in shared
    ]
