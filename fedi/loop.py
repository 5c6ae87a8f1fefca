"""The event loop fedi runs on: uvloop where it is installed, as uvicorn chooses for ``fedi serve``,
so that ``fedi worker`` sends deliveries on the same faster loop."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable

__all__ = ["event_loop_factory"]


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` if uvloop is installed, else ``None`` (asyncio's default);
    for :class:`asyncio.Runner`."""
    if importlib.util.find_spec("uvloop") is None:
        return None
    import uvloop

    return uvloop.new_event_loop
