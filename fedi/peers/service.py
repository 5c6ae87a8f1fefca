"""Peering with another national network: ``fedi peer add|list|remove`` and the admin's peers
page (docs/operators.md, "Peering").

Peering with ``URL`` reads the peer's NodeInfo (it must run this software, whose Pages carry our
offer terms), finds its network group through WebFinger, marks the host a partner and has our
instance actor follow the group: from then on the peer's offers arrive as their authors publish
them (:mod:`fedi.partners.replication`), and the worker reads the peer's offers collection now
and every ``FEDI_PEER_SYNC_INTERVAL`` seconds (:mod:`fedi.peers.sync`). Removing a peer
unfollows the group and withdraws its replicas from search.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import INSTANCE_ACTOR_USERNAME, local_actor
from fedi.actors.remote import ActorDocumentError, actor_by_handle
from fedi.db.models import Actor, ActorType, ContentObject, Follow, FollowState, Offer, Peer, utcnow
from fedi.errors import NotFoundError, ValidationError
from fedi.federation.hosts import ensure_peers
from fedi.follows import service as follows
from fedi.instance import InstanceContext
from fedi.net.client import FetchBudget
from fedi.net.errors import BadUrl, FetchError
from fedi.net.urls import host_of
from fedi.partners.replication import drop_replica, replicas_from
from fedi.settings import Settings

__all__ = ["PeerNetwork", "PeeringError", "add_peer", "list_peers", "remove_peer"]

SOFTWARE = "transnationality"
_NODEINFO = (
    "http://nodeinfo.diaspora.software/ns/schema/2.1",
    "http://nodeinfo.diaspora.software/ns/schema/2.0",
)


class PeeringError(Exception):
    """The URL names no instance we can peer with; the message says why, for the admin."""


@dataclass(frozen=True, slots=True)
class PeerNetwork:
    """A peered network as the admin sees it."""

    host: str
    base_url: str
    network_uri: str | None
    following: str  # "accepted", "pending" or "rejected": how far our follow of its group got
    replicas: int
    peered_at: datetime | None
    synced_at: datetime | None
    next_sync_at: datetime | None
    sync_error: str | None
    available: bool


def _base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.username:
        raise ValidationError("give the peer's address, e.g. https://esf.example.it", field="url")
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _network_handle(ctx: InstanceContext, base: str, budget: FetchBudget) -> str:
    """The peer's network group handle from its NodeInfo; :class:`PeeringError` if it is not
    an instance of ours."""
    links = await ctx.client.fetch_json(
        f"{base}/.well-known/nodeinfo", expect_activitystreams=False, budget=budget
    )
    hrefs = {
        link.get("rel"): link.get("href")
        for link in links.data.get("links") or []
        if isinstance(link, dict)
    }
    href = next((hrefs[rel] for rel in _NODEINFO if isinstance(hrefs.get(rel), str)), None)
    if href is None:
        raise PeeringError(f"{base} publishes no NodeInfo")
    info = (await ctx.client.fetch_json(href, expect_activitystreams=False, budget=budget)).data
    software = info.get("software")
    name = software.get("name") if isinstance(software, dict) else None
    if name != SOFTWARE:
        raise PeeringError(f"{base} runs {name or 'unknown software'}, not {SOFTWARE}")
    metadata = info.get("metadata")
    network = metadata.get("network") if isinstance(metadata, dict) else None
    handle = network.get("handle") if isinstance(network, dict) else None
    if not isinstance(handle, str):
        raise PeeringError(f"{base} names no network group in its NodeInfo")
    return handle


async def add_peer(ctx: InstanceContext, url: str) -> Peer:
    """Peer with the instance at ``url`` (committed): see the module's docstring. Adding a peer
    again refreshes its group and follows it again if the follow was refused."""
    base = _base_url(url)
    host = host_of(base)
    if host == ctx.settings.domain:
        raise ValidationError("an instance cannot peer with itself", field="url")
    budget = FetchBudget()
    try:
        handle = await _network_handle(ctx, base, budget)
        network = await actor_by_handle(ctx, handle, budget=budget)
    except (FetchError, BadUrl, ActorDocumentError) as exc:
        raise PeeringError(f"{base} cannot be read: {exc}") from None
    if network.type is not ActorType.GROUP or network.domain != host:
        raise PeeringError(f"{handle} is not a network group on {host}")
    async with ctx.sessions.begin() as session:
        await ensure_peers(session, [host])
        peer = await session.scalar(select(Peer).where(Peer.host == host))
        assert peer is not None
        now = utcnow()
        peer.partner, peer.base_url, peer.network_uri = True, base, network.uri
        peer.peered_at = peer.peered_at or now
        peer.next_sync_at = now
        instance = await local_actor(session, ctx.settings, INSTANCE_ACTOR_USERNAME)
        target = await session.get(Actor, network.id)
        assert instance is not None and target is not None
        await follows.follow(session, ctx.settings, instance, target)
    return peer


async def _peer(session: AsyncSession, url_or_host: str) -> Peer:
    text = url_or_host.strip()
    try:
        host = host_of(_base_url(text)) if "://" in text else host_of(f"https://{text}")
    except (BadUrl, ValidationError):
        raise NotFoundError(f"{url_or_host} is not a peer") from None
    peer = await session.scalar(select(Peer).where(Peer.host == host, Peer.partner.is_(True)))
    if peer is None:
        raise NotFoundError(f"{url_or_host} is not a peer")
    return peer


async def remove_peer(session: AsyncSession, settings: Settings, url_or_host: str) -> int:
    """Stop peering with a host: unfollow its network group, withdraw its replicas from
    search; how many replicas were withdrawn. The host's delivery health is kept."""
    peer = await _peer(session, url_or_host)
    instance = await local_actor(session, settings, INSTANCE_ACTOR_USERNAME)
    network = (
        None
        if peer.network_uri is None
        else await session.scalar(select(Actor).where(Actor.uri == peer.network_uri))
    )
    if instance is not None and network is not None:
        with contextlib.suppress(NotFoundError):  # the follow was already gone
            await follows.unfollow(session, settings, instance, network)
    peer.partner, peer.next_sync_at, peer.sync_error = False, None, None
    withdrawn = 0
    for row in await replicas_from(session, peer.host):
        withdrawn += await drop_replica(session, row)
    return withdrawn


async def list_peers(session: AsyncSession, settings: Settings) -> list[PeerNetwork]:
    """Every peered network, by host."""
    instance = await local_actor(session, settings, INSTANCE_ACTOR_USERNAME)
    peers = (
        await session.scalars(select(Peer).where(Peer.partner.is_(True)).order_by(Peer.host))
    ).all()
    found = []
    for peer in peers:
        state = "none"
        if instance is not None and peer.network_uri is not None:
            follow = await session.scalar(
                select(Follow.state)
                .join(Actor, Actor.id == Follow.followed_id)
                .where(Follow.follower_id == instance.id, Actor.uri == peer.network_uri)
            )
            if isinstance(follow, FollowState):
                state = follow.value
        count = await session.scalar(
            select(func.count())
            .select_from(Offer)
            .join(ContentObject, ContentObject.id == Offer.object_id)
            .join(Actor, Actor.id == ContentObject.attributed_to_id)
            .where(
                ContentObject.local.is_(False),
                Actor.domain == peer.host,
                Offer.status != "withdrawn",
            )
        )
        found.append(
            PeerNetwork(
                host=peer.host,
                base_url=peer.base_url or f"https://{peer.host}",
                network_uri=peer.network_uri,
                following=state,
                replicas=int(count or 0),
                peered_at=peer.peered_at,
                synced_at=peer.synced_at,
                next_sync_at=peer.next_sync_at,
                sync_error=peer.sync_error,
                available=peer.available,
            )
        )
    return found
