"""The inbox: verify, record, answer 202; a worker processes later (STYLE.md 6).

Checks run cheapest first and each refusal is a 4xx with ``{"error": reason}`` that changes
nothing in the database (SECURITY.md "Incoming requests"):

1. ``Content-Type`` is an ActivityStreams or JSON type (rule 25) → else 415;
2. the body, streamed, is at most 1 MiB (rule 24) → else 413;
3. it is a JSON object nested at most 64 deep, with an ``id``, a ``type`` and an ``actor``
   (rule 24) → else 400; a personal inbox's owner exists → else 404;
4. the actor's domain is not suspended (rule 22, checked before any key fetch) → else 403;
5. the HTTP signature verifies (rules 1-13, 15, 16) → else 401;
6. the signer is the activity's ``actor`` (rule 14) → else 401;
7. the actor is not suspended or deleted (rule 22) → else 403;
8. the activity's ``id`` is on the actor's host (rule 17) → else 400;
9. a ``Create`` of an object on a third host (rule 18) → 400; an ``Update``/``Delete`` of
   something on another host, or that we hold and belongs to another actor (rule 20) → 403;
10. a replayed ``id`` (rule 23) → 202 with no side effect; else the activity is recorded with
    state ``received`` → 202.

Before that, the fast lane (:mod:`fedi.web.inbox_lane`) tries the common case (a known signer)
in one database statement; it never answers a refusal itself, so whatever it does not record
reaches these routes and runs the checks below from the start.

Keys fetched while verifying live in the request's session and are committed only with the
activity: a rejected request leaves no cached key behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Executable, Insert, bindparam, exists, insert, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.crypto import Rejected, verify_request
from fedi.db.models import (
    Activity,
    ActivityState,
    Actor,
    BlockSeverity,
    ContentObject,
    DomainBlock,
    Peer,
)
from fedi.federation.blocks import block_candidates
from fedi.federation.peers import mark_peer_alive
from fedi.federation.remote import ActorKeyResolver
from fedi.federation.shapes import ActivityShape, ShapeError, read_activity
from fedi.instance import InstanceContext, context_of
from fedi.log import log_event, request_id_var
from fedi.net.body import parse_json_object
from fedi.net.client import FetchBudget
from fedi.net.errors import BadDocument, BadUrl
from fedi.net.urls import host_of
from fedi.web.inbox_fast import request_url

__all__ = ["MAX_BODY", "MAX_DEPTH", "content_type_problem", "routes"]

MAX_BODY = 1024 * 1024
MAX_DEPTH = 64
_AS2_PROFILE = "https://www.w3.org/ns/activitystreams"
_log = logging.getLogger("fedi.inbox")


class _Refused(Exception):
    """A refusal with its HTTP status; turned into a response in one place."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


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


async def _read_body(request: Request) -> bytes:
    """The body, streamed and counted: ``Content-Length`` is not trusted (rule 24)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _Refused(413, "body over 1 MiB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _Refused(413, "body over 1 MiB")
    return bytes(body)


async def _check_ownership(session: AsyncSession, shape: ActivityShape, actor: Actor) -> None:
    """Rule 20, where it is cheap: an ``Update``/``Delete`` of an object or actor we hold that
    belongs to someone else is refused now, since a 202 cannot be taken back later."""
    if shape.type not in ("Update", "Delete") or shape.object_id is None:
        return
    try:
        object_host = host_of(shape.object_id)
    except BadUrl:
        raise _Refused(400, "object id is not a valid url") from None
    if object_host != actor.domain:
        raise _Refused(403, "object belongs to another host")
    owner_id = await session.scalar(
        select(ContentObject.attributed_to_id).where(ContentObject.uri == shape.object_id)
    )
    if owner_id is not None and owner_id != actor.id:
        raise _Refused(403, "object belongs to another actor")
    other_actor = await session.scalar(select(Actor.id).where(Actor.uri == shape.object_id))
    if other_actor is not None and other_actor != actor.id:
        raise _Refused(403, "object is another actor")


@dataclass(frozen=True)
class _Facts:
    """What the inbox needs from the database, read in one query on the hot path."""

    actor: Actor | None  # the activity's actor, if cached
    blocked: bool  # a suspend block covers the actor's domain
    seen: bool  # an activity with this id is already recorded
    target_ok: bool  # the personal inbox's owner exists (True for the shared inbox)
    peer_unhealthy: bool  # the actor's host has delivery failures to reset


@cache
def _facts_statements(personal: bool) -> tuple[Executable, Executable]:
    """The hot-path queries, built once (on first use) with bound parameters.

    Building a SELECT with a few subqueries and computing its cache key costs about a
    millisecond of CPU; a statement object that is reused memoises both.
    """
    target = aliased(Actor)
    target_ok = (
        exists().where(
            target.uri == bindparam("target_uri"),
            target.local.is_(True),
            target.deleted_at.is_(None),
        )
        if personal
        else true()
    )
    flags = (
        exists()
        .where(
            DomainBlock.domain.in_(bindparam("block_candidates", expanding=True)),
            DomainBlock.severity == BlockSeverity.SUSPEND,
        )
        .label("blocked"),
        exists().where(Activity.uri == bindparam("activity_id")).label("seen"),
        target_ok.label("target_ok"),
        exists()
        .where(
            Peer.host == bindparam("actor_host"),
            or_(
                Peer.consecutive_failures > 0,
                Peer.available.is_(False),
                Peer.circuit_open_until.is_not(None),
            ),
        )
        .label("peer_unhealthy"),
    )
    with_actor = (
        select(Actor, *flags)
        .where(Actor.uri == bindparam("actor_uri"), Actor.local.is_(False))
        # The cached document can be large and is not needed to verify a request.
        .options(defer(Actor.document), defer(Actor.summary))
    )
    return with_actor, select(*flags)


async def _facts(
    session: AsyncSession, shape: ActivityShape, actor_host: str, target_uri: str | None
) -> _Facts:
    """One round trip when the actor is cached (the common case), two otherwise.

    Every statement costs a hop to the database thread on SQLite, and the inbox benchmark is
    dominated by them, so the flags ride along as scalar subqueries.
    """
    with_actor, flags_only = _facts_statements(target_uri is not None)
    params = {
        "actor_uri": shape.actor,
        "activity_id": shape.id,
        "block_candidates": block_candidates(actor_host),
        "actor_host": actor_host,
        "target_uri": target_uri,
    }
    row = (await session.execute(with_actor, params)).first()
    if row is not None:
        return _Facts(row[0], bool(row[1]), bool(row[2]), bool(row[3]), bool(row[4]))
    blocked, seen, target_ok, unhealthy = (await session.execute(flags_only, params)).one()
    return _Facts(None, bool(blocked), bool(seen), bool(target_ok), bool(unhealthy))


@cache
def _insert_activity() -> Insert:
    """A Core INSERT built once: no ORM unit of work on the hot path."""
    return insert(Activity.__table__)  # type: ignore[arg-type]


async def _accept(
    ctx: InstanceContext,
    request: Request,
    body: bytes,
    document: dict[str, Any],
    shape: ActivityShape,
    target_uri: str | None,
) -> bool:
    """Run checks 3-10 in one transaction; True when a new activity was recorded."""
    async with ctx.sessions() as session:
        actor_host = host_of(shape.actor)
        facts = await _facts(session, shape, actor_host, target_uri)
        if not facts.target_ok:
            raise _Refused(404, "no such inbox")
        if facts.blocked:
            raise _Refused(403, "domain is blocked")
        signed = "signature" in request.headers or "signature-input" in request.headers
        if (
            signed
            and shape.type == "Delete"
            and shape.object_id == shape.actor
            and facts.actor is None
        ):
            # Mastodon sends Delete for an account whose key is already gone (410), to every
            # server it ever talked to. If we never knew the actor there is nothing to delete:
            # answer 202 without a fetch, store nothing.
            return False
        resolver = ActorKeyResolver(ctx, session, budget=FetchBudget(20), known=facts.actor)
        result = await verify_request(
            request.method,
            request_url(request.scope, ctx.settings.base_url),
            request.headers,
            body,
            resolve_key=resolver,
            now=ctx.clock(),
            expected_host=ctx.settings.domain,
        )
        if isinstance(result, Rejected):
            raise _Refused(401, result.reason)
        if result.owner != shape.actor:  # rule 14
            raise _Refused(401, "signer is not the activity's actor")
        actor = resolver.actor
        if actor is None or actor.uri != result.owner:
            actor = await session.scalar(select(Actor).where(Actor.uri == result.owner))
        if actor is None:  # pragma: no cover - the resolver always loads or stores the owner
            raise _Refused(401, "unknown signer")
        if actor.suspended_at is not None or actor.deleted_at is not None:
            raise _Refused(403, "actor is suspended or deleted")
        if host_of(shape.id) != actor.domain:  # rule 17
            raise _Refused(400, "activity id is not on the actor's host")
        if shape.type == "Create" and shape.object_id is not None:
            # Rule 18, where it is cheap: the processor checks it again.
            try:
                object_host = host_of(shape.object_id)
            except BadUrl:
                raise _Refused(400, "object id is not a valid url") from None
            if object_host != actor.domain:
                raise _Refused(400, "object is on a third host")
        await _check_ownership(session, shape, actor)
        if facts.seen:
            return False  # rule 23: a replay changes nothing
        await session.execute(
            _insert_activity(),
            {
                "uri": shape.id,
                "type": shape.type,
                "actor_id": actor.id,
                "object_uri": shape.object_id,
                "local": False,
                "public": shape.public,
                "state": ActivityState.RECEIVED,
                "attempts": 0,
                "document": document,
                "request_id": request_id_var.get(),
                "created_at": ctx.clock(),
            },
        )
        if facts.peer_unhealthy:
            # The peer proved alive: close its delivery circuit and bring its deliveries forward.
            await mark_peer_alive(session, actor.domain, ctx.clock())
        await session.commit()
        return True


async def _receive(request: Request, target_uri: str | None) -> Response:
    ctx = context_of(request)
    try:
        problem = content_type_problem(request.headers.get("content-type"))
        if problem is not None:
            raise _Refused(415, problem)
        body = await _read_body(request)
        try:
            document = parse_json_object(body, max_depth=MAX_DEPTH)
            shape = read_activity(document)
        except (BadDocument, ShapeError) as exc:
            raise _Refused(400, str(exc)) from None
        for attempt in (1, 2):
            try:
                await _accept(ctx, request, body, document, shape, target_uri)
                break
            except IntegrityError:
                # A concurrent request stored the same activity (a replay: 202) or the same new
                # actor; the second attempt finds it cached.
                if attempt == 2:
                    break
    except _Refused as refusal:
        log_event(
            _log,
            "inbox refused",
            logging.INFO,
            status=refusal.status,
            reason=refusal.reason,
            path=request.url.path,
        )
        return JSONResponse({"error": refusal.reason}, status_code=refusal.status)
    return Response(status_code=202)


async def shared_inbox(request: Request) -> Response:
    """``POST /inbox``: the shared inbox of every local actor."""
    return await _receive(request, None)


async def user_inbox(request: Request) -> Response:
    """``POST /users/{name}/inbox``: a person's inbox (404 if there is no such person)."""
    base = context_of(request).settings.base_url
    return await _receive(request, f"{base}/users/{request.path_params['name']}")


async def group_inbox(request: Request) -> Response:
    """``POST /groups/{name}/inbox``: a group's inbox (404 if there is no such group)."""
    base = context_of(request).settings.base_url
    return await _receive(request, f"{base}/groups/{request.path_params['name']}")


async def instance_inbox(request: Request) -> Response:
    """``POST /actor/inbox``: the instance actor's inbox (FEP-2677)."""
    return await _receive(request, f"{context_of(request).settings.base_url}/actor")


routes = [
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/users/{name}/inbox", user_inbox, methods=["POST"]),
    Route("/groups/{name}/inbox", group_inbox, methods=["POST"]),
    Route("/actor/inbox", instance_inbox, methods=["POST"]),
]
