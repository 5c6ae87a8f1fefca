"""``GET /media/{name}``: uploaded files, served with the type read from their bytes.

Images are shown inline, documents downloaded (``Content-Disposition: attachment``); every
answer carries ``X-Content-Type-Options: nosniff`` (the security middleware's) and a
Content-Security-Policy that lets the file run nothing, so an upload never acts as a page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import NotFoundError
from fedi.instance import context_of
from fedi.media.service import is_image, open_media
from fedi.web.access import Access, rule
from fedi.web.ui.pages import not_found_page

__all__ = ["routes"]

MEDIA_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


async def media_file(request: Request) -> Response:
    context = context_of(request)
    name = str(request.path_params["name"])
    try:
        async with context.sessions() as session:
            stored = await open_media(session, context.settings, name)
    except NotFoundError as error:
        return await not_found_page(request, error)
    return FileResponse(
        stored.path,
        media_type=stored.media_type,
        filename=name,
        content_disposition_type="inline" if is_image(stored.media_type) else "attachment",
        headers={
            "Content-Security-Policy": MEDIA_POLICY,
            "Cache-Control": "public, max-age=86400",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


def routes() -> list[BaseRoute]:
    return [rule("/media/{name}", media_file, Access.PUBLIC, methods=["GET"])]
