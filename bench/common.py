"""What the delivery benchmarks share: a migrated SQLite outbox with signed activities queued."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fedi.crypto import dump_private_key_pem, dump_public_key_pem, generate_rsa_key
from fedi.db import migrate
from fedi.db.engine import make_async_engine, make_sessionmaker
from fedi.db.models import Activity, ActivityState, Actor, ActorType
from fedi.federation.delivery import enqueue
from fedi.log import JsonFormatter, LoopBatchingHandler

__all__ = ["log_to_file", "prepare_outbox", "queue_activities"]

SENDER = "https://bench.test/users/sender"


class _FileLog(LoopBatchingHandler):
    """The handler ``fedi worker`` logs through, writing to a file it closes with itself."""

    def close(self) -> None:
        super().close()
        self.stream.close()


def log_to_file(path: Path) -> logging.Handler:
    """Log as ``fedi worker`` does (JSON lines, level INFO, the same handler), to ``path``
    instead of standard error; returns the handler, for :meth:`logging.Logger.removeHandler`."""
    handler = _FileLog(path.open("a", encoding="utf-8"))
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


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
        session.add(
            Actor(
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
        )
    await queue_activities(sessions, inboxes, activities)
    return sessions, engine


async def queue_activities(
    sessions: async_sessionmaker[AsyncSession], inboxes: list[str], count: int = 1
) -> None:
    """Queue ``count`` more activities by the sender, each for every one of ``inboxes``."""
    async with sessions() as session, session.begin():
        actor = (await session.scalars(select(Actor).where(Actor.uri == SENDER))).one()
        existing = len((await session.scalars(select(Activity.id))).all())
        for n in range(existing, existing + count):
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
