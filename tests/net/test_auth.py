"""SignatureAuth signs every outgoing request (GET included) with an injected clock."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx

from fedi.crypto import Verified, verify_request
from fedi.net.auth import SignatureAuth
from fedi.testing.keys import ALICE_KEY_ID, FIXED_NOW, RecordingResolver, alice_key

OWNER = "https://alice.test/users/alice"


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(202)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        return self(request)


async def verified(request: httpx.Request) -> object:
    host = request.url.netloc.decode()
    return await verify_request(
        request.method,
        str(request.url),
        request.headers,
        request.content,
        resolve_key=RecordingResolver.of(ALICE_KEY_ID, OWNER, alice_key()),
        now=FIXED_NOW,
        expected_host=host,
    )


def auth() -> SignatureAuth:
    return SignatureAuth(ALICE_KEY_ID, alice_key(), clock=lambda: FIXED_NOW)


async def test_post_is_signed_with_digest() -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder.handle), auth=auth()) as c:
        await c.post("https://peer.test/inbox", content=b'{"type":"Follow"}')
    (request,) = recorder.requests
    assert request.headers["date"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert request.headers["digest"] == "SHA-256=GYwYnH3BiO6aICFt0ThC5bUIJ4byvqdpWtR8m5fNkww="
    assert 'headers="(request-target) host date digest"' in request.headers["signature"]
    assert await verified(request) == Verified(ALICE_KEY_ID, OWNER, "draft-cavage", "rsa-sha256")


async def test_get_is_signed_without_digest() -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder.handle), auth=auth()) as c:
        await c.get("https://peer.test:8443/users/bob?page=1")
    (request,) = recorder.requests
    assert "digest" not in request.headers
    assert request.headers["host"] == "peer.test:8443"
    assert 'headers="(request-target) host date"' in request.headers["signature"]
    assert isinstance(await verified(request), Verified)


async def test_async_client_streaming_body_is_read_and_signed() -> None:
    recorder = Recorder()

    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"type":'
        yield b'"Follow"}'

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(recorder.handle), auth=auth()
    ) as client:
        await client.post("https://peer.test/inbox", content=chunks())
    (request,) = recorder.requests
    assert request.content == b'{"type":"Follow"}'
    assert request.headers["digest"] == "SHA-256=GYwYnH3BiO6aICFt0ThC5bUIJ4byvqdpWtR8m5fNkww="
    assert isinstance(await verified(request), Verified)


def test_sync_client_clock_is_read_per_request() -> None:
    ticks = iter([FIXED_NOW, FIXED_NOW + timedelta(minutes=5)])
    recorder = Recorder()
    signing = SignatureAuth(ALICE_KEY_ID, alice_key(), clock=lambda: next(ticks))
    with httpx.Client(transport=httpx.MockTransport(recorder), auth=signing) as client:
        client.get("https://peer.test/a")
        client.get("https://peer.test/a")
    dates = [r.headers["date"] for r in recorder.requests]
    assert dates == ["Wed, 01 May 2024 12:00:00 GMT", "Wed, 01 May 2024 12:05:00 GMT"]
    assert recorder.requests[0].headers["signature"] != recorder.requests[1].headers["signature"]


def test_default_clock_is_utc() -> None:
    recorder = Recorder()
    with httpx.Client(
        transport=httpx.MockTransport(recorder), auth=SignatureAuth(ALICE_KEY_ID, alice_key())
    ) as client:
        client.get("https://peer.test/a")
    assert recorder.requests[0].headers["date"].endswith(" GMT")


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that counts the work it is given."""

    def __init__(self) -> None:
        super().__init__(1)
        self.submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


async def test_signing_in_an_executor_gives_the_same_signature() -> None:
    executor = CountingExecutor()
    threaded = SignatureAuth(ALICE_KEY_ID, alice_key(), lambda: FIXED_NOW, executor)
    recorder = Recorder()
    try:
        for signer in (auth(), threaded):
            transport = httpx.MockTransport(recorder.handle)
            async with httpx.AsyncClient(transport=transport, auth=signer) as c:
                await c.post("https://peer.test/inbox", content=b'{"type":"Follow"}')
    finally:
        executor.shutdown()
    inline, offloaded = recorder.requests
    assert executor.submitted == 1
    # RSASSA-PKCS1-v1_5 is deterministic: the same request signs to the same bytes.
    assert offloaded.headers["signature"] == inline.headers["signature"]
    assert await verified(offloaded) == Verified(ALICE_KEY_ID, OWNER, "draft-cavage", "rsa-sha256")
