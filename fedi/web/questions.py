"""Asking an expert of the directory a question (``/experts/ask?expert=name@host``: the form,
reached from each entry of ``/experts``), and the conversation that follows
(``/questions/{id}``: the question, the answers in order, a form to answer), for its two
participants only. A refused submission comes back whole, with the error at its field; the use
cases are :mod:`fedi.services.questions`."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import NotFoundError, RateLimitedError, ValidationError
from fedi.instance import context_of
from fedi.services.experts import Expert, find_expert
from fedi.services.notifications import mark_conversation_read
from fedi.services.questions import QuestionConversation, answer, ask_expert, conversation
from fedi.web.access import Access, principal_of, rule, signed_in_actor
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["QUESTION_FIELDS", "routes"]

QUESTION_FIELDS = ("expert", "subject", "message")
NOTICES = ("sent", "answered")


def _said(field: str, text: str) -> str:
    """The service's reason for refusing ``field``, in the reader's language."""
    if "empty" in text:
        if field == "subject":
            return i18n.gettext("Give your question a subject.")
        return i18n.gettext("Write your message.")
    if "characters" in text:
        return i18n.gettext("This text is too long.")
    return i18n.gettext("Check this field.")


def _ask_page(
    request: Request,
    expert: Expert,
    form: FormState,
    *,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = render(
        request,
        "questions/ask.html",
        {"expert": expert, "form": form, "error": error},
        status_code=status,
    )
    response.headers.update(headers or {})
    return response


async def ask_form(request: Request) -> Response:
    context = context_of(request)
    ident = request.query_params.get("expert", "")
    try:
        async with context.sessions() as session:
            expert = await find_expert(session, ident)
    except NotFoundError as error:
        return await not_found_page(request, error)
    return _ask_page(request, expert, FormState({"expert": expert.handle}))


async def ask(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, *QUESTION_FIELDS)
    sender = await signed_in_actor(request)
    payload = {"subject": form.value("subject"), "message": form.value("message")}
    try:
        async with context.sessions() as session:  # kept for the page, should the ask fail
            expert = await find_expert(session, form.value("expert"))
        async with context.sessions.begin() as session:
            row = await ask_expert(
                session, context.settings, sender, expert.actor.uri, payload, now=context.clock()
            )
    except NotFoundError as error:
        return await not_found_page(request, error)
    except ValidationError as error:
        about = None
        for name, messages in error.errors.items():
            if name in ("subject", "message"):
                form.fail(name, _said(name, messages[0]))
            else:
                about = i18n.gettext("You cannot ask yourself a question.")
        return _ask_page(request, expert, form, error=about, status=422)
    except RateLimitedError as error:
        form.fail(
            "message",
            i18n.gettext("You have asked many questions in a short time; try again later."),
        )
        return _ask_page(
            request, expert, form, status=429, headers={"Retry-After": str(error.retry_after)}
        )
    return RedirectResponse(f"/questions/{row.id}?done=sent", status_code=303)


def _question_id(request: Request) -> int | None:
    value: int = request.path_params["id"]
    return value if 0 < value <= MAX_ROW_ID else None


def _page(
    request: Request, talk: QuestionConversation, form: FormState, *, status: int = 200
) -> Response:
    notice = request.query_params.get("done", "")
    return render(
        request,
        "questions/question.html",
        {"talk": talk, "form": form, "notice": notice if notice in NOTICES else None},
        status_code=status,
    )


def _member_id(request: Request) -> int:
    principal = principal_of(request)
    assert principal is not None  # the routes here are for members only
    return principal.member_id


async def question_page(request: Request) -> Response:
    context = context_of(request)
    question_id = _question_id(request)
    actor = await signed_in_actor(request)
    try:
        if question_id is None:
            raise NotFoundError("no such question")
        async with context.sessions.begin() as session:
            talk = await conversation(session, actor, question_id)
            read = await mark_conversation_read(
                session, _member_id(request), talk.root.id, context.clock(), about="question"
            )
    except NotFoundError as error:
        return await not_found_page(request, error)
    principal = principal_of(request)
    if read and principal is not None:  # the navigation's count, already read, drops too
        request.state.principal = replace(principal, unread=max(0, principal.unread - read))
    return _page(request, talk, FormState())


async def reply(request: Request) -> Response:
    context = context_of(request)
    question_id = _question_id(request)
    actor = await signed_in_actor(request)
    form = await read_form(request, "message")
    try:
        if question_id is None:
            raise NotFoundError("no such question")
        async with context.sessions.begin() as session:
            row = await answer(
                session,
                context.settings,
                actor,
                question_id,
                {"message": form.value("message")},
                now=context.clock(),
            )
            root = row.parent_id or row.id
    except NotFoundError as error:
        return await not_found_page(request, error)
    except (ValidationError, RateLimitedError) as error:
        if isinstance(error, ValidationError):
            form.fail("message", _said("message", next(iter(error.errors.values()))[0]))
            status = 422
        else:
            form.fail("message", i18n.gettext("You have sent many answers; try again later."))
            status = 429
        async with context.sessions() as session:
            talk = await conversation(session, actor, question_id or 0)
        return _page(request, talk, form, status=status)
    return RedirectResponse(f"/questions/{root}?done=answered", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/experts/ask", ask_form, Access.MEMBER, methods=["GET"]),
        rule("/experts/ask", ask, Access.MEMBER, methods=["POST"]),
        rule("/questions/{id:int}", question_page, Access.MEMBER, methods=["GET"]),
        rule("/questions/{id:int}/reply", reply, Access.MEMBER, methods=["POST"]),
    ]
