"""The network's name as the pages show it: the one its administrators saved on the instance
settings page, or ``FEDI_INSTANCE_NAME`` until they do.

Every page shows the name (title, header, footer), and templates are rendered synchronously, so
the application keeps it: read once when it starts and again whenever the settings are saved
through it (``fedi serve`` is the one process that serves the pages).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from fedi.instance import InstanceContext
from fedi.services import instance_settings

__all__ = ["InstanceName"]

log = logging.getLogger(__name__)


class InstanceName:
    def __init__(self, default: str) -> None:
        self.value = default

    async def refresh(self, context: InstanceContext) -> None:
        """Read the stored name; a database that cannot answer yet (not migrated, down) leaves
        the name as it was, and the next save or start reads it again."""
        try:
            async with context.sessions() as session:
                self.value = (await instance_settings.load(session, context.settings)).name
        except SQLAlchemyError as error:
            log.warning("the instance name is not read from the database: %s", error)
