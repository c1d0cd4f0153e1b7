"""Streamlit pages of the gridmap app; see ``_workspace`` for the page conventions."""
