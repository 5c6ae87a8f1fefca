"""ActivityPub client-to-server: an authenticated POST to a member's outbox publishes.

``Authorization: Bearer <token>`` (from ``fedi user token LOGIN``) must belong to the outbox's
owner. The body is a ``Create`` of a Note/Article/Page, a bare such object, or an ``Update`` or
``Delete`` of one of the member's objects (someone else's: 403). Answers ``201 Created`` with
``Location`` set to the new activity (ActivityPub section 6).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.actors.document import ActorDocumentError
from fedi.actors.remote import fetch_actor, known_uris
from fedi.db.models import Activity, Actor
from fedi.errors import FediError, ForbiddenError, NotFoundError, ValidationError
from fedi.federation.vocab import first_id
from fedi.instance import InstanceContext, context_of
from fedi.net.body import parse_json_object
from fedi.net.client import FetchBudget
from fedi.net.errors import BadDocument, FetchError
from fedi.services import publishing
from fedi.services.tokens import member_for_token

__all__ = ["routes"]

MAX_BODY = 1024 * 1024
MAX_DEPTH = 64
_JSON_TYPES = ("application/activity+json", "application/ld+json", "application/json")
_ACTIVITIES = ("Create", "Update", "Delete")


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


async def _read_object(request: Request) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in _JSON_TYPES:
        raise _HttpError(415, "send application/activity+json")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _HttpError(413, "body over 1 MiB")
    try:
        payload = parse_json_object(bytes(body), max_depth=MAX_DEPTH)
    except BadDocument as exc:
        raise _HttpError(400, f"the body must be a JSON object: {exc.reason}") from None
    # A lone surrogate can only come in as a \uD800-\uDFFF escape (raw, it is invalid UTF-8);
    # no database and no peer can take one, so the document is refused whole.
    if b"\\ud" in body.lower():
        try:
            json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise _HttpError(400, "the body holds a lone surrogate escape") from None
    return payload


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _ensure_recipients_known(
    context: InstanceContext, author: Actor, payload: dict[str, Any]
) -> None:
    """Fetch every addressed actor we do not know yet, so deliveries can be written."""
    budget = FetchBudget()
    async with context.sessions() as session:
        wanted = publishing.object_recipients(payload, author)
        known = await known_uris(session, wanted)
    local = f"{context.settings.base_url}/"
    for iri in wanted:
        if iri in known or iri.startswith(local):
            continue  # local recipients need no delivery row
        try:
            await fetch_actor(context, iri, budget=budget)
        except ActorDocumentError:
            continue  # a collection (a remote followers list, say): not an inbox to deliver to
        except FetchError as exc:
            raise ValidationError(f"cannot reach recipient {iri}: {exc}") from exc


async def _change(context: InstanceContext, author_id: int, kind: str, target: Any) -> Activity:
    """An ``Update`` (``target``: the object with its new texts) or a ``Delete`` (``target``:
    the object or its id) of one of the author's objects."""
    async with context.sessions() as session, session.begin():
        author = await session.get(Actor, author_id)
        assert author is not None
        if kind == "Update":
            if not isinstance(target, dict):
                raise ValidationError("Update needs the object with its new properties")
            return await publishing.update_object(session, context.settings, author, target)
        object_id = first_id(target)
        if object_id is None:
            raise ValidationError("Delete needs an object id")
        return await publishing.delete_object(session, context.settings, author, object_id)


async def post_outbox(request: Request) -> Response:
    context = context_of(request)
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _error(401, "a bearer token is required", **{"WWW-Authenticate": "Bearer"})
    username = str(request.path_params["name"]).lower()
    try:
        payload = await _read_object(request)
    except _HttpError as exc:
        return _error(exc.status, str(exc))
    async with context.sessions() as session, session.begin():
        member = await member_for_token(session, token)
        if member is None:
            return _error(401, "unknown or revoked token", **{"WWW-Authenticate": "Bearer"})
        if member.login != username:
            return _error(403, "this token may only post to its own member's outbox")
        author_id = member.actor_id
    async with context.sessions() as session:
        author = await session.get(Actor, author_id)
    assert author is not None
    kind = payload.get("type")
    if not isinstance(kind, str):
        return _error(422, "type must be a single string")
    if kind in _ACTIVITIES and first_id(payload.get("actor")) not in (None, author.uri):
        return _error(422, "actor must be the outbox's owner")
    try:
        if kind in ("Update", "Delete"):
            activity = await _change(context, author_id, kind, payload.get("object"))
        else:
            inner = payload.get("object") if kind == "Create" else payload
            if not isinstance(inner, dict):
                raise ValidationError("Create needs an embedded object")
            if kind == "Create":
                inner = publishing.merge_addressing(payload, inner)
            await _ensure_recipients_known(context, author, inner)
            async with context.sessions() as session, session.begin():
                author = await session.get(Actor, author_id)
                assert author is not None
                activity = await publishing.publish_object(session, context.settings, author, inner)
    except NotFoundError as exc:
        return _error(404, str(exc))
    except ForbiddenError as exc:
        return _error(403, str(exc))
    except FediError as exc:
        return _error(422, str(exc))
    return JSONResponse(
        activity.document,
        status_code=201,
        media_type="application/activity+json",
        headers={"Location": activity.uri},
    )


routes = [Route("/users/{name}/outbox", post_outbox, methods=["POST"])]
