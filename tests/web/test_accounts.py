"""Accounts in the browser: sign in and out, sessions, throttling, CSRF, password, tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.accounts import throttle
from fedi.cli.common import run_in_session
from fedi.db.models import BrowserSession, Role
from fedi.instance import build_context
from fedi.services.members import add_member, ensure_first_admin
from fedi.settings import Settings
from fedi.testing.instances import Clock
from fedi.testing.web import csrf_token, post_form, sign_in
from fedi.web import create_app
from fedi.web.accounts.cookies import SESSION_COOKIE
from tests.conftest import make_settings
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"


def _sessions(settings: Settings) -> int:
    async def work(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(BrowserSession)) or 0)

    count: int = run_in_session(settings, work)
    return count


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _client(settings: Settings, clock: Clock) -> TestClient:
    context = build_context(settings)
    context.clock = clock
    return TestClient(create_app(settings, context=context), base_url=settings.base_url)


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bea")

    async def admin(session: AsyncSession) -> None:
        await add_member(session, settings, "zoe", PASSWORD, Role.ADMIN)

    run_in_session(settings, admin)
    with _client(settings, clock) as client:
        yield client


def test_a_member_page_sends_nobody_to_sign_in_and_back(client: TestClient) -> None:
    refused = client.get("/account?tab=1", follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"] == "/login?next=%2Faccount%3Ftab%3D1"
    page = client.get("/login?next=%2Faccount%3Ftab%3D1").text
    assert 'name="next" value="/account?tab=1"' in page
    answer = post_form(
        client, "/login", {"login": "anna", "password": PASSWORD, "next": "/account?tab=1"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account?tab=1"
    assert "@anna@esf.test" in client.get("/account").text


def test_the_session_cookie_is_httponly_lax_and_secure_on_https(client: TestClient) -> None:
    answer = sign_in(client, "anna", PASSWORD)
    cookie = next(
        value
        for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie
    assert "Path=/" in cookie


def test_a_session_id_planted_before_sign_in_is_not_the_signed_in_one(
    client: TestClient, settings: Settings
) -> None:
    client.cookies.set(SESSION_COOKIE, "planted-by-someone-else", domain="esf.test")
    sign_in(client, "anna", PASSWORD)
    assert client.cookies[SESSION_COOKIE] != "planted-by-someone-else"
    assert client.get("/account", follow_redirects=False).status_code == 200
    first = client.cookies[SESSION_COOKIE]
    sign_in(client, "anna", PASSWORD)
    assert client.cookies[SESSION_COOKIE] != first  # a new id at every sign-in
    assert _sessions(settings) == 1  # the one it replaced is gone


def test_signing_out_ends_the_session(client: TestClient, settings: Settings) -> None:
    sign_in(client, "anna", PASSWORD)
    token = client.cookies[SESSION_COOKIE]
    answer = post_form(client, "/logout", {})
    assert answer.status_code == 303
    assert _sessions(settings) == 0
    client.cookies.set(SESSION_COOKIE, token, domain="esf.test")
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_a_wrong_password_comes_back_with_the_error_tied_to_its_field(
    client: TestClient, settings: Settings
) -> None:
    answer = sign_in(client, "anna", "not the password")
    assert answer.status_code == 422
    page = answer.text
    assert "<title>Error: Sign in" in page
    assert '<a href="#password">The login or the password is not right</a>' in page
    assert 'aria-describedby="password-error"' in page
    assert 'value="anna"' in page  # the login is kept
    assert "not the password" not in page  # the password never is
    assert _sessions(settings) == 0


def test_five_wrong_passwords_give_the_rate_limit_page_in_every_process(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    for _ in range(throttle.ACCOUNT_LIMIT - 1):
        assert sign_in(client, "anna", "wrong").status_code == 422
    limited = sign_in(client, "anna", "wrong")
    assert limited.status_code == 429
    assert "Too many sign-in attempts failed. Try again in 15 minutes." in limited.text
    assert 0 < int(limited.headers["retry-after"]) <= 15 * 60 + 1
    # The right password is refused too while the limit holds, in another process as well.
    assert sign_in(client, "anna", PASSWORD).status_code == 429
    with _client(settings, clock) as other:
        assert sign_in(other, "anna", PASSWORD).status_code == 429
        # Another account from the same address is not held back.
        assert sign_in(other, "bea", PASSWORD).status_code == 303
    clock.advance(throttle.WINDOW + timedelta(seconds=1))
    assert sign_in(client, "anna", PASSWORD).status_code == 303


def test_many_failures_from_one_address_hold_back_every_account(
    client: TestClient, clock: Clock
) -> None:
    for attempt in range(throttle.ADDRESS_LIMIT):
        sign_in(client, f"nobody{attempt}", "wrong")
    assert sign_in(client, "bea", PASSWORD).status_code == 429


def test_a_form_without_its_token_is_refused_and_changes_nothing(
    client: TestClient, settings: Settings
) -> None:
    csrf_token(client)
    missing = client.post("/login", data={"login": "anna", "password": PASSWORD})
    assert missing.status_code == 403
    assert "The form could not be sent because it was out of date" in missing.text
    wrong = client.post(
        "/login", data={"login": "anna", "password": PASSWORD, "csrf_token": "x" * 43}
    )
    assert wrong.status_code == 403
    assert _sessions(settings) == 0
    fresh = TestClient(client.app, base_url=settings.base_url)  # no cookie at all
    assert fresh.post("/login", data={"csrf_token": "x" * 43}).status_code == 403


def test_session_calls_under_api_need_the_csrf_header(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    refused = client.post("/api/v1/anything", json={})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    passed = client.post("/api/v1/anything", json={}, headers={"X-CSRF-Token": csrf_token(client)})
    assert passed.status_code == 404  # past the check; there is no such route


def test_a_bearer_token_needs_no_csrf_token(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    page = post_form(client, "/account/tokens", {"label": "script"}).text
    token = re.search(r'<code class="secret" id="new-token">(fedi_[^<]+)</code>', page)
    assert token is not None
    anonymous = TestClient(client.app, base_url=str(client.base_url))
    answer = anonymous.post(
        "/account/tokens",
        data={"label": "from a script"},
        headers={"Authorization": f"Bearer {token.group(1)}"},
    )
    assert answer.status_code == 200
    assert "from a script" in answer.text


def test_tokens_are_shown_once_work_and_can_be_revoked(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    page = post_form(client, "/account/tokens", {"label": "my script"}).text
    found = re.search(r'id="new-token">(fedi_[^<]+)</code>', page)
    assert found is not None
    token = found.group(1)
    assert token not in client.get("/account").text  # shown once
    assert "my script" in client.get("/account").text
    bearer = TestClient(client.app, base_url=str(client.base_url))
    headers = {"Authorization": f"Bearer {token}"}
    assert bearer.get("/account", headers=headers, follow_redirects=False).status_code == 200
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', page)
    assert token_id is not None
    revoked = post_form(client, f"/account/tokens/{token_id.group(1)}/revoke", {})
    assert revoked.status_code == 303
    assert bearer.get("/account", headers=headers, follow_redirects=False).status_code == 303
    assert "You have no tokens." in client.get("/account").text


def test_another_members_token_cannot_be_revoked(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    page = post_form(client, "/account/tokens", {"label": "anna's"}).text
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', page)
    assert token_id is not None
    post_form(client, "/logout", {})
    sign_in(client, "bea", PASSWORD)
    answer = post_form(client, f"/account/tokens/{token_id.group(1)}/revoke", {})
    assert answer.status_code == 404
    post_form(client, "/logout", {})
    sign_in(client, "anna", PASSWORD)
    assert "anna&#39;s" in client.get("/account").text


def test_changing_the_password_signs_out_other_browsers(
    client: TestClient, settings: Settings
) -> None:
    sign_in(client, "anna", PASSWORD)
    with TestClient(client.app, base_url=settings.base_url) as other:
        sign_in(other, "anna", PASSWORD)
        wrong = post_form(
            client,
            "/account/password",
            {
                "current": "nope",
                "password": "a new long password",
                "confirm": "a new long password",
            },
        )
        assert wrong.status_code == 422
        assert "The current password is not right" in wrong.text
        short = post_form(
            client, "/account/password", {"current": PASSWORD, "password": "x", "confirm": "x"}
        )
        assert short.status_code == 422
        assert "The password must have at least 10 characters" in short.text
        changed = post_form(
            client,
            "/account/password",
            {
                "current": PASSWORD,
                "password": "a new long password",
                "confirm": "a new long password",
            },
        )
        assert changed.status_code == 303
        assert "Your password is changed." in client.get(changed.headers["location"]).text
        assert other.get("/account", follow_redirects=False).status_code == 303
    post_form(client, "/logout", {})
    assert sign_in(client, "anna", PASSWORD).status_code == 422
    assert sign_in(client, "anna", "a new long password").status_code == 303


def test_the_first_admin_signs_in_with_the_printed_password(
    settings: Settings, clock: Clock
) -> None:
    bootstrap(settings)
    first = run_in_session(settings, lambda session: ensure_first_admin(session, settings))
    assert first is not None
    with _client(settings, clock) as client:
        assert sign_in(client, first.login, first.password).status_code == 303
        page = client.get("/account").text
        assert "administrator" in page
        assert 'href="/admin/members"' in page  # the way into the administration section
        # ... whose navigation shows where to invite people
        assert 'href="/admin/invites"' in client.get("/admin/members").text


def test_only_pages_hand_out_the_form_token(client: TestClient) -> None:
    assert "set-cookie" not in client.get("/.well-known/nodeinfo").headers
    assert "fedi_csrf=" in client.get("/").headers["set-cookie"]


def test_a_form_posted_after_the_session_ended_leads_to_sign_in(client: TestClient) -> None:
    answer = post_form(client, "/account/tokens", {"label": "late"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


@pytest.mark.parametrize("path", ["/account/tokens/{n}/revoke", "/admin/invites/{n}/withdraw"])
def test_a_row_id_too_large_for_the_database_is_not_found(client: TestClient, path: str) -> None:
    sign_in(client, "zoe", PASSWORD)
    answer = post_form(client, path.format(n=10**30), {})
    assert answer.status_code == 404


def test_on_plain_http_the_session_cookie_is_not_secure(tmp_path: Path, migrated_url: str) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_BASE_URL="http://localhost:8000")
    bootstrap(settings, "anna")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        answer = sign_in(client, "anna", PASSWORD)
    cookie = next(
        value
        for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "Secure" not in cookie
