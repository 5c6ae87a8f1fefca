"""The instance settings page: admins change the name, description, rules and offer policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import Role
from fedi.partners import policy
from fedi.services import instance_settings
from fedi.services.instance_settings import InstanceInfo
from fedi.services.members import add_member
from fedi.settings import Settings
from fedi.testing.web import post_form, sign_in
from fedi.web import create_app
from tests.web.test_discovery import bootstrap

PASSWORD = "a long test password"
AS2 = "application/activity+json"
GOOD = {
    "name": "ESF+ Polska",
    "description": "The Polish national network.",
    "rules": "Be **kind** & share.",
    "offers_need_validation": "yes",
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna")

    async def admin(session: AsyncSession) -> None:
        await add_member(session, settings, "zoe", PASSWORD, Role.ADMIN)

    run_in_session(settings, admin)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        sign_in(client, "zoe", PASSWORD)
        yield client


def _current(settings: Settings) -> InstanceInfo:
    async def work(session: AsyncSession) -> InstanceInfo:
        return await instance_settings.load(session, settings)

    found: InstanceInfo = run_in_session(settings, work)
    return found


def _needs_validation(settings: Settings) -> bool:
    async def work(session: AsyncSession) -> bool:
        return await policy.offers_need_validation(session)

    found: bool = run_in_session(settings, work)
    return found


def test_an_admin_saves_the_settings_and_the_network_shows_them(
    client: TestClient, settings: Settings
) -> None:
    page = client.get("/admin/settings")
    assert page.status_code == 200
    assert f'value="{settings.instance_name}"' in page.text
    assert 'id="offers_need_validation-no" name="offers_need_validation" value="no" checked' in (
        page.text
    )
    assert 'href="/admin/settings" aria-current="page"' in page.text
    assert "About" not in client.get("/").text

    saved = post_form(client, "/admin/settings", GOOD)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/settings?saved=1"
    assert "Saved." in client.get(saved.headers["location"]).text
    current = _current(settings)
    assert (current.name, current.description, current.rules) == (
        "ESF+ Polska",
        "The Polish national network.",
        "Be **kind** & share.",
    )
    assert _needs_validation(settings) is True

    home = client.get("/").text
    assert "<h1>ESF+ Polska</h1>" in home and "<title>ESF+ Polska</title>" in home
    assert '<h2 id="about">About</h2>' in home
    assert "The Polish national network." in home
    assert "Be <strong>kind</strong> &amp; share." in home

    group = client.get("/groups/network", headers={"Accept": AS2}).json()
    assert group["name"] == "ESF+ Polska"
    assert group["summary"] == "<p>The Polish national network.</p>"

    # Every page names the network as saved: its title, header and footer; NodeInfo too.
    listing = client.get("/experiences").text
    assert "· ESF+ Polska</title>" in listing
    assert '<a class="site-name" href="/">ESF+ Polska</a>' in listing
    assert "ESF+ Polska is a national network" in listing
    assert settings.instance_name not in listing
    nodeinfo = client.get("/nodeinfo/2.1").json()
    assert nodeinfo["metadata"]["nodeName"] == "ESF+ Polska"
    # ... and so does the next start of the application, which reads it back.
    with TestClient(create_app(settings), base_url=settings.base_url) as restarted:
        assert '<a class="site-name" href="/">ESF+ Polska</a>' in restarted.get("/login").text

    post_form(client, "/admin/settings", {**GOOD, "offers_need_validation": "no"})
    assert _needs_validation(settings) is False


def test_refused_values_come_back_with_their_errors_and_change_nothing(
    client: TestClient, settings: Settings
) -> None:
    refused = post_form(
        client,
        "/admin/settings",
        {"name": " ", "description": "x" * 2001, "rules": "ok", "offers_need_validation": "?"},
    )
    assert refused.status_code == 422
    text = refused.text
    assert "<title>Error: Instance settings" in text
    assert 'href="#name"' in text and 'href="#description"' in text
    assert 'href="#offers_need_validation"' in text and 'href="#rules"' not in text
    assert 'aria-describedby="name-hint name-error" aria-invalid="true"' in text
    assert 'id="description-error"' in text and 'id="offers_need_validation-error"' in text
    assert "Give the network a name of one line, at most 100 characters" in text
    assert "Choose whether new offers wait for a moderator" in text
    assert ">ok</textarea>" in text  # what was typed comes back
    assert not _current(settings).saved


def test_a_member_is_refused_the_page(settings: Settings) -> None:
    bootstrap(settings, "anna")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        sign_in(client, "anna", PASSWORD)
        assert client.get("/admin/settings").status_code == 403
        assert post_form(client, "/admin/settings", GOOD).status_code == 403
    assert not _current(settings).saved
