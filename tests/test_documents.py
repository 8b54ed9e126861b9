"""Ward briefing (no personal data), consultation letters (one page per address), service pack,
objections log."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.aggregate import counts_by_block, counts_by_month, suppress
from geo.crs import BNG
from geo.errors import WorkspaceError
from layers.documents import briefing_input, letter_fields
from layers.store import GeoPackageStore
from reports.briefing import briefing_tables, render_briefing
from reports.letters import DEFAULT_TEMPLATE, TemplateError, check_template, render_letters
from tests.conftest import require
from tests.test_cli import run


@pytest.fixture(autouse=True)
def _poppler() -> None:
    require(shutil.which("pdftotext") is not None, "poppler-utils (pdftotext)")


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.mark.parametrize("count, shown", [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (6, "6")])
def test_suppression_boundary(count: int, shown: str) -> None:
    assert suppress(pd.Series([count])).tolist() == [shown]


def test_suppression_minimum_is_a_setting() -> None:
    assert suppress(pd.Series([9, 10]), minimum=10).tolist() == ["<10", "10"]


def _few_incidents(store: GeoPackageStore) -> gpd.GeoDataFrame:
    """Replace the incidents with a known pattern: 3 at Wardroper House, 12 at Laurie House."""
    premises = store.read("premises").set_index("block_id").geometry
    war, lau = premises["WAR"].representative_point(), premises["LAU"].representative_point()
    return gpd.GeoDataFrame(
        {"occurred_at": ["2024-03-01T10:00:00"] * 3 + ["2024-04-02T22:00:00"] * 12,
         "reference": [f"CADSECRET{i}" for i in range(15)],
         "description": ["Named person Mr Secret seen"] * 15},
        geometry=[war] * 3 + [lau] * 12, crs=BNG)


def test_counts_by_block_and_month(sample_store: GeoPackageStore) -> None:
    incidents = _few_incidents(sample_store)
    blocks = counts_by_block(incidents, sample_store.read("premises")).set_index("block_id")["incidents"]
    assert blocks["WAR"] == 3 and blocks["LAU"] == 12 and blocks["PER"] == 0
    assert counts_by_month(incidents).to_dict() == {"2024-03": 3, "2024-04": 12}


def test_briefing_has_no_personal_data_and_suppresses_small_counts(sample_store: GeoPackageStore,
                                                                   tmp_path: Path) -> None:
    data = briefing_input(sample_store)
    data.incidents = _few_incidents(sample_store)
    tables = briefing_tables(data)
    by_block = tables.per_block.set_index("block_id")["incidents"]
    assert by_block["WAR"] == "<5" and by_block["LAU"] == "12"
    pdf = render_briefing(data, tmp_path / "briefing.pdf", prepared_on=date(2026, 11, 26))
    text = "\n".join(_pdf_pages(pdf))
    assert "Ward member briefing" in text and "Legal basis in plain words" in text
    assert "<5" in text and "Laurie House" in text
    assert "CADSECRET" not in text and "Mr Secret" not in text
    assert not re.search(r"\b5317\d\d\b|\b1790\d\d\b|51\.49\d{2}", text), "coordinates in the briefing"


def test_briefing_on_the_real_sample_carries_no_incident_text(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    incidents = sample_store.read("incidents")
    pdf = render_briefing(briefing_input(sample_store), tmp_path / "b.pdf", prepared_on=date(2026, 11, 26))
    text = "\n".join(_pdf_pages(pdf))
    for ref in incidents["reference"].dropna().head(200):
        assert ref not in text
    for desc in incidents["description"].dropna().unique()[:50]:
        assert desc not in text
    assert "Flat " not in text  # no addresses


def _order_over_every_block(store: GeoPackageStore) -> str:
    communal = store.read("communal_areas")
    order = gpd.GeoDataFrame({"order_id": ["ORD-ALL"], "name": ["Estate communal areas"],
                              "block_ids": [";".join(sorted(set(communal["block_id"])))]},
                             geometry=[shapely.union_all(communal.geometry.values)], crs=BNG)
    store.add("orders", order, user="test")
    return "ORD-ALL"


def test_five_hundred_letters_one_page_each_naming_its_address(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    order = _order_over_every_block(sample_store)
    recipients, fields = letter_fields(sample_store, order, today=date(2026, 11, 26), contact="ASB team 020 0000",
                                       signatory="Inspector Example")
    assert len(recipients) >= 500
    started = time.perf_counter()
    result = render_letters(recipients, fields, tmp_path / "letters.pdf")
    seconds = time.perf_counter() - started
    print(f"\n{result.pages} letters in {seconds:.2f} s")
    pages = _pdf_pages(result.path)
    assert len(pages) == len(recipients) == result.pages
    for page, address in zip(pages, recipients["address"]):
        first_line = address.split(", ")[0]  # "Flat 12"
        assert first_line in page and address.split(", ")[1] in page
        assert "You keep full access to your home" in page
        assert "What a closure order is" in page and "Who to contact" in page and "ASB team 020 0000" in page


def test_template_fields_are_checked() -> None:
    check_template(DEFAULT_TEMPLATE)
    with pytest.raises(TemplateError, match=r"\$colour"):
        check_template("Dear $address, $colour")


def test_no_addresses_is_a_sentence(store: GeoPackageStore) -> None:
    store.add("premises", gpd.GeoDataFrame({"block_id": ["B"], "name": ["Block"]},
                                           geometry=[shapely.box(531700, 179000, 531710, 179010)], crs=BNG), user="t")
    store.add("orders", gpd.GeoDataFrame({"order_id": ["O"], "name": ["o"], "block_ids": ["B"]},
                                         geometry=[shapely.box(531701, 179001, 531709, 179009)], crs=BNG), user="t")
    with pytest.raises(WorkspaceError, match="no addresses"):
        letter_fields(store, "O", today=date(2026, 1, 1), contact="x", signatory="y")


def test_objections_log(sample_store: GeoPackageStore) -> None:
    n = sample_store.add_objection("ORD-001", who="Flat 3", summary="Worried about deliveries", received_on="2026-11-20",
                                   recorded_by="PC A", response="Post and deliveries stay permitted")
    log = sample_store.objections("ORD-001")
    assert n == 1 and log.iloc[0]["who"] == "Flat 3" and log.iloc[0]["recorded_by"] == "PC A"
    with pytest.raises(WorkspaceError, match="who made it"):
        sample_store.add_objection("ORD-001", who=" ", summary="x", received_on="2026-11-20", recorded_by="PC A")


def test_document_commands(sample_path: Path, tmp_path: Path) -> None:
    done = run("letters", sample_path, "--order", "ORD-001", "--out", tmp_path / "l.pdf", "--contact", "ASB team",
               "--signatory", "Insp X", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    recipients = pd.read_csv(data["recipients_file"], dtype=str)
    assert data["letters"] == len(recipients) and set(recipients["block_id"]) == {"PER"}
    pack = run("service-pack", sample_path, "--order", "ORD-001", "--out", tmp_path / "p.pdf", "--json")
    assert pack.returncode == 0, pack.stderr
    checklist = pd.read_csv(json.loads(pack.stdout)["csv"], keep_default_na=False)
    assert list(checklist.columns)[-3:] == ["time_fixed", "officer", "photo_ref"]
    assert set(checklist["entrance"]) == {"Main door A", "Main door B", "Bin store door"}
    assert len(_pdf_pages(tmp_path / "p.pdf")) == 2
    brief = run("briefing", sample_path, "--out", tmp_path / "b.pdf", "--min-count", "10", "--json")
    assert brief.returncode == 0 and (tmp_path / "b.pdf").exists()
