"""Types shared by the HTTP-signature modules: the injected key resolver and the typed result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from fedi.crypto.keys import PublicKey

__all__ = [
    "KeyResolver",
    "Rejected",
    "ResolvedKey",
    "Scheme",
    "Verified",
    "VerifyResult",
]

Scheme: TypeAlias = Literal["draft-cavage", "rfc9421"]


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """A public key found for a ``keyId``.

    ``owner`` is the actor URI that owns the key. The resolver guarantees that this actor lists the
    key (SECURITY.md rule 15); the verifier trusts it and only checks the signature.
    """

    key_id: str
    owner: str
    public_key: PublicKey


KeyResolver: TypeAlias = Callable[[str, bool], Awaitable[ResolvedKey | None]]
"""``resolve_key(key_id, refresh)``: the key, or ``None`` when it is unknown or cannot be fetched.

``refresh=True`` asks the resolver to bypass its cache (key rotation). It should return ``None``
rather than raise for anything a remote peer controls; exceptions propagate to the caller.
"""


@dataclass(frozen=True, slots=True)
class Verified:
    """The request is signed by ``key_id``, which belongs to ``owner``.

    ``algorithm`` is the algorithm actually used: ``rsa-sha256`` or ``ed25519`` for draft-cavage
    (an ``hs2019`` label resolves to one of these), ``rsa-v1_5-sha256`` or ``ed25519`` for RFC 9421.
    """

    key_id: str
    owner: str
    scheme: Scheme
    algorithm: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The request is not acceptably signed; ``reason`` is short and fit for a 401 body.

    ``key_id`` is the claimed key when one could be read, else ``None``.
    """

    reason: str
    key_id: str | None = None


VerifyResult: TypeAlias = Verified | Rejected
