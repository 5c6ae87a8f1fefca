"""Key generation and (de)serialisation: RSA-2048 and Ed25519, PEM and Multikey.

Private keys are written as PKCS#8 PEM and public keys as SubjectPublicKeyInfo PEM, the forms that
ActivityPub ``publicKeyPem`` and Mastodon use. Ed25519 public keys can also be written as a Multikey
``publicKeyMultibase`` value (FEP-521a): ``z`` + base58btc(0xed 0x01 + 32 raw key bytes).

Base58btc is the dozen lines below rather than a dependency: the alphabet is fixed by the Bitcoin
convention that multibase ``z`` names, and no maintained, typed package is worth adding for it.
"""

from __future__ import annotations

from typing import TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from fedi.errors import FediError

__all__ = [
    "KeyFormatError",
    "PrivateKey",
    "PublicKey",
    "dump_private_key_pem",
    "dump_public_key_pem",
    "ed25519_public_key_from_multibase",
    "ed25519_public_key_to_multibase",
    "generate_ed25519_key",
    "generate_rsa_key",
    "load_private_key_pem",
    "load_public_key_pem",
]

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey: TypeAlias = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}
# Multicodec "ed25519-pub" (0xed) as an unsigned varint: 0xed 0x01.
_ED25519_MULTICODEC = b"\xed\x01"


class KeyFormatError(FediError, ValueError):
    """A key could not be read: bad PEM, encrypted, or a key type we do not support."""


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """Return a fresh RSA key (public exponent 65537); ``bits`` is at least 2048."""
    if bits < 2048:
        raise ValueError("RSA keys must have at least 2048 bits")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def generate_ed25519_key() -> ed25519.Ed25519PrivateKey:
    """Return a fresh Ed25519 key."""
    return ed25519.Ed25519PrivateKey.generate()


def dump_private_key_pem(key: PrivateKey) -> str:
    """Serialise ``key`` as unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``)."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")


def load_private_key_pem(pem: str | bytes) -> PrivateKey:
    """Read an unencrypted RSA or Ed25519 private key from PEM (PKCS#8, or PKCS#1 for RSA).

    Raises :class:`KeyFormatError` for anything else.
    """
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("unreadable private key") from exc
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise KeyFormatError("unsupported private key type")


def dump_public_key_pem(key: PublicKey) -> str:
    """Serialise ``key`` as SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``)."""
    return key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def load_public_key_pem(pem: str | bytes) -> PublicKey:
    """Read an RSA or Ed25519 public key from PEM.

    SubjectPublicKeyInfo is the norm; PKCS#1 ``RSA PUBLIC KEY`` is accepted too because some older
    servers publish that form in ``publicKeyPem``. Raises :class:`KeyFormatError` otherwise.
    """
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("unreadable public key") from exc
    if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    raise KeyFormatError("unsupported public key type")


def ed25519_public_key_to_multibase(key: ed25519.Ed25519PublicKey) -> str:
    """Return the Multikey ``publicKeyMultibase`` form of ``key`` (FEP-521a): ``z6Mk...``."""
    raw = key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return "z" + _b58encode(_ED25519_MULTICODEC + raw)


def ed25519_public_key_from_multibase(value: str) -> ed25519.Ed25519PublicKey:
    """Read a Multikey ``publicKeyMultibase`` Ed25519 key; else raise :class:`KeyFormatError`."""
    if not value.startswith("z"):
        raise KeyFormatError("only base58btc (z) multibase is supported")
    decoded = _b58decode(value[1:])
    if len(decoded) != 34 or not decoded.startswith(_ED25519_MULTICODEC):
        raise KeyFormatError("not an Ed25519 multikey")
    return ed25519.Ed25519PublicKey.from_public_bytes(decoded[2:])


def _b58encode(data: bytes) -> str:
    """Base58btc: big-endian base-58 digits, with one ``1`` per leading zero byte."""
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_B58_ALPHABET[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _b58decode(text: str) -> bytes:
    """Inverse of :func:`_b58encode`; raise :class:`KeyFormatError` on a non-alphabet character."""
    number = 0
    for char in text:
        index = _B58_INDEX.get(char)
        if index is None:
            raise KeyFormatError("invalid base58 character")
        number = number * 58 + index
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
