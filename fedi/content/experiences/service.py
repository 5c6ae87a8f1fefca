"""The use cases of experiences: write, edit, delete, read and list them.

An experience is a local ``Article`` in ``objects`` (written through
:mod:`fedi.content.service`, like every content object) plus its structured fields in
``experiences``. Writing one publishes it: ``Create``, ``Update`` and ``Delete`` (with a
``Tombstone``) go to the author's followers through the outbox, in the caller's transaction.
Only the author edits or deletes an experience. Every function works in the caller's session;
none commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.content import service as content
from fedi.content.experiences.document import article
from fedi.content.experiences.fields import ExperienceInput, Version, merge, read_input
from fedi.content.markdown import render_markdown
from fedi.content.network import share_with_network
from fedi.db.models import Actor, ContentObject, Experience, ExperienceCode, utcnow
from fedi.db.paging import Keyset, keyset_page
from fedi.errors import ForbiddenError, NotFoundError, ValidationError
from fedi.federation.outbox import new_activity_id, new_object_id, publish
from fedi.federation.shapes import read_object
from fedi.media.service import find_owned, is_image, media_url
from fedi.services.publishing import delete_object
from fedi.settings import Settings

__all__ = [
    "ExperienceFilters",
    "ExperienceGone",
    "ExperienceView",
    "create_experience",
    "delete_experience",
    "get_experience",
    "list_experiences",
    "page_url",
    "text_filter",
    "update_experience",
]

_CODE_FIELDS = (("objective", "objectives"), ("theme", "themes"), ("target_group", "target_groups"))


class ExperienceGone(NotFoundError):
    """The experience was deleted: its page answers 410."""


@dataclass(frozen=True)
class ExperienceView:
    """An experience as pages and the API show it."""

    key: str
    uri: str
    url: str
    local: bool
    author: Actor
    data: ExperienceInput
    attachments: list[dict[str, Any]]
    published: datetime
    updated: datetime | None

    @property
    def versions(self) -> dict[str, Version]:
        """Every language's texts, the original first."""
        return {self.data.language: self.data.original, **self.data.translations}

    def body_html(self, language: str | None = None) -> str:
        version = self.versions.get(language or self.data.language, self.data.original)
        return render_markdown(version.body)


@dataclass(frozen=True)
class ExperienceFilters:
    """What a list is narrowed to; every field optional. Codes are checked by the caller;
    ``author`` is the id of the actor whose experiences alone are listed."""

    q: str | None = None
    country: str | None = None
    objective: str | None = None
    theme: str | None = None
    target_group: str | None = None
    kind: str | None = None
    tag: str | None = None
    author: int | None = None


def page_url(settings: Settings, key: str) -> str:
    return f"{settings.base_url}/experiences/{key}"


def _key(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _uri(settings: Settings, key: str) -> str:
    return f"{settings.base_url}/objects/{key}"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _stored_input(row: Experience, obj: ContentObject) -> ExperienceInput:
    versions = {
        language: Version(str(v["title"]), str(v["summary"]), str(v["body"]))
        for language, v in row.versions.items()
    }
    original = versions.pop(row.language)
    return ExperienceInput(
        kind=row.kind,
        language=row.language,
        original=original,
        translations=versions,
        country=row.country,
        objectives=list(row.objectives),
        themes=list(row.themes),
        target_groups=list(row.target_groups),
        programme_period=row.programme_period,
        organisation=row.organisation,
        results=row.results,
        transferability=row.transferability,
        tags=list(row.tags),
        attachments=[str(item["id"]) for item in row.attachments],
    )


def _view(settings: Settings, row: Experience, obj: ContentObject, author: Actor) -> ExperienceView:
    key = _key(obj.uri)
    return ExperienceView(
        key=key,
        uri=obj.uri,
        url=obj.url or page_url(settings, key),
        local=obj.local,
        author=author,
        data=_stored_input(row, obj),
        attachments=list(row.attachments),
        published=obj.published,
        updated=obj.updated,
    )


def _write_fields(row: Experience, data: ExperienceInput) -> None:
    row.kind = data.kind
    row.language = data.language
    row.versions = {
        language: {"title": v.title, "summary": v.summary, "body": v.body}
        for language, v in {data.language: data.original, **data.translations}.items()
    }
    row.country = data.country
    row.objectives = list(data.objectives)
    row.themes = list(data.themes)
    row.target_groups = list(data.target_groups)
    row.programme_period = data.programme_period
    row.organisation = data.organisation
    row.results = data.results
    row.transferability = data.transferability
    row.tags = list(data.tags)


async def _write_codes(session: AsyncSession, object_id: int, data: ExperienceInput) -> None:
    await session.execute(delete(ExperienceCode).where(ExperienceCode.experience_id == object_id))
    for field, attribute in _CODE_FIELDS:
        for code in getattr(data, attribute):
            session.add(ExperienceCode(experience_id=object_id, field=field, code=code))
    for tag in dict.fromkeys(tag.casefold() for tag in data.tags):
        session.add(ExperienceCode(experience_id=object_id, field="tag", code=tag))


async def _attachments(
    session: AsyncSession, settings: Settings, author: Actor, data: ExperienceInput
) -> list[dict[str, Any]]:
    """The AS2 attachments of the files ``data`` names, each uploaded by ``author``; ``id`` is
    the file's name (it is not sent: :func:`_as2` drops it)."""
    return [
        {
            "id": row.name,
            "type": "Image" if is_image(row.media_type) else "Document",
            "mediaType": row.media_type,
            "url": media_url(settings, row.name),
            "name": row.description,
        }
        for row in await find_owned(session, author, data.attachments)
    ]


def _as2(attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "id"} for item in attachments]


async def create_experience(
    session: AsyncSession, settings: Settings, author: Actor, fields: Mapping[str, Any]
) -> ExperienceView:
    """Check ``fields`` (API.md's names), store the experience and send its ``Create``."""
    if not isinstance(fields, Mapping):
        raise ValidationError("the body must be a JSON object")
    data = read_input(fields)
    attachments = await _attachments(session, settings, author, data)
    object_id = new_object_id(settings)
    key = _key(object_id)
    now = utcnow()
    document = article(
        data,
        object_id=object_id,
        page_url=page_url(settings, key),
        author_uri=author.uri,
        followers_uri=author.followers_url or "",
        published=_iso(now),
        tag_base=f"{settings.base_url}/experiences?tag=",
        attachments=_as2(attachments),
    )
    obj = content.create(session, read_object(document), document, author_id=author.id, local=True)
    await session.flush()
    row = Experience(object_id=obj.id, published=obj.published, attachments=attachments)
    _write_fields(row, data)
    session.add(row)
    await _write_codes(session, obj.id, data)
    body = {k: v for k, v in document.items() if k != "@context"}
    activity = await publish(
        session,
        author,
        {
            "@context": document["@context"],
            "id": new_activity_id(settings),
            "type": "Create",
            "actor": author.uri,
            "published": document["published"],
            "to": document["to"],
            "cc": document["cc"],
            "object": body,
        },
    )
    await share_with_network(session, settings, activity)
    await session.flush()
    return _view(settings, row, obj, author)


async def _stored(
    session: AsyncSession, settings: Settings, key: str
) -> tuple[Experience, ContentObject, Actor]:
    obj = await content.find(session, _uri(settings, key))
    if obj is None or not obj.local:
        raise NotFoundError("no such experience")
    if obj.deleted_at is not None:
        if obj.document.get("formerType") == "Article":
            raise ExperienceGone("this experience was deleted")
        raise NotFoundError("no such experience")
    row = await session.get(Experience, obj.id)
    author = await session.get(Actor, obj.attributed_to_id)
    if row is None or author is None:
        raise NotFoundError("no such experience")
    return row, obj, author


async def _own(
    session: AsyncSession, settings: Settings, author: Actor, key: str
) -> tuple[Experience, ContentObject]:
    row, obj, owner = await _stored(session, settings, key)
    if owner.id != author.id:
        raise ForbiddenError("only its author may change this experience")
    return row, obj


async def get_experience(session: AsyncSession, settings: Settings, key: str) -> ExperienceView:
    """The experience ``key``; :class:`ExperienceGone` once deleted, NotFoundError if unknown."""
    row, obj, author = await _stored(session, settings, key)
    return _view(settings, row, obj, author)


async def update_experience(
    session: AsyncSession,
    settings: Settings,
    author: Actor,
    key: str,
    changes: Mapping[str, Any],
) -> ExperienceView:
    """Replace the fields ``changes`` gives (the others stay), store and send the ``Update``."""
    row, obj = await _own(session, settings, author, key)
    data = merge(_stored_input(row, obj), changes)
    attachments = await _attachments(session, settings, author, data)
    now = utcnow()
    document = article(
        data,
        object_id=obj.uri,
        page_url=obj.url or page_url(settings, key),
        author_uri=author.uri,
        followers_uri=author.followers_url or "",
        published=_iso(obj.published),
        tag_base=f"{settings.base_url}/experiences?tag=",
        attachments=_as2(attachments),
        updated=_iso(now),
    )
    content.revise(obj, read_object(document), document, now=now)
    _write_fields(row, data)
    row.attachments = attachments
    await _write_codes(session, obj.id, data)
    activity = await publish(
        session,
        author,
        {
            "@context": document["@context"],
            "id": new_activity_id(settings),
            "type": "Update",
            "actor": author.uri,
            "to": document["to"],
            "cc": document["cc"],
            "object": {k: v for k, v in document.items() if k != "@context"},
        },
    )
    await share_with_network(session, settings, activity)
    await session.flush()
    return _view(settings, row, obj, author)


async def delete_experience(
    session: AsyncSession, settings: Settings, author: Actor, key: str
) -> None:
    """Delete the experience: its object becomes a Tombstone, followers get the ``Delete``."""
    row, obj = await _own(session, settings, author, key)
    await session.delete(row)
    await session.flush()
    await delete_object(session, settings, author, obj.uri)


def text_filter(query: Select[Any], q: str) -> Select[Any]:
    """Narrow ``query`` (which joins ``objects``) to experiences whose title, summary or text
    contain ``q``, case aside. The one place the text filter is decided (a full-text index can
    take its place)."""
    for word in q.split()[:10]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                ContentObject.name.ilike(pattern, escape="\\"),
                ContentObject.summary.ilike(pattern, escape="\\"),
                ContentObject.source.ilike(pattern, escape="\\"),
            )
        )
    return query


def _filtered(filters: ExperienceFilters) -> Select[Any]:
    query = (
        select(Experience)
        .join(ContentObject, ContentObject.id == Experience.object_id)
        .where(ContentObject.deleted_at.is_(None), ContentObject.public.is_(True))
    )
    if filters.author is not None:
        query = query.where(ContentObject.attributed_to_id == filters.author)
    if filters.kind:
        query = query.where(Experience.kind == filters.kind)
    if filters.country:
        query = query.where(Experience.country == filters.country)
    for field, value in (
        ("objective", filters.objective),
        ("theme", filters.theme),
        ("target_group", filters.target_group),
    ):
        if value:
            query = query.where(
                Experience.object_id.in_(
                    select(ExperienceCode.experience_id).where(
                        ExperienceCode.field == field, ExperienceCode.code == value
                    )
                )
            )
    if filters.tag:
        tag = filters.tag.strip().removeprefix("#").casefold()
        query = query.where(
            Experience.object_id.in_(
                select(ExperienceCode.experience_id).where(
                    ExperienceCode.field == "tag", ExperienceCode.code == tag
                )
            )
        )
    if filters.q and filters.q.strip():
        query = text_filter(query, filters.q)
    return query


async def list_experiences(
    session: AsyncSession,
    settings: Settings,
    filters: ExperienceFilters,
    *,
    limit: int,
    before: int | None = None,
) -> Keyset[ExperienceView]:
    """One page of the experiences ``filters`` selects, newest first."""
    page = await keyset_page(
        session, _filtered(filters), Experience.object_id, limit=limit, before=before
    )
    ids = [row.object_id for row in page.rows]
    found = {
        obj.id: (obj, author)
        for obj, author in (
            await session.execute(
                select(ContentObject, Actor)
                .join(Actor, Actor.id == ContentObject.attributed_to_id)
                .where(ContentObject.id.in_(ids))
            )
        ).all()
    }
    views = [_view(settings, row, *found[row.object_id]) for row in page.rows]
    return Keyset(views, page.total, page.next_before)
