"""What the partner offer browser tests share: two running instances (PL and IT, each with a
delivery worker), signing in by the form, offers seeded through the API, and a ``Camera`` that
photographs a page at phone and desktop width and runs axe-core on exactly what it shows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from fedi.db.models import utcnow
from fedi.testing.axe import serious_violations
from fedi.testing.browser import Chromium
from fedi.testing.instances import RunningInstance
from tests.partners.test_fields import offer_payload

if TYPE_CHECKING:
    from playwright.async_api import Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
WIDTHS = {"phone": 375, "desktop": 1280}
# What ``RunningInstance.add_member`` gives every member.
PASSWORD = "a long test password"


@dataclass
class Pair:
    """The PL and IT instances and a token for each member added to them."""

    pl: RunningInstance
    it: RunningInstance
    tokens: dict[str, str] = field(default_factory=dict)

    async def member(self, instance: RunningInstance, login: str) -> str:
        """A new member of ``instance`` (in a thread: ``add_member`` runs its own loop)."""
        self.tokens[login] = await asyncio.to_thread(instance.add_member, login)
        return login

    async def publish(
        self, instance: RunningInstance, login: str, **changes: Any
    ) -> dict[str, Any]:
        """An offer published through ``POST /api/v1/offers``, its call 90 days away."""
        return await asyncio.to_thread(lambda: self.publish_now(instance, login, **changes))

    def publish_now(self, instance: RunningInstance, login: str, **changes: Any) -> dict[str, Any]:
        """:meth:`publish` for sync fixtures."""
        payload = offer_payload(**changes)
        deadline = (utcnow().date() + timedelta(days=90)).isoformat()
        payload["funding"] = {**payload["funding"], "call_deadline": deadline}
        created = httpx.post(
            f"{instance.base_url}/api/v1/offers",
            json=payload,
            headers={"Authorization": f"Bearer {self.tokens[login]}"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        offer: dict[str, Any] = created.json()
        return offer

    async def look_up(self, instance: RunningInstance, login: str, uri: str) -> dict[str, Any]:
        """``GET /api/v1/lookup?resolve=true`` as ``login`` of ``instance``."""
        return await asyncio.to_thread(self._look_up, instance, login, uri)

    def _look_up(self, instance: RunningInstance, login: str, uri: str) -> dict[str, Any]:
        found = httpx.get(
            f"{instance.base_url}/api/v1/lookup",
            params={"id": uri, "resolve": "true"},
            headers={"Authorization": f"Bearer {self.tokens[login]}"},
            timeout=30,
        )
        assert found.status_code == 200, found.text
        result: dict[str, Any] = found.json()
        return result


async def sign_in(page: Page, instance: RunningInstance, login: str) -> None:
    """Sign in through the form, as the member types it."""
    await page.goto(f"{instance.base_url}/login")
    await page.get_by_label("Login").fill(login)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{instance.base_url}/account", page.url


async def reload_until(page: Page, text: str, *, seconds: float = 30) -> None:
    """Reload the page, as a waiting person does, until ``text`` is in its main part."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while text not in await page.locator("main").inner_text():
        assert loop.time() < deadline, f"{text!r} did not appear on {page.url}"
        await asyncio.sleep(0.5)
        await page.reload()


class Camera:
    """Photographs pages at each width (or those named) into ``.artifacts/screenshots/`` and
    collects the serious axe violations of each, by the photograph's name.

    The page under test keeps JavaScript off (the site needs none); axe runs in a second page
    that has it, given the very document the first one shows (``page.content()``), so pages
    that follow a POST (a refused form, a preview) are checked as they were shown."""

    def __init__(self, chromium: Chromium, prefix: str, widths: tuple[str, ...] = ()) -> None:
        self.chromium = chromium
        self.prefix = prefix
        self.widths = {name: WIDTHS[name] for name in widths or WIDTHS}
        self.found: dict[str, list[dict[str, Any]]] = {}
        self.names: list[str] = []

    async def shoot(self, page: Page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        before = page.viewport_size
        html = await page.content()
        async with self.chromium.new_page(javascript=True, bypass_csp=True) as checker:
            for width_name, width in self.widths.items():
                size = {"width": width, "height": 900}
                await page.set_viewport_size(size)
                shot = f"{self.prefix}-{name}-{width_name}"
                await page.screenshot(path=SCREENSHOTS / f"{shot}.png", full_page=True)
                self.names.append(shot)
                await checker.set_viewport_size(size)
                await checker.goto(page.url)
                await checker.set_content(html)
                violations = await serious_violations(checker)
                if violations:
                    self.found[shot] = violations
        if before is not None:
            await page.set_viewport_size(before)
