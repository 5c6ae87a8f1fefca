"""Notification e-mail: queued by notify() in the request's transaction, sent by the worker to a
real SMTP server (aiosmtpd on loopback), retried later when the server fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from sqlalchemy import select

from fedi.db.models import EmailMessage, Notification, Profile
from fedi.federation.worker import Worker
from fedi.instance import build_context
from fedi.services import instance_settings
from fedi.services.members import add_member
from fedi.services.notifications import notify
from fedi.settings import Settings
from tests.conftest import make_settings


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[Message] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 try again later"
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"notify",
        b"p@ss word",
    )
    return AuthResult(success=ok)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, authenticator=_authenticate, auth_require_tls=False),
        "127.0.0.1",
        0,
    )
    try:
        yield SmtpServer(server.sockets[0].getsockname()[1], inbox)
    finally:
        server.close()
        await server.wait_closed()


async def _member_with_email(settings: Settings, email: str | None) -> int:
    context = build_context(settings)
    try:
        async with context.sessions.begin() as session:
            member = await add_member(session, settings, "anna", "a long test password")
            session.add(
                Profile(
                    member_id=member.id,
                    organisation="",
                    languages=[],
                    themes=[],
                    objectives=[],
                    email=email,
                )
            )
            return member.id
    finally:
        await context.aclose()


async def _notify(settings: Settings, member_id: int) -> None:
    context = build_context(settings)
    try:
        async with context.sessions.begin() as session:
            await notify(
                session,
                settings,
                member_id,
                "report",
                object_uri="https://it.test/n/1",
                data={"comment": "spam"},
            )
    finally:
        await context.aclose()


async def _rows(settings: Settings) -> list[EmailMessage]:
    context = build_context(settings)
    try:
        async with context.sessions() as session:
            return list(await session.scalars(select(EmailMessage)))
    finally:
        await context.aclose()


def smtp_settings(tmp_path: Path, url: str, smtp: SmtpServer, userinfo: str = "") -> Settings:
    return make_settings(
        tmp_path / "var", url, FEDI_SMTP_URL=f"smtp://{userinfo}127.0.0.1:{smtp.port}"
    )


async def test_the_worker_sends_what_notify_queued(
    tmp_path: Path, migrated_url: str, smtp: SmtpServer
) -> None:
    settings = smtp_settings(tmp_path, migrated_url, smtp, "notify:p%40ss%20word@")
    member_id = await _member_with_email(settings, "anna@example.org")
    await _notify(settings, member_id)
    assert smtp.inbox.messages == []  # nothing is sent from the request
    [queued] = await _rows(settings)
    assert queued.sent_at is None
    context = build_context(settings)
    try:
        assert await Worker(context).run_once() == 1
    finally:
        await context.aclose()
    [message] = smtp.inbox.messages
    assert message["To"] == "anna@example.org"
    assert message["From"] == "noreply@esf.test"
    assert message["Subject"] == "New report from ESF test network"
    assert "https://it.test/n/1" in message.get_payload()
    [sent] = await _rows(settings)
    assert sent.sent_at is not None and sent.attempts == 1


async def test_a_refused_message_waits_and_is_tried_again(
    tmp_path: Path, migrated_url: str, smtp: SmtpServer
) -> None:
    settings = smtp_settings(tmp_path, migrated_url, smtp)
    member_id = await _member_with_email(settings, "anna@example.org")
    await _notify(settings, member_id)
    smtp.inbox.refuse = True
    context = build_context(settings)
    try:
        worker = Worker(context)
        assert await worker.mail.run_once() == 1
        [failed] = await _rows(settings)
        assert failed.sent_at is None and "451" in (failed.last_error or "")
        smtp.inbox.refuse = False
        assert await worker.mail.run_once() == 0  # not due yet
        later = failed.next_attempt_at
        context.clock = lambda: later
        assert await worker.mail.run_once() == 1
    finally:
        await context.aclose()
    assert len(smtp.inbox.messages) == 1
    [sent] = await _rows(settings)
    assert sent.sent_at is not None and sent.attempts == 2


async def test_no_mail_without_smtp_or_without_an_address(
    tmp_path: Path, migrated_url: str, smtp: SmtpServer
) -> None:
    plain = make_settings(tmp_path / "var", migrated_url)
    member_id = await _member_with_email(plain, "anna@example.org")
    await _notify(plain, member_id)
    assert await _rows(plain) == []
    context = build_context(plain)
    try:
        async with context.sessions.begin() as session:
            profile = await session.get(Profile, member_id)
            assert profile is not None
            profile.email = None
        async with context.sessions() as session:
            assert len(list(await session.scalars(select(Notification)))) == 1
    finally:
        await context.aclose()
    configured = smtp_settings(tmp_path, migrated_url, smtp)
    await _notify(configured, member_id)
    assert await _rows(configured) == []


async def test_the_mail_names_the_network_as_its_administrators_renamed_it(
    tmp_path: Path, migrated_url: str, smtp: SmtpServer
) -> None:
    settings = smtp_settings(tmp_path, migrated_url, smtp)
    member_id = await _member_with_email(settings, "anna@example.org")
    context = build_context(settings)
    try:
        async with context.sessions.begin() as session:
            await instance_settings.save(
                session,
                settings,
                name="Sieć EFS+ Polska",
                description="",
                rules="",
                offers_need_validation=False,
            )
    finally:
        await context.aclose()
    await _notify(settings, member_id)
    [queued] = await _rows(settings)
    assert "Sieć EFS+ Polska" in queued.body and "ESF test network" not in queued.body
