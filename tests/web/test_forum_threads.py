"""The forum pages: the forums with their thread counts, a forum's threads and the form that
starts one, a thread with its replies as a tree, replying and marking the solution; refusals
tied to their fields; English and Polish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import utcnow
from fedi.services import forums
from fedi.settings import Settings
from fedi.testing.web import csrf_token, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bob")

    async def work(session: Any) -> None:
        await forums.create_forum(session, settings, "reporting", "Reporting", "Indicators.")
        await forums.create_forum(session, settings, "closed", "Closed")
        await forums.archive_forum(session, settings, "closed", utcnow())

    run_in_session(settings, work)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


def _post(client: TestClient, path: str, data: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf_token(client), **data}, follow_redirects=False
    )
    return response


def _start(client: TestClient, title: str = "Counting participants") -> str:
    started = _post(
        client,
        "/forums/reporting/threads",
        {"title": title, "body": "How do you count *them*?", "language": "en"},
    )
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert re.fullmatch(r"/threads/\d+\?started=1", location), location
    return location.split("?")[0]


def test_the_forums_list_counts_threads_in_both_languages(client: TestClient) -> None:
    page = client.get("/forums")
    assert page.status_code == 200
    assert "Reporting" in page.text and "0 threads" in page.text
    assert 'href="/forums"' in page.text  # in the main navigation
    sign_in(client, "anna", PASSWORD)
    _start(client)
    assert "1 thread" in client.get("/forums").text
    polish = client.get("/forums", headers={"Accept-Language": "pl"})
    assert "1 wątek" in polish.text and "Fora tematyczne" in polish.text
    assert client.get("/forums/nowhere").status_code == 404


def test_a_member_starts_a_thread_replies_nest_and_the_author_marks_the_answer(
    client: TestClient,
) -> None:
    anonymous = client.get("/forums/reporting")
    assert "No threads yet." in anonymous.text and "Sign in to start a thread." in anonymous.text
    sign_in(client, "anna", PASSWORD)
    thread = _start(client)
    key = thread.rsplit("/", 1)[1]
    page = client.get(thread)
    assert "<em>them</em>" in page.text and "No replies yet." in page.text
    # Servers that are given the page's address find the thread's ActivityPub id here.
    assert re.search(
        r'<link rel="alternate" type="application/activity\+json" href="https://esf.test/objects/',
        page.text,
    )
    client.cookies.clear()
    sign_in(client, "bob", PASSWORD)
    replied = _post(client, f"{thread}/replies", {"body": "We count **heads**."})
    assert replied.status_code == 303
    first = int(replied.headers["location"].rsplit("#reply-", 1)[1])
    answering = client.get(f"{thread}?reply_to={first}")
    assert "Reply to bob" in answering.text
    reply_uri = re.search(r'name="in_reply_to" value="([^"]+)"', answering.text)
    assert reply_uri is not None
    nested = _post(
        client, f"{thread}/replies", {"body": "And hours.", "in_reply_to": reply_uri.group(1)}
    )
    assert nested.status_code == 303
    tree = client.get(thread).text
    # The second reply sits inside the first one's list item.
    outer = tree.index(f'id="reply-{first}"')
    inner = tree.index("And hours.")
    assert outer < inner < tree.index("</ol>", inner) and tree.count('class="replies') == 2
    assert "Mark as solution" not in tree  # bob is not the thread's author
    refused = _post(client, f"{thread}/solution", {"reply": reply_uri.group(1)})
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, "anna", PASSWORD)
    assert "Mark as solution" in client.get(thread).text
    marked = _post(client, f"{thread}/solution", {"reply": reply_uri.group(1)})
    assert marked.status_code == 303 and marked.headers["location"] == f"{thread}?solved=1"
    solved = client.get(f"{thread}?solved=1")
    assert "The accepted answer is marked." in solved.text and "Accepted answer" in solved.text
    listed = client.get("/forums/reporting").text
    assert "Solved" in listed and "2 replies" in listed
    polish = client.get(thread, headers={"Accept-Language": "pl"}).text
    assert "Zaakceptowana odpowiedź" in polish and "Rozwiązany" in polish
    assert client.get(f"/threads/{key}9999").status_code == 404


def test_refusals_are_shown_by_their_fields_and_change_nothing(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    empty = _post(client, "/forums/reporting/threads", {"title": "", "body": "", "language": "en"})
    assert empty.status_code == 422
    assert "This field is required." in empty.text and 'aria-invalid="true"' in empty.text
    assert "No threads yet." in empty.text
    archived = _post(
        client, "/forums/closed/threads", {"title": "t", "body": "b", "language": "en"}
    )
    assert archived.status_code == 409 and "archived" in archived.text
    thread = _start(client)
    blank = _post(client, f"{thread}/replies", {"body": "  "})
    assert blank.status_code == 422 and "This field is required." in blank.text
    assert "No replies yet." in blank.text
    polish = client.post(
        "/forums/reporting/threads",
        data={"csrf_token": csrf_token(client), "title": "", "body": "x", "language": "pl"},
        headers={"Accept-Language": "pl"},
    )
    assert polish.status_code == 422 and "To pole jest wymagane." in polish.text
    client.cookies.clear()
    anonymous = client.post(
        "/forums/reporting/threads", data={"title": "t", "body": "b"}, follow_redirects=False
    )
    assert anonymous.status_code in (303, 403)
