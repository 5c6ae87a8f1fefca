"""Notifications through the API: paged by cursor (stable while new ones arrive), filtered by
``unread``, marked read; and reports by members, which notify the moderators."""

from __future__ import annotations

from typing import Any

import pytest

from fedi.cli.common import run_in_session
from fedi.services.members import find_member
from fedi.services.notifications import notify
from fedi.settings import Settings
from tests.web.api.conftest import Api


def add_notifications(settings: Settings, login: str, count: int) -> None:
    async def work(session: Any) -> None:
        member = await find_member(session, login)
        for n in range(count):
            await notify(
                session, settings, member.id, "follow", object_uri=f"https://it.test/n/{n}"
            )

    run_in_session(settings, work)


def objects(page: dict[str, Any]) -> list[str]:
    return [item["object"] for item in page["items"]]


def test_pages_are_stable_while_new_notifications_arrive(api: Api, settings: Settings) -> None:
    add_notifications(settings, "anna", 45)
    add_notifications(settings, "mira", 3)  # someone else's: never listed for anna
    first = api.client.get("/api/v1/notifications", headers=api.auth("anna")).json()
    assert (len(first["items"]), first["total"], first["unread"]) == (20, 45, 45)
    assert objects(first)[0] == "https://it.test/n/44"
    assert first["next"].startswith("https://esf.test/api/v1/notifications?")
    add_notifications(settings, "anna", 5)  # newer ones do not shift the next pages
    second = api.client.get(first["next"], headers=api.auth("anna")).json()
    assert objects(second) == [f"https://it.test/n/{n}" for n in range(24, 4, -1)]
    third = api.client.get(second["next"], headers=api.auth("anna")).json()
    assert objects(third) == [f"https://it.test/n/{n}" for n in range(4, -1, -1)]
    assert third["next"] is None and third["total"] == 50


def test_limit_and_cursor_are_checked(api: Api, settings: Settings) -> None:
    add_notifications(settings, "anna", 3)
    page = api.client.get("/api/v1/notifications?limit=2", headers=api.auth("anna")).json()
    assert len(page["items"]) == 2 and "limit=2" in page["next"]
    for limit in ("0", "101", "ten", "-1", "", "²", "1.5"):
        answer = api.client.get(f"/api/v1/notifications?limit={limit}", headers=api.auth("anna"))
        assert answer.status_code == 422
        assert list(answer.json()["errors"]) == ["limit"]
    # A cursor past every id (past what PostgreSQL's INTEGER holds) names every notification.
    everything = api.client.get(
        "/api/v1/notifications?cursor=zzzzzzzzzzzz", headers=api.auth("anna")
    )
    assert everything.status_code == 200 and len(everything.json()["items"]) == 3
    for cursor in ("!!", "A", "x" * 13):
        answer = api.client.get(f"/api/v1/notifications?cursor={cursor}", headers=api.auth("anna"))
        assert answer.status_code == 400


def test_marking_read_and_the_unread_filter(api: Api, settings: Settings) -> None:
    add_notifications(settings, "anna", 4)
    listed = api.client.get("/api/v1/notifications", headers=api.auth("anna")).json()
    newest = listed["items"][0]["id"]
    marked = api.client.post(  # 7.0 is an integer to JSON Schema, so an id too
        "/api/v1/notifications/read", json={"ids": [float(newest)]}, headers=api.auth("anna")
    )
    assert marked.json() == {"marked": 1, "unread": 3}
    unread = api.client.get("/api/v1/notifications?unread=true", headers=api.auth("anna")).json()
    assert unread["total"] == 3 and newest not in [item["id"] for item in unread["items"]]
    read = api.client.get("/api/v1/notifications?unread=false", headers=api.auth("anna")).json()
    assert [item["id"] for item in read["items"]] == [newest]
    assert read["items"][0]["read"] is True
    everything = api.client.post("/api/v1/notifications/read", json={}, headers=api.auth("anna"))
    assert everything.json() == {"marked": 3, "unread": 0}


def test_nobody_marks_another_members_notifications(api: Api, settings: Settings) -> None:
    add_notifications(settings, "mira", 1)
    theirs = api.client.get("/api/v1/notifications", headers=api.auth("mira")).json()
    answer = api.client.post(
        "/api/v1/notifications/read",
        json={"ids": [theirs["items"][0]["id"]]},
        headers=api.auth("anna"),
    )
    assert answer.json() == {"marked": 0, "unread": 0}
    assert api.client.get("/api/v1/notifications", headers=api.auth("mira")).json()["unread"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": "all"}, "ids"),
        ({"ids": [1, "2"]}, "ids"),
        ({"ids": [True]}, "ids"),
        ({"ids": None}, "ids"),
        ({"ids": [2**31]}, "ids"),
        ({"ids": [0]}, "ids"),
        ({"ids": [1.5]}, "ids"),
        ({"every": True}, "every"),
    ],
)
def test_bad_mark_read_bodies_are_422(api: Api, body: dict[str, Any], field: str) -> None:
    answer = api.client.post("/api/v1/notifications/read", json=body, headers=api.auth("anna"))
    assert answer.status_code == 422
    assert list(answer.json()["errors"]) == [field]


def test_bad_unread_filter_is_422(api: Api) -> None:
    answer = api.client.get("/api/v1/notifications?unread=maybe", headers=api.auth("anna"))
    assert answer.status_code == 422


def test_a_report_notifies_every_moderator_and_admin(api: Api) -> None:
    answer = api.client.post(
        "/api/v1/reports",
        json={"object": "https://it.test/notes/1", "comment": "spam"},
        headers=api.auth("anna"),
    )
    assert answer.status_code == 201
    assert answer.json()["object"] == "https://it.test/notes/1"
    for login in ("mira", "ada"):
        [item] = api.client.get("/api/v1/notifications", headers=api.auth(login)).json()["items"]
        assert item["kind"] == "report"
        assert item["actor"] == {
            "id": "https://esf.test/users/anna",
            "handle": "@anna@esf.test",
            "name": "anna",
        }
        assert item["data"]["comment"] == "spam"
    assert api.client.get("/api/v1/notifications", headers=api.auth("anna")).json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"object": "ftp://x"},
        {"object": "https://x", "comment": 5},
        {"object": "https://x", "y": 1},
        {"object": "https://n\u0000p"},
        {"object": "https://it.test/a b"},
        {"object": "https://it.test/" + "a" * 2048},
        {"object": "https://x", "comment": "nul\u0000"},
        {"object": "https://x", "comment": "c" * 5001},
    ],
)
def test_bad_reports_are_422(api: Api, body: dict[str, Any]) -> None:
    answer = api.client.post("/api/v1/reports", json=body, headers=api.auth("anna"))
    assert answer.status_code == 422


def test_notifications_need_a_member(api: Api) -> None:
    assert api.client.get("/api/v1/notifications").status_code == 401
    assert api.client.post("/api/v1/notifications/read", json={}).status_code == 401
    assert api.client.post("/api/v1/reports", json={"object": "https://x"}).status_code == 401
