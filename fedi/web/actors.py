"""Local actors over HTTP: the actor document or its page, its paged collections, and a forum's
moderators."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.actors import collections
from fedi.actors.collections import Collection
from fedi.actors.expertise import federated_profile
from fedi.actors.local import INSTANCE_ACTOR_USERNAME, LocalActorUrls, is_forum, served_actor
from fedi.content.threads.reading import pinned_threads
from fedi.db.models import ActorType
from fedi.federation.outbox import public_activity
from fedi.federation.render import render_actor, render_collection, render_collection_page
from fedi.federation.vocab import ACTIVITY_JSON, wants_activity_json
from fedi.instance import context_of
from fedi.services.forums import forum_moderators
from fedi.web.signed_fetch import require_signature
from fedi.web.ui.i18n import gettext

__all__ = ["activity_json", "routes"]

PAGE_SIZE = 20


def activity_json(document: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        document, status_code=status_code, media_type=ACTIVITY_JSON, headers={"Vary": "Accept"}
    )


def _not_found(request: Request) -> Response:
    """404 as a page for people and as JSON for servers, like the answer it replaces."""
    if wants_activity_json(request.headers.get("accept", "")):
        return JSONResponse({"error": "no such actor"}, status_code=404, headers={"Vary": "Accept"})
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "not_found.html",
        {"message": gettext("There is no such account here.")},
        status_code=404,
        headers={"Vary": "Accept"},
    )
    return response


def _served(request: Request) -> tuple[str, bool]:
    """The username the route serves, and whether it is a group's."""
    if "name" in request.path_params:
        return str(request.path_params["name"]).lower(), request.url.path.startswith("/groups/")
    return INSTANCE_ACTOR_USERNAME, False


async def actor_document(request: Request) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        username, group = _served(request)
        actor = await served_actor(session, context.settings, username, group=group)
        if actor is None:
            return _not_found(request)
        if wants_activity_json(request.headers.get("accept", "")):
            # The instance actor stays fetchable unsigned: peers need its key to verify us.
            if actor.type is not ActorType.APPLICATION:
                refusal = await require_signature(request)
                if refusal is not None:
                    return refusal
            profile = await federated_profile(session, actor)
            return activity_json(render_actor(actor, context.settings, profile))
        followers = await collections.count(session, collections.followers, actor)
        following = await collections.count(session, collections.following, actor)
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request,
        "actor.html",
        {
            "actor": actor,
            "settings": context.settings,
            "followers": followers,
            "following": following,
            "forum": is_forum(actor, context.settings),
        },
        headers={"Vary": "Accept"},
    )
    return response


async def _collection(request: Request, collection: Collection, suffix: str) -> Response:
    refusal = await require_signature(request)
    if refusal is not None:
        return refusal
    context = context_of(request)
    page_param = request.query_params.get("page")
    async with context.sessions() as session:
        username, group = _served(request)
        actor = await served_actor(session, context.settings, username, group=group)
        if actor is None:
            return _not_found(request)
        total = await collections.count(session, collection, actor)
        collection_id = f"{actor.uri}/{suffix}"
        if page_param is None:
            return activity_json(render_collection(collection_id, total))
        if not page_param.isdigit() or int(page_param) < 1:
            return JSONResponse({"error": "page must be a positive whole number"}, status_code=400)
        page = int(page_param)
        items = await collections.page(
            session, collection, actor, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1
        )
    return activity_json(
        render_collection_page(
            collection_id, page, items[:PAGE_SIZE], has_next=len(items) > PAGE_SIZE, total=total
        )
    )


async def followers(request: Request) -> Response:
    return await _collection(request, collections.followers, "followers")


async def following(request: Request) -> Response:
    return await _collection(request, collections.following, "following")


async def outbox(request: Request) -> Response:
    return await _collection(request, collections.outbox, "outbox")


async def moderators(request: Request) -> Response:
    """A forum's moderators (FEP-1b12), whole in one ``OrderedCollection``: Lemmy and Mbin read
    its ``orderedItems`` and do not follow pages. 404 for the network group."""
    refusal = await require_signature(request)
    if refusal is not None:
        return refusal
    context = context_of(request)
    async with context.sessions() as session:
        username, group = _served(request)
        actor = await served_actor(session, context.settings, username, group=group)
        if actor is None or not is_forum(actor, context.settings):
            return _not_found(request)
        items = [moderator.uri for moderator in await forum_moderators(session)]
    collection_id = LocalActorUrls(actor.uri).moderators
    return activity_json(render_collection(collection_id, len(items), items=items))


async def featured(request: Request) -> Response:
    """A forum's pinned threads, whole in one ``OrderedCollection`` of their Pages (Lemmy reads
    the embedded Pages of ``orderedItems``). 404 for the network group."""
    refusal = await require_signature(request)
    if refusal is not None:
        return refusal
    context = context_of(request)
    async with context.sessions() as session:
        username, group = _served(request)
        actor = await served_actor(session, context.settings, username, group=group)
        if actor is None or not is_forum(actor, context.settings):
            return _not_found(request)
        pages = await pinned_threads(session, actor)
    items: list[Any] = [{k: v for k, v in p.document.items() if k != "@context"} for p in pages]
    collection_id = LocalActorUrls(actor.uri).featured
    return activity_json(render_collection(collection_id, len(items), items=items))


async def stored_activity(request: Request) -> Response:
    """A public activity we sent, dereferenceable at its id."""
    context = context_of(request)
    uri = f"{context.settings.base_url}/activities/{request.path_params['id']}"
    refusal = await require_signature(request)
    if refusal is not None:
        return refusal
    async with context.sessions() as session:
        document = await public_activity(session, uri)
    if document is None:
        return JSONResponse({"error": "no such activity"}, status_code=404)
    return activity_json(document)


routes = [
    Route("/actor", actor_document),
    Route("/actor/followers", followers),
    Route("/actor/following", following),
    Route("/actor/outbox", outbox, methods=["GET"]),
    Route("/activities/{id}", stored_activity),
]
for _segment in ("users", "groups"):
    routes += [
        Route(f"/{_segment}/{{name}}", actor_document),
        Route(f"/{_segment}/{{name}}/followers", followers),
        Route(f"/{_segment}/{{name}}/following", following),
        Route(f"/{_segment}/{{name}}/outbox", outbox, methods=["GET"]),
    ]
routes.append(Route("/groups/{name}/moderators", moderators))
routes.append(Route("/groups/{name}/featured", featured))
