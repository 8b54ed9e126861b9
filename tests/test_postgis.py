"""The PostGIS workspace on a real server (tests/pgserver.py): its schema, indexes and migrations,
connections whose password never shows, the command line on a URL, and the side tables (review
queue, floor plans, import log) that a GeoPackage keeps in its file.

What a GeoPackage and PostGIS share is tested on both in test_store.py and test_lost_updates.py;
here is what only a server has.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from PIL import Image

import geopandas as gpd
import shapely

from closuremap.geo.crs import BNG
from closuremap.geo.errors import WorkspaceError
from closuremap.layers import audit_chain, floorplans, pg_schema
from closuremap.layers.importer import import_file
from closuremap.layers.model import KINDS
from closuremap.layers.pg_store import PostGISStore
from closuremap.layers.review import open_items, resolve
from closuremap.layers.store import GeoPackageStore, WorkspaceStore, open_workspace
from tests.conftest import free_port
from tests.pgserver import PgServer

EXE = shutil.which("closuremap", path=str(Path(sys.executable).parent))
E, N = 531790.5, 179105.2  # on the sample estate


def run(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert EXE, "the closuremap console script is not installed (pip install -e .)"
    return subprocess.run(
        [EXE, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CLOSUREMAP_USER": "PC Test", **(env or {})},
    )


def _blocks(n: int = 2) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"block_id": [f"B{i}" for i in range(n)], "name": [f"Block {i}" for i in range(n)]},
        geometry=[shapely.box(531700 + 20 * i, 179000, 531710 + 20 * i, 179010) for i in range(n)],
        crs=BNG,
    )


# -- schema, indexes, migrations --------------------------------------------------------------


def test_init_makes_every_table_with_a_gist_index(pg_database: str) -> None:
    store = PostGISStore.create(pg_database)
    assert store.get_meta("schema_version") == str(pg_schema.SCHEMA_VERSION)
    with psycopg.connect(pg_database) as conn:
        gist = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist (geom)%'"
            )
        }
        unique = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_indexes "
                "WHERE indexdef ILIKE 'CREATE UNIQUE INDEX%(feature_id)%'"
            )
        }
        types = dict(
            conn.execute(
                "SELECT f_table_name, type || ':' || srid FROM geometry_columns"
            ).fetchall()
        )
    assert gist == set(KINDS) and unique == set(KINDS)
    assert types["premises"] == "MULTIPOLYGON:27700" and types["incidents"] == "POINT:27700"
    assert types["access_routes"] == "GEOMETRY:27700" and types["basemap"] == "GEOMETRY:27700"
    assert set(store.table_names()) >= set(KINDS) | set(pg_schema.SIDE_TABLES)


def test_an_older_schema_is_migrated_on_open_and_its_audit_chained(pg_database: str) -> None:
    """A database at schema 1 (no audit chain, no write counter) with entries in its trail:
    opening it applies the missing step in one go, and the old entries verify as a chain."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        assert pg_schema.migrate(conn, "test", target=1) == [1]
        conn.execute(
            'INSERT INTO closuremap_audit (id, at, "user", kind, feature_id, action, after) '
            "VALUES (1, '2024-01-01T00:00:00+00:00', 'ann', 'premises', NULL, 'add', '{}'), "
            "(2, '2024-01-02T00:00:00+00:00', 'bob', 'settings', 'k', 'add', '{}')"
        )
    store = PostGISStore(pg_database)
    assert store.get_meta("schema_version") == str(pg_schema.SCHEMA_VERSION)
    trail = store.history()
    assert audit_chain.verify(trail.iloc[::-1].to_dict("records")).ok
    fid = store.add("premises", _blocks(1), user="cat")[0]  # a new entry chains on
    trail = store.history()
    assert trail["id"].tolist()[0] == 3 and store.version("premises", fid) == 0
    assert audit_chain.verify(trail.iloc[::-1].to_dict("records")).ok
    assert PostGISStore(pg_database).get_meta("schema_version") == "2"  # nothing more to do


def test_a_kind_or_field_added_since_is_added_on_open(pg_database: str) -> None:
    PostGISStore.create(pg_database)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DROP TABLE basemap CASCADE")  # (and the briefing view on it)
        conn.execute("ALTER TABLE orders DROP COLUMN scope_parts CASCADE")
    reopened = PostGISStore(pg_database)
    assert reopened.count("basemap") == 0
    assert "scope_parts" in reopened.read("orders").columns


def test_a_newer_schema_is_refused(pg_database: str) -> None:
    PostGISStore.create(pg_database)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("UPDATE closuremap_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(WorkspaceError, match="newer closuremap"):
        PostGISStore(pg_database)


def test_the_database_itself_refuses_a_repeated_id(pg_database: str) -> None:
    store = PostGISStore.create(pg_database)
    store.add("premises", _blocks(1).assign(feature_id=["x"]), user="ann")
    with psycopg.connect(pg_database) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO premises (feature_id, block_id) VALUES ('x', 'B9')")


def test_init_refuses_an_existing_workspace_unless_forced(pg_database: str) -> None:
    store = PostGISStore.create(pg_database)
    store.add("premises", _blocks(), user="ann")
    with pytest.raises(WorkspaceError, match="already a closuremap workspace"):
        PostGISStore.create(pg_database)
    assert PostGISStore.create(pg_database, overwrite=True).count("premises") == 0


def test_open_workspace_routes_urls(pg_database: str) -> None:
    PostGISStore.create(pg_database)
    assert isinstance(open_workspace(pg_database), PostGISStore)
    assert isinstance(
        open_workspace(pg_database.replace("postgresql://", "postgres://")), PostGISStore
    )


# -- connections: errors in words, passwords never shown --------------------------------------


def _login(pg_server: PgServer, pg_database: str, name: str, password: str) -> str:
    """A login with a password, able to use the database (a member of the admin role)."""
    pg_server.add_login(name, password)
    with psycopg.connect(pg_server.admin_url("postgres"), autocommit=True) as conn:
        conn.execute(f'GRANT closuremap_test_admin TO "{name}"')
    return pg_server.url_as(pg_database, name)


def test_a_password_in_the_url_is_never_shown(pg_server: PgServer, pg_database: str) -> None:
    PostGISStore.create(pg_database)
    secret = "s3cret-Pa55-in-url"
    url = _login(pg_server, pg_database, "officer_url", secret)
    with_password = url.replace("officer_url@", f"officer_url:{secret}@")
    # the password comes only from the URL here: no .pgpass entry would be used for it
    store = open_workspace(with_password)
    assert secret not in store.location and "***" in store.location
    assert open_workspace(store.location).count("premises") == 0  # a page re-opening location
    wrong_db = with_password.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(WorkspaceError) as caught:
        open_workspace(wrong_db)
    assert secret not in str(caught.value) and "no_such_db" in str(caught.value)
    done = run("layers", with_password, "--json")
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout + done.stderr
    bad = run("layers", wrong_db)
    assert bad.returncode == 2 and secret not in bad.stdout + bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_pgpassword_and_pgpass_work_and_never_show(
    pg_server: PgServer, pg_database: str, tmp_path: Path
) -> None:
    PostGISStore.create(pg_database)
    secret = "An0ther-s3cret"
    url = _login(pg_server, pg_database, "officer_env", secret)
    no_file = {"PGPASSFILE": str(tmp_path / "none")}
    by_env = run("layers", url, "--json", env={**no_file, "PGPASSWORD": secret})
    assert by_env.returncode == 0, by_env.stderr
    assert secret not in by_env.stdout + by_env.stderr
    assert "PGPASSFILE" in os.environ  # pgserver's .pgpass holds the login's password
    by_file = run("layers", url, "--json")
    assert by_file.returncode == 0, by_file.stderr and secret not in by_file.stdout
    refused = run("layers", url, env={**no_file, "PGPASSWORD": "wrong"})
    assert refused.returncode == 2 and ".pgpass" in refused.stderr
    assert "wrong" not in refused.stderr


def test_bad_locations_are_one_line_and_exit_2(pg_server: PgServer, pg_database: str) -> None:
    nothing_here = f"postgresql://someone@127.0.0.1:{free_port()}/db"
    missing_db = pg_server.admin_url("no_such_database")
    cases = {
        "postgresql://someone@127.0.0.1:notaport/db": "not a usable PostgreSQL URL",
        nothing_here: "cannot reach the PostgreSQL server",
        missing_db: "does not exist",
        pg_database: "closuremap init",  # PostGIS there, but no workspace yet
    }
    for url, words in cases.items():
        done = run("layers", url)
        assert done.returncode == 2, (url, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_database_without_postgis_says_so(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.admin_url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE plain_db TEMPLATE template0")
    with pytest.raises(WorkspaceError, match="CREATE EXTENSION postgis"):
        PostGISStore(pg_server.admin_url("plain_db"))


# -- the command line on a URL ----------------------------------------------------------------


def test_import_then_list_and_export_on_postgis(pg_database: str, tmp_path: Path) -> None:
    done = run("init", pg_database)
    assert done.returncode == 0, done.stderr
    csv = tmp_path / "cad.csv"
    csv.write_text(
        "reference,occurred_at,category,easting,northing\n"
        f"R1,2024-03-01T22:10:00,Drugs,{E},{N}\n"
        f"R2,2024-03-02T23:15:00,Noise,{E + 5},{N + 5}\n"
        "R3,2024-03-03T01:00:00,Drugs,not-a-number,1\n"
    )
    done = run("import", pg_database, "incidents", csv, "--crs", "EPSG:27700", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["imported"] == 2 and summary["rejected"] == 1
    rejects = Path(summary["rejects_file"])
    assert rejects.exists() and rejects.parent.parent == tmp_path  # beside the input file
    listed = run("layers", pg_database, "--json")
    assert listed.returncode == 0, listed.stderr
    counts = {row["kind"]: row["count"] for row in json.loads(listed.stdout)["layers"]}
    assert counts["incidents"] == 2
    log = run("imports", pg_database, "--json")
    assert log.returncode == 0 and "cad.csv" in log.stdout
    out = tmp_path / "incidents.geojson"
    exported = run("export", pg_database, "incidents", "--out", out)
    assert exported.returncode == 0, exported.stderr
    back = gpd.read_file(out)
    assert sorted(back["reference"]) == ["R1", "R2"]
    assert open_workspace(pg_database).history(kind="incidents")["user"].iloc[0] == "PC Test"


def test_init_sample_onto_postgis(pg_database: str) -> None:
    done = run("init", pg_database, "--sample", "--quiet")
    assert done.returncode == 0, done.stderr
    store = open_workspace(pg_database)
    assert store.count("premises") == 7 and store.count("orders") >= 1
    assert store.get_meta("created_by") == "PC Test"
    assert store.get_meta("schema_version") == str(pg_schema.SCHEMA_VERSION)
    assert audit_chain.verify(store.history().iloc[::-1].to_dict("records")).ok


# -- side tables: review queue, floor plans ---------------------------------------------------


@pytest.fixture
def pg_sample(sample_path: Path, pg_database: str) -> WorkspaceStore:
    """The sample workspace loaded into PostGIS (the GeoPackage side of these tests is in
    test_incident_placement.py and test_floorplans.py)."""
    source = GeoPackageStore(sample_path)
    store = PostGISStore.create(pg_database)
    for name in source.table_names():
        store.load_table(name, *source.dump_table(name))
    return store


def test_the_review_queue_on_postgis(pg_sample: WorkspaceStore, tmp_path: Path) -> None:
    store = pg_sample
    src = tmp_path / "cad.csv"
    src.write_text(
        'ref,when,what,location\nU1,10/02/2025 02:00,Drugs,"see notes"\n'
        'P1,10/02/2025 03:00,Drugs,"Flat 12 Pernt Hse"\n'
    )
    result = import_file(store, "incidents", src, user="t", rejects_path=tmp_path / "r.csv")
    assert result.queued == 2
    items = open_items(store)
    assert items["location"].tolist() == ["Flat 12 Pernt Hse", "see notes"]
    unplaced = int(items.iloc[1]["id"])
    with pytest.raises(WorkspaceError, match="never placed"):
        resolve(store, unplaced, user="rev")
    resolve(store, unplaced, user="rev", how="map", point=shapely.Point(E, N))
    with pytest.raises(WorkspaceError, match="not open"):
        resolve(store, unplaced, user="rev", how="map", point=shapely.Point(E, N))
    placed = store.read("incidents").set_index("reference").loc["U1"]
    assert (
        placed["precision"] == "map (reviewed)"
        and placed.geometry.distance(shapely.Point(E, N)) < 0.001
    )
    assert open_items(store)["location"].tolist() == ["Flat 12 Pernt Hse"]
    assert store.imports()["file"].iloc[0].endswith("cad.csv")


def _png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def test_floor_plans_are_kept_and_every_placement_audited(any_store: WorkspaceStore) -> None:
    store = any_store
    png = _png()
    points = [((0, 0), (E, N)), ((40, 0), (E + 10, N)), ((0, 30), (E, N - 7.5))]
    pid = floorplans.save_plan(
        store, block_id="PER", floor=2, name="plan.png", png=png, control_points=points, user="ann"
    )
    moved = [((0, 0), (E + 1, N)), ((40, 0), (E + 11, N)), ((0, 30), (E + 1, N - 7.5))]
    floorplans.update_placement(store, pid, moved, user="bob")
    (plan,) = floorplans.plans(store, "PER")
    assert plan.png == png and plan.floor == 2 and plan.control_points[0][1] == (E + 1, N)
    assert floorplans.plans(store, "NEW") == []
    trail = store.history(kind="floor_plans", feature_id=str(pid))
    assert trail["user"].tolist() == ["bob", "ann"]
    after = json.loads(trail["after"].iloc[0])
    assert after["image_sha256"] and "png" not in after
    assert json.loads(trail["before"].iloc[0])["control_points"][0][1] == [E, N]
    with pytest.raises(WorkspaceError, match="no floor plan"):
        floorplans.update_placement(store, pid + 100, moved, user="bob")
    assert audit_chain.verify(store.history().iloc[::-1].to_dict("records")).ok


def test_the_raw_copy_interface_round_trips(pg_database: str, pg_server: PgServer) -> None:
    src = PostGISStore.create(pg_database)
    fids = src.add("orders", _blocks(1).assign(order_id=["O1"]), user="ann")
    src.set_meta("applicant", "Borough", user="ann")
    src.add_objection("O1", who="r", summary="s", received_on="2024-01-01", recorded_by="ann")
    dst = PostGISStore.create(pg_server.new_database())
    for name in src.table_names():
        columns, rows = src.dump_table(name)
        dst.load_table(name, columns, rows)
    assert dst.read("orders")["feature_id"].tolist() == fids
    assert dst.read("orders").geometry.iloc[0].equals(src.read("orders").geometry.iloc[0])
    pd.testing.assert_frame_equal(dst.history(), src.history())
    assert dst.get_meta("applicant") == "Borough"
    assert dst.get_meta("schema_version") == str(pg_schema.SCHEMA_VERSION)
    assert dst.add_objection("O1", who="r", summary="t", received_on="x", recorded_by="b") == 2
    with pytest.raises(WorkspaceError, match="not empty"):
        dst.load_table("orders", *src.dump_table("orders"))


def test_the_schema_names_the_side_tables_as_their_modules_do() -> None:
    """pg_schema repeats the review queue's and floor plans' table names (those modules import the
    store, which must not import them back): the names must stay the same."""
    from closuremap.layers import review

    assert pg_schema.REVIEW_TABLE == review.TABLE
    assert pg_schema.FLOORPLANS_TABLE == floorplans.TABLE
