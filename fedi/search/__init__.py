"""Full-text search over documents of any kind, in every EU language, on SQLite and PostgreSQL."""

from fedi.search.index import CodeMatch, Hit, Page, index_document, remove_document, search
from fedi.search.labels import load_labels
from fedi.search.text import load_models

__all__ = ["CodeMatch", "Hit", "Page", "index_document", "remove_document", "search", "warm_up"]


def warm_up() -> None:
    """Load the language identifier's model, every language's dictionary and the vocabularies'
    labels now (about a second and a half), so that the first document indexed or query
    answered after a start does not wait for them."""
    load_models()
    load_labels()
