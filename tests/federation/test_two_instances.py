"""Two real instances on loopback, each with its own database and keys, federating."""

from __future__ import annotations

import socket
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Delivery, DeliveryState
from fedi.follows import service as follows
from fedi.services import publishing
from fedi.services.members import find_member
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, collection_items, running_instance, wait_until

pytestmark = pytest.mark.federation


def test_follow_post_undo_and_delete(pair: tuple[RunningInstance, RunningInstance]) -> None:
    pl, it = pair
    pl.add_member("anna")
    token = it.add_member("marco")
    marco = it.actor_uri("marco")
    anna = pl.actor_uri("anna")

    pl.follow("anna", marco)
    wait_until(lambda: anna in collection_items(f"{marco}/followers"))
    wait_until(lambda: marco in collection_items(f"{anna}/following"))

    response = it.post("marco", token, {"type": "Note", "content": "<p>Ciao, rete!</p>"})
    assert response.status_code == 201, response.text
    note = response.json()["object"]
    received = wait_until(lambda: pl.stored_object(note["id"]))
    assert received.content == "<p>Ciao, rete!</p>"
    assert received.local is False

    # An Update through the outbox reaches the follower's server, which stores the new text.
    update = {"type": "Update", "object": {"id": note["id"], "content": "<p>Ciao a tutti!</p>"}}
    response = it.post("marco", token, update)
    assert response.status_code == 201, response.text
    wait_until(lambda: pl.stored_object(note["id"]).content == "<p>Ciao a tutti!</p>")

    response = it.post("marco", token, {"type": "Delete", "object": note["id"]})
    assert response.status_code == 201, response.text
    wait_until(lambda: (row := pl.stored_object(note["id"])) is not None and row.deleted_at)

    pl.follow("anna", marco, undo=True)
    wait_until(lambda: collection_items(f"{marco}/followers") == [])


def test_key_rotation_is_picked_up_by_the_follower(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    pl.add_member("anna")
    token = it.add_member("marco")
    marco = it.actor_uri("marco")
    pl.follow("anna", marco)
    wait_until(lambda: pl.actor_uri("anna") in collection_items(f"{marco}/followers"))
    first = it.post("marco", token, {"type": "Note", "content": "before"}).json()["object"]
    wait_until(lambda: pl.stored_object(first["id"]))

    async def rotate(session: AsyncSession) -> None:
        member = await find_member(session, "marco")
        await publishing.rotate_keys(session, it.settings, member.actor)

    it.run(rotate)
    after = it.post("marco", token, {"type": "Note", "content": "after"}).json()["object"]
    wait_until(lambda: pl.stored_object(after["id"]))


def test_a_peer_down_then_back_loses_nothing(backend: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        url_pl = stack.enter_context(temporary_database(backend, tmp_path))
        url_it = stack.enter_context(temporary_database(backend, tmp_path))
        pl = stack.enter_context(running_instance(tmp_path / "pl", url_pl))
        it_stack = ExitStack()
        it = it_stack.enter_context(running_instance(tmp_path / "it", url_it, country="IT"))
        token = pl.add_member("anna")
        it.add_member("marco")
        it.follow("marco", pl.actor_uri("anna"))
        wait_until(
            lambda: it.actor_uri("marco") in collection_items(f"{pl.actor_uri('anna')}/followers")
        )
        port = int(it.base_url.rsplit(":", 1)[1])
        it_stack.close()  # the Italian instance goes down

        posted = pl.post("anna", token, {"type": "Note", "content": "while you were away"})
        note = posted.json()["object"]

        def attempted_and_failed() -> bool:
            async def work(session: AsyncSession) -> bool:
                rows = (await session.scalars(select(Delivery))).all()
                return any(r.attempts >= 1 and r.state is DeliveryState.PENDING for r in rows)

            return bool(pl.run(work))

        wait_until(attempted_and_failed)

        sock = socket.socket()
        stack.callback(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        it = stack.enter_context(running_instance(tmp_path / "it", url_it, country="IT", sock=sock))
        pl.clock.advance(timedelta(hours=1) - timedelta(minutes=5))  # past the retry, within skew
        wait_until(lambda: it.stored_object(note["id"]), timeout=30)


def test_a_member_who_approves_followers_by_hand(
    pair: tuple[RunningInstance, RunningInstance],
) -> None:
    pl, it = pair
    pl.add_member("anna")
    it.add_member("marco")
    anna, marco = pl.actor_uri("anna"), it.actor_uri("marco")

    async def approval_on(session: AsyncSession) -> None:
        follows.set_manual_approval((await find_member(session, "marco")).actor, True)

    it.run(approval_on)
    pl.follow("anna", marco)

    async def requests(session: AsyncSession) -> list[str]:
        member = await find_member(session, "marco")
        return [actor.uri for actor in await follows.follow_requests(session, member.actor)]

    assert wait_until(lambda: it.run(requests)) == [anna]
    assert collection_items(f"{marco}/followers") == []
    assert collection_items(f"{anna}/following") == []

    def answer(accept: bool) -> None:
        async def work(session: AsyncSession) -> None:
            member = await find_member(session, "marco")
            await follows.answer_follow_request(
                session, it.settings, member.actor, anna, accept=accept
            )

        it.run(work)

    answer(accept=True)
    wait_until(lambda: marco in collection_items(f"{anna}/following"))
    assert collection_items(f"{marco}/followers") == [anna]
    answer(accept=False)  # removing an accepted follower, as Mastodon does with Reject
    wait_until(lambda: collection_items(f"{anna}/following") == [])
    assert collection_items(f"{marco}/followers") == []
