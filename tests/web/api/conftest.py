"""An API client on a real app, whose every ``/api/`` answer is checked against the OpenAPI
document (schemas/openapi.json) as it arrives."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import Role
from fedi.resources import schemas_dir
from fedi.services.members import find_member
from fedi.services.tokens import issue_token
from fedi.settings import Settings
from fedi.web import create_app
from tests.web.test_discovery import bootstrap


@functools.cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (schemas_dir() / "openapi.json").read_text(encoding="utf-8")
    )
    return document


@pytest.fixture(scope="session")
def openapi_schema() -> Any:
    return schemathesis.openapi.from_dict(openapi_document())


class ResponseChecker:
    """Validates each API answer against the operation it belongs to; counts what it checked."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self.checked = 0

    def __call__(self, response: httpx.Response) -> None:
        path = response.request.url.path
        if not path.startswith("/api/"):
            return
        response.read()
        operation = self.schema.find_operation_by_path(response.request.method, path)
        if operation is None:
            # No such route or method: still a problem document.
            assert response.status_code in (404, 405), (path, response.status_code)
            assert response.headers["content-type"] == "application/problem+json"
            return
        documented = openapi_document()["paths"][operation.path][operation.method.lower()]
        assert str(response.status_code) in documented["responses"], (
            f"{response.status_code} is not documented for {operation.method} {operation.path}"
        )
        operation.validate_response(response)
        self.checked += 1


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    checker: ResponseChecker

    def auth(self, login: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[login]}"}


@pytest.fixture
def api(settings: Settings, openapi_schema: Any) -> Iterator[Api]:
    """anna (member), mira (moderator) and ada (admin), each with a token."""
    bootstrap(settings, "anna", "mira", "ada")

    async def work(session: Any) -> dict[str, str]:
        (await find_member(session, "mira")).role = Role.MODERATOR
        (await find_member(session, "ada")).role = Role.ADMIN
        return {login: await issue_token(session, login) for login in ("anna", "mira", "ada")}

    tokens = run_in_session(settings, work)
    checker = ResponseChecker(openapi_schema)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        client.event_hooks["response"].append(checker)
        yield Api(client, tokens, checker)
