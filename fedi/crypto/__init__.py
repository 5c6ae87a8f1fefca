"""Pure cryptography for federation: keys, body digests and HTTP signatures.

Nothing here performs I/O or reads the clock: keys are resolved by an injected callable and the
current time is an argument, so every function can be tested with fixed keys and a fixed date.
"""

from fedi.crypto._common import normalise_raw_headers, raw_sign
from fedi.crypto.cavage import CavagePlan, plan_cavage
from fedi.crypto.digest import (
    DigestError,
    check_content_digest,
    check_digest,
    make_content_digest,
    make_digest,
)
from fedi.crypto.httpsig import (
    MAX_SKEW,
    CavageCheck,
    check_cavage,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)
from fedi.crypto.keys import (
    KeyFormatError,
    PrivateKey,
    PublicKey,
    dump_private_key_pem,
    dump_public_key_pem,
    ed25519_public_key_from_multibase,
    ed25519_public_key_to_multibase,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
)
from fedi.crypto.result import (
    KeyResolver,
    Rejected,
    ResolvedKey,
    Scheme,
    Verified,
    VerifyResult,
)

__all__ = [
    "MAX_SKEW",
    "CavageCheck",
    "CavagePlan",
    "DigestError",
    "KeyFormatError",
    "KeyResolver",
    "PrivateKey",
    "PublicKey",
    "Rejected",
    "ResolvedKey",
    "Scheme",
    "Verified",
    "VerifyResult",
    "check_cavage",
    "check_content_digest",
    "check_digest",
    "dump_private_key_pem",
    "dump_public_key_pem",
    "ed25519_public_key_from_multibase",
    "ed25519_public_key_to_multibase",
    "generate_ed25519_key",
    "generate_rsa_key",
    "load_private_key_pem",
    "load_public_key_pem",
    "make_content_digest",
    "make_digest",
    "normalise_raw_headers",
    "plan_cavage",
    "raw_sign",
    "sign_cavage",
    "sign_rfc9421",
    "verify_request",
]
