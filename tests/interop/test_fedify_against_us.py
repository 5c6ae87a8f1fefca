"""Interoperability with Fedify, an implementation no one in this project wrote.

A Fedify 2.x peer (Node 22) and one of our instances, both on HTTPS with a throwaway CA that each
trusts: the peer follows our network group and a member, and receives and verifies our signed
Accept and Create; we receive and verify its signed Follow and Create (RFC 9421 first, as Fedify
double-knocks, and draft-cavage). It follows a forum, gets the forum's Announce of a new thread
and replies in the thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fedify_peer import FedifyPeer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Activity
from fedi.services.forums import create_forum
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, collection_items, running_instance, wait_until
from fedi.testing.tls import TestCA, make_test_ca

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def ours(ca: TestCA, tmp_path: Path) -> Iterator[RunningInstance]:
    with (
        temporary_database("sqlite", tmp_path) as url,
        running_instance(
            tmp_path / "var",
            url,
            environ={"FEDI_CA_BUNDLE": str(ca.ca_cert_path)},
            tls=(ca.cert_path, ca.key_path),
        ) as instance,
    ):
        yield instance


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def received_types(instance: RunningInstance) -> list[str]:
    async def work(session: AsyncSession) -> list[str]:
        return list(
            (await session.scalars(select(Activity.type).where(Activity.local.is_(False)))).all()
        )

    result: list[str] = instance.run(work)
    return result


@pytest.mark.parametrize("first_knock", ["rfc9421", "draft-cavage-http-signatures-12"])
def test_fedify_follows_our_network_and_gets_a_verified_accept(
    ca: TestCA, ours: RunningInstance, first_knock: str
) -> None:
    group = f"{ours.base_url}/groups/network"
    with FedifyPeer(ca, first_knock=first_knock) as peer:
        sent = peer.follow(f"@network@{ours.settings.domain}")
        assert sent["target"] == group
        assert sent["targetType"] == "Group"
        accepted = peer.wait_for_following(group)
        assert accepted["actor"] == group
        accept = peer.wait_for_received(type="Accept")
        assert accept["actor"] == group
        assert accept["signature"] == "draft-cavage"  # what we sign with, as Mastodon expects
        assert peer.actor_uri in collection_items(f"{group}/followers", ours.verify)
    assert "Follow" in received_types(ours)


def test_our_create_reaches_fedify_and_its_create_reaches_us(
    ca: TestCA, ours: RunningInstance
) -> None:
    token = ours.add_member("anna")
    anna = ours.actor_uri("anna")
    with FedifyPeer(ca) as peer:
        peer.follow(f"@anna@{ours.settings.domain}")
        peer.wait_for_following(anna)

        response = ours.post("anna", token, {"type": "Note", "content": "<p>Szukamy partnerów</p>"})
        assert response.status_code == 201, response.text
        note_id = response.json()["object"]["id"]
        create = peer.wait_for_received(lambda e: e.get("objectId") == note_id, type="Create")
        assert create["actor"] == anna
        assert create["signature"] == "draft-cavage"

        sent = peer.create(anna, "<p>Ciao from Fedify</p>")
        row = wait_until(lambda: ours.stored_object(sent["object"]))
        assert "Ciao from Fedify" in (row.content or "")


def test_fedify_follows_a_forum_gets_its_thread_and_replies_in_it(
    ca: TestCA, ours: RunningInstance
) -> None:
    """The peer follows a forum's Group, receives the forum's Announce of a new thread, replies
    as Lemmy-compatible clients do (to the group, audience the group), and the reply shows in
    the thread on our page."""
    token = ours.add_member("anna")

    async def forum(session: AsyncSession) -> str:
        return (await create_forum(session, ours.settings, "reporting", "Reporting")).uri

    group = ours.run(forum)
    with FedifyPeer(ca) as peer:
        sent = peer.follow(f"@reporting@{ours.settings.domain}")
        assert sent["target"] == group and sent["targetType"] == "Group"
        peer.wait_for_following(group)

        started = httpx.post(
            f"{ours.base_url}/api/v1/forums/reporting/threads",
            json={"title": "Counting participants", "body": "How do you count them?"},
            headers={"Authorization": f"Bearer {token}"},
            verify=ours.verify,
            timeout=30,
        )
        assert started.status_code == 201, started.text
        thread = started.json()

        def announces_thread(entry: dict[str, Any]) -> bool:
            create = entry["json"].get("object")
            return isinstance(create, dict) and _id(create.get("object")) == thread["id"]

        announce = peer.wait_for_received(announces_thread, type="Announce", timeout=30)
        assert announce["actor"] == group
        page = announce["json"]["object"]["object"]
        assert page["type"] == "Page" and page["audience"] == group

        reply = peer.reply(thread["id"], group, "<p>We count heads, from Fedify.</p>")
        row = wait_until(lambda: ours.stored_object(reply["object"]), timeout=30)
        assert row.in_reply_to == thread["id"] and row.audience == group

        def shown() -> str | None:
            text = httpx.get(
                f"{ours.base_url}/threads/{thread['key']}", verify=ours.verify, timeout=30
            ).text
            return text if "We count heads, from Fedify." in text else None

        assert wait_until(shown, timeout=30)
        detail = httpx.get(
            f"{ours.base_url}/api/v1/threads/{thread['key']}",
            headers={"Authorization": f"Bearer {token}"},
            verify=ours.verify,
            timeout=30,
        ).json()
        assert [item["id"] for item in detail["replies"]["items"]] == [reply["object"]]
