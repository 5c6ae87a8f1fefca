"""The conditions of the acceptance policy, and the policies of the inbox and of signed GETs.

SECURITY.md "Incoming requests" decides what each one refuses; the order is the cheapest
first, and every check that can be made without the database or a fetch comes before those
that need them. Each condition is a coroutine taking the :class:`Incoming` request and
returning ``None`` (pass) or a :class:`Verdict`. To add a rule, write one more and place it in
:data:`INBOX_POLICY` (and :data:`SIGNED_GET_POLICY` if it applies to GETs): docs/development.md.

What the door cannot decide without fetching something (an ``Announce``'s object, a reply's
parent) stays with the inbox processor.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from fedi.actors.remote import ActorKeyResolver, KeyFetchBusy, is_inactive
from fedi.blocks.service import block_candidates
from fedi.crypto import Rejected, verify_request
from fedi.federation.acceptance import BLOCK_SLOTS, Condition, Incoming, Policy, Verdict
from fedi.federation.shapes import MAX_URL, ShapeError, read_activity
from fedi.federation.vocab import as_list, first_id, id_of, ids_of
from fedi.net.body import parse_json_object
from fedi.net.client import FetchBudget
from fedi.net.errors import BadDocument, BadUrl
from fedi.net.urls import host_of

__all__ = [
    "INBOX_POLICY",
    "KEY_FETCH_RETRY_AFTER",
    "MAX_BODY",
    "MAX_DEPTH",
    "SIGNED_GET_POLICY",
    "content_type_problem",
]

MAX_BODY = 1024 * 1024
MAX_DEPTH = 64
# Seconds a sender is asked to wait when every key-fetch slot is taken.
KEY_FETCH_RETRY_AFTER = 30
_AS2_PROFILE = "https://www.w3.org/ns/activitystreams"
# A JSON escape of a UTF-16 surrogate (U+D800 to U+DFFF): only then can a string hold a lone one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_OWNED_TYPES = frozenset({"Update", "Delete"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def content_type_problem(value: str | None) -> str | None:
    """Rule 25: ``application/activity+json``, ``application/ld+json`` with the AS2 profile or no
    profile, or plain ``application/json`` (older senders)."""
    if not value:
        return "missing Content-Type"
    media, *params = value.split(";")
    media = media.strip().lower()
    if media in ("application/activity+json", "application/json"):
        return None
    if media == "application/ld+json":
        profile = None
        for param in params:
            name, _, raw = param.partition("=")
            if name.strip().lower() == "profile":
                profile = raw.strip().strip('"')
        if profile is None or _AS2_PROFILE in profile.split():
            return None
    return "unsupported Content-Type"


def _valid_iri(value: Any) -> bool:
    """An absolute http(s) IRI with a valid host and no whitespace or control character."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        return False
    try:
        host_of(value)
    except BadUrl:
        return False
    return True


def _valid_link(value: Any) -> bool:
    """An absolute IRI of any scheme (a ``url`` may be ``magnet:``, say) without whitespace or
    control characters; an http(s) one must be valid as :func:`_valid_iri` says."""
    if not isinstance(value, str) or not _SCHEME.match(value) or len(value) > MAX_URL:
        return False
    if value.startswith(("http:", "https:")):
        return _valid_iri(value)
    return not any(char.isspace() or unicodedata.category(char) == "Cc" for char in value)


def _holds_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


# Before the database ----------------------------------------------------------------------------


async def content_type(incoming: Incoming) -> Verdict | None:
    problem = content_type_problem(incoming.headers.get("content-type"))
    return None if problem is None else Verdict(415, problem)


async def body_size(incoming: Incoming) -> Verdict | None:
    """Rule 24: the body as received (``Content-Length`` not trusted) is at most 1 MiB."""
    if incoming.body is None or len(incoming.body) > MAX_BODY:
        return Verdict(413, "body over 1 MiB")
    return None


async def json_shape(incoming: Incoming) -> Verdict | None:
    """Rule 24: a JSON object nested at most 64 deep, with an ``id``, a ``type``, an ``actor``."""
    try:
        incoming.document = parse_json_object(incoming.body or b"", max_depth=MAX_DEPTH)
        incoming.shape = read_activity(incoming.document)
    except (BadDocument, ShapeError) as exc:
        return Verdict(400, str(exc))
    return None


async def unicode_text(incoming: Incoming) -> Verdict | None:
    """No string holds a lone surrogate (``"\\ud800"``): it cannot be stored or shown."""
    body = incoming.body or b""
    if _SURROGATE_ESCAPE.search(body) and _holds_lone_surrogate(incoming.document):
        return Verdict(400, "text holds a lone surrogate")
    return None


async def valid_iris(incoming: Incoming) -> Verdict | None:
    """Rule 31 at the door: every actor, object reference, and the embedded object's ``id``,
    ``attributedTo``, ``inReplyTo`` and ``url``, is a valid absolute IRI."""
    document, shape = incoming.document or {}, incoming.activity
    references = {id_of(item) for item in as_list(document.get("actor"))}
    links: list[Any] = []
    for item in as_list(document.get("object")):
        references.add(id_of(item))
        if isinstance(item, dict):
            references.update(ids_of(item.get("attributedTo")))
            references.update(ids_of(item.get("inReplyTo")))
            links.extend(
                link.get("href") if isinstance(link, dict) else link
                for link in as_list(item.get("url"))
            )
    references -= {None, shape.id, shape.actor}  # read_activity has checked those two
    if not all(_valid_iri(reference) for reference in references):
        return Verdict(400, "an id or object reference is not a valid IRI")
    if not all(_valid_link(link) for link in links if link is not None):
        return Verdict(400, "a url is not a valid IRI")
    if len(block_candidates(incoming.actor_host)) > BLOCK_SLOTS:
        return Verdict(400, "actor host has too many labels")
    return None


# With the database (one query, no fetch) --------------------------------------------------------


async def target_exists(incoming: Incoming) -> Verdict | None:
    """A personal inbox's owner exists."""
    return None if (await incoming.facts()).target_ok else Verdict(404, "no such inbox")


async def domain_not_blocked(incoming: Incoming) -> Verdict | None:
    """Rule 22: no suspend block covers the actor's host (checked before any key fetch)."""
    return Verdict(403, "domain is blocked") if (await incoming.facts()).blocked else None


async def host_allowed(incoming: Incoming) -> Verdict | None:
    """In allowlist-only mode, the actor's host (or a parent domain) is on the allowlist."""
    facts = await incoming.facts()
    return Verdict(403, "host is not on the federation allowlist") if facts.not_allowed else None


async def gone_actor_delete(incoming: Incoming) -> Verdict | None:
    """Mastodon sends Delete for an account whose key is already gone (410), to every server it
    ever talked to. A signed one of an actor we never knew is answered 202, without a fetch:
    there is nothing to delete."""
    shape = incoming.activity
    signed = "signature" in incoming.headers or "signature-input" in incoming.headers
    if not (signed and shape.type == "Delete" and shape.object_id == shape.actor):
        return None
    if (await incoming.facts()).actor is None:
        return Verdict(202, "delete of an unknown actor")
    return None


# The signature (may fetch the key; no database session is open meanwhile) -----------------------


async def signature(incoming: Incoming) -> Verdict | None:
    """Rules 1-13, 15, 16: the HTTP signature verifies, with a cached or a fetched key."""
    ctx = incoming.ctx
    known = (await incoming.facts()).actor if incoming.shape is not None else None
    resolver = ActorKeyResolver(ctx, budget=FetchBudget(20), known=known)
    try:
        result = await verify_request(
            incoming.method,
            incoming.url,
            incoming.headers,
            incoming.body or b"",
            resolve_key=resolver,
            now=ctx.clock(),
            expected_host=ctx.settings.domain,
        )
    except KeyFetchBusy:
        return Verdict(
            503,
            "too many key fetches in progress, try again later",
            {"Retry-After": str(KEY_FETCH_RETRY_AFTER)},
        )
    if isinstance(result, Rejected):
        return Verdict(401, result.reason, {"WWW-Authenticate": 'Signature realm="fedi"'})
    incoming.verified, incoming.resolver = result, resolver
    return None


# After the signature ----------------------------------------------------------------------------


async def signer_is_actor(incoming: Incoming) -> Verdict | None:
    """Rule 14: the key's owner is the activity's ``actor``."""
    if incoming.verified is None or incoming.verified.owner != incoming.activity.actor:
        return Verdict(401, "signer is not the activity's actor")
    return None


async def actor_not_suspended(incoming: Incoming) -> Verdict | None:
    """Rule 22: the signer is neither suspended nor deleted (a signer just fetched is neither)."""
    row = incoming.signer_row
    if row is not None and is_inactive(row):
        return Verdict(403, "actor is suspended or deleted")
    return None


async def id_on_actor_host(incoming: Incoming) -> Verdict | None:
    """Rule 17: the activity's ``id`` is on the actor's host (no de-duplication key otherwise)."""
    if host_of(incoming.activity.id) != incoming.signer_domain:
        return Verdict(400, "activity id is not on the actor's host")
    return None


async def object_on_actor_host(incoming: Incoming) -> Verdict | None:
    """Rule 18: no ``Create`` of an object on a third host; rule 20: no ``Update``/``Delete`` of
    something on another host."""
    shape = incoming.activity
    if shape.object_id is None or shape.type not in ("Create", *_OWNED_TYPES):
        return None
    if host_of(shape.object_id) == incoming.signer_domain:
        return None
    if shape.type == "Create":
        return Verdict(400, "object is on a third host")
    return Verdict(403, "object belongs to another host")


async def attributed_to_actor(incoming: Incoming) -> Verdict | None:
    """Rule 19: a ``Create``/``Update`` whose embedded object names authors names the actor."""
    shape = incoming.activity
    if shape.type not in ("Create", "Update") or shape.object is None:
        return None
    authors = list(ids_of(shape.object.get("attributedTo")))
    if authors and shape.actor not in authors:
        return Verdict(403, "object is attributed to another actor")
    return None


async def object_owned_by_actor(incoming: Incoming) -> Verdict | None:
    """Rule 20 where the database can tell: an ``Update``/``Delete`` of an object or actor we
    hold, or an ``Undo`` of an activity we hold or that is embedded, belongs to the actor."""
    shape = incoming.activity
    if shape.object_id is None or shape.type not in ("Undo", *_OWNED_TYPES):
        return None
    facts = await incoming.facts()
    row = incoming.signer_row
    signer_id = row.id if row is not None else None
    if shape.type == "Undo":
        undone_by = first_id(shape.object.get("actor")) if shape.object is not None else None
        if undone_by is not None and undone_by != shape.actor:
            return Verdict(403, "undone activity belongs to another actor")
        recorded = facts.object_activity_actor_id
        if recorded is not None and recorded != signer_id:
            return Verdict(403, "undone activity belongs to another actor")
        return None
    if facts.object_owner_id is not None and facts.object_owner_id != signer_id:
        return Verdict(403, "object belongs to another actor")
    if facts.object_actor_id is not None and facts.object_actor_id != signer_id:
        return Verdict(403, "object is another actor")
    return None


async def not_seen(incoming: Incoming) -> Verdict | None:
    """Rule 23: a replayed ``id`` is answered 202 and changes nothing."""
    return Verdict(202, "already received") if (await incoming.facts()).seen else None


INBOX_POLICY = Policy(
    tuple(
        Condition(check.__name__, check)
        for check in (
            content_type,
            body_size,
            json_shape,
            unicode_text,
            valid_iris,
            target_exists,
            domain_not_blocked,
            host_allowed,
            gone_actor_delete,
            signature,
            signer_is_actor,
            actor_not_suspended,
            id_on_actor_host,
            object_on_actor_host,
            attributed_to_actor,
            object_owned_by_actor,
            not_seen,
        )
    )
)
"""Every POST to every inbox, in this order; then :func:`fedi.federation.inbox_store.record`."""

SIGNED_GET_POLICY = INBOX_POLICY.only(
    "signature", "domain_not_blocked", "host_allowed", "actor_not_suspended"
)
"""A GET when the instance requires signed fetches: the signer's own conditions."""
