"""An Atom 1.0 or RSS 2.0 document of experiences, its XML written by feedgen.

Each entry carries the experience's original version (title, summary, body as sanitised HTML),
its page, its author, its dates and one category per theme; the feed's own texts (title,
description) are in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from fedi.content.experiences.service import ExperienceView

__all__ = ["ATOM", "RSS", "FeedFormat", "FeedHead", "clean_text", "experience_feed"]

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
    HTML page it follows; ``themes`` labels the theme codes in ``language``, and
    ``theme_scheme`` is the address of the themes' vocabulary."""

    url: str
    page: str
    title: str
    subtitle: str
    language: str
    themes: dict[str, str]
    theme_scheme: str


def clean_text(value: str) -> str:
    """``value`` without what XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


def _changed(view: ExperienceView) -> datetime:
    return view.updated or view.published


def experience_feed(head: FeedHead, views: Sequence[ExperienceView], form: FeedFormat) -> bytes:
    """The feed of ``views``, in their order, as UTF-8 XML."""
    feed = FeedGenerator()
    feed.id(head.url)
    feed.title(clean_text(head.title))
    feed.subtitle(clean_text(head.subtitle))
    # RSS's <link> is the last one given: the page, after the feed's own address.
    feed.link(href=head.url, rel="self", type=form.media_type.split(";")[0])
    feed.link(href=head.page, rel="alternate", type="text/html")
    feed.language(head.language)
    feed.generator("Transnationality")
    feed.updated(max((_changed(view) for view in views), default=datetime.now(UTC)))
    # RSS 2.0's <author> must be an e-mail address, which members do not publish: their name goes
    # in Dublin Core's creator, which feed readers show as the author.
    feed.load_extension("dc", atom=False, rss=True)
    for view in views:
        version = view.data.original
        entry = feed.add_entry(order="append")
        entry.id(view.uri)
        entry.title(clean_text(version.title))
        entry.link(href=view.url, rel="alternate", type="text/html")
        if version.summary:
            entry.summary(clean_text(version.summary))
        entry.content(clean_text(view.body_html()), type="html")
        name = clean_text(view.author.display_name or view.author.username)
        entry.author(name=name, uri=view.author.url or view.author.uri)
        entry.dc.dc_creator(name)
        entry.published(view.published)
        entry.updated(_changed(view))
        for code in view.data.themes:
            entry.category(term=code, label=head.themes.get(code, code), scheme=head.theme_scheme)
    written: bytes = feed.atom_str() if form is ATOM else feed.rss_str()
    return written
