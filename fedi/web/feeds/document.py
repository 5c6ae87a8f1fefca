"""An Atom 1.0 or RSS 2.0 document, its XML written by feedgen, whatever its entries are.

A feed is a :class:`FeedHead` (what the feed says of itself, in the reader's language) and its
:class:`FeedEntry` items in their order; ``fedi.web.feeds.entries`` makes the entries of
experiences, forum threads and partner offers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

__all__ = ["ATOM", "RSS", "Category", "FeedEntry", "FeedFormat", "FeedHead", "clean_text", "feed"]

# What XML 1.0 cannot carry (most C0 controls, lone surrogates, U+FFFE/U+FFFF): a member's text may
# hold them, and lxml refuses to write them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FeedFormat:
    name: str
    media_type: str


ATOM = FeedFormat("atom", "application/atom+xml; charset=utf-8")
RSS = FeedFormat("rss", "application/rss+xml; charset=utf-8")


@dataclass(frozen=True)
class FeedHead:
    """What a feed says of itself: ``url`` is its own address (and its Atom id), ``page`` the
    HTML page it follows."""

    url: str
    page: str
    title: str
    subtitle: str
    language: str


@dataclass(frozen=True)
class Category:
    """A vocabulary code of an entry: ``label`` in the reader's language, ``scheme`` the address
    of its vocabulary."""

    term: str
    label: str
    scheme: str


@dataclass(frozen=True)
class FeedEntry:
    """One entry: ``uri`` is its ActivityPub id (the entry's id), ``link`` its page; ``content``
    is sanitised HTML, ``summary`` plain text."""

    uri: str
    link: str
    title: str
    author_name: str
    author_uri: str
    published: datetime
    updated: datetime | None = None
    summary: str = ""
    content: str = ""
    categories: tuple[Category, ...] = ()

    @property
    def changed(self) -> datetime:
        return self.updated or self.published


def clean_text(value: str) -> str:
    """``value`` without what XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


def feed(head: FeedHead, entries: Sequence[FeedEntry], form: FeedFormat) -> bytes:
    """The feed of ``entries``, in their order, as UTF-8 XML."""
    generator = FeedGenerator()
    generator.id(head.url)
    generator.title(clean_text(head.title))
    generator.subtitle(clean_text(head.subtitle))
    # RSS's <link> is the last one given: the page, after the feed's own address.
    generator.link(href=head.url, rel="self", type=form.media_type.split(";")[0])
    generator.link(href=head.page, rel="alternate", type="text/html")
    generator.language(head.language)
    generator.generator("Transnationality")
    generator.updated(max((item.changed for item in entries), default=datetime.now(UTC)))
    # RSS 2.0's <author> must be an e-mail address, which members do not publish: their name goes
    # in Dublin Core's creator, which feed readers show as the author.
    generator.load_extension("dc", atom=False, rss=True)
    for item in entries:
        entry = generator.add_entry(order="append")
        entry.id(item.uri)
        entry.title(clean_text(item.title))
        entry.link(href=item.link, rel="alternate", type="text/html")
        if item.summary:
            entry.summary(clean_text(item.summary))
        if item.content:
            entry.content(clean_text(item.content), type="html")
        name = clean_text(item.author_name)
        entry.author(name=name, uri=item.author_uri)
        entry.dc.dc_creator(name)
        entry.published(item.published)
        entry.updated(item.changed)
        for category in item.categories:
            entry.category(term=category.term, label=category.label, scheme=category.scheme)
    written: bytes = generator.atom_str() if form is ATOM else generator.rss_str()
    return written
