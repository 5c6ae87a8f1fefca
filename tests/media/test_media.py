"""Uploads: typed from their bytes, size-limited, images with alt text, stored under generated
names and served with safe headers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from fedi.cli.common import run_in_session
from fedi.db.models import Actor
from fedi.errors import ValidationError
from fedi.media.service import media_path, store_upload
from fedi.services import members
from fedi.settings import Settings
from fedi.testing.images import tiny_pdf, tiny_png
from fedi.testing.web import csrf_token, sign_in
from fedi.web import create_app
from tests.conftest import make_settings
from tests.web.test_discovery import bootstrap


async def _anna(session: AsyncSession, settings: Settings) -> Actor:
    return (await members.add_member(session, settings, "anna", "a long test password")).actor


async def test_a_png_is_stored_under_a_generated_private_name(
    session: AsyncSession, settings: Settings
) -> None:
    anna = await _anna(session, settings)
    row = store_upload(session, settings, anna, tiny_png(), " A blue square ")
    await session.flush()
    assert row.media_type == "image/png" and row.description == "A blue square"
    assert row.name.endswith(".png") and len(row.name) == 36
    path = media_path(settings, row.name)
    assert path.read_bytes() == tiny_png()
    assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0
    other = store_upload(session, settings, anna, tiny_png(), "Again")
    assert other.name != row.name


@pytest.mark.parametrize(
    ("data", "description", "field", "words"),
    [
        (b"MZ\x90\x00 a program named picture.png", "x", "file", "not an image"),
        (b"<html><script>alert(1)</script></html>", "x", "file", "not an image"),
        (b"", "x", "file", "empty"),
        (tiny_png(), "  ", "description", "alt text"),
        (tiny_png(), "x" * 1501, "description", "at most"),
    ],
)
async def test_uploads_are_refused_by_what_they_are(
    session: AsyncSession, settings: Settings, data: bytes, description: str, field: str, words: str
) -> None:
    anna = await _anna(session, settings)
    with pytest.raises(ValidationError) as refused:
        store_upload(session, settings, anna, data, description)
    assert words in refused.value.errors[field][0]
    assert not (settings.data_dir / "media").exists() or not any(
        (settings.data_dir / "media").iterdir()
    )


async def test_a_file_past_the_limit_is_refused(settings: Settings, session: AsyncSession) -> None:
    small = make_settings(settings.data_dir, settings.database_url, FEDI_MEDIA_MAX_BYTES="1024")
    anna = await _anna(session, small)
    store_upload(session, small, anna, tiny_pdf(), "")
    with pytest.raises(ValidationError, match="larger than 1024 bytes"):
        store_upload(session, small, anna, tiny_pdf() + b"%" * 1024, "")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    bootstrap(settings, "anna")
    with TestClient(create_app(settings), base_url=settings.base_url) as client:
        yield client


def _names(settings: Settings) -> list[tuple[str, str]]:
    async def work(session: AsyncSession) -> list[tuple[str, str]]:
        from fedi.db.models import MediaFile

        rows = await session.scalars(select(MediaFile).order_by(MediaFile.id))
        return [(row.name, row.media_type) for row in rows]

    found: list[tuple[str, str]] = run_in_session(settings, work)
    return found


def test_files_are_served_inline_or_as_downloads_never_sniffed(
    client: TestClient, settings: Settings
) -> None:
    async def work(session: AsyncSession) -> None:
        anna = await session.scalar(select(Actor).where(Actor.username == "anna"))
        assert anna is not None
        store_upload(session, settings, anna, tiny_png(), "A blue square")
        store_upload(session, settings, anna, tiny_pdf(), "Agreement template")

    run_in_session(settings, work)
    (image, _), (document, _) = _names(settings)
    shown = client.get(f"/media/{image}")
    assert shown.status_code == 200 and shown.content == tiny_png()
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in shown.headers["content-security-policy"]
    assert "default-src 'none'" in shown.headers["content-security-policy"]
    downloaded = client.get(f"/media/{document}")
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-disposition"].startswith("attachment")
    for name in ("../fedi.sqlite3", "nothing.png", image.replace(".png", ".pdf")):
        assert client.get(f"/media/{name}").status_code == 404


def test_an_experience_with_an_image_shows_it_with_its_alt_text(
    client: TestClient, settings: Settings
) -> None:
    sign_in(client, "anna", "a long test password")
    fields = {
        "csrf_token": csrf_token(client),
        "language": "en",
        "title": "A square",
        "body": "Look.",
        "file_description": "A blue square",
        "action": "save",
    }
    missing_alt = client.post(
        "/experiences/new",
        data={**fields, "file_description": ""},
        files={"file": ("square.png", tiny_png(), "image/png")},
        follow_redirects=False,
    )
    assert missing_alt.status_code == 422
    assert "Describe the image for people who cannot see it." in missing_alt.text
    disguised = client.post(
        "/experiences/new",
        data=fields,
        files={"file": ("square.png", b"MZ not really an image", "image/png")},
        follow_redirects=False,
    )
    assert disguised.status_code == 422 and 'href="#file"' in disguised.text
    saved: httpx.Response = client.post(
        "/experiences/new",
        data=fields,
        files={"file": ("square.png", tiny_png(), "image/png")},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["location"])
    [(name, media_type)] = _names(settings)
    assert media_type == "image/png"
    assert f'<img src="https://esf.test/media/{name}" alt="A blue square">' in page.text
    key = saved.headers["location"].split("?")[0].rsplit("/", 1)[1]
    article = client.get(f"/objects/{key}", headers={"Accept": "application/activity+json"})
    assert article.json()["attachment"] == [
        {
            "type": "Image",
            "mediaType": "image/png",
            "url": f"https://esf.test/media/{name}",
            "name": "A blue square",
        }
    ]
    # Editing keeps the file while its box stays ticked, and drops it when unticked.
    edit = client.get(f"/experiences/{key}/edit")
    assert f'value="{name}" checked' in edit.text
    client.post(
        f"/experiences/{key}/edit",
        data={**fields, "title": "Still a square", "attachments": [name]},
        follow_redirects=False,
    )
    assert "<img src" in client.get(f"/experiences/{key}").text
    client.post(f"/experiences/{key}/edit", data=fields, follow_redirects=False)
    assert "<img src" not in client.get(f"/experiences/{key}").text
