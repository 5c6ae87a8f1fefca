"""Asking an expert across two real instances on loopback: a member of IT finds an expert of PL
in IT's directory and asks a question; the expert on PL is notified and answers; the member on
IT reads the answer on the conversation page. Neither side stores the Notes as content, and
nobody else on PL reads the conversation. An answer shaped as Mastodon writes a reply to a
direct message (no term of ours, HTML content opening with the mention) lands too; a reply by
someone outside the conversation, or a question to a member who is not discoverable, is
dropped."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.remote import fetch_actor
from fedi.db.models import Activity, ActivityState, ContentObject, ExpertQuestion
from fedi.federation.outbox import publish
from fedi.instance import build_context
from fedi.net.client import FetchBudget
from fedi.services.members import find_member
from fedi.testing.instances import RunningInstance, wait_until

pytestmark = pytest.mark.federation

PROFILE = {
    "display_name": "Anna Nowak",
    "organisation": "Fundacja Aktywnej Integracji",
    "country": "PL",
    "languages": ["pl", "en"],
    "expertise": {"themes": ["social-inclusion"], "objectives": ["h"]},
}
QUESTION = {"subject": "Mentoring NEETs", "message": "How do you recruit mentors?"}


def _notifications(instance: RunningInstance, token: str, kind: str) -> list[dict[str, Any]]:
    items = instance.api(token, "GET", "/api/v1/notifications").json()["items"]
    return [item for item in items if item["kind"] == kind]


def _fetch(instance: RunningInstance, uri: str) -> None:
    async def work() -> None:
        context = build_context(instance.settings)
        try:
            await fetch_actor(context, uri, budget=FetchBudget())
        finally:
            await context.aclose()

    asyncio.run(work())


def _expert(pl: RunningInstance, login: str, **fields: Any) -> str:
    token = pl.add_member(login)
    answer = pl.api(token, "PATCH", "/api/v1/me", json=PROFILE | fields)
    assert answer.status_code == 200, answer.text
    return token


def _ask(pl: RunningInstance, it: RunningInstance) -> tuple[str, str, dict[str, Any]]:
    """anna, an expert of PL, asked by marco of IT once IT's directory lists her."""
    anna = _expert(pl, "anna")
    marco = it.add_member("marco")
    _fetch(it, pl.actor_uri("anna"))
    listed = it.api(marco, "GET", "/api/v1/experts", params={"theme": "social-inclusion"})
    (entry,) = listed.json()["items"]
    handle = entry["handle"]
    sent = it.api(marco, "POST", f"/api/v1/experts/{handle}/questions", json=QUESTION)
    assert sent.status_code == 201, sent.text
    return anna, marco, sent.json()


def _questions(instance: RunningInstance) -> list[ExpertQuestion]:
    async def work(session: AsyncSession) -> list[ExpertQuestion]:
        return list((await session.scalars(select(ExpertQuestion))).all())

    rows: list[ExpertQuestion] = instance.run(work)
    return rows


def _send_raw(sender: RunningInstance, login: str, to: str, note: dict[str, Any]) -> None:
    """``login`` of ``sender`` sends ``note`` to ``to`` in a ``Create``, as another server's
    software would write it."""

    async def send(session: AsyncSession) -> None:
        context = build_context(sender.settings)
        try:
            target = await fetch_actor(context, to, budget=FetchBudget())
        finally:
            await context.aclose()
        member = await find_member(session, login)
        activity = {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                {"ostatus": "http://ostatus.org#", "sensitive": "as:sensitive"},
            ],
            "id": f"{note['id']}/activity",
            "type": "Create",
            "actor": member.actor.uri,
            "to": [to],
            "cc": [],
            "object": note | {"attributedTo": member.actor.uri},
        }
        await publish(session, member.actor, activity, inboxes=[target.inbox])

    sender.run(send)


def _received(instance: RunningInstance, note_uri: str) -> tuple[ActivityState, str | None]:
    async def outcome(session: AsyncSession) -> Any:
        return (
            await session.execute(
                select(Activity.state, Activity.error).where(
                    Activity.local.is_(False), Activity.uri == f"{note_uri}/activity"
                )
            )
        ).first()

    found = wait_until(
        lambda: (
            (row := instance.run(outcome)) is not None and row[0] != ActivityState.RECEIVED and row
        ),
        timeout=30,
    )
    return found[0], found[1]


def _notes_stored(instance: RunningInstance) -> int:
    async def contents(session: AsyncSession) -> int:
        rows = await session.scalars(select(ContentObject).where(ContentObject.type == "Note"))
        return len(rows.all())

    count: int = instance.run(contents)
    return count


def test_a_question_reaches_an_expert_of_another_instance_and_the_answer_comes_back(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    anna, marco, sent = _ask(pl, it)
    piotr = pl.add_member("piotr")

    (told,) = wait_until(lambda: _notifications(pl, anna, "question"), timeout=30)
    assert told["actor"]["handle"] == f"@marco@{it.settings.domain}"
    assert told["data"]["subject"] == "Mentoring NEETs"
    assert told["data"]["comment"] == QUESTION["message"]
    question = told["data"]["question"]
    talk = pl.api(anna, "GET", f"/api/v1/questions/{question}").json()
    assert talk["subject"] == "Mentoring NEETs"
    assert talk["messages"][0]["uri"] == sent["uri"] and talk["messages"][0]["local"] is False
    assert pl.api(piotr, "GET", f"/api/v1/questions/{question}").status_code == 404
    page = pl.api(anna, "GET", f"/questions/{question}")
    assert page.status_code == 200 and "How do you recruit mentors?" in page.text

    answered = pl.api(
        anna,
        "POST",
        f"/api/v1/questions/{question}/replies",
        json={"message": "Through the alumni of our programme."},
    )
    assert answered.status_code == 201, answered.text
    (back,) = wait_until(lambda: _notifications(it, marco, "question_answer"), timeout=30)
    assert back["actor"]["handle"] == f"@anna@{pl.settings.domain}"
    assert back["data"]["question"] == sent["id"]

    # The member on IT reads the question and the answer, in order, on the conversation page.
    page = it.api(marco, "GET", f"/questions/{sent['id']}")
    assert page.status_code == 200
    assert page.text.index("How do you recruit mentors?") < page.text.index(
        "Through the alumni of our programme."
    )
    assert it.api(it.add_member("lucia"), "GET", f"/questions/{sent['id']}").status_code == 404
    # Direct messages: never content, on neither side.
    assert _notes_stored(pl) == 0 and _notes_stored(it) == 0

    async def sent_answer(session: AsyncSession) -> dict[str, Any]:
        rows = await session.scalars(
            select(Activity.document).where(Activity.local.is_(True), Activity.type == "Create")
        )
        (document,) = rows.all()
        return document

    create = pl.run(sent_answer)
    assert create["to"] == [it.actor_uri("marco")] and create["cc"] == []
    assert create["object"]["inReplyTo"] == sent["uri"]
    assert create["object"]["expertQuestion"] == sent["uri"]


def test_a_mastodon_shaped_reply_lands_and_strangers_are_dropped(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    anna, marco, sent = _ask(pl, it)
    wait_until(lambda: _notifications(pl, anna, "question"), timeout=30)
    marco_uri = it.actor_uri("marco")
    mention = (
        f'<span class="h-card" translate="no"><a href="{marco_uri}" class="u-url mention">'
        f"@<span>marco</span></a></span>"
    )
    note_id = f"{pl.base_url}/users/anna/statuses/{uuid.uuid4().int}"
    _send_raw(
        pl,
        "anna",
        marco_uri,
        {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": sent["uri"],
            "published": "2026-12-04T10:00:00Z",
            "url": note_id,
            "to": [marco_uri],
            "cc": [],
            "sensitive": False,
            "conversation": "tag:pl.test,2026-12-04:objectId=1:objectType=Conversation",
            "content": f"<p>{mention} Through the alumni &amp; friends.</p><p>Write again!</p>",
            "contentMap": {"en": f"<p>{mention} Through the alumni.</p>"},
            "attachment": [],
            "tag": [{"type": "Mention", "href": marco_uri, "name": f"@marco@{it.settings.domain}"}],
        },
    )
    assert _received(it, note_id) == (ActivityState.PROCESSED, None)
    (back,) = wait_until(lambda: _notifications(it, marco, "question_answer"), timeout=30)
    assert back["data"]["comment"] == "Through the alumni & friends.\n\nWrite again!"
    talk = it.api(marco, "GET", f"/api/v1/questions/{sent['id']}").json()
    assert [m["message"] for m in talk["messages"]][1] == back["data"]["comment"]
    assert it.stored_object(note_id) is None

    # piotr of PL is no participant: his reply to the question is dropped.
    pl.add_member("piotr")
    stranger = f"{pl.base_url}/users/piotr/statuses/{uuid.uuid4().int}"
    _send_raw(
        pl,
        "piotr",
        marco_uri,
        {
            "id": stranger,
            "type": "Note",
            "inReplyTo": sent["uri"],
            "to": [marco_uri],
            "cc": [],
            "content": f"<p>{mention} Me too!</p>",
        },
    )
    state, error = _received(it, stranger)
    assert state == ActivityState.FAILED and "outside the conversation" in str(error)

    # A question to a member of IT who is not discoverable is dropped.
    lucia = it.add_member("lucia")
    hidden = it.api(lucia, "PATCH", "/api/v1/me", json=PROFILE | {"discoverable": False})
    assert hidden.status_code == 200, hidden.text
    unasked = f"{pl.base_url}/objects/{uuid.uuid4()}"
    _send_raw(
        pl,
        "anna",
        it.actor_uri("lucia"),
        {
            "id": unasked,
            "type": "Note",
            "to": [it.actor_uri("lucia")],
            "cc": [],
            "questionSubject": "Hello",
            "questionMessage": "Hello?",
            "content": "<p>Hello?</p>",
        },
    )
    state, error = _received(it, unasked)
    assert state == ActivityState.FAILED and "addressed to an expert" in str(error)
    assert len(_questions(it)) == 2
    assert _notifications(it, lucia, "question") == []
