"""The admins' forums page: create forums, change name and summary, archive and reopen them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.services.forums import (
    MAX_NAME,
    MAX_SUMMARY,
    archive_forum,
    create_forum,
    forum_info,
    forum_infos,
    reopen_forum,
    update_forum,
)
from fedi.web.access import Access, rule
from fedi.web.redirects import local_url
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import not_found_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]

FIELDS = ("slug", "name", "summary")


def _message(field: str) -> str:
    """The form's message for a value the forums service refused, one per field."""
    if field == "slug":
        return i18n.gettext(
            "Use 1 to 30 lower-case letters, digits or underscores that no account here uses"
        )
    if field == "summary":
        return i18n.gettext(
            "Write the summary as plain text of at most %(max)s characters", max=MAX_SUMMARY
        )
    return i18n.gettext(
        "Give the forum a name of one line, at most %(max)s characters", max=MAX_NAME
    )


def _refused(form: FormState, error: ValidationError | ConflictError) -> None:
    if isinstance(error, ConflictError):
        form.fail("slug", i18n.gettext("This slug is taken: choose another"))
        return
    for field in error.errors or {"name": []}:
        form.fail(field if field in FIELDS else "name", _message(field))


async def _list_page(request: Request, status: int = 200, **extra: Any) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        forums = await forum_infos(session, context.settings)
    return render(
        request,
        "forums/admin.html",
        {
            "forums": forums,
            "form": extra.pop("form", FormState()),
            "max_name": MAX_NAME,
            "max_summary": MAX_SUMMARY,
            "done": request.query_params.get("done", ""),
        },
        status_code=status,
    )


async def forums_page(request: Request) -> Response:
    return await _list_page(request)


def _back(request: Request, path: str, **query: str) -> Response:
    settings = context_of(request).settings
    url = local_url(settings.base_url, path, urlencode(query).encode())
    return RedirectResponse(url, status_code=303)


async def create(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, *FIELDS)
    try:
        async with context.sessions.begin() as session:
            await create_forum(
                session,
                context.settings,
                form.value("slug"),
                form.value("name"),
                form.value("summary"),
            )
    except (ValidationError, ConflictError) as error:
        _refused(form, error)
        return await _list_page(request, 422, form=form)
    return _back(request, "/admin/forums", done="created")


async def _edit_page(
    request: Request, slug: str, status: int = 200, form: FormState | None = None
) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        try:
            forum = await forum_info(session, context.settings, slug)
        except NotFoundError as error:
            return await not_found_page(request, error)
    if form is None:
        form = FormState({"name": forum.actor.display_name, "summary": forum.actor.summary})
    return render(
        request,
        "forums/admin_edit.html",
        {
            "forum": forum,
            "form": form,
            "max_name": MAX_NAME,
            "max_summary": MAX_SUMMARY,
            "saved": "saved" in request.query_params,
        },
        status_code=status,
    )


async def edit_page(request: Request) -> Response:
    return await _edit_page(request, str(request.path_params["slug"]))


async def save(request: Request) -> Response:
    context = context_of(request)
    slug = str(request.path_params["slug"])
    form = await read_form(request, "name", "summary")
    try:
        async with context.sessions.begin() as session:
            forum = await update_forum(
                session,
                context.settings,
                slug,
                name=form.value("name"),
                summary=form.value("summary"),
            )
            slug = forum.username
    except NotFoundError as error:
        return await not_found_page(request, error)
    except ValidationError as error:
        _refused(form, error)
        return await _edit_page(request, slug, 422, form)
    return _back(request, f"/admin/forums/{slug}", saved="1")


async def archive(request: Request) -> Response:
    context = context_of(request)
    try:
        async with context.sessions.begin() as session:
            forum = await archive_forum(
                session, context.settings, str(request.path_params["slug"]), context.clock()
            )
    except NotFoundError as error:
        return await not_found_page(request, error)
    return _back(request, "/admin/forums", done="archived", forum=forum.actor.username)


async def reopen(request: Request) -> Response:
    context = context_of(request)
    try:
        async with context.sessions.begin() as session:
            forum = await reopen_forum(session, context.settings, str(request.path_params["slug"]))
    except NotFoundError as error:
        return await not_found_page(request, error)
    return _back(request, "/admin/forums", done="reopened", forum=forum.actor.username)


def routes() -> list[BaseRoute]:
    return [
        rule("/admin/forums", forums_page, Access.ADMIN, methods=["GET"]),
        rule("/admin/forums", create, Access.ADMIN, methods=["POST"]),
        rule("/admin/forums/{slug}", edit_page, Access.ADMIN, methods=["GET"]),
        rule("/admin/forums/{slug}", save, Access.ADMIN, methods=["POST"]),
        rule("/admin/forums/{slug}/archive", archive, Access.ADMIN, methods=["POST"]),
        rule("/admin/forums/{slug}/reopen", reopen, Access.ADMIN, methods=["POST"]),
    ]
