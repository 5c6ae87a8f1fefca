"""``POST /api/v1/reports``: a member points the moderators at an object or an actor."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.db.models import Actor
from fedi.instance import context_of
from fedi.services.reports import report
from fedi.web.access import Access, principal_of, rule
from fedi.web.api.body import read_json_object
from fedi.web.api.problems import Problem

__all__ = ["routes"]


async def create_report(request: Request) -> Response:
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None
    body = await read_json_object(request)
    errors: dict[str, list[str]] = {
        name: ["unknown field; a report has object and comment"]
        for name in sorted(set(body) - {"object", "comment"})
    }
    target = body.get("object")
    if not isinstance(target, str) or not target.startswith(("https://", "http://")):
        errors["object"] = ["must be the id (an http(s) URL) of the object or actor reported"]
    elif len(target) > 2048:
        errors["object"] = ["at most 2048 characters"]
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        errors["comment"] = ["must be a string"]
    if errors:
        first = next(iter(errors))
        raise Problem(422, f"{first}: {errors[first][0]}", errors=errors)
    assert isinstance(target, str) and isinstance(comment, str)
    async with context.sessions.begin() as session:
        reporter = await session.get(Actor, principal.actor_id)
        assert reporter is not None
        row = await report(session, context.settings, reporter, [target], comment)
        answer = {"id": row.id, "object": row.object_uri, "comment": row.comment}
    return JSONResponse(
        answer,
        status_code=201,
        headers={"Location": f"{context.settings.base_url}/api/v1/reports/{answer['id']}"},
    )


routes = [rule("/api/v1/reports", create_report, Access.MEMBER, methods=["POST"])]
