"""Thematic forums: one local ``Group`` per forum, beside the network group.

A forum is a local ``Group`` whose username (its slug) is not the network handle; the table
``forums`` (:class:`fedi.db.models.Forum`) records whether it is archived. Its name and summary
are plain text as the operator wrote them; the summary is sent as HTML
(:func:`fedi.federation.render.render_actor`). Forums accept every follow at once, as every
``Group`` does. Its moderators are the instance's admins and moderators.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import (
    INSTANCE_ACTOR_USERNAME,
    create_local_actor,
    is_forum,
    local_actor,
    validate_username,
)
from fedi.db.hot_reads import HotReads
from fedi.db.models import Actor, ActorType, Forum, Member, Role
from fedi.db.paging import Keyset, keyset_page
from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.services.publishing import publish_actor_update
from fedi.settings import RESERVED_USERNAMES, Settings

__all__ = [
    "MAX_NAME",
    "MAX_SUMMARY",
    "ForumInfo",
    "archive_forum",
    "create_forum",
    "ensure_open",
    "find_forum",
    "forum_info",
    "forum_infos",
    "forum_moderators",
    "forums_page",
    "is_forum",
    "list_forums",
    "reopen_forum",
    "update_forum",
]

MAX_NAME = 100
MAX_SUMMARY = 2000
MODERATOR_ROLES = (Role.ADMIN, Role.MODERATOR)


def _has_control_characters(text: str, *, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise ValidationError("the forum needs a name", field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"the name is longer than {MAX_NAME} characters", field="name")
    if _has_control_characters(name):
        raise ValidationError("the name must be one line of text", field="name")
    return name


def _summary(value: str) -> str:
    summary = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(summary) > MAX_SUMMARY:
        raise ValidationError(
            f"the summary is longer than {MAX_SUMMARY} characters", field="summary"
        )
    if _has_control_characters(summary, allowed="\n\t"):
        raise ValidationError(
            "the summary must be plain text, without control characters", field="summary"
        )
    return summary


async def _free_slug(session: AsyncSession, settings: Settings, value: str) -> str:
    """``value`` as a forum slug no other local actor uses, or a one-line reason why not."""
    try:
        slug = validate_username(value)
    except ValidationError as error:
        raise ValidationError(str(error), field="slug") from None
    if slug == settings.network_handle:
        raise ValidationError(
            f"{slug!r} is the network group's handle; choose another slug", field="slug"
        )
    if slug in RESERVED_USERNAMES or slug == INSTANCE_ACTOR_USERNAME:
        raise ValidationError(f"{slug!r} is reserved; choose another slug", field="slug")
    taken = await local_actor(session, settings, slug)
    if taken is not None:
        if is_forum(taken, settings):
            raise ConflictError(f"forum {slug!r} exists already")
        raise ConflictError(f"{slug!r} is taken by a member or another account here")
    if await session.scalar(select(Member.id).where(Member.login == slug)) is not None:
        raise ConflictError(f"{slug!r} is taken by a member or another account here")
    return slug


async def create_forum(
    session: AsyncSession, settings: Settings, slug: str, name: str, summary: str = ""
) -> Actor:
    """Create the forum ``slug`` (``@slug@host``, served at ``/groups/slug``).

    The slug follows the rules of logins and must not be the network handle, a reserved name or
    any local account's name. Raises :class:`ValidationError` or :class:`ConflictError` before
    anything is written.
    """
    checked_name = _name(name)
    checked_summary = _summary(summary)
    checked_slug = await _free_slug(session, settings, slug)
    forum = create_local_actor(
        settings, ActorType.GROUP, checked_slug, checked_name, checked_summary
    )
    session.add(forum)
    await session.flush()
    session.add(Forum(actor_id=forum.id))
    await session.flush()
    return forum


async def list_forums(session: AsyncSession, settings: Settings) -> list[Actor]:
    """Every forum of this instance, by slug."""
    groups = await session.scalars(
        select(Actor)
        .where(
            Actor.local.is_(True),
            Actor.type == ActorType.GROUP,
            Actor.domain == settings.domain,
            Actor.username != settings.network_handle,
            Actor.deleted_at.is_(None),
        )
        .order_by(Actor.username)
    )
    return list(groups.all())


@dataclass(frozen=True, slots=True)
class ForumHandle:
    """How a page names and links a forum."""

    uri: str
    name: str
    slug: str


@cache
def _handles_query(domain: str, network_handle: str) -> Select[str, str, str]:
    # Built once per instance: building a statement costs more than SQLite takes to run it.
    return (
        select(Actor.uri, Actor.display_name, Actor.username)
        .where(
            Actor.local.is_(True),
            Actor.type == ActorType.GROUP,
            Actor.domain == domain,
            Actor.username != network_handle,
            Actor.deleted_at.is_(None),
        )
        .order_by(Actor.username)
    )


async def forum_handles(reads: HotReads, settings: Settings) -> list[ForumHandle]:
    """Every forum of this instance by slug, as a list of links names it, read by ``reads``
    (on SQLite with no hand-over to another thread)."""
    query = _handles_query(settings.domain, settings.network_handle)

    def read(connection: Connection) -> list[ForumHandle]:
        found = connection.execute(query)
        return [
            ForumHandle(uri, name or slug, slug or "")
            for uri, name, slug in (tuple(row) for row in found)
        ]

    return await reads.run(read)


async def find_forum(session: AsyncSession, settings: Settings, slug: str) -> Actor:
    try:
        checked = validate_username(slug)
    except ValidationError:
        raise NotFoundError(f"no forum {slug[:40]!r}") from None
    forum = await local_actor(session, settings, checked)
    if forum is None or forum.deleted_at is not None or not is_forum(forum, settings):
        raise NotFoundError(f"no forum {slug!r}")
    return forum


async def update_forum(
    session: AsyncSession,
    settings: Settings,
    slug: str,
    *,
    name: str | None = None,
    summary: str | None = None,
) -> Actor:
    """Change a forum's name and/or summary (an empty summary clears it).

    When something changed, the forum's followers are sent an ``Update`` so that their servers
    show the new name and summary. Nothing is changed when a value is refused.
    """
    if name is None and summary is None:
        raise ValidationError("nothing to change: give a new name or summary", field="name")
    checked_name = None if name is None else _name(name)
    checked_summary = None if summary is None else _summary(summary)
    forum = await find_forum(session, settings, slug)
    changed = False
    if checked_name is not None and checked_name != forum.display_name:
        forum.display_name = checked_name
        changed = True
    if checked_summary is not None and checked_summary != forum.summary:
        forum.summary = checked_summary
        changed = True
    if changed:
        await publish_actor_update(session, settings, forum)
    return forum


@dataclass(frozen=True)
class ForumInfo:
    """A forum's actor and its state."""

    actor: Actor
    archived_at: datetime | None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


async def _states(session: AsyncSession, actors: list[Actor]) -> dict[int, Forum]:
    if not actors:
        return {}
    rows = await session.scalars(select(Forum).where(Forum.actor_id.in_([a.id for a in actors])))
    return {row.actor_id: row for row in rows}


async def _infos(session: AsyncSession, actors: list[Actor]) -> list[ForumInfo]:
    states = await _states(session, actors)
    return [
        ForumInfo(actor, states[actor.id].archived_at if actor.id in states else None)
        for actor in actors
    ]


async def forum_info(session: AsyncSession, settings: Settings, slug: str) -> ForumInfo:
    """The forum ``slug`` with its state (:class:`NotFoundError` when there is none)."""
    return (await _infos(session, [await find_forum(session, settings, slug)]))[0]


async def forum_infos(session: AsyncSession, settings: Settings) -> list[ForumInfo]:
    """Every forum with its state, by slug."""
    return await _infos(session, await list_forums(session, settings))


async def forums_page(
    session: AsyncSession, settings: Settings, *, limit: int, before: int | None
) -> Keyset[ForumInfo]:
    """One page of the forums, newest first (for the API's cursor paging)."""
    query = select(Actor).where(
        Actor.local.is_(True),
        Actor.type == ActorType.GROUP,
        Actor.domain == settings.domain,
        Actor.username != settings.network_handle,
        Actor.deleted_at.is_(None),
    )
    keyset = await keyset_page(session, query, Actor.id, limit=limit, before=before)
    return Keyset(await _infos(session, keyset.rows), keyset.total, keyset.next_before)


async def _state_row(session: AsyncSession, forum: Actor) -> Forum:
    row = await session.get(Forum, forum.id)
    if row is None:
        row = Forum(actor_id=forum.id)
        session.add(row)
    return row


async def archive_forum(
    session: AsyncSession, settings: Settings, slug: str, now: datetime
) -> ForumInfo:
    """Archive the forum ``slug``: it stays readable and followable but takes no new threads.
    Archiving an archived forum changes nothing."""
    forum = await find_forum(session, settings, slug)
    row = await _state_row(session, forum)
    if row.archived_at is None:
        row.archived_at = now
    await session.flush()
    return ForumInfo(forum, row.archived_at)


async def reopen_forum(session: AsyncSession, settings: Settings, slug: str) -> ForumInfo:
    """Take the forum ``slug`` out of the archive: it takes new threads again."""
    forum = await find_forum(session, settings, slug)
    row = await _state_row(session, forum)
    row.archived_at = None
    await session.flush()
    return ForumInfo(forum, None)


async def ensure_open(session: AsyncSession, forum: Actor) -> None:
    """Refuse with :class:`ConflictError` when ``forum`` is archived (no new threads)."""
    row = await session.get(Forum, forum.id)
    if row is not None and row.archived_at is not None:
        raise ConflictError(f"forum {forum.username!r} is archived and takes no new threads")


async def forum_moderators(session: AsyncSession) -> list[Actor]:
    """The people who moderate every forum: active admins and moderators, by login."""
    members = await session.scalars(
        select(Member)
        .where(Member.role.in_(MODERATOR_ROLES), Member.disabled.is_(False))
        .order_by(Member.login)
    )
    return [member.actor for member in members]
