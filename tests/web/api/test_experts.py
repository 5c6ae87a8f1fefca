"""The directory of experts: ``GET /api/v1/experts`` and the page ``/experts`` list discoverable
people with a profile, local and remote, filtered by code and by words."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.document import parse_actor_document
from fedi.actors.remote import store_actor
from fedi.blocks.service import add_block
from fedi.cli.common import run_in_session
from fedi.db.models import BlockSeverity
from fedi.settings import Settings
from fedi.testing.keys import FIXED_NOW
from fedi.testing.peers import alice, bob
from tests.web.api.conftest import Api

ANNA = {
    "display_name": "Anna Nowak",
    "organisation": "Fundacja Aktywnej Integracji",
    "organisation_type": "ngo-civil-society",
    "country": "PL",
    "languages": ["pl", "en"],
    "expertise": {"themes": ["social-inclusion"], "objectives": ["h"]},
    "bio": "Mentoring for young migrants.",
}
MIRA = ANNA | {"display_name": "Mira", "discoverable": False}


def _remote(settings: Settings, document: dict[str, Any]) -> None:
    async def work(session: AsyncSession) -> None:
        parsed = parse_actor_document(document, document["id"])
        await store_actor(session, parsed, now=FIXED_NOW, local_domain=settings.domain)
        await session.commit()

    run_in_session(settings, work)


def _directory(api: Api, settings: Settings) -> None:
    for login, profile in (("anna", ANNA), ("mira", MIRA)):
        answer = api.client.patch("/api/v1/me", json=profile, headers=api.auth(login))
        assert answer.status_code == 200, answer.text
    # ada has no profile; a remote discoverable Person carries one, bob carries none.
    marco = alice().document() | {
        "name": "Marco Rossi",
        "organisation": "Cooperativa Sociale",
        "country": "IT",
        "workingLanguages": ["it", "en"],
        "themes": ["social-innovation", "unknown-theme"],
    }
    _remote(settings, marco)
    _remote(settings, bob().document())


def _names(api: Api, **params: str) -> list[str]:
    answer = api.client.get("/api/v1/experts", params=params)
    assert answer.status_code == 200, answer.text
    return [item["name"] for item in answer.json()["items"]]


def test_the_directory_lists_discoverable_people_with_a_profile(
    api: Api, settings: Settings
) -> None:
    assert _names(api) == []
    _directory(api, settings)
    answer = api.client.get("/api/v1/experts").json()
    assert [item["name"] for item in answer["items"]] == ["Anna Nowak", "Marco Rossi"]
    assert answer["total"] == 2 and answer["next"] is None
    anna, marco = answer["items"]
    assert anna["handle"] == "@anna@esf.test" and anna["local"] is True
    assert anna["expertise"] == {"themes": ["social-inclusion"], "objectives": ["h"]}
    assert marco["local"] is False and marco["origin"] == alice().host
    assert marco["expertise"] == {"themes": ["social-innovation"], "objectives": []}
    assert "email" not in anna
    assert api.checker.checked >= 2


def test_each_filter_narrows_the_directory(api: Api, settings: Settings) -> None:
    _directory(api, settings)
    assert _names(api, theme="social-inclusion") == ["Anna Nowak"]
    assert _names(api, theme="social-innovation") == ["Marco Rossi"]
    assert _names(api, objective="h") == ["Anna Nowak"]
    assert _names(api, country="IT") == ["Marco Rossi"]
    assert _names(api, language="en") == ["Anna Nowak", "Marco Rossi"]
    assert _names(api, language="it") == ["Marco Rossi"]
    assert _names(api, q="cooperativa") == ["Marco Rossi"]
    assert _names(api, q="young MIGRANTS") == ["Anna Nowak"]  # the bio, case aside
    assert _names(api, q="@anna@esf.test") == ["Anna Nowak"]
    assert _names(api, q="nobody") == []
    assert _names(api, country="PL", language="it") == []


def test_a_blocked_domain_leaves_the_directory(api: Api, settings: Settings) -> None:
    _directory(api, settings)

    async def block(session: AsyncSession) -> None:
        await add_block(session, alice().host, BlockSeverity.SILENCE)
        await session.commit()

    run_in_session(settings, block)
    assert _names(api) == ["Anna Nowak"]


def test_pages_follow_each_other(api: Api, settings: Settings) -> None:
    _directory(api, settings)
    first = api.client.get("/api/v1/experts", params={"limit": "1"}).json()
    assert [item["name"] for item in first["items"]] == ["Anna Nowak"]
    second = api.client.get(first["next"]).json()
    assert [item["name"] for item in second["items"]] == ["Marco Rossi"]
    assert second["next"] is None and second["total"] == 2


def test_unknown_codes_are_refused_with_the_field_named(api: Api, settings: Settings) -> None:
    _directory(api, settings)
    for field in ("theme", "objective", "country", "language"):
        answer = api.client.get("/api/v1/experts", params={field: "nope"})
        assert answer.status_code == 422, field
        assert field in answer.json()["errors"]
    answer = api.client.get("/api/v1/experts", params={"q": "x" * 201})
    assert answer.status_code == 422 and "q" in answer.json()["errors"]
    assert api.client.get("/api/v1/experts", params={"limit": "0"}).status_code == 422
    assert api.client.get("/api/v1/experts", params={"cursor": "!"}).status_code == 400


def test_the_page_shows_the_directory_in_english_and_polish(api: Api, settings: Settings) -> None:
    empty = api.client.get("/experts")
    assert empty.status_code == 200 and "No experts yet." in empty.text
    assert 'href="/experts"' in empty.text  # in the main navigation
    _directory(api, settings)
    page = api.client.get("/experts")
    assert "2 experts" in page.text
    assert "Anna Nowak" in page.text and "Marco Rossi" in page.text and "Mira" not in page.text
    assert "@anna@esf.test" in page.text and "Fundacja Aktywnej Integracji" in page.text
    assert "Social inclusion" in page.text
    assert f'href="{alice().uri}"' in page.text  # the link to the remote profile
    filtered = api.client.get("/experts", params={"country": "IT"})
    assert "1 expert<" in filtered.text and "Anna Nowak" not in filtered.text
    assert '<option value="IT" selected>' in filtered.text
    polish = api.client.get("/experts", headers={"Accept-Language": "pl"})
    assert "Eksperci" in polish.text and "2 eksperci" in polish.text
    assert "Social inclusion" not in polish.text  # the expertise in the reader's language
    bad = api.client.get("/experts", params={"theme": "nope"})
    assert bad.status_code == 400 and "theme" in bad.text
    assert "Anna Nowak" not in bad.text


def test_the_new_here_page_leads_to_the_directory(api: Api) -> None:
    page = api.client.get("/new")
    assert 'href="/experts"' in page.text and "Five steps" in page.text
