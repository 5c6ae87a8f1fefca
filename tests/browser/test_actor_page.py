"""A person's public page, as a person sees it in a real browser, with JavaScript disabled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import local_actor
from fedi.db.models import Actor, Follow, FollowState
from fedi.testing.instances import RunningInstance, running_instance

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [
    pytest.mark.browser,
    # Playwright runs on the session's loop, with the session-scoped ``chromium`` (conftest.py).
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.parametrize("backend", ["sqlite"], indirect=True),
]

AS2 = "application/activity+json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _follow(instance: RunningInstance, follower: str, followed: str, state: FollowState) -> None:
    async def work(session: AsyncSession) -> None:
        settings = instance.settings
        source = await local_actor(session, settings, follower)
        target = await local_actor(session, settings, followed)
        assert source is not None and target is not None
        session.add(
            Follow(
                uri=f"{source.uri}#follows/{followed}",
                follower_id=source.id,
                followed_id=target.id,
                state=state,
            )
        )

    instance.run(work)


def _rename(instance: RunningInstance, login: str, display_name: str) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(Actor)
            .where(Actor.uri == instance.actor_uri(login))
            .values(display_name=display_name)
        )

    instance.run(work)


@pytest.fixture
def instance(tmp_path: Path, database_url: str) -> Iterator[RunningInstance]:
    """An instance where anna (display name "Anna Żak-Kowalska") has two accepted followers, one
    pending, and follows one person.

    A sync fixture: it runs while no event loop is running, so ``asyncio.run`` (in
    ``running_instance``, ``add_member``, ``run``) works."""
    with running_instance(tmp_path / "pl", database_url, worker=False) as running:
        for login in ("anna", "bea", "cem", "dan"):
            running.add_member(login)
        _rename(running, "anna", "Anna Żak-Kowalska")
        _follow(running, "bea", "anna", FollowState.ACCEPTED)
        _follow(running, "cem", "anna", FollowState.ACCEPTED)
        _follow(running, "dan", "anna", FollowState.PENDING)  # not counted until accepted
        _follow(running, "anna", "bea", FollowState.ACCEPTED)
        yield running


async def test_a_person_page_renders_without_javascript(
    instance: RunningInstance, page: Page, tmp_path: Path
) -> None:
    actor_id = instance.actor_uri("anna")
    domain = instance.settings.domain

    response = await page.goto(actor_id)
    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")

    assert await page.title() == "Anna Żak-Kowalska · ESF PL"
    assert await page.locator("html").get_attribute("lang") == "en"
    heading = page.locator("h1")
    assert await heading.count() == 1
    assert await heading.inner_text() == "Anna Żak-Kowalska"
    handle = f"@anna@{domain}"
    assert await page.locator("main p", has_text=handle).first.inner_text() == handle
    assert await page.locator("code").inner_text() == handle
    counts = dict(
        zip(
            await page.locator("dt").all_inner_texts(),
            await page.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert counts == {"Followers": "2", "Following": "1"}
    alternate = page.locator('link[rel="alternate"][type="application/activity+json"]')
    assert await alternate.count() == 1
    assert await alternate.get_attribute("href") == actor_id
    # Nothing on the page depended on a script.
    assert await page.locator("script").count() == 0

    screenshot = tmp_path / "actor-page.png"
    await page.screenshot(path=screenshot, full_page=True)
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1000

    # The same address answers a fediverse server with the actor document.
    async with httpx.AsyncClient() as client:
        document = await client.get(actor_id, headers={"Accept": AS2})
    assert document.status_code == 200
    assert document.headers["content-type"].startswith(AS2)
    assert document.json()["id"] == actor_id
    assert document.json()["preferredUsername"] == "anna"


async def test_an_unknown_person_is_not_found(instance: RunningInstance, page: Page) -> None:
    response = await page.goto(instance.actor_uri("nobody"))
    assert response is not None
    assert response.status == 404
