"""The feeds' routes: the experiences (with the list page's filters), a member's experiences and
the whole network (what its group announces: experiences, thread starts, partner offers), each
as Atom and as RSS 2.0; what every feed route shares (its head, its answer)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from fedi.actors.local import served_actor
from fedi.content.experiences.service import ExperienceFilters, list_experiences
from fedi.content.threads.reading import newest_threads
from fedi.db.models import ActorType
from fedi.instance import context_of
from fedi.partners.offers import OfferFilters, list_offers
from fedi.services.forums import list_forums
from fedi.web.access import Access, rule
from fedi.web.experiences.choices import choices
from fedi.web.experiences.filters import read_filters
from fedi.web.feeds.document import ATOM, RSS, FeedEntry, FeedFormat, FeedHead, feed
from fedi.web.feeds.entries import experience_entry, offer_entry, thread_entry
from fedi.web.ui import i18n

__all__ = ["MAX_ENTRIES", "feed_head", "feed_response", "network_name", "routes"]

MAX_ENTRIES = 50


def _link(base: str, path: str, query: dict[str, str]) -> str:
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def feed_response(head: FeedHead, entries: list[FeedEntry], form: FeedFormat) -> Response:
    """The feed as an answer; its own title and description follow the reader's language
    (fedi.web.ui.i18n), hence the ``Vary``."""
    headers = {"Vary": "Accept-Language, Cookie"}
    return Response(feed(head, entries, form), media_type=form.media_type, headers=headers)


async def _answer(
    request: Request, form: FeedFormat, filters: ExperienceFilters, head: FeedHead
) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        page = await list_experiences(session, context.settings, filters, limit=MAX_ENTRIES)
    themes = dict(choices().themes)
    scheme = f"{context.settings.base_url}/api/v1/vocabularies/themes"
    entries = [experience_entry(view, themes, scheme) for view in page.rows]
    return feed_response(head, entries, form)


def feed_head(
    request: Request, *, page: str, title: str, subtitle: str, query: dict[str, str] | None = None
) -> FeedHead:
    """The feed's head; its own address is its path with ``query``, the filters it honours."""
    base = context_of(request).settings.base_url
    return FeedHead(
        url=_link(base, request.url.path, query or {}),
        page=page,
        title=title,
        subtitle=subtitle,
        language=i18n.current_locale(),
    )


def network_name(request: Request) -> str:
    return str(request.app.state.instance_name.value)


async def _experiences(request: Request, form: FeedFormat) -> Response:
    listed = read_filters(request.query_params)
    if listed.unknown:
        said = request.query_params
        reasons = [f"{name}: {said[name][:50]!r} is not a known value" for name in listed.unknown]
        return PlainTextResponse("; ".join(reasons), status_code=400)
    base = context_of(request).settings.base_url
    head = feed_head(
        request,
        query=listed.query,
        page=_link(base, "/experiences", listed.query),
        title=i18n.gettext("Experiences") + " · " + network_name(request),
        subtitle=i18n.gettext(
            "What members learnt running ESF+ projects, and resources for people starting one."
        ),
    )
    return await _answer(request, form, listed.filters, head)


async def _member(request: Request, form: FeedFormat) -> Response:
    context = context_of(request)
    name = str(request.path_params["name"]).lower()
    async with context.sessions() as session:
        actor = await served_actor(session, context.settings, name, group=False)
    if actor is None or actor.type is not ActorType.PERSON:
        return PlainTextResponse("no such member", status_code=404)
    who = actor.display_name or actor.username
    head = feed_head(
        request,
        page=actor.url or actor.uri,
        title=f"{who} · {network_name(request)}",
        subtitle=i18n.gettext("Experiences written by %(name)s", name=who),
    )
    return await _answer(request, form, ExperienceFilters(author=actor.id), head)


async def _network(request: Request, form: FeedFormat) -> Response:
    """What the network group announces (fedi.content.network): the experiences, the threads
    started in our forums and the partner offers written here, newest first."""
    context = context_of(request)
    settings = context.settings
    name = network_name(request)
    head = feed_head(
        request,
        page=f"{settings.base_url}/",
        title=name,
        subtitle=i18n.gettext("Everything published in public on %(network)s", network=name),
    )
    async with context.sessions() as session:
        experiences = await list_experiences(
            session, settings, ExperienceFilters(), limit=MAX_ENTRIES
        )
        forums = await list_forums(session, settings)
        threads = await newest_threads(session, forums, limit=MAX_ENTRIES, local_only=True)
        offers = await list_offers(session, OfferFilters(), limit=MAX_ENTRIES, local_only=True)
    themes = dict(choices().themes)
    scheme = f"{settings.base_url}/api/v1/vocabularies/themes"
    entries = [
        *(experience_entry(view, themes, scheme) for view in experiences.rows),
        *(thread_entry(settings.base_url, view) for view in threads),
        *(offer_entry(settings.base_url, view, themes, scheme) for view in offers.rows),
    ]
    entries.sort(key=lambda entry: entry.published, reverse=True)
    return feed_response(head, entries[:MAX_ENTRIES], form)


async def experiences_atom(request: Request) -> Response:
    return await _experiences(request, ATOM)


async def experiences_rss(request: Request) -> Response:
    return await _experiences(request, RSS)


async def member_atom(request: Request) -> Response:
    return await _member(request, ATOM)


async def member_rss(request: Request) -> Response:
    return await _member(request, RSS)


async def network_atom(request: Request) -> Response:
    return await _network(request, ATOM)


async def network_rss(request: Request) -> Response:
    return await _network(request, RSS)


def routes() -> list[BaseRoute]:
    return [
        rule("/feeds/experiences.atom", experiences_atom, Access.PUBLIC, methods=["GET"]),
        rule("/feeds/experiences.rss", experiences_rss, Access.PUBLIC, methods=["GET"]),
        rule("/feeds/network.atom", network_atom, Access.PUBLIC, methods=["GET"]),
        rule("/feeds/network.rss", network_rss, Access.PUBLIC, methods=["GET"]),
        rule("/users/{name}/feed.atom", member_atom, Access.PUBLIC, methods=["GET"]),
        rule("/users/{name}/feed.rss", member_rss, Access.PUBLIC, methods=["GET"]),
    ]
