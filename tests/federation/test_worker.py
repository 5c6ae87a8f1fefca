from __future__ import annotations

import asyncio
import logging

import pytest

from fedi.federation.worker import _supervise


async def test_a_crashed_loop_is_logged_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    runs: list[int] = []

    async def loop(event: asyncio.Event) -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("database went away")
        await event.wait()

    with caplog.at_level(logging.ERROR, logger="fedi.job"):
        task = asyncio.create_task(_supervise("inbox", loop, stop))
        for _ in range(300):  # the first pause is one second
            if len(runs) == 2:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert runs == [0, 1]
    assert any("worker loop crashed" in r.getMessage() for r in caplog.records)


async def test_a_loop_that_returns_is_not_restarted() -> None:
    stop = asyncio.Event()
    calls = 0

    async def loop(event: asyncio.Event) -> None:
        nonlocal calls
        calls += 1

    await asyncio.wait_for(_supervise("delivery", loop, stop), timeout=5)
    assert calls == 1
