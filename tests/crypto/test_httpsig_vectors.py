"""Golden vectors: published test values, an independent implementation, and frozen outputs."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import http_sf
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, MappingKeyResolver
from http_message_signatures.algorithms import ED25519, RSA_V1_5_SHA256

from fedi.crypto import Rejected, Verified, sign_cavage, sign_rfc9421, verify_request
from fedi.crypto.cavage import signing_string
from fedi.crypto.rfc9421 import signature_base
from fedi.testing.keys import (
    ALICE_KEY_ID,
    BOB_KEY_ID,
    FIXED_NOW,
    RecordingResolver,
    alice_key,
    bob_key,
    cavage_test_public_key,
    rfc9421_ed25519_private_key,
)

# --- draft-cavage-http-signatures-12, Appendix C -------------------------------------------------

CAVAGE_URL = "https://example.com/foo?param=value&pet=dog"
CAVAGE_BODY = b'{"hello": "world"}'
CAVAGE_NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)
CAVAGE_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
CAVAGE_LOWER = {name.lower(): value for name, value in CAVAGE_HEADERS.items()}
C1_SIGNATURE = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5l"
    "p7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
C2_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HM"
    "be8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
C3_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52La"
    "EUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)


def _rsa_verifies(signature_b64: str, text: str) -> bool:
    key = cavage_test_public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(
            base64.b64decode(signature_b64), text.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except Exception:
        return False
    return True


def test_cavage_digest_vector_matches_body() -> None:
    digest = base64.b64encode(hashlib.sha256(CAVAGE_BODY).digest()).decode()
    assert CAVAGE_HEADERS["Digest"] == f"SHA-256={digest}"


def test_cavage_c1_default_signing_string() -> None:
    text = signing_string("POST", CAVAGE_URL, CAVAGE_LOWER, ["date"], {})
    assert text == "date: Sun, 05 Jan 2014 21:31:40 GMT"
    assert _rsa_verifies(C1_SIGNATURE, text)


def test_cavage_c2_basic_signing_string() -> None:
    text = signing_string(
        "POST", CAVAGE_URL, CAVAGE_LOWER, ["(request-target)", "host", "date"], {}
    )
    assert text == (
        "(request-target): post /foo?param=value&pet=dog\n"
        "host: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT"
    )
    assert _rsa_verifies(C2_SIGNATURE, text)


def test_cavage_c3_all_headers_signing_string() -> None:
    names = ["(request-target)", "host", "date", "content-type", "digest", "content-length"]
    text = signing_string("POST", CAVAGE_URL, CAVAGE_LOWER, names, {})
    assert text == (
        "(request-target): post /foo?param=value&pet=dog\n"
        "host: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT\n"
        "content-type: application/json\n"
        "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
        "content-length: 18"
    )
    assert _rsa_verifies(C3_SIGNATURE, text)


async def test_cavage_c3_all_headers_verifies() -> None:
    headers = CAVAGE_HEADERS | {
        "Signature": 'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date '
        f'content-type digest content-length",signature="{C3_SIGNATURE}"'
    }
    resolver = RecordingResolver.of("Test", "https://example.com/actor", cavage_test_public_key())
    result = await verify_request(
        "POST",
        CAVAGE_URL,
        headers,
        CAVAGE_BODY,
        resolve_key=resolver,
        now=CAVAGE_NOW,
        expected_host="example.com",
    )
    assert result == Verified("Test", "https://example.com/actor", "draft-cavage", "rsa-sha256")


async def test_cavage_c2_basic_is_refused_for_a_post_without_digest() -> None:
    # Valid crypto (see above) but a POST whose signature omits digest: SECURITY.md rule 3.
    headers = CAVAGE_HEADERS | {
        "Signature": 'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",'
        f' signature="{C2_SIGNATURE}"'
    }
    resolver = RecordingResolver.of("Test", "https://example.com/actor", cavage_test_public_key())
    result = await verify_request(
        "POST",
        CAVAGE_URL,
        headers,
        CAVAGE_BODY,
        resolve_key=resolver,
        now=CAVAGE_NOW,
        expected_host="example.com",
    )
    assert result == Rejected("signature must cover digest", "Test")
    assert resolver.calls == []


async def test_cavage_c3_fails_after_tampering_with_content_type() -> None:
    headers = CAVAGE_HEADERS | {
        "Content-Type": "text/plain",
        "Signature": 'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date '
        f'content-type digest content-length",signature="{C3_SIGNATURE}"',
    }
    resolver = RecordingResolver.of("Test", "https://example.com/actor", cavage_test_public_key())
    result = await verify_request(
        "POST",
        CAVAGE_URL,
        headers,
        CAVAGE_BODY,
        resolve_key=resolver,
        now=CAVAGE_NOW,
        expected_host="example.com",
    )
    assert result == Rejected("signature does not verify", "Test")


# --- RFC 9421, Appendix B.2.6 (ed25519, test-key-ed25519) ---------------------------------------

B26_URL = "https://example.com/foo?param=Value&Pet=dog"
B26_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNy"
    "ealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
    "Signature-Input": 'sig-b26=("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"',
    "Signature": "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQ"
    "v5lIp5WPpBKRCw==:",
}
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)


def test_rfc9421_b26_signature_base_and_signature() -> None:
    lower = {name.lower(): value for name, value in B26_HEADERS.items()}
    inputs = http_sf.parse(lower["signature-input"].encode(), tltype="dictionary")
    assert isinstance(inputs, dict)
    member = inputs["sig-b26"]
    assert isinstance(member, tuple)
    base = signature_base("POST", B26_URL, lower, member)  # type: ignore[arg-type]
    assert base == B26_BASE
    # Ed25519 is deterministic: signing the base with the RFC key reproduces the RFC signature.
    signature = rfc9421_ed25519_private_key().sign(base.encode())
    assert "sig-b26=:" + base64.b64encode(signature).decode() + ":" == B26_HEADERS["Signature"]


async def test_rfc9421_b26_is_refused_without_target_uri() -> None:
    # The B.2.6 signature is valid (above) but covers @path, not @target-uri: the query is
    # unsigned, so policy refuses it (SECURITY.md rules 4 and 11; Mastodon does the same).
    resolver = RecordingResolver.of(
        "test-key-ed25519", "https://example.com/actor", rfc9421_ed25519_private_key()
    )
    result = await verify_request(
        "POST",
        B26_URL,
        B26_HEADERS,
        b'{"hello": "world"}',
        resolve_key=resolver,
        now=datetime.fromtimestamp(1618884473, UTC),
        expected_host="example.com",
    )
    assert result == Rejected("signature must cover @method and @target-uri", "test-key-ed25519")


# --- http-message-signatures (independent RFC 9421 implementation) ------------------------------


@dataclass
class LibraryRequest:
    method: str
    url: str
    headers: dict[str, str]


LIB_URL = "https://our.test/users/carol/inbox?page=2"
LIB_BODY = b'{"type":"Create"}'


@pytest.mark.parametrize(
    ("key_id", "key", "algorithm", "ours"),
    [
        (ALICE_KEY_ID, alice_key, RSA_V1_5_SHA256, "rsa-v1_5-sha256"),
        (BOB_KEY_ID, bob_key, ED25519, "ed25519"),
    ],
)
async def test_library_signature_verifies_and_equals_ours(
    key_id: str, key: object, algorithm: type, ours: str
) -> None:
    private = key()  # type: ignore[operator]
    message = LibraryRequest("POST", LIB_URL, {"Host": "our.test"})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private}),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=FIXED_NOW,
        label="sig1",
        covered_component_ids=("@method", "@target-uri"),
        body=LIB_BODY,
    )
    resolver = RecordingResolver.of(key_id, "https://peer.test/u", private)
    result = await verify_request(
        "POST",
        LIB_URL,
        message.headers,
        LIB_BODY,
        resolve_key=resolver,
        now=FIXED_NOW,
        expected_host="our.test",
    )
    assert result == Verified(key_id, "https://peer.test/u", "rfc9421", ours)
    # Both algorithms are deterministic, so the two implementations must agree byte for byte.
    mine = sign_rfc9421("POST", LIB_URL, {"Host": "our.test"}, LIB_BODY, key_id, private, FIXED_NOW)
    for name in ("Content-Digest", "Signature-Input", "Signature"):
        assert mine[name] == message.headers[name]


@pytest.mark.parametrize(
    ("key_id", "key", "algorithm"),
    [(ALICE_KEY_ID, alice_key, RSA_V1_5_SHA256), (BOB_KEY_ID, bob_key, ED25519)],
)
def test_library_verifies_our_signature(key_id: str, key: object, algorithm: type) -> None:
    private = key()  # type: ignore[operator]
    added = sign_rfc9421(
        "POST", LIB_URL, {"Host": "our.test"}, LIB_BODY, key_id, private, FIXED_NOW
    )
    message = LibraryRequest("POST", LIB_URL, {"Host": "our.test"} | added)
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(
            public_keys={key_id: private.public_key()}, private_keys={}
        ),
    )
    # max_age=None: the library compares ``created`` with the wall clock; ours is fixed in 2024.
    results = verifier.verify(
        message, max_age=None, require_components=("@method", "@target-uri"), body=LIB_BODY
    )
    assert [r.parameters["keyid"] for r in results] == [key_id]
    assert results[0].body == LIB_BODY


# --- Frozen outputs of our signers (RSA PKCS#1 v1.5 and Ed25519 are deterministic) ---------------


def test_sign_cavage_get_golden() -> None:
    added = sign_cavage(
        "GET", "https://peer.test/users/bob", {}, None, ALICE_KEY_ID, alice_key(), FIXED_NOW
    )
    assert added == {
        "Date": "Wed, 01 May 2024 12:00:00 GMT",
        "Host": "peer.test",
        "Signature": 'keyId="https://alice.test/users/alice#main-key",algorithm="rsa-sha256",'
        'headers="(request-target) host date",signature="C0Yb0J3fjSlrz/8h6W6aI31jgI3pB4nJEtkK1dI'
        "91Mxkh6frrbHesiYvW33PRCwiwHCqDS4auuJuGUO09UOGktOFX9g4iNWlQfHYX3Pwmp/RHJw6piigZvacAIOMXK1"
        "Qme9LqmTe2Nora+yZkPKpMpDrlM8pnYxV1FtaGp0tCoMj3e+ULjJGFV/jxPufZVKstERKtS0C5ySx+nqMEYmXg03"
        "l14w8ckRJGG+SzikaqFAXbVfhHTNluNMG34Vd8NRUmPyftmsOSeTlNsHAIlSU1jlEnFnyV6xiGZEqAlNDBA+2Kvc8"
        'MR+NvzYzuYipPOw3syhxPr/twbI8ffqI4Q3qwA=="',
    }


def test_sign_cavage_post_golden() -> None:
    added = sign_cavage(
        "POST",
        "https://peer.test/inbox",
        {},
        b'{"type":"Follow"}',
        ALICE_KEY_ID,
        alice_key(),
        FIXED_NOW,
    )
    assert added == {
        "Date": "Wed, 01 May 2024 12:00:00 GMT",
        "Host": "peer.test",
        "Digest": "SHA-256=GYwYnH3BiO6aICFt0ThC5bUIJ4byvqdpWtR8m5fNkww=",
        "Signature": 'keyId="https://alice.test/users/alice#main-key",algorithm="rsa-sha256",'
        'headers="(request-target) host date digest",signature="Rt7Y/aDnaBDIMF01ht2P0cTFSVyUyR49'
        "22GDPMc1wX6w5ZpkG8p5biPoOwQrk5mhUghMuEgTGR7YGdaqER50iFucfpWOBf4ilIoQWKSBFpapRaICh1Q8xW8Ll"
        "Ev1WZTz80meKig62cmb81GH1M7zxEdCwyxFGT4UY+2IUSgh/BwQusK/cbzHH47ocdWTruYWYxm2Jy329YuCSwwgHy+"
        "bCz2DViE4+vtwjaejxLQkDJ9xhvCYJ+KtX3KT4s10wU4XWIIIgg3jnMo1kEaOPxJfzHftF6JJ5jh0MkCZHPWUVJrq"
        'IGZgdZCsyCVhlavt8pFssQr5tv4aYQFQd0kj6+0Y/Q=="',
    }


def test_sign_rfc9421_ed25519_golden() -> None:
    added = sign_rfc9421(
        "POST",
        "https://peer.test/inbox",
        {},
        b'{"type":"Follow"}',
        BOB_KEY_ID,
        bob_key(),
        FIXED_NOW,
    )
    assert added == {
        "Content-Digest": "sha-256=:GYwYnH3BiO6aICFt0ThC5bUIJ4byvqdpWtR8m5fNkww=:",
        "Signature-Input": 'sig1=("@method" "@target-uri" "content-digest");created=1714564800;'
        'keyid="https://bob.test/users/bob#ed25519-key";alg="ed25519"',
        "Signature": "sig1=:qt5L3e/TK+jlmCl0DG4+HMBfUJxmqDLVyNDTNJlYOAAhlloQ+lnz7VQu2R/ZyXz/rIzm3Lg"
        "KFnnsrERT5B0/Dg==:",
    }
