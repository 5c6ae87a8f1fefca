"""Notification e-mails are written in the recipient's language: the one they chose on the pages
while signed in, else the instance's ``FEDI_LANGUAGE``; sent by the worker to a real SMTP server
(aiosmtpd on loopback)."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient

from fedi.db.models import Member, Profile
from fedi.federation.worker import Worker
from fedi.instance import build_context
from fedi.services.members import add_member
from fedi.services.notifications import notify
from fedi.settings import Settings
from fedi.testing.web import post_form, sign_in
from fedi.web import create_app
from tests.conftest import make_settings
from tests.services.test_mail import SmtpServer, smtp  # noqa: F401 (the fixture)

PASSWORD = "a long test password"


def _settings(tmp_path: Path, url: str, smtp: SmtpServer, **extra: str) -> Settings:  # noqa: F811
    return make_settings(
        tmp_path / "var", url, FEDI_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}", **extra
    )


async def _members(settings: Settings, *logins: str) -> dict[str, int]:
    context = build_context(settings)
    try:
        ids = {}
        async with context.sessions.begin() as session:
            for login in logins:
                member = await add_member(session, settings, login, PASSWORD)
                session.add(
                    Profile(
                        member_id=member.id,
                        organisation="",
                        languages=[],
                        themes=[],
                        objectives=[],
                        email=f"{login}@example.org",
                    )
                )
                ids[login] = member.id
        return ids
    finally:
        await context.aclose()


async def _report_to_all_and_send(settings: Settings, ids: dict[str, int]) -> None:
    context = build_context(settings)
    try:
        async with context.sessions.begin() as session:
            for member_id in ids.values():
                await notify(
                    session,
                    settings,
                    member_id,
                    "report",
                    object_uri="https://it.test/n/1",
                    data={"comment": "spam"},
                )
        assert await Worker(context).mail.run_once() == len(ids)
    finally:
        await context.aclose()


def _by_recipient(messages: list[Message]) -> dict[str, tuple[str, str]]:
    found = {}
    for message in messages:
        subject = str(make_header(decode_header(message["Subject"])))
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        body = payload.decode(message.get_content_charset() or "utf-8")
        found[str(message["To"])] = (subject, body)
    return found


def _choose_language(settings: Settings, login: str, language: str) -> None:
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        assert sign_in(client, login, PASSWORD).status_code == 303
        answer = post_form(client, "/language", {"language": language, "next": "/account"})
        assert answer.status_code == 303


async def _locales(settings: Settings) -> dict[str, str | None]:
    context = build_context(settings)
    try:
        async with context.sessions() as session:
            rows = await session.execute(select(Member.login, Member.locale))
            return {login: locale for login, locale in rows.all()}
    finally:
        await context.aclose()


async def test_each_member_gets_the_mail_in_the_language_they_chose(
    tmp_path: Path,
    migrated_url: str,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    settings = _settings(tmp_path, migrated_url, smtp)
    ids = await _members(settings, "anna", "piotr", "nobody")
    _choose_language(settings, "piotr", "pl")
    _choose_language(settings, "anna", "pl")
    _choose_language(settings, "anna", "en")  # the last choice counts
    _choose_language(settings, "nobody", "xx")  # not a language: nothing stored
    assert await _locales(settings) == {"anna": "en", "piotr": "pl", "nobody": None}
    await _report_to_all_and_send(settings, ids)
    mails = _by_recipient(smtp.inbox.messages)
    assert mails["anna@example.org"][0] == "New report from ESF test network"
    assert "Your notifications on ESF test network" in mails["anna@example.org"][1]
    assert mails["piotr@example.org"][0] == "Nowe zgłoszenie od ESF test network"
    assert "Twoje powiadomienia w ESF test network" in mails["piotr@example.org"][1]
    assert "https://esf.test/notifications" in mails["piotr@example.org"][1]
    # Who never chose reads the instance's language (English unless FEDI_LANGUAGE says).
    assert mails["nobody@example.org"][0] == "New report from ESF test network"


async def test_who_never_chose_gets_the_instance_language(
    tmp_path: Path,
    migrated_url: str,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    settings = _settings(tmp_path, migrated_url, smtp, FEDI_LANGUAGE="pl")
    assert settings.language == "pl"
    ids = await _members(settings, "ola", "john")
    _choose_language(settings, "john", "en")
    await _report_to_all_and_send(settings, ids)
    mails = _by_recipient(smtp.inbox.messages)
    assert mails["ola@example.org"][0] == "Nowe zgłoszenie od ESF test network"
    assert mails["john@example.org"][0] == "New report from ESF test network"
