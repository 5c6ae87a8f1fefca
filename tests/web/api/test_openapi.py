"""schemas/openapi.json and the app's routes describe each other exactly, and the document
is one that can refuse an answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Mount

from fedi.settings import Settings
from fedi.vocabulary import vocabulary
from fedi.web import create_app
from fedi.web.access import RuledRoute
from tests.web.api.conftest import Api, ResponseChecker, openapi_document

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def api_routes(settings: Settings) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for route in create_app(settings).routes:
        assert not isinstance(route, Mount) or not route.path.startswith("/api")
        if isinstance(route, RuledRoute) and route.path.startswith("/api/"):
            pairs |= {(route.path, method.lower()) for method in route.methods or ()}
    return {(path, method) for path, method in pairs if method != "head"}


def documented() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_api_route_is_documented_and_every_documented_route_exists(
    settings: Settings,
) -> None:
    routes, paths = api_routes(settings), documented()
    assert routes - paths == set(), "routes missing from schemas/openapi.json"
    assert paths - routes == set(), "schemas/openapi.json names routes that do not exist"
    assert ("/api/v1/me", "patch") in routes


def test_the_document_is_openapi_3_1_with_valid_schemas() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1.")
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema), name
    for item in document["paths"].values():
        for method, operation in item.items():
            assert operation["operationId"] and operation["responses"], method


def test_codes_in_the_document_are_the_vocabularies() -> None:
    schemas = openapi_document()["components"]["schemas"]
    patch = schemas["ProfilePatch"]["properties"]
    assert patch["organisation_type"]["enum"] == [*vocabulary("organisation-types").codes, None]
    assert patch["country"]["enum"] == [*vocabulary("countries").codes, "EL", None]
    assert patch["languages"]["items"]["enum"] == list(vocabulary("languages").codes)
    expertise = schemas["Expertise"]["properties"]
    assert expertise["themes"]["items"]["enum"] == list(vocabulary("themes").codes)
    assert expertise["objectives"]["items"]["enum"] == list(vocabulary("objectives").codes)


def test_the_document_is_served(api: Api) -> None:
    answer = api.client.get("/api/openapi.json")
    assert answer.status_code == 200
    assert answer.json() == openapi_document()


def test_answers_are_checked_and_a_contradicting_one_is_refused(
    api: Api, openapi_schema: Any
) -> None:
    before = api.checker.checked
    api.client.get("/api/v1/me", headers=api.auth("anna"))
    assert api.checker.checked == before + 1
    request = httpx.Request("GET", "https://esf.test/api/v1/me")
    wrong = httpx.Response(200, json={"id": "https://esf.test/users/anna"}, request=request)
    wrong.elapsed = timedelta(0)
    with pytest.raises(Exception, match="required"):
        ResponseChecker(openapi_schema)(wrong)
    undocumented = httpx.Response(418, json={"status": 418}, request=request)
    undocumented.elapsed = timedelta(0)
    with pytest.raises(AssertionError, match="418 is not documented"):
        ResponseChecker(openapi_schema)(undocumented)
