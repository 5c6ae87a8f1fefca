"""Writing an offer: ``/offers/new`` and ``/offers/{id}/edit`` (saved as a draft or published;
refused fields come back with their errors and nothing is stored) and ``/offers/{id}/status``
(the author marks it filled, withdraws it or publishes it)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import ConflictError, ForbiddenError, ValidationError
from fedi.instance import context_of
from fedi.partners.fields import LAST_MINUTE_DAYS, MAX_OBJECTIVES, OfferData
from fedi.partners.offers import OfferView, create_offer, set_status, update_offer
from fedi.web.access import Access, principal_of, rule, signed_in_actor
from fedi.web.offers.choices import offer_choices
from fedi.web.offers.reading import find_offer, offer_page_response
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState
from fedi.web.ui.pages import error_page, forbidden_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]

_TEXTS = (
    "purpose", "level", "language", "title", "summary", "description", "organisation_name",
    "organisation_type", "organisation_country", "organisation_city", "partners_needed",
    "call_deadline", "programme", "last_minute",
)  # fmt: skip
_LISTS = (
    "cooperation", "working_languages", "objectives", "themes", "target_groups",
    "countries_sought", "organisation_types_sought", "roles_sought",
)  # fmt: skip
# The service's field paths, by the form's names where they differ.
_PATHS = {
    "organisation.name": "organisation_name",
    "organisation.type": "organisation_type",
    "organisation.country": "organisation_country",
    "organisation.city": "organisation_city",
    "funding.call_deadline": "call_deadline",
    "funding.programme": "programme",
    "expires": "call_deadline",
}
# The order of the fields on the form, for the error summary.
ERROR_ORDER = [
    "purpose", "level", "cooperation", "title", "summary", "description", "language",
    "working_languages", "objectives", "themes", "target_groups", "organisation_name",
    "organisation_type", "organisation_country", "organisation_city", "countries_sought",
    "organisation_types_sought", "roles_sought", "partners_needed", "call_deadline",
    "last_minute", "programme",
]  # fmt: skip


class OfferForm(FormState):
    """The form's values, the list fields' codes apart."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[str, list[str]] = {name: [] for name in _LISTS}

    @classmethod
    def of(cls, data: OfferData) -> OfferForm:
        form = cls()
        org = data.organisation
        form.values.update(
            purpose=data.purpose,
            level=data.level,
            language=data.language,
            title=data.title,
            summary=data.summary,
            description=data.description,
            organisation_name=str(org["name"] or ""),
            organisation_type=str(org["type"] or ""),
            organisation_country=str(org["country"] or ""),
            organisation_city=str(org["city"] or ""),
            partners_needed="" if data.partners_needed is None else str(data.partners_needed),
            call_deadline=data.call_deadline.isoformat(),
            programme=str(data.funding.get("programme") or ""),
            last_minute="yes" if data.last_minute else "",
        )
        for name in _LISTS:
            form.lists[name] = list(data.codes.get(name, []))
        return form

    @classmethod
    def read(cls, data: FormData) -> OfferForm:
        form = cls()
        for name in _TEXTS:
            value = data.get(name)
            form.values[name] = value if isinstance(value, str) else ""
        for name in _LISTS:
            form.lists[name] = [v for v in data.getlist(name) if isinstance(v, str)]
        return form

    def payload(self) -> dict[str, Any]:
        """The offer in the service's shape (API.md "Partner offers")."""
        needed: object = self.value("partners_needed").strip()
        if isinstance(needed, str) and needed.isascii() and needed.isdigit():
            needed = int(needed)
        return {
            "purpose": self.value("purpose"),
            "level": self.value("level") or "project",
            "language": self.value("language"),
            "title": self.value("title"),
            "summary": self.value("summary"),
            "description": self.value("description"),
            **{name: list(values) for name, values in self.lists.items()},
            "organisation": {
                "name": self.value("organisation_name"),
                "type": self.value("organisation_type"),
                "country": self.value("organisation_country"),
                "city": self.value("organisation_city"),
            },
            "partners_needed": needed or None,
            "funding": {
                "programme": self.value("programme"),
                "call_deadline": self.value("call_deadline").strip(),
            },
            "last_minute": self.value("last_minute") == "yes",
        }

    def fail_with(self, error: ValidationError) -> None:
        """Show each refused field's error next to it, in the reader's language."""
        for path, messages in error.errors.items():
            name = _PATHS.get(path, path)
            if name in _TEXTS or name in _LISTS:
                self.fail(name, _message(messages[0]))
            else:
                self.fail("title", i18n.gettext("The form could not be read; try again."))


def _message(message: str) -> str:
    """The service's reason for refusing a field, said in the reader's language."""
    if "is required" in message:
        return i18n.gettext("This field is required.")
    if "characters" in message and "at most" in message:
        return i18n.gettext("This text is too long.")
    if "control characters" in message:
        return i18n.gettext("This text holds characters that cannot be stored; remove them.")
    if "whole number" in message or "between" in message:
        return i18n.gettext("Enter a whole number from 1 to 100.")
    if "must be a date" in message:
        return i18n.gettext("Enter the date as YYYY-MM-DD.")
    if "in the future" in message:
        return i18n.gettext("The call deadline has passed; publish only offers for open calls.")
    if "last_minute" in message:
        return i18n.gettext(
            "The call closes in less than %(days)s days: tick “Last-minute” to publish it.",
            days=LAST_MINUTE_DAYS,
        )
    if "at least one ESF+ objective" in message:
        return i18n.gettext("Choose at least one ESF+ objective to publish the offer.")
    if "objectives" in message and "at most" in message:
        return i18n.gettext("Choose at most %(num)s objectives.", num=MAX_OBJECTIVES)
    return i18n.gettext("Choose one of the values offered.")


def _form_page(
    request: Request, form: OfferForm, *, offer: OfferView | None, status: int = 200
) -> Response:
    return render(
        request,
        "offers/form.html",
        {
            "form": form,
            "offer": offer,
            "options": offer_choices(),
            "error_order": ERROR_ORDER,
            "last_minute_days": LAST_MINUTE_DAYS,
        },
        status_code=status,
    )


async def _posted(request: Request) -> tuple[OfferForm, str]:
    async with request.form() as data:
        form = OfferForm.read(data)
        action = data.get("action")
    return form, action if action in ("draft", "publish") else "draft"


def _done(offer_id: int, status: str, awaiting: bool) -> RedirectResponse:
    notice = "awaiting" if awaiting else status
    return RedirectResponse(f"/offers/{offer_id}?done={notice}", status_code=303)


async def new_offer(request: Request) -> Response:
    if request.method == "GET":
        form = OfferForm()
        form.values.update(purpose="offer", level="project", language=i18n.current_locale())
        return _form_page(request, form, offer=None)
    form, action = await _posted(request)
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
        faults = [_message(messages[0]) for messages in error.errors.values()] or [
            _message(str(error))
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
