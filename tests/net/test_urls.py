"""URL normalisation (SECURITY.md rules 26, 31) and address classification (rule 27)."""

from __future__ import annotations

import ipaddress
import random

import pytest

from fedi.net import (
    LOOPBACK_NETWORKS,
    BadUrl,
    address_problem,
    connect_problem,
    host_of,
    is_public_address,
    normalize_host,
    normalize_url,
    same_document,
)
from fedi.net.body import json_depth_exceeds, parse_retry_after
from fedi.net.urls import IPNetwork, _scheme_and_authority


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),
        ("https://example.com.", "https://example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com:/a", "https://example.com/a"),
        ("https://Bücher.Example/a", "https://xn--bcher-kva.example/a"),
        ("https://xn--bcher-kva.example/a", "https://xn--bcher-kva.example/a"),
        ("https://example.com/tags/日本", "https://example.com/tags/%E6%97%A5%E6%9C%AC"),
        ("https://example.com/a%20b?q=1&r=%2F", "https://example.com/a%20b?q=1&r=%2F"),
        ("https://example.com/users/a#main-key", "https://example.com/users/a#main-key"),
        ("https://[2606:4700:0::1]:8443/x", "https://[2606:4700::1]:8443/x"),
        ("https://93.184.215.14/x", "https://93.184.215.14/x"),
    ],
)
def test_normalize_url(raw: str, normal: str) -> None:
    assert normalize_url(raw) == normal


@pytest.mark.parametrize(
    "raw",
    [
        "http://example.com/",  # rule 26: http needs allow_http
        "ftp://example.com/",
        "file:///etc/passwd",
        "data:text/plain,hi",
        "javascript:alert(1)",
        "gopher://example.com/",
        "//example.com/a",
        "/relative",
        "https:///nohost",
        "https://user@example.com/",  # rule 31: no userinfo
        "https://user:pw@example.com/",
        "https://example.com@evil.com/",
        "https://example.com/a\r\nHost: evil",  # rule 31: CR/LF anywhere
        "https://example.com/\n",
        "https://exa\rmple.com/",
        "https://example.com/a b",
        "https://example.com/\t",
        "https://example.com/\x00",
        "https://example.com/\u200b",  # zero-width space (format character)
        "https://example.com\\@evil.com/",
        " https://example.com/",
        "https://exa mple.com/",
        "https://example..com/",
        "https://-example.com/",
        "https://example.com:99999/",
        "https://example.com:0/",
        "https://example.com:8o/",
        "https://127.1/",  # rule 31: resolvers would read these as loopback
        "https://0x7f.0.0.1/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://[::1%25eth0]/",
        "https://[not-ipv6]/",
        "https://" + "a" * 64 + ".com/",
        "https://" + ("a" * 60 + ".") * 5 + "com/",
        "https://exa%2Emple.com/",
    ],
)
def test_normalize_url_refuses(raw: str) -> None:
    with pytest.raises(BadUrl):
        normalize_url(raw)


def test_http_allowed_when_asked() -> None:
    assert normalize_url("HTTP://Peer.Test:80/x", allow_http=True) == "http://peer.test/x"


def test_normalize_host_keeps_ipv6_unbracketed() -> None:
    assert normalize_host("[2001:DB8::1]") == "2001:db8::1"
    assert normalize_host("Example.ORG.") == "example.org"


def test_host_of() -> None:
    assert host_of("https://Example.com:443/a") == "example.com"
    assert host_of("https://example.com:8443/a") == "example.com:8443"
    assert host_of("http://peer.test:80/a") == "peer.test"
    assert host_of("https://[::1]:8443/") == "[::1]:8443"


def test_same_document() -> None:
    assert same_document("https://EXAMPLE.com/users/a#main-key", "https://example.com:443/users/a")
    assert not same_document("https://example.com/users/a", "https://example.com/users/b")
    assert not same_document("https://example.com/a", "not a url")


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("0.0.0.0", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "cgnat"),
        ("100.127.255.254", "cgnat"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "private"),
        ("240.0.0.1", "private"),
        ("192.0.2.1", "private"),
        ("198.18.0.1", "private"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fec0::1", "site-local"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "private"),
        ("::ffff:127.0.0.1", "ipv4-mapped"),
        ("::ffff:8.8.8.8", "ipv4-mapped"),
        ("::127.0.0.1", "ipv4-compatible"),
        ("::a00:1", "ipv4-compatible"),
        ("64:ff9b::a00:1", "nat64 of private"),
        ("64:ff9b::7f00:1", "nat64 of loopback"),
        ("64:ff9b:1::1", "local nat64"),
        ("2002:7f00:1::1", "6to4 of loopback"),
        ("2002:a9fe:a9fe::", "6to4 of link-local"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"),
        ("100::1", "private"),
        ("example.com", "not an address"),
    ],
)
def test_address_problem(address: str, problem: str) -> None:
    assert address_problem(address) == problem
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700::1", "64:ff9b::808:808", "2002:808:808::"],
)
def test_public_addresses(address: str) -> None:
    assert address_problem(address) is None
    assert is_public_address(address)


def test_json_depth() -> None:
    nested: object = 1
    for _ in range(64):
        nested = [nested]
    assert not json_depth_exceeds(nested, 64)
    assert json_depth_exceeds([nested], 64)
    assert not json_depth_exceeds({"a": [1, {"b": 2}]}, 3)
    assert json_depth_exceeds({"a": [1, {"b": {}}]}, 3)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),  # now = 40 s after the epoch
        ("Thu, 01 Jan 1970 00:00:10 GMT", 0.0),
        ("Thursday, 01-Jan-70 00:01:40 GMT", 60.0),  # obsolete RFC 850 form, still accepted
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=40.0) == seconds


_AUTHORITY_CASES = [
    "https://example.com/users/alice",
    "https://example.com",
    "https://example.com:443/x",
    "https://example.com:0443/x",
    "https://example.com:8443/x?y#z",
    "http://example.com:80/",
    "http://example.com:8080",
    "https://example.com:0/x",
    "https://example.com:65536/x",
    "https://example.com:/x",
    "https://example.com./x",
    "https://Example.COM/x",
    "HTTPS://example.com/x",
    "https://ex_ample.com/x",
    "https://a.b@example.com/x",
    "https://example.com\\@evil.test/",
    "https://127.0.0.1/x",
    "https://127.1/x",
    "https://0x7f.1/x",
    "https://[::1]:8443/x",
    "https://xn--bcher-kva.example/x",
    "https://bücher.example/x",
    "https://-bad.example/x",
    "https://bad-.example/x",
    "https://" + "a" * 63 + ".example/x",
    "https://" + "a" * 64 + ".example/x",
    "https://" + ".".join(["abcdefghi"] * 26) + ".example/x",
    "https://example.com?query",
    "https://example.com#fragment",
    "https://exa mple.com/x",
    "ftp://example.com/x",
    "https:/example.com/x",
    "https://",
    "",
]


@pytest.mark.parametrize("url", _AUTHORITY_CASES)
def test_host_of_fast_path_agrees_with_the_general_one(url: str) -> None:
    try:
        expected: str | type[BadUrl] = _scheme_and_authority(url, allow_http=True)[2]
    except BadUrl:
        expected = BadUrl
    try:
        got: str | type[BadUrl] = host_of(url)
    except BadUrl:
        got = BadUrl
    assert got == expected


def test_host_of_fast_path_agrees_on_generated_urls() -> None:
    rng = random.Random(7)
    alphabet = "abcxyz019-._:/@?#%[]ABZ"
    for _ in range(5000):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        url = rng.choice(["https://", "http://", "HTTP://", "https:"]) + body
        try:
            expected: str | None = _scheme_and_authority(url, allow_http=True)[2]
        except BadUrl:
            expected = None
        try:
            got: str | None = host_of(url)
        except BadUrl:
            got = None
        assert got == expected, url


# --- FEDI_ALLOW_PRIVATE_ADDRESSES: which non-public networks an operator may open -----------

NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "fd00::/8"))
EVERYTHING = tuple(ipaddress.ip_network(n) for n in ("0.0.0.0/0", "::/0"))


@pytest.mark.parametrize(
    ("address", "allowed", "problem"),
    [
        ("93.184.215.14", (), None),  # public: always
        ("127.0.0.1", (), "loopback"),  # nothing allowed: the rule-27 refusal
        ("127.0.0.1", LOOPBACK_NETWORKS, None),
        ("::1", LOOPBACK_NETWORKS, None),
        ("::ffff:127.0.0.1", LOOPBACK_NETWORKS, None),
        ("10.1.2.3", LOOPBACK_NETWORKS, "private"),  # "on" is loopback only
        ("10.1.2.3", NETWORKS, None),
        ("192.168.1.1", NETWORKS, "private"),
        ("fd12::1", NETWORKS, None),
        ("169.254.169.254", EVERYTHING, "link-local"),  # metadata: never
        ("169.254.169.254", (ipaddress.ip_network("169.254.0.0/16"),), "link-local"),
        ("::ffff:169.254.169.254", EVERYTHING, "ipv4-mapped"),
        ("fe80::1", EVERYTHING, "link-local"),
        ("fd00:ec2::254", NETWORKS, "private"),  # the EC2 metadata address over IPv6
        ("fd00:ec2::254", EVERYTHING, "private"),
    ],
)
def test_connect_problem(address: str, allowed: tuple[IPNetwork, ...], problem: str | None) -> None:
    assert connect_problem(address, allowed) == problem


def test_connect_problem_never_takes_a_name() -> None:
    assert connect_problem("example.org", EVERYTHING) == "not an address"
