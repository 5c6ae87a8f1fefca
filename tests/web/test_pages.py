"""Every page renders in every language, in the one layout, without inline script or style."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.accounts.invites import create_invite
from fedi.cli.common import run_in_session
from fedi.db.models import Role, utcnow
from fedi.services.members import add_member
from fedi.settings import Settings
from fedi.testing.web import csrf_token, post_form, sign_in
from fedi.web import create_app
from fedi.web.access import Access, rule
from tests.web.test_discovery import bootstrap
from tests.web.test_offers import FORM as OFFER_FORM

PASSWORD = "a long test password"


def _invite(settings: Settings) -> str:
    async def work(session: AsyncSession) -> str:
        return (await create_invite(session, now=utcnow())).token

    token: str = run_in_session(settings, work)
    return token


@pytest.fixture
def site(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    bootstrap(settings, "anna")

    async def admin(session: AsyncSession) -> None:
        await add_member(session, settings, "zoe", PASSWORD, Role.ADMIN)

    run_in_session(settings, admin)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client, _invite(settings)


def _draft(client: TestClient) -> str:
    """A draft offer of anna's, made in the form; its id."""
    assert sign_in(client, "anna", PASSWORD).status_code == 303
    made = client.post(
        "/offers/new",
        data={"csrf_token": csrf_token(client), **OFFER_FORM, "action": "draft"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    return str(made.headers["location"]).split("?")[0].rsplit("/", 1)[1]


# (who is signed in, path, status, a sentence in English, the same in Polish)
PAGES = [
    (None, "/", 200, "Follow this network", "Obserwuj tę sieć"),
    (None, "/login", 200, "Membership is by invitation", "Członkiem zostaje się na zaproszenie"),
    (None, "/join/{invite}", 200, "Choose a login and a password", "Wybierz login i hasło"),
    (None, "/join/nonsense", 404, "This invitation cannot be used", "Tego zaproszenia nie można"),
    (None, "/no/such/page", 404, "There is no page at this address", "Pod tym adresem nie ma"),
    (None, "/users/anna", 200, "Followers", "Obserwujący"),
    (None, "/users/nobody", 404, "There is no such account here.", "Nie ma tu takiego konta."),
    (None, "/experiences", 200, "No experiences yet.", "Nie ma jeszcze doświadczeń."),
    ("anna", "/experiences/new", 200, "Language you write in", "Język, w którym piszesz"),
    (None, "/offers", 200, "No partner offers are published yet.", "Nie opublikowano jeszcze"),
    ("anna", "/offers/new", 200, "Partners you seek", "Jakich partnerów szukasz"),
    ("anna", "/offers/{offer}", 200, "Only you can see this draft", "Ten szkic widzisz tylko Ty"),
    ("anna", "/account", 200, "Personal API tokens", "Osobiste tokeny API"),
    ("anna", "/notifications", 200, "You have no notifications.", "Nie masz powiadomień."),
    ("anna", "/admin/invites", 403, "You cannot open this page", "Nie możesz otworzyć tej strony"),
    ("zoe", "/admin/invites", 200, "Invite someone", "Zaproś kogoś"),
    ("anna", "/admin/forums", 403, "You cannot open this page", "Nie możesz otworzyć tej strony"),
    ("zoe", "/admin/forums", 200, "Create a forum", "Załóż forum"),
]


@pytest.mark.parametrize(("login", "path", "status", "english", "polish"), PAGES)
@pytest.mark.parametrize("language", ["en", "pl"])
def test_every_page_renders_in_both_languages(
    site: tuple[TestClient, str],
    language: str,
    login: str | None,
    path: str,
    status: int,
    english: str,
    polish: str,
) -> None:
    client, invite = site
    offer = _draft(client) if "{offer}" in path else ""
    if login is not None:
        assert sign_in(client, login, PASSWORD).status_code == 303
    response = client.get(
        path.format(invite=invite, offer=offer), headers={"Accept-Language": f"{language},en;q=0.5"}
    )
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert f'<html lang="{language}">' in page
    assert (polish if language == "pl" else english) in page
    if language == "pl":
        assert english not in page
    # One layout: landmarks and a skip link to the main content.
    for landmark in ('<a class="skip-link" href="#main">', "<header", "<nav", '<main id="main"'):
        assert landmark in page
    # The security policy allows no inline script or style.
    assert "<script" not in page
    assert not re.search(r"\sstyle=", page)


def test_the_language_switch_is_remembered(site: tuple[TestClient, str]) -> None:
    client, _ = site
    assert '<html lang="en">' in client.get("/").text
    client.get("/login")
    switched = post_form(client, "/language", {"language": "pl", "next": "/login"})
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    assert "fedi_lang=pl" in switched.headers["set-cookie"]
    assert "Max-Age" in switched.headers["set-cookie"]
    page = client.get("/login", headers={"Accept-Language": "en"}).text
    assert '<html lang="pl">' in page
    assert "Zaloguj się" in page


def test_the_language_switch_returns_to_the_page_with_its_query(
    site: tuple[TestClient, str],
) -> None:
    client, _ = site
    page = client.get("/offers/search?q=mentoring&theme=youth-employment").text
    assert 'name="next" value="/offers/search?q=mentoring&amp;theme=youth-employment"' in page
    target = "/offers/search?q=mentoring&theme=youth-employment"
    switched = post_form(client, "/language", {"language": "pl", "next": target})
    assert switched.headers["location"] == target


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/", "/\\evil.test", "x"])
def test_the_language_switch_stays_on_this_site(site: tuple[TestClient, str], target: str) -> None:
    client, _ = site
    switched = post_form(client, "/language", {"language": "pl", "next": target})
    assert switched.headers["location"] == "/"


def test_static_files_are_served(site: tuple[TestClient, str]) -> None:
    client, _ = site
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/favicon.svg").headers["content-type"] == "image/svg+xml"


def test_a_fault_shows_the_error_page(settings: Settings) -> None:
    app = create_app(settings)

    async def broken(request: object) -> None:
        raise RuntimeError("boom")

    app.router.routes.insert(0, rule("/broken", broken, Access.PUBLIC))
    app.router.routes.insert(0, rule("/api/v1/broken", broken, Access.PUBLIC))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/broken", headers={"Accept-Language": "pl"})
        api = client.get("/api/v1/broken", headers={"Accept-Language": "pl"})
        missing_page = client.get("/no/such/thing")
        missing_api = client.get("/api/v1/no/such/thing")
    assert response.status_code == 500
    assert "Coś poszło nie tak" in response.text
    assert '<html lang="pl">' in response.text
    # The same faults under /api/ are problem documents, never pages.
    assert (api.status_code, api.headers["content-type"]) == (500, "application/problem+json")
    assert api.json() == {"status": 500, "title": "Internal Server Error"}
    assert missing_page.status_code == 404
    assert missing_page.headers["content-type"].startswith("text/html")
    assert missing_api.status_code == 404
    assert missing_api.headers["content-type"] == "application/problem+json"
    assert missing_api.json()["status"] == 404
