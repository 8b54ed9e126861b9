"""Every CSV we write reads back cell for cell, with Python's csv module and with pandas, and no
cell can run as a spreadsheet formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closuremap.layers.csvio import csv_bytes, neutralise, write_csv
from closuremap.layers.exporter import export_layer
from closuremap.layers.importer import import_file
from closuremap.layers.store import GeoPackageStore

NASTY = [
    "plain",
    "a,b",
    'say "hi"',
    "line\nbreak",
    "bare\rreturn",
    "crlf\r\nhere",
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\tTab",
    "-0.1034",
    "1e5",
    "",
    None,
]


def _read_both(data: bytes) -> tuple[list[list[str]], pd.DataFrame]:
    text = data.decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""))), pd.read_csv(
        io.BytesIO(data), dtype=str, keep_default_na=False
    )


def test_nasty_cells_read_back_cell_for_cell() -> None:
    frame = pd.DataFrame({"value": NASTY, "n": range(len(NASTY))})
    rows, table = _read_both(csv_bytes(frame))
    assert len(rows) == len(NASTY) + 1 and len(table) == len(NASTY)
    expected = [neutralise(v) for v in NASTY]
    assert [r[0] for r in rows[1:]] == expected == table["value"].tolist()
    assert expected[6].startswith("'=") and expected[7].startswith("'+") and expected[8] == "'-2+3"
    assert expected[9].startswith("'@") and expected[10] == "'\tTab"
    assert expected[11] == "-0.1034" and expected[12] == "1e5"  # numbers stay numbers


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=10))
def test_any_text_reads_back(values: list[str]) -> None:
    rows, table = _read_both(csv_bytes(pd.DataFrame({"v": values})))
    assert [r[0] for r in rows[1:]] == [neutralise(v) for v in values] == table["v"].tolist()


def test_a_rejects_file_with_a_bare_return_counts_one_row_per_rejection(
    store: GeoPackageStore, tmp_path: Path
) -> None:
    src = tmp_path / "areas.csv"
    good = b"POLYGON ((531700 179000, 531705 179000, 531705 179005, 531700 179000))"
    src.write_bytes(
        b'block_id,area_type,name,wkt\r\nB1,stairwell,ok,"' + good + b'"\r\n'
        b'B1,bogus,"Stair\rA","' + good + b'"\r\nB1,stairwell,=cmd(),not wkt\r\n'
    )
    rejects = tmp_path / "rej.csv"
    result = import_file(store, "communal_areas", src, user="t", rejects_path=rejects)
    rows, table = _read_both(rejects.read_bytes())
    assert len(result.rejected) == len(table) == len(rows) - 1 == 2
    assert table["name"].tolist() == ["Stair\rA", "'=cmd()"]


def test_exports_neutralise_formulas(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    fid = sample_store.read("premises")["feature_id"].iloc[0]
    sample_store.update("premises", fid, user="t", attributes={"name": '=HYPERLINK("http://evil")'})
    out = tmp_path / "premises.csv"
    export_layer(sample_store, "premises", out)
    _, table = _read_both(out.read_bytes())
    assert '\'=HYPERLINK("http://evil")' in table["name"].tolist()


def test_write_csv_leaves_no_partial_file(tmp_path: Path) -> None:
    class Boom:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        write_csv(pd.DataFrame({"v": [Boom()]}), target)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]
