"""The instance's identity in its database: the ``FEDI_BASE_URL`` the data was made under.

``fedi migrate`` stores it (on a new database, and on one migrated before it was kept); every
command then compares its own ``FEDI_BASE_URL`` with it, so that a command started with the
wrong host or port stops instead of minting actors under a URL nobody serves.
"""

from __future__ import annotations

from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError

from fedi.db.engine import make_sync_engine
from fedi.db.models import InstanceIdentity

__all__ = ["claim_base_url", "stored_base_url"]


def stored_base_url(database_url: str) -> str | None:
    """The base URL the database belongs to; ``None`` before it is stored (or migrated)."""
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(InstanceIdentity.__tablename__):
                return None
            return connection.scalar(select(InstanceIdentity.base_url))
    finally:
        engine.dispose()


def claim_base_url(database_url: str, base_url: str) -> str:
    """Store ``base_url`` as the database's identity unless one is stored; return the stored
    one (compare it with ``base_url``). The database must be migrated."""
    engine = make_sync_engine(database_url)
    try:
        try:
            with engine.begin() as connection:
                stored: str | None = connection.scalar(select(InstanceIdentity.base_url))
                if stored is not None:
                    return stored
                connection.execute(insert(InstanceIdentity).values(id=1, base_url=base_url))
                return base_url
        except IntegrityError:  # another process stored it first: theirs stands
            with engine.connect() as connection:
                return str(connection.scalar(select(InstanceIdentity.base_url)))
    finally:
        engine.dispose()
