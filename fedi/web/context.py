"""What one running instance holds: its settings and database handles, kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from fedi.settings import Settings

__all__ = ["InstanceContext", "context_of"]


@dataclass
class InstanceContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


def context_of(request: Request) -> InstanceContext:
    context: InstanceContext = request.app.state.instance
    return context
