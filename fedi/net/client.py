"""The one HTTP client for every outgoing request: fetches and deliveries (SECURITY.md 26-32).

:class:`SafeClient` sends :class:`httpx.Request` objects, through :class:`httpx.Auth` flows
(signatures: :class:`fedi.net.auth.SignatureAuth`), to aiohttp's client, which connects only to
the addresses our resolver checked (see :mod:`fedi.net.transport`). On top of it:

* every URL is normalised strictly first, refusing bad schemes, userinfo and CR/LF (26, 31);
* redirects are followed by hand, at most ``max_redirects``, each re-validated, loops refused (28);
* bodies are streamed and capped, with a connect timeout and a total deadline (29);
* fetched documents must be ActivityStreams JSON objects whose ``id`` is the URL fetched (30);
* a :class:`FetchBudget` caps the fetches one incoming activity may cause (32).

Failures are raised as :class:`fedi.net.errors.FetchError` subclasses, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import aiohttp
import certifi
import httpx

from fedi.net.body import (
    media_type,
    parse_json_object,
    parse_retry_after,
    read_capped,
    read_excerpt,
)
from fedi.net.errors import (
    BadContentType,
    BadDocument,
    BadUrl,
    BlockedAddress,
    BudgetExhausted,
    FetchError,
    FetchTimeout,
    HttpStatusError,
    IdMismatch,
    NetworkError,
    RedirectLoop,
    TooManyRedirects,
)
from fedi.net.resolver import GuardedResolver, Resolver, system_resolver
from fedi.net.transport import AiohttpTransport, SocketFactory
from fedi.net.urls import (
    IPNetwork,
    connect_problem,
    host_of,
    normalize_url,
    same_document,
    without_fragment,
)

__all__ = [
    "AS2_ACCEPT",
    "JSON_ACCEPT",
    "FetchBudget",
    "FetchPolicy",
    "FetchedDocument",
    "PostResult",
    "SafeClient",
    "build_ssl_context",
]

AS2_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JSON_ACCEPT = "application/jrd+json, application/json"

_AS2_TYPES = frozenset({"application/activity+json", "application/ld+json"})
_PLAIN_JSON_TYPES = frozenset({"application/json", "application/jrd+json"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_FORBIDDEN_IN_HEADERS = frozenset("\r\n\0")
_POST_HEADERS = {"Content-Type": "application/activity+json", "Accept-Encoding": "identity"}


@dataclass(frozen=True, kw_only=True)
class FetchPolicy:
    """What outgoing requests may do. The defaults are the limits of SECURITY.md 26-32.

    ``private_networks`` are the non-public networks requests may reach (tests, an operator's
    explicit choice: ``FEDI_ALLOW_PRIVATE_ADDRESSES``), never link-local or metadata addresses;
    ``allow_http`` permits plain ``http://`` URLs (rule 26). ``ca_bundle`` names a PEM file of
    CA certificates trusted in addition to the default store (``FEDI_CA_BUNDLE``); ``proxy`` is
    an ``http://host:port`` proxy every request is tunnelled through (``FEDI_HTTP_PROXY``).
    """

    user_agent: str
    private_networks: tuple[IPNetwork, ...] = ()
    allow_http: bool = False
    ca_bundle: Path | None = None
    proxy: str | None = None
    max_body: int = 1024 * 1024
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    max_redirects: int = 3
    max_json_depth: int = 64
    max_connections: int = 256
    per_host_connections: int = 4
    keepalive_expiry: float = 30.0
    post_excerpt: int = 2048


class FetchBudget:
    """How many outgoing requests one incoming activity may still cause (rule 32).

    Every HTTP request a fetch makes (redirect hops and an id re-fetch included) costs one.
    """

    def __init__(self, limit: int = 20) -> None:
        self.limit = limit
        self.used = 0

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def charge(self) -> None:
        """Spend one request, or raise :class:`BudgetExhausted` if none is left."""
        if self.used >= self.limit:
            raise BudgetExhausted(f"more than {self.limit} fetches")
        self.used += 1


@dataclass(frozen=True)
class FetchedDocument:
    """A fetched JSON object and the URL (without fragment) it was finally served from."""

    url: str
    data: dict[str, Any]
    content_type: str


@dataclass(frozen=True)
class PostResult:
    """A delivery's outcome: status, ``Retry-After`` in seconds if given, start of the answer."""

    status: int
    retry_after: float | None
    body_excerpt: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def build_ssl_context(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """The certifi store (as httpx uses), plus the certificates in ``ca_bundle`` if given."""
    context = ssl.create_default_context(cafile=certifi.where())
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return context


@contextlib.contextmanager
def _as_fetch_errors() -> Iterator[None]:
    """Turn every failure below into a :class:`FetchError` (STYLE.md 10)."""
    try:
        yield
    except FetchError:
        raise
    except (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout) as exc:
        raise FetchTimeout("connect timed out") from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"timed out ({_detail(exc)})") from exc
    except TimeoutError as exc:  # asyncio.timeout: the total deadline (rule 29)
        raise FetchTimeout("total deadline passed") from exc
    except (aiohttp.InvalidURL, httpx.LocalProtocolError) as exc:
        raise BadUrl(f"bad request: {_detail(exc)}") from exc
    except aiohttp.ClientHttpProxyError as exc:
        raise NetworkError(f"proxy refused: {exc.status} {exc.message}"[:200]) from exc
    except (
        aiohttp.ClientResponseError,
        aiohttp.ClientPayloadError,
        aiohttp.ServerDisconnectedError,
        httpx.RemoteProtocolError,
    ) as exc:
        raise NetworkError(f"bad response: {_detail(exc)}") from exc
    except (aiohttp.ClientError, httpx.TransportError, ssl.SSLError, OSError) as exc:
        raise NetworkError(f"cannot connect: {_detail(exc)}") from exc
    except (httpx.InvalidURL, httpx.DecodingError) as exc:
        raise FetchError(f"bad response: {_detail(exc)}") from exc


def _detail(exc: BaseException) -> str:
    """A short human reason: the deepest cause's message (``Connection refused``), else its type."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    message = (getattr(exc, "strerror", None) or str(exc)).strip().splitlines()
    return message[0][:200] if message and message[0] else type(exc).__name__


class SafeClient:
    """Outgoing HTTP for federation. Create one per application, use it as an async context
    manager (or call :meth:`aclose`). ``resolver`` replaces the system resolver (tests map
    ``*.test`` names with it); ``network`` makes the socket for each checked address aiohttp
    connects to (tests record them); ``transport`` replaces the network entirely (an
    :class:`httpx.MockTransport` serving fixtures) and with it the connect-time address check,
    while URL checks, redirects, caps and document checks still apply.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: Resolver | None = None,
        network: SocketFactory | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy
        if transport is None:
            names = resolver or system_resolver
            guard = GuardedResolver(
                names, private_networks=policy.private_networks, timeout=policy.connect_timeout
            )
            transport = AiohttpTransport(
                guard,
                names,
                ssl_context=build_ssl_context(policy.ca_bundle),
                max_connections=policy.max_connections,
                per_host_connections=policy.per_host_connections,
                keepalive_expiry=policy.keepalive_expiry,
                connect_timeout=policy.connect_timeout,
                proxy=policy.proxy,
                socket_factory=network,
            )
        self._transport = transport
        # Reads and writes are bounded by the total deadline around every call (rule 29).
        self._timeouts = {"connect": policy.connect_timeout}
        self._user_agent = policy.user_agent

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._transport.aclose()

    def _merged_headers(
        self, defaults: Mapping[str, str], headers: Mapping[str, str] | None
    ) -> dict[str, tuple[str, str]]:
        """Our ``User-Agent``, then ``defaults``, then the caller's ``headers``, by lower-case
        name: a caller's header replaces a default, ours included."""
        merged = {"user-agent": ("User-Agent", self._user_agent)}
        for name, value in defaults.items():
            merged[name.lower()] = (name, value)
        for name, value in (headers or {}).items():
            merged[name.lower()] = (name, value)
        return merged

    def _request(
        self,
        method: str,
        url: str,
        defaults: Mapping[str, str],
        headers: Mapping[str, str] | None,
        body: bytes | None,
    ) -> httpx.Request:
        """The one request builder, for fetches and deliveries; CR, LF or NUL in a header is
        refused here, before anything is sent (header injection)."""
        merged = list(self._merged_headers(defaults, headers).values())
        for name, value in merged:
            if _FORBIDDEN_IN_HEADERS.intersection(name + value):
                raise BadUrl(f"bad request: control character in header {name[:40]!r}")
        return httpx.Request(
            method,
            url,
            headers=merged,
            content=body,
            extensions={"timeout": self._timeouts},
        )

    async def _send(self, request: httpx.Request, auth: httpx.Auth | None) -> httpx.Response:
        """One HTTP exchange on the transport, through ``auth``'s flow; the body is not read.

        httpx.AsyncClient is not used: it keeps cookies, and even with redirects off it parses
        every ``Location`` (raising on odd ones) to offer ``next_request``; its per-request work
        also showed in the delivery benchmark. This is its auth loop, for fetches and deliveries
        alike. Auth flows that need the response body are not supported (it would be read
        without the cap).
        """
        if auth is None:
            response = await self._transport.handle_async_request(request)
            response.request = request
            return response
        if auth.requires_response_body:
            raise TypeError("auth flows that read response bodies are not supported")
        if auth.requires_request_body:
            await request.aread()
        flow = auth.async_auth_flow(request)
        try:
            request = await flow.__anext__()
            while True:
                response = await self._transport.handle_async_request(request)
                response.request = request
                try:
                    request = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                await response.aclose()
        finally:
            await flow.aclose()

    def check_url(self, url: str) -> str:
        """Normalise ``url`` for a request under this policy, or raise :class:`BadUrl` /
        :class:`BlockedAddress` (an IP-literal host that is not public). Names are checked once
        resolved, at connect time.
        """
        normalized = normalize_url(url, allow_http=self.policy.allow_http)
        host = urlsplit(normalized).hostname or ""
        problem = connect_problem(host, self.policy.private_networks)
        if problem not in (None, "not an address"):
            raise BlockedAddress(f"{host} is a {problem} address")
        return normalized

    async def fetch_json(
        self,
        url: str,
        *,
        auth: httpx.Auth | None = None,
        accept: str = AS2_ACCEPT,
        expect_activitystreams: bool = True,
        budget: FetchBudget | None = None,
    ) -> FetchedDocument:
        """GET a JSON object, following at most ``max_redirects`` re-validated redirects.

        With ``expect_activitystreams`` (the default) the Content-Type must be
        ``application/activity+json`` or ``application/ld+json`` and the document's ``id`` must be
        the URL finally fetched; if it is not, the document is fetched once more from its ``id``
        when that is on the host first asked, and must then match (rule 30). ``url`` fields never
        vouch for anything. Without it (WebFinger, NodeInfo), ``application/json`` and
        ``application/jrd+json`` are accepted too and ``id`` is not looked at.
        The total deadline covers the whole call. Raises :class:`FetchError` subclasses only.
        """
        start = self.check_url(url)
        with _as_fetch_errors():
            async with asyncio.timeout(self.policy.total_timeout):
                return await self._fetch_json(start, auth, accept, expect_activitystreams, budget)

    async def _fetch_json(
        self,
        start: str,
        auth: httpx.Auth | None,
        accept: str,
        expect_activitystreams: bool,
        budget: FetchBudget | None,
    ) -> FetchedDocument:
        document = await self._get_json(start, auth, accept, expect_activitystreams, budget)
        if not expect_activitystreams:
            return document
        document_id = document.data.get("id")
        if not isinstance(document_id, str):
            raise BadDocument("document has no id")
        if same_document(document_id, document.url):
            return document
        try:
            same_host = host_of(document_id) == host_of(start)
        except BadUrl:
            same_host = False
        if not same_host:
            raise IdMismatch(f"id is not {document.url}")
        again = await self._get_json(
            self.check_url(document_id), auth, accept, expect_activitystreams, budget
        )
        again_id = again.data.get("id")
        if not isinstance(again_id, str) or not same_document(again_id, again.url):
            raise IdMismatch(f"id is not {again.url} after re-fetch")
        return again

    async def _get_json(
        self,
        url: str,
        auth: httpx.Auth | None,
        accept: str,
        expect_activitystreams: bool,
        budget: FetchBudget | None,
    ) -> FetchedDocument:
        visited = {without_fragment(url)}
        current = url
        for hop in range(self.policy.max_redirects + 1):
            if budget is not None:
                budget.charge()
            request = self._request(
                "GET", current, {"Accept": accept, "Accept-Encoding": "gzip"}, None, None
            )
            response = await self._send(request, auth)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location is not None:
                    if hop == self.policy.max_redirects:
                        raise TooManyRedirects(f"more than {self.policy.max_redirects} redirects")
                    current = self._redirect_target(current, location)
                    if without_fragment(current) in visited:
                        raise RedirectLoop(f"redirect loop at {current}")
                    visited.add(without_fragment(current))
                    continue
                if not 200 <= response.status_code < 300:
                    raise HttpStatusError(response.status_code)
                content_type = media_type(response.headers.get("content-type"))
                accepted = _AS2_TYPES if expect_activitystreams else _AS2_TYPES | _PLAIN_JSON_TYPES
                if content_type not in accepted:
                    raise BadContentType(f"content type {content_type[:60] or 'missing'}")
                body = await read_capped(response, self.policy.max_body)
            finally:
                await response.aclose()
            data = parse_json_object(body, max_depth=self.policy.max_json_depth)
            return FetchedDocument(
                url=without_fragment(current), data=data, content_type=content_type
            )
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _redirect_target(self, current: str, location: str) -> str:
        # Rule 28: a redirect is a new request; file:, data:, gopher: and friends fail the scheme
        # check, http fails unless allowed, and a private target fails like any other URL.
        try:
            target = urljoin(current, location.strip())
        except ValueError as exc:  # e.g. "http://[::1": an unparseable Location
            raise BadUrl(f"bad redirect location: {exc}") from exc
        return self.check_url(target)

    async def post(
        self,
        url: str,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> PostResult:
        """POST ``body`` (a delivery). Redirects are not followed: a 3xx is returned as is.

        ``Content-Type`` defaults to ``application/activity+json``. At most ``post_excerpt``
        bytes of the answer are read, for logs; the rest is discarded. ``retry_after`` is parsed
        from seconds or an HTTP-date. Raises :class:`FetchError` subclasses only, never for a
        status.
        """
        target = self.check_url(url)
        with _as_fetch_errors():
            async with asyncio.timeout(self.policy.total_timeout):
                request = self._request("POST", target, _POST_HEADERS, headers, body)
                response = await self._send(request, auth)
                try:
                    excerpt = await read_excerpt(response, self.policy.post_excerpt)
                finally:
                    await response.aclose()
        return PostResult(
            status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("retry-after"), now=time.time()),
            body_excerpt=excerpt.decode("utf-8", "replace"),
        )
