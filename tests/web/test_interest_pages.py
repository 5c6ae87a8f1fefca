"""Expressing interest from an offer's page: the form for signed-in members other than the
owner, refusals at their fields with nothing sent, the conversation page with its answer form,
and the notifications on both sides, in English and Polish."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from fedi.testing.web import sign_in
from tests.web.test_offers import _post, _switch, _write, client

__all__ = ["client"]


def _interest_form(page: str) -> bool:
    return 'action="/offers/' in page and '/interest"' in page


def test_interest_from_the_offer_page_to_the_owner_and_back(client: TestClient) -> None:
    sign_in(client, "anna", "a long test password")
    path = _write(client)
    own = client.get(path)
    assert own.status_code == 200 and not _interest_form(own.text)
    _switch(client, "bob")
    page = client.get(path)
    assert _interest_form(page.text) and "Express interest" in page.text
    assert 'id="organisation_country"' in page.text
    assert re.search(r'<option value="PL" selected>', page.text)  # the instance's country
    assert "Zgłoś zainteresowanie" in client.get(path, headers={"Accept-Language": "pl"}).text

    refused = _post(client, f"{path}/interest", {"message": "", "organisation_name": ""})
    assert refused.status_code == 422
    assert "<title>Error:" in refused.text
    assert 'id="message-error"' in refused.text and "Write your message." in refused.text
    assert 'id="organisation_name-error"' in refused.text
    assert 'href="#message"' in refused.text
    polish = _post(
        client, f"{path}/interest", {"message": "", "organisation_name": "X"},
        headers={"Accept-Language": "pl"},
    )  # fmt: skip
    assert polish.status_code == 422 and "Napisz wiadomość." in polish.text

    sent = _post(
        client,
        f"{path}/interest",
        {
            "message": "We train mentors in Bologna.",
            "organisation_name": "Centro Formazione Emilia",
            "organisation_type": "education-training-provider",
            "organisation_country": "IT",
        },
    )
    assert sent.status_code == 303, sent.text
    talk_path, notice = sent.headers["location"].split("?")
    assert notice == "done=sent" and talk_path.startswith("/interests/")
    talk = client.get(sent.headers["location"])
    assert "Your expression of interest is sent" in talk.text
    assert "We train mentors in Bologna." in talk.text and "Centro Formazione Emilia" in talk.text
    again = _post(client, f"{path}/interest", {"message": "Again", "organisation_name": "X"})
    assert again.status_code == 429 and "try again later" in again.text

    _switch(client, "anna")
    notes = client.get("/notifications")
    assert "@bob@esf.test is interested in your offer" in notes.text
    assert "Centro Formazione Emilia" in notes.text and "Italy" in notes.text
    assert "We train mentors in Bologna." in notes.text
    assert f'href="{talk_path}"' in notes.text
    seen = client.get(talk_path)
    assert seen.status_code == 200 and "Education or training provider" in seen.text
    assert "Odpowiedź" in client.get(talk_path, headers={"Accept-Language": "pl"}).text
    empty = _post(client, f"{talk_path}/reply", {"message": "  "})
    assert empty.status_code == 422 and 'id="message-error"' in empty.text
    answered = _post(client, f"{talk_path}/reply", {"message": "Welcome aboard!"})
    assert answered.status_code == 303
    assert answered.headers["location"] == f"{talk_path}?done=answered"

    _switch(client, "bob")
    notes = client.get("/notifications")
    assert "@anna@esf.test answered about the offer" in notes.text
    assert "Welcome aboard!" in notes.text
    assert "Welcome aboard!" in client.get(talk_path).text


def test_others_see_no_form_and_no_conversation(client: TestClient) -> None:
    sign_in(client, "anna", "a long test password")
    path = _write(client)
    client.cookies.clear()
    assert not _interest_form(client.get(path).text)
    sign_in(client, "bob", "a long test password")
    sent = _post(client, f"{path}/interest", {"message": "Hi", "organisation_name": "B"})
    talk_path = sent.headers["location"].split("?")[0]
    assert client.get(talk_path).status_code == 200
    client.cookies.clear()
    assert client.get(talk_path, follow_redirects=False).status_code == 303


def test_paragraphs_typed_in_a_browser_stay_paragraphs(client: TestClient) -> None:
    """Browsers send a textarea's line breaks as CRLF; the blank line between paragraphs is
    still a blank line, in the message and in its answer."""
    sign_in(client, "anna", "a long test password")
    path = _write(client)
    _switch(client, "bob")
    sent = _post(
        client,
        f"{path}/interest",
        {"message": "We train mentors.\r\n\r\nIn Bologna.", "organisation_name": "Centro"},
    )
    assert sent.status_code == 303, sent.text
    talk_path = sent.headers["location"].split("?")[0]
    assert "<blockquote><p>We train mentors.</p><p>In Bologna.</p></blockquote>" in (
        client.get(talk_path).text
    )
    _switch(client, "anna")
    answered = _post(client, f"{talk_path}/reply", {"message": "Welcome!\r\n\r\nSee you."})
    assert answered.status_code == 303
    assert "<blockquote><p>Welcome!</p><p>See you.</p></blockquote>" in client.get(talk_path).text


def test_opening_the_conversation_reads_its_notifications(client: TestClient) -> None:
    sign_in(client, "anna", "a long test password")
    path = _write(client)
    other = _write(client)
    _switch(client, "bob")
    sent = _post(client, f"{path}/interest", {"message": "Hello.", "organisation_name": "B"})
    talk_path = sent.headers["location"].split("?")[0]
    _post(client, f"{other}/interest", {"message": "And this one.", "organisation_name": "B"})
    _switch(client, "anna")
    assert client.get("/notifications").text.count("notification--unread") == 2
    page = client.get(talk_path).text
    assert 'Notifications <span aria-hidden="true">(1)</span>' in page  # the other one
    unread = client.get("/notifications").text
    assert unread.count("notification--unread") == 1 and "And this one." in unread
