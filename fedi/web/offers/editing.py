"""Writing an offer: ``/offers/new`` and ``/offers/{id}/edit`` (saved as a draft or published;
refused fields come back with their errors and nothing is stored) and ``/offers/{id}/status``
(the author marks it filled, withdraws it or publishes it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import ConflictError, ForbiddenError, ValidationError
from fedi.instance import context_of
from fedi.partners.document import offer_content_html
from fedi.partners.fields import LAST_MINUTE_DAYS, read_offer
from fedi.partners.offers import OfferView, create_offer, set_status, update_offer
from fedi.web.access import Access, principal_of, rule, signed_in_actor
from fedi.web.offers.choices import offer_choices
from fedi.web.offers.form import ERROR_ORDER, OfferForm, message
from fedi.web.offers.reading import find_offer, offer_page_response
from fedi.web.ui import i18n
from fedi.web.ui.pages import error_page, forbidden_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]


def _form_page(
    request: Request,
    form: OfferForm,
    *,
    offer: OfferView | None,
    status: int = 200,
    preview: bool = False,
) -> Response:
    """The form; with ``preview``, the offer as readers will see its facts and text above it
    (or, when a field is refused, the errors instead)."""
    preview_html = None
    if preview:
        try:
            data = read_offer(form.payload())
        except ValidationError as error:
            form.fail_with(error)
            status = 422
        else:
            locale = i18n.current_locale()
            preview_html = offer_content_html(data, data.description, locale)
    return render(
        request,
        "offers/form.html",
        {
            "form": form,
            "offer": offer,
            "options": offer_choices(),
            "error_order": ERROR_ORDER,
            "last_minute_days": LAST_MINUTE_DAYS,
            "preview_html": preview_html,
        },
        status_code=status,
    )


async def _posted(request: Request) -> tuple[OfferForm, str]:
    async with request.form() as data:
        form = OfferForm.read(data)
        action = data.get("action")
    return form, action if action in ("draft", "publish", "preview") else "draft"


def _done(offer_id: int, status: str, awaiting: bool) -> RedirectResponse:
    notice = "awaiting" if awaiting else status
    return RedirectResponse(f"/offers/{offer_id}?done={notice}", status_code=303)


async def new_offer(request: Request) -> Response:
    if request.method == "GET":
        form = OfferForm()
        form.values.update(purpose="offer", level="project", language=i18n.current_locale())
        return _form_page(request, form, offer=None)
    form, action = await _posted(request)
    if action == "preview":
        return _form_page(request, form, offer=None, preview=True)
    context = context_of(request)
    author = await signed_in_actor(request)
    payload = {**form.payload(), "status": "published" if action == "publish" else "draft"}
    try:
        async with context.sessions.begin() as session:
            offer = await create_offer(
                session, context.settings, author, payload, today=context.clock().date()
            )
            offer_id, status, awaiting = offer.id, offer.status, offer.awaiting_validation
    except ValidationError as error:
        form.fail_with(error)
        return _form_page(request, form, offer=None, status=422)
    return _done(offer_id, status, awaiting)


async def _own(request: Request) -> OfferView | Response:
    found = await find_offer(request)
    if isinstance(found, Response):
        return found
    principal = principal_of(request)
    if principal is None or principal.actor_id != found.author.id or not found.local:
        return forbidden_page(request, i18n.gettext("Only its author can change this offer."))
    if found.status == "withdrawn":
        return _conflict(request)
    return found


def _conflict(request: Request) -> Response:
    return error_page(
        request,
        409,
        i18n.gettext("This offer cannot be changed"),
        i18n.gettext("A withdrawn offer stays as it was."),
    )


async def edit_offer(request: Request) -> Response:
    found = await _own(request)
    if isinstance(found, Response):
        return found
    if request.method == "GET":
        return _form_page(request, OfferForm.of(found.data), offer=found)
    form, action = await _posted(request)
    if action == "preview":
        return _form_page(request, form, offer=found, preview=True)
    context = context_of(request)
    author = await signed_in_actor(request)
    today = context.clock().date()
    try:
        async with context.sessions.begin() as session:
            offer = await update_offer(
                session, context.settings, author, found.id, form.payload(), today=today
            )
            if action == "publish" and offer.status == "draft":
                offer = await set_status(
                    session, context.settings, author, found.id, "published", today=today
                )
                status, awaiting = offer.status, offer.awaiting_validation
            else:
                status, awaiting = "saved", False
    except ValidationError as error:
        form.fail_with(error)
        return _form_page(request, form, offer=found, status=422)
    except ForbiddenError:
        return forbidden_page(request, i18n.gettext("Only its author can change this offer."))
    except ConflictError:
        return _conflict(request)
    return _done(found.id, status, awaiting)


async def change_status(request: Request) -> Response:
    found = await _own(request)
    if isinstance(found, Response):
        return found
    async with request.form() as data:
        wanted = data.get("status")
    context = context_of(request)
    author = await signed_in_actor(request)
    try:
        async with context.sessions.begin() as session:
            offer = await set_status(
                session, context.settings, author, found.id, wanted, today=context.clock().date()
            )
            status, awaiting = offer.status, offer.awaiting_validation
    except ValidationError as error:
        faults = [message(path, messages[0]) for path, messages in error.errors.items()] or [
            message("", str(error))
        ]
        return offer_page_response(
            request,
            found,
            error=i18n.gettext("The offer cannot be published as it is; edit it first."),
            faults=faults,
            status=422,
        )
    except ConflictError:
        return offer_page_response(
            request,
            found,
            error=i18n.gettext("The offer cannot change to that status now."),
            status=409,
        )
    return _done(found.id, status, awaiting)


def routes() -> list[BaseRoute]:
    return [
        rule("/offers/new", new_offer, Access.MEMBER, methods=["GET", "POST"]),
        rule("/offers/{id:int}/edit", edit_offer, Access.MEMBER, methods=["GET", "POST"]),
        rule("/offers/{id:int}/status", change_status, Access.MEMBER, methods=["POST"]),
    ]
