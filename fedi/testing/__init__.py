"""Helpers for tests (throwaway TLS material and the like); not used in production."""
