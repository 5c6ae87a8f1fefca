"""Strict URL and host normalisation, and classification of IP addresses.

Pure functions, no I/O. Used before any request is sent (SECURITY.md rules 26 and 31) and, for
:func:`address_problem`, on every resolved address at connect time (rule 27).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

import idna

from fedi.net.errors import BadUrl

__all__ = [
    "DEFAULT_PORTS",
    "LOOPBACK_NETWORKS",
    "NEVER_ALLOWED_NETWORKS",
    "IPNetwork",
    "address_problem",
    "connect_problem",
    "host_of",
    "is_public_address",
    "normalize_host",
    "normalize_url",
    "same_document",
    "without_fragment",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.IPv4Network("127.0.0.0/8"),
    ipaddress.IPv6Network("::1/128"),
)
"""What ``FEDI_ALLOW_PRIVATE_ADDRESSES=on`` lets outgoing requests reach."""

NEVER_ALLOWED_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.IPv4Network("169.254.0.0/16"),
    ipaddress.IPv6Network("fe80::/10"),
    ipaddress.IPv6Network("fd00:ec2::254/128"),
)
"""Link-local and cloud metadata addresses: refused whatever the operator allows."""

DEFAULT_PORTS = {"http": 80, "https": 443}
# A host label after IDNA: letters, digits, hyphen; underscore tolerated (seen in the wild on
# hosts that browsers still reach), never at either end of the label.
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
# Characters kept as they are when re-quoting a path or query; everything else (notably raw
# non-ASCII, as in Mastodon's hashtag URLs) is percent-encoded as UTF-8.
_PATH_SAFE = "/:@!$&'()*+,;=%~-._"
_QUERY_SAFE = _PATH_SAFE + "?"

# A host name already in normal form: labels as ``_LABEL``, joined by dots.
_NORMAL_HOST = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\Z"
)
_ASCII_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
# scheme://host[:port] followed by the path, query, fragment or the end; lower-case host labels
# only (anything else takes the general path).
_SIMPLE_AUTHORITY = re.compile(
    r"(https?)://((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
    r"(?::([0-9]{1,5}))?(?=[/?#]|\Z)"
)

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")


def _refuse_bad_characters(url: str) -> None:
    # Rule 31: CR/LF (header injection), other controls, whitespace and backslashes (parsed as a
    # path separator by WHATWG parsers, so two parsers would disagree) are refused anywhere.
    if url.isascii():
        # The same rule for ASCII text, in one regular expression: no ASCII character is in
        # category Cf, Zl or Zp, and the ASCII whitespace and Cc characters are below 0x21 or 0x7f.
        if _ASCII_FORBIDDEN.search(url):
            raise BadUrl("forbidden character in url")
        return
    for char in url:
        if char.isspace() or char == "\\" or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise BadUrl("forbidden character in url")


def normalize_host(host: str) -> str:
    """Return ``host`` lower-cased, IDNA-encoded, without a trailing dot; raise :class:`BadUrl`.

    IPv6 literals are returned without brackets, in compressed form. A name whose last label is
    numeric must be a canonical dotted-quad IPv4 address: short or octal forms such as ``127.1``
    or ``0x7f.1`` are refused, since a resolver would quietly turn them into loopback.
    """
    if not host:
        raise BadUrl("empty host")
    if len(host) <= 253 and _NORMAL_HOST.match(host):
        # Already normal (the common case): every check below would pass and change nothing,
        # unless the last label makes it an IPv4 address.
        last = host.rpartition(".")[2]
        if not (last.isdigit() or last.startswith("0x")):
            return host
    _refuse_bad_characters(host)
    if host.startswith("[") and host.endswith("]"):
        literal = host[1:-1]
        if "%" in literal:
            raise BadUrl("zone id in host")
        try:
            return ipaddress.IPv6Address(literal).compressed
        except ValueError:
            raise BadUrl("bad ipv6 literal") from None
    if any(char in host for char in "@%[]/?#:"):
        raise BadUrl("forbidden character in host")
    if host.endswith("."):
        host = host[:-1]
    labels = host.split(".")
    if any(not label for label in labels):
        raise BadUrl("empty label in host")
    encoded: list[str] = []
    for label in labels:
        if label.isascii():
            ascii_label = label.lower()
        else:
            try:
                ascii_label = idna.encode(label, uts46=True).decode("ascii")
            except idna.IDNAError:
                raise BadUrl("bad internationalised host") from None
        if not _LABEL.match(ascii_label):
            raise BadUrl("bad host label")
        encoded.append(ascii_label)
    name = ".".join(encoded)
    if len(name) > 253:
        raise BadUrl("host too long")
    last = encoded[-1]
    if last.isdigit() or last.startswith("0x"):
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError:
            raise BadUrl("non-canonical ipv4 host") from None
    return name


def normalize_url(url: str, *, allow_http: bool = False) -> str:
    """Return the canonical form of an absolute ``http(s)`` URL or raise :class:`BadUrl`.

    Refused (rules 26, 31): control characters, CR/LF, whitespace or backslashes anywhere; schemes
    other than ``https`` (and ``http`` when ``allow_http``); userinfo; a missing or malformed host
    or port. The result has a lower-case scheme and host, IDNA host, no trailing dot, no default
    port, ``/`` for an empty path, and a path and query percent-encoded as ASCII. The fragment is
    kept (ActivityPub key ids use one); use :func:`without_fragment` before comparing documents.
    """
    parts, scheme, authority = _scheme_and_authority(url, allow_http=allow_http)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE)
    fragment = quote(parts.fragment, safe=_QUERY_SAFE + "#")
    return urlunsplit((scheme, authority, path, query, fragment))


def _scheme_and_authority(url: str, *, allow_http: bool) -> tuple[SplitResult, str, str]:
    """The checks of :func:`normalize_url` up to the authority: the split URL, the lower-case
    scheme and the normalised ``host[:port]``."""
    if not isinstance(url, str):
        raise BadUrl("url is not a string")
    _refuse_bad_characters(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise BadUrl("unparseable url") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadUrl(f"scheme {scheme or 'missing'} not allowed")
    if scheme == "http" and not allow_http:
        raise BadUrl("plain http not allowed")
    netloc = parts.netloc
    if "@" in netloc:
        raise BadUrl("userinfo in url")
    raw_host, port = _split_netloc(netloc)
    host = normalize_host(raw_host)
    if port is None or port == DEFAULT_PORTS[scheme]:
        return parts, scheme, _bracket(host)
    return parts, scheme, f"{_bracket(host)}:{port}"


def _split_netloc(netloc: str) -> tuple[str, int | None]:
    if not netloc:
        raise BadUrl("missing host")
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise BadUrl("bad ipv6 literal")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        if rest and not rest.startswith(":"):
            raise BadUrl("bad authority")
        port_text = rest[1:] if rest else None
    else:
        host, sep, port_text_or_empty = netloc.partition(":")
        port_text = port_text_or_empty if sep else None
    if port_text is None or port_text == "":
        # "https://host:/" is equivalent to no port (RFC 3986 section 6.2.3).
        return host, None
    if not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
        raise BadUrl("bad port")
    port = int(port_text)
    if not 0 < port < 65536:
        raise BadUrl("bad port")
    return host, port


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def host_of(url: str) -> str:
    """The normalised authority of ``url``: host, plus ``:port`` when it is not the default.

    ``url`` must already be absolute; http is accepted here since this only names the host.
    The answers for the last few thousand URLs are kept: an inbox asks for the same actor's and
    activity's hosts several times per request, and for the same actors across requests.
    """
    if isinstance(url, str):
        return _cached_host_of(url)
    return _host_of(url)


@functools.lru_cache(maxsize=4096)
def _cached_host_of(url: str) -> str:
    return _host_of(url)  # an error (BadUrl) is raised each time, never kept


def _host_of(url: str) -> str:
    # The common case, an ASCII URL whose authority is already normal, without urlsplit; the
    # answer is the same as below (tests/net/test_urls.py compares both on many URLs).
    if isinstance(url, str) and url.isascii() and not _ASCII_FORBIDDEN.search(url):
        simple = _SIMPLE_AUTHORITY.match(url)
        if simple is not None:
            scheme, host, port = simple.groups()
            last = host.rpartition(".")[2]
            if len(host) <= 253 and not (last.isdigit() or last.startswith("0x")):
                if port is None or int(port) == DEFAULT_PORTS[scheme]:
                    return host
                if 0 < int(port) < 65536:
                    return f"{host}:{int(port)}"
    # The authority normalize_url would produce (quoting the path and query cannot fail).
    return _scheme_and_authority(url, allow_http=True)[2]


def without_fragment(url: str) -> str:
    """``url`` with any ``#fragment`` removed (the part a server never sees)."""
    return url.split("#", 1)[0]


def same_document(a: str, b: str) -> bool:
    """Whether two URLs name the same document once normalised and stripped of fragments.

    Malformed URLs are never the same as anything.
    """
    try:
        first = without_fragment(normalize_url(a, allow_http=True))
        second = without_fragment(normalize_url(b, allow_http=True))
    except BadUrl:
        return False
    return first == second


def _ipv4_problem(ip: ipaddress.IPv4Address) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:  # is_global is True for 224/4 on Python 3.11: check explicitly
        return "multicast"
    if ip in _CGNAT:
        return "cgnat"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "not global"
    return None


def _ipv6_problem(ip: ipaddress.IPv6Address) -> str | None:
    if ip.ipv4_mapped is not None:
        # Rule 27: a dual-stack socket would reach the embedded IPv4 address; no public DNS name
        # has a reason to resolve to one.
        return "ipv4-mapped"
    if ip in _NAT64_WELL_KNOWN:
        # DNS64 networks legitimately hand these out for IPv4-only peers: judge the embedded
        # address. (Python marks the whole prefix reserved, so this comes before that check.)
        inner = _ipv4_problem(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return f"nat64 of {inner}" if inner else None
    if ip in _NAT64_LOCAL:
        return "local nat64"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip in _IPV4_COMPATIBLE:
        return "ipv4-compatible"
    if ip.sixtofour is not None:
        inner = _ipv4_problem(ip.sixtofour)
        return f"6to4 of {inner}" if inner else None
    if ip.teredo is not None:
        return "teredo"
    if ip.is_link_local:
        return "link-local"
    if ip in _SITE_LOCAL:  # deprecated, but is_global is True for it on Python 3.11
        return "site-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "not global"
    return None


def address_problem(address: str | IPAddress) -> str | None:
    """Why ``address`` may not be connected to (rule 27), or ``None`` when it is public.

    Refused: unspecified, loopback, link-local, site-local, multicast, private (RFC 1918, ULA,
    documentation, benchmarking...), CGNAT ``100.64.0.0/10``, reserved, IPv4-mapped and
    IPv4-compatible IPv6, local NAT64, Teredo, and NAT64 or 6to4 addresses embedding any of the
    IPv4 kinds above. A string that is not an IP address is refused too (``"not an address"``).
    """
    if isinstance(address, str):
        try:
            ip: IPAddress = ipaddress.ip_address(address)
        except ValueError:
            return "not an address"
    else:
        ip = address
    if isinstance(ip, ipaddress.IPv4Address):
        return _ipv4_problem(ip)
    if ip.scope_id:
        return "link-local"
    return _ipv6_problem(ip)


def is_public_address(address: str | IPAddress) -> bool:
    """Whether ``address`` may be connected to when private addresses are not allowed."""
    return address_problem(address) is None


def connect_problem(address: str | IPAddress, allowed: tuple[IPNetwork, ...]) -> str | None:
    """Why ``address`` may not be connected to when the operator allows the non-public
    networks ``allowed`` (``FEDI_ALLOW_PRIVATE_ADDRESSES``), or ``None`` when it may.

    A public address always may; a non-public one only inside ``allowed``, and never inside
    :data:`NEVER_ALLOWED_NETWORKS` (an IPv4-mapped IPv6 address is judged by its IPv4 address).
    """
    problem = address_problem(address)
    if problem is None or problem == "not an address" or not allowed:
        return problem
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return problem
        ip = ip.ipv4_mapped or ip
    if any(ip in network for network in NEVER_ALLOWED_NETWORKS):
        return problem
    if any(ip in network for network in allowed):
        return None
    return problem
