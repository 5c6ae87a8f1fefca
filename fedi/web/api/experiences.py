"""``/api/v1/experiences`` (list with filters, create) and ``/api/v1/experiences/{id}`` (read,
change, delete), the same use cases and checks as the pages; ``POST /api/v1/media`` uploads a
file that an experience names in ``attachments``.

``{id}`` is the last segment of the experience's ActivityPub id (``/objects/<id>``).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.content.experiences.fields import KINDS
from fedi.content.experiences.service import (
    ExperienceFilters,
    ExperienceGone,
    ExperienceView,
    create_experience,
    delete_experience,
    get_experience,
    list_experiences,
    update_experience,
)
from fedi.errors import ValidationError
from fedi.instance import context_of
from fedi.media.service import media_url, store_upload
from fedi.vocabulary import vocabulary
from fedi.web.access import Access, check, principal_of, rule, signed_in_actor
from fedi.web.api.body import read_json_object
from fedi.web.api.paging import page_of, page_request
from fedi.web.api.people import actor_summary
from fedi.web.api.problems import Problem
from fedi.web.experiences.reading import KEY

__all__ = ["render_experience", "routes"]

MAX_EXPERIENCE_BODY = 1024 * 1024
_CODE_FILTERS = (
    ("country", "countries"),
    ("objective", "objectives"),
    ("theme", "themes"),
    ("target_group", "target-groups"),
)


def _time(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat(timespec="seconds").replace("+00:00", "Z"))


def render_experience(view: ExperienceView) -> dict[str, Any]:
    fields = view.data.as_fields()
    fields.pop("attachments")
    return {
        "id": view.uri,
        "url": view.url,
        "origin": view.author.domain,
        "local": view.local,
        **fields,
        "body_html": view.body_html(),
        "attachments": [
            {
                "id": item["id"],
                "type": item["type"],
                "media_type": item["mediaType"],
                "url": item["url"],
                "description": item.get("name", ""),
            }
            for item in view.attachments
        ],
        "author": actor_summary(view.author),
        "published": _time(view.published),
        "updated": _time(view.updated),
    }


def _filters(request: Request) -> ExperienceFilters:
    """The list's filters; an unknown code is a 422 naming the filter and the allowed values."""
    query = request.query_params
    errors: dict[str, list[str]] = {}
    found: dict[str, str | None] = {}
    for name, vocabulary_name in _CODE_FILTERS:
        value = query.get(name)
        found[name] = None
        if value:
            try:
                found[name] = vocabulary(vocabulary_name).check(value, name)
            except ValidationError as error:
                errors[name] = [str(error)]
    kind = query.get("kind")
    if kind and kind not in KINDS:
        errors["kind"] = [f"{kind[:50]!r} is not a known value; allowed values: {', '.join(KINDS)}"]
    q = query.get("q", "")
    if len(q) > 200:
        errors["q"] = ["must be at most 200 characters"]
    tag = query.get("tag", "")
    if len(tag) > 65:
        errors["tag"] = ["must be at most 64 characters"]
    for name, text in (("q", q), ("tag", tag)):
        if any(ord(c) < 32 for c in text):
            errors.setdefault(name, []).append("must not contain control characters")
    if errors:
        first, messages = next(iter(errors.items()))
        raise Problem(422, f"{first}: {messages[0]}"[:600], errors=errors)
    return ExperienceFilters(
        q=q or None,
        country=found["country"],
        objective=found["objective"],
        theme=found["theme"],
        target_group=found["target_group"],
        kind=kind or None,
        tag=tag or None,
    )


async def list_all(request: Request) -> Response:
    context = context_of(request)
    filters = _filters(request)
    wanted = page_request(request)
    async with context.sessions() as session:
        keyset = await list_experiences(
            session, context.settings, filters, limit=wanted.limit, before=wanted.before
        )
    page = page_of(request, context.settings.base_url, wanted, keyset)
    return JSONResponse(page.answer([render_experience(view) for view in page.rows]))


async def create(request: Request) -> Response:
    context = context_of(request)
    author = await signed_in_actor(request)
    body = await read_json_object(request, limit=MAX_EXPERIENCE_BODY)
    async with context.sessions.begin() as session:
        view = await create_experience(session, context.settings, author, body)
    return JSONResponse(
        render_experience(view),
        status_code=201,
        headers={"Location": f"{context.settings.base_url}/api/v1/experiences/{view.key}"},
    )


def _key(request: Request) -> str:
    key = str(request.path_params["id"])
    if not KEY.fullmatch(key):
        raise Problem(404, "no such experience")
    return key


async def read(request: Request) -> Response:
    context = context_of(request)
    key = _key(request)
    try:
        async with context.sessions() as session:
            view = await get_experience(session, context.settings, key)
    except ExperienceGone as gone:
        raise Problem(410, str(gone)) from None
    return JSONResponse(render_experience(view))


async def change(request: Request) -> Response:
    context = context_of(request)
    key = _key(request)
    author = await signed_in_actor(request)
    try:
        if request.method == "DELETE":
            async with context.sessions.begin() as session:
                await delete_experience(session, context.settings, author, key)
            return Response(status_code=204)
        patch = await read_json_object(request, limit=MAX_EXPERIENCE_BODY)
        async with context.sessions.begin() as session:
            view = await update_experience(session, context.settings, author, key, patch)
    except ExperienceGone as gone:
        raise Problem(410, str(gone)) from None
    return JSONResponse(render_experience(view))


# The parts of an upload's form; any other part is refused, as the JSON bodies refuse unknown keys.
MEDIA_FIELDS = frozenset({"file", "description"})


async def upload_media(request: Request) -> Response:
    """``multipart/form-data`` with ``file`` and ``description`` (an image's alt text)."""
    context = context_of(request)
    author = await signed_in_actor(request)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "multipart/form-data":
        raise Problem(415, "send the file as multipart/form-data")
    limit = context.settings.media_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise Problem(413, f"the file is larger than {limit} bytes")
    async with request.form(max_part_size=limit + 1024, max_files=1, max_fields=5) as form:
        unknown = sorted(set(form.keys()) - MEDIA_FIELDS)
        if unknown:
            raise Problem(
                422,
                f"unknown field: {unknown[0]} (an upload takes file and description)",
                errors={name: ["is not a field of an upload"] for name in unknown},
            )
        upload = form.get("file")
        description = form.get("description", "")
        if not isinstance(upload, UploadFile):
            raise Problem(422, "file: is required", errors={"file": ["is required"]})
        data = await upload.read(limit + 1)
    if len(data) > limit:
        raise Problem(413, f"the file is larger than {limit} bytes")
    async with context.sessions.begin() as session:
        row = store_upload(
            session,
            context.settings,
            author,
            data,
            description if isinstance(description, str) else "",
        )
        await session.flush()
        answer: dict[str, Any] = {
            "id": row.name,
            "type": "Image" if row.media_type.startswith("image/") else "Document",
            "media_type": row.media_type,
            "url": media_url(context.settings, row.name),
            "description": row.description,
            "size": row.size,
        }
    return JSONResponse(answer, status_code=201, headers={"Location": answer["url"]})


async def experiences(request: Request) -> Response:
    """Reading is open to anyone, publishing to members (checked by the access rules' own
    :func:`check`, so that one route answers both methods and its 405 names both)."""
    if request.method == "POST":
        check(Access.MEMBER, principal_of(request))
        return await create(request)
    return await list_all(request)


async def experience(request: Request) -> Response:
    if request.method == "GET":
        return await read(request)
    check(Access.MEMBER, principal_of(request))
    return await change(request)


routes = [
    rule("/api/v1/experiences", experiences, Access.PUBLIC, methods=["GET", "POST"]),
    rule("/api/v1/experiences/{id}", experience, Access.PUBLIC, methods=["GET", "PATCH", "DELETE"]),
    rule("/api/v1/media", upload_media, Access.MEMBER, methods=["POST"]),
]
