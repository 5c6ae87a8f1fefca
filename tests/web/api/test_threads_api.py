"""``/api/v1/forums/{slug}/threads`` and ``/api/v1/threads/{id}``: start a thread, reply, page
through replies, mark the accepted answer; refusals change nothing. Every answer is checked
against schemas/openapi.json."""

from __future__ import annotations

from typing import Any

from fedi.cli.common import run_in_session
from fedi.db.models import ContentObject, Thread
from fedi.settings import Settings
from tests.web.api.conftest import Api

THREAD = {"title": "Indicators", "body": "How do you count **participants**?", "language": "en"}


def _forum(api: Api, slug: str = "reporting") -> None:
    made = api.client.post(
        "/api/v1/forums", json={"slug": slug, "name": "Reporting"}, headers=api.auth("ada")
    )
    assert made.status_code == 201, made.text


def _start(api: Api, login: str = "anna", **extra: Any) -> dict[str, Any]:
    answer = api.client.post(
        "/api/v1/forums/reporting/threads", json={**THREAD, **extra}, headers=api.auth(login)
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _counts(settings: Settings) -> tuple[int, int]:
    async def work(session: Any) -> tuple[int, int]:
        from sqlalchemy import func, select

        threads = await session.scalar(select(func.count()).select_from(Thread))
        objects = await session.scalar(select(func.count()).select_from(ContentObject))
        return int(threads), int(objects)

    found: tuple[int, int] = run_in_session(settings, work)
    return found


def test_a_member_starts_a_thread_that_anyone_lists_and_reads(api: Api) -> None:
    _forum(api)
    thread = _start(api)
    assert thread["title"] == "Indicators" and thread["local"] is True
    assert "<strong>participants</strong>" in thread["body_html"]
    assert thread["body"] == THREAD["body"] and thread["language"] == "en"
    assert thread["forum"] == "https://esf.test/groups/reporting"
    assert thread["url"] == f"https://esf.test/threads/{thread['key']}"
    assert (thread["reply_count"], thread["solved"], thread["solution"]) == (0, False, None)
    second = _start(api, "mira", title="Second")
    listed = api.client.get("/api/v1/forums/reporting/threads?limit=1").json()
    assert [t["title"] for t in listed["items"]] == ["Second"] and listed["total"] == 2
    rest = api.client.get(listed["next"].removeprefix("https://esf.test")).json()
    assert [t["id"] for t in rest["items"]] == [thread["id"]] and rest["next"] is None
    one = api.client.get(f"/api/v1/threads/{second['key']}").json()
    assert one["id"] == second["id"] and one["replies"] == {"items": [], "next": None, "total": 0}
    assert api.client.get("/api/v1/forums/nowhere/threads").status_code == 404
    assert api.client.get("/api/v1/threads/99999").status_code == 404
    assert api.client.get("/api/v1/threads/abc").status_code == 404
    assert api.client.get("/api/v1/threads/99999999999").status_code == 404


def test_replies_nest_page_and_move_the_thread_up(api: Api) -> None:
    _forum(api)
    first = _start(api)
    later = _start(api, title="Later")
    path = f"/api/v1/threads/{first['key']}/replies"
    reply = api.client.post(path, json={"body": "We use *ECF*."}, headers=api.auth("mira"))
    assert reply.status_code == 201, reply.text
    one = reply.json()
    assert one["in_reply_to"] == first["id"] and "<em>ECF</em>" in one["body_html"]
    nested = api.client.post(
        path, json={"body": "Thanks", "in_reply_to": one["id"]}, headers=api.auth("anna")
    ).json()
    assert nested["in_reply_to"] == one["id"]
    page = api.client.get(f"/api/v1/threads/{first['key']}?limit=1").json()
    assert page["reply_count"] == 2 and page["replies"]["total"] == 2
    assert [r["id"] for r in page["replies"]["items"]] == [one["id"]]
    rest = api.client.get(page["replies"]["next"].removeprefix("https://esf.test")).json()
    assert [r["id"] for r in rest["replies"]["items"]] == [nested["id"]]
    listed = api.client.get("/api/v1/forums/reporting/threads").json()
    assert [t["id"] for t in listed["items"]] == [first["id"], later["id"]]


def test_bad_input_is_refused_and_changes_nothing(api: Api, settings: Settings) -> None:
    _forum(api)
    thread = _start(api)
    before = _counts(settings)
    start = "/api/v1/forums/reporting/threads"
    cases: list[tuple[str, Any, int, str]] = [
        (start, {"body": "x"}, 422, "title"),
        (start, {"title": "x", "body": ""}, 422, "body"),
        (start, {"title": 3, "body": "x"}, 422, "title"),
        (start, {"title": "x", "body": "x", "language": "xx"}, 422, "language"),
        (start, {"title": "x", "body": "x", "colour": "red"}, 422, "colour"),
        (f"/api/v1/threads/{thread['key']}/replies", {"body": " "}, 422, "body"),
        (
            f"/api/v1/threads/{thread['key']}/replies",
            {"body": "x", "in_reply_to": "https://elsewhere.test/1"},
            422,
            "in_reply_to",
        ),
        (f"/api/v1/threads/{thread['key']}/solution", {"reply": thread["id"]}, 422, "reply"),
        (f"/api/v1/threads/{thread['key']}/solution", {"answer": "x"}, 422, "answer"),
    ]
    for path, body, status, field in cases:
        answer = api.client.post(path, json=body, headers=api.auth("anna"))
        assert answer.status_code == status, (path, body, answer.text)
        assert field in answer.json()["errors"], (path, body)
    broken = {**api.auth("anna"), "Content-Type": "application/json"}
    assert api.client.post(start, content=b"{", headers=broken).status_code == 400
    assert api.client.post(start, json=THREAD).status_code == 401
    assert _counts(settings) == before


def test_an_archived_forum_refuses_new_threads(api: Api, settings: Settings) -> None:
    _forum(api)
    archived = api.client.patch(
        "/api/v1/forums/reporting", json={"archived": True}, headers=api.auth("ada")
    )
    assert archived.status_code == 200
    answer = api.client.post(
        "/api/v1/forums/reporting/threads", json=THREAD, headers=api.auth("anna")
    )
    assert answer.status_code == 409 and "archived" in answer.json()["detail"]
    assert _counts(settings) == (0, 0)


def test_only_the_author_or_a_moderator_marks_the_solution(api: Api) -> None:
    _forum(api)
    thread = _start(api)
    replies = f"/api/v1/threads/{thread['key']}/replies"
    one = api.client.post(replies, json={"body": "A"}, headers=api.auth("ada")).json()
    two = api.client.post(replies, json={"body": "B"}, headers=api.auth("ada")).json()
    solution = f"/api/v1/threads/{thread['key']}/solution"
    refused = api.client.post(solution, json={"reply": one["id"]}, headers=api.auth("ada"))
    assert refused.status_code == 200  # ada is an admin
    other = _start(api, "ada", title="Ada's")
    mine = api.client.post(
        f"/api/v1/threads/{other['key']}/replies", json={"body": "C"}, headers=api.auth("mira")
    ).json()
    denied = api.client.post(
        f"/api/v1/threads/{other['key']}/solution", json={"reply": mine["id"]},
        headers=api.auth("anna"),
    )  # fmt: skip
    assert denied.status_code == 403
    marked = api.client.post(solution, json={"reply": two["id"]}, headers=api.auth("anna"))
    assert marked.status_code == 200, marked.text
    assert marked.json()["solved"] is True and marked.json()["solution"] == two["id"]
    read = api.client.get(f"/api/v1/threads/{thread['key']}").json()
    assert [r["solution"] for r in read["replies"]["items"]] == [False, True]
    listed = api.client.get("/api/v1/forums/reporting/threads").json()
    assert {t["id"]: t["solved"] for t in listed["items"]} == {
        thread["id"]: True,
        other["id"]: False,
    }
