"""Storing and serving uploads safely.

An upload is accepted only when it is no larger than ``FEDI_MEDIA_MAX_BYTES`` and its bytes are
one of the allowed types (:data:`ALLOWED`; the name and the type the browser claimed are never
believed), and an image only with its alt text. It is written under a generated name in
``<data dir>/media/`` (0700, files 0600) and served at ``/media/<name>`` with the stored type.
Every function that writes works in the caller's session; none commits.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import filetype
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.db.models import Actor, MediaFile
from fedi.errors import NotFoundError, ValidationError
from fedi.files import private_directory
from fedi.settings import Settings

__all__ = [
    "ALLOWED",
    "IMAGE_TYPES",
    "Stored",
    "find_owned",
    "is_image",
    "media_path",
    "media_url",
    "open_media",
    "store_upload",
]

IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
DOCUMENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
ALLOWED = {**IMAGE_TYPES, **DOCUMENT_TYPES}
MAX_DESCRIPTION = 1500
_NAME = re.compile(r"[0-9a-f]{32}\.[a-z]{3,4}")


@dataclass(frozen=True)
class Stored:
    """A stored file as the server answers it."""

    path: Path
    media_type: str
    size: int
    description: str


def is_image(media_type: str) -> bool:
    return media_type in IMAGE_TYPES


def media_path(settings: Settings, name: str) -> Path:
    return settings.data_dir / "media" / name


def media_url(settings: Settings, name: str) -> str:
    return f"{settings.base_url}/media/{name}"


def _sniff(data: bytes) -> str:
    kind = filetype.guess(data)
    media_type = kind.mime if kind is not None else None
    if media_type not in ALLOWED:
        raise ValidationError(
            "the file is not an image (PNG, JPEG, GIF, WebP) nor a document (PDF, Word, Excel, "
            "PowerPoint, OpenDocument)",
            field="file",
        )
    return str(media_type)


def store_upload(
    session: AsyncSession, settings: Settings, owner: Actor, data: bytes, description: str
) -> MediaFile:
    """Check and keep ``data`` for ``owner``; ValidationError on ``file`` or ``description``."""
    if not data:
        raise ValidationError("the file is empty", field="file")
    if len(data) > settings.media_max_bytes:
        raise ValidationError(
            f"the file is larger than {settings.media_max_bytes} bytes", field="file"
        )
    media_type = _sniff(data)
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"must be at most {MAX_DESCRIPTION} characters", field="description")
    if is_image(media_type) and not description:
        raise ValidationError("an image needs a text describing it (alt text)", field="description")
    name = f"{secrets.token_hex(16)}.{ALLOWED[media_type]}"
    folder = settings.data_dir / "media"
    private_directory(folder)
    descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    row = MediaFile(
        name=name,
        media_type=media_type,
        size=len(data),
        description=description,
        owner_id=owner.id,
    )
    session.add(row)
    return row


async def find_owned(session: AsyncSession, owner: Actor, names: list[str]) -> list[MediaFile]:
    """The files ``names`` in that order, each uploaded by ``owner``; NotFoundError when one is
    unknown or someone else's."""
    if not names:
        return []
    rows = {
        row.name: row
        for row in await session.scalars(
            select(MediaFile).where(MediaFile.name.in_(names), MediaFile.owner_id == owner.id)
        )
    }
    missing = [name for name in names if name not in rows]
    if missing:
        raise NotFoundError(f"no such media: {', '.join(missing)}"[:300])
    return [rows[name] for name in names]


async def open_media(session: AsyncSession, settings: Settings, name: str) -> Stored:
    """The stored file ``name``; NotFoundError for any other name."""
    if not _NAME.fullmatch(name):
        raise NotFoundError("no such file")
    row = await session.scalar(select(MediaFile).where(MediaFile.name == name))
    path = media_path(settings, name)
    if row is None or not path.is_file():
        raise NotFoundError("no such file")
    return Stored(path, row.media_type, row.size, row.description)
