"""``fedi peer add|list|remove|sync`` (peering with other national networks) and ``fedi peer
health`` (delivery health of every remote server)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedi.cli.common import CommandError, run_in_session, settings_from_args
from fedi.db.models import Delivery, DeliveryState, Peer
from fedi.errors import NotFoundError, ValidationError
from fedi.instance import InstanceContext, build_context
from fedi.peers import service as peers
from fedi.peers.sync import SyncError, SyncResult, sync_peer
from fedi.settings import Settings

__all__ = ["add_commands"]

T = TypeVar("T")


def _with_context(settings: Settings, work: Callable[[InstanceContext], Awaitable[T]]) -> T:
    async def run() -> T:
        context = build_context(settings)
        try:
            return await work(context)
        finally:
            await context.aclose()

    return asyncio.run(run())


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "never"


def _summary(host: str, result: SyncResult) -> str:
    line = (
        f"{host}: {result.listed} offers listed, {result.created} new, {result.revised} changed, "
        f"{result.withdrawn} withdrawn"
    )
    if result.refused:
        line += f", {result.refused} refused (first: {result.first_refusal})"
    return line


def cmd_peer_add(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(context: InstanceContext) -> list[str]:
        try:
            peer = await peers.add_peer(context, args.url)
        except (peers.PeeringError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        lines = [f"peered with {peer.host}: following {peer.network_uri}"]
        try:
            lines.append(_summary(peer.host, await sync_peer(context, peer.host)))
        except SyncError as exc:
            lines.append(
                f"{peer.host}: its offers could not be read yet ({exc}); "
                "the worker tries again in 5 minutes"
            )
        return lines

    print("\n".join(_with_context(settings, work)))
    return 0


def cmd_peer_remove(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> int:
        try:
            return await peers.remove_peer(session, settings, args.url)
        except NotFoundError as exc:
            raise CommandError(str(exc)) from exc

    withdrawn = run_in_session(settings, work)
    print(f"no longer peered with {args.url}; {withdrawn} of its offers left the search")
    return 0


def cmd_peer_list(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> list[peers.PeerNetwork]:
        return await peers.list_peers(session, settings)

    print("host\tfollowing\toffers\tlast synchronised\tnext\terror")
    for peer in run_in_session(settings, work):
        print(
            f"{peer.host}\t{peer.following}\t{peer.replicas}\t{_when(peer.synced_at)}\t"
            f"{_when(peer.next_sync_at)}\t{peer.sync_error or ''}"
        )
    return 0


def cmd_peer_sync(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(context: InstanceContext) -> tuple[list[str], bool]:
        async with context.sessions() as session:
            known = [peer.host for peer in await peers.list_peers(session, settings)]
        hosts = known if args.url is None else [await _host(context, args.url)]
        lines, failed = [], False
        for host in hosts:
            try:
                lines.append(_summary(host, await sync_peer(context, host)))
            except SyncError as exc:
                lines.append(f"{host}: failed: {exc}")
                failed = True
        return lines or ["no peers"], failed

    lines, failed = _with_context(settings, work)
    print("\n".join(lines))
    return 1 if failed else 0


async def _host(context: InstanceContext, url: str) -> str:
    async with context.sessions() as session:
        for peer in await peers.list_peers(session, context.settings):
            if url.strip().lower() in (peer.host, peer.base_url, peer.base_url + "/"):
                return peer.host
    raise CommandError(f"{url} is not a peer")


def cmd_peer_health(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> list[tuple[Peer, int]]:
        pending = (
            select(Delivery.host, func.count().label("n"))
            .where(Delivery.state == DeliveryState.PENDING)
            .group_by(Delivery.host)
            .subquery()
        )
        rows = await session.execute(
            select(Peer, func.coalesce(pending.c.n, 0))
            .outerjoin(pending, pending.c.host == Peer.host)
            .order_by(Peer.host)
        )
        return [(peer, int(count)) for peer, count in rows.all()]

    print("host\tstate\tfailures\tpending deliveries\tlast success")
    for peer, waiting in run_in_session(settings, work):
        state = "available" if peer.available else "unavailable"
        if peer.circuit_open_until is not None and peer.available:
            state = f"paused until {peer.circuit_open_until:%Y-%m-%d %H:%M} UTC"
        last = f"{peer.last_success_at:%Y-%m-%d %H:%M} UTC" if peer.last_success_at else "never"
        print(f"{peer.host}\t{state}\t{peer.consecutive_failures}\t{waiting}\t{last}")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    peer = commands.add_parser(
        "peer",
        help="peer networks and remote servers",
        description="Peer with other national networks running this software, and see the "
        "delivery health of every remote server.",
    )
    sub = peer.add_subparsers(dest="peer_command", metavar="COMMAND", required=True)
    parser = sub.add_parser(
        "add",
        help="peer with another national network",
        description="Peer with the instance at URL: follow its network group, so that its "
        "partner offers are kept here and found by every search, and read its offers now.",
    )
    parser.add_argument(
        "url", metavar="URL", help="the peer's address, e.g. https://esf.example.it"
    )
    parser.set_defaults(handler=cmd_peer_add)
    parser = sub.add_parser(
        "list",
        help="the peered networks",
        description="Show each peered network: whether it accepted our follow, how many of its "
        "offers are kept here, and when they were last and will next be synchronised.",
    )
    parser.set_defaults(handler=cmd_peer_list)
    parser = sub.add_parser(
        "remove",
        help="stop peering with a network",
        description="Stop peering with URL (or its host): unfollow its network group and take "
        "its offers out of search.",
    )
    parser.add_argument("url", metavar="URL")
    parser.set_defaults(handler=cmd_peer_remove)
    parser = sub.add_parser(
        "sync",
        help="read peers' offers now",
        description="Read the offers collection of URL, or of every peer, now: new offers are "
        "added, changed ones updated, and those the peer no longer lists withdrawn.",
    )
    parser.add_argument("url", metavar="URL", nargs="?")
    parser.set_defaults(handler=cmd_peer_sync)
    parser = sub.add_parser(
        "health",
        help="delivery health of every remote server",
        description="Show each remote server's delivery state: available, paused by the circuit "
        "breaker, or unavailable after failing for days; with pending deliveries.",
    )
    parser.set_defaults(handler=cmd_peer_health)
