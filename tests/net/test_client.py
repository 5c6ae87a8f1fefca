"""SafeClient against a real uvicorn peer on 127.0.0.1: tests grouped by SECURITY.md rule 26-32.

Host names ending in ``.test`` reach the peer through an injected resolver; "public" names that
resolve to private addresses exercise the connect-time guard.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from fedi.instance import fetch_policy
from fedi.net import (
    LOOPBACK_NETWORKS,
    BadContentType,
    BadDocument,
    BadUrl,
    BlockedAddress,
    BudgetExhausted,
    FetchBudget,
    FetchError,
    FetchPolicy,
    FetchTimeout,
    HttpStatusError,
    IdMismatch,
    NetworkError,
    RedirectLoop,
    SafeClient,
    TooLarge,
    TooManyRedirects,
)
from fedi.net.body import parse_retry_after
from fedi.net.client import build_ssl_context
from fedi.net.resolver import GuardedResolver
from fedi.net.transport import AiohttpTransport
from fedi.settings import load_settings
from fedi.testing.server import run_server
from fedi.testing.tls import make_test_ca
from tests.net.peer import MIB, Peer

POLICY = FetchPolicy(
    user_agent="fedi-test/1.0", private_networks=LOOPBACK_NETWORKS, allow_http=True
)


@pytest.fixture(scope="module")
def peer_server() -> Iterator[tuple[Peer, int]]:
    peer = Peer()
    with run_server(peer.app) as base:
        yield peer, int(base.rsplit(":", 1)[1])


@pytest.fixture
def peer(peer_server: tuple[Peer, int]) -> Peer:
    peer_server[0].seen.clear()
    peer_server[0].client_ports.clear()
    return peer_server[0]


@pytest.fixture
def port(peer_server: tuple[Peer, int]) -> int:
    return peer_server[1]


def table_resolver(table: dict[str, Sequence[str]]) -> object:
    async def resolve(host: str, port: int) -> Sequence[str]:
        if host.endswith(".test"):
            return ["127.0.0.1"]
        if host in table:
            return table[host]
        raise OSError(f"unknown host {host}")

    return resolve


async def loopback(host: str, port: int) -> Sequence[str]:
    if host.endswith(".test") or host == "localhost":
        return ["127.0.0.1"]
    raise OSError(f"unknown host {host}")


@pytest.fixture
async def client() -> AsyncIterator[SafeClient]:
    async with SafeClient(POLICY, resolver=loopback) as safe:
        yield safe


# --- the happy paths ------------------------------------------------------------------------


async def test_fetches_activitystreams_document(client: SafeClient, port: int) -> None:
    url = f"http://peer.test:{port}/doc/1"
    document = await client.fetch_json(url)
    assert document.url == url
    assert document.data["id"] == url
    assert document.content_type == "application/activity+json"


async def test_sends_user_agent_and_accept(client: SafeClient, port: int) -> None:
    document = await client.fetch_json(f"http://peer.test:{port}/echo")
    headers = document.data["headers"]
    assert headers["user-agent"] == "fedi-test/1.0"
    assert headers["accept"].startswith("application/activity+json")


async def test_keeps_no_cookies(client: SafeClient, port: int) -> None:
    await client.fetch_json(f"http://peer.test:{port}/cookie")
    document = await client.fetch_json(f"http://peer.test:{port}/echo")
    assert "cookie" not in document.data["headers"]


async def test_key_id_fragment_matches_document(client: SafeClient, port: int) -> None:
    document = await client.fetch_json(f"http://peer.test:{port}/doc/actor#main-key")
    assert document.url == f"http://peer.test:{port}/doc/actor"


async def test_gzip_body_is_decoded(client: SafeClient, port: int) -> None:
    document = await client.fetch_json(f"http://peer.test:{port}/gzipped")
    assert document.data["type"] == "Note"


async def test_body_just_under_the_cap_is_accepted(client: SafeClient, port: int) -> None:
    document = await client.fetch_json(f"http://peer.test:{port}/big-json")
    assert len(document.data["pad"]) == MIB - 100


async def test_error_status_is_raised_with_its_code(client: SafeClient, port: int) -> None:
    with pytest.raises(HttpStatusError) as caught:
        await client.fetch_json(f"http://peer.test:{port}/status/410")
    assert caught.value.status == 410


async def test_refused_connection_is_a_network_error(client: SafeClient) -> None:
    with anyio.fail_after(10):
        with pytest.raises(NetworkError):
            await client.fetch_json("http://peer.test:1/doc")


# --- rule 26: only http(s), http only when allowed -----------------------------------------


@pytest.mark.parametrize("url", ["ftp://peer.test/doc", "file:///etc/passwd", "gopher://x.test/"])
async def test_rule26_other_schemes_refused(client: SafeClient, url: str) -> None:
    with pytest.raises(BadUrl):
        await client.fetch_json(url)


async def test_rule26_plain_http_refused_unless_allowed(port: int, peer: Peer) -> None:
    async with SafeClient(replace(POLICY, allow_http=False), resolver=loopback) as strict:
        with pytest.raises(BadUrl):
            await strict.fetch_json(f"http://peer.test:{port}/doc")
        with pytest.raises(BadUrl):
            await strict.post(f"http://peer.test:{port}/inbox", b"{}")
    assert peer.seen == []


# --- rule 27: non-public addresses refused at connect time ---------------------------------


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["10.0.0.1"],
        ["::ffff:127.0.0.1"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["::1"],
        ["fd00::1"],
        ["64:ff9b::a00:1"],
        ["2002:7f00:1::1"],
        ["93.184.215.14", "127.0.0.1"],  # one bad answer among good ones is enough
    ],
)
async def test_rule27_public_name_resolving_to_private_address(
    port: int, peer: Peer, addresses: list[str]
) -> None:
    policy = replace(POLICY, private_networks=())
    resolver = table_resolver({"evil.example": addresses})
    async with SafeClient(policy, resolver=resolver) as guarded:  # type: ignore[arg-type]
        with pytest.raises(BlockedAddress):
            await guarded.fetch_json(f"http://evil.example:{port}/doc")
        with pytest.raises(BlockedAddress):
            await guarded.post(f"http://evil.example:{port}/inbox", b"{}")
    assert peer.seen == []


class RecordingNetwork:
    """Stands in for the network: records where it was asked to connect, then fails."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, int]] = []

    def __call__(self, addr_info: tuple[Any, ...]) -> socket.socket:
        self.targets.append((addr_info[4][0], addr_info[4][1]))
        raise OSError("recorded")


async def test_rule27_dns_rebinding_is_defeated() -> None:
    # The name first resolves to a public address, then to loopback (a rebinding attack).
    answers = [["93.184.215.14"], ["127.0.0.1"]]

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return answers.pop(0)

    sockets = RecordingNetwork()
    policy = replace(POLICY, private_networks=())
    async with SafeClient(policy, resolver=rebinding, network=sockets) as guarded:
        with pytest.raises(NetworkError):
            await guarded.fetch_json("https://rebind.example/doc")
        # It connected to the very address it checked, never to the name again...
        assert sockets.targets == [("93.184.215.14", 443)]
        # ...and the next connection resolves and checks afresh.
        with pytest.raises(BlockedAddress):
            await guarded.fetch_json("https://rebind.example/doc")
    assert sockets.targets == [("93.184.215.14", 443)]


async def test_rule27_transport_refuses_private_literals_itself() -> None:
    # SafeClient refuses them first; the transport does not rely on that.
    sockets = RecordingNetwork()
    transport = AiohttpTransport(
        GuardedResolver(loopback, private_networks=(), timeout=5),
        loopback,
        ssl_context=build_ssl_context(),
        max_connections=4,
        per_host_connections=1,
        keepalive_expiry=1,
        connect_timeout=5,
        socket_factory=sockets,
    )
    try:
        for url in ("http://127.0.0.1/", "http://[::1]/", "http://10.0.0.1/"):
            with pytest.raises(BlockedAddress):
                await transport.handle_async_request(httpx.Request("GET", url))
    finally:
        await transport.aclose()
    assert sockets.targets == []


@pytest.mark.parametrize(
    ("allowed", "address", "reached"),
    [
        ("on", "127.0.0.1", True),
        ("on", "10.0.0.1", False),  # "on" opens loopback only
        ("10.0.0.0/8", "10.0.0.1", True),
        ("10.0.0.0/8", "192.168.0.1", False),
        ("0.0.0.0/0,::/0", "169.254.169.254", False),  # metadata, whatever the setting says
        ("169.254.0.0/16", "169.254.169.254", False),
        ("0.0.0.0/0,::/0", "fe80::1", False),
        ("fd00::/8", "fd00:ec2::254", False),
    ],
)
async def test_rule27_operator_allowed_networks(
    tmp_path: Path, allowed: str, address: str, reached: bool
) -> None:
    settings = load_settings(
        {"FEDI_DATA_DIR": str(tmp_path), "FEDI_ALLOW_PRIVATE_ADDRESSES": allowed}
    )
    network = RecordingNetwork()
    resolver = table_resolver({"inside.example": [address]})
    policy = fetch_policy(settings)
    async with SafeClient(policy, resolver=resolver, network=network) as client:  # type: ignore[arg-type]
        expected = NetworkError if reached else BlockedAddress  # the recorder then fails
        with pytest.raises(expected):
            await client.fetch_json("https://inside.example/actor")
        literal = f"[{address}]" if ":" in address else address
        with pytest.raises(expected):
            await client.post(f"https://{literal}/inbox", b"{}")
    assert network.targets == ([(address, 443)] * 2 if reached else [])


async def test_rule27_resolver_result_is_what_is_connected_to(
    client: SafeClient, port: int
) -> None:
    # "peer.test" is unknown to the system resolver: only the injected answer can reach the peer.
    document = await client.fetch_json(f"http://peer.test:{port}/doc")
    assert document.data["type"] == "Note"


async def test_rule27_ip_literals_refused_before_sending(peer: Peer, port: int) -> None:
    async with SafeClient(replace(POLICY, private_networks=()), resolver=loopback) as guarded:
        for host in ("127.0.0.1", "[::1]", "[::ffff:7f00:1]", "10.1.2.3", "0.0.0.0"):
            with pytest.raises(BlockedAddress):
                await guarded.fetch_json(f"http://{host}:{port}/doc")
    assert peer.seen == []


async def test_rule27_guard_lets_public_addresses_through() -> None:
    resolver = table_resolver({"ok.example": ["93.184.215.14", "2606:4700::1"]})
    guard = GuardedResolver(resolver, private_networks=(), timeout=5)  # type: ignore[arg-type]
    assert await guard.addresses("ok.example", 443) == ["93.184.215.14", "2606:4700::1"]


async def test_rule27_unknown_name_is_a_network_error(client: SafeClient) -> None:
    with pytest.raises(NetworkError):
        await client.fetch_json("https://unknown.invalid/doc")


# --- rule 28: redirects ---------------------------------------------------------------------


async def test_rule28_three_redirects_followed(client: SafeClient, port: int, peer: Peer) -> None:
    document = await client.fetch_json(f"http://peer.test:{port}/hop/3")
    assert document.url == f"http://peer.test:{port}/hop/0"
    assert peer.paths() == ["/hop/3", "/hop/2", "/hop/1", "/hop/0"]


async def test_rule28_relative_redirect(client: SafeClient, port: int) -> None:
    document = await client.fetch_json(f"http://peer.test:{port}/relative")
    assert document.url == f"http://peer.test:{port}/doc/relative"


async def test_rule28_fourth_redirect_refused(client: SafeClient, port: int, peer: Peer) -> None:
    with pytest.raises(TooManyRedirects):
        await client.fetch_json(f"http://peer.test:{port}/hop/4")
    assert len(peer.seen) == 4


async def test_rule28_loop_detected(client: SafeClient, port: int, peer: Peer) -> None:
    with pytest.raises(RedirectLoop):
        await client.fetch_json(f"http://peer.test:{port}/loop-a")
    assert peer.paths() == ["/loop-a", "/loop-b"]


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "data:application/json,{}", "gopher://peer.test:70/x", "ftp://x.test/"],
)
async def test_rule28_scheme_switch_refused(client: SafeClient, port: int, location: str) -> None:
    with pytest.raises(BadUrl):
        await client.fetch_json(
            str(httpx.URL(f"http://peer.test:{port}/to", params={"u": location}))
        )


async def test_rule28_redirect_to_private_address_refused(port: int, peer: Peer) -> None:
    # The first hop is reached through a transport without the guard; the redirect target
    # must still be re-validated (an IP literal is refused before any connection).
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "https://169.254.169.254/latest/meta-data"})

    policy = replace(POLICY, private_networks=())
    async with SafeClient(policy, transport=httpx.MockTransport(handler)) as mocked:
        with pytest.raises(BlockedAddress):
            await mocked.fetch_json("https://peer.example/key")


async def test_rule28_post_does_not_follow_redirects(
    client: SafeClient, port: int, peer: Peer
) -> None:
    result = await client.post(f"http://peer.test:{port}/moved-inbox", b"{}")
    assert result.status == 308
    assert peer.paths() == ["/moved-inbox"]


# --- rule 29: body cap and deadlines --------------------------------------------------------


async def test_rule29_streamed_body_over_cap(client: SafeClient, port: int) -> None:
    with pytest.raises(TooLarge):
        await client.fetch_json(f"http://peer.test:{port}/chunked")


async def test_rule29_declared_length_over_cap(client: SafeClient, port: int) -> None:
    with pytest.raises(TooLarge):
        await client.fetch_json(f"http://peer.test:{port}/declared")


async def test_rule29_gzip_bomb_stops_at_cap(client: SafeClient, port: int) -> None:
    with pytest.raises(TooLarge):
        await client.fetch_json(f"http://peer.test:{port}/bomb")


async def test_rule29_slow_body_hits_total_deadline(port: int) -> None:
    policy = replace(POLICY, total_timeout=0.5)
    async with SafeClient(policy, resolver=loopback) as quick:
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            await quick.fetch_json(f"http://peer.test:{port}/slow")
        assert time.monotonic() - started < 2.0


async def test_rule29_connect_timeout(port: int) -> None:
    async def stuck(host: str, port: int) -> Sequence[str]:
        await anyio.sleep(10)
        return ["127.0.0.1"]

    policy = replace(POLICY, connect_timeout=0.2)
    async with SafeClient(policy, resolver=stuck) as quick:
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            await quick.fetch_json(f"http://peer.test:{port}/doc")
        assert time.monotonic() - started < 2.0


async def test_rule29_delivery_answer_is_capped(client: SafeClient, port: int) -> None:
    result = await client.post(f"http://peer.test:{port}/chatty", b"{}")
    assert result.status == 400
    assert result.body_excerpt == "e" * POLICY.post_excerpt


# --- rule 30: content type and id -----------------------------------------------------------


async def test_rule30_html_refused(client: SafeClient, port: int) -> None:
    with pytest.raises(BadContentType):
        await client.fetch_json(f"http://peer.test:{port}/html")


async def test_rule30_plain_json_refused_for_activitystreams(client: SafeClient, port: int) -> None:
    with pytest.raises(BadContentType):
        await client.fetch_json(f"http://peer.test:{port}/plain")


async def test_rule30_plain_json_accepted_when_asked(client: SafeClient, port: int) -> None:
    jrd = await client.fetch_json(f"http://peer.test:{port}/jrd", expect_activitystreams=False)
    assert jrd.data["subject"] == "acct:a@peer.test"
    plain = await client.fetch_json(f"http://peer.test:{port}/plain", expect_activitystreams=False)
    assert plain.content_type == "application/json"


async def test_rule30_ld_json_with_profile_accepted(client: SafeClient, port: int) -> None:
    document = await client.fetch_json(f"http://peer.test:{port}/ld")
    assert document.content_type == "application/ld+json"


async def test_rule30_foreign_id_refused(client: SafeClient, port: int, peer: Peer) -> None:
    with pytest.raises(IdMismatch):
        await client.fetch_json(f"http://peer.test:{port}/wrong-id")
    assert peer.paths() == ["/wrong-id"]  # no fetch from another host's id


async def test_rule30_authority_never_from_url(client: SafeClient, port: int) -> None:
    with pytest.raises(IdMismatch):
        await client.fetch_json(f"http://peer.test:{port}/url-claim")


async def test_rule30_same_host_id_is_refetched_once(
    client: SafeClient, port: int, peer: Peer
) -> None:
    document = await client.fetch_json(f"http://peer.test:{port}/moved-id")
    assert document.url == f"http://peer.test:{port}/doc/moved"
    assert peer.paths() == ["/moved-id", "/doc/moved"]


async def test_rule30_refetch_must_match(client: SafeClient, port: int, peer: Peer) -> None:
    with pytest.raises(IdMismatch):
        await client.fetch_json(f"http://peer.test:{port}/lying-id")
    assert peer.paths() == ["/lying-id", "/wrong-id/again"]


@pytest.mark.parametrize("path", ["/no-id", "/array", "/deep/65"])
async def test_rule30_bad_documents(client: SafeClient, port: int, path: str) -> None:
    with pytest.raises(BadDocument):
        await client.fetch_json(f"http://peer.test:{port}{path}")


async def test_rule30_depth_64_accepted(client: SafeClient, port: int) -> None:
    await client.fetch_json(f"http://peer.test:{port}/deep/63")  # + the document itself: 64


# --- rule 31: strict names, CR/LF refused before sending -------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://peer.test:{port}/doc\r\nX-Injected: 1",
        "http://peer.test:{port}/doc%0d%0a\n",
        "http://user:pw@peer.test:{port}/doc",
        "http://peer.test:{port}/d oc",
        "http://peer.test\t:{port}/doc",
    ],
)
async def test_rule31_bad_urls_refused_before_sending(
    client: SafeClient, port: int, peer: Peer, url: str
) -> None:
    with pytest.raises(BadUrl):
        await client.fetch_json(url.format(port=port))
    with pytest.raises(BadUrl):
        await client.post(url.format(port=port), b"{}")
    assert peer.seen == []


async def test_rule31_host_normalised(client: SafeClient, port: int, peer: Peer) -> None:
    document = await client.fetch_json(f"http://PEER.Test.:{port}/doc/n")
    assert document.url == f"http://peer.test:{port}/doc/n"
    assert peer.seen[0][2]["host"] == f"peer.test:{port}"


# --- rule 32: fetch budget ------------------------------------------------------------------


async def test_rule32_budget_of_twenty(client: SafeClient, port: int, peer: Peer) -> None:
    budget = FetchBudget()
    for n in range(20):
        await client.fetch_json(f"http://peer.test:{port}/doc/{n}", budget=budget)
    with pytest.raises(BudgetExhausted):
        await client.fetch_json(f"http://peer.test:{port}/doc/21", budget=budget)
    assert len(peer.seen) == 20


async def test_rule32_redirects_are_charged(client: SafeClient, port: int) -> None:
    budget = FetchBudget(limit=3)
    with pytest.raises(BudgetExhausted):
        await client.fetch_json(f"http://peer.test:{port}/hop/3", budget=budget)
    assert budget.remaining == 0


# --- deliveries -----------------------------------------------------------------------------


async def test_post_delivers(client: SafeClient, port: int, peer: Peer) -> None:
    result = await client.post(
        f"http://peer.test:{port}/inbox", b'{"type": "Follow"}', headers={"X-Test": "1"}
    )
    assert (result.status, result.ok, result.retry_after) == (202, True, None)
    method, path, headers = peer.seen[0]
    assert (method, path) == ("POST", "/inbox")
    assert headers["content-type"] == "application/activity+json"
    assert headers["x-test"] == "1"


async def test_post_caller_headers_replace_defaults(
    client: SafeClient, port: int, peer: Peer
) -> None:
    await client.post(
        f"http://peer.test:{port}/inbox",
        b"{}",
        headers={"content-type": "application/ld+json", "user-agent": "other/2"},
    )
    headers = peer.seen[0][2]
    assert headers["content-type"] == "application/ld+json"
    assert headers["user-agent"] == "other/2"


async def test_keepalive_reuse_per_host(port: int, peer: Peer) -> None:
    async with SafeClient(POLICY, resolver=loopback) as client:
        for host in ("a.test", "a.test", "b.test", "a.test"):
            await client.post(f"http://{host}:{port}/inbox", b"{}")
    first, again, other, last = peer.client_ports
    assert first == again == last  # kept alive and reused
    assert other != first  # each host has its own connections


async def test_post_retry_after_seconds_and_date(client: SafeClient, port: int) -> None:
    busy = await client.post(f"http://peer.test:{port}/busy", b"{}")
    assert (busy.status, busy.retry_after) == (429, 120.0)
    down = await client.post(f"http://peer.test:{port}/down", b"{}")
    assert (down.status, down.retry_after) == (503, 0.0)  # that date is in the past


async def test_post_is_signed_by_auth(client: SafeClient, port: int, peer: Peer) -> None:
    class Stamp(httpx.Auth):
        requires_request_body = True

        def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
            request.headers["Signature"] = f"len={len(request.content)}"
            yield request

    await client.post(f"http://peer.test:{port}/inbox", b"12345", auth=Stamp())
    assert peer.seen[0][2]["signature"] == "len=5"


async def test_errors_are_fetch_errors(client: SafeClient) -> None:
    with pytest.raises(FetchError):
        await client.post("https://unknown.invalid/inbox", b"{}")


# --- TLS: verification by name, extra CA bundle ----------------------------------------------


async def test_tls_uses_host_name_and_extra_ca_bundle(tmp_path: Path) -> None:
    ca = make_test_ca(tmp_path)
    peer = Peer()
    with run_server(peer.app, ssl_certfile=ca.cert_path, ssl_keyfile=ca.key_path) as base:
        port = int(base.rsplit(":", 1)[1])
        trusted = replace(POLICY, ca_bundle=ca.ca_cert_path)
        async with SafeClient(trusted, resolver=loopback) as client:
            document = await client.fetch_json(f"https://localhost:{port}/doc")
            assert document.url == f"https://localhost:{port}/doc"
            # Same address, but the certificate does not name peer.test: refused, which shows
            # that verification used the name and not the IP connected to.
            with pytest.raises(NetworkError):
                await client.fetch_json(f"https://peer.test:{port}/doc")
        async with SafeClient(POLICY, resolver=loopback) as untrusting:
            with pytest.raises(NetworkError):
                await untrusting.fetch_json(f"https://localhost:{port}/doc")


async def test_a_refused_connection_gives_a_reason_a_person_can_read() -> None:
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = FetchPolicy(user_agent="test", private_networks=LOOPBACK_NETWORKS, allow_http=True)
    async with SafeClient(policy) as client:
        with pytest.raises(NetworkError) as caught:
            await client.fetch_json(f"http://127.0.0.1:{port}/actor")
    assert caught.value.reason.startswith("cannot connect: ")
    # The cause is carried (the address tried, or the system's "refused"), not a class name.
    detail = caught.value.reason.removeprefix("cannot connect: ")
    assert str(port) in detail or "refused" in detail.lower(), detail


async def test_an_unparseable_redirect_location_is_a_bad_url() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://[::1"})

    policy = FetchPolicy(user_agent="test")
    async with SafeClient(policy, transport=httpx.MockTransport(serve)) as client:
        with pytest.raises(BadUrl, match="bad redirect location"):
            await client.fetch_json("https://peer.test/actor")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9" * 400, float("inf")),
        ("Mon, 01 Jan 2024 00:00:00 +99999999999999999999", None),
        ("120", 120.0),
    ],
)
def test_hostile_retry_after_values_do_not_raise(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, now=0.0) == expected
