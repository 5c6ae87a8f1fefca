"""Uploaded files: stored in the data directory under generated names, typed from their bytes."""
