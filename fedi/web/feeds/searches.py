"""``/feeds/searches/{key}.rss``: the newest offers a saved search finds, as RSS 2.0 (feedgen).

The key is the saved search's secret (``SavedSearch.feed_key``): a feed reader needs no
sign-in, and nobody who was not given the address finds the search."""

from __future__ import annotations

from dataclasses import replace

from feedgen.feed import FeedGenerator
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.partners.saved_searches import find_by_feed_key, wanted
from fedi.partners.search import OfferHit
from fedi.web.access import Access, rule
from fedi.web.feeds.document import RSS, clean_text
from fedi.web.feeds.routes import MAX_ENTRIES
from fedi.web.offers.searching import search_results
from fedi.web.ui import i18n

__all__ = ["routes", "search_feed"]


def search_feed(base_url: str, url: str, name: str, hits: list[OfferHit]) -> bytes:
    feed = FeedGenerator()
    feed.id(url)
    feed.title(clean_text(i18n.gettext("Partner search: %(name)s", name=name)))
    feed.description(clean_text(i18n.gettext("New partner offers that match this search.")))
    feed.link(href=url, rel="self", type="application/rss+xml")
    feed.link(href=f"{base_url}/offers/search", rel="alternate", type="text/html")
    feed.language(i18n.current_locale())
    feed.generator("Transnationality")
    for hit in hits:
        view, data = hit.view, hit.view.data
        entry = feed.add_entry(order="append")
        entry.id(view.uri)
        entry.title(clean_text(data.title))
        page = f"{base_url}/offers/{view.id}" if view.local else (view.row.url or view.uri)
        entry.link(href=page, rel="alternate", type="text/html")
        entry.description(clean_text(data.summary))
        entry.published(view.row.published or view.created)
        for code in data.codes["themes"]:
            entry.category(term=code)
    written: bytes = feed.rss_str()
    return written


async def saved_search_rss(request: Request) -> Response:
    context = context_of(request)
    try:
        async with context.sessions() as session:
            saved = await find_by_feed_key(session, request.path_params["key"])
        search = wanted(saved)
    except NotFoundError:
        return PlainTextResponse("no such feed", status_code=404)
    except ValidationError as error:
        return PlainTextResponse(f"this saved search no longer reads: {error}", status_code=410)
    newest = replace(search, sort="newest")
    found = await search_results(request, newest, offset=0, limit=MAX_ENTRIES)
    base = context.settings.base_url
    body = search_feed(base, f"{base}{request.url.path}", saved.name, found.hits)
    return Response(body, media_type=RSS.media_type, headers={"Vary": "Accept-Language, Cookie"})


def routes() -> list[BaseRoute]:
    return [rule("/feeds/searches/{key}.rss", saved_search_rss, Access.PUBLIC, methods=["GET"])]
