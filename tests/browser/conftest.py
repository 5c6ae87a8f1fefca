"""Fixtures for the browser tests: one headless Chromium per test session, a fresh page per test.

Playwright's async API runs on one event loop for the whole session (``loop_scope="session"``), so
the browser tests must run on it too: mark their module with
``pytest.mark.asyncio(loop_scope="session")``. Server-side setup that calls ``asyncio.run`` (an
instance's ``run``, ``add_member``, ``running_instance`` itself) goes in sync fixtures, which run
while no loop is running, or in ``await asyncio.to_thread(...)`` inside a test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest_asyncio

from fedi.testing.browser import Chromium, launch_chromium

if TYPE_CHECKING:  # Playwright may be absent: then launch_chromium skips the tests
    from playwright.async_api import Page


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Chromium]:
    async with launch_chromium() as browser:
        yield browser


@pytest_asyncio.fixture(loop_scope="session")
async def page(chromium: Chromium) -> AsyncIterator[Page]:
    """A page in a new browser context with JavaScript disabled: the pages must work without."""
    async with chromium.new_page(javascript=False) as page:
        yield page
