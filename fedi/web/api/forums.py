"""``/api/v1/forums``: the forums (public to read); admins create, change and archive them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.errors import FediError
from fedi.instance import context_of
from fedi.services.forums import (
    ForumInfo,
    archive_forum,
    create_forum,
    forum_info,
    forums_page,
    reopen_forum,
    update_forum,
)
from fedi.web.access import Access, rule
from fedi.web.api.body import read_json_object
from fedi.web.api.paging import page_of, page_request
from fedi.web.api.problems import Problem, problem_of

__all__ = ["render_forum", "routes"]


def _time(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat(timespec="seconds").replace("+00:00", "Z"))


def render_forum(forum: ForumInfo) -> dict[str, Any]:
    actor = forum.actor
    return {
        "id": actor.uri,
        "url": actor.url or actor.uri,
        "origin": actor.domain,
        "local": actor.local,
        "slug": actor.username,
        "handle": f"@{actor.username}@{actor.domain}",
        "name": actor.display_name or actor.username,
        "summary": actor.summary,
        "archived": forum.archived,
        "archived_at": _time(forum.archived_at),
        "created": _time(actor.created_at),
    }


def _strings(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        names = ", ".join(sorted(allowed))
        errors = {name: [f"unknown field; a forum has {names}"] for name in unknown}
        raise Problem(422, f"{unknown[0]}: unknown field", errors=errors)
    for name in sorted(set(body) & {"slug", "name", "summary"}):
        if not isinstance(body[name], str):
            raise Problem(422, f"{name}: must be a string", errors={name: ["must be a string"]})


def _refused(error: FediError) -> Problem:
    problem = problem_of(error)
    if problem.status == 409:
        return Problem(409, str(error), errors={"slug": [str(error)]})
    return problem


async def list_forums(request: Request) -> Response:
    context = context_of(request)
    wanted = page_request(request)
    async with context.sessions() as session:
        keyset = await forums_page(
            session, context.settings, limit=wanted.limit, before=wanted.before
        )
    page = page_of(request, context.settings.base_url, wanted, keyset)
    return JSONResponse(page.answer([render_forum(forum) for forum in page.rows]))


async def add_forum(request: Request) -> Response:
    context = context_of(request)
    body = await read_json_object(request)
    _strings(body, {"slug", "name", "summary"})
    for name in ("slug", "name"):
        if name not in body:
            raise Problem(422, f"{name}: required", errors={name: ["required"]})
    try:
        async with context.sessions.begin() as session:
            actor = await create_forum(
                session, context.settings, body["slug"], body["name"], body.get("summary", "")
            )
            answer = render_forum(ForumInfo(actor, None))
    except FediError as error:
        raise _refused(error) from None
    location = f"{context.settings.base_url}/api/v1/forums/{answer['slug']}"
    return JSONResponse(answer, status_code=201, headers={"Location": location})


async def one_forum(request: Request) -> Response:
    context = context_of(request)
    slug = str(request.path_params["slug"])
    try:
        async with context.sessions() as session:
            forum = await forum_info(session, context.settings, slug)
    except FediError as error:
        raise problem_of(error) from None
    return JSONResponse(render_forum(forum))


async def change_forum(request: Request) -> Response:
    """Change the name and/or summary, and archive (``"archived": true``) or reopen the forum."""
    context = context_of(request)
    slug = str(request.path_params["slug"])
    body = await read_json_object(request)
    _strings(body, {"name", "summary", "archived"})
    archived = body.get("archived")
    if "archived" in body and not isinstance(archived, bool):
        raise Problem(
            422, "archived: must be true or false", errors={"archived": ["must be true or false"]}
        )
    try:
        async with context.sessions.begin() as session:
            if "name" in body or "summary" in body:
                await update_forum(
                    session,
                    context.settings,
                    slug,
                    name=body.get("name"),
                    summary=body.get("summary"),
                )
            if archived is True:
                await archive_forum(session, context.settings, slug, context.clock())
            elif archived is False:
                await reopen_forum(session, context.settings, slug)
            answer = render_forum(await forum_info(session, context.settings, slug))
    except FediError as error:
        raise _refused(error) from None
    return JSONResponse(answer)


async def forums_collection(request: Request) -> Response:
    if request.method == "POST":
        return await add_forum(request)
    return await list_forums(request)


async def forum_resource(request: Request) -> Response:
    if request.method == "PATCH":
        return await change_forum(request)
    return await one_forum(request)


READ_OR_ADMIN = {"GET": Access.PUBLIC, "POST": Access.ADMIN, "PATCH": Access.ADMIN}

routes = [
    rule("/api/v1/forums", forums_collection, READ_OR_ADMIN, methods=["GET", "POST"]),
    rule("/api/v1/forums/{slug}", forum_resource, READ_OR_ADMIN, methods=["GET", "PATCH"]),
]
