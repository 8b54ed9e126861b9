"""The case documents made from a real workspace: the notice says what s.76(5) requires, the
bundle's index, bookmarks and page stamps agree, and its chronology is exactly the evidence
window."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

import geopandas as gpd
import shapely

from closuremap.cli import main
from closuremap.geo.crs import BNG
from closuremap.layers.documents import record_service
from closuremap.layers.store import GeoPackageStore
from closuremap.reports.casefile import case_file, make_bundle, make_documents

USER = "PC Dee Four (2468)"
TODAY = date(2024, 7, 1)
WHEN = datetime(2024, 7, 1, 9, 0)


def _order(store: GeoPackageStore) -> pd.Series:
    return store.read("orders").set_index("order_id").loc["ORD-001"]


def _text(path: Path) -> list[str]:
    return [p.extract_text() for p in PdfReader(path).pages]


def _outline(reader: PdfReader) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline)
    return found


@pytest.fixture
def shaped(sample_store: GeoPackageStore) -> GeoPackageStore:
    """The sample with an evidence window of its own, and incidents at its edges: a month-only
    police.uk row, an undated one, one the day after the window, one just outside the 10 m
    reach."""
    row = _order(sample_store)
    sample_store.update(
        "orders",
        str(row["feature_id"]),
        user="t",
        attributes={"evidence_from": "2024-02-10", "evidence_to": "2024-05-20"},
    )
    west = min(
        shapely.get_coordinates(row.geometry), key=lambda c: c[0]
    )  # the scope's westmost vertex
    at_door, too_far = shapely.Point(west[0] - 8, west[1]), shapely.Point(west[0] - 11.5, west[1])
    inside = row.geometry.representative_point()
    extra = gpd.GeoDataFrame(
        {
            "occurred_at": [
                "2024-03",
                None,
                "2024-05-21T00:10:00",
                "2024-05-20T23:59:00",
                "2024-02-10T00:00:00",
                "2024-04-01T12:00:00",
                "2024-04-02T12:00:00",
            ],
            "category": [
                "asb_nuisance",
                "drugs",
                "drugs",
                "criminal_damage",
                "violence",
                "drugs",
                "drugs",
            ],
            "reference": [
                "PUK-MONTH",
                "UNDATED",
                "AFTER-WINDOW",
                "LAST-MINUTE",
                "FIRST-MINUTE",
                "TOO-FAR",
                "AT-DOOR",
            ],
            "source": ["police.uk", "cad", "cad", "cad", "cad", "cad", "cad"],
        },
        geometry=[inside, inside, inside, inside, inside, too_far, at_door],
        crs=BNG,
    )
    sample_store.add("incidents", extra, user="t")
    return sample_store


def _expected_references(store: GeoPackageStore, start: date, end: date) -> set[str]:
    """Independently: every incident within 10 m of the scope dated in the window (month-only =
    its 1st)."""
    incidents = store.read("incidents")
    scope = _order(store).geometry
    near = incidents[incidents.geometry.distance(scope) <= 10.0]
    text = near["occurred_at"].fillna("").astype(str)
    day = pd.to_datetime(text.where(text.str.len() != 7, text + "-01").str[:10], errors="coerce")
    keep = (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
    return set(near.loc[keep, "reference"].astype(str))


def test_the_notice_from_a_workspace_carries_every_s76_5_item(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    case = case_file(sample_store, "ORD-001", exhibit_ref="AB/1", prepared_by=USER, today=TODAY)
    made = make_documents(case, tmp_path, names=["notice"], docx=False).made["notice"]
    text = " ".join(_text(made.path)).replace("\n", " ")
    assert "Perronet House" in text and "edged red" in text  # (a) the premises
    assert (
        "48 hours" in text and "people who habitually live in the flats" in text
    )  # (b) the effect
    assert "offence" in text  # (c)
    assert "application" in text.lower() and "closure order" in text.lower()  # (d), (f)
    assert (
        "Camberwell Green Magistrates' Court" in text
        and "15 D'Eynsford Road, London SE5 7UP" in text
    )  # (e)
    assert "30 June 2024" in text and "10:00" in text
    for contact in json.loads(sample_store.get_meta("advice_contacts")):  # (g)
        assert contact["name"] in text and contact["detail"] in text
    assert "Exhibit AB/1" in text and "version 1" in text


def test_the_bundle_index_bookmarks_stamps_and_chronology_agree(
    shaped: GeoPackageStore, tmp_path: Path
) -> None:
    entrances = shaped.read("entrances").query("block_id == 'PER'")
    filled = pd.DataFrame(
        {
            "entrance": entrances["name"].fillna("door"),
            "block": "Perronet House (PER)",
            "time_fixed": "2024-06-28 10:05",
            "officer": USER,
            "photo_ref": "IMG_0001",
        }
    )
    assert record_service(shaped, "ORD-001", filled, user=USER)[0] == len(entrances)
    case = case_file(shaped, "ORD-001", exhibit_ref="DF/2", prepared_by=USER, today=TODAY)
    assert (case.evidence_from, case.evidence_to) == (date(2024, 2, 10), date(2024, 5, 20))
    result, notes = make_bundle(shaped, case, tmp_path / "bundle.pdf", generated_at=WHEN)
    assert notes == []
    titles = [p.title for p in result.parts]
    assert titles == [
        "Application for a closure order",
        "Draft closure order",
        "Closure notice",
        "Certificate of service",
        "Incident chronology",
        "Hot-spot map",
        "Consultation record",
        "Map exhibit",
    ]

    reader = PdfReader(result.path)
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) == result.pages
    assert _outline(reader) == [("Index", 1)] + [(p.title, p.first_page) for p in result.parts]
    index = pages[0]
    for part in result.parts:
        assert part.title in index and part.sha256 in index.replace("\n", "")
    for number, text in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)}" in text
        assert case.reference_line in text
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == result.sha256

    chronology = next(p for p in result.parts if p.title == "Incident chronology")
    chron_text = " ".join(
        pages[chronology.first_page - 1 : chronology.first_page - 1 + chronology.pages]
    )
    listed = set(
        re.findall(
            r"\b(CAD\d{6}-\d{4}|PUK-MONTH|UNDATED|AFTER-WINDOW|LAST-MINUTE|FIRST-MINUTE|TOO-FAR|AT-DOOR)\b",
            chron_text,
        )
    )
    expected = _expected_references(shaped, date(2024, 2, 10), date(2024, 5, 20))
    assert listed == expected
    assert {"PUK-MONTH", "LAST-MINUTE", "FIRST-MINUTE", "AT-DOOR"} <= listed
    assert not {"UNDATED", "AFTER-WINDOW", "TOO-FAR"} & listed
    assert "10 February 2024 to 20 May 2024" in chron_text.replace("\n", " ")

    certificate = next(p for p in result.parts if p.title == "Certificate of service")
    cert_text = " ".join(
        pages[certificate.first_page - 1 : certificate.first_page - 1 + certificate.pages]
    )
    assert "IMG_0001" in cert_text and USER in cert_text


def test_the_same_order_and_settings_give_the_same_bundle(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    case = case_file(sample_store, "ORD-001", exhibit_ref="AB/1", prepared_by=USER, today=TODAY)
    first, _ = make_bundle(sample_store, case, tmp_path / "a.pdf", generated_at=WHEN)
    again = case_file(sample_store, "ORD-001", exhibit_ref="AB/1", prepared_by=USER, today=TODAY)
    second, _ = make_bundle(sample_store, again, tmp_path / "b.pdf", generated_at=WHEN)
    assert first.path.read_bytes() == second.path.read_bytes()
    later, _ = make_bundle(
        sample_store, again, tmp_path / "c.pdf", generated_at=datetime(2024, 7, 2, 15, 0)
    )
    assert [p.sha256 for p in later.parts] == [p.sha256 for p in first.parts]
    assert later.sha256 != first.sha256


def test_document_commands_print_file_pages_sha256_and_parts(
    sample_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("notice", "application", "bundle"):
        out = tmp_path / f"{command}.pdf"
        code = main(
            [
                command,
                str(sample_path),
                "--order",
                "ORD-001",
                "--out",
                str(out),
                "--exhibit-ref",
                "AB/1",
                "--user",
                USER,
                "--date",
                "2024-07-01",
                "--json",
            ]
        )
        data = json.loads(capsys.readouterr().out)
        assert code == 0
        assert set(data) >= {"file", "pages", "sha256", "parts"}
        assert data["pages"] == len(PdfReader(out).pages)
        assert data["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
        assert all(set(p) == {"title", "first_page", "pages", "sha256"} for p in data["parts"])
    assert data["parts"][0]["first_page"] == 2  # the bundle's index page comes first


def test_a_document_command_without_an_exhibit_reference_or_a_name_says_what_to_give(
    sample_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (
        main(
            [
                "notice",
                str(sample_path),
                "--order",
                "ORD-001",
                "--out",
                str(tmp_path / "n.pdf"),
                "--user",
                USER,
            ]
        )
        == 2
    )
    assert "--exhibit-ref" in capsys.readouterr().err
    monkeypatch.delenv("CLOSUREMAP_USER", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "")
    assert (
        main(
            [
                "notice",
                str(sample_path),
                "--order",
                "ORD-001",
                "--out",
                str(tmp_path / "n.pdf"),
                "--exhibit-ref",
                "AB/1",
            ]
        )
        == 2
    )
    assert "--user" in capsys.readouterr().err
    assert not (tmp_path / "n.pdf").exists()


def test_an_extension_bundle_carries_the_extension_and_the_before_and_after(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    from closuremap.layers.evaluation import evaluate_order

    row = _order(sample_store)
    sample_store.update(
        "orders", str(row["feature_id"]), user="t", attributes={"extension_months": "3"}
    )
    case = case_file(
        sample_store, "ORD-001", exhibit_ref="AB/1", prepared_by=USER, today=date(2024, 9, 20)
    )
    result, notes = make_bundle(sample_store, case, tmp_path / "ext.pdf", generated_at=WHEN)
    titles = [p.title for p in result.parts]
    assert titles[:2] == ["Application to extend the order", "Before and after evaluation"], notes
    evaluation = result.parts[1]
    text = " ".join(
        p.extract_text()
        for p in PdfReader(result.path).pages[evaluation.first_page - 1 : evaluation.first_page]
    ).replace("\n", " ")
    expected = evaluate_order(sample_store, "ORD-001")
    assert (
        f"{expected.counts['target']['before']['total']} incidents before" in text and "WDQ" in text
    )


def test_the_ward_briefing_reports_results_of_orders_made_without_small_counts(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    from closuremap.reports.briefing import render_briefing
    from closuremap.reports.inputs import briefing_input

    data = briefing_input(sample_store, today=date(2024, 10, 1))
    assert [name for name, _ in data.results] == ["Perronet House communal areas"]
    rows, words = data.results[0][1].briefing_rows(5)
    assert rows["area"].tolist() == ["target", "buffer", "control"] and "WDQ" in words
    rows_hi, words_hi = data.results[0][1].briefing_rows(100)  # with a high threshold, counts hide
    assert (rows_hi["before"].str.startswith("<") | rows_hi["before"].str.isdigit()).all()
    assert "WDQ +" not in words_hi and "not shown" in words_hi
    pdf = render_briefing(data, tmp_path / "b.pdf", prepared_on=date(2024, 10, 1))
    pages = [p.extract_text() for p in PdfReader(pdf).pages]
    assert "Results so far" in pages[-1] and "target" in pages[-1]
