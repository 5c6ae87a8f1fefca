"""What each kind of content is as a feed entry: an experience (its original version, its themes),
a forum thread (its first post) and a partner offer (its title, summary and page)."""

from __future__ import annotations

from fedi.content.experiences.service import ExperienceView
from fedi.content.markdown import plain_excerpt
from fedi.content.threads.reading import ThreadView
from fedi.db.models import Actor
from fedi.partners.offers import OfferView
from fedi.web.feeds.document import Category, FeedEntry

__all__ = ["author_name", "experience_entry", "offer_entry", "thread_entry"]


def author_name(actor: Actor) -> str:
    return actor.display_name or actor.username


def experience_entry(view: ExperienceView, themes: dict[str, str], scheme: str) -> FeedEntry:
    """``view``'s entry; ``themes`` labels the theme codes, ``scheme`` is their vocabulary."""
    version = view.data.original
    return FeedEntry(
        uri=view.uri,
        link=view.url,
        title=version.title,
        author_name=author_name(view.author),
        author_uri=view.author.url or view.author.uri,
        published=view.published,
        updated=view.updated,
        summary=version.summary or "",
        content=view.body_html(),
        categories=tuple(
            Category(code, themes.get(code, code), scheme) for code in view.data.themes
        ),
    )


def thread_entry(base_url: str, view: ThreadView) -> FeedEntry:
    """The entry of ``view``'s first post, linking to its page here; its summary is the post's
    own or an excerpt of its text."""
    content = view.obj.content or ""
    return FeedEntry(
        uri=view.uri,
        link=f"{base_url}/threads/{view.key}",
        title=view.title,
        author_name=author_name(view.author),
        author_uri=view.author.url or view.author.uri,
        published=view.obj.published,
        updated=view.obj.updated,
        summary=view.obj.summary or plain_excerpt(content),
        content=content,
    )


def offer_entry(base_url: str, view: OfferView, themes: dict[str, str], scheme: str) -> FeedEntry:
    """The entry of an offer written here, linking to its page; ``themes`` labels its theme
    codes, ``scheme`` is their vocabulary."""
    data = view.data
    return FeedEntry(
        uri=view.uri,
        link=f"{base_url}/offers/{view.id}",
        title=data.title,
        author_name=author_name(view.author),
        author_uri=view.author.url or view.author.uri,
        published=view.row.published or view.created,
        updated=view.row.updated,
        summary=data.summary,
        content=view.row.content or "",
        categories=tuple(
            Category(code, themes.get(code, code), scheme) for code in data.codes["themes"]
        ),
    )
