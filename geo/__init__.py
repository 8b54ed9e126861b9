"""Pure domain logic for closuremap: CRS, validation and (later) the rules of the Act.

Nothing here imports streamlit or folium (tests/test_architecture.py holds us to it).
"""
