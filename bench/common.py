"""What the delivery benchmarks share: a migrated SQLite outbox with one signed activity queued."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fedi.crypto import dump_private_key_pem, dump_public_key_pem, generate_rsa_key
from fedi.db import migrate
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import Activity, ActivityState, Actor, ActorType
from fedi.federation.delivery import enqueue

__all__ = ["prepare_outbox"]

SENDER = "https://bench.test/users/sender"


async def prepare_outbox(
    directory: Path, inboxes: list[str], activities: int = 1
) -> tuple[async_sessionmaker[AsyncSession], AsyncEngine]:
    """A fresh SQLite database in ``directory`` with ``activities`` activities by one local actor
    (a fresh RSA-2048 key), each queued for every inbox. Returns the sessions and the engine.
    """
    url = f"sqlite:///{(directory / 'bench.sqlite3').as_posix()}"
    migrate.upgrade(url)
    engine = make_async_engine(url)
    sessions = make_sessionmaker(engine)
    key = generate_rsa_key()
    async with sessions() as session, session.begin():
        actor = Actor(
            uri=SENDER,
            type=ActorType.PERSON,
            local=True,
            username="sender",
            domain="bench.test",
            inbox=f"{SENDER}/inbox",
            public_key_id=f"{SENDER}#main-key",
            public_key_pem=dump_public_key_pem(key.public_key()),
            private_key_pem=dump_private_key_pem(key),
        )
        session.add(actor)
        await session.flush()
        for n in range(activities):
            uri = f"https://bench.test/activities/{n}"
            activity = Activity(
                uri=uri,
                type="Create",
                actor_id=actor.id,
                local=True,
                state=ActivityState.SENT,
                document={
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": uri,
                    "type": "Create",
                    "actor": SENDER,
                    "object": {"type": "Note", "content": "A short note for the benchmark. " * 8},
                },
            )
            session.add(activity)
            await enqueue(session, activity, inboxes)
    return sessions, engine
