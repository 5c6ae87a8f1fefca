"""Every document we emit, produced by the real code paths, validates against its JSON Schema
(``schemas/activitypub/``, Draft 2020-12); and every schema refuses documents that peers would
refuse, so none of them is vacuous."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.content.experiences.service import (
    create_experience,
    delete_experience,
    update_experience,
)
from fedi.content.threads.editing import delete_reply, edit_reply, edit_thread
from fedi.content.threads.moderation import set_locked, set_pinned
from fedi.content.threads.service import mark_solution, post_reply, start_thread
from fedi.db import migrate
from fedi.db.models import Activity, Actor, ContentObject, Member, Role, Thread
from fedi.errors import ValidationError as ContentError
from fedi.federation.inbound import InboxProcessor
from fedi.federation.vocab import PUBLIC
from fedi.follows.service import answer_follow_request, follow, unfollow
from fedi.partners.offers import create_offer, set_status, update_offer, view_of
from fedi.schemas import (
    SCHEMA_MEDIA_TYPE,
    SCHEMA_NAMES,
    UnknownSchemaError,
    load_all,
    load_schema,
    schema_id,
    schema_path,
)
from fedi.services.forums import create_forum, update_forum
from fedi.services.members import add_member
from fedi.services.profiles import update_profile
from fedi.services.publishing import delete_object, publish_object, rotate_keys
from fedi.settings import Settings
from fedi.testing.databases import temporary_database
from fedi.testing.peers import (
    FakePeers,
    add_remote_follower,
    alice,
    bob,
    inbox_harness,
    remote_actor_row,
)
from fedi.web import create_app
from tests.conftest import make_settings
from tests.partners.test_fields import TODAY as OFFER_DAY
from tests.partners.test_fields import offer_payload
from tests.web.test_discovery import bootstrap

AS2 = "application/activity+json"
Documents = dict[str, list[tuple[str, dict[str, Any]]]]


# Validation -----------------------------------------------------------------------------------


def _registry() -> Registry[Any]:
    resources = [
        (schema_id(name), Resource.from_contents(document, default_specification=DRAFT202012))
        for name, document in load_all().items()
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    return registry


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        load_schema(name),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def errors(name: str, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator(name).iter_errors(document)
    ]


# The schemas themselves ------------------------------------------------------------------------


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schema_id(name)
    assert schema["title"] and schema["description"]
    # Every $ref resolves within the published set.
    resolver = _registry().resolver(base_uri=schema["$id"])
    for ref in _refs(schema):
        resolver.lookup(ref)


def test_every_file_is_published_and_every_name_has_a_file() -> None:
    folder = schema_path("defs").parent
    on_disk = {p.name.removesuffix(".schema.json") for p in folder.glob("*.schema.json")}
    assert on_disk == set(SCHEMA_NAMES)


@pytest.mark.parametrize("name", ["", "../vocabularies/countries", "ACTOR", "actor.schema", "x"])
def test_unknown_names_are_refused_before_any_path_is_built(name: str) -> None:
    with pytest.raises(UnknownSchemaError):
        schema_path(name)


def test_the_schemas_are_served(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        for name in SCHEMA_NAMES:
            response = client.get(f"/schemas/activitypub/{name}.schema.json")
            assert response.status_code == 200, name
            assert response.headers["content-type"].startswith(SCHEMA_MEDIA_TYPE)
            assert response.json() == load_schema(name)
            assert response.text == schema_path(name).read_text(encoding="utf-8")
        for path in (
            "/schemas/activitypub/nothing.schema.json",
            "/schemas/activitypub/actor.json",
            "/schemas/activitypub/actor",
            "/schemas/activitypub/..%2F..%2Fpyproject.toml",
            "/schemas/activitypub/..%2Fvocabularies%2Fcountries.schema.json",
            "/schemas/activitypub/%2e%2e.schema.json",
            "/schemas/activitypub/..%5Cdefs.schema.json",
            "/schemas/activitypub/Actor.schema.json",
            "/schemas/activitypub/",
        ):
            assert client.get(path).status_code == 404, path


# Producing every document through the real code ------------------------------------------------


async def _local(session: AsyncSession, username: str) -> Actor:
    actor = await session.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == username)
    )
    assert actor is not None
    return actor


async def _stored(session: AsyncSession, uri: str) -> dict[str, Any]:
    document = await session.scalar(select(Activity.document).where(Activity.uri == uri))
    assert document is not None
    return dict(document)


async def _stored_object(session: AsyncSession, uri: str) -> dict[str, Any]:
    document = await session.scalar(select(ContentObject.document).where(ContentObject.uri == uri))
    assert document is not None
    return dict(document)


def _activities(settings: Settings) -> Documents:
    """Follow, Undo, Create (Note, Article, Page, reply with a mention), Delete, Update."""

    async def work(session: AsyncSession) -> Documents:
        anna = await _local(session, "anna")
        network = await _local(session, "network")
        marco = await add_remote_follower(session, anna, "it.test", "marco")
        hans = remote_actor_row("de.test", "hans")
        session.add(hans)
        await session.flush()
        found: Documents = {}

        def keep(name: str, label: str, document: dict[str, Any]) -> None:
            found.setdefault(name, []).append((label, document))

        row = await follow(session, settings, anna, hans)
        keep("follow", "member follows a remote person", await _stored(session, row.uri))
        row = await follow(session, settings, network, hans)
        keep("follow", "network group follows", await _stored(session, row.uri))
        await unfollow(session, settings, anna, hans)
        undo = await session.scalar(select(Activity).where(Activity.type == "Undo"))
        assert undo is not None
        keep("undo", "Undo(Follow)", dict(undo.document))

        posts: list[tuple[str, str, dict[str, Any]]] = [
            ("note", "public note", {"type": "Note", "content": "<p>Hello</p>"}),
            (
                "article",
                "experience article",
                {
                    "type": "Article",
                    "name": "Mentoring young migrants",
                    "summary": "What worked in three regions.",
                    "content": "<h2>Context</h2><p>Text <script>x()</script></p>",
                },
            ),
            (
                "page",
                "partner offer page",
                {"type": "Page", "name": "Partner sought", "content": "<p>We seek…</p>"},
            ),
            (
                "note",
                "reply with a mention, followers-only",
                {
                    "type": "Note",
                    "content": "<p>@marco thanks</p>",
                    "inReplyTo": "https://it.test/objects/7",
                    "to": [anna.followers_url],
                    "tag": [{"type": "Mention", "href": marco.uri, "name": "@marco@it.test"}],
                },
            ),
            (
                "note",
                "direct note addressed as as:Public by a client",
                {"type": "Note", "content": "<p>hi</p>", "to": ["as:Public", hans.uri]},
            ),
        ]
        created = []
        for kind, label, payload in posts:
            activity = await publish_object(session, settings, anna, payload)
            keep("create", f"Create({label})", dict(activity.document))
            obj = await session.scalar(
                select(ContentObject.document).where(
                    ContentObject.uri == activity.document["object"]["id"]
                )
            )
            assert obj is not None
            keep(kind, f"stored {label}", dict(obj))
            created.append(activity.document["object"]["id"])
        for uri in created[:2]:
            activity = await delete_object(session, settings, anna, uri)
            keep("delete", f"Delete of {uri}", dict(activity.document))
            stored = await session.scalar(
                select(ContentObject.document).where(ContentObject.uri == uri)
            )
            assert stored is not None
            keep("tombstone", "stored tombstone", dict(stored))
        member = await session.scalar(select(Member).where(Member.actor_id == anna.id))
        assert member is not None
        profile = {
            "organisation": "Fundacja",
            "organisation_type": "ngo-civil-society",
            "country": "PL",
            "languages": ["pl", "en"],
            "expertise": {"themes": ["social-inclusion"], "objectives": ["h"]},
        }
        await update_profile(session, settings, member, profile)
        for actor in (anna, network):
            activity = await rotate_keys(session, settings, actor)
            keep("update", f"Update({actor.type.value})", dict(activity.document))
        forum = await _local(session, "employment")
        await add_remote_follower(session, forum, "lemmy.test", "reader")
        await update_forum(session, settings, "employment", summary="Jobs & skills\n\nfor all")
        update = await session.scalar(
            select(Activity).where(Activity.type == "Update", Activity.actor_id == forum.id)
        )
        assert update is not None
        keep("update", "Update(forum Group) after an edit", dict(update.document))
        experience = await create_experience(
            session,
            settings,
            anna,
            {
                "language": "en",
                "title": "Mentoring young migrants",
                "body": "## Context\n\nThree regions, *one* method.",
                "translations": {"pl": {"title": "Mentoring", "body": "Trzy regiony."}},
                "country": "PL",
                "objectives": ["a", "i"],
                "themes": ["migrant-integration"],
                "target_groups": ["youth-neet"],
                "programme_period": "2021-2027",
                "organisation": "Fundacja",
                "results": "40 jobs",
                "transferability": "Any region",
                "tags": ["mentoring"],
            },
        )
        for label, kind in (("Create(experience)", "Create"), ("Update(experience)", "Update")):
            if kind == "Update":
                await update_experience(session, settings, anna, experience.key, {"tags": []})
            activity = await session.scalar(
                select(Activity)
                .where(Activity.type == kind, Activity.object_uri == experience.uri)
                .order_by(Activity.id.desc())
            )
            assert activity is not None
            keep(kind.lower(), label, dict(activity.document))
            keep("experience", f"embedded in {label}", dict(activity.document["object"]))
        keep("experience", "stored experience", await _stored_object(session, experience.uri))
        announce = await session.scalar(
            select(Activity).where(
                Activity.type == "Announce",
                Activity.actor_id == network.id,
                Activity.object_uri == experience.uri,
            )
        )
        assert announce is not None
        keep("announce", "the network announces an experience", dict(announce.document))
        await delete_experience(session, settings, anna, experience.key)
        keep(
            "tombstone",
            "stored experience tombstone",
            await _stored_object(session, experience.uri),
        )
        await _offers(session, settings, anna, keep)
        await _threads(session, settings, anna, keep)
        return found

    result: Documents = run_in_session(settings, work)
    return result


async def _threads(
    session: AsyncSession,
    settings: Settings,
    anna: Actor,
    keep: Callable[[str, str, dict[str, Any]], None],
) -> None:
    """A thread started, answered and solved: the Creates, the Page and Note, the Update, and
    the forum's Announce of each."""
    thread = await start_thread(
        session, settings, anna, "employment", {"title": "Indicators", "body": "How *many*?"}
    )
    reply = await post_reply(session, settings, anna, thread.key, {"body": "Forty."})
    await post_reply(
        session, settings, anna, thread.key, {"body": "Why?", "in_reply_to": reply.uri}
    )
    await mark_solution(session, settings, anna, thread.key, reply.uri)
    for uri, kind in ((thread.uri, "page"), (reply.uri, "note")):
        keep(kind, f"stored thread {kind}", await _stored_object(session, uri))
    # Moderated and edited: locked and pinned (the Page says so), opened and unpinned again,
    # both posts edited by their author, the reply removed by the moderator.
    zoe = await _local(session, "zoe")
    await set_locked(session, settings, zoe, thread.key, True)
    await set_pinned(session, settings, zoe, thread.key, True)
    keep("page", "stored thread page, locked and pinned", await _stored_object(session, thread.uri))
    await set_locked(session, settings, zoe, thread.key, False)
    await set_pinned(session, settings, zoe, thread.key, False)
    edit = {"title": "Indicators, edited", "body": "How *many*, then?"}
    await edit_thread(session, settings, anna, thread.key, edit)
    await edit_reply(session, settings, anna, reply.id, {"body": "Forty-two."})
    keep("note", "stored thread reply, edited", await _stored_object(session, reply.uri))
    await delete_reply(session, settings, zoe, reply.id, reason="Off topic")
    keep("tombstone", "stored removed reply", await _stored_object(session, reply.uri))
    # A reply that stays, answered in turn: its replies collection has an item.
    kept = await post_reply(session, settings, anna, thread.key, {"body": "Fifty."})
    await post_reply(session, settings, anna, thread.key, {"body": "Why?", "in_reply_to": kept.uri})
    moderation = await session.scalars(
        select(Activity).where(Activity.actor_id == zoe.id).order_by(Activity.id)
    )
    schema_of = {"Lock": "lock", "Undo": "undo", "Add": "pin", "Remove": "pin", "Delete": "delete"}
    for row in moderation:
        keep(schema_of[row.type], f"a moderator's {row.type} in a forum", dict(row.document))
    forum = await _local(session, "employment")
    rows = await session.scalars(
        select(Activity)
        .where(Activity.object_uri.in_([thread.uri, reply.uri]), Activity.local.is_(True))
        .order_by(Activity.id)
    )
    for row in rows:
        if row.type in ("Create", "Update"):
            label = f"{row.type} of a thread's {row.document['object']['type']}"
            keep(row.type.lower(), label, dict(row.document))
    announces = await session.scalars(
        select(Activity)
        .where(Activity.actor_id == forum.id, Activity.type == "Announce")
        .order_by(Activity.id)
    )
    for row in announces:
        label = f"the forum announces a {row.document['object']['type']}"
        keep("announce", label, dict(row.document))


async def _offers(
    session: AsyncSession,
    settings: Settings,
    anna: Actor,
    keep: Callable[[str, str, dict[str, Any]], None],
) -> None:
    """A partner offer published, edited and filled: its Create, Updates and stored Page."""
    offer = await create_offer(session, settings, anna, offer_payload(), today=OFFER_DAY)
    await update_offer(
        session, settings, anna, offer.id, {"keywords": ["peer learning"]}, today=OFFER_DAY
    )
    await set_status(session, settings, anna, offer.id, "filled", today=OFFER_DAY)
    view = await view_of(session, offer)
    activities = await session.scalars(
        select(Activity)
        .where(Activity.object_uri == view.uri, Activity.actor_id == anna.id)
        .order_by(Activity.id)
    )
    for activity in activities:
        label = f"{activity.type}(offer)"
        keep(activity.type.lower(), label, dict(activity.document))
        keep("offer", f"embedded in {label}", dict(activity.document["object"]))
    keep("offer", "stored offer", await _stored_object(session, view.uri))


def _served(settings: Settings) -> Documents:
    """Actors, collections and discovery, fetched over HTTP from the app."""
    found: Documents = {}

    def keep(name: str, label: str, document: dict[str, Any]) -> None:
        found.setdefault(name, []).append((label, document))

    page_uri, reply_uri = _thread_uris(settings)
    with TestClient(create_app(settings), base_url=settings.base_url) as client:

        def get(path: str, accept: str = AS2, **params: str) -> dict[str, Any]:
            response = client.get(path, headers={"Accept": accept}, params=params)
            assert response.status_code == 200, (path, response.text)
            document: dict[str, Any] = response.json()
            return document

        for path in ("/users/anna", "/groups/network", "/groups/employment", "/actor"):
            keep("actor", path, get(path))
            for collection in ("followers", "following", "outbox"):
                keep("ordered-collection", f"{path}/{collection}", get(f"{path}/{collection}"))
                keep(
                    "ordered-collection-page",
                    f"{path}/{collection}?page=1",
                    get(f"{path}/{collection}", page="1"),
                )
        keep("ordered-collection-page", "past the last page", get("/users/anna/outbox", page="9"))
        keep(
            "ordered-collection",
            "a forum's moderators, whole",
            get("/groups/employment/moderators"),
        )
        keep(
            "ordered-collection",
            "a forum's pinned threads, whole",
            get("/groups/employment/featured"),
        )
        for resource in (
            "acct:anna@esf.test",
            "acct:network@esf.test",
            "acct:employment@esf.test",
            "acct:instance.actor@esf.test",
            "https://esf.test/users/anna",
        ):
            keep("webfinger", resource, get("/.well-known/webfinger", resource=resource))
        for uri, kind in ((page_uri, "context"), (page_uri, "replies"), (reply_uri, "replies")):
            path = f"{uri.removeprefix(settings.base_url)}/{kind}"
            keep("ordered-collection", f"a thread post's {kind}", get(path))
            page = get(path, page="1")
            assert page["orderedItems"], path
            keep("ordered-collection-page", f"a thread post's {kind}, page 1", page)
        keep("host-meta", "host-meta.json", get("/.well-known/host-meta.json"))
        keep(
            "host-meta",
            "host-meta, JSON by Accept",
            get("/.well-known/host-meta", accept="application/json"),
        )
        keep("nodeinfo-discovery", "/.well-known/nodeinfo", get("/.well-known/nodeinfo"))
        keep("nodeinfo-2.0", "/nodeinfo/2.0", get("/nodeinfo/2.0"))
        keep("nodeinfo-2.1", "/nodeinfo/2.1", get("/nodeinfo/2.1"))
    return found


def _thread_uris(settings: Settings) -> tuple[str, str]:
    """The ids of a thread's Page and of its first reply (not removed) that has a reply of its
    own."""

    async def work(session: AsyncSession) -> tuple[str, str]:
        child = aliased(ContentObject)
        answered = select(child.id).where(
            child.in_reply_to == ContentObject.uri, child.deleted_at.is_(None)
        )
        page = aliased(ContentObject)
        pages = select(page.uri).join(Thread, Thread.object_id == page.id)
        reply = await session.scalar(
            select(ContentObject)
            .where(
                ContentObject.in_reply_to.in_(pages.scalar_subquery()),
                ContentObject.deleted_at.is_(None),
                answered.exists(),
            )
            .order_by(ContentObject.id)
            .limit(1)
        )
        assert reply is not None and reply.in_reply_to is not None
        return reply.in_reply_to, reply.uri

    result: tuple[str, str] = run_in_session(settings, work)
    return result


def _answers(settings: Settings) -> Documents:
    """Accept and Reject, answering Follows that arrive signed at the inbox."""

    async def work() -> Documents:
        peers = FakePeers()
        peers.add(alice(), bob())
        h = await inbox_harness(settings, peers)
        try:
            for actor, target, name in (
                (alice(), "https://esf.test/users/anna", "f1"),  # accepted at once
                (bob(), "https://esf.test/groups/forum", "f2"),  # groups accept at once
                (alice(), "https://esf.test/users/mia", "f3"),  # mia approves by hand
                (bob(), "https://esf.test/users/mia", "f4"),
            ):
                document = {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"https://{actor.host}/activities/{name}",
                    "type": "Follow",
                    "actor": actor.uri,
                    "object": target,
                }
                response = await h.deliver(actor, document)
                assert response.status_code == 202, response.text
            await InboxProcessor(h.ctx).run_once()
            async with h.ctx.sessions() as session, session.begin():
                mia = await _local(session, "mia")
                await answer_follow_request(session, settings, mia, alice().uri, accept=True)
                await answer_follow_request(session, settings, mia, bob().uri, accept=False)
            async with h.ctx.sessions() as session:
                rows = await session.scalars(
                    select(Activity)
                    .where(Activity.local.is_(True), Activity.type.in_(["Accept", "Reject"]))
                    .order_by(Activity.id)
                )
                found: Documents = {}
                for row in rows:
                    found.setdefault(row.type.lower(), []).append(
                        (f"{row.type} of {row.document['object']['id']}", dict(row.document))
                    )
            return found
        finally:
            await h.aclose()

    return asyncio.run(work())


def _forum(settings: Settings) -> None:
    """The forum ``employment``, moderated by the admin ``zoe``."""

    async def work(session: AsyncSession) -> None:
        await create_forum(session, settings, "employment", "Employment", "Jobs & skills.")
        await add_member(session, settings, "zoe", "a long test password", Role.ADMIN)

    run_in_session(settings, work)


def produce(settings: Settings, answers_settings: Settings) -> Documents:
    bootstrap(settings, "anna")
    _forum(settings)
    found: Documents = {}
    for part in (_activities(settings), _served(settings), _answers(answers_settings)):
        for name, documents in part.items():
            found.setdefault(name, []).extend(documents)
    return found


@pytest.fixture
def second_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """A second database of the same backend, for the inbox harness's own actors."""
    with temporary_database(backend, tmp_path) as url:
        migrate.upgrade(url)
        yield make_settings(tmp_path / "var2", url)


def test_every_emitted_document_matches_its_schema(
    settings: Settings, second_settings: Settings
) -> None:
    found = produce(settings, second_settings)
    # Every published schema but the shared definitions is exercised by a real document.
    assert set(found) == set(SCHEMA_NAMES) - {"defs"}
    failures = {
        f"{name} [{label}]": problems
        for name, documents in found.items()
        for label, document in documents
        if (problems := errors(name, document))
    }
    assert not failures, json.dumps(failures, indent=2)
    # The addressing a client wrote as as:Public goes out as the full IRI.
    direct = next(d for label, d in found["create"] if "as:Public" in label)
    assert direct["to"][0] == PUBLIC
    # The forum's attributedTo and its moderators collection were among the documents checked.
    # The discoverable member's Person carried the profile under our terms.
    person = next(d for label, d in found["actor"] if label == "/users/anna")
    assert person["themes"] == ["social-inclusion"] and person["country"] == "PL"
    assert "https://schemas.transnationality.eu/ns#" in json.dumps(person["@context"])
    forum = next(d for label, d in found["actor"] if label == "/groups/employment")
    assert forum["attributedTo"] == "https://esf.test/groups/employment/moderators"
    moderators = next(d for label, d in found["ordered-collection"] if "moderators" in label)
    assert moderators["orderedItems"] == ["https://esf.test/users/zoe"]


# The schemas are not vacuous: each refuses what a peer would refuse ----------------------------


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Documents:
    """One run of every code path on SQLite, shared by the negative cases below."""
    folder = tmp_path_factory.mktemp("schemas")
    with (
        temporary_database("sqlite", folder) as url,
        temporary_database("sqlite", folder) as second,
    ):
        migrate.upgrade(url)
        migrate.upgrade(second)
        return produce(make_settings(folder / "a", url), make_settings(folder / "b", second))


Mutation = Callable[[dict[str, Any]], object]


def _set(path: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[last]

    return mutate


BROKEN: list[tuple[str, str, Mutation]] = [
    ("actor", "no inbox", _drop("inbox")),
    ("actor", "no outbox", _drop("outbox")),
    ("actor", "no followers", _drop("followers")),
    ("actor", "no preferredUsername", _drop("preferredUsername")),
    ("actor", "relative id", _set("id", "/users/anna")),
    ("actor", "inbox not http(s)", _set("inbox", "ftp://esf.test/inbox")),
    ("actor", "unknown actor type", _set("type", "Service")),
    ("actor", "no shared inbox", _set("endpoints", {})),
    ("actor", "no publicKey", _drop("publicKey")),
    ("actor", "publicKey without owner", _drop("publicKey.owner")),
    ("actor", "publicKeyPem not PEM", _set("publicKey.publicKeyPem", "MIIBIjAN")),
    ("actor", "no assertionMethod", _drop("assertionMethod")),
    ("actor", "Multikey not base58btc", _set("assertionMethod.0.publicKeyMultibase", "uAAA")),
    ("actor", "Multikey without controller", _drop("assertionMethod.0.controller")),
    ("actor", "no security context", _set("@context", ["https://www.w3.org/ns/activitystreams"])),
    ("actor", "no @context", _drop("@context")),
    ("actor", "summary null", _set("summary", None)),
    ("actor", "attributedTo relative", _set("attributedTo", "/groups/employment/moderators")),
    ("follow", "no id", _drop("id")),
    ("follow", "object relative", _set("object", "users/hans")),
    ("follow", "actor missing", _drop("actor")),
    ("follow", "wrong type", _set("type", "Like")),
    ("accept", "embedded Follow without id", _drop("object.id")),
    ("accept", "object not a Follow", _set("object.type", "Like")),
    ("accept", "no recipient", _set("to", [])),
    ("reject", "embedded Follow without actor", _drop("object.actor")),
    ("undo", "object only an IRI", _set("object", "https://esf.test/activities/1")),
    ("undo", "embedded Follow without id", _drop("object.id")),
    ("lock", "object embedded", _set("object", {"type": "Page"})),
    ("lock", "no audience", _drop("audience")),
    ("lock", "not public", _set("to", ["https://esf.test/groups/employment"])),
    ("pin", "no target", _drop("target")),
    ("pin", "target not a featured collection", _set("target", "https://esf.test/groups/x")),
    ("pin", "wrong type", _set("type", "Lock")),
    ("announce", "object embedded", _set("object", {"type": "Article"})),
    ("announce", "object relative", _set("object", "objects/1")),
    ("announce", "not public", _set("to", ["https://esf.test/groups/network/followers"])),
    ("announce", "no published", _drop("published")),
    ("create", "as:Public shorthand", _set("to", ["as:Public"])),
    ("create", "Public shorthand", _set("to", ["Public"])),
    ("create", "to as a single string", _set("to", PUBLIC)),
    ("create", "no cc", _drop("cc")),
    ("create", "nobody addressed", lambda d: d.update(to=[], cc=[])),
    ("create", "published not a date-time", _set("published", "yesterday")),
    ("create", "published without a zone", _set("published", "2025-01-01T10:00:00")),
    ("create", "bcc kept", _set("bcc", [PUBLIC])),
    ("create", "object without attributedTo", _drop("object.attributedTo")),
    ("create", "object without content", _drop("object.content")),
    ("create", "object content not a string", _set("object.content", ["<p>x</p>"])),
    ("create", "object relative id", _set("object.id", "/objects/1")),
    ("create", "object without published", _drop("object.published")),
    ("create", "object to as:Public", _set("object.to", ["as:Public"])),
    ("create", "object of another type", _set("object.type", "Question")),
    ("create", "object only an IRI", _set("object", "https://esf.test/objects/1")),
    ("create", "inReplyTo relative", _set("object.inReplyTo", "objects/7")),
    ("note", "no attributedTo", _drop("attributedTo")),
    ("article", "no name", _drop("name")),
    ("page", "no name", _drop("name")),
    ("page", "empty name", _set("name", "")),
    ("experience", "unknown objective", _set("esfObjectives", ["z"])),
    ("experience", "unknown country", _set("country", "XX")),
    ("experience", "no source", _drop("source")),
    ("experience", "source not Markdown", _set("source.mediaType", "text/html")),
    ("experience", "no nameMap", _drop("nameMap")),
    ("experience", "translation of an unknown language", _set("nameMap", {"xx": "T"})),
    ("experience", "unknown kind", _set("experienceKind", "story")),
    ("experience", "summary not one paragraph", _set("summary", "plain")),
    (
        "experience",
        "Hashtag without #",
        _set("tag", [{"type": "Hashtag", "name": "x", "href": "https://esf.test/t"}]),
    ),
    (
        "experience",
        "Image without alt text",
        _set(
            "attachment",
            [{"type": "Image", "mediaType": "image/png", "url": "https://esf.test/media/a.png"}],
        ),
    ),
    ("offer", "unknown objective", _set("esfObjectives", ["z"])),
    ("offer", "more than three objectives", _set("esfObjectives", ["a", "b", "c", "d"])),
    ("offer", "unknown purpose", _set("purpose", "barter")),
    ("offer", "withdrawn is never sent as a Page", _set("offerStatus", "withdrawn")),
    ("offer", "no proposer", _drop("proposer")),
    ("offer", "proposer with an e-mail address", _set("proposer.email", "a@b.test")),
    ("offer", "proposer of an unknown type", _set("proposer.organisationType", "pirates")),
    ("offer", "no call deadline", _drop("funding.callDeadline")),
    ("offer", "deadline not a date", _set("funding.callDeadline", "soon")),
    ("offer", "budget negative", _set("funding.budgetMin", -1)),
    ("offer", "countries sought not codes", _set("countriesSought", ["Italy"])),
    ("tombstone", "no id", _drop("id")),
    ("tombstone", "unknown formerType", _set("formerType", "Person")),
    ("delete", "object not a Tombstone", _set("object.type", "Note")),
    ("delete", "Tombstone without id", _drop("object.id")),
    ("delete", "cc as:Public", _set("cc", ["as:Public"])),
    ("update", "actor without publicKey", _drop("object.publicKey")),
    ("update", "actor without inbox", _drop("object.inbox")),
    ("update", "not addressed", _drop("to")),
    ("ordered-collection", "negative totalItems", _set("totalItems", -1)),
    ("ordered-collection", "relative first", _set("first", "?page=1")),
    ("ordered-collection", "wrong type", _set("type", "Collection")),
    ("ordered-collection", "item a relative IRI", _set("orderedItems", ["/users/zoe"])),
    ("ordered-collection-page", "no partOf", _drop("partOf")),
    ("ordered-collection-page", "no orderedItems", _drop("orderedItems")),
    ("ordered-collection-page", "relative next", _set("next", "?page=2")),
    ("ordered-collection-page", "item a relative IRI", _set("orderedItems", ["/users/x"])),
    ("webfinger", "subject not acct:", _set("subject", "anna@esf.test")),
    ("webfinger", "no self link", lambda d: d.update(links=d["links"][1:])),
    ("webfinger", "self link as HTML", _set("links.0.type", "text/html")),
    ("webfinger", "self link relative", _set("links.0.href", "/users/anna")),
    ("host-meta", "no lrdd template", _set("links", [])),
    ("nodeinfo-discovery", "no NodeInfo link", lambda d: d.update(links=d["links"][2:])),
    ("nodeinfo-2.0", "homepage is 2.1 only", _set("software.homepage", "https://esf.test")),
    ("nodeinfo-2.0", "version mismatch", _set("version", "2.1")),
    ("nodeinfo-2.0", "no protocols", _set("protocols", [])),
    ("nodeinfo-2.0", "software name upper case", _set("software.name", "Transnationality")),
    ("nodeinfo-2.0", "negative user count", _set("usage.users.total", -1)),
    ("nodeinfo-2.1", "no usage", _drop("usage")),
    ("nodeinfo-2.1", "unknown top-level field", _set("extra", True)),
    ("nodeinfo-2.1", "unknown service", _set("services.inbound", ["fax"])),
    ("nodeinfo-2.1", "no instance actor", _drop("metadata.instanceActor")),
]


@pytest.mark.parametrize(
    ("name", "mutation"),
    [pytest.param(name, mutate, id=f"{name}: {why}") for name, why, mutate in BROKEN],
)
def test_each_schema_refuses_a_broken_document(
    samples: Documents, name: str, mutation: Mutation
) -> None:
    label, original = samples[name][0]
    assert errors(name, original) == [], f"the sample {label} must be valid to begin with"
    broken = copy.deepcopy(original)
    mutation(broken)
    assert broken != original
    assert errors(name, broken), f"{name} accepted a broken document: {broken}"


@pytest.mark.parametrize("name", sorted(set(SCHEMA_NAMES) - {"defs"}))
def test_every_schema_has_a_negative_case(name: str) -> None:
    assert any(case[0] == name for case in BROKEN)


@pytest.mark.parametrize("name", sorted(set(SCHEMA_NAMES) - {"defs"}))
def test_no_schema_accepts_an_empty_object_or_a_string(name: str) -> None:
    assert errors(name, {})
    assert errors(name, "https://esf.test/users/anna")


# Input a client may POST to its outbox that would make a document peers refuse: publishing
# must refuse it or repair it.

KNOWN_BAD_INPUT = [
    pytest.param({"type": "Page", "content": "<p>x</p>"}, id="Page without name (Lemmy refuses)"),
    pytest.param({"type": "Article", "content": "<p>x</p>"}, id="Article without name"),
    pytest.param({"type": "Page", "name": "", "content": "<p>x</p>"}, id="Page with empty name"),
    pytest.param({"type": "Note", "content": "x", "inReplyTo": "objects/7"}, id="relative reply"),
    pytest.param({"type": "Note", "content": "x", "inReplyTo": ""}, id="empty inReplyTo"),
    pytest.param({"type": "Note", "content": "x", "to": ["Public", "as:Public"]}, id="Public x2"),
]


@pytest.mark.parametrize("payload", KNOWN_BAD_INPUT)
async def test_publishing_refuses_or_repairs_what_peers_would_refuse(
    session: AsyncSession, settings: Settings, payload: dict[str, Any]
) -> None:
    anna = (await add_member(session, settings, "anna", "a long test password")).actor
    try:
        activity = await publish_object(session, settings, anna, payload)
    except ContentError:
        return  # refused: fine
    assert errors("create", activity.document) == []
