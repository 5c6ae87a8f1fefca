"""A thread in a real browser against a real ``fedi serve``: the forums list, starting a thread,
replying to it and to a reply (shown nested), marking the accepted answer, and a moderator (here
the admin) locking the thread from the keyboard, after which the reply form is gone, and pinning
it; at phone width the
forum pages need no sideways scrolling and pass axe-core (no serious or critical violation)."""

from __future__ import annotations

import pytest

from fedi.testing.axe import serious_violations
from fedi.testing.browser import Chromium
from tests.browser.test_accounts_in_the_browser import (  # noqa: F401 (fixture)
    Served,
    _sign_in,
    served,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

_SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def test_a_thread_is_started_answered_and_solved_in_the_browser(
    served: Served,  # noqa: F811
    chromium: Chromium,
) -> None:
    base = served.base_url
    served.fedi("forum", "add", "ideas", "--name", "Ideas", "--summary", "Open questions.")
    async with chromium.new_page() as page:
        await _sign_in(page, base, "admin", served.admin_password)
        await (
            page.get_by_role("navigation", name="Main menu")
            .get_by_role("link", name="Forums")
            .click()
        )
        assert "0 threads" in await page.locator("main").inner_text()
        await page.get_by_role("link", name="Ideas").click()
        assert page.url == f"{base}/forums/ideas"
        await page.get_by_label("Title").fill("Who keeps the attendance sheets?")
        await page.get_by_label("Text").fill("We keep them *on paper*.")
        await page.get_by_role("button", name="Start the thread").click()
        assert "started=1" in page.url
        thread_url = page.url.split("?")[0]
        main = page.locator("main")
        assert "Your thread is started" in await main.inner_text()
        assert await main.locator("em").inner_text() == "on paper"

        await page.get_by_label("Your reply").fill("Scan them each month.")
        await page.get_by_role("button", name="Publish the reply").click()
        assert "Your reply is published." in await main.inner_text()
        await page.get_by_role("link", name="Reply to this").click()
        assert await page.get_by_role("heading", name="Reply to admin").count() == 1
        await page.get_by_label("Your reply").fill("And keep the originals.")
        await page.get_by_role("button", name="Publish the reply").click()
        nested = page.locator("li.reply li.reply")
        assert "And keep the originals." in await nested.inner_text()

        await page.get_by_role("button", name="Mark as solution").first.click()
        assert page.url == f"{thread_url}?solved=1"
        assert "The accepted answer is marked." in await main.inner_text()
        assert await page.locator(".reply--solution").count() == 1
        await page.get_by_role("link", name="Ideas").click()
        listed = await main.inner_text()
        assert "Solved" in listed and "2 replies" in listed

        await page.goto(thread_url)
        await page.get_by_role("button", name="Lock", exact=True).focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{thread_url}?locked=1")
        assert "This thread is locked: it takes no new replies." in await main.inner_text()
        assert await page.get_by_label("Your reply").count() == 0
        assert await page.get_by_role("link", name="Reply to this").count() == 0
        assert await page.get_by_role("button", name="Unlock").count() == 1
        await page.get_by_role("button", name="Pin", exact=True).click()
        assert page.url == f"{thread_url}?pinned=1"
        await page.get_by_role("link", name="Ideas").click()
        listed = await main.inner_text()
        assert "Pinned" in listed and "Locked" in listed

    # axe runs as a script: JavaScript on, for these pages only.
    async with chromium.new_page(javascript=True, bypass_csp=True) as phone:
        await phone.set_viewport_size({"width": 360, "height": 740})
        await _sign_in(phone, base, "admin", served.admin_password)
        found = {}
        for path in ("/forums", "/forums/ideas", thread_url.removeprefix(base)):
            await phone.goto(base + path)
            assert await phone.evaluate(_SIDEWAYS) <= 0, path
            violations = await serious_violations(phone)
            if violations:
                found[path] = violations
        assert found == {}
