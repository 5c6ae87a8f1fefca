"""Processing of received activities, the shapes peers send them in, and remote actors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fedi.actors.document import ActorDocumentError, parse_actor_document
from fedi.actors.remote import actor_by_handle, fetch_actor
from fedi.content.likes import handle_like, handle_undo_like
from fedi.db.models import (
    Activity,
    ActivityState,
    Actor,
    ContentObject,
    Delivery,
    Follow,
    FollowState,
)
from fedi.federation import handlers
from fedi.federation.inbound import InboxProcessor
from fedi.log import JsonFormatter
from fedi.net.client import FetchBudget
from fedi.services.forums import create_forum
from fedi.testing.keys import FIXED_NOW, rotated_key
from fedi.testing.peers import (
    PUBLIC,
    FakeActor,
    FakePeers,
    InboxHarness,
    alice,
    bob,
    carol,
    inbox_harness,
    note,
)
from fedi.web.app import create_app
from tests.conftest import make_settings

ANNA = "https://esf.test/users/anna"
MIA = "https://esf.test/users/mia"
FORUM = "https://esf.test/groups/forum"


def activity(actor: FakeActor, kind: str, obj: Any, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://{actor.host}/activities/{name}",
        "type": kind,
        "actor": actor.uri,
        "object": obj,
    } | extra


async def receive(h: InboxHarness, actor: FakeActor, document: dict[str, Any]) -> Activity:
    """Deliver ``document``, process the queue, return the activity row."""
    response = await h.deliver(actor, document)
    assert response.status_code == 202, response.text
    await InboxProcessor(h.ctx).run_once()
    async with h.ctx.sessions() as session:
        row = await session.scalar(select(Activity).where(Activity.uri == document["id"]))
    assert row is not None
    return row


async def all_rows(h: InboxHarness, model: Any) -> list[Any]:
    async with h.ctx.sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def local_id(h: InboxHarness, uri: str) -> int:
    row = await h.actor_row(uri)
    assert row is not None
    return row.id


# Follow --------------------------------------------------------------------------------------


async def test_follow_is_accepted_with_embedded_follow(h: InboxHarness) -> None:
    follow = activity(alice(), "Follow", ANNA, "f1")
    row = await receive(h, alice(), follow)
    assert row.state is ActivityState.PROCESSED and row.processed_at is not None
    [relation] = await all_rows(h, Follow)
    assert relation.state is FollowState.ACCEPTED and relation.uri == follow["id"]
    [delivery] = await all_rows(h, Delivery)
    assert delivery.inbox == alice().inbox
    async with h.ctx.sessions() as session:
        accept = await session.get(Activity, delivery.activity_id)
    assert accept is not None and accept.local and accept.type == "Accept"
    assert accept.document["actor"] == ANNA
    embedded = accept.document["object"]
    assert embedded["id"] == follow["id"] and embedded["actor"] == alice().uri
    assert embedded["object"] == ANNA and "@context" not in embedded


async def test_follow_of_manual_person_stays_pending(h: InboxHarness) -> None:
    await receive(h, alice(), activity(alice(), "Follow", MIA, "f1"))
    [relation] = await all_rows(h, Follow)
    assert relation.state is FollowState.PENDING
    assert await all_rows(h, Delivery) == []


async def test_group_always_accepts(h: InboxHarness) -> None:
    await receive(h, bob(), activity(bob(), "Follow", FORUM, "f1"))
    [relation] = await all_rows(h, Follow)
    assert relation.state is FollowState.ACCEPTED


async def test_a_forum_accepts_a_remote_follow_at_once(h: InboxHarness) -> None:
    async with h.ctx.sessions() as session, session.begin():
        forum = await create_forum(session, h.settings, "employment", "Employment")
    follow = activity(alice(), "Follow", forum.uri, "f1")
    row = await receive(h, alice(), follow)
    assert row.state is ActivityState.PROCESSED
    [relation] = await all_rows(h, Follow)
    assert relation.state is FollowState.ACCEPTED
    assert relation.followed_id == forum.id and relation.uri == follow["id"]
    [delivery] = await all_rows(h, Delivery)
    assert delivery.inbox == alice().inbox
    async with h.ctx.sessions() as session:
        accept = await session.get(Activity, delivery.activity_id)
    assert accept is not None and accept.type == "Accept"
    assert accept.document["actor"] == forum.uri
    assert accept.document["to"] == [alice().uri]
    assert accept.document["object"]["id"] == follow["id"]
    assert accept.document["object"]["object"] == forum.uri


async def test_refollow_is_idempotent_and_answered_again(h: InboxHarness) -> None:
    await receive(h, alice(), activity(alice(), "Follow", ANNA, "f1"))
    await receive(h, alice(), activity(alice(), "Follow", ANNA, "f2"))
    [relation] = await all_rows(h, Follow)
    assert relation.uri == "https://alice.test/activities/f2"
    assert len(await all_rows(h, Delivery)) == 2


async def test_follow_of_unknown_local_actor_fails(h: InboxHarness) -> None:
    row = await receive(h, alice(), activity(alice(), "Follow", "https://esf.test/users/x", "f1"))
    assert row.state is ActivityState.FAILED and row.error == "follow of an unknown local actor"
    assert await all_rows(h, Follow) == []


# Accept / Reject of our follows ----------------------------------------------------------------


OURS = "https://esf.test/activities/our-follow"


async def our_follow(h: InboxHarness, remote: FakeActor) -> None:
    """Anna follows ``remote`` (pending); ``remote`` gets cached through a harmless Like."""
    await receive(h, remote, activity(remote, "Like", "https://esf.test/objects/x", "like"))
    async with h.ctx.sessions() as session:
        session.add(
            Follow(
                uri=OURS,
                follower_id=await local_id(h, ANNA),
                followed_id=await local_id(h, remote.uri),
                state=FollowState.PENDING,
            )
        )
        await session.commit()


def our_follow_document(remote: FakeActor, ident: str = OURS) -> dict[str, Any]:
    return {"id": ident, "type": "Follow", "actor": ANNA, "object": remote.uri}


@pytest.mark.parametrize(
    "obj",
    [
        our_follow_document(alice()),  # embedded, as Mastodon sends it
        OURS,  # the Follow's IRI
        our_follow_document(alice(), "https://alice.test/their-own-id"),  # matched by pair
        "https://alice.test/unknown-follow-id",  # the only pending follow
    ],
    ids=["embedded", "iri", "pair", "only-pending"],
)
async def test_accept_of_our_follow(h: InboxHarness, obj: Any) -> None:
    await our_follow(h, alice())
    row = await receive(h, alice(), activity(alice(), "Accept", obj, "acc"))
    assert row.state is ActivityState.PROCESSED
    [relation] = await all_rows(h, Follow)
    assert relation.state is FollowState.ACCEPTED and relation.accepted_at == FIXED_NOW


async def test_accept_by_someone_else_changes_nothing(h: InboxHarness) -> None:
    await our_follow(h, alice())
    await receive(h, carol(), activity(carol(), "Accept", our_follow_document(alice()), "acc"))
    [relation] = await all_rows(h, Follow)
    assert relation.state is FollowState.PENDING


async def test_reject_drops_our_follow(h: InboxHarness) -> None:
    await our_follow(h, alice())
    await receive(h, alice(), activity(alice(), "Reject", OURS, "rej"))
    assert await all_rows(h, Follow) == []


# Undo ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("by_iri", [False, True])
async def test_undo_follow_removes_it(h: InboxHarness, by_iri: bool) -> None:
    follow = activity(alice(), "Follow", ANNA, "f1")
    await receive(h, alice(), follow)
    undone = follow["id"] if by_iri else {k: v for k, v in follow.items() if k != "@context"}
    row = await receive(h, alice(), activity(alice(), "Undo", undone, "u1"))
    assert row.state is ActivityState.PROCESSED
    assert await all_rows(h, Follow) == []


async def test_undo_of_other_things_is_ignored(h: InboxHarness) -> None:
    like = activity(alice(), "Like", "https://esf.test/objects/1", "l1")
    row = await receive(h, alice(), activity(alice(), "Undo", like, "u1"))
    assert row.state is ActivityState.PROCESSED and row.error is None


async def test_undo_of_anothers_follow_is_refused_at_the_door(h: InboxHarness) -> None:
    await receive(h, alice(), activity(alice(), "Follow", ANNA, "f1"))
    forged = activity(alice(), "Follow", ANNA, "f1")
    await receive(h, carol(), activity(carol(), "Follow", ANNA, "warm"))  # carol is cached
    before = await h.counts()
    # Embedded, the Follow names its actor; by reference, the recorded Follow does.
    for name, undone in (("u1", forged), ("u2", forged["id"])):
        response = await h.deliver(carol(), activity(carol(), "Undo", undone, name))
        assert response.status_code == 403, response.text
        assert "another actor" in response.json()["error"]
    assert await h.counts() == before


# Create --------------------------------------------------------------------------------------


async def test_create_note_stores_its_fields(h: InboxHarness) -> None:
    obj = note(
        alice(),
        "n1",
        inReplyTo="https://esf.test/objects/parent",
        context="https://alice.test/contexts/thread",
        audience="https://esf.test/groups/forum",
        summary="Short",
        contentMap={"pl": "<p>note n1</p>"},
        source={"content": "note n1", "mediaType": "text/markdown"},
    ) | {"name": "A title"}
    row = await receive(h, alice(), activity(alice(), "Create", obj, "c1"))
    assert row.state is ActivityState.PROCESSED
    [stored] = await all_rows(h, ContentObject)
    assert stored.uri == obj["id"] and stored.type == "Note" and not stored.local
    assert stored.attributed_to_id == await local_id(h, alice().uri)
    assert stored.in_reply_to == "https://esf.test/objects/parent"
    assert stored.context == "https://alice.test/contexts/thread"
    assert stored.audience == "https://esf.test/groups/forum"
    assert (stored.name, stored.summary, stored.content) == ("A title", "Short", "<p>note n1</p>")
    assert stored.language == "pl" and stored.source == "note n1"
    assert stored.source_media_type == "text/markdown"
    assert stored.public and stored.document == obj


async def test_create_stores_sanitised_html(h: InboxHarness) -> None:
    obj = note(alice(), "x", content='<p onclick="x()">hi<script>alert(1)</script></p>')
    await receive(h, alice(), activity(alice(), "Create", obj, "c1"))
    [stored] = await all_rows(h, ContentObject)
    assert stored.content == "<p>hi</p>" and "script" in stored.document["content"]


async def test_create_with_object_iri_fetches_it(h: InboxHarness) -> None:
    obj = note(alice(), "n2")
    h.peers.serve(obj["id"], obj)
    await receive(h, alice(), activity(alice(), "Create", obj["id"], "c2"))
    [stored] = await all_rows(h, ContentObject)
    assert stored.content == obj["content"]


async def test_create_replayed_under_new_id_keeps_one_object(h: InboxHarness) -> None:
    obj = note(alice(), "n3")
    await receive(h, alice(), activity(alice(), "Create", obj, "c3"))
    row = await receive(h, alice(), activity(alice(), "Create", obj, "c3-again"))
    assert row.state is ActivityState.PROCESSED
    assert len(await all_rows(h, ContentObject)) == 1


@pytest.mark.parametrize(
    ("addressing", "public"),
    [
        ({"to": [PUBLIC]}, True),
        ({"to": "https://www.w3.org/ns/activitystreams#Public"}, True),  # a string
        ({"to": "as:Public"}, True),  # Fedify
        ({"cc": ["Public"]}, True),
        ({"audience": "as:Public"}, True),
        ({"to": [alice().uri + "/followers"]}, False),
        ({"to": ANNA}, False),
    ],
)
async def test_public_addressing_forms(
    h: InboxHarness, addressing: dict[str, Any], public: bool
) -> None:
    obj = {k: v for k, v in note(alice(), "p").items() if k not in ("to", "cc")} | addressing
    await receive(h, alice(), activity(alice(), "Create", obj, "c") | addressing)
    [stored] = await all_rows(h, ContentObject)
    assert stored.public is public


async def test_lemmy_page_without_context_and_object_array(h: InboxHarness) -> None:
    page = {
        "type": "Page",
        "id": "https://alice.test/post/1",
        "attributedTo": alice().uri,
        "to": [FORUM, "https://www.w3.org/ns/activitystreams#Public"],
        "audience": FORUM,
        "name": "A Lemmy post",
        "content": "<p>body</p>",
        "mediaType": "text/html",
        "url": [{"type": "Link", "href": "https://example.org/article"}],
        "published": "2024-04-30T10:00:00+00:00",
    }
    create = {
        "id": "https://alice.test/activities/create/1",
        "type": ["Create"],
        "actor": {"id": alice().uri, "type": "Person"},
        "object": [page],
        "to": FORUM,
        "cc": "https://www.w3.org/ns/activitystreams#Public",
    }
    row = await receive(h, alice(), create)
    assert row.state is ActivityState.PROCESSED, row.error
    [stored] = await all_rows(h, ContentObject)
    assert stored.type == "Page" and stored.audience == FORUM and stored.public
    assert stored.url == "https://example.org/article" and stored.name == "A Lemmy post"


async def test_create_of_unsupported_type_is_recorded_only(h: InboxHarness) -> None:
    chat = note(alice(), "chat") | {"type": "ChatMessage"}
    row = await receive(h, alice(), activity(alice(), "Create", chat, "c"))
    assert row.state is ActivityState.PROCESSED
    assert await all_rows(h, ContentObject) == []


# Update --------------------------------------------------------------------------------------


async def test_update_of_own_note(h: InboxHarness) -> None:
    obj = note(alice(), "n1")
    await receive(h, alice(), activity(alice(), "Create", obj, "c1"))
    edited = obj | {"content": "<p>edited</p>", "updated": "2024-05-01T11:30:00Z"}
    row = await receive(h, alice(), activity(alice(), "Update", edited, "u1"))
    assert row.state is ActivityState.PROCESSED
    [stored] = await all_rows(h, ContentObject)
    assert stored.content == "<p>edited</p>" and stored.updated is not None


async def test_update_of_actor_profile(h: InboxHarness) -> None:
    await receive(h, alice(), activity(alice(), "Follow", ANNA, "f1"))
    profile = alice().document() | {"name": "Alice Renamed", "manuallyApprovesFollowers": True}
    row = await receive(h, alice(), activity(alice(), "Update", profile, "u1"))
    assert row.state is ActivityState.PROCESSED, row.error
    cached = await h.actor_row(alice().uri)
    assert cached is not None and cached.display_name == "Alice Renamed"
    assert cached.manually_approves_followers


async def test_update_of_actor_with_genuine_key_rotation(h: InboxHarness) -> None:
    await receive(h, alice(), activity(alice(), "Follow", ANNA, "f1"))
    rotated = FakeActor("alice.test", "alice", rotated_key())
    h.peers.serve(rotated.uri, rotated.document())  # the origin now serves the new key
    row = await receive(h, alice(), activity(alice(), "Update", rotated.document(), "u1"))
    assert row.state is ActivityState.PROCESSED, row.error
    cached = await h.actor_row(alice().uri)
    assert cached is not None
    assert cached.public_key_pem == rotated.document()["publicKey"]["publicKeyPem"]


async def test_update_of_another_actor_fails(h: InboxHarness) -> None:
    # Carol is not cached: the inbox cannot tell, processing refuses it.
    renamed = carol().document() | {"name": "Hijacked"}
    row = await receive(h, alice(), activity(alice(), "Update", renamed, "u1"))
    assert row.state is ActivityState.FAILED and row.error == "update of another actor"
    assert await h.actor_row(carol().uri) is None
    # Carol is cached: the inbox refuses it at once (rule 20).
    await receive(h, carol(), activity(carol(), "Follow", ANNA, "f1"))
    response = await h.deliver(alice(), activity(alice(), "Update", renamed, "u2"))
    assert response.status_code == 403
    cached = await h.actor_row(carol().uri)
    assert cached is not None and cached.display_name == "Carol"


# Delete --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tombstone", [False, True])
async def test_delete_of_own_note(h: InboxHarness, tombstone: bool) -> None:
    obj = note(alice(), "n1")
    await receive(h, alice(), activity(alice(), "Create", obj, "c1"))
    target = {"id": obj["id"], "type": "Tombstone"} if tombstone else obj["id"]
    row = await receive(h, alice(), activity(alice(), "Delete", target, "d1"))
    assert row.state is ActivityState.PROCESSED
    [stored] = await all_rows(h, ContentObject)
    assert stored.deleted_at == FIXED_NOW and stored.content is None
    assert stored.document["type"] == "Tombstone"


async def test_delete_of_actor(h: InboxHarness) -> None:
    await receive(h, alice(), activity(alice(), "Follow", ANNA, "f1"))
    row = await receive(h, alice(), activity(alice(), "Delete", alice().uri, "d1"))
    assert row.state is ActivityState.PROCESSED
    cached = await h.actor_row(alice().uri)
    assert cached is not None and cached.deleted_at == FIXED_NOW
    assert await all_rows(h, Follow) == []


# Other types, failures, the worker loop ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["Announce", "Like", "EmojiReact", "Flag"])
async def test_other_types_are_recorded_without_effects(h: InboxHarness, kind: str) -> None:
    row = await receive(h, alice(), activity(alice(), kind, "https://esf.test/objects/1", "x"))
    assert row.state is ActivityState.PROCESSED
    assert await all_rows(h, ContentObject) == [] and await all_rows(h, Follow) == []


async def test_a_crash_marks_the_activity_failed_once_with_its_reason(
    h: InboxHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(job: handlers.Job) -> str:
        raise RuntimeError("bug")

    monkeypatch.setitem(handlers.HANDLERS, ("Like", None), boom)
    document = activity(alice(), "Like", "https://esf.test/objects/1", "l1")
    assert (await h.deliver(alice(), document)).status_code == 202
    processor = InboxProcessor(h.ctx)
    assert await processor.run_once() == 1
    [row] = await all_rows(h, Activity)
    assert row.state is ActivityState.FAILED and row.attempts == 1
    assert row.error == "crash: RuntimeError: bug"
    assert await processor.run_once() == 0  # never tried again


async def test_text_the_database_cannot_store_fails_once_and_the_worker_goes_on(
    h: InboxHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # Recorded as an older inbox would have (the door refuses such text today): a Create whose
    # content holds a lone surrogate, which no database driver can encode.
    assert (await h.deliver(alice(), activity(alice(), "Like", ANNA, "l1"))).status_code == 202
    poison = activity(alice(), "Create", note(alice(), "n1", content="a \ud800 b"), "c1")
    async with h.ctx.sessions() as session, session.begin():
        session.add(
            Activity(
                uri=poison["id"],
                type="Create",
                actor_id=await local_id(h, alice().uri),
                state=ActivityState.RECEIVED,
                document=poison,
            )
        )
    after = activity(alice(), "Create", note(alice(), "n2"), "c2")
    assert (await h.deliver(alice(), after)).status_code == 202
    processor = InboxProcessor(h.ctx)
    with caplog.at_level(logging.ERROR, logger="fedi.job"):
        assert await processor.run_once() == 3
    rows = {row.uri: row for row in await all_rows(h, Activity)}
    failed = rows[poison["id"]]
    assert failed.state is ActivityState.FAILED and failed.attempts == 1
    assert failed.error is not None and "UnicodeEncodeError" in failed.error
    assert rows[after["id"]].state is ActivityState.PROCESSED
    assert [o.uri for o in await all_rows(h, ContentObject)] == [note(alice(), "n2")["id"]]
    assert len([r for r in caplog.records if r.name == "fedi.job"]) == 1  # one traceback
    assert await processor.run_once() == 0


async def test_one_log_line_per_job(h: InboxHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fedi.job")
    await receive(h, alice(), activity(alice(), "Follow", ANNA, "f1"))
    lines = [r for r in caplog.records if r.name == "fedi.job"]
    assert len(lines) == 1
    fields = lines[0].fields  # type: ignore[attr-defined]
    assert fields["state"] == "processed" and fields["type"] == "Follow"
    assert fields["outcome"] == "follow accepted" and "duration_ms" in fields


async def test_run_processes_until_stopped(h: InboxHarness) -> None:
    assert (await h.deliver(alice(), activity(alice(), "Like", ANNA, "l1"))).status_code == 202
    stop = asyncio.Event()
    processor = InboxProcessor(h.ctx, poll_interval=0.01)
    task = asyncio.create_task(processor.run(stop))
    for _ in range(500):
        [row] = await all_rows(h, Activity)
        if row.state is ActivityState.PROCESSED:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert row.state is ActivityState.PROCESSED


async def test_inbox_is_mounted_in_the_application(h: InboxHarness) -> None:
    app = create_app(h.settings, context=h.ctx)
    document = activity(alice(), "Follow", ANNA, "mounted")
    body = json.dumps(document).encode()
    headers = alice().sign(
        "POST",
        h.url("/users/anna/inbox"),
        body,
        headers={"Content-Type": "application/activity+json"},
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=h.settings.base_url) as client:
        response = await client.post("/users/anna/inbox", content=body, headers=headers)
    assert response.status_code == 202, response.text


# Remote actors ----------------------------------------------------------------------------------


async def test_fetch_actor_stores_a_remote_actor(h: InboxHarness) -> None:
    actor = await fetch_actor(h.ctx, alice().uri, budget=FetchBudget(5))
    assert actor.domain == "alice.test" and actor.username == "alice" and not actor.local
    assert actor.inbox == alice().inbox and actor.shared_inbox == "https://alice.test/inbox"
    assert actor.public_key_id == alice().key_id and actor.fetched_at == FIXED_NOW
    # The GET was signed by the instance actor, for peers in authorized-fetch mode.
    signature = h.peers.requests[-1].headers["signature"]
    assert 'keyId="https://esf.test/actor#main-key"' in signature


async def test_actor_by_handle_over_webfinger(h: InboxHarness) -> None:
    webfinger = httpx.URL(
        "https://alice.test/.well-known/webfinger", params={"resource": "acct:alice@alice.test"}
    )
    h.peers.serve(
        str(webfinger),
        {
            "subject": "acct:alice@alice.test",
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "href": "https://alice.test/@a"},
                {"rel": "self", "type": "application/activity+json", "href": alice().uri},
            ],
        },
        content_type="application/jrd+json",
    )
    actor = await actor_by_handle(h.ctx, "@alice@alice.test")
    assert actor.uri == alice().uri


async def test_actor_by_handle_uses_http_when_private_addresses_are_allowed(
    tmp_path: Path, migrated_url: str
) -> None:
    settings = make_settings(tmp_path, migrated_url, FEDI_ALLOW_PRIVATE_ADDRESSES="true")
    peers = FakePeers()
    plain = FakeActor("localhost:8123", "lee", alice().key)
    document = plain.document()
    document = json.loads(json.dumps(document).replace("https://localhost", "http://localhost"))
    peers.serve("http://localhost:8123/users/lee", document)
    webfinger = httpx.URL(
        "http://localhost:8123/.well-known/webfinger",
        params={"resource": "acct:lee@localhost:8123"},
    )
    peers.serve(
        str(webfinger),
        {"links": [{"rel": "self", "type": "application/activity+json", "href": document["id"]}]},
        content_type="application/jrd+json",
    )
    harness = await inbox_harness(settings, peers)
    try:
        actor = await actor_by_handle(harness.ctx, "@lee@localhost:8123")
    finally:
        await harness.aclose()
    assert actor.uri == "http://localhost:8123/users/lee" and actor.domain == "localhost:8123"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "Note"}, "not an actor"),
        ({"id": "https://alice.test/users/someone-else"}, "not the url"),
        ({"inbox": None}, "inbox"),
        ({"inbox": "http://elsewhere.test/inbox"}, "inbox"),
    ],
)
def test_actor_document_rules(change: dict[str, Any], reason: str) -> None:
    document = {k: v for k, v in (alice().document() | change).items() if v is not None}
    with pytest.raises(ActorDocumentError, match=reason):
        parse_actor_document(document, alice().uri)


def test_actor_document_ignores_keys_it_cannot_trust() -> None:
    document = alice().document()
    document["publicKey"] = document["publicKey"] | {"owner": bob().uri}
    assert parse_actor_document(document, alice().uri).public_key_id is None
    document["publicKey"] = alice().document()["publicKey"] | {"id": "https://evil.test/k"}
    assert parse_actor_document(document, alice().uri).public_key_id is None
    parsed = parse_actor_document(bob().document(), bob().uri)
    assert parsed.ed25519_key_id == bob().key_id and parsed.public_key(bob().key_id) is not None


async def test_actor_on_our_own_domain_is_refused(h: InboxHarness) -> None:
    fake = FakeActor("esf.test", "impostor", alice().key)
    h.peers.add(fake)
    with pytest.raises(ActorDocumentError, match="this instance"):
        await fetch_actor(h.ctx, fake.uri, budget=FetchBudget(5))
    async with h.ctx.sessions() as session:
        assert await session.scalar(select(Actor).where(Actor.uri == fake.uri)) is None


@pytest.fixture
async def behind_proxy(tmp_path: Path, migrated_url: str) -> AsyncIterator[InboxHarness]:
    """The harness behind a proxy on loopback (where httpx.ASGITransport's requests come from)."""
    settings = make_settings(tmp_path, migrated_url, FEDI_TRUSTED_PROXIES="127.0.0.1")
    peers = FakePeers()
    peers.add(alice())
    harness = await inbox_harness(settings, peers)
    try:
        yield harness
    finally:
        await harness.aclose()


async def test_the_inbox_request_id_follows_the_activity_into_its_job(
    behind_proxy: InboxHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h = behind_proxy
    document = activity(alice(), "Follow", "https://esf.test/users/anna", "traced")
    body = json.dumps(document).encode()
    headers = alice().sign(
        "POST", h.url("/inbox"), body, headers={"Content-Type": "application/activity+json"}
    )
    response = await h.post("/inbox", body, {**headers, "X-Request-Id": "req-trace-1"})
    assert response.status_code == 202, response.text
    with caplog.at_level(logging.INFO, logger="fedi.job"):
        await InboxProcessor(h.ctx).run_once()
    lines = [
        json.loads(JsonFormatter().format(record))
        for record in caplog.records
        if record.getMessage() == "inbox activity"
    ]
    assert [line["request_id"] for line in lines] == ["req-trace-1"]
    # The Accept this job sends carries it too, into its delivery log lines.
    [accept] = [a for a in await all_rows(h, Activity) if a.type == "Accept"]
    assert accept.request_id == "req-trace-1"


async def test_handlers_are_found_by_activity_and_object_type(
    h: InboxHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    async def offers(job: handlers.Job) -> str:
        seen.append(job.shape.id)
        return "offer"

    monkeypatch.setitem(handlers.HANDLERS, ("Create", "Offer"), offers)
    offer = {"id": f"https://{alice().host}/offers/1", "type": "Offer", "attributedTo": alice().uri}
    row = await receive(h, alice(), activity(alice(), "Create", offer, "o1"))
    assert row.state is ActivityState.PROCESSED and seen == [row.uri]
    # A Create of anything else still goes to the general Create handler.
    row = await receive(h, alice(), activity(alice(), "Create", note(alice(), "n1"), "c1"))
    assert row.state is ActivityState.PROCESSED and seen == [
        f"https://{alice().host}/activities/o1"
    ]
    assert [o.type for o in await all_rows(h, ContentObject)] == ["Note"]
    assert handlers.handler_for("Update", "Person") is handlers.update_actor
    assert handlers.handler_for("Update", "Note") is handlers.handle_update
    assert handlers.handler_for("Like", "Note") is handle_like
    assert handlers.handler_for("Undo", "Like") is handle_undo_like
    assert handlers.handler_for("Announce", "Note") is None
