"""The forum pages members read and write in: ``/forums`` (every forum with its count of
threads), ``/forums/{slug}`` (its threads, the most recently active first, and the form that
starts one) and ``/threads/{key}`` (the thread, its replies as a nested tree, the reply form and
"mark as solution" for its author and the moderators). Plain forms, no JavaScript needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.content.threads.reading import ThreadView, forum_thread_counts, list_threads
from fedi.content.threads.replies import ReplyView, read_thread_page
from fedi.content.threads.service import mark_solution, post_reply, start_thread
from fedi.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.services.forums import ForumInfo, forum_info, forum_infos
from fedi.web.access import Access, principal_of, rule, signed_in_actor
from fedi.web.experiences.choices import choices
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import MAX_ROW_ID, forbidden_page, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]

PAGE_SIZE = 20
# A thread page shows this many replies at once, as one tree.
REPLIES_SHOWN = 500
THREAD_FIELDS = ("title", "body", "language")
# What a redirect to the thread's page tells (its query), as a notice.
NOTICES = (
    "started",
    "replied",
    "solved",
    "locked",
    "unlocked",
    "pinned",
    "unpinned",
    "edited",
    "deleted",
)


@dataclass
class Branch:
    """A reply and the replies that answer it, for the nested tree."""

    reply: ReplyView
    children: list[Branch] = field(default_factory=list)


def reply_tree(thread: ThreadView, replies: list[ReplyView]) -> list[Branch]:
    """The replies as a tree under the thread's first post, each level oldest first; a reply
    whose parent is not among them is shown at the top level."""
    branches = {reply.uri: Branch(reply) for reply in replies}
    roots: list[Branch] = []
    for reply in replies:
        parent = branches.get(reply.obj.in_reply_to or "")
        if parent is None or parent is branches[reply.uri]:
            roots.append(branches[reply.uri])
        else:
            parent.children.append(branches[reply.uri])
    return roots


def _offset(request: Request) -> int:
    raw = request.query_params.get("from", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID else 0


def _message(name: str, error: ValidationError) -> str:
    text = str(error)
    if "required" in text:
        return i18n.gettext("This field is required.")
    if "at most" in text:
        return i18n.gettext("This text is too long.")
    if name == "title":
        return i18n.gettext("Write the title as one line of text.")
    if name == "in_reply_to":
        return i18n.gettext("The post you answer is no longer in this thread.")
    if name == "language":
        return i18n.gettext("Choose one of the values offered.")
    return i18n.gettext("The form could not be read; try again.")


def refuse_form(form: FormState, error: ValidationError, fields: tuple[str, ...]) -> None:
    for name in error.errors or {fields[0]: [str(error)]}:
        target = name if name in fields else fields[0]
        form.fail(target, _message(name, error))


async def forum_list(request: Request) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        infos = await forum_infos(session, context.settings)
        counts = await forum_thread_counts(session, [info.actor.id for info in infos])
    return render(request, "forums/list.html", {"forums": infos, "counts": counts})


async def _forum_page(
    request: Request, info: ForumInfo, form: FormState, *, status: int = 200
) -> Response:
    context = context_of(request)
    offset = _offset(request)
    async with context.sessions() as session:
        page = await list_threads(session, info.actor, limit=PAGE_SIZE, offset=offset)
    return render(
        request,
        "forums/forum.html",
        {
            "forum": info,
            "page": page,
            "form": form,
            "options": choices(),
            "error_order": THREAD_FIELDS,
            "deleted": "deleted" in request.query_params,
        },
        status_code=status,
    )


async def _info(request: Request) -> ForumInfo | Response:
    context = context_of(request)
    try:
        async with context.sessions() as session:
            return await forum_info(session, context.settings, str(request.path_params["slug"]))
    except NotFoundError as error:
        return await not_found_page(request, error)


async def forum_page(request: Request) -> Response:
    info = await _info(request)
    if isinstance(info, Response):
        return info
    form = FormState({"language": i18n.current_locale()})
    return await _forum_page(request, info, form)


async def new_thread(request: Request) -> Response:
    info = await _info(request)
    if isinstance(info, Response):
        return info
    form = await read_form(request, *THREAD_FIELDS)
    context = context_of(request)
    author = await signed_in_actor(request)
    try:
        async with context.sessions.begin() as session:
            view = await start_thread(
                session, context.settings, author, str(info.actor.username), form.values
            )
    except ValidationError as error:
        refuse_form(form, error, THREAD_FIELDS)
        return await _forum_page(request, info, form, status=422)
    except ConflictError:
        form.fail("title", i18n.gettext("This forum is archived and takes no new threads."))
        return await _forum_page(request, info, form, status=409)
    return RedirectResponse(f"/threads/{view.key}?started=1", status_code=303)


def _moderates(request: Request, thread: ThreadView) -> bool:
    """Whether the reader may mark the answer: the thread's author or a moderator."""
    principal = principal_of(request)
    if principal is None:
        return False
    return principal.actor_id == thread.author.id or principal.level >= Access.MODERATOR


def path_key(request: Request) -> int | None:
    raw = str(request.path_params["key"])
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID else None


async def _thread_page(
    request: Request,
    key: int,
    form: FormState,
    *,
    status: int = 200,
    reply_to: int | None = None,
    **extra: Any,
) -> Response:
    """The thread's page; ``reply_to`` (a reply's key) fills the form's ``in_reply_to``."""
    context = context_of(request)
    try:
        thread, replies = await read_thread_page(context, key, limit=REPLIES_SHOWN)
        may_mark = thread.row is not None and _moderates(request, thread)
    except NotFoundError as error:
        return await not_found_page(request, error)
    principal = principal_of(request)
    may_moderate = (
        thread.row is not None
        and thread.local
        and principal is not None
        and principal.level >= Access.MODERATOR
    )
    if reply_to is not None:
        chosen = next((r for r in replies.rows if r.key == reply_to), None)
        if chosen is not None:
            form.values["in_reply_to"] = chosen.uri
    answering = next((r for r in replies.rows if r.uri == form.value("in_reply_to")), None)
    return render(
        request,
        "forums/thread.html",
        {
            "thread": thread,
            "tree": reply_tree(thread, replies.rows),
            "total": replies.total,
            "shown": len(replies.rows),
            "form": form,
            "answering": answering,
            "solution_key": next((r.key for r in replies.rows if r.solution), None),
            "may_mark": may_mark,
            "may_moderate": may_moderate,
            "reader": principal.actor_id if principal is not None else None,
            "error_order": ("body",),
            "notice": None,
            **extra,
        },
        status_code=status,
    )


async def thread_page(request: Request) -> Response:
    key = path_key(request)
    if key is None:
        return await not_found_page(request, NotFoundError("no such thread"))
    wanted = request.query_params.get("reply_to", "")
    reply_to = int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) < 11 else None
    notice = next((k for k in NOTICES if k in request.query_params), None)
    return await _thread_page(request, key, FormState(), reply_to=reply_to, notice=notice)


async def reply_page(request: Request) -> Response:
    key = path_key(request)
    if key is None:
        return await not_found_page(request, NotFoundError("no such thread"))
    form = await read_form(request, "body", "in_reply_to")
    context = context_of(request)
    author = await signed_in_actor(request)
    fields = {"body": form.value("body"), "language": i18n.current_locale()}
    if form.value("in_reply_to"):
        fields["in_reply_to"] = form.value("in_reply_to")
    try:
        async with context.sessions.begin() as session:
            reply = await post_reply(session, context.settings, author, key, fields)
    except NotFoundError as error:
        return await not_found_page(request, error)
    except ValidationError as error:
        refuse_form(form, error, ("body", "in_reply_to"))
        return await _thread_page(request, key, form, status=422)
    except ConflictError:
        return await _thread_page(request, key, FormState(), status=409, notice="is_locked")
    return RedirectResponse(f"/threads/{key}?replied=1#reply-{reply.id}", status_code=303)


async def solution_page(request: Request) -> Response:
    key = path_key(request)
    if key is None:
        return await not_found_page(request, NotFoundError("no such thread"))
    form = await read_form(request, "reply")
    context = context_of(request)
    actor = await signed_in_actor(request)
    try:
        async with context.sessions.begin() as session:
            await mark_solution(session, context.settings, actor, key, form.value("reply"))
    except NotFoundError as error:
        return await not_found_page(request, error)
    except (ForbiddenError, ConflictError):
        return forbidden_page(
            request, i18n.gettext("Only the thread's author or a moderator marks its answer.")
        )
    except ValidationError:
        return await _thread_page(request, key, FormState(), status=422, notice="not_a_reply")
    return RedirectResponse(f"/threads/{key}?solved=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/forums", forum_list, Access.PUBLIC, methods=["GET"]),
        rule("/forums/{slug}", forum_page, Access.PUBLIC, methods=["GET"]),
        rule("/forums/{slug}/threads", new_thread, Access.MEMBER, methods=["POST"]),
        rule("/threads/{key}", thread_page, Access.PUBLIC, methods=["GET"]),
        rule("/threads/{key}/replies", reply_page, Access.MEMBER, methods=["POST"]),
        rule("/threads/{key}/solution", solution_page, Access.MEMBER, methods=["POST"]),
    ]
