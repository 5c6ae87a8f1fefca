"""The missing ancestors of a received reply, fetched after the reply is stored.

A reply (``inReplyTo``) whose parent we do not hold would show without its context. The inbox
processor calls :func:`fetch_ancestors` once the reply's own transaction is committed: the parent
is fetched (a GET signed by the instance actor, through the safe client), stored through the
content service, then its parent, and so on, until one is already held, one has no
``inReplyTo``, or the budget is spent: at most ``FEDI_REPLY_FETCH_LIMIT`` requests (actor
documents of unknown authors included) and ``FEDI_REPLY_FETCH_DEADLINE`` seconds in all.

No database connection is held while a request is out: each step reads and writes in a short
session of its own, before or after its fetch. An ancestor is believed only as its own host
serves it (its ``id`` is the URL it came from, its author is on its host, neither host is
blocked); anything else ends the walk, and what was stored before stays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from sqlalchemy import select

from fedi.actors.document import ActorDocumentError, parse_actor_document
from fedi.actors.remote import instance_actor_auth, store_actor
from fedi.blocks.service import domain_blocked
from fedi.content import service as content
from fedi.db.models import Actor
from fedi.errors import FediError
from fedi.federation.shapes import CONTENT_TYPES, ObjectFields, read_object, type_of
from fedi.instance import InstanceContext
from fedi.net.client import FetchBudget
from fedi.net.errors import BadUrl, FetchError
from fedi.net.urls import host_of, same_document, without_fragment

__all__ = ["Stored", "Walk", "fetch_ancestors", "fetch_and_store", "fetch_object", "remote_host"]

_log = logging.getLogger("fedi.job")


@dataclass(frozen=True)
class Stored:
    """A fetched object that is now held: its fields and its document."""

    fields: ObjectFields
    document: dict[str, Any]


@dataclass
class Walk:
    """What one walk up a thread did: the ancestors stored (nearest first) and why it stopped."""

    stored: list[str] = field(default_factory=list)
    stopped: str = ""


def remote_host(uri: str) -> str | None:
    """The host of ``uri``, ``None`` for what is no http(s) URL."""
    return _host(uri)


def _host(uri: str) -> str | None:
    try:
        return host_of(uri)
    except BadUrl:
        return None


async def fetch_ancestors(ctx: InstanceContext, parent: str) -> Walk:
    """Fetch and store ``parent`` and its ancestors (see the module); never raises for what a
    remote server does, and says in :attr:`Walk.stopped` why it ended."""
    walk = Walk()
    budget = FetchBudget(ctx.settings.reply_fetch_limit)
    with anyio.move_on_after(ctx.settings.reply_fetch_deadline) as deadline:
        try:
            await _walk(ctx, parent, budget, walk)
        except (FetchError, FediError) as exc:
            walk.stopped = f"{type(exc).__name__}: {exc}"[:200]
    if deadline.cancelled_caught:
        walk.stopped = "deadline"
    if walk.stored or walk.stopped not in ("", "held"):
        _log.info(
            "reply ancestors",
            extra={
                "fields": {"parent": parent, "stored": len(walk.stored), "stopped": walk.stopped}
            },
        )
    return walk


async def _walk(ctx: InstanceContext, uri: str | None, budget: FetchBudget, walk: Walk) -> None:
    async with ctx.sessions() as session:
        auth = await instance_actor_auth(ctx, session)
    while uri is not None:
        host = _host(uri)
        if host is None or host == ctx.settings.domain:
            walk.stopped = "not a remote object"
            return
        async with ctx.sessions() as session:
            if await content.find(session, uri) is not None:
                walk.stopped = "held"
                return
            if await domain_blocked(session, host):
                walk.stopped = "blocked"
                return
        if budget.remaining <= 0:
            walk.stopped = "budget"
            return
        fields = await _fetch_and_store(ctx, uri, host, auth, budget)
        if isinstance(fields, str):
            walk.stopped = fields
            return
        walk.stored.append(fields.uri)
        uri = fields.in_reply_to
    walk.stopped = "thread start"


async def fetch_object(ctx: InstanceContext, uri: str) -> str | None:
    """Fetch the remote content object ``uri`` and store it (as the walk stores an ancestor);
    ``None`` when stored or already held, else why not. Raises fetch errors."""
    host = _host(uri)
    if host is None or host == ctx.settings.domain:
        return "not a remote object"
    async with ctx.sessions() as session:
        if await content.find(session, uri) is not None:
            return None
        if await domain_blocked(session, host):
            return "blocked"
        auth = await instance_actor_auth(ctx, session)
    budget = FetchBudget(max(ctx.settings.reply_fetch_limit, 2))
    with anyio.fail_after(ctx.settings.reply_fetch_deadline):
        fields = await _fetch_and_store(ctx, uri, host, auth, budget)
    return fields if isinstance(fields, str) else None


async def _fetch_and_store(
    ctx: InstanceContext, uri: str, host: str, auth: httpx.Auth | None, budget: FetchBudget
) -> ObjectFields | str:
    """One object, fetched then stored in a short session: its fields, or why it was not."""
    stored = await fetch_and_store(ctx, uri, host, auth, budget)
    return stored if isinstance(stored, str) else stored.fields


async def fetch_and_store(
    ctx: InstanceContext,
    uri: str,
    host: str,
    auth: httpx.Auth | None,
    budget: FetchBudget,
    belongs: Callable[[ObjectFields], bool] | None = None,
) -> Stored | str:
    """The remote object ``uri`` (on ``host``), fetched, then stored in a short session unless
    held by then: its fields and document, or why it was not stored (not a content object served
    under its id, no author on its host, or not what ``belongs`` wants). Raises fetch errors."""
    fetched = await ctx.client.fetch_json(uri, auth=auth, budget=budget)
    if not same_document(fetched.url, uri) or type_of(fetched.data) not in CONTENT_TYPES:
        return "not a content object served under its id"
    fields = read_object(fetched.data)
    if belongs is not None and not belongs(fields):
        return "not a post of this thread"
    author = await _author(ctx, fields, host, auth, budget)
    if author is None:
        return "no author on the object's host"
    # A deadline cuts the requests, never a write half done.
    with anyio.CancelScope(shield=True):
        async with ctx.sessions() as session, session.begin():
            if await content.find(session, fields.uri) is None:
                content.create(session, fields, fetched.data, author_id=author, local=False)
    return Stored(fields, fetched.data)


async def _author(
    ctx: InstanceContext,
    fields: ObjectFields,
    host: str,
    auth: httpx.Auth | None,
    budget: FetchBudget,
) -> int | None:
    """The row id of the first listed author on the object's host: cached, else fetched (the
    document first, then a short session to store it)."""
    for uri in fields.attributed_to:
        if _host(uri) != host:
            continue
        with anyio.CancelScope(shield=True):
            async with ctx.sessions() as session:
                known = await session.scalar(select(Actor.id).where(Actor.uri == uri))
        if known is not None:
            return known
        fetched = await ctx.client.fetch_json(without_fragment(uri), auth=auth, budget=budget)
        try:
            parsed = parse_actor_document(fetched.data, uri)
        except ActorDocumentError:
            return None
        with anyio.CancelScope(shield=True):
            async with ctx.sessions() as session, session.begin():
                actor = await store_actor(
                    session, parsed, now=ctx.clock(), local_domain=ctx.settings.domain
                )
                await session.flush()
                return actor.id
    return None
