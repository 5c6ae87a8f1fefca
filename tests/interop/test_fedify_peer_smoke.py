"""The Fedify peer works on its own: two peers follow and write to each other.

No Transnationality server is involved; this proves the test tool before it is pointed at ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fedify_peer import FedifyPeer

from fedi.testing.tls import TestCA, make_test_ca

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def peers(ca: TestCA) -> Iterator[tuple[FedifyPeer, FedifyPeer]]:
    with FedifyPeer(ca) as a, FedifyPeer(ca) as b:
        yield a, b


def test_follow_is_verified_and_accepted(peers: tuple[FedifyPeer, FedifyPeer]) -> None:
    a, b = peers
    sent = a.follow(f"@alice@{b.domain}")
    assert sent["target"] == b.actor_uri
    assert sent["targetType"] == "Person"

    follow = b.wait_for_received(type="Follow")
    assert follow["id"] == sent["id"]
    assert follow["actor"] == a.actor_uri
    assert follow["objectId"] == b.actor_uri
    # Fedify 2.x knocks with RFC 9421 first, and the peer accepted it.
    assert follow["signature"] == "rfc9421"
    assert follow["headers"]["signature-input"]

    accepted = a.wait_for_following(b.actor_uri)
    assert accepted["follow"] == sent["id"]
    assert accepted["actor"] == b.actor_uri
    accept = a.wait_for_received(type="Accept")
    assert accept["actor"] == b.actor_uri
    assert accept["objectId"] == sent["id"]
    assert b.followers() == [a.actor_uri]


def test_create_arrives(peers: tuple[FedifyPeer, FedifyPeer]) -> None:
    a, b = peers
    sent = a.create(b.actor_uri, "<p>hi from A</p>")
    create = b.wait_for_received(lambda e: e["id"] == sent["id"], type="Create")
    assert create["actor"] == a.actor_uri
    assert create["objectType"] == "Note"
    note = create["object"]
    assert note["id"] == sent["object"]
    assert note["content"] == "<p>hi from A</p>"
    addressed = note["to"] if isinstance(note["to"], list) else [note["to"]]
    assert b.actor_uri in addressed
    assert any(
        t in addressed for t in ("as:Public", "https://www.w3.org/ns/activitystreams#Public")
    )


def test_double_knock_falls_back_to_draft_cavage(ca: TestCA, tmp_path: Path) -> None:
    """A peer whose inbox answers RFC 9421 with 401 still gets a draft-cavage-signed Follow."""
    with FedifyPeer(ca) as a, FedifyPeer(ca, inbox_rejects_rfc9421=True) as b:
        a.follow(b.handle)
        follow = b.wait_for_received(type="Follow")
        assert follow["signature"] == "draft-cavage"
        assert follow["headers"]["signature"]
        assert follow["headers"]["digest"]
        a.wait_for_following(b.actor_uri)


def test_first_knock_draft_cavage(ca: TestCA) -> None:
    with FedifyPeer(ca, first_knock="draft-cavage-http-signatures-12") as a, FedifyPeer(ca) as b:
        a.create(b.actor_uri)
        create = b.wait_for_received(type="Create")
        assert create["signature"] == "draft-cavage"


@pytest.mark.parametrize("actor_type", ["Group", "Application"])
def test_non_person_actors(ca: TestCA, actor_type: str) -> None:
    """The peer follows and writes to Group/Application actors, as our server has."""
    with FedifyPeer(ca) as a, FedifyPeer(ca, actor_type=actor_type) as b:
        sent = a.follow(b.handle)
        assert sent["targetType"] == actor_type
        a.wait_for_following(b.actor_uri)
        a.create(b.actor_uri)
        b.wait_for_received(type="Create")
