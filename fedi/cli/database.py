"""``fedi migrate`` and ``fedi check``."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import SQLAlchemyError

from fedi.cli.common import CommandError, check_identity, first_line, settings_from_args
from fedi.db import identity, migrate

__all__ = ["add_commands"]


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, open_database=False)
    try:
        check_identity(settings, identity.stored_base_url(settings.database_url))
        if args.down_to:
            migrate.downgrade(settings.database_url, args.down_to)
        else:
            migrate.upgrade(settings.database_url)
            identity.claim_base_url(settings.database_url, settings.base_url)
        state = migrate.status(settings.database_url)
    except SQLAlchemyError as exc:
        raise CommandError(f"migration failed: {first_line(exc)}") from exc
    print(f"database at {state.current or 'base (empty)'}; newest migration {state.head}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, open_database=False)
    for name, value in settings.masked().items():
        print(f"{name}={value}")
    try:
        state = migrate.status(settings.database_url)
        check_identity(settings, identity.stored_base_url(settings.database_url))
    except SQLAlchemyError as exc:
        raise CommandError(f"database unreachable: {first_line(exc)}") from exc
    if not state.at_head:
        raise CommandError(
            f"database at {state.current or 'base (empty)'}, newest migration is {state.head}: "
            "run `fedi migrate`"
        )
    print(f"database: reachable, migrations at head ({state.head})")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "migrate",
        help="bring the database schema up to date (safe to run again)",
        description="Apply every pending migration. Running it again changes nothing. The first "
        "run stores FEDI_BASE_URL as the instance's identity; every command started later with "
        "another FEDI_BASE_URL stops.",
    )
    parser.add_argument(
        "--down-to", metavar="REVISION", help="instead, downgrade to REVISION ('base' for empty)"
    )
    parser.set_defaults(handler=cmd_migrate)
    parser = commands.add_parser(
        "check",
        help="print the effective settings (secrets masked) and check the database",
        description="Print the effective settings with secrets masked, then check that the "
        "database answers and its migrations are at head. Exit status 1 otherwise.",
    )
    parser.set_defaults(handler=cmd_check)
