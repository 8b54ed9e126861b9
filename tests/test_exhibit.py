"""The court exhibit, read back as a magistrate would: rendered to PNG and text, and measured."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from closuremap.layers.store import GeoPackageStore
from closuremap.reports.exhibit import render_exhibit, scope_sha256
from closuremap.reports.exhibit_data import ExhibitOptions
from closuremap.reports.inputs import exhibit_input
from closuremap.reports.mapsheet import MM_PER_INCH, SCOPE_WIDTH_PT
from tests.conftest import DATA, require
from tests.test_cli import run

DPI = 200


@pytest.fixture(autouse=True)
def _poppler() -> None:
    require(
        shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None,
        "poppler-utils (pdftoppm, pdftotext)",
    )


def _text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _png(pdf: Path, page: int, tmp: Path) -> np.ndarray:
    stem = tmp / f"page{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-f",
            str(page),
            "-l",
            str(page),
            "-r",
            str(DPI),
            "-png",
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )
    return image.imread(str(stem) + ".png")


def _page_size_pt(pdf: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()
    return float(w), float(h)


@pytest.fixture
def exhibit(sample_store: GeoPackageStore, tmp_path: Path):
    data = exhibit_input(sample_store, "ORD-001")
    opts = ExhibitOptions(
        "AB/1", "PC 1234 Example", date(2026, 11, 26), paper="A3", scale=1250, atlas=True
    )
    return data, render_exhibit(data, opts, tmp_path / "exhibit.pdf")


def test_page_size_and_pages(exhibit) -> None:
    data, result = exhibit
    w, h = _page_size_pt(result.path)
    assert (round(w / 72 * MM_PER_INCH), round(h / 72 * MM_PER_INCH)) == (420, 297)  # A3 landscape
    assert result.pages == 4  # map, one atlas sheet (one block), schedule, incident summary


def test_every_page_states_the_scale_and_the_exhibit_reference(exhibit) -> None:
    _, result = exhibit
    for page in range(1, result.pages + 1):
        text = _text(result.path, page)
        # each sheet states its own scale; table sheets say they are not to scale (issue 10)
        assert result.sheets[page - 1].statement in text, page
        assert "Exhibit AB/1" in text, page
        assert f"Sheet {page} of {result.pages}" in text
        assert result.scope_sha256 in text.replace(" ", "")


def test_text_is_embedded_and_the_schedule_lists_the_premises(exhibit) -> None:
    _, result = exhibit
    schedule = _text(result.path, 3)
    assert (
        "Premises schedule" in schedule
        and "Perronet House" in schedule
        and "Main door A" in schedule
    )
    assert "990000000001" in schedule  # first UPRN of the block
    assert "Incidents by month and category" in _text(result.path, 4)
    assert "OpenStreetMap contributors" in _text(result.path, 1)


def test_the_scope_is_edged_red_and_measures_true_to_scale(exhibit, tmp_path: Path) -> None:
    data, result = exhibit
    png = _png(result.path, 1, tmp_path)
    height_px = png.shape[0]
    x0, y0, fw, fh = result.sheet.frame  # mm from the bottom-left
    px = DPI / MM_PER_INCH
    top, bottom = int(height_px - (y0 + fh) * px), int(height_px - y0 * px)
    left, right = int(x0 * px), int((x0 + fw) * px)
    frame = png[top:bottom, left:right, :3]
    red = (frame[..., 0] > 0.85) & (frame[..., 1] < 0.25) & (frame[..., 2] < 0.25)
    assert red.sum() > 500, "no red scope edge on the map"
    cols = np.flatnonzero(red.any(axis=0))
    rows = np.flatnonzero(red.any(axis=1))
    line_mm = SCOPE_WIDTH_PT / 72 * MM_PER_INCH
    width_mm = (cols[-1] - cols[0] + 1) / px - line_mm
    height_mm = (rows[-1] - rows[0] + 1) / px - line_mm
    minx, miny, maxx, maxy = data.scope.bounds
    assert width_mm * result.scale / 1000 == pytest.approx(maxx - minx, rel=0.01)
    assert height_mm * result.scale / 1000 == pytest.approx(maxy - miny, rel=0.01)


def test_fit_picks_a_standard_scale_and_a4_portrait(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    data = exhibit_input(sample_store, "ORD-001")
    result = render_exhibit(
        data,
        ExhibitOptions("AB/2", "PC", date(2026, 11, 26), paper="A4", orientation="portrait"),
        tmp_path / "a4.pdf",
    )
    assert result.scale in (500, 1250, 2500)
    w, h = _page_size_pt(result.path)
    assert (round(w / 72 * MM_PER_INCH), round(h / 72 * MM_PER_INCH)) == (210, 297)
    assert f"Scale 1:{result.scale} at A4" in _text(result.path, 1)


def test_the_hash_is_of_the_geometry() -> None:
    import shapely

    a = shapely.box(531700, 179000, 531710, 179010)
    assert scope_sha256(a) == scope_sha256(
        shapely.box(531700.0001, 179000, 531710, 179010)
    )  # below 1 mm
    assert scope_sha256(a) != scope_sha256(shapely.box(531700, 179000, 531710.01, 179010))


def test_exhibit_command_from_a_workspace_and_from_files(sample_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "ws.pdf"
    done = run(
        "exhibit",
        sample_path,
        "--order",
        "ORD-001",
        "--exhibit-ref",
        "JS/1",
        "--prepared-by",
        "PC Smith",
        "--out",
        out,
        "--paper",
        "A3",
        "--scale",
        "1250",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["scale_statement"] == "Scale 1:1250 at A3" and data["pages"] == 3 and out.exists()
    files = _exhibit_from_files(sample_path, tmp_path)
    assert files.returncode == 0, files.stderr
    assert "Exhibit JS/2" in _text(tmp_path / "files.pdf", 1)
    bad = run(
        "exhibit",
        sample_path,
        "--order",
        "NOPE",
        "--exhibit-ref",
        "X",
        "--prepared-by",
        "Y",
        "--out",
        tmp_path / "x.pdf",
    )
    assert bad.returncode == 2 and "no order 'NOPE'" in bad.stderr


def _exhibit_from_files(sample_path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The exhibit drawn from files (the sample's scope, OSM buildings, police.uk crimes), not a
    workspace: tmp_path/files.pdf."""
    scope = tmp_path / "scope.geojson"
    run("export", sample_path, "orders", "--out", scope)
    return run(
        "exhibit",
        "--scope",
        scope,
        "--premises",
        DATA / "osm" / "elephant_and_castle_buildings.geojson",
        "--incidents",
        DATA / "crime" / "police_uk_southwark_estate_2024-01_to_2024-06.csv",
        "--title",
        "Test order",
        "--exhibit-ref",
        "JS/2",
        "--prepared-by",
        "PC Smith",
        "--out",
        tmp_path / "files.pdf",
        "--json",
    )


def test_every_sheet_carries_all_the_attributions_even_on_narrow_paper(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    data = exhibit_input(sample_store, "ORD-001")
    result = render_exhibit(
        data,
        ExhibitOptions("AB/3", "PC", date(2026, 11, 26), paper="A4", orientation="portrait"),
        tmp_path / "narrow.pdf",
    )
    for page in range(1, result.pages + 1):
        text = " ".join(_text(result.path, page).split())
        assert "OpenStreetMap contributors" in text and "Code-Point Open" in text
        assert "SYNTHETIC" in text, page  # the last words of the last attribution are not cut off


# -- issue 10: attribution from files; issue 12: "$" in names, documents written whole -----------


def test_exhibit_from_osm_and_police_uk_files_carries_their_attribution(
    sample_path: Path, tmp_path: Path
) -> None:
    done = _exhibit_from_files(sample_path, tmp_path)
    assert done.returncode == 0, done.stderr
    notes = json.loads(done.stdout)["notes"]
    assert any("OpenStreetMap" in n for n in notes) and any(
        "Open Government Licence" in n for n in notes
    )
    text = " ".join(_text(tmp_path / "files.pdf", 1).split())
    assert (
        "© OpenStreetMap contributors, ODbL" in text
        and "Open Government Licence v3.0 (police.uk)" in text
    )
    assert "24420022" not in text  # OSM ids never label a block


def test_exhibit_from_unrecognised_files_warns_it_carries_no_attribution(
    sample_path: Path, tmp_path: Path
) -> None:
    scope, premises = tmp_path / "scope.geojson", tmp_path / "premises.geojson"
    run("export", sample_path, "orders", "--out", scope)
    run("export", sample_path, "premises", "--out", premises)
    done = run(
        "exhibit",
        "--scope",
        scope,
        "--premises",
        premises,
        "--title",
        "T",
        "--exhibit-ref",
        "JS/3",
        "--prepared-by",
        "PC Smith",
        "--out",
        tmp_path / "bare.pdf",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert any("no data attribution" in n for n in json.loads(done.stdout)["notes"])


def test_recognised_attribution_lines_are_the_workspace_ones() -> None:
    from closuremap.layers.sample import ATTRIBUTION
    from closuremap.reports.attribution import CODE_POINT, OSM, POLICE_UK

    assert list(ATTRIBUTION[:3]) == [OSM, POLICE_UK, CODE_POINT]


def test_a_dollar_in_a_name_prints_literally_and_a_broken_one_does_not_crash(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    data = exhibit_input(sample_store, "ORD-001")
    per = data.premises["block_id"] == "PER"
    data.premises.loc[per, "name"] = "Rent $5 and $6 House"
    data.title = "Order for Bad $\\frac{ name"
    result = render_exhibit(
        data,
        ExhibitOptions("AB/$1", "PC $1", date(2026, 11, 26), paper="A3", atlas=True),
        tmp_path / "dollar.pdf",
    )
    page1 = " ".join(_text(result.path, 1).split())
    assert "Rent $5 and $6 House" in page1 and "Bad $\\frac{ name" in page1
    assert "Rent $5 and $6 House" in _text(result.path, result.pages - 1)  # the schedule


def test_a_failed_exhibit_leaves_no_file_and_keeps_the_previous_one(
    sample_store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from closuremap.reports import exhibit as exhibit_mod

    data = exhibit_input(sample_store, "ORD-001")
    out = tmp_path / "out" / "exhibit.pdf"
    opts = ExhibitOptions("AB/1", "PC", date(2026, 11, 26), paper="A4")

    def boom(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("disk full half way")

    monkeypatch.setattr(exhibit_mod, "incident_page", boom)
    with pytest.raises(RuntimeError):
        render_exhibit(data, opts, out)
    assert list(out.parent.iterdir()) == []  # no partial PDF, no temporary left behind
    monkeypatch.undo()
    render_exhibit(data, opts, out)
    before = out.read_bytes()
    monkeypatch.setattr(exhibit_mod, "incident_page", boom)
    with pytest.raises(RuntimeError):
        render_exhibit(data, opts, out)
    assert out.read_bytes() == before and [p.name for p in out.parent.iterdir()] == ["exhibit.pdf"]


# -- communal areas from a file: no floor columns, no block references --------------------------


def test_schedule_lists_communal_areas_without_floor_columns_or_block_ids() -> None:
    import geopandas as gpd
    import shapely

    from closuremap.reports.exhibit_data import ExhibitInput
    from closuremap.reports.exhibit_tables import premises_schedule

    premises = gpd.GeoDataFrame(
        {"block_id": ["P1", "P2"], "name": ["Alder House", "Birch House"]},
        geometry=[shapely.box(0, 0, 30, 10), shapely.box(50, 0, 80, 10)],
        crs=27700,
    )
    stair, lobby = shapely.box(2, 2, 5, 6), shapely.box(52, 2, 58, 3)
    scope = shapely.box(-1, -1, 81, 11)
    bare = gpd.GeoDataFrame({"name": ["Stairwell A", "Lobby"]}, geometry=[stair, lobby], crs=27700)
    table = premises_schedule(ExhibitInput("T", scope, premises, communal_areas=bare))
    assert table["Communal parts included"].tolist() == ["Stairwell A", "Lobby"]  # by footprint
    some = gpd.GeoDataFrame(
        {"block_id": ["P1", "P2"], "area_type": ["stair_well", None], "floor_to": [None, 2]},
        geometry=[stair, lobby],
        crs=27700,
    )
    table = premises_schedule(ExhibitInput("T", scope, premises, communal_areas=some))
    assert table["Communal parts included"].tolist() == ["stair well", "communal area (floor 2)"]


def test_exhibit_from_files_with_a_bare_communal_file(sample_path: Path, tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    scope, premises = tmp_path / "scope.geojson", tmp_path / "premises.geojson"
    run("export", sample_path, "orders", "--out", scope)
    run("export", sample_path, "premises", "--out", premises)
    blocks = gpd.read_file(premises).to_crs(27700)
    inside = shapely.intersection(
        blocks.geometry.values, gpd.read_file(scope).to_crs(27700).union_all()
    )
    deepest = shapely.maximum_inscribed_circle(inside[np.argmax(shapely.area(inside))])
    point = shapely.get_point(deepest, 0)  # the middle of the touched block's part in scope
    communal = tmp_path / "communal.geojson"  # a name and a shape: no block_id, no floors
    gpd.GeoDataFrame({"name": ["Stair core"]}, geometry=[point.buffer(0.5)], crs=27700).to_file(
        communal
    )
    done = run(
        "exhibit",
        "--scope",
        scope,
        "--premises",
        premises,
        "--communal",
        communal,
        "--title",
        "T",
        "--exhibit-ref",
        "JS/4",
        "--prepared-by",
        "PC Smith",
        "--out",
        tmp_path / "bare-communal.pdf",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    pages = json.loads(done.stdout)["pages"]
    schedule = " ".join(_text(tmp_path / "bare-communal.pdf", pages - 1).split())
    assert "Stair core" in schedule
