"""The inbox store on SQLite: a signer's conditions are checked once per transaction.

Once a checked statement has written, SQLite lets no other connection write until the
transaction ends, so later activities of that signer in the same transaction take a plain
INSERT. These tests pin both halves: the shortcut is taken, and it never outlives the
transaction it was earned in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError

from fedi.db import migrate
from fedi.db.engine import make_sync_engine
from fedi.db.loop_commit import LoopCommit
from fedi.db.models import Activity, Actor
from fedi.federation.inbox_store import InboxStore, NewActivity, Signer
from fedi.testing.peers import PUBLIC, FakePeers, InboxHarness, alice, inbox_harness, note
from tests.conftest import make_settings


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[InboxHarness]:
    """An instance on SQLite that holds alice's key (one activity of hers went through)."""
    url = f"sqlite:///{(tmp_path / 'inbox.sqlite3').as_posix()}"
    migrate.upgrade(url)
    peers = FakePeers()
    peers.add(alice())
    harness = await inbox_harness(make_settings(tmp_path / "var", url), peers)
    try:
        assert (await harness.deliver(alice(), _create("first"))).status_code == 202
        yield harness
    finally:
        await harness.aclose()


def _create(name: str) -> dict[str, Any]:
    sender = alice()
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://{sender.host}/activities/{name}",
        "type": "Create",
        "actor": sender.uri,
        "to": [PUBLIC],
        "object": note(sender, name),
    }


def _activity(name: str, now: datetime) -> NewActivity:
    document = _create(name)
    return NewActivity(
        uri=document["id"],
        type="Create",
        object_uri=document["object"]["id"],
        public=True,
        document=document,
        created_at=now,
    )


async def _signer(store: InboxStore) -> Signer:
    signer = await store.signer(alice().key_id)
    assert signer is not None
    return signer


def _forms(store: InboxStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The form of the record statement each ``record`` call used, in order."""
    used: list[str] = []
    bound = store._bound

    def counting(signer: Signer, form: Any) -> Any:
        used.append(form)
        return bound(signer, form)

    monkeypatch.setattr(store, "_bound", counting)
    return used


async def _stored(h: InboxHarness, *names: str) -> int:
    uris = [_create(name)["id"] for name in names]
    async with h.ctx.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Activity).where(Activity.uri.in_(uris))
        )
    return count or 0


async def test_one_checked_statement_per_signer_and_transaction(
    h: InboxHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = h.ctx.inbox_store
    signer = await _signer(store)
    forms = _forms(store, monkeypatch)
    now = h.ctx.clock()
    # One burst: the same transaction, committed once.
    burst = [store.record(signer, _activity(f"b{n}", now), None) for n in range(4)]
    assert await asyncio.gather(*burst) == [True] * 4
    # The personal inbox is another set of conditions (its owner must exist).
    personal = "https://esf.test/users/anna"
    assert await store.record(signer, _activity("p1", now), personal)
    assert forms == ["shared", "plain", "plain", "plain", "personal"]
    assert await _stored(h, "b0", "b1", "b2", "b3", "p1") == 5


async def test_the_shortcut_ends_with_its_transaction(
    h: InboxHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = h.ctx.inbox_store
    signer = await _signer(store)
    forms = _forms(store, monkeypatch)
    now = h.ctx.clock()
    assert await store.record(signer, _activity("before", now), None)
    # Committed: another connection may now change what the check read.
    async with h.ctx.sessions() as session, session.begin():
        await session.execute(
            update(Actor).where(Actor.uri == alice().uri).values(suspended_at=now)
        )
    assert not await store.record(signer, _activity("after", now), None)
    assert forms == ["shared", "shared"]
    assert await _stored(h, "before", "after") == 1


async def test_a_replay_in_the_same_transaction_fails_alone(h: InboxHarness) -> None:
    store = h.ctx.inbox_store
    signer = await _signer(store)
    now = h.ctx.clock()
    results = await asyncio.gather(
        store.record(signer, _activity("one", now), None),
        store.record(signer, _activity("one", now), None),  # the unique id refuses it
        store.record(signer, _activity("two", now), None),
    )
    assert results == [True, False, True]
    assert await _stored(h, "one", "two") == 2


async def test_no_other_connection_writes_while_the_transaction_is_open(
    h: InboxHarness,
) -> None:
    """The premise of the shortcut, as SQLite behaves."""
    store = h.ctx.inbox_store
    signer = await _signer(store)
    writes = store._writes
    assert isinstance(writes, LoopCommit)
    statement = store._bound(signer, "shared")
    assert statement is not None
    activity = _activity("held", h.ctx.clock())
    params = {
        **activity._asdict(),
        "document": activity.document,
        "target_uri": None,
    }
    assert writes.run(statement, params) == 1
    other = make_sync_engine(h.settings.database_url)
    try:
        with other.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            with pytest.raises(OperationalError, match="locked"):
                connection.execute(
                    text("UPDATE actors SET suspended_at = CURRENT_TIMESTAMP WHERE uri = :uri"),
                    {"uri": alice().uri},
                )
            connection.rollback()
    finally:
        other.dispose()
    await writes.committed()
    assert await _stored(h, "held") == 1
