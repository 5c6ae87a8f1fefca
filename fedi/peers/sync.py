"""Synchronising with a peer: read its offers collection (``GET /groups/network/offers``, signed
by our instance actor) and bring the replicas of its offers up to date.

Each offer listed is stored as the peer serves it (a new one created, a changed one revised, an
unchanged one left alone, so a second synchronisation writes nothing and duplicates nothing);
each replica of the peer that the collection no longer lists was withdrawn or deleted while we
were not listening, and is withdrawn here. Everything is fetched before the one transaction
that writes, so no database connection waits on the network. A collection that cannot be read
to its end changes nothing and is tried again later (:data:`RETRY`).

:class:`PeerSync` is the worker's job: every peer whose ``next_sync_at`` has come is
synchronised, then due again ``FEDI_PEER_SYNC_INTERVAL`` seconds later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.document import ActorDocumentError
from fedi.actors.remote import fetch_actor, instance_actor_auth
from fedi.content import service as content
from fedi.db.models import Actor, ContentObject, Peer
from fedi.errors import NotFoundError
from fedi.federation.shapes import ShapeError, read_object
from fedi.federation.vocab import first_id
from fedi.instance import InstanceContext
from fedi.net.client import FetchBudget
from fedi.net.errors import BadUrl, FetchError
from fedi.net.urls import host_of
from fedi.partners.document import offer_context
from fedi.partners.replication import drop_replica, is_offer_page, keep_replica, replicas_from

__all__ = ["MAX_PAGES", "POLL", "RETRY", "PeerSync", "SyncResult", "sync_peer"]

_log = logging.getLogger("fedi.peers")

# At most this many pages of a peer's collection are read (50 offers each).
MAX_PAGES = 2000
# How often the worker looks for peers due (seconds), and when a failed one is tried again.
POLL = 30.0
RETRY = timedelta(minutes=5)


class SyncError(Exception):
    """The peer's collection could not be read to its end; nothing was changed."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one synchronisation did: offers listed by the peer, replicas created, revised and
    withdrawn, and listed items refused (with the first reason)."""

    listed: int
    created: int
    revised: int
    withdrawn: int
    refused: int
    first_refusal: str | None = None


def _same_host(url: object, host: str) -> bool:
    if not isinstance(url, str):
        return False
    try:
        return host_of(url) == host
    except BadUrl:
        return False


async def _read_collection(ctx: InstanceContext, peer_host: str, url: str) -> list[dict[str, Any]]:
    async with ctx.sessions() as session:
        auth = await instance_actor_auth(ctx, session)
    budget = FetchBudget(limit=MAX_PAGES + 2)
    collection = (await ctx.client.fetch_json(url, auth=auth, budget=budget)).data
    first = collection.get("first")
    page_url = first_id(first) if not isinstance(first, str) else first
    items: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        if page_url is None:
            return items
        if not _same_host(page_url, peer_host):
            raise SyncError(f"a page of the collection is on another host: {page_url[:100]}")
        page = (await ctx.client.fetch_json(page_url, auth=auth, budget=budget)).data
        listed = page.get("orderedItems")
        if isinstance(listed, list):
            items += [item for item in listed if isinstance(item, dict)]
        page_url = first_id(page.get("next"))
    raise SyncError(f"the collection has more than {MAX_PAGES} pages")


async def _authors(
    ctx: InstanceContext, peer_host: str, items: list[dict[str, Any]]
) -> dict[str, int]:
    """The actor row id of each author the items name on the peer's host, fetching those not
    known yet (an author that cannot be read is left out, and so are their offers)."""
    uris = {first_id(item.get("attributedTo")) for item in items}
    wanted = {uri for uri in uris if uri is not None and _same_host(uri, peer_host)}
    async with ctx.sessions() as session:
        rows = await session.execute(select(Actor.uri, Actor.id).where(Actor.uri.in_(wanted)))
        known = {uri: ident for uri, ident in rows.all()}
    budget = FetchBudget(limit=len(wanted) + 1)
    for uri in sorted(wanted - set(known)):
        try:
            known[uri] = (await fetch_actor(ctx, uri, budget=budget)).id
        except (FetchError, ActorDocumentError) as exc:
            fields = {"actor": uri, "error": str(exc)}
            _log.warning("offer author unreadable", extra={"fields": fields})
    return known


async def _apply(
    session: AsyncSession,
    ctx: InstanceContext,
    peer_host: str,
    items: list[dict[str, Any]],
    authors: dict[str, int],
) -> SyncResult:
    now = ctx.clock()
    context = offer_context()
    seen: set[str] = set()
    created = revised = refused = 0
    first_refusal: str | None = None
    for item in items:
        uri, author = item.get("id"), first_id(item.get("attributedTo"))
        reason = None
        if not isinstance(uri, str) or not _same_host(uri, peer_host):
            reason = "an item is not on the peer's host"
        elif not is_offer_page(item):
            reason = f"{uri} is not an offer's Page"
        elif author not in authors:
            reason = f"{uri} has no readable author on the peer's host"
        if reason is not None:
            refused += 1
            first_refusal = first_refusal or reason
            continue
        assert isinstance(uri, str) and author is not None
        seen.add(uri)
        document = {"@context": context, **item}
        try:
            fields = read_object(document, public_default=True)
        except ShapeError as exc:
            refused += 1
            first_refusal = first_refusal or f"{uri}: {exc}"
            continue
        row = await content.find(session, uri)
        if row is not None and (row.deleted_at is not None or _unchanged(row, item)):
            continue
        if row is not None and row.attributed_to_id != authors[author]:
            refused += 1
            first_refusal = first_refusal or f"{uri} changed author"
            continue
        if row is None:
            row = content.create(session, fields, document, author_id=authors[author], local=False)
            await session.flush()
            created += 1
        else:
            content.revise(row, fields, document, now=now)
            revised += 1
        await keep_replica(session, ctx.settings, row, document, now=now)
    withdrawn = 0
    for row in await replicas_from(session, peer_host):
        if row.uri not in seen:
            content.tombstone(row, now=now)
            withdrawn += await drop_replica(session, row)
    return SyncResult(len(items), created, revised, withdrawn, refused, first_refusal)


def _unchanged(row: ContentObject, item: dict[str, Any]) -> bool:
    """The stored document is the listed one (whether it came with a ``@context`` or not)."""
    return {key: value for key, value in row.document.items() if key != "@context"} == item


async def sync_peer(ctx: InstanceContext, host: str) -> SyncResult:
    """Synchronise with the peer ``host`` now (committed); :class:`NotFoundError` if it is not a
    peer. A failure is recorded on the peer (``sync_error``, tried again after :data:`RETRY`)
    and raised as :class:`SyncError`."""
    async with ctx.sessions() as session:
        peer = await session.scalar(select(Peer).where(Peer.host == host, Peer.partner.is_(True)))
        if peer is None or peer.network_uri is None:
            raise NotFoundError(f"{host} is not a peer")
        url = f"{peer.network_uri}/offers"
    try:
        items = await _read_collection(ctx, host, url)
        authors = await _authors(ctx, host, items)
    except (FetchError, SyncError) as exc:
        await _record(ctx, host, error=str(exc) or type(exc).__name__)
        raise SyncError(str(exc) or type(exc).__name__) from None
    async with ctx.sessions.begin() as session:
        result = await _apply(session, ctx, host, items, authors)
        peer = await session.scalar(select(Peer).where(Peer.host == host))
        if peer is not None:
            now = ctx.clock()
            peer.synced_at, peer.sync_error = now, None
            peer.next_sync_at = now + timedelta(seconds=ctx.settings.peer_sync_interval)
    _log.info(
        "peer synchronised",
        extra={
            "fields": {
                "peer": host,
                "listed": result.listed,
                "created": result.created,
                "revised": result.revised,
                "withdrawn": result.withdrawn,
                "refused": result.refused,
            }
        },
    )
    return result


async def _record(ctx: InstanceContext, host: str, *, error: str) -> None:
    async with ctx.sessions.begin() as session:
        peer = await session.scalar(select(Peer).where(Peer.host == host))
        if peer is not None:
            peer.sync_error = error[:500]
            peer.next_sync_at = ctx.clock() + RETRY


class PeerSync:
    """The worker's job: synchronise every peer that is due."""

    def __init__(self, context: InstanceContext, *, poll: float = POLL) -> None:
        self.context = context
        self.poll = poll

    async def run_once(self) -> int:
        """Synchronise the peers due now, one after the other; how many succeeded."""
        now = self.context.clock()
        async with self.context.sessions() as session:
            hosts = list(
                await session.scalars(
                    select(Peer.host)
                    .where(Peer.partner.is_(True), Peer.next_sync_at <= now)
                    .order_by(Peer.next_sync_at)
                )
            )
        done = 0
        for host in hosts:
            with contextlib.suppress(SyncError, NotFoundError):
                await sync_peer(self.context, host)
                done += 1
        return done

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll)
