"""Imports stream in chunks inside one transaction; limits refuse before parsing; nothing is lost.

Each test reads what a user would see afterwards (the workspace, the rejects file, the review
queue, the import log) rather than the importer's internals.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geopandas as gpd
import shapely

from closuremap.geo.crs import WGS84
from closuremap.geo.errors import LimitError
from closuremap.layers import importlog
from closuremap.layers.importer import import_file
from closuremap.layers.limits import Limits
from closuremap.layers.review import open_items
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.tabular import iter_table


def _rows_file(path: Path, n: int) -> Path:
    """Incidents with every awkward row type, spread so several fall on chunk boundaries."""
    lines = ["reference,occurred_at,category,easting,northing,location"]
    for i in range(1, n + 1):
        if i % 11 == 0:
            lines.append("")  # a blank line is a record: row numbers must still match lines
        elif i % 7 == 0:
            lines.append(f"R{i},31/02/2024 10:00,ASB,531790,179105,")  # no such date
        elif i % 5 == 0:
            lines.append(
                f"R{i},01/03/2024 10:00,ASB,,,Nowhere Street"
            )  # unplaced: no coordinates, no match
        elif i % 13 == 0:
            lines.append(f"R{i},01/03/2024 10:00,ASB,531790,179105,x,extra")  # ragged
        else:
            lines.append(
                f"R{i},01/03/2024 {i % 24:02d}:00,Drugs,{531700 + i % 90},{179050 + i % 80},"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stored(store: GeoPackageStore) -> pd.DataFrame:
    frame = store.read("incidents")
    keep = ["source_row", "reference", "occurred_at", "category", "precision"]
    out = pd.DataFrame(frame[keep]).assign(x=frame.geometry.x.round(3), y=frame.geometry.y.round(3))
    return out.sort_values("source_row").reset_index(drop=True)


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_a_file_read_in_chunks_gives_what_one_read_gives(tmp_path: Path) -> None:
    path = _rows_file(tmp_path / "calls.csv", 60)
    results, stored, rejects = [], [], []
    for chunk_rows in (None, 7):
        store = GeoPackageStore.create(tmp_path / f"ws{chunk_rows}.gpkg")
        result = import_file(
            store,
            "incidents",
            path,
            user="PC Test",
            chunk_rows=chunk_rows,
            rejects_path=tmp_path / f"rejects{chunk_rows}.csv",
        )
        results.append(result)
        stored.append(_stored(store))
        rejects.append(_csv(tmp_path / f"rejects{chunk_rows}.csv"))
    whole, chunked = results
    assert chunked.read == whole.read == 60
    assert chunked.imported == whole.imported == len(stored[1]) > 0
    assert chunked.n_rejected == whole.n_rejected > 0
    assert chunked.summary()["reasons"] == whole.summary()["reasons"]
    assert chunked.read == chunked.imported + chunked.n_rejected
    pd.testing.assert_frame_equal(stored[0], stored[1])
    assert rejects[0] == rejects[1]
    assert any("chunks" in n for n in chunked.notes) and not any("chunks" in n for n in whole.notes)
    lines = path.read_text().splitlines()
    header = rejects[1][0]
    for record in rejects[1][1:]:  # every row number and line points at the user's own line
        line, reference = int(record[header.index("line")]), record[header.index("reference")]
        assert (
            lines[line - 1].startswith(reference + ",")
            if reference
            else not lines[line - 1].strip()
        )


def test_rows_without_coordinates_are_queued_in_the_same_transaction(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    path = _rows_file(tmp_path / "calls.csv", 40)
    before = len(open_items(sample_store))
    result = import_file(
        sample_store,
        "incidents",
        path,
        user="PC Test",
        chunk_rows=6,
        rejects_path=tmp_path / "rejects.csv",
    )
    unplaced = sum(1 for i in range(1, 41) if i % 5 == 0 and i % 11 and i % 7)
    assert result.queued >= unplaced and len(open_items(sample_store)) - before == result.queued
    kept = _csv(tmp_path / "rejects.csv")
    reasons = [r[kept[0].index("reason")] for r in kept[1:]]
    assert reasons and not any(
        r.startswith("not placed") for r in reasons
    )  # they wait in the queue instead


def test_a_row_limit_refuses_the_whole_file_and_stores_nothing(
    store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _rows_file(tmp_path / "calls.csv", 30)
    monkeypatch.setenv("CLOSUREMAP_MAX_ROWS", "20")
    with pytest.raises(
        LimitError, match="more than 20 rows.*CLOSUREMAP_MAX_ROWS.*nothing was imported"
    ):
        import_file(
            store, "incidents", path, user="PC Test", chunk_rows=8
        )  # two chunks are in, then refused
    assert store.count("incidents") == 0
    with sqlite3.connect(store.path) as conn:
        assert importlog.imports(conn).empty


def test_the_file_size_and_column_limits_refuse_before_parsing(
    store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"easting,northing\n" + b"531790,179105\n" * 80_000)  # ~1.1 MB
    monkeypatch.setenv("CLOSUREMAP_MAX_FILE_MB", "1")
    with pytest.raises(
        LimitError, match=r"big.csv: the file is 1 MB; the limit is 1 MB.*CLOSUREMAP_MAX_FILE_MB"
    ):
        import_file(store, "incidents", big, user="PC Test")
    monkeypatch.delenv("CLOSUREMAP_MAX_FILE_MB")
    wide = tmp_path / "wide.csv"
    wide.write_text(
        ",".join(f"c{i}" for i in range(20_002))
        + "\n"
        + ",".join("1" for _ in range(20_002))
        + "\n"
    )
    with pytest.raises(LimitError, match="20,002 columns; the limit is 1,000"):
        import_file(store, "incidents", wide, user="PC Test")
    assert store.count("incidents") == 0


def test_a_wide_file_under_a_raised_limit_is_read_not_refused(
    store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSUREMAP_MAX_COLUMNS", "30000")
    wide = tmp_path / "wide.csv"
    names = ["easting", "northing", "category", "occurred_at"] + [f"c{i}" for i in range(20_000)]
    wide.write_text(
        ",".join(names)
        + "\n"
        + ",".join(["531790", "179105", "ASB", "2024-03-01"] + [""] * 20_000)
        + "\n"
        + "," * (len(names) - 1)
        + "\n"
    )
    result = import_file(store, "incidents", wide, user="PC Test", rejects_path=tmp_path / "r.csv")
    assert (result.imported, result.n_rejected) == (1, 1)
    assert result.rejected["reason"].tolist() == ["blank row"]


def test_a_feature_over_the_vertex_limit_is_rejected_and_the_rest_imported(
    store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSUREMAP_MAX_VERTICES", "500")
    huge = shapely.Point(531790, 179105).buffer(20, quad_segs=300)  # 1,201 vertices
    small = shapely.box(531700, 179000, 531720, 179020)
    path = tmp_path / "areas.geojson"
    gpd.GeoDataFrame(
        {"name": ["huge", "small"], "area_type": ["landing", "landing"], "block_id": ["B1", "B1"]},
        geometry=[huge, small],
        crs=27700,
    ).to_file(path)
    result = import_file(
        store,
        "communal_areas",
        path,
        user="PC Test",
        repair_geometry=True,
        rejects_path=tmp_path / "r.csv",
    )
    assert result.imported == 1 and store.read("communal_areas")["name"].tolist() == ["small"]
    assert "has 1,201 vertices; the limit is 500 per feature" in result.rejected["reason"].iloc[0]


def test_a_polygon_valid_in_wgs84_is_kept_after_conversion(
    store: GeoPackageStore, tmp_path: Path
) -> None:
    # a vertex 11 m inside a 42 km edge: valid in lon/lat, but the edge's image in BNG bends past it
    shape = shapely.Polygon([(-0.4, 51.5), (0.2, 51.5), (0.2, 51.6), (-0.1, 51.5001), (-0.4, 51.6)])
    assert shape.is_valid
    path = tmp_path / "area.geojson"
    gpd.GeoDataFrame(
        {"name": ["estate"], "area_type": ["walkway"], "block_id": ["B1"]},
        geometry=[shape],
        crs=WGS84,
    ).to_file(path)
    result = import_file(
        store, "communal_areas", path, user="PC Test", rejects_path=tmp_path / "r.csv"
    )
    assert result.imported == 1 and result.n_rejected == 0
    assert any("became invalid when converted" in n and "repaired" in n for n in result.notes)
    assert store.read("communal_areas").geometry.is_valid.all()


def test_rejects_lost_to_a_crash_after_commit_are_written_at_the_next_open(
    store: GeoPackageStore, tmp_path: Path
) -> None:
    path = _rows_file(tmp_path / "calls.csv", 30)
    target = tmp_path / "rejects.csv"
    result = import_file(store, "incidents", path, user="PC Test", rejects_path=target)
    written = _csv(target)
    target.unlink()  # as if the process died between the commit and writing the file
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "UPDATE closuremap_imports SET rejects_written = 0 WHERE id = ?", (result.import_id,)
        )
    GeoPackageStore(store.path)
    assert _csv(target) == written and len(written) - 1 == result.n_rejected
    with sqlite3.connect(store.path) as conn:
        log = importlog.imports(conn)
    assert log.loc[0, ["read", "added", "rejected"]].tolist() == [
        result.read,
        result.imported,
        result.n_rejected,
    ]
    assert log.loc[0, "user"] == "PC Test"


def test_the_table_reader_keeps_memory_to_a_chunk(tmp_path: Path) -> None:
    path = _rows_file(tmp_path / "calls.csv", 100)
    chunks = list(iter_table(path, Limits(chunk_rows=30)))
    assert [len(c.frame) for c in chunks] == [30, 30, 30, 10]
    assert [c.first_row for c in chunks] == [1, 31, 61, 91]
    assert sum(1 for c in chunks for r in c.ragged if r) == sum(
        1 for i in range(1, 101) if i % 13 == 0 and i % 11 and i % 7 and i % 5
    )


def test_a_cp1252_file_is_read_in_blocks(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(
        "reference,location\nR1,Caf\xe9 on the corner \u2013 stairwell\n".encode("cp1252")
    )
    chunk = next(iter_table(path, Limits()))
    assert chunk.frame.loc[0, "location"] == "Café on the corner – stairwell"


def test_a_bad_setting_says_which_and_what_it_should_be(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOSUREMAP_MAX_ROWS", "lots")
    with pytest.raises(LimitError, match="CLOSUREMAP_MAX_ROWS='lots' is not a number"):
        Limits.from_env()


def test_the_import_log_records_each_import(store: GeoPackageStore, tmp_path: Path) -> None:
    path = _rows_file(tmp_path / "calls.csv", 12)
    result = import_file(store, "incidents", path, user="PC Test", rejects_path=tmp_path / "r.csv")
    with sqlite3.connect(store.path) as conn:
        rows = conn.execute(
            "SELECT row_json FROM closuremap_rejects WHERE import_id = ? ORDER BY seq",
            (result.import_id,),
        ).fetchall()
    kept = [json.loads(r[0]) for r in rows]
    assert [k["row"] for k in kept] == result.rejected["row"].tolist()


def test_the_review_queue_and_floor_plans_wait_then_say_the_workspace_is_busy(
    sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from closuremap.geo.errors import WorkspaceError
    from closuremap.layers.floorplans import plans

    monkeypatch.setenv("CLOSUREMAP_BUSY_SECONDS", "0.3")
    open_items(sample_store)  # the queue's table exists before the writer takes the lock
    writer = sqlite3.connect(sample_store.path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # as an import holds it while it commits
    try:
        for read in (lambda: open_items(sample_store), lambda: plans(sample_store.path)):
            with pytest.raises(WorkspaceError, match="is busy .*Try again in a moment"):
                read()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert isinstance(open_items(sample_store), pd.DataFrame)


def test_unmapped_columns_keep_any_text_in_source_attrs(
    store: GeoPackageStore, tmp_path: Path
) -> None:
    odd = [
        "line\u2028separator",
        'quote " and \\ backslash',
        "slash/ and emoji \U0001f6a8",
        "=1+1",
        "",
    ]
    path = tmp_path / "calls.csv"
    body = "".join(
        f'R{i},2024-03-01,ASB,531790,179105,"{v.replace(chr(34), chr(34) * 2)}"\n'
        for i, v in enumerate(odd)
    )
    path.write_text(
        "reference,occurred_at,category,easting,northing,officer_note\n" + body, encoding="utf-8"
    )
    import_file(store, "incidents", path, user="PC Test", chunk_rows=2)
    kept = store.read("incidents").sort_values("source_row")["source_attrs"].tolist()
    assert [json.loads(k)["officer_note"] if isinstance(k, str) else "" for k in kept] == odd


@pytest.mark.parametrize("page", ["app_pages/map.py", "app_pages/review.py", "app_pages/orders.py"])
def test_a_page_on_a_busy_workspace_says_so_and_does_not_crash(
    page: str, sample_store: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(sample_store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Test (1)")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=90).run()
    monkeypatch.setenv("CLOSUREMAP_BUSY_SECONDS", "0.3")
    writer = sqlite3.connect(sample_store.path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # an import committing in another process
    try:
        at.switch_page(page).run()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert not at.exception
    assert any("is busy" in e.value and "Try again in a moment" in e.value for e in at.error)


def test_the_import_log_and_its_rejects_are_there_from_the_command_line(tmp_path: Path) -> None:
    from tests.test_cli import run

    ws = tmp_path / "ws.gpkg"
    GeoPackageStore.create(ws)
    path = _rows_file(tmp_path / "calls.csv", 30)
    assert (
        run(
            "import",
            ws,
            "incidents",
            path,
            "--user",
            "PC Log (7)",
            "--rejects",
            tmp_path / "first.csv",
            "--json",
        ).returncode
        == 0
    )
    (
        tmp_path / "first.csv"
    ).unlink()  # made on the Layers page, its file went with the browser's download
    listed = run("imports", ws, "--json")
    entry = json.loads(listed.stdout)["imports"][0]
    assert entry["user"] == "PC Log (7)" and entry["read"] == 30 and entry["rejected"] > 0
    again = run(
        "rejects", ws, "--import", str(entry["id"]), "--out", tmp_path / "again.csv", "--json"
    )
    assert (
        json.loads(again.stdout)["rows"]
        == entry["rejected"]
        == len(_csv(tmp_path / "again.csv")) - 1
    )
    missing = run("rejects", ws, "--import", "99", "--out", tmp_path / "x.csv")
    assert (
        missing.returncode == 2
        and "no import #99" in missing.stderr
        and "Traceback" not in missing.stderr
    )


def test_the_layers_page_lists_imports_and_offers_their_rejects_again(
    store: GeoPackageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    result = import_file(
        store,
        "incidents",
        _rows_file(tmp_path / "calls.csv", 20),
        user="PC Log (7)",
        rejects_path=tmp_path / "r.csv",
    )
    monkeypatch.setenv("CLOSUREMAP_WORKSPACE", str(store.path))
    monkeypatch.setenv("CLOSUREMAP_USER", "PC Test (1)")
    at = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=90
    ).run()
    at.switch_page("app_pages/layers.py").run()
    assert not at.exception
    log = next(d.value for d in at.dataframe if "user" in d.value.columns)
    assert log[["user", "read", "rejected"]].values.tolist() == [
        ["PC Log (7)", 20, result.n_rejected]
    ]
    labels = [b.label for b in at.get("download_button")]
    assert f"Download the rejected rows of import #{result.import_id} (CSV)" in labels


@pytest.mark.parametrize("rows, refused", [(20, False), (21, True)])
def test_the_row_limit_just_inside_and_just_outside(
    rows: int,
    refused: bool,
    store: GeoPackageStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "easting,northing,category,occurred_at\n" + "531790,179105,ASB,2024-03-01\n" * rows
    )
    monkeypatch.setenv("CLOSUREMAP_MAX_ROWS", "20")
    if refused:
        with pytest.raises(LimitError, match="more than 20 rows"):
            import_file(store, "incidents", path, user="PC Test", chunk_rows=7)
    else:
        assert import_file(store, "incidents", path, user="PC Test", chunk_rows=7).imported == rows
    assert store.count("incidents") == (0 if refused else rows)


@pytest.mark.parametrize("columns, refused", [(12, False), (13, True)])
def test_the_column_limit_just_inside_and_just_outside(
    columns: int, refused: bool, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        ",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" * columns) + "\n"
    )
    limits = Limits(columns=12)
    if refused:
        with pytest.raises(LimitError, match="13 columns; the limit is 12"):
            next(iter_table(path, limits))
    else:
        assert next(iter_table(path, limits)).frame.shape == (1, 12)


@pytest.mark.parametrize("extra, refused", [(0, False), (1, True)])
def test_the_file_size_limit_just_inside_and_just_outside(
    extra: int, refused: bool, tmp_path: Path
) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(b"a\n" + b"x" * (1024 * 1024 - 2 + extra))  # exactly 1 MB, then one byte more
    if refused:
        with pytest.raises(LimitError, match="CLOSUREMAP_MAX_FILE_MB"):
            Limits(file_mb=1).check_file(path)
    else:
        Limits(file_mb=1).check_file(path)


@pytest.mark.parametrize("vertices, refused", [(500, False), (501, True)])
def test_the_vertex_limit_just_inside_and_just_outside(vertices: int, refused: bool) -> None:
    assert (Limits(vertices=500).vertex_reason(vertices) is not None) == refused


# -- pyarrow reads each cell as the csv module does -----------------------------------------------
def _csv_module_cells(path: Path, encoding: str) -> list[list[str]]:
    """The records after the header as Python's csv module reads them, padded to the header."""
    with path.open(encoding=encoding, newline="") as f:
        head = f.readline()
        f.seek(0)
        delimiter = "\t" if head.count("\t") > head.count(",") else ","
        rows = list(csv.reader(f, delimiter=delimiter))
    width = len(rows[0])
    return [(r + [""] * width)[:width] for r in rows[1:]]


_CELLS = st.sampled_from(
    [
        "",
        " ",
        "a",
        'x"y',
        "é",
        "multi\nline",
        "cr\r\nlf",
        "  pad  ",
        ",",
        "\t",
        '""',
        "\u2028",
        "1.5",
    ]
)


@given(
    rows=st.lists(st.lists(_CELLS, min_size=3, max_size=3), max_size=8),
    tab=st.booleans(),
    crlf=st.booleans(),
    quote_all=st.booleans(),
    blank_line=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    chunk_rows=st.sampled_from([1, 3, 1000]),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_cells_are_the_csv_modules_text(
    tmp_path: Path,
    rows: list[list[str]],
    tab: bool,
    crlf: bool,
    quote_all: bool,
    blank_line: bool,
    encoding: str,
    chunk_rows: int,
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter="\t" if tab else ",",
        lineterminator="\r\n" if crlf else "\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    text = buffer.getvalue() + ("\n" if blank_line else "")
    path = tmp_path / "cells.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    chunks = list(iter_table(path, chunk_rows=chunk_rows))
    got = [list(r) for c in chunks for r in c.frame.itertuples(index=False, name=None)]
    read_as = "cp1252" if encoding == "cp1252" and "é" in text else "utf-8-sig"
    assert got == _csv_module_cells(path, read_as)
    assert [c.first_row for c in chunks] == [
        1 + i * chunk_rows for i in range(len(chunks))
    ] or got == []


def test_a_late_short_row_is_explained_after_rows_read_by_pyarrow(tmp_path: Path) -> None:
    # pyarrow reads a block at a time: the records before the chunk holding the short row come
    # from it, the rest from the csv module, and the row numbers run on unbroken
    lines = ["ref,easting,northing"] + [
        f'"R{i},x",{530000 + i % 100},180000' for i in range(60_000)
    ]
    lines.insert(50_001, "short,1")  # record 50,001
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    chunks = list(iter_table(path, chunk_rows=1000))
    assert [c.first_row for c in chunks] == [1 + 1000 * i for i in range(61)]
    ragged = [r for c in chunks for r in c.ragged]
    assert ragged[50_000] == "has 2 fields where the header has 3"
    assert sum(1 for r in ragged if r) == 1
    cells = pd.concat([c.frame for c in chunks], ignore_index=True)
    assert cells.iloc[49_999].tolist() == ["R49999,x", "530099", "180000"]
    assert cells.iloc[50_000].tolist() == ["short", "1", ""]
    assert cells.iloc[50_001].tolist() == ["R50000,x", "530000", "180000"]


def test_a_nul_character_is_kept_as_the_csv_module_keeps_it(tmp_path: Path) -> None:
    # past the first 4 KB, which are looked at for a binary file
    lines = ["ref,easting,northing"] + [f"R{i},530000,180000" for i in range(1000)]
    lines[901] = "R\x00,530000,180000"
    path = tmp_path / "nul.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (chunk,) = iter_table(path)
    assert chunk.frame["ref"].tolist()[899:902] == ["R899", "R\x00", "R901"]
