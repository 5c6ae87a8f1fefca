"""Who may reach each route: every route carries one rule, and the rule is enforced here alone.

Routes are built with :func:`rule` (or wrapped by :func:`public` when a whole list of ActivityPub
endpoints is open to anyone). A :class:`RuledRoute` checks the request's :class:`Principal`
against its :class:`Access` before the endpoint runs, so no handler checks roles itself. The
principal is found once per request by :class:`AuthenticationMiddleware`, which asks each
authenticator in turn (a bearer token, the browser session) and keeps the first answer in
``request.state.principal``.

Refusals are raised as :class:`AccessDenied` (401 without a principal, 403 with one) and turned
into an answer by the application's exception handlers: a problem document under ``/api/``, a
page elsewhere.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from fedi.db.models import Actor, Member, Role
from fedi.errors import FediError
from fedi.instance import InstanceContext
from fedi.services.tokens import member_for_token

__all__ = [
    "Access",
    "AccessDenied",
    "AuthenticationMiddleware",
    "Authenticator",
    "Principal",
    "RuledRoute",
    "bearer_token",
    "check",
    "principal_of",
    "public",
    "rule",
    "signed_in_actor",
]


class Access(enum.IntEnum):
    """What a route asks of its caller, each level including the ones below it."""

    PUBLIC = 0
    MEMBER = 1
    MODERATOR = 2
    ADMIN = 3


_LEVEL_OF_ROLE = {
    Role.MEMBER: Access.MEMBER,
    Role.MODERATOR: Access.MODERATOR,
    Role.ADMIN: Access.ADMIN,
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in member behind a request, and how they proved it (``token`` or ``session``).

    ``unread`` is the member's count of unread notifications when the request came with the
    browser's session (the navigation of every page shows it), ``0`` for a token."""

    member_id: int
    actor_id: int
    login: str
    role: Role
    via: str
    unread: int = 0

    @classmethod
    def of(cls, member: Member, via: str, *, unread: int = 0) -> Principal:
        return cls(member.id, member.actor_id, member.login, member.role, via, unread)

    @property
    def level(self) -> Access:
        return _LEVEL_OF_ROLE[self.role]


class AccessDenied(FediError):
    """The caller may not use this route: 401 when nobody is signed in, 403 otherwise."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def principal_of(connection: HTTPConnection) -> Principal | None:
    principal: Principal | None = getattr(connection.state, "principal", None)
    return principal


async def signed_in_actor(connection: HTTPConnection) -> Actor:
    """The actor of the member signed in, for a route whose rule asks for a member."""
    principal = principal_of(connection)
    assert principal is not None  # the route's rule asks for a member
    context: InstanceContext = connection.app.state.instance
    async with context.sessions() as session:
        actor = await session.get(Actor, principal.actor_id)
    assert actor is not None
    return actor


def check(access: Access, principal: Principal | None) -> None:
    """Raise :class:`AccessDenied` unless ``principal`` may use a route that asks ``access``."""
    if access is Access.PUBLIC:
        return
    if principal is None:
        raise AccessDenied(401, "sign in to continue")
    if principal.level < access:
        raise AccessDenied(403, "your role does not allow this")


class RuledRoute(Route):
    """A :class:`starlette.routing.Route` that enforces its :class:`Access` before its endpoint."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        access: Access | Mapping[str, Access],
        **kwargs: Any,
    ):
        super().__init__(path, endpoint, **kwargs)
        self.access = access

    def access_for(self, method: str) -> Access:
        """The level ``method`` asks (``HEAD`` as ``GET``); a method the route does not take is
        answered 405 by the route, whoever asks."""
        if isinstance(self.access, Access):
            return self.access
        if self.methods is not None and method not in self.methods:
            return Access.PUBLIC
        wanted = "GET" if method == "HEAD" else method
        return self.access.get(wanted, max(self.access.values()))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        check(self.access_for(scope["method"]), principal_of(HTTPConnection(scope)))
        await super().handle(scope, receive, send)


def rule(
    path: str,
    endpoint: Callable[..., Any],
    access: Access | Mapping[str, Access],
    *,
    methods: Sequence[str] | None = None,
    name: str | None = None,
) -> RuledRoute:
    """A route with its access rule; the only way routes are declared. ``access`` is one level
    for every method, or a level per method (one path that anyone reads and admins change:
    one route, so that a refused method's ``Allow`` names every method the path takes)."""
    return RuledRoute(path, endpoint, access=access, methods=methods, name=name)


def public(routes: Iterable[BaseRoute]) -> list[BaseRoute]:
    """The same routes, each open to anyone (ActivityPub and discovery endpoints, which check
    signatures or tokens of their own)."""
    ruled: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and not isinstance(route, RuledRoute):
            methods = sorted(route.methods - {"HEAD"}) if route.methods else None
            route = rule(
                route.path, route.endpoint, Access.PUBLIC, methods=methods, name=route.name
            )
        ruled.append(route)
    return ruled


# An authenticator looks at a request and names its member, or ``None`` when it does not apply.
Authenticator = Callable[[HTTPConnection], Awaitable[Principal | None]]


class AuthenticationMiddleware:
    """Sets ``request.state.principal`` from the first authenticator that names a member."""

    def __init__(self, app: ASGIApp, *, authenticators: Sequence[Authenticator]) -> None:
        self.app = app
        self.authenticators = tuple(authenticators)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            connection = HTTPConnection(scope)
            principal = None
            for authenticate in self.authenticators:
                principal = await authenticate(connection)
                if principal is not None:
                    break
            connection.state.principal = principal
        await self.app(scope, receive, send)


async def bearer_token(connection: HTTPConnection) -> Principal | None:
    """``Authorization: Bearer <token>`` with a personal token (``fedi user token``, the account
    page). An unknown or revoked token names nobody, so the route's rule decides (401 where a
    member is needed)."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    context: InstanceContext = connection.app.state.instance
    async with context.sessions.begin() as session:
        member = await member_for_token(session, token.strip())
        return None if member is None else Principal.of(member, "token")
