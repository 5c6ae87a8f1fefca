"""Fixed keys, a fixed clock and a recording key resolver for tests (never used in production).

Two key pairs come from specifications and let tests check published vectors:
draft-cavage-http-signatures-12 Appendix C (RSA-1024, ``keyId="Test"``) and RFC 9421 Appendix B.1.4
(``test-key-ed25519``). The others were generated once for this project and are only test data.
Keys are parsed on first use (cached), never at import time.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import http_sf
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from http_sf.types import InnerListType, ItemType, ParamsType

from fedi.crypto.cavage import signing_string
from fedi.crypto.keys import PrivateKey, PublicKey, load_private_key_pem, load_public_key_pem
from fedi.crypto.result import ResolvedKey
from fedi.crypto.rfc9421 import signature_base

__all__ = [
    "ALICE_KEY_ID",
    "ALICE_RSA_PRIVATE_KEY_PEM",
    "BOB_ED25519_PRIVATE_KEY_PEM",
    "BOB_KEY_ID",
    "CAVAGE_TEST_PRIVATE_KEY_PEM",
    "CAVAGE_TEST_PUBLIC_KEY_PEM",
    "FIXED_NOW",
    "RFC9421_ED25519_PRIVATE_KEY_PEM",
    "RFC9421_ED25519_PUBLIC_KEY_PEM",
    "ROTATED_RSA_PRIVATE_KEY_PEM",
    "RecordingResolver",
    "alice_key",
    "bob_key",
    "cavage_test_private_key",
    "cavage_test_public_key",
    "craft_cavage_signature",
    "craft_rfc9421",
    "private_key",
    "rfc9421_ed25519_private_key",
    "rotated_key",
]

FIXED_NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
"""The clock of every golden vector that is not from a specification."""

ALICE_KEY_ID = "https://alice.test/users/alice#main-key"
BOB_KEY_ID = "https://bob.test/users/bob#ed25519-key"

# draft-cavage-http-signatures-12, Appendix C ("Test Values"), PKCS#1 as published.
CAVAGE_TEST_PRIVATE_KEY_PEM = """-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----
"""

CAVAGE_TEST_PUBLIC_KEY_PEM = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""

# RFC 9421, Appendix B.1.4 ("test-key-ed25519").
RFC9421_ED25519_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""

RFC9421_ED25519_PUBLIC_KEY_PEM = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""

# Project test keys (RSA-2048, Ed25519), generated once.
ALICE_RSA_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCZOy3bOQrLJj5C
Jii2LV5Ii9W8hiXPDYLoYU6yWUMorwcyxQw5yR3Y1GLUefS1K8puVmTXNnjkHFVu
7e3eic4AK82ksr/n0Ko1ACQdqLTZVVbt+xFyIozDS/7w7Wfu72IR7M5TS1962ZtU
fsJ6o+/LcS/3K2qwRU4+ucVVxN/APZcoDl0mBmX73vhd57ZrHcmGBTaGo7g6KYs3
QxCNRKvwDTwJi94e5wWZO7Nw0c/VWLmAnXekZ5MxoUhAeAw9c67fpcvSbTS3+f7p
EKUNUayUz2KOVw+44CPPBRke+zJ/dCg4+gtzGKQqafBQisJuCxTMOT/ZPr9oD4i+
lrgTEQljAgMBAAECggEALo7tswOVBP78wcqoahpE4JQkgGDeUhhP413VtJksr8rm
zAVVXqV+PSjjUp4vvXCt1HLJtx6lAuKdDtSahximECU/GcD6UGx1mx8M2jotoS+t
9ydnOJ/I13pa30ezYcU4riue0W5Ad6pw6O6PFwaC0PT2VwrJIwAb8zEtBY+JUPat
amGiyb9cxnX9+gaf1OgTO5sut80Js2QNEe239bt/RsR8oBDPTuPzekMcm36+d802
voPW5+gp0X7ezFhRczOjJ+y8sI3pfbIiCqYSzmVoztCSCN6OVO39r0zurI2g1Swp
SpmEdQ8llTtMOwdEsdbiGHMt8JxQjvtJkeX34uB6iQKBgQDNn2VYII7e4cCjRxVO
r3H/XkvvnNsKqf8opRY+V8WxAzXsazN9QhvUlAtKMnH7OSnw4/1MAcyQgZvcvKx9
+oITASYlmzQ3o4tAbkJeuF15CUEePSij/w4MKxmwlfK/zFUVIzJ6WQYWTaDorjXh
yPiDx/nhJw9QpGVM0eJySDfvvwKBgQC+xc1mUqovq9FR3LFKSURztAPc50sBP+wN
uN/G6mlbPQN95Iu7pFpWY8M27j0lTLlwy+b5uAkS1skpFeNrP4XibZYgWyj4MxlL
Sx8lP121ENC74mg37FCJCeXNsTrGJmnTZmA0VsU3ry/VK6Bbs0ijqo+jJMebJuoo
1MkGXP1PXQKBgQDFdxKjLDkoL9KIuuXqd7BZVlxEUvVD63dfuBKBclcmo/ewAE8l
Nkx1vGqPKZyubvopHTmOOZgTGnTs6cAZB27NA2h36vGdkRBUos5YGmOhrdJ8UK1r
uK/r3aRBIe9KY9c9glyihEXFO22QpmSWXSLTo0MEBze88PNbb6AwscwODwKBgHHT
VbWqtw6QhulAM6wuQSCEFRX2DyOkvzSEzUhDTy94HSA9gD4qVxhal/yrc2JRAAhU
MPFopElQTGAuRi4Ujc7HMh8GJVDKNFpfbSrtPv0tFk40TZiocHkDpdDv4TCfdN8E
o3w3FZ8e8PxQ9nIga8PznZZq+IoTUv2f0H3yd9WlAoGAXJCMKbgYKqA4Us+wxjxL
b2tXZsx2W0p9znX48dt6pQfA6ys8yfrBxkOSDtQiRU5uPbsz8ACgRdysJWL7H/XP
dW35m9i2wooO6j9j+0YNkdlQgrfpvi6d3YDUxafk7TNqq1mT3EioSw91Ut+qGOcY
pcTabULQtVRkDsaXP8Imdlk=
-----END PRIVATE KEY-----
"""

ROTATED_RSA_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCyM/2efSTg4Gsy
VS1uZ156jstzTttbyXboHFwSJlZQa7znnh+JmKgsjljMOnzrKcMNMT5eTmPaVp8i
C7AV3ygXpJnLLI2H3PNSLIvxv/Z4j71xT3mj8ahpXavka/OMIWPhW5M4BU8ewYMA
QfuZycJ6I1hG0iponGLMDXAKcBCnvZhYTYjGbD2s3y4Xo72u2+oi+SnrixlhAmnZ
QNnqp5T0fTldM7xN1aoKwypR804IWvxmUHpUrArtn/iTNyptLfd0/gLYrhDdLGwh
inhdLB9aCOeNdzFl0iCVUugxf4rfcQ+bUXRrdDPEJJ3lpZnUen/KecG4c4SIdg6C
caKA/ZPPAgMBAAECggEAD3mYAM828yJPR3Usd1BvB288DVzf4WDQPHLYr1N4nmOP
aYEKlb0rKYdeVbSPNtq5uf0N60xHu+UBd7LnzSvDrwiXub7k4X4B+/UAssiBQ6dJ
LmcA612SdZKcA+o4oZwgBijDfZNpyK7JogLuMZowPcFbqqFt67IHmwG1uj+mFUgq
rXMN1xR8hSAC7iaLWIpf64UY5fZUi1wy7JIgiLX0EkDOTrrhoX4I4LpruECpA2Xp
qUaRpapIqlQMo0z3fr8LkBbEi5s4A7Lfu/u9H9VwD5SC2T7p6iy7Y69NTnOxHb2C
mucpyg/9umSvgHExdnn1n/duqEZiOCm4aaYj+u1O6QKBgQDdI6bPlbqF7LdW3qy7
Wiz+qQ/spnA0pClk3FzjXzM7uHR/OOsyeq54MM3RUNkHUp4yh1uhozDc70SlIXbD
7aGEp548UFv/aZFeTpnmxwocls5M8ROvCr3p2jYqYbw0SY6MJuAFZf3o/bQnZGm+
IzPmHpQSpvrK2IXxsfkNu8P1+QKBgQDOS5i+U740Cc/trR30x6eicA1AR/N9LjqY
WgnTYEmO2es9Gu0UzWcoT5Z9kR4tfMVmYoDfEfh8D/FKOOeU1cjnw649lT+ewE//
P61pygRMJHY1UogOrjyPS/QCukEVEoBx2SsO5lB+gIx2H80zAogggiD8rs8qfhP/
TfX8MD8qBwKBgCBaOulbynIVc60t3q96PeLz8PR6VSgebD/pTV2ma+Rs0/5Y4W/9
KtFCspnQ7i94EtTpoKpBKcDo8G4IO0vm1B6IN0ozp4Hye+YEMdflfsE3/u6axnpx
Y992oT4KFnK/4C748QVZKpCPrW+l7SJ4G/uqtZcU/tP2YYI+u2Ua90xhAoGBAJUZ
sFkHX7ZuzRikgb00PGW8BOfL2SFFs1X/5ZAfzKpxuILenjHlz0QkWcmBhEUuI+I/
GZOggm7wet3BSSeaaG2SUbHy2BueNXNvi5+lQfvicolRkELEDcMoC0GZaoaXa7xd
ULChJ9Z2hI6vp3jRwJ92Te8zTUoR+9QPfdV67XwrAoGBAJtrm4sHRKHpl3uzLgvV
PEc4XSw0+SvVJHX+sMIcj0fgowsetyFsJw429XDyRmhCrZHX4HFGaeL8M1aQCqpR
teyzfFmulM5i60/npF7rYsUGFWs/KroGp8/WVWvWdw91nqUkyDpQ1ARKqg9UVpjx
65dBuxCDItuEnaTUQY07BkVv
-----END PRIVATE KEY-----
"""

BOB_ED25519_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPIepN6VBz/yVvUyAAA6K2cBQNGdyKzQHrgnDKjBucQh
-----END PRIVATE KEY-----
"""


@cache
def private_key(pem: str) -> PrivateKey:
    """Parse (once) one of the PEM constants above."""
    return load_private_key_pem(pem)


def cavage_test_private_key() -> rsa.RSAPrivateKey:
    """The draft-cavage Appendix C key."""
    key = private_key(CAVAGE_TEST_PRIVATE_KEY_PEM)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def cavage_test_public_key() -> PublicKey:
    """The draft-cavage Appendix C public key, parsed from its published PEM."""
    return load_public_key_pem(CAVAGE_TEST_PUBLIC_KEY_PEM)


def rfc9421_ed25519_private_key() -> ed25519.Ed25519PrivateKey:
    """RFC 9421 ``test-key-ed25519``."""
    key = private_key(RFC9421_ED25519_PRIVATE_KEY_PEM)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key


def alice_key() -> rsa.RSAPrivateKey:
    """Alice's RSA-2048 key (``ALICE_KEY_ID``)."""
    key = private_key(ALICE_RSA_PRIVATE_KEY_PEM)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def rotated_key() -> rsa.RSAPrivateKey:
    """The RSA-2048 key Alice rotates to in key-rotation tests."""
    key = private_key(ROTATED_RSA_PRIVATE_KEY_PEM)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def bob_key() -> ed25519.Ed25519PrivateKey:
    """Bob's Ed25519 key (``BOB_KEY_ID``)."""
    key = private_key(BOB_ED25519_PRIVATE_KEY_PEM)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key


@dataclass
class RecordingResolver:
    """A ``KeyResolver`` over fixed keys that records every ``(key_id, refresh)`` call.

    ``cached`` answers ``refresh=False``; ``fresh`` answers ``refresh=True`` (defaults to
    ``cached``), which is how a test models a peer that rotated its key.
    """

    cached: dict[str, ResolvedKey] = field(default_factory=dict)
    fresh: dict[str, ResolvedKey] | None = None
    calls: list[tuple[str, bool]] = field(default_factory=list)

    @classmethod
    def of(cls, key_id: str, owner: str, key: PrivateKey | PublicKey) -> RecordingResolver:
        """A resolver that knows one key (a private key is reduced to its public half)."""
        public = (
            key.public_key()
            if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey)
            else key
        )
        return cls(cached={key_id: ResolvedKey(key_id, owner, public)})

    async def __call__(self, key_id: str, refresh: bool) -> ResolvedKey | None:
        self.calls.append((key_id, refresh))
        source = self.fresh if refresh and self.fresh is not None else self.cached
        return source.get(key_id)


def _sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data)


def craft_cavage_signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    names: Sequence[str],
    key_id: str,
    key: PrivateKey,
    *,
    algorithm: str | None = "rsa-sha256",
    params: Mapping[str, str] | None = None,
) -> str:
    """A draft-cavage ``Signature`` value over any ``names`` (to build requests that break rules).

    ``headers`` must have lower-case names; ``params`` adds e.g. ``created``/``expires``; an
    ``algorithm`` of ``None`` leaves the parameter out.
    """
    extra = dict(params or {})
    text = signing_string(method, url, headers, list(names), extra)
    assert text is not None, "a named header is missing"
    signature = base64.b64encode(_sign(key, text.encode("utf-8"))).decode("ascii")
    fields = [f'keyId="{key_id}"']
    if algorithm is not None:
        fields.append(f'algorithm="{algorithm}"')
    fields.append(f'headers="{" ".join(names)}"')
    fields.extend(f"{name}={value}" for name, value in extra.items())
    fields.append(f'signature="{signature}"')
    return ",".join(fields)


def craft_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    components: Sequence[str],
    params: ParamsType,
    key: PrivateKey,
    *,
    label: str = "sig1",
) -> dict[str, str]:
    """``Signature-Input`` and ``Signature`` over any ``components`` and ``params``.

    ``headers`` must have lower-case names.
    """
    items: list[ItemType] = [(name, {}) for name in components]
    member: InnerListType = (items, dict(params))
    base = signature_base(method, url, headers, member)
    return {
        "Signature-Input": http_sf.ser({label: member}),
        "Signature": http_sf.ser({label: (_sign(key, base.encode("ascii")), {})}),
    }
