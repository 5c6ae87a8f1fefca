"""The ``fedi`` command line: ``fedi COMMAND --help`` documents each command."""

from __future__ import annotations

import argparse
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path

from alembic.util import CommandError as AlembicError
from sqlalchemy.exc import SQLAlchemyError

from fedi import __version__
from fedi.cli import (
    database,
    demo,
    federation,
    forums,
    invites,
    moderation,
    peers,
    serve,
    users,
)
from fedi.cli.common import CommandError, first_line
from fedi.errors import FediError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedi",
        description="Transnationality: a federated community-of-practice server. Settings come "
        "from FEDI_* environment variables, over an optional TOML file given with --config.",
    )
    parser.add_argument("--version", action="version", version=f"fedi {__version__}")
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="read settings from this fedi.toml"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve.add_commands(commands)
    database.add_commands(commands)
    users.add_commands(commands)
    invites.add_commands(commands)
    forums.add_commands(commands)
    federation.add_commands(commands)
    moderation.add_commands(commands)
    peers.add_commands(commands)
    demo.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; failures print ``fedi: error: <reason>`` on one line and exit 1."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except (CommandError, FediError) as exc:
        return _fail(str(exc))
    except SQLAlchemyError as exc:
        reason = first_line(exc)
        if "no such table" in reason or "does not exist" in reason:
            return _fail(f"the database is not migrated ({reason}): run `fedi migrate`")
        return _fail(f"database error: {reason}")
    except AlembicError as exc:
        return _fail(f"migration failed: {first_line(exc)}")
    except (OSError, ssl.SSLError) as exc:
        return _fail(first_line(exc))
    except KeyboardInterrupt:
        return 130
    return status


def _fail(reason: str) -> int:
    print(f"fedi: error: {reason}", file=sys.stderr)
    return 1
