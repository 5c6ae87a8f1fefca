"""The forums' feeds: each forum's threads (``/forums/{slug}/feed.atom`` and ``.rss``) and the
threads of every forum (``/feeds/forums.atom`` and ``.rss``), newest first by their first post."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from fedi.content.threads.reading import newest_threads
from fedi.errors import NotFoundError
from fedi.instance import context_of
from fedi.services.forums import find_forum, list_forums
from fedi.web.access import Access, rule
from fedi.web.feeds.document import ATOM, RSS, FeedFormat
from fedi.web.feeds.entries import thread_entry
from fedi.web.feeds.routes import MAX_ENTRIES, feed_head, feed_response, network_name
from fedi.web.ui import i18n

__all__ = ["routes"]


async def _forum(request: Request, form: FeedFormat) -> Response:
    context = context_of(request)
    base = context.settings.base_url
    try:
        async with context.sessions() as session:
            forum = await find_forum(session, context.settings, str(request.path_params["slug"]))
            threads = await newest_threads(session, [forum], limit=MAX_ENTRIES)
    except NotFoundError:
        return PlainTextResponse("no such forum", status_code=404)
    name = forum.display_name or forum.username
    head = feed_head(
        request,
        page=f"{base}/forums/{forum.username}",
        title=f"{name} · {network_name(request)}",
        subtitle=i18n.gettext("Threads started in the forum %(name)s", name=name),
    )
    return feed_response(head, [thread_entry(base, view) for view in threads], form)


async def _every_forum(request: Request, form: FeedFormat) -> Response:
    context = context_of(request)
    base = context.settings.base_url
    async with context.sessions() as session:
        forums = await list_forums(session, context.settings)
        threads = await newest_threads(session, forums, limit=MAX_ENTRIES)
    head = feed_head(
        request,
        page=f"{base}/forums",
        title=i18n.gettext("Forums") + " · " + network_name(request),
        subtitle=i18n.gettext(
            "Threads started in every forum of %(network)s", network=network_name(request)
        ),
    )
    return feed_response(head, [thread_entry(base, view) for view in threads], form)


async def forum_atom(request: Request) -> Response:
    return await _forum(request, ATOM)


async def forum_rss(request: Request) -> Response:
    return await _forum(request, RSS)


async def forums_atom(request: Request) -> Response:
    return await _every_forum(request, ATOM)


async def forums_rss(request: Request) -> Response:
    return await _every_forum(request, RSS)


def routes() -> list[BaseRoute]:
    return [
        rule("/feeds/forums.atom", forums_atom, Access.PUBLIC, methods=["GET"]),
        rule("/feeds/forums.rss", forums_rss, Access.PUBLIC, methods=["GET"]),
        rule("/forums/{slug}/feed.atom", forum_atom, Access.PUBLIC, methods=["GET"]),
        rule("/forums/{slug}/feed.rss", forum_rss, Access.PUBLIC, methods=["GET"]),
    ]
