"""``POST /api/v1/offers/{id}/interest`` (express interest in an offer, sent to its owner on
whatever instance), ``GET /api/v1/interests/{id}`` (the conversation, for its two participants)
and ``POST /api/v1/interests/{id}/replies`` (answer): the use cases of
:mod:`fedi.partners.interest`.

``{id}`` of an offer is the last segment of its ActivityPub id, as for the other offer routes; it
also names an offer of another instance of ours that this one holds. ``{id}`` of a conversation
is the number the answers and notifications give (``interest``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.db.models import Actor, InterestMessage
from fedi.instance import context_of
from fedi.partners.interest import (
    Conversation,
    answer,
    conversation,
    express_interest,
    offer_uri_of_key,
)
from fedi.web.access import Access, rule, signed_in_actor
from fedi.web.api.body import read_json_object
from fedi.web.api.paging import MAX_ID
from fedi.web.api.people import actor_summary
from fedi.web.api.problems import Problem
from fedi.web.experiences.reading import KEY

__all__ = ["render_message", "routes"]

MAX_INTEREST_BODY = 64 * 1024


def _time(message: InterestMessage) -> str:
    return message.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def render_message(message: InterestMessage, actors: dict[int, Actor]) -> dict[str, Any]:
    """One message: who to whom, about which offer, the organisation (an expression of
    interest only) and the text."""
    organisation = None
    if message.parent_id is None:
        organisation = {
            "name": message.organisation_name,
            "type": message.organisation_type,
            "country": message.organisation_country,
        }
    return {
        "id": message.id,
        "uri": message.uri,
        "interest": message.parent_id or message.id,
        "offer": {"id": message.offer_uri, "title": message.offer_title},
        "sender": actor_summary(actors[message.sender_id]),
        "recipient": actor_summary(actors[message.recipient_id]),
        "organisation": organisation,
        "message": message.message,
        "local": message.local,
        "published": _time(message),
    }


def _render_conversation(talk: Conversation) -> dict[str, Any]:
    return {
        "id": talk.root.id,
        "offer": {"id": talk.root.offer_uri, "title": talk.root.offer_title},
        "messages": [render_message(row, talk.actors) for row in talk.messages],
    }


def _location(request: Request, interest_id: int) -> str:
    return f"{context_of(request).settings.base_url}/api/v1/interests/{interest_id}"


async def express(request: Request) -> Response:
    context = context_of(request)
    key = str(request.path_params["id"])
    if not KEY.fullmatch(key):
        raise Problem(404, "no such offer")
    sender = await signed_in_actor(request)
    body = await read_json_object(request, limit=MAX_INTEREST_BODY)
    async with context.sessions.begin() as session:
        uri = await offer_uri_of_key(session, context.settings, key)
        row = await express_interest(
            session, context.settings, sender, uri, body, now=context.clock()
        )
        talk = await conversation(session, sender, row.id)
        answer_body = render_message(row, talk.actors)
    return JSONResponse(
        answer_body, status_code=201, headers={"Location": _location(request, row.id)}
    )


def _interest_id(request: Request) -> int:
    raw = str(request.path_params["id"])
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise Problem(404, "no such interest message")
    return int(raw)


async def read(request: Request) -> Response:
    context = context_of(request)
    interest_id = _interest_id(request)
    actor = await signed_in_actor(request)
    async with context.sessions() as session:
        answer_body = _render_conversation(await conversation(session, actor, interest_id))
    return JSONResponse(answer_body)


async def reply(request: Request) -> Response:
    context = context_of(request)
    interest_id = _interest_id(request)
    sender = await signed_in_actor(request)
    body = await read_json_object(request, limit=MAX_INTEREST_BODY)
    async with context.sessions.begin() as session:
        row = await answer(
            session, context.settings, sender, interest_id, body, now=context.clock()
        )
        talk = await conversation(session, sender, row.id)
        answer_body = render_message(row, talk.actors)
    return JSONResponse(
        answer_body, status_code=201, headers={"Location": _location(request, talk.root.id)}
    )


routes = [
    rule("/api/v1/offers/{id}/interest", express, Access.MEMBER, methods=["POST"]),
    rule("/api/v1/interests/{id}", read, Access.MEMBER, methods=["GET"]),
    rule("/api/v1/interests/{id}/replies", reply, Access.MEMBER, methods=["POST"]),
]
