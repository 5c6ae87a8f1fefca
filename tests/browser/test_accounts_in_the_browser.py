"""A new network's first hour, in a real browser against a real ``fedi serve``: the admin signs
in with the printed password, invites a member, who joins, signs out and in, switches to Polish
and creates an API token. Every page passes axe-core (no serious or critical violation) and is
photographed in both languages at phone and desktop width."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from fedi.testing.axe import serious_violations
from fedi.testing.browser import Chromium
from fedi.testing.instances import wait_until

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
WIDTHS = {"phone": 375, "desktop": 1280}
MEMBER_PASSWORD = "nina's own password"


@dataclass
class Served:
    base_url: str
    admin_password: str
    environ: dict[str, str]

    def fedi(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "fedi", *args],
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``fedi migrate`` then ``fedi serve`` on a new SQLite instance, as ``make run`` does; the
    first admin's password is read from what it prints."""
    directory = tmp_path_factory.mktemp("served")
    port = _free_port()
    environ = {
        **os.environ,
        "FEDI_DATA_DIR": str(directory),
        "FEDI_PORT": str(port),
        "FEDI_BASE_URL": f"http://localhost:{port}",
        "FEDI_INSTANCE_NAME": "ESF Polska",
        "FEDI_COUNTRY": "PL",
    }
    environ.pop("FEDI_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "fedi", "migrate"], env=environ, check=True, capture_output=True
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "fedi", "serve", "--no-worker"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        password = ""
        for line in process.stdout:
            if "first admin" in line:
                password = line.rsplit("password ", 1)[1].strip()
                break
        assert password, "fedi serve printed no first admin"
        base_url = f"http://localhost:{port}"

        def ready() -> bool:
            try:
                return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, timeout=30)
        served = Served(base_url, password, environ)
        served.fedi("user", "add", "bruno")  # a member for the rate-limit test
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


async def _sign_in(page: Page, base_url: str, login: str, password: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.get_by_label("Login").fill(login)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_the_admin_invites_a_member_who_joins_and_uses_the_site(
    served: Served, chromium: Chromium
) -> None:
    base = served.base_url
    async with chromium.new_page() as admin:
        await _sign_in(admin, base, "admin", served.admin_password)
        assert admin.url == f"{base}/account"
        assert await admin.locator("h1").inner_text() == "Your account"
        await admin.get_by_role("link", name="Administration").click()
        assert await admin.locator("h1").inner_text() == "Members"
        await admin.get_by_role("link", name="Invitations").click()
        await admin.get_by_label("member", exact=True).check()
        await admin.get_by_label("Note").fill("Nina from Kraków")
        await admin.get_by_role("button", name="Create an invitation link").click()
        link = await admin.locator("#new-link").inner_text()
        assert link.startswith(f"{base}/join/")
        assert await admin.get_by_role("cell", name="Nina from Kraków", exact=True).count() == 1

    async with chromium.new_page() as nina:
        await nina.goto(link)
        assert "member" in await nina.locator("main").inner_text()
        await nina.get_by_label("Login").fill("nina")
        await nina.get_by_label("Password", exact=True).fill(MEMBER_PASSWORD)
        await nina.get_by_label("Password again").fill(MEMBER_PASSWORD)
        await nina.get_by_role("button", name="Create my account").click()
        assert nina.url == f"{base}/account?welcome=1"
        assert "@nina@localhost" in await nina.locator("main").inner_text()

        await nina.get_by_role("button", name="Sign out").click()
        assert nina.url == f"{base}/"
        assert await nina.get_by_role("link", name="Sign in").count() >= 1
        await _sign_in(nina, base, "nina", MEMBER_PASSWORD)
        assert nina.url == f"{base}/account"

        await nina.get_by_role("button", name="polski").click()
        assert nina.url == f"{base}/account"
        assert await nina.locator("html").get_attribute("lang") == "pl"
        assert await nina.locator("h1").inner_text() == "Twoje konto"
        assert await nina.get_by_role("button", name="Wyloguj się").count() == 1

        await nina.get_by_label("Nazwa nowego tokenu").fill("mój skrypt")
        await nina.get_by_role("button", name="Utwórz token").click()
        token = await nina.locator("#new-token").inner_text()
        assert token.startswith("fedi_")
        assert await nina.get_by_role("cell", name="mój skrypt", exact=True).count() == 1
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                f"{base}/account", headers={"Authorization": f"Bearer {token}"}
            )
        assert answer.status_code == 200

        response = await nina.goto(f"{base}/admin/invites")
        assert response is not None
        assert response.status == 403
        assert await nina.locator("h1").inner_text() == "Nie możesz otworzyć tej strony"


async def test_five_wrong_passwords_give_the_rate_limit_page(
    served: Served, chromium: Chromium
) -> None:
    async with chromium.new_page(javascript=True, bypass_csp=True) as page:
        for _ in range(5):
            await _sign_in(page, served.base_url, "bruno", "not bruno's password")
        assert await page.locator("h1").inner_text() == "Too many attempts"
        assert "Try again in 15 minutes" in await page.locator("main").inner_text()
        assert await serious_violations(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / "too-many-en-desktop.png", full_page=True)


async def test_the_skip_link_is_the_first_stop_of_the_keyboard(
    served: Served, chromium: Chromium
) -> None:
    async with chromium.new_page() as page:
        await page.goto(served.base_url)
        await page.keyboard.press("Tab")
        focused = page.locator(":focus")
        assert await focused.inner_text() == "Skip to the main content"
        await page.keyboard.press("Enter")
        assert page.url.endswith("#main")


# (name, who is signed in, path)
PAGES = [
    ("home", None, "/"),
    ("login", None, "/login"),
    ("not-found", None, "/no/such/page"),
    ("join", None, "/join/{invite}"),
    ("account", "admin", "/account"),
    ("notifications", "admin", "/notifications"),
    ("invites", "admin", "/admin/invites"),
    ("members", "admin", "/admin/members"),
    ("reports", "admin", "/admin/reports"),
    ("peers", "admin", "/admin/peers"),
    ("forums-admin", "admin", "/admin/forums"),
    ("settings-admin", "admin", "/admin/settings"),
    ("domains-admin", "admin", "/admin/domains"),
    ("offers", "admin", "/offers"),
    ("offer", "admin", "/offers/{offer}"),
    ("offer-new", "admin", "/offers/new"),
    ("offer-edit", "admin", "/offers/{offer}/edit"),
    ("offer-search", "admin", "/offers/search?q=mentoring"),
    ("offer-search-error", "admin", "/offers/search?theme=nothing&deadline_after=soon"),
    ("offers-saved", "admin", "/offers/saved"),
]


async def _publish_offer(page: Page, served: Served) -> str:
    """A partner offer published in the form, as a member would; its path."""
    await _sign_in_any_language(page, served)
    await page.goto(f"{served.base_url}/offers/new")
    await page.locator("#purpose-request").check()
    await page.locator("#title").fill("Partners sought for a youth guarantee pilot")
    await page.locator("#summary").fill("A job centre in Lublin looks for two partners.")
    await page.locator("#description").fill("We run *mentoring* for young people.")
    await page.locator("#objectives-a").check()
    await page.locator("#themes-youth-employment").check()
    await page.locator("#organisation_name").fill("Powiatowy Urząd Pracy")
    await page.locator("#organisation_type").select_option("public-employment-service")
    await page.locator("#organisation_country").select_option("PL")
    await page.locator("#countries_sought-IT").check()
    deadline = datetime.now(UTC).date() + timedelta(days=90)
    await page.locator("#call_deadline").fill(deadline.isoformat())
    await page.locator("button[value=publish]").click()
    assert "done=published" in page.url, page.url
    return page.url.split("?")[0].removeprefix(served.base_url)


async def test_every_page_passes_axe_and_is_photographed(
    served: Served, chromium: Chromium
) -> None:
    invite = served.fedi("invite", "create").strip().splitlines()[-1]
    token = invite.rsplit("/", 1)[1]
    served.fedi("block", "add", "spam.example", "--reason", "spam waves")  # a row on the page
    async with chromium.new_page() as page:
        offer = (await _publish_offer(page, served)).rsplit("/", 1)[1]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[dict[str, object]]] = {}
    for language in ("en", "pl"):
        for width_name, width in WIDTHS.items():
            # axe runs as a script: JavaScript on, for these pages only.
            async with chromium.new_page(javascript=True, bypass_csp=True) as page:
                await page.set_viewport_size({"width": width, "height": 900})
                await page.goto(served.base_url)
                await page.get_by_role(
                    "button", name="polski" if language == "pl" else "English"
                ).click()
                signed_in = False
                for name, login, path in PAGES:
                    if login is not None and not signed_in:
                        await _sign_in_any_language(page, served)
                        signed_in = True
                    await page.goto(served.base_url + path.format(invite=token, offer=offer))
                    violations = await serious_violations(page)
                    if violations:
                        found[f"{name} ({language}, {width_name})"] = violations
                    await page.screenshot(
                        path=SCREENSHOTS / f"{name}-{language}-{width_name}.png", full_page=True
                    )
                # A failed form, with its error summary.
                await page.goto(f"{served.base_url}/admin/invites")
                await page.locator("#days").fill("0")
                await page.locator("form.form button[type=submit]").last.click()
                violations = await serious_violations(page)
                if violations:
                    found[f"invites-error ({language}, {width_name})"] = violations
                await page.screenshot(
                    path=SCREENSHOTS / f"invites-error-{language}-{width_name}.png",
                    full_page=True,
                )
                # The admin tries to take away their own role: refused, the error at the field.
                await page.goto(f"{served.base_url}/admin/members")
                own = page.locator("tr").filter(
                    has=page.locator("td", has_text=re.compile(r"^admin$"))
                )
                await own.locator("select").select_option("member")
                await own.locator("form.inline-form button[type=submit]").click()
                assert await own.locator(".field-error").count() == 1
                violations = await serious_violations(page)
                if violations:
                    found[f"members-error ({language}, {width_name})"] = violations
                await page.screenshot(
                    path=SCREENSHOTS / f"members-error-{language}-{width_name}.png",
                    full_page=True,
                )
    assert found == {}
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 2 * 2 * (len(PAGES) + 2)


async def _sign_in_any_language(page: Page, served: Served) -> None:
    await page.goto(f"{served.base_url}/login")
    await page.locator("#login").fill("admin")
    await page.locator("#password").fill(served.admin_password)
    await page.locator("form.form button[type=submit]").click()
    assert re.search(r"/account$", page.url)


async def test_a_member_searches_offers_with_filters_and_reads_why(
    served: Served, chromium: Chromium
) -> None:
    async with chromium.new_page() as page:
        await _publish_offer(page, served)
        await page.goto(f"{served.base_url}/offers/search")
        await page.locator("#q").fill("mentoringiem")  # another form of the word written
        await page.locator("#theme").select_option("youth-employment")
        await page.locator("#q").press("Enter")
        await page.wait_for_url(re.compile(r"/offers/search\?q=mentoringiem"))
        results = page.locator("ol.cards li")
        assert await results.count() >= 1
        first = results.first
        assert "youth guarantee pilot" in await first.locator("h3").inner_text()
        await first.locator("summary").click()
        reasons = await first.locator(".why li").all_inner_texts()
        assert any(reason.startswith("Its text contains") for reason in reasons), reasons
        assert any("theme" in reason for reason in reasons), reasons
        assert await page.locator("figure.chart svg rect").count() >= 1
        await page.goto(f"{served.base_url}/offers/search?theme=social-economy")
        assert "No offer matches this search." in await page.locator("main").inner_text()
