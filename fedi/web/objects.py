"""Local content objects at their ids: ActivityStreams for servers, a page for people.

Mastodon, Lemmy and Misskey fetch an object by its id to show a reply's parent, a boost or a
search by URL, so every id we mint resolves. A deleted object answers 410 with its Tombstone.
Only public objects are served. A thread's Page has its ``context`` collection (the thread's
posts, FEP-7888) and every post its ``replies`` collection, paged like the actors' collections
and under the same signed-fetch rule.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.content.likes import helpful_count
from fedi.content.service import display_text, public_local
from fedi.content.threads.collections import listing
from fedi.federation.render import render_collection, render_collection_page
from fedi.federation.vocab import wants_activity_json
from fedi.instance import context_of
from fedi.web.actors import PAGE_SIZE, activity_json
from fedi.web.signed_fetch import require_signature

__all__ = ["routes"]


async def content_object(request: Request) -> Response:
    context = context_of(request)
    uri = f"{context.settings.base_url}/objects/{request.path_params['id']}"
    as_json = wants_activity_json(request.headers.get("accept", ""))
    if as_json:
        refusal = await require_signature(request)
        if refusal is not None:
            return refusal
    async with context.sessions() as session:
        found = await public_local(session, uri)
        helpful = await helpful_count(session, found[0].id) if found is not None else 0
    if found is None:
        return JSONResponse(
            {"error": "no such object"}, status_code=404, headers={"Vary": "Accept"}
        )
    row, author = found
    if row.deleted_at is not None:
        return activity_json(row.document, status_code=410)
    if as_json:
        return activity_json(row.document)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "object.html",
        {
            "obj": row,
            "author": author,
            "settings": context.settings,
            "helpful": helpful,
            "title": display_text(row)[:80],
        },
        headers={"Vary": "Accept"},
    )
    return response


async def _collection(request: Request, kind: str) -> Response:
    refusal = await require_signature(request)
    if refusal is not None:
        return refusal
    context = context_of(request)
    uri = f"{context.settings.base_url}/objects/{request.path_params['id']}"
    page_param = request.query_params.get("page")
    if page_param is not None and (not page_param.isdigit() or int(page_param) < 1):
        return JSONResponse({"error": "page must be a positive whole number"}, status_code=400)
    page = int(page_param or 1)
    async with context.sessions() as session:
        found = await listing(session, uri, kind, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if found is None:
        return JSONResponse(
            {"error": "no such collection"}, status_code=404, headers={"Vary": "Accept"}
        )
    collection_id = f"{uri}/{kind}"
    if page_param is None:
        return activity_json(render_collection(collection_id, found.total))
    return activity_json(
        render_collection_page(
            collection_id, page, found.items, has_next=found.has_next, total=found.total
        )
    )


async def thread_context(request: Request) -> Response:
    return await _collection(request, "context")


async def object_replies(request: Request) -> Response:
    return await _collection(request, "replies")


routes = [
    Route("/objects/{id}", content_object),
    Route("/objects/{id}/context", thread_context),
    Route("/objects/{id}/replies", object_replies),
]
