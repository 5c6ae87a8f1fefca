"""``GET /api/v1/offers/search``: this instance's own and replicated offers in one ranked query
(with ``live=true``, partner instances' answers too), each with the reasons it matched; as JSON,
or as CSV (``Accept: text/csv`` or ``format=csv``)."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.errors import ValidationError
from fedi.instance import context_of
from fedi.partners.search import OfferHit, PeersAsked
from fedi.partners.search_params import read_search
from fedi.web.access import Access, rule
from fedi.web.api.offers import render_offer
from fedi.web.api.paging import next_cursor, page_request
from fedi.web.api.problems import Problem
from fedi.web.offers.searching import search_results
from fedi.web.offers.why import sentence

__all__ = ["CSV_COLUMNS", "routes"]

CSV_COLUMNS = (
    "id", "url", "purpose", "level", "title", "organisation", "organisation_type", "country",
    "countries_sought", "objectives", "themes", "target_groups", "working_languages",
    "call_deadline", "status", "origin", "score", "why",
)  # fmt: skip


def _item(hit: OfferHit) -> dict[str, Any]:
    return {
        "offer": render_offer(hit.view),
        "score": round(hit.score, 4),
        "why": [{"reason": reason.code, "detail": sentence(reason)} for reason in hit.why],
    }


def _row(item: dict[str, Any]) -> list[str]:
    offer = item["offer"]
    organisation = offer["organisation"]
    return [
        offer["id"],
        offer["url"],
        offer["purpose"],
        offer["level"],
        offer["title"],
        organisation["name"],
        organisation["type"],
        organisation["country"],
        " ".join(offer["countries_sought"]),
        " ".join(offer["objectives"]),
        " ".join(offer["themes"]),
        " ".join(offer["target_groups"]),
        " ".join(offer["working_languages"]),
        offer["funding"]["call_deadline"] or "",
        offer["status"],
        offer["origin"],
        str(item["score"]),
        " ".join(why["detail"] for why in item["why"]),
    ]


def _csv(items: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_row(item) for item in items)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="offers.csv"'},
    )


def _wants_csv(request: Request) -> bool:
    wanted = request.query_params.get("format", "")
    if wanted not in ("", "json", "csv"):
        raise Problem(422, "format: allowed values: json, csv", errors={"format": ["json or csv"]})
    return wanted == "csv" or (not wanted and "text/csv" in request.headers.get("accept", ""))


def _peers(asked: PeersAsked) -> dict[str, Any]:
    return {
        "asked": asked.asked,
        "answered": asked.answered,
        "failed": [{"host": failure.host, "reason": failure.reason} for failure in asked.failed],
    }


async def search(request: Request) -> Response:
    """With ``live=true`` every partner instance is asked too; ``peers`` says which were
    asked, which answered and which did not (all empty without ``live``)."""
    try:
        wanted = read_search({k: request.query_params.getlist(k) for k in request.query_params})
    except ValidationError as error:
        raise Problem(422, str(error)[:600], errors=error.errors) from error
    as_csv = _wants_csv(request)
    page = page_request(request)
    offset = page.before or 0
    found = await search_results(request, wanted, offset=offset, limit=page.limit)
    total = found.total
    items = [_item(hit) for hit in found.hits]
    if as_csv:
        return _csv(items)
    next_url = None
    if offset + page.limit < total:
        params = dict(request.query_params) | {
            "limit": str(page.limit),
            "cursor": next_cursor(offset + page.limit),
        }
        base = context_of(request).settings.base_url
        next_url = f"{base}{request.url.path}?{urlencode(params)}"
    return JSONResponse(
        {"items": items, "total": total, "next": next_url, "peers": _peers(found.peers)}
    )


routes = [rule("/api/v1/offers/search", search, Access.PUBLIC, methods=["GET"])]
