"""Notifications: what a member should know of (a new follower, a report to look at, ...).

:func:`notify` is the one way to tell a member something; features call it inside their own
transaction, so a notification exists exactly when what it tells of does. When SMTP is
configured (``FEDI_SMTP_URL``) and the member gave an address, the same call queues an e-mail,
which the worker sends (:mod:`fedi.services.mail`); nothing is sent from a request.

This module uses the data model only, so the federation handlers may call it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from babel.support import Translations
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import (
    Actor,
    ActorType,
    ContentObject,
    EmailMessage,
    InstanceSettings,
    Member,
    Notification,
    Profile,
    Role,
)
from fedi.db.paging import Keyset, keyset_page
from fedi.settings import Settings
from fedi.translations import shared_catalogs

__all__ = [
    "CONVERSATION_KINDS",
    "NOTIFICATION_KINDS",
    "actors_of",
    "mark_read",
    "notifications_of",
    "notifications_page",
    "notify",
    "notify_follow",
    "notify_mentions",
    "staff",
    "unread_count",
]

# What a notification can be about; later features add their kinds here.
NOTIFICATION_KINDS = (
    "follow",
    "follow_request",
    "report",
    "mention",
    "saved_search",
    "interest",
    "interest_reply",
    "question",
    "question_answer",
)
# The kinds that tell of a message of a private conversation, and the data key naming it.
CONVERSATION_KINDS = {
    "interest": ("interest", "interest_reply"),
    "question": ("question", "question_answer"),
}


async def notify(
    session: AsyncSession,
    settings: Settings,
    member_id: int,
    kind: str,
    *,
    actor: Actor | None = None,
    object_uri: str | None = None,
    data: dict[str, Any] | None = None,
) -> Notification:
    """Record a notification for ``member_id`` (and queue its e-mail when configured)."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    row = Notification(
        member_id=member_id,
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        object_uri=object_uri,
        data=dict(data or {}),
    )
    session.add(row)
    if settings.smtp_url:
        found = (
            await session.execute(
                select(Profile.email, Member.locale)
                .join(Member, Member.id == Profile.member_id)
                .where(Profile.member_id == member_id)
            )
        ).first()
        if found is not None and found.email:
            locale = found.locale or settings.language
            stored = await session.get(InstanceSettings, 1)
            name = stored.name if stored is not None else settings.instance_name
            message = _email(settings, name, found.email, locale, kind, actor, object_uri, row.data)
            session.add(message)
    await session.flush()
    return row


def _subject(translations: Translations, kind: str, who: str) -> str:
    """The subject of a notification's e-mail, in the recipient's language."""
    if kind == "follow":
        return translations.gettext("New follower: %(actor)s") % {"actor": who}
    if kind == "follow_request":
        return translations.gettext("%(actor)s asks to follow you") % {"actor": who}
    if kind == "mention":
        return translations.gettext("%(actor)s mentioned you") % {"actor": who}
    if kind == "saved_search":
        return translations.gettext("A new partner offer matches your saved search")
    if kind == "interest":
        return translations.gettext("%(actor)s is interested in your partner offer") % {
            "actor": who
        }
    if kind == "interest_reply":
        return translations.gettext("%(actor)s answered about a partner offer") % {"actor": who}
    if kind == "question":
        return translations.gettext("%(actor)s asks you a question as an expert") % {"actor": who}
    if kind == "question_answer":
        return translations.gettext("%(actor)s answered about your question") % {"actor": who}
    return translations.gettext("New report from %(actor)s") % {"actor": who}


def _email(
    settings: Settings,
    instance_name: str,
    address: str,
    locale: str,
    kind: str,
    actor: Actor | None,
    object_uri: str | None,
    data: dict[str, Any],
) -> EmailMessage:
    """The e-mail of a notification, written in ``locale`` (the recipient's language)."""
    translations = shared_catalogs().for_locale(locale)
    who = _handle(actor) if actor is not None else instance_name
    subject = _subject(translations, kind, who)
    lines = [subject, ""]
    if object_uri:
        lines.append(object_uri)
    if data.get("comment"):
        lines.append(str(data["comment"]))
    footer = translations.gettext("Your notifications on %(name)s: %(url)s") % {
        "name": instance_name,
        "url": f"{settings.base_url}/notifications",
    }
    lines += ["", footer]
    return EmailMessage(recipient=address, subject=subject, body="\n".join(lines) + "\n")


def _handle(actor: Actor) -> str:
    return f"@{actor.username}@{actor.domain}"


async def staff(session: AsyncSession) -> list[int]:
    """The member ids of the active admins and moderators (who moderate every forum)."""
    rows = await session.scalars(
        select(Member.id)
        .where(Member.role.in_((Role.ADMIN, Role.MODERATOR)), Member.disabled.is_(False))
        .order_by(Member.id)
    )
    return list(rows.all())


async def notify_follow(
    session: AsyncSession, settings: Settings, followed: Actor, follower: Actor, *, pending: bool
) -> None:
    """A remote actor followed a local one: tell the member, or every moderator of a forum."""
    kind = "follow_request" if pending else "follow"
    if followed.type is ActorType.GROUP:
        recipients = await staff(session)
    else:
        member_id = await session.scalar(select(Member.id).where(Member.actor_id == followed.id))
        recipients = [] if member_id is None else [member_id]
    for member_id in recipients:
        await notify(
            session,
            settings,
            member_id,
            kind,
            actor=follower,
            object_uri=followed.uri,
            data={"followed": followed.uri},
        )


def notifications_of(member_id: int, *, unread: bool | None = None) -> Select[Notification]:
    """A member's notifications, newest first (to be paged by id); ``unread`` filters."""
    query = select(Notification).where(Notification.member_id == member_id)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    return query


async def notifications_page(
    session: AsyncSession,
    member_id: int,
    *,
    unread: bool | None,
    limit: int,
    before: int | None,
) -> Keyset[Notification]:
    """One page of a member's notifications, newest first."""
    query = notifications_of(member_id, unread=unread)
    return await keyset_page(session, query, Notification.id, limit=limit, before=before)


async def actors_of(session: AsyncSession, rows: Sequence[Notification]) -> dict[int, Actor]:
    """The actors the notifications name, by id."""
    ids = {row.actor_id for row in rows if row.actor_id is not None}
    if not ids:
        return {}
    found = await session.scalars(select(Actor).where(Actor.id.in_(ids)))
    return {actor.id: actor for actor in found}


async def unread_count(session: AsyncSession, member_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.member_id == member_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


async def mark_read(
    session: AsyncSession, member_id: int, now: datetime, ids: Sequence[int] | None = None
) -> int:
    """Mark the member's unread notifications read (only ``ids`` when given); how many were."""
    statement = (
        update(Notification)
        .where(Notification.member_id == member_id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_conversation_read(
    session: AsyncSession,
    member_id: int,
    conversation_id: int,
    now: datetime,
    *,
    about: str = "interest",
) -> int:
    """Mark read the member's unread notifications of the private conversation
    ``conversation_id`` (``about`` an ``interest`` or a ``question``: its first message and
    its answers), as opening it reads them; how many were."""
    rows = await session.scalars(
        notifications_of(member_id, unread=True).where(
            Notification.kind.in_(CONVERSATION_KINDS[about])
        )
    )
    ids = [row.id for row in rows if row.data.get(about) == conversation_id]
    return await mark_read(session, member_id, now, ids) if ids else 0


async def notify_mentions(
    session: AsyncSession, settings: Settings, row: ContentObject, author: Actor
) -> int:
    """A received object mentions local members: tell each of them once (the author never);
    returns how many were told."""
    uris = {m.actor_uri for m in row.mentions}
    if not uris:
        return 0
    members = await session.scalars(
        select(Member.id)
        .join(Actor, Actor.id == Member.actor_id)
        .where(Actor.uri.in_(sorted(uris)), Actor.local.is_(True), Actor.id != author.id)
        .order_by(Member.id)
    )
    told = 0
    for member_id in members.all():
        await notify(session, settings, member_id, "mention", actor=author, object_uri=row.uri)
        told += 1
    return told
