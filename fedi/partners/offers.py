"""Writing partner offers: create, edit, change status, validate, expire.

The offer's ``Page`` goes through :mod:`fedi.content.service`; its structured fields go to
``offers`` and ``offer_codes``; every change is recorded in ``offer_changes``. A published offer
federates: ``Create`` when it is published, ``Update`` when it is edited, filled or expires,
``Delete`` when it is withdrawn. Drafts and offers awaiting validation are stored unaddressed
(not public, not sent). Every function works in the caller's transaction; none commits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.actors.local import local_actor
from fedi.content import service as content
from fedi.content.network import share_with_network
from fedi.db.models import Actor, ContentObject, Member, Offer, OfferCode, utcnow
from fedi.db.paging import Keyset, keyset_page
from fedi.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from fedi.federation.outbox import inboxes_for, new_activity_id, new_object_id, publish
from fedi.federation.shapes import read_object
from fedi.federation.vocab import AS2_CONTEXT, PUBLIC
from fedi.partners.document import offer_context, offer_page
from fedi.partners.fields import CODE_FIELDS, OfferData, quality_faults, read_offer
from fedi.partners.index import index_offer, unindex_offer
from fedi.partners.policy import offers_need_validation
from fedi.partners.rows import fill_offer, offer_codes, offer_data, record_change, write_codes
from fedi.partners.saved_searches import alert_saved_searches
from fedi.services import forums
from fedi.settings import Settings

__all__ = [
    "PARTNER_FORUM",
    "OfferFilters",
    "OfferView",
    "create_offer",
    "expire_due",
    "find_offer",
    "get_offer",
    "list_offers",
    "offer_codes",
    "offer_data",
    "offer_payload",
    "set_status",
    "unstored_view",
    "update_offer",
    "validate_offer",
    "view_of",
    "view_offer",
]

PARTNER_FORUM = "partners"
# Which status may follow which, by the owner's hand (expiry is the job's).
_TRANSITIONS = {
    "draft": {"published", "withdrawn"},
    "published": {"filled", "withdrawn"},
    "filled": {"published", "withdrawn"},
    "expired": {"withdrawn"},
    "withdrawn": set(),
}


async def _partner_forum(session: AsyncSession, settings: Settings) -> Actor:
    try:
        return await forums.find_forum(session, settings, PARTNER_FORUM)
    except NotFoundError:
        return await forums.create_forum(
            session,
            settings,
            PARTNER_FORUM,
            # Not "Partner search": that is the search page's name, in every page's menu.
            "Partner offers and requests",
            "Every partner offer and request published on this network.",
        )


def _check_quality(data: OfferData, today: date) -> None:
    faults = quality_faults(data, today)
    if faults:
        first = next(iter(faults))
        raise ValidationError(f"{first}: {faults[first][0]}", errors=faults)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _changed(old: OfferData, new: OfferData) -> list[str]:
    before, after = asdict(old), asdict(new)
    names = [key for key in after if key not in ("codes", "extra") and before[key] != after[key]]
    names += [key for key in CODE_FIELDS if old.codes.get(key, []) != new.codes.get(key, [])]
    return names


async def _send(
    session: AsyncSession,
    settings: Settings,
    offer: Offer,
    row: ContentObject,
    author: Actor,
    kind: str,
) -> None:
    """Rewrite the offer's Page from its fields and, for a public one, send ``kind``."""
    data = await offer_data(session, offer)
    forum = await _partner_forum(session, settings)
    public = offer.status in ("published", "filled", "expired")
    now = utcnow()
    network = await _network(session, settings)
    page = offer_page(
        data,
        object_id=row.uri,
        author_uri=author.uri,
        forum_uri=forum.uri,
        to=[PUBLIC, forum.uri] if public else [],
        cc=_followers(author, network) if public else [],
        published=_iso(now if kind == "Create" else row.published),
        status=offer.status,
        validated_by=offer.validated_by if offer.validated else None,
        updated=_iso(now) if kind == "Update" else None,
    )
    stored = {"@context": offer_context(), **page}
    content.revise(row, read_object(stored), stored, now=now)
    if kind == "Create":
        row.published = now
    if not public:
        return
    await index_offer(session, offer, data)
    if kind == "Create" and offer.status == "published":
        member = await session.scalar(select(Member.id).where(Member.actor_id == author.id))
        await alert_saved_searches(session, settings, offer, row.uri, author=member)
    activity = {
        "@context": offer_context(),
        "id": new_activity_id(settings),
        "type": kind,
        "actor": author.uri,
        "published": _iso(now),
        "to": page["to"],
        "cc": page["cc"],
        "object": page,
    }
    sent = await publish(
        session, author, activity, inboxes=await _inboxes(session, author, network, activity)
    )
    await share_with_network(session, settings, sent)


async def _network(session: AsyncSession, settings: Settings) -> Actor | None:
    return await local_actor(session, settings, settings.network_handle)


def _followers(author: Actor, network: Actor | None) -> list[str]:
    """``cc`` of a public offer: the author's followers and the network group's (peer
    instances of ours follow the group)."""
    found = [author.followers_url or ""]
    if network is not None and network.followers_url:
        found.append(network.followers_url)
    return found


async def _inboxes(
    session: AsyncSession, author: Actor, network: Actor | None, activity: dict[str, Any]
) -> list[str]:
    """The inboxes of the author's followers and of the network group's, each once."""
    found = dict.fromkeys(await inboxes_for(session, author, activity))
    if network is not None:
        found.update(dict.fromkeys(await inboxes_for(session, network, activity)))
    return list(found)


async def get_offer(session: AsyncSession, offer_id: int) -> tuple[Offer, ContentObject]:
    offer = await session.get(Offer, offer_id)
    row = None if offer is None else await session.get(ContentObject, offer.object_id)
    if offer is None or row is None:
        raise NotFoundError(f"no offer {offer_id}")
    return offer, row


@dataclass(frozen=True, slots=True)
class OfferView:
    """One offer as read: its fields, its row, its ``Page`` and its author."""

    offer: Offer
    row: ContentObject
    author: Actor
    data: OfferData

    @property
    def id(self) -> int:
        return self.offer.id

    @property
    def status(self) -> str:
        return self.offer.status

    @property
    def uri(self) -> str:
        return self.row.uri

    @property
    def local(self) -> bool:
        return self.row.local

    @property
    def created(self) -> datetime:
        return self.offer.created_at

    @property
    def updated(self) -> datetime:
        return self.offer.updated_at

    @property
    def awaiting_validation(self) -> bool:
        return self.offer.awaiting_validation

    @property
    def validated_by(self) -> str | None:
        return self.offer.validated_by if self.offer.validated else None


@dataclass(frozen=True, slots=True)
class OfferFilters:
    """What a list of published offers is narrowed to (``None``: anything); each code checked
    by the caller."""

    purpose: str | None = None
    country: str | None = None
    objective: str | None = None
    theme: str | None = None
    target_group: str | None = None


async def _view(session: AsyncSession, offer: Offer, row: ContentObject) -> OfferView:
    author = await session.get(Actor, row.attributed_to_id)
    if author is None:
        raise NotFoundError(f"no offer {offer.id}")
    return OfferView(offer, row, author, await offer_data(session, offer))


async def find_offer(session: AsyncSession, uri: str) -> OfferView:
    """The offer whose ``Page`` is ``uri``, whatever its status; NotFoundError if none."""
    row = await content.find(session, uri)
    offer = None
    if row is not None:
        offer = await session.scalar(select(Offer).where(Offer.object_id == row.id))
    if row is None or offer is None:
        raise NotFoundError("no such offer")
    return await _view(session, offer, row)


def unstored_view(
    data: OfferData,
    *,
    document: dict[str, Any],
    author: Actor,
    status: str,
    validated_by: str | None,
    published: datetime,
) -> OfferView:
    """The view of an offer held nowhere here (a partner instance's answer to a live search):
    its rows are built in memory, with the id 0, as a replica of it would hold them."""
    offer = Offer(
        id=0,
        object_id=0,
        status=status,
        validated=validated_by is not None,
        validated_by=validated_by,
        awaiting_validation=False,
        created_at=published,
        updated_at=published,
    )
    fill_offer(offer, data)
    row = ContentObject(
        id=0,
        uri=document["id"],
        url=document["id"],
        type="Page",
        local=False,
        attributed_to_id=author.id,
        document=document,
        published=published,
    )
    return OfferView(offer, row, author, data)


async def view_offer(session: AsyncSession, offer_id: int) -> OfferView:
    """The offer ``offer_id`` whatever its status (the caller decides who may see it)."""
    offer, row = await get_offer(session, offer_id)
    return await _view(session, offer, row)


async def view_of(session: AsyncSession, offer: Offer) -> OfferView:
    """The :class:`OfferView` of an offer just written."""
    _, row = await get_offer(session, offer.id)
    return await _view(session, offer, row)


async def list_offers(
    session: AsyncSession,
    filters: OfferFilters,
    *,
    limit: int,
    before: int | None = None,
    local_only: bool = False,
) -> Keyset[OfferView]:
    """One page of the published offers ``filters`` selects, newest first; with
    ``local_only``, the offers written here alone (not the replicated ones)."""
    query = select(Offer).where(Offer.status == "published")
    if local_only:
        query = query.where(
            Offer.object_id.in_(select(ContentObject.id).where(ContentObject.local.is_(True)))
        )
    if filters.purpose:
        query = query.where(Offer.purpose == filters.purpose)
    if filters.country:
        query = query.where(Offer.organisation_country == filters.country)
    for name, code in (
        ("objectives", filters.objective),
        ("themes", filters.theme),
        ("target_groups", filters.target_group),
    ):
        if code:
            query = query.where(
                Offer.id.in_(
                    select(OfferCode.offer_id).where(
                        OfferCode.field == name, OfferCode.code == code
                    )
                )
            )
    page = await keyset_page(session, query, Offer.id, limit=limit, before=before)
    views = []
    for offer in page.rows:
        row = await session.get(ContentObject, offer.object_id)
        if row is not None:
            views.append(await _view(session, offer, row))
    return Keyset(views, page.total, page.next_before)


async def _own(session: AsyncSession, author: Actor, offer_id: int) -> tuple[Offer, ContentObject]:
    offer, row = await get_offer(session, offer_id)
    if row.attributed_to_id != author.id or not row.local:
        raise ForbiddenError(f"offer {offer_id} belongs to someone else")
    return offer, row


async def _publish_or_queue(
    session: AsyncSession, settings: Settings, offer: Offer, row: ContentObject, author: Actor
) -> None:
    if await offers_need_validation(session) and not offer.validated:
        offer.awaiting_validation = True
        await _send(session, settings, offer, row, author, "Update")
        return
    offer.status = "published"
    offer.awaiting_validation = False
    await _send(session, settings, offer, row, author, "Create")


async def create_offer(
    session: AsyncSession,
    settings: Settings,
    author: Actor,
    payload: dict[str, Any],
    *,
    today: date,
) -> Offer:
    """A new offer of ``author``: a draft, or (``status`` "published", the default) published or
    waiting for validation. Nothing is written when a check fails."""
    status = payload.get("status", "published")
    if status not in ("draft", "published"):
        raise ValidationError("a new offer is a draft or published", field="status")
    data = read_offer(payload)
    if status == "published":
        _check_quality(data, today)
    document: dict[str, Any] = {
        "@context": AS2_CONTEXT,
        "id": new_object_id(settings),
        "type": "Page",
        "attributedTo": author.uri,
        "name": data.title,
        "to": [],
        "cc": [],
    }
    row = content.create(session, read_object(document), document, author_id=author.id, local=True)
    await session.flush()
    offer = Offer(object_id=row.id, status="draft")
    fill_offer(offer, data)
    session.add(offer)
    await session.flush()
    await write_codes(session, offer, data.codes)
    await record_change(session, offer, author, [], None, "draft")
    await session.flush()
    if status == "published":
        await _publish_or_queue(session, settings, offer, row, author)
        if offer.status == "published":
            await record_change(session, offer, author, [], "draft", "published")
    else:
        await _send(session, settings, offer, row, author, "Update")
    return offer


async def update_offer(
    session: AsyncSession,
    settings: Settings,
    author: Actor,
    offer_id: int,
    changes: dict[str, Any],
    *,
    today: date,
) -> Offer:
    """Change fields of an offer (those given replace the stored ones; ``organisation`` and
    ``funding`` merge key by key)."""
    offer, row = await _own(session, author, offer_id)
    if offer.status == "withdrawn":
        raise ConflictError("a withdrawn offer cannot be changed")
    old = await offer_data(session, offer)
    merged = offer_payload(old)
    for key, value in changes.items():
        if key in ("organisation", "funding") and isinstance(value, dict):
            merged[key] = {**merged[key], **value}
        elif key != "status":
            merged[key] = value
    data = read_offer(merged)
    if offer.status == "published":
        _check_quality(data, today)
    fields = _changed(old, data)
    if not fields:
        return offer
    fill_offer(offer, data)
    offer.updated_at = utcnow()
    await write_codes(session, offer, data.codes)
    await record_change(session, offer, author, fields, None, None)
    await _send(session, settings, offer, row, author, "Update")
    return offer


def offer_payload(data: OfferData) -> dict[str, Any]:
    """The fields of ``data`` as a payload :func:`read_offer` reads back (dates as text)."""
    funding = {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in data.funding.items()
    }
    return {
        "purpose": data.purpose,
        "level": data.level,
        "language": data.language,
        "title": data.title,
        "summary": data.summary,
        "description": data.description,
        "translations": data.translations,
        **data.codes,
        "organisation": dict(data.organisation),
        "partners_needed": data.partners_needed,
        "funding": funding,
        "last_minute": data.last_minute,
        "expires": data.expires.isoformat() if data.expires else None,
    }


async def set_status(
    session: AsyncSession,
    settings: Settings,
    author: Actor,
    offer_id: int,
    status: object,
    *,
    today: date,
) -> Offer:
    """Move an offer of ``author`` to ``status`` (published, filled, withdrawn)."""
    offer, row = await _own(session, author, offer_id)
    if not isinstance(status, str) or status not in ("published", "filled", "withdrawn"):
        raise ValidationError("must be published, filled or withdrawn", field="status")
    if status == offer.status:
        return offer
    if status not in _TRANSITIONS[offer.status]:
        raise ConflictError(f"an offer that is {offer.status} cannot become {status}")
    before = offer.status
    if status == "published":
        _check_quality(await offer_data(session, offer), today)
        if before == "draft":
            await _publish_or_queue(session, settings, offer, row, author)
        else:
            offer.status = status
            await _send(session, settings, offer, row, author, "Update")
    elif status == "filled":
        offer.status = status
        await _send(session, settings, offer, row, author, "Update")
    else:
        offer.status = status
        offer.awaiting_validation = False
        await _withdraw(session, settings, row, author, was_public=before != "draft")
        await unindex_offer(session, offer)
    offer.updated_at = utcnow()
    if offer.status != before:
        await record_change(session, offer, author, [], before, offer.status)
    return offer


async def _withdraw(
    session: AsyncSession,
    settings: Settings,
    row: ContentObject,
    author: Actor,
    *,
    was_public: bool,
) -> None:
    activity = content.deletion(row, author.uri, new_activity_id(settings), now=utcnow())
    if was_public and activity["to"]:
        network = await _network(session, settings)
        inboxes = await _inboxes(session, author, network, activity)
        sent = await publish(session, author, activity, inboxes=inboxes)
        await share_with_network(session, settings, sent)


async def validate_offer(
    session: AsyncSession, settings: Settings, moderator: Actor, offer_id: int, *, network: str
) -> Offer:
    """A moderator's validation: the offer carries "validated by ``network``"; one awaiting
    validation is published now."""
    offer, row = await get_offer(session, offer_id)
    if not row.local or offer.status == "withdrawn":
        raise ConflictError("only this instance's current offers can be validated")
    author = await session.get(Actor, row.attributed_to_id)
    assert author is not None
    offer.validated, offer.validated_by = True, network
    await record_change(session, offer, moderator, ["validated"], None, None)
    if offer.awaiting_validation:
        offer.awaiting_validation = False
        offer.status = "published"
        await _send(session, settings, offer, row, author, "Create")
        await record_change(session, offer, moderator, [], "draft", "published")
    elif offer.status != "draft":
        await _send(session, settings, offer, row, author, "Update")
    return offer


async def expire_due(session: AsyncSession, settings: Settings, *, today: date) -> int:
    """Mark expired every local published or filled offer whose ``expires`` day has passed;
    each expiry federates as an ``Update``. Returns how many expired."""
    rows = await session.execute(
        select(Offer, ContentObject)
        .join(ContentObject, ContentObject.id == Offer.object_id)
        .where(
            Offer.status.in_(("published", "filled")),
            Offer.expires < today,
            ContentObject.local.is_(True),
        )
    )
    count = 0
    for offer, row in rows.all():
        author = await session.get(Actor, row.attributed_to_id)
        if author is None:
            continue
        before, offer.status = offer.status, "expired"
        await _send(session, settings, offer, row, author, "Update")
        await record_change(session, offer, None, [], before, "expired")
        count += 1
    return count
