"""The acceptance policy of incoming requests: an ordered list of named conditions.

Every POST to an inbox (shared or personal) and every signed GET is described by one
:class:`Incoming` and judged by one :class:`Policy`: its conditions run in order, and the first
that answers decides with a :class:`Verdict` (a status and a reason). A request that passes them
all is accepted; for the inbox, :func:`fedi.federation.inbox_store.record` then writes it. The
conditions themselves, and the inbox's and signed GET's lists, are in
:mod:`fedi.federation.conditions`.

What the conditions need from the database is read once per request, on first use, by
:meth:`Incoming.facts` (one query, on a connection returned before anything is fetched). Nothing
here writes: a refused request leaves no row, no cached key and no de-duplication key behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Boolean, Connection, Select, and_, bindparam, exists, literal, or_, select
from sqlalchemy.engine import Dialect

from fedi.actors.remote import ActorKeyResolver, CachedKeys, KnownActor
from fedi.blocks.service import block_candidates
from fedi.crypto import Verified
from fedi.db.models import (
    Activity,
    Actor,
    AllowedDomain,
    BlockSeverity,
    ContentObject,
    DomainBlock,
    FederationMode,
    Peer,
)
from fedi.db.prepared import Prepared
from fedi.federation.shapes import ActivityShape
from fedi.instance import InstanceContext
from fedi.net.urls import host_of

__all__ = ["BLOCK_SLOTS", "Condition", "Facts", "Incoming", "Policy", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """A condition's answer: ``status`` with ``reason`` (a 4xx or 5xx refusal, or a 2xx for a
    request answered without being recorded, such as a replay); ``condition`` names who said it.
    """

    status: int
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    condition: str = ""


@dataclass(frozen=True)
class Facts:
    """What the conditions need from the database about one request, read in one query."""

    actor: CachedKeys | None  # the claimed actor's row, if cached (remote)
    blocked: bool  # a suspend block covers the claimed actor's host
    seen: bool  # an activity with this id is recorded already
    target_ok: bool  # the personal inbox's owner exists (True for the shared inbox)
    peer_unhealthy: bool  # the actor's host has delivery failures to reset
    object_owner_id: int | None  # the actor row owning the content object named by ``object``
    object_actor_id: int | None  # the actor row whose id ``object`` is
    object_activity_actor_id: int | None  # the actor of the recorded activity ``object`` names
    not_allowed: bool = False  # allowlist-only mode is on and the host is not on the allowlist


@dataclass
class Incoming:
    """One incoming request, and what the conditions learned about it so far.

    ``url`` is the URL as the sender addressed it (:func:`fedi.web.addressed.addressed_url`);
    ``body`` is ``None`` when it was over the size cap; ``target_uri`` is the owner of a personal
    inbox (``None`` for the shared one and for GETs).
    """

    ctx: InstanceContext
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    target_uri: str | None = None
    document: dict[str, Any] | None = None  # set by ``json_shape``
    shape: ActivityShape | None = None  # set by ``json_shape``
    verified: Verified | None = None  # set by ``signature``
    resolver: ActorKeyResolver | None = None  # set by ``signature``
    _facts: Facts | None = None
    _actor_host: tuple[str, str] | None = None

    @property
    def activity(self) -> ActivityShape:
        """The activity's shape; only for conditions placed after ``json_shape``."""
        if self.shape is None:
            raise RuntimeError("condition placed before json_shape")
        return self.shape

    @property
    def claimed_actor(self) -> str | None:
        """Who the request says it is from: the activity's actor, else the verified signer."""
        if self.shape is not None:
            return self.shape.actor
        return self.verified.owner if self.verified is not None else None

    @property
    def actor_host(self) -> str:
        """The normalised host of :attr:`claimed_actor` (computed once)."""
        claimed = self.claimed_actor
        if claimed is None:
            raise RuntimeError("actor host asked before the actor is known")
        if self._actor_host is None or self._actor_host[0] != claimed:
            self._actor_host = (claimed, host_of(claimed))
        return self._actor_host[1]

    @property
    def signer_row(self) -> KnownActor | None:
        """The cached row of the verified signer (``None`` for a signer fetched just now)."""
        if self.verified is None or self.resolver is None:
            return None
        if self.resolver.actor is not None:
            return self.resolver.actor
        known = self._facts.actor if self._facts is not None else None
        return known if known is not None and known.uri == self.verified.owner else None

    @property
    def signer_domain(self) -> str:
        """The verified signer's domain (rule 17), from its row or its fetched document."""
        row = self.signer_row
        if row is not None:
            return row.domain
        if self.resolver is not None and self.resolver.fetched is not None:
            return self.resolver.fetched.domain
        raise RuntimeError("condition placed before signature")

    async def facts(self) -> Facts:
        """The database facts about the claimed actor and the activity, read once."""
        if self._facts is None:
            self._facts = await _read_facts(self)
        return self._facts


Check = Callable[[Incoming], Awaitable[Verdict | None]]


@dataclass(frozen=True)
class Condition:
    """A named check: ``None`` lets the request on, a :class:`Verdict` answers it."""

    name: str
    check: Check


@dataclass(frozen=True)
class Policy:
    """Conditions evaluated in order; the first verdict answers the request."""

    conditions: tuple[Condition, ...]

    @property
    def names(self) -> list[str]:
        return [condition.name for condition in self.conditions]

    def adding(self, condition: Condition, *, before: str | None = None) -> Policy:
        """This policy with ``condition`` placed before the one named ``before`` (else last)."""
        items = list(self.conditions)
        index = self.names.index(before) if before is not None else len(items)
        items.insert(index, condition)
        return Policy(tuple(items))

    def only(self, *names: str) -> Policy:
        """The conditions named ``names``, in that order (the same checks for another use)."""
        by_name = {condition.name: condition for condition in self.conditions}
        return Policy(tuple(by_name[name] for name in names))

    async def evaluate(self, incoming: Incoming) -> Verdict | None:
        """The first verdict of the conditions, or ``None`` when every one passed."""
        for condition in self.conditions:
            verdict = await condition.check(incoming)
            if verdict is not None:
                return replace(verdict, condition=condition.name)
        return None


# The facts query ---------------------------------------------------------------------------------


# The columns of the actor's row the conditions and the key resolver read.
_ACTOR_COLUMNS = (
    "id",
    "uri",
    "domain",
    "public_key_id",
    "public_key_pem",
    "ed25519_key_id",
    "ed25519_public_multibase",
)
# The domains whose suspension covers the actor's host go in this many fixed parameters (a list
# of varying length would be rendered again on every execution): the host and its parents.
BLOCK_SLOTS = 16
_BLOCK_NAMES = tuple(f"block{slot}" for slot in range(BLOCK_SLOTS))
_FACTS: WeakKeyDictionary[Dialect, Prepared] = WeakKeyDictionary()


def _facts_statement() -> Select[Any]:
    """The facts query: a row of flags, with the actor's columns when it is cached (an outer
    join), compiled once per dialect (:class:`fedi.db.prepared.Prepared`)."""
    actors = Actor.__table__
    target = actors.alias("target")
    named = actors.alias("named")
    recorded = Activity.__table__.alias("recorded")
    flags = (
        exists()
        .where(
            DomainBlock.domain.in_([bindparam(name) for name in _BLOCK_NAMES]),
            DomainBlock.severity == BlockSeverity.SUSPEND,
        )
        .label("blocked"),
        exists().where(Activity.uri == bindparam("activity_id")).label("seen"),
        or_(
            bindparam("shared_inbox", type_=Boolean()),
            exists().where(
                target.c.uri == bindparam("target_uri"),
                target.c.local.is_(True),
                target.c.deleted_at.is_(None),
            ),
        ).label("target_ok"),
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
        select(ContentObject.attributed_to_id)
        .where(ContentObject.uri == bindparam("object_id"))
        .scalar_subquery()
        .label("object_owner"),
        select(named.c.id).where(named.c.uri == bindparam("object_id")).scalar_subquery(),
        select(recorded.c.actor_id)
        .where(recorded.c.uri == bindparam("object_id"))
        .scalar_subquery(),
        and_(
            exists().where(FederationMode.allowlist_only.is_(True)),
            ~exists().where(AllowedDomain.domain.in_([bindparam(name) for name in _BLOCK_NAMES])),
        ).label("not_allowed"),
    )
    # One row whatever happens: the flags, and the actor's columns (NULL when not cached).
    one = select(literal(1).label("one")).subquery()
    cached = and_(actors.c.uri == bindparam("actor_uri"), actors.c.local.is_(False))
    inactive = or_(actors.c.suspended_at.is_not(None), actors.c.deleted_at.is_not(None))
    return select(
        *flags, *(actors.c[name] for name in _ACTOR_COLUMNS), inactive.label("inactive")
    ).select_from(one.outerjoin(actors, cached))


def _prepared_facts(dialect: Dialect) -> Prepared:
    prepared = _FACTS.get(dialect)
    if prepared is None:
        prepared = _FACTS[dialect] = Prepared(_facts_statement(), dialect)
    return prepared


def _facts_of(row: tuple[Any, ...]) -> Facts:
    blocked, seen, target_ok, unhealthy, owner, named, recorded, not_allowed = row[:8]
    actor = None
    if row[8] is not None:
        actor_id, uri, domain, rsa_id, rsa_pem, ed_id, ed_multibase, inactive = row[8:]
        actor = CachedKeys(
            actor_id, uri, domain, rsa_id, rsa_pem, ed_id, ed_multibase, bool(inactive)
        )
    return Facts(
        actor=actor,
        blocked=bool(blocked),
        seen=bool(seen),
        target_ok=bool(target_ok),
        peer_unhealthy=bool(unhealthy),
        object_owner_id=owner,
        object_actor_id=named,
        object_activity_actor_id=recorded,
        not_allowed=bool(not_allowed),
    )


async def _read_facts(incoming: Incoming) -> Facts:
    """One query (see :class:`fedi.db.hot_reads.HotReads` for where it runs)."""
    actor_uri = incoming.claimed_actor
    if actor_uri is None:
        raise RuntimeError("facts read before the actor is known")
    actor_host = incoming.actor_host
    shape = incoming.shape
    candidates = block_candidates(actor_host)
    if len(candidates) > BLOCK_SLOTS:  # pragma: no cover - the valid_iris condition refuses it
        raise RuntimeError("actor host with too many labels")
    params = {
        "actor_uri": actor_uri,
        "activity_id": shape.id if shape is not None else None,
        "object_id": shape.object_id if shape is not None else None,
        "actor_host": actor_host,
        "shared_inbox": incoming.target_uri is None,
        "target_uri": incoming.target_uri,
    }
    padded = candidates + candidates[-1:] * (BLOCK_SLOTS - len(candidates))
    params.update(zip(_BLOCK_NAMES, padded, strict=True))

    def read(connection: Connection) -> tuple[Any, ...]:
        row = _prepared_facts(connection.dialect).first(connection, params)
        assert row is not None, "the query has one row"
        return row

    return _facts_of(await incoming.ctx.hot_reads.run(read))
