"""``/api/v1/offers`` (published offers, newest first; create) and ``/api/v1/offers/{id}``
(read, change, withdraw), ``/api/v1/offers/{id}/status``: the use cases of
:mod:`fedi.partners.offers`, whose checks answer 422 naming each field.

``{id}`` is the last segment of the offer's ActivityPub id (``/objects/<id>``). A published,
filled or expired offer is public; a draft (one awaiting validation included) is seen by its
author and the moderators alone, anyone else gets 404; a withdrawn one is 410.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.content.markdown import render_markdown
from fedi.db.models import Role, utcnow
from fedi.errors import ValidationError
from fedi.instance import context_of
from fedi.partners.offers import (
    OfferFilters,
    OfferView,
    create_offer,
    find_offer,
    list_offers,
    offer_payload,
    set_status,
    update_offer,
    view_of,
)
from fedi.vocabulary import vocabulary
from fedi.web.access import Access, check, principal_of, rule, signed_in_actor
from fedi.web.api.body import read_json_object
from fedi.web.api.paging import page_of, page_request
from fedi.web.api.people import actor_summary
from fedi.web.api.problems import Problem
from fedi.web.experiences.reading import KEY

__all__ = ["render_offer", "routes"]

MAX_OFFER_BODY = 256 * 1024
_CODE_FILTERS = (
    ("purpose", "offer-purposes"),
    ("country", "countries"),
    ("objective", "objectives"),
    ("theme", "themes"),
    ("target_group", "target-groups"),
)
_PUBLIC_STATUSES = ("published", "filled", "expired")
# The answer's own keys: a body that sends them back is refused, as any unknown key is.
_READ_ONLY = frozenset(
    {
        "id",
        "url",
        "origin",
        "local",
        "author",
        "description_html",
        "validated",
        "validated_by",
        "awaiting_validation",
        "published",
        "updated",
    }
)


def _time(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat(timespec="seconds").replace("+00:00", "Z"))


def render_offer(view: OfferView) -> dict[str, Any]:
    offer, row = view.offer, view.row
    return {
        "id": row.uri,
        "url": row.url or row.uri,
        "origin": view.author.domain,
        "local": row.local,
        **offer_payload(view.data),
        "status": offer.status,
        "description_html": render_markdown(view.data.description),
        "author": actor_summary(view.author),
        "validated": offer.validated,
        "validated_by": offer.validated_by,
        "awaiting_validation": offer.awaiting_validation,
        "published": None if offer.status == "draft" else _time(row.published),
        "updated": _time(offer.updated_at),
    }


def _refuse_read_only(body: dict[str, Any]) -> None:
    found = sorted(_READ_ONLY & set(body))
    if found:
        raise Problem(
            422,
            f"{found[0]}: is read-only",
            errors={name: ["is read-only"] for name in found},
        )


def _filters(request: Request) -> OfferFilters:
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
    if errors:
        first, messages = next(iter(errors.items()))
        raise Problem(422, f"{first}: {messages[0]}"[:600], errors=errors)
    return OfferFilters(**found)


async def list_all(request: Request) -> Response:
    context = context_of(request)
    filters = _filters(request)
    wanted = page_request(request)
    async with context.sessions() as session:
        keyset = await list_offers(session, filters, limit=wanted.limit, before=wanted.before)
        page = page_of(request, context.settings.base_url, wanted, keyset)
        items = [render_offer(view) for view in page.rows]
    return JSONResponse(page.answer(items))


def _location(request: Request, view: OfferView) -> str:
    key = view.row.uri.rsplit("/", 1)[1]
    return f"{context_of(request).settings.base_url}/api/v1/offers/{key}"


async def create(request: Request) -> Response:
    context = context_of(request)
    author = await signed_in_actor(request)
    body = await read_json_object(request, limit=MAX_OFFER_BODY)
    _refuse_read_only(body)
    async with context.sessions.begin() as session:
        offer = await create_offer(session, context.settings, author, body, today=utcnow().date())
        view = await view_of(session, offer)
        answer = render_offer(view)
    return JSONResponse(answer, status_code=201, headers={"Location": _location(request, view)})


def _uri(request: Request) -> str:
    key = str(request.path_params["id"])
    if not KEY.fullmatch(key):
        raise Problem(404, "no such offer")
    return f"{context_of(request).settings.base_url}/objects/{key}"


def _visible(request: Request, view: OfferView) -> None:
    """404 for a draft the caller may not see, 410 for a withdrawn offer."""
    if view.offer.status == "withdrawn":
        raise Problem(410, "this offer was withdrawn")
    if view.offer.status in _PUBLIC_STATUSES:
        return
    principal = principal_of(request)
    if principal is None:
        raise Problem(404, "no such offer")
    if principal.actor_id != view.author.id and principal.role not in (
        Role.MODERATOR,
        Role.ADMIN,
    ):
        raise Problem(404, "no such offer")


async def read(request: Request) -> Response:
    context = context_of(request)
    uri = _uri(request)
    async with context.sessions() as session:
        view = await find_offer(session, uri)
        _visible(request, view)
        answer = render_offer(view)
    return JSONResponse(answer)


async def change(request: Request) -> Response:
    """PATCH changes the fields given, DELETE withdraws (the ``Delete`` goes to followers)."""
    context = context_of(request)
    uri = _uri(request)
    author = await signed_in_actor(request)
    body = {} if request.method == "DELETE" else await read_json_object(request)
    if request.method == "PATCH":
        _refuse_read_only(body)
        if "status" in body:
            raise Problem(
                422,
                "status: is changed with POST /api/v1/offers/{id}/status",
                errors={"status": ["is changed with POST /api/v1/offers/{id}/status"]},
            )
    async with context.sessions.begin() as session:
        view = await find_offer(session, uri)
        _visible(request, view)
        today = utcnow().date()
        if request.method == "DELETE":
            await set_status(
                session, context.settings, author, view.offer.id, "withdrawn", today=today
            )
            return Response(status_code=204)
        offer = await update_offer(
            session, context.settings, author, view.offer.id, body, today=today
        )
        answer = render_offer(await view_of(session, offer))
    return JSONResponse(answer)


async def change_status(request: Request) -> Response:
    context = context_of(request)
    uri = _uri(request)
    author = await signed_in_actor(request)
    body = await read_json_object(request)
    unknown = sorted(set(body) - {"status"})
    if unknown:
        raise Problem(
            422,
            f"{unknown[0][:64]}: is not a field of a status change",
            errors={name[:64]: ["is not a field of a status change"] for name in unknown},
        )
    async with context.sessions.begin() as session:
        view = await find_offer(session, uri)
        _visible(request, view)
        offer = await set_status(
            session,
            context.settings,
            author,
            view.offer.id,
            body.get("status"),
            today=utcnow().date(),
        )
        answer = render_offer(await view_of(session, offer))
    return JSONResponse(answer)


async def offers(request: Request) -> Response:
    """Reading is open to anyone, publishing to members (checked by the access rules' own
    :func:`check`, so that one route answers both methods and its 405 names both)."""
    if request.method == "POST":
        check(Access.MEMBER, principal_of(request))
        return await create(request)
    return await list_all(request)


async def offer(request: Request) -> Response:
    if request.method == "GET":
        return await read(request)
    check(Access.MEMBER, principal_of(request))
    return await change(request)


routes = [
    rule("/api/v1/offers", offers, Access.PUBLIC, methods=["GET", "POST"]),
    rule("/api/v1/offers/{id}", offer, Access.PUBLIC, methods=["GET", "PATCH", "DELETE"]),
    rule("/api/v1/offers/{id}/status", change_status, Access.MEMBER, methods=["POST"]),
]
