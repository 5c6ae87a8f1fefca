"""No page's count of SQL statements grows with what it lists: the thread page (its replies, a
tree of several authors), a forum's page (its threads), the front page (the forums) and the
experiences list, each counted with 5 and with 50 items, for a visitor and for a member."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.content.experiences.service import create_experience
from fedi.content.threads.service import post_reply, start_thread
from fedi.db.models import Actor
from fedi.services import forums
from fedi.settings import Settings
from fedi.testing.web import sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"
AUTHORS = ("anna", "bob", "carla", "dmitri")


class Statements:
    """Every SQL statement any engine of this process runs while :attr:`counting` is set."""

    def __init__(self) -> None:
        self.counting = False
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.counting:
            with self._lock:
                self.seen.append(statement)

    def of(self, run: Callable[[], Any]) -> list[str]:
        self.seen, self.counting = [], True
        try:
            run()
        finally:
            self.counting = False
        return self.seen


@pytest.fixture
def statements() -> Iterator[Statements]:
    counter = Statements()
    event.listen(Engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", counter)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, *AUTHORS)

    async def work(session: AsyncSession) -> None:
        await forums.create_forum(session, settings, "reporting", "Reporting", "Indicators.")
        await forums.create_forum(session, settings, "talk", "Talk")

    run_in_session(settings, work)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


class Content:
    """Adds items to every page under count: forums, threads of ``reporting``, replies to one
    thread of ``talk`` (a tree: each reply answers the thread or one of the replies before it,
    by turns of four authors), experiences."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.items = 0
        self.thread = 0
        self.replies: list[str] = []

    def grow_to(self, items: int) -> None:
        settings = self.settings

        async def work(session: AsyncSession) -> None:
            authors = list(
                (await session.scalars(select(Actor).where(Actor.username.in_(AUTHORS)))).all()
            )
            if not self.thread:
                view = await start_thread(
                    session, settings, authors[0], "talk", {"title": "Tree", "body": "Root."}
                )
                self.thread = view.key
                self.replies.append(view.uri)
            for n in range(self.items, items):
                author = authors[n % len(authors)]
                await forums.create_forum(session, settings, f"forum_{n}", f"Forum {n}")
                fields = {"title": f"Thread {n}", "body": f"Question {n}.", "language": "en"}
                await start_thread(session, settings, author, "reporting", fields)
                # Replies nest: the thread, its first reply, a reply of that one... every
                # third reply goes back up to the thread.
                parent = self.replies[0] if n % 3 == 0 else self.replies[-1]
                reply = await post_reply(
                    session,
                    settings,
                    author,
                    self.thread,
                    {"body": f"Answer {n}.", "in_reply_to": parent, "language": "en"},
                )
                self.replies.append(reply.uri)
                experience = {
                    "kind": "experience",
                    "language": "en",
                    "title": f"Experience {n}",
                    "body": "Text.",
                    "themes": ["partnership"],
                }
                await create_experience(session, settings, author, experience)
            await session.commit()

        run_in_session(settings, work)
        self.items = items


def _counts(client: TestClient, statements: Statements, thread: int) -> dict[str, int]:
    counts = {}
    for path in ("/", "/forums/reporting", f"/threads/{thread}", "/experiences", "/forums"):

        def get(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:500])

        get()  # anything a first request does once (caches) is not counted
        counts[path] = len(statements.of(get))
    return counts


def test_no_page_makes_a_query_per_item(
    client: TestClient, settings: Settings, statements: Statements
) -> None:
    content = Content(settings)
    content.grow_to(5)
    few = _counts(client, statements, content.thread)
    content.grow_to(50)
    page = client.get(f"/threads/{content.thread}").text
    assert page.count('<li class="reply') == 50
    assert "@forum_49@" in client.get("/").text
    assert client.get("/forums/reporting").text.count('href="/threads/') == 20
    assert client.get("/experiences").text.count("Experience 4") == 10  # 49 to 40, the newest
    many = _counts(client, statements, content.thread)
    assert many == few, (few, many)
    assert sign_in(client, "anna", PASSWORD).status_code == 303
    member_few = _counts(client, statements, content.thread)
    content.grow_to(55)
    assert _counts(client, statements, content.thread) == member_few
    # Each count is small: a page reads its items with a few statements, whatever their number.
    assert all(count <= 20 for count in many.values()), many
