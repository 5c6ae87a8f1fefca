"""Invitations: admins create single-use links, invited people join with them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.accounts.invites import create_invite
from fedi.cli import main
from fedi.cli.common import run_in_session
from fedi.db.models import Role, utcnow
from fedi.instance import build_context
from fedi.services.members import add_member, find_member, list_members
from fedi.settings import Settings
from fedi.testing.instances import Clock
from fedi.testing.web import post_form, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"
NEW = {"login": "nina", "password": "nina's own password", "confirm": "nina's own password"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    bootstrap(settings, "anna")

    async def admin(session: AsyncSession) -> None:
        await add_member(session, settings, "zoe", PASSWORD, Role.ADMIN)

    run_in_session(settings, admin)
    context = build_context(settings)
    context.clock = clock
    with TestClient(create_app(settings, context=context), base_url=settings.base_url) as client:
        yield client


def _invite(settings: Settings, role: Role = Role.MEMBER, days: int = 7) -> str:
    async def work(session: AsyncSession) -> str:
        created = await create_invite(session, now=utcnow(), role=role, expires_in_days=days)
        return created.token

    token: str = run_in_session(settings, work)
    return token


def _logins(settings: Settings) -> list[str]:
    async def work(session: AsyncSession) -> list[str]:
        return [member.login for member in await list_members(session)]

    logins: list[str] = run_in_session(settings, work)
    return logins


def test_an_admin_creates_a_link_and_the_invited_person_joins_with_its_role(
    client: TestClient, settings: Settings
) -> None:
    sign_in(client, "zoe", PASSWORD)
    page = post_form(
        client, "/admin/invites", {"role": "moderator", "days": "3", "note": "Nina, Kraków"}
    )
    assert page.status_code == 200
    link = re.search(r'id="new-link">(https://esf\.test/join/[^<]+)</code>', page.text)
    assert link is not None
    assert "Nina, Kraków" in page.text
    post_form(client, "/logout", {})

    path = link.group(1).removeprefix("https://esf.test")
    assert "moderator" in client.get(path).text
    joined = post_form(client, path, NEW)
    assert joined.status_code == 303
    assert joined.headers["location"] == "/account?welcome=1"
    assert "Welcome!" in client.get("/account?welcome=1").text  # signed in at once

    async def role(session: AsyncSession) -> Role:
        return (await find_member(session, "nina")).role

    assert run_in_session(settings, role) is Role.MODERATOR
    # Single use.
    post_form(client, "/logout", {})
    again = post_form(client, path, {**NEW, "login": "nina2"})
    assert again.status_code == 410
    assert "nina2" not in _logins(settings)
    # The list shows who used it.
    sign_in(client, "zoe", PASSWORD)
    assert "used by nina" in client.get("/admin/invites").text


def test_an_expired_or_withdrawn_invitation_cannot_be_used(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    expiring = _invite(settings, days=1)
    clock.advance(timedelta(days=1, seconds=1))
    answer = post_form(client, f"/join/{expiring}", NEW)
    assert answer.status_code == 410
    assert "This invitation has expired." in answer.text

    withdrawn = _invite(settings)
    sign_in(client, "zoe", PASSWORD)
    page = client.get("/admin/invites").text
    ids = re.findall(r'action="/admin/invites/(\d+)/withdraw"', page)
    assert len(ids) == 1  # the expired one can no longer be withdrawn
    assert post_form(client, f"/admin/invites/{ids[0]}/withdraw", {}).status_code == 303
    post_form(client, "/logout", {})
    answer = post_form(client, f"/join/{withdrawn}", NEW)
    assert answer.status_code == 410
    assert "withdrawn" in answer.text
    assert "nina" not in _logins(settings)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"login": "Nina Z"}, "login", "A login has 1 to 30 characters"),
        ({"login": "admin"}, "login", "This login is reserved"),
        ({"login": "anna"}, "login", "This login is taken"),
        ({"password": "short", "confirm": "short"}, "password", "at least 10 characters"),
        ({"confirm": "something else"}, "confirm", "The two passwords are not the same"),
    ],
)
def test_a_bad_sign_up_comes_back_whole_and_creates_nobody(
    client: TestClient, settings: Settings, fields: dict[str, str], field: str, message: str
) -> None:
    token = _invite(settings)
    before = _logins(settings)
    answer = post_form(client, f"/join/{token}", {**NEW, **fields})
    assert answer.status_code == 422
    assert "<title>Error: " in answer.text
    assert f'<a href="#{field}">' in answer.text
    assert message in answer.text
    assert (
        f'aria-describedby="{field}-error"' in answer.text or f'id="{field}-error"' in answer.text
    )
    assert _logins(settings) == before
    # The invitation is still good.
    assert post_form(client, f"/join/{token}", NEW).status_code == 303


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"role": "owner"}, "role"),
        ({"days": "0"}, "days"),
        ({"days": "91"}, "days"),
        ({"days": "x"}, "days"),
    ],
)
def test_a_bad_invitation_form_is_refused(
    client: TestClient, fields: dict[str, str], field: str
) -> None:
    sign_in(client, "zoe", PASSWORD)
    answer = post_form(client, "/admin/invites", {"role": "member", "days": "7", **fields})
    assert answer.status_code == 422
    assert f'<a href="#{field}">' in answer.text
    assert "No invitations yet." in answer.text


def test_members_and_moderators_cannot_invite(client: TestClient, settings: Settings) -> None:
    sign_in(client, "anna", PASSWORD)
    assert client.get("/admin/invites").status_code == 403
    answer = post_form(client, "/admin/invites", {"role": "admin", "days": "7"})
    assert answer.status_code == 403
    post_form(client, "/logout", {})
    sign_in(client, "zoe", PASSWORD)
    assert "No invitations yet." in client.get("/admin/invites").text


def test_fedi_invite_create_prints_a_working_link(
    client: TestClient,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "FEDI_DATA_DIR": str(settings.data_dir),
        "FEDI_DATABASE_URL": settings.database_url,
        "FEDI_BASE_URL": settings.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["invite", "create", "--role", "moderator", "--expires-in", "2"]) == 0
    out = capsys.readouterr().out
    assert "moderator, valid for 2 days" in out
    link = out.strip().splitlines()[-1]
    assert link.startswith("https://esf.test/join/")
    assert post_form(client, link.removeprefix("https://esf.test"), NEW).status_code == 303
    assert main(["invite", "create", "--expires-in", "100"]) == 1
    assert "1 to 90 days" in capsys.readouterr().err
