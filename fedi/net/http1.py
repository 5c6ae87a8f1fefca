"""One HTTP/1.1 client connection: send a request, read its response as a stream.

The response is parsed by httptools (llhttp, the parser uvicorn uses), the bytes move through an
asyncio protocol, and nothing else runs per request. A delivery is one small POST and a short
answer, so the fixed cost per exchange is what counts: aiohttp's request path cost more CPU than
the RSA signature of the request itself (``bench/fanout.py``).

Limits: at most :data:`MAX_HEAD` bytes of status line and headers, and :data:`MAX_HEADERS`
header fields; the body is read by the caller, who caps it. ``HEAD`` requests and protocol
upgrades are not supported (federation never sends them). Header names and values may not hold
CR, LF or NUL (SECURITY.md rule 31).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import cast

import httptools
import httpx

__all__ = ["MAX_HEAD", "MAX_HEADERS", "Connection", "Head", "serialize", "serialize_request"]

MAX_HEAD = 64 * 1024
MAX_HEADERS = 128
_PAUSE_AT = 256 * 1024  # buffered body bytes before the socket stops being read
_FORBIDDEN = (b"\r", b"\n", b"\0")
_FIELD = b": "


def serialize_request(request: httpx.Request, body: bytes) -> bytes:
    """The request's head and body, as sent on the wire. httpx has set ``Host`` and, for a body,
    ``Content-Length``; a header with CR, LF or NUL raises :class:`httpx.LocalProtocolError`."""
    return serialize(
        request.method.encode("ascii"), request.url.raw_path, request.headers.raw, body
    )


def serialize(
    method: bytes, target: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> bytes:
    """A request on the wire: request line, ``headers`` as given (``Host`` and
    ``Content-Length`` included), body. CR, LF or NUL in a header raises
    :class:`httpx.LocalProtocolError`, and in the method or target too."""
    for part in (method, target):
        if any(forbidden in part for forbidden in (*_FORBIDDEN, b" ")):
            raise httpx.LocalProtocolError("bad request line")
    fields = list(map(_FIELD.join, headers))  # each pair as ``name: value``, in C
    joined = b"".join(fields)
    if any(forbidden in joined for forbidden in _FORBIDDEN):
        raise httpx.LocalProtocolError("a header holds CR, LF or NUL")
    request_line = b"%s %s HTTP/1.1\r\n" % (method, target)
    if not fields:
        return b"".join((request_line, b"\r\n", body))
    return b"".join((request_line, b"\r\n".join(fields), b"\r\n\r\n", body))


class Head:
    """A response's status and raw headers."""

    __slots__ = ("headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.headers = headers


class Connection(asyncio.Protocol):
    """One connection, one exchange at a time.

    :meth:`send` writes a request and waits for the response head; :meth:`read` then returns body
    chunks (``b""`` at the end). :attr:`reusable` says whether another request may follow once
    the body has been read to its end. Failures raise httpx's transport exceptions.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._reset()

    def _reset(self) -> None:
        self._head_bytes = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._head: asyncio.Future[Head] | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._complete = False
        self._keep_alive = False
        self._until_close = False
        self._received = False  # any byte of the current response
        self._error: Exception | None = None
        self._paused = False

    # asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._head is not None and not self._complete:
            if self._until_close and self._head.done():
                self._complete = True  # no length given: the body ends with the connection
            elif exc is not None:
                self._fail(httpx.ReadError(str(exc) or type(exc).__name__))
            elif self._head.done():
                self._fail(httpx.RemoteProtocolError("the server closed the connection mid-body"))
            else:
                self._fail(httpx.RemoteProtocolError("the server closed the connection"))
        self._wake()

    def data_received(self, data: bytes) -> None:
        if self._head is None:  # nothing asked: an unsolicited answer ends the connection
            self.close()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"bad response: {exc}"))
            self.close()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost settles the response

    # httptools callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._headers = []
        self._head_bytes = 0

    def on_status(self, status: bytes) -> None:
        self._count_head(len(status))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        if len(self._headers) >= MAX_HEADERS:
            raise httptools.HttpParserError("too many header fields")
        self._headers.append((name, value))

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD:
            raise httptools.HttpParserError("response head too large")

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            return  # an interim answer (100 Continue, 103 Early Hints): the real one follows
        names = {name.lower() for name, _ in self._headers}
        self._until_close = (
            status not in (204, 304)
            and b"content-length" not in names
            and b"transfer-encoding" not in names
        )
        self._keep_alive = self._parser.should_keep_alive()
        if self._head is not None and not self._head.done():
            self._head.set_result(Head(status, self._headers))

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _PAUSE_AT and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._head is None or not self._head.done():
            return  # the end of an interim answer
        self._complete = True
        self._wake()

    # The exchange -------------------------------------------------------------------------------

    @property
    def reusable(self) -> bool:
        """Whether the connection can carry another request now."""
        return (
            self._complete
            and not self.closed
            and self._error is None
            and not self._chunks
            and self._keep_alive
        )

    @property
    def received_anything(self) -> bool:
        """Whether any byte of the current response arrived (a request that failed before is
        safe to send again on a fresh connection)."""
        return self._received

    async def send(self, data: bytes) -> Head:
        """Write one serialised request; return the response head once it has arrived."""
        if self.closed or self.transport is None:
            raise httpx.RemoteProtocolError("the server closed the connection")
        self._reset()
        head = self._head = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        try:
            return cast(Head, await head)
        finally:
            if not head.done():
                head.cancel()

    async def read(self) -> bytes:
        """The next body chunk, ``b""`` once the body is complete."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._paused and self._buffered <= _PAUSE_AT // 2 and self.transport:
                    self._paused = False
                    self.transport.resume_reading()
                return chunk
            if self._error is not None:
                raise self._error
            if self._complete:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
