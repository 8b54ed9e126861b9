"""The layer model, the workspace stores, file import/export and map rendering."""
