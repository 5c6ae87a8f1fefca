"""Full-text search over documents of any kind, in every EU language, on SQLite and PostgreSQL."""

from fedi.search.index import CodeMatch, Hit, Page, index_document, remove_document, search

__all__ = ["CodeMatch", "Hit", "Page", "index_document", "remove_document", "search"]
