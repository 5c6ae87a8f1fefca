"""Chromium for the browser tests: the system's Chromium driven by Playwright's Python package.

Playwright never downloads a browser here (do not run ``playwright install``): it is launched with
``executable_path`` pointing at Debian's ``chromium`` (``apt-get install chromium``), or at the
binary named by ``FEDI_CHROMIUM``. When either Chromium or Playwright is missing, the test is
skipped, or fails when ``browser`` is listed in ``FEDI_TEST_REQUIRE`` (as in CI).

Playwright's async API is used, on the event loop of the (async) tests. Server-side setup that
calls ``asyncio.run`` (``running_instance``, an instance's ``run`` or ``add_member``) belongs in a
sync fixture, which runs while no loop is running, or in ``await asyncio.to_thread(...)``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fedi.testing.requirements import skip_or_fail

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

__all__ = [
    "CHROMIUM_ARGS",
    "Chromium",
    "find_chromium",
    "launch_chromium",
    "require_chromium",
]

CHROMIUM_ENV = "FEDI_CHROMIUM"
DEBIAN_CHROMIUM = "/usr/bin/chromium"

# Headless, as root in a container (no sandbox), and quiet on a closed network: without the
# background-networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

INSTALL_HINT = (
    "install Debian's Chromium (`apt-get install chromium`, giving /usr/bin/chromium) or set "
    f"{CHROMIUM_ENV} to a Chromium binary; Playwright's own browser download is not used"
)
PLAYWRIGHT_HINT = (
    "install the Python package playwright (`pip install -e '.[test]'`); "
    "do not run `playwright install`"
)


def find_chromium() -> str | None:
    """The Chromium to drive: ``$FEDI_CHROMIUM``, else /usr/bin/chromium, else ``chromium`` on
    PATH; ``None`` when there is none. A ``FEDI_CHROMIUM`` that names no executable file is
    reported as missing rather than silently replaced by another browser."""
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        return configured if _is_executable(configured) else None
    if _is_executable(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM
    return shutil.which("chromium")


def _is_executable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def require_chromium() -> str:
    """The Chromium binary, or skip (fail, when required) with how to install one."""
    path = find_chromium()
    if path is None:
        configured = os.environ.get(CHROMIUM_ENV, "").strip()
        where = (
            f"{CHROMIUM_ENV}={configured!r} is not an executable file"
            if configured
            else f"no Chromium at {DEBIAN_CHROMIUM} or on PATH"
        )
        skip_or_fail("browser", f"{where}: {INSTALL_HINT}")
    return path


@dataclass
class Chromium:
    """A running headless Chromium, shared by a test session."""

    browser: Browser

    @asynccontextmanager
    async def new_page(
        self, *, javascript: bool = False, bypass_csp: bool = False
    ) -> AsyncIterator[Page]:
        """A page in a new browser context (no cookies or storage from earlier pages), closed
        with its context on exit. JavaScript is off unless asked for; ``bypass_csp`` lets a
        test evaluate a script of its own (axe-core) despite the pages' Content-Security-Policy."""
        context = await self.browser.new_context(
            java_script_enabled=javascript, bypass_csp=bypass_csp
        )
        try:
            yield await context.new_page()
        finally:
            await context.close()


@asynccontextmanager
async def launch_chromium() -> AsyncIterator[Chromium]:
    """Start Playwright and a headless Chromium on the running event loop; close both on exit.

    Playwright gives the browser a new, empty user-data directory of its own (a temporary
    directory, removed when the browser closes), so no state is carried between test sessions.
    """
    executable = require_chromium()
    try:
        from playwright.async_api import Error, async_playwright
    except ImportError as error:
        skip_or_fail("browser", f"Playwright is not importable ({error}): {PLAYWRIGHT_HINT}")
    try:
        playwright = await async_playwright().start()
    except Exception as error:  # its Node.js driver could not start
        skip_or_fail("browser", f"Playwright's driver did not start: {error}")
    try:
        try:
            browser = await playwright.chromium.launch(
                executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
            )
        except Error as error:
            skip_or_fail("browser", f"Chromium at {executable} did not start: {error.message}")
        try:
            yield Chromium(browser)
        finally:
            await browser.close()
    finally:
        await playwright.stop()
