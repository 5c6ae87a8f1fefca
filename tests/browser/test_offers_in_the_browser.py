"""Partner offers in a real browser against two real instances (PL and IT, IT peered with PL) on
loopback: a member
writes an offer in the form (a missing field refused at the field, the preview, publishing), a
reader searches with filters in English and in Polish and reads why each result matched, and a
member of IT expresses interest in an offer of PL, whose owner reads it and answers on PL, the
answer reaching IT. Every page is photographed at phone and desktop width and passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from fedi.instance import InstanceContext
from fedi.peers import service as peers
from fedi.testing.browser import Chromium
from fedi.testing.databases import temporary_database
from fedi.testing.instances import running_instance
from tests.browser.offers import WIDTHS, Camera, Pair, reload_until, sign_in

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """PL and IT on SQLite, each with its delivery worker, shared by this module's tests (each
    test uses members and offers of its own)."""
    directory = tmp_path_factory.mktemp("offers")
    with ExitStack() as stack:
        pl_url = stack.enter_context(temporary_database("sqlite", directory))
        it_url = stack.enter_context(temporary_database("sqlite", directory))
        pl = stack.enter_context(running_instance(directory / "pl", pl_url, country="PL"))
        it = stack.enter_context(running_instance(directory / "it", it_url, country="IT"))

        async def peer(context: InstanceContext) -> None:
            await peers.add_peer(context, pl.base_url)

        it.call(peer)  # IT keeps replicas of PL's offers, as `fedi peer add` does
        yield Pair(pl, it)


async def _fill_offer_but_the_title(page: Page) -> None:
    """Every field an offer needs, as a member fills them, except its title."""
    await page.get_by_label("Request", exact=True).check()
    await page.get_by_label("Summary", exact=True).fill(
        "A job centre in Lublin looks for two partners to test peer mentoring."
    )
    await page.get_by_label("Description", exact=False).first.fill(
        "We run *mentoring* for young people out of work."
    )
    await page.locator("#objectives-a").check()
    await page.get_by_label("Youth employment", exact=True).check()
    await page.get_by_label("Name of the organisation").fill("Powiatowy Urząd Pracy")
    await page.get_by_label("Type of organisation", exact=True).select_option(
        "public-employment-service"
    )
    await page.locator("#organisation_country").select_option("PL")
    await page.locator("#countries_sought-IT").check()
    deadline = datetime.now(UTC).date() + timedelta(days=90)
    await page.get_by_label("Call deadline").fill(deadline.isoformat())


@pytest.mark.parametrize("width", list(WIDTHS))
async def test_a_member_writes_previews_and_publishes_an_offer(
    pair: Pair, chromium: Chromium, width: str
) -> None:
    login = await pair.member(pair.pl, f"ewa{width}")
    camera = Camera(chromium, "offer-write", (width,))
    title = f"Peer mentoring for young jobseekers ({width})"
    async with chromium.new_page() as page:
        await page.set_viewport_size({"width": WIDTHS[width], "height": 900})
        await sign_in(page, pair.pl, login)
        await page.get_by_role("link", name="Partner offers").click()
        await page.get_by_role("link", name="Publish an offer").click()
        assert page.url == f"{pair.pl.base_url}/offers/new"
        # Publishing needs an objective: its list is not said to be optional.
        objectives = page.locator("fieldset#objectives > legend")
        assert await objectives.inner_text() == "ESF+ objectives"
        await camera.shoot(page, "empty")

        # Published without a title: refused, the error at the field, the rest kept.
        await _fill_offer_but_the_title(page)
        await page.get_by_role("button", name="Publish").click()
        assert await page.title() == "Error: Publish a partner offer · ESF PL"
        summary = page.locator(".error-summary")
        assert await summary.get_by_role("link").all_inner_texts() == [
            "Title: This field is required."
        ]
        title_field = page.get_by_label("Title", exact=True)
        assert await title_field.get_attribute("aria-invalid") == "true"
        field = page.locator(".field--error")
        assert await field.count() == 1
        said = await field.locator(".field-error").text_content() or ""
        assert " ".join(said.split()) == "Error: This field is required."
        assert await field.locator("#title").count() == 1
        assert (await page.get_by_label("Summary", exact=True).input_value()).startswith(
            "A job centre in Lublin"
        )
        assert await page.get_by_label("Youth employment", exact=True).is_checked()
        assert await page.locator("#organisation_country").input_value() == "PL"
        await camera.shoot(page, "missing-title")

        # The error's link leads to the field; the member types the title there.
        await summary.get_by_role("link").click()
        assert page.url.endswith("#title")
        await title_field.click()
        await page.keyboard.type(title)
        await page.get_by_role("button", name="Preview").click()
        preview = page.locator("section.preview")
        assert await preview.locator("h3").inner_text() == title
        assert await preview.locator(".prose em").inner_text() == "mentoring"
        facts = await preview.locator(".prose li").all_inner_texts()
        assert "Partners sought in: Italy" in facts, facts
        assert any(fact.startswith("ESF+ objectives: Access to employment") for fact in facts)
        assert await page.locator(".error-summary").count() == 0
        assert await title_field.input_value() == title
        await camera.shoot(page, "preview")

        await page.get_by_role("button", name="Publish").click()
        assert re.search(r"/offers/\d+\?done=published$", page.url), page.url
        assert await page.get_by_role("status").inner_text() == "Your offer is published."
        assert await page.locator("h1").inner_text() == title
        facts = await page.locator("dl.facts").inner_text()
        assert "Powiatowy Urząd Pracy" in facts and "Italy" in facts
        await camera.shoot(page, "published")

        # Listed among the offers, and its page opens from there.
        await page.get_by_role("link", name="All partner offers").click()
        await page.get_by_role("link", name=title).click()
        assert await page.locator("h1").inner_text() == title
    assert camera.found == {}


@pytest.fixture(scope="module")
def searched(pair: Pair) -> tuple[str, str]:
    """Two offers of PL with "coaching" in their text: one on youth employment from Poland,
    one on the social economy from Germany. Their titles."""
    pair.tokens["olga"] = pair.pl.add_member("olga")
    wanted = "Coaching young jobseekers in Lublin"
    other = "Coaching social enterprises in Leipzig"
    common = {"language": "en", "translations": {}}
    pair.publish_now(
        pair.pl,
        "olga",
        title=wanted,
        summary="A job centre brings peer coaching for young people out of work.",
        description="Coaching by people who found work themselves.",
        objectives=["a"],
        themes=["youth-employment"],
        **common,
    )
    pair.publish_now(
        pair.pl,
        "olga",
        title=other,
        summary="A social enterprise network offers coaching to new social enterprises.",
        description="Coaching for founders.",
        objectives=["h"],
        themes=["social-economy"],
        organisation={
            "name": "Netzwerk Soziale Unternehmen",
            "type": "social-economy-enterprise",
            "country": "DE",
            "city": "Leipzig",
        },
        **common,
    )
    return wanted, other


async def _titles(page: Page) -> list[str]:
    return await page.locator("ol.cards li h3").all_inner_texts()


@pytest.mark.parametrize("width", list(WIDTHS))
async def test_a_reader_searches_with_filters_and_reads_why_in_english_and_polish(
    pair: Pair, searched: tuple[str, str], chromium: Chromium, width: str
) -> None:
    wanted, other = searched
    camera = Camera(chromium, "offer-search", (width,))
    base = pair.pl.base_url
    async with chromium.new_page() as page:
        await page.set_viewport_size({"width": WIDTHS[width], "height": 900})
        await page.goto(base)
        # One link of that name on the home page: the partner forum is named otherwise.
        await page.get_by_role("link", name="Partner search").click()
        assert page.url == f"{base}/offers/search"
        await camera.shoot(page, "empty")

        # The word alone finds both offers.
        await page.get_by_label("Words").fill("coaching")
        await page.get_by_label("Words").press("Enter")
        assert wanted in await _titles(page) and other in await _titles(page)

        # With a theme and a country, only the one that has both.
        await page.get_by_label("Theme", exact=True).select_option(label="Youth employment")
        await page.get_by_label("Organisation's country", exact=True).select_option(label="Poland")
        await page.get_by_role("button", name="Search", exact=True).click()
        assert "theme=youth-employment" in page.url and "country=PL" in page.url
        assert await page.get_by_label("Words").input_value() == "coaching"
        assert await _titles(page) == [wanted]
        assert await page.get_by_role("status").inner_text() == "1 offer matches"
        card = page.locator("ol.cards li").first
        await card.get_by_text("Why it matched").click()
        reasons = await card.locator(".why li").all_inner_texts()
        assert any(reason.startswith("Its text contains") for reason in reasons), reasons
        assert "It shares the theme Youth employment." in reasons, reasons
        assert "Its organisation is in Poland." in reasons, reasons
        await camera.shoot(page, "filtered")
        english = page.url

        # The same page in Polish, through the language switch.
        await page.get_by_role("button", name="polski").click()
        assert page.url == english
        assert await page.locator("h1").inner_text() == "Wyszukiwarka partnerów"
        assert await _titles(page) == [wanted]
        card = page.locator("ol.cards li").first
        await card.get_by_text("Dlaczego pasuje").click()
        reasons = await card.locator(".why li").all_inner_texts()
        assert "Wspólny temat: Zatrudnienie młodzieży." in reasons, reasons
        assert any(reason.startswith("Tekst zawiera:") for reason in reasons), reasons
        await camera.shoot(page, "filtered-pl")

        # A filter nothing matches says so, with a way back.
        await page.get_by_label("Temat", exact=True).select_option("social-inclusion")
        await page.get_by_role("button", name="Szukaj", exact=True).click()
        assert await page.locator("ol.cards li").count() == 0
        assert await page.get_by_role("link", name="Wyczyść filtry").count() >= 1
        await camera.shoot(page, "none-pl")

    # A reader whose browser asks for Polish gets it at once.
    async with chromium.new_page() as page:
        await page.set_extra_http_headers({"Accept-Language": "pl-PL,pl;q=0.9"})
        await page.goto(english)
        assert await page.locator("html").get_attribute("lang") == "pl"
        assert await page.get_by_label("Słowa").input_value() == "coaching"
        assert await _titles(page) == [wanted]
    assert camera.found == {}


async def test_interest_from_it_reaches_the_owner_on_pl_who_answers(
    pair: Pair, chromium: Chromium
) -> None:
    anna = await pair.member(pair.pl, "anna")
    marco = await pair.member(pair.it, "marco")
    title = "Apprenticeships in the care sector, with a partner from Piedmont"
    await pair.publish(
        pair.pl,
        anna,
        language="en",
        title=title,
        summary="A vocational school in Gdańsk looks for a partner for care apprenticeships.",
        description="Two years of **work-based learning** in elderly care.",
        translations={},
    )
    message = "Siamo una cooperativa sociale di Torino.\n\nWe train care workers."
    camera = Camera(chromium, "offer-interest")

    async with chromium.new_page() as page:
        await sign_in(page, pair.it, marco)
        await page.get_by_role("navigation").get_by_role("link", name="Partner search").click()
        await page.get_by_label("Words").fill("apprenticeships care")
        await page.get_by_label("Words").press("Enter")
        await reload_until(page, title)  # the replica comes with PL's Create
        card = page.locator("ol.cards li").filter(has_text=title)
        assert pair.pl.settings.domain in await card.locator(".meta").inner_text()
        await card.get_by_role("link", name=title).click()
        assert await page.locator("h1").inner_text() == title
        facts = await page.locator("dl.facts").inner_text()
        assert f"anna @anna@{pair.pl.settings.domain}" in facts  # who, and on which network
        await camera.shoot(page, "remote-offer")

        # Sent without a message: refused at the field, the organisation kept.
        form = page.locator("section.interest")
        await form.get_by_label("Your organisation").fill("Cooperativa Aurora")
        await form.get_by_label("Type of organisation").select_option(
            label="Social economy enterprise"
        )
        await form.get_by_role("button", name="Send to the offer's owner").click()
        form = page.locator("section.interest")
        said = await form.locator(".field-error").text_content() or ""
        assert " ".join(said.split()) == "Error: Write your message."
        assert await form.get_by_label("Your message").get_attribute("aria-invalid") == "true"
        assert await form.get_by_label("Your organisation").input_value() == "Cooperativa Aurora"
        # The problem is told first on the page, linked to the field far below.
        first = page.locator("main > *").first
        assert await first.get_attribute("class") == "error-summary"
        await camera.shoot(page, "missing-message")
        await first.get_by_role("link", name="Your message: Write your message.").click()
        assert page.url.endswith("#message")

        await form.get_by_label("Your message").click()
        await page.keyboard.type(message)
        await form.get_by_role("button", name="Send to the offer's owner").click()
        assert re.search(r"/interests/\d+\?done=sent$", page.url), page.url
        sent = page.url.split("?")[0]
        assert "sent to the offer's owner" in await page.get_by_role("status").inner_text()
        mine = await page.locator(".interest-message").all_inner_texts()
        assert len(mine) == 1 and "We train care workers." in mine[0]
        await camera.shoot(page, "sent")

    async with chromium.new_page() as page:
        await sign_in(page, pair.pl, anna)
        await page.get_by_role("link", name=re.compile(r"^Notifications")).click()
        await reload_until(page, "is interested in your offer")
        item = page.locator(".notification").filter(has_text="is interested in your offer")
        told = await item.inner_text()
        assert f"@marco@{pair.it.settings.domain}" in told
        assert "Cooperativa Aurora" in told and "Italy" in told, told
        await camera.shoot(page, "notified")
        await item.get_by_role("link", name="Read and answer").click()
        assert re.search(r"/interests/\d+$", page.url), page.url
        facts = await page.locator(".interest-message dl.facts").inner_text()
        assert "Cooperativa Aurora" in facts and "Social economy enterprise" in facts
        assert "Italy" in facts
        menu = page.get_by_role("navigation")  # opening the conversation read its notification
        assert await menu.get_by_role("link", name="Notifications", exact=True).count() == 1
        paragraphs = await page.locator(".interest-message blockquote p").all_inner_texts()
        assert paragraphs == ["Siamo una cooperativa sociale di Torino.", "We train care workers."]
        await camera.shoot(page, "received")
        # Anna answers with the site in Polish.
        talk = page.url
        await page.get_by_role("button", name="polski").click()
        assert page.url == talk
        assert await page.locator("h1").inner_text() == f"Zainteresowanie ofertą „{title}”"
        await page.get_by_label("Twoja odpowiedź").fill("Volentieri! Shall we talk on Monday?")
        await page.get_by_role("button", name="Wyślij odpowiedź").click()
        assert page.url == f"{talk}?done=answered", page.url
        assert await page.locator(".interest-message").count() == 2
        await camera.shoot(page, "answered-pl")

    async with chromium.new_page() as page:
        await sign_in(page, pair.it, marco)
        await page.get_by_role("link", name=re.compile(r"^Notifications")).click()
        await reload_until(page, "answered about the offer")
        item = page.locator(".notification").filter(has_text="answered about the offer")
        assert f"@anna@{pair.pl.settings.domain}" in await item.inner_text()
        await item.get_by_role("link", name="Read and answer").click()
        assert page.url == sent
        said_back = await page.locator(".interest-message blockquote").all_inner_texts()
        assert said_back[-1] == "Volentieri! Shall we talk on Monday?"
        await camera.shoot(page, "answer-read")
    assert camera.found == {}
