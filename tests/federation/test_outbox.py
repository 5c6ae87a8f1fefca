from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.blocks.service import add_block
from fedi.db.models import BlockSeverity, Delivery
from fedi.federation.outbox import new_activity_id, publish
from fedi.federation.vocab import PUBLIC
from fedi.services.members import add_member
from fedi.settings import Settings
from fedi.testing.peers import add_remote_follower


async def test_nothing_is_queued_for_a_suspended_domain(
    session: AsyncSession, settings: Settings
) -> None:
    anna = (await add_member(session, settings, "anna", "a long test password")).actor
    await add_remote_follower(session, anna, "it.test", "marco")
    await add_remote_follower(session, anna, "media.spam.test", "bot")
    await add_remote_follower(session, anna, "quiet.test", "q")
    await add_block(session, "spam.test", BlockSeverity.SUSPEND)
    await add_block(session, "quiet.test", BlockSeverity.SILENCE)
    activity = {
        "id": new_activity_id(settings),
        "type": "Create",
        "actor": anna.uri,
        "to": [PUBLIC],
        "cc": [anna.followers_url],
        "object": {"id": f"{settings.base_url}/objects/1", "type": "Note", "content": "hi"},
    }
    await publish(session, anna, activity)
    inboxes = sorted((await session.scalars(select(Delivery.inbox))).all())
    # A suspended parent domain covers its subdomains; a silenced one still receives.
    assert inboxes == ["https://it.test/inbox", "https://quiet.test/inbox"]
