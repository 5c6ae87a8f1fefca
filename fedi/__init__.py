"""Transnationality: a federated community-of-practice server for ESF+ transnational cooperation."""

__version__ = "0.1.0"
__all__ = ["__version__"]
