"""What every response carries, and what the request's own headers may not decide: security
headers on pages, redirects on FEDI_BASE_URL, request ids and client addresses from proxies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.schemas import SCHEMA_NAMES
from fedi.services.tokens import issue_token
from fedi.settings import Settings, SettingsError, load_settings
from fedi.web import create_app
from fedi.web.app import STATIC_DIR
from fedi.web.middleware import CONTENT_SECURITY_POLICY
from tests.conftest import make_settings
from tests.web.test_discovery import bootstrap

AS2 = "application/activity+json"
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna")

    async def token(session: Any) -> str:
        return await issue_token(session, "anna")

    bearer = run_in_session(settings, token)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        note = {
            "type": "Note",
            "content": "hello",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        }
        created = client.post(
            "/users/anna/outbox",
            content=json.dumps(note).encode(),
            headers={"Content-Type": AS2, "Authorization": f"Bearer {bearer}"},
        )
        assert created.status_code == 201
        client.activity_path = created.headers["location"].removeprefix(settings.base_url)  # type: ignore[attr-defined]
        yield client


def _paths(client: TestClient) -> list[str]:
    """A concrete path for every GET route of the application."""
    activity = client.get(client.activity_path, headers={"Accept": AS2}).json()  # type: ignore[attr-defined]
    values = {
        "id": "",
        "version": "2.1",
        "filename": f"{SCHEMA_NAMES[0]}.schema.json",
    }
    paths = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            paths.extend(f"{route.path}/{file.name}" for file in STATIC_DIR.iterdir())
            continue
        assert isinstance(route, Route)
        if route.methods is not None and "GET" not in route.methods:
            continue
        path = route.path.replace(
            "{name}", "network" if route.path.startswith("/groups") else "anna"
        )
        if path.startswith("/objects/"):
            path = activity["object"]["id"].split("://", 1)[1].split("/", 1)[1]
            path = "/" + path
        elif path.startswith("/activities/"):
            path = client.activity_path  # type: ignore[attr-defined]
        for name, value in values.items():
            path = path.replace(f"{{{name}}}", value)
        paths.append(path)
    return paths


def test_every_page_has_the_security_headers_and_every_response_nosniff(
    client: TestClient,
) -> None:
    pages = set()
    for path in [*_paths(client), "/no/such/page", "/users/nobody"]:
        for accept in (BROWSER, AS2):
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code < 500, path
            assert response.headers["x-content-type-options"] == "nosniff", path
            if response.headers.get("content-type", "").startswith("text/html"):
                pages.add(path)
                assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
                assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
                assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
                assert "<script>" not in response.text and " style=" not in response.text
            else:
                assert "content-security-policy" not in response.headers, path
    assert {"/", "/users/anna", "/groups/network", "/users/nobody"} <= pages
    assert any(page.startswith("/objects/") for page in pages)


@pytest.mark.parametrize(
    ("method", "path", "target"),
    [
        ("POST", "/inbox/", "https://esf.test/inbox"),
        ("GET", "/users/anna/", "https://esf.test/users/anna"),
        ("GET", "/users/anna/followers/?page=1", "https://esf.test/users/anna/followers?page=1"),
    ],
)
def test_redirects_follow_the_base_url_not_the_host_header(
    client: TestClient, method: str, path: str, target: str
) -> None:
    response = client.request(
        method,
        path,
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 307
    assert response.headers["location"] == target
    assert client.get("/no/such/path/", follow_redirects=False).status_code == 404


def _whoami(request: Request) -> JSONResponse:
    return JSONResponse({"client": request.client.host if request.client else None})


@pytest.mark.parametrize(
    ("trusted", "peer", "believed"),
    [
        ("", "127.0.0.1", False),  # the default: nobody, not even loopback
        ("10.0.0.0/8, 127.0.0.1", "10.1.2.3", True),
        ("10.0.0.0/8, 127.0.0.1", "127.0.0.1", True),
        ("10.0.0.0/8, 127.0.0.1", "192.0.2.7", False),
        ("::1", "::1", True),
    ],
)
def test_request_ids_and_forwarded_addresses_only_from_trusted_proxies(
    tmp_path: Path, migrated_url: str, trusted: str, peer: str, believed: bool
) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_TRUSTED_PROXIES=trusted)
    app = create_app(settings)
    app.router.routes.append(Route("/whoami", _whoami))
    with TestClient(app, base_url=settings.base_url, client=(peer, 40000)) as client:
        response = client.get(
            "/whoami", headers={"X-Request-Id": "chosen-id", "X-Forwarded-For": "203.0.113.9"}
        )
    assert response.status_code == 200
    if believed:
        assert response.headers["x-request-id"] == "chosen-id"
        assert response.json() == {"client": "203.0.113.9"}
    else:
        assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])
        assert response.json() == {"client": peer}


def test_trusted_proxies_must_be_addresses_or_networks(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"FEDI_DATA_DIR": str(tmp_path), "FEDI_TRUSTED_PROXIES": "10.0.0.0/8,nginx"})
    assert raised.value.problems == [
        "FEDI_TRUSTED_PROXIES: must be IP addresses or networks separated by commas "
        "(got '10.0.0.0/8,nginx')"
    ]
    settings = load_settings(
        {"FEDI_DATA_DIR": str(tmp_path), "FEDI_TRUSTED_PROXIES": "10.1.0.0/16, ::1"}
    )
    assert settings.masked()["FEDI_TRUSTED_PROXIES"] == "10.1.0.0/16,::1/128"
