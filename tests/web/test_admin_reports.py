"""The reports queue pages: moderators read open reports and close them; members cannot."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import Actor, Report, Role
from fedi.services.members import add_member
from fedi.services.reports import report
from fedi.settings import Settings
from fedi.testing.web import post_form, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"
TARGET = "https://remote.test/notes/1"


@pytest.fixture
def report_id(settings: Settings) -> int:
    """mia moderates; nina (a member) reported a remote note with a comment."""
    bootstrap(settings)

    async def work(session: AsyncSession) -> int:
        await add_member(session, settings, "mia", PASSWORD, Role.MODERATOR)
        nina = await add_member(session, settings, "nina", PASSWORD, Role.MEMBER)
        reporter = await session.get(Actor, nina.actor_id)
        assert reporter is not None
        row = await report(session, settings, reporter, [TARGET], "Rude <b>reply</b>")
        return row.id

    made: int = run_in_session(settings, work)
    return made


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url=settings.base_url)


def _report(settings: Settings, report_id: int) -> Report:
    async def work(session: AsyncSession) -> Report:
        row = await session.get(Report, report_id)
        assert row is not None
        return row

    found: Report = run_in_session(settings, work)
    return found


def test_a_moderator_sees_the_open_report(settings: Settings, report_id: int) -> None:
    with _client(settings) as client:
        sign_in(client, "mia", PASSWORD)
        page = client.get("/admin/reports")
        assert page.status_code == 200
        assert f'id="report-{report_id}"' in page.text
        assert "Rude &lt;b&gt;reply&lt;/b&gt;" in page.text  # the comment is text, escaped
        assert f"@nina@{settings.domain} (a member of this network)" in page.text
        assert f'href="{TARGET}"' in page.text
        assert f'href="/admin/reports/{report_id}"' in page.text
        assert 'href="/admin/reports" aria-current="page">Reports' in page.text
        assert "No closed reports." in client.get("/admin/reports?state=closed").text
        detail = client.get(f"/admin/reports/{report_id}")
        assert detail.status_code == 200
        assert 'href="/admin/members"' in detail.text and 'href="/admin/domains"' in detail.text
        assert f'action="/admin/reports/{report_id}/close"' in detail.text
        assert client.get(f"/admin/reports/{report_id + 1}").status_code == 404


def test_a_moderator_resolves_a_report_with_a_note(settings: Settings, report_id: int) -> None:
    with _client(settings) as client:
        sign_in(client, "mia", PASSWORD)
        answer = post_form(
            client,
            f"/admin/reports/{report_id}/close",
            {"outcome": "resolved", "note": "Suspended the author's host."},
        )
        assert answer.status_code == 303
        page = client.get(answer.headers["location"]).text
        assert "The report is resolved and has left the open list." in page
        assert "No open reports." in page
        closed = client.get("/admin/reports?state=closed").text
        assert "Suspended the author&#39;s host." in closed and "by mia" in closed
        again = post_form(client, f"/admin/reports/{report_id}/close", {"outcome": "dismissed"})
        assert again.status_code == 409
        assert "This report is already closed." in again.text
    row = _report(settings, report_id)
    assert (row.outcome, row.resolution_note) == ("resolved", "Suspended the author's host.")
    assert row.resolved_at is not None and row.resolved_by_id is not None


@pytest.mark.parametrize(
    ("form", "message", "field"),
    [
        ({"outcome": "", "note": "kept"}, "Choose whether the report is resolved", "outcome"),
        ({"outcome": "resolved", "note": "x" * 5001}, "at most 5000 characters", "note"),
    ],
)
def test_a_bad_close_is_refused_at_the_field(
    settings: Settings, report_id: int, form: dict[str, str], message: str, field: str
) -> None:
    with _client(settings) as client:
        sign_in(client, "mia", PASSWORD)
        answer = post_form(client, f"/admin/reports/{report_id}/close", form)
        assert answer.status_code == 422
        assert message in answer.text
        assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"', answer.text)
        assert f'href="#{field}"' in answer.text
    assert _report(settings, report_id).resolved_at is None


def test_a_member_cannot_see_or_close_reports(settings: Settings, report_id: int) -> None:
    with _client(settings) as client:
        sign_in(client, "nina", PASSWORD)
        assert client.get("/admin/reports").status_code == 403
        closing = post_form(client, f"/admin/reports/{report_id}/close", {"outcome": "dismissed"})
        assert closing.status_code == 403
    assert _report(settings, report_id).resolved_at is None
