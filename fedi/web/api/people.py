"""``GET|PATCH /api/v1/me``: the signed-in member's profile."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedi.db.models import Actor, Member
from fedi.instance import context_of
from fedi.services.members import member_by_id
from fedi.services.profiles import ProfileData, get_profile, update_profile
from fedi.web.access import Access, principal_of, rule
from fedi.web.api.body import read_json_object

__all__ = ["actor_summary", "routes"]


def actor_summary(actor: Actor) -> dict[str, Any]:
    """How an API answer names a person or group: ``{"id", "handle", "name"}``."""
    return {
        "id": actor.uri,
        "handle": f"@{actor.username}@{actor.domain}",
        "name": actor.display_name or actor.username,
    }


def _profile(member: Member, profile: ProfileData) -> dict[str, Any]:
    actor = profile.actor
    return {
        "id": actor.uri,
        "url": actor.url or actor.uri,
        "origin": actor.domain,
        "local": True,
        "handle": f"@{actor.username}@{actor.domain}",
        "login": member.login,
        "role": member.role.value,
        "display_name": profile.display_name,
        "organisation": profile.organisation,
        "organisation_type": profile.organisation_type,
        "country": profile.country,
        "languages": profile.languages,
        "expertise": {"themes": profile.themes, "objectives": profile.objectives},
        "bio": profile.bio,
        "discoverable": profile.discoverable,
        "email": profile.email,
    }


async def me(request: Request) -> Response:
    context = context_of(request)
    principal = principal_of(request)
    assert principal is not None  # the route's rule asks for a member
    if request.method == "PATCH":
        patch = await read_json_object(request)
        async with context.sessions.begin() as session:
            member = await member_by_id(session, principal.member_id)
            profile = await update_profile(session, context.settings, member, patch)
            return JSONResponse(_profile(member, profile))
    async with context.sessions.begin() as session:
        member = await member_by_id(session, principal.member_id)
        return JSONResponse(_profile(member, await get_profile(session, member)))


routes = [rule("/api/v1/me", me, Access.MEMBER, methods=["GET", "PATCH"])]
