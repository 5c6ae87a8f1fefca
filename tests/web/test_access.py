"""Every route carries an access rule, and the rule is enforced before the endpoint runs."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from fedi.db.models import Role
from fedi.settings import Settings
from fedi.web import create_app
from fedi.web.access import (
    Access,
    AccessDenied,
    AuthenticationMiddleware,
    Principal,
    RuledRoute,
    check,
    public,
    rule,
)


def _principal(role: Role) -> Principal:
    return Principal(member_id=1, actor_id=1, login="anna", role=role, via="token")


def test_every_route_of_the_app_has_a_rule(settings: Settings) -> None:
    app = create_app(settings)
    unruled = [
        getattr(route, "path", repr(route))
        for route in app.routes
        if not isinstance(route, (RuledRoute, Mount))
    ]
    assert unruled == []


@pytest.mark.parametrize(
    ("access", "role", "status"),
    [
        (Access.PUBLIC, None, None),
        (Access.MEMBER, None, 401),
        (Access.MEMBER, Role.MEMBER, None),
        (Access.MODERATOR, Role.MEMBER, 403),
        (Access.MODERATOR, Role.MODERATOR, None),
        (Access.MODERATOR, Role.ADMIN, None),
        (Access.ADMIN, Role.MODERATOR, 403),
        (Access.ADMIN, Role.ADMIN, None),
    ],
)
def test_check_orders_the_roles(access: Access, role: Role | None, status: int | None) -> None:
    principal = None if role is None else _principal(role)
    if status is None:
        check(access, principal)
    else:
        with pytest.raises(AccessDenied) as refused:
            check(access, principal)
        assert refused.value.status == status


def test_a_ruled_route_refuses_before_its_endpoint_runs() -> None:
    reached: list[str] = []

    async def endpoint(request: Request) -> Response:
        reached.append(request.url.path)
        return PlainTextResponse("ok")

    async def as_moderator(connection: object) -> Principal | None:
        return _principal(Role.MODERATOR)

    async def denied(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AccessDenied)
        return PlainTextResponse(str(exc), status_code=exc.status)

    app = Starlette(
        routes=[rule("/admin", endpoint, Access.ADMIN), rule("/forum", endpoint, Access.MEMBER)],
        exception_handlers={AccessDenied: denied},
    )
    app.add_middleware(AuthenticationMiddleware, authenticators=[as_moderator])
    with TestClient(app) as client:
        assert client.get("/admin").status_code == 403
        assert client.get("/forum").status_code == 200
    assert reached == ["/forum"]


def test_public_keeps_path_methods_and_name() -> None:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")

    [ruled] = public([Route("/inbox", endpoint, methods=["POST"], name="inbox")])
    assert isinstance(ruled, RuledRoute)
    assert (ruled.path, ruled.methods, ruled.name, ruled.access) == (
        "/inbox",
        {"POST"},
        "inbox",
        Access.PUBLIC,
    )


def test_an_unknown_bearer_token_names_nobody(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        answer = client.get("/healthz", headers={"Authorization": "Bearer fedi_nope"})
    assert answer.status_code == 200
