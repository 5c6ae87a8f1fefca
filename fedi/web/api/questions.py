"""``POST /api/v1/experts/{id}/questions`` (ask an expert of the directory a question, sent to
them on whatever instance), ``GET /api/v1/questions/{id}`` (the conversation, for its two
participants) and ``POST /api/v1/questions/{id}/replies`` (answer): the use cases of
:mod:`fedi.services.questions`.

``{id}`` of an expert is their handle as the directory gives it (``name@host``, the leading
``@`` optional; each entry's ``questions`` is the URL to post to). ``{id}`` of a conversation
is the number the answers and notifications give (``question``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.db.models import Actor, ExpertQuestion
from fedi.instance import context_of
from fedi.services.questions import QuestionConversation, answer, ask_expert, conversation
from fedi.web.access import Access, rule, signed_in_actor
from fedi.web.api.body import read_json_object
from fedi.web.api.paging import MAX_ID
from fedi.web.api.people import actor_summary
from fedi.web.api.problems import Problem

__all__ = ["render_question_message", "routes"]

MAX_QUESTION_BODY = 64 * 1024


def _time(message: ExpertQuestion) -> str:
    return message.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def render_question_message(message: ExpertQuestion, actors: dict[int, Actor]) -> dict[str, Any]:
    """One message: who to whom, the subject (the question only) and the text."""
    return {
        "id": message.id,
        "uri": message.uri,
        "question": message.parent_id or message.id,
        "subject": message.subject if message.parent_id is None else None,
        "sender": actor_summary(actors[message.sender_id]),
        "recipient": actor_summary(actors[message.recipient_id]),
        "message": message.message,
        "local": message.local,
        "published": _time(message),
    }


def _render_conversation(talk: QuestionConversation) -> dict[str, Any]:
    return {
        "id": talk.root.id,
        "subject": talk.root.subject,
        "url": f"/questions/{talk.root.id}",
        "messages": [render_question_message(row, talk.actors) for row in talk.messages],
    }


def _location(request: Request, question_id: int) -> str:
    return f"{context_of(request).settings.base_url}/api/v1/questions/{question_id}"


async def ask(request: Request) -> Response:
    context = context_of(request)
    expert_id = unquote(str(request.path_params["id"]))
    sender = await signed_in_actor(request)
    body = await read_json_object(request, limit=MAX_QUESTION_BODY)
    async with context.sessions.begin() as session:
        row = await ask_expert(
            session, context.settings, sender, expert_id, body, now=context.clock()
        )
        talk = await conversation(session, sender, row.id)
        answer_body = render_question_message(row, talk.actors)
    return JSONResponse(
        answer_body, status_code=201, headers={"Location": _location(request, row.id)}
    )


def _question_id(request: Request) -> int:
    raw = str(request.path_params["id"])
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise Problem(404, "no such question")
    return int(raw)


async def read(request: Request) -> Response:
    context = context_of(request)
    question_id = _question_id(request)
    actor = await signed_in_actor(request)
    async with context.sessions() as session:
        answer_body = _render_conversation(await conversation(session, actor, question_id))
    return JSONResponse(answer_body)


async def reply(request: Request) -> Response:
    context = context_of(request)
    question_id = _question_id(request)
    sender = await signed_in_actor(request)
    body = await read_json_object(request, limit=MAX_QUESTION_BODY)
    async with context.sessions.begin() as session:
        row = await answer(
            session, context.settings, sender, question_id, body, now=context.clock()
        )
        talk = await conversation(session, sender, row.id)
        answer_body = render_question_message(row, talk.actors)
    return JSONResponse(
        answer_body, status_code=201, headers={"Location": _location(request, talk.root.id)}
    )


routes = [
    rule("/api/v1/experts/{id}/questions", ask, Access.MEMBER, methods=["POST"]),
    rule("/api/v1/questions/{id}", read, Access.MEMBER, methods=["GET"]),
    rule("/api/v1/questions/{id}/replies", reply, Access.MEMBER, methods=["POST"]),
]
