"""The search index: one row per indexed document, its reduced text and its codes.

The text is searched through storage of each database's own: on SQLite an FTS5 table
``search_fts`` over ``search_documents.body`` (external content, kept by triggers), on
PostgreSQL the ``vector`` column (``tsvector`` of the ``simple`` configuration, GIN index).
Both are created by migration 0007; :mod:`fedi.search` writes and reads them.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from fedi.db.models.base import Base

__all__ = ["SEARCH_FTS_TABLE", "SearchCode", "SearchDocument"]

# The SQLite FTS5 table (and its shadow tables, named after it), outside the model.
SEARCH_FTS_TABLE = "search_fts"


class SearchDocument(Base):
    """An indexed document: ``kind`` (``offer``, ``experience``, ...) and ``ref`` (the id of the
    indexed row) name it; ``body`` is its reduced text, ``language`` the language it was read in."""

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "ref", name="uq_search_documents_kind_ref"),
        Index("ix_search_documents_vector", "vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    # PostgreSQL only: to_tsvector('simple', body); NULL on SQLite, where search_fts indexes body.
    vector: Mapped[str | None] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))


class SearchCode(Base):
    """A vocabulary code a document is tagged with (a theme, objective, target group, country)."""

    __tablename__ = "search_codes"
    __table_args__ = (Index("ix_search_codes_code_document_id", "code", "document_id"),)

    document_id: Mapped[int] = mapped_column(
        ForeignKey("search_documents.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
