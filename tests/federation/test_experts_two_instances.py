"""The directory of experts across two real instances on loopback: once IT has fetched the
Person of a discoverable member of PL, IT's directory lists them with their expertise; a member
of PL who is not discoverable is fetched too, and is not listed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from fedi.actors.remote import fetch_actor
from fedi.instance import build_context
from fedi.net.client import FetchBudget
from fedi.testing.instances import RunningInstance

pytestmark = pytest.mark.federation

PROFILE = {
    "display_name": "Anna Nowak",
    "organisation": "Fundacja Aktywnej Integracji",
    "country": "PL",
    "languages": ["pl", "en"],
    "expertise": {"themes": ["social-inclusion"], "objectives": ["h"]},
}


def _api(instance: RunningInstance, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{instance.base_url}{path}", timeout=30, **kw)


def _fetch(it: RunningInstance, uri: str) -> None:
    """IT fetches and stores the actor at ``uri`` (signed GET), as a lookup or a follow does."""

    async def work() -> None:
        context = build_context(it.settings)
        try:
            await fetch_actor(context, uri, budget=FetchBudget())
        finally:
            await context.aclose()

    asyncio.run(work())


def test_a_discoverable_member_of_another_instance_is_listed_once_fetched(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    for login, discoverable in (("anna", True), ("piotr", False)):
        token = pl.add_member(login)
        profile = PROFILE | {"display_name": login.title(), "discoverable": discoverable}
        headers = {"Authorization": f"Bearer {token}"}
        answer = _api(pl, "PATCH", "/api/v1/me", json=profile, headers=headers)
        assert answer.status_code == 200, answer.text
    assert _api(it, "GET", "/api/v1/experts").json()["items"] == []

    _fetch(it, pl.actor_uri("anna"))
    _fetch(it, pl.actor_uri("piotr"))
    listed = _api(it, "GET", "/api/v1/experts").json()
    assert [item["handle"] for item in listed["items"]] == [f"@anna@{pl.settings.domain}"]
    (anna,) = listed["items"]
    assert anna["local"] is False and anna["origin"] == pl.settings.domain
    assert anna["organisation"] == "Fundacja Aktywnej Integracji" and anna["country"] == "PL"
    assert anna["expertise"] == {"themes": ["social-inclusion"], "objectives": ["h"]}
    assert (
        _api(it, "GET", "/api/v1/experts", params={"theme": "social-inclusion"}).json()["total"]
        == 1
    )
    page = _api(it, "GET", "/experts", headers={"Accept-Language": "pl"})
    assert "Anna" in page.text and "Piotr" not in page.text
    assert f'href="{pl.actor_uri("anna")}"' in page.text
