"""Moderation and editing across two real instances on loopback: a member of IT follows PL's
forum and holds one of its threads and a reply; PL's moderator locks and pins the thread, its
author edits it, the moderator removes the reply, and each reaches IT through the forum's
``Announce`` (FEP-1b12): IT shows the thread locked (and refuses a reply from there), pinned and
edited, and drops the removed reply."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Role
from fedi.services.forums import create_forum
from fedi.services.members import find_member
from fedi.testing.instances import (
    RunningInstance,
    collection_items,
    wait_until,
)

pytestmark = pytest.mark.federation


def test_lock_pin_edit_and_removal_on_pl_reach_it(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    anna = pl.add_member("anna")
    mira = pl.add_member("mira")
    marco = it.add_member("marco")

    async def setup(session: AsyncSession) -> str:
        (await find_member(session, "mira")).role = Role.MODERATOR
        return (await create_forum(session, pl.settings, "reporting", "Reporting")).uri

    forum_uri = pl.run(setup)
    it.follow("marco", forum_uri)
    wait_until(lambda: it.actor_uri("marco") in collection_items(f"{forum_uri}/followers"))
    thread = pl.api(
        anna, "POST", "/api/v1/forums/reporting/threads",
        json={"title": "Counting participants", "body": "How do you count them?"},
    ).json()  # fmt: skip
    reply = pl.api(
        anna, "POST", f"/api/v1/threads/{thread['key']}/replies", json={"body": "Like so."}
    ).json()
    for uri in (thread["id"], reply["id"]):
        found = it.api(marco, "GET", "/api/v1/lookup", params={"id": uri, "resolve": "true"})
        assert found.status_code == 200, found.text
    held = it.stored_object(thread["id"])
    assert held is not None
    on_it = f"/api/v1/threads/{held.id}"

    def seen(key: str, value: Any) -> dict[str, Any] | None:
        answer: dict[str, Any] = it.api(marco, "GET", on_it).json()
        return answer if answer.get(key) == value else None

    assert pl.api(mira, "POST", f"/api/v1/threads/{thread['key']}/lock").status_code == 200
    wait_until(lambda: seen("locked", True), timeout=30)
    refused = it.api(marco, "POST", f"{on_it}/replies", json={"body": "Too late?"})
    assert refused.status_code == 409, refused.text

    assert pl.api(mira, "POST", f"/api/v1/threads/{thread['key']}/pin").status_code == 200
    wait_until(lambda: seen("pinned", True), timeout=30)

    edited = pl.api(
        anna, "PATCH", f"/api/v1/threads/{thread['key']}",
        json={"title": "Counting participants, edited", "body": "How do you count them now?"},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    wait_until(lambda: seen("title", "Counting participants, edited"), timeout=30)

    removed = pl.api(mira, "DELETE", f"/api/v1/replies/{reply['key']}")
    assert removed.status_code == 204

    def gone() -> bool:
        row = it.stored_object(reply["id"])
        return row is not None and row.deleted_at is not None

    wait_until(gone, timeout=30)
    assert seen("reply_count", 0) is not None
