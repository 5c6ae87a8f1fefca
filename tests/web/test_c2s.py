from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import ip_network
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import (
    Activity,
    Actor,
    ContentObject,
    Delivery,
)
from fedi.services.tokens import issue_token
from fedi.settings import Settings
from fedi.testing.peers import add_remote_follower
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

AS2 = "application/activity+json"


def counts(settings: Settings) -> dict[str, int]:
    async def work(session: Any) -> dict[str, int]:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (Activity, ContentObject, Delivery)
        }

    result: dict[str, int] = run_in_session(settings, work)
    return result


@pytest.fixture
def setup(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    bootstrap(settings, "anna", "bob")

    async def work(session: Any) -> dict[str, str]:
        anna = await session.scalar(select(Actor).where(Actor.username == "anna"))
        # Three remote followers: two on one server with a shared inbox, one without.
        await add_remote_follower(session, anna, "it.test", "x")
        await add_remote_follower(session, anna, "it.test", "y")
        await add_remote_follower(session, anna, "de.test", "z", shared_inbox=False)
        return {
            "anna": await issue_token(session, "anna"),
            "bob": await issue_token(session, "bob"),
        }

    tokens = run_in_session(settings, work)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client, tokens


def post(client: TestClient, token: str | None, body: Any, **headers: str) -> Any:
    sent = {"Content-Type": AS2, **headers}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/users/anna/outbox", content=content, headers=sent)


def test_a_note_is_stored_and_delivered_once_per_shared_inbox(
    setup: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, tokens = setup
    response = post(
        client,
        tokens["anna"],
        {
            "type": "Create",
            "object": {
                "type": "Note",
                "content": '<p onclick="x()">Hello <script>alert(1)</script><b>ESF</b></p>',
            },
        },
    )
    assert response.status_code == 201, response.text
    activity = response.json()
    assert response.headers["location"] == activity["id"]
    assert activity["type"] == "Create"
    assert activity["actor"] == "https://esf.test/users/anna"
    note = activity["object"]
    assert note["content"] == "<p>Hello <b>ESF</b></p>"
    assert note["attributedTo"] == "https://esf.test/users/anna"
    assert activity["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert activity["cc"] == ["https://esf.test/users/anna/followers"]

    async def deliveries(session: Any) -> list[str]:
        return sorted((await session.scalars(select(Delivery.inbox))).all())

    assert run_in_session(settings, deliveries) == [
        "https://de.test/users/z/inbox",
        "https://it.test/inbox",
    ]
    outbox = client.get("/users/anna/outbox?page=1", headers={"Accept": AS2}).json()
    assert [item["id"] for item in outbox["orderedItems"]] == [activity["id"]]
    assert (
        client.get(activity["id"].removeprefix("https://esf.test")).json()["id"] == activity["id"]
    )


FOLLOWER_INBOXES = ["https://de.test/users/z/inbox", "https://it.test/inbox"]


def inboxes_of(settings: Settings, activity_uri: str) -> list[str]:
    """The inboxes the activity ``activity_uri`` is queued for."""

    async def work(session: Any) -> list[str]:
        query = select(Delivery.inbox).join(Activity).where(Activity.uri == activity_uri)
        return list((await session.scalars(query)).all())

    result: list[str] = run_in_session(settings, work)
    return result


def post_as(client: TestClient, login: str, token: str, body: Any) -> Any:
    headers = {"Content-Type": AS2, "Authorization": f"Bearer {token}"}
    return client.post(f"/users/{login}/outbox", content=json.dumps(body), headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        {"type": "Create", "object": {"type": "Note", "content": "x"}},
        {"type": "Note", "content": "x"},
        {"type": "Article", "name": "A", "content": "x", "to": ["as:Public"]},
    ],
)
def test_every_201_names_the_new_activity_in_location(
    setup: tuple[TestClient, dict[str, str]], body: dict[str, Any]
) -> None:
    client, tokens = setup
    created = post(client, tokens["anna"], body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == created.json()["id"]
    note = created.json()["object"]
    for change in (
        {"type": "Update", "object": {"id": note["id"], "content": "y"}},
        {"type": "Delete", "object": note["id"]},
    ):
        response = post(client, tokens["anna"], change)
        assert response.status_code == 201, response.text
        assert response.headers["location"] == response.json()["id"]
        assert response.json()["type"] == change["type"]


def test_updating_an_own_object_changes_it_and_federates(
    setup: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, tokens = setup
    created = post(
        client,
        tokens["anna"],
        {"type": "Article", "name": "Draft", "summary": "s", "content": "<p>first</p>"},
    ).json()
    article = created["object"]
    path = article["id"].removeprefix("https://esf.test")
    response = post(
        client,
        tokens["anna"],
        {
            "type": "Update",
            "actor": "https://esf.test/users/anna",
            # A client may send the whole object back: unchanged properties are accepted.
            "object": {**article, "name": "Final", "content": "<p>second<script>x()</script></p>"},
        },
    )
    assert response.status_code == 201, response.text
    update = response.json()
    assert update["type"] == "Update" and update["actor"] == "https://esf.test/users/anna"
    assert update["to"] == article["to"] and update["cc"] == article["cc"]
    revised = update["object"]
    assert revised["id"] == article["id"] and revised["published"] == article["published"]
    assert revised["name"] == "Final" and revised["content"] == "<p>second</p>"
    assert revised["summary"] == "s" and "updated" in revised
    assert sorted(inboxes_of(settings, update["id"])) == FOLLOWER_INBOXES
    served = client.get(path, headers={"Accept": AS2}).json()
    assert served["name"] == "Final" and served["content"] == "<p>second</p>"
    page = client.get(path, headers={"Accept": "text/html"})
    assert "<h1>Final</h1>" in page.text and "second" in page.text

    async def stored(session: Any) -> tuple[str | None, str | None, Any]:
        row = await session.scalar(select(ContentObject).where(ContentObject.uri == article["id"]))
        return row.name, row.content, row.updated

    name, content, updated = run_in_session(settings, stored)
    assert (name, content) == ("Final", "<p>second</p>") and updated is not None


@pytest.mark.parametrize(
    "change",
    [
        {"to": ["https://de.test/users/z"]},
        {"attributedTo": "https://esf.test/users/bob"},
        {"type": "Article", "name": "x"},
        {"content": 5},
        {"inReplyTo": "https://it.test/notes/1"},
    ],
)
def test_an_update_that_breaks_a_rule_is_refused_and_changes_nothing(
    setup: tuple[TestClient, dict[str, str]], settings: Settings, change: dict[str, Any]
) -> None:
    client, tokens = setup
    note = post(client, tokens["anna"], {"type": "Note", "content": "x"}).json()["object"]
    before = counts(settings)
    response = post(client, tokens["anna"], {"type": "Update", "object": {**note, **change}})
    assert response.status_code == 422, response.text
    assert counts(settings) == before
    served = client.get(note["id"].removeprefix("https://esf.test"), headers={"Accept": AS2})
    assert served.json() == {"@context": served.json()["@context"], **note}


@pytest.mark.parametrize("kind", ["Update", "Delete"])
def test_someone_elses_object_cannot_be_changed(
    setup: tuple[TestClient, dict[str, str]], settings: Settings, kind: str
) -> None:
    client, tokens = setup
    bobs = post_as(client, "bob", tokens["bob"], {"type": "Note", "content": "from bob"})
    assert bobs.status_code == 201, bobs.text
    note = bobs.json()["object"]
    before = counts(settings)
    target = {"id": note["id"], "content": "anna's now"} if kind == "Update" else note["id"]
    response = post(client, tokens["anna"], {"type": kind, "object": target})
    assert response.status_code == 403, response.text
    assert response.json()["error"]
    assert counts(settings) == before
    served = client.get(note["id"].removeprefix("https://esf.test"), headers={"Accept": AS2})
    assert served.status_code == 200 and served.json()["content"] == "from bob"


def test_a_bare_object_is_wrapped_and_bcc_is_not_published(
    setup: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, tokens = setup
    response = post(
        client,
        tokens["anna"],
        {
            "type": "Article",
            "name": "Lessons from EQUAL",
            "summary": "What worked",
            "content": "<p>Long text</p>",
            "to": "as:Public",
            "bcc": ["https://de.test/users/z"],
        },
    )
    assert response.status_code == 201, response.text
    activity = response.json()
    assert activity["object"]["type"] == "Article"
    assert activity["object"]["name"] == "Lessons from EQUAL"
    assert activity["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert not blind_fields(activity)
    assert "https://de.test/users/z" not in json.dumps(activity)


def test_deleting_an_own_object_sends_a_tombstone(
    setup: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, tokens = setup
    created = post(client, tokens["anna"], {"type": "Note", "content": "oops"}).json()
    object_id = created["object"]["id"]
    response = post(client, tokens["anna"], {"type": "Delete", "object": object_id})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == response.json()["id"]
    assert response.json()["type"] == "Delete"
    assert sorted(inboxes_of(settings, response.json()["id"])) == FOLLOWER_INBOXES
    assert response.json()["object"] == {"id": object_id, "type": "Tombstone", "formerType": "Note"}
    again = post(client, tokens["anna"], {"type": "Delete", "object": object_id})
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("token", "body", "headers", "status"),
    [
        (None, {"type": "Note", "content": "x"}, {}, 401),
        ("wrong", {"type": "Note", "content": "x"}, {}, 401),
        ("bob", {"type": "Note", "content": "x"}, {}, 403),
        ("anna", {"type": "Note", "content": "x"}, {"Content-Type": "text/plain"}, 415),
        ("anna", b"{not json", {}, 400),
        ("anna", b"[1, 2]", {}, 400),
        ("anna", b'{"type": "Note", "content": "x", "name": "a\\u0000b"}', {}, 400),
        ("anna", b"{" + b'"a": "' + b"x" * (1024 * 1024) + b'"}', {}, 413),
        ("anna", {"type": "Video", "content": "x"}, {}, 422),
        ("anna", {"type": "Note"}, {}, 422),
        ("anna", {"type": "Note", "content": 5}, {}, 422),
        ("anna", {"type": "Page", "content": "a Page needs a name"}, {}, 422),
        ("anna", {"type": "Article", "name": " ", "content": "x"}, {}, 422),
        ("anna", {"type": "Note", "content": "x", "inReplyTo": "objects/7"}, {}, 422),
        ("anna", {"type": "Create", "object": "https://esf.test/objects/1"}, {}, 422),
        ("anna", {"type": "Delete"}, {}, 422),
        ("anna", {"type": "Delete", "object": "https://esf.test/objects/none"}, {}, 404),
        ("anna", {"type": ["Note"], "content": "x"}, {}, 422),
        ("anna", {"type": {"Note": 1}, "content": "x"}, {}, 422),
        ("anna", {"type": "Create", "object": {"type": ["Note"], "content": "x"}}, {}, 422),
        ("anna", b'{"type": "Note", "content": "a \\ud800 b"}', {}, 400),
        ("anna", b'{"type": "Note", "content": "x", "name": "\\uDC00"}', {}, 400),
        ("anna", {"type": "Update"}, {}, 422),
        ("anna", {"type": "Update", "object": "https://esf.test/objects/1"}, {}, 422),
        (
            "anna",
            {"type": "Update", "object": {"id": "https://esf.test/objects/none", "content": "x"}},
            {},
            404,
        ),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    setup: tuple[TestClient, dict[str, str]],
    settings: Settings,
    token: str | None,
    body: Any,
    headers: dict[str, str],
    status: int,
) -> None:
    client, tokens = setup
    before = counts(settings)
    response = post(client, tokens.get(token or "", token), body, **headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    assert counts(settings) == before


def test_a_published_object_resolves_at_its_id_until_deleted(
    setup: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = setup
    created = post(
        client,
        tokens["anna"],
        {"type": "Article", "name": "EQUAL lessons", "content": "<p>Text</p>"},
    ).json()
    object_id = created["object"]["id"]
    path = object_id.removeprefix("https://esf.test")
    served = client.get(path, headers={"Accept": AS2})
    assert served.status_code == 200
    assert served.headers["content-type"].startswith(AS2)
    assert served.json()["id"] == object_id
    assert served.json()["name"] == "EQUAL lessons"
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<h1>EQUAL lessons</h1>" in page.text
    assert "<p>Text</p>" in page.text
    post(client, tokens["anna"], {"type": "Delete", "object": object_id})
    gone = client.get(path, headers={"Accept": AS2})
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"
    assert client.get("/objects/unknown", headers={"Accept": AS2}).status_code == 404


def test_addressing_on_the_create_is_honoured(
    setup: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, tokens = setup
    followers = "https://esf.test/users/anna/followers"
    response = post(
        client,
        tokens["anna"],
        {
            "type": "Create",
            "to": [followers],
            "object": {"type": "Note", "content": "members only"},
        },
    )
    assert response.status_code == 201, response.text
    activity = response.json()
    assert activity["to"] == [followers] and activity["object"]["to"] == [followers]
    assert "https://www.w3.org/ns/activitystreams#Public" not in json.dumps(activity)
    outbox = client.get("/users/anna/outbox?page=1", headers={"Accept": AS2}).json()
    assert outbox["orderedItems"] == []  # not public: not in the public outbox


def test_blind_recipients_are_delivered_to_but_never_shown(
    setup: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, tokens = setup
    response = post(
        client,
        tokens["anna"],
        {"type": "Note", "content": "for z alone", "bcc": ["https://de.test/users/z"]},
    )
    assert response.status_code == 201, response.text
    assert "de.test" not in json.dumps(response.json())

    async def sent(session: Any) -> list[tuple[str, str]]:
        rows = await session.execute(select(Delivery.inbox, Activity.document).join(Activity))
        return [(inbox, json.dumps(document)) for inbox, document in rows]

    ((inbox, stored),) = run_in_session(settings, sent)
    assert inbox == "https://de.test/users/z/inbox"
    assert not blind_fields(json.loads(stored))
    assert "https://de.test/users/z" not in stored


def blind_fields(document: Any) -> list[str]:
    """Every ``bto``/``bcc`` property anywhere in ``document`` (the activity or its object)."""
    found: list[str] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.extend(key for key in node if key in ("bto", "bcc"))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def test_collections_among_the_recipients_are_not_fetched_as_actors(
    setup: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = setup
    response = post(
        client,
        tokens["anna"],
        {"type": "Note", "content": "x", "cc": ["https://esf.test/groups/network/followers"]},
    )
    assert response.status_code == 201, response.text


def test_a_create_in_another_actors_name_is_refused(
    setup: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, tokens = setup
    before = counts(settings)
    response = post(
        client,
        tokens["anna"],
        {
            "type": "Create",
            "actor": "https://esf.test/users/bob",
            "object": {"type": "Note", "content": "x"},
        },
    )
    assert response.status_code == 422
    assert counts(settings) == before


def test_an_embedded_parent_becomes_the_in_reply_to_iri(
    setup: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = setup
    parent = {"id": "https://it.test/notes/1", "type": "Note", "content": "question"}
    response = post(
        client, tokens["anna"], {"type": "Note", "content": "answer", "inReplyTo": parent}
    )
    assert response.status_code == 201, response.text
    assert response.json()["object"]["inReplyTo"] == "https://it.test/notes/1"


def test_translations_are_published_and_the_first_serves_plain_readers(
    setup: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = setup
    response = post(
        client,
        tokens["anna"],
        {
            "type": "Article",
            "nameMap": {"pl": "Mentoring dla młodzieży", "en": "Mentoring for young people"},
            "contentMap": {"pl": "<p>Treść<script>x()</script></p>", "en": "<p>Text</p>"},
        },
    )
    assert response.status_code == 201, response.text
    article = response.json()["object"]
    assert article["name"] == "Mentoring dla młodzieży"
    assert article["content"] == "<p>Treść</p>"
    assert article["contentMap"] == {"pl": "<p>Treść</p>", "en": "<p>Text</p>"}
    assert article["nameMap"]["en"] == "Mentoring for young people"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "Note", "contentMap": {"not a tag!": "x"}},
        {"type": "Note", "contentMap": {"pl": 5}},
        {"type": "Note", "contentMap": {}},
        {"type": "Article", "contentMap": {"en": "x"}},  # an Article still needs a name
    ],
)
def test_bad_translations_are_refused(
    setup: tuple[TestClient, dict[str, str]], settings: Settings, body: dict[str, Any]
) -> None:
    client, tokens = setup
    before = counts(settings)
    assert post(client, tokens["anna"], body).status_code == 422
    assert counts(settings) == before


def test_the_activity_keeps_the_request_id_for_its_delivery_log_lines(
    setup: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    _, tokens = setup
    # Sent by a trusted proxy: only from one is an X-Request-Id believed.
    proxied = replace(settings, trusted_proxies=(ip_network("127.0.0.1"),))
    app = create_app(proxied)
    with TestClient(app, base_url=settings.base_url, client=("127.0.0.1", 50000)) as client:
        response = post(
            client,
            tokens["anna"],
            {"type": "Note", "content": "x"},
            **{"X-Request-Id": "c2s-trace-1"},
        )
    assert response.status_code == 201

    async def request_ids(session: Any) -> list[str | None]:
        return list((await session.scalars(select(Activity.request_id))).all())

    assert run_in_session(settings, request_ids) == ["c2s-trace-1"]
