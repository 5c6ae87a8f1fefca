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
    unknown = sorted(set(body) - {"object", "comment"})
    if unknown:
        errors = {name: ["unknown field; a report has object and comment"] for name in unknown}
        raise Problem(422, f"{unknown[0]}: unknown field", errors=errors)
    target, comment = body.get("object"), body.get("comment", "")
    if not isinstance(target, str) or not isinstance(comment, str):
        field = "comment" if isinstance(target, str) else "object"
        raise Problem(422, f"{field}: must be a string", errors={field: ["must be a string"]})
    async with context.sessions.begin() as session:
        reporter = await session.get(Actor, principal.actor_id)
        assert reporter is not None
        row = await report(session, context.settings, reporter, [target], comment)
        answer = {"id": row.id, "object": row.object_uri, "comment": row.comment}
    return JSONResponse(answer, status_code=201)


routes = [rule("/api/v1/reports", create_report, Access.MEMBER, methods=["POST"])]
