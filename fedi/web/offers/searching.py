"""``/offers/search``: the partner search's results page. Every filter of the API as a form that
works without JavaScript, results with why each matched in the reader's language, a chart of the
results by country (SVG drawn here, with the same figures as a table), and export links to the
API's CSV and JSON of the same query."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from fedi.db.models import utcnow
from fedi.errors import ValidationError
from fedi.instance import context_of
from fedi.partners.live import live_search
from fedi.partners.search import SearchPage, reader_of, search_offers
from fedi.partners.search_params import SearchParams, read_search
from fedi.web.access import Access, principal_of, rule
from fedi.web.offers.choices import offer_choices
from fedi.web.offers.why import sentence
from fedi.web.ui import i18n
from fedi.web.ui.rendering import render

__all__ = ["CHART_COUNTRIES", "routes", "search_results"]

PAGE_SIZE = 20
# The chart shows this many countries, the others summed as one bar.
CHART_COUNTRIES = 10
# The form's single-choice filters: parameter, options of :func:`offer_choices`.
_SELECTS = (
    ("purpose", "purposes"),
    ("level", "levels"),
    ("country", "countries"),
    ("countries_sought", "countries"),
    ("objective", "objectives"),
    ("theme", "themes"),
    ("target_group", "target_groups"),
    ("organisation_type", "organisation_types"),
    ("role", "roles"),
    ("language", "languages"),
)


async def search_results(
    request: Request, wanted: SearchParams, *, offset: int, limit: int
) -> SearchPage:
    """One page of results for ``wanted``, ranked for the reader of ``request``; with
    ``live``, partner instances' answers merged in (:mod:`fedi.partners.live`)."""
    context = context_of(request)
    principal = principal_of(request)
    today = utcnow().date()
    async with context.sessions() as session:
        reader = await reader_of(
            session,
            principal.member_id if principal else None,
            i18n.reader_language(request),
        )
        if not wanted.live:
            return await search_offers(
                session,
                q=wanted.q,
                filters=wanted.filters,
                reader=reader,
                today=today,
                sort=wanted.sort,
                bounds=wanted.bounds,
                offset=offset,
                limit=limit,
            )
    return await live_search(
        context, wanted, reader=reader, today=today, offset=offset, limit=limit
    )


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    width: float
    y: int


def _bars(countries: list[tuple[str, int]], label: dict[str, str]) -> list[Bar]:
    shown = countries[:CHART_COUNTRIES]
    rest = sum(count for _code, count in countries[CHART_COUNTRIES:])
    rows = [(label.get(code, code), count) for code, count in shown]
    if rest:
        rows.append((i18n.gettext("Other countries"), rest))
    largest = max((count for _label, count in rows), default=1)
    return [
        Bar(name, count, round(100 * count / largest, 1), 28 * position)
        for position, (name, count) in enumerate(rows)
    ]


def _offset(request: Request) -> int:
    raw = request.query_params.get("start", "")
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) < 10_000 else 0


async def search_page(request: Request) -> Response:
    # The form sends its empty fields too: they mean "any".
    query = [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key != "start" and value.strip()
    ]
    params: dict[str, list[str]] = {}
    for key, value in query:
        params.setdefault(key, []).append(value)
    values = {key: found[-1] for key, found in params.items()}
    options = offer_choices()
    errors: dict[str, str] = {}
    found = None
    offset = _offset(request)
    try:
        wanted = read_search(params)
    except ValidationError as error:
        errors = {name: messages[0] for name, messages in error.errors.items()}
    else:
        found = await search_results(request, wanted, offset=offset, limit=PAGE_SIZE)
    next_query = None
    if found is not None and offset + PAGE_SIZE < found.total:
        next_query = urlencode([*query, ("start", str(offset + PAGE_SIZE))])
    countries = dict(options.countries)
    return render(
        request,
        "offers/search.html",
        {
            "form": {"errors": errors},
            "values": values,
            "selects": _SELECTS,
            "options": options,
            "found": found,
            "sentence": sentence,
            "bars": _bars(found.countries, countries) if found else [],
            "query": urlencode(query),
            "next_query": next_query,
            "offset": offset,
        },
        status_code=422 if errors else 200,
    )


def routes() -> list[BaseRoute]:
    return [rule("/offers/search", search_page, Access.PUBLIC, methods=["GET"])]
