"""Local content objects at their ids: ActivityStreams for servers, a page for people.

Mastodon, Lemmy and Misskey fetch an object by its id to show a reply's parent, a boost or a
search by URL, so every id we mint resolves. A deleted object answers 410 with its Tombstone.
Only public objects are served.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.content.likes import helpful_count
from fedi.content.service import display_text, public_local
from fedi.federation.vocab import wants_activity_json
from fedi.instance import context_of
from fedi.web.actors import activity_json
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


routes = [Route("/objects/{id}", content_object)]
