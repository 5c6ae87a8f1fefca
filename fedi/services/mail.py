"""E-mail for notifications: a persistent queue (:class:`fedi.db.models.EmailMessage`) that the
worker drains; requests only add rows (:func:`fedi.services.notifications.notify`).

``FEDI_SMTP_URL`` names the server: ``smtp://[user:pass@]host[:port]`` (port 25 by default,
STARTTLS when the server offers it) or ``smtps://`` (TLS from the start, port 465). A message
that fails is tried again later, waiting twice as long each time, up to :data:`MAX_ATTEMPTS`.
Sending uses the standard library's ``smtplib`` in a thread, so the event loop never waits on
the mail server.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage as MimeMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from fedi.db.models import EmailMessage
from fedi.instance import InstanceContext

__all__ = ["BATCH", "MAX_ATTEMPTS", "MailQueue", "SmtpServer"]

MAX_ATTEMPTS = 8
BATCH = 20
_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool
    user: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        tls = parts.scheme == "smtps"
        assert parts.hostname, "checked by the settings"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            tls=tls,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def send(self, message: MimeMessage) -> None:
        """Deliver one message (blocking: call it in a thread)."""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=_TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=_TIMEOUT)
        with smtp:
            smtp.ehlo()
            if not self.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user is not None:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class MailQueue:
    """Sends the queued messages that are due; a no-op when no SMTP server is configured."""

    def __init__(self, context: InstanceContext, *, poll: float = 5.0) -> None:
        self.context = context
        self.poll = poll
        url = context.settings.smtp_url
        self.server = SmtpServer.from_url(url) if url else None

    def _mime(self, row: EmailMessage) -> MimeMessage:
        message = MimeMessage()
        message["From"] = self.context.settings.smtp_from
        message["To"] = row.recipient
        message["Subject"] = row.subject
        message.set_content(row.body)
        return message

    async def run_once(self) -> int:
        """Try each due message once; how many were tried."""
        if self.server is None:
            return 0
        server = self.server
        now = self.context.clock()
        async with self.context.sessions.begin() as session:
            rows = list(
                await session.scalars(
                    select(EmailMessage)
                    .where(
                        EmailMessage.sent_at.is_(None),
                        EmailMessage.attempts < MAX_ATTEMPTS,
                        EmailMessage.next_attempt_at <= now,
                    )
                    .order_by(EmailMessage.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                row.attempts += 1
                try:
                    await asyncio.to_thread(server.send, self._mime(row))
                except (OSError, smtplib.SMTPException) as exc:
                    row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                    row.next_attempt_at = now + timedelta(minutes=2**row.attempts)
                else:
                    row.sent_at = self.context.clock()
                    row.last_error = None
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await self.run_once() == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll)
