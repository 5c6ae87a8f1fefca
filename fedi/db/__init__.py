"""Storage: engines, models and migrations."""
