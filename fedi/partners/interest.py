"""Expressing interest in a partner offer, and answering it, across instances.

A member tells an offer's owner that their organisation is interested (:func:`express_interest`);
the owner, and then either of the two, answers (:func:`answer`). Each message is an
:class:`~fedi.db.models.InterestMessage` and, when the other side is on another instance, a
``Note`` sent to them alone through the outbox (:mod:`fedi.partners.interest_note`); a local
recipient is told by a notification at once, a remote one by their own instance when the
``Note`` arrives (:mod:`fedi.partners.interest_inbound`). Nobody's e-mail address is ever part
of it. Every function works in the caller's transaction; none commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content import service as content
from fedi.db.models import Actor, ContentObject, InterestMessage, Member, Offer, Profile
from fedi.errors import NotFoundError, RateLimitedError, ValidationError
from fedi.federation.outbox import new_object_id
from fedi.partners.interest_note import (
    INTEREST_CONTEXT,
    MAX_MESSAGE,
    Organisation,
    interest_note,
)
from fedi.services.direct_messages import (
    HOUR,
    check_hourly,
    deliver_note,
    handle_of,
    iso_time,
    member_id_of,
    retry_after,
    written_text,
)
from fedi.services.notifications import notify
from fedi.settings import Settings
from fedi.vocabulary import vocabulary

__all__ = [
    "ANSWERS_PER_HOUR",
    "INTERESTS_PER_HOUR",
    "Conversation",
    "OfferTarget",
    "answer",
    "conversation",
    "express_interest",
    "notify_received",
    "offer_target",
    "offer_uri_of_key",
    "read_organisation_input",
    "sender_defaults",
]

# A member may express interest in this many offers an hour, and in one offer once a day;
# answers are limited more loosely. Counted in the database, so every process agrees.
INTERESTS_PER_HOUR = 10
ANSWERS_PER_HOUR = 30
_SAME_OFFER = timedelta(days=1)
_CLOSED = ("filled", "withdrawn", "expired")
_ORGANISATION_KEYS = frozenset({"name", "type", "country"})


@dataclass(frozen=True, slots=True)
class OfferTarget:
    """An offer someone may express interest in: its id, title, owner and status."""

    uri: str
    title: str
    owner: Actor
    status: str
    local: bool
    offer_id: int | None


def _is_partner_forum(uri: str | None) -> bool:
    """A forum named ``partners`` (our partner forum, on any instance of ours)."""
    return uri is not None and urlsplit(uri).path.rstrip("/").endswith("/groups/partners")


async def offer_target(session: AsyncSession, uri: str, *, today: date) -> OfferTarget:
    """The offer whose ``Page`` is ``uri``, local or held from another instance; NotFoundError
    if it is no offer. A replicated offer without a row of its own is recognised by our offer
    terms (``purpose``) or by its audience, a partner forum."""
    row = await content.find(session, uri)
    if row is None or row.type != "Page":
        raise NotFoundError("no such offer")
    offer = await session.scalar(select(Offer).where(Offer.object_id == row.id))
    if offer is not None:
        status, title = offer.status, offer.title
        if status in ("published", "filled") and offer.expires < today:
            status = "expired"
    else:
        document = row.document or {}
        if document.get("purpose") not in ("offer", "request") and not _is_partner_forum(
            row.audience
        ):
            raise NotFoundError("no such offer")
        found = document.get("offerStatus")
        status = found if isinstance(found, str) else "published"
        title = row.name or ""
    if row.deleted_at is not None:
        status = "withdrawn"
    owner = await session.get(Actor, row.attributed_to_id)
    if owner is None:
        raise NotFoundError("no such offer")
    return OfferTarget(
        row.uri, title, owner, status, row.local, None if offer is None else offer.id
    )


async def offer_uri_of_key(session: AsyncSession, settings: Settings, key: str) -> str:
    """The id of the offer whose id ends in ``/objects/<key>``: this instance's own, else the
    one replicated offer of another instance of ours with that key (keys are UUIDs, unique
    everywhere; two held objects claiming one are taken for neither)."""
    local = f"{settings.base_url}/objects/{key}"
    if await content.find(session, local) is not None:
        return local
    found = list(
        (
            await session.scalars(
                select(ContentObject.uri)
                .where(
                    ContentObject.local.is_(False),
                    ContentObject.type == "Page",
                    ContentObject.uri.endswith(f"/objects/{key}", autoescape=True),
                )
                .limit(2)
            )
        ).all()
    )
    if len(found) != 1:
        raise NotFoundError("no such offer")
    return found[0]


def read_organisation_input(given: object, profile: Profile | None, country: str) -> Organisation:
    """The sender's organisation: the fields given, the rest from their profile; the country
    falls back to the instance's own. A name is needed, given or in the profile."""
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise ValidationError("must be an object", field="organisation")
    errors: dict[str, list[str]] = {}
    for key in sorted(set(given) - _ORGANISATION_KEYS):
        errors[f"organisation.{str(key)[:64]}"] = ["is not a field of an organisation"]
    name = given.get("name")
    if name is None:
        name = profile.organisation if profile is not None else ""
    kind = given.get("type")
    if kind is None and profile is not None:
        kind = profile.organisation_type
    where = given.get("country")
    if where is None:
        where = profile.country if profile is not None and profile.country else country
    if not isinstance(name, str):
        errors["organisation.name"] = ["must be text"]
        name = ""
    name = name.strip()
    if not name:
        errors.setdefault("organisation.name", []).append(
            "give your organisation's name (or add it to your profile)"
        )
    elif len(name) > 255:
        errors["organisation.name"] = ["must be at most 255 characters"]
    checked: dict[str, str | None] = {"type": None, "country": None}
    for key, vocab, value in (
        ("type", "organisation-types", kind),
        ("country", "countries", where),
    ):
        if value in (None, ""):
            continue
        try:
            checked[key] = vocabulary(vocab).check(value, f"organisation.{key}")
        except ValidationError as error:
            errors.setdefault(f"organisation.{key}", []).append(str(error))
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"{first}: {errors[first][0]}", errors=errors)
    return Organisation(name=name, type=checked["type"], country=checked["country"])


async def _recent(session: AsyncSession, sender: Actor, since: datetime, *, root: bool) -> Any:
    query = select(func.count(), func.min(InterestMessage.created_at)).where(
        InterestMessage.sender_id == sender.id,
        InterestMessage.local.is_(True),
        InterestMessage.created_at >= since,
    )
    if root:
        query = query.where(InterestMessage.parent_id.is_(None))
    else:
        query = query.where(InterestMessage.parent_id.is_not(None))
    return (await session.execute(query)).one()


async def _check_rate(session: AsyncSession, sender: Actor, offer_uri: str, now: datetime) -> None:
    count, oldest = await _recent(session, sender, now - HOUR, root=True)
    check_hourly(count, oldest, INTERESTS_PER_HOUR, "expressions of interest", now)
    earlier = await session.scalar(
        select(func.max(InterestMessage.created_at)).where(
            InterestMessage.sender_id == sender.id,
            InterestMessage.offer_uri == offer_uri,
            InterestMessage.parent_id.is_(None),
            InterestMessage.created_at >= now - _SAME_OFFER,
        )
    )
    if earlier is not None:
        raise RateLimitedError(
            "you expressed interest in this offer less than a day ago",
            retry_after(earlier, _SAME_OFFER, now),
        )


async def notify_received(
    session: AsyncSession, settings: Settings, message: InterestMessage, sender: Actor
) -> None:
    """Tell the (local) recipient of ``message`` about it: ``interest`` for an expression of
    interest, ``interest_reply`` for an answer."""
    recipient = await session.get(Actor, message.recipient_id)
    member_id = await member_id_of(session, recipient)
    if member_id is None:
        return
    await notify(
        session,
        settings,
        member_id,
        "interest" if message.parent_id is None else "interest_reply",
        actor=sender,
        object_uri=message.offer_uri,
        data={
            "interest": message.parent_id or message.id,
            "message": message.id,
            "offer_title": message.offer_title,
            "organisation": message.organisation_name,
            "organisation_type": message.organisation_type,
            "country": message.organisation_country,
            "comment": message.message,
        },
    )


async def express_interest(
    session: AsyncSession,
    settings: Settings,
    sender: Actor,
    offer_uri: str,
    payload: Mapping[str, Any],
    *,
    now: datetime,
) -> InterestMessage:
    """``sender``'s expression of interest in the offer ``offer_uri``, sent to its owner.

    ValidationError (422) for one's own offer, a closed one (filled, withdrawn, expired) or bad
    fields; NotFoundError for an unknown offer or a draft; RateLimitedError past the limits."""
    errors: dict[str, list[str]] = {
        str(key)[:64]: ["is not a field of an expression of interest"]
        for key in sorted(set(payload) - {"message", "organisation"})
    }
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"{first}: {errors[first][0]}", errors=errors)
    target = await offer_target(session, offer_uri, today=now.date())
    if target.owner.id == sender.id:
        raise ValidationError("this is your own offer", field="offer")
    if target.status == "draft":
        raise NotFoundError("no such offer")
    if target.status in _CLOSED:
        raise ValidationError(f"this offer is {target.status}", field="offer")
    member = await session.scalar(select(Member).where(Member.actor_id == sender.id))
    profile = None if member is None else await session.get(Profile, member.id)
    faults: dict[str, list[str]] = {}
    message = ""
    try:
        message = written_text(payload.get("message"), "message", MAX_MESSAGE)
    except ValidationError as error:
        faults.update(error.errors)
    organisation = None
    try:
        organisation = read_organisation_input(
            payload.get("organisation"), profile, settings.country
        )
    except ValidationError as error:
        faults.update(error.errors)
    if faults or organisation is None:
        first = next(iter(faults))
        raise ValidationError(f"{first}: {faults[first][0]}", errors=faults)
    await _check_rate(session, sender, target.uri, now)
    row = InterestMessage(
        uri=new_object_id(settings),
        offer_uri=target.uri,
        offer_title=target.title,
        sender_id=sender.id,
        recipient_id=target.owner.id,
        organisation_name=organisation.name,
        organisation_type=organisation.type,
        organisation_country=organisation.country,
        message=message,
        local=True,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    if target.owner.local:
        await notify_received(session, settings, row, sender)
    else:
        note = interest_note(
            object_id=row.uri,
            author_uri=sender.uri,
            recipient_uri=target.owner.uri,
            recipient_handle=handle_of(target.owner),
            offer_uri=target.uri,
            offer_title=target.title,
            in_reply_to=target.uri,
            message=message,
            organisation=organisation,
            published=iso_time(now),
        )
        await deliver_note(session, settings, sender, target.owner, note, [dict(INTEREST_CONTEXT)])
    return row


@dataclass(frozen=True, slots=True)
class Conversation:
    """An expression of interest and its answers, oldest first, with the actors they name."""

    root: InterestMessage
    answers: list[InterestMessage]
    actors: dict[int, Actor]
    offer_id: int | None  # the offer's row here (its page), when this instance holds it

    @property
    def messages(self) -> list[InterestMessage]:
        return [self.root, *self.answers]


async def conversation(session: AsyncSession, actor: Actor, message_id: int) -> Conversation:
    """The conversation of message ``message_id``, for one of its two participants only
    (anyone else gets NotFoundError, as for an unknown id)."""
    found = await session.get(InterestMessage, message_id)
    if found is not None and found.parent_id is not None:
        found = await session.get(InterestMessage, found.parent_id)
    if found is None or actor.id not in (found.sender_id, found.recipient_id):
        raise NotFoundError("no such interest message")
    answers = list(
        (
            await session.scalars(
                select(InterestMessage)
                .where(InterestMessage.parent_id == found.id)
                .order_by(InterestMessage.created_at, InterestMessage.id)
            )
        ).all()
    )
    ids = {found.sender_id, found.recipient_id}
    actors = {row.id: row for row in await session.scalars(select(Actor).where(Actor.id.in_(ids)))}
    offer_id = await session.scalar(
        select(Offer.id)
        .join(ContentObject, ContentObject.id == Offer.object_id)
        .where(ContentObject.uri == found.offer_uri)
    )
    return Conversation(found, answers, actors, offer_id)


async def sender_defaults(session: AsyncSession, settings: Settings, actor: Actor) -> Organisation:
    """What an expression of interest says of ``actor``'s organisation when nothing is given:
    their profile's, the country failing that the instance's."""
    member = await session.scalar(select(Member).where(Member.actor_id == actor.id))
    profile = None if member is None else await session.get(Profile, member.id)
    if profile is None:
        return Organisation(name="", type=None, country=settings.country)
    return Organisation(
        name=profile.organisation,
        type=profile.organisation_type,
        country=profile.country or settings.country,
    )


async def answer(
    session: AsyncSession,
    settings: Settings,
    sender: Actor,
    message_id: int,
    payload: Mapping[str, Any],
    *,
    now: datetime,
) -> InterestMessage:
    """An answer by ``sender`` (one of the two participants) in the conversation of message
    ``message_id``, sent to the other one."""
    unknown = sorted(set(payload) - {"message"})
    if unknown:
        errors = {str(key)[:64]: ["is not a field of an answer"] for key in unknown}
        first = next(iter(errors))
        raise ValidationError(f"{first}: {errors[first][0]}", errors=errors)
    talk = await conversation(session, sender, message_id)
    message = written_text(payload.get("message"), "message", MAX_MESSAGE)
    count, oldest = await _recent(session, sender, now - HOUR, root=False)
    check_hourly(count, oldest, ANSWERS_PER_HOUR, "answers", now)
    root = talk.root
    other_id = root.sender_id if sender.id == root.recipient_id else root.recipient_id
    other = talk.actors[other_id]
    last = talk.answers[-1] if talk.answers else root
    row = InterestMessage(
        uri=new_object_id(settings),
        offer_uri=root.offer_uri,
        offer_title=root.offer_title,
        parent_id=root.id,
        sender_id=sender.id,
        recipient_id=other.id,
        organisation_name="",
        message=message,
        local=True,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    if other.local:
        await notify_received(session, settings, row, sender)
    else:
        note = interest_note(
            object_id=row.uri,
            author_uri=sender.uri,
            recipient_uri=other.uri,
            recipient_handle=handle_of(other),
            offer_uri=root.offer_uri,
            offer_title=root.offer_title,
            in_reply_to=last.uri,
            message=message,
            organisation=None,
            published=iso_time(now),
        )
        await deliver_note(session, settings, sender, other, note, [dict(INTEREST_CONTEXT)])
    return row
