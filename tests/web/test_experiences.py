"""The experience pages: write with a preview, read in the reader's language, filter, edit,
delete; refusals tied to their fields; both languages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from fedi.settings import Settings
from fedi.testing.web import csrf_token, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"
FORM: dict[str, Any] = {
    "kind": "experience",
    "language": "en",
    "title": "Mentoring young migrants",
    "summary": "What worked in three regions.",
    "body": "## Context\n\nMentors met *every week*.\n\n<script>alert(1)</script>",
    "country": "PL",
    "objectives": ["a", "i"],
    "themes": ["migrant-integration"],
    "target_groups": ["youth-neet"],
    "programme_period": "2021-2027",
    "organisation": "Fundacja Przykład",
    "results": "40 young people in work.",
    "transferability": "Any region with a job centre.",
    "tags": "mentoring youth",
    "tr0_language": "pl",
    "tr0_title": "Mentoring młodych migrantów",
    "tr0_summary": "Co zadziałało w trzech regionach.",
    "tr0_body": "Mentorzy spotykali się **co tydzień**.",
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna", "bob")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


def _post(client: TestClient, path: str, data: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf_token(client), **data}, follow_redirects=False
    )
    return response


def _write(client: TestClient, **changes: Any) -> str:
    response = _post(client, "/experiences/new", {**FORM, **changes, "action": "save"})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/experiences/") and location.endswith("?created=1")
    return location.split("?")[0]


def test_nobody_may_write_and_the_empty_list_says_so(client: TestClient) -> None:
    assert client.get("/experiences/new", follow_redirects=False).status_code == 303
    page = client.get("/experiences")
    assert page.status_code == 200 and "No experiences yet." in page.text
    polish = client.get("/experiences", headers={"Accept-Language": "pl"})
    assert "Nie ma jeszcze doświadczeń." in polish.text


def test_a_member_previews_writes_and_reads_an_experience(client: TestClient) -> None:
    assert sign_in(client, "anna", PASSWORD).status_code == 303
    form = client.get("/experiences/new")
    assert form.status_code == 200 and '<textarea id="body" name="body"' in form.text
    preview = _post(client, "/experiences/new", {**FORM, "action": "preview"})
    assert preview.status_code == 200
    assert "<em>every week</em>" in preview.text and "<script>alert" not in preview.text
    assert client.get("/experiences").text.count('class="card"') == 0  # nothing saved yet
    path = _write(client)
    page = client.get(path)
    assert page.status_code == 200
    assert "<h1>Mentoring young migrants</h1>" in page.text
    assert "<em>every week</em>" in page.text and "&lt;script&gt;" in page.text
    assert "Fundacja Przykład" in page.text and 'href="?lang=pl"' in page.text
    # A Polish reader gets the Polish version first, with a way back to the original.
    polish = client.get(path, headers={"Accept-Language": "pl"})
    assert "<h1>Mentoring młodych migrantów</h1>" in polish.text
    assert "<strong>co tydzień</strong>" in polish.text and 'href="?lang=en"' in polish.text
    english = client.get(f"{path}?lang=en", headers={"Accept-Language": "pl"})
    assert "<h1>Mentoring young migrants</h1>" in english.text
    # Servers get the Article at the same id.
    key = path.rsplit("/", 1)[1]
    article = client.get(f"/objects/{key}", headers={"Accept": "application/activity+json"})
    assert article.json()["url"].endswith(path)


def test_the_list_filters_and_pages(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    first = _write(client)
    second = _write(
        client,
        kind="resource",
        title="Partnership agreement template",
        country="DE",
        objectives=[],
        themes=["partnership"],
        target_groups=[],
        tags="template",
        tr0_language="",
    )

    def found(query: str) -> list[str]:
        text = client.get(f"/experiences?{query}").text
        return [path for path in (first, second) if f'href="{path}"' in text]

    assert found("") == [first, second]
    assert found("country=PL") == [first]
    assert found("kind=resource") == [second]
    assert found("objective=i") == [first]
    assert found("theme=partnership") == [second]
    assert found("target_group=youth-neet") == [first]
    assert found("q=AGREEMENT") == [second]
    assert found("tag=mentoring") == [first]
    assert found("country=XX") == [first, second]  # an unknown code is no filter
    empty = client.get("/experiences?country=FR")
    assert "No experience matches these filters." in empty.text
    paged = client.get("/experiences?limit=1")
    assert paged.status_code == 200


def test_refused_fields_come_back_with_their_errors(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    response = _post(
        client,
        "/experiences/new",
        {**FORM, "title": " ", "objectives": ["z"], "tr0_body": "", "action": "save"},
    )
    assert response.status_code == 422
    page = response.text
    assert '<a href="#title">This field is required.</a>' in page
    assert '<a href="#objectives">Choose one of the values offered.</a>' in page
    assert '<a href="#tr0_body">This field is required.</a>' in page
    assert 'id="title" name="title" type="text" value=" "' in page
    assert "Fundacja Przykład" in page  # the other values are kept
    polish = client.post(
        "/experiences/new",
        data={"csrf_token": csrf_token(client), **FORM, "title": "", "action": "save"},
        headers={"Accept-Language": "pl"},
    )
    assert polish.status_code == 422 and "To pole jest wymagane." in polish.text
    assert client.get("/experiences").text.count('class="card"') == 0


def test_the_author_edits_and_deletes_others_cannot(client: TestClient) -> None:
    sign_in(client, "anna", PASSWORD)
    path = _write(client)
    edit = client.get(f"{path}/edit")
    assert edit.status_code == 200 and 'value="Mentoring young migrants"' in edit.text
    assert "Mentoring młodych migrantów" in edit.text  # the translation is in its slot
    saved = _post(client, f"{path}/edit", {**FORM, "title": "Two years on", "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?saved=1"
    assert "<h1>Two years on</h1>" in client.get(path).text
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    sign_in(client, "bob", PASSWORD)
    assert client.get(f"{path}/edit").status_code == 403
    assert _post(client, f"{path}/delete", {}).status_code == 403
    assert 'href="' + path + '/edit"' not in client.get(path).text
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    sign_in(client, "anna", PASSWORD)
    confirm = client.get(f"{path}/delete")
    assert confirm.status_code == 200 and "This cannot be undone." in confirm.text
    deleted = _post(client, f"{path}/delete", {})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/experiences?deleted=1"
    gone = client.get(path)
    assert gone.status_code == 410 and "This experience was deleted" in gone.text
    assert client.get(f"{path}/edit").status_code == 410
    assert client.get("/experiences/not-a-key").status_code == 404
    assert client.get("/experiences/00000000-0000-0000-0000-000000000000").status_code == 404
