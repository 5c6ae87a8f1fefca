"""Received questions to experts and answers about them: the ``Create`` of a direct ``Note``.

A question (a ``Note`` with ``questionSubject``) is taken only when it is addressed to an
expert of this instance's directory, a member here; an answer (``expertQuestion``, or a plain
reply from a server that knows none of our terms, ``inReplyTo`` a message of a question's
conversation) only from one of the conversation's two participants and addressed to the other
one, a member here. Anything else is dropped with its reason, and nothing is stored. The
message is stored (:class:`~fedi.db.models.ExpertQuestion`) and the recipient notified; it never
becomes public content.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, ExpertQuestion
from fedi.errors import NotFoundError, ValidationError
from fedi.federation.job import Dropped, Job
from fedi.federation.vocab import ids_of, is_public
from fedi.services.experts import find_expert
from fedi.services.question_note import QuestionNote, read_question_note
from fedi.services.questions import notify_received

__all__ = ["is_question_message", "receive_question"]


async def is_question_message(session: AsyncSession, document: dict[str, Any] | None) -> bool:
    """Whether an embedded ``Note`` is a question or an answer about one: it carries our
    terms, or it is a direct reply to a message of a question's conversation."""
    if document is None:
        return False
    if "questionSubject" in document or "expertQuestion" in document:
        return True
    reply = document.get("inReplyTo")
    if not isinstance(reply, str) or is_public(document):
        return False
    found = await session.scalar(select(ExpertQuestion.id).where(ExpertQuestion.uri == reply))
    return found is not None


async def receive_question(job: Job) -> str:
    """Store a received question or answer, and notify its recipient."""
    document = job.shape.object
    assert document is not None  # is_question_message was true
    if job.actor.uri not in ids_of(document.get("attributedTo")):
        raise Dropped("a question or answer is taken only from its author")
    try:
        note = read_question_note(document)
    except ValidationError as error:
        raise Dropped(f"invalid question message: {error}") from None
    session = job.session
    if await session.scalar(select(ExpertQuestion.id).where(ExpertQuestion.uri == note.uri)):
        return "already known"
    row = await (_question(job, note) if note.subject is not None else _answer(job, note))
    row.uri, row.message, row.local = note.uri, note.message, False
    row.created_at = job.ctx.clock()
    session.add(row)
    await session.flush()
    await notify_received(session, job.ctx.settings, row, job.actor)
    return "question stored" if row.parent_id is None else "question answer stored"


async def _question(job: Job, note: QuestionNote) -> ExpertQuestion:
    for uri in note.recipients:
        try:
            expert = (await find_expert(job.session, uri)).actor
        except NotFoundError:
            continue
        if expert.local and expert.id != job.actor.id:
            return ExpertQuestion(
                sender_id=job.actor.id, recipient_id=expert.id, subject=note.subject or ""
            )
    raise Dropped("a question is addressed to an expert of this instance")


async def _answer(job: Job, note: QuestionNote) -> ExpertQuestion:
    session = job.session
    parent = await session.scalar(
        select(ExpertQuestion).where(ExpertQuestion.uri == note.in_reply_to)
    )
    if parent is not None and parent.parent_id is not None:
        parent = await session.get(ExpertQuestion, parent.parent_id)
    if parent is None:
        raise Dropped("an answer to no question held here")
    people = (parent.sender_id, parent.recipient_id)
    if job.actor.id not in people:
        raise Dropped("an answer by someone outside the conversation")
    other = await session.get(Actor, people[0] if job.actor.id == people[1] else people[1])
    if other is None or not other.local or other.uri not in note.recipients:
        raise Dropped("an answer is addressed to the other participant")
    return ExpertQuestion(parent_id=parent.id, sender_id=job.actor.id, recipient_id=other.id)
