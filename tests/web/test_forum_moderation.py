"""Moderation and editing on the forum pages: a moderator locks a thread (the reply form gives
way to a notice, in English and Polish), pins it above the others and removes a reply (a
placeholder keeps the tree); an author edits and deletes their own posts; a member who is
neither is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import Role
from fedi.services import forums
from fedi.services.members import find_member
from fedi.settings import Settings
from fedi.testing.web import csrf_token, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bob", "mira")

    async def work(session: Any) -> None:
        await forums.create_forum(session, settings, "reporting", "Reporting", "Indicators.")
        (await find_member(session, "mira")).role = Role.MODERATOR

    run_in_session(settings, work)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


def _post(client: TestClient, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False
    )
    return response


def _as(client: TestClient, login: str) -> None:
    client.cookies.clear()
    sign_in(client, login, PASSWORD)


def _start(client: TestClient, title: str) -> str:
    started = _post(
        client,
        "/forums/reporting/threads",
        {"title": title, "body": "How do you count *them*?", "language": "en"},
    )
    assert started.status_code == 303, started.text
    return started.headers["location"].split("?")[0]


def _reply(client: TestClient, thread: str, body: str, in_reply_to: str = "") -> str:
    sent = _post(client, f"{thread}/replies", {"body": body, "in_reply_to": in_reply_to})
    assert sent.status_code == 303, sent.text
    found = re.search(r"#reply-(\d+)$", sent.headers["location"])
    assert found is not None
    return found.group(1)


def test_a_moderator_locks_a_thread_and_the_reply_form_is_gone(client: TestClient) -> None:
    _as(client, "anna")
    thread = _start(client, "Counting participants")
    assert 'action="' + thread + '/replies"' in client.get(thread).text
    assert 'action="' + thread + '/lock"' not in client.get(thread).text
    assert _post(client, f"{thread}/lock", {"locked": "1"}).status_code == 403
    _as(client, "mira")
    locked = _post(client, f"{thread}/lock", {"locked": "1"})
    assert locked.status_code == 303 and locked.headers["location"] == f"{thread}?locked=1"
    page = client.get(thread)
    assert "This thread is locked: it takes no new replies." in page.text
    assert 'action="' + thread + '/replies"' not in page.text and "Reply to this" not in page.text
    assert "Unlock" in page.text
    polish = client.get(thread, headers={"Accept-Language": "pl"})
    assert "Ten wątek jest zablokowany" in polish.text and "Zablokowany" in polish.text
    refused = _post(client, f"{thread}/replies", {"body": "Late"})
    assert refused.status_code == 409 and "locked" in refused.text
    listed = client.get("/forums/reporting")
    assert "Locked" in listed.text
    _post(client, f"{thread}/lock", {"locked": "0"})
    assert 'action="' + thread + '/replies"' in client.get(thread).text


def test_a_pinned_thread_comes_first(client: TestClient) -> None:
    _as(client, "anna")
    first = _start(client, "First thread")
    _start(client, "Second thread")
    listed = client.get("/forums/reporting").text
    assert listed.index("Second thread") < listed.index("First thread")
    _as(client, "mira")
    assert _post(client, f"{first}/pin", {"pinned": "1"}).status_code == 303
    listed = client.get("/forums/reporting").text
    assert listed.index("First thread") < listed.index("Second thread")
    assert (
        "Pinned" in listed
        and "Przypięty" in client.get("/forums/reporting", headers={"Accept-Language": "pl"}).text
    )


def test_removed_replies_keep_the_tree_and_authors_edit(client: TestClient) -> None:
    _as(client, "anna")
    thread = _start(client, "Counting participants")
    _as(client, "bob")
    parent = _reply(client, thread, "Parent reply text")
    _as(client, "anna")
    page = client.get(thread).text
    uri = re.search(r'name="reply" value="([^"]+)"', page)
    assert uri is not None
    child = _reply(client, thread, "Child reply text", uri.group(1))
    assert _post(client, f"/replies/{parent}/delete").status_code == 403
    edit = client.get(f"/replies/{child}/edit")
    assert edit.status_code == 200 and "Child reply text" in edit.text
    assert client.get(f"/replies/{parent}/edit").status_code == 403
    saved = _post(client, f"/replies/{child}/edit", {"body": "Child reply, **edited**"})
    assert saved.status_code == 303, saved.text
    empty = _post(client, f"/replies/{child}/edit", {"body": ""})
    assert empty.status_code == 422 and "This field is required." in empty.text
    changed = _post(
        client, f"{thread}/edit", {"title": "Counting, edited", "body": "New", "language": "en"}
    )
    assert changed.status_code == 303
    _as(client, "mira")
    assert _post(client, f"/replies/{parent}/delete").status_code == 303
    page = client.get(thread).text
    assert "This reply was removed." in page and "Parent reply text" not in page
    assert "<strong>edited</strong>" in page and "Counting, edited" in page
    assert page.index("This reply was removed.") < page.index("<strong>edited</strong>")
    _as(client, "anna")
    gone = _post(client, f"{thread}/delete")
    assert gone.status_code == 303 and gone.headers["location"] == "/forums/reporting?deleted=1"
    assert client.get(thread).status_code == 404
    assert "The thread is deleted." in client.get("/forums/reporting?deleted=1").text
