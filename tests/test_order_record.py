"""The order as one trustworthy record across pages: the object chosen is the object shown, a
re-save keeps what the page did not touch, and every change carries a name."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from closuremap.layers.documents import order_blocks
from closuremap.layers.orders import (
    changed_fields,
    evidence_window,
    order_history,
    order_timeline,
    save_order,
)
from closuremap.layers.store import GeoPackageStore
from closuremap.reports.briefing import briefing_tables
from closuremap.reports.inputs import briefing_input, letter_fields
from closuremap.reports.service_pack import render_service_pack
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
ACTING = "PS Bea Example (7012)"


@pytest.fixture
def app(sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", ACTING)
    return AppTest.from_file(APP, default_timeout=90)


def _orders_page(at: AppTest) -> AppTest:
    at.run()
    at.switch_page("app_pages/orders.py").run()
    assert not at.exception
    return at


def _fid(store: GeoPackageStore, order_id: str) -> str:
    orders = store.read("orders")
    return str(orders.loc[orders["order_id"] == order_id, "feature_id"].iloc[0])


def _scope_map_script(at: AppTest) -> str:
    for node in at.get("component_instance"):
        args = json.loads(node.proto.json_args)
        if "Scope being checked" in args["script"] or "Saved scope" in args["script"]:
            return args["script"]
    raise AssertionError("no scope map on the page")


def test_choosing_another_order_after_a_check_shows_that_orders_saved_scope(
    app: AppTest, sample_store: GeoPackageStore
) -> None:
    communal = sample_store.read("communal_areas")
    stair = communal[(communal.block_id == "HAY") & (communal.area_type == "stairwell")][
        "feature_id"
    ].iloc[0]
    at = _orders_page(app)
    at.multiselect(key="scope_for_blocks_new").set_value(["HAY"]).run()
    at.multiselect(key="scope_communal_new").set_value([stair]).run()
    at.button(key="check_scope").click().run()
    assert "Scope being checked" in _scope_map_script(at)

    at.selectbox(key="order_pick").set_value("ORD-001").run()
    assert not at.exception
    fid = _fid(sample_store, "ORD-001")
    script = _scope_map_script(at)
    assert "Saved scope" in script and "Scope being checked" not in script
    assert at.text_input(key=f"order_name_{fid}").value == "Perronet House communal areas"
    assert at.text_input(key=f"order_ref_{fid}").value == "ORD-001"
    assert any("(the saved scope)" in s.value for s in [*at.success, *at.warning, *at.error])

    # saving now must not put the HAY stairwell onto ORD-001
    before = sample_store.read("orders").set_index("order_id").loc["ORD-001"]
    at.text_input(key=f"order_case_{fid}").set_value("SYN-2024-001A")
    at.button(key="save_order_button").click().run()
    assert not at.exception
    after = sample_store.read("orders").set_index("order_id").loc["ORD-001"]
    assert after.geometry.symmetric_difference(before.geometry).area < 1e-6
    assert after["case_reference"] == "SYN-2024-001A"
    assert after["block_ids"] == "PER"


def test_resaving_after_editing_only_the_hearing_time_keeps_every_other_field(
    app: AppTest, sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    before = sample_store.read("orders").set_index("order_id").loc["ORD-001"]
    fid = _fid(sample_store, "ORD-001")
    at = _orders_page(app)
    at.selectbox(key="order_pick").set_value("ORD-001").run()
    at.time_input(key=f"hearing_at_t_{fid}").set_value(datetime(2024, 6, 30, 14, 30).time()).run()
    assert any("hearing_at" in c.value for c in at.caption if c.value.startswith("Changed since"))
    at.button(key="save_order_button").click().run()
    assert not at.exception
    assert any("saved ORD-001 (hearing_at)" in s.value for s in at.success), [
        e.value for e in at.error
    ]

    after = sample_store.read("orders").set_index("order_id").loc["ORD-001"]
    assert after["hearing_at"].startswith("2024-06-30T14:30")
    for field in (
        "block_ids",
        "name",
        "court",
        "authorised_by",
        "permitted_access",
        "notice_issued_at",
        "order_made_on",
        "grounds",
        "facts",
        "scope_parts",
    ):
        assert str(after[field]) == str(before[field]), field
    assert after.geometry.equals_exact(before.geometry, 1e-6)
    entry = sample_store.history(kind="orders", feature_id=fid).iloc[0]
    assert entry["user"] == ACTING
    assert set(json.loads(entry["after"])["properties"]) >= {"hearing_at"}
    history = order_history(sample_store, "ORD-001")
    assert (
        history.iloc[0]["who"] == ACTING
        and "hearing_at: 2024-06-30T10:00:00 → 2024-06-30T14:30" in history.iloc[0]["what changed"]
    )

    # the views of the order refresh after the save
    fresh = at.dataframe[0].value  # the urgency table
    assert "ORD-001" in fresh["order_id"].tolist()
    # and the documents that depend on its blocks still work
    recipients, fields = letter_fields(
        sample_store, "ORD-001", today=date(2024, 7, 1), contact="the ASB team", signatory=ACTING
    )
    assert len(recipients) and fields["blocks"] == "Perronet House"
    blocks = order_blocks(sample_store, "ORD-001")
    pack = render_service_pack(
        title="x",
        scope=after.geometry,
        premises=blocks,
        entrances=sample_store.read("entrances").query("block_id == 'PER'"),
        basemap=None,
        out=tmp_path / "pack.pdf",
        prepared_on=date(2024, 7, 1),
    )
    assert len(pack.checklist) > 0
    proposals = briefing_tables(briefing_input(sample_store, today=date(2024, 7, 1))).proposals
    assert proposals.set_index("order").loc["Perronet House communal areas", "blocks"] == "PER"


def test_an_order_saved_without_block_ids_still_gets_letters_pack_and_briefing(
    sample_store: GeoPackageStore,
) -> None:
    """Orders blanked by the old fault: the blocks come from the scope, never from 'nan'."""
    fid = _fid(sample_store, "ORD-001")
    sample_store.update("orders", fid, user="t", attributes={"block_ids": None})
    assert order_blocks(sample_store, "ORD-001")["block_id"].tolist() == ["PER"]
    recipients, _ = letter_fields(
        sample_store, "ORD-001", today=date(2024, 7, 1), contact="c", signatory="s"
    )
    assert set(recipients["block_id"]) == {"PER"}
    assert "PER" in briefing_tables(briefing_input(sample_store)).proposals["blocks"].tolist()


def test_saving_without_a_name_is_refused_and_with_one_is_recorded(
    sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.delenv("CLOSUREMAP_USER", raising=False)
    fid = _fid(sample_store, "ORD-001")
    audit_rows = len(sample_store.history())
    at = _orders_page(AppTest.from_file(APP, default_timeout=90))
    at.selectbox(key="order_pick").set_value("ORD-001").run()
    at.text_input(key=f"order_case_{fid}").set_value("NEW-REF").run()
    at.button(key="save_order_button").click().run()
    assert any("Give your name in the sidebar" in e.value for e in at.error)
    assert len(sample_store.history()) == audit_rows
    assert (
        sample_store.read("orders").set_index("order_id").loc["ORD-001", "case_reference"]
        == "SYN-2024-001"
    )

    at.text_input(key="identity_name").set_value("DC Cal Three")
    at.text_input(key="identity_number").set_value("555")
    at.button(key="identity_set").click().run()
    at.text_input(key=f"order_case_{fid}").set_value("NEW-REF")
    at.button(key="save_order_button").click().run()
    assert not at.exception
    assert (
        sample_store.read("orders").set_index("order_id").loc["ORD-001", "case_reference"]
        == "NEW-REF"
    )
    assert sample_store.history(kind="orders").iloc[0]["user"] == "DC Cal Three (555)"

    # documents made now carry the name as "Prepared by"
    at.switch_page("app_pages/documents.py").run()
    assert not at.exception
    at.button(key="make_all").click().run()
    assert not at.exception, at.exception
    files = at.session_state["made_documents"]["ORD-001"]
    exhibit = next(data for name, (_, data, _) in files.items() if name.startswith("exhibit-"))
    reader = PdfReader(__import__("io").BytesIO(exhibit))
    assert "Prepared by: DC Cal Three (555)" in reader.pages[0].extract_text()


def test_save_order_refuses_no_user_and_writes_only_the_changes(
    sample_store: GeoPackageStore,
) -> None:
    row = sample_store.read("orders").iloc[0]
    with pytest.raises(Exception, match="say who you are"):
        save_order(
            sample_store, user=" ", feature_id=str(row["feature_id"]), changes={"court": "X"}
        )
    edited = {
        "court": row["court"],
        "notice_issued_at": "2024-06-28T09:00",
        "notice_hours": 48,
        "facts": "new",
    }
    assert changed_fields(row, edited) == {
        "facts": "new"
    }  # same instant written differently is no change


def test_evidence_window_defaults_to_six_months_before_the_notice(
    sample_store: GeoPackageStore,
) -> None:
    row = sample_store.read("orders").iloc[0]  # notice issued 2024-06-28 09:00
    assert evidence_window(row, date(2030, 1, 1)) == (date(2023, 12, 28), date(2024, 6, 28))
    custom = pd.Series(
        {**row.to_dict(), "evidence_from": "2024-03-01", "evidence_to": "2024-05-31"}
    )
    assert evidence_window(custom, date(2030, 1, 1)) == (date(2024, 3, 1), date(2024, 5, 31))
    backwards = pd.Series(
        {**row.to_dict(), "evidence_from": "2024-06-01", "evidence_to": "2024-05-31"}
    )
    with pytest.raises(Exception, match="starts .* after it ends"):
        evidence_window(backwards, date(2030, 1, 1))


def test_an_orders_life_lists_what_happened_and_its_deadlines_in_time_order(
    sample_store: GeoPackageStore,
) -> None:
    from closuremap.layers.orders import order_life

    row = sample_store.read("orders").iloc[0]
    life = order_life(row, order_timeline(row))
    assert set(life["event"]) == {
        "Notice issued",
        "Notice served",
        "Hearing",
        "Order made",
        "Closure notice expires",
        "Application heard by (48 hours after service)",
        "Closure order expires",
        "Latest end with every extension (6 months)",
    }
    assert life["event"].iloc[0] == "Notice issued" and life["event"].iloc[-1].startswith(
        "Latest end"
    )
    assert life["when"].is_monotonic_increasing


def _add_order(store: GeoPackageStore, order_id: str, **attrs: object) -> str:
    import geopandas as gpd

    base = store.read("orders").iloc[0]
    values = {
        "order_id": order_id,
        "name": f"Order {order_id}",
        "block_ids": "PER",
        "notice_issued_at": "2024-06-28T09:00:00",
        **attrs,
    }
    frame = gpd.GeoDataFrame(
        {k: [v] for k, v in values.items()}, geometry=[base.geometry], crs=store.read("orders").crs
    )
    return store.add("orders", frame, user="t")[0]


def test_a_resave_keeps_odd_hours_spaced_grounds_and_day_first_dates(
    app: AppTest, sample_store: GeoPackageStore
) -> None:
    fid = _add_order(
        sample_store,
        "ODD",
        notice_hours=36,
        grounds="a; b",
        notice_issued_at="01/03/2024 10:00",
        order_months=6,
        extension_months="3 months",
        block_ids="PER;GONE",
    )
    before = sample_store.read("orders").set_index("feature_id").loc[fid]
    at = _orders_page(app)
    assert any("cannot be worked out" in str(v) for v in at.dataframe[0].value["next_deadline"])
    at.selectbox(key="order_pick").set_value("ODD").run()
    assert not at.exception, at.exception
    assert at.date_input(key=f"notice_issued_at_d_{fid}").value == date(2024, 3, 1)
    at.text_input(key=f"order_name_{fid}").set_value("Odd order, renamed").run()
    at.text_input(key=f"order_ext_{fid}").set_value("3").run()
    at.button(key="save_order_button").click().run()
    assert not at.exception
    after = sample_store.read("orders").set_index("feature_id").loc[fid]
    assert after["name"] == "Odd order, renamed" and after["extension_months"] == "3"
    assert int(after["notice_hours"]) == 36 and after["grounds"] == before["grounds"]
    assert (
        after["notice_issued_at"] == before["notice_issued_at"] and int(after["order_months"]) == 6
    )


def test_a_reversed_evidence_window_is_refused_before_it_is_saved(
    app: AppTest, sample_store: GeoPackageStore
) -> None:
    fid = _fid(sample_store, "ORD-001")
    at = _orders_page(app)
    at.selectbox(key="order_pick").set_value("ORD-001").run()
    at.date_input(key=f"order_ev_from_{fid}").set_value(date(2024, 6, 1)).run()
    at.date_input(key=f"order_ev_to_{fid}").set_value(date(2024, 1, 1)).run()
    at.button(key="save_order_button").click().run()
    assert any("starts" in e.value and "after it ends" in e.value for e in at.error)
    assert pd.isna(sample_store.read("orders").set_index("feature_id").loc[fid, "evidence_from"])


def test_one_bad_order_does_not_stop_the_briefing_or_the_bundle(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    import geopandas as gpd
    import shapely

    from closuremap.reports.casefile import case_file, make_bundle

    park = gpd.GeoDataFrame(
        {
            "order_id": ["PARK"],
            "name": ["Park"],
            "evidence_from": ["2024-06-01"],
            "evidence_to": ["2024-01-01"],
        },
        geometry=[shapely.box(500000, 150000, 500010, 150010)],
        crs=sample_store.read("orders").crs,
    )
    sample_store.add("orders", park, user="t")
    data = briefing_input(sample_store, today=date(2024, 7, 1))
    assert "Park" in data.orders["name"].tolist()
    fid = _add_order(sample_store, "LONG", order_months=6)
    case = case_file(
        sample_store, "LONG", exhibit_ref="AB/1", prepared_by="PC T (1)", today=date(2024, 7, 1)
    )
    result, notes = make_bundle(
        sample_store, case, tmp_path / "b.pdf", generated_at=datetime(2024, 7, 1, 9)
    )
    assert any("Application" in n for n in notes) and result.pages > 1
    assert fid


def test_making_every_document_keeps_the_letters_already_made(app: AppTest) -> None:
    at = app.run()
    at.switch_page("app_pages/documents.py").run()
    at.button(key="make_letters").click().run()
    assert "letters-ORD-001.pdf" in at.session_state["made_documents"]["ORD-001"]
    at.button(key="make_all").click().run()
    files = at.session_state["made_documents"]["ORD-001"]
    assert "letters-ORD-001.pdf" in files and "court-bundle-ORD-001.pdf" in files


def test_a_resave_keeps_grounds_and_access_terms_the_pickers_cannot_show(
    app: AppTest, sample_store: GeoPackageStore
) -> None:
    # Saved by hand or an older version: grounds as words, access terms as free text. The page's
    # pickers cannot show them, so renaming the order must leave them exactly as they were.
    odd = _add_order(
        sample_store,
        "FREE",
        grounds="(a) nuisance to the public",
        permitted_access="Residents of Perronet House and their carers",
    )
    plain = _add_order(sample_store, "PLAIN", grounds="a;b")
    before = sample_store.read("orders").set_index("feature_id")
    at = _orders_page(app)
    for fid, name in ((odd, "Free order, renamed"), (plain, "Plain order, renamed")):
        at.selectbox(key="order_pick").set_value(str(before.loc[fid, "order_id"])).run()
        at.text_input(key=f"order_name_{fid}").set_value(name).run()
        at.button(key="save_order_button").click().run()
        assert not at.exception, at.exception
    after = sample_store.read("orders").set_index("feature_id")
    for fid in (odd, plain):
        for field in ("grounds", "permitted_access"):
            assert str(after.loc[fid, field]) == str(before.loc[fid, field]), (fid, field)
    assert after.loc[odd, "name"] == "Free order, renamed"
    assert after.loc[plain, "name"] == "Plain order, renamed"
