"""How ``fedi serve`` meets its clients: uvicorn's options, and the limits uvicorn lacks.

uvicorn caps concurrent connections (``limit_concurrency``: past it, 503) and idle keep-alive
connections (``timeout_keep_alive``), but not how long a client may take to send a request, nor
(with httptools, its fastest parser) how large the request's head may grow: a client trickling
a header a byte at a time, or one endless header, holds a connection and its memory forever.
:class:`GuardedHttpProtocol` adds both to uvicorn's httptools protocol:

- the head of a request (request line and headers) is at most :data:`MAX_HEAD` bytes; past it
  the answer is ``431`` and the connection is closed, before any of the application runs;
- a request, headers and body, must arrive within ``FEDI_RECEIVE_TIMEOUT`` seconds of its first
  byte (or of the connection's opening); a client still sending then is answered ``408`` (when
  nothing was answered yet) and its connection is closed. The time the application takes to
  answer is not counted.

A refused client's connection is half-closed after the answer (but for TLS, which cannot) and
closed :data:`LINGER` later, what it still sends meanwhile being dropped.
"""

from __future__ import annotations

import asyncio
from asyncio import TimerHandle
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fedi.settings import Settings

__all__ = ["MAX_HEAD", "GuardedHttpProtocol", "protocol_for", "server_options"]

# nginx's default limit is about as large (4 buffers of 8 KiB); a signed ActivityPub request
# needs under 4 KiB.
MAX_HEAD = 32 * 1024
KEEP_ALIVE = 5  # seconds an idle connection stays open between requests (uvicorn's default)
# Seconds a refused client's further bytes are read and dropped after the answer, so that it
# reads the answer rather than the reset that closing on unread bytes would send it.
LINGER = 1.0


def _answer(status: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(status)).encode() + b"\r\nconnection: close\r\n\r\n" + status
    )


_HEAD_TOO_LARGE = _answer(b"431 Request Header Fields Too Large")
_TOO_SLOW = _answer(b"408 Request Timeout")


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head past :data:`MAX_HEAD`."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on a request's head and a deadline for
    receiving the whole request (see the module). Use :func:`protocol_for` to set the
    deadline."""

    receive_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: TimerHandle | None = None
        self._in_head = True  # between a request's end (or the connection's start) and its headers
        self._head_received = 0  # bytes received while in the head
        self._head_parsed = 0  # bytes of the head the parser has reported
        self._head_too_large = False
        self._refused = False  # answered 408 or 431: what still comes is dropped

    # The deadline.

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.receive_timeout, self._receive_timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _receive_timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self._refuse(_TOO_SLOW)
        else:
            self.transport.close()  # an answer is under way: nothing else can be said

    def _refuse(self, answer: bytes) -> None:
        """Send ``answer``, then close: our side at once, the connection after :data:`LINGER`."""
        self._disarm()
        self._refused = True
        self.transport.write(answer)
        if self.transport.can_write_eof():  # TLS has no half-close: the answer's own
            self.transport.write_eof()  # "connection: close" must do
        self.loop.call_later(LINGER, self.transport.close)

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head, self._head_received = True, 0
        super().on_message_complete()

    # The head's cap.

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first bytes of the next request on a kept-alive connection
        if self._in_head:
            self._head_received += len(data)
        super().data_received(data)
        # Still in the head: every byte so far is the head's, including any the parser keeps
        # unreported (a header value without its end).
        if self._in_head and self._head_received > MAX_HEAD and not self._refused:
            self._refuse_head()

    def on_message_begin(self) -> None:
        self._head_parsed = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _count_head(self, size: int) -> None:
        """A head that arrived whole in one read is counted here, as the parser reports it."""
        self._head_parsed += size
        if self._head_parsed > MAX_HEAD:
            self._head_too_large = True
            raise _HeadTooLarge  # the parser stops; uvicorn answers through send_400_response

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse_head()
            return
        super().send_400_response(msg)

    def _refuse_head(self) -> None:
        self.logger.warning("request head over %d bytes refused", MAX_HEAD)
        self._refuse(_HEAD_TOO_LARGE)


def protocol_for(settings: Settings) -> type[GuardedHttpProtocol]:
    """:class:`GuardedHttpProtocol` with the instance's ``FEDI_RECEIVE_TIMEOUT``."""

    class ConfiguredProtocol(GuardedHttpProtocol):
        receive_timeout = float(settings.receive_timeout)

    return ConfiguredProtocol


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``fedi serve`` (``uvicorn.run(app, **server_options(settings))``)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": protocol_for(settings),
        "ws": "none",
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": KEEP_ALIVE,
        "log_config": None,
        "access_log": False,
        "ssl_certfile": str(settings.tls_cert) if settings.tls_cert else None,
        "ssl_keyfile": str(settings.tls_key) if settings.tls_key else None,
        "proxy_headers": False,  # the app applies FEDI_TRUSTED_PROXIES itself
        "server_header": False,
    }
