"""The session cookie: set at sign-in, read by the ``browser_session`` authenticator."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from fedi.accounts.sessions import SESSION_LIFETIME, member_for_session
from fedi.instance import InstanceContext
from fedi.services.notifications import unread_count
from fedi.web.access import Principal
from fedi.web.csrf import cookie_header

__all__ = [
    "SESSION_COOKIE",
    "browser_session",
    "clear_session_cookie",
    "session_token",
    "set_session_cookie",
]

SESSION_COOKIE = "fedi_session"


def _secure(context: InstanceContext) -> bool:
    return context.settings.scheme == "https"


def set_session_cookie(response: Response, context: InstanceContext, token: str) -> None:
    age = int(SESSION_LIFETIME.total_seconds())
    response.headers.append(
        "set-cookie", cookie_header(SESSION_COOKIE, token, secure=_secure(context), max_age=age)
    )


def clear_session_cookie(response: Response, context: InstanceContext) -> None:
    response.headers.append(
        "set-cookie", cookie_header(SESSION_COOKIE, "", secure=_secure(context), max_age=0)
    )


def session_token(connection: HTTPConnection) -> str | None:
    token = connection.cookies.get(SESSION_COOKIE, "")
    return token or None


async def browser_session(connection: HTTPConnection) -> Principal | None:
    """The member signed in with this browser's session cookie, if any."""
    token = session_token(connection)
    if token is None:
        return None
    context: InstanceContext = connection.app.state.instance
    async with context.sessions.begin() as session:
        member = await member_for_session(session, token, context.clock())
        if member is None:
            return None
        unread = await unread_count(session, member.id)
        return Principal.of(member, "session", unread=unread)
