"""Layers page: counts and extents, import a file with progress, export a layer."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from closuremap.app_pages.common import (
    offer_download,
    reporting_errors,
    require_user,
    role_may,
    workspace_or_stop,
)
from closuremap.layers.csvio import csv_bytes
from closuremap.layers.exporter import FORMATS, export_layer
from closuremap.layers.importer import file_columns, import_file
from closuremap.layers.model import KINDS

store, frames = workspace_or_stop()

st.title("Layers")
st.dataframe(
    pd.DataFrame(
        [
            {
                "kind": k.name,
                "layer": k.title,
                "features": len(frames[k.name]),
                "geometry": "/".join(k.geometry_types),
                "what it is": k.description,
            }
            for k in KINDS.values()
        ]
    ),
    hide_index=True,
    width="stretch",
)

st.header("Import a file")
st.caption(
    "GeoJSON, GeoPackage, Shapefile (zipped), KML, FlatGeobuf, CSV or XLSX with easting/northing, "
    "lat/lon or WKT columns. Rows that cannot be used are kept in a rejects file with the reason."
)
kind = st.selectbox(
    "Into layer",
    list(KINDS),
    format_func=lambda k: KINDS[k].title,
    key="import_kind",
    index=None,
    placeholder="choose the layer the file's records belong to",
)
if not role_may("import"):
    st.info("Your role does not import files; an analyst or supervisor can.")
upload = st.file_uploader("File", key="import_file", disabled=not role_may("import"))
crs = st.text_input("Coordinate system, if the file has none (e.g. EPSG:27700)", key="import_crs")
mapping: dict[str, str | None] = {}
if upload is not None and kind is None:
    st.info(
        "Choose the layer the file goes into first: its fields decide how the columns are read."
    )
if upload is not None and kind is not None:
    staged = Path(tempfile.gettempdir()) / f"closuremap-{upload.file_id}-{upload.name}"
    staged.write_bytes(upload.getvalue())
    columns, auto = [], {}  # none, if the file cannot be read
    with reporting_errors():
        columns, auto = file_columns(staged, kind)
    with st.expander("Columns: which column feeds each field (found automatically; change any)"):
        choices = ["(automatic)", "(none)", *columns]
        for field_name in [f.name for f in KINDS[kind].fields] + [
            "easting",
            "northing",
            "longitude",
            "latitude",
        ]:
            label = f"{field_name} (now: {auto.get(field_name, 'none')})"
            pick = st.selectbox(label, choices, key=f"map_{kind}_{field_name}")
            if pick != "(automatic)":
                mapping[field_name] = None if pick == "(none)" else pick
repair = st.checkbox("Repair invalid geometries instead of rejecting them", key="import_repair")
if (
    upload is not None
    and kind is not None
    and st.button("Import", type="primary")
    and (who := require_user())
):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / upload.name
        path.write_bytes(upload.getvalue())
        bar = st.progress(0.0, text="Starting…")
        # an error about a value the user chose names its field
        given = {"Coordinate system": crs, **{f"Column for {f}": c for f, c in mapping.items()}}
        with reporting_errors(values=given) as outcome:
            result = import_file(
                store,
                kind,
                path,
                user=who,
                crs=crs or None,
                repair_geometry=repair,
                mapping=mapping or None,
                rejects_path=Path(tmp) / f"{path.stem}.rejects.csv",
                progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
            )
            rejected = result.n_rejected
            (st.warning if rejected else st.success)(
                f"{upload.name}: read {result.read}, imported {result.imported}, "
                f"rejected {rejected}"
            )
            for note in result.notes:
                st.caption(note)
            if rejected:
                st.dataframe(result.rejected, hide_index=True, width="stretch")
                every = (
                    result.rejects_path.read_bytes()
                    if result.rejects_path
                    else csv_bytes(result.rejected)
                )
                offer_download(
                    "Download the rejected rows (CSV)",
                    every,
                    f"{path.stem}.rejects.csv",
                    "text/csv",
                    "import_rejects",
                )
        if not outcome.ok:
            bar.empty()

st.header("Import log")
log = store.imports() if role_may("import") else None  # file names and rejected rows
if log is None:
    st.caption("The import log is for those who import: an analyst or a supervisor.")
elif log.empty:
    st.caption("No file has been imported into this workspace yet.")
else:
    st.dataframe(log.drop(columns=["rejects_path"]), hide_index=True, width="stretch")
    with_rejects = log[log["rejected"].fillna(0) > 0]
    if len(with_rejects):
        chosen = st.selectbox(
            "Rejected rows of import",
            with_rejects["id"].tolist(),
            key="log_import",
            format_func=lambda i: f"#{i}: {log.set_index('id').loc[i, 'file']}",
        )
        # kept in the workspace: the first file may be long gone
        with tempfile.TemporaryDirectory() as tmp:
            again = store.write_rejects(int(chosen), Path(tmp) / "rejects.csv")
            offer_download(
                f"Download the rejected rows of import #{chosen} (CSV)",
                again.read_bytes(),
                f"import-{chosen}.rejects.csv",
                "text/csv",
                "log_rejects",
            )

st.header("Export a layer")
col1, col2 = st.columns(2)
export_kind = col1.selectbox(
    "Layer", list(KINDS), format_func=lambda k: KINDS[k].title, key="export_kind"
)
# one file per download: a shapefile comes zipped with its .dbf/.shx/.prj (.zip), never bare .shp
PAGE_FORMATS = [s for s in FORMATS if s not in (".json", ".shp")]
suffix = col2.selectbox("Format", PAGE_FORMATS, key="export_format")
if st.button("Prepare export"):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{export_kind}{suffix}"
        with reporting_errors():
            count = export_layer(store, export_kind, out)
            offer_download(
                f"Download {count} {export_kind} ({suffix})",
                out.read_bytes(),
                out.name,
                "application/octet-stream",
                "export_download",
            )
