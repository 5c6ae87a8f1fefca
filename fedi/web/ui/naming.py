"""The network's name as the pages show it: the one its administrators saved on the instance
settings page, or ``FEDI_INSTANCE_NAME`` until they do.

Every page shows the name (title, header, footer), and templates are rendered synchronously, so
the application keeps it: read once when it starts and again whenever the settings are saved
through it (``fedi serve`` is the one process that serves the pages).
"""

from __future__ import annotations

from fedi.instance import InstanceContext
from fedi.services import instance_settings

__all__ = ["InstanceName"]


class InstanceName:
    def __init__(self, default: str) -> None:
        self.value = default

    async def refresh(self, context: InstanceContext) -> None:
        """Read the name in force; a database that cannot answer yet leaves it as it was, and
        the next save or start reads it again."""
        name = await instance_settings.name_in_force(context.sessions, context.settings)
        if name is not None:
            self.value = name
