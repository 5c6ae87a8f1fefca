"""``/offers/saved``: a member's saved partner searches. Saved from the results page (its name
and the query in force), each listed with its results, its RSS feed and a delete button."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.partners.saved_searches import delete_saved_search, save_search, saved_searches_of
from fedi.web.access import Access, principal_of, rule
from fedi.web.ui.rendering import render

__all__ = ["routes"]

NOTICES = ("saved", "deleted")


async def _page(request: Request, *, errors: dict[str, str] | None = None,
                values: dict[str, str] | None = None) -> Response:  # fmt: skip
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None
    async with context.sessions() as session:
        rows = await saved_searches_of(session, principal.member_id)
    searches = [
        (row, urlencode([(key, value) for key, values in row.query.items() for value in values]))
        for row in rows
    ]
    notice = request.query_params.get("done", "")
    return render(
        request,
        "offers/saved.html",
        {
            "searches": searches,
            "form": {"errors": errors or {}},
            "values": values or {},
            "notice": notice if notice in NOTICES else None,
        },
        status_code=422 if errors else 200,
    )


async def saved(request: Request) -> Response:
    """The list (GET), or a search saved from the results page (POST)."""
    if request.method == "GET":
        return await _page(request)
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None
    async with request.form() as form:
        name, query = str(form.get("name", "")), str(form.get("query", ""))
    params = parse_qs(query, keep_blank_values=False)
    try:
        async with context.sessions.begin() as session:
            await save_search(session, principal.member_id, name, params)
    except ValidationError as error:
        errors = {key: messages[0] for key, messages in error.errors.items()}
        return await _page(request, errors=errors, values={"name": name, "query": query})
    return RedirectResponse("/offers/saved?done=saved", status_code=303)


async def delete(request: Request) -> Response:
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None
    try:
        async with context.sessions.begin() as session:
            await delete_saved_search(session, principal.member_id, request.path_params["id"])
    except NotFoundError:
        pass  # already gone, or never theirs: the list says what is left
    return RedirectResponse("/offers/saved?done=deleted", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/offers/saved", saved, Access.MEMBER, methods=["GET", "POST"]),
        rule("/offers/saved/{id:int}/delete", delete, Access.MEMBER, methods=["POST"]),
    ]
