"""Asking an expert a question through the API: a local expert is notified at once, reads the
conversation and answers it, and the one who asked is notified of the answer; bad fields are
422s naming them, an unknown or non-discoverable expert 404, oneself 422, past the hourly limit
429; nobody but the two participants reads the conversation. A remote expert's question leaves
as a direct ``Note`` to them alone. Every answer is checked against the OpenAPI document."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli.common import run_in_session
from fedi.db.models import Activity, Delivery
from fedi.services.questions import QUESTIONS_PER_HOUR
from fedi.settings import Settings
from fedi.testing.peers import alice
from tests.web.api.conftest import Api
from tests.web.api.test_experts import ANNA, _remote

ASK_ANNA = "/api/v1/experts/anna@esf.test/questions"
QUESTION = {"subject": "Mentoring NEETs", "message": "How do you recruit mentors?\n\nThanks!"}


def _notifications(api: Api, login: str) -> list[dict[str, Any]]:
    response = api.client.get("/api/v1/notifications", headers=api.auth(login))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _expert(api: Api, login: str = "anna", **fields: Any) -> None:
    response = api.client.patch("/api/v1/me", json=ANNA | fields, headers=api.auth(login))
    assert response.status_code == 200, response.text


def test_a_question_reaches_the_expert_who_answers(api: Api) -> None:
    _expert(api, email="anna@example.org")
    asked = api.client.post(ASK_ANNA, json=QUESTION, headers=api.auth("mira"))
    assert asked.status_code == 201, asked.text
    sent = asked.json()
    assert sent["subject"] == "Mentoring NEETs" and sent["question"] == sent["id"]
    assert sent["sender"]["handle"] == "@mira@esf.test"
    assert sent["recipient"]["handle"] == "@anna@esf.test"
    assert asked.headers["location"].endswith(f"/api/v1/questions/{sent['id']}")

    (told,) = [n for n in _notifications(api, "anna") if n["kind"] == "question"]
    assert told["actor"]["handle"] == "@mira@esf.test"
    assert told["data"]["subject"] == "Mentoring NEETs"
    assert told["object"] == f"https://esf.test/questions/{sent['id']}"
    assert told["data"]["comment"].startswith("How do you recruit")

    talk = f"/api/v1/questions/{sent['id']}"
    assert api.client.get(talk, headers=api.auth("anna")).status_code == 200
    assert api.client.get(talk, headers=api.auth("ada")).status_code == 404
    assert (
        api.client.post(
            f"{talk}/replies", json={"message": "Not mine."}, headers=api.auth("ada")
        ).status_code
        == 404
    )

    answered = api.client.post(
        f"{talk}/replies", json={"message": "Through the alumni."}, headers=api.auth("anna")
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["subject"] is None
    (back,) = [n for n in _notifications(api, "mira") if n["kind"] == "question_answer"]
    assert back["actor"]["handle"] == "@anna@esf.test"
    assert back["data"]["question"] == sent["id"]
    again = api.client.post(
        f"{talk}/replies", json={"message": "And the neighbours?"}, headers=api.auth("mira")
    )
    assert again.status_code == 201, again.text

    read = api.client.get(talk, headers=api.auth("mira")).json()
    assert read["subject"] == "Mentoring NEETs" and read["url"] == f"/questions/{sent['id']}"
    assert [m["message"] for m in read["messages"]] == [
        "How do you recruit mentors?\n\nThanks!",
        "Through the alumni.",
        "And the neighbours?",
    ]
    assert [m["sender"]["handle"] for m in read["messages"]] == [
        "@mira@esf.test",
        "@anna@esf.test",
        "@mira@esf.test",
    ]
    assert "anna@example.org" not in str(read) and "anna@example.org" not in str(told)
    assert api.checker.checked >= 6


def test_bad_fields_are_422s_naming_them(api: Api) -> None:
    _expert(api)
    for body, fields in (
        ({"subject": "", "message": "x"}, {"subject"}),
        ({"subject": "  ", "message": "\n"}, {"subject", "message"}),
        ({"subject": "x" * 201, "message": "x"}, {"subject"}),
        ({"subject": "x", "message": "x" * 5001}, {"message"}),
        ({"subject": 3, "message": "x"}, {"subject"}),
        ({"message": "x"}, {"subject"}),
        (QUESTION | {"to": "everyone"}, {"to"}),
    ):
        answer = api.client.post(ASK_ANNA, json=body, headers=api.auth("mira"))
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert set(answer.json()["errors"]) == fields, body
    refused = api.client.post(ASK_ANNA, content=b"[]", headers=api.auth("mira") | {
        "content-type": "application/json"})  # fmt: skip
    assert refused.status_code in (400, 422)
    assert [n for n in _notifications(api, "anna") if n["kind"] == "question"] == []


def test_unknown_and_hidden_experts_are_404_and_oneself_422(api: Api) -> None:
    _expert(api)
    _expert(api, "ada", display_name="Ada", discoverable=False)
    for path in (
        "/api/v1/experts/nobody@esf.test/questions",
        "/api/v1/experts/ada@esf.test/questions",  # not discoverable
        "/api/v1/experts/mira@esf.test/questions",  # no profile: not in the directory
        "/api/v1/experts/1/questions",
    ):
        answer = api.client.post(path, json=QUESTION, headers=api.auth("mira"))
        assert answer.status_code == 404, (path, answer.text)
    self_ask = api.client.post(
        "/api/v1/experts/@anna@esf.test/questions", json=QUESTION, headers=api.auth("anna")
    )
    assert self_ask.status_code == 422 and "expert" in self_ask.json()["errors"]
    assert api.client.post(ASK_ANNA, json=QUESTION).status_code == 401


def test_past_the_hourly_limit_a_question_is_429(api: Api) -> None:
    _expert(api)
    for number in range(QUESTIONS_PER_HOUR):
        body = QUESTION | {"subject": f"Question {number}"}
        answer = api.client.post(ASK_ANNA, json=body, headers=api.auth("mira"))
        assert answer.status_code == 201, answer.text
    refused = api.client.post(ASK_ANNA, json=QUESTION, headers=api.auth("mira"))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    # The limit is the asker's: another member still asks.
    assert api.client.post(ASK_ANNA, json=QUESTION, headers=api.auth("ada")).status_code == 201


def test_a_remote_expert_gets_a_direct_note_through_the_outbox(
    api: Api, settings: Settings
) -> None:
    marco = alice()
    _remote(settings, marco.document() | {"name": "Marco Rossi", "themes": ["social-innovation"]})
    handle = f"{marco.document()['preferredUsername']}@{marco.host}"
    asked = api.client.post(
        f"/api/v1/experts/{handle}/questions", json=QUESTION, headers=api.auth("mira")
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["local"] is True and asked.json()["recipient"]["id"] == marco.uri

    async def outbox(session: AsyncSession) -> list[tuple[dict[str, Any], list[str]]]:
        rows = (await session.scalars(select(Activity).where(Activity.type == "Create"))).all()
        found = []
        for row in rows:
            inboxes = (
                await session.scalars(select(Delivery.inbox).where(Delivery.activity_id == row.id))
            ).all()
            found.append((row.document, list(inboxes)))
        return found

    ((create, inboxes),) = run_in_session(settings, outbox)
    note = create["object"]
    assert inboxes == [marco.document()["inbox"]]
    assert create["to"] == [marco.uri] and create["cc"] == []
    assert note["type"] == "Note" and note["to"] == [marco.uri] and note["cc"] == []
    assert note["id"] == asked.json()["uri"]
    assert note["questionSubject"] == "Mentoring NEETs"
    assert note["questionMessage"] == QUESTION["message"]
    assert note["tag"] == [{"type": "Mention", "href": marco.uri, "name": f"@{handle}"}]
    assert "Public" not in str(create) and "followers" not in str(create)
    assert "<strong>Mentoring NEETs</strong>" in note["content"]
