"""The site by keyboard alone (Tab, Shift+Tab, Enter, Space, and typing into fields), in a real
browser against a real ``fedi serve``: the skip link, signing in, the language switch, a token
made and revoked on the account page, and a notification marked read. Every element the keyboard
reaches shows a visible focus, and Tab moves through the page in its order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from fedi.testing.browser import Chromium
from tests.browser.test_accounts_in_the_browser import Served, served  # noqa: F401 (fixture)

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

# What the focused element looks like: its name, whether its focus is seen, and where it is in
# the page (its index among every element of the document).
_FOCUSED = r"""() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none";
  const name = (el.getAttribute("aria-label") || el.innerText || el.value || el.id || "")
    .replace(/\s+/g, " ").replace(/ ,/g, ",").trim();
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: name,
    visible: outline || shadow,
    position: Array.prototype.indexOf.call(document.getElementsByTagName("*"), el),
  };
}"""

MAX_STOPS = 60


class Keyboard:
    """Moves through a page with Tab and Shift+Tab, checking every stop on the way."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops: list[dict[str, Any]] = []

    async def focused(self) -> dict[str, Any]:
        found: dict[str, Any] | None = await self.page.evaluate(_FOCUSED)
        names = [stop["name"] or stop["id"] for stop in self.stops]
        assert found is not None, f"the keyboard left the page after {names}"
        return found

    async def step(self, key: str = "Tab") -> dict[str, Any]:
        before = self.stops[-1] if self.stops else None
        await self.page.keyboard.press(key)
        now = await self.focused()
        assert now["visible"], f"no visible focus on {now}"
        if before is not None and before["position"] >= 0:
            if key == "Tab":
                assert now["position"] > before["position"], f"{now} comes before {before}"
            else:
                assert now["position"] < before["position"], f"{now} comes after {before}"
        self.stops.append(now)
        return now

    async def tab_to(self, name: str, *, key: str = "Tab") -> dict[str, Any]:
        """Press ``key`` until the element named ``name`` (its text, label or id, or the start
        of its text) has focus."""
        for _ in range(MAX_STOPS):
            now = await self.step(key)
            if name == now["id"] or now["name"].startswith(name):
                return now
        names = [stop["name"] or stop["id"] for stop in self.stops]
        raise AssertionError(f"{name!r} is not reached by {key}: {names}")

    def restart(self) -> None:
        """A new page was loaded: the order starts again from its top."""
        self.stops = []


async def _press_and_load(page: Page, key: str, url: str) -> None:
    """Press ``key`` on the focused control and wait for the page it loads, at ``url``."""
    async with page.expect_navigation():
        await page.keyboard.press(key)
    assert page.url == url


async def _report_to_the_moderators(served: Served) -> None:  # noqa: F811
    token = served.fedi("user", "token", "bruno").strip().splitlines()[-1]
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{served.base_url}/api/v1/reports",
            json={"object": "https://remote.test/notes/1", "comment": "by keyboard"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 201


async def test_the_site_works_by_keyboard_alone(
    served: Served,  # noqa: F811
    chromium: Chromium,
) -> None:
    base = served.base_url
    await _report_to_the_moderators(served)
    # JavaScript on only to read the focused element's style; the pages have no script.
    async with chromium.new_page(javascript=True, bypass_csp=True) as page:
        keys = Keyboard(page)
        await page.goto(f"{base}/login")
        first = await keys.step()
        assert first["name"] == "Skip to the main content"
        await page.keyboard.press("Enter")
        assert page.url.endswith("#main")
        keys.restart()
        login = await keys.step()
        assert login["id"] == "login", "after the skip link, Tab goes to the main content"
        await page.keyboard.type("admin")
        await keys.tab_to("password")
        await page.keyboard.type(served.admin_password)
        await _press_and_load(page, "Enter", f"{base}/account")

        # The navigation says one notification is unread; the language switch comes first.
        keys.restart()
        await keys.tab_to("polski")
        await _press_and_load(page, "Enter", f"{base}/account")
        assert await page.locator("html").get_attribute("lang") == "pl"
        keys.restart()
        await keys.tab_to("English")
        await _press_and_load(page, "Space", f"{base}/account")
        assert await page.locator("html").get_attribute("lang") == "en"

        # A token, made and revoked.
        keys.restart()
        await keys.tab_to("label")
        await page.keyboard.type("keyboard script")
        await keys.tab_to("Create a token")
        await page.keyboard.press("Space")
        await page.locator("#new-token").wait_for()
        keys.restart()
        await keys.tab_to("Revoke keyboard script")
        await _press_and_load(page, "Enter", f"{base}/account?revoked=1#tokens")
        assert "The token is revoked" in await page.locator("main").inner_text()

        # Shift+Tab goes back up the page, to the notifications in the navigation.
        keys.restart()
        await keys.tab_to("Create a token")
        link = await keys.tab_to("Notifications (1), 1 unread notification", key="Shift+Tab")
        assert link["tag"] == "a"
        await _press_and_load(page, "Enter", f"{base}/notifications")
        keys.restart()
        await keys.tab_to("The report in the queue")
        marking = await keys.tab_to("Mark as read")
        assert "@bruno@localhost" in marking["name"] and "sent a report" in marking["name"]
        await _press_and_load(page, "Enter", f"{base}/notifications?marked=one")
        assert "The notification is marked read." in await page.locator("main").inner_text()
        assert await page.get_by_role("button", name="Mark as read").count() == 0
        nav = await page.get_by_role("navigation", name="Main menu").inner_text()
        assert "Notifications" in nav and "(1)" not in nav
