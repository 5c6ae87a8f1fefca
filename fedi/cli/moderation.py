"""``fedi block add|list|remove``."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from fedi.blocks import service as blocks
from fedi.cli.common import run_in_session, settings_from_args
from fedi.db.models import BlockSeverity

__all__ = ["add_commands"]


def cmd_block_add(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    severity = blocks.parse_severity(args.severity)

    async def work(session: AsyncSession) -> str:
        return (await blocks.add_block(session, args.domain, severity, args.reason)).domain

    domain = run_in_session(settings, work)
    print(f"{domain} and its subdomains: {severity.value}")
    return 0


def cmd_block_remove(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> None:
        await blocks.remove_block(session, args.domain)

    run_in_session(settings, work)
    print(f"{args.domain} is no longer blocked")
    return 0


def cmd_block_list(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)

    async def work(session: AsyncSession) -> list[tuple[str, str, str]]:
        return [(b.domain, b.severity.value, b.reason) for b in await blocks.list_blocks(session)]

    for domain, severity, reason in run_in_session(settings, work):
        print(f"{domain}\t{severity}\t{reason}")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    block = commands.add_parser(
        "block", help="block remote domains", description="Manage domain blocks."
    )
    sub = block.add_subparsers(dest="block_command", metavar="COMMAND", required=True)
    severities = " or ".join(s.value for s in BlockSeverity)
    parser = sub.add_parser(
        "add",
        help="block a domain and its subdomains",
        description="Block DOMAIN and its subdomains. 'suspend' refuses everything from it and "
        "sends nothing to it; 'silence' accepts its activities but keeps them out of public "
        "views and search.",
    )
    parser.add_argument("domain", help="e.g. spam.example or host:port")
    parser.add_argument("--severity", default="suspend", help=f"{severities} (default suspend)")
    parser.add_argument("--reason", default="", help="a note for the other admins")
    parser.set_defaults(handler=cmd_block_add)
    parser = sub.add_parser("remove", help="lift a block", description="Lift a domain block.")
    parser.add_argument("domain")
    parser.set_defaults(handler=cmd_block_remove)
    parser = sub.add_parser("list", help="list blocks", description="List domain blocks.")
    parser.set_defaults(handler=cmd_block_list)
