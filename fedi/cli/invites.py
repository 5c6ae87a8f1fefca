"""``fedi invite create``: an invitation link for someone to join, printed once."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.accounts.invites import (
    DEFAULT_EXPIRY_DAYS,
    MAX_EXPIRY_DAYS,
    create_invite,
    invite_link,
)
from fedi.cli.common import run_in_session, settings_from_args
from fedi.db.models import Role, utcnow
from fedi.services.members import parse_role

__all__ = ["add_commands"]


def cmd_create(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    role = parse_role(args.role)

    async def work(session: AsyncSession) -> str:
        created = await create_invite(
            session, now=utcnow(), role=role, expires_in_days=args.expires_in, note=args.note
        )
        return invite_link(settings, created.token)

    link = run_in_session(settings, work)
    print(f"invitation to join as {role.value}, valid for {args.expires_in} days (shown once):")
    print(link)
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    invite = commands.add_parser(
        "invite", help="invite people to join", description="Invite people to join."
    )
    sub = invite.add_subparsers(dest="invite_command", metavar="COMMAND", required=True)
    roles = ", ".join(r.value for r in Role)
    parser = sub.add_parser(
        "create",
        help="print a single-use invitation link",
        description="Create a single-use link with which one person creates an account. "
        "It is printed once; admins see and withdraw invitations at /admin/invites.",
    )
    parser.add_argument("--role", default="member", help=f"one of {roles} (default member)")
    parser.add_argument(
        "--expires-in",
        type=int,
        default=DEFAULT_EXPIRY_DAYS,
        metavar="DAYS",
        help=f"days the link stays valid, 1 to {MAX_EXPIRY_DAYS} (default {DEFAULT_EXPIRY_DAYS})",
    )
    parser.add_argument("--note", default="", help="who it is for, shown to admins")
    parser.set_defaults(handler=cmd_create)
