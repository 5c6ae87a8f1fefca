"""``fedi worker``, ``fedi follow`` and ``fedi unfollow``."""

from __future__ import annotations

import argparse
import asyncio
import signal

from fedi.actors.remote import actor_by_handle
from fedi.cli.common import CommandError, prepare_search, settings_from_args
from fedi.db.models import Actor
from fedi.federation.worker import Worker
from fedi.follows import service as follows
from fedi.instance import build_context
from fedi.log import configure_logging
from fedi.loop import event_loop_factory
from fedi.net.client import FetchBudget
from fedi.net.errors import FetchError
from fedi.services.members import find_member

__all__ = ["add_commands"]


def cmd_worker(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    configure_logging(settings.log_level)
    prepare_search()

    async def run() -> None:
        context = build_context(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        # Printed once the handlers are in place: from then on SIGTERM stops the worker cleanly
        # (it finishes the requests in flight and records them) instead of killing it.
        print(f"worker for {settings.base_url} started; Ctrl-C stops it", flush=True)
        try:
            await Worker(context).run(stop)
        finally:
            await context.aclose()

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(run())
    return 0


def _follow_command(args: argparse.Namespace, *, undo: bool) -> int:
    settings = settings_from_args(args)

    async def run() -> str:
        context = build_context(settings)
        try:
            async with context.sessions() as session:
                await find_member(session, args.member)  # a mistyped login fetches nothing
            try:
                target = await actor_by_handle(context, args.handle, budget=FetchBudget())
            except FetchError as exc:
                raise CommandError(f"cannot look up {args.handle}: {exc}") from exc
            async with context.sessions() as session, session.begin():
                member = await find_member(session, args.member)
                follower = await session.get(Actor, member.actor_id)
                remote = await session.get(Actor, target.id)
                assert follower is not None and remote is not None
                if undo:
                    await follows.unfollow(session, settings, follower, remote)
                    return f"{member.login} no longer follows {remote.uri}"
                row = await follows.follow(session, settings, follower, remote)
                return f"{member.login} asked to follow {remote.uri} ({row.state.value})"
        finally:
            await context.aclose()

    print(asyncio.run(run()))
    return 0


def cmd_follow(args: argparse.Namespace) -> int:
    return _follow_command(args, undo=False)


def cmd_unfollow(args: argparse.Namespace) -> int:
    return _follow_command(args, undo=True)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "worker",
        help="process the inbox and deliver outgoing activities",
        description="Work incoming activities and deliveries until stopped. Several workers may "
        "share one PostgreSQL database; none sends the same delivery twice.",
    )
    parser.set_defaults(handler=cmd_worker)
    for name, handler, verb in (
        ("follow", cmd_follow, "follow"),
        ("unfollow", cmd_unfollow, "stop following"),
    ):
        parser = commands.add_parser(
            name,
            help=f"make a member {verb} a remote actor",
            description=f"Make MEMBER {verb} the actor named by HANDLE (@user@host), found by "
            "WebFinger. The worker delivers the activity.",
        )
        parser.add_argument("member", metavar="MEMBER", help="the member's login")
        parser.add_argument("handle", metavar="HANDLE", help="@user@host")
        parser.set_defaults(handler=handler)
