"""The members page: moderators see who has an account; admins change roles and suspend."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import Role
from fedi.services.members import add_member, find_member
from fedi.services.tokens import issue_token
from fedi.settings import Settings
from fedi.testing.web import post_form, sign_in
from fedi.web import create_app
from fedi.web.admin import members as members_page
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"


@pytest.fixture
def ids(settings: Settings) -> dict[str, int]:
    bootstrap(settings)

    async def work(session: AsyncSession) -> dict[str, int]:
        made = {}
        for login, role in (("zoe", Role.ADMIN), ("mia", Role.MODERATOR), ("nina", Role.MEMBER)):
            made[login] = (await add_member(session, settings, login, PASSWORD, role)).id
        return made

    made: dict[str, int] = run_in_session(settings, work)
    return made


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url=settings.base_url)


def _member(settings: Settings, login: str) -> tuple[Role, bool]:
    async def work(session: AsyncSession) -> tuple[Role, bool]:
        member = await find_member(session, login)
        return member.role, member.disabled

    found: tuple[Role, bool] = run_in_session(settings, work)
    return found


def test_a_moderator_sees_the_list_without_the_admin_forms(
    settings: Settings, ids: dict[str, int]
) -> None:
    with _client(settings) as client:
        sign_in(client, "mia", PASSWORD)
        page = client.get("/admin/members")
        assert page.status_code == 200
        for login in ("zoe", "mia", "nina"):
            assert f'<td data-label="Login">{login}</td>' in page.text
        assert "/suspension" not in page.text and "/role" not in page.text
        assert 'href="/admin/members"' in page.text  # the main navigation's link
        assert (
            post_form(client, f"/admin/members/{ids['nina']}/role", {"role": "admin"}).status_code
            == 403
        )
    assert _member(settings, "nina") == (Role.MEMBER, False)


def test_an_admin_changes_a_role(settings: Settings, ids: dict[str, int]) -> None:
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        answer = post_form(client, f"/admin/members/{ids['nina']}/role", {"role": "moderator"})
        assert answer.status_code == 303
        assert "The role is changed." in client.get(answer.headers["location"]).text
    assert _member(settings, "nina") == (Role.MODERATOR, False)


def test_an_admin_cannot_take_away_their_own_role(settings: Settings, ids: dict[str, int]) -> None:
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        answer = post_form(client, f"/admin/members/{ids['zoe']}/role", {"role": "member"})
        assert answer.status_code == 409
        assert "cannot take away your own administrator role" in answer.text
        assert f'aria-describedby="role-{ids["zoe"]}-error"' in answer.text
        answer = post_form(client, f"/admin/members/{ids['zoe']}/suspension", {"action": "suspend"})
        assert answer.status_code == 409
    assert _member(settings, "zoe") == (Role.ADMIN, False)


@pytest.mark.parametrize(
    ("path", "data", "status"),
    [
        ("role", {"role": "king"}, 422),
        ("role", {}, 422),
        ("suspension", {"action": "ban"}, 422),
        ("suspension", {}, 422),
    ],
)
def test_bad_input_changes_nothing(
    settings: Settings, ids: dict[str, int], path: str, data: dict[str, str], status: int
) -> None:
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        answer = post_form(client, f"/admin/members/{ids['nina']}/{path}", data)
        assert answer.status_code == status
        assert "The change was not made" in answer.text
    assert _member(settings, "nina") == (Role.MEMBER, False)


def test_an_unknown_member_is_not_found(settings: Settings, ids: dict[str, int]) -> None:
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        assert post_form(client, "/admin/members/9999/role", {"role": "admin"}).status_code == 404
        assert (
            post_form(client, "/admin/members/99999999999/suspension", {"action": "suspend"})
        ).status_code == 404


def test_a_suspended_member_is_signed_out_and_their_token_stops_at_once(
    settings: Settings, ids: dict[str, int]
) -> None:
    async def token(session: AsyncSession) -> str:
        return await issue_token(session, "nina", "phone")

    bearer = {"Authorization": f"Bearer {run_in_session(settings, token)}"}
    with _client(settings) as nina, _client(settings) as admin:
        sign_in(nina, "nina", PASSWORD)
        assert nina.get("/account").status_code == 200
        assert nina.get("/api/v1/me", headers=bearer).status_code == 200
        sign_in(admin, "zoe", PASSWORD)
        answer = post_form(admin, f"/admin/members/{ids['nina']}/suspension", {"action": "suspend"})
        assert answer.status_code == 303
        assert _member(settings, "nina") == (Role.MEMBER, True)
        row = re.search(
            rf'<tr id="member-{ids["nina"]}">.*?</tr>', admin.get("/admin/members").text, re.S
        )
        assert row is not None and "suspended" in row.group(0)

        assert nina.get("/account", follow_redirects=False).status_code == 303
        assert nina.get("/api/v1/me", headers=bearer).status_code == 401
        nina.cookies.clear()
        assert sign_in(nina, "nina", PASSWORD).status_code == 422

        answer = post_form(
            admin, f"/admin/members/{ids['nina']}/suspension", {"action": "unsuspend"}
        )
        assert answer.status_code == 303
        assert sign_in(nina, "nina", PASSWORD).status_code == 303
        assert nina.get("/account").status_code == 200


def test_the_list_pages_and_shows_last_seen(
    settings: Settings, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(members_page, "PAGE_SIZE", 2)
    with _client(settings) as client:
        sign_in(client, "zoe", PASSWORD)
        first = client.get("/admin/members").text
        # Newest first: nina and mia, then zoe (with the network's own accounts, if any).
        logins = re.findall(r'<td data-label="Login">([^<]+)</td>', first)
        assert logins == ["nina", "mia"]
        after = re.search(r'href="/admin/members\?before=(\d+)" rel="next"', first)
        assert after is not None
        second = client.get(f"/admin/members?before={after.group(1)}").text
        assert "zoe" in re.findall(r'<td data-label="Login">([^<]+)</td>', second)
        row = re.search(rf'<tr id="member-{ids["zoe"]}">.*?</tr>', second, re.S)
        assert row is not None
        # zoe is signed in, so she has been seen; mia has not.
        assert re.search(r'data-label="Last seen">[^—<]+<', row.group(0))
        row = re.search(rf'<tr id="member-{ids["mia"]}">.*?</tr>', first, re.S)
        assert row is not None and 'data-label="Last seen">—<' in row.group(0)
