"""Use cases over the data model, shared by the web layer, the workers and the CLI."""
