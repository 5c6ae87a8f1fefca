"""Partner offers and requests: their fields, quality checks, lifecycle and federation."""
