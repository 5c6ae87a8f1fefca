"""Experiences: write-ups of what was done in a programme, and resources for people starting a
project, published as ``Article`` with structured fields (docs/federation.md, "Experiences")."""
