"""``/api/v1/forums/{slug}/threads`` (a forum's threads, start one) and ``/api/v1/threads/{id}``
(a thread with its replies, paged; reply; mark the accepted answer; its author edits it with
``PATCH`` and deletes it, a moderator removes it, with ``DELETE``; moderators lock it with
``POST .../lock`` and pin it with ``POST .../pin``, ``DELETE`` of either undoes it), and
``/api/v1/replies/{id}`` (its author edits a reply with ``PATCH``; ``DELETE`` by its author or a
moderator), the same use cases and checks as the pages.

``{id}`` is a thread's or a reply's ``key``; a reply is named by its ``id`` (its ActivityPub id)
in ``in_reply_to`` and in ``{"reply": ...}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.content.threads.editing import delete_reply, delete_thread, edit_reply, edit_thread
from fedi.content.threads.moderation import set_locked, set_pinned
from fedi.content.threads.reading import ThreadView, find_thread, list_threads, thread_url
from fedi.content.threads.replies import ReplyView, replies_page
from fedi.content.threads.service import mark_solution, post_reply, start_thread
from fedi.instance import context_of
from fedi.services.forums import find_forum
from fedi.settings import Settings
from fedi.web.access import Access, check, principal_of, rule, signed_in_actor
from fedi.web.api.body import read_json_object
from fedi.web.api.paging import MAX_ID, page_of, page_request
from fedi.web.api.people import actor_summary
from fedi.web.api.problems import Problem

__all__ = ["render_reply", "render_thread", "routes"]

# Big enough to read the longest title and body the fields allow even when every character is
# sent as the JSON escape of a surrogate pair (12 bytes), so that an overlong one is refused
# with a 422 naming its field rather than a 413.
MAX_THREAD_BODY = 2 * 1024 * 1024


def _time(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat(timespec="seconds").replace("+00:00", "Z"))


def render_thread(settings: Settings, view: ThreadView) -> dict[str, Any]:
    obj = view.obj
    return {
        "id": obj.uri,
        "key": view.key,
        "url": thread_url(settings, view.key),
        "origin": view.author.domain,
        "local": obj.local,
        "forum": view.forum_uri,
        "title": view.title,
        "body": obj.source if obj.source_media_type == "text/markdown" else None,
        "body_html": obj.content or "",
        "language": obj.language,
        "author": actor_summary(view.author),
        "published": _time(obj.published),
        "updated": _time(obj.updated),
        "reply_count": view.reply_count,
        "last_activity": _time(view.last_activity),
        "solved": view.solution is not None,
        "solution": view.solution,
        "locked": view.locked,
        "pinned": view.pinned,
    }


def render_reply(settings: Settings, thread: ThreadView, view: ReplyView) -> dict[str, Any]:
    obj = view.obj
    return {
        "id": obj.uri,
        "key": view.key,
        "url": f"{thread_url(settings, thread.key)}#reply-{view.key}",
        "origin": view.author.domain,
        "local": obj.local,
        "in_reply_to": obj.in_reply_to,
        "body": obj.source if obj.source_media_type == "text/markdown" else None,
        "body_html": obj.content or "",
        "language": obj.language,
        "author": actor_summary(view.author),
        "published": _time(obj.published),
        "updated": _time(obj.updated),
        "solution": view.solution,
        "removed": view.removed,
    }


def _key(request: Request, what: str = "thread") -> int:
    raw = str(request.path_params["id"])
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise Problem(404, f"no such {what}")
    return int(raw)


async def forum_threads(request: Request) -> Response:
    """Reading is open to anyone, starting a thread to members."""
    context = context_of(request)
    slug = str(request.path_params["slug"])
    if request.method == "POST":
        check(Access.MEMBER, principal_of(request))
        author = await signed_in_actor(request)
        body = await read_json_object(request, limit=MAX_THREAD_BODY)
        async with context.sessions.begin() as session:
            view = await start_thread(session, context.settings, author, slug, body)
            answer = render_thread(context.settings, view)
        location = f"{context.settings.base_url}/api/v1/threads/{view.key}"
        return JSONResponse(answer, status_code=201, headers={"Location": location})
    wanted = page_request(request)
    async with context.sessions() as session:
        forum = await find_forum(session, context.settings, slug)
        keyset = await list_threads(session, forum, limit=wanted.limit, offset=wanted.before or 0)
    page = page_of(request, context.settings.base_url, wanted, keyset)
    return JSONResponse(page.answer([render_thread(context.settings, v) for v in page.rows]))


async def one_thread(request: Request) -> Response:
    if request.method != "GET":
        return await thread_changes(request)
    context = context_of(request)
    key = _key(request)
    wanted = page_request(request)
    async with context.sessions() as session:
        thread = await find_thread(session, key, details=False)
        keyset = await replies_page(session, thread, limit=wanted.limit, offset=wanted.before or 0)
    page = page_of(request, context.settings.base_url, wanted, keyset)
    replies = page.answer([render_reply(context.settings, thread, r) for r in page.rows])
    return JSONResponse({**render_thread(context.settings, thread), "replies": replies})


async def add_reply(request: Request) -> Response:
    context = context_of(request)
    key = _key(request)
    author = await signed_in_actor(request)
    body = await read_json_object(request, limit=MAX_THREAD_BODY)
    async with context.sessions.begin() as session:
        obj = await post_reply(session, context.settings, author, key, body)
        thread = await find_thread(session, key)
        answer = render_reply(context.settings, thread, ReplyView(obj.id, obj, author, False))
    return JSONResponse(answer, status_code=201, headers={"Location": answer["url"]})


async def set_solution(request: Request) -> Response:
    context = context_of(request)
    key = _key(request)
    actor = await signed_in_actor(request)
    body = await read_json_object(request)
    unknown = sorted(set(body) - {"reply"})
    if unknown:
        raise Problem(
            422,
            f"{unknown[0]}: unknown field; this takes reply",
            errors={name: ["unknown field; this takes reply"] for name in unknown},
        )
    async with context.sessions.begin() as session:
        view = await mark_solution(session, context.settings, actor, key, body.get("reply"))
        answer = render_thread(context.settings, view)
    return JSONResponse(answer)


async def thread_changes(request: Request) -> Response:
    """``PATCH`` (the author edits) and ``DELETE`` (the author deletes, a moderator removes)."""
    context = context_of(request)
    key = _key(request)
    actor = await signed_in_actor(request)
    if request.method == "DELETE":
        async with context.sessions.begin() as session:
            await delete_thread(session, context.settings, actor, key)
        return Response(status_code=204)
    body = await read_json_object(request, limit=MAX_THREAD_BODY)
    async with context.sessions.begin() as session:
        view = await edit_thread(session, context.settings, actor, key, body)
        answer = render_thread(context.settings, view)
    return JSONResponse(answer)


async def _toggle(request: Request, change: Any) -> Response:
    context = context_of(request)
    key = _key(request)
    actor = await signed_in_actor(request)
    async with context.sessions.begin() as session:
        view = await change(session, context.settings, actor, key, request.method == "POST")
        answer = render_thread(context.settings, view)
    return JSONResponse(answer)


async def lock(request: Request) -> Response:
    """Moderators lock the thread (``POST``) or open it again (``DELETE``)."""
    return await _toggle(request, set_locked)


async def pin(request: Request) -> Response:
    """Moderators pin the thread (``POST``) or unpin it (``DELETE``)."""
    return await _toggle(request, set_pinned)


async def reply_changes(request: Request) -> Response:
    """``PATCH`` (the author edits the reply) and ``DELETE`` (its author or a moderator)."""
    context = context_of(request)
    key = _key(request, "reply")
    actor = await signed_in_actor(request)
    if request.method == "DELETE":
        async with context.sessions.begin() as session:
            await delete_reply(session, context.settings, actor, key)
        return Response(status_code=204)
    body = await read_json_object(request, limit=MAX_THREAD_BODY)
    async with context.sessions.begin() as session:
        reply, thread = await edit_reply(session, context.settings, actor, key, body)
        view = ReplyView(reply.id, reply, actor, reply.uri == thread.solution)
        answer = render_reply(context.settings, thread, view)
    return JSONResponse(answer)


routes = [
    rule("/api/v1/forums/{slug}/threads", forum_threads, Access.PUBLIC, methods=["GET", "POST"]),
    rule(
        "/api/v1/threads/{id}",
        one_thread,
        {"GET": Access.PUBLIC, "PATCH": Access.MEMBER, "DELETE": Access.MEMBER},
        methods=["GET", "PATCH", "DELETE"],
    ),
    rule("/api/v1/threads/{id}/lock", lock, Access.MODERATOR, methods=["POST", "DELETE"]),
    rule("/api/v1/threads/{id}/pin", pin, Access.MODERATOR, methods=["POST", "DELETE"]),
    rule("/api/v1/replies/{id}", reply_changes, Access.MEMBER, methods=["PATCH", "DELETE"]),
    rule("/api/v1/threads/{id}/replies", add_reply, Access.MEMBER, methods=["POST"]),
    rule("/api/v1/threads/{id}/solution", set_solution, Access.MEMBER, methods=["POST"]),
]
