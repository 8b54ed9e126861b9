"""The command line as users' scripts call it: a real subprocess, exit codes, one JSON document."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from closuremap.cli import COMMANDS, build_parser, main
from tests.conftest import DATA

EXE = shutil.which("closuremap", path=str(Path(sys.executable).parent))


def run(*args: str) -> subprocess.CompletedProcess:
    assert EXE, "the closuremap console script is not installed (pip install -e .)"
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_init_sample_then_layers_json(tmp_path: Path) -> None:
    ws = tmp_path / "ws.gpkg"
    done = run("init", ws, "--sample")
    assert done.returncode == 0, done.stderr
    assert "sample estate" in done.stdout and "[100%]" in done.stderr  # progress on stderr
    out = run("layers", ws, "--json")
    assert out.returncode == 0
    data = json.loads(out.stdout)  # exactly one JSON document
    assert data["crs"] == "EPSG:27700"
    layers = {row["kind"]: row for row in data["layers"]}
    assert layers["premises"]["count"] == 7
    assert set(layers["premises"]) >= {"kind", "count", "bounds", "bounds_lonlat"}
    e0, n0, e1, n1 = layers["premises"]["bounds"]
    assert 531000 < e0 < e1 < 532500 and 178500 < n0 < n1 < 179800
    assert layers["breaches"]["count"] == 3
    assert layers["premises"]["bounds_lonlat"][1] == pytest.approx(51.494, abs=0.01)


def test_import_prints_counts_and_writes_rejects(tmp_path: Path) -> None:
    ws = tmp_path / "ws.gpkg"
    assert run("init", ws).returncode == 0
    src = pd.read_csv(DATA / "synthetic" / "addresses.csv", dtype=str)
    src.loc[3, "easting"] = "not a number"
    src.loc[7, "uprn"] = ""
    bad = tmp_path / "addresses.csv"
    src.to_csv(bad, index=False)
    rejects = tmp_path / "rej.csv"
    done = run("import", ws, "addresses", bad, "--rejects", rejects)
    assert done.returncode == 0, done.stderr
    assert f"read {len(src)}, imported {len(src) - 2}, rejected 2" in done.stdout
    assert "row 4" in done.stdout
    assert len(pd.read_csv(rejects)) == 2
    as_json = run("import", ws, "addresses", bad, "--rejects", rejects, "--json")
    summary = json.loads(as_json.stdout)
    assert (
        summary["read"] == len(src)
        and summary["imported"] == len(src) - 2
        and summary["rejected"] == 2
    )
    assert summary["rejects_file"] == str(rejects)


def test_default_rejects_file_is_beside_the_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws.gpkg"
    run("init", ws)
    done = run("import", ws, "premises", DATA / "synthetic" / "addresses.csv", "--json")
    path = Path(json.loads(done.stdout)["rejects_file"])
    assert path.parent == tmp_path / "ws-rejects" and path.exists()


def test_export_then_json(tmp_path: Path) -> None:
    ws = tmp_path / "ws.gpkg"
    run("init", ws, "--sample")
    out = tmp_path / "blocks.geojson"
    done = run("export", ws, "premises", "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "kind": "premises",
        "file": str(out),
        "count": 7,
        "format": "GeoJSON",
        "crs": "EPSG:4326",
        "files": [str(out)],
    }
    assert json.loads(out.read_text())["features"][0]["geometry"]["type"] == "MultiPolygon"


@pytest.mark.parametrize(
    "args, message",
    [
        (("layers", "missing.gpkg"), "does not exist; create it with `closuremap init"),
        (("import", "{ws}", "bogus", "x.csv"), "unknown layer kind 'bogus'; the kinds are"),
        (("import", "{ws}", "incidents", "nope.csv"), "nope.csv: no such file"),
        (("import", "{ws}", "incidents", "{junk}"), "not a readable .geojson file"),
        (("export", "{ws}", "premises", "--out", "x.docx"), "cannot tell the format"),
        (("init", "{ws}"), "already exists"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    ws = tmp_path / "ws.gpkg"
    run("init", ws)
    junk = tmp_path / "junk.geojson"
    junk.write_text("{ not json")
    done = run(*(a.format(ws=ws, junk=junk) for a in args))
    assert done.returncode == 2
    assert message in done.stderr
    errors = [
        line for line in done.stderr.splitlines() if not line.startswith("[")
    ]  # progress lines aside
    assert (
        "Traceback" not in done.stderr
        and len(errors) == 1
        and errors[0].startswith("closuremap: error: ")
    )


def test_kinds_lists_schemas() -> None:
    data = json.loads(run("kinds", "--json").stdout)
    kinds = {k["kind"]: k for k in data["kinds"]}
    assert {
        "premises",
        "communal_areas",
        "access_routes",
        "open_space",
        "entrances",
        "addresses",
        "incidents",
        "breaches",
        "orders",
    } <= set(kinds)
    assert {"name": "block_id", "required": True}.items() <= next(
        f for f in kinds["communal_areas"]["fields"] if f["name"] == "block_id"
    ).items()


def test_every_command_has_help_and_a_body_that_imports() -> None:
    """Each command's flags build and its body (imported only when the command runs) exists."""
    sub = argparse.ArgumentParser().add_subparsers()
    for add in COMMANDS:
        add(sub)
    assert len(sub.choices) >= 27
    for name, parser in sub.choices.items():
        assert callable(parser.get_default("func").resolve()), name
        with pytest.raises(SystemExit) as done:
            build_parser().parse_args([name, "--help"])
        assert done.value.code == 0, name


@pytest.mark.parametrize(
    "argv, message, expected",
    [
        (
            ["export", "ws.gpkg", "premises", "--out", "x.geojson", "--crs", "EPSG:1"],
            "'EPSG:1' is not a coordinate system I know",
            "--crs: 'EPSG:1' is not a coordinate system I know",
        ),
        (
            ["export", "ws.gpkg", "premises", "--out=x.docx"],
            "x.docx: cannot tell the format from '.docx'",
            "--out: x.docx: cannot tell the format from '.docx'",
        ),
        (  # the message names its flag already
            ["timeline", "--notice-issued", "bad"],
            "--notice-issued: 'bad' is not a date-time",
            "--notice-issued: 'bad' is not a date-time",
        ),
        (  # about a positional argument, not a flag: an on/off flag takes no value
            ["init", "--force", "ws.gpkg"],
            "'ws.gpkg' already exists",
            "'ws.gpkg' already exists",
        ),
    ],
)
def test_an_error_about_a_flags_value_names_the_flag(
    argv: list[str], message: str, expected: str
) -> None:
    from closuremap.cli import build_parser, naming_the_flag

    args = build_parser().parse_args(argv)
    assert naming_the_flag(message, argv, args) == expected


def test_a_bad_flag_value_is_one_line_naming_the_flag(tmp_path: Path) -> None:
    ws = tmp_path / "ws.gpkg"
    run("init", ws)
    done = run("export", ws, "premises", "--out", tmp_path / "x.geojson", "--crs", "EPSG:1")
    assert done.returncode == 2
    assert done.stderr.startswith("closuremap: error: --crs: 'EPSG:1'"), done.stderr


def test_a_command_with_no_one_acting_refuses_before_writing_anything(
    tmp_path: Path,
    sample_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    monkeypatch.delenv("CLOSUREMAP_USER", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "")
    ws = tmp_path / "new.gpkg"
    assert main(["init", str(ws)]) == 2
    assert "--user" in capsys.readouterr().err
    assert not ws.exists()  # so a rerun with --user needs no --force
    assert main(["init", str(ws), "--user", "PC Ann Smith (4321)"]) == 0

    out = tmp_path / "letters.pdf"
    args = ["letters", str(sample_path), "--order", "ORD-001", "--out", str(out)]
    assert main([*args, "--contact", "the ASB team", "--signatory", "Insp B"]) == 2
    assert not out.exists() and not out.with_suffix(".recipients.csv").exists()


def test_a_folder_where_the_output_file_should_be_is_a_sentence(
    tmp_path: Path, sample_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "letters.pdf"
    folder.mkdir()
    argv = ["letters", str(sample_path), "--order", "ORD-001", "--out", str(folder)]
    code = main([*argv, "--contact", "the ASB team", "--signatory", "Insp B", "--user", "PC A"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("closuremap: error: --out: ") and "directory" in err.lower(), err
