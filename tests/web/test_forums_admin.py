"""The admins' forums page: create, rename, archive and reopen forums in the browser's forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import Role
from fedi.errors import ConflictError
from fedi.services.forums import ForumInfo, ensure_open, forum_info, forum_infos
from fedi.services.members import add_member
from fedi.settings import Settings
from fedi.testing.web import post_form, sign_in
from fedi.web import create_app
from fedi.web.ui.i18n import LANGUAGE_COOKIE
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna")

    async def admin(session: AsyncSession) -> None:
        await add_member(session, settings, "zoe", PASSWORD, Role.ADMIN)

    run_in_session(settings, admin)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        sign_in(client, "zoe", PASSWORD)
        yield client


def _forums(settings: Settings) -> list[ForumInfo]:
    async def work(session: Any) -> list[ForumInfo]:
        return await forum_infos(session, settings)

    found: list[ForumInfo] = run_in_session(settings, work)
    return found


def test_an_admin_creates_renames_archives_and_reopens_a_forum(
    client: TestClient, settings: Settings
) -> None:
    assert "No forums yet" in client.get("/admin/forums").text
    created = post_form(
        client, "/admin/forums", {"slug": "employment", "name": "Employment", "summary": "Jobs."}
    )
    assert created.status_code == 303
    assert created.headers["location"] == "https://esf.test/admin/forums?done=created"
    page = client.get("/admin/forums?done=created").text
    assert "The forum is created." in page and "@employment@esf.test" in page
    [forum] = _forums(settings)
    assert (forum.actor.display_name, forum.actor.summary, forum.archived) == (
        "Employment",
        "Jobs.",
        False,
    )

    edit = client.get("/admin/forums/employment")
    assert edit.status_code == 200 and ">Jobs.</textarea>" in edit.text
    saved = post_form(
        client, "/admin/forums/employment", {"name": "Work and jobs", "summary": "All about work."}
    )
    assert saved.status_code == 303
    assert "Saved." in client.get(saved.headers["location"]).text
    [forum] = _forums(settings)
    assert (forum.actor.display_name, forum.actor.summary) == ("Work and jobs", "All about work.")

    assert post_form(client, "/admin/forums/employment/archive", {}).status_code == 303
    [forum] = _forums(settings)
    assert forum.archived
    assert "archived on" in client.get("/admin/forums/employment").text

    async def refused(session: AsyncSession) -> str:
        info = await forum_info(session, settings, "employment")
        try:
            await ensure_open(session, info.actor)
        except ConflictError as error:
            return str(error)
        return ""

    assert "archived" in run_in_session(settings, refused)
    assert post_form(client, "/admin/forums/employment/reopen", {}).status_code == 303
    assert not _forums(settings)[0].archived
    assert run_in_session(settings, refused) == ""


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"slug": "Not A Slug"}, "slug", "Use 1 to 30 lower-case letters"),
        ({"slug": "anna"}, "slug", "This slug is taken"),
        ({"slug": "admin"}, "slug", "Use 1 to 30 lower-case letters"),
        ({"name": ""}, "name", "Give the forum a name"),
        ({"summary": "x" * 2001}, "summary", "at most 2000 characters"),
    ],
)
def test_a_refused_forum_comes_back_whole_and_creates_nothing(
    client: TestClient, settings: Settings, fields: dict[str, str], field: str, message: str
) -> None:
    answer = post_form(
        client, "/admin/forums", {"slug": "housing", "name": "Housing", "summary": "", **fields}
    )
    assert answer.status_code == 422
    assert "<title>Error: " in answer.text
    assert f'<a href="#{field}">' in answer.text
    assert message in answer.text
    assert f'aria-describedby="{field}-hint {field}-error"' in answer.text
    assert _forums(settings) == []


def test_the_pages_are_in_polish_for_polish_readers(client: TestClient) -> None:
    post_form(client, "/admin/forums", {"slug": "employment", "name": "Praca", "summary": ""})
    client.cookies.set(LANGUAGE_COOKIE, "pl", domain="esf.test")
    page = client.get("/admin/forums").text
    assert "Załóż forum" in page and "Archiwizuj" in page
    refused = post_form(client, "/admin/forums/employment", {"name": "", "summary": ""})
    assert refused.status_code == 422 and "Nadaj forum nazwę" in refused.text


def test_an_unknown_forum_is_not_found(client: TestClient) -> None:
    assert client.get("/admin/forums/nothing").status_code == 404
    assert post_form(client, "/admin/forums/nothing/archive", {}).status_code == 404
