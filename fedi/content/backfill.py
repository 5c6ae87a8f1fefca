"""The earlier posts of a thread first seen here, read from the thread's collections.

A reply from another server may be the first post of its thread we see: its ancestors come with
:mod:`fedi.content.ancestors`, but the other replies written before it would be missing. After the
reply's transaction is committed, the inbox processor calls :func:`backfill_thread`: the thread's
``context`` (FEP-7888) is fetched and, when it is a collection, its pages are read in order and
every post listed that is not held is fetched from its own id and stored through the content
service. A ``context`` that is a post itself (threads that name their first post), or a thread
with no ``context``, is read through ``replies``: the first post's, then each stored post's.

Everything is bounded: at most ``FEDI_THREAD_FETCH_LIMIT`` requests (pages, posts, unknown
authors' actor documents) and ``FEDI_THREAD_FETCH_DEADLINE`` seconds in all, at most
:data:`MAX_ITEMS` items read, every page on the collection's own host, a page seen twice ends
the reading (a loop). A post is stored only as its own host serves it, and only when it names the
thread as its context or answers a post of the thread; anything else is skipped. No database
connection is held while a request is out.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from sqlalchemy import select

from fedi.actors.remote import instance_actor_auth
from fedi.blocks.service import domain_blocked
from fedi.content import service as content
from fedi.content.ancestors import fetch_and_store, remote_host
from fedi.db.models import ContentObject
from fedi.errors import FediError
from fedi.federation.shapes import CONTENT_TYPES, ObjectFields, type_of
from fedi.instance import InstanceContext
from fedi.net.client import FetchBudget
from fedi.net.errors import FetchError
from fedi.net.urls import same_document

__all__ = ["MAX_ITEMS", "Backfill", "backfill_thread", "first_seen"]

_log = logging.getLogger("fedi.job")

MAX_ITEMS = 500
_COLLECTIONS = frozenset({"OrderedCollection", "Collection"})
_PAGES = frozenset({"OrderedCollectionPage", "CollectionPage"})


class _Stop(Exception):
    """The reading ends here, for the reason given."""


@dataclass
class Backfill:
    """What one backfill stored (in the order read) and why it stopped."""

    stored: list[str] = field(default_factory=list)
    stopped: str = ""


async def first_seen(session: Any, context: str | None) -> bool:
    """No reply held here names ``context`` yet: the thread is new here, or only its first post
    is held (looked up by a member, say)."""
    if context is None:
        return True
    held = await session.scalar(
        select(ContentObject.id)
        .where(ContentObject.context == context, ContentObject.in_reply_to.is_not(None))
        .limit(1)
    )
    return held is None


def _iri(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _listed(document: dict[str, Any]) -> list[Any]:
    for key in ("orderedItems", "items"):
        value = document.get(key)
        if isinstance(value, list):
            return value
        if value is not None:
            return [value]
    return []


class _Reader:
    """One backfill's fetches, sharing its budget and the instance actor's signature."""

    def __init__(
        self, ctx: InstanceContext, auth: httpx.Auth | None, budget: FetchBudget, result: Backfill
    ) -> None:
        self.ctx = ctx
        self.auth = auth
        self.budget = budget
        self.result = result
        self.read = 0
        self.ends = anyio.current_time() + ctx.settings.thread_fetch_deadline

    def _charge(self) -> None:
        """Before a request: the budget and the deadline (checked here too, so that a peer
        answering slowly between reads of ours is given up as one that stalls)."""
        if self.budget.remaining <= 0:
            raise _Stop("budget")
        if anyio.current_time() >= self.ends:
            raise _Stop("deadline")

    async def fetch(self, uri: str) -> dict[str, Any]:
        """A remote document served under ``uri``."""
        self._charge()
        fetched = await self.ctx.client.fetch_json(uri, auth=self.auth, budget=self.budget)
        if not same_document(fetched.url, uri):
            raise _Stop("a document served under another id")
        return fetched.data

    async def items(self, head: dict[str, Any], host: str) -> AsyncIterator[str]:
        """The item ids of the collection ``head`` (on ``host``), page after page."""
        seen: set[str] = {str(head.get("id"))}
        document: dict[str, Any] | None = head
        following: Any = head.get("first")
        while document is not None:
            for item in _listed(document):
                self.read += 1
                if self.read > MAX_ITEMS:
                    raise _Stop("too many items")
                uri = _iri(item)
                if uri is not None:
                    yield uri
            if following is None:
                return
            if isinstance(following, dict):
                document = following
            else:
                link = _iri(following)
                if link is None:
                    return
                if link in seen:
                    raise _Stop("a page seen twice")
                if remote_host(link) != host:
                    raise _Stop("a page on another host")
                seen.add(link)
                document = await self.fetch(link)
            if type_of(document) not in _PAGES | _COLLECTIONS:
                raise _Stop("not a collection page")
            seen.add(str(document.get("id")))
            following = document.get("next")

    async def held(self, uri: str) -> tuple[ContentObject | None, bool]:
        """The post held under ``uri``, and whether its host is blocked."""
        host = remote_host(uri)
        with anyio.CancelScope(shield=True):  # the deadline cuts requests, not reads
            async with self.ctx.sessions() as session:
                row = await content.find(session, uri)
                blocked = host is not None and await domain_blocked(session, host)
        return row, blocked

    async def store(
        self, uri: str, belongs: Callable[[ObjectFields], bool]
    ) -> dict[str, Any] | None:
        """Fetch and store the post ``uri`` if it is not held; its document when it is held now
        (``None`` when skipped)."""
        host = remote_host(uri)
        if host is None or host == self.ctx.settings.domain:
            return None
        row, blocked = await self.held(uri)
        if row is not None:
            return row.document if isinstance(row.document, dict) else {}
        if blocked:
            return None
        self._charge()
        try:
            stored = await fetch_and_store(self.ctx, uri, host, self.auth, self.budget, belongs)
        except FetchError as exc:
            if self.budget.remaining <= 0:
                raise _Stop("budget") from None
            _log.info("thread backfill", extra={"fields": {"post": uri, "skipped": str(exc)}})
            return None
        if isinstance(stored, str):
            return None
        self.result.stored.append(stored.fields.uri)
        return stored.document


async def backfill_thread(
    ctx: InstanceContext, *, context: str | None, root: str | None
) -> Backfill:
    """Store the posts of the thread ``context`` (else the replies under ``root``) that are not
    held (see the module); never raises for what a remote server does."""
    result = Backfill()
    budget = FetchBudget(ctx.settings.thread_fetch_limit)
    with anyio.move_on_after(ctx.settings.thread_fetch_deadline) as deadline:
        try:
            await _fill(ctx, context, root, budget, result)
        except _Stop as stop:
            result.stopped = str(stop)
        except (FetchError, FediError) as exc:
            result.stopped = f"{type(exc).__name__}: {exc}"[:200]
    if deadline.cancelled_caught:
        result.stopped = "deadline"
    _log.info(
        "thread backfill",
        extra={
            "fields": {
                "context": context,
                "root": root,
                "stored": len(result.stored),
                "stopped": result.stopped,
            }
        },
    )
    return result


async def _fill(
    ctx: InstanceContext,
    context: str | None,
    root: str | None,
    budget: FetchBudget,
    result: Backfill,
) -> None:
    with anyio.CancelScope(shield=True):
        async with ctx.sessions() as session:
            auth = await instance_actor_auth(ctx, session)
    reader = _Reader(ctx, auth, budget, result)
    host = remote_host(context) if context is not None else None
    if context is not None and host is not None and host != ctx.settings.domain:
        _, blocked = await reader.held(context)
        if blocked:
            raise _Stop("blocked")
        head = await reader.fetch(context)
        kind = type_of(head)
        if kind in _COLLECTIONS | _PAGES:
            await _from_context(reader, head, context, host)
            result.stopped = "complete"
            return
        if kind in CONTENT_TYPES:
            root = context  # a thread that names its first post as its context
    if root is not None:
        await _from_replies(reader, root)
        result.stopped = result.stopped or "complete"


async def _from_context(reader: _Reader, head: dict[str, Any], context: str, host: str) -> None:
    """Every post the context collection lists, in its order."""
    listed: set[str] = set()

    def belongs(fields: ObjectFields) -> bool:
        return fields.context == context or fields.in_reply_to in listed

    async for uri in reader.items(head, host):
        listed.add(uri)
        await reader.store(uri, belongs)


async def _from_replies(reader: _Reader, root: str) -> None:
    """The replies under ``root``, breadth first: each post's ``replies`` collection."""
    row, _ = await reader.held(root)
    if row is None or not isinstance(row.document, dict):
        return
    waiting: deque[tuple[str, Any]] = deque([(root, row.document.get("replies"))])
    done: set[str] = set()
    while waiting:
        parent, replies = waiting.popleft()
        if parent in done or replies is None:
            continue
        done.add(parent)
        head = replies if isinstance(replies, dict) else None
        link = _iri(replies)
        host = remote_host(link or parent)
        if host is None or host == reader.ctx.settings.domain:
            continue
        if head is None or ("first" not in head and not _listed(head)):
            if link is None or remote_host(link) != remote_host(parent):
                continue
            head = await reader.fetch(link)
        if type_of(head) not in _COLLECTIONS | _PAGES:
            continue

        def answers(fields: ObjectFields, parent: str = parent) -> bool:
            return fields.in_reply_to == parent

        async for uri in reader.items(head, host):
            document = await reader.store(uri, answers)
            if document is not None and uri not in done:
                waiting.append((uri, document.get("replies")))
