"""``httpx.Auth`` that signs every outgoing request with a draft-cavage HTTP signature."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from concurrent.futures import Executor
from datetime import UTC, datetime

import httpx

from fedi.crypto import PrivateKey, plan_cavage, raw_sign, sign_cavage

__all__ = ["SignatureAuth", "utc_now"]


def utc_now() -> datetime:
    """The real clock, in UTC (the default for :class:`SignatureAuth`)."""
    return datetime.now(UTC)


class SignatureAuth(httpx.Auth):
    """Sign each request (GET included) as ``key_id`` with ``private_key``; see ``sign_cavage``.

    The body is read before signing so that POSTs carry a matching ``Digest``; a GET gets no
    ``Digest``. ``clock`` is injected so tests can sign at a fixed time. httpx runs this flow once
    per request it is handed: a caller that follows redirects itself gets each hop signed afresh.

    With an ``executor``, the asynchronous flow runs the private-key operation in it. The RSA
    operation releases the interpreter lock, so on a machine with more than one core a thread
    pool signs while the event loop goes on sending (``bench/fanout.py``).
    """

    requires_request_body = True

    def __init__(
        self,
        key_id: str,
        private_key: PrivateKey,
        clock: Callable[[], datetime] = utc_now,
        executor: Executor | None = None,
    ) -> None:
        self._key_id = key_id
        self._private_key = private_key
        self._clock = clock
        self._executor = executor

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        added = sign_cavage(
            request.method,
            str(request.url),
            request.headers,
            request.read(),
            self._key_id,
            self._private_key,
            self._clock(),
        )
        request.headers.update(added)
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        added = await self.sign(
            request.method, str(request.url), request.headers, await request.aread()
        )
        request.headers.update(added)
        yield request

    async def sign(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, str]:
        """The headers that sign this request (``Date``, ``Signature``, maybe ``Digest`` and
        ``Host``), the private-key operation in the executor if there is one (the
        asynchronous flow's step)."""
        plan = plan_cavage(
            method, url, headers, body, self._key_id, self._private_key, self._clock()
        )
        if self._executor is None:
            signature = raw_sign(self._private_key, plan.text)
        else:
            loop = asyncio.get_running_loop()
            signature = await loop.run_in_executor(
                self._executor, raw_sign, self._private_key, plan.text
            )
        return plan.finish(signature)
