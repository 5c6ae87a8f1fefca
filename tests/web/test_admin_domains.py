"""The domains page: admins block and unblock domains and run allowlist-only federation."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.blocks.allowlist import allowlist_only, list_allowed
from fedi.blocks.service import list_blocks
from fedi.cli.common import run_in_session
from fedi.db.models import Role
from fedi.services.members import add_member
from fedi.settings import Settings
from fedi.testing.web import post_form, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"


@pytest.fixture
def client(settings: Settings) -> TestClient:
    bootstrap(settings)

    async def work(session: AsyncSession) -> None:
        await add_member(session, settings, "zoe", PASSWORD, Role.ADMIN)
        await add_member(session, settings, "mia", PASSWORD, Role.MODERATOR)

    run_in_session(settings, work)
    return TestClient(create_app(settings), base_url=settings.base_url)


def _state(settings: Settings) -> tuple[list[tuple[str, str, str]], bool, list[str]]:
    async def work(session: AsyncSession) -> tuple[list[tuple[str, str, str]], bool, list[str]]:
        blocks = [(b.domain, b.severity.value, b.reason) for b in await list_blocks(session)]
        allowed = [entry.domain for entry in await list_allowed(session)]
        return blocks, await allowlist_only(session), allowed

    found: tuple[list[tuple[str, str, str]], bool, list[str]] = run_in_session(settings, work)
    return found


def test_an_admin_blocks_and_unblocks_a_domain(settings: Settings, client: TestClient) -> None:
    with client:
        sign_in(client, "zoe", PASSWORD)
        page = client.get("/admin/domains")
        assert page.status_code == 200 and "No domain is blocked." in page.text
        assert 'href="/admin/domains" aria-current="page"' in page.text
        answer = post_form(
            client,
            "/admin/domains/blocks",
            {"domain": "Spam.TEST", "severity": "suspend", "reason": "spam waves"},
        )
        assert answer.status_code == 303
        page = client.get(answer.headers["location"])
        assert "The domain is blocked." in page.text
        assert "<code>spam.test</code>" in page.text and "spam waves" in page.text
        assert _state(settings)[0] == [("spam.test", "suspend", "spam waves")]
        answer = post_form(client, "/admin/domains/blocks/remove", {"domain": "spam.test"})
        assert answer.status_code == 303
        assert "The block is removed." in client.get(answer.headers["location"]).text
    assert _state(settings)[0] == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"domain": "", "severity": "suspend"}, "domain", "Enter a domain, such as example.com"),
        (
            {"domain": "https://x.test/", "severity": "suspend"},
            "domain",
            "Enter a domain name, such as example.com",
        ),
        ({"domain": "x.test", "severity": "ban"}, "severity", "Choose suspend or silence"),
        (
            {"domain": "x.test", "severity": "silence", "reason": "r" * 1001},
            "reason",
            "At most 1,000 characters.",
        ),
    ],
)
def test_a_bad_block_is_refused_at_its_field(
    settings: Settings, client: TestClient, data: dict[str, str], field: str, message: str
) -> None:
    with client:
        sign_in(client, "zoe", PASSWORD)
        answer = post_form(client, "/admin/domains/blocks", data)
        assert answer.status_code == 422
        assert f'<li><a href="#{field}">{message}</a></li>' in answer.text
        assert f'id="{field}-error"' in answer.text
    assert _state(settings)[0] == []


def test_removing_a_block_that_does_not_exist_is_404(client: TestClient) -> None:
    with client:
        sign_in(client, "zoe", PASSWORD)
        assert (
            post_form(client, "/admin/domains/blocks/remove", {"domain": "x.test"}).status_code
            == 404
        )


def test_an_admin_switches_the_mode_and_keeps_the_allowlist(
    settings: Settings, client: TestClient
) -> None:
    with client:
        sign_in(client, "zoe", PASSWORD)
        answer = post_form(client, "/admin/domains/allowlist", {"allowed": "Friends.test"})
        assert answer.status_code == 303
        page = client.get(answer.headers["location"])
        assert "The domain is on the allowlist." in page.text
        assert "<code>friends.test</code>" in page.text
        assert 'id="mode-open" name="mode" value="open" checked' in page.text
        answer = post_form(client, "/admin/domains/mode", {"mode": "allowlist"})
        assert answer.status_code == 303
        page = client.get(answer.headers["location"])
        assert "Allowlist-only federation is on" in page.text
        assert 'value="allowlist" checked' in page.text
        assert _state(settings)[1:] == (True, ["friends.test"])
        assert post_form(client, "/admin/domains/mode", {"mode": "closed"}).status_code == 422
        assert _state(settings)[1] is True
        assert post_form(client, "/admin/domains/mode", {"mode": "open"}).status_code == 303
        answer = post_form(client, "/admin/domains/allowlist/remove", {"allowed": "friends.test"})
        assert answer.status_code == 303
        assert (
            "The domain is taken off the allowlist." in client.get(answer.headers["location"]).text
        )
        bad = post_form(client, "/admin/domains/allowlist", {"allowed": "a b"})
        assert bad.status_code == 422
        assert (
            '<li><a href="#allowed">Enter a domain name, such as example.com</a></li>' in bad.text
        )
    assert _state(settings)[1:] == (False, [])


def test_a_moderator_may_not_use_the_page(settings: Settings, client: TestClient) -> None:
    with client:
        sign_in(client, "mia", PASSWORD)
        assert client.get("/admin/domains").status_code == 403
        assert 'href="/admin/domains"' not in client.get("/admin/members").text
        answer = post_form(
            client, "/admin/domains/blocks", {"domain": "x.test", "severity": "suspend"}
        )
        assert answer.status_code == 403
        assert post_form(client, "/admin/domains/mode", {"mode": "allowlist"}).status_code == 403
    assert _state(settings) == ([], False, [])
