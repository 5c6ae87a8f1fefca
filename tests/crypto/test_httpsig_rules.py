"""SECURITY.md incoming-request rules 1-13: one rejected request per rule, with its reason.

Each case starts from a request that verifies (``test_baselines_verify``) and breaks one thing.
Rejections decided before any key look-up must also leave the resolver uncalled.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest

from fedi.crypto import Rejected, Verified, VerifyResult, sign_cavage, sign_rfc9421, verify_request
from fedi.crypto.digest import make_content_digest, make_digest
from fedi.testing.keys import (
    ALICE_KEY_ID,
    FIXED_NOW,
    RecordingResolver,
    alice_key,
    craft_cavage_signature,
    craft_rfc9421,
)

URL = "https://our.test/users/carol/inbox"
HOST = "our.test"
BODY = b'{"type":"Follow","actor":"https://alice.test/users/alice"}'
OWNER = "https://alice.test/users/alice"
DATE = "Wed, 01 May 2024 12:00:00 GMT"
CREATED = int(FIXED_NOW.timestamp())


def resolver() -> RecordingResolver:
    return RecordingResolver.of(ALICE_KEY_ID, OWNER, alice_key())


async def check(
    headers: Mapping[str, str],
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes = BODY,
    now_shift: timedelta = timedelta(0),
    expected_host: str = HOST,
    keys: RecordingResolver | None = None,
) -> VerifyResult:
    return await verify_request(
        method,
        url,
        headers,
        body,
        resolve_key=keys or resolver(),
        now=FIXED_NOW + now_shift,
        expected_host=expected_host,
    )


def cavage_post(body: bytes = BODY, url: str = URL) -> dict[str, str]:
    return {"Host": HOST} | sign_cavage(
        "POST", url, {"Host": HOST}, body, ALICE_KEY_ID, alice_key(), FIXED_NOW
    )


def rfc_post(body: bytes = BODY, url: str = URL) -> dict[str, str]:
    return {"Host": HOST} | sign_rfc9421(
        "POST", url, {"Host": HOST}, body, ALICE_KEY_ID, alice_key(), FIXED_NOW
    )


def crafted(names: list[str], **changes: str) -> dict[str, str]:
    """A POST signed over ``names`` (draft-cavage), after applying header ``changes``."""
    headers = {"host": HOST, "date": DATE, "digest": make_digest(BODY)}
    headers.update({name.replace("_", "-"): value for name, value in changes.items()})
    params = {k: v for k, v in headers.items() if k in ("created", "expires")}
    fields = {k: v for k, v in headers.items() if k not in ("created", "expires")}
    signature = craft_cavage_signature(
        "POST", URL, fields, names, ALICE_KEY_ID, alice_key(), params=params
    )
    return fields | {"signature": signature}


def crafted_rfc(components: list[str], **params: int | str) -> dict[str, str]:
    """A POST signed over ``components`` (RFC 9421) with ``params`` (default created/keyid/alg)."""
    headers = {"host": HOST, "date": DATE, "content-digest": make_content_digest(BODY)}
    defaults: dict[str, int | str] = {
        "created": CREATED,
        "keyid": ALICE_KEY_ID,
        "alg": "rsa-v1_5-sha256",
    }
    merged = {k: v for k, v in (defaults | params).items() if v != "-"}
    return headers | craft_rfc9421("POST", URL, headers, components, merged, alice_key())  # type: ignore[arg-type]


ALL_RFC = ["@method", "@target-uri", "content-digest"]
ALL_CAVAGE = ["(request-target)", "host", "date", "digest"]


async def test_baselines_verify() -> None:
    for headers in (cavage_post(), rfc_post(), crafted(ALL_CAVAGE), crafted_rfc(ALL_RFC)):
        result = await check(headers)
        assert isinstance(result, Verified), result


# Rule 1 ------------------------------------------------------------------------------------------


async def test_rule01_no_signature() -> None:
    keys = resolver()
    headers = {k: v for k, v in cavage_post().items() if k != "Signature"}
    assert await check(headers, keys=keys) == Rejected("missing signature")
    assert keys.calls == []


# Rule 2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("drop", ["keyId", "signature"])
async def test_rule02_signature_without_key_id_or_signature(drop: str) -> None:
    keys = resolver()
    headers = cavage_post()
    parts = [p for p in headers["Signature"].split(",") if not p.startswith(f"{drop}=")]
    headers["Signature"] = ",".join(parts)
    result = await check(headers, keys=keys)
    assert isinstance(result, Rejected)
    assert result.reason == "Signature lacks keyId or signature"
    assert keys.calls == []


# Rule 3 ------------------------------------------------------------------------------------------


async def test_rule03_cavage_post_without_signed_digest() -> None:
    keys = resolver()
    result = await check(crafted(["(request-target)", "host", "date"]), keys=keys)
    assert result == Rejected("signature must cover digest", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule03_rfc9421_post_without_signed_content_digest() -> None:
    keys = resolver()
    result = await check(crafted_rfc(["@method", "@target-uri"]), keys=keys)
    assert result == Rejected("signature must cover content-digest", ALICE_KEY_ID)
    assert keys.calls == []


# Rule 4 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "reason"),
    [
        (["(request-target)", "host", "digest"], "signature must cover date or (created)"),
        (["host", "date", "digest"], "signature must cover (request-target)"),
    ],
)
async def test_rule04_cavage_without_date_or_request_target(names: list[str], reason: str) -> None:
    keys = resolver()
    assert await check(crafted(names), keys=keys) == Rejected(reason, ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule04_rfc9421_without_created() -> None:
    keys = resolver()
    result = await check(crafted_rfc(ALL_RFC, created="-"), keys=keys)
    assert result == Rejected("signature must have a valid created", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule04_rfc9421_without_target_uri() -> None:
    keys = resolver()
    result = await check(
        crafted_rfc(["@method", "@path", "@authority", "content-digest"]), keys=keys
    )
    assert result == Rejected("signature must cover @method and @target-uri", ALICE_KEY_ID)
    assert keys.calls == []


# Rule 5 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sign", [cavage_post, rfc_post])
async def test_rule05_digest_does_not_match_body(sign: object) -> None:
    keys = resolver()
    headers = sign()  # type: ignore[operator]
    tampered = BODY.replace(b"Follow", b"Fallow")
    assert await check(headers, body=tampered, keys=keys) == Rejected(
        "digest mismatch", ALICE_KEY_ID
    )
    assert keys.calls == []


# Rule 6 ------------------------------------------------------------------------------------------


async def test_rule06_md5_only_digest() -> None:
    keys = resolver()
    headers = crafted(ALL_CAVAGE, digest="MD5=nhB9nTcrtoJr2B01QqQZ1g==")
    result = await check(headers, keys=keys)
    assert result == Rejected("unsupported digest algorithm", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule06_sha256_digest_of_wrong_length() -> None:
    keys = resolver()
    headers = crafted(ALL_CAVAGE, digest="SHA-256=nhB9nTcrtoJr2B01QqQZ1g==")  # 16 bytes
    result = await check(headers, keys=keys)
    assert result == Rejected("digest is not 32 bytes of SHA-256", ALICE_KEY_ID)
    assert keys.calls == []


# Rule 7 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [timedelta(hours=-1, seconds=-1), timedelta(hours=1, seconds=1)])
async def test_rule07_date_outside_time_window(shift: timedelta) -> None:
    keys = resolver()
    # Our clock is off by just over an hour either way from the signer's Date.
    result = await check(cavage_post(), now_shift=-shift, keys=keys)
    assert result == Rejected("outside time window", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule07_date_at_the_edge_of_the_window_is_accepted() -> None:
    assert isinstance(await check(cavage_post(), now_shift=timedelta(hours=1)), Verified)


async def test_rule07_rfc9421_created_too_old() -> None:
    keys = resolver()
    result = await check(rfc_post(), now_shift=timedelta(hours=2), keys=keys)
    assert result == Rejected("outside time window", ALICE_KEY_ID)
    assert keys.calls == []


# Rule 8 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["yesterday", "Wed, 01 May 2024 12:00:00 -0000", ""])
async def test_rule08_unparseable_date(date: str) -> None:
    keys = resolver()
    result = await check(crafted(ALL_CAVAGE, date=date), keys=keys)
    assert result == Rejected("unparseable Date", ALICE_KEY_ID)
    assert keys.calls == []


# Rule 9 ------------------------------------------------------------------------------------------


async def test_rule09_cavage_created_in_future() -> None:
    keys = resolver()
    created = str(CREATED + 2 * 3600)
    headers = crafted(["(request-target)", "host", "(created)", "digest"], created=created)
    assert await check(headers, keys=keys) == Rejected("created in the future", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule09_cavage_expires_passed() -> None:
    keys = resolver()
    names = ["(request-target)", "host", "(created)", "(expires)", "digest"]
    headers = crafted(names, created=str(CREATED - 60), expires=str(CREATED - 1))
    assert await check(headers, keys=keys) == Rejected("signature expired", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule09_cavage_created_and_expires_valid() -> None:
    names = ["(request-target)", "host", "(created)", "(expires)", "digest"]
    headers = crafted(names, created=str(CREATED - 60), expires=str(CREATED + 60))
    assert isinstance(await check(headers), Verified)


async def test_rule09_rfc9421_created_in_future() -> None:
    keys = resolver()
    result = await check(crafted_rfc(ALL_RFC, created=CREATED + 2 * 3600), keys=keys)
    assert result == Rejected("created in the future", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule09_rfc9421_expires_passed() -> None:
    keys = resolver()
    result = await check(crafted_rfc(ALL_RFC, created=CREATED - 60, expires=CREATED - 1), keys=keys)
    assert result == Rejected("signature expired", ALICE_KEY_ID)
    assert keys.calls == []


# Rule 10 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "rsa-sha512", "ecdsa-sha256", "none"])
async def test_rule10_cavage_unknown_or_hmac_algorithm(algorithm: str) -> None:
    keys = resolver()
    headers = cavage_post()
    headers["Signature"] = headers["Signature"].replace('"rsa-sha256"', f'"{algorithm}"')
    assert await check(headers, keys=keys) == Rejected("unsupported algorithm", ALICE_KEY_ID)
    assert keys.calls == []


@pytest.mark.parametrize("alg", ["hmac-sha256", "rsa-pss-sha512", "unknown"])
async def test_rule10_rfc9421_unknown_or_hmac_algorithm(alg: str) -> None:
    keys = resolver()
    result = await check(crafted_rfc(ALL_RFC, alg=alg), keys=keys)
    assert result == Rejected("unsupported algorithm", ALICE_KEY_ID)
    assert keys.calls == []


# Rule 11 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "https://our.test/users/dave/inbox"),  # another path
        ("PUT", URL),  # another method
        ("POST", URL + "?page=2"),  # another query
    ],
)
@pytest.mark.parametrize("sign", [cavage_post, rfc_post])
async def test_rule11_signature_for_another_request(method: str, url: str, sign: object) -> None:
    keys = resolver()
    result = await check(sign(), method=method, url=url, keys=keys)  # type: ignore[operator]
    assert result == Rejected("signature does not verify", ALICE_KEY_ID)
    # The key was fetched, then re-fetched once in case it had been rotated.
    assert keys.calls == [(ALICE_KEY_ID, False), (ALICE_KEY_ID, True)]


# Rule 12 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("expected_host", ["elsewhere.test", "our.test:8443"])
async def test_rule12_cavage_signed_host_not_ours(expected_host: str) -> None:
    keys = resolver()
    result = await check(cavage_post(), expected_host=expected_host, keys=keys)
    assert result == Rejected("signed host is not this server", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule12_rfc9421_target_uri_not_ours() -> None:
    keys = resolver()
    url = "https://elsewhere.test/users/carol/inbox"
    result = await check(rfc_post(url=url), url=url, keys=keys)
    assert result == Rejected("signed host is not this server", ALICE_KEY_ID)
    assert keys.calls == []


async def test_rule12_host_with_port_matches() -> None:
    url = "https://our.test:8443/inbox"
    headers = sign_cavage("POST", url, {}, BODY, ALICE_KEY_ID, alice_key(), FIXED_NOW)
    assert headers["Host"] == "our.test:8443"
    for expected_host in ("our.test:8443", "OUR.test:8443"):
        result = await check(headers, url=url, expected_host=expected_host)
        assert isinstance(result, Verified), result
    rfc = {"Host": "our.test:8443"} | sign_rfc9421(
        "POST", url, {}, BODY, ALICE_KEY_ID, alice_key(), FIXED_NOW
    )
    assert isinstance(await check(rfc, url=url, expected_host="our.test:8443"), Verified)


# Rule 13 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature_input",
    [
        "",
        "sig1",
        "sig1=(",
        'sig1=("@method" "@target-uri"',
        "sig1=(@method);created=1",
        'sig1=("@method");created=1, sig1=("@method");created=2',
        "SIG1=()",
        "sig1=:AAAA:",
        'sig1=("@method" "@target-uri" "content-digest");created=?1;keyid="k"',
        'sig1=("@method" "@target-uri" "content-digest");created=1.5;keyid="k"',
        'sig1=("@method" "@target-uri" "content-digest");created=99999999999999;keyid=k',
        'sig1=("@method" "@target-uri" "content-digest" "@method");created=1714564800;keyid="k"',
        'sig1=("@method" "@target-uri" "Content-Digest");created=1714564800;keyid="k"',
        "sig1=\x00",
        'sig1=("\u00e9")',
        "x" * 10_000,
    ],
)
async def test_rule13_malformed_signature_input(signature_input: str) -> None:
    keys = resolver()
    headers = rfc_post()
    headers["Signature-Input"] = signature_input
    result = await check(headers, keys=keys)
    assert isinstance(result, Rejected)
    assert keys.calls == []


async def test_rule13_malformed_signature_input_reason() -> None:
    headers = rfc_post()
    headers["Signature-Input"] = 'sig1=("@method" "@target-uri"'
    assert await check(headers) == Rejected("malformed Signature-Input")


@pytest.mark.parametrize("param", ["created", "expires"])
async def test_rule09_cavage_timestamp_beyond_the_calendar_is_refused_not_raised(
    param: str,
) -> None:
    keys = resolver()
    names = ["(request-target)", "host", "(created)", "(expires)", "digest"]
    stamps = {"created": str(CREATED - 60), "expires": str(CREATED + 60)}
    stamps[param] = "999999999999"  # a year past 9999: datetime cannot hold it
    result = await check(crafted(names, **stamps), keys=keys)
    assert isinstance(result, Rejected)
    assert keys.calls == []
