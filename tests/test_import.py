"""Import: every format, every kind of bad input, and nothing lost (read == imported + rejected)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
import pyogrio
import shapely

from closuremap.geo.crs import BNG, WGS84, geometries_to_lonlat
from closuremap.geo.errors import CoordinateError, InputFileError
from closuremap.layers.coercion import coerce_column
from closuremap.layers.importer import import_file
from closuremap.layers.model import Field
from closuremap.layers.sources import read_source
from closuremap.layers.store import GeoPackageStore
from closuremap.layers.validation import validate_source
from tests.conftest import DATA, ZOO

COMMUNAL = DATA / "synthetic" / "communal_areas.geojson"
ADDRESSES = DATA / "synthetic" / "addresses.csv"
INCIDENTS = DATA / "synthetic" / "incidents_cad.csv"
POLICE_UK = DATA / "crime" / "police_uk_southwark_estate_2024-01_to_2024-06.csv"
OPEN_SPACE = DATA / "osm" / "elephant_and_castle_open_space.geojson"


def _adds_up(result) -> None:
    assert result.read == result.imported + len(result.rejected)


def _communal_frame() -> gpd.GeoDataFrame:
    return gpd.read_file(COMMUNAL)


# -- every format ---------------------------------------------------------------------------------
def _write_vector(frame: gpd.GeoDataFrame, path: Path, driver: str) -> Path:
    pyogrio.write_dataframe(frame, path, driver=driver)
    return path


@pytest.mark.parametrize(
    "suffix, driver, crs",
    [
        (".geojson", "GeoJSON", 4326),
        (".gpkg", "GPKG", 27700),
        (".shp", "ESRI Shapefile", 27700),
        (".shp.zip", "ESRI Shapefile", 27700),
        (".kml", "LIBKML", 4326),
        (".fgb", "FlatGeobuf", 27700),
        (".fgb", "FlatGeobuf", 3857),
    ],
)
def test_every_vector_format_imports_the_communal_areas(
    store: GeoPackageStore, tmp_path: Path, suffix: str, driver: str, crs: int
) -> None:
    src = _communal_frame()  # BNG, from data/synthetic (GeoJSON with a crs member)
    frame = src.to_crs(crs) if crs == 3857 else src
    if crs == 4326:
        frame = src.set_geometry(
            gpd.GeoSeries(geometries_to_lonlat(src.geometry.values), crs=WGS84)
        )
    path = _write_vector(frame, tmp_path / f"communal{suffix}", driver)
    result = import_file(store, "communal_areas", path, user="test")
    _adds_up(result)
    assert result.imported == len(src) and len(result.rejected) == 0
    stored = store.read("communal_areas")
    assert len(stored) == len(src)
    # same places, whatever the format: stored areas match the source areas to 0.1%
    assert stored.geometry.area.sum() == pytest.approx(src.geometry.area.sum(), rel=1e-3)
    assert set(stored["block_id"]) == set(src["block_id"])
    assert set(stored["area_type"]) == set(src["area_type"])


def test_plain_zip_of_a_shapefile(store: GeoPackageStore, tmp_path: Path) -> None:
    _write_vector(_communal_frame(), tmp_path / "communal.shp", "ESRI Shapefile")
    archive = tmp_path / "from_the_council.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("communal.*"):
            z.write(part, part.name)
    result = import_file(store, "communal_areas", archive, user="test")
    assert result.imported == len(_communal_frame())


def test_shapefile_without_prj_infers_bng_and_says_so(
    store: GeoPackageStore, tmp_path: Path
) -> None:
    shp = _write_vector(_communal_frame(), tmp_path / "noprj.shp", "ESRI Shapefile")
    shp.with_suffix(".prj").unlink()
    result = import_file(store, "communal_areas", shp, user="test")
    assert result.imported == len(_communal_frame())
    assert any("no CRS in the file" in n and "BNG" in n for n in result.notes)


@pytest.mark.parametrize(
    "columns", [("easting", "northing"), ("X", "Y"), ("Eastings", "Northings")]
)
def test_csv_with_bng_columns(
    store: GeoPackageStore, tmp_path: Path, columns: tuple[str, str]
) -> None:
    table = pd.read_csv(ADDRESSES, dtype=str).rename(
        columns={"easting": columns[0], "northing": columns[1]}
    )
    path = tmp_path / "addresses.csv"
    table.to_csv(path, index=False)
    result = import_file(store, "addresses", path, user="test")
    _adds_up(result)
    assert result.imported == len(table)
    stored = store.read("addresses")
    assert stored.geometry.x.round(2).tolist() == table[columns[0]].astype(float).round(2).tolist()


@pytest.mark.parametrize(
    "columns", [("Longitude", "Latitude"), ("lon", "lat"), ("lng", "lat"), ("x", "y")]
)
def test_csv_with_lonlat_columns(
    store: GeoPackageStore, tmp_path: Path, columns: tuple[str, str]
) -> None:
    table = pd.read_csv(POLICE_UK, dtype=str, keep_default_na=False)
    table = table.rename(columns={"Longitude": columns[0], "Latitude": columns[1]})
    path = tmp_path / "police.csv"
    table.to_csv(path, index=False)
    result = import_file(store, "incidents", path, user="test")
    _adds_up(result)
    assert result.imported == len(table)
    stored = store.read("incidents")
    assert (
        stored.total_bounds[0] > 531000 and stored.total_bounds[2] < 533000
    )  # BNG, near the estate


def test_csv_with_wkt_column(store: GeoPackageStore, tmp_path: Path) -> None:
    src = _communal_frame()
    table = pd.DataFrame(src.drop(columns="geometry"))
    table["WKT"] = src.geometry.to_wkt()
    path = tmp_path / "communal.csv"
    table.to_csv(path, index=False)
    result = import_file(store, "communal_areas", path, user="test")
    assert result.imported == len(src)


def test_xlsx(store: GeoPackageStore, tmp_path: Path) -> None:
    table = pd.read_csv(ADDRESSES, dtype=str)
    path = tmp_path / "addresses.xlsx"
    table.to_excel(path, index=False)
    result = import_file(store, "addresses", path, user="test")
    assert result.imported == len(table)


def test_tab_and_semicolon_separated(store: GeoPackageStore, tmp_path: Path) -> None:
    table = pd.read_csv(ADDRESSES, dtype=str).head(20)
    for sep, name in (("\t", "a.tsv"), (";", "a.csv")):
        path = tmp_path / name
        table.to_csv(path, index=False, sep=sep)
        assert import_file(store, "addresses", path, user="test").imported == 20


def test_every_real_police_uk_row_is_accounted_for(store: GeoPackageStore) -> None:
    table = pd.read_csv(POLICE_UK, dtype=str, keep_default_na=False)
    result = import_file(store, "incidents", POLICE_UK, user="test")
    _adds_up(result)
    assert result.read == len(table)
    assert result.mapping["occurred_at"] == "Month" and result.mapping["category"] == "Crime type"
    stored = store.read("incidents")
    assert set(stored["occurred_at"]) <= set(table["Month"])  # month precision kept as YYYY-MM


# -- bad input ------------------------------------------------------------------------------------
def _csv(tmp_path: Path, text: str, name: str = "mixed.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


MIXED = """uprn,address,block_id,latitude,longitude
1001,"Flat 1, Perronet House",PER,51.4950,-0.1020
1002,"Flat 2, Perronet House",PER,-0.1020,51.4950
1003,"Flat 3, Perronet House",PER,0,0
1004,"Flat 4, Perronet House",PER,48.8566,2.3522
1005,,PER,51.4951,-0.1021
1006,"Flat 6, Perronet House",PER,,
,,,,
1008,"Flat 8, Perronet House",PER,51.4952,abc
1009,"Flat 9, Perronet House",PER,51.4953,-0.1022,extra
1010,"Flat 10, Perronet House",PER,531700,179000
1011,"Flat 11, Perronet House",PER,51.4954,-0.1023
"""


def test_mixed_good_and_bad_rows_lose_nothing(store: GeoPackageStore, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    result = import_file(
        store, "addresses", _csv(tmp_path, MIXED), user="test", rejects_path=rejects
    )
    _adds_up(result)
    assert result.read == 11 and result.imported == 2
    stored = store.read("addresses")
    assert sorted(stored["uprn"]) == ["1001", "1011"]
    back = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert len(back) == 9
    reasons = dict(
        zip(back["uprn"].where(back["uprn"] != "", "(blank)"), back["reason"], strict=True)
    )
    assert "swapped" in reasons["1002"]
    assert "outside Great Britain" in reasons["1003"]
    assert "outside Great Britain" in reasons["1004"]
    assert "missing required field 'address'" in reasons["1005"]
    assert "no coordinates" in reasons["1006"]
    assert reasons["(blank)"] == "blank row"
    assert "'abc' is not a number" in reasons["1008"]
    assert "has 6 fields where the header has 5" in reasons["1009"]
    assert "look like BNG" in reasons["1010"]
    # row numbers and spreadsheet line numbers point at the right lines
    assert back.loc[back["uprn"] == "1002", "row"].item() == "2"
    assert back.loc[back["uprn"] == "1002", "line"].item() == "3"
    # the original values are kept, ready to fix and re-import
    assert back.loc[back["uprn"] == "1002", "latitude"].item() == "-0.1020"


def _features(tmp_path: Path, geoms: dict[str, shapely.Geometry], **cols) -> Path:
    frame = gpd.GeoDataFrame({"name": list(geoms), **cols}, geometry=list(geoms.values()), crs=BNG)
    path = tmp_path / "zoo.gpkg"
    pyogrio.write_dataframe(frame, path, layer="zoo", geometry_type="Unknown")
    return path


def test_geometry_zoo_into_blocks(store: GeoPackageStore, tmp_path: Path) -> None:
    zoo = {k: v for k, v in ZOO.items()}
    path = _features(tmp_path, zoo, block_id=[f"B{i}" for i in range(len(zoo))])
    rejects = tmp_path / "zoo-rejects.csv"
    result = import_file(store, "premises", path, user="test", rejects_path=rejects)
    _adds_up(result)
    back = pd.read_csv(rejects, keep_default_na=False).set_index("name")["reason"].to_dict()
    assert set(result.accepted["name"]) == {"square", "multipolygon", "with_hole", "with_z"}
    assert back["bowtie"].startswith("invalid geometry: Self-intersection")
    assert "--repair" in back["bowtie"]
    assert back["empty_polygon"] in ("empty geometry", "no geometry")
    assert "wrong geometry type: LineString" in back["line"]
    assert "wrong geometry type: Point" in back["point"]
    assert all(
        g.geom_type == "MultiPolygon" and not g.has_z for g in store.read("premises").geometry
    )


def test_repair_is_explicit(store: GeoPackageStore, tmp_path: Path) -> None:
    path = _features(tmp_path, {"bowtie": ZOO["bowtie"]}, block_id=["B1"])
    result = import_file(
        store, "premises", path, user="test", repair_geometry=True, rejects_path=tmp_path / "r.csv"
    )
    assert result.imported == 1 and any("repaired 1" in n for n in result.notes)
    assert store.read("premises").geometry.iloc[0].is_valid


def test_missing_required_column_is_said_per_row_and_in_a_note(
    store: GeoPackageStore, tmp_path: Path
) -> None:
    frame = _communal_frame().drop(columns=["block_id"])
    path = tmp_path / "no_block.geojson"
    frame.to_file(path)
    result = import_file(
        store, "communal_areas", path, user="test", rejects_path=tmp_path / "r.csv"
    )
    assert result.imported == 0 and len(result.rejected) == len(frame)
    assert all("missing required field 'block_id'" in r for r in result.rejected["reason"])
    assert any("no column for required field(s) block_id" in n for n in result.notes)


def test_bad_values_are_named(store: GeoPackageStore, tmp_path: Path) -> None:
    text = (
        "block_id,area_type,floor_from,name,easting,northing\n"
        "PER,stairwell,0,a,531700,179000\n"
        "PER,attic,0,b,531700,179000\n"
        "PER,stairwell,two,c,531700,179000\n"
    )
    result = validate_source(read_source(_csv(tmp_path, text)), "communal_areas")
    reasons = result.rejected.set_index("name")["reason"].to_dict()
    # a point is the wrong geometry for a communal area, and the attributes are checked as well
    assert "area_type: 'attic' is not one of" in reasons["b"]
    assert "floor_from: 'two' is not a whole number" in reasons["c"]


def test_bad_dates_are_named(store: GeoPackageStore, tmp_path: Path) -> None:
    text = (
        "order_id,occurred_at,easting,northing\n"
        "ORD-1,14/08/2024 23:10,531700,179000\n"
        "ORD-1,yesterday,531700,179000\n"
    )
    result = import_file(
        store, "breaches", _csv(tmp_path, text), user="test", rejects_path=tmp_path / "r.csv"
    )
    assert result.imported == 1
    assert store.read("breaches")["occurred_at"].item() == "2024-08-14T23:10:00"
    assert "'yesterday' is not a date" in result.rejected["reason"].item()


def test_unmapped_columns_are_kept_as_source_attrs(store: GeoPackageStore) -> None:
    import_file(store, "incidents", POLICE_UK, user="test")
    attrs = json.loads(store.read("incidents")["source_attrs"].iloc[0])
    assert "LSOA code" in attrs and "Falls within" in attrs


class TestWrongFiles:
    def test_junk_with_a_geojson_name(self, store: GeoPackageStore, tmp_path: Path) -> None:
        path = _csv(tmp_path, "this is not json", "junk.geojson")
        with pytest.raises(InputFileError, match="junk.geojson: not a readable .geojson file"):
            import_file(store, "premises", path, user="test")

    def test_unknown_extension(self, store: GeoPackageStore, tmp_path: Path) -> None:
        with pytest.raises(InputFileError, match="'.docx' is not a format I read"):
            import_file(store, "premises", _csv(tmp_path, "x", "notes.docx"), user="test")

    def test_binary_with_a_csv_name(self, store: GeoPackageStore, tmp_path: Path) -> None:
        path = tmp_path / "export.csv"
        path.write_bytes(b"PK\x03\x04\x00\x00binary")
        with pytest.raises(InputFileError, match="binary file"):
            import_file(store, "incidents", path, user="test")

    def test_csv_without_coordinates(self, store: GeoPackageStore, tmp_path: Path) -> None:
        with pytest.raises(InputFileError, match="no coordinate columns found .*easting/northing"):
            import_file(store, "incidents", _csv(tmp_path, "ref,category\n1,ASB\n"), user="test")

    def test_missing_file(self, store: GeoPackageStore, tmp_path: Path) -> None:
        with pytest.raises(InputFileError, match="no such file"):
            import_file(store, "incidents", tmp_path / "nope.csv", user="test")

    def test_coordinates_of_no_known_system(self, store: GeoPackageStore, tmp_path: Path) -> None:
        with pytest.raises(CoordinateError, match="--crs"):
            import_file(store, "incidents", _csv(tmp_path, "x,y\n5000000,6000000\n"), user="test")

    def test_several_layers_need_a_choice(self, store: GeoPackageStore, tmp_path: Path) -> None:
        path = tmp_path / "two.gpkg"
        frame = _communal_frame()
        pyogrio.write_dataframe(frame, path, layer="a")
        pyogrio.write_dataframe(frame, path, layer="b")
        with pytest.raises(InputFileError, match="--layer"):
            import_file(store, "communal_areas", path, user="test")
        assert import_file(store, "communal_areas", path, user="test", layer="b").imported == len(
            frame
        )


def test_crs_override_fixes_a_mislabelled_file(store: GeoPackageStore, tmp_path: Path) -> None:
    text = "uprn,address,x,y\n1,Flat 1,531700,179000\n"
    result = import_file(store, "addresses", _csv(tmp_path, text), user="test", crs="EPSG:27700")
    assert result.imported == 1 and "--crs" in result.notes[0]


def test_a_failed_store_write_keeps_nothing(store: GeoPackageStore, tmp_path: Path) -> None:
    """A whole import is one transaction: a duplicate id rolls every row back."""
    frame = gpd.GeoDataFrame(
        {"block_id": ["A", "B"], "name": ["a", "b"], "feature_id": ["x1", "x1"]},
        geometry=[ZOO["square"], ZOO["square"]],
        crs=BNG,
    )
    store.add("premises", frame.iloc[:1], user="test")
    with pytest.raises(Exception, match="already exist"):
        store.add("premises", frame.iloc[1:], user="test")
    assert store.count("premises") == 1


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ("25/12/2024 14:30", "datetime", "2024-12-25T14:30:00"),
        ("2024-12-25T14:30:00Z", "datetime", "2024-12-25T14:30:00"),
        ("2024-12-25", "datetime", "2024-12-25"),
        ("2024-04", "datetime", "2024-04"),
        ("25/12/2024 14:30", "date", "2024-12-25"),
        ("1 Mar 2024", "date", "2024-03-01"),
    ],
)
def test_dates_are_read_day_first_as_uk_exports_write_them(
    text: str, kind: str, expected: str
) -> None:
    values, reasons = coerce_column(pd.Series([text]), Field("when", kind))
    assert (values, reasons) == ([expected], [None])


def test_a_date_that_does_not_exist_is_refused_with_the_formats_to_use() -> None:
    values, reasons = coerce_column(pd.Series(["31/02/2024"]), Field("when", "date"))
    assert values == [None]
    assert "DD/MM/YYYY" in str(reasons[0])


ODD = """Date of call,Nature,Incident No,Where,E,N
01/03/2024 22:10,ASB - Nuisance,X1,o/s block,531850,179120
02/03/2024 23:40,Drugs,X2,stairs,531851,179121
"""


def test_column_mapping_is_used_and_remembered_per_source(
    store: GeoPackageStore, tmp_path: Path
) -> None:
    path = _csv(tmp_path, ODD, "odd.csv")
    with pytest.raises(InputFileError, match="--map easting=COLUMN"):
        import_file(store, "incidents", path, user="t")
    mapping = {
        "easting": "E",
        "northing": "N",
        "occurred_at": "Date of call",
        "reference": "Incident No",
        "location_text": "Where",
    }
    first = import_file(store, "incidents", path, user="t", mapping=mapping)
    assert first.imported == 2 and first.mapping["occurred_at"] == "Date of call"
    again = _csv(tmp_path, ODD.replace("X1", "X3").replace("X2", "X4"), "next_week.csv")
    second = import_file(
        store, "incidents", again, user="t"
    )  # same columns: the mapping is remembered
    assert second.imported == 2 and any("remembered" in n for n in second.notes)
    stored = store.read("incidents").set_index("reference")
    assert (
        stored.loc["X3", "occurred_at"] == "2024-03-01T22:10:00"
        and stored.loc["X3", "location_text"] == "o/s block"
    )


def test_a_mapping_to_a_column_that_is_not_there(store: GeoPackageStore, tmp_path: Path) -> None:
    from closuremap.geo.errors import SchemaError

    with pytest.raises(SchemaError, match="no column 'Date'"):
        import_file(
            store,
            "incidents",
            _csv(tmp_path, ODD, "odd.csv"),
            user="t",
            mapping={"easting": "E", "northing": "N", "occurred_at": "Date"},
        )
