"""``fedi user add|list|set-role|reset-password``."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli.common import CommandError, run_in_session, settings_from_args
from fedi.db.models import Role
from fedi.follows import service as follows
from fedi.services import members, publishing, tokens
from fedi.services.passwords import generate_password

__all__ = ["add_commands"]


def _password_from(args: argparse.Namespace) -> str | None:
    if not args.password_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("--password-stdin read an empty password")
    return password


def cmd_add(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    role = members.parse_role(args.role)
    given = _password_from(args)
    password = given or generate_password()

    async def work(session: AsyncSession) -> None:
        await members.add_member(session, settings, args.login, password, role)

    run_in_session(settings, work)
    print(f"added {args.login.lower()} ({role.value})")
    if given is None:
        print(f"password: {password}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> list[tuple[str, str, str]]:
        return [
            (m.login, m.role.value, "disabled" if m.disabled else "active")
            for m in await members.list_members(session)
        ]

    rows = run_in_session(settings, work)
    width = max((len(login) for login, _, _ in rows), default=5)
    print(f"{'login':<{width}}  {'role':<9}  state")
    for login, role, state in rows:
        print(f"{login:<{width}}  {role:<9}  {state}")
    return 0


def cmd_set_role(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    role = members.parse_role(args.role)

    async def work(session: AsyncSession) -> None:
        await members.set_role(session, args.login, role)

    run_in_session(settings, work)
    print(f"{args.login.lower()} is now {role.value}")
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    given = _password_from(args)

    async def work(session: AsyncSession) -> str:
        return await members.reset_password(session, args.login, given)

    password = run_in_session(settings, work)
    print(f"password of {args.login.lower()} reset")
    if given is None:
        print(f"password: {password}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> str:
        return await tokens.issue_token(session, args.login, args.label)

    token = run_in_session(settings, work)
    print(f"token for {args.login.lower()} (shown once; send it as 'Authorization: Bearer ...'):")
    print(token)
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> None:
        member = await members.find_member(session, args.login)
        await publishing.rotate_keys(session, settings, member.actor)

    run_in_session(settings, work)
    print(f"new keys for {args.login.lower()}; followers are sent an Update")
    return 0


def cmd_set_approval(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    manual = {"on": True, "off": False}[args.state]

    async def work(session: AsyncSession) -> None:
        member = await members.find_member(session, args.login)
        follows.set_manual_approval(member.actor, manual)

    run_in_session(settings, work)
    state = "wait for approval" if manual else "are accepted at once"
    print(f"new followers of {args.login.lower()} {state}")
    return 0


def cmd_follow_requests(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> list[str]:
        member = await members.find_member(session, args.login)
        return [actor.uri for actor in await follows.follow_requests(session, member.actor)]

    for uri in run_in_session(settings, work):
        print(uri)
    return 0


def _answer(args: argparse.Namespace, *, accept: bool) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> None:
        member = await members.find_member(session, args.login)
        await follows.answer_follow_request(
            session, settings, member.actor, args.actor, accept=accept
        )

    run_in_session(settings, work)
    print(f"{'accepted' if accept else 'rejected'} {args.actor}")
    return 0


def cmd_accept_follower(args: argparse.Namespace) -> int:
    return _answer(args, accept=True)


def cmd_reject_follower(args: argparse.Namespace) -> int:
    return _answer(args, accept=False)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="manage members", description="Manage members.")
    sub = user.add_subparsers(dest="user_command", metavar="COMMAND", required=True)
    roles = ", ".join(r.value for r in Role)

    parser = sub.add_parser(
        "add",
        help="add a member",
        description="Add a member. Without --password-stdin a random password is printed once.",
    )
    parser.add_argument("login", help="1-30 lower-case letters, digits or underscores")
    parser.add_argument("--role", default="member", help=f"one of {roles} (default member)")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    parser.set_defaults(handler=cmd_add)

    parser = sub.add_parser("list", help="list members", description="List members and roles.")
    parser.set_defaults(handler=cmd_list)

    parser = sub.add_parser(
        "set-role", help="change a member's role", description="Change a member's role."
    )
    parser.add_argument("login")
    parser.add_argument("role", help=roles)
    parser.set_defaults(handler=cmd_set_role)

    parser = sub.add_parser(
        "reset-password",
        help="set a new password",
        description="Set a new password; without --password-stdin a random one is printed once.",
    )
    parser.add_argument("login")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    parser.set_defaults(handler=cmd_reset_password)

    parser = sub.add_parser(
        "token",
        help="issue a bearer token for client-to-server publishing",
        description="Issue a token that lets scripts and C2S clients POST to the member's outbox. "
        "It is printed once.",
    )
    parser.add_argument("login")
    parser.add_argument("--label", default="", help="a note to tell tokens apart")
    parser.set_defaults(handler=cmd_token)

    parser = sub.add_parser(
        "rotate-key",
        help="replace a member's signing keys",
        description="Generate new RSA and Ed25519 keys for the member; followers get an Update.",
    )
    parser.add_argument("login")
    parser.set_defaults(handler=cmd_rotate_key)

    parser = sub.add_parser(
        "set-approval",
        help="make new followers wait for approval, or not",
        description="With 'on', follow requests wait until the member accepts them "
        "(fedi user accept-follower); with 'off' they are accepted at once.",
    )
    parser.add_argument("login")
    parser.add_argument("state", choices=["on", "off"])
    parser.set_defaults(handler=cmd_set_approval)

    parser = sub.add_parser(
        "follow-requests",
        help="list actors waiting for approval",
        description="Print the id of every actor whose follow request waits for the member.",
    )
    parser.add_argument("login")
    parser.set_defaults(handler=cmd_follow_requests)

    for name, handler, what in (
        ("accept-follower", cmd_accept_follower, "Accept a pending follow request"),
        ("reject-follower", cmd_reject_follower, "Reject a follow request, or remove a follower"),
    ):
        parser = sub.add_parser(
            name, help=what.lower(), description=f"{what}; the follower's server is told."
        )
        parser.add_argument("login")
        parser.add_argument("actor", help="the follower's actor id (from follow-requests)")
        parser.set_defaults(handler=handler)
