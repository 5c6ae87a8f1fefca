"""Asking an expert in a real browser against two real instances (PL and IT) on loopback: a
member of IT searches the directory of experts with a filter, opens "Ask a question" on an
expert of PL, is refused at the fields when sending nothing, sends the question, and the expert
reads it on PL and answers, the answer reaching IT's conversation page; and, with the site in
Polish at phone width, a member of PL asks an expert of PL by the keyboard alone, who reads it.
Every page is photographed at phone and desktop width and passes axe-core."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from fedi.actors.remote import fetch_actor
from fedi.instance import InstanceContext
from fedi.net.client import FetchBudget
from fedi.testing.browser import Chromium
from fedi.testing.databases import temporary_database
from fedi.testing.instances import RunningInstance, running_instance
from tests.browser.offers import WIDTHS, Camera, Pair, reload_until, sign_in

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

PROFILE = {
    "organisation": "Fundacja Aktywnej Integracji",
    "country": "PL",
    "languages": ["pl", "en"],
    "expertise": {"themes": ["social-inclusion"], "objectives": ["h"]},
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """PL and IT on SQLite, each with its delivery worker."""
    directory = tmp_path_factory.mktemp("experts")
    with ExitStack() as stack:
        pl_url = stack.enter_context(temporary_database("sqlite", directory))
        it_url = stack.enter_context(temporary_database("sqlite", directory))
        pl = stack.enter_context(running_instance(directory / "pl", pl_url, country="PL"))
        it = stack.enter_context(running_instance(directory / "it", it_url, country="IT"))
        yield Pair(pl, it)


def _profile(pair: Pair, instance: RunningInstance, login: str, **fields: Any) -> None:
    answer = httpx.patch(
        f"{instance.base_url}/api/v1/me",
        json=PROFILE | fields,
        headers={"Authorization": f"Bearer {pair.tokens[login]}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


async def _expert(pair: Pair, instance: RunningInstance, login: str, **fields: Any) -> str:
    await pair.member(instance, login)
    await asyncio.to_thread(_profile, pair, instance, login, **fields)
    return login


async def _cards(page: Page) -> list[str]:
    return await page.locator("ul.experts li h3").all_inner_texts()


async def test_a_member_of_it_asks_an_expert_of_pl_who_answers(
    pair: Pair, chromium: Chromium
) -> None:
    anna = await _expert(pair, pair.pl, "anna", display_name="Anna Nowak")
    await _expert(
        pair, pair.pl, "piotr", display_name="Piotr Wiśniewski",
        expertise={"themes": ["social-economy"], "objectives": []},
    )  # fmt: skip
    marco = await pair.member(pair.it, "marco")

    async def seen(context: InstanceContext) -> None:  # IT meets both, as a lookup would
        for login in ("anna", "piotr"):
            await fetch_actor(context, pair.pl.actor_uri(login), budget=FetchBudget())

    await asyncio.to_thread(pair.it.call, seen)
    camera = Camera(chromium, "expert-question")
    subject = "Mentors for young migrants"
    question = "How do you recruit volunteer mentors?\n\nWe start in Turin next spring."

    async with chromium.new_page() as page:
        await sign_in(page, pair.it, marco)
        await page.get_by_role("navigation").get_by_role("link", name="Experts").click()
        assert sorted(await _cards(page)) == ["Anna Nowak", "Piotr Wiśniewski"]
        await page.get_by_label("Theme").select_option(label="Social inclusion")
        await page.get_by_role("button", name="Show").click()
        assert await _cards(page) == ["Anna Nowak"]
        await camera.shoot(page, "directory")
        card = page.locator("ul.experts li").filter(has_text="Anna Nowak")
        await card.get_by_role("link", name=re.compile("^Ask a question")).click()
        assert await page.locator("h1").inner_text() == "Ask Anna Nowak a question"
        await camera.shoot(page, "form")

        # Sent empty: refused, each error at its field and listed first on the page.
        await page.get_by_role("button", name="Send the question").click()
        assert await page.title() == "Error: Ask Anna Nowak a question · ESF IT"
        summary = page.locator(".error-summary")
        assert await summary.get_by_role("link").all_inner_texts() == [
            "Subject: Give your question a subject.",
            "Your question: Write your message.",
        ]
        assert await page.get_by_label("Subject").get_attribute("aria-invalid") == "true"
        assert await page.locator(".field--error").count() == 2
        await camera.shoot(page, "refused")
        await summary.get_by_role("link").first.click()
        assert page.url.endswith("#subject")

        await page.get_by_label("Subject").fill(subject)
        await page.get_by_label("Your question").fill(question)
        await page.get_by_role("button", name="Send the question").click()
        assert re.search(r"/questions/\d+\?done=sent$", page.url), page.url
        asked = page.url.split("?")[0]
        assert "sent to the expert" in await page.get_by_role("status").inner_text()
        assert await page.locator("h1").inner_text() == f"Question: {subject}"
        await camera.shoot(page, "sent")

    async with chromium.new_page() as page:
        await sign_in(page, pair.pl, anna)
        await page.get_by_role("link", name=re.compile(r"^Notifications")).click()
        await reload_until(page, "asks you a question")
        item = page.locator(".notification").filter(has_text="asks you a question")
        told = await item.inner_text()
        assert f"@marco@{pair.it.settings.domain}" in told and subject in told, told
        await camera.shoot(page, "notified")
        await item.get_by_role("link", name="Read and answer").click()
        assert re.search(r"/questions/\d+$", page.url), page.url
        paragraphs = await page.locator(".interest-message blockquote p").all_inner_texts()
        assert paragraphs == [
            "How do you recruit volunteer mentors?",
            "We start in Turin next spring.",
        ]
        await page.get_by_label("Your answer").fill("Through our alumni: write to me!")
        await page.get_by_role("button", name="Send the answer").click()
        assert page.url.endswith("?done=answered"), page.url
        assert await page.locator(".interest-message").count() == 2
        await camera.shoot(page, "answered")

    async with chromium.new_page() as page:
        await sign_in(page, pair.it, marco)
        await page.goto(asked)
        await reload_until(page, "Through our alumni: write to me!")
        said = await page.locator(".interest-message blockquote").all_inner_texts()
        assert said[-1] == "Through our alumni: write to me!"
        await camera.shoot(page, "answer-read")
    assert camera.found == {}


async def test_in_polish_at_phone_width_a_member_asks_by_the_keyboard(
    pair: Pair, chromium: Chromium
) -> None:
    ola = await _expert(pair, pair.pl, "ola", display_name="Ola Kowalska")
    await _expert(
        pair, pair.pl, "jerzy", display_name="Jerzy Zieliński", country="IT",
        expertise={"themes": ["social-inclusion"], "objectives": []},
    )  # fmt: skip
    jan = await pair.member(pair.pl, "jan")
    camera = Camera(chromium, "expert-question-pl")
    async with chromium.new_page() as page:
        await page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
        await page.set_extra_http_headers({"Accept-Language": "pl-PL,pl;q=0.9"})
        await sign_in_pl(page, pair.pl, jan)
        await page.goto(f"{pair.pl.base_url}/experts")
        assert await page.locator("html").get_attribute("lang") == "pl"
        await page.get_by_label("Kraj").select_option("PL")
        await page.get_by_label("Temat").select_option(label="Włączenie społeczne")
        await page.get_by_role("button", name="Pokaż").click()
        names = await _cards(page)
        assert "Ola Kowalska" in names and "Jerzy Zieliński" not in names, names
        await camera.shoot(page, "directory")
        card = page.locator("ul.experts li").filter(has_text="Ola Kowalska")
        link = card.get_by_role("link", name=re.compile("^Zadaj pytanie"))
        await link.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"/experts/ask\?"))
        assert await page.locator("h1").inner_text() == "Zadaj pytanie: Ola Kowalska"
        await page.get_by_label("Temat pytania").focus()
        await page.keyboard.type("Staże w opiece")
        await page.keyboard.press("Tab")
        await page.keyboard.type("Jak szukacie partnerów?")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"/questions/\d+\?done=sent$"))
        assert "wysłane" in await page.get_by_role("status").inner_text()
        await camera.shoot(page, "sent")

    async with chromium.new_page() as page:
        await page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
        await page.set_extra_http_headers({"Accept-Language": "pl-PL,pl;q=0.9"})
        await sign_in_pl(page, pair.pl, ola)
        await page.goto(f"{pair.pl.base_url}/notifications")
        item = page.locator(".notification").filter(has_text="zadaje Ci pytanie")
        assert "Staże w opiece" in await item.inner_text()
        await item.get_by_role("link", name="Przeczytaj i odpowiedz").click()
        assert await page.locator("h1").inner_text() == "Pytanie: Staże w opiece"
        said = await page.locator(".interest-message blockquote").all_inner_texts()
        assert said == ["Jak szukacie partnerów?"]
        await camera.shoot(page, "read")
    assert camera.found == {}


async def sign_in_pl(page: Page, instance: RunningInstance, login: str) -> None:
    """Sign in through the form with the site in Polish."""
    await page.goto(f"{instance.base_url}/login")
    await page.get_by_label("Login").fill(login)
    await page.get_by_label("Hasło", exact=True).fill("a long test password")
    await page.get_by_role("button", name="Zaloguj się").click()
    assert page.url == f"{instance.base_url}/account", page.url
