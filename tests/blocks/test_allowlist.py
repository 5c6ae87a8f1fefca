"""The allowlist service: the mode's switch, the list, and which URLs it refuses."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.blocks.allowlist import (
    add_allowed,
    allowlist_only,
    list_allowed,
    remove_allowed,
    set_allowlist_only,
    split_by_allowlist,
)
from fedi.errors import NotFoundError, ValidationError

URLS = [
    "https://friends.test/inbox",
    "https://social.friends.test/inbox",
    "https://friends.test.evil/inbox",
    "https://other.test/users/x/inbox",
]


async def test_the_mode_is_off_until_switched_on(session: AsyncSession) -> None:
    assert not await allowlist_only(session)
    await set_allowlist_only(session, True)
    assert await allowlist_only(session)
    await set_allowlist_only(session, True)  # again: still one row, still on
    assert await allowlist_only(session)
    await set_allowlist_only(session, False)
    assert not await allowlist_only(session)


async def test_domains_are_normalised_listed_and_removed(session: AsyncSession) -> None:
    await add_allowed(session, " Friends.TEST ")
    await add_allowed(session, "friends.test")  # the same domain: no second row
    await add_allowed(session, "b.test:8443")
    assert [entry.domain for entry in await list_allowed(session)] == [
        "b.test:8443",
        "friends.test",
    ]
    await remove_allowed(session, "FRIENDS.test")
    assert [entry.domain for entry in await list_allowed(session)] == ["b.test:8443"]
    with pytest.raises(NotFoundError):
        await remove_allowed(session, "friends.test")


@pytest.mark.parametrize("value", ["", "not a domain", "https://x.test/", "a..b"])
async def test_a_bad_domain_is_refused(session: AsyncSession, value: str) -> None:
    with pytest.raises(ValidationError):
        await add_allowed(session, value)
    assert await list_allowed(session) == []


async def test_off_nothing_is_refused(session: AsyncSession) -> None:
    await add_allowed(session, "friends.test")
    assert await split_by_allowlist(session, URLS) == (URLS, [])


async def test_on_only_allowed_domains_and_their_subdomains_pass(session: AsyncSession) -> None:
    await set_allowlist_only(session, True)
    await add_allowed(session, "friends.test")
    kept, refused = await split_by_allowlist(session, [*URLS, "not a url"])
    assert kept == [URLS[0], URLS[1], "not a url"]
    assert refused == [URLS[2], URLS[3]]
