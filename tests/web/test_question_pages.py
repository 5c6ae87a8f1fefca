"""Asking an expert from the directory's page: each entry but one's own links to the form, a
refused question comes back with its errors at their fields (in English and Polish), a sent one
opens the conversation page, which only its two participants read, and the notifications
lead to it on both sides."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.services.members import add_member, find_member
from fedi.services.profiles import update_profile
from fedi.settings import Settings
from fedi.testing.web import sign_in
from tests.web.test_offers import PASSWORD, _post, _switch, client

__all__ = ["client"]

ANNA = {
    "display_name": "Anna Nowak",
    "organisation": "Fundacja Aktywnej Integracji",
    "country": "PL",
    "expertise": {"themes": ["social-inclusion"], "objectives": ["h"]},
}
FORM = "/experts/ask?expert=anna%40esf.test"


def _anna_is_an_expert(settings: Settings) -> None:
    async def work(session: AsyncSession) -> None:
        await update_profile(session, settings, await find_member(session, "anna"), ANNA)
        await add_member(session, settings, "carla", PASSWORD)
        await session.commit()

    run_in_session(settings, work)


def test_a_question_from_the_directory_to_the_expert_and_back(
    client: TestClient, settings: Settings
) -> None:
    _anna_is_an_expert(settings)
    listed = client.get("/experts")
    assert f'href="{FORM}"' in listed.text and "Ask a question" in listed.text
    assert client.get(FORM, follow_redirects=False).status_code == 303  # sign in first
    sign_in(client, "anna", PASSWORD)
    assert f'href="{FORM}"' not in client.get("/experts").text  # not oneself
    _switch(client, "bob")
    form = client.get(FORM)
    assert form.status_code == 200 and "Ask Anna Nowak a question" in form.text
    assert 'name="expert" value="@anna@esf.test"' in form.text
    assert "Zadaj pytanie: Anna Nowak" in client.get(FORM, headers={"Accept-Language": "pl"}).text
    assert client.get("/experts/ask?expert=bob%40esf.test").status_code == 404  # no profile
    assert client.get("/experts/ask").status_code == 404

    refused = _post(client, "/experts/ask", {"expert": "@anna@esf.test", "subject": "",
                                             "message": "Kept text"})  # fmt: skip
    assert refused.status_code == 422 and "<title>Error:" in refused.text
    assert 'id="subject-error"' in refused.text and "Give your question a subject." in refused.text
    assert 'id="message-error"' not in refused.text and "Kept text" in refused.text
    assert 'href="#subject"' in refused.text
    polish = _post(
        client, "/experts/ask", {"expert": "anna@esf.test", "subject": "x" * 201, "message": ""},
        headers={"Accept-Language": "pl"},
    )  # fmt: skip
    assert polish.status_code == 422 and "Napisz wiadomość." in polish.text

    sent = _post(client, "/experts/ask", {"expert": "anna@esf.test", "subject": "Mentors",
                                          "message": "How do you find them?"})  # fmt: skip
    assert sent.status_code == 303, sent.text
    talk_path, notice = sent.headers["location"].split("?")
    assert notice == "done=sent" and talk_path.startswith("/questions/")
    talk = client.get(sent.headers["location"])
    assert "Your question is sent to the expert." in talk.text
    assert "Question: Mentors" in talk.text and "How do you find them?" in talk.text

    _switch(client, "carla")
    assert client.get(talk_path).status_code == 404
    assert _post(client, f"{talk_path}/reply", {"message": "Me?"}).status_code == 404

    _switch(client, "anna")
    notes = client.get("/notifications")
    assert "@bob@esf.test asks you a question: “Mentors”." in notes.text
    assert f'href="{talk_path}"' in notes.text
    seen = client.get(talk_path)
    assert "How do you find them?" in seen.text
    empty = _post(client, f"{talk_path}/reply", {"message": " "})
    assert empty.status_code == 422 and 'id="message-error"' in empty.text
    answered = _post(client, f"{talk_path}/reply", {"message": "Ask the alumni."})
    assert answered.status_code == 303
    assert answered.headers["location"] == f"{talk_path}?done=answered"

    _switch(client, "bob")
    notes = client.get("/notifications")
    assert "@anna@esf.test answered about the question “Mentors”." in notes.text
    page = client.get(talk_path).text
    assert page.index("How do you find them?") < page.index("Ask the alumni.")
