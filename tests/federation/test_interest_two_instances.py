"""Interest across two real instances on loopback: a member of IT finds an offer of PL through
``GET /api/v1/lookup?resolve=true``, expresses interest; the owner on PL is notified with the
organisation, country and message and answers; the member on IT gets the answer. Interest Notes
never become content on either side, and an interest Note addressed to someone other than the
owner is dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.remote import fetch_actor
from fedi.db.models import Activity, ActivityState, ContentObject, InterestMessage, utcnow
from fedi.federation.outbox import publish
from fedi.instance import build_context
from fedi.net.client import FetchBudget
from fedi.partners import policy
from fedi.services.members import find_member
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, running_instance, wait_until
from tests.partners.test_fields import offer_payload

pytestmark = pytest.mark.federation


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[tuple[RunningInstance, RunningInstance]]:
    policy.set_validation_override(False)
    with ExitStack() as stack:
        stack.callback(policy.set_validation_override, None)
        url_pl = stack.enter_context(temporary_database(backend, tmp_path))
        url_it = stack.enter_context(temporary_database(backend, tmp_path))
        pl = stack.enter_context(running_instance(tmp_path / "pl", url_pl, country="PL"))
        it = stack.enter_context(running_instance(tmp_path / "it", url_it, country="IT"))
        yield pl, it


def _notifications(instance: RunningInstance, token: str, kind: str) -> list[dict[str, Any]]:
    items = instance.api(token, "GET", "/api/v1/notifications").json()["items"]
    return [item for item in items if item["kind"] == kind]


def _interest_rows(instance: RunningInstance) -> list[InterestMessage]:
    async def work(session: AsyncSession) -> list[InterestMessage]:
        return list((await session.scalars(select(InterestMessage))).all())

    rows: list[InterestMessage] = instance.run(work)
    return rows


def _offer(pl: RunningInstance, token: str) -> dict[str, Any]:
    payload = offer_payload()
    deadline = (utcnow().date() + timedelta(days=90)).isoformat()
    payload["funding"] = {**payload["funding"], "call_deadline": deadline}
    created = pl.api(token, "POST", "/api/v1/offers", json=payload)
    assert created.status_code == 201, created.text
    offer: dict[str, Any] = created.json()
    return offer


def test_interest_reaches_the_owner_on_another_instance_and_the_answer_comes_back(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    anna = pl.add_member("anna")
    marco = it.add_member("marco")
    offer = _offer(pl, anna)
    found = it.api(marco, "GET", "/api/v1/lookup", params={"id": offer["id"], "resolve": "true"})
    assert found.status_code == 200, found.text
    assert found.json()["local"] is False

    key = offer["id"].rsplit("/", 1)[1]
    body = {
        "message": "Siamo una cooperativa sociale di Torino.",
        "organisation": {"name": "Cooperativa Aurora", "type": "social-economy-enterprise"},
    }
    sent = it.api(marco, "POST", f"/api/v1/offers/{key}/interest", json=body)
    assert sent.status_code == 201, sent.text
    assert sent.json()["organisation"]["country"] == "IT"  # the instance's, none in the profile

    (told,) = wait_until(lambda: _notifications(pl, anna, "interest"), timeout=30)
    assert told["actor"]["handle"] == f"@marco@{it.settings.domain}"
    assert told["data"]["organisation"] == "Cooperativa Aurora"
    assert told["data"]["organisation_type"] == "social-economy-enterprise"
    assert told["data"]["country"] == "IT"
    assert told["data"]["comment"] == body["message"]
    interest = told["data"]["interest"]
    talk = pl.api(anna, "GET", f"/api/v1/interests/{interest}").json()
    assert talk["offer"]["id"] == offer["id"]
    assert talk["messages"][0]["uri"] == sent.json()["uri"]
    assert talk["messages"][0]["local"] is False
    # The Note is a direct message: never stored as content, on neither side.
    assert pl.stored_object(sent.json()["uri"]) is None

    answered = pl.api(
        anna, "POST", f"/api/v1/interests/{interest}/replies", json={"message": "Volentieri!"}
    )
    assert answered.status_code == 201, answered.text
    (reply,) = wait_until(lambda: _notifications(it, marco, "interest_reply"), timeout=30)
    assert reply["actor"]["handle"] == f"@anna@{pl.settings.domain}"
    assert reply["data"]["comment"] == "Volentieri!"
    both = it.api(marco, "GET", f"/api/v1/interests/{sent.json()['id']}").json()
    assert [m["message"] for m in both["messages"]] == [body["message"], "Volentieri!"]
    assert it.stored_object(answered.json()["uri"]) is None

    # What was sent went to one inbox each, addressed to one person, never to the public.
    async def sent_activities(session: AsyncSession) -> list[dict[str, Any]]:
        rows = await session.scalars(
            select(Activity.document).where(Activity.local.is_(True), Activity.type == "Create")
        )
        return [doc for doc in rows.all() if doc["object"].get("interestIn")]

    (create,) = it.run(sent_activities)
    assert create["to"] == [pl.actor_uri("anna")] and create["cc"] == []
    assert create["object"]["organisation"]["organisationType"] == "social-economy-enterprise"
    assert "Cooperativa Aurora" in create["object"]["content"]


def test_an_interest_note_for_someone_else_than_the_owner_is_dropped(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    anna = pl.add_member("anna")
    pl.add_member("piotr")
    marco = it.add_member("marco")
    offer = _offer(pl, anna)
    it.api(marco, "GET", "/api/v1/lookup", params={"id": offer["id"], "resolve": "true"})
    piotr = pl.actor_uri("piotr")

    async def send(session: AsyncSession) -> None:
        context = build_context(it.settings)
        try:
            target = await fetch_actor(context, piotr, budget=FetchBudget())
        finally:
            await context.aclose()
        member = await find_member(session, "marco")
        note = {
            "id": f"{it.base_url}/objects/{uuid.uuid4()}",
            "type": "Note",
            "attributedTo": member.actor.uri,
            "to": [piotr],
            "cc": [],
            "inReplyTo": offer["id"],
            "interestIn": offer["id"],
            "interestMessage": "Hello",
            "organisation": {"name": "X"},
            "content": "<p>Hello</p>",
        }
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{it.base_url}/activities/{uuid.uuid4()}",
            "type": "Create",
            "actor": member.actor.uri,
            "to": [piotr],
            "object": note,
        }
        await publish(session, member.actor, activity, inboxes=[target.inbox])

    it.run(send)

    async def outcome(session: AsyncSession) -> Any:
        return (
            await session.execute(
                select(Activity.state, Activity.error).where(
                    Activity.local.is_(False), Activity.type == "Create"
                )
            )
        ).first()

    state, error = wait_until(
        lambda: (
            (found := pl.run(outcome)) is not None and found[0] != ActivityState.RECEIVED and found
        ),
        timeout=30,
    )
    assert state == ActivityState.FAILED
    assert "addressed to the offer's owner" in str(error)
    assert _interest_rows(pl) == []
    assert _notifications(pl, anna, "interest") == []

    async def contents(session: AsyncSession) -> int:
        rows = await session.scalars(select(ContentObject).where(ContentObject.local.is_(False)))
        return len([row for row in rows.all() if row.type == "Note"])

    assert pl.run(contents) == 0
