"""The browser entry: page config, sign-in, navigation over app_pages/ for the role, run."""

import streamlit as st

from closuremap.app_pages.common import identity_sidebar, pages_for, start_session
from closuremap.app_pages.signin import SINGLE_USER_ROLE, auth_mode, sign_in_page

# No :material/…: icons: Streamlit fetches those from a font CDN, and we are offline.
st.set_page_config(page_title="closuremap", layout="wide")
who = start_session()  # the signed-in user and role; an idle session is signed out here
if who is None and auth_mode() != "single":
    st.navigation([st.Page(sign_in_page, title="Sign in", url_path="signin")]).run()
    st.stop()
role = who.role if who else SINGLE_USER_ROLE
page = st.navigation(
    [st.Page(path, title=title, default=i == 0) for i, (path, title) in enumerate(pages_for(role))]
)
identity_sidebar()  # on every page: who is acting (signed in, or asked once per session)
page.run()
