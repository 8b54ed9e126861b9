"""The browser entry: page config, navigation over app_pages/, run. Nothing else."""

import streamlit as st

from closuremap.app_pages.common import identity_sidebar

# No :material/…: icons: Streamlit fetches those from a font CDN, and we are offline.
st.set_page_config(page_title="closuremap", layout="wide")
page = st.navigation(
    [
        st.Page("app_pages/map.py", title="Map", default=True),
        st.Page("app_pages/draw.py", title="Draw and edit"),
        st.Page("app_pages/orders.py", title="Closure orders"),
        st.Page("app_pages/documents.py", title="Documents"),
        st.Page("app_pages/briefing.py", title="Ward briefing"),
        st.Page("app_pages/evaluation.py", title="Evaluation"),
        st.Page("app_pages/layers.py", title="Layers: import & export"),
        st.Page("app_pages/review.py", title="Geocoding review"),
        st.Page("app_pages/about.py", title="About the data"),
    ]
)
identity_sidebar()  # on every page: who is acting, asked once per browser session
page.run()
