"""Account pages: sign in and out, joining with an invitation, the account page, invitations."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi.web.accounts import account, invites, join, login

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return [*login.routes(), *join.routes(), *account.routes(), *invites.routes()]
