"""Peering three real instances (PL, IT, DE) on loopback, each with its own database: offers
published before peering are back-filled, later ones arrive as they are published, and one
search on any instance finds the offers of all three; an edit, a fill and a withdrawal reach
every replica; deliveries missed while peering was broken are caught up by a synchronisation,
which a second time changes nothing; a Page from a server we do not peer with never becomes a
replica; removing a peer takes its offers out of search."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.remote import instance_actor_auth
from fedi.db.models import Actor, Follow, FollowState, Offer, Peer, utcnow
from fedi.instance import InstanceContext
from fedi.partners import policy
from fedi.partners.offers import expire_due
from fedi.peers import service as peers
from fedi.peers.sync import PeerSync, SyncError, SyncResult, sync_peer
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, running_instance, wait_until
from fedi.web import catalogue
from tests.partners.test_fields import offer_payload

pytestmark = pytest.mark.federation

COUNTRIES = ("PL", "IT", "DE")


@pytest.fixture
def three(backend: str, tmp_path: Path) -> Iterator[dict[str, RunningInstance]]:
    policy.set_validation_override(False)
    with ExitStack() as stack:
        stack.callback(policy.set_validation_override, None)
        found = {}
        for country in COUNTRIES:
            url = stack.enter_context(temporary_database(backend, tmp_path))
            found[country] = stack.enter_context(
                running_instance(tmp_path / country.lower(), url, country=country)
            )
        yield found


def _offer(instance: RunningInstance, token: str, title: str, **changes: Any) -> dict[str, Any]:
    country = instance.settings.country
    payload = offer_payload(title=title, translations={}, **changes)
    payload["organisation"] = {**payload["organisation"], "country": country}
    deadline = (utcnow().date() + timedelta(days=90)).isoformat()
    payload["funding"] = {**payload["funding"], "call_deadline": deadline}
    created = instance.api(token, "POST", "/api/v1/offers", json=payload)
    assert created.status_code == 201, created.text
    offer: dict[str, Any] = created.json()
    return offer


def _path(offer: dict[str, Any]) -> str:
    return "/api/v1/offers/" + offer["id"].rsplit("/", 1)[1]


def _found(instance: RunningInstance, token: str, **params: Any) -> dict[str, dict[str, Any]]:
    """The offers a search on ``instance`` finds, by id."""
    answer = instance.api(token, "GET", "/api/v1/offers/search", params={"limit": 50, **params})
    assert answer.status_code == 200, answer.text
    return {item["offer"]["id"]: item["offer"] for item in answer.json()["items"]}


def _peer(instance: RunningInstance, other: RunningInstance) -> tuple[Peer, SyncResult]:
    async def work(context: InstanceContext) -> tuple[Peer, SyncResult]:
        peer = await peers.add_peer(context, other.base_url)
        return peer, await sync_peer(context, peer.host)

    result: tuple[Peer, SyncResult] = instance.call(work)
    return result


def _sync(instance: RunningInstance, other: RunningInstance) -> SyncResult:
    async def work(context: InstanceContext) -> SyncResult:
        return await sync_peer(context, other.settings.domain)

    result: SyncResult = instance.call(work)
    return result


def _listed(instance: RunningInstance) -> list[peers.PeerNetwork]:
    async def work(session: AsyncSession) -> list[peers.PeerNetwork]:
        return await peers.list_peers(session, instance.settings)

    found: list[peers.PeerNetwork] = instance.run(work)
    return found


def test_three_peered_networks_search_each_others_offers(
    three: dict[str, RunningInstance],
) -> None:
    pl, it, de = three["PL"], three["IT"], three["DE"]
    tokens = {country: three[country].add_member("m" + country.lower()) for country in COUNTRIES}
    early = _offer(pl, tokens["PL"], "Mentoring before peering")

    # Every instance peers with the other two; PL's offer is back-filled at once.
    for country, instance in three.items():
        for other_country, other in three.items():
            if other is instance:
                continue
            peer, result = _peer(instance, other)
            assert peer.partner and peer.network_uri == f"{other.base_url}/groups/network"
            assert result.refused == 0
            assert result.created == (1 if other_country == "PL" else 0), (country, other_country)
    for instance in (it, de):
        assert early["id"] in _found(instance, tokens[instance.settings.country])
        (replica,) = _found(instance, tokens[instance.settings.country]).values()
        assert replica["local"] is False and replica["origin"] == pl.settings.domain
        assert replica["organisation"]["country"] == "PL"
        assert replica["themes"] == ["social-inclusion"]
    for instance in three.values():
        wait_until(lambda i=instance: all(p.following == "accepted" for p in _listed(i)))
        assert {p.host for p in _listed(instance)} == {
            o.settings.domain for o in three.values() if o is not instance
        }

    # Offers published after peering arrive as they are published: one search on any instance
    # finds the offers of all three.
    mine = {
        "IT": _offer(it, tokens["IT"], "Integrazione dei migranti nel lavoro"),
        "DE": _offer(de, tokens["DE"], "Ausbildung für junge Geflüchtete"),
        "PL": _offer(pl, tokens["PL"], "Cyfrowe kompetencje seniorów"),
    }
    wanted = {early["id"], *(offer["id"] for offer in mine.values())}
    for country, instance in three.items():
        wait_until(lambda i=instance, c=country: set(_found(i, tokens[c])) == wanted, timeout=30)
    assert _found(de, tokens["DE"], country="IT").keys() == {mine["IT"]["id"]}

    # An edit reaches every replica; a filled offer and a withdrawn one leave the default results.
    changed = pl.api(tokens["PL"], "PATCH", _path(mine["PL"]), json={"title": "Seniorzy online"})
    assert changed.status_code == 200, changed.text
    for country in ("IT", "DE"):
        wait_until(
            lambda c=country: (
                _found(three[c], tokens[c]).get(mine["PL"]["id"], {}).get("title")
                == "Seniorzy online"
            ),
            timeout=30,
        )
    filled = it.api(tokens["IT"], "POST", _path(mine["IT"]) + "/status", json={"status": "filled"})
    assert filled.status_code == 200, filled.text
    withdrawn = pl.api(tokens["PL"], "DELETE", _path(early))
    assert withdrawn.status_code in (200, 204), withdrawn.text
    for country in ("PL", "DE"):
        wait_until(
            lambda c=country: mine["IT"]["id"] not in _found(three[c], tokens[c]), timeout=30
        )
    for country in ("IT", "DE"):
        wait_until(lambda c=country: early["id"] not in _found(three[c], tokens[c]), timeout=30)
    assert mine["IT"]["id"] in _found(de, tokens["DE"], status="filled")
    # The replicas now agree with their origins: a synchronisation finds nothing to change.
    assert _sync(de, pl) == SyncResult(listed=1, created=0, revised=0, withdrawn=0, refused=0)


def test_a_synchronisation_catches_up_what_was_missed_and_then_changes_nothing(
    three: dict[str, RunningInstance],
) -> None:
    pl, it = three["PL"], three["IT"]
    anna, marco = pl.add_member("anna"), it.add_member("marco")
    kept = _offer(pl, anna, "Kept while peering was broken")
    gone = _offer(pl, anna, "Withdrawn while peering was broken")
    _peer(it, pl)
    assert set(_found(it, marco)) == {kept["id"], gone["id"]}
    wait_until(lambda: _listed(it)[0].following == "accepted", timeout=30)

    # PL loses IT as a follower of its network (as if IT's follow had been lost), so what it
    # publishes now does not reach IT.
    async def forget_follower(session: AsyncSession) -> None:
        remote = select(Actor.id).where(Actor.domain == it.settings.domain)
        await session.execute(delete(Follow).where(Follow.follower_id.in_(remote)))

    pl.run(forget_follower)
    new = _offer(pl, anna, "Published while peering was broken")
    assert pl.api(anna, "DELETE", _path(gone)).status_code in (200, 204)
    changed = pl.api(anna, "PATCH", _path(kept), json={"title": "Kept, and renamed"})
    assert changed.status_code == 200
    assert set(_found(it, marco)) == {kept["id"], gone["id"]}  # nothing arrived

    result = _sync(it, pl)
    assert result == SyncResult(listed=2, created=1, revised=1, withdrawn=1, refused=0)
    found = _found(it, marco)
    assert set(found) == {kept["id"], new["id"]}
    assert found[kept["id"]]["title"] == "Kept, and renamed"
    assert _sync(it, pl) == SyncResult(listed=2, created=0, revised=0, withdrawn=0, refused=0)

    async def replicas(session: AsyncSession) -> int:
        return len((await session.scalars(select(Offer.id))).all())

    assert it.run(replicas) == 3  # one row per offer: the withdrawn one is kept as withdrawn


def test_an_unreachable_peer_is_recorded_tried_again_and_caught_up_when_it_returns(
    three: dict[str, RunningInstance],
) -> None:
    pl, it = three["PL"], three["IT"]
    anna, marco = pl.add_member("anna"), it.add_member("marco")
    _peer(it, pl)
    wait_until(lambda: _listed(it)[0].following == "accepted", timeout=30)
    network = _listed(it)[0].network_uri

    async def point_at(session: AsyncSession, uri: str | None) -> None:
        peer = await session.scalar(select(Peer).where(Peer.host == pl.settings.domain))
        assert peer is not None
        peer.network_uri = uri

    # PL cannot be reached (its address answers nothing), and misses IT as a follower, so an
    # offer it publishes meanwhile reaches IT only through a later synchronisation.
    it.run(lambda session: point_at(session, "http://127.0.0.1:9/groups/network"))

    async def forget_follower(session: AsyncSession) -> None:
        remote = select(Actor.id).where(Actor.domain == it.settings.domain)
        await session.execute(delete(Follow).where(Follow.follower_id.in_(remote)))

    pl.run(forget_follower)
    offer = _offer(pl, anna, "Published while the peer was unreachable")
    with pytest.raises(SyncError):
        _sync(it, pl)
    (listed,) = _listed(it)
    assert listed.sync_error and listed.next_sync_at is not None
    assert listed.next_sync_at > utcnow() + timedelta(minutes=4)

    async def worker_pass(context: InstanceContext, minutes: int) -> int:
        context.clock = lambda: utcnow() + timedelta(minutes=minutes)
        return await PeerSync(context).run_once()

    assert it.call(lambda context: worker_pass(context, 1)) == 0  # not due yet
    it.run(lambda session: point_at(session, network))  # PL answers again
    assert it.call(lambda context: worker_pass(context, 6)) == 1
    assert offer["id"] in _found(it, marco)
    (listed,) = _listed(it)
    assert listed.sync_error is None and listed.replicas == 1


def test_a_page_from_a_server_we_do_not_peer_with_is_no_replica(
    three: dict[str, RunningInstance],
) -> None:
    pl, it = three["PL"], three["IT"]
    anna, marco = pl.add_member("anna"), it.add_member("marco")
    it.follow("marco", pl.actor_uri("anna"))  # a member follows, the instances do not peer

    async def accepted(session: AsyncSession) -> bool:
        states = (await session.scalars(select(Follow.state))).all()
        return states == [FollowState.ACCEPTED]

    wait_until(lambda: it.run(accepted), timeout=30)
    offer = _offer(pl, anna, "Seen by a follower only")
    wait_until(lambda: it.stored_object(offer["id"]) is not None, timeout=30)
    assert offer["id"] not in _found(it, marco)

    async def rows(session: AsyncSession) -> int:
        return len((await session.scalars(select(Offer.id))).all())

    assert it.run(rows) == 0


def test_removing_a_peer_takes_its_offers_out_of_search(
    three: dict[str, RunningInstance],
) -> None:
    pl, it = three["PL"], three["IT"]
    anna, marco = pl.add_member("anna"), it.add_member("marco")
    offer = _offer(pl, anna, "Visible while peered")
    _peer(it, pl)
    assert offer["id"] in _found(it, marco)

    async def remove(session: AsyncSession) -> int:
        return await peers.remove_peer(session, it.settings, pl.base_url)

    assert it.run(remove) == 1
    assert _found(it, marco) == {}
    assert _listed(it) == []


def test_the_offers_collection_answers_only_signed_requests(
    three: dict[str, RunningInstance],
) -> None:
    pl = three["PL"]
    answer = httpx.get(f"{pl.base_url}/groups/network/offers", timeout=10)
    assert answer.status_code == 401
    assert "signed" in answer.json()["error"]
    assert httpx.get(f"{pl.base_url}/groups/forum/offers", timeout=10).status_code == 404


def test_a_saved_search_alerts_on_a_peers_offer_and_expiry_reaches_the_replica(
    three: dict[str, RunningInstance],
) -> None:
    pl, it = three["PL"], three["IT"]
    anna, marco = pl.add_member("anna"), it.add_member("marco")
    _peer(it, pl)
    wait_until(lambda: _listed(it)[0].following == "accepted", timeout=30)
    saved = it.api(
        marco,
        "POST",
        "/api/v1/saved-searches",
        json={"name": "NEET", "theme": ["social-inclusion"]},
    )
    assert saved.status_code == 201, saved.text
    offer = _offer(pl, anna, "Mentoring for young people not in work")

    def alerts() -> list[dict[str, Any]]:
        items = it.api(marco, "GET", "/api/v1/notifications").json()["items"]
        return [item for item in items if item["kind"] == "saved_search"]

    (alert,) = wait_until(alerts, timeout=30)
    assert offer["id"] in json.dumps(alert) and alert["data"]["search"] == "NEET"

    # The offer expires on PL (the job's run at a later date): IT's replica leaves the default
    # results and is found among the expired ones.
    async def expire(session: AsyncSession) -> int:
        later = utcnow().date() + timedelta(days=365)
        return await expire_due(session, pl.settings, today=later)

    assert pl.run(expire) == 1
    wait_until(lambda: offer["id"] not in _found(it, marco), timeout=30)
    assert _found(it, marco, status="expired")[offer["id"]]["status"] == "expired"


def test_the_offers_collection_is_paged_oldest_first_without_drafts(
    three: dict[str, RunningInstance], monkeypatch: pytest.MonkeyPatch
) -> None:
    pl, it = three["PL"], three["IT"]
    anna = pl.add_member("anna")
    offers = [_offer(pl, anna, f"Offer number {n}") for n in range(3)]
    draft = _offer(pl, anna, "Only a draft", status="draft")
    monkeypatch.setattr(catalogue, "PAGE_SIZE", 2)  # the server runs in this process

    async def read(context: InstanceContext) -> list[dict[str, Any]]:
        async with context.sessions() as session:
            auth = await instance_actor_auth(context, session)
        url: str | None = f"{pl.base_url}/groups/network/offers"
        top = (await context.client.fetch_json(str(url), auth=auth)).data
        pages, url = [top], top["first"]
        while url is not None:
            page = (await context.client.fetch_json(url, auth=auth)).data
            pages.append(page)
            url = page.get("next")
        return pages

    top, *pages = it.call(read)
    assert top["type"] == "OrderedCollection" and top["totalItems"] == 3
    assert [len(page["orderedItems"]) for page in pages] == [2, 1]
    listed = [item["id"] for page in pages for item in page["orderedItems"]]
    assert listed == [offer["id"] for offer in offers]
    assert draft["id"] not in listed
    assert all(
        item["offerStatus"] == "published" for page in pages for item in page["orderedItems"]
    )
