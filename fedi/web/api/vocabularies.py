"""``GET /api/v1/vocabularies`` and ``/api/v1/vocabularies/{name}``: the codes every field
takes, labelled in the request's language."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.instance import context_of
from fedi.vocabulary import VOCABULARY_NAMES, Term, vocabulary
from fedi.web.access import Access, rule
from fedi.web.ui.i18n import current_locale

__all__ = ["routes"]

_HEADERS = {"Cache-Control": "public, max-age=3600", "Vary": "Accept-Language"}


def _term(term: Term, locale: str) -> dict[str, Any]:
    item: dict[str, Any] = {"code": term.code, "label": term.label(locale)}
    if term.group is not None:
        item["group"] = term.group
    if term.native is not None:
        item["native"] = term.native
    return item


async def list_vocabularies(request: Request) -> Response:
    base = context_of(request).settings.base_url
    items = [
        {
            "name": name,
            "description": vocabulary(name).description,
            "url": f"{base}/api/v1/vocabularies/{name}",
            "count": len(vocabulary(name).terms),
        }
        for name in VOCABULARY_NAMES
    ]
    return JSONResponse({"items": items, "next": None, "total": len(items)}, headers=_HEADERS)


async def show_vocabulary(request: Request) -> Response:
    vocab = vocabulary(str(request.path_params["name"]))  # NotFoundError: a 404 problem
    locale = current_locale()
    body = {
        "name": vocab.name,
        "description": vocab.description,
        "locale": locale,
        "items": [_term(term, locale) for term in vocab.terms],
        "aliases": dict(vocab.aliases),
    }
    return JSONResponse(body, headers={**_HEADERS, "Content-Language": locale})


routes = [
    rule("/api/v1/vocabularies", list_vocabularies, Access.PUBLIC, methods=["GET"]),
    rule("/api/v1/vocabularies/{name}", show_vocabulary, Access.PUBLIC, methods=["GET"]),
]
