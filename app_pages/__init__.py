"""Streamlit pages: widgets, session state and cache wrappers; no geometry logic."""
