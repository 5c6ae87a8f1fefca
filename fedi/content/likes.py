"""Remote ``Like``s of local objects, counted as "found helpful".

A ``Like`` of a local, not deleted object by a remote actor adds one row (one per actor and
object; a repeated ``Like`` changes nothing); its ``Undo`` (embedded or by the Like's id) removes
it. Likes of remote objects are only recorded, as before: the count is about what members here
wrote.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import ContentObject, ObjectLike
from fedi.federation.job import Dropped, Job
from fedi.federation.shapes import type_of
from fedi.federation.vocab import first_id
from fedi.follows.inbound import handle_undo as undo_follow

__all__ = ["handle_like", "handle_undo", "handle_undo_like", "helpful_count", "helpful_counts"]


async def helpful_count(session: AsyncSession, object_id: int) -> int:
    """How many remote actors found the object ``object_id`` (its row id) helpful."""
    count = await session.scalar(
        select(func.count()).select_from(ObjectLike).where(ObjectLike.object_id == object_id)
    )
    return count or 0


async def helpful_counts(session: AsyncSession, object_ids: list[int]) -> dict[int, int]:
    """:func:`helpful_count` of several objects in one query (those without likes are 0)."""
    if not object_ids:
        return {}
    rows = await session.execute(
        select(ObjectLike.object_id, func.count())
        .where(ObjectLike.object_id.in_(sorted(set(object_ids))))
        .group_by(ObjectLike.object_id)
    )
    counts = dict.fromkeys(object_ids, 0)
    counts.update({object_id: count for object_id, count in rows.all()})
    return counts


async def handle_like(job: Job) -> str:
    object_id = job.require_object_id()
    row = await job.session.scalar(
        select(ContentObject).where(
            ContentObject.uri == object_id,
            ContentObject.local.is_(True),
            ContentObject.deleted_at.is_(None),
        )
    )
    if row is None:
        return "recorded"  # a like of something not ours (or gone): nothing to count
    known = await job.session.scalar(
        select(ObjectLike.id).where(
            ObjectLike.object_id == row.id, ObjectLike.actor_id == job.actor.id
        )
    )
    if known is not None:
        return "already liked"
    job.session.add(ObjectLike(object_id=row.id, actor_id=job.actor.id, activity_uri=job.shape.id))
    return "found helpful"


async def _remove(job: Job, like_uri: str | None, object_uri: str | None) -> bool:
    mine = ObjectLike.actor_id == job.actor.id
    if like_uri is not None:
        done = await job.session.execute(
            delete(ObjectLike).where(mine, ObjectLike.activity_uri == like_uri)
        )
        if done.rowcount:  # type: ignore[attr-defined]
            return True
    if object_uri is not None:
        target = select(ContentObject.id).where(ContentObject.uri == object_uri)
        done = await job.session.execute(
            delete(ObjectLike).where(mine, ObjectLike.object_id == target.scalar_subquery())
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]
    return False


async def handle_undo_like(job: Job) -> str:
    """``Undo`` of an embedded ``Like``: by the Like's id, else by its object."""
    embedded = job.shape.object
    if embedded is None:  # pragma: no cover - registered for embedded Likes only
        return "nothing to undo"
    if first_id(embedded.get("actor")) not in (None, job.actor.uri):
        raise Dropped("undo of another actor's activity")
    removed = await _remove(job, job.shape.object_id, first_id(embedded.get("object")))
    return "like undone" if removed else "nothing to undo"


async def handle_undo(job: Job) -> str:
    """Any other ``Undo``: of a follow, or of a like given by its id only."""
    outcome = await undo_follow(job)
    embedded = job.shape.object
    if outcome != "nothing to undo" or (embedded is not None and type_of(embedded) != "Like"):
        return outcome
    if await _remove(job, job.shape.object_id, None):
        return "like undone"
    return outcome
