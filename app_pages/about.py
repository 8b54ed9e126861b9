"""About page: where the data came from, its licences, and what is synthetic."""

import streamlit as st

from closuremap.app_pages.common import attribution, workspace_or_stop

store, frames = workspace_or_stop()

st.title("About the data")
st.write(
    f"Workspace **{store.get_meta('name')}** at `{store.location}`, created "
    f"{store.get_meta('created_at')}. All geometry is stored in British National Grid "
    "(EPSG:27700); the map converts to WGS84 with OSTN15."
)
st.subheader("Attribution")
for line in attribution(store) or ["(none recorded)"]:
    st.markdown(f"- {line}")
st.subheader("Recent changes")
st.dataframe(
    store.history().drop(columns=["before", "after"]).head(50), hide_index=True, width="stretch"
)
