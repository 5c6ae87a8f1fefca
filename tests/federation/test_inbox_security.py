"""SECURITY.md "Incoming requests", one test per rule (1-25), plus key rotation.

Every refusal is checked for its status AND for leaving the database as it was: no activity row
(no de-duplication key), no actor row (no cached key), no object, follow, delivery or peer row.

The application is the production one (``create_app``). Every test runs four times on each
database: with cold signers (no key cached, each first request fetches it) and with warm signers
(every fake peer's actor and key cached beforehand), each signing with draft-cavage and with
RFC 9421, so that each rule meets every combination of a cold or cached key and a scheme. Tests
that craft one scheme's headers by hand keep that scheme.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from fedi.actors.document import parse_actor_document
from fedi.actors.remote import store_actor
from fedi.crypto import make_content_digest, make_digest, sign_rfc9421
from fedi.crypto._common import http_date
from fedi.db.models import (
    Activity,
    ActivityState,
    Actor,
    BlockSeverity,
    ContentObject,
    DomainBlock,
)
from fedi.federation.inbound import InboxProcessor
from fedi.settings import Settings
from fedi.testing.keys import FIXED_NOW, craft_cavage_signature, craft_rfc9421, rotated_key
from fedi.testing.peers import (
    PUBLIC,
    FakeActor,
    FakePeers,
    InboxHarness,
    alice,
    bob,
    carol,
    inbox_harness,
    mallory,
    note,
)

INBOX = "https://esf.test/inbox"
ANNA = "https://esf.test/users/anna"
AS2 = "application/activity+json"


@pytest.fixture(params=["cold-cavage", "cold-rfc9421", "warm-cavage", "warm-rfc9421"])
async def h(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[InboxHarness]:
    """The harness of conftest.py, with the signers cold or warm (see the module)."""
    warmth, scheme = str(request.param).split("-")
    peers = FakePeers()
    peers.add(alice(), bob(), carol(), mallory())
    harness = await inbox_harness(settings, peers)
    harness.scheme = "rfc9421" if scheme == "rfc9421" else "draft-cavage"
    harness.warm = warmth == "warm"
    if harness.warm:
        async with harness.ctx.sessions() as session:
            for actor in (alice(), bob(), carol(), mallory()):
                parsed = parse_actor_document(actor.document(), actor.uri)
                await store_actor(session, parsed, now=FIXED_NOW, local_domain=settings.domain)
            await session.commit()
    try:
        yield harness
    finally:
        await harness.aclose()


def warm(h: InboxHarness) -> bool:
    return h.warm


def as_signed(h: InboxHarness, actor: FakeActor, body: bytes, **kwargs: Any) -> dict[str, str]:
    """Headers of ``body`` POSTed to the shared inbox, signed as the harness's scheme."""
    return actor.sign(
        "POST",
        INBOX,
        body,
        now=h.ctx.clock(),
        scheme=h.scheme,
        headers={"Content-Type": AS2},
        **kwargs,
    )


def follow(actor: FakeActor, name: str = "f1", target: str = ANNA) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://{actor.host}/activities/{name}",
        "type": "Follow",
        "actor": actor.uri,
        "object": target,
    }


def body_of(document: Any) -> bytes:
    return json.dumps(document).encode()


def base_headers(body: bytes, **extra: str) -> dict[str, str]:
    """Lower-case request headers for crafting signatures by hand."""
    return {
        "host": "esf.test",
        "date": http_date(FIXED_NOW),
        "digest": make_digest(body),
        "content-type": "application/activity+json",
        **extra,
    }


def cavage(
    actor: FakeActor,
    headers: dict[str, str],
    names: list[str],
    *,
    url: str = INBOX,
    method: str = "POST",
    **kwargs: Any,
) -> dict[str, str]:
    signature = craft_cavage_signature(
        method, url, headers, names, actor.key_id, actor.key, **kwargs
    )
    return headers | {"signature": signature}


FULL = ["(request-target)", "host", "date", "digest"]


async def refused(
    h: InboxHarness,
    status: int,
    body: bytes,
    headers: dict[str, str],
    *,
    path: str = "/inbox",
    reason: str | None = None,
) -> httpx.Response:
    """POST, expect ``status`` (and ``reason`` in the error), and no change in the database."""
    before = await h.counts()
    response = await h.post(path, body, headers)
    assert response.status_code == status, response.text
    if status >= 400:
        error = response.json()["error"]
        assert isinstance(error, str) and error
        if reason is not None:
            assert reason in error
    assert await h.counts() == before
    return response


async def accepted(h: InboxHarness, actor: FakeActor, document: dict[str, Any], **kw: Any) -> None:
    response = await h.deliver(actor, document, **kw)
    assert response.status_code == 202, response.text


# 1 ------------------------------------------------------------------------------------------


async def test_rule01_no_signature(h: InboxHarness) -> None:
    body = body_of(follow(alice()))
    await refused(h, 401, body, base_headers(body), reason="missing signature")
    assert h.peers.requests == []  # nothing was fetched either


# 2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("drop", ["keyId", "signature"])
async def test_rule02_signature_without_keyid_or_signature(h: InboxHarness, drop: str) -> None:
    body = body_of(follow(alice()))
    headers = cavage(alice(), base_headers(body), FULL)
    parts = [p for p in headers["signature"].split(",") if not p.startswith(f"{drop}=")]
    headers["signature"] = ",".join(parts)
    await refused(h, 401, body, headers)


# 3 ------------------------------------------------------------------------------------------


async def test_rule03_digest_not_signed(h: InboxHarness) -> None:
    body = body_of(follow(alice()))
    headers = cavage(alice(), base_headers(body), ["(request-target)", "host", "date"])
    await refused(h, 401, body, headers, reason="digest")
    # RFC 9421 without content-digest among the components
    params = {"created": int(FIXED_NOW.timestamp()), "keyid": alice().key_id}
    rfc = {"host": "esf.test", "content-type": "application/activity+json"}
    rfc |= {"content-digest": make_content_digest(body)}
    rfc |= craft_rfc9421("POST", INBOX, rfc, ["@method", "@target-uri"], params, alice().key)
    await refused(h, 401, body, rfc)


# 4 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        ["(request-target)", "host", "digest"],  # no date, no (created)
        ["host", "date", "digest"],  # no (request-target)
    ],
)
async def test_rule04_date_or_target_not_signed(h: InboxHarness, names: list[str]) -> None:
    body = body_of(follow(alice()))
    await refused(h, 401, body, cavage(alice(), base_headers(body), names))


async def test_rule04_rfc9421_without_target_uri(h: InboxHarness) -> None:
    body = body_of(follow(alice()))
    params = {"created": int(FIXED_NOW.timestamp()), "keyid": alice().key_id}
    headers = {"host": "esf.test", "content-type": "application/activity+json"}
    headers["content-digest"] = make_content_digest(body)
    headers |= craft_rfc9421(
        "POST", INBOX, headers, ["@method", "content-digest"], params, alice().key
    )
    await refused(h, 401, body, headers)


# 5 ------------------------------------------------------------------------------------------


async def test_rule05_digest_mismatch(h: InboxHarness) -> None:
    body = body_of(follow(alice()))
    headers = cavage(alice(), base_headers(body), FULL)
    tampered = body.replace(b"f1", b"f2")
    assert len(tampered) == len(body) and tampered != body
    await refused(h, 401, tampered, headers, reason="digest mismatch")


# 6 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "digest",
    [
        "MD5=" + base64.b64encode(hashlib.md5(b"x").digest()).decode(),
        "SHA-256=" + base64.b64encode(b"\x00" * 20).decode(),
    ],
)
async def test_rule06_weak_or_short_digest(h: InboxHarness, digest: str) -> None:
    body = body_of(follow(alice()))
    headers = cavage(alice(), base_headers(body, digest=digest), FULL)
    await refused(h, 401, body, headers)


# 7 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [timedelta(hours=-2), timedelta(hours=2)])
async def test_rule07_date_outside_window(h: InboxHarness, offset: timedelta) -> None:
    body = body_of(follow(alice()))
    headers = alice().sign("POST", INBOX, body, now=FIXED_NOW + offset)
    headers["Content-Type"] = "application/activity+json"
    response = await refused(h, 401, body, headers)
    assert "time window" in response.json()["error"] or "future" in response.json()["error"]


# 8 ------------------------------------------------------------------------------------------


async def test_rule08_unparseable_date(h: InboxHarness) -> None:
    body = body_of(follow(alice()))
    headers = cavage(alice(), base_headers(body, date="yesterday, around noon"), FULL)
    await refused(h, 401, body, headers, reason="Date")


# 9 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"created": str(int((FIXED_NOW + timedelta(hours=2)).timestamp()))}, "future"),
        (
            {
                "created": str(int(FIXED_NOW.timestamp())),
                "expires": str(int((FIXED_NOW - timedelta(seconds=1)).timestamp())),
            },
            "expired",
        ),
    ],
)
async def test_rule09_created_in_future_or_expired(
    h: InboxHarness, params: dict[str, str], reason: str
) -> None:
    body = body_of(follow(alice()))
    names = ["(request-target)", "host", "(created)", "digest"]
    headers = cavage(alice(), base_headers(body), names, algorithm="hs2019", params=params)
    await refused(h, 401, body, headers, reason=reason)


# 10 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "rsa-sha1", "made-up"])
async def test_rule10_unknown_or_hmac_algorithm(h: InboxHarness, algorithm: str) -> None:
    body = body_of(follow(alice()))
    headers = cavage(alice(), base_headers(body), FULL, algorithm=algorithm)
    await refused(h, 401, body, headers, reason="algorithm")


# 11 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_url", "method"),
    [
        ("https://esf.test/users/anna/inbox", "POST"),  # another path
        (INBOX, "PUT"),  # another method
        (INBOX + "?page=2", "POST"),  # another query
    ],
)
async def test_rule11_signature_over_other_request(
    h: InboxHarness, signed_url: str, method: str
) -> None:
    body = body_of(follow(alice()))
    headers = cavage(alice(), base_headers(body), FULL, url=signed_url, method=method)
    await refused(h, 401, body, headers, reason="does not verify")


# 12 -----------------------------------------------------------------------------------------


async def test_rule12_signed_host_is_not_us(h: InboxHarness) -> None:
    body = body_of(follow(alice()))
    headers = cavage(alice(), base_headers(body, host="other.test"), FULL)
    await refused(h, 401, body, headers, reason="host")


# 13 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature_input",
    ["sig1=(((", 'sig1=("@method";keyid=);created=x', "sig1=:bm90IGEgbGlzdA==:", "\x01"],
)
async def test_rule13_malformed_signature_input(h: InboxHarness, signature_input: str) -> None:
    body = body_of(follow(alice()))
    headers = base_headers(body) | {"signature-input": signature_input, "signature": "sig1=:AAAA:"}
    await refused(h, 401, body, headers)


# 14 -----------------------------------------------------------------------------------------


async def test_rule14_signer_is_not_the_actor(h: InboxHarness) -> None:
    body = body_of(follow(bob()) | {"id": "https://alice.test/activities/x"})
    # Alice's valid signature on an activity whose actor is Bob. Alice's key is fetched to
    # verify it, and must not stay cached.
    headers = as_signed(h, alice(), body)
    await refused(h, 401, body, headers, reason="actor")
    if not warm(h):
        assert h.peers.fetched("alice.test")  # it was fetched...
        assert await h.actor_row(alice().uri) is None  # ...and not kept


# 15 -----------------------------------------------------------------------------------------


async def test_rule15_key_owner_does_not_list_the_key(h: InboxHarness) -> None:
    # A key document on Alice's host naming Alice as owner, holding Mallory's key; Alice's actor
    # does not list it.
    thief = mallory()
    key_id = "https://alice.test/keys/stolen"
    h.peers.serve(key_id, thief.key_document() | {"id": key_id, "owner": alice().uri})
    body = body_of(follow(alice()))
    headers = as_signed(h, thief, body, key_id=key_id)
    await refused(h, 401, body, headers, reason="unknown key")
    assert "https://alice.test/users/alice" in h.peers.fetched()  # the owner was checked


# 16 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["https://127.0.0.1/users/mallory", "https://[::1]/x", "https://10.1.2.3/key"]
)
async def test_rule16_keyid_redirects_to_private_address(h: InboxHarness, target: str) -> None:
    attacker = FakeActor("trap.test", "mallory", mallory().key)  # never cached
    h.peers.add(attacker)
    h.peers.redirect(attacker.uri, target)
    body = body_of(follow(attacker))
    headers = as_signed(h, attacker, body)
    await refused(h, 401, body, headers)
    assert h.peers.fetched() == [attacker.uri]  # the private address was never requested


# 17 -----------------------------------------------------------------------------------------


async def test_rule17_activity_id_on_another_host(h: InboxHarness) -> None:
    foreign_id = "https://evil.test/activities/claimed"
    body = body_of(follow(alice()) | {"id": foreign_id})
    headers = as_signed(h, alice(), body)
    await refused(h, 400, body, headers, reason="host")
    # No de-duplication key was recorded: the id's real owner can still use it.
    await accepted(h, mallory(), follow(mallory()) | {"id": foreign_id})


# 18 -----------------------------------------------------------------------------------------


async def test_rule18_create_of_object_on_third_host(h: InboxHarness) -> None:
    third = note(bob(), "b1")  # on bob.test, sent by Alice
    create = {
        "id": "https://alice.test/activities/c18",
        "type": "Create",
        "actor": alice().uri,
        "object": third | {"attributedTo": alice().uri},
        "to": [PUBLIC],
    }
    body = body_of(create)
    headers = as_signed(h, alice(), body)
    await refused(h, 400, body, headers, reason="third host")
    assert "https://bob.test/notes/b1" not in h.peers.fetched()


# 19 -----------------------------------------------------------------------------------------


def create(actor: FakeActor, obj: Any, name: str) -> dict[str, Any]:
    return {
        "id": f"https://{actor.host}/activities/{name}",
        "type": "Create",
        "actor": actor.uri,
        "object": obj,
        "to": [PUBLIC],
    }


async def objects(h: InboxHarness) -> list[ContentObject]:
    async with h.ctx.sessions() as session:
        return list(await session.scalars(select(ContentObject)))


@pytest.mark.parametrize("kind", ["Create", "Update"])
async def test_rule19_foreign_embedded_object_is_refused_at_the_door(
    h: InboxHarness, kind: str
) -> None:
    # Alice embeds a note attributed to Carol (same host) with forged content: refused before
    # anything is fetched or stored, since a 202 cannot be taken back later.
    forged = note(carol(), "c1", content="<p>forged</p>")
    activity = create(alice(), forged, f"c19-{kind}") | {"type": kind}
    body, headers = signed(alice(), activity, h)
    await refused(h, 403, body, headers, reason="attributed to another actor")
    assert "https://alice.test/notes/c1" not in h.peers.fetched()
    # Co-authored: the actor among several authors is the actor's own object.
    shared = forged | {"attributedTo": [carol().uri, alice().uri]}
    await accepted(h, alice(), create(alice(), shared, f"c19-shared-{kind}") | {"type": kind})


# 20 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Update", "Delete"])
async def test_rule20_update_or_delete_of_anothers_object(h: InboxHarness, kind: str) -> None:
    original = note(carol(), "owned")
    await accepted(h, carol(), create(carol(), original, "c20"))
    await InboxProcessor(h.ctx).run_once()
    assert len(await objects(h)) == 1
    # Alice (same host, another actor) and Mallory (another host) may not touch it.
    for actor in (alice(), mallory()):
        await accepted(h, actor, follow(actor, "warmup"))  # cache the actor first
        activity = {
            "id": f"https://{actor.host}/activities/{kind}-20",
            "type": kind,
            "actor": actor.uri,
            "object": original | {"content": "<p>vandalised</p>"}
            if kind == "Update"
            else original["id"],
        }
        body = body_of(activity)
        headers = as_signed(h, actor, body)
        await refused(h, 403, body, headers)
    [stored] = await objects(h)
    assert stored.content == original["content"] and stored.deleted_at is None


# 21 -----------------------------------------------------------------------------------------


async def test_rule21_update_swapping_a_still_valid_key(h: InboxHarness) -> None:
    await accepted(h, alice(), follow(alice()))  # Alice is cached with her key
    await InboxProcessor(h.ctx).run_once()
    before_row = await h.actor_row(alice().uri)
    assert before_row is not None
    swapped = alice().document() | {
        "publicKey": mallory().key_document() | {"id": alice().key_id, "owner": alice().uri}
    }
    update_doc = {
        "id": "https://alice.test/activities/u21",
        "type": "Update",
        "actor": alice().uri,
        "object": swapped,
    }
    await accepted(h, alice(), update_doc)
    before = await h.counts()
    await InboxProcessor(h.ctx).run_once()
    assert await h.counts() == before
    row = await h.actor_row(alice().uri)
    assert row is not None and row.public_key_pem == before_row.public_key_pem
    async with h.ctx.sessions() as session:
        activity = await session.scalar(select(Activity).where(Activity.uri == update_doc["id"]))
    assert activity is not None and activity.state is ActivityState.FAILED
    assert activity.error is not None and "still valid" in activity.error


# 22 -----------------------------------------------------------------------------------------


async def test_rule22_blocked_suspended_or_deleted(h: InboxHarness) -> None:
    # Cache Alice and Bob first, then suspend one and delete the other.
    await accepted(h, alice(), follow(alice(), "a"))
    await accepted(h, bob(), follow(bob(), "b"))
    async with h.ctx.sessions() as session:
        await session.execute(
            update(Actor).where(Actor.uri == alice().uri).values(suspended_at=FIXED_NOW)
        )
        await session.execute(
            update(Actor).where(Actor.uri == bob().uri).values(deleted_at=FIXED_NOW)
        )
        session.add(DomainBlock(domain="evil.test", severity=BlockSeverity.SUSPEND))
        await session.commit()
    for actor in (alice(), bob(), mallory()):
        body = body_of(follow(actor, "again"))
        headers = as_signed(h, actor, body)
        await refused(h, 403, body, headers)
    assert not h.peers.fetched("evil.test")  # no key fetched from a blocked domain


async def test_rule22_block_covers_subdomains_and_silence_does_not_refuse(
    h: InboxHarness,
) -> None:
    sub = FakeActor("social.evil.test", "eve", mallory().key, pem_ed25519=True)
    h.peers.add(sub)
    async with h.ctx.sessions() as session:
        session.add(DomainBlock(domain="evil.test", severity=BlockSeverity.SUSPEND))
        session.add(DomainBlock(domain="alice.test", severity=BlockSeverity.SILENCE))
        await session.commit()
    body = body_of(follow(sub))
    headers = as_signed(h, sub, body)
    await refused(h, 403, body, headers, reason="blocked")
    await accepted(h, alice(), follow(alice()))


# 23 -----------------------------------------------------------------------------------------


async def test_rule23_replay_is_accepted_without_side_effects(h: InboxHarness) -> None:
    document = follow(alice())
    await accepted(h, alice(), document)
    assert await InboxProcessor(h.ctx).run_once() == 1
    after_first = await h.counts()
    assert after_first["follows"] == 1 and after_first["deliveries"] == 1  # the Accept
    body = body_of(document)
    headers = as_signed(h, alice(), body)
    await refused(h, 202, body, headers)
    assert await InboxProcessor(h.ctx).run_once() == 0
    assert await h.counts() == after_first


# 24 -----------------------------------------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (body_of(follow(alice()) | {"padding": "x" * (1024 * 1024)}), 413),
        (body_of(follow(alice()) | {"deep": nested(64)}), 400),  # 65 levels with the top
        (b'{"id": "https://alice.test/a", "type": "Follow", ', 400),
        (b"[1, 2, 3]", 400),
        (b'"a string"', 400),
        (b"\xff\xfe not utf-8", 400),
        (b"[" * 100_000, 400),
    ],
    ids=["too-large", "too-deep", "invalid", "array", "string", "bytes", "deep-array"],
)
async def test_rule24_body_size_depth_and_shape(
    h: InboxHarness, payload: bytes, status: int
) -> None:
    headers = as_signed(h, alice(), payload)
    await refused(h, status, payload, headers)


async def test_rule24_streamed_body_is_counted(h: InboxHarness) -> None:
    # No Content-Length: the cap must hold on what is actually received.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * (64 * 1024)

    before = await h.counts()
    transport = httpx.ASGITransport(app=h.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://esf.test") as client:
        response = await client.post(
            "/inbox", content=chunks(), headers={"Content-Type": "application/activity+json"}
        )
    assert response.status_code == 413
    assert await h.counts() == before


# 25 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", None, 'application/ld+json; profile="x"'],
)
async def test_rule25_wrong_content_type(h: InboxHarness, content_type: str | None) -> None:
    body = body_of(follow(alice()))
    headers = alice().sign("POST", INBOX, body)
    if content_type is not None:
        headers["Content-Type"] = content_type
    await refused(h, 415, body, headers)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        "application/ld+json",
        "application/json",
        "application/activity+json; charset=utf-8",
    ],
)
async def test_rule25_accepted_content_types(h: InboxHarness, content_type: str) -> None:
    await accepted(h, alice(), follow(alice()), content_type=content_type)


# Key rotation -------------------------------------------------------------------------------


async def test_key_rotation_refetches_then_rate_limits_the_host(h: InboxHarness) -> None:
    await accepted(h, alice(), follow(alice(), "r0"))
    rotated = FakeActor("alice.test", "alice", rotated_key())
    h.peers.serve(rotated.uri, rotated.document())
    # Signed with the new key: the cached key fails, the key is re-fetched, the request passes.
    await accepted(h, rotated, follow(rotated, "r1"))
    row = await h.actor_row(alice().uri)
    assert row is not None and row.public_key_pem == rotated.document()["publicKey"]["publicKeyPem"]
    # Requests still signed with the old key: each may cause a re-fetch until the host's small
    # budget is spent; after that they are refused without any fetch.
    limit = h.ctx.key_refetches.capacity
    for attempt in range(limit + 2):
        fetches = len(h.peers.requests)
        body = body_of(follow(alice(), f"r{attempt + 2}"))
        headers = as_signed(h, alice(), body)
        await refused(h, 401, body, headers)
        if attempt >= limit - 1:
            assert len(h.peers.requests) == fetches, f"fetched again on attempt {attempt}"


# Other refusals and the happy paths -------------------------------------------------------------


async def test_personal_inbox_of_unknown_actor_is_404(h: InboxHarness) -> None:
    body = body_of(follow(alice()))
    headers = alice().sign(
        "POST",
        "https://esf.test/users/nobody/inbox",
        body,
        headers={"Content-Type": "application/activity+json"},
    )
    await refused(h, 404, body, headers, path="/users/nobody/inbox")


@pytest.mark.parametrize(
    ("actor", "scheme", "path"),
    [
        (alice(), "draft-cavage", "/inbox"),
        (alice(), "rfc9421", "/users/anna/inbox"),
        (bob(), "draft-cavage", "/groups/forum/inbox"),  # Ed25519 Multikey, hs2019
        (bob(), "rfc9421", "/actor/inbox"),
        (carol(), "draft-cavage", "/inbox"),  # separate key document (GoToSocial style)
    ],
    ids=["cavage-rsa", "rfc9421-rsa", "cavage-ed25519", "rfc9421-ed25519", "key-document"],
)
async def test_signed_activity_is_recorded_and_key_cached(
    h: InboxHarness, actor: FakeActor, scheme: str, path: str
) -> None:
    document = follow(actor)
    await accepted(h, actor, document, path=path, scheme=scheme)
    async with h.ctx.sessions() as session:
        activity = await session.scalar(select(Activity).where(Activity.uri == document["id"]))
    assert activity is not None and activity.state is ActivityState.RECEIVED
    assert activity.document == document
    row = await h.actor_row(actor.uri)
    assert (
        row is not None
        and not row.local
        and actor.key_id
        in (
            row.public_key_id,
            row.ed25519_key_id,
        )
    )
    # Second request: answered from the cache, no fetch.
    fetches = len(h.peers.requests)
    await accepted(h, actor, follow(actor, "f2"), path=path, scheme=scheme)
    assert len(h.peers.requests) == fetches


async def test_delete_of_unknown_actor_is_accepted_without_fetch(h: InboxHarness) -> None:
    gone = FakeActor("gone.test", "ghost", alice().key)
    delete = {
        "id": f"{gone.uri}#delete",
        "type": "Delete",
        "actor": gone.uri,
        "object": gone.uri,
        "to": [PUBLIC],
    }
    body = body_of(delete)
    headers = as_signed(h, gone, body)
    await refused(h, 202, body, headers)
    assert h.peers.requests == []


async def test_activity_without_actor_or_id_is_400(h: InboxHarness) -> None:
    for document in (
        {"type": "Follow", "id": "https://alice.test/a"},
        {"type": "Follow", "actor": alice().uri},
        {"id": "https://alice.test/a", "actor": alice().uri},
        {"type": "Follow", "id": "https://alice.test/a", "actor": "javascript:alert(1)"},
    ):
        body = body_of(document)
        headers = as_signed(h, alice(), body)
        await refused(h, 400, body, headers)


# The fast path caches a sender's key after its first accepted activity; nothing it caches may
# let a later block, suspension or replay through. ------------------------------------------


def signed(
    actor: FakeActor, document: dict[str, Any], h: InboxHarness
) -> tuple[bytes, dict[str, str]]:
    body = body_of(document)
    return body, as_signed(h, actor, body)


async def test_a_block_added_after_the_key_is_cached_is_enforced(h: InboxHarness) -> None:
    await accepted(h, alice(), follow(alice(), "warm"))
    await accepted(h, alice(), follow(alice(), "cached"))  # served by the cached signer
    async with h.ctx.sessions() as session, session.begin():
        session.add(DomainBlock(domain="alice.test", severity=BlockSeverity.SUSPEND))
    body, headers = signed(alice(), follow(alice(), "after-block"), h)
    await refused(h, 403, body, headers, reason="blocked")


async def test_a_suspension_after_the_key_is_cached_is_enforced(h: InboxHarness) -> None:
    await accepted(h, alice(), follow(alice(), "warm"))
    await accepted(h, alice(), follow(alice(), "cached"))
    async with h.ctx.sessions() as session, session.begin():
        row = await session.scalar(select(Actor).where(Actor.uri == alice().uri))
        assert row is not None
        row.suspended_at = FIXED_NOW
    body, headers = signed(alice(), follow(alice(), "after-suspension"), h)
    await refused(h, 403, body, headers, reason="suspended")


async def test_a_replay_through_the_cached_key_changes_nothing(h: InboxHarness) -> None:
    await accepted(h, alice(), follow(alice(), "warm"))
    body, headers = signed(alice(), follow(alice(), "once"), h)
    assert (await h.post("/inbox", body, headers)).status_code == 202
    await refused(h, 202, body, headers)


async def test_a_second_signature_label_cannot_borrow_another_cached_actor(
    h: InboxHarness,
) -> None:
    """RFC 9421 allows several labels; the signer is the one whose key verified, never another
    cached actor named by a label that failed."""
    await accepted(h, alice(), follow(alice(), "warm-alice"))
    await accepted(h, mallory(), follow(mallory(), "warm-mallory"))
    forged = create(
        mallory(),
        {
            "id": "https://alice.test/notes/forged",
            "type": "Note",
            "attributedTo": alice().uri,
            "content": "forged",
        },
        "forged",
    )
    forged["id"] = "https://alice.test/activities/forged"
    body = body_of(forged)
    base = {"content-type": "application/activity+json"}
    # sig1 names alice's key but is made with mallory's; sig2 is mallory's own, valid.
    first = sign_rfc9421(
        "POST", INBOX, base, body, alice().key_id, mallory().key, h.ctx.clock(), label="sig1"
    )
    second = sign_rfc9421(
        "POST", INBOX, base, body, mallory().key_id, mallory().key, h.ctx.clock(), label="sig2"
    )
    headers = {
        "Content-Type": "application/activity+json",
        "Content-Digest": second["Content-Digest"],
        "Signature-Input": f"{first['Signature-Input']}, {second['Signature-Input']}",
        "Signature": f"{first['Signature']}, {second['Signature']}",
    }
    await refused(h, 400, body, headers)


async def test_rule01_an_unsigned_delete_of_an_unknown_actor_is_401(h: InboxHarness) -> None:
    # Mastodon's Delete of a gone account is answered 202 without a fetch, but only when signed.
    gone = "https://gone.test/users/x"
    document = {"id": f"{gone}#delete", "type": "Delete", "actor": gone, "object": gone}
    await refused(h, 401, body_of(document), {"Content-Type": "application/activity+json"})


async def test_rule24_a_nul_character_anywhere_is_400(h: InboxHarness) -> None:
    # PostgreSQL cannot store NUL in text; it is refused before anything else looks at it.
    document = follow(alice(), "nul")
    document["type"] = "Follow\u0000"
    body, headers = signed(alice(), document, h)
    await refused(h, 400, body, headers, reason="NUL")
