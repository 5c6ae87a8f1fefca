"""The reports queue: a ``Flag`` received through the inbox (a signed POST) is listed open with
what it names, and a moderator closes it with a note."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fedi.db.models import Member, Report, Role
from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.services.members import add_member
from fedi.services.reports import close_report, report_page
from fedi.testing.peers import FIXED_NOW, InboxHarness, alice, bob, note
from tests.federation.test_inbound import activity, receive


async def _moderator(h: InboxHarness) -> Member:
    async with h.ctx.sessions() as session, session.begin():
        return await add_member(session, h.settings, "mod", "a long test password", Role.MODERATOR)


async def _flag_bobs_note(h: InboxHarness) -> str:
    spam = note(bob(), "spam", content="<p>Buy <b>now</b></p><script>alert(1)</script>")
    await receive(h, bob(), activity(bob(), "Create", spam, "c-spam"))
    flag = activity(alice(), "Flag", [spam["id"]], "flag-spam", content="Spam from bob")
    row = await receive(h, alice(), flag)
    assert row.error is None
    return str(spam["id"])


async def test_a_received_flag_is_open_with_the_object_shown(h: InboxHarness) -> None:
    spam = await _flag_bobs_note(h)
    async with h.ctx.sessions() as session:
        page = await report_page(session, closed=False, limit=10, before=None)
        closed = await report_page(session, closed=True, limit=10, before=None)
    [row] = page.rows
    assert page.total == 1 and closed.rows == [] and closed.total == 0
    assert row.report.object_uri == spam and row.report.comment == "Spam from bob"
    assert row.reporter is not None and row.reporter.uri == alice().uri
    assert row.reported.author == "@bob@bob.test"
    assert "Buy <b>now</b>" in row.reported.html and "script" not in row.reported.html
    assert row.reported.link == spam
    assert row.resolver is None


async def test_a_moderator_closes_a_report_and_it_leaves_the_open_list(h: InboxHarness) -> None:
    moderator = await _moderator(h)
    await _flag_bobs_note(h)
    async with h.ctx.sessions() as session:
        report_id = (await session.scalars(select(Report.id))).one()
    async with h.ctx.sessions() as session, session.begin():
        await close_report(
            session, report_id, "dismissed", "  Not spam.  ", by=moderator, now=FIXED_NOW
        )
    async with h.ctx.sessions() as session:
        assert (await report_page(session, closed=False, limit=10, before=None)).rows == []
        [row] = (await report_page(session, closed=True, limit=10, before=None)).rows
    assert (row.report.outcome, row.report.resolution_note) == ("dismissed", "Not spam.")
    assert row.report.resolved_at is not None and row.resolver == "mod"
    async with h.ctx.sessions() as session, session.begin():
        with pytest.raises(ConflictError):
            await close_report(session, report_id, "resolved", "", by=moderator, now=FIXED_NOW)


@pytest.mark.parametrize(
    ("outcome", "note_text", "field"),
    [("deleted", "", "outcome"), ("resolved", "x" * 5001, "note"), ("resolved", "a\x00b", "note")],
)
async def test_a_bad_close_changes_nothing(
    h: InboxHarness, outcome: str, note_text: str, field: str
) -> None:
    moderator = await _moderator(h)
    await _flag_bobs_note(h)
    async with h.ctx.sessions() as session, session.begin():
        report_id = (await session.scalars(select(Report.id))).one()
        with pytest.raises(ValidationError) as refused:
            await close_report(session, report_id, outcome, note_text, by=moderator, now=FIXED_NOW)
        assert refused.value.field == field
        with pytest.raises(NotFoundError):
            await close_report(session, report_id + 1, "resolved", "", by=moderator, now=FIXED_NOW)
    async with h.ctx.sessions() as session:
        assert len((await report_page(session, closed=False, limit=10, before=None)).rows) == 1


async def test_open_reports_are_paged_newest_first(h: InboxHarness) -> None:
    await receive(h, bob(), activity(bob(), "Create", note(bob()), "c-known"))  # bob is known
    for name in ("a", "b", "c"):
        flag = activity(alice(), "Flag", [bob().uri], f"flag-{name}", content=name)
        await receive(h, alice(), flag)
    async with h.ctx.sessions() as session:
        first = await report_page(session, closed=False, limit=2, before=None)
        second = await report_page(session, closed=False, limit=2, before=first.next_before)
    assert [row.report.comment for row in first.rows] == ["c", "b"]
    assert [row.report.comment for row in second.rows] == ["a"] and second.next_before is None
    assert first.rows[0].reported.author == "@bob@bob.test"
