"""Every route carries an access rule, and the rule is enforced before the endpoint runs."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from fedi.accounts.sessions import start_session
from fedi.cli.common import run_in_session
from fedi.db.models import Member, Role, utcnow
from fedi.services.members import add_member, list_members
from fedi.settings import Settings
from fedi.testing.web import csrf_token
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
from fedi.web.accounts.cookies import SESSION_COOKIE
from tests.web.test_discovery import bootstrap


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


# Every route of the app, with the status each caller gets: (anonymous, member, moderator,
# admin). Requests carry the browser's session and form token and no other input; a route
# missing here fails the test below, so every new route states who may use it.
ROUTE_STATUS: dict[tuple[str, str], tuple[int, int, int, int]] = {
    ("GET", "/healthz"): (200, 200, 200, 200),
    ("GET", "/readyz"): (200, 200, 200, 200),
    ("GET", "/"): (200, 200, 200, 200),
    ("GET", "/new"): (200, 200, 200, 200),
    ("GET", "/.well-known/webfinger"): (400, 400, 400, 400),
    ("GET", "/.well-known/host-meta"): (200, 200, 200, 200),
    ("GET", "/.well-known/host-meta.json"): (200, 200, 200, 200),
    ("GET", "/.well-known/nodeinfo"): (200, 200, 200, 200),
    ("GET", "/nodeinfo/{version}"): (200, 200, 200, 200),
    ("POST", "/inbox"): (415, 415, 415, 415),
    ("POST", "/users/{name}/inbox"): (415, 415, 415, 415),
    ("POST", "/groups/{name}/inbox"): (415, 415, 415, 415),
    ("POST", "/actor/inbox"): (415, 415, 415, 415),
    ("POST", "/users/{name}/outbox"): (401, 401, 401, 401),
    ("GET", "/actor"): (200, 200, 200, 200),
    ("GET", "/actor/followers"): (200, 200, 200, 200),
    ("GET", "/actor/following"): (200, 200, 200, 200),
    ("GET", "/actor/outbox"): (200, 200, 200, 200),
    ("GET", "/activities/{id}"): (404, 404, 404, 404),
    ("GET", "/users/{name}"): (200, 200, 200, 200),
    ("GET", "/users/{name}/followers"): (200, 200, 200, 200),
    ("GET", "/users/{name}/following"): (200, 200, 200, 200),
    ("GET", "/users/{name}/outbox"): (200, 200, 200, 200),
    ("GET", "/groups/{name}"): (404, 404, 404, 404),
    ("GET", "/groups/{name}/followers"): (404, 404, 404, 404),
    ("GET", "/groups/{name}/following"): (404, 404, 404, 404),
    ("GET", "/groups/{name}/outbox"): (404, 404, 404, 404),
    ("GET", "/groups/{name}/moderators"): (404, 404, 404, 404),
    ("GET", "/groups/{name}/featured"): (404, 404, 404, 404),
    # The partner query endpoint answers signed requests only, whoever is signed in.
    ("GET", "/groups/{network}/offers/search"): (401, 401, 401, 401),
    # The offers collection is the network group's alone (and answers signed requests only).
    ("GET", "/groups/{name}/offers"): (404, 404, 404, 404),
    ("GET", "/objects/{id}"): (404, 404, 404, 404),
    ("GET", "/objects/{id}/context"): (404, 404, 404, 404),
    ("GET", "/objects/{id}/replies"): (404, 404, 404, 404),
    ("GET", "/schemas/activitypub/{filename}"): (200, 200, 200, 200),
    ("POST", "/language"): (303, 303, 303, 303),
    ("GET", "/login"): (200, 303, 303, 303),
    ("POST", "/login"): (422, 422, 422, 422),
    ("POST", "/logout"): (303, 303, 303, 303),
    ("GET", "/join/{token}"): (404, 404, 404, 404),
    ("POST", "/join/{token}"): (404, 404, 404, 404),
    ("GET", "/account"): (303, 200, 200, 200),
    ("POST", "/account/password"): (303, 422, 422, 422),
    ("POST", "/account/tokens"): (303, 200, 200, 200),
    # Token 1 is the one the member made just before (rows run in sorted order): only its
    # owner may revoke it.
    ("POST", "/account/tokens/{id:int}/revoke"): (303, 303, 404, 404),
    ("GET", "/notifications"): (303, 200, 200, 200),
    ("POST", "/notifications/read"): (303, 303, 303, 303),
    ("POST", "/notifications/{id:int}/read"): (303, 303, 303, 303),
    ("GET", "/admin/invites"): (303, 403, 403, 200),
    ("POST", "/admin/invites"): (303, 403, 403, 422),
    ("POST", "/admin/invites/{id:int}/withdraw"): (303, 403, 403, 404),
    ("GET", "/experiences"): (200, 200, 200, 200),
    ("GET", "/experiences/new"): (303, 200, 200, 200),
    ("POST", "/experiences/new"): (303, 422, 422, 422),
    ("GET", "/experiences/{key}"): (404, 404, 404, 404),
    ("GET", "/experiences/{key}/edit"): (303, 404, 404, 404),
    ("POST", "/experiences/{key}/edit"): (303, 404, 404, 404),
    ("GET", "/experiences/{key}/delete"): (303, 404, 404, 404),
    ("POST", "/experiences/{key}/delete"): (303, 404, 404, 404),
    ("GET", "/forums"): (200, 200, 200, 200),
    ("GET", "/experts"): (200, 200, 200, 200),
    ("GET", "/experts/ask"): (303, 404, 404, 404),
    ("POST", "/experts/ask"): (303, 404, 404, 404),
    ("GET", "/questions/{id:int}"): (303, 404, 404, 404),
    ("POST", "/questions/{id:int}/reply"): (303, 404, 404, 404),
    ("GET", "/forums/{slug}"): (404, 404, 404, 404),
    ("POST", "/forums/{slug}/threads"): (303, 404, 404, 404),
    ("GET", "/threads/{key}"): (404, 404, 404, 404),
    ("POST", "/threads/{key}/replies"): (303, 404, 404, 404),
    ("POST", "/threads/{key}/solution"): (303, 404, 404, 404),
    ("POST", "/threads/{key}/lock"): (303, 403, 404, 404),
    ("POST", "/threads/{key}/pin"): (303, 403, 404, 404),
    ("POST", "/threads/{key}/delete"): (303, 404, 404, 404),
    ("GET", "/threads/{key}/edit"): (303, 404, 404, 404),
    ("POST", "/threads/{key}/edit"): (303, 404, 404, 404),
    ("POST", "/replies/{key}/delete"): (303, 404, 404, 404),
    ("GET", "/replies/{key}/edit"): (303, 404, 404, 404),
    ("POST", "/replies/{key}/edit"): (303, 404, 404, 404),
    ("GET", "/offers"): (200, 200, 200, 200),
    ("GET", "/offers/new"): (303, 200, 200, 200),
    ("GET", "/offers/search"): (200, 200, 200, 200),
    ("GET", "/offers/saved"): (303, 200, 200, 200),
    ("POST", "/offers/saved"): (303, 422, 422, 422),
    ("POST", "/offers/saved/{id:int}/delete"): (303, 303, 303, 303),
    ("GET", "/feeds/searches/{key}.rss"): (404, 404, 404, 404),
    ("POST", "/offers/new"): (303, 422, 422, 422),
    ("GET", "/offers/{id:int}"): (404, 404, 404, 404),
    ("GET", "/offers/{id:int}/edit"): (303, 404, 404, 404),
    ("POST", "/offers/{id:int}/edit"): (303, 404, 404, 404),
    ("POST", "/offers/{id:int}/status"): (303, 404, 404, 404),
    ("POST", "/offers/{id:int}/interest"): (303, 404, 404, 404),
    ("GET", "/interests/{id:int}"): (303, 404, 404, 404),
    ("POST", "/interests/{id:int}/reply"): (303, 404, 404, 404),
    ("GET", "/media/{name}"): (404, 404, 404, 404),
    ("GET", "/feeds/experiences.atom"): (200, 200, 200, 200),
    ("GET", "/feeds/experiences.rss"): (200, 200, 200, 200),
    ("GET", "/feeds/network.atom"): (200, 200, 200, 200),
    ("GET", "/feeds/network.rss"): (200, 200, 200, 200),
    ("GET", "/users/{name}/feed.atom"): (200, 200, 200, 200),
    ("GET", "/users/{name}/feed.rss"): (200, 200, 200, 200),
    ("GET", "/feeds/forums.atom"): (200, 200, 200, 200),
    ("GET", "/feeds/forums.rss"): (200, 200, 200, 200),
    ("GET", "/forums/{slug}/feed.atom"): (404, 404, 404, 404),
    ("GET", "/forums/{slug}/feed.rss"): (404, 404, 404, 404),
    ("GET", "/admin/members"): (303, 403, 200, 200),
    # Without a role or an action the forms are refused, nothing changes.
    ("POST", "/admin/members/{id:int}/role"): (303, 403, 403, 422),
    ("POST", "/admin/members/{id:int}/suspension"): (303, 403, 403, 422),
    ("GET", "/admin/settings"): (303, 403, 403, 200),
    ("POST", "/admin/settings"): (303, 403, 403, 422),
    ("GET", "/admin/reports"): (303, 403, 200, 200),
    ("GET", "/admin/reports/{id:int}"): (303, 403, 404, 404),
    ("POST", "/admin/reports/{id:int}/close"): (303, 403, 404, 404),
    ("GET", "/admin/domains"): (303, 403, 403, 200),
    ("POST", "/admin/domains/blocks"): (303, 403, 403, 422),
    ("POST", "/admin/domains/blocks/remove"): (303, 403, 403, 404),
    ("POST", "/admin/domains/mode"): (303, 403, 403, 422),
    ("POST", "/admin/domains/allowlist"): (303, 403, 403, 422),
    ("POST", "/admin/domains/allowlist/remove"): (303, 403, 403, 404),
    ("GET", "/admin/forums"): (303, 403, 403, 200),
    ("GET", "/admin/peers"): (303, 403, 200, 200),
    ("POST", "/admin/peers/retry"): (303, 403, 403, 422),
    ("POST", "/admin/peers/add"): (303, 403, 403, 422),
    ("POST", "/admin/peers/sync"): (303, 403, 403, 404),
    ("POST", "/admin/peers/remove"): (303, 403, 403, 404),
    ("POST", "/admin/forums"): (303, 403, 403, 422),
    ("GET", "/admin/forums/{slug}"): (303, 403, 403, 404),
    ("POST", "/admin/forums/{slug}"): (303, 403, 403, 404),
    ("POST", "/admin/forums/{slug}/archive"): (303, 403, 403, 404),
    ("POST", "/admin/forums/{slug}/reopen"): (303, 403, 403, 404),
    ("GET", "/api/openapi.json"): (200, 200, 200, 200),
    ("GET", "/api/v1/vocabularies"): (200, 200, 200, 200),
    ("GET", "/api/v1/vocabularies/{name}"): (404, 404, 404, 404),
    ("GET", "/api/v1/me"): (401, 200, 200, 200),
    # The API takes JSON: a member's form post passes the rule and is refused for its type.
    ("PATCH", "/api/v1/me"): (401, 415, 415, 415),
    ("GET", "/api/v1/notifications"): (401, 200, 200, 200),
    ("POST", "/api/v1/notifications/read"): (401, 415, 415, 415),
    ("POST", "/api/v1/reports"): (401, 415, 415, 415),
    ("GET", "/api/v1/admin/peers"): (401, 403, 200, 200),
    ("POST", "/api/v1/admin/peers/{host}/retry"): (401, 403, 403, 404),
    ("GET", "/api/v1/lookup"): (422, 422, 422, 422),
    ("GET", "/api/v1/experiences"): (200, 200, 200, 200),
    ("POST", "/api/v1/experiences"): (401, 415, 415, 415),
    ("GET", "/api/v1/experiences/{id}"): (404, 404, 404, 404),
    ("PATCH", "/api/v1/experiences/{id}"): (401, 404, 404, 404),
    ("DELETE", "/api/v1/experiences/{id}"): (401, 404, 404, 404),
    ("POST", "/api/v1/media"): (401, 415, 415, 415),
    ("GET", "/api/v1/offers"): (200, 200, 200, 200),
    ("POST", "/api/v1/offers"): (401, 415, 415, 415),
    ("GET", "/api/v1/offers/search"): (200, 200, 200, 200),
    ("GET", "/api/v1/offers/{id}"): (404, 404, 404, 404),
    ("PATCH", "/api/v1/offers/{id}"): (401, 404, 404, 404),
    ("DELETE", "/api/v1/offers/{id}"): (401, 404, 404, 404),
    ("POST", "/api/v1/offers/{id}/status"): (401, 404, 404, 404),
    ("POST", "/api/v1/offers/{id}/interest"): (401, 404, 404, 404),
    ("GET", "/api/v1/interests/{id}"): (401, 404, 404, 404),
    ("POST", "/api/v1/interests/{id}/replies"): (401, 415, 415, 415),
    ("POST", "/api/v1/experts/{id}/questions"): (401, 415, 415, 415),
    ("GET", "/api/v1/questions/{id}"): (401, 404, 404, 404),
    ("POST", "/api/v1/questions/{id}/replies"): (401, 415, 415, 415),
    ("GET", "/api/v1/saved-searches"): (401, 200, 200, 200),
    ("POST", "/api/v1/saved-searches"): (401, 415, 415, 415),
    ("DELETE", "/api/v1/saved-searches/{id}"): (401, 404, 404, 404),
    ("GET", "/api/v1/forums"): (200, 200, 200, 200),
    ("GET", "/api/v1/experts"): (200, 200, 200, 200),
    ("POST", "/api/v1/forums"): (401, 403, 403, 415),
    ("GET", "/api/v1/forums/{slug}"): (404, 404, 404, 404),
    ("PATCH", "/api/v1/forums/{slug}"): (401, 403, 403, 415),
    ("GET", "/api/v1/forums/{slug}/threads"): (404, 404, 404, 404),
    ("POST", "/api/v1/forums/{slug}/threads"): (401, 415, 415, 415),
    ("GET", "/api/v1/threads/{id}"): (404, 404, 404, 404),
    ("POST", "/api/v1/threads/{id}/replies"): (401, 415, 415, 415),
    ("POST", "/api/v1/threads/{id}/solution"): (401, 415, 415, 415),
    ("PATCH", "/api/v1/threads/{id}"): (401, 415, 415, 415),
    ("DELETE", "/api/v1/threads/{id}"): (401, 404, 404, 404),
    ("POST", "/api/v1/threads/{id}/lock"): (401, 403, 404, 404),
    ("DELETE", "/api/v1/threads/{id}/lock"): (401, 403, 404, 404),
    ("POST", "/api/v1/threads/{id}/pin"): (401, 403, 404, 404),
    ("DELETE", "/api/v1/threads/{id}/pin"): (401, 403, 404, 404),
    ("PATCH", "/api/v1/replies/{id}"): (401, 415, 415, 415),
    ("DELETE", "/api/v1/replies/{id}"): (401, 404, 404, 404),
}

SAMPLE_PARAMETERS = {
    "name": "member",
    "id": "1",
    "id:int": "1",
    "version": "2.1",
    "filename": "note.schema.json",
    "token": "unknown",
    "key": "00000000-0000-0000-0000-000000000000",
    "slug": "no_such_forum",
    "host": "no-such-host.test",
    "network": "network",
}


def _concrete(path: str) -> str:
    for name, value in SAMPLE_PARAMETERS.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"add a sample value for {path}"
    return path


def _app_routes(app: Starlette) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, RuledRoute)
        for method in (route.methods or set()) - {"HEAD"}
    }


def test_every_route_answers_every_role_as_the_table_says(settings: Settings) -> None:
    bootstrap(settings, "member")

    async def staff(session: AsyncSession) -> dict[str, int]:
        await add_member(session, settings, "moderator", "a long test password", Role.MODERATOR)
        await add_member(session, settings, "chief", "a long test password", Role.ADMIN)
        return {m.login: m.id for m in await list_members(session)}

    ids = run_in_session(settings, staff)
    logins = (None, "member", "moderator", "chief")

    def session_for(login: str) -> str:
        async def work(session: AsyncSession) -> str:
            member = await session.get(Member, ids[login])
            assert member is not None
            return await start_session(session, member, utcnow())

        token: str = run_in_session(settings, work)
        return token

    app = create_app(settings)
    assert _app_routes(app) == set(ROUTE_STATUS), "give each new route its row in ROUTE_STATUS"
    wrong = []
    with TestClient(app, base_url=settings.base_url) as client:
        for (method, path), statuses in sorted(ROUTE_STATUS.items()):
            for login, expected in zip(logins, statuses, strict=True):
                client.cookies.clear()
                if login is not None:
                    client.cookies.set(SESSION_COOKIE, session_for(login), domain="esf.test")
                token = csrf_token(client)
                if method == "GET":
                    answer = client.get(_concrete(path), follow_redirects=False)
                else:
                    answer = client.request(
                        method,
                        _concrete(path),
                        data={"csrf_token": token},
                        follow_redirects=False,
                    )
                if answer.status_code != expected:
                    wrong.append((method, path, login, answer.status_code, expected))
    assert wrong == [], "\n".join(map(str, wrong))
