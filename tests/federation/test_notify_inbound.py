"""Received follows and reports notify the people concerned: the member followed, or every
moderator of a followed forum; every moderator and admin of a ``Flag``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fedi.db.models import Member, Notification, Report, Role
from fedi.services.members import add_member
from fedi.testing.peers import InboxHarness, alice, bob
from tests.federation.test_inbound import FORUM, MIA, activity, all_rows, receive


async def members(h: InboxHarness) -> dict[str, int]:
    """nina (a member), mod (a moderator), boss (an admin); login -> member id."""
    async with h.ctx.sessions() as session, session.begin():
        for login, role in (("nina", Role.MEMBER), ("mod", Role.MODERATOR), ("boss", Role.ADMIN)):
            await add_member(session, h.settings, login, "a long test password", role)
    async with h.ctx.sessions() as session:
        rows = await session.scalars(select(Member))
        return {member.login: member.id for member in rows}


def by_member(rows: list[Notification]) -> dict[int, list[tuple[str, Any]]]:
    found: dict[int, list[tuple[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.member_id, []).append((row.kind, row.object_uri))
    return found


async def test_a_follow_notifies_the_member_once(h: InboxHarness) -> None:
    ids = await members(h)
    nina = "https://esf.test/users/nina"
    await receive(h, alice(), activity(alice(), "Follow", nina, "f1"))
    await receive(h, alice(), activity(alice(), "Follow", nina, "f2"))  # a re-sent follow
    rows = await all_rows(h, Notification)
    assert by_member(rows) == {ids["nina"]: [("follow", nina)]}
    assert rows[0].actor_id is not None


async def test_a_follow_of_a_forum_notifies_its_moderators(h: InboxHarness) -> None:
    ids = await members(h)
    await receive(h, bob(), activity(bob(), "Follow", FORUM, "f1"))
    assert by_member(await all_rows(h, Notification)) == {
        ids["mod"]: [("follow", FORUM)],
        ids["boss"]: [("follow", FORUM)],
    }


async def test_a_follow_request_is_its_own_kind(h: InboxHarness) -> None:
    async with h.ctx.sessions() as session, session.begin():
        # mia approves followers by hand; give her a member row
        mia = await h.actor_row(MIA)
        assert mia is not None
        session.add(Member(actor_id=mia.id, login="mia", password_hash="x"))
    await receive(h, alice(), activity(alice(), "Follow", MIA, "f1"))
    [row] = await all_rows(h, Notification)
    assert row.kind == "follow_request"


async def test_a_flag_is_stored_with_what_it_names_and_notifies_the_moderators(
    h: InboxHarness,
) -> None:
    ids = await members(h)
    nina = "https://esf.test/users/nina"
    flag = activity(
        alice(),
        "Flag",
        # (an object reference that is not an IRI is refused at the door: test_inbox_policy)
        [nina, "https://esf.test/objects/gone"],
        "flag1",
        content="Spam\u0007 account",
    )
    row = await receive(h, alice(), flag)
    assert row.error is None
    [report] = await all_rows(h, Report)
    assert (report.uri, report.object_uri, report.comment) == (flag["id"], nina, "Spam account")
    assert report.snapshot is not None
    assert report.snapshot["named"] == [nina, "https://esf.test/objects/gone"]
    assert [doc["id"] for doc in report.snapshot["objects"]] == [nina]
    assert by_member(await all_rows(h, Notification)) == {
        ids["mod"]: [("report", nina)],
        ids["boss"]: [("report", nina)],
    }


async def test_a_flag_without_an_object_is_dropped(h: InboxHarness) -> None:
    await members(h)
    row = await receive(h, alice(), activity(alice(), "Flag", [], "flag2"))
    assert row.error is not None
    assert await all_rows(h, Report) == []
    assert await all_rows(h, Notification) == []
