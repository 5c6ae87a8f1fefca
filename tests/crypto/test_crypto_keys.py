"""Key generation, PEM round trips and Multikey (FEP-521a) encoding."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fedi.crypto import (
    KeyFormatError,
    dump_private_key_pem,
    dump_public_key_pem,
    ed25519_public_key_from_multibase,
    ed25519_public_key_to_multibase,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
)
from fedi.crypto.keys import _b58decode, _b58encode
from fedi.testing.keys import (
    CAVAGE_TEST_PRIVATE_KEY_PEM,
    CAVAGE_TEST_PUBLIC_KEY_PEM,
    RFC9421_ED25519_PRIVATE_KEY_PEM,
    RFC9421_ED25519_PUBLIC_KEY_PEM,
)

# W3C vc-di-eddsa test key pair: secret key is multicodec 0x8026 + seed, public key 0xed01 + key.
W3C_SECRET_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_PUBLIC_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def test_generate_rsa_is_2048_bits_and_round_trips() -> None:
    key = generate_rsa_key()
    assert key.key_size == 2048
    pem = dump_private_key_pem(key)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    loaded = load_private_key_pem(pem)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    public_pem = dump_public_key_pem(key.public_key())
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert load_public_key_pem(public_pem).public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]


def test_generate_rsa_refuses_small_keys() -> None:
    with pytest.raises(ValueError, match="2048"):
        generate_rsa_key(1024)


def test_generate_ed25519_round_trips() -> None:
    key = generate_ed25519_key()
    loaded = load_private_key_pem(dump_private_key_pem(key).encode())
    assert isinstance(loaded, ed25519.Ed25519PrivateKey)
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    assert loaded.public_key().public_bytes(*raw) == key.public_key().public_bytes(*raw)


def test_published_keys_load_and_match() -> None:
    rsa_private = load_private_key_pem(CAVAGE_TEST_PRIVATE_KEY_PEM)  # PKCS#1, as published
    assert dump_public_key_pem(rsa_private.public_key()) == CAVAGE_TEST_PUBLIC_KEY_PEM
    ed_private = load_private_key_pem(RFC9421_ED25519_PRIVATE_KEY_PEM)
    assert dump_public_key_pem(ed_private.public_key()) == RFC9421_ED25519_PUBLIC_KEY_PEM


def test_pkcs1_rsa_public_key_is_accepted() -> None:
    key = load_public_key_pem(CAVAGE_TEST_PUBLIC_KEY_PEM)
    pkcs1 = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    assert pkcs1.startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    assert isinstance(load_public_key_pem(pkcs1), rsa.RSAPublicKey)


@pytest.mark.parametrize(
    "pem", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]
)
def test_unreadable_keys(pem: str) -> None:
    with pytest.raises(KeyFormatError):
        load_public_key_pem(pem)
    with pytest.raises(KeyFormatError):
        load_private_key_pem(pem)


def test_unsupported_key_types() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    private_pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyFormatError, match="unsupported"):
        load_private_key_pem(private_pem)
    with pytest.raises(KeyFormatError, match="unsupported"):
        load_public_key_pem(public_pem)


def test_multibase_matches_w3c_vector() -> None:
    decoded = _b58decode(W3C_SECRET_MULTIBASE[1:])
    assert decoded[:2] == b"\x80\x26" and len(decoded) == 34
    public = ed25519.Ed25519PrivateKey.from_private_bytes(decoded[2:]).public_key()
    assert ed25519_public_key_to_multibase(public) == W3C_PUBLIC_MULTIBASE
    parsed = ed25519_public_key_from_multibase(W3C_PUBLIC_MULTIBASE)
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    assert parsed.public_bytes(*raw) == public.public_bytes(*raw)


def test_multibase_round_trip() -> None:
    key = generate_ed25519_key().public_key()
    text = ed25519_public_key_to_multibase(key)
    assert text.startswith("z6Mk")
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    assert ed25519_public_key_from_multibase(text).public_bytes(*raw) == key.public_bytes(*raw)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",  # no multibase prefix
        "uAAAA",  # base64url multibase
        "z0OIl",  # not base58 characters
        W3C_SECRET_MULTIBASE,  # a secret key, not an ed25519-pub multikey
        "z" + _b58encode(b"\xed\x01" + b"\x01" * 31),  # too short
    ],
)
def test_multibase_rejects(value: str) -> None:
    with pytest.raises(KeyFormatError):
        ed25519_public_key_from_multibase(value)


def test_base58_leading_zeros_and_known_value() -> None:
    # "Hello World!" in base58btc, per the draft-msporny-base58 example.
    assert _b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    assert _b58encode(b"\0\0\x01") == "112"
    assert _b58decode("112") == b"\0\0\x01"
    assert _b58decode("") == b""
