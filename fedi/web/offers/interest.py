"""Expressing interest in an offer from its page (``POST /offers/{id}/interest``), and the
conversation that follows (``/interests/{id}``: the expression of interest, the answers, a form
to answer), for its two participants only. A refused submission comes back whole, with the
error at its field; the use cases are :mod:`fedi.partners.interest`."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import NotFoundError, RateLimitedError, ValidationError
from fedi.instance import context_of
from fedi.partners.interest import Conversation, answer, conversation, express_interest
from fedi.partners.offers import OfferView
from fedi.services.notifications import mark_conversation_read
from fedi.web.access import Access, principal_of, rule, signed_in_actor
from fedi.web.offers.choices import offer_choices
from fedi.web.offers.reading import find_offer, offer_page_response
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["INTEREST_FIELDS", "routes"]

INTEREST_FIELDS = ("message", "organisation_name", "organisation_type", "organisation_country")
_FIELD_OF = {
    "message": "message",
    "organisation.name": "organisation_name",
    "organisation.type": "organisation_type",
    "organisation.country": "organisation_country",
}
NOTICES = ("sent", "answered")


def _said(field: str, text: str) -> str:
    """The service's reason for refusing ``field``, in the reader's language."""
    if "empty" in text:
        if field == "message":
            return i18n.gettext("Write your message.")
        return i18n.gettext("Give your organisation's name.")
    if "organisation's name" in text:
        return i18n.gettext("Give your organisation's name.")
    if "characters" in text:
        return i18n.gettext("This text is too long.")
    return i18n.gettext("Choose one of the values offered.")


def _refusal(text: str) -> str:
    if "own offer" in text:
        return i18n.gettext("This is your own offer.")
    return i18n.gettext("This offer is no longer open: it is filled, withdrawn or expired.")


def _fail(form: FormState, error: ValidationError) -> str | None:
    """Put each refused field's reason at its field; the reason about the offer itself, if
    any, is returned for the top of the page."""
    about_offer = None
    for name, messages in error.errors.items():
        field = _FIELD_OF.get(name)
        if field is not None:
            form.fail(field, _said(name, messages[0]))
        else:
            about_offer = _refusal(messages[0])
    if not form.errors and about_offer is None:
        about_offer = _refusal(str(error))
    return about_offer


async def express(request: Request) -> Response:
    context = context_of(request)
    found = await find_offer(request)
    if isinstance(found, Response):
        return found
    offer: OfferView = found
    form = await read_form(request, *INTEREST_FIELDS)
    sender = await signed_in_actor(request)
    values = form.values
    payload = {
        "message": values["message"],
        "organisation": {
            "name": values["organisation_name"],
            "type": values["organisation_type"] or None,
            "country": values["organisation_country"] or None,
        },
    }
    try:
        async with context.sessions.begin() as session:
            row = await express_interest(
                session, context.settings, sender, offer.uri, payload, now=context.clock()
            )
    except ValidationError as error:
        about_offer = _fail(form, error)
        return offer_page_response(request, offer, error=about_offer, interest=form, status=422)
    except RateLimitedError as error:
        form.fail("message", _too_many())
        return offer_page_response(
            request,
            offer,
            interest=form,
            status=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except NotFoundError as error:
        return await not_found_page(request, error)
    return RedirectResponse(f"/interests/{row.id}?done=sent", status_code=303)


def _too_many() -> str:
    return i18n.gettext(
        "You have sent many expressions of interest in a short time, or one for this offer "
        "today; try again later."
    )


def _interest_id(request: Request) -> int | None:
    value: int = request.path_params["id"]
    return value if 0 < value <= MAX_ROW_ID else None


def _page(request: Request, talk: Conversation, form: FormState, *, status: int = 200) -> Response:
    notice = request.query_params.get("done", "")
    return render(
        request,
        "offers/interest.html",
        {
            "talk": talk,
            "form": form,
            "options": offer_choices(),
            "notice": notice if notice in NOTICES else None,
        },
        status_code=status,
    )


async def interest_page(request: Request) -> Response:
    context = context_of(request)
    interest_id = _interest_id(request)
    actor = await signed_in_actor(request)
    try:
        if interest_id is None:
            raise NotFoundError("no such interest message")
        async with context.sessions.begin() as session:
            talk = await conversation(session, actor, interest_id)
            read = await mark_conversation_read(
                session, _member_id(request), talk.root.id, context.clock()
            )
    except NotFoundError as error:
        return await not_found_page(request, error)
    principal = principal_of(request)
    if read and principal is not None:  # the navigation's count, already read, drops too
        request.state.principal = replace(principal, unread=max(0, principal.unread - read))
    return _page(request, talk, FormState())


def _member_id(request: Request) -> int:
    """The signed-in member's id (the routes here are for members only)."""
    principal = principal_of(request)
    assert principal is not None
    return principal.member_id


async def reply(request: Request) -> Response:
    context = context_of(request)
    interest_id = _interest_id(request)
    actor = await signed_in_actor(request)
    form = await read_form(request, "message")
    try:
        if interest_id is None:
            raise NotFoundError("no such interest message")
        async with context.sessions.begin() as session:
            row = await answer(
                session,
                context.settings,
                actor,
                interest_id,
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
            talk = await conversation(session, actor, interest_id or 0)
        return _page(request, talk, form, status=status)
    return RedirectResponse(f"/interests/{root}?done=answered", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/offers/{id:int}/interest", express, Access.MEMBER, methods=["POST"]),
        rule("/interests/{id:int}", interest_page, Access.MEMBER, methods=["GET"]),
        rule("/interests/{id:int}/reply", reply, Access.MEMBER, methods=["POST"]),
    ]
