"""``GET /api/v1/notifications`` (paged, ``?unread=``) and ``POST /api/v1/notifications/read``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.db.models import Actor, Notification
from fedi.instance import context_of
from fedi.services.notifications import (
    actors_of,
    mark_read,
    notifications_page,
    unread_count,
)
from fedi.web.access import Access, principal_of, rule
from fedi.web.api.body import read_json_object
from fedi.web.api.paging import MAX_ID, page_of, page_request
from fedi.web.api.people import actor_summary
from fedi.web.api.problems import Problem

__all__ = ["routes"]


def _time(value: Any) -> str:
    return str(value.isoformat(timespec="seconds").replace("+00:00", "Z"))


def _unread_filter(request: Request) -> bool | None:
    raw = request.query_params.get("unread")
    if raw is None:
        return None
    if raw in ("true", "false"):
        return raw == "true"
    raise Problem(422, "unread must be true or false", errors={"unread": ["must be true or false"]})


def _render(row: Notification, actors: dict[int, Actor]) -> dict[str, Any]:
    actor = actors.get(row.actor_id) if row.actor_id is not None else None
    return {
        "id": row.id,
        "kind": row.kind,
        "actor": actor_summary(actor) if actor is not None else None,
        "object": row.object_uri,
        "data": row.data,
        "created": _time(row.created_at),
        "read": row.read_at is not None,
    }


async def list_notifications(request: Request) -> Response:
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None
    unread = _unread_filter(request)
    wanted = page_request(request)
    async with context.sessions.begin() as session:
        keyset = await notifications_page(
            session, principal.member_id, unread=unread, limit=wanted.limit, before=wanted.before
        )
        page = page_of(request, context.settings.base_url, wanted, keyset)
        actors = await actors_of(session, page.rows)
        answer = page.answer(
            [_render(row, actors) for row in page.rows],
            unread=await unread_count(session, principal.member_id),
        )
    return JSONResponse(answer)


def _ids(value: object) -> list[int]:
    """Notification ids; ``3.0`` is the integer 3, as JSON Schema counts numbers."""
    if isinstance(value, list) and len(value) <= 1000:
        ids = [
            int(item)
            for item in value
            if type(item) is int or (type(item) is float and item.is_integer())
        ]
        if len(ids) == len(value) and all(1 <= i <= MAX_ID for i in ids):
            return ids
    raise Problem(
        422,
        "ids must be a list of notification ids",
        errors={"ids": ["must be a list of at most 1000 notification ids"]},
    )


async def read_notifications(request: Request) -> Response:
    """Mark notifications read: those named in ``ids``, or every unread one without ``ids``."""
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None
    body = await read_json_object(request)
    unknown = sorted(set(body) - {"ids"})
    if unknown:
        raise Problem(
            422, f"unknown field {unknown[0]}", errors={name: ["unknown field"] for name in unknown}
        )
    ids = _ids(body["ids"]) if "ids" in body else None
    async with context.sessions.begin() as session:
        marked = await mark_read(session, principal.member_id, context.clock(), ids)
        unread = await unread_count(session, principal.member_id)
    return JSONResponse({"marked": marked, "unread": unread})


routes = [
    rule("/api/v1/notifications", list_notifications, Access.MEMBER, methods=["GET"]),
    rule("/api/v1/notifications/read", read_notifications, Access.MEMBER, methods=["POST"]),
]
