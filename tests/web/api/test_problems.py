"""Every API error is an RFC 9457 problem document from one handler; bad input never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from fedi.errors import ConflictError, RateLimitedError
from fedi.web.access import Access, rule
from fedi.web.api.body import MAX_BODY, read_json_object
from fedi.web.api.problems import exception_handlers
from tests.web.api.conftest import Api

PROBLEM = "application/problem+json"


def test_an_unknown_route_and_a_wrong_method_are_problems(api: Api) -> None:
    missing = api.client.get("/api/v1/planets")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    assert missing.json() == {"status": 404, "title": "Not Found", "detail": "no such API route"}
    wrong = api.client.delete("/api/v1/vocabularies")
    assert (wrong.status_code, wrong.headers["content-type"]) == (405, PROBLEM)
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "HEAD"}
    # Pages keep their own answers: the 404 page.
    assert api.client.get("/no-such-page").headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("content", "content_type", "status", "detail"),
    [
        (b'{"bio": ', "application/json", 400, "the body is not well-formed JSON"),
        (b"[1, 2]", "application/json", 400, "the body must be a JSON object"),
        (b'"text"', "application/json", 400, "the body must be a JSON object"),
        (b"\xff\xfe", "application/json", 400, "the body is not well-formed JSON"),
        (b'{"bio": "x"}', "text/plain", 415, "send the body as application/json"),
        (b'{"bio": "x"}', "", 415, "send the body as application/json"),
        (b'{"bio": "' + b"x" * MAX_BODY + b'"}', "application/json", 413, "the body is larger"),
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(
    api: Api, content: bytes, content_type: str, status: int, detail: str
) -> None:
    headers = api.auth("anna") | ({"Content-Type": content_type} if content_type else {})
    answer = api.client.patch("/api/v1/me", content=content, headers=headers)
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["detail"].startswith(detail)
    assert api.client.get("/api/v1/me", headers=api.auth("anna")).json()["bio"] == ""


def test_a_charset_parameter_and_a_json_suffix_are_json(api: Api) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        answer = api.client.patch(
            "/api/v1/me",
            content=b'{"bio": "hello"}',
            headers=api.auth("anna") | {"Content-Type": content_type},
        )
        assert answer.status_code == 200, answer.text


@pytest.fixture
def raising() -> Iterator[TestClient]:
    """An app with the API's handlers and routes that fail in each way a service can."""

    async def conflict(request: Request) -> Response:
        raise ConflictError("the forum exists already")

    async def limited(request: Request) -> Response:
        raise RateLimitedError("too many attempts", retry_after=30)

    async def broken(request: Request) -> Response:
        raise RuntimeError("secret internal detail")

    async def declared_large(request: Request) -> Response:
        await read_json_object(request, limit=10)
        return Response("read")

    app = Starlette(
        routes=[
            rule("/api/conflict", conflict, Access.PUBLIC),
            rule("/api/limited", limited, Access.PUBLIC),
            rule("/api/broken", broken, Access.PUBLIC),
            rule("/api/body", declared_large, Access.PUBLIC, methods=["POST"]),
        ],
        exception_handlers=exception_handlers(),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_service_errors_map_to_their_status(raising: TestClient) -> None:
    conflict = raising.get("/api/conflict")
    assert conflict.status_code == 409
    assert conflict.json() == {
        "status": 409,
        "title": "Conflict",
        "detail": "the forum exists already",
    }
    limited = raising.get("/api/limited")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "30")
    assert limited.json()["title"] == "Too Many Requests"


def test_a_server_error_is_bare(raising: TestClient) -> None:
    answer = raising.get("/api/broken")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json() == {"status": 500, "title": "Internal Server Error"}
    assert "secret" not in answer.text


def test_a_declared_length_over_the_cap_is_refused_before_reading(raising: TestClient) -> None:
    answer = raising.post(
        "/api/body", content=b'{"a": 1234567890}', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    small = raising.post("/api/body", content=b"{}", headers={"Content-Type": "application/json"})
    assert small.status_code == 200


def test_titles_are_rfc_9110_names(api: Api) -> None:
    invalid = api.client.patch("/api/v1/me", json={"country": "XX"}, headers=api.auth("anna"))
    assert invalid.json()["title"] == "Unprocessable Content"
    large = api.client.patch(
        "/api/v1/me",
        content=b"{" + b" " * MAX_BODY + b"}",
        headers=api.auth("anna") | {"Content-Type": "application/json"},
    )
    assert large.json()["title"] == "Content Too Large"
