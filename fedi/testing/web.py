"""Using the pages from a test client as a browser would: the form token, signing in, posting."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from starlette.testclient import TestClient

from fedi.web.csrf import CSRF_COOKIE

__all__ = ["csrf_token", "post_form", "sign_in"]


def csrf_token(client: TestClient) -> str:
    """The browser's form token, from its cookie (a first page visit sets it)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/login")
    token: str = client.cookies[CSRF_COOKIE]
    return token


def post_form(client: TestClient, path: str, data: Mapping[str, str]) -> httpx.Response:
    """Submit a form like a browser: with the form token, without following the redirect."""
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf_token(client), **data}, follow_redirects=False
    )
    return response


def sign_in(client: TestClient, login: str, password: str) -> httpx.Response:
    return post_form(client, "/login", {"login": login, "password": password})
