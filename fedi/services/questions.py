"""Asking an expert a question, and the conversation that follows, across instances.

A member asks an expert of the directory, here or on any instance, a question
(:func:`ask_expert`); the expert, and then either of the two, answers (:func:`answer`). Each
message is an :class:`~fedi.db.models.ExpertQuestion` and, when the other side is on another
instance, a direct ``Note`` sent to them alone through the outbox
(:mod:`fedi.services.question_note`); a local recipient is told by a notification at once, a
remote one by their own instance when the ``Note`` arrives
(:mod:`fedi.services.questions_inbound`). Only the two participants ever read the
conversation. Every function works in the caller's transaction; none commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ExpertQuestion
from fedi.errors import NotFoundError, ValidationError
from fedi.federation.outbox import new_object_id
from fedi.services.direct_messages import (
    HOUR,
    check_hourly,
    deliver_note,
    handle_of,
    iso_time,
    member_id_of,
    written_text,
)
from fedi.services.experts import find_expert
from fedi.services.notifications import notify
from fedi.services.question_note import (
    MAX_MESSAGE,
    MAX_SUBJECT,
    QUESTION_CONTEXT,
    question_note,
)
from fedi.settings import Settings

__all__ = [
    "ANSWERS_PER_HOUR",
    "QUESTIONS_PER_HOUR",
    "QuestionConversation",
    "answer",
    "ask_expert",
    "conversation",
    "notify_received",
]

# A member may ask this many questions an hour; answers are limited more loosely. Counted in
# the database, so every process agrees.
QUESTIONS_PER_HOUR = 10
ANSWERS_PER_HOUR = 30


def _refuse_unknown(payload: Mapping[str, Any], allowed: set[str], what: str) -> None:
    errors = {
        str(key)[:64]: [f"is not a field of {what}"] for key in sorted(set(payload) - allowed)
    }
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"{first}: {errors[first][0]}", errors=errors)


async def _recent(session: AsyncSession, sender: Actor, now: datetime, *, root: bool) -> Any:
    query = select(func.count(), func.min(ExpertQuestion.created_at)).where(
        ExpertQuestion.sender_id == sender.id,
        ExpertQuestion.local.is_(True),
        ExpertQuestion.created_at >= now - HOUR,
        ExpertQuestion.parent_id.is_(None) if root else ExpertQuestion.parent_id.is_not(None),
    )
    return (await session.execute(query)).one()


async def notify_received(
    session: AsyncSession, settings: Settings, message: ExpertQuestion, sender: Actor
) -> None:
    """Tell the (local) recipient of ``message``: ``question`` for a question,
    ``question_answer`` for an answer."""
    recipient = await session.get(Actor, message.recipient_id)
    member_id = await member_id_of(session, recipient)
    if member_id is None:
        return
    root = message
    if message.parent_id is not None:
        found = await session.get(ExpertQuestion, message.parent_id)
        root = found if found is not None else message
    await notify(
        session,
        settings,
        member_id,
        "question" if message.parent_id is None else "question_answer",
        actor=sender,
        object_uri=f"{settings.base_url}/questions/{root.id}",  # the conversation's page
        data={
            "question": root.id,
            "message": message.id,
            "subject": root.subject,
            "comment": message.message,
        },
    )


async def ask_expert(
    session: AsyncSession,
    settings: Settings,
    sender: Actor,
    expert_id: str,
    payload: Mapping[str, Any],
    *,
    now: datetime,
) -> ExpertQuestion:
    """``sender``'s question to the expert ``expert_id`` (their id or handle), sent to them.

    NotFoundError for anyone not in the directory; ValidationError (422) for oneself or bad
    fields; RateLimitedError past the hourly limit."""
    _refuse_unknown(payload, {"subject", "message"}, "a question")
    expert = (await find_expert(session, expert_id)).actor
    if expert.id == sender.id:
        raise ValidationError("you cannot ask yourself", field="expert")
    errors: dict[str, list[str]] = {}
    subject = message = ""
    try:
        subject = written_text(payload.get("subject"), "subject", MAX_SUBJECT)
    except ValidationError as error:
        errors.update(error.errors)
    try:
        message = written_text(payload.get("message"), "message", MAX_MESSAGE)
    except ValidationError as error:
        errors.update(error.errors)
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"{first}: {errors[first][0]}", errors=errors)
    count, oldest = await _recent(session, sender, now, root=True)
    check_hourly(count, oldest, QUESTIONS_PER_HOUR, "questions", now)
    row = ExpertQuestion(
        uri=new_object_id(settings),
        sender_id=sender.id,
        recipient_id=expert.id,
        subject=subject,
        message=message,
        local=True,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    if expert.local:
        await notify_received(session, settings, row, sender)
    else:
        note = question_note(
            object_id=row.uri,
            author_uri=sender.uri,
            recipient_uri=expert.uri,
            recipient_handle=handle_of(expert),
            subject=subject,
            message=message,
            published=iso_time(now),
        )
        await deliver_note(session, settings, sender, expert, note, [dict(QUESTION_CONTEXT)])
    return row


@dataclass(frozen=True, slots=True)
class QuestionConversation:
    """A question and its answers, oldest first, with the actors they name."""

    root: ExpertQuestion
    answers: list[ExpertQuestion]
    actors: dict[int, Actor]

    @property
    def messages(self) -> list[ExpertQuestion]:
        return [self.root, *self.answers]

    def other(self, actor: Actor) -> Actor:
        """The participant who is not ``actor``."""
        root = self.root
        return self.actors[root.sender_id if actor.id == root.recipient_id else root.recipient_id]


async def conversation(
    session: AsyncSession, actor: Actor, message_id: int
) -> QuestionConversation:
    """The conversation message ``message_id`` belongs to, for ``actor``, one of its two
    participants; NotFoundError for anyone else, as for an unknown message."""
    found = await session.get(ExpertQuestion, message_id)
    if found is not None and found.parent_id is not None:
        found = await session.get(ExpertQuestion, found.parent_id)
    if found is None or actor.id not in (found.sender_id, found.recipient_id):
        raise NotFoundError("no such question")
    answers = list(
        (
            await session.scalars(
                select(ExpertQuestion)
                .where(ExpertQuestion.parent_id == found.id)
                .order_by(ExpertQuestion.created_at, ExpertQuestion.id)
            )
        ).all()
    )
    ids = {found.sender_id, found.recipient_id}
    actors = {
        row.id: row for row in (await session.scalars(select(Actor).where(Actor.id.in_(ids))))
    }
    return QuestionConversation(found, answers, actors)


async def answer(
    session: AsyncSession,
    settings: Settings,
    sender: Actor,
    message_id: int,
    payload: Mapping[str, Any],
    *,
    now: datetime,
) -> ExpertQuestion:
    """An answer by ``sender`` (one of the two participants) in the conversation of message
    ``message_id``, sent to the other one."""
    _refuse_unknown(payload, {"message"}, "an answer")
    talk = await conversation(session, sender, message_id)
    message = written_text(payload.get("message"), "message", MAX_MESSAGE)
    count, oldest = await _recent(session, sender, now, root=False)
    check_hourly(count, oldest, ANSWERS_PER_HOUR, "answers", now)
    root, other = talk.root, talk.other(sender)
    last = talk.answers[-1] if talk.answers else root
    row = ExpertQuestion(
        uri=new_object_id(settings),
        parent_id=root.id,
        sender_id=sender.id,
        recipient_id=other.id,
        subject="",
        message=message,
        local=True,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    if other.local:
        await notify_received(session, settings, row, sender)
    else:
        note = question_note(
            object_id=row.uri,
            author_uri=sender.uri,
            recipient_uri=other.uri,
            recipient_handle=handle_of(other),
            message=message,
            published=iso_time(now),
            question_uri=root.uri,
            in_reply_to=last.uri,
        )
        await deliver_note(session, settings, sender, other, note, [dict(QUESTION_CONTEXT)])
    return row
