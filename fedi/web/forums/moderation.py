"""What moderators and authors do on a thread's page: lock and unlock it, pin and unpin it
(moderators), edit a thread or a reply (``/threads/{key}/edit``, ``/replies/{key}/edit``: its
author), delete one (its author) or remove it (a moderator). Plain forms and redirects."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.content.threads.editing import delete_reply, delete_thread, edit_reply, edit_thread
from fedi.content.threads.moderation import find_reply, set_locked, set_pinned
from fedi.content.threads.reading import find_thread
from fedi.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.web.access import Access, rule, signed_in_actor
from fedi.web.experiences.choices import choices
from fedi.web.forums.threads import THREAD_FIELDS, path_key, refuse_form
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import forbidden_page, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]


async def _missing(request: Request) -> Response:
    return await not_found_page(request, NotFoundError("no such thread"))


async def _toggle(request: Request, change: Any, field: str, notice: tuple[str, str]) -> Response:
    key = path_key(request)
    if key is None:
        return await _missing(request)
    form = await read_form(request, field)
    on = form.value(field) == "1"
    context = context_of(request)
    actor = await signed_in_actor(request)
    try:
        async with context.sessions.begin() as session:
            await change(session, context.settings, actor, key, on)
    except NotFoundError as error:
        return await not_found_page(request, error)
    except (ForbiddenError, ConflictError):
        return forbidden_page(request, i18n.gettext("Only a moderator does this."))
    return RedirectResponse(f"/threads/{key}?{notice[0 if on else 1]}=1", status_code=303)


async def lock_page(request: Request) -> Response:
    return await _toggle(request, set_locked, "locked", ("locked", "unlocked"))


async def pin_page(request: Request) -> Response:
    return await _toggle(request, set_pinned, "pinned", ("pinned", "unpinned"))


async def delete_thread_page(request: Request) -> Response:
    key = path_key(request)
    if key is None:
        return await _missing(request)
    await read_form(request)
    context = context_of(request)
    actor = await signed_in_actor(request)
    try:
        async with context.sessions.begin() as session:
            thread = await find_thread(session, key)
            forum = thread.forum.username if thread.forum is not None else None
            await delete_thread(session, context.settings, actor, key)
    except NotFoundError as error:
        return await not_found_page(request, error)
    except (ForbiddenError, ConflictError):
        return forbidden_page(
            request, i18n.gettext("Only its author or a moderator deletes a post.")
        )
    return RedirectResponse(f"/forums/{forum}?deleted=1", status_code=303)


async def delete_reply_page(request: Request) -> Response:
    key = path_key(request)
    if key is None:
        return await _missing(request)
    await read_form(request)
    context = context_of(request)
    actor = await signed_in_actor(request)
    try:
        async with context.sessions.begin() as session:
            thread = await delete_reply(session, context.settings, actor, key)
    except NotFoundError as error:
        return await not_found_page(request, error)
    except (ForbiddenError, ConflictError):
        return forbidden_page(
            request, i18n.gettext("Only its author or a moderator deletes a post.")
        )
    return RedirectResponse(f"/threads/{thread.key}?deleted=1", status_code=303)


async def edit_thread_page(request: Request) -> Response:
    key = path_key(request)
    if key is None:
        return await _missing(request)
    context = context_of(request)
    actor = await signed_in_actor(request)
    try:
        async with context.sessions() as session:
            thread = await find_thread(session, key)
    except NotFoundError as error:
        return await not_found_page(request, error)
    if thread.author.id != actor.id or not thread.local:
        return forbidden_page(request, i18n.gettext("Only its author edits a post."))
    if request.method == "GET":
        form = FormState(
            {
                "title": thread.title,
                "body": thread.obj.source or "",
                "language": thread.obj.language or i18n.current_locale(),
            }
        )
        return _edit_form(request, form, f"/threads/{key}/edit", thread=True)
    form = await read_form(request, *THREAD_FIELDS)
    try:
        async with context.sessions.begin() as session:
            await edit_thread(session, context.settings, actor, key, form.values)
    except ValidationError as error:
        refuse_form(form, error, THREAD_FIELDS)
        return _edit_form(request, form, f"/threads/{key}/edit", thread=True, status=422)
    except (ForbiddenError, ConflictError):
        return forbidden_page(request, i18n.gettext("Only its author edits a post."))
    return RedirectResponse(f"/threads/{key}?edited=1", status_code=303)


async def edit_reply_page(request: Request) -> Response:
    key = path_key(request)
    if key is None:
        return await _missing(request)
    context = context_of(request)
    actor = await signed_in_actor(request)
    try:
        async with context.sessions() as session:
            reply, thread = await find_reply(session, key)
    except NotFoundError as error:
        return await not_found_page(request, error)
    if reply.attributed_to_id != actor.id or not reply.local:
        return forbidden_page(request, i18n.gettext("Only its author edits a post."))
    action = f"/replies/{key}/edit"
    if request.method == "GET":
        form = FormState({"body": reply.source or "", "language": reply.language or "en"})
        return _edit_form(request, form, action, thread=False)
    form = await read_form(request, "body")
    fields = {"body": form.value("body"), "language": reply.language or i18n.current_locale()}
    try:
        async with context.sessions.begin() as session:
            await edit_reply(session, context.settings, actor, key, fields)
    except ValidationError as error:
        refuse_form(form, error, ("body",))
        return _edit_form(request, form, action, thread=False, status=422)
    except (ForbiddenError, ConflictError):
        return forbidden_page(request, i18n.gettext("Only its author edits a post."))
    return RedirectResponse(f"/threads/{thread.key}?edited=1#reply-{key}", status_code=303)


def _edit_form(
    request: Request, form: FormState, action: str, *, thread: bool, status: int = 200
) -> Response:
    return render(
        request,
        "forums/edit.html",
        {
            "form": form,
            "action": action,
            "editing_thread": thread,
            "options": choices(),
            "error_order": THREAD_FIELDS if thread else ("body",),
        },
        status_code=status,
    )


def routes() -> list[BaseRoute]:
    return [
        rule("/threads/{key}/lock", lock_page, Access.MODERATOR, methods=["POST"]),
        rule("/threads/{key}/pin", pin_page, Access.MODERATOR, methods=["POST"]),
        rule("/threads/{key}/delete", delete_thread_page, Access.MEMBER, methods=["POST"]),
        rule("/threads/{key}/edit", edit_thread_page, Access.MEMBER, methods=["GET", "POST"]),
        rule("/replies/{key}/delete", delete_reply_page, Access.MEMBER, methods=["POST"]),
        rule("/replies/{key}/edit", edit_reply_page, Access.MEMBER, methods=["GET", "POST"]),
    ]
