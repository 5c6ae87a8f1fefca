"""Received interest messages: the ``Create`` of a ``Note`` carrying ``interestIn``.

An expression of interest is taken only when its offer is one of this instance's, open, and the
``Note`` is addressed to the offer's owner; an answer only when it answers a message of a
conversation the actor takes part in and is addressed to the other participant, a member here.
Anything else is dropped with its reason, and nothing is stored. The message is then stored
(:class:`~fedi.db.models.InterestMessage`) and the recipient notified; the ``Note`` never
becomes public content.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fedi.db.models import Actor, InterestMessage
from fedi.errors import FediError, ValidationError
from fedi.federation.job import Dropped, Job
from fedi.federation.vocab import ids_of
from fedi.partners.interest import notify_received, offer_target
from fedi.partners.interest_note import read_interest_note

__all__ = ["is_interest_note", "receive_interest"]

_CLOSED = ("draft", "filled", "withdrawn", "expired")


def is_interest_note(document: dict[str, Any] | None) -> bool:
    """Whether an embedded object is an interest message (a ``Note`` with ``interestIn``)."""
    return document is not None and "interestIn" in document


async def receive_interest(job: Job) -> str:
    """Store a received expression of interest or answer, and notify its recipient."""
    document = job.shape.object
    assert document is not None  # is_interest_note was true
    if job.actor.uri not in ids_of(document.get("attributedTo")):
        raise Dropped("an interest message is taken only from its author")
    try:
        note = read_interest_note(document)
    except ValidationError as error:
        raise Dropped(f"invalid interest message: {error}") from None
    assert note is not None
    session = job.session
    if await session.scalar(select(InterestMessage.id).where(InterestMessage.uri == note.uri)):
        return "already known"
    if note.in_reply_to == note.offer:
        row = await _expression(job, note.offer, note.recipients)
        if note.organisation is None:
            raise Dropped("an expression of interest names the sender's organisation")
        row.organisation_name = note.organisation.name
        row.organisation_type = note.organisation.type
        row.organisation_country = note.organisation.country
    else:
        row = await _answer(job, note.in_reply_to, note.offer, note.recipients)
    row.uri, row.message, row.local = note.uri, note.message, False
    row.created_at = job.ctx.clock()
    session.add(row)
    await session.flush()
    await notify_received(session, job.ctx.settings, row, job.actor)
    return "interest stored" if row.parent_id is None else "interest answer stored"


async def _expression(job: Job, offer_uri: str, recipients: tuple[str, ...]) -> InterestMessage:
    try:
        target = await offer_target(job.session, offer_uri, today=job.ctx.clock().date())
    except FediError:
        raise Dropped("interest in an offer this instance does not hold") from None
    if not target.local:
        raise Dropped("interest in an offer of another instance")
    if target.owner.uri not in recipients:
        raise Dropped("an expression of interest is addressed to the offer's owner")
    if target.owner.id == job.actor.id:
        raise Dropped("interest in one's own offer")
    if target.status in _CLOSED:
        raise Dropped(f"the offer is {target.status}")
    return InterestMessage(
        offer_uri=target.uri,
        offer_title=target.title,
        sender_id=job.actor.id,
        recipient_id=target.owner.id,
    )


async def _answer(
    job: Job, in_reply_to: str, offer_uri: str, recipients: tuple[str, ...]
) -> InterestMessage:
    session = job.session
    parent = await session.scalar(select(InterestMessage).where(InterestMessage.uri == in_reply_to))
    if parent is not None and parent.parent_id is not None:
        parent = await session.get(InterestMessage, parent.parent_id)
    if parent is None or parent.offer_uri != offer_uri:
        raise Dropped("an answer to no interest message held here")
    people = (parent.sender_id, parent.recipient_id)
    if job.actor.id not in people:
        raise Dropped("an answer by someone outside the conversation")
    other_id = people[0] if job.actor.id == people[1] else people[1]
    other = await session.get(Actor, other_id)
    if other is None or not other.local or other.uri not in recipients:
        raise Dropped("an answer is addressed to the other participant")
    return InterestMessage(
        offer_uri=parent.offer_uri,
        offer_title=parent.offer_title,
        parent_id=parent.id,
        sender_id=job.actor.id,
        recipient_id=other.id,
        organisation_name="",
    )
