"""Discovery: WebFinger (RFC 7033), host-meta (RFC 6415) and NodeInfo 2.0/2.1."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi import __version__
from fedi.actors.local import webfinger_actor
from fedi.federation.vocab import ACTIVITY_JSON
from fedi.instance import context_of
from fedi.services.usage import usage

__all__ = ["routes"]

_CORS = {"Access-Control-Allow-Origin": "*"}
NODEINFO_SCHEMAS = ("2.0", "2.1")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=_CORS)


async def webfinger(request: Request) -> Response:
    """``acct:user@host`` (``host:port`` off the default port) or an actor URI → a JRD."""
    context = context_of(request)
    settings = context.settings
    resource = unquote(request.query_params.get("resource", "")).strip()
    if not resource:
        return _error(400, "the resource parameter is required")
    username: str | None = None
    uri: str | None = None
    if resource.startswith("acct:") or ("@" in resource and "://" not in resource):
        user, _, host = resource.removeprefix("acct:").lstrip("@").rpartition("@")
        if host.lower() != settings.domain:
            return _error(404, f"{host} is not this server")
        username = user.lower()
    elif resource.startswith(("https://", "http://")):
        uri = resource
    else:
        return _error(400, "resource must be acct:user@host or an actor URI")
    async with context.sessions() as session:
        actor = await webfinger_actor(session, username=username, uri=uri)
    if actor is None:
        return _error(404, "no such actor")
    profile = actor.url or actor.uri
    document = {
        "subject": f"acct:{actor.username}@{settings.domain}",
        "aliases": list(dict.fromkeys([actor.uri, profile])),
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor.uri},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
        ],
    }
    return JSONResponse(document, media_type="application/jrd+json", headers=_CORS)


async def host_meta(request: Request) -> Response:
    base = context_of(request).settings.base_url
    template = f"{base}/.well-known/webfinger?resource={{uri}}"
    if "json" in request.headers.get("accept", "") or request.url.path.endswith(".json"):
        return JSONResponse(
            {"links": [{"rel": "lrdd", "type": "application/jrd+json", "template": template}]},
            headers=_CORS,
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/xrd+xml" template="{template}"/>\n'
        "</XRD>\n"
    )
    return Response(xml, media_type="application/xrd+xml", headers=_CORS)


async def nodeinfo_links(request: Request) -> Response:
    base = context_of(request).settings.base_url
    links: list[dict[str, str]] = [
        {"rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}", "href": f"{base}/nodeinfo/{v}"}
        for v in NODEINFO_SCHEMAS
    ]
    # FEP-2677: NodeInfo links to the instance (application) actor.
    links.append(
        {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": f"{base}/actor"}
    )
    return JSONResponse({"links": links}, headers=_CORS)


async def _usage(request: Request) -> dict[str, Any]:
    context = context_of(request)
    async with context.sessions() as session:
        counts = await usage(session, context.clock())
    return {
        "users": {
            "total": counts.members,
            "activeMonth": counts.active_month,
            "activeHalfyear": counts.active_halfyear,
        },
        "localPosts": counts.local_posts,
    }


async def nodeinfo(request: Request) -> Response:
    version = request.path_params["version"]
    if version not in NODEINFO_SCHEMAS:
        return _error(404, f"NodeInfo {version} is not served; try 2.0 or 2.1")
    settings = context_of(request).settings
    software: dict[str, str] = {"name": "transnationality", "version": __version__}
    if version == "2.1":
        software["homepage"] = settings.base_url
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": await _usage(request),
        "metadata": {
            "nodeName": request.app.state.instance_name.value,
            "country": settings.country,
            "network": {
                "name": request.app.state.instance_name.value,
                "country": settings.country,
                "handle": f"@{settings.network_handle}@{settings.domain}",
            },
            "instanceActor": f"{settings.base_url}/actor",
        },
    }
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return JSONResponse(
        document, media_type=f'application/json; profile="{profile}"', headers=_CORS
    )


routes = [
    Route("/.well-known/webfinger", webfinger),
    Route("/.well-known/host-meta", host_meta),
    Route("/.well-known/host-meta.json", host_meta),
    Route("/.well-known/nodeinfo", nodeinfo_links),
    Route("/nodeinfo/{version}", nodeinfo),
]
