"""The inbox's fast path to the database: signer keys and one conditional INSERT.

An accepted activity costs one statement on a *synchronous* connection (the standard library's
sqlite3, or psycopg), compiled once and run on the driver's cursor, committed with others in a
group commit: on the event loop's thread for SQLite (:class:`fedi.db.loop_commit.LoopCommit`),
in a writer thread for PostgreSQL (:class:`fedi.db.group_commit.GroupCommit`). The statement is
an ``INSERT ... SELECT ... WHERE`` that records the activity only if, inside that single
statement, every database condition of the inbox holds (SECURITY.md "Incoming requests"):

- the signer's row still publishes the very key the signature was checked against, is remote,
  is the activity's actor and is neither suspended nor deleted (rules 14, 15, 22);
- no ``suspend`` block covers the actor's domain (rule 22);
- no activity with this ``id`` is recorded yet (rule 23);
- a personal inbox's owner exists;
- the actor's host has no delivery failures to reset (that needs the full path).

It then commits before answering. When any condition fails nothing is written and
:meth:`InboxStore.record` returns ``False``: the caller runs the full path, which decides the
answer (a refusal, a replay, a key re-fetch). The signer cache is therefore only a hint: a
stale entry (a rotated key, a suspended actor) is caught by the statement and dropped.

On SQLite the conditions are checked once per signer (and inbox) per transaction. Once a
checked statement has written, SQLite lets no other connection write until the transaction
ends, and this store's connection writes nothing but activities: every row those conditions
read stays as it was until the commit. Later activities of the same signer in the same
transaction (a busy peer sends many in the time of one) are therefore written by a plain
``INSERT``, and a replayed id among them fails on the unique ``uri`` and takes the full path.
PostgreSQL lets other transactions change those rows meanwhile: there every activity takes the
checked statement.

Signers missing from the cache are read in a thread pool; on SQLite it has one thread: the
database takes one writer at a time anyway, and threads waiting on its lock would spin in the
busy handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Literal, NamedTuple, TypeVar, get_args

from sqlalchemy import (
    Insert,
    Select,
    and_,
    bindparam,
    exists,
    insert,
    not_,
    or_,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from fedi.crypto import (
    KeyFormatError,
    PublicKey,
    ed25519_public_key_from_multibase,
    load_public_key_pem,
)
from fedi.db.engine import make_sync_engine
from fedi.db.group_commit import GroupCommit
from fedi.db.loop_commit import LoopCommit
from fedi.db.models import Activity, ActivityState, Actor, BlockSeverity, DomainBlock, Peer
from fedi.db.prepared import Bound, Prepared
from fedi.federation.blocks import block_candidates
from fedi.net.errors import BadUrl
from fedi.net.urls import host_of

__all__ = ["InboxStore", "NewActivity", "Signer"]

_T = TypeVar("_T")
_MAX_SIGNERS = 4096
# The domains whose block covers a host go into this many fixed parameters (a list of varying
# length would be re-rendered on every execution); a host with more labels takes the full path.
_BLOCK_SLOTS = 8
# A document given as text is JSON already: it goes to the driver as is, unless it is a dict.
_TEXT_DOCUMENT = {"document": str}
_actors = Actor.__table__
_activities = Activity.__table__
_RECORD_COLUMNS = (
    *("uri", "type", "actor_id", "object_uri", "local", "public", "state", "attempts"),
    *("document", "request_id", "created_at"),
)


@dataclass(frozen=True)
class Signer:
    """A remote actor's key as its row held it when cached (re-checked on every write)."""

    key_id: str
    material: str  # the PEM or multibase text the key was parsed from
    public_key: PublicKey
    actor_id: int
    actor_uri: str
    domain: str  # the actor row's domain (rule 17)
    host: str  # the normalised host of the actor's id (blocks, peers)
    blocks: dict[str, str] | None  # the block candidates of ``host`` as parameters, if they fit


# The forms of the record statement: checked for the shared inbox or a personal one, or plain.
_Form = Literal["shared", "personal", "plain"]
_FORMS: tuple[_Form, ...] = get_args(_Form)


def _checked(target_uri: str | None) -> _Form:
    return "shared" if target_uri is None else "personal"


class NewActivity(NamedTuple):
    """The columns of an incoming activity recorded with state ``received``."""

    uri: str
    type: str
    object_uri: str | None
    public: bool
    document: dict[str, Any]
    created_at: datetime
    request_id: str | None = None
    # ``document`` as the JSON text it was parsed from, when that is UTF-8: stored as received,
    # which spares serialising it again.
    text: str | None = None


def _signer_query() -> Select[Any]:
    return select(
        _actors.c.id,
        _actors.c.uri,
        _actors.c.domain,
        _actors.c.public_key_id,
        _actors.c.public_key_pem,
        _actors.c.ed25519_key_id,
        _actors.c.ed25519_public_multibase,
    ).where(
        _actors.c.local.is_(False),
        or_(
            _actors.c.public_key_id == bindparam("key_id"),
            _actors.c.ed25519_key_id == bindparam("key_id"),
        ),
    )


def _record_statement(personal: bool) -> Insert:
    """``INSERT INTO activities (...) SELECT :params WHERE <every condition>``, built once."""
    columns = list(_RECORD_COLUMNS)
    values = [bindparam(name, type_=_activities.c[name].type) for name in columns]
    signer_ok = exists().where(
        _actors.c.id == bindparam("actor_id"),
        _actors.c.uri == bindparam("actor_uri"),
        _actors.c.domain == bindparam("domain"),
        _actors.c.local.is_(False),
        _actors.c.suspended_at.is_(None),
        _actors.c.deleted_at.is_(None),
        or_(
            and_(
                _actors.c.public_key_id == bindparam("key_id"),
                _actors.c.public_key_pem == bindparam("material"),
            ),
            and_(
                _actors.c.ed25519_key_id == bindparam("key_id"),
                _actors.c.ed25519_public_multibase == bindparam("material"),
            ),
        ),
    )
    blocked = exists().where(
        DomainBlock.domain.in_([bindparam(f"block{slot}") for slot in range(_BLOCK_SLOTS)]),
        DomainBlock.severity == BlockSeverity.SUSPEND,
    )
    seen = exists().where(_activities.c.uri == bindparam("uri"))
    unhealthy = exists().where(
        Peer.host == bindparam("host"),
        or_(
            Peer.consecutive_failures > 0,
            Peer.available.is_(False),
            Peer.circuit_open_until.is_not(None),
        ),
    )
    conditions = [signer_ok, not_(blocked), not_(seen), not_(unhealthy)]
    if personal:
        target = Actor.__table__.alias("target")
        conditions.append(
            exists().where(
                target.c.uri == bindparam("target_uri"),
                target.c.local.is_(True),
                target.c.deleted_at.is_(None),
            )
        )
    # Whether the row went in is the answer: the driver's rowcount (see Prepared).
    return insert(Activity).from_select(columns, select(*values).where(*conditions))


def _plain_record_statement() -> Insert:
    """``INSERT INTO activities (...) VALUES (:params)``: for a signer whose conditions a
    checked statement has vouched for in the same SQLite transaction (see the module)."""
    return insert(Activity).values(
        {name: bindparam(name, type_=_activities.c[name].type) for name in _RECORD_COLUMNS}
    )


def _block_parameters(candidates: list[str]) -> dict[str, str] | None:
    if len(candidates) > _BLOCK_SLOTS:
        return None
    padded = candidates + candidates[-1:] * (_BLOCK_SLOTS - len(candidates))
    return {f"block{slot}": domain for slot, domain in enumerate(padded)}


def _signer_from_row(row: Any, key_id: str) -> Signer | None:
    try:
        if key_id == row.public_key_id and row.public_key_pem:
            material: str = row.public_key_pem
            public_key = load_public_key_pem(material)
        elif key_id == row.ed25519_key_id and row.ed25519_public_multibase:
            material = row.ed25519_public_multibase
            public_key = ed25519_public_key_from_multibase(material)
        else:
            return None
        host = host_of(row.uri)
    except (KeyFormatError, ValueError, BadUrl):
        return None
    return Signer(
        key_id=key_id,
        material=material,
        public_key=public_key,
        actor_id=row.id,
        actor_uri=row.uri,
        domain=row.domain,
        host=host,
        blocks=_block_parameters(block_candidates(host)),
    )


class InboxStore:
    """Signer look-ups and conditional inserts for the inbox, on a synchronous engine."""

    def __init__(self, database_url: str) -> None:
        self._engine = make_sync_engine(database_url)
        single = make_url(database_url).get_backend_name() == "sqlite"
        self._threads = ThreadPoolExecutor(1 if single else 4, thread_name_prefix="fedi-inbox")
        # SQLite: statements on the loop's thread (see LoopCommit); PostgreSQL: a writer thread.
        self._writes: LoopCommit | GroupCommit = (
            LoopCommit(self._engine) if single else GroupCommit(self._engine)
        )
        self._signers: dict[str, Signer] = {}
        self._bound_statements: dict[tuple[str, _Form], Bound] = {}
        self._signer_query = _signer_query()
        dialect = self._engine.dialect
        self._record: dict[_Form, Prepared] = {
            "shared": Prepared(_record_statement(False), dialect, verbatim=_TEXT_DOCUMENT),
            "personal": Prepared(_record_statement(True), dialect, verbatim=_TEXT_DOCUMENT),
            "plain": Prepared(_plain_record_statement(), dialect, verbatim=_TEXT_DOCUMENT),
        }
        # SQLite: the signers (and inboxes) a checked statement has written for in the open
        # transaction, and that transaction's number (see the module).
        self._vouched: set[tuple[str, str, int, str | None]] = set()
        self._vouched_in = -1

    async def _run(self, function: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, partial(function, *args))

    def cached_signer(self, key_id: str) -> Signer | None:
        """The signer publishing ``key_id`` if it is in the cache already (no database)."""
        return self._signers.get(key_id)

    async def signer(self, key_id: str) -> Signer | None:
        """The cached remote signer publishing ``key_id``, loaded on a miss; ``None`` if no
        cached actor publishes it (the full path then fetches it)."""
        found = self._signers.get(key_id)
        if found is None:
            found = await self._run(self._load_signer, key_id)
            if found is not None:
                if len(self._signers) >= _MAX_SIGNERS:
                    self.forget(next(iter(self._signers)))
                self._signers[key_id] = found
        return found

    def forget(self, key_id: str) -> None:
        """Drop a cache entry that did not serve (a rotated key, a suspended actor...)."""
        self._signers.pop(key_id, None)
        for form in _FORMS:
            self._bound_statements.pop((key_id, form), None)

    async def record(self, signer: Signer, activity: NewActivity, target_uri: str | None) -> bool:
        """Record ``activity`` and commit if every condition holds; ``False`` (nothing written)
        otherwise."""
        writes = self._writes
        vouch = (signer.key_id, signer.material, signer.actor_id, target_uri)
        if isinstance(writes, LoopCommit):
            if self._vouched_in != writes.transaction:
                self._vouched.clear()
                self._vouched_in = writes.transaction
            form: _Form = "plain" if vouch in self._vouched else _checked(target_uri)
        else:
            form = _checked(target_uri)
        statement = self._bound(signer, form)
        if statement is None:
            return False
        params = {
            "uri": activity.uri,
            "type": activity.type,
            "object_uri": activity.object_uri,
            "public": activity.public,
            "document": activity.text if activity.text is not None else activity.document,
            "request_id": activity.request_id,
            "created_at": activity.created_at,
            "target_uri": target_uri,
        }
        try:
            if isinstance(writes, LoopCommit):
                count = writes.run(statement, params)
                if count == 1 and form != "plain":
                    self._vouched.add(vouch)  # before any await: the transaction is still open
                await writes.committed()
            else:
                count = await writes.execute(statement, params)
        except IntegrityError:
            return False  # the id recorded before or concurrently: the full path answers
        except OperationalError:
            return False  # SQLite: another connection holds the write lock; the full path waits
        return count == 1

    def _bound(self, signer: Signer, form: _Form) -> Bound | None:
        """The record statement with the values ``signer`` fixes converted once (cached with
        the signer, dropped by :meth:`forget`); ``None`` when its blocks do not fit."""
        if signer.blocks is None:
            return None
        key = (signer.key_id, form)
        cached = self._signers.get(signer.key_id) is signer
        bound = self._bound_statements.get(key) if cached else None
        if bound is None:
            constants = {
                "actor_id": signer.actor_id,
                "local": False,
                "state": ActivityState.RECEIVED,
                "attempts": 0,
            }
            if form != "plain":
                constants |= {
                    **signer.blocks,
                    "actor_uri": signer.actor_uri,
                    "domain": signer.domain,
                    "key_id": signer.key_id,
                    "material": signer.material,
                    "host": signer.host,
                }
            bound = self._record[form].bind(constants)
            if cached:
                self._bound_statements[key] = bound
        return bound

    def close(self) -> None:
        self._writes.close()
        self._threads.shutdown(wait=True)
        self._engine.dispose()

    # In a worker thread ------------------------------------------------------------------------

    def _load_signer(self, key_id: str) -> Signer | None:
        with self._engine.connect() as connection:
            row = connection.execute(self._signer_query, {"key_id": key_id}).first()
        return None if row is None else _signer_from_row(row, key_id)
