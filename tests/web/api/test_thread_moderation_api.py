"""Moderation and editing through the API: moderators lock, pin and remove; authors edit and
delete; everyone else is refused (403 for non-moderators, 404 for an unknown thread or reply),
and what is sent is the Lock, Add, Delete and Update the forum announces. Every answer is
checked against schemas/openapi.json."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fedi.cli.common import run_in_session
from fedi.db.models import Activity, Actor
from fedi.settings import Settings
from tests.web.api.conftest import Api

THREAD = {"title": "Indicators", "body": "How do you count participants?", "language": "en"}
FORUM = "https://esf.test/groups/reporting"


def _setup(api: Api) -> dict[str, Any]:
    made = api.client.post(
        "/api/v1/forums", json={"slug": "reporting", "name": "Reporting"}, headers=api.auth("ada")
    )
    assert made.status_code == 201, made.text
    started = api.client.post(
        "/api/v1/forums/reporting/threads", json=THREAD, headers=api.auth("anna")
    )
    assert started.status_code == 201, started.text
    body: dict[str, Any] = started.json()
    return body


def _reply(api: Api, key: int, login: str, **fields: Any) -> dict[str, Any]:
    sent = api.client.post(
        f"/api/v1/threads/{key}/replies", json={"body": "A reply", **fields},
        headers=api.auth(login),
    )  # fmt: skip
    assert sent.status_code == 201, sent.text
    body: dict[str, Any] = sent.json()
    return body


def _sent(settings: Settings, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(sender, document) of the activities of ``kind`` sent, oldest first."""

    async def work(session: Any) -> list[tuple[str, dict[str, Any]]]:
        rows = await session.execute(
            select(Actor.uri, Activity.document)
            .join(Actor, Actor.id == Activity.actor_id)
            .where(Activity.type == kind, Activity.local.is_(True))
            .order_by(Activity.id)
        )
        return [(uri, document) for uri, document in rows.all()]

    found: list[tuple[str, dict[str, Any]]] = run_in_session(settings, work)
    return found


def test_a_moderator_locks_a_thread_and_replies_are_refused(api: Api, settings: Settings) -> None:
    thread = _setup(api)
    key = thread["key"]
    assert thread["locked"] is False and thread["pinned"] is False
    assert (
        api.client.post(f"/api/v1/threads/{key}/lock", headers=api.auth("anna")).status_code == 403
    )
    assert api.client.post(f"/api/v1/threads/{key}/lock").status_code == 401
    assert (
        api.client.post("/api/v1/threads/99999/lock", headers=api.auth("mira")).status_code == 404
    )
    locked = api.client.post(f"/api/v1/threads/{key}/lock", headers=api.auth("mira"))
    assert locked.status_code == 200, locked.text
    assert locked.json()["locked"] is True
    refused = api.client.post(
        f"/api/v1/threads/{key}/replies", json={"body": "Late"}, headers=api.auth("anna")
    )
    assert refused.status_code == 409 and "locked" in refused.json()["detail"]
    (lock,) = [d for _, d in _sent(settings, "Lock")]
    assert lock["actor"] == "https://esf.test/users/mira" and lock["object"] == thread["id"]
    assert lock["to"][1] == FORUM and lock["audience"] == FORUM
    announced = [d["object"]["type"] for s, d in _sent(settings, "Announce") if s == FORUM]
    assert announced == ["Create", "Lock"]
    page = api.client.get(f"/objects/{thread['id'].rsplit('/', 1)[1]}",
                          headers={"Accept": "application/activity+json"})  # fmt: skip
    assert page.json()["commentsEnabled"] is False
    opened = api.client.delete(f"/api/v1/threads/{key}/lock", headers=api.auth("ada"))
    assert opened.status_code == 200 and opened.json()["locked"] is False
    (undo,) = [d for _, d in _sent(settings, "Undo")]
    assert undo["object"]["type"] == "Lock" and undo["object"]["object"] == thread["id"]
    _reply(api, key, "anna")


def test_a_moderator_pins_a_thread_first_in_the_list_and_featured(
    api: Api, settings: Settings
) -> None:
    first = _setup(api)
    later = api.client.post(
        "/api/v1/forums/reporting/threads", json={**THREAD, "title": "Later"},
        headers=api.auth("anna"),
    ).json()  # fmt: skip
    listed = api.client.get("/api/v1/forums/reporting/threads").json()
    assert [t["key"] for t in listed["items"]] == [later["key"], first["key"]]
    assert (
        api.client.post(f"/api/v1/threads/{first['key']}/pin", headers=api.auth("anna")).status_code
        == 403
    )
    pinned = api.client.post(f"/api/v1/threads/{first['key']}/pin", headers=api.auth("mira"))
    assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    listed = api.client.get("/api/v1/forums/reporting/threads").json()
    assert [(t["key"], t["pinned"]) for t in listed["items"]] == [
        (first["key"], True),
        (later["key"], False),
    ]
    featured = api.client.get(f"{FORUM.removeprefix('https://esf.test')}/featured").json()
    assert featured["type"] == "OrderedCollection" and featured["totalItems"] == 1
    assert featured["orderedItems"][0]["id"] == first["id"]
    assert featured["orderedItems"][0]["stickied"] is True
    forum = api.client.get(FORUM.removeprefix("https://esf.test"),
                           headers={"Accept": "application/activity+json"}).json()  # fmt: skip
    assert forum["featured"] == f"{FORUM}/featured"
    (add,) = [d for _, d in _sent(settings, "Add")]
    assert add["target"] == f"{FORUM}/featured" and add["object"] == first["id"]
    unpinned = api.client.delete(f"/api/v1/threads/{first['key']}/pin", headers=api.auth("mira"))
    assert unpinned.json()["pinned"] is False
    (remove,) = [d for _, d in _sent(settings, "Remove")]
    assert remove["target"] == f"{FORUM}/featured"
    featured = api.client.get(f"{FORUM.removeprefix('https://esf.test')}/featured").json()
    assert featured["orderedItems"] == []


def test_authors_edit_and_others_may_not(api: Api, settings: Settings) -> None:
    thread = _setup(api)
    key = thread["key"]
    edit = {"title": "Indicators, again", "body": "How do you count *them*?"}
    assert (
        api.client.patch(f"/api/v1/threads/{key}", json=edit, headers=api.auth("mira")).status_code
        == 403
    )
    edited = api.client.patch(f"/api/v1/threads/{key}", json=edit, headers=api.auth("anna"))
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Indicators, again" and edited.json()["updated"] is not None
    assert "<em>them</em>" in edited.json()["body_html"]
    bad = api.client.patch(f"/api/v1/threads/{key}", json={"title": ""}, headers=api.auth("anna"))
    assert bad.status_code == 422
    reply = _reply(api, key, "mira")
    path = f"/api/v1/replies/{reply['key']}"
    assert (
        api.client.patch(path, json={"body": "Mine now"}, headers=api.auth("anna")).status_code
        == 403
    )
    assert (
        api.client.patch(
            "/api/v1/replies/99999", json={"body": "x"}, headers=api.auth("mira")
        ).status_code
        == 404
    )
    changed = api.client.patch(path, json={"body": "Better **reply**"}, headers=api.auth("mira"))
    assert changed.status_code == 200, changed.text
    assert "<strong>reply</strong>" in changed.json()["body_html"] and changed.json()["updated"]
    updates = [d for _, d in _sent(settings, "Update")]
    assert [u["object"]["type"] for u in updates] == ["Page", "Note"]
    assert updates[0]["object"]["name"] == "Indicators, again"
    announced = [d["object"]["type"] for s, d in _sent(settings, "Announce") if s == FORUM]
    assert announced.count("Update") == 2


def test_removed_replies_leave_a_placeholder_and_threads_are_gone(
    api: Api, settings: Settings
) -> None:
    thread = _setup(api)
    key = thread["key"]
    parent = _reply(api, key, "ada")
    child = _reply(api, key, "anna", in_reply_to=parent["id"])
    alone = _reply(api, key, "ada")
    assert (
        api.client.delete(f"/api/v1/replies/{parent['key']}", headers=api.auth("anna")).status_code
        == 403
    )
    removed = api.client.delete(f"/api/v1/replies/{parent['key']}", headers=api.auth("mira"))
    assert removed.status_code == 204
    own = api.client.delete(f"/api/v1/replies/{alone['key']}", headers=api.auth("ada"))
    assert own.status_code == 204
    read = api.client.get(f"/api/v1/threads/{key}").json()
    items = read["replies"]["items"]
    assert [(r["id"], r["removed"]) for r in items] == [(parent["id"], True), (child["id"], False)]
    assert items[0]["body_html"] == "" and read["reply_count"] == 1
    assert (
        api.client.delete(f"/api/v1/replies/{parent['key']}", headers=api.auth("mira")).status_code
        == 404
    )
    deletes = [(s, d) for s, d in _sent(settings, "Delete")]
    assert [s for s, _ in deletes] == ["https://esf.test/users/mira", "https://esf.test/users/ada"]
    assert deletes[0][1]["object"]["type"] == "Tombstone"
    assert deletes[0][1]["audience"] == FORUM
    assert api.client.delete(f"/api/v1/threads/{key}", headers=api.auth("ada")).status_code == 204
    assert api.client.get(f"/api/v1/threads/{key}").status_code == 404
    assert api.client.get("/api/v1/forums/reporting/threads").json()["total"] == 0
    gone = api.client.get(f"/objects/{thread['id'].rsplit('/', 1)[1]}",
                          headers={"Accept": "application/activity+json"})  # fmt: skip
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"
    announced = [d["object"]["type"] for s, d in _sent(settings, "Announce") if s == FORUM]
    assert announced.count("Delete") == 3


def test_the_author_deletes_their_own_thread_and_a_member_may_not(api: Api) -> None:
    thread = _setup(api)
    key = thread["key"]
    assert api.client.delete("/api/v1/threads/99999", headers=api.auth("anna")).status_code == 404
    other = _reply(api, key, "mira")
    assert other["removed"] is False
    assert api.client.delete(f"/api/v1/threads/{key}", headers=api.auth("anna")).status_code == 204
    assert api.client.get(f"/api/v1/threads/{key}").status_code == 404
