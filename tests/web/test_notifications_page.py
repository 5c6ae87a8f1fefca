"""The notifications page: newest first, paged, each linked to what it is about, marked read one
by one or all at once; and the unread count in every page's navigation."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import Actor, ActorType
from fedi.services.members import find_member
from fedi.services.notifications import notify
from fedi.settings import Settings
from fedi.testing.web import post_form, sign_in
from tests.web.test_pages import PASSWORD, site  # noqa: F401 (the fixture)

NAV = re.compile(r'<nav class="wrap site-nav".*?</nav>', re.S)


def _follower(session: Any, name: str) -> Actor:
    actor = Actor(
        uri=f"https://remote.test/users/{name}",
        url=f"https://remote.test/@{name}",
        type=ActorType.PERSON,
        username=name,
        domain="remote.test",
        inbox=f"https://remote.test/users/{name}/inbox",
    )
    session.add(actor)
    return actor


def _notify(settings: Settings, login: str, *names: str) -> None:
    async def work(session: Any) -> None:
        member = await find_member(session, login)
        for name in names:
            actor = _follower(session, name)
            await session.flush()
            await notify(session, settings, member.id, "follow", actor=actor, object_uri="x:y")

    run_in_session(settings, work)


def _report(settings: Settings, login: str) -> None:
    async def work(session: Any) -> None:
        member = await find_member(session, login)
        actor = _follower(session, "reporter")
        await session.flush()
        await notify(
            session,
            settings,
            member.id,
            "report",
            actor=actor,
            object_uri="https://remote.test/notes/1",
            data={"report": 1, "comment": "Spam, again"},
        )

    run_in_session(settings, work)


def _nav(client: TestClient) -> str:
    found = NAV.search(client.get("/account").text)
    assert found is not None
    return found.group(0)


def test_the_navigation_counts_unread_notifications(
    site: tuple[TestClient, str],  # noqa: F811
    settings: Settings,
) -> None:
    client, _ = site
    assert sign_in(client, "anna", PASSWORD).status_code == 303
    assert '<a href="/notifications">Notifications</a>' in _nav(client)
    _notify(settings, "anna", "bob", "eve", "kim")
    _notify(settings, "zoe", "ola")  # someone else's: not counted for anna
    nav = _nav(client)
    assert 'Notifications <span aria-hidden="true">(3)</span>' in nav
    assert '<span class="visually-hidden">, 3 unread notifications</span>' in nav
    polish = client.get("/account", headers={"Accept-Language": "pl"}).text
    assert "Powiadomienia <span" in polish and "3 nieprzeczytane powiadomienia" in polish


def test_the_page_lists_links_and_marks_read(
    site: tuple[TestClient, str],  # noqa: F811
    settings: Settings,
) -> None:
    client, _ = site
    assert sign_in(client, "anna", PASSWORD).status_code == 303
    _notify(settings, "anna", "bob", "eve")
    _report(settings, "anna")
    page = client.get("/notifications").text
    # Newest first, each linked to what it is about.
    assert (
        page.index("@reporter@remote.test sent a report.")
        < page.index("@eve@remote.test follows you.")
        < page.index("@bob@remote.test follows you.")
    )
    assert '<a href="https://remote.test/@bob">Profile of @bob@remote.test</a>' in page
    assert '<a href="/admin/reports/1">The report in the queue</a>' in page
    assert "Spam, again" in page
    ids = re.findall(r'action="/notifications/(\d+)/read"', page)
    assert len(ids) == 3
    answer = post_form(client, f"/notifications/{ids[-1]}/read", {})
    assert (answer.status_code, answer.headers["location"]) == (
        303,
        "/notifications?marked=one",
    )
    page = client.get(answer.headers["location"]).text
    assert "The notification is marked read." in page
    assert len(re.findall(r'action="/notifications/(\d+)/read"', page)) == 2
    assert '<span aria-hidden="true">(2)</span>' in page
    # Someone else's notification is not touched by anna.
    _notify(settings, "zoe", "ola")
    zoe_page = TestClient(client.app, base_url=str(client.base_url))
    assert sign_in(zoe_page, "zoe", PASSWORD).status_code == 303
    zoe_id = re.findall(r'action="/notifications/(\d+)/read"', zoe_page.get("/notifications").text)
    assert post_form(client, f"/notifications/{zoe_id[0]}/read", {}).status_code == 303
    assert f'action="/notifications/{zoe_id[0]}/read"' in zoe_page.get("/notifications").text
    answer = post_form(client, "/notifications/read", {})
    assert answer.headers["location"] == "/notifications?marked=all"
    page = client.get(answer.headers["location"]).text
    assert "All your notifications are marked read." in page
    assert "/read" not in page.split('<main id="main"')[1]  # no form left
    assert "(0)" not in page and 'aria-hidden="true">(' not in page


def test_the_page_is_paged_newest_first(
    site: tuple[TestClient, str],  # noqa: F811
    settings: Settings,
) -> None:
    client, _ = site
    assert sign_in(client, "anna", PASSWORD).status_code == 303
    _notify(settings, "anna", *[f"p{n}" for n in range(25)])
    first = client.get("/notifications").text
    assert "25 notifications in all" in first
    assert len(re.findall(r"<li class=\"notification", first)) == 20
    assert "@p24@remote.test" in first and "@p4@remote.test" not in first
    older = re.search(r'href="(/notifications\?before=\d+)"', first)
    assert older is not None
    second = client.get(older.group(1)).text
    assert len(re.findall(r"<li class=\"notification", second)) == 5
    assert "@p4@remote.test" in second and "@p5@remote.test" not in second
    assert 'href="/notifications">Newest</a>' in second
    # Marking all read from the second page comes back to it.
    before = older.group(1).split("=")[1]
    answer = post_form(client, "/notifications/read", {"before": before})
    assert answer.headers["location"] == f"/notifications?before={before}&marked=all"
    for nonsense in ("abc", "-1", "99999999999999"):
        assert client.get(f"/notifications?before={nonsense}").status_code == 200
    assert (
        post_form(client, "/notifications/read", {"before": "//evil.test"}).headers["location"]
        == "/notifications?marked=all"
    )
