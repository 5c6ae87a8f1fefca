"""``/offers`` (the published offers, newest first, paged) and ``/offers/{id}`` (one offer in the
reader's language where a translation exists; a draft only for its author and the moderators)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from fedi.content.markdown import render_markdown
from fedi.errors import NotFoundError
from fedi.instance import context_of
from fedi.partners.interest import sender_defaults
from fedi.partners.offers import OfferFilters, OfferView, list_offers, view_offer
from fedi.web.access import Access, principal_of, rule, signed_in_actor
from fedi.web.offers.choices import offer_choices, status_label
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["find_offer", "offer_page_response", "routes"]

PAGE_SIZE = 20
# Statuses that anyone may see; the others only the author and the moderators.
_PUBLIC = ("published", "filled", "expired")
NOTICES = ("draft", "published", "awaiting", "saved", "filled", "withdrawn")


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID else None


async def offer_list(request: Request) -> Response:
    context = context_of(request)
    async with context.sessions() as session:
        page = await list_offers(session, OfferFilters(), limit=PAGE_SIZE, before=_before(request))
    return render(
        request,
        "offers/list.html",
        {"page": page, "options": offer_choices(), "today": context.clock().date()},
    )


def _may_see(request: Request, offer: OfferView) -> bool:
    if offer.status in _PUBLIC:
        return True
    principal = principal_of(request)
    if principal is None:
        return False
    return principal.actor_id == offer.author.id or principal.level >= Access.MODERATOR


async def find_offer(request: Request) -> OfferView | Response:
    """The offer of the path if the reader may see it, else the 404 page (a draft of someone
    else is not said to exist)."""
    context = context_of(request)
    offer_id = int(request.path_params["id"])
    try:
        if offer_id > MAX_ROW_ID:
            raise NotFoundError("no such offer")
        async with context.sessions() as session:
            found = await view_offer(session, offer_id)
    except NotFoundError as error:
        return await not_found_page(request, error)
    if not _may_see(request, found):
        return await not_found_page(request, NotFoundError("no such offer"))
    return found


def _actions(offer: OfferView) -> list[tuple[str, str, str]]:
    """The status buttons the author gets: (status, label, button style)."""
    actions = []
    if offer.status in ("draft", "filled") and not offer.awaiting_validation:
        actions.append(("published", i18n.gettext("Publish"), ""))
    if offer.status == "published":
        actions.append(("filled", i18n.gettext("Mark as filled"), "button--secondary"))
    if offer.status != "withdrawn":
        actions.append(("withdrawn", i18n.gettext("Withdraw"), "button--danger"))
    return actions


def _may_express(request: Request, offer: OfferView) -> bool:
    """A signed-in member other than the owner, and the offer open."""
    principal = principal_of(request)
    return (
        principal is not None
        and principal.actor_id != offer.author.id
        and offer.status == "published"
    )


async def _interest_defaults(request: Request, offer: OfferView) -> FormState | None:
    if not _may_express(request, offer):
        return None
    context = context_of(request)
    actor = await signed_in_actor(request)
    async with context.sessions() as session:
        found = await sender_defaults(session, context.settings, actor)
    return FormState(
        {
            "message": "",
            "organisation_name": found.name,
            "organisation_type": found.type or "",
            "organisation_country": found.country or "",
        }
    )


def offer_page_response(
    request: Request,
    offer: OfferView,
    *,
    error: str | None = None,
    faults: list[str] | None = None,
    status: int = 200,
    interest: FormState | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    data = offer.data
    versions = {
        data.language: {
            "title": data.title,
            "summary": data.summary,
            "description": data.description,
        },
        **data.translations,
    }
    wanted = request.query_params.get("lang", "")
    locale = i18n.current_locale()
    language = next((code for code in (wanted, locale) if code in versions), data.language)
    texts = versions[language]
    title, summary, description = texts["title"], texts["summary"], texts["description"]
    principal = principal_of(request)
    notice = request.query_params.get("done", "")
    return render(
        request,
        "offers/page.html",
        {
            "offer": offer,
            "data": data,
            "language": language,
            "others": [code for code in versions if code != language],
            "title": title,
            "summary": summary,
            "description_html": render_markdown(description) if description else "",
            "options": offer_choices(),
            "status_label": status_label,
            "mine": principal is not None and principal.actor_id == offer.author.id and offer.local,
            "actions": _actions(offer),
            "notice": notice if notice in NOTICES else None,
            "error": error,
            "faults": faults or [],
            "interest": interest if _may_express(request, offer) else None,
        },
        status_code=status,
        headers=headers,
    )


async def offer_page(request: Request) -> Response:
    found = await find_offer(request)
    if isinstance(found, Response):
        return found
    return offer_page_response(request, found, interest=await _interest_defaults(request, found))


def routes() -> list[BaseRoute]:
    return [
        rule("/offers", offer_list, Access.PUBLIC, methods=["GET"]),
        rule("/offers/{id:int}", offer_page, Access.PUBLIC, methods=["GET"]),
    ]
