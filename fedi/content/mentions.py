"""Mentions written by local members: ``@user@host`` (or ``@user`` for someone here) in a text,
resolved to actors so that a post can carry AS2 ``Mention`` tags and address them.

Someone here is looked up in the database; someone elsewhere is found in the cached actors, else
through their host's WebFinger and actor document (signed GETs through the safe client, within a
fetch budget), and stored in the caller's session. A handle that cannot be resolved is left out:
the text keeps it as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.document import ActorDocumentError
from fedi.actors.remote import fetch_actor, split_handle, webfinger_actor_uri
from fedi.db.models import Actor
from fedi.instance import InstanceContext
from fedi.net.client import FetchBudget
from fedi.net.errors import BadUrl, FetchError

__all__ = ["MAX_MENTIONS", "Mention", "find_handles", "mention_tags", "resolve_mentions"]

MAX_MENTIONS = 20
_HANDLE = re.compile(
    r"(?<![\w@/.])@([A-Za-z0-9_][A-Za-z0-9_.-]*)(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?))?"
)


@dataclass(frozen=True)
class Mention:
    """A resolved mention: the handle as written (``@user@host``), the actor's id and profile."""

    handle: str
    actor_uri: str
    url: str | None
    local: bool


def find_handles(text: str, local_domain: str) -> list[tuple[str, str]]:
    """``(user, host)`` of each ``@user@host`` or ``@user`` (host: ``local_domain``), once each,
    in order, at most :data:`MAX_MENTIONS`."""
    found: dict[tuple[str, str], None] = {}
    for match in _HANDLE.finditer(text):
        user, host = match.group(1).rstrip("."), match.group(2) or local_domain
        found.setdefault((user, host.lower()), None)
    return list(found)[:MAX_MENTIONS]


def mention_tags(mentions: list[Mention]) -> list[dict[str, Any]]:
    """The AS2 ``tag`` entries for ``mentions``."""
    return [{"type": "Mention", "href": m.actor_uri, "name": m.handle} for m in mentions]


async def resolve_mentions(
    session: AsyncSession, text: str, *, ctx: InstanceContext, budget: FetchBudget | None = None
) -> list[Mention]:
    """The actors ``text`` mentions, in order of first mention (see the module)."""
    spend = budget if budget is not None else FetchBudget(MAX_MENTIONS * 2)
    local_domain = ctx.settings.domain
    resolved: list[Mention] = []
    for user, host in find_handles(text, local_domain):
        actor = await session.scalar(
            select(Actor).where(
                Actor.username == user, Actor.domain == host, Actor.deleted_at.is_(None)
            )
        )
        if actor is None and host != local_domain:
            try:
                split_handle(f"@{user}@{host}")
                uri = await webfinger_actor_uri(ctx, f"@{user}@{host}", budget=spend)
                actor = await fetch_actor(ctx, uri, budget=spend, session=session)
            except (BadUrl, FetchError, ActorDocumentError):
                continue
        if actor is None:
            continue
        resolved.append(
            Mention(
                handle=f"@{actor.username}@{actor.domain}",
                actor_uri=actor.uri,
                url=actor.url,
                local=actor.local,
            )
        )
    return resolved
